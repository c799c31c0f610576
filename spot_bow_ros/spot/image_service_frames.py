"""Frames for the image service: ROS image messages in, Spot `Image` payloads out.

A `Frame` is the latest image of one ROS topic, kept as received: a numpy *view* of the
message's pixel buffer (`sensor_msgs/Image`) or the compressed bytes untouched
(`sensor_msgs/CompressedImage`; decoded lazily, once, only when a request needs pixels).

`render(frame, request)` produces the bytes of one Spot `Image` for a resolved request
(`RenderRequest`: format, pixel format, JPEG quality, resize ratio). Results are cached on the
frame, so N clients asking for the same thing cost one encode per frame.

Pixel conventions (bosdyn `image.proto`):
- `PIXEL_FORMAT_RGB_U8` RAW: rows x cols x 3 bytes, R, G, B order, row-major, no padding.
- `PIXEL_FORMAT_GREYSCALE_U8` RAW: rows x cols bytes.
- `PIXEL_FORMAT_DEPTH_U16` RAW: rows x cols little-endian uint16, millimetres
  (`16UC1` per REP 118; `32FC1` metres are converted to millimetres, invalid -> 0).
- JPEG colour images are encoded from BGR (OpenCV), decoded by clients as RGB per JFIF.

This module is pure (no I/O, no threads besides a per-frame lock); messages are read by
attribute only, so rclpy and rosbags messages both work.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
from bosdyn.api import image_pb2

Image = image_pb2.Image

#: ROS `sensor_msgs/Image` encodings accepted: encoding -> (channels, numpy dtype, layout).
#: layout is the frame's pixel layout: 'mono8', 'rgb8', 'bgr8', 'rgba8', 'bgra8', 'depth16'.
_ENCODINGS: dict[str, tuple[int, str, str]] = {
    "mono8": (1, "u1", "mono8"),
    "8UC1": (1, "u1", "mono8"),
    "rgb8": (3, "u1", "rgb8"),
    "bgr8": (3, "u1", "bgr8"),
    "8UC3": (3, "u1", "bgr8"),
    "rgba8": (4, "u1", "rgba8"),
    "bgra8": (4, "u1", "bgra8"),
    "8UC4": (4, "u1", "bgra8"),
    "16UC1": (1, "u2", "depth16"),
    "32FC1": (1, "f4", "depth16"),
}

SUPPORTED_ENCODINGS = tuple(_ENCODINGS)

#: Pixel formats a frame of each layout can be served as; the first is the native one.
_PIXEL_FORMATS = {
    "mono8": (Image.PIXEL_FORMAT_GREYSCALE_U8, Image.PIXEL_FORMAT_RGB_U8),
    "rgb8": (Image.PIXEL_FORMAT_RGB_U8, Image.PIXEL_FORMAT_GREYSCALE_U8),
    "bgr8": (Image.PIXEL_FORMAT_RGB_U8, Image.PIXEL_FORMAT_GREYSCALE_U8),
    "rgba8": (Image.PIXEL_FORMAT_RGB_U8, Image.PIXEL_FORMAT_GREYSCALE_U8),
    "bgra8": (Image.PIXEL_FORMAT_RGB_U8, Image.PIXEL_FORMAT_GREYSCALE_U8),
    "depth16": (Image.PIXEL_FORMAT_DEPTH_U16,),
}
_IMAGE_FORMATS = {
    "visual": (Image.FORMAT_JPEG, Image.FORMAT_RAW),
    "depth": (Image.FORMAT_RAW,),
}
#: Millimetres per metre: the depth_scale reported for DEPTH_U16 sources.
DEPTH_SCALE = 1000.0

# Colour conversions to (RGB order, BGR order, greyscale) from each layout.
_TO_RGB = {"bgr8": cv2.COLOR_BGR2RGB, "rgba8": cv2.COLOR_RGBA2RGB, "bgra8": cv2.COLOR_BGRA2RGB,
           "mono8": cv2.COLOR_GRAY2RGB}
_TO_BGR = {"rgb8": cv2.COLOR_RGB2BGR, "rgba8": cv2.COLOR_RGBA2BGR, "bgra8": cv2.COLOR_BGRA2BGR,
           "mono8": cv2.COLOR_GRAY2BGR}
_TO_GREY = {"rgb8": cv2.COLOR_RGB2GRAY, "bgr8": cv2.COLOR_BGR2GRAY, "rgba8": cv2.COLOR_RGBA2GRAY,
            "bgra8": cv2.COLOR_BGRA2GRAY}


class FrameError(ValueError):
    """A ROS image message cannot be turned into a frame; the message says why."""


class UnsupportedEncodingError(FrameError):
    """The message's encoding / compressed format is not one this service serves."""


