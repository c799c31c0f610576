"""motor_command's status topics against the simulated Spot's truth: `battery`
(sensor_msgs/BatteryState) and the `diagnostics` entries (E-Stop cut by a real E-Stop endpoint,
an injected service fault), plus the compact line of the live table."""

import time

import pytest
from bosdyn.api import service_fault_pb2 as sf
from bosdyn.client.estop import EstopClient, EstopEndpoint, EstopKeepAlive
from waiting import wait_until

from spot_bow_ros.nodes.motor_command import MotorCommandBridge
from spot_bow_ros.ros.qos import DEFAULT
from spot_bow_ros.sim.state import build_robot_state
from spot_bow_ros.standalone.node import InProcessBus, StandaloneNode


@pytest.fixture
def rig(sim, tmp_path):
    bus = InProcessBus()
    node = StandaloneNode("motor_command", bus, parameter_overrides=dict(
        sim_info_file=sim.info_file, recordings_dir=str(tmp_path / "rec"), diagnostics_period=0.2,
        estop="none"))  # the test's own bosdyn endpoint plays the tablet's E-Stop
    bridge = MotorCommandBridge(node)
    tester = StandaloneNode("tester", bus)
    got = {"battery": [], "diagnostics": []}
    tester.create_subscription("sensor_msgs/msg/BatteryState", "battery", got["battery"].append, DEFAULT)
    tester.create_subscription("diagnostic_msgs/msg/DiagnosticArray", "diagnostics", got["diagnostics"].append,
                               DEFAULT)
    yield sim, bridge, got
    tester.destroy()
    node.destroy()


def latest_entries(got):
    arr = got["diagnostics"][-1]
    return {s.name.split(": ", 1)[1]: s for s in arr.status}


def test_battery_matches_the_simulated_spot(rig):
    sim, bridge, got = rig
    assert wait_until(lambda: len(got["battery"]) >= 2, timeout=5)
    msg = got["battery"][-1]
    truth = build_robot_state(sim.robot, sim.robot.latest()).battery_states[0]
    assert msg.percentage == pytest.approx(truth.charge_percentage.value / 100.0, abs=0.01)
    assert 0.0 <= msg.percentage <= 1.0
    assert msg.voltage == pytest.approx(truth.voltage.value, abs=0.1) and msg.current < 0  # the battery drains
    assert msg.temperature == pytest.approx(max(truth.temperatures), abs=0.5)
    assert msg.power_supply_technology == 2 and msg.present
    assert msg.power_supply_status == 2  # DISCHARGING
    assert msg.header.frame_id == truth.identifier
    assert abs(msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9 - time.time()) < 2.0


def test_diagnostics_show_lease_power_estop_cut_and_injected_fault(rig):
    sim, bridge, got = rig
    # a real E-Stop endpoint (bosdyn client, as the tablet's) holds the robot's E-Stop
    client = bridge.connection.ensure_client(EstopClient.default_service_name)
    endpoint = EstopEndpoint(client, "test_estop", estop_timeout=9.0)
    endpoint.force_simple_setup()
    keep = EstopKeepAlive(endpoint)
    try:
        keep.allow()
        assert wait_until(lambda: got["diagnostics"] and "estop" in latest_entries(got)
                          and latest_entries(got)["estop"].level == 0, timeout=5)
        e = latest_entries(got)
        assert e["lease"].message == "held by this driver" and e["lease"].level == 0
        assert e["power"].message == "motors off"
        assert e["estop"].message == "not stopped"
        assert e["feet"].message == "4/4 feet in contact"
        assert bridge.compact_status().startswith("battery ") and "estop ok, faults 0" in bridge.compact_status()
        # it cuts the robot: diagnostics say so, at ERROR
        keep.stop()
        assert wait_until(lambda: latest_entries(got)["estop"].level == 2, timeout=5)
        assert latest_entries(got)["estop"].message.startswith("E-STOPPED by")
        assert "E-STOP" in bridge.compact_status()
        keep.allow()
        assert wait_until(lambda: latest_entries(got)["estop"].level == 0, timeout=5)
    finally:
        keep.shutdown()
        endpoint.deregister()  # the shared simulator must not time this endpoint out into a cut
    # as on a real robot, a configured endpoint that deregistered leaves the robot cut
    assert sim.robot.estop.stop_level_details()[1] == "Not all endpoints are registered"

    fault = sf.ServiceFault(fault_id=sf.ServiceFaultId(fault_name="test_lidar", service_name="lidar"),
                            error_message="lidar timed out", severity=sf.ServiceFault.SEVERITY_WARN)
    sim.faults.trigger(fault)
    try:
        assert wait_until(lambda: latest_entries(got)["faults"].level == 1, timeout=5)
        assert latest_entries(got)["faults"].values[0].value == "lidar timed out"
        assert "faults 1" in bridge.compact_status()
    finally:
        sim.faults.clear(fault.fault_id)
