"""The simulated Spot itself: lease, E-Stop, power, robot state (+ streaming with IMU), robot
command, and the physics loop that makes the state follow the commands.

`SimRobot(clock, arm)` owns the models; `.servicers()` returns the bosdyn gRPC servicers that
`spot_bow_ros.sim.SimulatedSpot` mounts, as (add_fn, servicer, service name, service type,
authority). Tests read `.command_log` (every command received, accepted or not) and the truth:
`latest()`, `truth_at(robot_ns)`, `history()` give the `Snapshot` the robot served at a given
acquisition time (joints, odom->body, IMU), on the robot clock.

Parts: `physics.py` (pure kinematic model: gait, arm, IMU), `geometry.py` (poses, quaternions),
`frames.py` (frame tree, camera extrinsics), `lease.py`, `estop.py`, `power.py`, `state.py`
(robot state + streaming), `commands.py` (robot command validation and feedback), `health.py`
(battery, motor temperatures, system and behavior faults).

Like a real Spot: physics and the state stream run at 333 Hz; polled RobotState lists 20 joints
with an arm (`arm0.hr0` by name only), the stream 19 unnamed values in JointIndex order (12
without an arm). `streaming_licence=False` makes the stream fail as on a robot without the
joint-level licence (see state.py). Faults are injected with `inject_system_fault` /
`clear_system_fault` and `inject_behavior_fault` (cleared by the ClearBehaviorFault RPC or
`clear_behavior_fault`); a behavior fault blocks robot commands with STATUS_BEHAVIOR_FAULT.
"""

from __future__ import annotations

import bisect
import collections
import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bosdyn.api import (
    estop_service_pb2_grpc,
    lease_service_pb2_grpc,
    power_service_pb2_grpc,
    robot_command_service_pb2_grpc,
    robot_state_service_pb2_grpc,
)

from .clock import RobotClock
from .commands import RobotCommandServicer
from .estop import LEVEL_SETTLE, EstopServicer, EstopSystem
from .health import BatteryModel, BehaviorFaults, MotorThermal, SystemFaults, draw_for
from .lease import LeaseManager, LeaseServicer
from .physics import ARM_JOINT_NAMES, LEG_JOINT_NAMES, Snapshot, SpotPhysics
from .power import PowerServicer, PowerSystem
from .state import RobotStateServicer, RobotStateStreamingServicer

_LOG = logging.getLogger(__name__)
AUTHORITY = "api.spot.robot"
ESTOP_AUTHORITY = "estop.spot.robot"   # as a real Spot's directory lists it


@dataclass(frozen=True)
class CommandRecord:
    """One command the robot received.

    `local_ns`/`robot_ns`: receipt time on the local and robot clocks; `rpc`: e.g.
    "RobotCommand", "PowerCommand", "AcquireLease", "ReturnLease"; `request`: a copy of the
    request proto; `status`: the response status name (lease failures as "LEASE_STATUS_...");
    `accepted`: whether the robot acts on it; `command_id`: robot command id (0 if none);
    `message`: the robot's explanation for rejected commands.
    """

    local_ns: int
    robot_ns: int
    rpc: str
    request: Any
    status: str
    accepted: bool
    command_id: int = 0
    message: str = ""


