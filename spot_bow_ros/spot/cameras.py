"""Spot's cameras through bosdyn's ImageClient: fetch, decode in parallel, stamp on the local clock.

`CameraFetcher.fetch(requests)` asks the robot for every due source in ONE GetImage call and
handles each image response on its own. bosdyn's `ImageClient.get_image` raises for the WHOLE
call when any one response has a status other than STATUS_OK (a greyscale robot asked for
RGB_U8, an unknown source, ...), so the fetcher makes the same RPC through the client with
header checks only and judges each response's status itself (`status_action`): a pixel or
image format the source refuses is asked for again without it (the camera's own format, one
log line through `on_notice`), an unknown source is dropped (one line), other failures
(unknown camera, bad data, an undecodable JPEG) are reported through `on_error`; the others
are delivered. Only when the whole call fails (the robot refused the batch) are the sources
asked for one by one, so a single bad source still cannot stop the rest. JPEGs are decoded with OpenCV on a small thread
pool (cv2 releases the GIL); RAW images are passed through without copying; depth becomes
16UC1 millimetres (ROS convention) from the source's `depth_scale` (pixel / depth_scale =
metres; 999 on a real robot's `*_depth` sources). A depth source that reports no depth_scale
(0: `*_depth_in_visual_frame` on a real robot) is taken as 1000 units per metre (millimetres).
Each image is stamped with its acquisition time converted robot -> local clock and carries its
sensor frame (`frame_name_image_sensor`).

Why one call: on loopback one GetImage for five 640x480 JPEG sources costs little more than
one for a single source (DESIGN.md §5: ~1.3 ms vs ~1 ms), so per-source calls would spend
five times the RPC overhead for nothing; decoding, the real cost, runs in parallel anyway.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

import cv2
import numpy as np
from bosdyn.api import image_pb2
from bosdyn.client.common import common_header_errors
from bosdyn.client.exceptions import Error as BosdynError
from bosdyn.client.image import ImageClient, build_image_request

from ..convert import images as imconv
from ..convert.camera_info import camera_model_of_source
from ..convert.spot_catalogue import BODY_CAMERAS

Image = image_pb2.Image

#: ROS camera name -> (visual source, depth source) on Spot's image service.
CAMERA_SOURCES: dict[str, tuple[str, str]] = {
    "frontleft": ("frontleft_fisheye_image", "frontleft_depth"),
    "frontright": ("frontright_fisheye_image", "frontright_depth"),
    "left": ("left_fisheye_image", "left_depth"),
    "right": ("right_fisheye_image", "right_depth"),
    "back": ("back_fisheye_image", "back_depth"),
    "hand": ("hand_color_image", "hand_depth"),
}
#: ROS camera name -> the robot's depth source registered to (resampled into) the visual camera
REGISTERED_DEPTH_SOURCES: dict[str, str] = {
    **{cam: f"{cam}_depth_in_visual_frame" for cam in BODY_CAMERAS},
    "hand": "hand_depth_in_hand_color_frame",
}
VISUAL, DEPTH, DEPTH_REGISTERED = "visual", "depth", "depth_registered"
MILLIMETRES_PER_METRE = 1000.0

_RAW_ENCODINGS = {
    Image.PIXEL_FORMAT_GREYSCALE_U8: imconv.MONO8,
    Image.PIXEL_FORMAT_RGB_U8: imconv.RGB8,
    Image.PIXEL_FORMAT_RGBA_U8: imconv.RGBA8,
    Image.PIXEL_FORMAT_DEPTH_U16: imconv.TYPE_16UC1,
    Image.PIXEL_FORMAT_GREYSCALE_U16: imconv.MONO16,
}


class CameraError(Exception):
    """One image could not be turned into pixels; the message names the source and the cause."""


@dataclass(frozen=True)
class SourceRequest:
    """One image source to fetch. `decode=False` skips decoding (only the JPEG bytes are wanted)."""

    camera: str                 # ROS camera name, e.g. "frontleft"
    kind: str                   # VISUAL or DEPTH
    source: str                 # Spot source name, e.g. "frontleft_fisheye_image"
    image_format: int = Image.FORMAT_JPEG
    pixel_format: int = Image.PIXEL_FORMAT_UNKNOWN
    quality_percent: float = 75.0
    decode: bool = True

    def image_request(self) -> image_pb2.ImageRequest:
        return build_image_request(
            self.source, quality_percent=self.quality_percent,
            image_format=self.image_format if self.image_format != Image.FORMAT_UNKNOWN else None,
            pixel_format=self.pixel_format if self.pixel_format != Image.PIXEL_FORMAT_UNKNOWN else None)


def visual_request(camera: str, image_format: int = Image.FORMAT_JPEG, quality_percent: float = 75.0,
                   decode: bool = True, pixel_format: int = Image.PIXEL_FORMAT_UNKNOWN) -> SourceRequest:
    """A request for `camera`'s visual source; `pixel_format` UNKNOWN = the camera's own."""
    return SourceRequest(camera, VISUAL, CAMERA_SOURCES[camera][0], image_format, pixel_format,
                         quality_percent, decode)


def depth_request(camera: str, decode: bool = True) -> SourceRequest:
    return SourceRequest(camera, DEPTH, CAMERA_SOURCES[camera][1], Image.FORMAT_RAW,
                         Image.PIXEL_FORMAT_DEPTH_U16, 100.0, decode)


def registered_depth_request(camera: str, decode: bool = True) -> SourceRequest:
    """The depth of `camera` registered to its visual camera (`*_depth_in_visual_frame`)."""
    return SourceRequest(camera, DEPTH_REGISTERED, REGISTERED_DEPTH_SOURCES[camera], Image.FORMAT_RAW,
                         Image.PIXEL_FORMAT_DEPTH_U16, 100.0, decode)


def source_name(camera: str, kind: str) -> str:
    """The robot's image source of ROS camera `camera` for `kind` (VISUAL, DEPTH, DEPTH_REGISTERED)."""
    if kind == DEPTH_REGISTERED:
        return REGISTERED_DEPTH_SOURCES[camera]
    return CAMERA_SOURCES[camera][0 if kind == VISUAL else 1]


