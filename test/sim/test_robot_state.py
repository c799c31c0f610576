"""What the simulated Spot's robot state says, read through the real bosdyn clients
(docs/spot_facts.md, "Joint names and order" and "Robot state"): joint lists with and without
arm (polled 20/12, streamed 19/12 in JointIndex order at 333 Hz), the unlicensed stream, battery drain, WiFi, feet, motor temperatures, system
faults (injected, cleared, historical) and behavior faults that block commands until cleared.
"""

from __future__ import annotations

import time

import grpc
import pytest
import sim_client
from bosdyn.api import robot_state_pb2 as RS
from bosdyn.api.spot import spot_constants_pb2
from bosdyn.client.lease import LeaseClient, LeaseKeepAlive
from bosdyn.client.robot_command import (
    BehaviorFaultError,
    NotClearedError,
    NotPoweredOnError,
    RobotCommandBuilder,
    RobotCommandClient,
)
from bosdyn.client.robot_state import RobotStateClient, RobotStateStreamingClient
from cpu_load import CpuMonitor

from spot_bow_ros.sim import SimulatedSpot
from spot_bow_ros.sim.physics import ARM_JOINT_NAMES, LEG_JOINT_NAMES

POLLED_ARM = ["arm0.sh0", "arm0.sh1", "arm0.hr0", "arm0.el0", "arm0.el1", "arm0.wr0", "arm0.wr1", "arm0.f1x"]
LEGS = ["fl.hx", "fl.hy", "fl.kn", "fr.hx", "fr.hy", "fr.kn", "hl.hx", "hl.hy", "hl.kn", "hr.hx", "hr.hy", "hr.kn"]


def sdk_robot(spot: SimulatedSpot, name: str = "sim-state-test"):
    return sim_client.sdk_robot(spot, name, streaming=True)


@pytest.fixture(scope="module")
def arm_spot():
    with SimulatedSpot(arm=True) as spot, sdk_robot(spot) as robot:
        yield spot, robot


@pytest.fixture(scope="module")
def legs_spot():
    with SimulatedSpot(arm=False, streaming_licence=False) as spot, sdk_robot(spot) as robot:
        yield spot, robot


def read_stream(robot, count: int):
    client = robot.ensure_client(RobotStateStreamingClient.default_service_name)
    stream = client.get_robot_state_stream()
    msgs = []
    t0 = time.monotonic()
    for msg in stream:
        msgs.append(msg)
        if len(msgs) >= count:
            break
    elapsed = time.monotonic() - t0
    stream.cancel()
    return msgs, elapsed


def test_polled_state_of_an_arm_robot_has_20_joints_with_hr0_empty(arm_spot):
    spot, robot = arm_spot
    state = robot.ensure_client(RobotStateClient.default_service_name).get_robot_state()
    joints = state.kinematic_state.joint_states
    assert [j.name for j in joints] == LEGS + POLLED_ARM
    hr0 = joints[14]
    assert hr0.name == "arm0.hr0"
    assert not hr0.HasField("position") and not hr0.HasField("velocity") and not hr0.HasField("load")
    assert all(j.HasField("position") for j in joints if j.name != "arm0.hr0")
    truth = spot.robot.truth_at(state.kinematic_state.acquisition_timestamp.ToNanoseconds(), tolerance_ns=0)
    for j in joints:
        if j.name != "arm0.hr0":
            assert (j.position.value, j.velocity.value, j.load.value) == truth.joint(j.name)
    assert state.HasField("manipulator_state")   # how bosdyn's has_arm() detects the arm
    assert state.manipulator_state.stow_state == RS.ManipulatorState.STOWSTATE_STOWED


