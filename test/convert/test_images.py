"""convert/images.py: numpy <-> sensor_msgs/Image and CompressedImage with cv_bridge semantics."""

import sys

import cv2
import numpy as np
import pytest

from spot_bow_ros.convert import images as im
from spot_bow_ros.standalone.message_store import messages_for

make = messages_for("humble")

RNG = np.random.default_rng(7)

# encoding -> (dtype, channels) as sensor_msgs/image_encodings + cv_bridge
ENCODINGS = {
    "mono8": (np.uint8, 1), "mono16": (np.uint16, 1), "bgr8": (np.uint8, 3), "rgb8": (np.uint8, 3),
    "bgra8": (np.uint8, 4), "rgba8": (np.uint8, 4), "16UC1": (np.uint16, 1), "32FC1": (np.float32, 1),
    "yuv422": (np.uint8, 2), "yuv422_yuy2": (np.uint8, 2), "8UC3": (np.uint8, 3), "64FC2": (np.float64, 2),
}


def sample(encoding, height=6, width=10):
    dtype, channels = ENCODINGS[encoding]
    shape = (height, width) if channels == 1 else (height, width, channels)
    if np.issubdtype(dtype, np.floating):
        return RNG.normal(size=shape).astype(dtype)
    return RNG.integers(0, np.iinfo(dtype).max, size=shape, endpoint=True).astype(dtype)


@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
def test_round_trip_every_encoding(encoding):
    array = sample(encoding)
    msg = im.image_msg_from_array(make, array, encoding, stamp=(12, 345), frame_id="cam_optical")
    dtype, channels = ENCODINGS[encoding]
    assert msg.encoding == encoding
    assert (msg.height, msg.width) == (6, 10)
    assert msg.step == 10 * channels * np.dtype(dtype).itemsize
    assert msg.is_bigendian == 0
    assert len(msg.data) == msg.step * msg.height
    assert (msg.header.stamp.sec, msg.header.stamp.nanosec, msg.header.frame_id) == (12, 345, "cam_optical")
    back = im.array_from_image_msg(msg)
    assert back.dtype == dtype and back.shape == array.shape
    np.testing.assert_array_equal(back, array)
    # and through CDR, as a subscriber receives it
    wire = make.deserialize(make.serialize(msg), "sensor_msgs/msg/Image")
    np.testing.assert_array_equal(im.array_from_image_msg(wire), array)


def test_encoding_table_matches_cv_bridge():
    assert im.encoding_info("yuv422") == (np.dtype(np.uint8), 2)
    assert im.encoding_info("bgra8") == (np.dtype(np.uint8), 4)
    assert im.encoding_info("32FC1") == (np.dtype(np.float32), 1)
    assert im.encoding_info("16SC3") == (np.dtype(np.int16), 3)
    assert im.encoding_info("8U") == (np.dtype(np.uint8), 1)
    assert im.encoding_info("bayer_rggb16") == (np.dtype(np.uint16), 1)
    with pytest.raises(im.ImageEncodingError, match="unknown image encoding 'bgr9'"):
        im.encoding_info("bgr9")


def test_passthrough_names_the_opencv_type():
    assert im.image_msg_from_array(make, sample("bgr8")).encoding == "8UC3"
    assert im.image_msg_from_array(make, sample("32FC1")).encoding == "32FC1"
    assert im.image_msg_from_array(make, sample("mono16")).encoding == "16UC1"


def test_incompatible_encoding_is_refused_like_cv_bridge():
    with pytest.raises(im.ImageEncodingError, match="encoding specified as bgr8, but image has incompatible type 8UC1"):
        im.image_msg_from_array(make, sample("mono8"), "bgr8")
    with pytest.raises(im.ImageEncodingError, match="incompatible type 16UC1"):
        im.image_msg_from_array(make, sample("mono16"), "32FC1")


def test_reading_does_not_copy_pixels():
    array = sample("bgr8", 48, 64)
    msg = im.image_msg_from_array(make, array, "bgr8")
    view = im.array_from_image_msg(msg)
    assert np.shares_memory(view, msg.data)
    raw = bytes(range(256)) * 12
    msg2 = im.image_msg_from_buffer(make, raw, 48, 64, "mono8")
    assert np.shares_memory(im.array_from_image_msg(msg2), msg2.data)
    # the bytes handed in are wrapped, not copied (rosbags factory)
    assert np.shares_memory(msg2.data, np.frombuffer(raw, np.uint8))


