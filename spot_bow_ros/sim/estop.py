"""E-Stop service of the simulated Spot, as a real Spot behaves (docs/spot_facts.md, "E-Stop").

- A robot nobody configured holds a configuration with one `PDB_rooted` endpoint slot that
  nobody registered: stop level ESTOP_LEVEL_CUT, "Not all endpoints are registered", so
  power-on answers STATUS_ESTOPPED until an endpoint registers and checks in at NONE.
  `required=False` (`spot-bow-ros sim --no-estop`) starts with an empty configuration instead:
  nothing to register, level NONE, the robot powers on without an E-Stop (quick demos).
- `force_simple_setup` works as on Spot: GetConfig -> SetConfig (refused with STATUS_MOTORS_ON
  while the motors are on; forgets every registration) -> Register (cut_power_timeout filled in
  as timeout + 4 s when unset, as in the SDK tutorial) -> the first check-in answers
  STATUS_INCORRECT_CHALLENGE_RESPONSE (there was no challenge yet) and leaves the level at CUT.
  Check-ins prove liveness with response = bitwise NOT of the last challenge (64 bit); a wrong
  response neither applies the level nor resets the timer.
- An endpoint that has not checked in validly for `timeout` makes the robot SETTLE_THEN_CUT
  (the robot sits, then cuts power); after `cut_power_timeout` it is CUT (power cut at once).
  The stop level is the most severe over all configured endpoints.
- Registering creates a keep-alive policy with the endpoint's timeout (keepalive_service.md).
  An endpoint that lapsed leaves that policy expired until an endpoint registers or checks in
  again: if the configuration is replaced meanwhile (no E-Stop any more), power-on answers
  STATUS_KEEPALIVE_MOTORS_OFF, as users saw after losing the tablet's E-Stop (spot_ros2 #500).
- Hardware E-Stops (the button on the robot or its controller, the payload E-Stop port; both
  TYPE_HARDWARE in RobotState.estop_states on a real robot, spot_ros2 #190) are outside this
  service: a press (`press_hardware`) cuts motor power at once and refuses power-on
  (STATUS_ESTOPPED) until released, shows as STATE_ESTOPPED with a state_description in the robot
  state, and leaves GetEstopSystemStatus's stop_level as it was.
"""

from __future__ import annotations

import collections
import secrets
import threading
import time
from dataclasses import dataclass

from bosdyn.api import estop_pb2, estop_service_pb2_grpc

from .clock import RobotClock
from .headers import fill_response_header

LEVEL_NONE = estop_pb2.ESTOP_LEVEL_NONE
LEVEL_SETTLE = estop_pb2.ESTOP_LEVEL_SETTLE_THEN_CUT
LEVEL_CUT = estop_pb2.ESTOP_LEVEL_CUT
REQUIRED_ROLE = "PDB_rooted"
#: cut_power_timeout - timeout when a client leaves cut_power_timeout unset (SDK tutorial: 9 -> 13 s).
DEFAULT_CUT_POWER_MARGIN_S = 4.0
MAX_TIMEOUT_S = 65530.0
NOT_REGISTERED = "Not all endpoints are registered"
_SEVERITY = {LEVEL_CUT: 3, LEVEL_SETTLE: 2, LEVEL_NONE: 0, estop_pb2.ESTOP_LEVEL_UNKNOWN: 3}
_MASK64 = 0xFFFFFFFFFFFFFFFF
#: The robot's hardware E-Stops (RobotState.estop_states names on a real robot) and the
#: state_description a press gives in the simulator (a real robot's text is not documented).
HARDWARE_ESTOPS = {"hardware_estop": "E-Stop button pressed", "payload_estop": "payload E-Stop circuit open"}


def _seconds(duration) -> float:
    return duration.seconds + duration.nanos * 1e-9


