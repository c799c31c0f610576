"""numpy <-> `sensor_msgs/Image` / `CompressedImage`, with cv_bridge's semantics.

What cv_bridge does, this does (ROS 2 `vision_opencv` `cv_bridge`, Python `CvBridge` plus the
C++ `cvtColor` it calls for `desired_encoding`):

- encodings and channel counts as `sensor_msgs/image_encodings.hpp`: `mono8` (uint8, 1),
  `mono16` (uint16, 1), `bgr8`/`rgb8` (uint8, 3), `bgra8`/`rgba8` (uint8, 4), the 16-bit
  colour variants, `yuv422` (UYVY, uint8, 2 channels), `yuv422_yuy2` (YUYV, uint8, 2),
  Bayer patterns, and the OpenCV type names `8UC1` ... `64FC4` (`16UC1` = uint16 depth in mm,
  `32FC1` = float32 depth in metres by ROS convention);
- `step` = bytes per row of the message (`len(data) // height`), `is_bigendian` = 1 only for
  big-endian arrays; `passthrough` = the OpenCV type name of the array (`8UC3`, ...);
- conversions between encodings exactly where cv_bridge offers them: colour/mono via
  `cv2.cvtColor` (`yuv422` -> `bgr8` is `COLOR_YUV2BGR_UYVY`, ...), 8 <-> 16 bit by scaling
  255 <-> 65535, anything else of equal channel count by a plain type conversion.

Pixels are not copied where it can be avoided: reading a message gives a `np.frombuffer` view
of its data (strided when rows are padded), and building a message hands the
message factory one `bytes` object (the one copy `ndarray.tobytes()` makes; no copy at all
for data that already is `bytes`, e.g. a robot's RAW image). `bytes` is what both message
backends take fastest (rclpy's `array.array` from bytes is a memcpy; the rosbags factory
wraps it without copying).
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np

MessageFactory = Callable[..., Any]
Stamp = tuple[int, int]  # (sec, nanosec) on the local (ROS) clock


class ImageEncodingError(ValueError):
    """An encoding is unknown, does not fit the array, or cannot be converted to another."""


# -- encodings (sensor_msgs/image_encodings.hpp) ----------------------------------------------

MONO8, MONO16 = "mono8", "mono16"
BGR8, RGB8, BGRA8, RGBA8 = "bgr8", "rgb8", "bgra8", "rgba8"
BGR16, RGB16, BGRA16, RGBA16 = "bgr16", "rgb16", "bgra16", "rgba16"
YUV422, YUV422_YUY2 = "yuv422", "yuv422_yuy2"
TYPE_16UC1, TYPE_32FC1 = "16UC1", "32FC1"
PASSTHROUGH = "passthrough"

_NAMED: dict[str, tuple[np.dtype, int]] = {
    MONO8: (np.dtype(np.uint8), 1), MONO16: (np.dtype(np.uint16), 1),
    BGR8: (np.dtype(np.uint8), 3), RGB8: (np.dtype(np.uint8), 3),
    BGRA8: (np.dtype(np.uint8), 4), RGBA8: (np.dtype(np.uint8), 4),
    BGR16: (np.dtype(np.uint16), 3), RGB16: (np.dtype(np.uint16), 3),
    BGRA16: (np.dtype(np.uint16), 4), RGBA16: (np.dtype(np.uint16), 4),
    YUV422: (np.dtype(np.uint8), 2), YUV422_YUY2: (np.dtype(np.uint8), 2),
}
for _pattern in ("rggb", "bggr", "gbrg", "grbg"):
    _NAMED[f"bayer_{_pattern}8"] = (np.dtype(np.uint8), 1)
    _NAMED[f"bayer_{_pattern}16"] = (np.dtype(np.uint16), 1)

_CV_DEPTHS = {"8U": np.uint8, "8S": np.int8, "16U": np.uint16, "16S": np.int16,
              "32S": np.int32, "32F": np.float32, "64F": np.float64}
_DEPTH_NAMES = {np.dtype(v): k for k, v in _CV_DEPTHS.items()}
_CV_TYPE = re.compile(r"^(8U|8S|16U|16S|32S|32F|64F)(?:C([0-9]+))?$")

# Colour "format" of an encoding, as cv_bridge's getEncoding() groups them.
_FORMAT = {MONO8: "GRAY", MONO16: "GRAY", BGR8: "BGR", BGR16: "BGR", RGB8: "RGB", RGB16: "RGB",
           BGRA8: "BGRA", BGRA16: "BGRA", RGBA8: "RGBA", RGBA16: "RGBA",
           YUV422: "YUV422", YUV422_YUY2: "YUV422_YUY2"}
for _pattern in ("rggb", "bggr", "gbrg", "grbg"):
    _FORMAT[f"bayer_{_pattern}8"] = _FORMAT[f"bayer_{_pattern}16"] = f"BAYER_{_pattern.upper()}"

# cv_bridge's getConversionCodes(): (src format, dst format) -> cv2.cvtColor codes.
_SAME = None  # "same format, only the bit depth changes" (cv_bridge's SAME_FORMAT)
_CONVERSIONS: dict[tuple[str, str], list[int | None]] = {
    ("GRAY", "RGB"): [cv2.COLOR_GRAY2RGB], ("GRAY", "BGR"): [cv2.COLOR_GRAY2BGR],
    ("GRAY", "RGBA"): [cv2.COLOR_GRAY2RGBA], ("GRAY", "BGRA"): [cv2.COLOR_GRAY2BGRA],
    ("RGB", "GRAY"): [cv2.COLOR_RGB2GRAY], ("RGB", "RGBA"): [cv2.COLOR_RGB2RGBA],
    ("RGB", "BGR"): [cv2.COLOR_RGB2BGR], ("RGB", "BGRA"): [cv2.COLOR_RGB2BGRA],
    ("BGR", "GRAY"): [cv2.COLOR_BGR2GRAY], ("BGR", "RGB"): [cv2.COLOR_BGR2RGB],
    ("BGR", "BGRA"): [cv2.COLOR_BGR2BGRA], ("BGR", "RGBA"): [cv2.COLOR_BGR2RGBA],
    ("RGBA", "GRAY"): [cv2.COLOR_RGBA2GRAY], ("RGBA", "RGB"): [cv2.COLOR_RGBA2RGB],
    ("RGBA", "BGR"): [cv2.COLOR_RGBA2BGR], ("RGBA", "BGRA"): [cv2.COLOR_RGBA2BGRA],
    ("BGRA", "GRAY"): [cv2.COLOR_BGRA2GRAY], ("BGRA", "RGB"): [cv2.COLOR_BGRA2RGB],
    ("BGRA", "BGR"): [cv2.COLOR_BGRA2BGR], ("BGRA", "RGBA"): [cv2.COLOR_BGRA2RGBA],
    ("YUV422", "GRAY"): [cv2.COLOR_YUV2GRAY_UYVY], ("YUV422", "RGB"): [cv2.COLOR_YUV2RGB_UYVY],
    ("YUV422", "BGR"): [cv2.COLOR_YUV2BGR_UYVY], ("YUV422", "RGBA"): [cv2.COLOR_YUV2RGBA_UYVY],
    ("YUV422", "BGRA"): [cv2.COLOR_YUV2BGRA_UYVY],
    ("YUV422_YUY2", "GRAY"): [cv2.COLOR_YUV2GRAY_YUY2],
    ("YUV422_YUY2", "RGB"): [cv2.COLOR_YUV2RGB_YUY2], ("YUV422_YUY2", "BGR"): [cv2.COLOR_YUV2BGR_YUY2],
    ("YUV422_YUY2", "RGBA"): [cv2.COLOR_YUV2RGBA_YUY2],
    ("YUV422_YUY2", "BGRA"): [cv2.COLOR_YUV2BGRA_YUY2],
}
for _fmt in ("GRAY", "RGB", "BGR", "RGBA", "BGRA", "YUV422", "YUV422_YUY2"):
    _CONVERSIONS[(_fmt, _fmt)] = [_SAME]
for _pattern, _cv in (("RGGB", "RG"), ("BGGR", "BG"), ("GBRG", "GB"), ("GRBG", "GR")):
    _b = f"BAYER_{_pattern}"
    _CONVERSIONS[(_b, "GRAY")] = [getattr(cv2, f"COLOR_Bayer{_cv}2GRAY")]
    _CONVERSIONS[(_b, "RGB")] = [getattr(cv2, f"COLOR_Bayer{_cv}2RGB")]
    _CONVERSIONS[(_b, "BGR")] = [getattr(cv2, f"COLOR_Bayer{_cv}2BGR")]
    _CONVERSIONS[(_b, _b)] = [_SAME]


def encoding_info(encoding: str) -> tuple[np.dtype, int]:
    """(element dtype, channel count) of a ROS image encoding, as cv_bridge's getCvType()."""
    if encoding in _NAMED:
        return _NAMED[encoding]
    match = _CV_TYPE.match(encoding)
    if match:
        channels = int(match.group(2)) if match.group(2) else 1
        if not 1 <= channels <= 512:
            raise ImageEncodingError(f"image encoding {encoding!r} has an invalid channel count")
        return np.dtype(_CV_DEPTHS[match.group(1)]), channels
    raise ImageEncodingError(f"unknown image encoding {encoding!r}")