def test_padded_rows_are_skipped():
    # 3 pixels of 16UC1 per row (6 bytes) padded to a step of 8 bytes
    data = np.arange(16, dtype=np.uint8).tobytes()
    msg = make("sensor_msgs/msg/Image", height=2, width=3, encoding="16UC1", step=8, data=data)
    out = im.array_from_image_msg(msg)
    expected = np.frombuffer(data, "<u2").reshape(2, 4)[:, :3]
    np.testing.assert_array_equal(out, expected)
    bgr = np.arange(2 * 12, dtype=np.uint8).reshape(2, 12)  # 3 bgr pixels + 3 padding bytes per row
    msg = make("sensor_msgs/msg/Image", height=2, width=3, encoding="bgr8", step=12, data=bgr.tobytes())
    np.testing.assert_array_equal(im.array_from_image_msg(msg), bgr[:, :9].reshape(2, 3, 3))


def test_big_endian_messages():
    array = (np.arange(12).reshape(3, 4) * 300).astype(">u2")
    msg = im.image_msg_from_array(make, array, "16UC1")
    assert msg.is_bigendian == 1
    assert bytes(msg.data[:4]) == b"\x00\x00\x01\x2c"
    out = im.array_from_image_msg(msg)
    assert out.dtype.byteorder in ("=", "<" if sys.byteorder == "little" else ">")
    np.testing.assert_array_equal(out, array.astype(np.uint16))


def test_short_data_is_a_clear_error():
    msg = make("sensor_msgs/msg/Image", height=4, width=4, encoding="mono8", step=4, data=bytes(10))
    with pytest.raises(im.ImageEncodingError, match="10 bytes"):
        im.array_from_image_msg(msg)
    msg = make("sensor_msgs/msg/Image", height=1, width=4, encoding="bgr8", step=4, data=bytes(12))
    with pytest.raises(im.ImageEncodingError, match="step 4 is smaller"):
        im.array_from_image_msg(msg)


# -- conversions as cv_bridge's cvtColor -------------------------------------------------------

@pytest.mark.parametrize("src,dst,code", [
    ("bgr8", "rgb8", cv2.COLOR_BGR2RGB), ("bgr8", "mono8", cv2.COLOR_BGR2GRAY),
    ("rgb8", "mono8", cv2.COLOR_RGB2GRAY), ("rgb8", "bgra8", cv2.COLOR_RGB2BGRA),
    ("mono8", "bgr8", cv2.COLOR_GRAY2BGR), ("rgba8", "bgr8", cv2.COLOR_RGBA2BGR),
    ("bgra8", "rgba8", cv2.COLOR_BGRA2RGBA), ("yuv422", "bgr8", cv2.COLOR_YUV2BGR_UYVY),
    ("yuv422", "rgb8", cv2.COLOR_YUV2RGB_UYVY), ("yuv422", "mono8", cv2.COLOR_YUV2GRAY_UYVY),
    ("yuv422_yuy2", "bgr8", cv2.COLOR_YUV2BGR_YUY2),
])
def test_color_conversions_use_cvtcolor(src, dst, code):
    array = sample(src, 8, 16)
    msg = im.image_msg_from_array(make, array, src)
    out = im.array_from_image_msg(msg, dst)
    np.testing.assert_array_equal(out, cv2.cvtColor(array, code))


def test_bit_depth_conversions_scale_like_cv_bridge():
    mono8 = np.array([[0, 1, 128, 255]], np.uint8)
    np.testing.assert_array_equal(im.convert_encoding(mono8, "mono8", "mono16"),
                                  np.array([[0, 257, 32896, 65535]], np.uint16))
    mono16 = np.array([[0, 128, 129, 257, 65535]], np.uint16)
    np.testing.assert_array_equal(im.convert_encoding(mono16, "mono16", "mono8"),
                                  np.array([[0, 0, 1, 1, 255]], np.uint8))
    # colour + depth change: cvtColor, then scale
    bgr16 = im.convert_encoding(sample("bgr8"), "bgr8", "rgb16")
    assert bgr16.dtype == np.uint16 and bgr16.shape == (6, 10, 3)
    # colour -> non-colour of equal channels: plain type conversion (cv_bridge SAME_FORMAT)
    depth = np.array([[1, 2000]], np.uint16)
    np.testing.assert_array_equal(im.convert_encoding(depth, "16UC1", "32FC1"), depth.astype(np.float32))
    np.testing.assert_array_equal(im.convert_encoding(depth, "mono16", "16UC1"), depth)


