"""Robot <-> local time conversions (pure functions).

Spot stamps data on its own clock. bosdyn's time sync estimates the clock skew

    skew_ns = robot_clock - local_clock     (nanoseconds, as `TimeSyncEndpoint.clock_skew`)

so `local = robot - skew` and `robot = local + skew`. Times here are integers in nanoseconds
since the Unix epoch, `google.protobuf.Timestamp` messages, or ROS stamps `(sec, nanosec)`
with `0 <= nanosec < 1e9` (builtin_interfaces/Time).
"""

from __future__ import annotations

from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

NS_PER_S = 1_000_000_000


def timestamp_to_ns(timestamp: Timestamp) -> int:
    """`google.protobuf.Timestamp` -> ns since the epoch (same clock)."""
    return int(timestamp.seconds) * NS_PER_S + int(timestamp.nanos)


def ns_to_timestamp(ns: int, out: Timestamp | None = None) -> Timestamp:
    """ns since the epoch -> `google.protobuf.Timestamp` (same clock); fills `out` if given."""
    out = Timestamp() if out is None else out
    out.seconds, out.nanos = divmod(int(ns), NS_PER_S)
    return out


def duration_to_ns(duration: Duration) -> int:
    """`google.protobuf.Duration` (e.g. a clock skew) -> ns."""
    return int(duration.seconds) * NS_PER_S + int(duration.nanos)


def ns_to_ros_stamp(ns: int) -> tuple[int, int]:
    """ns since the epoch -> ROS stamp (sec, nanosec), nanosec in [0, 1e9)."""
    sec, nanosec = divmod(int(ns), NS_PER_S)
    return sec, nanosec


def ros_stamp_to_ns(stamp) -> int:
    """ROS stamp -> ns. `stamp` is (sec, nanosec) or an object with .sec/.nanosec."""
    if hasattr(stamp, "sec"):
        return int(stamp.sec) * NS_PER_S + int(stamp.nanosec)
    sec, nanosec = stamp
    return int(sec) * NS_PER_S + int(nanosec)


def robot_to_local_ns(robot_ns: int, skew_ns: int) -> int:
    """Robot-clock ns -> local-clock ns, given skew = robot - local (ns)."""
    return int(robot_ns) - int(skew_ns)


def local_to_robot_ns(local_ns: int, skew_ns: int) -> int:
    """Local-clock ns -> robot-clock ns, given skew = robot - local (ns)."""
    return int(local_ns) + int(skew_ns)


def robot_timestamp_to_local_ns(timestamp: Timestamp, skew_ns: int) -> int:
    """Robot-clock Timestamp (e.g. `acquisition_time`) -> local-clock ns."""
    return robot_to_local_ns(timestamp_to_ns(timestamp), skew_ns)


def local_ns_to_robot_timestamp(local_ns: int, skew_ns: int) -> Timestamp:
    """Local-clock ns -> robot-clock Timestamp (e.g. a command's `end_time`)."""
    return ns_to_timestamp(local_to_robot_ns(local_ns, skew_ns))


def robot_timestamp_to_ros_stamp(timestamp: Timestamp, skew_ns: int) -> tuple[int, int]:
    """Robot-clock Timestamp -> ROS stamp (sec, nanosec) on the local clock."""
    return ns_to_ros_stamp(robot_timestamp_to_local_ns(timestamp, skew_ns))


def ros_stamp_to_robot_timestamp(stamp, skew_ns: int) -> Timestamp:
    """ROS stamp on the local clock ((sec, nanosec) or .sec/.nanosec) -> robot-clock Timestamp."""
    return local_ns_to_robot_timestamp(ros_stamp_to_ns(stamp), skew_ns)


class RateLimiter:
    """Lets through at most `rate_hz` samples per second of a faster stream, by their stamps.

    Time is cut into periods of 1/`rate_hz` on the stamps' own clock; the first sample of each
    period passes. A 333 Hz robot stream limited to 100 Hz gives 100 samples per second on
    average (never two in one period), each unchanged. `rate_hz` 0: every sample passes.
    A stamp in another period than the last one passed (also an earlier one: a time-sync
    correction) passes.
    """

    def __init__(self, rate_hz: float = 0.0):
        self._period_ns = 0
        self._last: int | None = None
        self.set_rate(rate_hz)

    def set_rate(self, rate_hz: float) -> None:
        """Change the rate (Hz, >= 0; 0: no limit); the next sample passes."""
        if rate_hz < 0:
            raise ValueError(f"rate must be >= 0 Hz, got {rate_hz}")
        self._period_ns = round(NS_PER_S / rate_hz) if rate_hz > 0 else 0
        self._last = None

    def due(self, stamp_ns: int) -> bool:
        """True if the sample stamped `stamp_ns` (ns) is to be published."""
        if not self._period_ns:
            return True
        period = stamp_ns // self._period_ns
        if period == self._last:
            return False
        self._last = period
        return True