def bit_depth(encoding: str) -> int:
    """Bits per channel element (`mono8` -> 8, `16UC1` -> 16, `32FC1` -> 32)."""
    return encoding_info(encoding)[0].itemsize * 8


def is_color(encoding: str) -> bool:
    """True for RGB/BGR(A) encodings (sensor_msgs::image_encodings::isColor)."""
    return _FORMAT.get(encoding) in ("RGB", "BGR", "RGBA", "BGRA")


def is_mono(encoding: str) -> bool:
    return encoding in (MONO8, MONO16)


def cv_type_name(dtype: np.dtype, channels: int) -> str:
    """OpenCV type name (`8UC3`) of a dtype and channel count: cv_bridge's passthrough encoding."""
    return _cv_type_name(np.dtype(dtype).str, int(channels))


@functools.lru_cache(maxsize=256)
def _cv_type_name(dtype_str: str, channels: int) -> str:
    try:
        return f"{_DEPTH_NAMES[np.dtype(dtype_str).newbyteorder('=')]}C{channels}"
    except KeyError:
        raise ImageEncodingError(f"arrays of dtype {np.dtype(dtype_str)} have no ROS image encoding") from None


def _channels_of(array: np.ndarray) -> int:
    if array.ndim == 2:
        return 1
    if array.ndim == 3:
        return int(array.shape[2])
    raise ImageEncodingError(f"an image array must have 2 or 3 dimensions, got shape {array.shape}")


