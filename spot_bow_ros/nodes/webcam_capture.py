"""Frame sources for the webcam bridge: OpenCV `VideoCapture` and a built-in moving test pattern.

A capture source is neither Spot nor ROS: it yields BGR frames (uint8 HxWx3) with the local
time they were captured. Kinds of `device`:

- `"0"`, `"1"`, ...: a camera by OpenCV index;
- `/dev/video0`, `/dev/v4l/by-id/usb-...-video-index0`: a V4L2 device path;
- a video file (anything OpenCV/FFmpeg reads); played at `fps` (or the file's rate);
- a GStreamer pipeline (contains `!`), e.g. `v4l2src ! videoconvert ! appsink`
  (needs an OpenCV built with GStreamer);
- `"test_pattern"`: a moving pattern made here, no hardware needed. Row 0 carries the frame
  counter (see `pattern_frame_number`) so tests can check what arrived.
"""

from __future__ import annotations

import glob
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlparse

import cv2
import numpy as np

TEST_PATTERN = "test_pattern"


class CaptureError(RuntimeError):
    """A capture device cannot be opened or read. The message names the device and the cause."""

    #: the message is a complete sentence for the user (node executables print it alone)
    user_facing = True


@dataclass
class Frame:
    """One captured frame."""

    image: np.ndarray  # BGR uint8, HxWx3
    stamp_ns: int      # local (ROS) time of capture, ns since the epoch
    index: int         # frame index from this source (0, 1, ...)


class FrameSource(Protocol):
    """What the webcam bridge captures from: `open` before the first `read`; `read` blocks until
    the next frame (None: no frame now, or none ever again when `finished`); `release` frees
    the device."""

    description: str
    dropped: int       # frames the source knows it skipped (late reader)
    finished: bool     # True at the end of a video file (no more frames, do not retry)

    def open(self) -> None: ...
    def read(self) -> Frame | None: ...
    def release(self) -> None: ...


# -- test pattern ------------------------------------------------------------------------------

_COUNTER_BITS = 32
_COUNTER_CELL = 8  # pixels per bit in row 0..7


def pattern_frame_number(image: np.ndarray) -> int:
    """The frame counter written into a test-pattern frame (bgr8, rgb8 or mono8): 32 cells of
    8x8 pixels in the top-left corner, white = 1, most significant bit first."""
    cells = image[:_COUNTER_CELL, :_COUNTER_BITS * _COUNTER_CELL]
    if cells.ndim == 3:
        cells = cells.mean(axis=2)
    bits = cells.reshape(_COUNTER_CELL, _COUNTER_BITS, _COUNTER_CELL).mean(axis=(0, 2)) > 127
    value = 0
    for bit in bits:
        value = (value << 1) | int(bit)
    return value


