"""SpotConnection when the robot restarts faster than one health check: the simulated Spot is
stopped and started again on the same port (same state dir: same robot, tokens still valid) with
a NEW robot clock offset, through the real bosdyn-client. The connection must see the new clock
(its time-sync service hands out a new clock identifier), say so in one line, re-sync at once and
reconnect; stamps then use the new skew and commands work again."""

from __future__ import annotations

import logging
import time

import pytest
from bosdyn.client.lease import LeaseClient
from waiting import wait_until

from spot_bow_ros.convert.motion import BodyPose, MotionLimits, MotorCommand, VelocityCommand
from spot_bow_ros.sim import SimulatedSpot
from spot_bow_ros.spot.commander import SpotCommander
from spot_bow_ros.spot.connection import SpotConnection
from spot_bow_ros.spot.connection_config import ConnectionConfig

OLD_OFFSET_S, NEW_OFFSET_S = 100.0, 250.0
TOL_NS = 5_000_000   # 5 ms
RESTART_LINE = "robot restarted (new clock "


def _sim(state, port: int = 0, offset: float = OLD_OFFSET_S) -> SimulatedSpot:
    return SimulatedSpot(port=port, clock_offset_s=offset, state_dir=state, estop_required=False,
                         power_on_s=0.2, power_off_s=0.1).start()


def _messages(caplog, name: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == name]


def _skew_is(conn: SpotConnection, offset_s: float) -> bool:
    return abs(conn.clock_skew_ns() - int(offset_s * 1e9)) < TOL_NS


@pytest.fixture
def restart(tmp_path):
    """(first sim, restart() -> second sim); both stopped at the end."""
    sims: list[SimulatedSpot] = [_sim(tmp_path / "state")]

    def again() -> SimulatedSpot:
        port = sims[0].port
        sims[0].stop(grace=0.0)
        sims.append(_sim(tmp_path / "state", port=port, offset=NEW_OFFSET_S))
        return sims[-1]
    yield sims[0], again
    for sim in sims:
        sim.stop()


def _velocity_command_on_robot_clock(conn: SpotConnection):
    """Lease, motor power and a velocity command ending 1 s ahead on the ROBOT clock (the robot
    rejects an end time in its past: a wrong skew fails it)."""
    from bosdyn.client.robot_command import RobotCommandBuilder, RobotCommandClient
    robot = conn.robot
    lease_client = conn.ensure_client(LeaseClient.default_service_name)
    lease_client.take()
    robot.power_on(timeout_sec=20)
    command = RobotCommandBuilder.synchro_velocity_command(v_x=0.1, v_y=0.0, v_rot=0.0)
    end = conn.robot_timestamp(time.time_ns() + 1_000_000_000)
    command.synchronized_command.mobility_command.se2_velocity_request.end_time.CopyFrom(end)
    return conn.ensure_client(RobotCommandClient.default_service_name).robot_command(command, timeout=5)


def test_restart_between_health_checks_resyncs_to_the_new_clock(restart, tmp_path, caplog):
    first, again = restart
    caplog.set_level(logging.INFO, logger="test.restart")
    config = ConnectionConfig.from_sim_info(first.info, health_check_interval=4.0, reconnect_max_backoff=0.5)
    conn = SpotConnection(config, logging.getLogger("test.restart"))
    try:
        conn.connect(timeout=30)
        assert _skew_is(conn, OLD_OFFSET_S)
        old_robot = conn.robot
        second = again()   # well within the 4 s to the first health check; time sync's next round is 10 s away
        assert wait_until(lambda: conn.connected and conn.robot is not old_robot, timeout=60, period=0.05)
        assert _skew_is(conn, NEW_OFFSET_S), conn.clock_skew_ns()
        local = time.time_ns()
        assert abs(conn.robot_to_local_ns(second.clock.robot_ns(local)) - local) < TOL_NS
        assert abs(conn.local_to_robot_ns(local) - second.clock.robot_ns(local)) < TOL_NS
        assert _velocity_command_on_robot_clock(conn) > 0   # a command id: accepted on the new clock
    finally:
        conn.shutdown()
    ours = _messages(caplog, "test.restart")
    restarted = [m for m in ours if m.startswith(RESTART_LINE)]
    assert len(restarted) == 1, ours
    assert restarted[0].endswith("seen by the health check): re-syncing time")
    assert sum(m.startswith("lost connection to Spot") and "robot restarted" in m for m in ours) == 1, ours
    assert sum(m.startswith("recovered connection") for m in ours) == 1, ours


