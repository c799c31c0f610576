"""ROS 2 on the wire without ROS: a `Transport` over Cyclone DDS with rmw_cyclonedds_cpp conventions.

- topics `/foo` travel as DDS `rt/foo`, types as `pkg::msg::dds_::Type_` (final, XCDR1 only);
- payloads are plain CDR (little endian, header `00 01 00 00`, padded to 4 bytes with the pad
  count in the header options as XTypes specifies) encoded/decoded by `rosbags`: byte-identical
  to what a ROS 2 node sends, ~1000x faster than Cyclone's Python serializer for images;
- QoS mapped like rmw_cyclonedds_cpp (`dds_qos`);
- one DDS participant per transport (like one rclpy context), carrying many nodes, described on
  `ros_discovery_info` (`ros.discovery.GraphAnnouncer`) so they show in `ros2 node list`;
- `ROS_DOMAIN_ID` honoured; distro-specific wire details (GID size, `typehash=` USER_DATA):
  Jazzy's unless `ROS_DISTRO` names another distro; the Cyclone domain configured for
  `ROS_AUTOMATIC_DISCOVERY_RANGE` / `ROS_STATIC_PEERS` / `ROS_LOCALHOST_ONLY` as
  rmw_cyclonedds_cpp does it (`dds_config`).

Received samples are taken on one receive thread per transport (a WaitSet over all readers) and
handed to the subscription's `deliver` (which only queues for the node's executor). Writers are
thread-safe. Types that end in a byte blob (Image, CompressedImage, ...) are written and taken
through Cyclone's serdata calls (`dds_cdr`): no copy of the blob on our side of either end. Recording: `add_tap` sees the CDR bytes of every local write; `subscribe_raw` reads
any topic of the domain as CDR bytes; `discovered_topics` lists the domain's publications.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

from cyclonedds._clayer import ddspy_take, ddspy_write
from cyclonedds.builtin import BuiltinDataReader, BuiltinTopicDcpsPublication
from cyclonedds.core import (DDSException, GuardCondition, InstanceState, Policy, Qos, ReadCondition,
                             SampleState, ViewState, WaitSet)
from cyclonedds.domain import Domain, DomainParticipant
from cyclonedds.pub import DataWriter, Publisher
from cyclonedds.sub import DataReader, Subscriber
from cyclonedds.topic import Topic

from .cdr_encoder import CdrEncoder, pad_cdr, trailing_uint8_sequence
from .dds_cdr import CdrApi
from .dds_config import SHIPPED_CONFIG, cyclone_config, ros_distro  # noqa: F401 (SHIPPED_CONFIG re-exported)
from .distro import profile as distro_profile
from .dds_types import dds_topic_name, idl_struct, ros_topic_name, ros_type_name
from .discovery import GraphAnnouncer
from .messages import RosbagsMessages, UnknownMessageType, messages_for
from .names import validate_full_topic_name
from .qos import Durability, History, QoS, Reliability


RawCallback = Callable[[str, str, bytes, int, QoS], None]  # topic, type, cdr, time_ns, offered qos
_ANY = SampleState.Any | ViewState.Any | InstanceState.Any
_log = logging.getLogger("spot_bow_ros.dds")


class DdsError(RuntimeError):
    """DDS could not do what was asked (domain, entity creation). The message says what."""


# -- environment ---------------------------------------------------------------------------
def default_domain_id() -> int:
    """`ROS_DOMAIN_ID` (0 when unset), validated as ROS 2 does (0..232)."""
    text = os.environ.get("ROS_DOMAIN_ID", "").strip()
    if not text:
        return 0
    try:
        value = int(text)
    except ValueError:
        raise DdsError(f"ROS_DOMAIN_ID={text!r} is not an integer") from None
    if not 0 <= value <= 232:
        raise DdsError(f"ROS_DOMAIN_ID={value} is outside 0..232")
    return value


_domains: dict[int, Any] = {}
_domains_lock = threading.Lock()
_malloc_tuned = False

#: glibc `mallopt` parameters (malloc.h) and the values `tune_malloc` sets.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
MALLOC_MMAP_THRESHOLD = 32 * 1024 * 1024   # glibc's maximum (HEAP_MAX_SIZE / 2 on 64-bit)
MALLOC_TRIM_THRESHOLD = 128 * 1024 * 1024


def tune_malloc() -> bool:
    """Keep big buffers (images: 1-6 MB) on the malloc heap instead of fresh `mmap`s.

    Every image passes through ~5 buffers of its size per process (Cyclone's serdata and receive
    buffers, the Python bytes of a take, the CDR of a write), allocated on different threads.
    With glibc's defaults each of them is a new `mmap` whose pages fault in one by one (~675 page
    faults for 1280x720 bgr8), which measured ~2.5 ms of the 10 ms image latency here. Raising the
    mmap threshold to 32 MB and the trim threshold to 128 MB lets freed buffers be reused warm.
    Process-wide; done once, before the first Cyclone domain; skipped when not glibc, when the
    user set `MALLOC_MMAP_THRESHOLD_`/`MALLOC_TRIM_THRESHOLD_` themselves, or with
    `SPOT_BOW_ROS_MALLOC_TUNING=0`. Returns True if applied.
    """
    global _malloc_tuned
    if _malloc_tuned:
        return True
    if os.environ.get("SPOT_BOW_ROS_MALLOC_TUNING", "1").strip() == "0" or any(
            name in os.environ for name in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
        libc.gnu_get_libc_version  # glibc only: AttributeError elsewhere (musl, macOS)
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    _malloc_tuned = bool(mallopt(_M_MMAP_THRESHOLD, MALLOC_MMAP_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, MALLOC_TRIM_THRESHOLD))
    return _malloc_tuned


def _ensure_domain(domain_id: int, distro: str, config_xml: str | None) -> None:
    """Create the Cyclone domain once per process, configured as rmw_cyclonedds_cpp would be.

    `dds_config.cyclone_config`: the discovery fragment of ROS_AUTOMATIC_DISCOVERY_RANGE /
    ROS_STATIC_PEERS / ROS_LOCALHOST_ONLY, then `config_xml`, else CYCLONEDDS_URI, else the
    shipped tuning. Said in one debug log line (`--log-level debug`).
    """
    with _domains_lock:
        if domain_id in _domains:
            return
        tune_malloc()
        config = cyclone_config(distro, config_xml=config_xml)
        for note in config.options.notes:
            _log.warning(note)
        _log.debug(config.describe())  # --log-level debug shows it; not a line on every command
        try:
            _domains[domain_id] = Domain(domain_id, config.xml)
        except DDSException as exc:
            # Already created in this process by someone else (e.g. a plain participant): use it.
            _log.debug(f"DDS domain {domain_id} not configured by spot_bow_ros: {exc}")
            _domains[domain_id] = None


# -- QoS ------------------------------------------------------------------------------------
def dds_qos(qos: QoS, user_data: bytes | None = None) -> Qos:
    """Cyclone QoS for a ROS endpoint, as rmw_cyclonedds_cpp's `create_readwrite_qos` builds it.

    Reliable (max blocking time infinite) or best effort; volatile or transient local (with the
    durability service history equal to the endpoint history); keep-last depth or keep-all;
    autodispose off; XCDR1 data representation only.
    """
    if qos.history == History.KEEP_ALL:
        history = Policy.History.KeepAll
    else:
        history = Policy.History.KeepLast(max(1, int(qos.depth)))
    policies = [Policy.WriterDataLifecycle(autodispose=False), history,
                Policy.DataRepresentation(use_cdrv0_representation=True)]
    if qos.reliability == Reliability.RELIABLE:
        policies.append(Policy.Reliability.Reliable(max_blocking_time=2**63 - 1))
    else:
        policies.append(Policy.Reliability.BestEffort)
    if qos.durability == Durability.TRANSIENT_LOCAL:
        policies.append(Policy.Durability.TransientLocal)
        policies.append(Policy.DurabilityService(cleanup_delay=0, history=history, max_samples=-1,
                                                 max_instances=-1, max_samples_per_instance=-1))
    else:
        policies.append(Policy.Durability.Volatile)
    if user_data:
        policies.append(Policy.Userdata(data=user_data))
    return Qos(*policies)


def ros_qos_of(dds: Qos | None) -> QoS:
    """Our `QoS` from a discovered endpoint's Cyclone QoS (defaults where a policy is absent)."""
    depth, history = 1, History.KEEP_LAST
    reliability, durability = Reliability.RELIABLE, Durability.VOLATILE
    if dds is not None:
        for policy in dds:
            if policy == Policy.Reliability.BestEffort:
                reliability = Reliability.BEST_EFFORT
            elif isinstance(policy, Policy.Reliability.Reliable):
                reliability = Reliability.RELIABLE
            elif policy == Policy.Durability.TransientLocal:
                durability = Durability.TRANSIENT_LOCAL
            elif policy == Policy.History.KeepAll:
                history, depth = History.KEEP_ALL, 0
            elif isinstance(policy, Policy.History.KeepLast):
                depth = policy.depth
    return QoS(depth=depth, reliability=reliability, durability=durability, history=history)