# -- messages -> arrays ------------------------------------------------------------------------

def array_from_image_msg(msg: Any, desired_encoding: str = PASSTHROUGH) -> np.ndarray:
    """Pixels of a `sensor_msgs/Image` (cv_bridge `imgmsg_to_cv2`).

    `passthrough` gives a view of the message data (no copy; read-only when the data is
    `bytes`; rows padded beyond `width` are cut off by a strided view). Any other
    `desired_encoding` converts as cv_bridge does and returns a new array. Shape `(height, width)` for one channel, else
    `(height, width, channels)`; values in the message's units (e.g. `16UC1` millimetres).
    """
    encoding = str(msg.encoding)
    dtype, channels = encoding_info(encoding)
    dtype = dtype.newbyteorder(">" if msg.is_bigendian else "<")
    height, width, step = int(msg.height), int(msg.width), int(msg.step)
    data = msg.data
    buf = np.frombuffer(data, dtype=np.uint8) if not isinstance(data, np.ndarray) else data.view(np.uint8)
    row_bytes = width * channels * dtype.itemsize
    if step < row_bytes:
        raise ImageEncodingError(
            f"image step {step} is smaller than width {width} x {channels} channel(s) x "
            f"{dtype.itemsize} byte(s) for encoding {encoding!r}")
    if buf.size < step * height:
        raise ImageEncodingError(
            f"image data has {buf.size} bytes, {height} rows of step {step} need {step * height}")
    shape = (height, width) if channels == 1 else (height, width, channels)
    image: np.ndarray
    if step == row_bytes:
        image = buf[:height * step].view(dtype).reshape(shape)
    else:  # padded rows: a strided view that skips the padding
        rows = buf[:height * step].reshape(height, step)[:, :row_bytes]
        try:
            image = rows.view(dtype).reshape(shape)
        except ValueError:  # numpy < 1.23 cannot re-view a strided array: copy the rows
            image = np.ascontiguousarray(rows).view(dtype).reshape(shape)
    if dtype.byteorder == (">" if sys.byteorder == "little" else "<"):
        image = image.astype(dtype.newbyteorder("="))  # cv_bridge: byteswap to native order
    if desired_encoding == PASSTHROUGH or desired_encoding == encoding:
        return image
    return convert_encoding(image, encoding, desired_encoding)


