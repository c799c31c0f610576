"""Spot's RobotState -> standard ROS status: `sensor_msgs/BatteryState` fields and
`diagnostic_msgs/DiagnosticStatus` entries (power, E-Stop, lease, faults, WiFi, feet).

Pure functions over bosdyn protos (`bosdyn.api.robot_state_pb2`); the node builds the messages.
Units: battery voltage V, current A (negative while discharging, as
sensor_msgs/BatteryState defines it), temperature degC, percentage 0..1 (Spot: 0..100).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from bosdyn.api import robot_state_pb2 as rs

from .time import ns_to_ros_stamp, robot_timestamp_to_ros_stamp

#: diagnostic_msgs/DiagnosticStatus levels
OK, WARN, ERROR, STALE = 0, 1, 2, 3

#: sensor_msgs/BatteryState constants
POWER_SUPPLY_STATUS_UNKNOWN, POWER_SUPPLY_STATUS_CHARGING, POWER_SUPPLY_STATUS_DISCHARGING = 0, 1, 2
POWER_SUPPLY_HEALTH_UNKNOWN, POWER_SUPPLY_HEALTH_GOOD, POWER_SUPPLY_HEALTH_OVERHEAT = 0, 1, 2
POWER_SUPPLY_TECHNOLOGY_LION = 2
#: Above this pack temperature (degC) the health reads OVERHEAT (Spot's packs stop charging ~45-50).
OVERHEAT_C = 60.0

_BATTERY_STATUS = {rs.BatteryState.STATUS_CHARGING: POWER_SUPPLY_STATUS_CHARGING,
                   rs.BatteryState.STATUS_DISCHARGING: POWER_SUPPLY_STATUS_DISCHARGING}


def battery_state_fields(battery: rs.BatteryState) -> dict[str, Any]:
    """`sensor_msgs/BatteryState` fields (without header) of one Spot battery.

    percentage 0..1 (NaN if unknown), voltage V, current A, temperature = the hottest cell
    sensor degC (NaN if none), cell_temperature = every sensor; charge/capacity unknown (NaN).
    `present` is False for STATUS_MISSING; health GOOD unless unknown, missing or overheated.
    """
    def value(wrapper_field: str) -> float:
        return float(getattr(battery, wrapper_field).value) if battery.HasField(wrapper_field) else math.nan

    temps = [float(t) for t in battery.temperatures]
    missing = battery.status == rs.BatteryState.STATUS_MISSING
    known = battery.status in _BATTERY_STATUS
    if not known or missing:
        health = POWER_SUPPLY_HEALTH_UNKNOWN
    elif temps and max(temps) > OVERHEAT_C:
        health = POWER_SUPPLY_HEALTH_OVERHEAT
    else:
        health = POWER_SUPPLY_HEALTH_GOOD
    pct = value("charge_percentage")
    return {
        "voltage": value("voltage"), "current": value("current"),
        "temperature": max(temps) if temps else math.nan,
        "charge": math.nan, "capacity": math.nan, "design_capacity": math.nan,
        "percentage": pct / 100.0 if not math.isnan(pct) else math.nan,
        "power_supply_status": _BATTERY_STATUS.get(battery.status, POWER_SUPPLY_STATUS_UNKNOWN),
        "power_supply_health": health,
        "power_supply_technology": POWER_SUPPLY_TECHNOLOGY_LION,
        "present": not missing,
        "cell_temperature": temps,
        "location": battery.identifier, "serial_number": battery.identifier,
    }


def battery_stamp(battery: rs.BatteryState, skew_ns: int, received_local_ns: int) -> tuple[int, int]:
    """ROS stamp (sec, nanosec, local clock) of a battery reading: the robot's `timestamp` of the
    reading converted through time sync (`skew_ns` = robot - local clock), as every other stamp
    of the package; `received_local_ns` (when the state arrived) if the robot sent no timestamp."""
    if battery.HasField("timestamp") and (battery.timestamp.seconds or battery.timestamp.nanos):
        return robot_timestamp_to_ros_stamp(battery.timestamp, skew_ns)
    return ns_to_ros_stamp(received_local_ns)


@dataclass
class StatusEntry:
    """One DiagnosticStatus: `name` (after the node prefix), level, message, key/values."""

    name: str
    level: int
    message: str
    values: dict[str, str] = field(default_factory=dict)


def _enum(enum_type: Any, number: int) -> str:
    try:
        return str(enum_type.Name(number))
    except ValueError:
        return str(number)


def power_entry(state: rs.RobotState) -> StatusEntry:
    ps = state.power_state
    motor = _enum(rs.PowerState.MotorPowerState, ps.motor_power_state).replace("MOTOR_POWER_", "")
    level = ERROR if ps.motor_power_state == rs.PowerState.STATE_ERROR else OK
    values = {"motor_power": motor,
              "shore_power": _enum(rs.PowerState.ShorePowerState, ps.shore_power_state),
              "robot_power": _enum(rs.PowerState.RobotPowerState, ps.robot_power_state),
              "payload_ports": _enum(rs.PowerState.PayloadPortsPowerState, ps.payload_ports_power_state),
              "wifi_radio": _enum(rs.PowerState.WifiRadioPowerState, ps.wifi_radio_power_state)}
    if ps.HasField("locomotion_charge_percentage"):
        values["locomotion_charge_percent"] = f"{ps.locomotion_charge_percentage.value:.1f}"
    if ps.motor_power_error_message:
        values["motor_power_error"] = ps.motor_power_error_message
    return StatusEntry("power", level, f"motors {motor.replace('STATE_', '').lower()}", values)


def estop_entry(state: rs.RobotState) -> StatusEntry:
    """Each E-Stop (software, hardware button, payload port) and its state; ERROR while any of them
    stops the robot. The summary names each stopping E-Stop, a hardware one with its description."""
    values, stopped = {}, []
    for e in state.estop_states:
        text = _enum(rs.EStopState.State, e.state).replace("STATE_", "")
        values[e.name or "estop"] = f"{text} ({_enum(rs.EStopState.Type, e.type).replace('TYPE_', '').lower()})" + \
            (f": {e.state_description}" if e.state_description else "")
        if e.state == rs.EStopState.STATE_ESTOPPED:
            hardware = e.type != rs.EStopState.TYPE_SOFTWARE and e.state_description
            stopped.append((e.name or "estop") + (f" (hardware: {e.state_description})" if hardware else ""))
    if not state.estop_states:
        return StatusEntry("estop", WARN, "no E-Stop state reported", values)
    if stopped:
        return StatusEntry("estop", ERROR, f"E-STOPPED by {', '.join(stopped)}", values)
    return StatusEntry("estop", OK, "not stopped", values)


def faults_entry(state: rs.RobotState) -> StatusEntry:
    """System and service faults with severity: WARN for info/warn ones, ERROR for critical."""
    faults = list(state.system_fault_state.faults)
    values, level = {}, OK
    for f in faults:
        sev = _enum(rs.SystemFault.Severity, f.severity).replace("SEVERITY_", "")
        values[f.name or f"code {f.code}"] = f"{sev}: {f.error_message}"
        level = max(level, ERROR if f.severity == rs.SystemFault.SEVERITY_CRITICAL else WARN)
    for f in state.service_fault_state.faults:
        values[f"service {f.fault_id.fault_name}"] = f.error_message
        level = max(level, WARN)
    n = len(values)
    return StatusEntry("faults", level, "no faults" if not n else f"{n} fault{'s' if n > 1 else ''}", values)


def behavior_faults_entry(state: rs.RobotState) -> StatusEntry:
    values, level = {}, OK
    for f in state.behavior_fault_state.faults:
        clearable = f.status == rs.BehaviorFault.STATUS_CLEARABLE
        cause = _enum(rs.BehaviorFault.Cause, f.cause).replace("CAUSE_", "")
        values[f"fault {f.behavior_fault_id}"] = (
            f"{cause}, {'clearable (clear_behavior_fault)' if clearable else 'not clearable'}")
        level = max(level, WARN if clearable else ERROR)
    n = len(values)
    return StatusEntry("behavior_faults", level, "none" if not n else f"{n} behavior fault{'s' if n > 1 else ''}",
                       values)


def wifi_entry(state: rs.RobotState) -> StatusEntry:
    values = {}
    for c in state.comms_states:
        if c.HasField("wifi_state"):
            values["mode"] = _enum(rs.WiFiState.Mode, c.wifi_state.current_mode).replace("MODE_", "")
            values["essid"] = c.wifi_state.essid
    if not values:
        return StatusEntry("wifi", OK, "not reported", values)
    return StatusEntry("wifi", OK, f"{values['mode'].lower()} {values['essid']}".strip(), values)


FOOT_NAMES = ("front_left", "front_right", "hind_left", "hind_right")


def feet_entry(state: rs.RobotState) -> StatusEntry:
    """Contact of each foot (Spot's order fl, fr, hl, hr) and its terrain estimate."""
    values, contacts = {}, 0
    for name, foot in zip(FOOT_NAMES, state.foot_state):
        contact = _enum(rs.FootState.Contact, foot.contact).replace("CONTACT_", "").lower()
        contacts += foot.contact == rs.FootState.CONTACT_MADE
        text = contact
        if foot.HasField("terrain") and foot.terrain.ground_mu_est:
            text += f", ground mu {foot.terrain.ground_mu_est:.2f}"
        values[name] = text
    if state.HasField("terrain_state"):
        values["unsafe_to_sit"] = str(state.terrain_state.is_unsafe_to_sit).lower()
    return StatusEntry("feet", OK, f"{contacts}/{len(state.foot_state)} feet in contact", values)


def lease_entry(owner: str | None, held_by_us: bool) -> StatusEntry:
    if held_by_us:
        return StatusEntry("lease", OK, "held by this driver", {"owner": owner or "this driver"})
    if owner:
        return StatusEntry("lease", WARN, f"held by {owner}", {"owner": owner})
    return StatusEntry("lease", OK, "free", {"owner": ""})


def status_entries(state: rs.RobotState) -> list[StatusEntry]:
    """Every RobotState entry (lease comes from the lease service: `lease_entry`)."""
    return [power_entry(state), estop_entry(state), faults_entry(state), behavior_faults_entry(state),
            wifi_entry(state), feet_entry(state)]


def compact_status(state: rs.RobotState) -> str:
    """One short line for the live table: battery %, E-Stop, faults."""
    parts = []
    if state.battery_states:
        pct = battery_state_fields(state.battery_states[0])["percentage"]
        parts.append(f"battery {pct * 100:.0f}%" if not math.isnan(pct) else "battery ?")
    estop = estop_entry(state)
    parts.append("E-STOP" if estop.level == ERROR else "estop ok")
    n_faults = len(faults_entry(state).values) + len(state.behavior_fault_state.faults)
    parts.append(f"faults {n_faults}")
    return ", ".join(parts)
