"""`ros_discovery_info`: how ROS 2 learns which nodes own which DDS endpoints.

rmw_cyclonedds_cpp publishes one `rmw_dds_common/msg/ParticipantEntitiesInfo` per participant
(reliable, transient local, keep-last 1, DDS topic `ros_discovery_info` without the `rt` prefix)
listing its nodes with the GIDs of their readers and writers. Without it `ros2 node list` shows
nothing and `ros2 topic info -v` shows `_NODE_NAME_UNKNOWN_`. GIDs are the DDS GUID (16 bytes),
zero-padded to 24 bytes on Humble (Gid is `char[24]`) and exactly 16 on Iron and later.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import numpy as np

from ..ros.qos import LATCHED

DISCOVERY_TOPIC = "ros_discovery_info"
DISCOVERY_TYPE = "rmw_dds_common/msg/ParticipantEntitiesInfo"
_log = logging.getLogger("spot_bow_ros.dds")


class GraphAnnouncer:
    """Publishes the transport's nodes and their endpoints on `ros_discovery_info`."""

    def __init__(self, transport: Any):
        from cyclonedds.pub import DataWriter
        from cyclonedds.topic import Topic

        from .dds_idl import idl_struct
        from .dds_qos import dds_qos

        self.transport = transport
        self._lock = threading.RLock()  # update() builds and writes under it: last write = latest graph
        self._nodes: list[Any] = []
        self._closed = False
        cls = idl_struct(transport.messages.typestore, DISCOVERY_TYPE)
        topic = Topic(transport._participant, DISCOVERY_TOPIC, cls)
        # USER_DATA `typehash=` like every other endpoint (Iron and later; Humble: none)
        self._writer = DataWriter(transport._publisher, topic,
                                  dds_qos(LATCHED, transport._user_data(DISCOVERY_TYPE)))
        self.update()

    def gid(self, guid: bytes) -> Any:
        """`rmw_dds_common/msg/Gid` of a 16-byte DDS GUID for this distro."""
        data = np.zeros(self.transport.gid_size, dtype=np.uint8)
        data[:16] = np.frombuffer(guid, dtype=np.uint8)
        return self.transport.messages.make("rmw_dds_common/msg/Gid", data=data)

    def message(self) -> Any:
        """The current `ParticipantEntitiesInfo` of the transport."""
        make = self.transport.messages.make
        with self._lock:
            nodes = list(self._nodes)
        writers, readers = self.transport.writers, self.transport.readers
        infos = []
        for node in nodes:
            infos.append(make(
                "rmw_dds_common/msg/NodeEntitiesInfo",
                node_namespace=node.namespace, node_name=node.name,
                reader_gid_seq=[self.gid(r.gid) for r in readers if r.node is node],
                writer_gid_seq=[self.gid(w.gid) for w in writers if w.node is node]))
        return make(DISCOVERY_TYPE, gid=self.gid(self.transport.gid), node_entities_info_seq=infos)

    def add_node(self, node: Any) -> None:
        with self._lock:
            self._nodes.append(node)
        self.update()

    def remove_node(self, node: Any) -> None:
        with self._lock:
            self._nodes = [n for n in self._nodes if n is not node]
        self.update()

    def update(self) -> None:
        """Publish the current graph (after any node or endpoint change)."""
        if self._closed:
            return
        from cyclonedds._clayer import ddspy_write

        from .cdr_encoder import pad_cdr

        with self._lock:
            msg = self.message()
            cdr = pad_cdr(self.transport.messages.typestore.serialize_cdr(msg, DISCOVERY_TYPE))
            if not self._closed:
                ret = ddspy_write(self._writer._ref, cdr)
                if ret < 0:
                    _log.warning(f"publishing {DISCOVERY_TOPIC} failed: DDS error {ret}")

    def close(self) -> None:
        with self._lock:
            self._closed = True
        try:
            self._writer.__del__()
        except Exception:  # noqa: BLE001 - shutdown path; pragma: no cover
            pass
