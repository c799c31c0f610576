"""ImageService of the simulated Spot: a real Spot's image-source catalogue, textured frames
that encode a frame counter, depth planes at known distances.

Catalogue (`camera_catalogue.py`): 15 body sources (`<cam>_fisheye_image`, `<cam>_depth`,
`<cam>_depth_in_visual_frame`) plus 5 hand sources with the arm; sizes, pixel formats, pinhole
intrinsics, depth scales and sensor frames as on a real robot (docs/spot_facts.md, "Image sources").
Pixels (`camera_scene.py`): textured panning scenes (640x480 JPEGs of tens of kB), depth planes
(`depth_plane_distance_m`), and a frame code in the top-left band of every image
(`decode_frame_counter`, `decode_source_id`).

Behaviour of a real image service: an unset `image_format` gives JPEG (quality 75 when unset)
for visual and RAW for depth sources; depth sources refuse JPEG
(STATUS_UNSUPPORTED_IMAGE_FORMAT_REQUESTED); a pixel format the source lacks (RGB_U8 from a
greyscale robot) is STATUS_UNSUPPORTED_PIXEL_FORMAT_REQUESTED unless a fallback format fits;
`resize_ratio` other than 0/1 is STATUS_UNSUPPORTED_RESIZE_RATIO_REQUESTED except on
`hand_color_image`; unknown names are STATUS_UNKNOWN_CAMERA. Each shot carries the frame tree
(body, odom, vision, head, housing, sensor; hand sensors under `arm0.link_wr1`).

Every camera produces frame n at robot time `t0 + n / rate_hz` (a pure function of time, so
fetching is cheap). A visual JPEG is encoded anew only in its top rows (the frame code), the
rows below once per scene phase (`jpeg_splice.py`; a restart marker after every MCU row,
otherwise the JPEG a full encode gives). JPEG encodes are cached per frame and prepared ahead for recently
requested sources, so `get_image` mostly copies cached bytes; while the newest frame is still
encoding the one before it is served, and one request always gets one frame for all its sources
(the same acquisition time). `.served` logs every image sent.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np
from bosdyn.api import image_pb2, image_service_pb2_grpc

from . import jpeg_splice
from .camera_catalogue import ALL_CAMERAS, BODY_DEPTH_SCALE, DEPTH_SCALE, CameraSpec, catalogue, depth_plane_distance_m
from .camera_scene import (
    SCENE_RING_FRAMES,
    band_rows,
    code_band,
    decode_frame_counter,
    decode_source_id,
    depth_plane_mask,
    image_to_array,
    invalid_patches,
    render_frame,
    scene_phase,
)
from .clock import RobotClock
from .frames import fill_frame_tree
from .headers import fill_response_header
from .state import set_ts

if TYPE_CHECKING:
    from .robot import SimRobot

__all__ = [  # the catalogue and the pixel helpers are re-exported for tests and benchmarks
    "ALL_CAMERAS", "BODY_DEPTH_SCALE", "DEPTH_SCALE", "CameraSpec", "ImageServicer", "ServedImage", "SimCameras",
    "catalogue", "code_band", "decode_frame_counter", "decode_source_id", "depth_plane_distance_m",
    "depth_plane_mask", "image_to_array", "invalid_patches", "render_frame"]
_LOG = logging.getLogger(__name__)
Image = image_pb2.Image
ImageSource = image_pb2.ImageSource
ImageResponse = image_pb2.ImageResponse
AUTHORITY = "api.spot.robot"
DEFAULT_JPEG_QUALITY = 75
#: most cached rows-below per source (~30 kB per JPEG entry): 4 requests' worth of scene phases
REST_CACHE_MAX = 4 * SCENE_RING_FRAMES


# ----- service ------------------------------------------------------------------------------
@dataclass(frozen=True)
class ServedImage:
    """One image the service sent: source, frame counter, acquisition time (robot ns), format
    name ("FORMAT_JPEG"/"FORMAT_RAW"), the exact data bytes, and the requested quality."""

    source: str
    frame_counter: int
    acquisition_robot_ns: int
    format: str
    data: bytes
    quality_percent: float = 0.0
    local_ns: int = 0


class _SourceState:
    """Per-source cache: encodings of the current frame keyed by (format, quality, resize)."""

    def __init__(self, spec: CameraSpec):
        self.spec = spec
        self.lock = threading.Lock()
        self.counter = -1
        self.pixels: np.ndarray | None = None
        self.encoded: dict[tuple, bytes] = {}
        self.recent: dict[tuple, float] = {}   # key -> monotonic time of last request
        #: (key, scene phase) -> JPEG rows below the code strip (`jpeg_splice.continuation`)
        self.rest: dict[tuple, bytes] = {}


class SimCameras:
    """The robot's ImageService. `arm`: add the hand sources; `colour_body`: RGB_U8 body cameras
    (default greyscale); `rate_hz`: camera frame rate; `served_maxlen`: log length."""

    def __init__(self, robot: SimRobot, clock: RobotClock, arm: bool = True, rate_hz: float = 15.0,
                 served_maxlen: int = 5000, prepare_ahead: bool = True, colour_body: bool = False):
        self.robot = robot
        self.clock = clock
        self.arm = arm
        self.rate_hz = rate_hz
        self.period_ns = int(1e9 / rate_hz)
        self.t0_robot_ns = clock.robot_ns()
        self.colour_body = colour_body
        self.cameras = catalogue(arm=arm, colour_body=colour_body)
        self.by_name = {c.name: c for c in self.cameras}
        self._state = {c.name: _SourceState(c) for c in self.cameras}
        self.served: collections.deque[ServedImage] = collections.deque(maxlen=served_maxlen)
        self.servicer = ImageServicer(self)
        self._stop = threading.Event()
        self._ahead: threading.Thread | None = None
        if prepare_ahead:
            self._ahead = threading.Thread(target=self._prepare_loop, name="sim-cameras-ahead", daemon=True)
            self._ahead.start()

    def stop(self) -> None:
        self._stop.set()
        if self._ahead is not None:
            self._ahead.join(timeout=2.0)
            self._ahead = None

    close = stop

    # ----- frames ---------------------------------------------------------------------------
    def frame_at(self, robot_ns: int) -> tuple[int, int]:
        """(frame counter, acquisition robot ns) of the latest frame at robot time `robot_ns`."""
        n = max(0, (robot_ns - self.t0_robot_ns) // self.period_ns)
        return int(n), self.t0_robot_ns + n * self.period_ns

    def acquisition_ns(self, counter: int) -> int:
        return self.t0_robot_ns + counter * self.period_ns

    def encoded(self, name: str, counter: int, fmt: int, quality: float, resize: float,
                touch: bool = True, pixel_format: int = 0) -> tuple[bytes, int, int]:
        """(data, cols, rows) of frame `counter` of source `name` (cached for the newest frame).

        `touch`: count this as a client request (keeps the source prepared ahead for a second).
        `pixel_format`: 0 = the source's own, else one of its `pixel_formats`.
        """
        st = self._state[name]
        key = (fmt, int(quality), float(resize), int(pixel_format))
        with st.lock:
            if touch:
                st.recent[key] = time.monotonic()
            if st.counter == counter:
                hit = st.encoded.get(key)
                if hit is not None:
                    return hit
                pixels = st.pixels
            else:
                pixels = None
        # render/encode outside the lock (a concurrent duplicate encode is harmless)
        if pixels is None and self._splices(st.spec, fmt, resize):
            out = self._spliced(st, counter, key)
        else:
            if pixels is None:
                pixels = render_frame(st.spec, counter)
            out = self._encode(st.spec, pixels, fmt, quality, resize, pixel_format)
        with st.lock:
            if counter > st.counter:
                st.counter, st.pixels, st.encoded = counter, pixels, {}
            if counter == st.counter:
                st.encoded[key] = out
        return out

    @staticmethod
    def _splices(spec: CameraSpec, fmt: int, resize: float) -> bool:
        """Whether a request is served by `_spliced` (JPEG of a visual source, or RAW; full size)."""
        return (fmt == Image.FORMAT_RAW or spec.kind != "depth") and not 0 < resize < 1

    def _spliced(self, st: _SourceState, counter: int, key: tuple) -> tuple[bytes, int, int]:
        """Frame `counter` at full size made anew only in its top strip (the frame code), the
        rows below taken from the cache of its scene phase: a JPEG through `jpeg_splice` (the
        same bytes as `jpeg_splice.encode` of the whole frame), RAW bytes joined (the same bytes
        as the whole frame's)."""
        spec, (fmt, quality, _, pixel_format) = st.spec, key
        jpeg = fmt == Image.FORMAT_JPEG
        q = max(1, min(100, quality if quality > 0 else DEFAULT_JPEG_QUALITY))
        strip = jpeg_splice.strip_rows(band_rows(spec))
        phase_key = (key, scene_phase(spec, counter))
        rest = st.rest.get(phase_key)
        if rest is None:
            if len(st.rest) >= REST_CACHE_MAX:   # many qualities / formats asked for: start over
                st.rest.clear()
            below = self._as_sent(render_frame(spec, counter)[strip:], pixel_format, jpeg)
            rest = jpeg_splice.continuation(below, q, strip) if jpeg else below.tobytes()
            st.rest[phase_key] = rest
        top = self._as_sent(render_frame(spec, counter, top_rows=strip), pixel_format, jpeg)
        data = jpeg_splice.splice(jpeg_splice.encode(top, q), rest, spec.rows) if jpeg else top.tobytes() + rest
        return data, spec.cols, spec.rows

    @staticmethod
    def _as_sent(img: np.ndarray, pixel_format: int, jpeg: bool) -> np.ndarray:
        """Rendered pixels as encoded / sent: greyscale when asked for, BGR for the JPEG
        encoder, little-endian depth units, contiguous for RAW bytes."""
        if pixel_format == Image.PIXEL_FORMAT_GREYSCALE_U8 and img.ndim == 3:
            img = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
        if jpeg:
            return img[..., ::-1] if img.ndim == 3 else img
        return np.ascontiguousarray(img.astype("<u2", copy=False) if img.dtype == np.uint16 else img)

    def latest(self, name: str, counter: int, fmt: int, quality: float,
               resize: float, pixel_format: int = 0) -> tuple[bytes, int, int, int]:
        """(data, cols, rows, frame counter) of the newest frame ready at frame `counter`.

        Like a camera pipeline, a frame becomes available once encoded: when frame `counter`
        is not ready yet but frame `counter - 1` is (prepared ahead), that one is served.
        `GetImage` then serves every source of the request that frame (one capture).
        """
        st = self._state[name]
        key = (fmt, int(quality), float(resize), int(pixel_format))
        if self._ahead is not None:
            with st.lock:
                hit = st.encoded.get(key)
                if hit is not None and st.counter in (counter, counter - 1):
                    st.recent[key] = time.monotonic()
                    return (*hit, st.counter)
        return (*self.encoded(name, counter, fmt, quality, resize, pixel_format=pixel_format), counter)

    @staticmethod
    def _encode(spec: CameraSpec, pixels: np.ndarray, fmt: int, quality: float, resize: float,
                pixel_format: int = 0):
        img = pixels
        if pixel_format == Image.PIXEL_FORMAT_GREYSCALE_U8 and img.ndim == 3:
            img = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
        if 0 < resize < 1:
            img = cv2.resize(img, (max(1, int(spec.cols * resize)), max(1, int(spec.rows * resize))),
                             interpolation=cv2.INTER_AREA)
        rows, cols = img.shape[:2]
        if fmt == Image.FORMAT_JPEG:
            bgr = img[..., ::-1] if img.ndim == 3 else img
            q = int(quality) if quality and quality > 0 else DEFAULT_JPEG_QUALITY
            ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, max(1, min(100, q))])
            if not ok:
                raise RuntimeError(f"JPEG encode failed for {spec.name}")
            return buf.tobytes(), cols, rows
        if img.dtype == np.uint16:
            return img.astype("<u2", copy=False).tobytes(), cols, rows
        return np.ascontiguousarray(img).tobytes(), cols, rows

    def _prepare_loop(self) -> None:
        """Encode each new frame of sources requested within the last second, ahead of requests."""
        while not self._stop.is_set():
            counter, acq = self.frame_at(self.clock.robot_ns())
            now = time.monotonic()
            for name, st in self._state.items():
                with st.lock:
                    keys = [k for k, t in st.recent.items() if now - t < 1.0]
                for key in keys:
                    if self._stop.is_set():
                        return
                    try:
                        self.encoded(name, counter, *key[:3], touch=False, pixel_format=key[3])
                    except Exception:  # noqa: BLE001
                        _LOG.exception("sim cameras: preparing %s failed", name)
            next_acq = self.acquisition_ns(counter + 1)
            wait = (next_acq - self.clock.robot_ns()) * 1e-9 + 0.0005
            self._stop.wait(min(max(wait, 0.001), 0.1))

    # ----- descriptions ---------------------------------------------------------------------
    def image_source(self, spec: CameraSpec) -> ImageSource:
        kind = ImageSource.IMAGE_TYPE_DEPTH if spec.kind == "depth" else ImageSource.IMAGE_TYPE_VISUAL
        src = ImageSource(name=spec.name, cols=spec.cols, rows=spec.rows, image_type=kind)
        if spec.depth_scale:
            src.depth_scale = spec.depth_scale
        intr = src.pinhole.intrinsics
        intr.focal_length.x, intr.focal_length.y = spec.fx, spec.fy
        intr.principal_point.x, intr.principal_point.y = spec.cx, spec.cy
        src.pixel_formats.extend(spec.pixel_formats)
        src.image_formats.extend(spec.image_formats)
        return src

    def servicers(self) -> list[tuple[Callable, Any, str, str, str]]:
        return [(image_service_pb2_grpc.add_ImageServiceServicer_to_server, self.servicer,
                 "image", "bosdyn.api.ImageService", AUTHORITY)]

    def served_for(self, source: str) -> list[ServedImage]:
        return [s for s in list(self.served) if s.source == source]


