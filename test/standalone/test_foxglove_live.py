"""Live Foxglove WebSocket serving of CDR topics (optional foxglove-sdk)."""

import base64
import json
import os
import socket
import struct

import pytest

pytest.importorskip("foxglove")

from spot_bow_ros.standalone.foxglove_live import FoxgloveLive
from spot_bow_ros.standalone.message_store import messages_for


def _ws_connect(port: int, protocol: str) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                  f"Sec-WebSocket-Protocol: {protocol}\r\n\r\n").encode())
    response = b""
    while b"\r\n\r\n" not in response:
        response += sock.recv(1)
    assert b" 101 " in response.split(b"\r\n")[0], response
    return sock


def _read_exact(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        assert chunk, "connection closed"
        data += chunk
    return data


def _ws_frame(sock: socket.socket) -> tuple[int, bytes]:
    """The next (unmasked, server-sent) WebSocket frame: (opcode, payload)."""
    b0, b1 = _read_exact(sock, 2)
    length = b1 & 0x7F
    if length == 126:
        length = struct.unpack(">H", _read_exact(sock, 2))[0]
    elif length == 127:
        length = struct.unpack(">Q", _read_exact(sock, 8))[0]
    return b0 & 0x0F, _read_exact(sock, length)


def _ws_text_frames(sock: socket.socket, count: int) -> list[dict]:
    """The next `count` text frames as JSON (binary frames skipped)."""
    out = []
    while len(out) < count:
        opcode, payload = _ws_frame(sock)
        if opcode == 1:
            out.append(json.loads(payload))
    return out


def test_channel_is_advertised_with_ros2msg_schema_and_cdr_encoding():
    messages = messages_for("humble")
    live = FoxgloveLive(messages, port=0)
    try:
        msg = messages("std_msgs/msg/String", data="hello")
        live.tap("/chatter", "std_msgs/msg/String", messages.serialize(msg), 1_000)
        sock = _ws_connect(live.port, "foxglove.sdk.v1")
        try:
            frames = _ws_text_frames(sock, 2)
        finally:
            sock.close()
    finally:
        live.close()
    ops = {f["op"]: f for f in frames}
    assert "serverInfo" in ops
    channels = ops["advertise"]["channels"]
    chatter = next(c for c in channels if c["topic"] == "/chatter")
    assert chatter["encoding"] == "cdr"
    assert chatter["schemaName"] == "std_msgs/msg/String"
    assert chatter["schemaEncoding"] == "ros2msg"
    assert "string data" in chatter["schema"]


def _ws_send_text(sock: socket.socket, payload: dict) -> None:
    data = json.dumps(payload).encode()
    mask = os.urandom(4)
    header = bytes([0x81]) + (bytes([0x80 | len(data)]) if len(data) < 126
                              else bytes([0x80 | 126]) + struct.pack(">H", len(data)))
    sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))


def _ws_next_binary(sock: socket.socket) -> bytes:
    while True:
        opcode, payload = _ws_frame(sock)
        if opcode == 2:
            return payload


def test_latched_message_is_sent_again_to_a_late_subscriber():
    """robot_description / tf_static are published once at start: a client connecting later gets them."""
    from spot_bow_ros.ros.qos import LATCHED

    messages = messages_for("humble")
    live = FoxgloveLive(messages, port=0)
    try:
        cdr = messages.serialize(messages("std_msgs/msg/String", data="<robot name='spot'/>"))
        live.tap("/robot_description", "std_msgs/msg/String", cdr, 5_000, LATCHED)
        sock = _ws_connect(live.port, "foxglove.sdk.v1")
        try:
            frames = _ws_text_frames(sock, 2)
            channel = next(c for f in frames if f["op"] == "advertise" for c in f["channels"]
                           if c["topic"] == "/robot_description")
            _ws_send_text(sock, {"op": "subscribe", "subscriptions": [{"id": 7, "channelId": channel["id"]}]})
            frame = _ws_next_binary(sock)
        finally:
            sock.close()
    finally:
        live.close()
    assert frame[0] == 0x01  # MessageData
    sub_id, log_time = struct.unpack("<IQ", frame[1:13])
    assert (sub_id, log_time) == (7, 5_000)
    assert frame[13:] == cdr
    assert live.resent == 1
