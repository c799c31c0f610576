"""Image service bridge (node `image_service`): ROS image topics re-served to Spot.

Each entry of `sources` subscribes to one ROS topic (`sensor_msgs/Image` or
`sensor_msgs/CompressedImage`) and becomes one image source of a bosdyn `ImageService` gRPC
server, registered in the robot's directory so the tablet, data acquisition and every
`ImageClient` see it (`robot.ensure_client('<service_name>')`). Only the latest frame of each
topic is kept (a view of the message data, no copy); it is encoded on request and the result
cached per frame (see `spot/image_service.py`). Acquisition times are the ROS header stamps
converted to the robot clock with the connection's time sync.

`sources` entries are strings `TOPIC[:SOURCE_NAME[:raw|compressed]]` (ROS parameters cannot
hold lists of dicts; ROS names never contain ':'):
- `webcam/image_raw:webcam:raw` - `sensor_msgs/Image` on `webcam/image_raw` served as `webcam`;
- `webcam/image_raw/compressed:webcam_jpeg:compressed` - `CompressedImage`, the publisher's JPEG
  is served untouched when a request allows it;
- SOURCE_NAME defaults to the topic with '/' -> '_'; the transport defaults to `compressed`
  for topics ending in `/compressed`, else `raw`.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

from ..ros.node_api import NodeHandle
from ..ros.params import ParameterError, ParamSpec
from ..ros.qos import QoS, Reliability
from ..spot.image_service import (
    DEFAULT_AUTHORITY,
    DEFAULT_SERVICE_NAME,
    SERVICE_TYPE,
    ImageServiceServer,
    LatestFrameCamera,
    RosImageServicer,
)
from ..spot.image_service_frames import FrameError, frame_from_compressed, frame_from_image
from ..spot.service_registration import LiveClient, ServiceRegistration

NODE_NAME = "image_service"

PARAMS = [
    ParamSpec("sources", ["webcam/image_raw:webcam:raw"],
              "Image sources, one string each: TOPIC[:SOURCE_NAME[:raw|compressed]]. raw = "
              "sensor_msgs/Image (mono8, bgr8, rgb8, bgra8, rgba8, 16UC1 and 32FC1 depth), "
              "compressed = sensor_msgs/CompressedImage (JPEG, PNG, compressedDepth PNG). "
              "SOURCE_NAME defaults to the topic with '/' replaced by '_'; the transport to "
              "'compressed' for topics ending in /compressed, else 'raw'. "
              "Example: [\"webcam/image_raw:webcam:raw\", \"camera/depth/image_rect_raw:depth\"]",
              list_type=str),
    ParamSpec("service_name", DEFAULT_SERVICE_NAME, "Name of the service in the robot's directory "
              "(what clients pass to robot.ensure_client)"),
    ParamSpec("authority", DEFAULT_AUTHORITY, "Authority registered in the directory; the robot "
              "proxies <authority>.spot.robot to host_ip:port"),
    ParamSpec("host_ip", "", "IP address of this computer as the robot reaches it; empty: the "
              "local address of the route to the robot"),
    ParamSpec("bind_host", "", "Address the gRPC server listens on; empty: host_ip "
              "(0.0.0.0 listens on every interface)"),
    ParamSpec("service_port", 0, "TCP port of the image service's gRPC server (0: an ephemeral "
              "port); open it in the firewall for the robot. ('port' is the robot's port.)",
              min=0, max=65535),
    ParamSpec("jpeg_quality", 75, "JPEG quality for requests that do not set quality_percent",
              min=1, max=100),
    ParamSpec("stale_after", 2.0, "Seconds without a frame after which a source answers "
              "STATUS_IMAGE_DATA_ERROR and raises a service fault (0: never stale)", min=0.0, max=3600.0),
    ParamSpec("register", True, "Register the service in the robot's directory (false: serve "
              "on host_ip:port only)"),
    ParamSpec("registration_interval", 10.0, "Seconds between directory re-registrations (how "
              "fast the service reappears after a robot restart)", min=0.1, max=600.0),
    ParamSpec("max_workers", 8, "gRPC server threads (concurrent GetImage calls)", min=1, max=64),
]

_TOPIC_RE = re.compile(r"^[~/]?[A-Za-z_{][A-Za-z0-9_/{}~]*$")
_SOURCE_RE = re.compile(r"^[A-Za-z0-9_.\-]+$")


@dataclass(frozen=True)
class SourceEntry:
    """One `sources` entry: ROS topic, Spot image source name, 'raw' or 'compressed'."""

    topic: str
    name: str
    transport: str

    @property
    def msg_type(self) -> str:
        """The ROS message type subscribed for this entry's transport."""
        return "sensor_msgs/msg/CompressedImage" if self.transport == "compressed" else "sensor_msgs/msg/Image"


