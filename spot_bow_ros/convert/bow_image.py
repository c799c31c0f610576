"""BOW `ImageSample` <-> `sensor_msgs/Image` / `CompressedImage`.

What the BOW document says, and the choices made where it says nothing:

- `DataShape` is `[width, height]` (optionally `[width, height, channels]`), width first as the
  BOW SDK examples reshape it; `Data` rows are tightly packed, 16-bit values little-endian.
- RAW `RGB` (and `STEREO`) data is packed YUV 4:2:2 per the document. Its byte order is not
  documented: the default is UYVY, which is ROS's `yuv422` encoding (so the data passes
  through without copying); `yuv_layout="yuv422_yuy2"` reads YUYV. Also accepted, because BOW
  clients send them in practice: planar YUV 4:2:0 (I420, `width*height*3/2` bytes, converted
  to `bgr8`) and packed RGB (`width*height*3` bytes, `rgb8`). Written samples are always UYVY;
  greyscale (`mono8`) is written at full range (Y = grey, U = V = 128) so that it round-trips
  exactly through BOW (read back as `mono8`, Y is the grey value: 0 and 255 stay 0 and 255).
- RAW `DEPTH` is 16-bit: `16UC1` in millimetres (the ROS depth convention); `32FC1` metres are
  converted to millimetres when writing BOW.
- RAW `INFRARED` is `mono8` (1 byte per pixel) or `mono16` (2 bytes).
- `JPG` data becomes a `CompressedImage` with the bytes untouched (or a decoded Image on request).
  H.264/H.265/VP8/VP9 are stream codecs that need decoder state: refused with a clear error.
- ROS has no place for `FrameNumber` (ROS 2 headers dropped `seq`): it is returned next to the
  message (`RosImage.frame_number`) and taken as an argument in the other direction.
- `Designation` (stereo LEFT/RIGHT) becomes a `_left`/`_right` suffix of the frame id (the two
  cameras of a pair are two optical frames) and `RosImage.designation` ("left"/"right"/""), the
  namespace ROS stereo drivers publish each camera under (`<camera>/left/image_raw`).
- `HFOV`/`VFOV` (degrees) give an ideal pinhole `CameraInfo` (`RosImage.camera_info`); a
  `CameraInfo` given when writing BOW gives `HFOV`/`VFOV`.
- An `ImageSample` has no time stamp: the caller gives the ROS stamp. `Transform` (camera pose)
  is not converted here (see `bow.frames`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import cv2
import numpy as np

from ..bow import bow_data_pb2 as bow
from . import camera_info as ci
from . import images as imconv

MessageFactory = Callable[..., Any]
Stamp = tuple[int, int]

Compression = bow.ImageSample.CompressionFormatEnum
ImageType = bow.ImageSample.ImageTypeEnum
DESIGNATION_VALUES: dict[str, bow.StereoDesignationEnum] = {"": bow.NONE, "left": bow.LEFT, "right": bow.RIGHT}
DESIGNATION_NAMES: dict[int, str] = {v: k for k, v in DESIGNATION_VALUES.items()}


class BowImageError(ValueError):
    """An ImageSample (or ROS image) cannot be converted; the message says what is wrong."""


#: OpenCV has BGR -> packed YUV 4:2:2 only from 4.9; distro packages (python3-opencv 4.6 on
#: Debian 12 / Ubuntu 24.04) do not. The numpy path below is used there (and is within 1 of it).
HAVE_CV2_BGR2UYVY = hasattr(cv2, "COLOR_BGR2YUV_UYVY")

# BT.601 limited range ("video" levels), the coefficients OpenCV's YUV 4:2:2 conversions use:
# rows Y, U, V; columns B, G, R; Y in 16..235, U/V centred on 128.
_BGR_TO_YUV601 = np.array([[0.097906, 0.504129, 0.256788],
                           [0.439216, -0.290993, -0.148223],
                           [-0.071427, -0.367788, 0.439216]], dtype=np.float32)
_YUV_OFFSET = np.array([16.0, 128.0, 128.0], dtype=np.float32)


def bgr_to_uyvy_numpy(bgr: np.ndarray) -> np.ndarray:
    """`bgr8` (H x W x 3, W even) -> packed UYVY (H x W x 2: U Y0 V Y1 ...), BT.601 limited range;
    U/V are the mean of each pixel pair. The same bytes as OpenCV's COLOR_BGR2YUV_UYVY (+-1)."""
    yuv = bgr.astype(np.float32) @ _BGR_TO_YUV601.T + _YUV_OFFSET        # H x W x 3 (Y, U, V)
    chroma = (yuv[:, 0::2, 1:] + yuv[:, 1::2, 1:]) * 0.5                   # H x W/2 x 2 (U, V)
    out = np.empty(bgr.shape[:2] + (2,), dtype=np.uint8)
    out[:, :, 1] = np.clip(np.rint(yuv[:, :, 0]), 0, 255)
    out[:, 0::2, 0] = np.clip(np.rint(chroma[:, :, 0]), 0, 255)
    out[:, 1::2, 0] = np.clip(np.rint(chroma[:, :, 1]), 0, 255)
    return out