def _only_byte_arrays(messages: RosbagsMessages, type_name: str) -> bool:
    """True if no array/sequence in `type_name` (recursively) has elements wider than one byte.

    Such messages can be decoded from a view that starts 4 bytes into the sample (no copy):
    rosbags' numpy views stay aligned since their elements are single bytes."""
    from rosbags.typesys.base import Nodetype

    fielddefs = messages.typestore.fielddefs

    def ok(desc: tuple, seen: frozenset) -> bool:
        kind, rest = desc
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


# -- endpoints ------------------------------------------------------------------------------
class DdsWriter:
    """A ROS publisher's DDS writer: rosbags CDR straight into Cyclone.

    With Cyclone's serdata API (`dds_cdr.CdrApi`) a message ending in a big uint8[] (Image,
    CompressedImage, ...) is written as [encoded head, pixel buffer, padding] without joining
    them first, and without holding the GIL while Cyclone sends; otherwise as one `bytes` through
    cyclonedds-python."""

    def __init__(self, transport: "DdsTransport", node: Any, topic: str, type_name: str, qos: QoS):
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
        return len(self._dw.get_matched_subscriptions()) + self.transport.listening_taps

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.transport._forget_writer(self)
        _delete(self._dw)


class ReceiveEndpoint:
    """A DataReader that the transport's receive thread drains (`drain()` when `_cond` triggers):
    the state and teardown shared by topic readers and service servers."""

    transport: Any

    def _init_reader(self, reader: DataReader) -> None:
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
        _delete(self._cond)
        _delete(self._dr)
        return True


