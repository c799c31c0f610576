"""The simulated Spot's E-Stop (sim/estop.py, power.py, robot.py) through the real bosdyn clients:
EstopClient, EstopEndpoint (force_simple_setup) and EstopKeepAlive, as on a real robot."""

from __future__ import annotations

import time

import pytest
from bosdyn.api import estop_pb2, robot_state_pb2
from bosdyn.client import power as bd_power
from bosdyn.client.estop import EstopClient, EstopEndpoint, EstopKeepAlive, MotorsOnError
from bosdyn.client.lease import LeaseClient, LeaseKeepAlive
from bosdyn.client.robot_command import BehaviorFaultError, NotClearedError, RobotCommandClient, blocking_stand
from bosdyn.client.robot_state import RobotStateClient
from cpu_load import CpuMonitor, frozen_heap
from sim_client import sdk_robot
from waiting import wait_until

from spot_bow_ros.sim import SimulatedSpot

PS = robot_state_pb2.PowerState
BF = robot_state_pb2.BehaviorFault
CUT, SETTLE, NONE = estop_pb2.ESTOP_LEVEL_CUT, estop_pb2.ESTOP_LEVEL_SETTLE_THEN_CUT, estop_pb2.ESTOP_LEVEL_NONE


@pytest.fixture
def spot():
    with SimulatedSpot(arm=False) as sim:
        sim.robot.power.on_duration_ns = int(0.2e9)
        yield sim


@pytest.fixture
def robot(spot):
    with sdk_robot(spot, "sim-estop-test") as robot:
        yield robot


def _last_valid_ns(spot, name: str) -> int:
    """When the robot got the last valid check-in of endpoint `name` (wall clock ns)."""
    [since] = [e.time_since_valid_response.ToNanoseconds() for e in spot.robot.estop.status().endpoints
               if e.endpoint.name == name]
    return time.time_ns() - since


def _software_estop(state) -> robot_state_pb2.EStopState:
    return [e for e in state.estop_states if e.name == "software_estop"][0]


def test_unconfigured_robot_is_cut_and_refuses_power_on(robot):
    estop = robot.ensure_client(EstopClient.default_service_name)
    status = estop.get_status()
    assert status.stop_level == CUT
    assert status.stop_level_details == "Not all endpoints are registered"
    state = robot.ensure_client(RobotStateClient.default_service_name).get_robot_state()
    names = {e.name: (e.type, e.state) for e in state.estop_states}
    ES = robot_state_pb2.EStopState
    assert names["software_estop"] == (ES.TYPE_SOFTWARE, ES.STATE_ESTOPPED)
    assert names["hardware_estop"][1] == names["payload_estop"][1] == robot_state_pb2.EStopState.STATE_NOT_ESTOPPED
    assert _software_estop(state).state_description == "Not all endpoints are registered"
    with LeaseKeepAlive(robot.ensure_client(LeaseClient.default_service_name), must_acquire=True, return_at_exit=True):
        with pytest.raises(bd_power.EstoppedError):
            robot.power_on(timeout_sec=5)


def test_force_simple_setup_then_allow_powers_on_and_config_is_locked_while_motors_on(spot, robot):
    client = robot.ensure_client(EstopClient.default_service_name)
    endpoint = EstopEndpoint(client, "test-estop", 9.0)
    endpoint.force_simple_setup()          # GetConfig, SetConfig, Register, first check-in (CUT)
    status = client.get_status()
    assert status.stop_level == CUT        # registered but not allowed yet
    (ep,) = status.endpoints
    assert ep.endpoint.name == "test-estop" and ep.endpoint.role == "PDB_rooted"
    assert ep.endpoint.cut_power_timeout.seconds == 13   # robot default: timeout + 4 s
    assert endpoint.estop_cut_power_timeout == 13.0      # the client learned it at registration
    assert spot.robot.estop.stop_level() == CUT
    with EstopKeepAlive(endpoint) as keepalive:          # checks in at NONE
        assert client.get_status().stop_level == NONE
        state_client = robot.ensure_client(RobotStateClient.default_service_name)
        assert _software_estop(state_client.get_robot_state()).state == robot_state_pb2.EStopState.STATE_NOT_ESTOPPED
        with LeaseKeepAlive(robot.ensure_client(LeaseClient.default_service_name), must_acquire=True,
                            return_at_exit=True):
            robot.power_on(timeout_sec=5)
            config = client.get_config()
            with pytest.raises(MotorsOnError):
                client.set_config(estop_pb2.EstopConfig(), config.unique_id)
            with pytest.raises(MotorsOnError):
                endpoint.deregister()
            keepalive.stop()                               # CUT: motor power off at once
            assert state_client.get_robot_state().power_state.motor_power_state == PS.STATE_OFF
            with pytest.raises(bd_power.EstoppedError):
                robot.power_on(timeout_sec=5)
            keepalive.allow()
            robot.power_on(timeout_sec=5)
            keepalive.settle_then_cut()                    # sits (already seated: cut at once)
            assert wait_until(lambda: state_client.get_robot_state().power_state.motor_power_state == PS.STATE_OFF, 4)
            keepalive.allow()
    endpoint.deregister()                                  # allowed with motors off
    status = client.get_status()                           # the configured slot is empty again
    assert (status.stop_level, status.stop_level_details) == (CUT, "Not all endpoints are registered")


