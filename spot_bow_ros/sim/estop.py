"""E-Stop service of the simulated Spot.

With no software endpoint registered the robot is not estopped (as the simulator's default).
Once endpoints are registered, the stop level is the most severe of their last check-ins, and an
endpoint that has not checked in within its timeout cuts power (ESTOP_LEVEL_CUT), as on Spot.
Check-ins use bosdyn's challenge/response (response = bitwise NOT of the challenge, 64 bit).
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass

from bosdyn.api import estop_pb2, estop_service_pb2_grpc

from .clock import RobotClock
from .headers import fill_response_header

LEVEL_NONE = estop_pb2.ESTOP_LEVEL_NONE
LEVEL_CUT = estop_pb2.ESTOP_LEVEL_CUT
_SEVERITY = {estop_pb2.ESTOP_LEVEL_CUT: 3, estop_pb2.ESTOP_LEVEL_SETTLE_THEN_CUT: 2,
             estop_pb2.ESTOP_LEVEL_NONE: 0, estop_pb2.ESTOP_LEVEL_UNKNOWN: 3}


@dataclass
class _Registered:
    endpoint: estop_pb2.EstopEndpoint
    challenge: int | None
    last_valid_ns: int
    level: int


class EstopSystem:
    """Configuration, registrations and the resulting stop level (thread-safe)."""

    def __init__(self):
        self._lock = threading.Lock()
        self.config = estop_pb2.EstopConfig(unique_id=secrets.token_hex(4))
        self._registered: dict[str, _Registered] = {}
        self.motors_on = lambda: False   # set by the robot

    def stop_level(self, now_ns: int | None = None) -> int:
        now = time.time_ns() if now_ns is None else now_ns
        with self._lock:
            level = LEVEL_NONE
            for reg in self._registered.values():
                lvl = reg.level
                timeout = reg.endpoint.timeout.seconds + reg.endpoint.timeout.nanos * 1e-9
                if timeout > 0 and now - reg.last_valid_ns > timeout * 1e9:
                    lvl = LEVEL_CUT
                if _SEVERITY[lvl] > _SEVERITY[level]:
                    level = lvl
            return level

    def estopped(self, now_ns: int | None = None) -> bool:
        return self.stop_level(now_ns) != LEVEL_NONE

    def set_config(self, config: estop_pb2.EstopConfig, target_id: str) -> int:
        with self._lock:
            if target_id != self.config.unique_id:
                return estop_pb2.SetEstopConfigResponse.STATUS_INVALID_ID
            if self.motors_on():
                return estop_pb2.SetEstopConfigResponse.STATUS_MOTORS_ON
            new = estop_pb2.EstopConfig()
            new.CopyFrom(config)
            new.unique_id = secrets.token_hex(4)
            for ep in new.endpoints:
                if not ep.unique_id:
                    ep.unique_id = secrets.token_hex(4)
            self.config = new
            self._registered.clear()
            return estop_pb2.SetEstopConfigResponse.STATUS_SUCCESS

    def register(self, target_config_id: str, target: estop_pb2.EstopEndpoint,
                 new: estop_pb2.EstopEndpoint):
        """(status, registered endpoint proto or None)."""
        with self._lock:
            if target_config_id != self.config.unique_id:
                return estop_pb2.RegisterEstopEndpointResponse.STATUS_CONFIG_MISMATCH, None
            slot = None
            for ep in self.config.endpoints:
                if ep.role == target.role and (not target.unique_id or target.unique_id == ep.unique_id):
                    slot = ep
                    break
            if slot is None:
                return estop_pb2.RegisterEstopEndpointResponse.STATUS_ENDPOINT_MISMATCH, None
            if not new.role or new.role != slot.role:
                return estop_pb2.RegisterEstopEndpointResponse.STATUS_INVALID_ENDPOINT, None
            for uid in [u for u, r in self._registered.items() if r.endpoint.role == slot.role]:
                del self._registered[uid]
            ep = estop_pb2.EstopEndpoint()
            ep.CopyFrom(new)
            ep.unique_id = slot.unique_id or secrets.token_hex(4)
            slot.CopyFrom(ep)
            self._registered[ep.unique_id] = _Registered(ep, None, time.time_ns(), LEVEL_CUT)
            return estop_pb2.RegisterEstopEndpointResponse.STATUS_SUCCESS, ep

    def deregister(self, target_config_id: str, target: estop_pb2.EstopEndpoint) -> int:
        with self._lock:
            if target_config_id != self.config.unique_id:
                return estop_pb2.DeregisterEstopEndpointResponse.STATUS_CONFIG_MISMATCH
            if target.unique_id not in self._registered:
                return estop_pb2.DeregisterEstopEndpointResponse.STATUS_ENDPOINT_MISMATCH
            if self.motors_on():
                return estop_pb2.DeregisterEstopEndpointResponse.STATUS_MOTORS_ON
            del self._registered[target.unique_id]
            return estop_pb2.DeregisterEstopEndpointResponse.STATUS_SUCCESS

    def check_in(self, endpoint: estop_pb2.EstopEndpoint, response: int, level: int):
        """(status, new challenge)."""
        new_challenge = secrets.randbits(63)
        with self._lock:
            reg = self._registered.get(endpoint.unique_id)
            if reg is None:
                return estop_pb2.EstopCheckInResponse.STATUS_ENDPOINT_UNKNOWN, new_challenge
            expected = None if reg.challenge is None else (~reg.challenge) & 0xFFFFFFFFFFFFFFFF
            reg.challenge = new_challenge
            if expected is not None and response != expected:
                return estop_pb2.EstopCheckInResponse.STATUS_INCORRECT_CHALLENGE_RESPONSE, new_challenge
            reg.level = level
            reg.last_valid_ns = time.time_ns()
            return estop_pb2.EstopCheckInResponse.STATUS_OK, new_challenge

    def status(self) -> estop_pb2.EstopSystemStatus:
        now = time.time_ns()
        out = estop_pb2.EstopSystemStatus(stop_level=self.stop_level(now))
        with self._lock:
            for reg in self._registered.values():
                e = out.endpoints.add()
                e.endpoint.CopyFrom(reg.endpoint)
                e.stop_level = reg.level
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