def parse_source_entry(text: str) -> SourceEntry:
    """`TOPIC[:SOURCE_NAME[:raw|compressed]]` -> SourceEntry; ParameterError naming the problem."""
    parts = [p.strip() for p in str(text).split(":")]
    if not 1 <= len(parts) <= 3 or not parts[0]:
        raise ParameterError(f"sources entry {text!r}: expected TOPIC[:SOURCE_NAME[:raw|compressed]]")
    topic = parts[0]
    if not _TOPIC_RE.match(topic) or "//" in topic or topic.endswith("/"):
        raise ParameterError(f"sources entry {text!r}: {topic!r} is not a valid ROS topic name")
    name = parts[1] if len(parts) > 1 and parts[1] else topic.strip("/~").replace("/", "_")
    if not _SOURCE_RE.match(name):
        raise ParameterError(f"sources entry {text!r}: image source name {name!r} may only hold "
                             f"letters, digits, '_', '-' and '.'")
    default = "compressed" if topic.endswith("/compressed") else "raw"
    transport = parts[2].lower() if len(parts) > 2 and parts[2] else default
    if transport not in ("raw", "compressed"):
        raise ParameterError(f"sources entry {text!r}: transport {parts[2]!r} is not raw or compressed")
    return SourceEntry(topic, name, transport)


def parse_sources(entries: list[str]) -> list[SourceEntry]:
    """All entries, checking that source names are unique and the list is not empty."""
    parsed = [parse_source_entry(e) for e in entries]
    if not parsed:
        raise ParameterError("sources is empty: nothing to serve")
    names = [p.name for p in parsed]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ParameterError(f"sources: image source name(s) {', '.join(dupes)} used more than once")
    return parsed


class LoggerAdapter:
    """A node logger (one string argument) usable where bosdyn helpers log with %-args.

    `debug`, `info`, `warning` (`warn`), `error` (`exception`) and `critical` take `logging.Logger`'s
    arguments; the message is %-formatted with the args (joined with spaces when they do not fit)
    and logged at that level (`critical` at error level)."""

    def __init__(self, logger: Any):
        self._logger = logger

    def _fmt(self, msg: Any, args: tuple) -> str:
        msg = str(msg)
        if args:
            try:
                msg = msg % args
            except (TypeError, ValueError):
                msg = " ".join([msg, *map(str, args)])
        return msg

    def debug(self, msg, *args, **kw): self._logger.debug(self._fmt(msg, args))
    def info(self, msg, *args, **kw): self._logger.info(self._fmt(msg, args))
    def warning(self, msg, *args, **kw): self._logger.warning(self._fmt(msg, args))
    warn = warning
    def error(self, msg, *args, **kw): self._logger.error(self._fmt(msg, args))
    exception = error
    def critical(self, msg, *args, **kw): self._logger.error(self._fmt(msg, args))