@dataclass
class _Registered:
    endpoint: estop_pb2.EstopEndpoint
    challenge: int | None
    last_valid_ns: int
    level: int

    def effective_level(self, now_ns: int) -> tuple[int, str]:
        """(level, why) with the timeouts applied."""
        ep = self.endpoint
        quiet_s = (now_ns - self.last_valid_ns) * 1e-9
        if quiet_s > _seconds(ep.cut_power_timeout):
            return LEVEL_CUT, f"endpoint {ep.name!r} timed out (no valid check-in for {quiet_s:.1f} s)"
        if quiet_s > _seconds(ep.timeout):
            level = LEVEL_SETTLE if _SEVERITY[self.level] < _SEVERITY[LEVEL_SETTLE] else self.level
            return level, f"endpoint {ep.name!r} timed out (no valid check-in for {quiet_s:.1f} s)"
        if self.level != LEVEL_NONE:
            return self.level, f"endpoint {ep.name!r} requested {estop_pb2.EstopStopLevel.Name(self.level)}"
        return LEVEL_NONE, ""


class EstopSystem:
    """Configuration, registrations and the resulting stop level (thread-safe).

    `motors_on()` (set by the robot) is consulted for changes refused while motors are on; it is
    never called with the lock held (the power system asks us for the stop level).
    """

    def __init__(self, required: bool = True, default_timeout_s: float = 9.0):
        self._lock = threading.Lock()
        self.required = required
        self.config = estop_pb2.EstopConfig(unique_id=secrets.token_hex(4))
        if required:
            slot = self.config.endpoints.add(role=REQUIRED_ROLE, unique_id=secrets.token_hex(4))
            slot.timeout.FromNanoseconds(int(default_timeout_s * 1e9))
            slot.cut_power_timeout.FromNanoseconds(int((default_timeout_s + DEFAULT_CUT_POWER_MARGIN_S) * 1e9))
        self._registered: dict[str, _Registered] = {}
        #: unique ids of endpoints whose keep-alive policy expired (see the module docstring).
        self.lapsed_policies: set[str] = set()
        self.motors_on = lambda: False
        #: (local ns, endpoint name, level) of every valid check-in that changed an endpoint's
        #: level, the newest 10000 (tests and the E-Stop latency bench read when a stop arrived).
        self.level_log: collections.deque[tuple[int, str, int]] = collections.deque(maxlen=10000)
        self._pressed: dict[str, str] = {}   # hardware E-Stop name -> state_description

    # ----- hardware E-Stops -------------------------------------------------------------------
    def press_hardware(self, name: str = "hardware_estop", description: str | None = None) -> None:
        """Press hardware E-Stop `name` (one of HARDWARE_ESTOPS): power cut and refused until released."""
        if name not in HARDWARE_ESTOPS:
            raise ValueError(f"no hardware E-Stop {name!r} (this robot has {', '.join(HARDWARE_ESTOPS)})")
        with self._lock:
            self._pressed[name] = HARDWARE_ESTOPS[name] if description is None else description

    def release_hardware(self, name: str = "hardware_estop") -> None:
        """Release hardware E-Stop `name` (power-on is allowed again as far as it is concerned)."""
        if name not in HARDWARE_ESTOPS:
            raise ValueError(f"no hardware E-Stop {name!r} (this robot has {', '.join(HARDWARE_ESTOPS)})")
        with self._lock:
            self._pressed.pop(name, None)

    def hardware_states(self) -> list[tuple[str, bool, str]]:
        """(name, pressed, state_description) of every hardware E-Stop, in HARDWARE_ESTOPS order."""
        with self._lock:
            return [(n, n in self._pressed, self._pressed.get(n, "")) for n in HARDWARE_ESTOPS]

    def hardware_pressed(self) -> bool:
        with self._lock:
            return bool(self._pressed)

    def power_cut(self, now_ns: int | None = None) -> bool:
        """True while motor power must be off at once: stop level CUT or a hardware E-Stop pressed."""
        return self.hardware_pressed() or self.stop_level(now_ns) == LEVEL_CUT

    def power_forbidden(self, now_ns: int | None = None) -> bool:
        """True while power-on answers STATUS_ESTOPPED: any stop level but NONE or a hardware E-Stop."""
        return self.hardware_pressed() or self.estopped(now_ns)

    # ----- state ----------------------------------------------------------------------------
    def stop_level_details(self, now_ns: int | None = None) -> tuple[int, str]:
        """(stop level, details) now: the most severe over the configured endpoints."""
        now = time.time_ns() if now_ns is None else now_ns
        level, details = LEVEL_NONE, ""
        with self._lock:
            for slot in self.config.endpoints:
                reg = self._registered.get(slot.unique_id)
                if reg is None:
                    lvl, why = LEVEL_CUT, NOT_REGISTERED
                else:
                    lvl, why = reg.effective_level(now)
                    if now - reg.last_valid_ns > _seconds(reg.endpoint.timeout) * 1e9:
                        self.lapsed_policies.add(slot.unique_id)
                if _SEVERITY[lvl] > _SEVERITY[level]:
                    level, details = lvl, why
        return level, details

    def stop_level(self, now_ns: int | None = None) -> int:
        return self.stop_level_details(now_ns)[0]

    def estopped(self, now_ns: int | None = None) -> bool:
        return self.stop_level(now_ns) != LEVEL_NONE

    def keepalive_motors_off(self) -> bool:
        """True while an expired keep-alive policy of a lapsed endpoint forbids motor power."""
        with self._lock:
            return bool(self.lapsed_policies)

    # ----- RPC logic ------------------------------------------------------------------------
    def set_config(self, config: estop_pb2.EstopConfig, target_id: str) -> int:
        motors_on = self.motors_on()
        with self._lock:
            if target_id != self.config.unique_id:
                return estop_pb2.SetEstopConfigResponse.STATUS_INVALID_ID
            if motors_on:
                return estop_pb2.SetEstopConfigResponse.STATUS_MOTORS_ON
            new = estop_pb2.EstopConfig()
            new.CopyFrom(config)
            new.unique_id = secrets.token_hex(4)
            for ep in new.endpoints:
                if not ep.unique_id:
                    ep.unique_id = secrets.token_hex(4)
            self.config = new
            self._registered.clear()   # "any currently registered endpoints are forgotten"
            return estop_pb2.SetEstopConfigResponse.STATUS_SUCCESS

    def register(self, target_config_id: str, target: estop_pb2.EstopEndpoint,
                 new: estop_pb2.EstopEndpoint):
        """(status, registered endpoint proto or None)."""
        Resp = estop_pb2.RegisterEstopEndpointResponse
        timeout = _seconds(new.timeout)
        cut = _seconds(new.cut_power_timeout) if new.HasField("cut_power_timeout") else 0.0
        with self._lock:
            if target_config_id != self.config.unique_id:
                return Resp.STATUS_CONFIG_MISMATCH, None
            slot = None
            for ep in self.config.endpoints:
                if ep.role == target.role and (not target.unique_id or target.unique_id == ep.unique_id):
                    slot = ep
                    break
            if slot is None:
                return Resp.STATUS_ENDPOINT_MISMATCH, None
            if (new.role != slot.role or not 0 < timeout <= MAX_TIMEOUT_S
                    or (cut and cut < timeout)):
                return Resp.STATUS_INVALID_ENDPOINT, None
            ep = estop_pb2.EstopEndpoint()
            ep.CopyFrom(new)
            ep.unique_id = slot.unique_id
            if not cut:
                ep.cut_power_timeout.FromNanoseconds(int((timeout + DEFAULT_CUT_POWER_MARGIN_S) * 1e9))
            self._registered.pop(slot.unique_id, None)
            slot.CopyFrom(ep)
            self._registered[ep.unique_id] = _Registered(ep, None, time.time_ns(), LEVEL_CUT)
            self.lapsed_policies.clear()   # a fresh policy with this endpoint's timeout
            return Resp.STATUS_SUCCESS, ep

    def deregister(self, target_config_id: str, target: estop_pb2.EstopEndpoint) -> int:
        Resp = estop_pb2.DeregisterEstopEndpointResponse
        motors_on = self.motors_on()
        with self._lock:
            if target_config_id != self.config.unique_id:
                return Resp.STATUS_CONFIG_MISMATCH
            if target.unique_id not in self._registered:
                return Resp.STATUS_ENDPOINT_MISMATCH
            if motors_on:
                return Resp.STATUS_MOTORS_ON
            del self._registered[target.unique_id]
            self.lapsed_policies.discard(target.unique_id)
            return Resp.STATUS_SUCCESS

    def check_in(self, endpoint: estop_pb2.EstopEndpoint, response: int, level: int):
        """(status, new challenge)."""
        Resp = estop_pb2.EstopCheckInResponse
        new_challenge = secrets.randbits(63)
        with self._lock:
            reg = self._registered.get(endpoint.unique_id)
            if reg is None:
                return Resp.STATUS_ENDPOINT_UNKNOWN, new_challenge
            expected = None if reg.challenge is None else (~reg.challenge) & _MASK64
            reg.challenge = new_challenge
            if expected is None or response != expected:
                return Resp.STATUS_INCORRECT_CHALLENGE_RESPONSE, new_challenge
            now = time.time_ns()
            if level != reg.level:
                self.level_log.append((now, reg.endpoint.name, level))
            reg.level = level
            reg.last_valid_ns = now
            self.lapsed_policies.discard(endpoint.unique_id)
            return Resp.STATUS_OK, new_challenge

    def status(self) -> estop_pb2.EstopSystemStatus:
        now = time.time_ns()
        level, details = self.stop_level_details(now)
        out = estop_pb2.EstopSystemStatus(stop_level=level, stop_level_details=details)
        with self._lock:
            for slot in self.config.endpoints:
                e = out.endpoints.add()
                reg = self._registered.get(slot.unique_id)
                if reg is None:
                    e.endpoint.CopyFrom(slot)
                    e.stop_level = LEVEL_CUT
                    continue
                e.endpoint.CopyFrom(reg.endpoint)
                e.stop_level = reg.effective_level(now)[0]
                e.time_since_valid_response.FromNanoseconds(now - reg.last_valid_ns)
        return out


