"""The middleware seam: the small node surface every bridge uses.

Bridges take a `NodeHandle` and never import rclpy or cyclonedds. Two backends implement it:
`backends.rclpy_backend` (real rclpy nodes, used when rclpy imports) and `standalone.node`
(ROS 2 on the wire over Cyclone DDS, or in-process, without a ROS install).

Messages are built by ROS type name through `NodeHandle.msg(type_name, **fields)`: unspecified
fields take ROS defaults, nested messages may be given as message objects or dicts, primitive
arrays as lists, numpy arrays or (for uint8[]) bytes. Received messages are read by attribute;
arrays support the buffer protocol / iteration on both backends (`np.frombuffer(msg.data, np.uint8)`,
`list(msg.position)`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from .params import ParamSpec
from .qos import QoS

Stamp = tuple[int, int]  # (sec, nanosec) since the Unix epoch, local (ROS) clock


class Logger(Protocol):
    def debug(self, msg: str) -> None: ...
    def info(self, msg: str) -> None: ...
    def warning(self, msg: str) -> None: ...
    def error(self, msg: str) -> None: ...


class Publisher(Protocol):
    topic: str  # fully qualified

    def publish(self, msg: Any) -> None: ...
    def get_subscription_count(self) -> int: ...


class Subscription(Protocol):
    topic: str


class Timer(Protocol):
    def cancel(self) -> None: ...


MessageFactory = Callable[..., Any]  # (type_name: str, **fields) -> message


class NodeHandle(Protocol):
    """What a bridge may use of its node."""

    name: str
    namespace: str

    # -- messages -------------------------------------------------------------------------
    def msg(self, type_name: str, **fields: Any) -> Any:
        """Construct a message of ROS type `type_name` (e.g. `sensor_msgs/msg/Image`)."""

    # -- topics ---------------------------------------------------------------------------
    def create_publisher(self, type_name: str, topic: str, qos: QoS) -> Publisher: ...

    def create_subscription(self, type_name: str, topic: str, callback: Callable[[Any], None],
                            qos: QoS, callback_group: str | None = None) -> Subscription:
        """`callback_group`: a name; callbacks of a named group run on their own thread / rclpy
        callback group, beside the executor and the services (the E-Stop path)."""

    # -- time -----------------------------------------------------------------------------
    def create_timer(self, period_s: float, callback: Callable[[], None]) -> Timer:
        """Call `callback` every `period_s` seconds on the node's executor (its own thread)."""

    def now(self) -> Stamp:
        """Current ROS time (system clock unless use_sim_time) as (sec, nanosec)."""

    # -- parameters -----------------------------------------------------------------------
    def declare_parameters(self, specs: Iterable[ParamSpec]) -> dict[str, Any]:
        """Declare every parameter of the node at once; returns the resolved values."""

    def get_parameter(self, name: str) -> Any: ...

    def on_parameters_set(self, callback: Callable[[dict[str, Any]], str | None]) -> None:
        """Live parameters (`ParamSpec.live`): `callback({name: validated value})` applies a
        runtime change (`ros2 param set`) and returns None, or returns the reason to refuse it.
        Parameters that are not live are read-only: refused before the callback."""

    # -- services -------------------------------------------------------------------------
    def create_service(self, srv_type: str, name: str, callback: Callable[[Any], Any],
                       parameters: bool = False, callback_group: str | None = None) -> Any:
        """Serve `name` (resolved like a topic) of type `srv_type` (e.g. `std_srvs/srv/Trigger`):
        `callback(request)` returns the response fields as a dict. Callbacks run off the node's
        topic/timer executor (their own thread / callback group), one call at a time; a named
        `callback_group` has its own thread / group beside those."""

    # -- logging & lifecycle --------------------------------------------------------------
    def get_logger(self) -> Logger: ...

    def add_on_shutdown(self, callback: Callable[[], None]) -> None:
        """Run `callback` once when the node is destroyed (return leases, stop threads)."""

    def destroy(self) -> None: ...


def stamp_from_ns(t_ns: int) -> Stamp:
    """(sec, nanosec) from integer nanoseconds since the epoch."""
    sec, nsec = divmod(int(t_ns), 1_000_000_000)
    return sec, nsec


def stamp_to_ns(stamp: Any) -> int:
    """Integer nanoseconds from a `builtin_interfaces/Time`-like object or a (sec, nanosec) tuple."""
    if isinstance(stamp, tuple):
        return int(stamp[0]) * 1_000_000_000 + int(stamp[1])
    return int(stamp.sec) * 1_000_000_000 + int(stamp.nanosec)


def header(node_or_factory: Any, stamp: Stamp, frame_id: str) -> Any:
    """A `std_msgs/Header` with `stamp` ((sec, nanosec)) and `frame_id`."""
    make = node_or_factory.msg if hasattr(node_or_factory, "msg") else node_or_factory
    return make("std_msgs/msg/Header",
                stamp=make("builtin_interfaces/msg/Time", sec=int(stamp[0]), nanosec=int(stamp[1])),
                frame_id=frame_id)


def apply_overrides(specs: Iterable[ParamSpec], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Helper for tests: resolve specs against overrides without a node."""
    return {s.name: s.validate(overrides.get(s.name, s.default)) for s in specs}