def array_from_compressed_msg(msg: Any, desired_encoding: str = PASSTHROUGH) -> np.ndarray:
    """Decode a `sensor_msgs/CompressedImage` (JPEG/PNG) with OpenCV.

    As image_transport's compressed subscriber: decoded unchanged (BGR or grey), then, when the
    format names an `rgb*` source encoding and no other encoding is asked for, converted back to
    it. `desired_encoding` converts the result like `array_from_image_msg`.
    """
    buf = np.frombuffer(msg.data, dtype=np.uint8) if not isinstance(msg.data, np.ndarray) else msg.data
    image = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
    if image is None:
        raise ImageEncodingError(f"compressed image ({len(buf)} bytes, format {msg.format!r}) does not decode")
    channels = _channels_of(image)
    decoded = {1: MONO8, 3: BGR8, 4: BGRA8}.get(channels, MONO8)
    if image.dtype == np.uint16:
        decoded = {1: MONO16, 3: BGR16, 4: BGRA16}.get(channels, MONO16)
    source = str(msg.format).split(";")[0].strip()
    target = desired_encoding
    if target == PASSTHROUGH:
        target = source if source in (RGB8, RGBA8, MONO8, BGR8, BGRA8) and \
            encoding_info(source)[1] == channels else decoded
    return image if target == decoded else convert_encoding(image, decoded, target)


# -- arrays -> messages ------------------------------------------------------------------------

def _header(make: MessageFactory, stamp: Stamp, frame_id: str) -> Any:
    return make("std_msgs/msg/Header",
                stamp=make("builtin_interfaces/msg/Time", sec=int(stamp[0]), nanosec=int(stamp[1])),
                frame_id=frame_id)


def image_msg_from_buffer(make: MessageFactory, data: bytes | bytearray | memoryview, height: int, width: int,
                          encoding: str,
                          stamp: Stamp = (0, 0), frame_id: str = "", step: int | None = None,
                          is_bigendian: bool = False) -> Any:
    """`sensor_msgs/Image` around pixel bytes as they are (no copy: e.g. a robot's RAW image).

    `step` defaults to `width x channels x bytes per channel` (no row padding).
    """
    dtype, channels = encoding_info(encoding)
    row_bytes = width * channels * dtype.itemsize
    step = row_bytes if step is None else int(step)
    if step < row_bytes or len(data) < step * height:
        raise ImageEncodingError(
            f"{len(data)} bytes do not hold a {width}x{height} {encoding} image with step {step}")
    if not isinstance(data, bytes):
        data = bytes(data)
    return make("sensor_msgs/msg/Image", header=_header(make, stamp, frame_id), height=int(height),
                width=int(width), encoding=encoding, is_bigendian=int(bool(is_bigendian)), step=step,
                data=data)