class ImageServicer(image_service_pb2_grpc.ImageServiceServicer):

    def __init__(self, cameras: SimCameras):
        self.cams = cameras
        self._sources = {c.name: cameras.image_source(c) for c in cameras.cameras}

    def ListImageSources(self, request, context):
        received = self.cams.clock.robot_ns()
        resp = image_pb2.ListImageSourcesResponse()
        resp.image_sources.extend(self._sources[c.name] for c in self.cams.cameras)
        fill_frame_tree(resp.transforms_snapshot, self.cams.robot.latest(), sensors=True)
        fill_response_header(resp, request, self.cams.clock, received)
        return resp

    def GetImage(self, request, context):
        cams = self.cams
        received = cams.clock.robot_ns()
        counter, _ = cams.frame_at(received)
        resp = image_pb2.GetImageResponse()
        served = []
        ready = []   # (response, spec, format, pixel format, quality, resize, own, latest(...)) per source
        for ir in request.image_requests:
            out = resp.image_responses.add()
            spec = cams.by_name.get(ir.image_source_name)
            if spec is None:
                out.status = ImageResponse.STATUS_UNKNOWN_CAMERA
                out.source.name = ir.image_source_name
                continue
            out.source.CopyFrom(self._sources[spec.name])
            fmt = ir.image_format or spec.default_format
            if fmt not in spec.image_formats:
                out.status = ImageResponse.STATUS_UNSUPPORTED_IMAGE_FORMAT_REQUESTED
                continue
            pixel_format = _pick_pixel_format(spec, ir)
            if pixel_format is None:
                out.status = ImageResponse.STATUS_UNSUPPORTED_PIXEL_FORMAT_REQUESTED
                continue
            ratio = ir.resize_ratio
            if ratio < 0 or ratio > 1 or (0 < ratio < 1 and not spec.resizable):
                out.status = ImageResponse.STATUS_UNSUPPORTED_RESIZE_RATIO_REQUESTED
                continue
            own = 0 if pixel_format == spec.pixel_format else pixel_format
            ready.append((out, spec, fmt, pixel_format, ir.quality_percent, ratio, own,
                          cams.latest(spec.name, counter, fmt, ir.quality_percent, ratio, own)))
        # one frame per request (the newest one served): every source of frame n is taken at the
        # same robot time, so a camera's image and its (registered) depth of one request never
        # come from two frames when one source's newest frame was prepared ahead and another's
        # not. A source still at n - 1 is encoded at n now (and cached: the encode the preparer
        # would have done), not re-encoded at an older frame on every request.
        n = max((got[3] for *_, got in ready), default=counter)
        acq = cams.acquisition_ns(n)
        snap = cams.robot.truth_at(acq) if ready else None
        for out, spec, fmt, pixel_format, quality, ratio, own, got in ready:
            data, cols, rows = got[:3] if got[3] == n else \
                cams.encoded(spec.name, n, fmt, quality, ratio, pixel_format=own)
            shot = out.shot
            img = shot.image
            img.cols, img.rows, img.format, img.pixel_format = cols, rows, fmt, pixel_format
            img.data = data
            set_ts(shot.acquisition_time, acq)
            shot.frame_name_image_sensor = spec.frame
            shot.capture_params.exposure_duration.FromNanoseconds(8_000_000)
            shot.capture_params.gain = 1.0
            fill_frame_tree(shot.transforms_snapshot, snap, sensors=True, only_sensor=spec.frame)
            out.status = ImageResponse.STATUS_OK
            served.append(ServedImage(spec.name, n, acq, Image.Format.Name(fmt), data,
                                      float(quality), time.time_ns()))
        cams.served.extend(served)
        fill_response_header(resp, request, cams.clock, received)
        return resp


def _pick_pixel_format(spec: CameraSpec, request: image_pb2.ImageRequest) -> int | None:
    """The pixel format to serve: the requested one (or the first fitting fallback) when the
    source has it, its own when none is requested; None = unsupported."""
    if not request.pixel_format:
        return spec.pixel_format
    for wanted in (request.pixel_format, *request.fallback_formats):
        if wanted in spec.pixel_formats:
            return wanted
    return None
