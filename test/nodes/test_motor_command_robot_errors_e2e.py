"""Robot-side errors the motor_command bridge must survive (issue 12), end to end: real bosdyn
clients against the simulated Spot with E-Stop required. Each test checks what the bridge shows
(log lines, diagnostics, results) and what reached the robot (the simulator's command log):
a tablet taking the lease (LeaseUseError: a latched stop, never taken back nor re-acquired by
itself, even with take_lease; only the explicit claim / take_lease verbs), commands
before power-on (NotPoweredOnError: one line for a whole stream), KeepaliveMotorsOffError at
power-on, and time sync still at STATUS_MORE_SAMPLES_NEEDED at start-up."""

from __future__ import annotations

import logging
import subprocess
import time

import pytest
from bosdyn.api import estop_pb2
from bosdyn.client.estop import EstopClient, EstopEndpoint
from bosdyn.client.lease import LeaseClient, LeaseKeepAlive
from sim_client import estop_required_sim
from waiting import wait_until as _wait

from nodes.test_motor_command_e2e import Rig, clean_estop, velocity_sample  # noqa: F401 - autouse
from nodes.test_motor_command_estop_e2e import REPO, _bridge_cmd, _env
from spot_bow_ros.sim import SimulatedSpot
from spot_bow_ros.spot.connection import SpotConnection
from spot_bow_ros.spot.connection_config import ConnectionConfig


@pytest.fixture
def sim(tmp_path):
    with estop_required_sim(tmp_path) as spot:
        yield spot


def _messages(caplog, text: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if text in r.getMessage()]


def _nothing_escaped(caplog) -> None:
    """No exception escaped a bridge callback (the standalone executor logs 'callback ... raised')."""
    assert [m for m in _messages(caplog, "raised") if m.startswith("callback ")] == []
    assert not any(r.exc_info for r in caplog.records if r.name.startswith("spot_bow_ros"))


def _send_walk_samples(rig, n: int) -> list:
    """Send `n` velocity MotorSamples one after the other; the robot's records of them."""
    mark = rig.mark()
    for _ in range(n):
        received = rig.bridge.counts["received"]
        rig.send_json(velocity_sample(z=0.3))
        rig.wait_handled(received)
    return rig.wait_commands(mark, n)


def test_tablet_takes_the_lease_bridge_stops_and_does_not_take_it_back(sim, tmp_path, caplog):
    rig = Rig(sim, tmp_path, take_lease=True, auto_stand=False, diagnostics_period=0.2)
    tablet = SpotConnection(ConnectionConfig.from_sim_info(sim.info_file, client_name="tablet"))
    tablet.connect()
    try:
        assert rig.bridge.commander.lease_held
        with caplog.at_level(logging.INFO):
            lease_client = tablet.ensure_client(LeaseClient.default_service_name)
            lease_client.take()
            mark = rig.mark()
            with LeaseKeepAlive(lease_client, must_acquire=False, return_at_exit=True, rpc_interval_seconds=0.5):
                for _ in range(3):                     # a velocity stream meets LeaseUseError
                    rig.send_json(velocity_sample(z=0.3))
                    time.sleep(0.1)
                assert _wait(lambda: not rig.bridge.commander.lease_held, 20.0)
                rig.wait_diagnostics_periods(5)        # several diagnostics periods (auto_claim)
                dropped = rig.bridge.counts["dropped_stopped"]
                rig.send_json(velocity_sample(z=0.3))
                assert _wait(lambda: rig.bridge.counts["dropped_stopped"] > dropped, 20.0), rig.bridge.counts
                after = rig.sim.robot.commands()[mark:]
                assert [r for r in after if r.rpc in ("TakeLease", "AcquireLease")] == []   # never re-claimed
                assert [r for r in after if r.rpc == "RobotCommand" and r.accepted] == []
                assert sim.robot.leases.holder("body").sequence == \
                    lease_client.lease_wallet.get_lease().lease_proto.sequence      # still the tablet's
                lines = _messages(caplog, "STOP LATCHED")
                assert len(lines) == 1 and lines[0].startswith("STOP LATCHED: body lease lost: LeaseUseError "
                                                               "STATUS_OLDER (held by tablet"), lines
                assert _messages(caplog, "Spot command failed") == []          # one line, not two
                assert rig.bridge.sup.state.value == "LEASE_LOST" and not rig.bridge.motion_enabled
                assert rig.bridge.counts["dropped_stopped"] >= 1
                rig.bridge.diagnostics_tick()
                status = rig.bridge._diagnostics_msg().status[0]
                diag = {kv.key: kv.value for kv in status.values}
                assert diag["lease"].startswith("lost") and status.message.startswith("STOP LATCHED: body lease lost")
                _nothing_escaped(caplog)
        # the tablet returns the lease: still latched (no automatic re-claim) until the operator claims
        assert _wait(lambda: sim.robot.leases.holder("body") is None, 20.0), sim.robot.leases.holder("body")
        rig.wait_diagnostics_periods(5)
        assert not rig.bridge.commander.lease_held and rig.bridge.sup.state.value == "LEASE_LOST"
        assert rig.bridge.control("claim").status == "control"
        assert rig.bridge.commander.lease_held and rig.bridge.sup.state.value in ("MOTORS_OFF", "POWERED")
        assert rig.bridge.control("enable_motion").status == "control"
        mark = rig.mark()
        rig.control("power_on")
        rig.wait_commands(mark, 1, rpc="PowerCommand", timeout=5)
        assert _wait(lambda: rig.bridge.commander.powered, 3.0)
        rig.send_json(velocity_sample(z=0.3))
        (rec,) = rig.wait_commands(mark)
        assert rec.accepted, rec.message
    finally:
        tablet.shutdown()
        rig.close()


