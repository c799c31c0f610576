"""A bosdyn `ImageService` gRPC server that re-serves the latest ROS frames to Spot.

The flow of the Spot image-service tutorial (CameraInterface -> VisualImageSource ->
ImageService servicer -> gRPC server -> `DirectoryRegistrationKeepAlive`), fed by ROS topics
instead of a webcam. Reused from `bosdyn.client.image_service_helpers`: `CameraInterface`
(implemented by `LatestFrameCamera`), `VisualImageSource` (image source protos, capture
parameters, custom-parameter validation, service faults). Replaced, and why:

- `CameraBaseImageServicer`: it needs a bosdyn `Robot` (creates a fault client and waits for
  the robot's own time sync on construction), converts float seconds with that time sync,
  reports fixed rows/cols, accepts resize_ratio 0 as "no resize" but also lets a failing
  decoder report "unsupported format", retries `image_decode` on *any* TypeError (hiding
  bugs), and makes a fault RPC inside every failing GetImage. `RosImageServicer` validates the
  request first (specific per-image status), reports the latest frame's geometry, converts the
  ROS stamp with an injected local->robot clock function (the connection's time sync), and
  raises/clears service faults from a watchdog thread on stale/fresh transitions only.
- `GrpcServiceRunner` (now in `bosdyn.client.server_util`; the tutorial's old location is
  deprecated) binds `[::]`: `ImageServiceServer` binds the given address (127.0.0.1 in tests,
  the payload's host_ip on a robot) with bosdyn's channel options (100 MB messages).

Per image request: FORMAT_JPEG (quality_percent, default a parameter) or FORMAT_RAW; pixel
formats RGB_U8, GREYSCALE_U8, DEPTH_U16 (16UC1 / 32FC1 sources; RAW only); fallback_formats;
resize_ratio in (0, 1] (0 = not set = full size). Encoded bytes are cached per frame and
request (`image_service_frames.render`). The server answers GetImage with bytes serialized
around the cached image data (`image_service_wire`): the data is copied once per call, not
three times (into the message, by serialization, by gRPC); `RosImageServicer.GetImage` still
returns the same answer as a message.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent import futures
from typing import Any

import grpc
from bosdyn.api import image_pb2, image_service_pb2_grpc
from bosdyn.client.channel import generate_channel_options
from bosdyn.client.image_service_helpers import CameraInterface, VisualImageSource
from bosdyn.client.server_util import populate_response_header
from google.protobuf.timestamp_pb2 import Timestamp

from .image_service_frames import (
    DEPTH_SCALE,
    Frame,
    FrameError,
    Rendered,
    RenderRequest,
    image_formats_for,
    layout_kind,
    pixel_formats_for,
    render,
)
from .image_service_wire import encode_get_image_response

Image = image_pb2.Image
ImageResponse = image_pb2.ImageResponse
ImageSource = image_pb2.ImageSource

SERVICE_TYPE = "bosdyn.api.ImageService"
DEFAULT_SERVICE_NAME = "ros-image-service"
DEFAULT_AUTHORITY = "ros-image-service"
#: Layout assumed for a source that has not received a frame yet (a colour camera).
_DEFAULT_LAYOUT = "rgb8"

LocalToRobotNs = Callable[[int], int]


# -- request validation --------------------------------------------------------------------

class RequestError(ValueError):
    """An image request this source cannot serve; `status` is the per-image status to answer."""

    status = ImageResponse.STATUS_UNKNOWN


class UnsupportedResizeRatioError(RequestError):
    status = ImageResponse.STATUS_UNSUPPORTED_RESIZE_RATIO_REQUESTED


class UnsupportedImageFormatError(RequestError):
    status = ImageResponse.STATUS_UNSUPPORTED_IMAGE_FORMAT_REQUESTED


class UnsupportedPixelFormatError(RequestError):
    status = ImageResponse.STATUS_UNSUPPORTED_PIXEL_FORMAT_REQUESTED


class NoFrameError(RuntimeError):
    """The source has no frame, or its latest frame is older than `stale_after`."""


def resolve_request(req: image_pb2.ImageRequest, layout: str, default_quality: int) -> RenderRequest:
    """Validate `req` against a source whose frames have `layout`; return what to render.

    - resize_ratio: 0 means "not set" (proto3 default) = 1.0; otherwise it must be in (0, 1].
    - image_format: UNKNOWN -> JPEG for visual sources, RAW for depth; JPEG of depth, RLE and
      unknown enum values are unsupported.
    - pixel_format: UNKNOWN -> the source's native one; otherwise it, or else the first of
      `fallback_formats` the source supports.
    - quality_percent: (0, 100] used as given (above 100 -> 100); 0 or less -> `default_quality`.
    Raises a `RequestError` subclass carrying the per-image status.
    """
    ratio = float(req.resize_ratio)
    if ratio == 0.0:
        ratio = 1.0
    elif not (0.0 < ratio <= 1.0):  # also rejects NaN
        raise UnsupportedResizeRatioError(f"resize_ratio {req.resize_ratio} is outside (0, 1]")
    formats = image_formats_for(layout)
    image_format = req.image_format or formats[0]
    if image_format not in formats:
        raise UnsupportedImageFormatError(
            f"image format {_enum_name(Image.Format, image_format)} is not served for a "
            f"{layout_kind(layout)} source (served: {', '.join(_enum_name(Image.Format, f) for f in formats)})")
    pixel_formats = pixel_formats_for(layout)
    pixel_format = req.pixel_format or pixel_formats[0]
    if pixel_format not in pixel_formats:
        fallback = next((f for f in req.fallback_formats if f in pixel_formats), None)
        if fallback is None:
            raise UnsupportedPixelFormatError(
                f"pixel format {_enum_name(Image.PixelFormat, pixel_format)} is not served by this "
                f"source (served: {', '.join(_enum_name(Image.PixelFormat, f) for f in pixel_formats)})")
        pixel_format = fallback
    quality = float(req.quality_percent)
    if not quality > 0.0:  # 0 = not set (and NaN, negatives)
        quality = default_quality
    return RenderRequest(image_format=image_format, pixel_format=pixel_format,
                         quality=int(min(100.0, max(1.0, round(quality)))), resize_ratio=ratio)


def _enum_name(enum: Any, value: int) -> str:
    try:
        return enum.Name(value)
    except ValueError:
        return str(value)


def timestamp_from_ns(t_ns: int) -> Timestamp:
    """google.protobuf.Timestamp from integer ns since the epoch (same clock)."""
    seconds, nanos = divmod(int(t_ns), 1_000_000_000)
    return Timestamp(seconds=seconds, nanos=nanos)


# -- one source ----------------------------------------------------------------------------

class LatestFrameCamera(CameraInterface):
    """`CameraInterface` whose "capture" is the latest frame received from a ROS topic.

    `push(frame)` from the subscription callback; `blocking_capture()` returns the frame (never
    blocks) or raises `NoFrameError` when there is none newer than `stale_after_s`;
    `image_decode()` fills an `Image` proto from it (raises `RequestError` for bad requests).
    """

    def __init__(self, name: str, topic: str = "", stale_after_s: float = 2.0,
                 default_quality: int = 75, clock: Callable[[], float] = time.monotonic):
        super().__init__()
        self.name = name
        self.topic = topic
        self.stale_after_s = float(stale_after_s)
        self.default_quality = int(default_quality)
        self.clock = clock
        self._frame: Frame | None = None
        self.frames_received = 0

    def push(self, frame: Frame) -> None:
        self._frame = frame
        self.frames_received += 1

    @property
    def latest(self) -> Frame | None:
        return self._frame

    @property
    def layout(self) -> str:
        frame = self._frame
        return frame.layout if frame is not None else _DEFAULT_LAYOUT

    def age_s(self) -> float | None:
        """Seconds since the latest frame arrived, None if none ever did."""
        frame = self._frame
        return None if frame is None else self.clock() - frame.received_s

    def fresh_frame(self) -> Frame:
        frame = self._frame
        if frame is None:
            raise NoFrameError(f"no frame received yet on {self.topic or self.name}")
        age = self.clock() - frame.received_s
        if self.stale_after_s > 0 and age > self.stale_after_s:
            raise NoFrameError(f"no frame on {self.topic or self.name} for {age:.1f} s "
                               f"(stale_after {self.stale_after_s:g} s)")
        return frame

    # CameraInterface --------------------------------------------------------------------
    def blocking_capture(self, *, custom_params=None, **kwargs):
        """(latest Frame, its ROS stamp in local seconds); raises NoFrameError when stale."""
        frame = self.fresh_frame()
        return frame, frame.stamp_ns * 1e-9

    def image_decode(self, image_data: Frame, image_proto: Image, image_req) -> Rendered:
        """Fill `image_proto` (rows, cols, format, pixel_format, data) for `image_req`."""
        rendered = self.render(image_data, image_req)
        fill_image_geometry(image_proto, rendered)
        image_proto.data = rendered.data
        return rendered

    def render(self, frame: Frame, image_req) -> Rendered:
        """The image bytes and geometry answering `image_req` from `frame` (cached per frame);
        raises `RequestError` for requests this source cannot serve."""
        return render(frame, resolve_request(image_req, frame.layout, self.default_quality))


def fill_image_geometry(image_proto: Image, rendered: Rendered) -> None:
    """Set rows, cols, format and pixel_format of `image_proto` (not its data) from `rendered`."""
    image_proto.rows = rendered.rows
    image_proto.cols = rendered.cols
    image_proto.format = rendered.image_format
    image_proto.pixel_format = rendered.pixel_format


def make_image_source_proto(name: str, frame: Frame | None) -> ImageSource:
    """The `ImageSource` listed for a source: geometry and formats of its latest frame."""
    layout = frame.layout if frame is not None else _DEFAULT_LAYOUT
    depth = layout_kind(layout) == "depth"
    source = VisualImageSource.make_image_source(
        name,
        rows=frame.rows if frame is not None else None,
        cols=frame.cols if frame is not None else None,
        pixel_formats=list(pixel_formats_for(layout)),
        image_type=ImageSource.IMAGE_TYPE_DEPTH if depth else ImageSource.IMAGE_TYPE_VISUAL,
        image_formats=list(image_formats_for(layout)))
    if depth:
        source.depth_scale = DEPTH_SCALE
    return source


class _Source:
    """A `VisualImageSource` (faults, source proto, custom-param validation) plus its camera."""

    def __init__(self, camera: LatestFrameCamera, logger: logging.Logger):
        self.camera = camera
        self.visual = VisualImageSource(camera.name, camera, pixel_formats=list(pixel_formats_for(_DEFAULT_LAYOUT)),
                                        logger=logger)
        self.visual.image_source_proto = make_image_source_proto(camera.name, None)
        self._geometry: tuple | None = None
        self.stale = False  # as last seen by the watchdog

    def push(self, frame: Frame) -> None:
        self.camera.push(frame)
        geometry = (frame.rows, frame.cols, frame.layout)
        if geometry != self._geometry:
            self._geometry = geometry
            self.visual.supported_pixel_formats = list(pixel_formats_for(frame.layout))
            self.visual.image_source_proto = make_image_source_proto(self.camera.name, frame)


# -- the servicer --------------------------------------------------------------------------

class RosImageServicer(image_service_pb2_grpc.ImageServiceServicer):
    """bosdyn `ImageService` over `LatestFrameCamera`s.

    `local_to_robot_ns`: converts the ROS stamp (local clock ns) to robot clock ns (the
    connection's time sync); identity if None. `fault_client`: a bosdyn `FaultClient` to raise
    a service fault per stale source (None: no faults). Call `start()` to run the stale
    watchdog and `stop()` to end it.
    """

    def __init__(self, service_name: str, cameras: Iterable[LatestFrameCamera],
                 local_to_robot_ns: LocalToRobotNs | None = None, fault_client: Any = None,
                 logger: logging.Logger | None = None, watch_period_s: float | None = None):
        super().__init__()
        self.service_name = service_name
        self.logger = logger or logging.getLogger(__name__)
        self.local_to_robot_ns = local_to_robot_ns or (lambda t: t)
        self.fault_client = fault_client
        self._sources: dict[str, _Source] = {}
        for camera in cameras:
            if camera.name in self._sources:
                raise ValueError(f"image source name {camera.name!r} is used twice")
            self._sources[camera.name] = _Source(camera, self.logger)
        stale_periods = [c.camera.stale_after_s for c in self._sources.values() if c.camera.stale_after_s > 0]
        self.watch_period_s = watch_period_s or min([0.5] + [s / 4 for s in stale_periods])
        self._started_s = time.monotonic()
        self._stop = threading.Event()
        self._watchdog: threading.Thread | None = None
        self._time_error_logged = False
        self.requests_served = 0

    # -- feeding ----------------------------------------------------------------------------
    @property
    def source_names(self) -> list[str]:
        return list(self._sources)

    def camera(self, name: str) -> LatestFrameCamera:
        return self._sources[name].camera

    def push(self, name: str, frame: Frame) -> None:
        """Make `frame` the latest of source `name` (called from subscription callbacks)."""
        self._sources[name].push(frame)

    # -- faults -----------------------------------------------------------------------------
    def start(self) -> None:
        """Clear this service's old faults and start the stale watchdog thread."""
        self.reset_faults()  # names the faults after this service, clears any left from a previous run
        self._started_s = time.monotonic()
        self._stop.clear()
        self._watchdog = threading.Thread(target=self._watch, name=f"{self.service_name}:stale-watch",
                                          daemon=True)
        self._watchdog.start()

    def stop(self) -> None:
        self._stop.set()
        if self._watchdog is not None:
            self._watchdog.join(timeout=5.0)
            self._watchdog = None

    def _watch(self) -> None:
        while not self._stop.wait(self.watch_period_s):
            self.check_stale()

    def check_stale(self) -> None:
        """Raise a fault for each stale source, clear it for each fresh one; log transitions.

        A fault that could not be raised or cleared (robot away) is retried at the next check.
        """
        for source in self._sources.values():
            camera = source.camera
            if camera.stale_after_s <= 0:
                continue
            age = camera.age_s()
            if age is None:
                age = time.monotonic() - self._started_s
            stale = age > camera.stale_after_s
            if stale != source.stale:
                source.stale = stale
                if stale:
                    self.logger.warning(
                        f"image source '{camera.name}': no frame on {camera.topic or '?'} for {age:.1f} s; "
                        f"answering STATUS_IMAGE_DATA_ERROR and raising a service fault until frames return")
                else:
                    self.logger.info(f"image source '{camera.name}': frames are back; serving again")
            fault = source.visual.camera_capture_fault
            raised = fault.fault_id.fault_name in source.visual.active_fault_id_names
            if self.fault_client is None or stale == raised:
                continue
            try:
                if stale:
                    source.visual.trigger_fault(
                        f"no frame on ROS topic {camera.topic or '?'} for more than "
                        f"{camera.stale_after_s:g} s", fault)
                else:
                    source.visual.clear_fault(fault)
            except Exception as exc:  # noqa: BLE001 - robot away: retried at the next check
                self.logger.debug(f"image source '{camera.name}': fault update failed: {exc}")

    def reset_faults(self) -> None:
        """Forget which faults are raised and clear this service's faults on the robot (call
        after a reconnection: a restarted robot has none). The watchdog re-raises as needed."""
        for source in self._sources.values():
            source.visual.active_fault_id_names.clear()
            try:
                source.visual.initialize_faults(self.fault_client, self.service_name)
            except Exception as exc:  # noqa: BLE001 - robot away: the watchdog retries
                self.logger.debug(f"clearing faults of '{self.service_name}' failed: {exc}")

    # -- RPCs -------------------------------------------------------------------------------
    def ListImageSources(self, request, context):
        response = image_pb2.ListImageSourcesResponse()
        for source in self._sources.values():
            response.image_sources.add().CopyFrom(source.visual.image_source_proto)
        populate_response_header(response, request)
        return response

    def GetImage(self, request, context):
        """The `GetImageResponse` message (the gRPC server answers with `get_image_wire`, the
        same message already serialized, see `image_service_handler`)."""
        response, image_data = self._answer(request)
        for img_resp, data in zip(response.image_responses, image_data):
            if data:
                img_resp.shot.image.data = data
        return response

    def get_image_wire(self, request, context) -> bytes:
        """`GetImage` answered as serialized `GetImageResponse` bytes, the image data copied
        once instead of three times (see `image_service_wire`)."""
        response, image_data = self._answer(request)
        return encode_get_image_response(response, image_data)

    def _answer(self, request) -> tuple[image_pb2.GetImageResponse, list[bytes]]:
        """The response to `request` without image data, and each image response's data
        (b"" for those without an image)."""
        response = image_pb2.GetImageResponse()
        image_data: list[bytes] = []
        for img_req in request.image_requests:
            img_resp = response.image_responses.add()
            data = b""
            try:
                img_resp.status, data = self._fill(img_req, img_resp)
            except Exception as exc:  # noqa: BLE001 - the boundary: never a trace to the client
                self.logger.error(f"image source '{img_req.image_source_name}': internal error "
                                  f"{type(exc).__name__}: {exc}; answered STATUS_IMAGE_DATA_ERROR")
                img_resp.ClearField("shot")
                img_resp.status = ImageResponse.STATUS_IMAGE_DATA_ERROR
                data = b""
            image_data.append(data)
        populate_response_header(response, request)
        self.requests_served += 1
        return response, image_data

    def _fill(self, img_req: image_pb2.ImageRequest, img_resp: ImageResponse) -> tuple[int, bytes]:
        """Fill `img_resp` except `shot.image.data`; return (status, image data or b"")."""
        source = self._sources.get(img_req.image_source_name)
        if source is None:
            self.logger.debug(f"unknown image source {img_req.image_source_name!r} requested")
            return ImageResponse.STATUS_UNKNOWN_CAMERA, b""
        camera, visual = source.camera, source.visual
        img_resp.source.CopyFrom(visual.image_source_proto)
        if img_req.HasField("custom_params"):
            error = visual.value_validator(img_req.custom_params)
            if error:
                img_resp.custom_param_error.CopyFrom(error)
                return ImageResponse.STATUS_CUSTOM_PARAMS_ERROR, b""
        try:
            resolve_request(img_req, camera.layout, camera.default_quality)
            frame, _ = camera.blocking_capture()
            rendered = camera.render(frame, img_req)
        except RequestError as exc:
            self.logger.debug(f"image source '{camera.name}': {exc}")
            img_resp.ClearField("shot")
            return exc.status, b""
        except NoFrameError:
            img_resp.ClearField("shot")
            return ImageResponse.STATUS_IMAGE_DATA_ERROR, b""
        except FrameError as exc:  # compressed bytes that do not decode
            self.logger.warning(f"image source '{camera.name}': {exc}")
            img_resp.ClearField("shot")
            return ImageResponse.STATUS_IMAGE_DATA_ERROR, b""
        fill_image_geometry(img_resp.shot.image, rendered)
        try:
            robot_ns = self.local_to_robot_ns(frame.stamp_ns)
        except Exception as exc:  # noqa: BLE001 - e.g. time sync not established
            if not self._time_error_logged:
                self._time_error_logged = True
                self.logger.error(f"cannot convert image stamps to the robot clock ({type(exc).__name__}: "
                                  f"{exc}); answering STATUS_IMAGE_DATA_ERROR")
            img_resp.ClearField("shot")
            return ImageResponse.STATUS_IMAGE_DATA_ERROR, b""
        self._time_error_logged = False
        shot = img_resp.shot
        shot.acquisition_time.CopyFrom(timestamp_from_ns(robot_ns))
        shot.capture_params.CopyFrom(visual.get_image_capture_params())
        return ImageResponse.STATUS_OK, rendered.data


# -- the gRPC server -----------------------------------------------------------------------

def image_service_handler(servicer: image_service_pb2_grpc.ImageServiceServicer) -> grpc.GenericRpcHandler:
    """The `bosdyn.api.ImageService` methods of `servicer` as a gRPC handler.

    As bosdyn's generated `add_ImageServiceServicer_to_server`, except that a servicer with
    `get_image_wire` (`RosImageServicer`) answers GetImage with already serialized bytes
    (no response serializer), which saves two copies of every image per call.
    """
    get_image = getattr(servicer, "get_image_wire", None)
    return grpc.method_handlers_generic_handler(SERVICE_TYPE, {
        "ListImageSources": grpc.unary_unary_rpc_method_handler(
            servicer.ListImageSources,
            request_deserializer=image_pb2.ListImageSourcesRequest.FromString,
            response_serializer=image_pb2.ListImageSourcesResponse.SerializeToString),
        "GetImage": grpc.unary_unary_rpc_method_handler(
            get_image or servicer.GetImage,
            request_deserializer=image_pb2.GetImageRequest.FromString,
            response_serializer=None if get_image else image_pb2.GetImageResponse.SerializeToString),
    })


class ImageServiceServer:
    """Insecure gRPC server (the robot proxies to payload services in plaintext) hosting one
    `ImageService` servicer on `bind_host:port` (port 0 = ephemeral; see `.port`)."""

    def __init__(self, servicer: image_service_pb2_grpc.ImageServiceServicer, bind_host: str = "127.0.0.1",
                 port: int = 0, max_workers: int = 8):
        self.servicer = servicer
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=max_workers,
                                                             thread_name_prefix="image-service"),
                                  options=generate_channel_options())
        self.server.add_generic_rpc_handlers((image_service_handler(servicer),))
        address = f"[{bind_host}]:{port}" if ":" in bind_host else f"{bind_host}:{port}"
        self.port = self.server.add_insecure_port(address)
        if self.port == 0:
            raise OSError(f"cannot listen on {address}")
        self.bind_host = bind_host
        self.server.start()

    def stop(self, grace_s: float = 1.0) -> None:
        self.server.stop(grace_s).wait(grace_s + 2.0)

    def __enter__(self) -> ImageServiceServer:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