def test_wrong_challenge_response_neither_applies_the_level_nor_resets_the_timer(spot, robot):
    client = robot.ensure_client(EstopClient.default_service_name)
    endpoint = EstopEndpoint(client, "test-estop", 1.0, estop_cut_power_timeout=1.5)
    endpoint.force_simple_setup()
    endpoint.allow()
    assert client.get_status().stop_level == NONE
    from bosdyn.client.estop import IncorrectChallengeResponseError
    t0 = time.monotonic()
    while time.monotonic() - t0 < 1.3:
        with pytest.raises(IncorrectChallengeResponseError):
            client.check_in(NONE, endpoint, endpoint.get_challenge(), 12345)
        time.sleep(0.1)
    assert client.get_status().stop_level in (SETTLE, CUT)


def test_starved_endpoint_settles_then_cuts(spot, robot):
    """Endpoint timeout 1 s, cut_power_timeout 3 s: no check-in -> the robot sits and cuts power
    (SETTLE_THEN_CUT), and after 3 s the level is CUT."""
    client = robot.ensure_client(EstopClient.default_service_name)
    endpoint = EstopEndpoint(client, "starved", 1.0, estop_cut_power_timeout=3.0)
    endpoint.force_simple_setup()
    keepalive = EstopKeepAlive(endpoint)
    state_client = robot.ensure_client(RobotStateClient.default_service_name)
    with frozen_heap(), CpuMonitor() as cpu, LeaseKeepAlive(robot.ensure_client(LeaseClient.default_service_name),
                                                            must_acquire=True, return_at_exit=True):
        robot.power_on(timeout_sec=5)
        blocking_stand(robot.ensure_client(RobotCommandClient.default_service_name), timeout_sec=10)
        keepalive.shutdown()                    # the keep-alive stops: no more check-ins
        assert wait_until(lambda: client.get_status().stop_level == SETTLE, 15.0)
        settle_seen_ns = time.time_ns()
        assert wait_until(lambda: state_client.get_robot_state().power_state.motor_power_state == PS.STATE_OFF, 15.0)
        assert spot.robot.latest().sitting                                  # sat before the cut ...
        assert wait_until(lambda: client.get_status().stop_level == CUT, 15.0)
        cut_seen_ns = time.time_ns()
        cpu.stop()
        # the robot's times count from the endpoint's last valid check-in (robot side, whatever
        # the load): SETTLE after timeout 1 s, CUT after cut_power_timeout 3 s, not before
        last_ns = _last_valid_ns(spot, "starved")
        assert (settle_seen_ns - last_ns) / 1e9 > 1.0 and (cut_seen_ns - last_ns) / 1e9 > 3.0
        # ... and seen (polling over RPC) within 0.6 / 1.0 s of them where the CPU was free
        for seen_ns, limit_s in ((settle_seen_ns, 1.6), (cut_seen_ns, 4.0)):
            if cpu.unloaded(last_ns, seen_ns):
                assert (seen_ns - last_ns) / 1e9 < limit_s, cpu.describe(last_ns, seen_ns)
            else:
                print(f"{(seen_ns - last_ns) / 1e9:.2f} s not checked: {cpu.describe(last_ns, seen_ns)}")
        t_settle_ns = last_ns + int(1e9)
        assert any(s.powered and not s.standing for s in spot.robot.history() if s.local_ns >= t_settle_ns)
        with pytest.raises(bd_power.EstoppedError):
            robot.power_on(timeout_sec=5)