class DdsReader(ReceiveEndpoint):
    """A subscription's DDS reader. Samples are taken on the transport's receive thread.

    With `raw=False` each sample is deserialized (rosbags) and passed to `deliver(msg)`; with
    `raw=True`, `deliver(topic, type_name, cdr_bytes, receive_time_ns, qos)` gets the CDR bytes.
    """

    def __init__(self, transport: "DdsTransport", node: Any, topic: str, type_name: str, qos: QoS,
                 deliver: Callable, raw: bool = False, offered_qos: QoS | None = None):
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
        except Exception as exc:  # one line per reader, keep receiving
            self._error_once(f"dropping a message on {self.topic} ({self.type_name}): {type(exc).__name__}: {exc}")

    def close(self) -> None:
        self._close_reader()


_cdr_api_checked: list = []  # [CdrApi | None] once checked in this process


def _checked_cdr_api(participant: DomainParticipant, messages: RosbagsMessages) -> CdrApi | None:
    """Cyclone's serdata API if it loads and round-trips a sample on this build (once per process)."""
    with _domains_lock:
        if not _cdr_api_checked:
            api = CdrApi.load()
            if api is not None:
                check_type = "std_msgs/msg/String"
                topic = Topic(participant, "spot_bow_ros_cdr_api_check", idl_struct(messages.typestore, check_type))
                cdr = bytes(pad_cdr(messages.typestore.serialize_cdr(messages.make(check_type, data="check"),
                                                                     check_type)))
                try:
                    if not api.verify(topic._ref, cdr):
                        _log.warning("Cyclone's serdata API failed its self-test: using cyclonedds-python's "
                                     "write/take (one more copy of every message)")
                        api = None
                finally:
                    _delete(topic)
            _cdr_api_checked.append(api)
        return _cdr_api_checked[0]


