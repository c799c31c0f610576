"""Standalone backend: a `NodeHandle` without ROS 2 installed.

A `StandaloneNode` runs its callbacks (subscriptions and timers) on its own executor thread,
one at a time, like an rclpy node spun by a `SingleThreadedExecutor`: a slow bridge never
starves another. Messages travel through a `Transport` (standalone/transport.py):

- `InProcessBus` (standalone/transport.py): between nodes of one process only (tests of one
  bridge, composed bridges);
- `standalone.dds_transport.DdsTransport`: ROS 2 on the wire (Cyclone DDS with rmw_cyclonedds_cpp conventions).

Each subscription keeps at most `qos.depth` undelivered messages (keep-last), dropping the
oldest, so a slow callback sees fresh data instead of a growing backlog.
"""

from __future__ import annotations

import collections
import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..ros.names import expand_topic_name
from ..ros.node_api import Stamp, stamp_from_ns
from ..ros.params import ParameterError, ParameterSet, ParamSpec
from ..ros.qos import QoS
from .transport import InProcessBus as InProcessBus  # re-exported: nodes and tests build on it here
from .transport import MessageCallback, Reader, Transport, Writer

#: A request queued for the node's service thread: (callback, response type, request, respond, name)
_ServiceCall = tuple[Callable[[Any], Any], str, Any, Callable[[Any], None], str]


class _StandalonePublisher:
    def __init__(self, node: StandaloneNode, topic: str, type_name: str, writer: Writer, qos: QoS):
        self.node, self.topic, self.type_name, self._writer, self.qos = node, topic, type_name, writer, qos

    def publish(self, msg: Any) -> None:
        msgtype = getattr(msg, "__msgtype__", None)
        if msgtype != self.type_name:
            raise TypeError(f"publisher on {self.topic} takes {self.type_name}, got {msgtype or type(msg).__name__}")
        self._writer.write(msg)

    def get_subscription_count(self) -> int:
        return self._writer.matched_count()


class _CallbackGroup:
    """A named callback group of a `StandaloneNode`: its own thread, one callback at a time, beside
    the node's executor and service thread (rclpy: a MutuallyExclusiveCallbackGroup of its own)."""

    def __init__(self, node_name: str, name: str):
        self._items: collections.deque[Callable[[], None]] = collections.deque()
        self._cv = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name=f"{name}:{node_name}", daemon=True)
        self._thread.start()

    def post(self, work: Callable[[], None]) -> None:
        with self._cv:
            self._items.append(work)
            self._cv.notify()

    def close(self) -> None:
        with self._cv:
            self._closed = True
            self._cv.notify()

    def _loop(self) -> None:
        while True:
            with self._cv:
                while not self._items and not self._closed:
                    self._cv.wait()
                if self._closed:
                    return
                work = self._items.popleft()
            work()


class _StandaloneSubscription:
    def __init__(self, node: StandaloneNode, topic: str, type_name: str, qos: QoS,
                 callback: MessageCallback, group: _CallbackGroup | None = None):
        self.node, self.topic, self.type_name, self.callback = node, topic, type_name, callback
        self.queue: collections.deque[Any] = collections.deque(maxlen=max(1, qos.depth))
        self.qos = qos
        self.reader: Reader | None = None
        self.group = group

    def deliver(self, msg: Any) -> None:
        """Called from transport threads: queue (keep-last) and wake the executor (or the
        subscription's callback group)."""
        self.queue.append(msg)
        if self.group is None:
            self.node._wake(self)
        else:
            self.group.post(self._take)

    def _take(self) -> None:
        try:
            msg = self.queue.popleft()
        except IndexError:
            return  # dropped by keep-last while queued
        self.node._run(self.callback, msg)


class _StandaloneTimer:
    def __init__(self, node: StandaloneNode, period_s: float, callback: Callable[[], None]):
        self.node, self.period_s, self.callback = node, period_s, callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class _PrefixLogger:
    """A node's logger with rclpy's method names (`warn`, `fatal`), on `spot_bow_ros.<node>`."""

    def __init__(self, name: str):
        self._log = logging.getLogger(f"spot_bow_ros.{name}")

    def debug(self, msg: str) -> None:
        self._log.debug(msg)

    def info(self, msg: str) -> None:
        self._log.info(msg)

    def warning(self, msg: str) -> None:
        self._log.warning(msg)

    warn = warning

    def error(self, msg: str) -> None:
        self._log.error(msg)

    def fatal(self, msg: str) -> None:
        self._log.critical(msg)