@dataclass
class SpotImage:
    """One delivered image, ready for ROS: pixels in `encoding`, stamp on the local clock."""

    request: SourceRequest
    stamp_ns: int                   # acquisition time, local (ROS) clock, ns since the epoch
    robot_stamp_ns: int             # acquisition time on the robot clock
    frame_id: str                   # the image sensor frame (`frame_name_image_sensor`)
    width: int
    height: int
    encoding: str                   # ROS encoding of `pixels` (mono8, bgr8, rgb8, 16UC1, ...)
    pixels: np.ndarray | bytes | None  # None when not decoded; bytes = RAW passthrough
    jpeg: bytes | None = None       # the robot's JPEG bytes, untouched (JPEG sources)
    jpeg_encoding: str | None = None  # encoding the JPEG decodes to (mono8 / bgr8)
    source: image_pb2.ImageSource | None = None  # camera model of the source
    snapshot: Any = None            # the shot's FrameTreeSnapshot (sensor frame -> body, ...)
    decode_s: float = 0.0           # CPU seconds spent in cv2.imdecode (statistics)


# -- pure pieces -------------------------------------------------------------------------------

def depth_to_millimetres(raw: np.ndarray, depth_scale: float) -> np.ndarray:
    """uint16 depth in the source's units (pixel / depth_scale = metres) -> uint16 millimetres.

    `depth_scale` 1000, or 0 (not reported, as by a real robot's `*_depth_in_visual_frame`
    sources, whose values are millimetres), means the values already are millimetres: returned
    as is.
    0 and 65535 (invalid) stay 0 and 65535; values beyond 65.535 m saturate at 65535.
    One table look-up per pixel (the table is computed once per depth_scale).
    """
    if not depth_scale or abs(depth_scale - MILLIMETRES_PER_METRE) < 1e-9:
        return raw
    return _millimetre_table(float(depth_scale))[raw]


@functools.lru_cache(maxsize=8)
def _millimetre_table(depth_scale: float) -> np.ndarray:
    """uint16 -> uint16 millimetres for `depth_scale` units per metre (65535 stays invalid)."""
    units = np.arange(65536, dtype=np.float64)
    table = np.clip(np.rint(units * (MILLIMETRES_PER_METRE / depth_scale)), 0, 65535).astype(np.uint16)
    table[65535] = 65535
    return table