class TestPattern:
    """Moving colour bars with a frame counter, paced at `fps` on a drift-free schedule.

    Like a camera driver with `BUFFERS` frame buffers: a reader that is late by fewer frames
    gets them all (stamped at their capture instants); later than that, the missed frames are
    skipped and counted in `dropped` (the counter keeps counting, so gaps show in the numbers).
    """

    BUFFERS = 4

    __test__ = False  # not a pytest class

    def __init__(self, width: int = 640, height: int = 480, fps: float = 30.0):
        if width < _COUNTER_BITS * _COUNTER_CELL or height < 2 * _COUNTER_CELL:
            raise CaptureError(f"test pattern needs at least {_COUNTER_BITS * _COUNTER_CELL}x{2 * _COUNTER_CELL} "
                               f"pixels, got {width}x{height}")
        if not fps > 0:
            raise CaptureError(f"test pattern needs fps > 0, got {fps}")
        self.width, self.height, self.fps = int(width), int(height), float(fps)
        self.description = f"test pattern {self.width}x{self.height} @ {self.fps:g} fps"
        self.dropped = 0
        self.finished = False
        self._start_ns = 0
        self._wall0_ns = 0
        self._next = 0
        bars = np.array([[255, 255, 255], [0, 255, 255], [255, 255, 0], [0, 255, 0],
                         [255, 0, 255], [0, 0, 255], [255, 0, 0], [0, 0, 0]], np.uint8)  # BGR
        cols = np.arange(2 * self.width) * len(bars) // self.width % len(bars)
        ramp = np.linspace(64, 255, self.height, dtype=np.float32)[:, None, None]
        self._tile = (bars[cols][None, :, :] * (ramp / 255.0)).astype(np.uint8)  # H x 2W x 3

    def open(self) -> None:
        """Start the pattern's clock: frame 0 is due now."""
        self._start_ns = time.monotonic_ns()
        self._wall0_ns = time.time_ns()
        self._next = 0

    def release(self) -> None:
        """Nothing to free (no device)."""

    def render(self, index: int) -> np.ndarray:
        """Frame `index` (BGR): bars scrolling 4 px per frame, counter in the top-left corner."""
        shift = (index * 4) % self.width
        image = self._tile[:, shift:shift + self.width].copy()
        bits = np.array([(index >> (_COUNTER_BITS - 1 - b)) & 1 for b in range(_COUNTER_BITS)], np.uint8) * 255
        image[:_COUNTER_CELL, :_COUNTER_BITS * _COUNTER_CELL] = np.repeat(bits, _COUNTER_CELL)[None, :, None]
        return image

    def read(self) -> Frame | None:
        """The next frame, waiting until it is due; stamped at its capture instant (ns since the
        epoch), not at read time."""
        period_ns = 1e9 / self.fps
        due = self._start_ns + int(self._next * period_ns)
        now = time.monotonic_ns()
        if now < due:
            time.sleep((due - now) / 1e9)
        else:
            late = int((now - due) // period_ns)
            if late >= self.BUFFERS:  # like a camera driver whose buffers all filled up
                self.dropped += late
                self._next += late
        index = self._next
        self._next += 1
        image = self.render(index)
        # stamped at the frame's capture instant (a driver's buffer time stamp), not at read time
        return Frame(image, self._wall0_ns + int(index * period_ns), index)


# -- OpenCV VideoCapture -----------------------------------------------------------------------

def parse_device(device: str) -> int | str:
    """OpenCV's argument for a `device` parameter: an int for `"0"`, else the string."""
    text = str(device).strip()
    return int(text) if text.isdigit() else text


def is_gstreamer_pipeline(device: str) -> bool:
    """True for a GStreamer pipeline description (elements joined with `!`)."""
    return "!" in str(device)


class OpenCvCapture:
    """`cv2.VideoCapture` on an index, a device path, a video file or a GStreamer pipeline.

    Devices deliver at their own rate (`read` blocks); video files are paced at `fps` (the
    file's own rate when `fps` <= 0) and report `finished` at their end.
    """

    def __init__(self, device: str, width: int = 0, height: int = 0, fps: float = 0.0, fourcc: str = ""):
        self.device = str(device)
        self.width, self.height, self.fps, self.fourcc = int(width), int(height), float(fps), fourcc
        self.description = f"video device {self.device!r}"
        self.is_file = os.path.isfile(self.device)
        if self.is_file:
            self.description = f"video file {self.device!r}"
        elif is_gstreamer_pipeline(self.device):
            self.description = f"GStreamer pipeline {self.device!r}"
        self.dropped = 0
        self.finished = False
        self._cap: cv2.VideoCapture | None = None
        self._index = 0
        self._start_ns = 0
        self._period_ns = 0.0

    def open(self) -> None:
        """Open the device; raises CaptureError with the reason when it cannot be opened."""
        self.release()
        target = parse_device(self.device)
        if is_gstreamer_pipeline(self.device):
            if "GStreamer:                   YES" not in cv2.getBuildInformation():
                raise CaptureError(f"cannot open {self.description}: this OpenCV build has no GStreamer support")
            cap = cv2.VideoCapture(self.device, cv2.CAP_GSTREAMER)
        elif isinstance(target, str) and not self.is_file and not os.path.exists(target):
            raise CaptureError(f"cannot open {self.description}: no such device or file")
        else:
            cap = cv2.VideoCapture(target)
        if not cap.isOpened():
            cap.release()
            why = "permission denied" if isinstance(target, str) and os.path.exists(target) and \
                not os.access(target, os.R_OK) else "OpenCV could not open it (busy, not a camera, or unsupported)"
            raise CaptureError(f"cannot open {self.description}: {why}")
        if not self.is_file:
            if self.fourcc:
                cap.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter_fourcc(*self.fourcc[:4].ljust(4)))
            if self.width > 0:
                cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
            if self.height > 0:
                cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
            if self.fps > 0:
                cap.set(cv2.CAP_PROP_FPS, self.fps)
        else:
            rate = self.fps if self.fps > 0 else cap.get(cv2.CAP_PROP_FPS) or 30.0
            self._period_ns = 1e9 / rate
            self._start_ns = time.monotonic_ns()
        self._cap = cap
        self._index = 0
        self.finished = False

    def actual_size(self) -> tuple[int, int]:
        """(width, height) in pixels that the device or file delivers ((0, 0) when not open)."""
        if self._cap is None:
            return 0, 0
        return int(self._cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(self._cap.get(cv2.CAP_PROP_FRAME_HEIGHT))

    def read(self) -> Frame | None:
        """The next frame, or None when the device stopped delivering (or the file ended:
        then `finished` is True)."""
        if self._cap is None:
            return None
        if self.is_file:
            due = self._start_ns + int(self._index * self._period_ns)
            now = time.monotonic_ns()
            if now < due:
                time.sleep((due - now) / 1e9)
        ok, image = self._cap.read()
        stamp = time.time_ns()
        if not ok or image is None:
            if self.is_file:
                self.finished = True
            return None
        if image.ndim == 2:
            image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
        elif image.shape[2] == 4:
            image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
        frame = Frame(image, stamp, self._index)
        self._index += 1
        return frame

    def release(self) -> None:
        """Release the device or file (idempotent)."""
        if self._cap is not None:
            self._cap.release()
            self._cap = None


#: names that are video files, not devices: a missing one is an error, not a camera to wait for
VIDEO_SUFFIXES = (".mp4", ".avi", ".mkv", ".mov", ".webm", ".mpg", ".mpeg", ".m4v", ".wmv", ".flv", ".ogv",
                  ".h264", ".mjpeg", ".mjpg", ".gif")


def check_video_file(device: str) -> None:
    """Raise CaptureError (one line) when `device` names a video file that is missing or that
    OpenCV cannot decode. Cameras (indexes, /dev paths) and pipelines pass: they may appear later."""
    text = str(device).strip()
    if text == TEST_PATTERN or text.isdigit() or is_gstreamer_pipeline(text) or text.startswith("/dev/"):
        return
    path = Path(os.path.expanduser(text))
    if not path.exists():
        if path.suffix.lower() in VIDEO_SUFFIXES or "/" in text:
            raise CaptureError(f"video file {text!r} does not exist")
        return
    if not path.is_file():
        return  # e.g. a device node outside /dev
    cap = cv2.VideoCapture(str(path))
    try:
        ok, image = cap.read() if cap.isOpened() else (False, None)
    finally:
        cap.release()
    if not ok or image is None:
        raise CaptureError(f"video file {text!r} cannot be decoded (corrupt, or a format this OpenCV "
                           "does not read)")


def missing_camera_fallback(device: str) -> str | None:
    """The one policy of every route (`spot-bow-ros run`, `ros2 run`, `ros2 launch`) for a camera
    index on a machine without any camera: the line to log when `device` is an index and there
    is no /dev/video* (the bridge then shows its test pattern), else None (open the device)."""
    text = str(device).strip()
    if text.isdigit() and not glob.glob("/dev/video*"):
        return f"no camera at device {text} (no /dev/video*): the webcam bridge shows its test pattern"
    return None


def open_source(device: str, width: int, height: int, fps: float, fourcc: str = "") -> FrameSource:
    """The FrameSource for a `device` parameter (not opened yet)."""
    if str(device).strip() == TEST_PATTERN:
        return TestPattern(width or 640, height or 480, fps if fps > 0 else 30.0)
    return OpenCvCapture(device, width, height, fps, fourcc)


# -- calibration files -------------------------------------------------------------------------

def calibration_path(url: str) -> Path:
    """Path of a `camera_info_url` (camera_info_manager URLs): `file:///abs/path.yaml`,
    `package://<pkg>/<path>` (needs `ament_index_python`), or a plain path."""
    if url.startswith("package://"):
        rest = url[len("package://"):]
        pkg, _, rel = rest.partition("/")
        try:
            from ament_index_python.packages import get_package_share_directory
        except ImportError:
            raise CaptureError(f"camera_info_url {url!r}: package:// URLs need a ROS 2 install "
                               "(ament_index_python); use file:// or a path") from None
        try:
            return Path(get_package_share_directory(pkg)) / rel
        except (LookupError, ValueError, OSError) as exc:  # not found, invalid name, no AMENT_PREFIX_PATH
            raise CaptureError(f"camera_info_url {url!r}: package {pkg!r} not found ({exc})") from None
    if url.startswith("file://"):
        return Path(unquote(urlparse(url).path))
    if "://" in url:
        raise CaptureError(f"camera_info_url {url!r}: only file://, package:// or a path are supported")
    return Path(os.path.expanduser(url))


def read_calibration(url: str) -> tuple[str, str]:
    """(text, path) of the calibration file a `camera_info_url` names; CaptureError if unreadable."""
    path = calibration_path(url)
    try:
        return path.read_text(), str(path)
    except OSError as exc:
        raise CaptureError(f"cannot read camera calibration {path}: {exc.strerror or exc}") from None