def bgr_to_uyvy(bgr: np.ndarray, use_opencv: bool | None = None) -> np.ndarray:
    """`bgr8` (H x W x 3, W even) -> packed UYVY (H x W x 2), ROS's `yuv422`.

    OpenCV's conversion when it has one (4.9+; `use_opencv=None` decides by the installed
    version), else `bgr_to_uyvy_numpy`."""
    bgr = np.ascontiguousarray(bgr)
    if use_opencv or (use_opencv is None and HAVE_CV2_BGR2UYVY):
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV_UYVY)
    return bgr_to_uyvy_numpy(bgr)


@dataclass
class RosImage:
    """A BOW ImageSample in ROS terms."""

    msg: Any                    # sensor_msgs/Image, or sensor_msgs/CompressedImage when compressed
    compressed: bool
    frame_id: str
    frame_number: int | None    # BOW FrameNumber (None when not set)
    designation: str            # "", "left" or "right"
    new_data: bool              # BOW NewDataFlag
    camera_info: Any | None     # ideal pinhole CameraInfo from HFOV/VFOV, when both are set


def _size(sample: bow.ImageSample) -> tuple[int, int]:
    shape = list(sample.DataShape)
    if len(shape) < 2 or shape[0] <= 0 or shape[1] <= 0:
        raise BowImageError(f"ImageSample '{sample.Source}': DataShape {shape} must be [width, height(, channels)]")
    return int(shape[0]), int(shape[1])


def frame_id_for(source: str, designation: int) -> str:
    """ROS frame id of a BOW image source: the source name, `_left`/`_right` for a stereo half."""
    suffix = DESIGNATION_NAMES.get(designation, "")
    base = source or "bow_camera"
    return f"{base}_{suffix}" if suffix and not base.endswith(f"_{suffix}") else base


def pinhole_from_fov(width: int, height: int, hfov_deg: float, vfov_deg: float) -> list[float]:
    """K of an ideal pinhole camera with these fields of view (degrees), principal point centred."""
    fx = (width / 2.0) / math.tan(math.radians(hfov_deg) / 2.0)
    fy = (height / 2.0) / math.tan(math.radians(vfov_deg) / 2.0)
    return [fx, 0.0, width / 2.0, 0.0, fy, height / 2.0, 0.0, 0.0, 1.0]


def fov_from_camera_info(info: Any) -> tuple[float, float] | None:
    """(HFOV, VFOV) in degrees of a calibrated CameraInfo (pinhole approximation), else None."""
    fx, fy = float(info.k[0]), float(info.k[4])
    if fx <= 0 or fy <= 0 or not info.width or not info.height:
        return None
    return (math.degrees(2 * math.atan(info.width / (2 * fx))), math.degrees(2 * math.atan(info.height / (2 * fy))))