def decode_response(response: image_pb2.ImageResponse, request: SourceRequest,
                    robot_to_local_ns: Callable[[int], int]) -> SpotImage:
    """Turn one OK ImageResponse into a SpotImage (decoding a JPEG unless `request.decode` is False).

    Raises CameraError for RLE data, unknown pixel formats, sizes that do not match the data,
    and JPEGs that do not decode.
    """
    shot = response.shot
    img = shot.image
    robot_ns = shot.acquisition_time.seconds * 1_000_000_000 + shot.acquisition_time.nanos
    base = dict(request=request, stamp_ns=robot_to_local_ns(robot_ns), robot_stamp_ns=robot_ns,
                frame_id=shot.frame_name_image_sensor, width=img.cols, height=img.rows,
                source=response.source, snapshot=shot.transforms_snapshot)
    fmt = img.format
    if fmt == Image.FORMAT_JPEG or (fmt == Image.FORMAT_UNKNOWN and img.data[:2] == b"\xff\xd8"):
        jpeg = img.data
        grey = img.pixel_format in (Image.PIXEL_FORMAT_GREYSCALE_U8, Image.PIXEL_FORMAT_GREYSCALE_U16)
        if not request.decode:
            enc = imconv.MONO8 if grey else imconv.BGR8
            return SpotImage(encoding=enc, pixels=None, jpeg=jpeg, jpeg_encoding=enc, **base)
        t0 = time.thread_time()
        flags = cv2.IMREAD_GRAYSCALE if grey else cv2.IMREAD_UNCHANGED
        pixels = cv2.imdecode(np.frombuffer(jpeg, np.uint8), flags)
        dt = time.thread_time() - t0
        if pixels is None:
            raise CameraError(f"{request.source}: {len(jpeg)} bytes of JPEG data do not decode")
        enc = imconv.MONO8 if pixels.ndim == 2 else imconv.BGR8 if pixels.shape[2] == 3 else imconv.BGRA8
        h, w = pixels.shape[:2]
        if (img.cols and img.cols != w) or (img.rows and img.rows != h):
            raise CameraError(f"{request.source}: JPEG is {w}x{h} but the response says {img.cols}x{img.rows}")
        base.update(width=w, height=h)
        return SpotImage(encoding=enc, pixels=pixels, jpeg=jpeg, jpeg_encoding=imconv.MONO8 if enc == imconv.MONO8
                         else imconv.BGR8, decode_s=dt, **base)
    if fmt == Image.FORMAT_RAW:
        encoding = _RAW_ENCODINGS.get(img.pixel_format)
        if encoding is None:
            raise CameraError(f"{request.source}: RAW image with pixel format "
                              f"{Image.PixelFormat.Name(img.pixel_format)} is not supported")
        dtype, channels = imconv.encoding_info(encoding)
        need = img.cols * img.rows * channels * dtype.itemsize
        if len(img.data) != need:
            raise CameraError(f"{request.source}: RAW {encoding} {img.cols}x{img.rows} needs {need} bytes, "
                              f"got {len(img.data)}")
        data: np.ndarray | bytes = img.data
        if encoding == imconv.TYPE_16UC1:
            scale = response.source.depth_scale
            if scale and abs(scale - MILLIMETRES_PER_METRE) > 1e-9:
                raw = np.frombuffer(img.data, "<u2").reshape(img.rows, img.cols)
                data = depth_to_millimetres(raw, scale)
        return SpotImage(encoding=encoding, pixels=data, **base)
    raise CameraError(f"{request.source}: image format {Image.Format.Name(fmt)} is not supported "
                      "(ask for JPEG or RAW)")


# -- fetching ----------------------------------------------------------------------------------

FALLBACK, DROP = "fallback", "drop"
_Status = image_pb2.ImageResponse


