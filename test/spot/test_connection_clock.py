"""The robot clock seen by SpotConnection's health check (spot/connection_clock.py, time_resync.py,
session_share.py), through the real bosdyn client against the simulated Spot:

- a `run --processes 2` worker (its connection on the run process's token and clock skew, the
  share carrying the robot clock identifier) notices a robot restart, whether it sees it first or
  the run process does: one line, reconnect on the run process's NEW clock skew, our E-Stop back
  registered stopped (latched), as the normal route; a run process that merely reconnects (a new
  clock identifier of the same robot) is no restart for the worker;
- a step of the robot's clock (same identifier) is re-synced at the next health check with one
  warning line naming the old and new skew, and the next velocity command's end time is on the
  stepped robot clock (accepted, `cmd_duration` ahead).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import time

import pytest
from waiting import wait_until

from spot_bow_ros.convert import time as tconv
from spot_bow_ros.convert.motion import BodyPose, MotionLimits, MotorCommand, VelocityCommand
from spot_bow_ros.sim import SimulatedSpot
from spot_bow_ros.spot.commander import SpotCommander
from spot_bow_ros.spot.connection import SpotConnection
from spot_bow_ros.spot.connection_config import ConnectionConfig
from spot_bow_ros.spot.session_share import SessionForwarder, SessionShare

OLD_OFFSET_S, NEW_OFFSET_S = 100.0, 250.0
TOL_NS = 5_000_000   # 5 ms: the simulator runs on this machine
RESTART_LINE = "robot restarted (new clock "


def _messages(caplog, name: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == name]


def _skew_is(conn: SpotConnection, offset_s: float) -> bool:
    return abs(conn.clock_skew_ns() - int(offset_s * 1e9)) < TOL_NS


class _Rig:
    """A simulated Spot (restartable on its port, same state dir), a run connection, its session
    forwarded to a worker connection (parent_session) over a pipe."""

    def __init__(self, tmp_path, monkeypatch, run_check_s: float, worker_check_s: float, estop_required: bool):
        self.state = tmp_path / "state"
        self.sims = [SimulatedSpot(clock_offset_s=OLD_OFFSET_S, state_dir=self.state, arm=False,
                                   estop_required=estop_required, power_on_s=0.2, power_off_s=0.1).start()]
        info = self.sims[0].info
        self.run = SpotConnection(ConnectionConfig.from_sim_info(
            info, health_check_interval=run_check_s, reconnect_max_backoff=0.5), logging.getLogger("test.run"))
        self.run.parent_session = None   # the run process logs in and syncs itself (workers: the class's)
        self.run.connect(timeout=30)
        read_fd, write_fd = os.pipe()
        self.reader, self.writer = os.fdopen(read_fd, "r"), os.fdopen(write_fd, "w")
        self.forwarder = SessionForwarder(self.run, self.writer, interval_s=0.05)
        self.share = SessionShare()
        self.share.follow(self.reader)
        assert self.share.wait_first(10.0) and self.share.shared
        monkeypatch.setattr(SpotConnection, "parent_session", self.share)
        config = dataclasses.replace(ConnectionConfig.from_sim_info(
            info, health_check_interval=worker_check_s, reconnect_max_backoff=0.5), password="not-the-password")
        self.worker = SpotConnection(config, logging.getLogger("test.worker"))
        self.extra: list[SpotConnection] = []

    def restart(self) -> SimulatedSpot:
        port = self.sims[-1].port
        self.sims[-1].stop(grace=0.0)
        self.sims.append(SimulatedSpot(port=port, clock_offset_s=NEW_OFFSET_S, state_dir=self.state,
                                       arm=False).start())
        return self.sims[-1]

    def close(self) -> None:
        self.worker.shutdown()
        self.forwarder.stop()
        self.writer.close()
        for conn in [self.run, *self.extra]:
            conn.shutdown()
        for sim in self.sims:
            sim.stop()


@pytest.fixture
def rig_factory(tmp_path, monkeypatch):
    rigs: list[_Rig] = []

    def make(run_check_s: float, worker_check_s: float, estop_required: bool = True) -> _Rig:
        rigs.append(_Rig(tmp_path, monkeypatch, run_check_s, worker_check_s, estop_required))
        return rigs[-1]
    yield make
    for rig in rigs:
        rig.close()


def _worker_estop(rig: _Rig, causes: list[str]):
    from spot_bow_ros.spot.estop import NONE, SoftwareEstop
    estop = SoftwareEstop(rig.worker, logging.getLogger("test.worker.estop"), name="worker", timeout=3.0,
                          release_at_start=True, on_stop=causes.append)
    assert estop.start() and rig.sims[-1].robot.estop.stop_level() == NONE
    return estop


def _registered_stopped_on(estop, sim) -> bool:
    estop.poll()   # the supervisor's diagnostics period
    return [e.endpoint.name for e in sim.robot.estop.status().endpoints] == ["worker"]


@pytest.mark.parametrize("first", ["worker", "run process"])
def test_worker_sees_a_robot_restart_and_reconnects_on_the_new_clock(rig_factory, caplog, first):
    """`first` sees it: the worker (its health check asks the robot about the run process's clock,
    the run process checks a minute later) or the run process (the worker's check is 5 s away)."""
    from spot_bow_ros.spot.estop import SETTLE_THEN_CUT
    caplog.set_level(logging.INFO)
    rig = rig_factory(run_check_s=60.0 if first == "worker" else 1.0,
                      worker_check_s=1.0 if first == "worker" else 5.0)
    rig.worker.connect(timeout=30)
    assert wait_until(lambda: _skew_is(rig.worker, OLD_OFFSET_S), timeout=10)
    assert rig.worker.clock_estimate()[0] == rig.run.clock_estimate()[0]
    causes: list[str] = []
    estop = _worker_estop(rig, causes)
    try:
        old_robot = rig.worker.robot
        second = rig.restart()
        assert wait_until(lambda: rig.worker.connected and rig.worker.robot is not old_robot, timeout=90, period=0.05)
        assert _skew_is(rig.worker, NEW_OFFSET_S), rig.worker.clock_skew_ns()
        local = time.time_ns()
        assert abs(rig.worker.local_to_robot_ns(local) - second.clock.robot_ns(local)) < TOL_NS
        # the worker's stamps are on the run process's new clock, which the restarted robot knows
        assert second.time_sync.is_synced(rig.worker.clock_estimate()[0])
        assert wait_until(lambda: _registered_stopped_on(estop, second), timeout=60, period=0.2)
        assert second.robot.estop.stop_level() == SETTLE_THEN_CUT and estop.desired == SETTLE_THEN_CUT
        assert causes and "keep-alive" in causes[-1]   # the motion path latches on this (supervisor)
        assert not second.robot.commands("PowerCommand", accepted=True)
    finally:
        estop.shutdown()
    ours = _messages(caplog, "test.worker")
    restarted = [m for m in ours if m.startswith(RESTART_LINE)]
    assert len(restarted) == 1, ours
    if first == "worker":
        assert restarted[0].endswith("seen by the health check): waiting for the run process to re-sync time")
    else:
        assert restarted[0].endswith("seen by the run process): using the run process's new clock skew")
    assert sum(m.startswith("lost connection to Spot") and "robot restarted" in m for m in ours) == 1, ours
    assert sum(m.startswith("recovered connection") for m in ours) == 1, ours


def test_worker_that_lost_the_robot_reconnects_only_on_the_new_clock(rig_factory, caplog):
    """The robot is gone for a while (the worker's health check loses it: a transport error, no
    restart seen), then back restarted; the run process has not re-synced yet: the worker's
    reconnection finds the shared clock unknown to the robot, says so once and waits for the run
    process's new clock (its time-sync thread's next round) instead of coming back on the old skew."""
    caplog.set_level(logging.INFO)
    rig = rig_factory(run_check_s=60.0, worker_check_s=0.5)
    rig.worker.connect(timeout=30)
    port = rig.sims[-1].port
    rig.sims[-1].stop(grace=0.0)
    assert wait_until(lambda: not rig.worker.connected, timeout=30, period=0.05)
    rig.sims.append(SimulatedSpot(port=port, clock_offset_s=NEW_OFFSET_S, state_dir=rig.state, arm=False).start())
    assert wait_until(lambda: rig.worker.connected, timeout=90, period=0.05)
    assert _skew_is(rig.worker, NEW_OFFSET_S), rig.worker.clock_skew_ns()
    ours = _messages(caplog, "test.worker")
    restarted = [m for m in ours if m.startswith(RESTART_LINE)]
    assert len(restarted) == 1 and restarted[0].endswith(
        "seen by the reconnection): waiting for the run process to re-sync time"), ours
    recovered = [m for m in ours if m.startswith("recovered connection")]
    assert len(recovered) == 1, recovered
    skew = float(re.search(r"robot clock skew ([-+0-9.]+) s", recovered[0]).group(1))
    assert abs(skew - NEW_OFFSET_S) < 0.005, recovered


def test_a_run_process_that_only_reconnects_is_no_restart_for_the_worker(rig_factory, caplog):
    """The run process's new session has a new clock identifier of the SAME robot: the worker
    adopts it (the robot still knows the old one) and keeps its connection."""
    caplog.set_level(logging.INFO)
    rig = rig_factory(run_check_s=60.0, worker_check_s=0.5)
    rig.worker.connect(timeout=30)
    old_robot, old_clock = rig.worker.robot, rig.worker.clock_estimate()[0]
    again = SpotConnection(rig.run.config, logging.getLogger("test.run2"))
    again.parent_session = None
    rig.extra.append(again)
    again.connect(timeout=30)
    new_clock = again.clock_estimate()[0]
    assert new_clock != old_clock
    rig.forwarder.connection = again   # the run process's connection, reconnected
    assert wait_until(lambda: rig.worker._session is not None and rig.worker._session.clock_id == new_clock,
                      timeout=30, period=0.05)
    time.sleep(2.0)   # a few more worker health checks
    assert rig.worker.connected and rig.worker.robot is old_robot
    ours = _messages(caplog, "test.worker")
    assert not [m for m in ours if "restarted" in m or m.startswith("lost connection")], ours


def test_worker_robot_commands_carry_the_run_process_clock(rig_factory):
    """A motion command from a worker carries the run process's clock identifier and an end time
    from its skew (the worker's Robot starts no TimeSyncThread of its own)."""
    from bosdyn.client.time_sync import TimeSyncThread
    rig = rig_factory(run_check_s=60.0, worker_check_s=60.0, estop_required=False)
    rig.worker.connect(timeout=30)
    commander = SpotCommander(rig.worker, logging.getLogger("test.worker.cmd"), limits=MotionLimits(),
                              cmd_duration=0.6)
    try:
        commander.claim(take=True)
        assert commander.power_on(timeout_s=20).ok
        result = commander.execute(MotorCommand(locomotion=VelocityCommand(v_x=0.2)), BodyPose(), False)
        assert result is not None and result.ok, result
        record = rig.sims[-1].robot.commands("RobotCommand")[-1]
        assert record.accepted and record.request.clock_identifier == rig.run.clock_estimate()[0]
        end = record.request.command.synchronized_command.mobility_command.se2_velocity_request.end_time
        assert 0.0 < (tconv.timestamp_to_ns(end) - record.robot_ns) / 1e9 <= 0.6 + 0.01
        assert not isinstance(rig.worker.robot._time_sync_thread, TimeSyncThread)
    finally:
        commander.shutdown()


@pytest.fixture
def stepping_spot(tmp_path):
    spot = SimulatedSpot(clock_offset_s=OLD_OFFSET_S, arm=False, estop_required=False, power_on_s=0.2,
                         power_off_s=0.1).start()
    yield spot
    spot.stop()


@pytest.mark.parametrize("step_s", [-5.0, +5.0])
def test_a_step_of_the_robot_clock_is_resynced_and_velocity_end_times_follow(stepping_spot, caplog, step_s):
    """Backwards, the old skew would put end times 5 s too late (the robot would walk on 5 s after
    the last command); forwards, 5 s in the robot's past (STATUS_EXPIRED). The time-sync thread's
    next round is a minute away: the health check sees the step."""
    caplog.set_level(logging.INFO)
    spot = stepping_spot
    config = ConnectionConfig.from_sim_info(spot.info, health_check_interval=1.0, time_sync_interval=60.0)
    conn = SpotConnection(config, logging.getLogger("test.step"))
    commander = None
    try:
        conn.connect(timeout=30)
        assert _skew_is(conn, OLD_OFFSET_S)
        commander = SpotCommander(conn, logging.getLogger("test.step.cmd"), limits=MotionLimits(), cmd_duration=0.6)
        commander.claim(take=True)
        assert commander.power_on(timeout_s=20).ok
        clock_before = conn.clock_estimate()[0]
        spot.step_clock(step_s)
        assert wait_until(lambda: _skew_is(conn, OLD_OFFSET_S + step_s), timeout=30, period=0.05), conn.clock_skew_ns()
        result = commander.execute(MotorCommand(locomotion=VelocityCommand(v_x=0.2)), BodyPose(), False)
        assert result is not None and result.ok, result
        record = spot.robot.commands("RobotCommand")[-1]
        assert record.accepted
        end = record.request.command.synchronized_command.mobility_command.se2_velocity_request.end_time
        ahead_s = (tconv.timestamp_to_ns(end) - record.robot_ns) / 1e9
        assert 0.0 < ahead_s <= 0.6 + 0.01, ahead_s   # cmd_duration ahead on the STEPPED robot clock
        assert conn.clock_estimate()[0] == clock_before and conn.connected   # same clock: no reconnect
        time.sleep(3.0)   # three more health checks: still one line
    finally:
        if commander is not None:
            commander.shutdown()
        conn.shutdown()
    lines = [m for m in _messages(caplog, "test.step") if m.startswith("robot clock skew jumped")]
    assert len(lines) == 1, lines
    match = re.fullmatch(r"robot clock skew jumped from ([-+][\d.]+) s to ([-+][\d.]+) s \(same clock (\w+): "
                         r"the robot's clock stepped\); stamps and command end times use the new estimate", lines[0])
    assert match is not None, lines[0]
    assert abs(float(match[1]) - OLD_OFFSET_S) < 0.006 and abs(float(match[2]) - OLD_OFFSET_S - step_s) < 0.006
    assert match[3] == clock_before[:8]
    assert not [m for m in _messages(caplog, "test.step") if "restarted" in m or "lost connection" in m]