class MalformedImageError(FrameError):
    """The message's size fields and its data do not agree, or the bytes do not decode."""


def layout_kind(layout: str) -> str:
    """'depth' for depth layouts, 'visual' otherwise."""
    return "depth" if layout == "depth16" else "visual"


def pixel_formats_for(layout: str) -> tuple[int, ...]:
    """Spot pixel formats a frame of `layout` can be served as (native first)."""
    return _PIXEL_FORMATS[layout]


def image_formats_for(layout: str) -> tuple[int, ...]:
    """Spot image formats a frame of `layout` can be served as (default first)."""
    return _IMAGE_FORMATS[layout_kind(layout)]


@dataclass(frozen=True)
class RenderRequest:
    """A validated request: what to produce from a frame."""

    image_format: int  # Image.FORMAT_JPEG or Image.FORMAT_RAW
    pixel_format: int  # Image.PIXEL_FORMAT_*
    quality: int  # JPEG quality 1..100 (ignored for RAW)
    resize_ratio: float  # (0, 1]

    def key(self) -> tuple:
        quality = self.quality if self.image_format == Image.FORMAT_JPEG else 0
        return (self.image_format, self.pixel_format, quality, self.resize_ratio)


@dataclass(frozen=True)
class Rendered:
    """The payload of one Spot `Image`."""

    data: bytes
    image_format: int
    pixel_format: int
    rows: int
    cols: int
    passthrough: bool = False  # True when `data` is the publisher's JPEG, untouched


@dataclass(eq=False)
class Frame:
    """The latest image of a topic.

    `stamp_ns`: the message's header stamp, ns since the epoch on the local (ROS) clock.
    `received_s`: `time.monotonic()` when it arrived (staleness).
    `pixels`: rows x cols (x channels) view of the message data, or None for compressed frames
    until decoded. `jpeg`: the publisher's JPEG bytes (compressed topics), served as-is when a
    request allows it. `encoded`: other compressed bytes (PNG) to decode on demand.
    """

    stamp_ns: int
    received_s: float
    rows: int
    cols: int
    layout: str
    frame_id: str = ""
    pixels: np.ndarray | None = None
    jpeg: bytes | None = None
    encoded: bytes | None = None
    _cache: dict = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def kind(self) -> str:
        return layout_kind(self.layout)

    @property
    def native_pixel_format(self) -> int:
        return _PIXEL_FORMATS[self.layout][0]


def _stamp_ns(msg: Any) -> int:
    stamp = msg.header.stamp
    return int(stamp.sec) * 1_000_000_000 + int(stamp.nanosec)


def frame_from_image(msg: Any, received_s: float) -> Frame:
    """Frame from a `sensor_msgs/Image`, viewing `msg.data` without copying.

    Row padding (`step` > width * pixel size) is honoured. Big-endian 16-bit data and `32FC1`
    depth (metres) are converted (copied) to little-endian millimetres.
    Raises `UnsupportedEncodingError` or `MalformedImageError`.
    """
    encoding = str(msg.encoding)
    if encoding not in _ENCODINGS:
        raise UnsupportedEncodingError(
            f"encoding {encoding!r} is not served (supported: {', '.join(SUPPORTED_ENCODINGS)})")
    channels, dtype, layout = _ENCODINGS[encoding]
    rows, cols, step = int(msg.height), int(msg.width), int(msg.step)
    itemsize = np.dtype(dtype).itemsize
    row_bytes = cols * channels * itemsize
    buf = np.frombuffer(msg.data, np.uint8)
    if rows <= 0 or cols <= 0:
        raise MalformedImageError(f"image is {cols}x{rows}: nothing to serve")
    if step < row_bytes or buf.size < rows * step:
        raise MalformedImageError(
            f"{encoding} {cols}x{rows} needs step >= {row_bytes} and {rows * step} bytes, "
            f"got step {step} and {buf.size} bytes")
    arr = buf[: rows * step].reshape(rows, step)[:, :row_bytes]
    if itemsize > 1:
        order = ">" if msg.is_bigendian else "<"
        arr = arr.view(f"{order}{dtype}")
    arr = arr.reshape(rows, cols, channels) if channels > 1 else arr.reshape(rows, cols)
    if encoding == "32FC1":
        arr = _metres_to_millimetres(arr)
    elif itemsize > 1 and msg.is_bigendian:
        arr = arr.astype("<u2")
    return Frame(stamp_ns=_stamp_ns(msg), received_s=received_s, rows=rows, cols=cols,
                 layout=layout, frame_id=str(msg.header.frame_id), pixels=arr)


