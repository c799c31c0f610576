"""ROS 2 on the wire without ROS: a `Transport` over Cyclone DDS with rmw_cyclonedds_cpp conventions.

- topics `/foo` travel as DDS `rt/foo`, types as `pkg::msg::dds_::Type_` (final, XCDR1 only);
- payloads are plain CDR (little endian, header `00 01 00 00`, padded to 4 bytes with the pad
  count in the header options as XTypes specifies) encoded/decoded by `rosbags`: byte-identical
  to what a ROS 2 node sends, ~1000x faster than Cyclone's Python serializer for images;
- QoS mapped like rmw_cyclonedds_cpp (`dds_qos`);
- one DDS participant per transport (like one rclpy context), carrying many nodes, described on
  `ros_discovery_info` (`standalone.discovery.GraphAnnouncer`) so they show in `ros2 node list`;
- `ROS_DOMAIN_ID` honoured; distro-specific wire details (GID size, `typehash=` USER_DATA):
  Jazzy's unless `ROS_DISTRO` names another distro; the Cyclone domain configured for
  `ROS_AUTOMATIC_DISCOVERY_RANGE` / `ROS_STATIC_PEERS` / `ROS_LOCALHOST_ONLY` as
  rmw_cyclonedds_cpp does it (`cyclone_config`).

Received samples are taken on one receive thread per transport (a WaitSet over all readers) and
handed to the subscription's `deliver` (which only queues for the node's executor). Writers are
thread-safe. Types that end in a byte blob (Image, CompressedImage, ...) are written and taken
through Cyclone's serdata calls (`dds_serdata`): no copy of the blob on our side of either end.
Recording: `add_tap` sees the CDR bytes of every local write; `subscribe_raw` reads any topic of
the domain as CDR bytes; `discovered_topics` lists the domain's publications.

The endpoints are in `dds_endpoints`, the domain and QoS mapping in `dds_domain` and `dds_qos`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from cyclonedds.builtin import BuiltinDataReader, BuiltinTopicDcpsPublication
from cyclonedds.core import (
    DDSException,
    GuardCondition,
    InstanceState,
    Policy,
    Qos,
    ReadCondition,
    SampleState,
    ViewState,
    WaitSet,
)
from cyclonedds.domain import DomainParticipant
from cyclonedds.pub import Publisher
from cyclonedds.sub import Subscriber
from cyclonedds.topic import Topic

from ..ros.distro import profile as distro_profile
from ..ros.distro import ros_distro
from ..ros.names import UnknownMessageType, validate_full_topic_name
from ..ros.qos import Durability, QoS, Reliability
from .dds_domain import DdsError, checked_cdr_api, default_domain_id, delete_entity, ensure_domain
from .dds_endpoints import DdsReader, DdsWriter, RawCallback, TopicInfo
from .dds_idl import dds_topic_name, idl_struct, ros_service_name, ros_topic_name, ros_type_name
from .dds_qos import ros_qos_of
from .discovery import GraphAnnouncer
from .message_store import RosbagsMessages, messages_for
from .service_endpoints import DdsServiceServer, Respond

_log = logging.getLogger("spot_bow_ros.dds")


class DdsTransport:
    """`Transport` (see standalone.node) over Cyclone DDS, one participant for all its nodes."""

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
        ensure_domain(self.domain_id, distro, config_xml)
        try:
            self._participant = DomainParticipant(
                self.domain_id, qos=Qos(Policy.Userdata(data=b"enclave=/;")))
        except DDSException as exc:
            raise DdsError(f"cannot join DDS domain {self.domain_id}: {exc}") from None
        self._publisher = Publisher(self._participant)
        self._subscriber = Subscriber(self._participant)
        self.cdr_api = checked_cdr_api(self._participant, self.messages)
        self.gid = self._participant.guid.bytes
        self._lock = threading.RLock()
        self._topics: dict[str, tuple[Topic[Any], str]] = {}
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

    def create_service(self, node: Any, name: str, srv_type: str, handler: Callable[[Any, Respond], None],
                       qos: QoS) -> Any:
        """A service of `node` on the domain (`dds_services.DdsServiceServer`)."""
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
        delete_entity(self._publications)
        delete_entity(self._waitset)
        delete_entity(self._participant)

    def __enter__(self) -> DdsTransport:
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
    def _topic(self, topic: str, type_name: str, dds_name: str | None = None, cls: Any = None) -> Topic[Any]:
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
        found: dict[str, str] = {}
        for ep in self._publication_samples():
            named = ros_service_name(ep.topic_name, ep.type_name)
            if named is not None:
                found.setdefault(*named)
        return found

    def _publication_samples(self) -> list[Any]:
        """The alive writers of the domain (DCPSPublication samples: DcpsEndpoint), empty if it
        cannot be read."""
        try:
            return list(self._publications.read(N=100_000, condition=ReadCondition(
                self._publications, SampleState.Any | ViewState.Any | InstanceState.Alive)))
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
        while self._wait_for_data():
            if self._receive_batch_s:
                time.sleep(self._receive_batch_s)
            self._guard.set(False)
            for reader in self.readers:
                reader.drain()

    def _wait_for_data(self) -> bool:
        """Wait up to 1 s for a reader's data or the guard; False once the transport is closed
        (also while it waited)."""
        if self._closed:
            return False
        try:
            self._waitset.wait(1_000_000_000)
        except DDSException as exc:  # pragma: no cover
            _log.error(f"DDS wait failed: {exc}")
            time.sleep(0.1)
        return not self._closed