class ImageServiceBridge:
    """Subscriptions -> latest frames -> `ImageService` gRPC server -> robot directory.

    `connection`: a connected `SpotConnection` shared with other bridges; None creates one from
    the node's connection parameters (and shuts it down with the node).
    """

    def __init__(self, node: NodeHandle, connection: Any = None):
        self.node = node
        self.log = LoggerAdapter(node.get_logger())
        from ..spot.connection import SpotConnection
        from ..spot.connection_config import CONNECTION_PARAMS, ConnectionConfig

        specs = PARAMS if connection is not None else PARAMS + list(CONNECTION_PARAMS)
        p = node.declare_parameters(specs)
        self.params = p
        self.entries = parse_sources(p["sources"])
        self._owns_connection = connection is None
        if connection is None:
            connection = SpotConnection.shared(ConnectionConfig.from_params(p), node.get_logger())
            connection.connect()
        self.connection = connection
        self.registration: ServiceRegistration | None = None
        self.server: ImageServiceServer | None = None
        self._bad: dict[str, str] = {}  # source -> last ingestion error logged
        self._zero_stamp_logged: set[str] = set()
        try:
            self._start()
        except BaseException:
            self.shutdown()
            raise
        node.add_on_shutdown(self.shutdown)

    def _start(self) -> None:
        p = self.params
        from bosdyn.client.fault import FaultClient

        cameras = [LatestFrameCamera(e.name, e.topic, stale_after_s=p["stale_after"],
                                     default_quality=p["jpeg_quality"]) for e in self.entries]
        # Clients are looked up per call: the connection replaces its Robot when it reconnects.
        fault_client = LiveClient(self.connection, FaultClient.default_service_name)
        self.servicer = RosImageServicer(p["service_name"], cameras,
                                         local_to_robot_ns=self.connection.local_to_robot_ns,
                                         fault_client=fault_client, logger=self.log)
        host_ip = p["host_ip"] or self._self_ip()
        self.server = ImageServiceServer(self.servicer, p["bind_host"] or host_ip, p["service_port"],
                                         max_workers=p["max_workers"])
        self.servicer.start()
        qos = QoS(depth=1, reliability=Reliability.BEST_EFFORT)  # latest frame only; matches any publisher
        for entry in self.entries:
            parse = frame_from_compressed if entry.transport == "compressed" else frame_from_image
            self.node.create_subscription(entry.msg_type, entry.topic,
                                          lambda msg, e=entry, f=parse: self._on_frame(e, f, msg), qos)
        self.log.info(f"image service '{p['service_name']}' on {self.server.bind_host}:{self.server.port} "
                      f"serving {', '.join(f'{e.name} <- {e.topic} ({e.transport})' for e in self.entries)}")
        if p["register"]:
            from bosdyn.client.directory_registration import DirectoryRegistrationClient

            self.registration = ServiceRegistration(
                LiveClient(self.connection, DirectoryRegistrationClient.default_service_name),
                p["service_name"], SERVICE_TYPE, p["authority"], host_ip, self.server.port,
                interval_s=p["registration_interval"], logger=self.log,
                reauthenticate=getattr(self.connection, "reauthenticate", None))
            self.registration.start()
        if hasattr(self.connection, "on_connected"):
            self._initial_connection = True
            self.connection.on_connected(self._on_reconnected)

    def _on_reconnected(self, robot: Any) -> None:
        """After the connection came back (robot restart): faults and directory entry anew."""
        if self._initial_connection:  # on_connected also calls at once for the current robot
            self._initial_connection = False
            return
        self.servicer.reset_faults()
        if self.registration is not None:
            self.registration.refresh()

    def _self_ip(self) -> str:
        from bosdyn.client.common import get_self_ip

        hostname = getattr(getattr(self.connection, "config", None), "hostname", None) or "127.0.0.1"
        try:
            return get_self_ip(hostname)
        except OSError as exc:
            self.log.warning(f"cannot find this computer's address towards {hostname} ({exc}); "
                             f"using 127.0.0.1 (set host_ip)")
            return "127.0.0.1"

    def _on_frame(self, entry: SourceEntry, parse, msg: Any) -> None:
        try:
            frame = parse(msg, time.monotonic())
        except FrameError as exc:
            text = str(exc)
            if self._bad.get(entry.name) != text:
                self._bad[entry.name] = text
                self.log.warning(f"image source '{entry.name}': dropping frames from {entry.topic}: {text}")
            return
        if entry.name in self._bad:
            del self._bad[entry.name]
            self.log.info(f"image source '{entry.name}': frames from {entry.topic} are usable again")
        if frame.stamp_ns == 0:
            frame.stamp_ns = time.time_ns()
            if entry.name not in self._zero_stamp_logged:
                self._zero_stamp_logged.add(entry.name)
                self.log.warning(f"image source '{entry.name}': {entry.topic} has zero header stamps; "
                                 f"using the receive time as acquisition time")
        self.servicer.push(entry.name, frame)

    def shutdown(self) -> None:
        """Unregister, stop the server and the watchdog, close an owned connection. Idempotent."""
        registration, self.registration = self.registration, None
        if registration is not None:
            registration.stop()
        servicer = getattr(self, "servicer", None)
        if servicer is not None:
            servicer.stop()
        server, self.server = self.server, None
        if server is not None:
            server.stop()
        if self._owns_connection and self.connection is not None:
            connection, self.connection = self.connection, None
            connection.shutdown()


def main(argv: list[str] | None = None) -> int:
    """The `image_service` node executable: run the bridge until shutdown; the exit code."""
    from ..backends.chooser import run_node

    return run_node(NODE_NAME, lambda node: ImageServiceBridge(node), argv)


if __name__ == "__main__":
    raise SystemExit(main())
