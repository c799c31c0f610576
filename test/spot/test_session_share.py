"""spot/session_share.py: a worker's connection on the run process's login and time sync.

Against the simulated Spot (robot clock +100 s) through the real bosdyn client: the "run"
connection logs in; a second connection whose config holds a WRONG password connects through
the shared session (so it never logged in itself: a password login would be refused), makes
RPCs with the shared token, converts stamps with exactly the run connection's clock skew, gets
the run process's refreshed token, and sees its time sync stop when the stream ends.
"""

from __future__ import annotations

import dataclasses
import io
import os
import threading

import pytest
from conftest import ROBOT_CLOCK_OFFSET_S
from waiting import wait_until

from spot_bow_ros.spot.connection import SpotConnection
from spot_bow_ros.spot.connection_config import ConnectionConfig
from spot_bow_ros.spot.session_share import SessionForwarder, SessionShare, SharedClock

SKEW_TOLERANCE_S = 0.005   # the simulator is on this machine: time sync finds its offset within 5 ms


def test_shared_clock_is_not_established_before_the_first_skew_and_stops_at_the_end():
    from bosdyn.client.time_sync import NotEstablishedError, TimedOutError

    clock = SharedClock()
    with pytest.raises(NotEstablishedError):
        clock.endpoint.clock_skew  # noqa: B018 - the property raises
    with pytest.raises(TimedOutError):
        clock.wait_for_sync(timeout_sec=0.05)
    clock.set_skew_ns(-1_500_000_001)
    clock.wait_for_sync(timeout_sec=0.05)
    assert (clock.endpoint.clock_skew.seconds, clock.endpoint.clock_skew.nanos) == (-1, -500_000_001)
    assert not clock.stopped
    clock.stop("gone")
    assert clock.stopped and "gone" in str(clock.thread_exception)


def test_forwarder_without_a_connection_says_no_share_and_the_worker_logs_in_itself():
    out = io.StringIO()
    SessionForwarder(None, out)
    share = SessionShare()
    ended = threading.Event()
    share.follow(io.StringIO(out.getvalue()), on_end=ended.set)
    assert share.wait_first(5.0) and share.shared is False
    assert ended.wait(5.0) and share.clock.stopped      # stream over: nothing more comes


@pytest.fixture
def run_and_worker(sim, monkeypatch):
    """(run connection, forwarder, share, worker connection with a wrong password, pipe writer)."""
    run = SpotConnection(ConnectionConfig.from_sim_info(sim.info_file))
    run.connect(timeout=30.0)
    read_fd, write_fd = os.pipe()
    reader, writer = os.fdopen(read_fd, "r"), os.fdopen(write_fd, "w")
    forwarder = SessionForwarder(run, writer, interval_s=0.05)
    share = SessionShare()
    ended = threading.Event()
    share.follow(reader, on_end=ended.set)
    assert share.wait_first(10.0) and share.shared is True
    monkeypatch.setattr(SpotConnection, "parent_session", share)
    config = dataclasses.replace(ConnectionConfig.from_sim_info(sim.info_file), password="not-the-password",
                                 sim_info_file="")
    worker = SpotConnection(config)
    try:
        yield run, forwarder, share, worker, writer, ended
    finally:
        worker.shutdown()
        forwarder.stop()
        if not writer.closed:
            writer.close()
        run.shutdown()


def test_worker_connects_with_the_run_token_and_converts_stamps_with_its_skew(run_and_worker):
    from bosdyn.client.robot_id import RobotIdClient
    from bosdyn.client.time_sync import TimeSyncThread

    run, forwarder, share, worker, writer, ended = run_and_worker
    worker.connect(timeout=30.0)                 # a password login with this config would be refused
    assert worker.robot.user_token == run.robot.user_token
    assert worker.ensure_client(RobotIdClient.default_service_name).get_id(timeout=10.0).serial_number
    assert not isinstance(worker.robot._time_sync_thread, TimeSyncThread)   # no time sync of its own
    # one estimate for both processes: the run connection's, the simulated robot's offset
    assert wait_until(lambda: worker.clock_skew_ns() == run.clock_skew_ns(), timeout=10.0)
    assert abs(worker.clock_skew_ns() / 1e9 - ROBOT_CLOCK_OFFSET_S) < SKEW_TOLERANCE_S
    robot_ns = run.local_to_robot_ns(1_000_000_000_000)
    assert abs(worker.robot_to_local_ns(robot_ns) - 1_000_000_000_000) <= abs(
        worker.clock_skew_ns() - run.clock_skew_ns())
    # the run process refreshes its token: the worker's robot gets the new one
    run.robot.authenticate_with_token(run.robot.user_token, timeout=10.0)
    new = run.robot.user_token
    assert wait_until(lambda: worker.robot.user_token == new, timeout=10.0)
    assert worker.ensure_client(RobotIdClient.default_service_name).get_id(timeout=10.0).serial_number
    # the run process is gone: the stream ends, the shared time sync stops, the worker notices
    forwarder.stop()
    writer.close()
    assert ended.wait(10.0) and share.clock.stopped
    assert wait_until(lambda: not worker.connected, timeout=worker.config.health_check_interval + 15.0)