def _delete(entity: Any) -> None:
    try:
        entity.__del__()  # cyclonedds' explicit delete (idempotent)
    except Exception as exc:  # pragma: no cover - shutdown path
        _log.debug(f"deleting {entity!r}: {exc}")


# -- transport ------------------------------------------------------------------------------
class DdsTransport:
    """`Transport` (see ros.standalone) over Cyclone DDS, one participant for all its nodes."""

    def __init__(self, domain_id: int | None = None, distro: str | None = None, config_xml: str | None = None,
                 messages: RosbagsMessages | None = None, receive_batch_s: float = 0.0):
        """`distro`: the ROS 2 wire conventions (default: `ROS_DISTRO`, else Jazzy).
        `receive_batch_s`: after a wake-up the receive thread waits this long before taking,
        so that one pass over the readers takes many samples (recording: fewer wake-ups and
        empty takes per message; keep-last depths must hold that many seconds of samples)."""
        self.domain_id = default_domain_id() if domain_id is None else int(domain_id)
        if distro is None:
            distro, note = ros_distro()
            if note:
                _log.warning(note)
        self.distro = distro
        self.messages = messages or messages_for(distro)
        self.type_hashes = distro_profile(distro).type_hash
        self.gid_size = distro_profile(distro).gid_size
        _ensure_domain(self.domain_id, distro, config_xml)
        try:
            self._participant = DomainParticipant(
                self.domain_id, qos=Qos(Policy.Userdata(data=b"enclave=/;")))
        except DDSException as exc:
            raise DdsError(f"cannot join DDS domain {self.domain_id}: {exc}") from None
        self._publisher = Publisher(self._participant)
        self._subscriber = Subscriber(self._participant)
        self.cdr_api = _checked_cdr_api(self._participant, self.messages)
        self.gid = self._participant.guid.bytes
        self._lock = threading.RLock()
        self._topics: dict[str, tuple[Topic, str]] = {}
        self._writers: list[DdsWriter] = []
        self._readers: list[DdsReader] = []
        self._taps: list[RawCallback] = []
        self._listening: list[RawCallback] = []
        self._closed = False
        self._receive_batch_s = float(receive_batch_s)
        self._waitset = WaitSet(self._participant)
        self._guard = GuardCondition(self._participant)
        self._waitset.attach(self._guard)
        self._publications = BuiltinDataReader(self._participant, BuiltinTopicDcpsPublication)
        self._graph = GraphAnnouncer(self)
        self._thread = threading.Thread(target=self._receive, name=f"dds-rx:{self.domain_id}", daemon=True)
        self._thread.start()

    # -- Transport protocol -----------------------------------------------------------------
    def create_writer(self, node: Any, topic: str, type_name: str, qos: QoS) -> DdsWriter:
        writer = DdsWriter(self, node, topic, type_name, qos)
        with self._lock:
            self._writers.append(writer)
        self._graph.update()
        return writer

    def create_reader(self, node: Any, topic: str, type_name: str, qos: QoS,
                      deliver: Callable[[Any], None]) -> DdsReader:
        return self._add_reader(DdsReader(self, node, topic, type_name, qos, deliver))

    def create_service(self, node: Any, name: str, srv_type: str, handler: Callable, qos: QoS) -> Any:
        """A service of `node` on the domain (`dds_services.DdsServiceServer`)."""
        from .dds_services import DdsServiceServer

        return DdsServiceServer(self, node, name, srv_type, handler, qos)

    def add_node(self, node: Any) -> None:
        self._graph.add_node(node)

    def remove_node(self, node: Any) -> None:
        self._graph.remove_node(node)

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            readers, writers = list(self._readers), list(self._writers)
        self._guard.set(True)
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=5.0)
        for reader in readers:
            reader.close()
        for writer in writers:
            writer.close()
        self._graph.close()
        _delete(self._publications)
        _delete(self._waitset)
        _delete(self._participant)

    def __enter__(self) -> "DdsTransport":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- recording & tools ------------------------------------------------------------------
    def add_tap(self, tap: RawCallback, counts_as_subscriber: bool = False) -> None:
        """`tap(topic, type_name, cdr_bytes, time_ns, qos)` for every message a local writer sends
        (the bytes that went on the wire; nothing is serialized twice).

        `counts_as_subscriber`: the tap consumes every topic (a recorder, a live viewer), so
        each writer's `matched_count` includes it and lazy publishers keep publishing.
        """
        with self._lock:
            self._taps = self._taps + [tap]
            if counts_as_subscriber:
                self._listening = self._listening + [tap]

    def remove_tap(self, tap: RawCallback) -> None:
        with self._lock:
            self._taps = [t for t in self._taps if t is not tap]
            self._listening = [t for t in self._listening if t is not tap]

    @property
    def listening_taps(self) -> int:
        """Taps that count as a subscriber of every topic (see `add_tap`)."""
        return len(self._listening)

    def subscribe_raw(self, topic: str, type_name: str, callback: RawCallback,
                      qos: QoS | None = None) -> DdsReader:
        """Read `topic` of the domain (any process) as CDR bytes: `callback(topic, type, cdr, t_ns, qos)`.

        `qos` defaults to one that matches the discovered publishers (reliable only if all of them
        are, transient local only if all of them are), depth 100, as `ros2 bag record` adapts.
        """
        validate_full_topic_name(topic)
        type_name = self.messages.resolve(type_name)
        if qos is None:
            qos = self.adapted_qos(topic)
        reader = DdsReader(self, None, topic, type_name, qos, callback, raw=True,
                           offered_qos=self.offered_qos(topic) or qos)
        return self._add_reader(reader)

    def discovered_topics(self) -> dict[str, TopicInfo]:
        """ROS topics with publishers on the domain, by name (DCPSPublication + local writers).

        A topic published with several types is listed with the first type seen."""
        found: dict[str, TopicInfo] = {}
        for ep in self._publication_samples():
            topic, type_name = ros_topic_name(ep.topic_name), ros_type_name(ep.type_name)
            if topic is None or type_name is None:
                continue
            prev = found.get(topic)
            if prev is None:
                found[topic] = TopicInfo(topic, type_name, 1, ros_qos_of(ep.qos))
            else:
                found[topic] = TopicInfo(topic, prev.type_name, prev.publishers + 1, prev.qos)
        return found

    def wait_for_topic(self, topic: str, timeout_s: float) -> TopicInfo | None:
        """The topic's info once a publisher of it is discovered, or None after `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        while True:
            info = self.discovered_topics().get(topic)
            if info is not None or time.monotonic() >= deadline:
                return info
            time.sleep(0.05)

    def offered_qos(self, topic: str) -> QoS | None:
        info = self.discovered_topics().get(topic)
        return info.qos if info else None

    def adapted_qos(self, topic: str, depth: int = 100) -> QoS:
        """A reader QoS that matches every discovered publisher of `topic`."""
        offered = [ros_qos_of(ep.qos) for ep in self._publication_samples()
                   if ros_topic_name(ep.topic_name) == topic]
        reliable = bool(offered) and all(q.reliability == Reliability.RELIABLE for q in offered)
        latched = bool(offered) and all(q.durability == Durability.TRANSIENT_LOCAL for q in offered)
        return QoS(depth=depth,
                   reliability=Reliability.RELIABLE if reliable else Reliability.BEST_EFFORT,
                   durability=Durability.TRANSIENT_LOCAL if latched else Durability.VOLATILE)

    @property
    def writers(self) -> list[DdsWriter]:
        with self._lock:
            return list(self._writers)

    @property
    def readers(self) -> list[DdsReader]:
        with self._lock:
            return list(self._readers)

    # -- internals --------------------------------------------------------------------------
    def _topic(self, topic: str, type_name: str, dds_name: str | None = None, cls: Any = None) -> Topic:
        """The DDS topic of ROS topic `topic` (or of the DDS name `dds_name` with IDL struct `cls`:
        service topics)."""
        name = dds_name or dds_topic_name(topic)
        with self._lock:
            known = self._topics.get(name)
            if known is not None:
                if known[1] != type_name:
                    raise DdsError(f"topic {topic} is already used with type {known[1]} in this process, "
                                   f"not {type_name}")
                return known[0]
            try:
                cls = cls or idl_struct(self.messages.typestore, type_name)
            except KeyError:
                raise UnknownMessageType(f"unknown message type {type_name!r}") from None
            entity = Topic(self._participant, name, cls)
            self._topics[name] = (entity, type_name)
            return entity

    def _user_data(self, type_name: str, prefix: str = "") -> bytes | None:
        """Endpoint USER_DATA: `prefix` (e.g. `serviceid=...;`) and, on Iron and later, `typehash=`."""
        if not self.type_hashes:
            return prefix.encode() or None
        return f"{prefix}typehash={self.messages.type_hash(type_name)};".encode()

    def add_endpoint(self, reader: Any = None, writer: Any = None) -> None:
        """Register a service's reader (taken on the receive thread: `drain()`, `_cond`) and/or
        writer (listed with its node on `ros_discovery_info`: `gid`, `node`, `close()`)."""
        with self._lock:
            if writer is not None:
                self._writers.append(writer)
        if reader is not None:
            self._add_reader(reader)
        else:
            self._graph.update()

    def discovered_services(self) -> dict[str, str]:
        """ROS services served on the domain (a reply writer `rr/<name>Reply` exists): name -> type."""
        from .dds_types import ros_service_name

        found: dict[str, str] = {}
        for ep in self._publication_samples():
            named = ros_service_name(ep.topic_name, ep.type_name)
            if named is not None:
                found.setdefault(*named)
        return found

    def _publication_samples(self) -> list:
        """The alive writers of the domain (DCPSPublication), empty if it cannot be read."""
        try:
            return self._publications.read(N=100_000, condition=ReadCondition(
                self._publications, SampleState.Any | ViewState.Any | InstanceState.Alive))
        except DDSException as exc:  # pragma: no cover
            _log.warning(f"reading DCPSPublication failed: {exc}")
            return []

    def publications_changed(self) -> bool:
        """True if writers appeared or went since the last call (cheap: only unread
        DCPSPublication samples are read); `discovered_topics` then lists them."""
        try:
            return bool(self._publications.read(N=100_000, condition=ReadCondition(
                self._publications, SampleState.NotRead | ViewState.Any | InstanceState.Any)))
        except DDSException:  # pragma: no cover
            return True

    def _add_reader(self, reader: DdsReader) -> DdsReader:
        with self._lock:
            self._readers.append(reader)
            self._waitset.attach(reader._cond)
        if reader.node is not None:
            self._graph.update()
        self._guard.set(True)  # drain samples that arrived before the attach (transient local)
        return reader

    def _forget_reader(self, reader: DdsReader) -> None:
        with self._lock:
            if reader in self._readers:
                self._readers.remove(reader)
            try:
                self._waitset.detach(reader._cond)
            except DDSException:
                pass
        if reader.node is not None and not self._closed:
            self._graph.update()

    def _forget_writer(self, writer: DdsWriter) -> None:
        with self._lock:
            if writer in self._writers:
                self._writers.remove(writer)
        if not self._closed:
            self._graph.update()

    def _receive(self) -> None:
        while not self._closed:
            try:
                self._waitset.wait(1_000_000_000)
            except DDSException as exc:  # pragma: no cover
                _log.error(f"DDS wait failed: {exc}")
                time.sleep(0.1)
            if self._closed:
                return
            if self._receive_batch_s:
                time.sleep(self._receive_batch_s)
            self._guard.set(False)
            for reader in self.readers:
                reader.drain()
