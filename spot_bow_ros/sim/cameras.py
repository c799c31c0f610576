"""ImageService of the simulated Spot: Spot's camera sources with frames that encode a counter.

Sources (as on Spot): `<cam>_fisheye_image` greyscale 640x480 and `<cam>_depth` DEPTH_U16
424x240 (depth scale 1000 units per metre) for cam in frontleft, frontright, left, right, back;
with the arm `hand_color_image` RGB 640x480 and `hand_depth` DEPTH_U16 224x171.

Every camera produces frame n at robot time `t0 + n / rate_hz` (a pure function of time, so
fetching is cheap). Frame content: a 16x12 grid of cells; row 0-1 hold the 32-bit frame counter
(bit i in cell i, bright = 1), row 2 the 8-bit source id and its complement, the rest a gradient
with a bar that moves with n. The cells are large enough to survive JPEG at any quality and
resizing; `decode_frame_counter(img)` / `decode_source_id(img)` read them back.
JPEG encodes are cached per frame and prepared ahead for recently requested sources, so
`get_image` mostly copies cached bytes. `.served` logs every image sent.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

import cv2
import numpy as np
from bosdyn.api import image_pb2, image_service_pb2_grpc

from .clock import RobotClock
from .frames import fill_frame_tree
from .headers import fill_response_header
from .state import set_ts

if TYPE_CHECKING:
    from .robot import SimRobot

_LOG = logging.getLogger(__name__)
Image = image_pb2.Image
ImageSource = image_pb2.ImageSource
ImageResponse = image_pb2.ImageResponse
AUTHORITY = "api.spot.robot"
GRID_COLS, GRID_ROWS = 16, 12
DEPTH_SCALE = 1000.0
_U8_BITS = (25, 230)
_U16_BITS = (1000, 3000)     # depth units: 1 m / 3 m


@dataclass(frozen=True)
class CameraSpec:
    """One image source: name, sensor frame, size, kind ("grey", "rgb", "depth"), pinhole."""

    name: str
    frame: str
    cols: int
    rows: int
    kind: str
    fx: float
    fy: float
    cx: float
    cy: float
    source_id: int
    arm_only: bool = False

    @property
    def pixel_format(self) -> int:
        return {"grey": Image.PIXEL_FORMAT_GREYSCALE_U8, "rgb": Image.PIXEL_FORMAT_RGB_U8,
                "depth": Image.PIXEL_FORMAT_DEPTH_U16}[self.kind]

    @property
    def image_formats(self) -> list[int]:
        return [Image.FORMAT_RAW] if self.kind == "depth" else [Image.FORMAT_JPEG, Image.FORMAT_RAW]

    @property
    def default_format(self) -> int:
        return self.image_formats[0]


def _specs() -> list[CameraSpec]:
    out = []
    for i, cam in enumerate(("frontleft", "frontright", "left", "right", "back")):
        out.append(CameraSpec(f"{cam}_fisheye_image", f"{cam}_fisheye", 640, 480, "grey",
                              330.0 + i, 330.5 + i, 319.5 + i, 239.5 - i, source_id=1 + i))
        out.append(CameraSpec(f"{cam}_depth", cam, 424, 240, "depth",
                              212.0 + i, 212.5 + i, 211.5, 119.5, source_id=11 + i))
    out.append(CameraSpec("hand_color_image", "hand_color_image_sensor", 640, 480, "rgb",
                          552.0, 552.0, 320.0, 240.0, source_id=21, arm_only=True))
    out.append(CameraSpec("hand_depth", "hand_depth_sensor", 224, 171, "depth",
                          210.0, 210.0, 112.0, 85.5, source_id=22, arm_only=True))
    return out


ALL_CAMERAS = _specs()


# ----- frame content ------------------------------------------------------------------------
def _cell(img_shape, col: int, row: int) -> tuple[slice, slice]:
    h, w = img_shape[:2]
    cw, ch = w // GRID_COLS, h // GRID_ROWS
    return slice(row * ch, (row + 1) * ch), slice(col * cw, (col + 1) * cw)


def _bits_cells(counter: int, source_id: int) -> list[tuple[int, int, int]]:
    """(col, row, bit) for every coded cell."""
    cells = [(i % 16, i // 16, (counter >> i) & 1) for i in range(32)]
    code = (source_id & 0xFF) | ((~source_id & 0xFF) << 8)
    cells += [(i, 2, (code >> i) & 1) for i in range(16)]
    return cells


def _background(spec: CameraSpec) -> np.ndarray:
    h, w = spec.rows, spec.cols
    yy, xx = np.mgrid[0:h, 0:w]
    if spec.kind == "depth":
        return (800 + 4000 * yy / h + 200 * (spec.source_id % 5)).astype(np.uint16)
    grey = (60 + 120 * xx / w + 40 * yy / h + 7 * (spec.source_id % 5)).astype(np.uint8)
    if spec.kind == "grey":
        return grey
    rgb = np.stack([grey, (200 - 100 * yy / h).astype(np.uint8), (50 + 150 * xx / w).astype(np.uint8)], axis=-1)
    return rgb.astype(np.uint8)


def render_frame(spec: CameraSpec, counter: int, base: np.ndarray | None = None) -> np.ndarray:
    """Pixels of frame `counter` of `spec` (uint8 HxW grey, HxWx3 RGB, or uint16 HxW depth units)."""
    img = (_background(spec) if base is None else base).copy()
    lo, hi = _U16_BITS if spec.kind == "depth" else _U8_BITS
    h, w = img.shape[:2]
    bar_w = max(4, w // 32)
    x0 = (counter * 7) % (w - bar_w)
    img[3 * (h // GRID_ROWS):, x0:x0 + bar_w] = hi if spec.kind != "depth" else 600
    for col, row, bit in _bits_cells(counter, spec.source_id):
        img[_cell(img.shape, col, row)] = hi if bit else lo
    return img


def _cell_means(img: np.ndarray, row: int, n: int) -> list[float]:
    a = np.asarray(img)
    if a.ndim == 3:
        a = a.mean(axis=2)
    out = []
    for col in range(n):
        ys, xs = _cell(a.shape, col, row)
        hgt, wid = ys.stop - ys.start, xs.stop - xs.start
        core = a[ys.start + hgt // 4: ys.stop - hgt // 4, xs.start + wid // 4: xs.stop - wid // 4]
        out.append(float(core.mean()))
    return out


def _threshold(img: np.ndarray) -> float:
    return 2000.0 if np.asarray(img).dtype == np.uint16 else 128.0


def decode_frame_counter(img: np.ndarray) -> int:
    """The frame counter encoded in an image from the simulator (grey, RGB/BGR or depth array,
    decoded JPEG included, any resize)."""
    t = _threshold(img)
    bits = _cell_means(img, 0, 16) + _cell_means(img, 1, 16)
    return sum(1 << i for i, m in enumerate(bits) if m > t)


def decode_source_id(img: np.ndarray) -> int | None:
    """The source id encoded in the image (see `ALL_CAMERAS`), None if the code is inconsistent."""
    t = _threshold(img)
    bits = _cell_means(img, 2, 16)
    code = sum(1 << i for i, m in enumerate(bits) if m > t)
    sid, check = code & 0xFF, (code >> 8) & 0xFF
    return sid if check == (~sid & 0xFF) else None


def image_to_array(image: image_pb2.Image) -> np.ndarray:
    """Pixels of a bosdyn `Image` (JPEG decoded with OpenCV; RGB stays RGB; depth as uint16)."""
    if image.format == Image.FORMAT_JPEG:
        flag = cv2.IMREAD_GRAYSCALE if image.pixel_format == Image.PIXEL_FORMAT_GREYSCALE_U8 else cv2.IMREAD_COLOR
        arr = cv2.imdecode(np.frombuffer(image.data, np.uint8), flag)
        return arr if arr.ndim == 2 else arr[..., ::-1]
    if image.pixel_format == Image.PIXEL_FORMAT_DEPTH_U16:
        return np.frombuffer(image.data, "<u2").reshape(image.rows, image.cols)
    if image.pixel_format == Image.PIXEL_FORMAT_RGB_U8:
        return np.frombuffer(image.data, np.uint8).reshape(image.rows, image.cols, 3)
    return np.frombuffer(image.data, np.uint8).reshape(image.rows, image.cols)


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
        self.base = _background(spec)
        self.lock = threading.Lock()
        self.counter = -1
        self.pixels: np.ndarray | None = None
        self.encoded: dict[tuple, bytes] = {}
        self.recent: dict[tuple, float] = {}   # key -> monotonic time of last request


class SimCameras:
    """The robot's ImageService. `rate_hz`: camera frame rate; `served_maxlen`: log length."""

    def __init__(self, robot: "SimRobot", clock: RobotClock, arm: bool = True, rate_hz: float = 30.0,
                 served_maxlen: int = 5000, prepare_ahead: bool = True):
        self.robot = robot
        self.clock = clock
        self.arm = arm
        self.rate_hz = rate_hz
        self.period_ns = int(1e9 / rate_hz)
        self.t0_robot_ns = clock.robot_ns()
        self.cameras = [c for c in ALL_CAMERAS if arm or not c.arm_only]
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
                touch: bool = True) -> tuple[bytes, int, int]:
        """(data, cols, rows) of frame `counter` of source `name` (cached for the newest frame).

        `touch`: count this as a client request (keeps the source prepared ahead for a second).
        """
        st = self._state[name]
        key = (fmt, int(quality), float(resize))
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
        if pixels is None:
            pixels = render_frame(st.spec, counter, st.base)
        out = self._encode(st.spec, pixels, fmt, quality, resize)
        with st.lock:
            if counter > st.counter:
                st.counter, st.pixels, st.encoded = counter, pixels, {}
            if counter == st.counter:
                st.encoded[key] = out
        return out

    def latest(self, name: str, counter: int, fmt: int, quality: float,
               resize: float) -> tuple[bytes, int, int, int]:
        """(data, cols, rows, frame counter) of the newest frame ready at frame `counter`.

        Like a camera pipeline, a frame becomes available once encoded: when frame `counter`
        is not ready yet but frame `counter - 1` is (prepared ahead), that one is served.
        """
        st = self._state[name]
        key = (fmt, int(quality), float(resize))
        if self._ahead is not None:
            with st.lock:
                hit = st.encoded.get(key)
                if hit is not None and st.counter in (counter, counter - 1):
                    st.recent[key] = time.monotonic()
                    return (*hit, st.counter)
        return (*self.encoded(name, counter, fmt, quality, resize), counter)

    @staticmethod
    def _encode(spec: CameraSpec, pixels: np.ndarray, fmt: int, quality: float, resize: float):
        img = pixels
        if 0 < resize < 1:
            img = cv2.resize(img, (max(1, int(spec.cols * resize)), max(1, int(spec.rows * resize))),
                             interpolation=cv2.INTER_AREA)
        rows, cols = img.shape[:2]
        if fmt == Image.FORMAT_JPEG:
            bgr = img[..., ::-1] if img.ndim == 3 else img
            q = int(quality) if quality and quality > 0 else 75
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
                        self.encoded(name, counter, key[0], key[1], key[2], touch=False)
                    except Exception:  # noqa: BLE001
                        _LOG.exception("sim cameras: preparing %s failed", name)
            next_acq = self.acquisition_ns(counter + 1)
            wait = (next_acq - self.clock.robot_ns()) * 1e-9 + 0.0005
            self._stop.wait(min(max(wait, 0.001), 0.1))

    # ----- descriptions ---------------------------------------------------------------------
    def image_source(self, spec: CameraSpec) -> ImageSource:
        src = ImageSource(name=spec.name, cols=spec.cols, rows=spec.rows,
                          image_type=ImageSource.IMAGE_TYPE_DEPTH if spec.kind == "depth" else ImageSource.IMAGE_TYPE_VISUAL)
        if spec.kind == "depth":
            src.depth_scale = DEPTH_SCALE
        intr = src.pinhole.intrinsics
        intr.focal_length.x, intr.focal_length.y = spec.fx, spec.fy
        intr.principal_point.x, intr.principal_point.y = spec.cx, spec.cy
        src.pixel_formats.append(spec.pixel_format)
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
        snaps: dict = {}
        resp = image_pb2.GetImageResponse()
        served = []
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
            if ir.pixel_format and ir.pixel_format != spec.pixel_format:
                if spec.pixel_format not in ir.fallback_formats:
                    out.status = ImageResponse.STATUS_UNSUPPORTED_PIXEL_FORMAT_REQUESTED
                    continue
            if ir.resize_ratio < 0 or ir.resize_ratio > 1:
                out.status = ImageResponse.STATUS_UNSUPPORTED_RESIZE_RATIO_REQUESTED
                continue
            data, cols, rows, n = cams.latest(spec.name, counter, fmt, ir.quality_percent, ir.resize_ratio)
            acq = cams.acquisition_ns(n)
            snap = snaps.get(acq)
            if snap is None:
                snap = snaps[acq] = cams.robot.truth_at(acq)
            shot = out.shot
            img = shot.image
            img.cols, img.rows, img.format, img.pixel_format = cols, rows, fmt, spec.pixel_format
            img.data = data
            set_ts(shot.acquisition_time, acq)
            shot.frame_name_image_sensor = spec.frame
            shot.capture_params.exposure_duration.FromNanoseconds(8_000_000)
            shot.capture_params.gain = 1.0
            fill_frame_tree(shot.transforms_snapshot, snap, sensors=True, only_sensor=spec.frame)
            out.status = ImageResponse.STATUS_OK
            served.append(ServedImage(spec.name, n, acq, Image.Format.Name(fmt), data,
                                      float(ir.quality_percent), time.time_ns()))
        cams.served.extend(served)
        fill_response_header(resp, request, cams.clock, received)
        return resp