def test_stream_of_an_arm_robot_sends_19_values_in_joint_index_order_at_333_hz(arm_spot):
    spot, robot = arm_spot
    with CpuMonitor() as cpu:
        t0 = time.time_ns()
        msgs, elapsed = read_stream(robot, 400)
        t1 = time.time_ns()
    packets = sum(len(m.inertial_state.packets) for m in msgs)
    assert packets / elapsed < 333 * 1.3        # never faster than the robot's rate
    # at the robot's rate where the machine had spare CPU (see cpu_load)
    for count, what in ((len(msgs), "stream messages"), (packets, "IMU packets")):
        shortfall = cpu.check_count(count, t0, t1, 333.0, what, fraction=0.7)
        assert shortfall is None, shortfall
    stamps = [m.joint_states.acquisition_timestamp.ToNanoseconds() for m in msgs]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)   # every message a new state
    for msg in msgs[-50:]:
        js = msg.joint_states
        assert len(js.position) == len(js.velocity) == len(js.load) == 19
        assert len(msg.inertial_state.packets) >= 1 and len(msg.contact_states) == 4
    last = msgs[-1].joint_states
    truth = spot.robot.truth_at(last.acquisition_timestamp.ToNanoseconds(), tolerance_ns=0)
    ji = spot_constants_pb2.JointIndex
    for name, index in (("fl.hx", ji.JOINT_INDEX_FL_HX), ("hr.kn", ji.JOINT_INDEX_HR_KN),
                        ("arm0.sh1", ji.JOINT_INDEX_A0_SH1), ("arm0.el0", ji.JOINT_INDEX_A0_EL0),
                        ("arm0.f1x", ji.JOINT_INDEX_A0_F1X)):
        assert last.position[index] == pytest.approx(truth.joint(name)[0], abs=1e-6), name
    assert ARM_JOINT_NAMES == ("arm0.sh0", "arm0.sh1", "arm0.el0", "arm0.el1", "arm0.wr0", "arm0.wr1", "arm0.f1x")


def test_robot_without_arm_has_12_joints_and_no_manipulator_state(legs_spot):
    spot, robot = legs_spot
    state = robot.ensure_client(RobotStateClient.default_service_name).get_robot_state()
    assert [j.name for j in state.kinematic_state.joint_states] == LEGS == list(LEG_JOINT_NAMES)
    assert not state.HasField("manipulator_state")


def test_unlicensed_stream_fails_with_permission_denied_and_polling_still_works(legs_spot):
    spot, robot = legs_spot
    client = robot.ensure_client(RobotStateStreamingClient.default_service_name)
    stream = client.get_robot_state_stream()
    with pytest.raises(grpc.RpcError) as err:
        next(iter(stream))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "licence" in err.value.details()
    assert robot.ensure_client(RobotStateClient.default_service_name).get_robot_state().kinematic_state.joint_states


def test_licensed_stream_of_a_robot_without_arm_sends_12_values():
    with SimulatedSpot(arm=False) as spot, sdk_robot(spot) as robot:
        msgs, _ = read_stream(robot, 20)
        assert {len(m.joint_states.position) for m in msgs} == {12}


def test_battery_drains_with_power_draw(arm_spot):
    spot, robot = arm_spot
    client = robot.ensure_client(RobotStateClient.default_service_name)
    first = client.get_robot_state()
    time.sleep(0.6)
    second = client.get_robot_state()
    b0, b1 = first.battery_states[0], second.battery_states[0]
    assert b1.charge_percentage.value < b0.charge_percentage.value
    assert b0.current.value < 0 and b0.status == RS.BatteryState.STATUS_DISCHARGING
    assert 46.0 < b1.voltage.value < 58.8
    assert len(b1.temperatures) == 2 and all(20 < t < 60 for t in b1.temperatures)
    runtime = b1.estimated_runtime.ToSeconds()
    # 605 Wh at the drawn power: V * |I| * runtime ~ remaining energy
    remaining_wh = 605.0 * b1.charge_percentage.value / 100.0
    assert b1.voltage.value * -b1.current.value * runtime / 3600.0 == pytest.approx(remaining_wh, rel=0.02)
    assert second.power_state.locomotion_charge_percentage.value == b1.charge_percentage.value
    # a faster drain (demo setting): a walking robot draws more than a sitting one
    sim_robot = spot.robot
    before = sim_robot.battery.charge
    sim_robot.battery.drain_scale = 1000.0
    time.sleep(0.3)
    sim_robot.battery.drain_scale = 1.0
    assert before - sim_robot.battery.charge > 0.002


