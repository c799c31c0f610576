"""One gRPC endpoint, many authorities: route each call by its `:authority`, as Spot does.

The bosdyn client opens one channel per authority with `grpc.ssl_target_name_override`, which
gRPC sends as the HTTP/2 `:authority`. Python gRPC does not show the authority to generic
handlers, but a running call's context does (`context._rpc_event.call_details.host`, present
in every grpcio release since 1.0). So every method is served by a pass-through handler that,
per call, picks the target:

- a payload authority registered in the directory -> forwarded (bytes in, bytes out, metadata
  and deadline kept) to the payload's host:port over an insecure channel, as the robot does;
- a robot authority -> the robot's own servicer for that method;
- anything else -> UNAVAILABLE.

The user token (`authorization: Bearer ...`) is checked here, before any servicer runs.

While the simulator is still mounting its body (the router is not `ready`), calls other than
the bootstrap services (auth, robot id, time sync, payload registration) wait for it, so a
client never sees a half-built robot.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

import grpc
from google.protobuf import descriptor_pool

from .directory import Directory, Route
from .tokens import TokenAuthority

_LOGGER = logging.getLogger(__name__)

#: Services answered before the router is ready (what a client needs to log in and sync).
BOOTSTRAP_SERVICES = ("bosdyn.api.AuthService", "bosdyn.api.RobotIdService",
                      "bosdyn.api.TimeSyncService", "bosdyn.api.PayloadRegistrationService")
#: Longest wait of a call for the router to become ready (s).
READY_WAIT_S = 30.0

#: Metadata never forwarded to a payload (HTTP/2 pseudo headers, gRPC transport headers).
_DROP_METADATA = ("user-agent", "te", "content-type")


@dataclass(frozen=True)
class _RobotMethod:
    handler: grpc.RpcMethodHandler
    user_token_required: bool


class _CaptureServer:
    """Stands in for a grpc.Server to collect the method handlers an `add_*_to_server` adds."""

    def __init__(self):
        self.handlers: dict[str, grpc.RpcMethodHandler] = {}

    def add_registered_method_handlers(self, service_name, method_handlers):
        for name, handler in method_handlers.items():
            self.handlers[f"/{service_name}/{name}"] = handler

    def add_generic_rpc_handlers(self, generic_handlers):
        for generic in generic_handlers:
            found = getattr(generic, "_method_handlers", None)
            if found is None:
                raise TypeError(f"cannot read the methods of generic handler {generic!r}")
            self.handlers.update(found)


def _kind(handler: grpc.RpcMethodHandler) -> tuple[bool, bool]:
    return bool(handler.request_streaming), bool(handler.response_streaming)


def _kind_from_descriptors(method: str) -> tuple[bool, bool] | None:
    """(client_streaming, server_streaming) of `/pkg.Service/Method` from the protobuf pool."""
    try:
        service_name, method_name = method.lstrip("/").split("/")
        service = descriptor_pool.Default().FindServiceByName(service_name)
        found = service.methods_by_name[method_name]
        return bool(found.client_streaming), bool(found.server_streaming)
    except (KeyError, ValueError):
        return None


def call_authority(context) -> str | None:
    """The `:authority` of the call behind a server `context` (None if gRPC hides it)."""
    try:
        host = context._rpc_event.call_details.host
    except AttributeError:
        return None
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    return host.split(":")[0].lower() if host else None


class AuthorityRouter(grpc.GenericRpcHandler):
    """Generic handler serving the robot's services and proxying payload services."""

    def __init__(self, directory: Directory, tokens: TokenAuthority,
                 on_call: Callable[[str, str], None] | None = None):
        self._directory = directory
        self._tokens = tokens
        self._methods: dict[str, _RobotMethod] = {}
        self._channels: dict[tuple[str, int], grpc.Channel] = {}
        self._lock = threading.Lock()
        self._warned_no_authority = False
        self._on_call = on_call
        #: Set once every servicer is mounted; see module docstring.
        self.ready = threading.Event()

    # -- set-up ---------------------------------------------------------------------------
    def add_servicer(self, add_fn: Callable, servicer, user_token_required: bool = True) -> list[str]:
        """Mount a servicer via its generated `add_XServicer_to_server`; returns its method paths."""
        capture = _CaptureServer()
        add_fn(servicer, capture)
        for method, handler in capture.handlers.items():
            self._methods[method] = _RobotMethod(handler, user_token_required)
        return list(capture.handlers)

    def close(self) -> None:
        with self._lock:
            channels, self._channels = list(self._channels.values()), {}
        for channel in channels:
            channel.close()

    # -- grpc.GenericRpcHandler -----------------------------------------------------------
    def service(self, handler_call_details):
        method = handler_call_details.method
        if not self.ready.is_set() and method.lstrip("/").split("/")[0] not in BOOTSTRAP_SERVICES:
            self.ready.wait(READY_WAIT_S)
        robot = self._methods.get(method)
        kind = _kind(robot.handler) if robot else _kind_from_descriptors(method)
        if kind is None:
            kind = (True, True)  # unknown method: a stream proxy carries any call shape
        if kind == (False, False):
            return grpc.unary_unary_rpc_method_handler(self._unary_unary(method, robot))
        if kind == (False, True):
            return grpc.unary_stream_rpc_method_handler(self._unary_stream(method, robot))
        if kind == (True, False):
            return grpc.stream_unary_rpc_method_handler(self._stream_unary(method, robot))
        return grpc.stream_stream_rpc_method_handler(self._stream_stream(method, robot))

    # -- per call -------------------------------------------------------------------------
    def _route(self, method: str, robot: _RobotMethod | None, context) -> Route:
        authority = call_authority(context)
        if self._on_call is not None:
            self._on_call(method, authority or "")
        if authority is None:
            if not self._warned_no_authority:
                self._warned_no_authority = True
                _LOGGER.warning("sim: this grpcio hides the call authority; payload services "
                                "cannot be proxied, every call goes to the robot")
            route = Route()
        else:
            route = self._directory.route(authority)
            if route is None:
                context.abort(grpc.StatusCode.UNAVAILABLE,
                              f"no service is registered for authority '{authority}'")
        if route.is_robot and robot is None:
            context.abort(grpc.StatusCode.UNIMPLEMENTED, f"the robot does not serve {method}")
        required = robot.user_token_required if route.is_robot else route.user_token_required
        if required and self._tokens.subject_from_metadata(context.invocation_metadata()) is None:
            context.abort(grpc.StatusCode.UNAUTHENTICATED,
                          "missing, invalid or expired user token; authenticate first")
        return route

    def _channel(self, route: Route) -> grpc.Channel:
        key = (route.host, route.port)
        with self._lock:
            channel = self._channels.get(key)
            if channel is None:
                channel = grpc.insecure_channel(f"{route.host}:{route.port}", options=[
                    ("grpc.max_receive_message_length", 100 * 1024 * 1024),
                    ("grpc.max_send_message_length", 100 * 1024 * 1024)])
                self._channels[key] = channel
            return channel

    @staticmethod
    def _forward_kwargs(context) -> dict:
        metadata = tuple((k, v) for k, v in (context.invocation_metadata() or ())
                         if not k.startswith((":", "grpc-")) and k not in _DROP_METADATA)
        remaining = context.time_remaining()
        timeout = remaining if remaining is not None and remaining < 7 * 24 * 3600 else None
        return {"metadata": metadata, "timeout": timeout}

    @staticmethod
    def _abort_from(context, error: grpc.RpcError):
        code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNAVAILABLE
        details = error.details() if hasattr(error, "details") else str(error)
        context.abort(code, f"payload service: {details}")

    def _unary_unary(self, method: str, robot: _RobotMethod | None):
        def call(request: bytes, context):
            route = self._route(method, robot, context)
            if route.is_robot:
                h = robot.handler
                response = h.unary_unary(h.request_deserializer(request), context)
                return h.response_serializer(response)
            try:
                return self._channel(route).unary_unary(method)(request, **self._forward_kwargs(context))
            except grpc.RpcError as error:
                self._abort_from(context, error)
        return call

    def _unary_stream(self, method: str, robot: _RobotMethod | None):
        def call(request: bytes, context):
            route = self._route(method, robot, context)
            if route.is_robot:
                h = robot.handler
                for response in h.unary_stream(h.request_deserializer(request), context):
                    yield h.response_serializer(response)
                return
            upstream = self._channel(route).unary_stream(method)(request, **self._forward_kwargs(context))
            context.add_callback(upstream.cancel)
            try:
                yield from upstream
            except grpc.RpcError as error:
                self._abort_from(context, error)
        return call

    def _stream_unary(self, method: str, robot: _RobotMethod | None):
        def call(requests, context):
            route = self._route(method, robot, context)
            if route.is_robot:
                h = robot.handler
                response = h.stream_unary((h.request_deserializer(r) for r in requests), context)
                return h.response_serializer(response)
            try:
                return self._channel(route).stream_unary(method)(requests, **self._forward_kwargs(context))
            except grpc.RpcError as error:
                self._abort_from(context, error)
        return call

    def _stream_stream(self, method: str, robot: _RobotMethod | None):
        def call(requests, context):
            route = self._route(method, robot, context)
            if route.is_robot:
                h = robot.handler
                for response in h.stream_stream((h.request_deserializer(r) for r in requests), context):
                    yield h.response_serializer(response)
                return
            upstream = self._channel(route).stream_stream(method)(requests, **self._forward_kwargs(context))
            context.add_callback(upstream.cancel)
            try:
                yield from upstream
            except grpc.RpcError as error:
                self._abort_from(context, error)
        return call