# -- BOW -> ROS --------------------------------------------------------------------------------

def _raw_pixels(sample: bow.ImageSample, width: int, height: int, yuv_layout: str) -> tuple[bytes | np.ndarray, str]:
    """(pixels, encoding) of RAW sample data; bytes when passed through unchanged."""
    data = sample.Data
    n = len(data)
    kind = sample.ImageType
    if kind == ImageType.DEPTH:
        if n != width * height * 2:
            raise BowImageError(f"ImageSample '{sample.Source}': RAW DEPTH {width}x{height} needs "
                                f"{width * height * 2} bytes (16 bit), got {n}")
        return data, imconv.TYPE_16UC1
    if kind == ImageType.INFRARED:
        if n == width * height:
            return data, imconv.MONO8
        if n == width * height * 2:
            return data, imconv.MONO16
        raise BowImageError(f"ImageSample '{sample.Source}': RAW INFRARED {width}x{height} needs "
                            f"{width * height} or {width * height * 2} bytes, got {n}")
    # RGB (documented as YUV422) and STEREO
    if n == width * height * 2:
        if width % 2:
            raise BowImageError(f"ImageSample '{sample.Source}': YUV422 needs an even width, got {width}")
        return data, yuv_layout
    if n == width * height * 3 // 2 and width % 2 == 0 and height % 2 == 0:
        i420 = np.frombuffer(data, np.uint8).reshape(height * 3 // 2, width)
        return cv2.cvtColor(i420, cv2.COLOR_YUV2BGR_I420), imconv.BGR8
    if n == width * height * 3:
        return data, imconv.RGB8
    raise BowImageError(f"ImageSample '{sample.Source}': {n} bytes are not a {width}x{height} YUV422 image "
                        f"({width * height * 2} bytes)")


def ros_image_from_sample(make: MessageFactory, sample: bow.ImageSample, stamp: Stamp = (0, 0),
                          frame_id: str | None = None, desired_encoding: str = imconv.PASSTHROUGH,
                          decode_jpeg: bool = False, yuv_layout: str = imconv.YUV422) -> RosImage:
    """Convert a BOW ImageSample.

    RAW data becomes a `sensor_msgs/Image` (see module docstring for layouts; `desired_encoding`
    converts, e.g. `bgr8` from YUV422, as cv_bridge would); JPG becomes a `CompressedImage`
    with the bytes untouched, or a decoded `Image` with `decode_jpeg`. `frame_id` defaults to
    `frame_id_for(Source, Designation)`; `stamp` is the ROS time of the sample.
    """
    if yuv_layout not in (imconv.YUV422, imconv.YUV422_YUY2):
        raise BowImageError(f"yuv_layout must be yuv422 (UYVY) or yuv422_yuy2 (YUYV), got {yuv_layout!r}")
    width, height = _size(sample)
    designation = sample.Designation
    fid = frame_id if frame_id is not None else frame_id_for(sample.Source, designation)
    frame_number = sample.FrameNumber if sample.HasField("FrameNumber") else None
    info = None
    if sample.HasField("HFOV") and sample.HasField("VFOV") and 0 < sample.HFOV < 180 and 0 < sample.VFOV < 180:
        info = ci.camera_info_msg(make, width, height, pinhole_from_fov(width, height, sample.HFOV, sample.VFOV),
                                  [0.0] * 5, ci.PLUMB_BOB, stamp=stamp, frame_id=fid)
    common: dict[str, Any] = dict(frame_id=fid, frame_number=frame_number,
                                  designation=DESIGNATION_NAMES.get(designation, ""),
                                  new_data=bool(sample.NewDataFlag), camera_info=info)
    compression = sample.Compression if sample.HasField("Compression") else Compression.RAW
    if compression == Compression.JPG:
        try:
            w, h, components = imconv.jpeg_info(sample.Data)
        except imconv.ImageEncodingError as err:
            raise BowImageError(f"ImageSample '{sample.Source}': JPG data: {err}") from None
        enc = imconv.MONO8 if components == 1 else imconv.BGR8
        if not decode_jpeg and desired_encoding == imconv.PASSTHROUGH:
            msg = imconv.compressed_msg_from_jpeg(make, sample.Data, enc, stamp, fid)
            return RosImage(msg=msg, compressed=True, **common)
        decoded = imconv.decode_jpeg(sample.Data)
        if desired_encoding not in (imconv.PASSTHROUGH, enc):
            decoded, enc = imconv.convert_encoding(decoded, enc, desired_encoding), desired_encoding
        return RosImage(msg=imconv.image_msg_from_array(make, decoded, enc, stamp, fid), compressed=False, **common)
    if compression != Compression.RAW:
        raise BowImageError(f"ImageSample '{sample.Source}': {Compression.Name(compression)} is a video stream "
                            "codec; only RAW and JPG images can be converted")
    pixels, enc = _raw_pixels(sample, width, height, yuv_layout)
    if desired_encoding not in (imconv.PASSTHROUGH, enc):
        array = pixels if isinstance(pixels, np.ndarray) else _as_array(pixels, width, height, enc)
        pixels, enc = imconv.convert_encoding(array, enc, desired_encoding), desired_encoding
    if isinstance(pixels, np.ndarray):
        msg = imconv.image_msg_from_array(make, pixels, enc, stamp, fid)
    else:
        msg = imconv.image_msg_from_buffer(make, pixels, height, width, enc, stamp, fid)
    return RosImage(msg=msg, compressed=False, **common)


def _as_array(data: bytes, width: int, height: int, encoding: str) -> np.ndarray:
    dtype, channels = imconv.encoding_info(encoding)
    shape = (height, width) if channels == 1 else (height, width, channels)
    return np.frombuffer(data, dtype.newbyteorder("<")).reshape(shape)


# -- ROS -> BOW --------------------------------------------------------------------------------

def _sample(source: str, data: bytes, width: int, height: int, channels: int | None,
            compression: bow.ImageSample.CompressionFormatEnum, image_type: bow.ImageSample.ImageTypeEnum,
            frame_number: int | None, designation: bow.StereoDesignationEnum, fov: tuple[float, float] | None
            ) -> bow.ImageSample:
    sample = bow.ImageSample(Source=source, Data=data, DataShape=[width, height] + ([channels] if channels else []),
                             Compression=compression, ImageType=image_type, Designation=designation,
                             NewDataFlag=True)
    if frame_number is not None:
        sample.FrameNumber = int(frame_number)
    if fov is not None:
        sample.HFOV, sample.VFOV = fov
    return sample


def _source_and_designation(frame_id: str, source: str | None,
                            designation: int | str) -> tuple[str, bow.StereoDesignationEnum]:
    if isinstance(designation, str):
        try:
            value = DESIGNATION_VALUES[designation]
        except KeyError:
            raise BowImageError(f"designation must be '', 'left' or 'right', got {designation!r}") from None
    else:
        value = cast(bow.StereoDesignationEnum, designation)  # an int of the schema's enum
    if source is None:
        source = frame_id
        suffix = DESIGNATION_NAMES.get(value, "")
        if suffix and source.endswith(f"_{suffix}"):
            source = source[: -len(suffix) - 1]
    return source, value


def grey_to_uyvy(grey: np.ndarray) -> bytes:
    """8-bit greyscale (HxW, even W) -> UYVY bytes at FULL range: Y = the grey value, U = V = 128.

    OpenCV's BGR->YUV 4:2:2 conversion is limited range (0 -> Y 16, 255 -> Y 235), which a
    reader taking Y as grey (`mono8`, OpenCV's YUV2GRAY) gets back as 16 and 235; full range
    makes greyscale round-trip exactly (0 and 255 come back as 0 and 255).
    """
    height, width = grey.shape[:2]
    out = np.empty((height, width, 2), np.uint8)
    out[..., 0] = 128
    out[..., 1] = grey.reshape(height, width)
    return out.tobytes()


def sample_from_image_msg(msg: Any, source: str | None = None, frame_number: int | None = None,
                          designation: int | str = bow.NONE, compression: int = Compression.RAW,
                          jpeg_quality: int = 90, camera_info: Any | None = None) -> bow.ImageSample:
    """A BOW ImageSample from a `sensor_msgs/Image`.

    Depth (`16UC1`, `mono16` millimetres; `32FC1` metres -> millimetres) -> RAW DEPTH 16-bit.
    Everything else -> RGB: RAW as YUV422 (UYVY; `yuv422` data passes through) or `JPG` with
    `compression=JPG`. `source` defaults to the frame id (without a stereo suffix).
    """
    source, designation = _source_and_designation(str(msg.header.frame_id), source, designation)
    width, height = int(msg.width), int(msg.height)
    encoding = str(msg.encoding)
    fov = fov_from_camera_info(camera_info) if camera_info is not None else None
    pixels = imconv.array_from_image_msg(msg)
    if encoding in (imconv.TYPE_16UC1, imconv.MONO16, imconv.TYPE_32FC1):
        if encoding == imconv.TYPE_32FC1:
            metres = np.nan_to_num(pixels, nan=0.0, posinf=0.0, neginf=0.0)
            pixels = np.clip(np.rint(metres * 1000.0), 0, 65535).astype(np.uint16)
        data = np.ascontiguousarray(pixels, dtype="<u2").tobytes()
        return _sample(source, data, width, height, None, Compression.RAW, ImageType.DEPTH, frame_number,
                       designation, fov)
    if compression == Compression.JPG:
        jpeg = imconv.encode_jpeg(pixels, encoding, jpeg_quality)
        return _sample(source, jpeg, width, height, None, Compression.JPG, ImageType.RGB, frame_number,
                       designation, fov)
    if compression != Compression.RAW:
        raise BowImageError(f"writing {Compression.Name(compression)} ImageSamples is not supported (RAW or JPG)")
    if encoding == imconv.YUV422:
        data = np.ascontiguousarray(pixels).tobytes() if int(msg.step) != width * 2 else bytes(msg.data)
    elif width % 2:
        raise BowImageError(f"YUV422 needs an even image width, {source} is {width} pixels wide")
    elif encoding == imconv.MONO8:
        data = grey_to_uyvy(pixels)
    else:
        bgr = pixels if encoding == imconv.BGR8 else imconv.convert_encoding(pixels, encoding, imconv.BGR8)
        data = bgr_to_uyvy(bgr).tobytes()
    return _sample(source, data, width, height, None, Compression.RAW, ImageType.RGB, frame_number, designation, fov)


def sample_from_compressed_msg(msg: Any, source: str | None = None, frame_number: int | None = None,
                               designation: int | str = bow.NONE, camera_info: Any | None = None
                               ) -> bow.ImageSample:
    """A JPG BOW ImageSample carrying a JPEG `CompressedImage`'s bytes untouched (size read from
    the JPEG header). Other formats (PNG, ...) are refused."""
    source, designation = _source_and_designation(str(msg.header.frame_id), source, designation)
    data = bytes(msg.data)
    try:
        width, height, _ = imconv.jpeg_info(data)
    except imconv.ImageEncodingError as err:
        raise BowImageError(f"CompressedImage ({msg.format!r}) is not a JPEG: {err}") from None
    fov = fov_from_camera_info(camera_info) if camera_info is not None else None
    return _sample(source, data, width, height, None, Compression.JPG, ImageType.RGB, frame_number, designation, fov)
