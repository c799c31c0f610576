"""AuthService of the simulated robot: username/password and token refresh.

Wrong credentials are answered as the robot does (`STATUS_INVALID_LOGIN` in the response,
header CODE_OK), so `AuthClient.auth` raises `bosdyn.client.auth.InvalidLoginError`.
"""

from __future__ import annotations

import hmac
import logging

from bosdyn.api import auth_pb2, auth_service_pb2_grpc

from .clock import RobotClock
from .headers import fill_response_header
from .tokens import TokenAuthority

_LOGGER = logging.getLogger(__name__)


class AuthServicer(auth_service_pb2_grpc.AuthServiceServicer):
    """Checks one user account; issues and refreshes tokens from `tokens`."""

    def __init__(self, username: str, password: str, tokens: TokenAuthority, clock: RobotClock):
        self._username = username
        self._password = password
        self._tokens = tokens
        self._clock = clock

    def GetAuthToken(self, request, context):
        received = self._clock.robot_ns()
        response = auth_pb2.GetAuthTokenResponse()
        if request.token:
            subject = self._tokens.subject(request.token)
            if subject is None:
                response.status = auth_pb2.GetAuthTokenResponse.STATUS_INVALID_TOKEN
            else:
                response.status = auth_pb2.GetAuthTokenResponse.STATUS_OK
                response.token = self._tokens.issue(subject)
        elif (hmac.compare_digest(request.username.encode(), self._username.encode())
              and hmac.compare_digest(request.password.encode(), self._password.encode())):
            response.status = auth_pb2.GetAuthTokenResponse.STATUS_OK
            response.token = self._tokens.issue(request.username)
        else:
            _LOGGER.info("sim auth: rejected login for user %r (wrong username or password)",
                         request.username)
            response.status = auth_pb2.GetAuthTokenResponse.STATUS_INVALID_LOGIN
        fill_response_header(response, request, self._clock, received)
        return response
