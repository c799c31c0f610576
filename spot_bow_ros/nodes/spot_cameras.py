"""Spot camera bridge (node `spot_cameras`): Spot's image service to sensor_msgs topics.

Per camera name `<name>` in `cameras` (frontleft, frontright, left, right, back, hand):
- `spot/camera/<name>/image` (`sensor_msgs/Image`: JPEG decoded to mono8/bgr8, RAW passed through),
- `spot/camera/<name>/camera_info` (same stamp; K/P from the source's camera model),
- `spot/camera/<name>/image/compressed` (`sensor_msgs/CompressedImage`: the robot's JPEG bytes
  untouched; only with `image_format: jpeg`),
- with `depth: true`: `spot/depth/<name>/image` (16UC1, millimetres) and `spot/depth/<name>/camera_info`;
- with `depth_registered: true`: `spot/depth_registered/<name>/image` (16UC1 mm, from the robot's
  `*_depth_in_visual_frame` / `hand_depth_in_hand_color_frame`) and `.../camera_info` equal to the
  visual camera's (same size, K, frame): what depth_image_proc and RViz's DepthCloud expect;
- with `point_clouds: true`: `spot/depth/<name>/points` (sensor_msgs/PointCloud2, x y z float32 in
  the depth sensor's optical frame, organized or valid points only per `organized`) and, with
  `merged_cloud: true`, `spot/points`: the body cameras' clouds in `body`, voxel-downsampled;
  with `depth_registered` too, `spot/depth_registered/<name>/points`: x y z + rgb from the
  registered depth and the visual image of the same acquisition, in the visual camera's frame
  (depth_image_proc's point_cloud_xyzrgb).

A fetch thread asks for every due source in one call at `rate` Hz; decoding and publishing run
on a small pool; the node's executor is never blocked, so other bridges of the process go on.
A source is due only when one of its topics has a subscriber (a recorder counts as one).
Stamps are the acquisition time on the local clock (robot clock converted by the connection's
time sync); frame ids are `frame_prefix` + the image's sensor frame (`<cam>_fisheye` for
images, the housing `<cam>` for depth, as the robot reports them).

A source the robot refuses does not stop the others (bosdyn's ImageClient would fail the whole
call): `pixel_format: rgb` on a greyscale robot logs one line per source and falls back to the
camera's own format; an unknown source is dropped with one line. Depth arrives in the source's
units (`depth_scale`, 999 per metre on a real robot) and is published in millimetres.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from bosdyn.client.exceptions import Error as BosdynError
from bosdyn.client.image import ImageClient

from ..convert import camera_info as ci
from ..convert import images as imconv
from ..convert import pointcloud as pc
from ..convert.camera_info import camera_model_of_source
from ..convert.spot_catalogue import BODY_CAMERAS
from ..ros.node_api import NodeHandle, stamp_from_ns
from ..ros.params import ParameterError, ParamSpec
from ..ros.qos import QoS
from ..spot.cameras import (
    CAMERA_SOURCES,
    DEPTH,
    DEPTH_REGISTERED,
    VISUAL,
    CameraFetcher,
    FetchSchedule,
    Image,
    SourceRequest,
    SpotImage,
    ThrottledErrors,
    camera_model,
    depth_request,
    registered_depth_request,
    source_name,
    visual_request,
)
from ..spot.connection import SpotConnection, SpotConnectionError
from ..spot.connection_config import CONNECTION_PARAMS, ConnectionConfig
from ..spot.depth_clouds import (
    BODY_FRAME,
    CloudMerger,
    DepthClouds,
    RegisteredPairs,
    body_tform,
    depth_array,
    packed_colour,
)

NODE_NAME = "spot_cameras"
_PIXEL_FORMATS = {"auto": Image.PIXEL_FORMAT_UNKNOWN, "rgb": Image.PIXEL_FORMAT_RGB_U8,
                  "greyscale": Image.PIXEL_FORMAT_GREYSCALE_U8}
#: How many fetch periods a delayed fetch loop may catch up before it skips. Catch-up fetches
#: wait for the robot's next frame (FetchSchedule), so they never burst beyond the camera's rate.
CATCH_UP_PERIODS = 8

def decode_threads(param: int, cores: int | None = None) -> int:
    """Decode threads for the `decode_threads` parameter: itself, or with 0 one thread on up to 2
    cores (`cores`: default `os.cpu_count()`) and two on more."""
    if param > 0:
        return param
    cores = cores if cores is not None else (os.cpu_count() or 1)
    return 1 if cores <= 2 else 2


PARAMS = [
    ParamSpec("cameras", [*BODY_CAMERAS, "hand"],
              f"Cameras to bridge (any of {', '.join(CAMERA_SOURCES)}); ones the robot lacks are skipped "
              "with a warning"),
    ParamSpec("rate", 15.0, "Fetch rate in Hz for every camera (applied live)", min=0.1, max=60.0, live=True),
    ParamSpec("depth", False, "Also bridge the depth cameras (spot/depth/<name>/...)"),
    ParamSpec("depth_registered", False, "Also bridge the depth registered to the visual cameras "
              "(spot/depth_registered/<name>/image + camera_info of the visual camera)"),
    ParamSpec("point_clouds", False, "Publish spot/depth/<name>/points (PointCloud2 in the depth sensor's "
              "optical frame; also advertises the spot/depth/<name> topics)"),
    ParamSpec("organized", False, "Organized point clouds (height x width, NaN for pixels without depth, "
              "as depth_image_proc) instead of the valid points only"),
    ParamSpec("merged_cloud", False, "Publish spot/points: the body depth cameras' clouds merged in body "
              "(needs point_clouds)"),
    ParamSpec("voxel_size", 0.05, "Voxel edge (m) that spot/points is downsampled with (0: no downsampling)",
              min=0.0, max=2.0),
    ParamSpec("image_format", "jpeg", "Format to ask the robot for: jpeg (compressed topic = robot's "
              "bytes) or raw", choices=["jpeg", "raw"]),
    ParamSpec("pixel_format", "auto", "Pixel format to ask for on visual cameras: auto (the camera's own), "
              "rgb or greyscale; a camera that refuses it falls back to its own (one warning)",
              choices=["auto", "rgb", "greyscale"]),
    ParamSpec("jpeg_quality", 75, "JPEG quality the robot encodes with (percent)", min=1, max=100),
    ParamSpec("frame_prefix", "", "Prefix for frame ids (e.g. 'spot/'); frame ids are the image sensor "
              "frames of the robot (frontleft_fisheye, ...)"),
    ParamSpec("decode_threads", 0, "Threads that decode and publish images; 0: from the cores (1 on up to "
              "2 cores, where a second thread costs more in GIL hand-overs than it gains, else 2)", min=0, max=16),
    ParamSpec("request_timeout", 2.0, "Seconds to wait for the robot's images", min=0.1, max=30.0),
    ParamSpec("qos", "reliable", "Publisher QoS: reliable or best_effort",
              choices=["reliable", "best_effort", "sensor_data"]),
    ParamSpec("qos_depth", 5, "Publisher queue depth", min=1, max=100),
]


#: An image stamped more than this after the time it arrived cannot be right (ns).
FUTURE_STAMP_LIMIT_NS = 1_000_000_000


@dataclass
class _Outputs:
    image: Any
    info: Any
    compressed: Any | None
    points: Any | None = None
    last_stamp_ns: int = -1
    published: int = 0
    stale: int = 0
    future: int = 0                 # dropped: stamped after the time it arrived (a robot clock change)
    # who listens (image, compressed, camera_info), as counted by the last fetch cycle
    wants: tuple[bool, bool, bool] = (True, True, True)
    wants_points: bool = False      # its own points topic
    wants_merged: bool = False      # spot/points (body depth cameras)


class _FrameMessages:
    """Image / CameraInfo / CompressedImage of one frame, made through the node's message factory.

    The first message of each kind goes through `make` (the factory's defaults, conversions and
    the converters' checks). When the factory's classes are plain dataclasses holding numpy
    arrays (rosbags: the standalone backend), later messages are constructed straight from those
    classes -- no per-field conversion (~0.1 ms per frame less), the pixels handed over as a
    zero-copy uint8 view of the decoded array or the robot's bytes; other factories (rclpy) go
    on through `make` and the converters.
    """

    def __init__(self, make):
        self.make = make
        self._classes: dict[str, type] | None = None
        self._checked: set[tuple] = set()   # (encoding, dtype, ndim, channels) checked by the converter

    def _fast(self, sample) -> bool:
        if self._classes is None:
            classes: dict[str, type] = {}
            if dataclasses.is_dataclass(sample) and isinstance(getattr(sample, "data", None), np.ndarray):
                header = sample.header
                classes = {"Header": type(header), "Time": type(header.stamp)}
            self._classes = classes
        return bool(self._classes)

    def _cls(self, type_name: str) -> type:
        cls = self._classes.get(type_name)
        if cls is None:
            cls = self._classes[type_name] = type(self.make(type_name))
        return cls

    def header(self, stamp: tuple[int, int], frame_id: str):
        c = self._classes
        return c["Header"](stamp=c["Time"](sec=stamp[0], nanosec=stamp[1]), frame_id=frame_id)

    def image(self, image: SpotImage, stamp: tuple[int, int], frame_id: str):
        pixels = image.pixels
        if isinstance(pixels, np.ndarray):
            key = (image.encoding, pixels.dtype.str, pixels.ndim, pixels.shape[2] if pixels.ndim == 3 else 1)
            if (self._classes and key in self._checked and pixels.flags.c_contiguous and pixels.shape[0]
                    and pixels.dtype.byteorder != ">"):
                data = pixels.reshape(-1).view(np.uint8)  # a view: no copy
                return self._cls("sensor_msgs/msg/Image")(
                    header=self.header(stamp, frame_id), height=pixels.shape[0], width=pixels.shape[1],
                    encoding=image.encoding, is_bigendian=0, step=data.size // pixels.shape[0], data=data)
            msg = imconv.image_msg_from_array(self.make, pixels, image.encoding, stamp, frame_id, copy=False)
            if self._fast(msg):
                self._checked.add(key)
            return msg
        if self._classes and image.height:
            dtype, channels = imconv.encoding_info(image.encoding)
            step = image.width * channels * dtype.itemsize
            if len(pixels) == step * image.height:  # RAW sizes are checked by decode_response
                return self._cls("sensor_msgs/msg/Image")(
                    header=self.header(stamp, frame_id), height=image.height, width=image.width,
                    encoding=image.encoding, is_bigendian=0, step=step, data=np.frombuffer(pixels, np.uint8))
        msg = imconv.image_msg_from_buffer(self.make, pixels, image.height, image.width, image.encoding,
                                           stamp, frame_id)
        self._fast(msg)
        return msg

    def compressed(self, image: SpotImage, stamp: tuple[int, int], frame_id: str):
        if self._classes and isinstance(image.jpeg, bytes):
            return self._cls("sensor_msgs/msg/CompressedImage")(
                header=self.header(stamp, frame_id), format=imconv.jpeg_format_string(image.jpeg_encoding),
                data=np.frombuffer(image.jpeg, np.uint8))
        return imconv.compressed_msg_from_jpeg(self.make, image.jpeg, image.jpeg_encoding, stamp, frame_id)

    def restamped_info(self, info, stamp: tuple[int, int]):
        """`info` (built once per source) with a new stamp; calibration arrays shared, not copied."""
        if self._classes and dataclasses.is_dataclass(info):
            return type(info)(header=self.header(stamp, info.header.frame_id), height=info.height,
                              width=info.width, distortion_model=info.distortion_model, d=info.d, k=info.k,
                              r=info.r, p=info.p, binning_x=info.binning_x, binning_y=info.binning_y,
                              roi=info.roi)
        return ci.restamp(self.make, info, stamp)


def _outputs(node: Any, base: str, qos: Any, compressed: bool = False, points: bool = False) -> _Outputs:
    """The publishers of one stream: `base`/image and /camera_info, with `compressed`
    /image/compressed, with `points` /points."""
    return _Outputs(
        node.create_publisher("sensor_msgs/msg/Image", f"{base}/image", qos),
        node.create_publisher("sensor_msgs/msg/CameraInfo", f"{base}/camera_info", qos),
        (node.create_publisher("sensor_msgs/msg/CompressedImage", f"{base}/image/compressed", qos)
         if compressed else None),
        node.create_publisher("sensor_msgs/msg/PointCloud2", f"{base}/points", qos) if points else None)


class SpotCamerasBridge:
    """Fetch -> decode -> publish for the configured cameras. Stops with the node."""

    def __init__(self, node: NodeHandle, connection: SpotConnection | None = None):
        self.node = node
        self.log = node.get_logger()
        values = node.declare_parameters([*CONNECTION_PARAMS, *PARAMS])
        self.params = values
        unknown = [c for c in values["cameras"] if c not in CAMERA_SOURCES]
        if unknown:
            raise ParameterError(f"parameter 'cameras': unknown camera(s) {', '.join(unknown)} "
                                 f"(expected some of {', '.join(CAMERA_SOURCES)})")
        self.cameras: list[str] = list(dict.fromkeys(values["cameras"]))
        self.rate: float = values["rate"]
        self.depth: bool = values["depth"]
        self.point_clouds: bool = values["point_clouds"]
        self.organized: bool = values["organized"]
        if values["merged_cloud"] and not self.point_clouds:
            raise ParameterError("parameter 'merged_cloud' needs 'point_clouds: true'")
        self.jpeg = values["image_format"] == "jpeg"
        self.quality = float(values["jpeg_quality"])  # ImageRequest.quality_percent is a double
        self.pixel_format = _PIXEL_FORMATS[values["pixel_format"]]
        self.frame_prefix: str = values["frame_prefix"]
        qos = QoS.parse(values["qos"], depth=values["qos_depth"])
        self.outputs: dict[tuple[str, str], _Outputs] = {}
        for cam in self.cameras:
            self.outputs[(cam, VISUAL)] = _outputs(node, f"spot/camera/{cam}", qos, compressed=self.jpeg)
            if self.depth or self.point_clouds:
                self.outputs[(cam, DEPTH)] = _outputs(node, f"spot/depth/{cam}", qos, points=self.point_clouds)
            if values["depth_registered"]:
                self.outputs[(cam, DEPTH_REGISTERED)] = _outputs(node, f"spot/depth_registered/{cam}", qos,
                                                                 points=self.point_clouds)
        self.clouds = DepthClouds()
        self.pairs = RegisteredPairs()
        self._rgb_cams: set[str] = set()  # cameras whose registered points are wanted (need the visual)
        self.merger = CloudMerger(values["voxel_size"])
        self.pub_merged = (node.create_publisher("sensor_msgs/msg/PointCloud2", "spot/points", qos)
                           if values["merged_cloud"] else None)
        self._owns_connection = connection is None
        self.connection = connection or SpotConnection.shared(ConnectionConfig.from_params(values), self.log)
        self.errors = ThrottledErrors(self.log)
        self.fetcher = CameraFetcher(lambda: self.connection.ensure_client(ImageClient.default_service_name),
                                     self.connection.robot_to_local_ns, self._publish, self._on_error,
                                     workers=decode_threads(values["decode_threads"]),
                                     timeout_s=values["request_timeout"],
                                     on_notice=self._on_notice)
        self._lock = threading.Lock()
        self._future_sources: set[str] = set()   # sources whose last image was stamped in the future
        self._infos: dict[tuple[str, int, int, str], Any] = {}
        self._messages = _FrameMessages(node.msg)
        self._sources_checked = False
        self._sources: dict[str, Any] = {}  # the robot's ImageSources by name (camera models)
        self._skipped: set[tuple[str, str]] = set()
        self._stop = threading.Event()
        self.cycles = 0
        self.schedule: FetchSchedule | None = None
        self.connection.on_connected(lambda robot: self._recheck_sources())
        if self._owns_connection:
            try:
                self.connection.connect()  # start-up policy of every bridge: fail fast, one line
            except SpotConnectionError:
                self.connection.shutdown()
                raise
        self._thread = threading.Thread(target=self._loop, name="spot-cameras-fetch", daemon=True)
        node.add_on_shutdown(self.stop)
        if hasattr(node, "on_parameters_set"):
            node.on_parameters_set(self.on_parameters_set)
        self._thread.start()

    def on_parameters_set(self, changes: dict[str, Any]) -> str | None:
        """Live parameters: `rate` (the fetch schedule restarts at the new period)."""
        if "rate" in changes:
            self.rate = float(changes["rate"])
            sched = self.schedule
            if sched is not None:
                sched.period = 1.0 / self.rate
                sched.reset(time.monotonic())
            self.log.info(f"fetch rate now {self.rate:g} Hz")
        return None

    # -- lifecycle --------------------------------------------------------------------------
    def stop(self) -> None:
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=5.0)
        self.fetcher.close()
        if self._owns_connection:
            self.connection.shutdown()

    def published(self, camera: str, kind: str = VISUAL) -> int:
        return self.outputs[(camera, kind)].published

    # -- fetch thread -----------------------------------------------------------------------
    def _recheck_sources(self) -> None:
        self._sources_checked = False
        self._infos = {}  # a reconnected (or replaced) robot may report other intrinsics
        self.fetcher.adjusted.clear()  # ... and other pixel formats

    def _check_sources(self) -> None:
        """Skip (with one warning) configured cameras the robot does not have."""
        try:
            available = self.fetcher.list_sources()
        except (BosdynError, SpotConnectionError) as err:
            self.log.warning(f"cannot list the robot's image sources ({type(err).__name__}); asking for all")
            self._sources_checked = True
            return
        self._skipped = set()
        self._sources = available
        with self._lock:
            self._infos = {}
        for (cam, kind) in self.outputs:
            source = source_name(cam, kind)
            if source not in available:
                self._skipped.add((cam, kind))
                self.log.warning(f"the robot has no image source '{source}': {kind} camera '{cam}' is skipped")
        self._sources_checked = True

    def due_requests(self) -> list[SourceRequest]:
        """The sources that someone listens to now."""
        fmt = Image.FORMAT_JPEG if self.jpeg else Image.FORMAT_RAW
        merged = self.pub_merged is not None and self.pub_merged.get_subscription_count() > 0
        requests = []
        merging = []
        self._rgb_cams = {cam for (cam, kind), out in self.outputs.items()
                          if kind == DEPTH_REGISTERED and out.points is not None
                          and (cam, kind) not in self._skipped and out.points.get_subscription_count() > 0}
        for (cam, kind), out in self.outputs.items():
            if (cam, kind) in self._skipped:
                continue
            wants_image = out.image.get_subscription_count() > 0
            wants_compressed = out.compressed is not None and out.compressed.get_subscription_count() > 0
            wants_info = out.info.get_subscription_count() > 0
            out.wants = (wants_image, wants_compressed, wants_info)
            out.wants_points = out.points is not None and out.points.get_subscription_count() > 0
            out.wants_merged = merged and kind == DEPTH and cam in BODY_CAMERAS
            if out.wants_merged:
                merging.append(cam)
            colour = kind == VISUAL and cam in self._rgb_cams
            if not (wants_image or wants_compressed or wants_info or out.wants_points or out.wants_merged
                    or colour):
                continue
            decode = wants_image or out.wants_points or out.wants_merged
            if kind == VISUAL:
                requests.append(visual_request(cam, fmt, self.quality, decode=wants_image or colour,
                                               pixel_format=self.pixel_format))
            elif kind == DEPTH:
                requests.append(depth_request(cam, decode=decode))
            else:
                requests.append(registered_depth_request(cam, decode=decode))
        self.merger.expect(merging)
        return requests

    def _loop(self) -> None:
        """Fetch at `rate` (`FetchSchedule`), but not before the robot has newer frames (at or above
        the camera's rate the cycles follow its frames): the call for cycle n+1 overlaps decoding of cycle n;
        cycles delayed (e.g. the OS did not schedule us) are caught up, up to CATCH_UP_PERIODS,
        but never before the robot has a newer frame; later than that the missed cycles are
        skipped. A source whose fetch returned a frame already delivered is not decoded again but
        asked for once more right after the robot's next frame, within the cycle."""
        sched = self.schedule = FetchSchedule(1.0 / self.rate, CATCH_UP_PERIODS)
        pending: list = []
        retry: set[str] = set()            # sources to ask for again in this cycle
        next_cycle_at = time.monotonic()
        was_connected = False
        while not self._stop.is_set():
            if not self.connection.connected:
                was_connected = False
                self._stop.wait(0.1)
                continue
            if not was_connected:  # (re)connected: start the schedule and learn the robot anew
                was_connected = True
                sched.forget()
                sched.reset(time.monotonic())
                next_cycle_at, retry = sched.next_t, set()
            if not self._sources_checked:
                self._check_sources()
            requests = self.due_requests()
            in_retry = bool(retry)
            if in_retry:
                requests = [r for r in requests if r.source in retry]
            dups: list[SourceRequest] = []
            if requests:
                try:
                    sent_at = time.monotonic()
                    pairs = self.fetcher.request_images(requests)
                    offset_ns = time.time_ns() - time.monotonic_ns()
                    to_local = self.connection.robot_to_local_ns
                    fresh, dups = sched.sort(pairs, sent_at, lambda ns: (to_local(ns) - offset_ns) * 1e-9)  # noqa: B023 - called here
                    for future in pending:  # bounded backlog: one batch decoding at a time
                        future.result()
                    pending = self.fetcher.deliver_async(fresh)
                except SpotConnectionError:
                    pass  # the connection logs its own state changes
                except Exception as err:  # noqa: BLE001 - keep fetching
                    self.log.error(f"fetching camera images failed: {type(err).__name__}: {err}")
            now = time.monotonic()
            if not in_retry:
                self.cycles += 1
                next_cycle_at = sched.advance(now, [r.source for r in requests])
            retry_at = sched.retry_at(dups, now, next_cycle_at)
            if retry_at is not None:
                retry, wake = {r.source for r in dups}, retry_at
            else:
                retry, wake = set(), next_cycle_at
            if wake > now:
                self._stop.wait(wake - now)
        for future in pending:
            future.cancel()

    # -- decode/publish threads ---------------------------------------------------------------
    def _on_error(self, request: SourceRequest, message: str) -> None:
        self.errors.error(request.source, message)

    def _on_notice(self, request: SourceRequest, message: str) -> None:
        self.log.warning(f"camera source {request.source}: {message}; other cameras continue")

    def _publish(self, image: SpotImage) -> None:
        req = image.request
        out = self.outputs[(req.camera, req.kind)]
        # Acquired after it arrived: converted with the skew of a robot clock that has since
        # stepped or restarted. Published, it would hold back every correct (older) frame until
        # local time caught up with it: dropped, said once, until time sync follows the robot.
        ahead_ns = image.stamp_ns - time.time_ns()
        in_future = ahead_ns > FUTURE_STAMP_LIMIT_NS
        with self._lock:  # never publish an older image after a newer one
            if in_future:
                out.future += 1
                say = req.source not in self._future_sources
                self._future_sources.add(req.source)
            elif image.stamp_ns <= out.last_stamp_ns:
                out.stale += 1
                return
            else:
                out.last_stamp_ns = image.stamp_ns
                self._future_sources.discard(req.source)
        if in_future:
            if say:
                self.log.warning(f"camera source {req.source}: image stamped {ahead_ns / 1e9:.1f} s in the future "
                                 "(the robot clock changed: restart or clock step); dropped until time sync "
                                 "follows the robot")
            return
        self.errors.ok(req.source)
        msgs = self._messages
        stamp = stamp_from_ns(image.stamp_ns)
        frame_id = self.frame_prefix + image.frame_id
        wants_image, wants_compressed, wants_info = out.wants  # counted when this image was asked for
        if image.pixels is not None and wants_image:
            out.image.publish(msgs.image(image, stamp, frame_id))
        if image.jpeg is not None and out.compressed is not None and wants_compressed:
            out.compressed.publish(msgs.compressed(image, stamp, frame_id))
        if wants_info:
            key = (req.source, image.width, image.height, frame_id)
            info = self._infos.get(key)
            if info is None:  # the camera model of a source is fixed: built once, restamped per image
                make = self.node.msg
                k, model, d = self._camera_model(image)
                info = self._infos[key] = (
                    ci.camera_info_msg(make, image.width, image.height, k, d, model, frame_id=frame_id) if k[0]
                    else ci.empty_camera_info(make, image.width, image.height, frame_id=frame_id))
            out.info.publish(msgs.restamped_info(info, stamp))
        if image.pixels is not None and req.camera in self._rgb_cams and req.kind in (VISUAL, DEPTH_REGISTERED):
            self._publish_rgb_points(image)
        elif image.pixels is not None and (out.wants_points or out.wants_merged):
            self._publish_points(image, out, stamp, frame_id)
        with self._lock:
            out.published += 1

    def _camera_model(self, image: SpotImage) -> tuple[list[float], str, list[float]]:
        """(K, model, D) of an image; registered depth takes its visual camera's model (the robot
        registers the depth into that camera, so both must match for depth_image_proc)."""
        req = image.request
        if req.kind == DEPTH_REGISTERED:
            visual = self._sources.get(source_name(req.camera, VISUAL))
            if visual is not None and visual.WhichOneof("camera_models"):
                return camera_model_of_source(visual, image.width, image.height)
        return camera_model(image)

    def _publish_rgb_points(self, image: SpotImage) -> None:
        """spot/depth_registered/<name>/points once both the registered depth and the visual image
        of one acquisition are here (decode worker threads)."""
        if image.request.kind == VISUAL:
            other = self.pairs.offer(image, DEPTH_REGISTERED)
            depth, visual = other, image
        else:
            other = self.pairs.offer(image, VISUAL)
            depth, visual = image, other
        if other is None:
            return
        try:
            rgb = packed_colour(visual, depth.width, depth.height)
            k, _model, _d = self._camera_model(depth)
            points = pc.cloud_points(depth_array(depth), self.clouds.deprojector(depth, k), self.organized, rgb)
        except (ValueError, cv2.error) as err:
            self.errors.error(depth.request.source, f"no coloured point cloud: {err}")
            return
        out = self.outputs[(depth.request.camera, DEPTH_REGISTERED)]
        out.points.publish(pc.point_cloud_msg(self.node.msg, points, stamp_from_ns(depth.stamp_ns),
                                              self.frame_prefix + depth.frame_id))

    def _publish_points(self, image: SpotImage, out: _Outputs, stamp: tuple[int, int], frame_id: str) -> None:
        """spot/depth/<name>/points and this camera's share of spot/points (decode worker thread)."""
        try:
            if out.wants_points:
                points = self.clouds.points(image, self.organized)
                out.points.publish(pc.point_cloud_msg(self.node.msg, points, stamp, frame_id))
            if not out.wants_merged:
                return
            # the merged cloud is voxel-downsampled: every pixel is not needed (stride_for_voxel)
            share = self.clouds.sparse_points(image, self.merger.voxel_size)
        except ValueError as err:  # uncalibrated source or a size that does not fit its model
            self.errors.error(image.request.source, f"no point cloud: {err}")
            return
        tform = body_tform(image)
        if tform is None:
            self.errors.error(image.request.source, f"no {image.frame_id} -> {BODY_FRAME} transform in the "
                                                    "image's snapshot: not in spot/points")
            return
        share = self.merger.downsample(pc.transform_points(share, tform))
        ready = self.merger.add(image.request.camera, share, image.stamp_ns)
        if ready is not None:
            merged, stamp_ns = ready
            self.pub_merged.publish(pc.point_cloud_msg(self.node.msg, merged, stamp_from_ns(stamp_ns),
                                                       self.frame_prefix + BODY_FRAME))


def main(argv: list[str] | None = None) -> int:
    from ..backends.chooser import run_node
    return run_node(NODE_NAME, lambda node: SpotCamerasBridge(node), argv)


if __name__ == "__main__":
    raise SystemExit(main())
