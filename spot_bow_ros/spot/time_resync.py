"""Seeing a robot restart through its time-sync service, and re-syncing time at once.

A robot that restarted forgets the clock identifiers its time-sync service handed out: asked
with the old identifier it answers with a new one (and STATUS_MORE_SAMPLES_NEEDED). Until a
client re-syncs, its stamps use the old clock skew (the restarted robot's clock may differ) and
RobotCommands carrying an end time fail with NoTimeSyncError. bosdyn's TimeSyncThread only asks
every `time_sync_interval` (10 s by default), so `SpotConnection` asks on every health check
(`check_clock`: one cheap RPC, no sample recorded) and re-syncs at once (`resync_session`). The
same round trip measures the skew roughly: far from the estimate with the same identifier, the
robot's clock stepped (re-synced at once too). A worker of `spot-bow-ros run --processes 2`
(`spot.session_share.SharedClock`) checks the run process's identifier the same way and learns
the run process's new identifier with its new skew; it never syncs itself (`worker_saw_restart`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from bosdyn.client.exceptions import Error as BosdynError
from bosdyn.client.time_sync import NotEstablishedError, TimeSyncClient, TimeSyncError
from bosdyn.client.time_sync import TimedOutError as TimeSyncTimedOutError

from ..convert import time as tconv
from .connection_diagnosis import TimeSyncNotEstablished, error_reason, time_sync_status

#: Round trips `resync` makes at most (bosdyn's own default for establish_timesync).
MAX_SAMPLES = 25
#: A clock skew moving by more than this (ns) with the same clock identifier: the robot's clock stepped.
SKEW_JUMP_NS = 500_000_000


@dataclass(frozen=True)
class ClockCheck:
    """What one health check learnt about the robot's clock (`check_clock`)."""

    restarted: bool = False      # the robot has a clock other than the one we synced with
    seen_by_rpc: bool = False    # our time-sync RPC saw it (else: our clock identifier changed already)
    stepped: bool = False        # same clock, but the measured skew is far from the estimate
    new_clock: str = ""          # a worker: the run process's new clock of the same robot (it reconnected)


def held_clock_identifier(time_sync: Any) -> str:
    """The clock identifier our clock skew belongs to: our TimeSyncThread's, or (a worker's
    SharedClock) the run process's; "" if none yet."""
    own = getattr(time_sync.endpoint, "clock_identifier", None)
    if isinstance(own, str):
        return own
    return getattr(time_sync, "robot_clock_id", None) or ""


def check_clock(session: Any, timeout: float) -> ClockCheck:
    """Compare the robot of `session` (connection._Session) with the clock it synced with: one
    time-sync RPC with the identifier we hold (no round trip sent: no sample recorded), `timeout`
    s; raises bosdyn errors. A restart: the robot answers with another identifier, or our
    TimeSyncThread holds another one than the one we synced with. A worker whose run process
    now forwards another identifier asks with the old one: still known, the run process only
    reconnected (`new_clock`); not known, the robot restarted.
    A step: the skew this round trip measures (robot header times against our send/receive
    times) is more than SKEW_JUMP_NS plus the round trip time away from the estimate."""
    held = held_clock_identifier(session.time_sync)
    if not held or not session.clock_id:
        return ClockCheck()
    ask = held
    if held != session.clock_id:
        if has_clock_identifier(session.time_sync):   # our TimeSyncThread adopted a new clock
            return ClockCheck(restarted=True)
        ask = session.clock_id   # a worker: a restart, or only a new session of the run process?
    client = session.robot.ensure_client(TimeSyncClient.default_service_name)
    tx = time.time_ns()
    answer = client.get_time_sync_update(None, ask, timeout=timeout)
    rx = time.time_ns()
    if answer.clock_identifier != ask:
        return ClockCheck(restarted=True, seen_by_rpc=ask == held)
    if ask != held:   # the robot still knows the clock we synced with: the run process reconnected
        return ClockCheck(new_clock=held)
    server_rx = tconv.timestamp_to_ns(answer.header.request_received_timestamp)
    server_tx = tconv.timestamp_to_ns(answer.header.response_timestamp)
    try:
        estimate = tconv.duration_to_ns(session.time_sync.endpoint.clock_skew)
    except NotEstablishedError:
        return ClockCheck()
    if not server_rx or not server_tx:
        return ClockCheck()
    measured = ((server_rx - tx) + (server_tx - rx)) // 2
    round_trip = max(0, (rx - tx) - (server_tx - server_rx))
    return ClockCheck(stepped=abs(measured - estimate) > SKEW_JUMP_NS + round_trip)


