"""Response headers as the robot fills them: request echoed, robot-clock timestamps, CODE_OK."""

from __future__ import annotations

from bosdyn.api import header_pb2

from .clock import RobotClock

CODE_OK = header_pb2.CommonError.CODE_OK
CODE_INVALID_REQUEST = header_pb2.CommonError.CODE_INVALID_REQUEST
CODE_INTERNAL_SERVER_ERROR = header_pb2.CommonError.CODE_INTERNAL_SERVER_ERROR


def _set_ns(ts, ns: int) -> None:
    ts.seconds, ts.nanos = divmod(int(ns), 1_000_000_000)


def fill_response_header(response, request, clock: RobotClock, received_robot_ns: int | None = None,
                         code: int = CODE_OK, message: str = "") -> None:
    """Fill `response.header` for `request`.

    `request_received_timestamp` is `received_robot_ns` (robot clock, ns; default: now) and
    `response_timestamp` is now on the robot clock; clients' time sync uses both.
    """
    header = response.header
    header.request_header.CopyFrom(request.header)
    _set_ns(header.request_received_timestamp,
            clock.robot_ns() if received_robot_ns is None else received_robot_ns)
    header.error.code = code
    if message:
        header.error.message = message
    _set_ns(header.response_timestamp, clock.robot_ns())
