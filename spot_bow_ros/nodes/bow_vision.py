"""bow_vision: ROS camera images <-> BOW `ImageSamples` (either BOW message set).

Out (ROS -> BOW): every `1/rate` s, the newest frame of each source in `sources` (ROS
`sensor_msgs/Image` topics, e.g. the Spot cameras `spot/camera/<name>/image` or the webcam
`webcam/image_raw`) goes into one `ImageSamples` on `bow/vision/out` (std_msgs/UInt8MultiArray,
binary protobuf), JPG (`compression: jpg`, default) or RAW (YUV422 colour, 16-bit depth).
`HFOV`/`VFOV` come from the source's `camera_info` (sibling topic). A source without a new frame
since the last message is left out.

In (BOW -> ROS): binary `ImageSamples` from any BOW robot on `bow/vision/binary` ->
`bow/vision/<Source>/image` (sensor_msgs/Image; JPG decoded) and `bow/vision/<Source>/camera_info`
(ideal pinhole from HFOV/VFOV, when given), stamped on receipt, frame id `frame_prefix` + Source.

`bow_messages` (`/**`): `documented` (the package's schema) or `sdk_v1` (the BOW SDK's classes).
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from typing import Any

import cv2
from google.protobuf.message import DecodeError

from ..bow import bow_data_pb2 as bow
from ..convert import bow_image
from ..convert import bow_v1_sensors as sensors
from ..convert import images as imconv
from ..ros.node_api import NodeHandle, stamp_from_ns
from ..ros.params import ParameterError, ParamSpec
from ..ros.qos import SENSOR_DATA, SENSOR_PUBLISHER
from .bow_messages import WarnOnce, bow_message_set
from .bow_v1 import payload_of

NODE_NAME = "bow_vision"

PARAMS: list[ParamSpec] = [
    ParamSpec("sources", [], "ROS image topics sent to BOW on bow/vision/out, one string each: TOPIC[:SOURCE] "
              "(SOURCE defaults to the topic's camera name). Example: [\"spot/camera/frontleft/image:frontleft\", "
              "\"webcam/image_raw:webcam\"]; empty: nothing sent", list_type=str),
    ParamSpec("rate", 10.0, "ImageSamples per second on bow/vision/out (Hz)", min=0.1, max=60.0),
    ParamSpec("compression", "jpg", "Image data sent to BOW: jpg or raw (YUV422 colour, 16-bit depth)",
              choices=["jpg", "raw"]),
    ParamSpec("jpeg_quality", 75, "JPEG quality of ImageSamples (percent)", min=1, max=100),
    ParamSpec("frame_prefix", "", "Prefix of frame ids of images from BOW (frame id = prefix + Source)"),
]


@dataclass
class _Source:
    topic: str
    name: str
    frame: Any = None
    info: Any = None
    fresh: bool = False
    frame_number: int = 0


def parse_source(entry: str) -> tuple[str, str]:
    """`TOPIC[:SOURCE]` -> (topic, BOW source name). The default name is the camera's: the topic's
    last path element that is not image/image_raw (`spot/camera/frontleft/image` -> frontleft)."""
    topic, _, name = str(entry).strip().partition(":")
    topic = topic.strip()
    if not topic:
        raise ParameterError(f"bow_vision sources entry {entry!r}: empty topic")
    if not name:
        parts = [p for p in topic.strip("/").split("/") if p not in ("image", "image_raw", "image_rect")]
        name = parts[-1] if parts else "camera"
    return topic, name


def _token(text: str) -> str:
    token = re.sub(r"[^A-Za-z0-9_]", "_", text).strip("_") or "camera"
    return f"cam_{token}" if token[0].isdigit() else token


class BowVisionBridge:
    """ROS images -> BOW ImageSamples on bow/vision/out; BOW ImageSamples -> ROS images."""

    def __init__(self, node: NodeHandle):
        self.node = node
        self.log = node.get_logger()
        self.make = getattr(getattr(node, "transport", None), "messages", None) or node.msg
        p = node.declare_parameters(PARAMS)
        self.params = p
        self.v1 = bow_message_set(node)
        self.compression = bow.ImageSample.JPG if p["compression"] == "jpg" else bow.ImageSample.RAW
        if self.compression == bow.ImageSample.RAW and not hasattr(cv2, "COLOR_BGR2YUV_UYVY"):
            self.log.warning(f"OpenCV {cv2.__version__} cannot write YUV422 (needs 4.9): sending JPG")
            self.compression = bow.ImageSample.JPG
        self.prefix: str = p["frame_prefix"]
        self._lock = threading.Lock()
        self._errors = WarnOnce(self.log, "bow_vision: ")
        self.sent = self.received = 0
        self.sources = [_Source(*parse_source(e)) for e in p["sources"]]
        for src in self.sources:
            node.create_subscription("sensor_msgs/msg/Image", src.topic, lambda m, s=src: self._on_image(s, m),
                                     SENSOR_DATA)
            info_topic = src.topic.rsplit("/", 1)[0] + "/camera_info" if "/" in src.topic else "camera_info"
            node.create_subscription("sensor_msgs/msg/CameraInfo", info_topic,
                                     lambda m, s=src: setattr(s, "info", m), SENSOR_DATA)
        self.pub_out = node.create_publisher("std_msgs/msg/UInt8MultiArray", "bow/vision/out", SENSOR_PUBLISHER)
        node.create_subscription("std_msgs/msg/UInt8MultiArray", "bow/vision/binary", self._on_bow, SENSOR_DATA)
        self._pubs: dict[str, tuple[Any, Any]] = {}
        self._timer = node.create_timer(1.0 / p["rate"], self.tick) if self.sources else None
        names = ", ".join(f"{s.topic} as '{s.name}'" for s in self.sources) or "none"
        self.log.info(f"bow_vision ({'sdk_v1' if self.v1 else 'documented'} messages): sending {names}")

    # -- ROS -> BOW ---------------------------------------------------------------------------
    def _on_image(self, src: _Source, msg: Any) -> None:
        with self._lock:
            src.frame, src.fresh = msg, True

    def samples(self) -> Any:
        """One ImageSamples (of the selected message set) with every source's new frame, or None."""
        with self._lock:
            ready = [(s, s.frame, s.info) for s in self.sources if s.fresh]
            for s, _, _ in ready:
                s.fresh = False
        out = self.v1.ImageSamples() if self.v1 is not None else bow.ImageSamples()
        for src, frame, info in ready:
            src.frame_number += 1
            try:
                sample = bow_image.sample_from_image_msg(
                    frame, source=src.name, frame_number=src.frame_number, compression=self.compression,
                    jpeg_quality=self.params["jpeg_quality"], camera_info=info)
            except (bow_image.BowImageError, imconv.ImageEncodingError, ValueError) as err:
                self._errors([f"{src.topic}: cannot convert the image ({err})"])
                continue
            out.Samples.append(sensors.v1_image_from_documented(sample, self.v1) if self.v1 is not None else sample)
        return out if len(out.Samples) else None

    def tick(self) -> None:
        """One timer tick: the latest image of each source as one binary ImageSamples on
        bow/vision/out (nothing when no source has a new image)."""
        out = self.samples()
        if out is not None:
            self.pub_out.publish(self.make("std_msgs/msg/UInt8MultiArray", data=out.SerializeToString()))
            self.sent += 1

    # -- BOW -> ROS ---------------------------------------------------------------------------
    def _on_bow(self, msg: Any) -> None:
        cls = self.v1.ImageSamples if self.v1 is not None else bow.ImageSamples
        try:
            samples = cls.FromString(payload_of(msg))
        except (DecodeError, ValueError, TypeError) as err:
            self._errors([f"bow/vision/binary: not a binary ImageSamples ({err})"])
            return
        stamp = stamp_from_ns(time.time_ns())
        for sample in samples.Samples:
            doc = sensors.documented_image_from_v1(sample) if self.v1 is not None else sample
            fid = bow_image.frame_id_for(doc.Source, doc.Designation)
            try:
                ros = bow_image.ros_image_from_sample(self.make, doc, stamp, frame_id=self.prefix + fid,
                                                      decode_jpeg=True)
            except (bow_image.BowImageError, imconv.ImageEncodingError) as err:
                self._errors([f"bow/vision/binary: {err}"])
                continue
            pub_image, pub_info = self._publishers(fid)
            pub_image.publish(ros.msg)
            if ros.camera_info is not None:
                pub_info.publish(ros.camera_info)
            self.received += 1

    def _publishers(self, source: str) -> tuple[Any, Any]:
        pubs = self._pubs.get(source)
        if pubs is None:
            base = f"bow/vision/{_token(source)}"
            pubs = self._pubs[source] = (
                self.node.create_publisher("sensor_msgs/msg/Image", f"{base}/image", SENSOR_PUBLISHER),
                self.node.create_publisher("sensor_msgs/msg/CameraInfo", f"{base}/camera_info", SENSOR_PUBLISHER))
        return pubs


def main(argv: list[str] | None = None) -> int:
    """The `bow_vision` node executable: run the bridge until shutdown; the exit code."""
    from ..backends.chooser import run_node

    return run_node(NODE_NAME, lambda node: BowVisionBridge(node), argv)


if __name__ == "__main__":
    raise SystemExit(main())