def status_action(request: SourceRequest, status: int) -> str | None:
    """What to do about a source the robot answered `status` for: FALLBACK (ask again without
    the refused pixel/image format: the camera's own), DROP (stop asking: the robot has no such
    source), or None (keep asking; transient or not ours to fix)."""
    if status == _Status.STATUS_UNSUPPORTED_PIXEL_FORMAT_REQUESTED and \
            request.pixel_format != Image.PIXEL_FORMAT_UNKNOWN:
        return FALLBACK
    if status == _Status.STATUS_UNSUPPORTED_IMAGE_FORMAT_REQUESTED and request.image_format != Image.FORMAT_UNKNOWN:
        return FALLBACK
    if status == _Status.STATUS_UNKNOWN_CAMERA:
        return DROP
    return None


def fallback_request(request: SourceRequest, status: int) -> SourceRequest:
    """`request` without the format the robot refused with `status`."""
    if status == _Status.STATUS_UNSUPPORTED_PIXEL_FORMAT_REQUESTED:
        return replace(request, pixel_format=Image.PIXEL_FORMAT_UNKNOWN)
    return replace(request, image_format=Image.FORMAT_UNKNOWN)


@dataclass
class FetchStats:
    calls: int = 0
    fallback_calls: int = 0
    delivered: int = 0
    failed: int = 0
    rpc_s: float = 0.0          # wall time in GetImage calls
    decode_s: float = 0.0       # CPU time in cv2.imdecode
    deliver_cpu_s: float = 0.0  # CPU time of decode + conversion + publishing (worker threads)
    #: per source: [images handed to the workers, their worker CPU s, cv2.imdecode CPU s]
    by_source: dict[str, list] = field(default_factory=dict)