def test_lapsed_endpoint_then_empty_config_gives_keepalive_motors_off(spot, robot):
    client = robot.ensure_client(EstopClient.default_service_name)
    endpoint = EstopEndpoint(client, "lost-tablet", 0.5, estop_cut_power_timeout=0.6)
    endpoint.force_simple_setup()
    endpoint.allow()
    time.sleep(0.8)                                   # the endpoint lapses: its keep-alive policy expires
    assert client.get_status().stop_level == CUT
    client.set_config(estop_pb2.EstopConfig(), client.get_config().unique_id)   # no E-Stop any more
    assert client.get_status().stop_level == NONE
    with LeaseKeepAlive(robot.ensure_client(LeaseClient.default_service_name), must_acquire=True, return_at_exit=True):
        with pytest.raises(bd_power.KeepaliveMotorsOffError):
            robot.power_on(timeout_sec=5)


def test_behavior_faults_block_commands_until_cleared(robot, spot):
    spot.robot.estop.set_config(estop_pb2.EstopConfig(), spot.robot.estop.config.unique_id)  # no E-Stop
    cmd = robot.ensure_client(RobotCommandClient.default_service_name)
    state_client = robot.ensure_client(RobotStateClient.default_service_name)
    with LeaseKeepAlive(robot.ensure_client(LeaseClient.default_service_name), must_acquire=True, return_at_exit=True):
        hw = spot.robot.inject_behavior_fault(BF.CAUSE_HARDWARE, clearable=False)
        with pytest.raises(bd_power.FaultedError):
            robot.power_on(timeout_sec=5)
        with pytest.raises(NotClearedError):
            cmd.clear_behavior_fault(hw)
        spot.robot.clear_behavior_fault(hw, force=True)   # repaired on the robot
        fall = spot.robot.inject_behavior_fault(BF.CAUSE_FALL, clearable=True)
        robot.power_on(timeout_sec=5)
        with pytest.raises(BehaviorFaultError):
            blocking_stand(cmd, timeout_sec=2)
        (fault,) = state_client.get_robot_state().behavior_fault_state.faults
        assert (fault.behavior_fault_id, fault.cause, fault.status) == (fall, BF.CAUSE_FALL, BF.STATUS_CLEARABLE)
        assert cmd.clear_behavior_fault(fall) is True
        assert wait_until(lambda: not state_client.get_robot_state().behavior_fault_state.faults, 1.0)
        blocking_stand(cmd, timeout_sec=10)


def test_no_estop_sim_powers_on_without_an_endpoint():
    with SimulatedSpot(arm=False, estop_required=False) as spot:
        with sdk_robot(spot, "sim-estop-test") as robot:
            assert robot.ensure_client(EstopClient.default_service_name).get_status().stop_level == NONE
            assert spot.info["estop_required"] is False
            with LeaseKeepAlive(robot.ensure_client(LeaseClient.default_service_name), must_acquire=True,
                                return_at_exit=True):
                robot.power_on(timeout_sec=5)
                assert robot.is_powered_on()


def test_sim_cli_has_the_estop_switch():
    import argparse

    from spot_bow_ros.sim.cli import add_arguments
    parser = add_arguments(argparse.ArgumentParser())
    assert parser.parse_args([]).estop is True
    assert parser.parse_args(["--no-estop"]).estop is False


def test_slow_power_takes_as_long_as_asked_and_level_changes_are_logged():
    """`SimulatedSpot(power_on_s, power_off_s)` (`spot-bow-ros sim --slow-power`): the motors stay
    POWERING_ON / POWERING_OFF that long; every level change of an endpoint is in `level_log`."""
    import argparse

    from spot_bow_ros.sim.cli import add_arguments
    assert add_arguments(argparse.ArgumentParser()).parse_args(["--slow-power", "6"]).slow_power == 6.0
    with SimulatedSpot(arm=False, power_on_s=1.5, power_off_s=1.0) as spot:
        with sdk_robot(spot, "sim-estop-test") as robot:
            ep = EstopEndpoint(robot.ensure_client(EstopClient.default_service_name), "tablet", 5.0)
            ep.force_simple_setup()
            with EstopKeepAlive(ep) as ka, LeaseKeepAlive(robot.ensure_client(LeaseClient.default_service_name),
                                                          must_acquire=True, return_at_exit=True):
                t0 = time.monotonic()
                robot.power_on(timeout_sec=10)
                assert time.monotonic() - t0 >= 1.4 and spot.robot.power.motor_state() == PS.STATE_ON
                t_stop = time.time_ns()
                ka.stop()
                assert [e[1:] for e in spot.robot.estop.level_log] == [("tablet", NONE), ("tablet", CUT)]
                assert spot.robot.estop.level_log[-1][0] >= t_stop
                assert spot.robot.power.motor_state() == PS.STATE_OFF      # CUT: at once, however slow
                ka.allow()
            ep.deregister()


