"""Seeing a robot restart through its time-sync service, and re-syncing time at once.

A robot that restarted forgets the clock identifiers its time-sync service handed out: asked
with the old identifier it answers with a new one (and STATUS_MORE_SAMPLES_NEEDED). Until a
client re-syncs, its stamps use the old clock skew (the restarted robot's clock may differ) and
RobotCommands carrying an end time fail with NoTimeSyncError. bosdyn's TimeSyncThread only asks
every `time_sync_interval` (10 s by default), so `SpotConnection` asks on every health check
(`clock_identifier_now`: one cheap RPC, no sample recorded) and re-syncs at once (`resync`).
"""

from __future__ import annotations

import time
from typing import Any

from bosdyn.client.exceptions import Error as BosdynError
from bosdyn.client.time_sync import TimedOutError as TimeSyncTimedOutError
from bosdyn.client.time_sync import TimeSyncClient, TimeSyncError

from .connection_diagnosis import TimeSyncNotEstablished, error_reason, time_sync_status

#: Round trips `resync` makes at most (bosdyn's own default for establish_timesync).
MAX_SAMPLES = 25


def clock_changed(session: Any, timeout: float) -> bool:
    """True if the robot of `session` (connection._Session) has a clock other than the one the
    session synced with: its time-sync service answers our identifier with a new one, or our
    TimeSyncThread already adopted a new one. False for a worker's SharedClock (no identifier:
    the run process checks). One RPC (no sample recorded), `timeout` s; raises bosdyn errors."""
    if not has_clock_identifier(session.time_sync):
        return False
    held = session.time_sync.endpoint.clock_identifier
    client = session.robot.ensure_client(TimeSyncClient.default_service_name)
    answer = client.get_time_sync_update(None, held, timeout=timeout).clock_identifier
    return bool(answer != held or held != session.clock_id)


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
