"""`StandaloneContext`: several standalone nodes on one transport (one DDS participant) in one
process (the composed bridge, `spot-bow-ros run`), optionally recording what they publish."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ..ros.distro import ros_distro

if TYPE_CHECKING:
    from ..ros.qos import QoS
    from .node import StandaloneNode
    from .recorder import BagRecorder
    from .transport import Tap, Transport

_log = logging.getLogger("spot_bow_ros")


class StandaloneContext:
    """Several standalone nodes on one transport (one DDS participant), optionally recorded."""

    def __init__(self, transport: Transport):
        self.transport = transport
        self.nodes: list[StandaloneNode] = []
        self.recorders: list[BagRecorder] = []
        self._recorder_taps: list[Tap] = []  # one per recorder, removed from the transport on close
        self._closed = False

    def create_node(self, name: str, namespace: str = "/", parameter_overrides: dict[str, Any] | None = None,
                    remaps: dict[str, str] | None = None) -> StandaloneNode:
        from .node import StandaloneNode  # rosbags (pip): loaded only when the standalone runtime runs

        node = StandaloneNode(name, self.transport, namespace=namespace,
                              parameter_overrides=parameter_overrides or {}, remaps=remaps)
        self.nodes.append(node)
        return node

    def attach_recorder(self, output: str, storage: str = "mcap", topics: Iterable[str] | None = None,
                        exclude_types: Iterable[str] = (), **options: Any) -> BagRecorder:
        """Record what this process publishes (all topics, or `topics`, minus topics of
        `exclude_types`) to a rosbag2 at `output`, from the CDR bytes the writers already
        produced. Closed with the context."""
        from .recorder import BagRecorder

        recorder = BagRecorder(output, storage=storage, messages=self.transport.messages, **options)
        wanted = set(topics) if topics else None
        excluded = set(exclude_types)

        def tap(topic: str, type_name: str, cdr: bytes, t_ns: int, qos: QoS) -> None:
            if (wanted is None or topic in wanted) and type_name not in excluded:
                recorder.record(topic, type_name, cdr, t_ns, qos)

        recorder.start()
        # A recorder subscribes to what it records: lazy publishers (cameras) must publish.
        self.transport.add_tap(tap, counts_as_subscriber=True)
        self.recorders.append(recorder)
        self._recorder_taps.append(tap)
        return recorder

    def close(self) -> None:
        """Destroy every node (on-shutdown callbacks run), close recorders, then the transport."""
        if self._closed:
            return
        self._closed = True
        for node in reversed(self.nodes):
            try:
                node.destroy()
            except Exception as exc:  # noqa: BLE001 - keep shutting down the others
                _log.error(f"destroying node {node.name} failed: {exc}")
        for recorder, tap in zip(self.recorders, self._recorder_taps):
            self.transport.remove_tap(tap)
            recorder.close()
        self.transport.close()

    def __enter__(self) -> StandaloneContext:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def create_standalone_context(domain_id: int | None = None, distro: str | None = None,
                              transport: Transport | None = None) -> StandaloneContext:
    """A context over `transport`, or over a new `DdsTransport` (ROS_DOMAIN_ID, ROS_DISTRO)."""
    if transport is None:
        from .dds_transport import DdsTransport

        transport = DdsTransport(domain_id=domain_id, distro=distro or ros_distro()[0])
    return StandaloneContext(transport)