def _metres_to_millimetres(depth_m: np.ndarray) -> np.ndarray:
    mm = np.nan_to_num(depth_m.astype(np.float64) * 1000.0, nan=0.0, posinf=0.0, neginf=0.0)
    return np.clip(np.rint(mm), 0, 65535).astype("<u2")


def frame_from_compressed(msg: Any, received_s: float) -> Frame:
    """Frame from a `sensor_msgs/CompressedImage` (JPEG or PNG, incl. `compressedDepth` PNG).

    Only the header is parsed (rows, cols, channels); pixels are decoded on demand.
    Raises `UnsupportedEncodingError` or `MalformedImageError`.
    """
    data = bytes(msg.data)
    fmt = str(msg.format)
    if "compresseddepth" in fmt.lower() and len(data) > 12 and data[12:16] == b"\x89PNG":
        data = data[12:]  # image_transport's compressedDepth: 12-byte config header, then PNG
    geometry = jpeg_geometry(data)
    if geometry is not None:
        rows, cols, components = geometry
        if components not in (1, 3):
            raise UnsupportedEncodingError(f"JPEG with {components} components is not served")
        layout = "mono8" if components == 1 else "bgr8"
        return Frame(stamp_ns=_stamp_ns(msg), received_s=received_s, rows=rows, cols=cols,
                     layout=layout, frame_id=str(msg.header.frame_id), jpeg=data)
    geometry = png_geometry(data)
    if geometry is not None:
        rows, cols, bit_depth, colour_type = geometry
        if colour_type == 0 and bit_depth == 16:
            layout = "depth16"
        elif colour_type == 0 and bit_depth == 8:
            layout = "mono8"
        elif colour_type == 2 and bit_depth == 8:
            layout = "bgr8"
        elif colour_type == 6 and bit_depth == 8:
            layout = "bgra8"
        else:
            raise UnsupportedEncodingError(
                f"PNG colour type {colour_type} with bit depth {bit_depth} is not served")
        return Frame(stamp_ns=_stamp_ns(msg), received_s=received_s, rows=rows, cols=cols,
                     layout=layout, frame_id=str(msg.header.frame_id), encoded=data)
    raise UnsupportedEncodingError(
        f"compressed format {fmt!r}: data is neither JPEG nor PNG ({len(data)} bytes)")


_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def jpeg_geometry(data: bytes) -> tuple[int, int, int] | None:
    """(rows, cols, components) from a JPEG's SOF segment, or None if `data` is not a JPEG."""
    if len(data) < 4 or data[0] != 0xFF or data[1] != 0xD8:
        return None
    i, n = 2, len(data)
    while i + 4 <= n:
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:  # stand-alone markers
            i += 2
            continue
        length = (data[i + 2] << 8) | data[i + 3]
        if marker in _SOF_MARKERS:
            if i + 10 > n:
                return None
            rows = (data[i + 5] << 8) | data[i + 6]
            cols = (data[i + 7] << 8) | data[i + 8]
            return rows, cols, data[i + 9]
        if marker in (0xDA, 0xD9):  # start of scan / end of image before any SOF
            return None
        i += 2 + length
    return None


def png_geometry(data: bytes) -> tuple[int, int, int, int] | None:
    """(rows, cols, bit_depth, colour_type) from a PNG's IHDR, or None if not a PNG."""
    if len(data) < 26 or data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        return None
    cols = int.from_bytes(data[16:20], "big")
    rows = int.from_bytes(data[20:24], "big")
    return rows, cols, data[24], data[25]