class SimRobot:
    """Spot's body services and physics. Thread-safe; the physics loop runs on its own thread.

    `rate_hz`: physics, state-stream and IMU rate. `history_s`: how much truth is kept.
    `autostart=False` leaves the loop stopped: call `tick(local_ns)` to advance by hand.
    `faults`: optional object with `.active()` -> list of ServiceFault for robot state.
    `lease_stale_s`: a lease unused this long can be acquired over; `power_on_s` / `power_off_s`: motor power-on /
    power-off time (s).
    `streaming_licence`: False makes the robot-state stream fail (no joint-level licence).
    `battery_percent`, `battery_drain_scale`: initial charge and drain speed-up (1 = real time).
    `estop_required`: as a real Spot, motor power needs a registered E-Stop endpoint that allows it
    (see estop.py); False keeps the permissive no-E-Stop robot of `spot-bow-ros sim --no-estop`.
    `settle_max_s`: at SETTLE_THEN_CUT the robot sits, then cuts power once seated or after this long.
    Hardware E-Stops: `press_hardware_estop` / `release_hardware_estop`.
    Behavior faults: `inject_behavior_fault` / `clear_behavior_fault` (health.py); an unclearable one refuses power-on.
    """

    HEALTH_PERIOD_NS = 50_000_000   # battery and temperatures advance every 50 ms

    def __init__(self, clock: RobotClock, arm: bool = True, rate_hz: float = 333.0,
                 history_s: float = 30.0, autostart: bool = True, faults: Any = None,
                 lease_stale_s: float = 5.0, power_on_s: float = 1.0, streaming_licence: bool = True,
                 battery_percent: float = 87.5, battery_drain_scale: float = 1.0, estop_required: bool = True,
                 settle_max_s: float = 3.0, power_off_s: float = 0.5):
        self.clock = clock
        self.arm = arm
        self.rate_hz = rate_hz
        self.streaming_licence = bool(streaming_licence)
        self.battery = BatteryModel(battery_percent, battery_drain_scale)
        self.motor_thermal = MotorThermal(LEG_JOINT_NAMES + (ARM_JOINT_NAMES if arm else ()))
        self.system_faults = SystemFaults()
        self.behavior_faults = BehaviorFaults()
        self._health_ns: int | None = None
        #: Bumped by every fault or battery change, so a cached RobotState is not served stale.
        self.state_version = 0
        self.fault_store = faults
        self.lock = threading.RLock()
        self.physics = SpotPhysics(time.time_ns(), arm=arm)
        self.leases = LeaseManager(arm=arm, stale_after_s=lease_stale_s)
        self.estop = EstopSystem(required=estop_required)
        self.power = PowerSystem(self.estop, on_duration_s=power_on_s, off_duration_s=power_off_s)
        self.estop.motors_on = lambda: self.power.motor_state() != 1  # anything but STATE_OFF
        self.power.faulted = self.behavior_faults.unclearable
        self.settle_max_ns = int(settle_max_s * 1e9)
        self._settle_since_ns: int | None = None
        self.command_log: list[CommandRecord] = []
        self._log_lock = threading.Lock()
        n = max(16, int(rate_hz * history_s))
        self._history: collections.deque[Snapshot] = collections.deque(maxlen=n)
        self._new_state = threading.Condition()
        self._latest: Snapshot | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._listeners: list[Callable[[Snapshot], None]] = []
        self.state_servicer = RobotStateServicer(self)
        self.stream_servicer = RobotStateStreamingServicer(self)
        self.command_servicer = RobotCommandServicer(self)
        self.lease_servicer = LeaseServicer(self.leases, clock, self._record_simple)
        self.power_servicer = PowerServicer(self.power, self.leases, clock, self._record_simple)
        self.estop_servicer = EstopServicer(self.estop, clock)
        self.tick()
        if autostart:
            self.start()

    @property
    def faults(self) -> Any:
        """The service fault store reported in robot state (SimulatedSpot sets `fault_store`)."""
        return self.fault_store

    # ----- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="sim-robot-physics", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None
        with self._new_state:
            self._new_state.notify_all()

    close = stop

    def __enter__(self) -> SimRobot:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def stopped(self) -> bool:
        """True once `stop()` was called (until the next `start()`): open state streams end."""
        return self._stop.is_set()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and not self._stop.is_set()

    def _run(self) -> None:
        period = 1e9 / self.rate_hz
        next_t = time.time_ns()
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:  # noqa: BLE001 - keep the robot alive, say what broke
                _LOG.exception("sim robot: physics step failed; continuing")
            next_t += period
            delay = (next_t - time.time_ns()) * 1e-9
            if delay < -0.1:   # fell far behind (machine busy): do not try to catch up
                next_t = time.time_ns()
                delay = 0
            if delay > 0:
                self._stop.wait(delay)

    def tick(self, local_ns: int | None = None) -> Snapshot:
        """Advance the physics to `local_ns` (default now) and publish the new snapshot."""
        now = time.time_ns() if local_ns is None else local_ns
        with self.lock:
            self._settle_then_cut(now)
            powered = self.power.is_on(now)
            if powered != self.physics.powered:
                self.physics.set_power(powered)
            snap = self.physics.step(now)
            snap = dataclasses.replace(snap, robot_ns=self.clock.robot_ns(now))
            self._step_health(snap)
            self._history.append(snap)
            self._latest = snap
        with self._new_state:
            self._new_state.notify_all()
        return snap

    def _step_health(self, snap: Snapshot) -> None:
        if self._health_ns is None:
            self._health_ns = snap.local_ns
        dt_ns = snap.local_ns - self._health_ns
        if dt_ns < self.HEALTH_PERIOD_NS:
            return
        self._health_ns = snap.local_ns
        dt = min(dt_ns * 1e-9, 1.0)
        self.battery.step(dt, draw_for(snap.powered, snap.standing, snap.walking))
        self.motor_thermal.step(dt, snap.joint_names, snap.joint_load)

    # ----- faults -----------------------------------------------------------------------------
    def inject_system_fault(self, name: str, code: int = 1, severity: str | int = "warn",
                            attributes: tuple[str, ...] = ("robot",), error_message: str = "",
                            dtc: str = "") -> str:
        """Raise a system fault (RobotState.system_fault_state); returns its uuid.

        `severity`: "info" | "warn" | "critical" or a SystemFault.Severity value.
        """
        from bosdyn.api import robot_state_pb2 as RS
        if isinstance(severity, str):
            severity = RS.SystemFault.Severity.Value(f"SEVERITY_{severity.upper()}")
        with self.lock:
            self.state_version += 1
            return self.system_faults.inject(self.clock.robot_ns(), name, code, severity, tuple(attributes),
                                             error_message or name, dtc)

    def clear_system_fault(self, name_or_uuid: str) -> int:
        """Clear active system faults by uuid or name (they become historical); returns the count."""
        with self.lock:
            self.state_version += 1
            return self.system_faults.clear(self.clock.robot_ns(), name_or_uuid)

    def inject_behavior_fault(self, cause: str | int = "fall", clearable: bool = True) -> int:
        """Raise a behavior fault (`cause` "fall" | "hardware" | "lease_timeout" | "command_failure"
        or a BehaviorFault.Cause value); returns its id. A fall stops the robot and drops it to
        the ground. Until cleared, robot commands answer STATUS_BEHAVIOR_FAULT."""
        from bosdyn.api import robot_state_pb2 as RS
        if isinstance(cause, str):
            cause = RS.BehaviorFault.Cause.Value(f"CAUSE_{cause.upper()}")
        with self.lock:
            self.state_version += 1
            if cause == RS.BehaviorFault.CAUSE_FALL:
                self.physics.sit()
            else:
                self.physics.stop()
            return self.behavior_faults.inject(self.clock.robot_ns(), cause, clearable)

    def clear_behavior_fault(self, fault_id: int, force: bool = False) -> bool:
        """Clear a behavior fault as ClearBehaviorFault does (`force` also clears UNCLEARABLE ones)."""
        with self.lock:
            self.state_version += 1
            return self.behavior_faults.clear(fault_id, force) is not None

    def set_battery(self, percent: float) -> None:
        """Set the battery charge (%), e.g. to show a nearly empty robot."""
        with self.lock:
            self.state_version += 1
            self.battery.charge = min(100.0, max(0.0, float(percent)))
    def press_hardware_estop(self, name: str = "hardware_estop", description: str | None = None) -> None:
        """Press a hardware E-Stop ("hardware_estop": the button; "payload_estop": the payload
        port), as on Spot: motor power is cut at once (the robot drops), power-on answers
        STATUS_ESTOPPED until it is released, and RobotState.estop_states shows it STATE_ESTOPPED
        with `description` (default estop.HARDWARE_ESTOPS). The E-Stop service's level is unchanged."""
        with self.lock:
            self.state_version += 1
            self.estop.press_hardware(name, description)
            self.power.cut()
            _LOG.info("sim robot: hardware E-Stop %s pressed: motor power cut", name)

    def release_hardware_estop(self, name: str = "hardware_estop") -> None:
        """Release a hardware E-Stop (the motors stay off until someone powers them on)."""
        with self.lock:
            self.state_version += 1
            self.estop.release_hardware(name)
            _LOG.info("sim robot: hardware E-Stop %s released", name)

    def _settle_then_cut(self, now: int) -> None:
        """E-Stop at SETTLE_THEN_CUT: sit (overriding any command), cut power once seated."""
        if self.estop.stop_level(now) != LEVEL_SETTLE or not self.power.is_on(now):
            self._settle_since_ns = None
            return
        if self._settle_since_ns is None:
            self._settle_since_ns = now
            _LOG.info("sim robot: E-Stop SETTLE_THEN_CUT: sitting, then cutting motor power")
        self.physics.sit()
        if self.physics.is_sitting() or now - self._settle_since_ns >= self.settle_max_ns:
            self.power.cut()
            self._settle_since_ns = None

    # ----- truth ----------------------------------------------------------------------------
    def latest(self) -> Snapshot:
        """The most recent snapshot (what get_robot_state serves now)."""
        return self._latest

    def history(self) -> list[Snapshot]:
        with self.lock:
            return list(self._history)

    def snapshots_since(self, robot_ns: int, limit: int = 20) -> list[Snapshot]:
        """Snapshots acquired after `robot_ns` (oldest first, at most the `limit` newest)."""
        out: list[Snapshot] = []
        with self.lock:
            for s in reversed(self._history):
                if s.robot_ns <= robot_ns or len(out) >= limit:
                    break
                out.append(s)
        out.reverse()
        return out

    def truth_at(self, robot_ns: int, tolerance_ns: int | None = None) -> Snapshot | None:
        """The snapshot acquired at `robot_ns` (robot clock), or the nearest one.

        With `tolerance_ns`, None when the nearest is further away than that.
        """
        hist = self.history()
        if not hist:
            return None
        keys = [s.robot_ns for s in hist]
        i = bisect.bisect_left(keys, robot_ns)
        best = min((c for c in (i - 1, i) if 0 <= c < len(hist)), key=lambda c: abs(keys[c] - robot_ns))
        if tolerance_ns is not None and abs(keys[best] - robot_ns) > tolerance_ns:
            return None
        return hist[best]

    def wait_for_state(self, after_robot_ns: int, timeout: float = 1.0) -> Snapshot | None:
        """Block until a snapshot newer than `after_robot_ns` exists (None on timeout/stop)."""
        deadline = time.monotonic() + timeout
        with self._new_state:
            while True:
                snap = self._latest
                if snap is not None and snap.robot_ns > after_robot_ns:
                    return snap
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._stop.is_set():
                    return None
                self._new_state.wait(remaining)

    # ----- command log ----------------------------------------------------------------------
    def record(self, rpc: str, request: Any, status: str, accepted: bool, command_id: int = 0,
               message: str = "", local_ns: int | None = None) -> CommandRecord:
        now = time.time_ns() if local_ns is None else local_ns
        copy = type(request)()
        copy.CopyFrom(request)
        rec = CommandRecord(now, self.clock.robot_ns(now), rpc, copy, status, accepted, command_id, message)
        with self._log_lock:
            self.command_log.append(rec)
        if not accepted:
            _LOG.info("sim robot: rejected %s: %s %s", rpc, status, message)
        return rec

    def _record_simple(self, rpc: str, request: Any, status: str, accepted: bool) -> None:
        self.record(rpc, request, status, accepted)

    def commands(self, rpc: str | None = None, accepted: bool | None = None) -> list[CommandRecord]:
        """A copy of the command log, optionally filtered by rpc name and acceptance."""
        with self._log_lock:
            log = list(self.command_log)
        return [r for r in log if (rpc is None or r.rpc == rpc) and (accepted is None or r.accepted == accepted)]

    # ----- servicers ------------------------------------------------------------------------
    def servicers(self) -> list[tuple[Callable, Any, str, str, str]]:
        """(add_servicer_to_server, servicer, service name, service type, authority) per service."""
        return [
            (robot_state_service_pb2_grpc.add_RobotStateServiceServicer_to_server, self.state_servicer,
             "robot-state", "bosdyn.api.RobotStateService", AUTHORITY),
            (robot_state_service_pb2_grpc.add_RobotStateStreamingServiceServicer_to_server,
             self.stream_servicer, "robot-state-streaming", "bosdyn.api.RobotStateStreamingService", AUTHORITY),
            (robot_command_service_pb2_grpc.add_RobotCommandServiceServicer_to_server, self.command_servicer,
             "robot-command", "bosdyn.api.RobotCommandService", AUTHORITY),
            (lease_service_pb2_grpc.add_LeaseServiceServicer_to_server, self.lease_servicer,
             "lease", "bosdyn.api.LeaseService", AUTHORITY),
            (power_service_pb2_grpc.add_PowerServiceServicer_to_server, self.power_servicer,
             "power", "bosdyn.api.PowerService", AUTHORITY),
            (estop_service_pb2_grpc.add_EstopServiceServicer_to_server, self.estop_servicer,
             "estop", "bosdyn.api.EstopService", ESTOP_AUTHORITY),
        ]