def test_wifi_feet_terrain_and_motor_temperatures(arm_spot):
    spot, robot = arm_spot
    state = robot.ensure_client(RobotStateClient.default_service_name).get_robot_state()
    wifi = state.comms_states[0].wifi_state
    assert wifi.current_mode == RS.WiFiState.MODE_ACCESS_POINT and wifi.essid
    assert len(state.foot_state) == 4
    for foot in state.foot_state:
        assert foot.contact == RS.FootState.CONTACT_MADE      # sitting: all feet down
        assert foot.terrain.ground_mu_est > 0 and foot.terrain.frame_name == "odom"
        assert foot.terrain.ground_contact_normal_rt_frame.z == 1.0
        assert foot.foot_position_rt_body.z < -0.1
    fl, hr = state.foot_state[0].foot_position_rt_body, state.foot_state[3].foot_position_rt_body
    assert fl.x > 0 > hr.x and fl.y > 0 > hr.y
    assert state.HasField("terrain_state") and not state.terrain_state.is_unsafe_to_sit
    temps = {t.name: t.temperature for t in state.system_state.motor_temperatures}
    assert set(temps) == set(LEG_JOINT_NAMES + ARM_JOINT_NAMES)
    assert all(20.0 < t < 90.0 for t in temps.values())


def test_system_faults_injected_cleared_and_historical(arm_spot):
    spot, robot = arm_spot
    client = robot.ensure_client(RobotStateClient.default_service_name)
    uid = spot.robot.inject_system_fault("battery_low_cell", code=42, severity="critical",
                                         attributes=("battery", "robot"), error_message="cell 3 low")
    state = client.get_robot_state()
    faults = state.system_fault_state.faults
    assert [f.name for f in faults] == ["battery_low_cell"]
    f = faults[0]
    assert f.uuid == uid and f.code == 42 and f.severity == RS.SystemFault.SEVERITY_CRITICAL
    assert list(f.attributes) == ["battery", "robot"] and f.error_message == "cell 3 low"
    assert f.onset_timestamp.ToNanoseconds() <= state.kinematic_state.acquisition_timestamp.ToNanoseconds() + 10**8
    assert dict(state.system_fault_state.aggregated) == {"battery": RS.SystemFault.SEVERITY_CRITICAL,
                                                          "robot": RS.SystemFault.SEVERITY_CRITICAL}
    time.sleep(0.2)
    assert spot.robot.clear_system_fault("battery_low_cell") == 1
    state = client.get_robot_state()
    assert not state.system_fault_state.faults and not state.system_fault_state.aggregated
    hist = state.system_fault_state.historical_faults
    assert [h.uuid for h in hist][-1] == uid
    assert hist[-1].duration.ToNanoseconds() >= 0.15e9


def test_behavior_fault_blocks_commands_until_cleared(arm_spot):
    """Needs no motor power (so it does not depend on E-Stop): the fault check comes first."""
    spot, robot = arm_spot
    lease_client = robot.ensure_client(LeaseClient.default_service_name)
    cmd_client = robot.ensure_client(RobotCommandClient.default_service_name)
    state_client = robot.ensure_client(RobotStateClient.default_service_name)
    with LeaseKeepAlive(lease_client, must_acquire=True, return_at_exit=True):
        fault_id = spot.robot.inject_behavior_fault("fall", clearable=True)
        state = state_client.get_robot_state()
        faults = state.behavior_fault_state.faults
        assert [(f.behavior_fault_id, f.cause, f.status) for f in faults] == [
            (fault_id, RS.BehaviorFault.CAUSE_FALL, RS.BehaviorFault.STATUS_CLEARABLE)]
        assert faults[0].onset_timestamp.ToNanoseconds() > 0
        with pytest.raises(BehaviorFaultError):
            cmd_client.robot_command(RobotCommandBuilder.synchro_stand_command())
        assert spot.robot.commands("RobotCommand")[-1].status == "STATUS_BEHAVIOR_FAULT"
        assert cmd_client.clear_behavior_fault(fault_id) is True
        assert not state_client.get_robot_state().behavior_fault_state.faults
        with pytest.raises(NotPoweredOnError):    # no longer blocked by the fault
            cmd_client.robot_command(RobotCommandBuilder.synchro_stand_command())
        # an unclearable fault stays; the client raises NotClearedError
        stuck = spot.robot.inject_behavior_fault("hardware", clearable=False)
        with pytest.raises(NotClearedError):
            cmd_client.clear_behavior_fault(stuck)
        assert [f.behavior_fault_id for f in state_client.get_robot_state().behavior_fault_state.faults] == [stuck]
        assert spot.robot.clear_behavior_fault(stuck, force=True)