def _estop_states(state_client) -> dict[str, tuple[int, int, str]]:
    """name -> (type, state, state_description) of the robot state's E-Stops."""
    return {e.name: (e.type, e.state, e.state_description) for e in state_client.get_robot_state().estop_states}


def test_hardware_estop_cuts_power_at_once_and_refuses_power_on_until_released(spot, robot):
    """The button on the robot: motors off at once, STATE_ESTOPPED (TYPE_HARDWARE, with a
    description) in the robot state, EstoppedError on power-on; the E-Stop service's level stays
    NONE (a real robot reports hardware E-Stops only in RobotState.estop_states)."""
    ES = robot_state_pb2.EStopState
    client = robot.ensure_client(EstopClient.default_service_name)
    state_client = robot.ensure_client(RobotStateClient.default_service_name)
    endpoint = EstopEndpoint(client, "test-estop", 9.0)
    endpoint.force_simple_setup()
    with EstopKeepAlive(endpoint), LeaseKeepAlive(robot.ensure_client(LeaseClient.default_service_name),
                                                  must_acquire=True, return_at_exit=True):
        robot.power_on(timeout_sec=5)
        blocking_stand(robot.ensure_client(RobotCommandClient.default_service_name), timeout_sec=10)
        assert spot.robot.latest().standing
        spot.press_hardware_estop()
        state = state_client.get_robot_state()
        assert state.power_state.motor_power_state == PS.STATE_OFF          # at once, no settling
        states = {e.name: (e.type, e.state, e.state_description) for e in state.estop_states}
        assert states["hardware_estop"] == (ES.TYPE_HARDWARE, ES.STATE_ESTOPPED, "E-Stop button pressed")
        assert states["payload_estop"] == (ES.TYPE_HARDWARE, ES.STATE_NOT_ESTOPPED, "")
        assert states["software_estop"][1] == ES.STATE_NOT_ESTOPPED        # our endpoint still allows
        assert client.get_status().stop_level == NONE                     # not in the E-Stop service
        assert wait_until(lambda: not spot.robot.latest().standing, 5)    # no motor power: it drops
        with pytest.raises(bd_power.EstoppedError, match="Cannot power on while estopped"):
            robot.power_on(timeout_sec=5)
        assert state_client.get_robot_state().power_state.motor_power_state == PS.STATE_OFF
        spot.release_hardware_estop()
        assert _estop_states(state_client)["hardware_estop"] == (ES.TYPE_HARDWARE, ES.STATE_NOT_ESTOPPED, "")
        assert state_client.get_robot_state().power_state.motor_power_state == PS.STATE_OFF  # stays off
        robot.power_on(timeout_sec=5)
        assert state_client.get_robot_state().power_state.motor_power_state == PS.STATE_ON
        robot.power_off(cut_immediately=True, timeout_sec=5)
    endpoint.deregister()


def test_payload_estop_pressed_with_motors_off_refuses_power_on(spot, robot):
    ES = robot_state_pb2.EStopState
    client = robot.ensure_client(EstopClient.default_service_name)
    state_client = robot.ensure_client(RobotStateClient.default_service_name)
    endpoint = EstopEndpoint(client, "test-estop", 9.0)
    endpoint.force_simple_setup()
    spot.press_hardware_estop("payload_estop", "payload port open")
    assert _estop_states(state_client)["payload_estop"] == (ES.TYPE_HARDWARE, ES.STATE_ESTOPPED, "payload port open")
    with EstopKeepAlive(endpoint), LeaseKeepAlive(robot.ensure_client(LeaseClient.default_service_name),
                                                  must_acquire=True, return_at_exit=True):
        assert client.get_status().stop_level == NONE
        with pytest.raises(bd_power.EstoppedError):
            robot.power_on(timeout_sec=5)
        assert [c.status for c in spot.robot.commands("PowerCommand")][-1] == "STATUS_ESTOPPED"
        spot.release_hardware_estop("payload_estop")
        robot.power_on(timeout_sec=5)
        assert state_client.get_robot_state().power_state.motor_power_state == PS.STATE_ON
        robot.power_off(cut_immediately=True, timeout_sec=5)
    endpoint.deregister()
    with pytest.raises(ValueError, match="no hardware E-Stop 'lid'"):
        spot.press_hardware_estop("lid")