class EstopServicer(estop_service_pb2_grpc.EstopServiceServicer):

    def __init__(self, system: EstopSystem, clock: RobotClock):
        self.system = system
        self.clock = clock

    def RegisterEstopEndpoint(self, request, context):
        received = self.clock.robot_ns()
        status, ep = self.system.register(request.target_config_id, request.target_endpoint,
                                          request.new_endpoint)
        resp = estop_pb2.RegisterEstopEndpointResponse(status=status)
        resp.request.CopyFrom(request)
        if ep is not None:
            resp.new_endpoint.CopyFrom(ep)
        fill_response_header(resp, request, self.clock, received)
        return resp

    def DeregisterEstopEndpoint(self, request, context):
        received = self.clock.robot_ns()
        resp = estop_pb2.DeregisterEstopEndpointResponse(
            status=self.system.deregister(request.target_config_id, request.target_endpoint))
        resp.request.CopyFrom(request)
        fill_response_header(resp, request, self.clock, received)
        return resp

    def EstopCheckIn(self, request, context):
        received = self.clock.robot_ns()
        status, challenge = self.system.check_in(request.endpoint, request.response, request.stop_level)
        resp = estop_pb2.EstopCheckInResponse(status=status, challenge=challenge)
        resp.request.CopyFrom(request)
        fill_response_header(resp, request, self.clock, received)
        return resp

    def GetEstopConfig(self, request, context):
        received = self.clock.robot_ns()
        resp = estop_pb2.GetEstopConfigResponse()
        resp.request.CopyFrom(request)
        resp.active_config.CopyFrom(self.system.config)
        fill_response_header(resp, request, self.clock, received)
        return resp

    def SetEstopConfig(self, request, context):
        received = self.clock.robot_ns()
        status = self.system.set_config(request.config, request.target_config_id)
        resp = estop_pb2.SetEstopConfigResponse(status=status)
        resp.request.CopyFrom(request)
        resp.active_config.CopyFrom(self.system.config)
        fill_response_header(resp, request, self.clock, received)
        return resp

    def GetEstopSystemStatus(self, request, context):
        received = self.clock.robot_ns()
        resp = estop_pb2.GetEstopSystemStatusResponse()
        resp.status.CopyFrom(self.system.status())
        fill_response_header(resp, request, self.clock, received)
        return resp