def test_refused_conversions():
    with pytest.raises(im.ImageEncodingError, match=r"\[16UC1\] is not a color format"):
        im.convert_encoding(sample("16UC1"), "16UC1", "bgr8")
    with pytest.raises(im.ImageEncodingError, match="same number of channel"):
        im.convert_encoding(sample("8UC3"), "8UC3", "16UC1")
    with pytest.raises(im.ImageEncodingError, match=r"Unsupported conversion from \[bgr8\] to \[yuv422\]"):
        im.convert_encoding(sample("bgr8"), "bgr8", "yuv422")


# -- JPEG / CompressedImage --------------------------------------------------------------------

def test_jpeg_format_strings_as_image_transport():
    assert im.jpeg_format_string("bgr8") == "bgr8; jpeg compressed bgr8"
    assert im.jpeg_format_string("rgb8") == "rgb8; jpeg compressed bgr8"
    assert im.jpeg_format_string("mono8") == "mono8; jpeg compressed mono8"
    assert im.jpeg_format_string("mono16") == "mono16; jpeg compressed mono8"


def test_compressed_carries_jpeg_bytes_untouched():
    jpeg = cv2.imencode(".jpg", sample("bgr8", 32, 32))[1].tobytes()
    msg = im.compressed_msg_from_jpeg(make, jpeg, "bgr8", (3, 4), "cam")
    assert bytes(msg.data) == jpeg
    assert msg.format == "bgr8; jpeg compressed bgr8"
    assert (msg.header.stamp.sec, msg.header.frame_id) == (3, "cam")


def test_jpeg_encode_decode_quality_and_colour_order():
    rgb = np.zeros((64, 64, 3), np.uint8)
    rgb[..., 0] = 200  # red in rgb8
    msg = im.compressed_msg_from_array(make, rgb, "rgb8", quality=95)
    assert msg.format == "rgb8; jpeg compressed bgr8"
    decoded = cv2.imdecode(np.frombuffer(msg.data, np.uint8), cv2.IMREAD_UNCHANGED)
    assert abs(int(decoded[..., 2].mean()) - 200) <= 2 and decoded[..., 0].max() <= 3  # stored as BGR
    back = im.array_from_compressed_msg(msg)  # back to rgb8 as the subscriber does
    assert abs(int(back[..., 0].mean()) - 200) <= 2
    noisy = sample("bgr8", 64, 64)
    assert len(im.encode_jpeg(noisy, "bgr8", 20)) < len(im.encode_jpeg(noisy, "bgr8", 95))
    grey = sample("mono8", 16, 16)
    assert im.decode_jpeg(im.encode_jpeg(grey, "mono8")).ndim == 2
    with pytest.raises(ValueError, match="quality must be 1..100"):
        im.encode_jpeg(grey, "mono8", 0)
    with pytest.raises(im.ImageEncodingError, match="not a decodable JPEG"):
        im.decode_jpeg(b"not a jpeg")


# -- cv_bridge itself, when installed ----------------------------------------------------------

def _rclpy_image(msg):
    from sensor_msgs.msg import Image
    out = Image()
    out.height, out.width, out.encoding, out.step = msg.height, msg.width, msg.encoding, msg.step
    out.is_bigendian = msg.is_bigendian
    out.data = bytes(msg.data)
    return out


@pytest.mark.parametrize("encoding", ["mono8", "mono16", "bgr8", "rgb8", "bgra8", "rgba8", "16UC1", "32FC1",
                                      "yuv422"])
def test_identical_to_cv_bridge(encoding):
    cv_bridge = pytest.importorskip("cv_bridge")
    bridge = cv_bridge.CvBridge()
    array = sample(encoding, 8, 16)
    ours = im.image_msg_from_array(make, array, encoding)
    theirs = bridge.cv2_to_imgmsg(array, encoding)
    assert (ours.height, ours.width, ours.step, ours.encoding, ours.is_bigendian) == \
        (theirs.height, theirs.width, theirs.step, theirs.encoding, theirs.is_bigendian)
    assert bytes(ours.data) == bytes(theirs.data)
    msg = _rclpy_image(ours)
    np.testing.assert_array_equal(im.array_from_image_msg(ours), bridge.imgmsg_to_cv2(msg))
    for dst in ("mono8", "bgr8", "rgb8", "bgra8", "mono16"):
        try:
            expected = bridge.imgmsg_to_cv2(msg, dst)
        except cv_bridge.CvBridgeError:
            with pytest.raises(im.ImageEncodingError):
                im.array_from_image_msg(ours, dst)
            continue
        np.testing.assert_array_equal(im.array_from_image_msg(ours, dst), expected)