class CameraFetcher:
    """Fetch sources from Spot's image service and hand each image to `on_image` (in a worker
    thread), each failure to `on_error(request, message)`.

    `get_client()` returns the current ImageClient (e.g. `lambda: connection.ensure_client("image")`),
    `robot_to_local_ns(robot_ns)` converts robot-clock stamps (the connection's time sync).
    `on_notice(request, message)` is told once when a source falls back to its own format or is
    dropped (`status_action`); later requests for that source are rewritten / left out.
    """

    def __init__(self, get_client: Callable[[], ImageClient], robot_to_local_ns: Callable[[int], int],
                 on_image: Callable[[SpotImage], None], on_error: Callable[[SourceRequest, str], None],
                 workers: int = 2, timeout_s: float = 2.0,
                 on_notice: Callable[[SourceRequest, str], None] | None = None):
        self.get_client = get_client
        self.robot_to_local_ns = robot_to_local_ns
        self.on_image, self.on_error = on_image, on_error
        self.on_notice = on_notice or on_error
        #: source -> the request that replaces it (a fallback), or None (dropped)
        self.adjusted: dict[str, SourceRequest | None] = {}
        self.timeout_s = timeout_s
        self.stats = FetchStats()
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="spot-camera-decode")
        self._lock = threading.Lock()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    # one GetImage for all; per-image status handled individually
    def _get_images(self, client: ImageClient, requests: Sequence[SourceRequest]) -> list[image_pb2.ImageResponse]:
        req = image_pb2.GetImageRequest(image_requests=[r.image_request() for r in requests])
        return client.call(client._stub.GetImage, req, value_from_response=lambda resp: list(resp.image_responses),
                           error_from_response=common_header_errors, copy_request=False, timeout=self.timeout_s)

    def fetch(self, requests: Sequence[SourceRequest]) -> int:
        """Fetch `requests` (one call), decode in parallel, deliver; returns images delivered.
        Blocks until every image of this batch is delivered or failed."""
        return sum(f.result() for f in self.deliver_async(self.request_images(requests)))

    def request_images(self, requests: Sequence[SourceRequest]
                       ) -> list[tuple[SourceRequest, image_pb2.ImageResponse]]:
        """One GetImage for all `requests`; (request, response) of every source answered OK.
        Failed sources go to `on_error`. If the robot refuses the whole batch, each source is
        asked for on its own so that one bad source cannot starve the others."""
        requests = self.adjust(requests)
        if not requests:
            return []
        client = self.get_client()
        t0 = time.perf_counter()
        pairs: list[tuple[SourceRequest, image_pb2.ImageResponse]] = []
        try:
            responses = self._get_images(client, requests)
            self.stats.calls += 1
            by_name = {}
            for resp in responses:
                by_name.setdefault(resp.source.name, resp)
            for request in requests:
                resp = by_name.get(request.source)
                if resp is None:
                    self._fail(request, "the robot sent no image for this source")
                else:
                    pairs.append((request, resp))
        except BosdynError as err:
            if len(requests) == 1:
                self._fail(requests[0], _reason(err))
            else:  # the robot refused the batch: isolate the culprit(s), one call per source
                for request in requests:
                    try:
                        resp = self._get_images(client, [request])
                        self.stats.fallback_calls += 1
                    except BosdynError as err1:
                        self._fail(request, _reason(err1))
                        continue
                    if resp:
                        pairs.append((request, resp[0]))
                    else:
                        self._fail(request, "the robot sent no image for this source")
        self.stats.rpc_s += time.perf_counter() - t0
        return [(req, resp) for req, resp in pairs if self._check_status(req, resp)]

    def deliver_async(self, pairs: Sequence[tuple[SourceRequest, image_pb2.ImageResponse]]) -> list[Future]:
        """Decode and deliver each image on the pool; futures resolve to True when delivered."""
        return [self._pool.submit(self._deliver, req, resp) for req, resp in pairs]

    def adjust(self, requests: Sequence[SourceRequest]) -> list[SourceRequest]:
        """`requests` with fallbacks applied and dropped sources left out."""
        if not self.adjusted:
            return list(requests)
        out = []
        for r in requests:
            if r.source not in self.adjusted:
                out.append(r)
            elif (new := self.adjusted[r.source]) is not None:
                out.append(replace(new, decode=r.decode))
        return out

    def _check_status(self, request: SourceRequest, resp: image_pb2.ImageResponse) -> bool:
        if resp.status == image_pb2.ImageResponse.STATUS_OK:
            return True
        name = image_pb2.ImageResponse.Status.Name(resp.status)
        action = status_action(request, resp.status)
        if action is None:
            self._fail(request, f"the robot answered {name}")
            return False
        with self._lock:
            self.stats.failed += 1
        if action == DROP:
            self.adjusted[request.source] = None
            self.on_notice(request, f"the robot answered {name}: source dropped")
        else:
            asked = (Image.PixelFormat.Name(request.pixel_format)
                     if resp.status == _Status.STATUS_UNSUPPORTED_PIXEL_FORMAT_REQUESTED
                     else Image.Format.Name(request.image_format))
            self.adjusted[request.source] = fallback_request(request, resp.status)
            self.on_notice(request, f"the robot answered {name} for {asked}: asking for the camera's own format")
        return False

    def _deliver(self, request: SourceRequest, resp: image_pb2.ImageResponse) -> bool:
        t0 = time.thread_time()
        try:
            return self._deliver_timed(request, resp)
        finally:
            dt = time.thread_time() - t0
            with self._lock:
                self.stats.deliver_cpu_s += dt
                self.stats.by_source.setdefault(request.source, [0, 0.0, 0.0])
                entry = self.stats.by_source[request.source]
                entry[0] += 1
                entry[1] += dt

    def _deliver_timed(self, request: SourceRequest, resp: image_pb2.ImageResponse) -> bool:
        try:
            image = decode_response(resp, request, self.robot_to_local_ns)
        except CameraError as err:
            self._fail(request, str(err))
            return False
        except Exception as err:  # noqa: BLE001 - e.g. time sync lost: this image only
            self._fail(request, f"{type(err).__name__}: {err}")
            return False
        with self._lock:
            self.stats.delivered += 1
            self.stats.decode_s += image.decode_s
            self.stats.by_source.setdefault(request.source, [0, 0.0, 0.0])[2] += image.decode_s
        try:
            self.on_image(image)
        except Exception as err:  # noqa: BLE001 - a publishing problem must not stop the others
            self._fail(request, f"publishing failed: {type(err).__name__}: {err}")
            return False
        return True

    def _fail(self, request: SourceRequest, message: str) -> None:
        with self._lock:
            self.stats.failed += 1
        self.on_error(request, message)

    def list_sources(self, timeout_s: float = 5.0) -> dict[str, image_pb2.ImageSource]:
        """The robot's image sources by name."""
        return {s.name: s for s in self.get_client().list_image_sources(timeout=timeout_s)}