def test_no_time_sync_on_a_motion_command_resyncs_and_is_not_resent(restart, caplog):
    """The health check is a minute away: the first motion command after the restart meets the
    robot's NoTimeSyncError. It is not re-sent; time is re-synced at once, the connection
    reconnects, and the next command goes out on the new clock."""
    first, again = restart
    caplog.set_level(logging.INFO)
    config = ConnectionConfig.from_sim_info(first.info, health_check_interval=60.0, reconnect_max_backoff=0.5)
    conn = SpotConnection(config, logging.getLogger("test.nts"))
    commander = None
    try:
        conn.connect(timeout=30)
        old_robot = conn.robot
        second = again()
        commander = SpotCommander(conn, logging.getLogger("test.nts.cmd"), limits=MotionLimits())
        commander.claim(take=True)
        assert commander.power_on(timeout_s=20).ok
        walk = MotorCommand(locomotion=VelocityCommand(v_x=0.1))
        refused = commander.execute(walk, BodyPose(), False)
        assert refused is not None and not refused.ok
        assert refused.detail.startswith("NoTimeSyncError") and refused.detail.endswith("(not re-sent)")
        sent = second.robot.commands("RobotCommand")
        assert [r.status for r in sent] == ["STATUS_NO_TIMESYNC"]   # once: not re-sent late
        assert wait_until(lambda: conn.connected and conn.robot is not old_robot, timeout=60, period=0.05)
        assert _skew_is(conn, NEW_OFFSET_S), conn.clock_skew_ns()
        assert wait_until(lambda: commander.ready, timeout=30, period=0.05)
        result = commander.execute(walk, BodyPose(), False)
        assert result is not None and result.ok, result
        assert [r.accepted for r in second.robot.commands("RobotCommand")] == [False, True]
    finally:
        if commander is not None:
            commander.shutdown()
        conn.shutdown()
    nts = [r.getMessage() for r in caplog.records if r.name == "test.nts.cmd" and "NoTimeSyncError" in r.getMessage()]
    assert len(nts) == 1 and nts[0].endswith("the robot has no time sync with us (NoTimeSyncError); "
                                             "time re-synced; not re-sent"), nts
    restarted = [m for m in _messages(caplog, "test.nts") if m.startswith(RESTART_LINE)]
    assert len(restarted) == 1 and "NoTimeSyncError" not in restarted[0]
    assert "command refused for no time sync): re-syncing time" in restarted[0]


def test_a_restarted_robot_gets_our_e_stop_back_registered_stopped(tmp_path, caplog):
    """A restart voids the E-Stop configuration: after the restart is seen (between health checks)
    and the connection is back, our endpoint is registered on the restarted robot at a stopped level
    (latched: SETTLE_THEN_CUT), never NONE, and the motors stay off until an operator releases."""
    from spot_bow_ros.spot.estop import NONE, SETTLE_THEN_CUT, SoftwareEstop
    caplog.set_level(logging.INFO)
    state = tmp_path / "state"
    first = SimulatedSpot(clock_offset_s=OLD_OFFSET_S, state_dir=state, arm=False).start()
    second = None
    config = ConnectionConfig.from_sim_info(first.info, health_check_interval=4.0, reconnect_max_backoff=0.5)
    conn = SpotConnection(config, logging.getLogger("test.es"))
    causes: list[str] = []
    try:
        conn.connect(timeout=30)
        old_robot = conn.robot
        estop = SoftwareEstop(conn, logging.getLogger("test.es.estop"), name="unit", timeout=3.0,
                              release_at_start=True, on_stop=causes.append)
        try:
            assert estop.start() and first.robot.estop.stop_level() == NONE
            port = first.port
            first.stop(grace=0.0)
            second = SimulatedSpot(port=port, clock_offset_s=NEW_OFFSET_S, state_dir=state, arm=False).start()
            assert wait_until(lambda: conn.connected and conn.robot is not old_robot, timeout=60, period=0.05)

            def registered_again() -> bool:
                estop.poll()   # the supervisor's diagnostics period
                names = [e.endpoint.name for e in second.robot.estop.status().endpoints]
                return names == ["unit"]
            assert wait_until(registered_again, timeout=60, period=0.2)
            assert second.robot.estop.stop_level() == SETTLE_THEN_CUT and estop.desired == SETTLE_THEN_CUT
            assert causes and "keep-alive" in causes[-1]
            assert not second.robot.commands("PowerCommand", accepted=True)
            assert _skew_is(conn, NEW_OFFSET_S)
        finally:
            estop.shutdown()
    finally:
        conn.shutdown()
        first.stop()
        if second is not None:
            second.stop()
    assert sum(m.startswith(RESTART_LINE) for m in _messages(caplog, "test.es")) == 1