def image_msg_from_array(make: MessageFactory, array: np.ndarray, encoding: str = PASSTHROUGH,
                         stamp: Stamp = (0, 0), frame_id: str = "", copy: bool = True) -> Any:
    """`sensor_msgs/Image` from an array (cv_bridge `cv2_to_imgmsg`).

    `encoding` must fit the array's dtype and channel count (`bgr8` needs uint8 HxWx3, `16UC1`
    uint16 HxW, `yuv422` uint8 HxWx2); `passthrough` names the OpenCV type (`8UC3`).
    `stamp` is (sec, nanosec) on the ROS clock, `frame_id` the optical frame of the camera.
    `copy=False` hands the factory a memoryview of a C-contiguous array instead of a `bytes`
    copy: no pixel copy at all with the rosbags factory (the message then shares the array's
    memory: only for arrays nobody modifies afterwards, e.g. a fresh decode).
    """
    if not isinstance(array, np.ndarray):
        raise TypeError(f"image_msg_from_array needs a numpy array, got {type(array).__name__}")
    channels = _channels_of(array)
    cv_type = cv_type_name(array.dtype, channels)
    if encoding == PASSTHROUGH:
        encoding = cv_type
    else:
        dtype, enc_channels = encoding_info(encoding)
        if cv_type_name(dtype, enc_channels) != cv_type:
            raise ImageEncodingError(
                f"encoding specified as {encoding}, but image has incompatible type {cv_type}")
    big = array.dtype.byteorder == ">" or (array.dtype.byteorder == "=" and sys.byteorder == "big")
    height = array.shape[0]
    data: bytes | memoryview
    if not copy and array.flags.c_contiguous:
        data = array.data.cast("B")
    else:
        data = array.tobytes()
    return make("sensor_msgs/msg/Image", header=_header(make, stamp, frame_id), height=int(height),
                width=int(array.shape[1]), encoding=encoding, is_bigendian=int(big),
                step=len(data) // height if height else 0, data=data)


# -- conversions between encodings -------------------------------------------------------------

def convert_encoding(array: np.ndarray, src_encoding: str, dst_encoding: str) -> np.ndarray:
    """Convert pixels between ROS encodings exactly where cv_bridge does (its `cvtColor`).

    Raises ImageEncodingError for conversions cv_bridge refuses (e.g. `16UC1` -> `bgr8`).
    """
    if src_encoding == dst_encoding:
        return np.array(array, copy=True)
    src_dtype, src_channels = encoding_info(src_encoding)
    dst_dtype, dst_channels = encoding_info(dst_encoding)
    src_fmt, dst_fmt = _FORMAT.get(src_encoding), _FORMAT.get(dst_encoding)
    if src_fmt is None:
        if dst_fmt is not None:
            raise ImageEncodingError(f"[{src_encoding}] is not a color format. but [{dst_encoding}] is. "
                                     "The conversion does not make sense")
        if src_channels != dst_channels:
            raise ImageEncodingError(f"[{src_encoding}] and [{dst_encoding}] do not have the same number of channel")
        codes: list[int | None] = [_SAME]
    elif dst_fmt is None:
        if src_channels != dst_channels:
            raise ImageEncodingError(f"[{src_encoding}] is a color format but [{dst_encoding}] is not so they "
                                     "must have the same OpenCV type, CV_8UC3, CV16UC1 ....")
        codes = [_SAME]
    else:
        try:
            codes = list(_CONVERSIONS[(src_fmt, dst_fmt)])
        except KeyError:
            raise ImageEncodingError(f"Unsupported conversion from [{src_encoding}] to [{dst_encoding}]") from None
        if src_dtype.itemsize != dst_dtype.itemsize and src_fmt != dst_fmt:
            codes.append(_SAME)
    image = array
    src_bits = src_dtype.itemsize * 8
    for code in codes:
        if code is _SAME:
            dst_bits = dst_dtype.itemsize * 8
            if src_bits == 8 and dst_bits == 16:
                image = _convert_to(image, dst_dtype, 65535.0 / 255.0)
            elif src_bits == 16 and dst_bits == 8:
                image = _convert_to(image, dst_dtype, 255.0 / 65535.0)
            else:
                image = _convert_to(image, dst_dtype, 1.0)
        else:
            image = cv2.cvtColor(np.ascontiguousarray(image), code)
    return image if image is not array else array.copy()


def _convert_to(image: np.ndarray, dtype: np.dtype, scale: float) -> np.ndarray:
    """`cv::Mat::convertTo(dst, dtype, scale)`: multiply, then round to nearest and saturate
    for integer targets (OpenCV's saturate_cast)."""
    dtype = np.dtype(dtype)
    if scale == 1.0 and image.dtype == dtype:
        return np.array(image, copy=True)
    values = image.astype(np.float64) * scale if scale != 1.0 or np.issubdtype(dtype, np.integer) else image
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        if np.issubdtype(values.dtype, np.floating):
            values = np.rint(values)
        return np.clip(values, info.min, info.max).astype(dtype)
    return values.astype(dtype)


# -- JPEG / CompressedImage --------------------------------------------------------------------

def jpeg_format_string(encoding: str) -> str:
    """`format` of a JPEG `CompressedImage` as image_transport's compressed publisher writes it:
    `<encoding>; jpeg compressed bgr8` for colour, `...; jpeg compressed mono8` otherwise."""
    return f"{encoding}; jpeg compressed {'bgr8' if is_color(encoding) else 'mono8'}"


def encode_jpeg(array: np.ndarray, encoding: str, quality: int = 90) -> bytes:
    """JPEG bytes of an image (quality 1..100), as the compressed publisher makes them:
    colour is converted to `bgr8`, everything else to `mono8` first (8/16-bit only)."""
    if not 1 <= int(quality) <= 100:
        raise ValueError(f"JPEG quality must be 1..100, got {quality}")
    if bit_depth(encoding) not in (8, 16):
        raise ImageEncodingError(f"JPEG needs an 8 or 16 bit image, {encoding!r} is {bit_depth(encoding)} bit")
    target = BGR8 if is_color(encoding) else MONO8
    if _FORMAT.get(encoding) in ("YUV422", "YUV422_YUY2") or _FORMAT.get(encoding, "").startswith("BAYER"):
        target = BGR8  # cv_bridge converts these colour sources to bgr8 as well
    image = array if encoding == target else convert_encoding(array, encoding, target)
    ok, buf = cv2.imencode(".jpg", image, [int(cv2.IMWRITE_JPEG_QUALITY), int(quality)])
    if not ok:
        raise ImageEncodingError(f"OpenCV could not JPEG-encode a {image.shape} {target} image")
    return buf.tobytes()


def compressed_msg_from_jpeg(make: MessageFactory, jpeg: bytes | bytearray | memoryview, encoding: str,
                             stamp: Stamp = (0, 0), frame_id: str = "") -> Any:
    """`sensor_msgs/CompressedImage` carrying `jpeg` untouched (no decode, no re-encode).

    `encoding` is the encoding of the image the JPEG holds (`bgr8` for colour, `mono8` for grey).
    """
    if not isinstance(jpeg, bytes):
        jpeg = bytes(jpeg)
    return make("sensor_msgs/msg/CompressedImage", header=_header(make, stamp, frame_id),
                format=jpeg_format_string(encoding), data=jpeg)


def compressed_msg_from_array(make: MessageFactory, array: np.ndarray, encoding: str, quality: int = 90,
                              stamp: Stamp = (0, 0), frame_id: str = "") -> Any:
    """JPEG-encode `array` (see `encode_jpeg`) into a `sensor_msgs/CompressedImage`."""
    return compressed_msg_from_jpeg(make, encode_jpeg(array, encoding, quality), encoding, stamp, frame_id)


def decode_jpeg(jpeg: bytes, grayscale: bool | None = None) -> np.ndarray:
    """Decode JPEG bytes with OpenCV: `mono8` (HxW) for a one-channel JPEG or when `grayscale`,
    else `bgr8` (HxWx3). Raises ImageEncodingError when the bytes are not a JPEG."""
    buf = np.frombuffer(jpeg, dtype=np.uint8)
    flags = cv2.IMREAD_UNCHANGED if grayscale is None else (
        cv2.IMREAD_GRAYSCALE if grayscale else cv2.IMREAD_COLOR)
    image = cv2.imdecode(buf, flags)
    if image is None:
        raise ImageEncodingError(f"{len(buf)} bytes are not a decodable JPEG")
    return image


_SOF_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def jpeg_info(jpeg: bytes) -> tuple[int, int, int]:
    """(width, height, components) from a JPEG's frame header, without decoding the pixels.

    Raises ImageEncodingError when the bytes are not a JPEG (no SOI marker or no frame header).
    """
    data = memoryview(jpeg)
    if len(data) < 4 or data[0] != 0xFF or data[1] != 0xD8:
        raise ImageEncodingError("data is not a JPEG (no SOI marker)")
    i = 2
    n = len(data)
    while i + 4 <= n:
        if data[i] != 0xFF:
            raise ImageEncodingError(f"corrupt JPEG: expected a marker at byte {i}")
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        length = (data[i + 2] << 8) | data[i + 3]
        if marker in _SOF_MARKERS:
            if i + 9 >= n:
                break
            height = (data[i + 5] << 8) | data[i + 6]
            width = (data[i + 7] << 8) | data[i + 8]
            return width, height, data[i + 9]
        if marker == 0xDA:  # start of scan before any frame header
            break
        i += 2 + length
    raise ImageEncodingError("corrupt JPEG: no frame header")