class StandaloneNode:
    """`NodeHandle` over a `Transport`; callbacks run on this node's own executor thread."""

    def __init__(self, name: str, transport: Transport, namespace: str = "/",
                 parameter_overrides: Mapping[str, Any] | None = None, remaps: Mapping[str, str] | None = None,
                 serve_parameters: bool = True):
        self.name = name
        self.namespace = namespace if namespace.startswith("/") else "/" + namespace
        # `-r from:=to` topic remappings, applied as rcl does: on fully expanded names.
        self._remaps = {expand_topic_name(src, self.namespace, name): expand_topic_name(dst, self.namespace, name)
                        for src, dst in (remaps or {}).items()}
        self.transport = transport
        self._messages = transport.messages
        self._params = ParameterSet()
        self._overrides = dict(parameter_overrides or {})
        self._logger = _PrefixLogger(name)
        self._cv = threading.Condition()
        self._ready: collections.deque[_StandaloneSubscription] = collections.deque()
        self._timers: list[tuple[float, int, _StandaloneTimer]] = []
        self._seq = itertools.count()
        self._writers: list[Writer] = []
        self._subscriptions: list[_StandaloneSubscription] = []
        self._on_shutdown: list[Callable[[], None]] = []
        self._on_set: list[Callable[[dict[str, Any]], str | None]] = []
        self._param_lock = threading.Lock()
        self._services: list[Any] = []
        self._service_queue: collections.deque[_ServiceCall] = collections.deque()
        self._service_cv = threading.Condition()
        self._service_thread: threading.Thread | None = None
        self._groups: dict[str, _CallbackGroup] = {}
        self._closed = False
        self.publishers: list[_StandalonePublisher] = []
        transport.add_node(self)
        self._thread = threading.Thread(target=self._spin, name=f"node:{name}", daemon=True)
        self._thread.start()
        if serve_parameters and hasattr(transport, "create_service"):
            from .param_services import ParameterServices

            ParameterServices(self)

    # -- messages -------------------------------------------------------------------------
    def msg(self, type_name: str, **fields: Any) -> Any:
        return self._messages.make(type_name, **fields)

    # -- topics ---------------------------------------------------------------------------
    def resolve_topic(self, topic: str) -> str:
        """Fully expanded name of `topic` (namespace, `~`, substitutions), after remapping."""
        full = expand_topic_name(topic, self.namespace, self.name)
        return self._remaps.get(full, full)

    def create_publisher(self, type_name: str, topic: str, qos: QoS) -> _StandalonePublisher:
        full = self.resolve_topic(topic)
        type_name = self._messages.resolve(type_name)
        writer = self.transport.create_writer(self, full, type_name, qos)
        self._writers.append(writer)
        pub = _StandalonePublisher(self, full, type_name, writer, qos)
        self.publishers.append(pub)
        return pub

    def create_subscription(self, type_name: str, topic: str, callback: MessageCallback,
                            qos: QoS, callback_group: str | None = None) -> _StandaloneSubscription:
        """`callback_group`: run on that named group's own thread instead of the executor."""
        full = self.resolve_topic(topic)
        type_name = self._messages.resolve(type_name)
        sub = _StandaloneSubscription(self, full, type_name, qos, callback, self._group(callback_group))
        self._subscriptions.append(sub)
        sub.reader = self.transport.create_reader(self, full, type_name, qos, sub.deliver)
        return sub

    # -- services -------------------------------------------------------------------------
    def _group(self, name: str | None) -> _CallbackGroup | None:
        if name is None:
            return None
        if name not in self._groups:
            self._groups[name] = _CallbackGroup(self.name, name)
        return self._groups[name]

    def create_service(self, srv_type: str, name: str, callback: Callable[[Any], Any],
                       parameters: bool = False, callback_group: str | None = None) -> Any:
        """Serve `name` (relative names resolve like topics): `callback(request)` returns the
        response's fields as a dict (or a response message). Callbacks run one at a time on the
        node's service thread, not its executor: a robot RPC behind a service never delays the
        node's timers and subscriptions (rclpy: a separate callback group). A callback that
        raises is answered with `success=False` and the error where the response has them.
        `callback_group`: served on that named group's own thread instead."""
        from .service_types import PARAMETERS_QOS, SERVICES_QOS, known_service_type, response_type

        srv_type = known_service_type(srv_type)
        full = self.resolve_topic(name)
        resp_type = response_type(srv_type)

        group = self._group(callback_group)

        def handler(request: Any, respond: Callable[[Any], None]) -> None:
            if group is not None:
                group.post(lambda: self._serve_one(callback, resp_type, request, respond, full))
                return
            with self._service_cv:
                self._service_queue.append((callback, resp_type, request, respond, full))
                self._service_cv.notify()

        if self._service_thread is None and group is None:
            self._service_thread = threading.Thread(target=self._serve, name=f"srv:{self.name}", daemon=True)
            self._service_thread.start()
        qos = PARAMETERS_QOS if parameters else SERVICES_QOS
        service = self.transport.create_service(self, full, srv_type, handler, qos)
        self._services.append(service)
        return service

    def _serve(self) -> None:
        while True:
            with self._service_cv:
                while not self._service_queue and not self._closed:
                    self._service_cv.wait()
                if self._closed:
                    return
                callback, resp_type, request, respond, name = self._service_queue.popleft()
            self._serve_one(callback, resp_type, request, respond, name)

    def _serve_one(self, callback: Callable[[Any], Any], resp_type: str, request: Any,
                   respond: Callable[[Any], None], name: str) -> None:
        from .service_types import response_defaults

        try:
            out = callback(request)
            response = self._messages.make(resp_type, **out) if isinstance(out, dict) else out
        except Exception as exc:  # noqa: BLE001 - a handler's error is one line, the service keeps serving
            self._logger.error(f"service {name} failed: {type(exc).__name__}: {exc}")
            response = response_defaults(self._messages.make, resp_type, f"{type(exc).__name__}: {exc}")
        try:
            respond(response)
        except Exception as exc:  # noqa: BLE001 - a failed reply is one line, the service keeps serving
            self._logger.error(f"replying on service {name} failed: {type(exc).__name__}: {exc}")

    # -- time -----------------------------------------------------------------------------
    def create_timer(self, period_s: float, callback: Callable[[], None]) -> _StandaloneTimer:
        if not period_s > 0:
            raise ValueError(f"timer period must be > 0 s, got {period_s}")
        timer = _StandaloneTimer(self, period_s, callback)
        with self._cv:
            heapq.heappush(self._timers, (time.monotonic() + period_s, next(self._seq), timer))
            self._cv.notify()
        return timer

    def now(self) -> Stamp:
        return stamp_from_ns(time.time_ns())

    # -- parameters -----------------------------------------------------------------------
    def declare_parameters(self, specs: Iterable[ParamSpec]) -> dict[str, Any]:
        return self._params.declare(specs, self._overrides)

    def get_parameter(self, name: str) -> Any:
        return self._params.get(name)

    def set_parameter(self, name: str, value: Any) -> Any:
        """Set one parameter at runtime (as `ros2 param set`); ParameterError if refused."""
        (ok, reason), = self.set_parameters({name: value})
        if not ok:
            raise ParameterError(reason)
        return self._params.get(name)

    def on_parameters_set(self, callback: Callable[[dict[str, Any]], str | None]) -> None:
        """`callback({name: value})` runs before runtime changes of live parameters are accepted
        (values already validated against their specs); it applies them and returns None, or
        returns the reason to refuse them."""
        self._on_set.append(callback)

    def set_parameters(self, values: Mapping[str, Any], atomic: bool = False) -> list[tuple[bool, str]]:
        """Runtime changes: (accepted, reason) per parameter. Undeclared, read-only (not `live`)
        and invalid values are refused; the rest go through the on-set callbacks. `atomic`: all
        or none (one callback call with every value)."""
        with self._param_lock:
            checked: dict[str, Any] = {}
            results: dict[str, tuple[bool, str]] = {}
            for name, value in values.items():
                try:
                    checked[name] = self._params.check(name, value)
                except ParameterError as exc:
                    results[name] = (False, str(exc))
            if atomic and results:
                return [results.get(n, (False, "not applied: another parameter of the set was refused"))
                        for n in values]
            batches = [checked] if atomic else [{n: v} for n, v in checked.items()]
            for batch in batches:
                if not batch:
                    continue
                reason = self._run_on_set(batch)
                for name in batch:
                    results[name] = (reason is None, reason or "")
                if reason is None:
                    self._params.values.update(batch)
                    self._logger.info("parameter " + ", ".join(f"{n} = {v!r}" for n, v in batch.items()))
            return [results[n] for n in values]

    def _run_on_set(self, batch: dict[str, Any]) -> str | None:
        for callback in self._on_set:
            try:
                reason = callback(dict(batch))
            except Exception as exc:  # noqa: BLE001 - a callback's error rejects the change with its reason
                return f"{type(exc).__name__}: {exc}"
            if reason:
                return str(reason)
        return None

    @property
    def parameter_specs(self) -> dict[str, ParamSpec]:
        return dict(self._params.specs)

    # -- logging & lifecycle --------------------------------------------------------------
    def get_logger(self) -> _PrefixLogger:
        return self._logger

    def add_on_shutdown(self, callback: Callable[[], None]) -> None:
        self._on_shutdown.append(callback)

    def destroy(self) -> None:
        if self._closed:
            return
        for callback in reversed(self._on_shutdown):
            try:
                callback()
            except Exception as exc:  # noqa: BLE001 - shutdown must go on for the others
                self._logger.error(f"shutdown step failed: {exc}")
        with self._cv:
            self._closed = True
            self._cv.notify_all()
        with self._service_cv:
            self._service_cv.notify_all()
        for group in self._groups.values():
            group.close()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=5.0)
        for service in self._services:
            service.close()
        for sub in self._subscriptions:
            if sub.reader is not None:
                sub.reader.close()
        for writer in self._writers:
            writer.close()
        self.transport.remove_node(self)

    # -- executor -------------------------------------------------------------------------
    def _wake(self, sub: _StandaloneSubscription) -> None:
        with self._cv:
            self._ready.append(sub)
            self._cv.notify()

    def _spin(self) -> None:
        while True:
            with self._cv:
                while not self._closed:
                    if self._ready:
                        break
                    if self._timers and self._timers[0][0] <= time.monotonic():
                        break
                    timeout = self._timers[0][0] - time.monotonic() if self._timers else None
                    self._cv.wait(timeout)
                if self._closed:
                    return
                if self._ready:
                    work = self._ready.popleft()
                    timer = None
                else:
                    due, _, timer = heapq.heappop(self._timers)
                    if not timer.cancelled:
                        # Fixed-rate schedule (no drift); skip missed periods instead of bursting.
                        nxt = due + timer.period_s
                        now = time.monotonic()
                        if nxt < now:
                            nxt = now + timer.period_s - ((now - due) % timer.period_s)
                        heapq.heappush(self._timers, (nxt, next(self._seq), timer))
                    work = None
            if timer is not None:
                if not timer.cancelled:
                    self._run(timer.callback)
            elif work is not None:
                try:
                    msg = work.queue.popleft()
                except IndexError:
                    continue  # dropped by keep-last while queued
                self._run(work.callback, msg)

    def _run(self, callback: Callable[..., object], *args: Any) -> None:
        try:
            callback(*args)
        except Exception as exc:  # noqa: BLE001 - a callback's error is one line, the node keeps running
            # One clear line; the node keeps running (rclpy would stop the executor here,
            # the bridges catch their own errors, so reaching this is a bug worth reporting).
            self._logger.error(f"callback {getattr(callback, '__qualname__', callback)} raised "
                               f"{type(exc).__name__}: {exc}")

