"""Battery, temperatures and faults of the simulated Spot (pure models, no bosdyn services).

- `BatteryModel`: 605 Wh, 58.8 V when full (about_spot.md). The power the robot draws depends on
  what it does (motors off, powered, standing, walking); `step(dt, draw_w)` integrates the charge
  and moves voltage, current (negative while discharging), cell temperatures and the estimated
  runtime with it. `drain_scale` speeds the drain up for demos (1 = real time).
- `MotorThermal`: per-joint motor temperatures (°C) that settle towards ambient + k·|load|.
- `SystemFaults`: `RobotState.system_fault_state`: active faults (name, code, uuid, severity,
  attributes, error message, onset, duration), faults cleared in the last 10 minutes as
  `historical_faults`, and `aggregated` (attribute -> highest severity of the active faults).
- `BehaviorFaults`: `RobotState.behavior_fault_state`. A fault (e.g. CAUSE_FALL, CLEARABLE)
  blocks robot commands with STATUS_BEHAVIOR_FAULT until ClearBehaviorFault clears it;
  UNCLEARABLE faults stay (ClearBehaviorFault answers STATUS_NOT_CLEARED).
Times are robot-clock ns. Not thread-safe: `SimRobot` serialises calls under its lock.
"""

from __future__ import annotations

import itertools
import uuid as uuid_mod
from dataclasses import dataclass, field

from bosdyn.api import robot_state_pb2 as RS

CAPACITY_WH = 605.0
V_FULL = 58.8
V_EMPTY = 46.0
AMBIENT_C = 28.0
HISTORY_NS = 600 * 1_000_000_000     # historical faults: cleared in the last 10 minutes

#: Power draw (W) by activity: computers and sensors only / motors on / standing / walking.
DRAW_W = {"off": 60.0, "powered": 180.0, "standing": 260.0, "walking": 450.0}


def draw_for(powered: bool, standing: bool, walking: bool) -> float:
    """Power draw (W) for what the robot does now."""
    if not powered:
        return DRAW_W["off"]
    if walking:
        return DRAW_W["walking"]
    return DRAW_W["standing"] if standing else DRAW_W["powered"]


class BatteryModel:
    """Charge (%), voltage (V), current (A, negative when discharging), temperatures (°C)."""

    def __init__(self, charge_percent: float = 87.5, drain_scale: float = 1.0):
        self.charge = float(charge_percent)
        self.drain_scale = float(drain_scale)
        self.draw_w = DRAW_W["off"]
        self.temperatures = [AMBIENT_C + 3.0, AMBIENT_C + 3.5]

    @property
    def voltage(self) -> float:
        return V_EMPTY + (V_FULL - V_EMPTY) * self.charge / 100.0 - 0.004 * self.draw_w

    @property
    def current(self) -> float:
        return -self.draw_w / self.voltage if self.charge > 0 else 0.0

    @property
    def runtime_s(self) -> float:
        """Estimated runtime (s) at the present draw."""
        return CAPACITY_WH * self.charge / 100.0 / self.draw_w * 3600.0

    @property
    def status(self) -> int:
        return RS.BatteryState.STATUS_DISCHARGING

    def step(self, dt_s: float, draw_w: float) -> None:
        self.draw_w = draw_w
        used_wh = draw_w * dt_s / 3600.0 * self.drain_scale
        self.charge = max(0.0, self.charge - 100.0 * used_wh / CAPACITY_WH)
        target = AMBIENT_C + draw_w / 40.0
        for i, t in enumerate(self.temperatures):
            self.temperatures[i] = t + (target + 0.5 * i - t) * min(1.0, dt_s / 300.0)


class MotorThermal:
    """Motor temperature (°C) per joint name, settling (time constant 60 s) to ambient + 0.6·|load|."""

    def __init__(self, names: tuple[str, ...]):
        self.temperatures = {n: AMBIENT_C + 2.0 for n in names}

    def step(self, dt_s: float, names: tuple[str, ...], loads: tuple[float, ...]) -> None:
        k = min(1.0, dt_s / 60.0)
        temps = self.temperatures
        for name, load in zip(names, loads):
            t = temps.get(name, AMBIENT_C)
            temps[name] = t + (AMBIENT_C + 2.0 + 0.6 * abs(load) - t) * k


