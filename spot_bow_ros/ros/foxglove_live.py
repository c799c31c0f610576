"""Serve topics live to Foxglove over WebSocket, without ROS.

A recording tap (`(topic, type_name, cdr, t_ns, qos)`) that forwards the CDR bytes the standalone
runtime already has: schema encoding `ros2msg` (the `.msg` definition with its dependencies, as in
rosbag2 MCAP files), message encoding `cdr`. Needs the optional `foxglove-sdk` package.
"""

from __future__ import annotations

import threading
from typing import Any

from .messages import RosbagsMessages


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
        self._foxglove = foxglove
        self._messages = messages
        self._lock = threading.Lock()
        self._channels: dict[str, Any] = {}
        self.server = foxglove.start_server(name="spot_bow_ros", host=host, port=port)
        self.port = self.server.port if hasattr(self.server, "port") else port

    def tap(self, topic: str, type_name: str, cdr: bytes, t_ns: int, qos: Any = None) -> None:
        channel = self._channels.get(topic)
        if channel is None:
            with self._lock:
                channel = self._channels.get(topic)
                if channel is None:
                    schema = self._foxglove.Schema(name=type_name, encoding="ros2msg",
                                                   data=self._messages.msgdef(type_name).encode())
                    channel = self._foxglove.Channel(topic, schema=schema, message_encoding="cdr")
                    self._channels[topic] = channel
        channel.log(bytes(cdr), log_time=t_ns)

    def close(self) -> None:
        self.server.stop()
