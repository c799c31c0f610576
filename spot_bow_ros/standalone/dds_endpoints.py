"""The DDS endpoints of the standalone runtime: a publisher's `DdsWriter` (rosbags CDR straight
into Cyclone, zero-copy for byte blobs), a subscription's `DdsReader` (taken on the transport's
receive thread) and `ReceiveEndpoint`, the reader state and teardown that service servers share.
`TopicInfo` describes a topic seen on the domain."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cyclonedds._clayer import ddspy_take, ddspy_write
from cyclonedds.core import InstanceState, ReadCondition, SampleState, ViewState
from cyclonedds.pub import DataWriter
from cyclonedds.sub import DataReader

from ..ros.qos import QoS
from .cdr_encoder import CdrEncoder, trailing_uint8_sequence
from .dds_domain import DdsError, delete_entity
from .dds_qos import dds_qos
from .message_store import RosbagsMessages

if TYPE_CHECKING:
    from rosbags.interfaces.typing import FieldDesc

RawCallback = Callable[[str, str, bytes, int, QoS], None]  # topic, type, cdr, time_ns, offered qos
# `transport` below is the `dds_transport.DdsTransport` that owns the endpoint (Any: the transport
# imports this module, not the other way round).
_ANY = SampleState.Any | ViewState.Any | InstanceState.Any
_log = logging.getLogger("spot_bow_ros.dds")


def _only_byte_arrays(messages: RosbagsMessages, type_name: str) -> bool:
    """True if no array/sequence in `type_name` (recursively) has elements wider than one byte.

    Such messages can be decoded from a view that starts 4 bytes into the sample (no copy):
    rosbags' numpy views stay aligned since their elements are single bytes."""
    from rosbags.interfaces import Nodetype

    fielddefs = messages.typestore.fielddefs

    def ok(desc: FieldDesc, seen: frozenset[str]) -> bool:
        kind = desc[0]
        rest: Any = desc[1]  # rosbags' FieldDesc union does not narrow on `kind`
        if kind == Nodetype.BASE:
            return True
        if kind == Nodetype.NAME:
            return rest in seen or all(ok(d, seen | {rest}) for _, d in fielddefs[rest][1])
        sub = rest[0]
        if sub[0] == Nodetype.BASE:
            return sub[1][0] in ("uint8", "int8", "byte", "char", "bool", "string", "wstring")
        return ok(sub, seen)

    return all(ok(d, frozenset({type_name})) for _, d in fielddefs[type_name][1])


@dataclass(frozen=True)
class TopicInfo:
    """A topic seen on the DDS domain (from DCPSPublication and local writers)."""

    topic: str          # ROS name, e.g. /camera/image_raw
    type_name: str      # ROS type, e.g. sensor_msgs/msg/Image
    publishers: int
    qos: QoS            # offered QoS of the first publisher seen


class DdsWriter:
    """A ROS publisher's DDS writer: rosbags CDR straight into Cyclone.

    With Cyclone's serdata API (`dds_cdr.CdrApi`) a message ending in a big uint8[] (Image,
    CompressedImage, ...) is written as [encoded head, pixel buffer, padding] without joining
    them first, and without holding the GIL while Cyclone sends; otherwise as one `bytes` through
    cyclonedds-python."""

    def __init__(self, transport: Any, node: Any, topic: str, type_name: str, qos: QoS):
        self.transport, self.node, self.topic, self.type_name, self.qos = transport, node, topic, type_name, qos
        self._dw = DataWriter(transport._publisher, transport._topic(topic, type_name),
                              dds_qos(qos, transport._user_data(type_name)))
        self._ref = self._dw._ref
        self._encoder = CdrEncoder(transport.messages, type_name)
        self.gid = self._dw.guid.bytes
        self._closed = False
        self._cdr_api = transport.cdr_api
        self._sertype = self._cdr_api.sertype(self._ref) if self._cdr_api else None

    def write(self, msg: Any) -> None:
        self.write_cdr(self.serialize(msg))

    def serialize(self, msg: Any) -> Any:
        """Wire CDR of `msg`: a bytes-like object, or a tuple of buffers to be sent back to back
        (a message ending in a big uint8[]: head, its pixel buffer, padding; no copy of the
        pixels); padded to 4, identical to rosbags' bytes + padding (`cdr_encoder`)."""
        chunks = self._encoder.chunks(msg, pad=True)
        return chunks[0] if len(chunks) == 1 else chunks

    def write_cdr(self, cdr: Any) -> None:
        """Write already-serialized CDR: bytes-like, or a tuple of buffers sent back to back
        (as `serialize` returns); the length is a multiple of 4."""
        if self._closed:
            raise DdsError(f"publisher on {self.topic} is closed")
        chunks = cdr if isinstance(cdr, tuple) else (cdr,)
        if len(chunks) == 1:  # small or contiguous: cyclonedds-python's write is cheaper (~40 us vs ~60)
            ret = ddspy_write(self._ref, chunks[0])
        elif self._sertype is not None:
            ret = self._cdr_api.write(self._ref, self._sertype, chunks, sum(memoryview(c).nbytes for c in chunks))
        else:
            ret = ddspy_write(self._ref, b"".join(chunks))
        if ret < 0:
            raise DdsError(f"writing on {self.topic} failed: DDS error {ret}")
        taps = self.transport._taps
        if taps:
            data = b"".join(chunks)
            now = time.time_ns()
            for tap in taps:
                tap(self.topic, self.type_name, data, now, self.qos)

    def matched_count(self) -> int:
        """Matched subscriptions (local and remote), like rclpy `get_subscription_count`."""
        if self._closed:
            return 0
        return len(self._dw.get_matched_subscriptions()) + int(self.transport.listening_taps)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.transport._forget_writer(self)
        delete_entity(self._dw)


