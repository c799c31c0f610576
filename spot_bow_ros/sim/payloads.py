"""PayloadRegistrationService of the simulated robot.

Payloads register with a GUID and secret and then get user tokens from those credentials
(`Robot.authenticate_from_payload_credentials`, `Robot.register_payload_and_authenticate`).
A real robot needs an operator to authorize a new payload in its web page; the simulator
authorizes new payloads at once unless `auto_authorize` is False (then `authorize(guid)`).
"""

from __future__ import annotations

import hmac
import threading
from dataclasses import dataclass

from bosdyn.api import payload_pb2, payload_registration_service_pb2_grpc
from bosdyn.api import payload_registration_pb2 as preg

from .clock import RobotClock
from .headers import CODE_INVALID_REQUEST, fill_response_header
from .tokens import TokenAuthority


@dataclass
class _Registered:
    payload: payload_pb2.Payload
    secret: str


class PayloadRegistry:
    """Registered payloads by GUID (thread-safe)."""

    def __init__(self, auto_authorize: bool = True):
        self.auto_authorize = auto_authorize
        self._lock = threading.Lock()
        self._payloads: dict[str, _Registered] = {}

    def register(self, payload: payload_pb2.Payload, secret: str) -> bool:
        """Add a payload; False if its GUID is already registered."""
        with self._lock:
            if payload.GUID in self._payloads:
                return False
            stored = payload_pb2.Payload()
            stored.CopyFrom(payload)
            stored.is_authorized = self.auto_authorize or payload.is_authorized
            stored.is_enabled = stored.is_authorized
            self._payloads[payload.GUID] = _Registered(stored, secret)
            return True

    def authorize(self, guid: str) -> None:
        with self._lock:
            entry = self._payloads[guid]
            entry.payload.is_authorized = True
            entry.payload.is_enabled = True

    def check(self, guid: str, secret: str) -> str:
        """'ok', 'invalid' (unknown GUID or wrong secret) or 'unauthorized'."""
        with self._lock:
            entry = self._payloads.get(guid)
            if entry is None or not hmac.compare_digest(entry.secret.encode(), secret.encode()):
                return "invalid"
            return "ok" if entry.payload.is_authorized else "unauthorized"

    def get(self, guid: str) -> payload_pb2.Payload | None:
        with self._lock:
            entry = self._payloads.get(guid)
            return None if entry is None else entry.payload

    def payloads(self) -> list[payload_pb2.Payload]:
        with self._lock:
            return [e.payload for e in self._payloads.values()]


def _credentials(request) -> tuple[str, str]:
    if request.HasField("payload_credentials"):
        return request.payload_credentials.guid, request.payload_credentials.secret
    return request.payload_guid, request.payload_secret


class PayloadRegistrationServicer(payload_registration_service_pb2_grpc.PayloadRegistrationServiceServicer):

    def __init__(self, registry: PayloadRegistry, tokens: TokenAuthority, clock: RobotClock):
        self._registry = registry
        self._tokens = tokens
        self._clock = clock

    def RegisterPayload(self, request, context):
        received = self._clock.robot_ns()
        response = preg.RegisterPayloadResponse()
        if not request.payload.GUID or not request.payload_secret:
            fill_response_header(response, request, self._clock, received, code=CODE_INVALID_REQUEST,
                                 message="payload GUID and payload_secret are required")
            return response
        ok = self._registry.register(request.payload, request.payload_secret)
        response.status = (preg.RegisterPayloadResponse.STATUS_OK if ok
                           else preg.RegisterPayloadResponse.STATUS_ALREADY_EXISTS)
        fill_response_header(response, request, self._clock, received)
        return response

    def UpdatePayloadVersion(self, request, context):
        received = self._clock.robot_ns()
        response = preg.UpdatePayloadVersionResponse()
        guid, secret = _credentials(request)
        state = self._registry.check(guid, secret)
        if self._registry.get(guid) is None:
            response.status = preg.UpdatePayloadVersionResponse.STATUS_DOES_NOT_EXIST
        elif state == "invalid":
            response.status = preg.UpdatePayloadVersionResponse.STATUS_INVALID_CREDENTIALS
        else:
            self._registry.get(guid).version.CopyFrom(request.updated_version)
            response.status = preg.UpdatePayloadVersionResponse.STATUS_OK
        fill_response_header(response, request, self._clock, received)
        return response

    def GetPayloadAuthToken(self, request, context):
        received = self._clock.robot_ns()
        response = preg.GetPayloadAuthTokenResponse()
        guid, secret = _credentials(request)
        state = self._registry.check(guid, secret)
        if state == "ok":
            response.status = preg.GetPayloadAuthTokenResponse.STATUS_OK
            response.token = self._tokens.issue(f"payload:{guid}")
        elif state == "unauthorized":
            response.status = preg.GetPayloadAuthTokenResponse.STATUS_PAYLOAD_NOT_AUTHORIZED
        else:
            response.status = preg.GetPayloadAuthTokenResponse.STATUS_INVALID_CREDENTIALS
        fill_response_header(response, request, self._clock, received)
        return response

    def UpdatePayloadAttached(self, request, context):
        received = self._clock.robot_ns()
        response = preg.UpdatePayloadAttachedResponse()
        guid, secret = _credentials(request)
        state = self._registry.check(guid, secret)
        if self._registry.get(guid) is None:
            response.status = preg.UpdatePayloadAttachedResponse.STATUS_DOES_NOT_EXIST
        elif state == "invalid":
            response.status = preg.UpdatePayloadAttachedResponse.STATUS_INVALID_CREDENTIALS
        elif state == "unauthorized":
            response.status = preg.UpdatePayloadAttachedResponse.STATUS_PAYLOAD_NOT_AUTHORIZED
        else:
            attach = request.request == preg.UpdatePayloadAttachedRequest.REQUEST_ATTACH
            self._registry.get(guid).is_enabled = attach
            response.status = preg.UpdatePayloadAttachedResponse.STATUS_OK
        fill_response_header(response, request, self._clock, received)
        return response
