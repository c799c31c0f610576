"""The transport seam of `StandaloneNode` (standalone/node.py): what moves messages between
publishers and subscriptions (`Transport`, its `Writer` and `Reader`), and `InProcessBus`, the
transport between nodes of one process (tests of one bridge, benchmarks, composed tools): the
message object itself is delivered, transient-local topics keep their last `depth` messages for
late subscribers, and recording taps get the CDR bytes. `dds_transport.DdsTransport` is the one
on the wire."""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from ..ros.qos import QoS
from .message_store import RosbagsMessages, messages_for

MessageCallback = Callable[[Any], None]
#: Recording tap: (topic, type_name, cdr_bytes, receive_time_ns, qos)
Tap = Callable[[str, str, bytes, int, QoS], None]
#: A service callback: (request, respond); `respond(response)` may be called later, from any thread.
ServiceHandler = Callable[[Any, Callable[[Any], None]], None]


class Writer(Protocol):
    def write(self, msg: Any) -> None: ...
    def matched_count(self) -> int: ...
    def close(self) -> None: ...


class Reader(Protocol):
    def close(self) -> None: ...


class Transport(Protocol):
    """Moves messages between publishers and subscriptions of (possibly) many nodes. `node` is
    the calling `StandaloneNode` (Any: node.py imports this module, not the other way round)."""

    messages: RosbagsMessages

    def create_writer(self, node: Any, topic: str, type_name: str, qos: QoS) -> Writer: ...

    def create_reader(self, node: Any, topic: str, type_name: str, qos: QoS,
                      deliver: MessageCallback) -> Reader: ...

    def create_service(self, node: Any, name: str, srv_type: str,
                       handler: ServiceHandler, qos: QoS) -> Any: ...

    def add_node(self, node: Any) -> None: ...

    def remove_node(self, node: Any) -> None: ...

    def add_tap(self, tap: Tap, counts_as_subscriber: bool = False) -> None:
        """Hand every message a local writer sends, as CDR bytes, to `tap` (recording, live
        viewers); `counts_as_subscriber`: every writer's `matched_count` includes the tap."""

    def remove_tap(self, tap: Tap) -> None:
        """Stop handing messages to `tap` (one added by `add_tap`)."""

    def close(self) -> None: ...


class InProcessBus:
    """Transport between nodes of this process: the message object itself is delivered."""

    def __init__(self, messages: RosbagsMessages | None = None):
        self.messages = messages or messages_for()
        self._lock = threading.Lock()
        self._readers: dict[str, list[_InProcReader]] = collections.defaultdict(list)
        self._latched: dict[str, collections.deque[Any]] = {}
        self._taps: list[Tap] = []
        self._listening: list[Tap] = []
        self._services: dict[str, tuple[str, ServiceHandler]] = {}

    def add_tap(self, tap: Tap, counts_as_subscriber: bool = False) -> None:
        """Every published message is also handed, CDR-serialised, to `tap` (recording).
        `counts_as_subscriber`: the tap is counted by every writer's `matched_count`."""
        self._taps = self._taps + [tap]
        if counts_as_subscriber:
            self._listening = self._listening + [tap]

    def remove_tap(self, tap: Tap) -> None:
        self._taps = [t for t in self._taps if t is not tap]
        self._listening = [t for t in self._listening if t is not tap]

    @property
    def listening_taps(self) -> int:
        return len(self._listening)

    def create_writer(self, node: Any, topic: str, type_name: str, qos: QoS) -> _InProcWriter:
        return _InProcWriter(self, topic, type_name, qos)

    def create_reader(self, node: Any, topic: str, type_name: str, qos: QoS,
                      deliver: MessageCallback) -> _InProcReader:
        reader = _InProcReader(self, topic, type_name, deliver)
        with self._lock:
            self._readers[topic].append(reader)
            latched = list(self._latched.get(topic, ()))
        for msg in latched:
            deliver(msg)
        return reader

    def create_service(self, node: Any, name: str, srv_type: str, handler: ServiceHandler,
                       qos: QoS) -> _InProcService:
        with self._lock:  # a second server of a name takes over (ROS 2 allows duplicates)
            self._services[name] = (srv_type, handler)
        return _InProcService(self, name, handler)

    def call_service(self, name: str, request: Any, timeout_s: float = 5.0) -> Any:
        """Call a service of a node on this bus (tests, composed tools): the response message."""
        with self._lock:
            entry = self._services.get(name)
        if entry is None:
            raise LookupError(f"service {name} is not available")
        done = threading.Event()
        box: list[Any] = []

        def respond(response: Any) -> None:
            box.append(response)
            done.set()

        entry[1](request, respond)
        if not done.wait(timeout_s):
            raise TimeoutError(f"service {name} did not reply within {timeout_s:g} s")
        return box[0]

    @property
    def services(self) -> dict[str, str]:
        with self._lock:
            return {name: srv for name, (srv, _) in self._services.items()}

    def add_node(self, node: Any) -> None:
        pass

    def remove_node(self, node: Any) -> None:
        pass

    def close(self) -> None:
        with self._lock:
            self._readers.clear()

    def _publish(self, writer: _InProcWriter, msg: Any) -> None:
        if writer.qos.durability.value == "transient_local":
            with self._lock:
                self._latched.setdefault(writer.topic, collections.deque(maxlen=writer.qos.depth)).append(msg)
        with self._lock:
            readers = list(self._readers.get(writer.topic, ()))
        for reader in readers:
            if reader.type_name != writer.type_name:
                continue
            reader.deliver(msg)
        if self._taps:
            cdr = self.messages.serialize(msg)
            t = time.time_ns()
            for tap in self._taps:
                tap(writer.topic, writer.type_name, cdr, t, writer.qos)


class _InProcWriter:
    def __init__(self, bus: InProcessBus, topic: str, type_name: str, qos: QoS):
        self.bus, self.topic, self.type_name, self.qos = bus, topic, type_name, qos

    def write(self, msg: Any) -> None:
        self.bus._publish(self, msg)

    def matched_count(self) -> int:
        with self.bus._lock:
            readers = sum(1 for r in self.bus._readers.get(self.topic, ()) if r.type_name == self.type_name)
        return readers + self.bus.listening_taps

    def close(self) -> None:
        pass


class _InProcReader:
    def __init__(self, bus: InProcessBus, topic: str, type_name: str, deliver: MessageCallback):
        self.bus, self.topic, self.type_name, self.deliver = bus, topic, type_name, deliver

    def close(self) -> None:
        with self.bus._lock:
            readers = self.bus._readers.get(self.topic, [])
            if self in readers:
                readers.remove(self)


class _InProcService:
    def __init__(self, bus: InProcessBus, name: str, handler: ServiceHandler):
        self.bus, self.name, self.handler = bus, name, handler

    def close(self) -> None:
        with self.bus._lock:
            if self.bus._services.get(self.name, (None, None))[1] is self.handler:
                del self.bus._services[self.name]