def worker_saw_restart(session: Any, reason: str, log: Any) -> None:
    """A worker (SharedClock) sees a restart: set `session.restarted`, ONE warning line. If the
    run process has not re-synced yet (its clock skew still belongs to the old clock) that clock
    is forgotten: the worker reconnects on the run process's next, new clock skew. Returns None
    (the worker does not sync time itself)."""
    clock = session.time_sync
    new = getattr(clock, "robot_clock_id", None) or ""
    if new == session.clock_id:
        clock.forget(session.clock_id)
        new, then = "", "waiting for the run process to re-sync time"
    else:
        then = "using the run process's new clock skew"
    if not session.restarted:
        session.restarted = True
        log.warning(f"robot restarted (new clock {new[:8] or 'not known yet'}, was {session.clock_id[:8]}; "
                    f"seen by {reason}): {then}")
    return None


def resync_session(session: Any, reason: str, log: Any, address: str) -> int | None:
    """Re-sync `session` (connection._Session with a bosdyn TimeSyncThread) now, `reason` saying who
    asked: one fresh round trip (adopting a restarted robot's new clock identifier), then bosdyn's
    `establish_timesync` until the robot says STATUS_OK (at most MAX_SAMPLES round trips). A clock
    identifier other than the one the session synced with (a restart) sets `session.restarted` and
    gets ONE warning line. Returns the clock skew (robot minus local, ns), None if the re-sync
    failed (one line)."""
    endpoint = session.time_sync.endpoint
    with session.resync_lock:
        try:
            endpoint.get_new_estimate()
            new = endpoint.clock_identifier
            if new != session.clock_id and not session.restarted:
                session.restarted = True
                log.warning(f"robot restarted (new clock {new[:8]}, was {session.clock_id[:8]}; seen by "
                            f"{reason}): re-syncing time")
            endpoint.establish_timesync(max_samples=MAX_SAMPLES, break_on_success=True)
            return int(endpoint.clock_skew.ToNanoseconds())
        except (BosdynError, TimeSyncError) as err:
            log.warning(f"re-syncing time with Spot at {address} failed: {error_reason(err)}")
            return None


def shared_clock_current(robot: Any, clock: Any, timeout: float, log: Any) -> bool:
    """A worker (re)connecting on the run process's clock (`SharedClock`): True if `robot` still
    knows that clock's identifier (or none was forwarded). False after a restart the run process
    has not re-synced from yet (the robot was gone for a moment: the health check lost it before
    it could see the new clock): ONE warning line, the clock is forgotten, and the next attempt
    waits for the run process's new one. One time-sync RPC, `timeout` s; raises bosdyn errors."""
    held = clock.robot_clock_id
    if not held:
        return True
    client = robot.ensure_client(TimeSyncClient.default_service_name)
    if client.get_time_sync_update(None, held, timeout=timeout).clock_identifier == held:
        return True
    clock.forget(held)
    log.warning(f"robot restarted (new clock not known yet, was {held[:8]}; seen by the reconnection): "
                "waiting for the run process to re-sync time")
    return False


def wait_for_time_sync(thread: Any, address: str, deadline: float, log: Any) -> None:
    """Wait for `thread` (TimeSyncThread or SharedClock) to sync until `deadline` (monotonic s); a
    robot still answering e.g. STATUS_MORE_SAMPLES_NEEDED (just booted) after a second gets one
    log line, and TimeSyncNotEstablished (one line) if it never syncs."""
    t0 = time.monotonic()
    try:
        thread.wait_for_sync(timeout_sec=max(0.2, min(1.0, deadline - t0)))
        return
    except TimeSyncTimedOutError:
        if time.monotonic() >= deadline - 0.05:
            raise TimeSyncNotEstablished(time_sync_status(thread), time.monotonic() - t0) from None
    log.info(f"time sync with Spot at {address} not established yet (robot: "
             f"{time_sync_status(thread)}); waiting up to {deadline - time.monotonic():.0f} s")
    try:
        thread.wait_for_sync(timeout_sec=max(0.2, deadline - time.monotonic()))
    except TimeSyncTimedOutError:
        raise TimeSyncNotEstablished(time_sync_status(thread), time.monotonic() - t0) from None


def has_clock_identifier(time_sync: Any) -> bool:
    """False for a worker's SharedClock (the run process's estimate: the run process re-syncs)."""
    return isinstance(getattr(time_sync.endpoint, "clock_identifier", None), str)
