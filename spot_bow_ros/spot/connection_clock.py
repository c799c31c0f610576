"""`SpotConnection`'s robot clock: skew, conversions, re-sync and the clock part of its health check.

A mixin of `spot.connection.SpotConnection` (it uses the connection's `_session`, `config`,
`_log`, `_wake` and `_last_skew_ns`). The health check (`_check_clock`) sees two things:

- a restart (the robot's time-sync service hands out a new clock identifier, `spot.time_resync`):
  one warning line, re-sync at once (a worker of `spot-bow-ros run --processes 2`: the run
  process re-syncs; the worker waits for its new clock skew), and the connection reconnects
  (`RESTARTED`: lease and E-Stop registration are void, motion latches as after any loss);
- a step of the robot's clock (same identifier): the round trip of the check measures a skew
  more than `SKEW_JUMP_NS` (plus the round trip's uncertainty) away from the estimate: re-sync
  at once, so stamps and the end times of velocity commands use the new estimate before the next
  time-sync round (up to `time_sync_interval` away). Any move of the estimate by more than
  SKEW_JUMP_NS between two checks (ours, or bosdyn's time-sync thread's) gets ONE warning line
  with the old and new skew (a worker says nothing: the run process does).
"""

from __future__ import annotations

import time
from typing import Any

from bosdyn.client.exceptions import Error as BosdynError
from bosdyn.client.time_sync import NotEstablishedError
from google.protobuf.timestamp_pb2 import Timestamp

from ..convert import time as tconv
from .connection_diagnosis import error_reason
from .connection_errors import TimeSyncUnavailableError
from .time_resync import (
    SKEW_JUMP_NS,
    check_clock,
    has_clock_identifier,
    held_clock_identifier,
    resync_session,
    worker_saw_restart,
)

RESTARTED = "robot restarted (its lease and E-Stop registration are void)"


class ConnectionClock:
    """The time half of `SpotConnection` (module doc)."""

    _session: Any
    _last_skew_ns: int | None
    config: Any
    _log: Any
    _wake: Any

    # -- health check -----------------------------------------------------------------------
    def _check_clock(self, session: Any) -> str | None:
        """None if the robot's clock is the one we synced with (re-synced after a step); RESTARTED
        after a restart; the error of the check's RPC."""
        try:
            if not session.restarted:
                check = check_clock(session, max(1.0, self.config.health_check_interval))
                if check.new_clock:   # a worker: the run process reconnected to the same robot
                    session.clock_id = check.new_clock
                elif check.restarted:
                    self._resync(session, "the health check" if check.seen_by_rpc else "the run process")
                elif check.stepped and has_clock_identifier(session.time_sync):
                    self._resync(session, "the health check (the robot clock stepped)")
        except BosdynError as err:
            return error_reason(err)
        if session.restarted:
            return RESTARTED
        self._note_skew(session)
        return None

    def _note_skew(self, session: Any) -> None:
        """Record the skew of this check; a jump since the last one (same clock): one warning."""
        try:
            skew = tconv.duration_to_ns(session.time_sync.endpoint.clock_skew)
        except NotEstablishedError:
            return
        last, session.checked_skew_ns = session.checked_skew_ns, skew
        self._last_skew_ns = skew
        if last is not None and abs(skew - last) > SKEW_JUMP_NS and has_clock_identifier(session.time_sync):
            self._log.warning(f"robot clock skew jumped from {last / 1e9:+.3f} s to {skew / 1e9:+.3f} s "
                              f"(same clock {session.clock_id[:8]}: the robot's clock stepped); stamps and "
                              "command end times use the new estimate")

    # -- re-sync ----------------------------------------------------------------------------
    def resync_time(self, reason: str) -> bool:
        """Re-sync time with the robot now (`reason`: who asked, e.g. "a stop command"); True if
        synced. False if not connected, in a worker (the run process syncs for both: the health
        check runs at once instead, to see a restart) or failed."""
        session = self._session
        if session is not None and not has_clock_identifier(session.time_sync):
            self._wake.set()
            return False
        return session is not None and self._resync(session, reason)

    def _resync(self, session: Any, reason: str) -> bool:
        """`time_resync.resync_session` (a worker: `worker_saw_restart`); a restart wakes the
        monitor to reconnect (E-Stop, lease redone)."""
        if has_clock_identifier(session.time_sync):
            skew = resync_session(session, reason, self._log, self.config.address)
        else:
            worker_saw_restart(session, reason, self._log)
            skew = None
        if skew is not None:
            self._last_skew_ns = skew
        if session.restarted:
            self._wake.set()
        return skew is not None

    # -- conversions ------------------------------------------------------------------------
    def clock_skew_ns(self) -> int:
        """Robot clock minus local clock (ns), from the shared time sync.

        While reconnecting the last known estimate is used. Raises TimeSyncUnavailableError if
        time sync was never established.
        """
        session = self._session
        if session is not None:
            try:
                self._last_skew_ns = tconv.duration_to_ns(session.time_sync.endpoint.clock_skew)
            except NotEstablishedError:
                pass   # re-syncing: the last known estimate below
        if self._last_skew_ns is None:
            raise TimeSyncUnavailableError(f"no time sync with Spot at {self.config.address} yet")
        return self._last_skew_ns

    def clock_estimate(self) -> tuple[str, int] | None:
        """(robot clock identifier, clock skew ns) of the current time sync, read together (what
        `spot.session_share` forwards to a worker); None if not connected or not established."""
        session = self._session
        if session is None:
            return None
        try:
            for _ in range(3):   # a time-sync round between the reads: read again
                held = held_clock_identifier(session.time_sync)
                skew = tconv.duration_to_ns(session.time_sync.endpoint.clock_skew)
                if held and held == held_clock_identifier(session.time_sync):
                    return held, skew
        except NotEstablishedError:
            pass   # no estimate yet: nothing to forward
        return None

    def robot_to_local_ns(self, robot_time: Timestamp | int) -> int:
        """Robot-clock time (Timestamp or ns) -> local-clock ns."""
        robot_ns = robot_time if isinstance(robot_time, int) else tconv.timestamp_to_ns(robot_time)
        return tconv.robot_to_local_ns(robot_ns, self.clock_skew_ns())

    def local_to_robot_ns(self, local_ns: int | None = None) -> int:
        """Local-clock ns (default: now) -> robot-clock ns."""
        return tconv.local_to_robot_ns(time.time_ns() if local_ns is None else local_ns,
                                       self.clock_skew_ns())

    def robot_timestamp(self, local_ns: int | None = None) -> Timestamp:
        """google.protobuf.Timestamp on the robot clock for local time `local_ns` (default: now)."""
        return tconv.ns_to_timestamp(self.local_to_robot_ns(local_ns))

    def robot_to_ros_stamp(self, robot_time: Timestamp | int) -> tuple[int, int]:
        """Robot-clock time -> ROS stamp (sec, nanosec) on the local clock."""
        return tconv.ns_to_ros_stamp(self.robot_to_local_ns(robot_time))
