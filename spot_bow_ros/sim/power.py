"""Power service of the simulated Spot: motor power on/off progressing over time.

Motors go OFF -> POWERING_ON -> ON in `on_duration_s` (about a second, as on Spot) and ON ->
POWERING_OFF -> OFF in `off_duration_s`. `motor_state(now)` is evaluated lazily from the
transition times, so no thread is needed. Power on needs the body lease, no E-Stop
(STATUS_ESTOPPED at any stop level but NONE or with a hardware E-Stop pressed), no expired
keep-alive policy (STATUS_KEEPALIVE_MOTORS_OFF) and no unclearable behavior fault (STATUS_FAULTED). An
E-Stop at CUT or a pressed hardware E-Stop turns the motors off at once; SETTLE_THEN_CUT is the
robot's job (it sits first, then calls `cut()`).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable

from bosdyn.api import lease_pb2, power_pb2, power_service_pb2_grpc, robot_state_pb2

from .clock import RobotClock
from .estop import EstopSystem
from .headers import fill_response_header
from .lease import LeaseManager

PowerState = robot_state_pb2.PowerState
REQ = power_pb2.PowerCommandRequest


class PowerSystem:
    """Motor power state machine (thread-safe)."""

    def __init__(self, estop: EstopSystem, on_duration_s: float = 1.0, off_duration_s: float = 0.5):
        self.estop = estop
        self.on_duration_ns = int(on_duration_s * 1e9)
        self.off_duration_ns = int(off_duration_s * 1e9)
        self._lock = threading.Lock()
        self._state = PowerState.STATE_OFF
        self._until_ns = 0
        self._ids = itertools.count(1)
        self._commands: dict[int, tuple[int, int]] = {}   # id -> (request, target state)
        self._latest_id = 0
        #: () -> True while a behavior fault forbids motor power (set by the robot).
        self.faulted = lambda: False

    def motor_state(self, now_ns: int | None = None) -> int:
        now = time.time_ns() if now_ns is None else now_ns
        cut = self.estop.power_cut(now)   # asked outside our lock (lock order)
        with self._lock:
            if cut and self._state != PowerState.STATE_OFF:
                self._state, self._until_ns = PowerState.STATE_OFF, 0
            if self._state == PowerState.STATE_POWERING_ON and now >= self._until_ns:
                self._state = PowerState.STATE_ON
            elif self._state == PowerState.STATE_POWERING_OFF and now >= self._until_ns:
                self._state = PowerState.STATE_OFF
            return self._state

    def is_on(self, now_ns: int | None = None) -> bool:
        return self.motor_state(now_ns) == PowerState.STATE_ON

    def cut(self) -> None:
        """Cut motor power at once (E-Stop)."""
        with self._lock:
            self._state, self._until_ns = PowerState.STATE_OFF, 0

    def refusal(self, now_ns: int) -> int | None:
        """The PowerCommandStatus refusing a power-on now, or None if it may proceed."""
        if self.estop.power_forbidden(now_ns):
            return power_pb2.STATUS_ESTOPPED
        if self.estop.keepalive_motors_off():
            return power_pb2.STATUS_KEEPALIVE_MOTORS_OFF
        if self.faulted():
            return power_pb2.STATUS_FAULTED
        return None

    def command(self, request: int) -> tuple[int, int]:
        """Start a power command; returns (PowerCommandStatus, power_command_id)."""
        now = time.time_ns()
        state = self.motor_state(now)
        if request == REQ.REQUEST_ON_MOTORS:
            refused = self.refusal(now)
            if refused is not None:
                return refused, 0
            with self._lock:
                if state in (PowerState.STATE_OFF, PowerState.STATE_POWERING_OFF):
                    self._state, self._until_ns = PowerState.STATE_POWERING_ON, now + self.on_duration_ns
                cid = next(self._ids)
                self._commands[cid] = (request, PowerState.STATE_ON)
                self._latest_id = cid
            return (power_pb2.STATUS_SUCCESS if state == PowerState.STATE_ON else power_pb2.STATUS_IN_PROGRESS), cid
        if request == REQ.REQUEST_OFF_MOTORS:
            with self._lock:
                if state in (PowerState.STATE_ON, PowerState.STATE_POWERING_ON):
                    self._state, self._until_ns = PowerState.STATE_POWERING_OFF, now + self.off_duration_ns
                cid = next(self._ids)
                self._commands[cid] = (request, PowerState.STATE_OFF)
                self._latest_id = cid
            return (power_pb2.STATUS_SUCCESS if state == PowerState.STATE_OFF else power_pb2.STATUS_IN_PROGRESS), cid
        return power_pb2.STATUS_INTERNAL_ERROR, 0

    def feedback(self, command_id: int) -> int:
        """PowerCommandStatus of command `command_id`."""
        state = self.motor_state()
        with self._lock:
            entry = self._commands.get(command_id)
            if entry is None:
                return power_pb2.STATUS_INTERNAL_ERROR
            if command_id != self._latest_id and state != entry[1]:
                return power_pb2.STATUS_OVERRIDDEN
        if entry[0] == REQ.REQUEST_ON_MOTORS and self.estop.power_forbidden():
            return power_pb2.STATUS_ESTOPPED
        return power_pb2.STATUS_SUCCESS if state == entry[1] else power_pb2.STATUS_IN_PROGRESS


class PowerServicer(power_service_pb2_grpc.PowerServiceServicer):

    def __init__(self, power: PowerSystem, leases: LeaseManager, clock: RobotClock,
                 on_record: Callable[[str, object, str, bool], None] | None = None):
        self.power = power
        self.leases = leases
        self.clock = clock
        self._record = on_record or (lambda *a: None)

    def PowerCommand(self, request, context):
        received = self.clock.robot_ns()
        resp = power_pb2.PowerCommandResponse()
        use = self.leases.use(request.lease)
        resp.lease_use_result.CopyFrom(use)
        if use.status != lease_pb2.LeaseUseResult.STATUS_OK:
            resp.status = power_pb2.STATUS_UNKNOWN
            status_name = "LEASE_" + lease_pb2.LeaseUseResult.Status.Name(use.status)
            accepted = False
        elif request.request not in (REQ.REQUEST_ON_MOTORS, REQ.REQUEST_OFF_MOTORS):
            resp.status = power_pb2.STATUS_INTERNAL_ERROR
            status_name, accepted = "STATUS_INTERNAL_ERROR", False
        else:
            resp.status, resp.power_command_id = self.power.command(request.request)
            resp.license_status = 1  # LicenseInfo.STATUS_VALID
            status_name = power_pb2.PowerCommandStatus.Name(resp.status)
            accepted = resp.status in (power_pb2.STATUS_SUCCESS, power_pb2.STATUS_IN_PROGRESS)
        fill_response_header(resp, request, self.clock, received)
        self._record("PowerCommand", request, status_name, accepted)
        return resp

    def PowerCommandFeedback(self, request, context):
        received = self.clock.robot_ns()
        resp = power_pb2.PowerCommandFeedbackResponse(status=self.power.feedback(request.power_command_id))
        fill_response_header(resp, request, self.clock, received)
        return resp
