"""convert/robot_status.py: Spot RobotState -> BatteryState fields and diagnostics entries."""

import math

import pytest
from bosdyn.api import robot_state_pb2 as rs
from bosdyn.api import service_fault_pb2 as sf

from spot_bow_ros.convert import robot_status as st


def battery(**kw):
    b = rs.BatteryState(identifier="battery", status=kw.pop("status", rs.BatteryState.STATUS_DISCHARGING))
    b.charge_percentage.value = kw.pop("pct", 87.5)
    b.voltage.value, b.current.value = 55.2, -8.0
    b.temperatures.extend(kw.pop("temps", [31.0, 31.5]))
    return b


def test_battery_fields_units_and_status():
    f = st.battery_state_fields(battery())
    assert f["percentage"] == pytest.approx(0.875) and f["voltage"] == pytest.approx(55.2)
    assert f["current"] == pytest.approx(-8.0) and f["temperature"] == pytest.approx(31.5)
    assert f["cell_temperature"] == [31.0, 31.5] and f["present"] is True
    assert f["power_supply_status"] == st.POWER_SUPPLY_STATUS_DISCHARGING
    assert f["power_supply_health"] == st.POWER_SUPPLY_HEALTH_GOOD
    assert f["power_supply_technology"] == st.POWER_SUPPLY_TECHNOLOGY_LION == 2
    assert math.isnan(f["charge"]) and f["location"] == "battery"
    hot = st.battery_state_fields(battery(status=rs.BatteryState.STATUS_CHARGING, temps=[65.0]))
    assert hot["power_supply_status"] == st.POWER_SUPPLY_STATUS_CHARGING
    assert hot["power_supply_health"] == st.POWER_SUPPLY_HEALTH_OVERHEAT
    missing = st.battery_state_fields(rs.BatteryState(status=rs.BatteryState.STATUS_MISSING))
    assert missing["present"] is False and math.isnan(missing["percentage"]) and math.isnan(missing["temperature"])
    assert missing["power_supply_health"] == st.POWER_SUPPLY_HEALTH_UNKNOWN


def test_battery_stamp_is_the_robots_reading_time_on_the_local_clock():
    """A robot clock 100 s ahead (skew +100 s): the reading taken at robot time 1100.25 s is
    stamped 1000.25 s local, not when it arrived; without a robot timestamp, the arrival time."""
    b = battery()
    b.timestamp.seconds, b.timestamp.nanos = 1100, 250_000_000
    assert st.battery_stamp(b, skew_ns=100 * 10**9, received_local_ns=1000_900_000_000) == (1000, 250_000_000)
    assert st.battery_stamp(b, skew_ns=-2 * 10**9, received_local_ns=0) == (1102, 250_000_000)
    assert st.battery_stamp(battery(), skew_ns=100 * 10**9, received_local_ns=1000_900_000_001) == (1000, 900_000_001)


def test_status_entries_estop_faults_behavior_wifi_feet():
    s = rs.RobotState()
    s.power_state.motor_power_state = rs.PowerState.STATE_ON
    s.battery_states.append(battery(pct=42.0))
    for name, state in (("hardware_estop", rs.EStopState.STATE_NOT_ESTOPPED),
                        ("software_estop", rs.EStopState.STATE_ESTOPPED)):
        s.estop_states.add(name=name, type=rs.EStopState.TYPE_SOFTWARE, state=state)
    s.system_fault_state.faults.add(name="motor_overtemp", severity=rs.SystemFault.SEVERITY_CRITICAL,
                                    error_message="hip motor hot")
    s.service_fault_state.faults.append(sf.ServiceFault(fault_id=sf.ServiceFaultId(fault_name="lidar"),
                                                         error_message="no data"))
    s.behavior_fault_state.faults.add(behavior_fault_id=7, cause=rs.BehaviorFault.CAUSE_FALL,
                                      status=rs.BehaviorFault.STATUS_CLEARABLE)
    s.comms_states.add().wifi_state.CopyFrom(rs.WiFiState(current_mode=rs.WiFiState.MODE_ACCESS_POINT, essid="spot-BD"))
    for contact in (rs.FootState.CONTACT_MADE,) * 3 + (rs.FootState.CONTACT_LOST,):
        s.foot_state.add(contact=contact)
    entries = {e.name: e for e in st.status_entries(s)}
    assert entries["power"].message == "motors on" and entries["power"].level == st.OK
    assert entries["estop"].level == st.ERROR and entries["estop"].message == "E-STOPPED by software_estop"
    assert entries["estop"].values["hardware_estop"] == "NOT_ESTOPPED (software)"
    assert entries["faults"].level == st.ERROR and entries["faults"].message == "2 faults"
    assert entries["faults"].values["motor_overtemp"] == "CRITICAL: hip motor hot"
    assert entries["behavior_faults"].values["fault 7"] == "FALL, clearable (clear_behavior_fault)"
    assert entries["behavior_faults"].level == st.WARN
    assert entries["wifi"].values == {"mode": "ACCESS_POINT", "essid": "spot-BD"}
    assert entries["feet"].message == "3/4 feet in contact" and entries["feet"].values["hind_right"] == "lost"
    assert st.compact_status(s) == "battery 42%, E-STOP, faults 3"
    assert st.lease_entry("tablet", False).message == "held by tablet"
    assert st.lease_entry(None, True).level == st.OK