def _set_ts(ts, ns: int) -> None:
    ts.seconds, ts.nanos = divmod(int(ns), 1_000_000_000)


@dataclass
class _SystemFault:
    proto: RS.SystemFault
    onset_ns: int
    cleared_ns: int | None = None


@dataclass
class SystemFaults:
    """Active and recently cleared system faults."""

    active: dict[str, _SystemFault] = field(default_factory=dict)        # by uuid
    history: list[_SystemFault] = field(default_factory=list)

    def inject(self, now_ns: int, name: str, code: int = 1, severity: int = RS.SystemFault.SEVERITY_WARN,
               attributes: tuple[str, ...] = ("robot",), error_message: str = "", dtc: str = "") -> str:
        """Raise a fault now; returns its uuid."""
        fault_uuid = str(uuid_mod.uuid4())
        proto = RS.SystemFault(name=name, code=int(code), uuid=fault_uuid, error_message=error_message,
                               severity=severity, dtc=dtc)
        proto.attributes.extend(attributes)
        _set_ts(proto.onset_timestamp, now_ns)
        self.active[fault_uuid] = _SystemFault(proto, now_ns)
        return fault_uuid

    def clear(self, now_ns: int, name_or_uuid: str) -> int:
        """Clear the active faults with this uuid or name; returns how many were cleared."""
        doomed = [u for u, f in self.active.items() if name_or_uuid in (u, f.proto.name)]
        for u in doomed:
            fault = self.active.pop(u)
            fault.cleared_ns = now_ns
            self.history.append(fault)
        return len(doomed)

    def fill(self, state: RS.SystemFaultState, now_ns: int) -> None:
        self.history = [f for f in self.history if now_ns - f.cleared_ns <= HISTORY_NS]
        worst: dict[str, int] = {}
        for fault in self.active.values():
            out = state.faults.add()
            out.CopyFrom(fault.proto)
            out.duration.FromNanoseconds(max(0, now_ns - fault.onset_ns))
            for attr in fault.proto.attributes:
                worst[attr] = max(worst.get(attr, 0), fault.proto.severity)
        for fault in self.history:
            out = state.historical_faults.add()
            out.CopyFrom(fault.proto)
            out.duration.FromNanoseconds(max(0, fault.cleared_ns - fault.onset_ns))
        for attr, severity in worst.items():
            state.aggregated[attr] = severity


@dataclass
class BehaviorFaults:
    """Active behavior faults by id."""

    active: dict[int, RS.BehaviorFault] = field(default_factory=dict)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def inject(self, now_ns: int, cause: int = RS.BehaviorFault.CAUSE_FALL, clearable: bool = True) -> int:
        fault_id = next(self._ids)
        fault = RS.BehaviorFault(behavior_fault_id=fault_id, cause=cause,
                                 status=RS.BehaviorFault.STATUS_CLEARABLE if clearable
                                 else RS.BehaviorFault.STATUS_UNCLEARABLE)
        _set_ts(fault.onset_timestamp, now_ns)
        self.active[fault_id] = fault
        return fault_id

    def clear(self, fault_id: int, force: bool = False) -> RS.BehaviorFault | None:
        """Remove fault `fault_id` if it exists and is clearable (or `force`); returns it, else None."""
        fault = self.active.get(fault_id)
        if fault is None or (fault.status != RS.BehaviorFault.STATUS_CLEARABLE and not force):
            return None
        return self.active.pop(fault_id)

    def unclearable(self) -> bool:
        """True while an UNCLEARABLE fault is active (power-on is then refused)."""
        return any(f.status == RS.BehaviorFault.STATUS_UNCLEARABLE for f in list(self.active.values()))

    def fill(self, state: RS.BehaviorFaultState) -> None:
        state.faults.extend(self.active.values())