def test_take_lease_takes_it_from_the_tablet_on_request_only(sim, tmp_path, caplog):
    rig = Rig(sim, tmp_path, auto_stand=False, diagnostics_period=0.2)
    tablet = SpotConnection(ConnectionConfig.from_sim_info(sim.info_file, client_name="tablet"))
    tablet.connect()
    try:
        lease_client = tablet.ensure_client(LeaseClient.default_service_name)
        lease_client.take()
        with LeaseKeepAlive(lease_client, must_acquire=False, return_at_exit=True, rpc_interval_seconds=0.5):
            assert _wait(lambda: rig.bridge.sup.state.value == "LEASE_LOST", 3.0)
            out = rig.bridge.control("claim")                    # the tablet keeps it: claim cannot
            assert out.status == "failed" and "held by another client 'tablet" in out.detail and ": send take_lease" in out.detail
            assert rig.bridge.sup.state.value == "LEASE_LOST"
            mark = rig.mark()
            with caplog.at_level(logging.INFO):
                assert rig.bridge.control("take_lease").status == "control"
            assert _messages(caplog, "take_lease (operator request): taking the body lease from tablet")  # + host:script-pid
            assert [r.rpc for r in rig.sim.robot.commands()[mark:] if r.accepted].count("TakeLease") == 1
            assert sim.robot.leases.holder("body").client_names[-2:] == ["root", "spot_bow_ros"] or \
                rig.bridge.commander.lease_held
            assert rig.bridge.sup.state.value in ("MOTORS_OFF", "POWERED") and not rig.bridge.motion_enabled
    finally:
        tablet.shutdown()
        rig.close()


def test_commands_before_power_on_are_refused_with_one_line_for_the_stream(sim, tmp_path, caplog):
    rig = Rig(sim, tmp_path, auto_power_on=False, auto_stand=False)
    try:
        with caplog.at_level(logging.INFO):
            recs = _send_walk_samples(rig, 5)
        assert [r.status for r in recs] == ["STATUS_NOT_POWERED_ON"] * 5
        assert _wait(lambda: rig.bridge.counts["failed"] == 5, 3.0)   # the robot answered before we counted
        lines = _messages(caplog, "Spot command failed")
        assert len(lines) == 1 and "NotPoweredOnError" in lines[0] and "\n" not in lines[0]
        _nothing_escaped(caplog)
        assert rig.bridge.commander.ready              # the robot answered: nothing else is wrong
        # powered on, the same stream goes through
        assert rig.bridge.control("power_on").status == "sent"
        mark = rig.mark()
        rig.send_json(velocity_sample(z=0.3))
        (rec,) = rig.wait_commands(mark)
        assert rec.accepted, rec.message
    finally:
        rig.close()