class ReceiveEndpoint:
    """A DataReader that the transport's receive thread drains (`drain()` when `_cond` triggers):
    the state and teardown shared by topic readers and service servers."""

    transport: Any

    def _init_reader(self, reader: DataReader[Any]) -> None:
        self._dr = reader
        self._ref = reader._ref
        self._cond = ReadCondition(reader, SampleState.NotRead | ViewState.Any | InstanceState.Any)
        self.gid = reader.guid.bytes
        self._closed = False
        self._warned = False
        self.received = 0

    def _error_once(self, text: str) -> None:
        """Log `text` the first time only (one line per endpoint, it keeps receiving)."""
        if not self._warned:
            self._warned = True
            _log.error(text)

    def _close_reader(self) -> bool:
        """Stop receiving and delete the reader; False when it was closed already."""
        if self._closed:
            return False
        self._closed = True
        self.transport._forget_reader(self)
        delete_entity(self._cond)
        delete_entity(self._dr)
        return True


class DdsReader(ReceiveEndpoint):
    """A subscription's DDS reader. Samples are taken on the transport's receive thread.

    With `raw=False` each sample is deserialized (rosbags) and passed to `deliver(msg)`; with
    `raw=True`, `deliver(topic, type_name, cdr_bytes, receive_time_ns, qos)` gets the CDR bytes.
    """

    def __init__(self, transport: Any, node: Any, topic: str, type_name: str, qos: QoS,
                 deliver: Callable[..., None], raw: bool = False, offered_qos: QoS | None = None):
        self.transport, self.node, self.topic, self.type_name, self.qos = transport, node, topic, type_name, qos
        self.deliver, self.raw = deliver, raw
        self.offered_qos = offered_qos or qos  # handed to raw callbacks (recording metadata)
        self._init_reader(DataReader(transport._subscriber, transport._topic(topic, type_name),
                                     dds_qos(qos, transport._user_data(type_name))))
        self._decode = transport.messages.typestore.deserialize_cdr
        self._type = transport.messages.resolve(type_name)
        # Decode from a memoryview (no copy of the payload) when alignment cannot matter.
        self._view = not raw and _only_byte_arrays(transport.messages, self._type)
        # Cyclone's serdata calls for types that carry big byte blobs (images): no copy of the
        # blob. Small messages are cheaper through cyclonedds-python's batched take (~1 us vs ~7).
        self._cdr_api = transport.cdr_api if trailing_uint8_sequence(transport.messages, self._type) else None

    def drain(self) -> None:
        """Take every available sample and deliver it (receive thread)."""
        if self._cdr_api is not None:
            while not self._closed:
                count, cdr = self._cdr_api.take(self._ref, _ANY)
                if count <= 0:
                    return
                if cdr is not None:
                    self._deliver(cdr, time.time_ns())
            return
        while not self._closed:
            ret = ddspy_take(self._ref, _ANY, 16)
            if isinstance(ret, int) or not ret:
                return
            now = time.time_ns()
            for data, info in ret:
                if info.valid_data:
                    self._deliver(data, now)

    def _deliver(self, cdr: Any, now: int) -> None:
        """Hand one sample's CDR (bytes, or a read-only view over Cyclone's buffer) on."""
        self.received += 1
        try:
            if self.raw:
                self.deliver(self.topic, self.type_name, bytes(cdr), now, self.offered_qos)
            elif self._view:
                self.deliver(self._decode(memoryview(cdr), self._type))
            else:  # wider array elements: decode from an aligned copy
                self.deliver(self._decode(bytes(cdr), self._type))
        except Exception as exc:  # noqa: BLE001 - one line per reader, keep receiving
            self._error_once(f"dropping a message on {self.topic} ({self.type_name}): {type(exc).__name__}: {exc}")

    def close(self) -> None:
        self._close_reader()
