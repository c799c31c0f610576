"""Serve topics live to Foxglove over WebSocket, without ROS.

A recording tap (`(topic, type_name, cdr, t_ns, qos)`) that forwards the CDR bytes the standalone
runtime already has: schema encoding `ros2msg` (the `.msg` definition with its dependencies, as in
rosbag2 MCAP files), message encoding `cdr`. Needs the optional `foxglove-sdk` package.

Latched topics (transient-local QoS: `robot_description`, `/tf_static`) are published once, long
before a Foxglove client connects; as a ROS subscriber would get them late, the last message of
each is sent again whenever a client subscribes to its channel (so the 3D panel finds the URDF
and the static frames).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from ..ros.qos import Durability, QoS
from .message_store import RosbagsMessages

if TYPE_CHECKING:  # foxglove-sdk (optional, typed): imported when a server starts
    from foxglove import Channel
    from foxglove.websocket import ServerListener

#: delay before re-sending a latched message to a new subscriber (the server finishes the subscribe)
LATCHED_RESEND_DELAY_S = 0.05


class FoxgloveUnavailable(RuntimeError):
    """`foxglove-sdk` is not installed."""


class FoxgloveLive:
    """A Foxglove WebSocket server fed with CDR messages by the standalone runtime."""

    def __init__(self, messages: RosbagsMessages, port: int = 8765, host: str = "127.0.0.1"):
        try:
            import foxglove
        except ImportError as exc:
            raise FoxgloveUnavailable("--foxglove needs the foxglove-sdk package: "
                                      "pip install 'spot_bow_ros[foxglove]'") from exc
        self._messages = messages
        self._lock = threading.Lock()
        self._channels: dict[str, Channel] = {}
        self._latched: dict[str, tuple[bytes, int]] = {}
        self.resent = 0
        self.server = foxglove.start_server(name="spot_bow_ros", host=host, port=port,
                                            server_listener=self._listener())
        self.port = self.server.port if hasattr(self.server, "port") else port

    def tap(self, topic: str, type_name: str, cdr: bytes, t_ns: int, qos: QoS | None = None) -> None:
        channel = self._channels.get(topic)
        if channel is None:
            with self._lock:
                channel = self._channels.get(topic)
                if channel is None:
                    from foxglove import Channel, Schema  # imported by __init__ already

                    schema = Schema(name=type_name, encoding="ros2msg", data=self._messages.msgdef(type_name).encode())
                    channel = Channel(topic, schema=schema, message_encoding="cdr")
                    self._channels[topic] = channel
        data = bytes(cdr)
        if qos is not None and getattr(qos, "durability", None) == Durability.TRANSIENT_LOCAL:
            self._latched[topic] = (data, t_ns)
        channel.log(data, log_time=t_ns)

    def _listener(self) -> ServerListener:
        from foxglove.websocket import ChannelView, Client, ServerListener

        live = self

        class _Listener(ServerListener):
            def on_subscribe(self, client: Client, channel: ChannelView) -> None:
                if channel.topic in live._latched:
                    timer = threading.Timer(LATCHED_RESEND_DELAY_S, live._resend, args=(channel.topic,))
                    timer.daemon = True
                    timer.start()
        return _Listener()

    def _resend(self, topic: str) -> None:
        latched, channel = self._latched.get(topic), self._channels.get(topic)
        if latched is not None and channel is not None:
            channel.log(latched[0], log_time=latched[1])
            self.resent += 1

    def close(self) -> None:
        self.server.stop()