def test_keepalive_policy_refusal_at_power_on_is_one_line(sim, tmp_path):
    """A tablet's E-Stop endpoint lapsed, then the E-Stop config was emptied: the robot's
    keep-alive policy keeps the motors off (KeepaliveMotorsOffError)."""
    with SpotConnection(ConnectionConfig.from_sim_info(sim.info_file, client_name="tablet")) as tablet:
        client = tablet.ensure_client(EstopClient.default_service_name)
        endpoint = EstopEndpoint(client, "lost-tablet", 0.5, estop_cut_power_timeout=0.6)
        endpoint.force_simple_setup()
        endpoint.allow()
        time.sleep(0.8)                                          # the endpoint lapses
        client.set_config(estop_pb2.EstopConfig(), client.get_config().unique_id)
    rig = Rig(sim, tmp_path, estop="none", auto_power_on=False, auto_stand=False)
    try:
        out = rig.bridge.control("power_on")
        assert out.status == "failed"
        assert out.detail.startswith("power_on refused: robot's keep-alive policy keeps the motors off")
        assert "\n" not in out.detail
        assert sim.robot.commands("PowerCommand")[-1].status == "STATUS_KEEPALIVE_MOTORS_OFF"
        assert rig.bridge.commander.ready                        # lease kept, robot reachable
    finally:
        rig.close()


def test_time_sync_not_ready_at_start_up_is_waited_for_with_one_line(tmp_path, caplog):
    with SimulatedSpot(arm=False, time_sync_ready_after_s=1.5) as spot:
        spot.info_file = str(spot.write_info(tmp_path / "sim.json"))
        t0 = time.monotonic()
        with caplog.at_level(logging.INFO):
            rig = Rig(spot, tmp_path, auto_power_on=False, auto_stand=False)
        try:
            assert time.monotonic() - t0 >= 1.4
            lines = _messages(caplog, "time sync with Spot")
            assert len(lines) == 1 and "STATUS_MORE_SAMPLES_NEEDED" in lines[0]
            _nothing_escaped(caplog)
            assert rig.bridge.commander.lease_held
            assert rig.bridge.control("power_on").status == "sent"
            mark = rig.mark()
            rig.send_json(velocity_sample(z=0.3))
            (rec,) = rig.wait_commands(mark)
            assert rec.accepted, rec.message
        finally:
            rig.close()


def test_time_sync_never_ready_installed_command_exits_1_with_one_line(tmp_path):
    with SimulatedSpot(arm=False, time_sync_ready_after_s=60.0) as spot:
        info = str(spot.write_info(tmp_path / "sim.json"))
        proc = subprocess.run(_bridge_cmd(info, "connect_timeout:=1.5"), capture_output=True, text=True,
                              timeout=60, env=_env(), cwd=REPO)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if "not established within" in ln]
    assert len(lines) == 1 and "STATUS_MORE_SAMPLES_NEEDED" in lines[0], proc.stderr


def test_behavior_fault_mid_stream_is_one_latched_line_until_cleared(sim, tmp_path, caplog):
    from bosdyn.api import robot_state_pb2
    rig = Rig(sim, tmp_path, auto_stand=False)
    try:
        assert _wait(lambda: rig.bridge.commander.powered, 5.0)
        fid = sim.robot.inject_behavior_fault(robot_state_pb2.BehaviorFault.CAUSE_FALL, clearable=True)
        with caplog.at_level(logging.INFO):
            mark = rig.mark()
            for _ in range(4):
                received = rig.bridge.counts["received"]
                rig.send_json(velocity_sample(z=0.3))
                rig.wait_handled(received)
        # the first command meets the fault and latches (or the diagnostics probe saw the fault
        # first); the others never reach the robot
        reached = [r.status for r in rig.commands_since(mark)]
        assert reached in ([], ["STATUS_BEHAVIOR_FAULT"])
        assert rig.bridge.counts["dropped_stopped"] == 4 - len(reached)
        lines = _messages(caplog, "Spot command failed")
        assert len(lines) == len(reached)
        assert all("behavior fault" in ln and "clear_behavior_fault" in ln for ln in lines)
        latched = _messages(caplog, "STOP LATCHED")
        assert latched == [f"STOP LATCHED: behavior fault {fid} FALL, clearable, motors on; motion disabled until "
                           "an operator sends clear_behavior_fault, then enable_motion"]
        _nothing_escaped(caplog)
        assert rig.bridge.commander.ready
        out = rig.bridge.control("clear_behavior_fault")
        assert out.detail == f"clear_behavior_fault: cleared {fid} FALL"
        assert rig.bridge.control("enable_motion").status == "control"
        mark = rig.mark()
        rig.send_json(velocity_sample(z=0.3))
        (rec,) = rig.wait_commands(mark)
        assert rec.accepted, rec.message
    finally:
        rig.close()