def acquisition_robot_ns(resp: image_pb2.ImageResponse) -> int:
    """Acquisition time of an image response on the robot clock (ns)."""
    t = resp.shot.acquisition_time
    return t.seconds * 1_000_000_000 + t.nanos


class FetchSchedule:
    """When to ask the robot for images: a fixed-rate schedule on the monotonic clock, bent by
    the robot's acquisition times so that no fetch is wasted on a frame already delivered.

    - Cycles are `period` apart. A late cycle is caught up at once (up to `catch_up_periods`
      behind; further behind, the missed cycles are skipped, no burst).
    - No cycle starts before the robot can have a newer frame of every source than the last one
      fetched (the camera's frame period and the robot's pipeline latency are learnt from the
      acquisition times). When that is later than the cycle's slot (fetch rate >= camera rate),
      the schedule moves to it: cycles then follow the robot's frames, each fetched once, right
      after it is ready -- not at a fixed phase that may sit on the frame boundary or lag the
      frames by most of a period. So does a fetch period up to FOLLOW_TOLERANCE longer than the
      frame period (acquisition jitter makes the learnt frame period a little short).
    - `sort(pairs, now)` splits a fetch into new frames and duplicates (acquisition time not
      newer than the last frame of that source): duplicates are not decoded, and their sources
      are asked for again right after the robot's next frame (`retry_at`), within the cycle.

    Times: `now`/`*_at` are `time.monotonic()` seconds; acquisition times robot-clock ns,
    converted with `robot_to_mono(robot_ns) -> monotonic s`.
    """

    MIN_RETRY_S = 0.002     # never ask again sooner than this
    MARGIN_S = 0.002        # after the robot's next frame should be ready
    MAX_RETRIES = 3         # follow-up fetches for duplicates per cycle
    FOLLOW_TOLERANCE = 0.1  # a fetch period up to 10 % longer than the frame period follows the frames
    # Per fetch with new frames the learnt latency shrinks by a step (larger until the first
    # fetch that came too early, then smaller); a fetch that came too early raises it to what it
    # would have needed plus LATENCY_RAISE_S. It may go below 0: it also absorbs the error of the
    # time-sync mapping of acquisition times.
    LATENCY_STEP_FAST_S, LATENCY_STEP_SLOW_S = 1e-3, 5e-5
    LATENCY_RAISE_S = 0.003

    def __init__(self, period_s: float, catch_up_periods: int = 3):
        self.period = period_s
        self.catch_up_periods = catch_up_periods
        self.next_t = time.monotonic()
        self.frame_period: float | None = None   # camera frame period (s), from acquisition steps
        self.latency: float | None = None        # fetch sent - acquisition (s) by which a frame is
        # ready (robot pipeline): the smallest seen with a new frame, shrinking slowly, raised by duplicates
        self._last: dict[str, tuple[int, float]] = {}  # source -> (acquisition robot ns, monotonic s)
        self._too_early_seen = False
        self.retries = 0
        self.duplicates = 0                      # frames fetched twice (statistics)
        self.skipped = 0                         # cycles skipped because far behind

    def reset(self, now: float) -> None:
        self.next_t = now
        self.retries = 0

    def forget(self) -> None:
        """A (re)connected robot: its frames and clock start anew."""
        self._last.clear()
        self.frame_period = self.latency = None
        self._too_early_seen = False

    def _next_frame_at(self, sources) -> float | None:
        """Monotonic time by which the robot should have a newer frame of every one of `sources`."""
        if self.frame_period is None:
            return None
        times = [self._last[s][1] for s in sources if s in self._last]
        if not times:
            return None
        return max(times) + self.frame_period + (self.latency or 0.0) + self.MARGIN_S

    def sort(self, pairs: Sequence[tuple[SourceRequest, image_pb2.ImageResponse]], sent_at: float,
             robot_to_mono: Callable[[int], float]) -> tuple[list, list[SourceRequest]]:
        """(pairs with a new frame, requests whose frame was already fetched); learns the camera's
        frame period and latency. `sent_at`: monotonic time the request was sent."""
        fresh, dups = [], []
        for req, resp in pairs:
            acq = acquisition_robot_ns(resp)
            last = self._last.get(req.source)
            if last is not None and acq <= last[0]:
                dups.append(req)
                self._learn_slower_pipeline(sent_at - last[1])
                continue
            try:
                mono = robot_to_mono(acq)
            except Exception:  # noqa: BLE001 - no time sync yet: the image reports it when delivered
                mono = sent_at
            if last is not None:
                step = (acq - last[0]) * 1e-9
                if self.frame_period is None or step < self.frame_period:
                    self.frame_period = max(step, 1e-3)
            lat = sent_at - mono
            if self.latency is None or lat < self.latency:
                self.latency = min(max(lat, -self.period), self.period)
            self._last[req.source] = (acq, mono)
            fresh.append((req, resp))
        if fresh and self.latency is not None:  # probe a little earlier next time (a fetch just
            # after the frame is ready would otherwise never observe a smaller latency)
            step = self.LATENCY_STEP_SLOW_S if self._too_early_seen else self.LATENCY_STEP_FAST_S
            self.latency = max(-self.period, self.latency - step)
        self.duplicates += len(dups)
        return fresh, dups

    def _learn_slower_pipeline(self, since_last_frame: float) -> None:
        """A fetch `since_last_frame` s after the last frame's acquisition got no newer frame: when
        the latency said it should have, the robot's pipeline is slower than learnt."""
        if self.frame_period is None or self.latency is None:
            return
        late = since_last_frame - self.frame_period  # how long the next frame had been acquired
        if late >= self.latency:
            self.latency = min(late + self.LATENCY_RAISE_S, self.frame_period / 4)
            self._too_early_seen = True

    def retry_at(self, dups: Sequence[SourceRequest], now: float, next_cycle_at: float) -> float | None:
        """When to ask again for `dups` within this cycle, or None (the next cycle, due at
        `next_cycle_at`, will)."""
        if not dups or self.retries >= self.MAX_RETRIES:
            return None
        at = self._next_frame_at([r.source for r in dups])
        at = now + max(self.MIN_RETRY_S, self.period / 8) if at is None else max(at, now + self.MIN_RETRY_S)
        if at >= next_cycle_at - self.MIN_RETRY_S:  # the next cycle comes first
            return None
        self.retries += 1
        return at

    def advance(self, now: float, sources: Sequence[str]) -> float:
        """End of a cycle: the monotonic time to start the next one."""
        self.retries = 0
        self.next_t += self.period
        if self.next_t < now - self.catch_up_periods * self.period:  # far behind: skip, do not burst
            self.skipped += int((now - self.next_t) / self.period)
            self.next_t = now
        at = self.next_t
        ready = self._next_frame_at(sources)
        if ready is None:
            return at
        follow = self.period <= self.frame_period * (1 + self.FOLLOW_TOLERANCE)  # at/above the camera rate
        if at >= now and (follow or ready > at):  # on time: the schedule moves to the robot's frames
            self.next_t = at = min(max(ready, now), now + self.period + self.frame_period)
        elif ready > at:  # catching up: the slots stay, each waits for a newer frame
            at = min(ready, now + self.period)
        return at


def _reason(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0][:200]}" if text else type(err).__name__


class ThrottledErrors:
    """Logs a source's failure once per distinct message (and again when it recovers)."""

    def __init__(self, logger: Any):
        self.log = logger
        self._last: dict[str, str] = {}
        self._lock = threading.Lock()
        self.counts: dict[str, int] = {}

    def error(self, source: str, message: str) -> None:
        with self._lock:
            self.counts[source] = self.counts.get(source, 0) + 1
            if self._last.get(source) == message:
                return
            self._last[source] = message
        self.log.warning(f"camera source {source}: {message}; other cameras continue")

    def ok(self, source: str) -> None:
        if source in self._last:
            with self._lock:
                if self._last.pop(source, None) is None:
                    return
            self.log.info(f"camera source {source} delivers images again")


def camera_model(image: SpotImage) -> tuple[list[float], str, list[float]]:
    """(K, distortion model, D) of a delivered image, for its actual size."""
    if image.source is None:
        return [0.0] * 9, "", []
    return camera_model_of_source(image.source, image.width, image.height)