def frame_pixels(frame: Frame) -> np.ndarray:
    """The frame's pixels (decoding compressed data once; the result is kept on the frame).

    Layouts after decoding: JPEG/PNG colour -> 'bgr8' (or 'bgra8'), grey -> 'mono8',
    16-bit PNG -> 'depth16'. Raises `MalformedImageError` if the bytes do not decode.
    """
    if frame.pixels is not None:
        return frame.pixels
    data = frame.jpeg if frame.jpeg is not None else frame.encoded
    flags = cv2.IMREAD_UNCHANGED
    if frame.jpeg is not None:
        flags = cv2.IMREAD_GRAYSCALE if frame.layout == "mono8" else cv2.IMREAD_COLOR
    arr = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    if arr is None or arr.shape[:2] != (frame.rows, frame.cols):
        raise MalformedImageError(f"compressed frame of {len(data)} bytes does not decode "
                                  f"to {frame.cols}x{frame.rows}")
    if frame.layout == "depth16":
        arr = arr.astype("<u2", copy=False)
    frame.pixels = arr
    return arr


def render(frame: Frame, req: RenderRequest) -> Rendered:
    """Bytes of a Spot `Image` for `req` from `frame`, cached per frame and request.

    `req` must be valid for the frame (see `pixel_formats_for` / `image_formats_for`).
    A JPEG frame is passed through untouched when JPEG is requested at full size in the
    frame's native pixel format (its quality is the publisher's).
    """
    key = req.key()
    hit = frame._cache.get(key)
    if hit is not None:
        return hit
    with frame._lock:  # one encode per frame and request, however many clients ask at once
        hit = frame._cache.get(key)
        if hit is None:
            hit = _render_uncached(frame, req)
            frame._cache[key] = hit
    return hit


def _target_size(frame: Frame, ratio: float) -> tuple[int, int]:
    if ratio >= 1.0:
        return frame.rows, frame.cols
    return max(1, int(frame.rows * ratio)), max(1, int(frame.cols * ratio))


def _render_uncached(frame: Frame, req: RenderRequest) -> Rendered:
    rows, cols = _target_size(frame, req.resize_ratio)
    if (frame.jpeg is not None and req.image_format == Image.FORMAT_JPEG
            and (rows, cols) == (frame.rows, frame.cols)
            and req.pixel_format == frame.native_pixel_format):
        return Rendered(frame.jpeg, Image.FORMAT_JPEG, req.pixel_format, rows, cols, passthrough=True)
    arr = frame_pixels(frame)
    layout = frame.layout
    if (rows, cols) != (frame.rows, frame.cols):
        interpolation = cv2.INTER_NEAREST if layout == "depth16" else cv2.INTER_AREA
        arr = cv2.resize(arr, (cols, rows), interpolation=interpolation)
    if req.pixel_format == Image.PIXEL_FORMAT_DEPTH_U16:
        data = np.ascontiguousarray(arr, dtype="<u2").tobytes()
        return Rendered(data, Image.FORMAT_RAW, req.pixel_format, rows, cols)
    if req.pixel_format == Image.PIXEL_FORMAT_GREYSCALE_U8:
        out = arr if layout == "mono8" else cv2.cvtColor(arr, _TO_GREY[layout])
    elif req.image_format == Image.FORMAT_RAW:  # RGB_U8, R-G-B byte order
        out = arr if layout == "rgb8" else cv2.cvtColor(arr, _TO_RGB[layout])
    else:  # RGB_U8 as JPEG: OpenCV encodes from BGR
        out = arr if layout == "bgr8" else cv2.cvtColor(arr, _TO_BGR[layout])
    if req.image_format == Image.FORMAT_RAW:
        data = np.ascontiguousarray(out).tobytes()
    else:
        ok, buf = cv2.imencode(".jpg", out, [int(cv2.IMWRITE_JPEG_QUALITY), int(req.quality)])
        if not ok:
            raise MalformedImageError(f"JPEG encoding of a {cols}x{rows} {layout} frame failed")
        data = buf.tobytes()
    return Rendered(data, req.image_format, req.pixel_format, rows, cols)
