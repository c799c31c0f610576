"""convert/bow_image.py: BOW ImageSample <-> sensor_msgs/Image and CompressedImage."""

import cv2
import numpy as np
import pytest

from spot_bow_ros.bow import bow_data_pb2 as bow
from spot_bow_ros.convert import bow_image as bi
from spot_bow_ros.convert.images import array_from_image_msg, image_msg_from_array
from spot_bow_ros.standalone.message_store import messages_for

make = messages_for("humble")
RAW, JPG = bi.Compression.RAW, bi.Compression.JPG
RGB, DEPTH, INFRARED = bi.ImageType.RGB, bi.ImageType.DEPTH, bi.ImageType.INFRARED

BGR = np.random.default_rng(3).integers(0, 255, (24, 32, 3), dtype=np.uint8)
UYVY = bi.bgr_to_uyvy(BGR)  # 24 x 32 x 2 (cv2.COLOR_BGR2YUV_UYVY only exists from OpenCV 4.9)


def test_raw_rgb_yuv422_passes_through_as_ros_yuv422():
    sample = bow.ImageSample(Source="head", Data=UYVY.tobytes(), DataShape=[32, 24], Compression=RAW,
                             ImageType=RGB, FrameNumber=41, NewDataFlag=True)
    out = bi.ros_image_from_sample(make, sample, stamp=(5, 6))
    msg = out.msg
    assert not out.compressed
    assert (msg.width, msg.height, msg.encoding, msg.step) == (32, 24, "yuv422", 64)
    assert (msg.header.stamp.sec, msg.header.stamp.nanosec, msg.header.frame_id) == (5, 6, "head")
    assert out.frame_number == 41 and out.new_data and out.designation == ""
    np.testing.assert_array_equal(array_from_image_msg(msg), UYVY)
    # no pixel copy beyond protobuf's own: the message wraps the bytes taken from the sample
    owner = msg.data
    while isinstance(owner, np.ndarray):
        owner = owner.base
    assert isinstance(owner, bytes) and len(owner) == len(sample.Data)
    # converted on request, exactly as cv_bridge would (cvtColor UYVY -> BGR)
    bgr = bi.ros_image_from_sample(make, sample, desired_encoding="bgr8").msg
    assert bgr.encoding == "bgr8"
    np.testing.assert_array_equal(array_from_image_msg(bgr), cv2.cvtColor(UYVY, cv2.COLOR_YUV2BGR_UYVY))


def test_numpy_uyvy_fallback_matches_opencv_and_round_trips():
    """The path taken with the distro's OpenCV (4.6: no COLOR_BGR2YUV_UYVY), forced here."""
    rng = np.random.default_rng(7)
    bgr = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
    uyvy = bi.bgr_to_uyvy(bgr, use_opencv=False)
    assert uyvy.shape == (48, 64, 2) and uyvy.dtype == np.uint8
    # known values, BT.601 limited range: white, black, pure red, pure blue pixel pairs
    pairs = np.array([[[255, 255, 255]] * 2, [[0, 0, 0]] * 2, [[0, 0, 255]] * 2, [[255, 0, 0]] * 2], np.uint8)
    got = bi.bgr_to_uyvy_numpy(pairs.reshape(1, 8, 3)).reshape(4, 4)  # U Y V Y per pair
    np.testing.assert_array_equal(got, [[128, 235, 128, 235], [128, 16, 128, 16],
                                        [90, 81, 240, 81], [240, 41, 110, 41]])
    # back to BGR with OpenCV's own (old) UYVY decoder: the colours survive (chroma is shared by
    # each pixel pair, so compare pair means)
    back = cv2.cvtColor(uyvy, cv2.COLOR_YUV2BGR_UYVY).astype(float)
    pair_mean = lambda a: (a[:, 0::2] + a[:, 1::2]) / 2
    assert np.abs(pair_mean(back) - pair_mean(bgr.astype(float))).mean() < 12
    if hasattr(cv2, "COLOR_BGR2YUV_UYVY"):
        np.testing.assert_allclose(uyvy.astype(int), cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV_UYVY).astype(int), atol=1)


def test_image_to_bow_uses_the_fallback_without_opencv_4_9(monkeypatch):
    monkeypatch.setattr(bi, "HAVE_CV2_BGR2UYVY", False)
    monkeypatch.delattr(cv2, "COLOR_BGR2YUV_UYVY", raising=False)
    msg = image_msg_from_array(make, BGR, "bgr8", frame_id="cam")
    sample = bi.sample_from_image_msg(msg)
    data = np.frombuffer(sample.Data, np.uint8).reshape(24, 32, 2)
    np.testing.assert_array_equal(data, bi.bgr_to_uyvy_numpy(BGR))


def test_yuy2_layout_and_other_rgb_layouts():
    yuy2 = np.ascontiguousarray(UYVY[..., ::-1])  # U Y0 V Y1 -> Y0 U Y1 V
    sample = bow.ImageSample(Source="c", Data=yuy2.tobytes(), DataShape=[32, 24], Compression=RAW, ImageType=RGB)
    msg = bi.ros_image_from_sample(make, sample, yuv_layout="yuv422_yuy2", desired_encoding="bgr8").msg
    np.testing.assert_array_equal(array_from_image_msg(msg), cv2.cvtColor(yuy2, cv2.COLOR_YUV2BGR_YUY2))
    i420 = cv2.cvtColor(BGR, cv2.COLOR_BGR2YUV_I420)
    sample.Data = i420.tobytes()
    msg = bi.ros_image_from_sample(make, sample).msg
    assert msg.encoding == "bgr8"
    np.testing.assert_array_equal(array_from_image_msg(msg), cv2.cvtColor(i420, cv2.COLOR_YUV2BGR_I420))
    sample.Data = BGR[..., ::-1].tobytes()
    msg = bi.ros_image_from_sample(make, sample).msg
    assert msg.encoding == "rgb8"
    np.testing.assert_array_equal(array_from_image_msg(msg), BGR[..., ::-1])


def test_raw_depth_is_16uc1_millimetres():
    depth = np.array([[0, 500, 1234], [65535, 1, 2]], np.uint16)
    sample = bow.ImageSample(Source="depth_cam", Data=depth.astype("<u2").tobytes(), DataShape=[3, 2],
                             Compression=RAW, ImageType=DEPTH)
    msg = bi.ros_image_from_sample(make, sample).msg
    assert (msg.encoding, msg.width, msg.height, msg.step) == ("16UC1", 3, 2, 6)
    np.testing.assert_array_equal(array_from_image_msg(msg), depth)
    back = bi.sample_from_image_msg(msg)
    assert (back.ImageType, back.Compression, list(back.DataShape)) == (DEPTH, RAW, [3, 2])
    assert back.Data == sample.Data and back.Source == "depth_cam"


def test_float_metres_depth_becomes_millimetres():
    metres = np.array([[0.5, 1.2345, np.nan, 70.0]], np.float32)
    msg = image_msg_from_array(make, metres, "32FC1", frame_id="d")
    sample = bi.sample_from_image_msg(msg)
    np.testing.assert_array_equal(np.frombuffer(sample.Data, "<u2"), [500, 1234, 0, 65535])


def test_infrared():
    ir = np.arange(12, dtype=np.uint8).reshape(3, 4)
    sample = bow.ImageSample(Source="ir", Data=ir.tobytes(), DataShape=[4, 3], Compression=RAW, ImageType=INFRARED)
    msg = bi.ros_image_from_sample(make, sample).msg
    assert msg.encoding == "mono8"
    np.testing.assert_array_equal(array_from_image_msg(msg), ir)


def test_jpg_becomes_compressed_image_untouched():
    jpeg = cv2.imencode(".jpg", BGR)[1].tobytes()
    sample = bow.ImageSample(Source="head", Data=jpeg, DataShape=[32, 24], Compression=JPG, ImageType=RGB,
                             FrameNumber=7)
    out = bi.ros_image_from_sample(make, sample, stamp=(1, 2))
    assert out.compressed and bytes(out.msg.data) == jpeg
    assert out.msg.format == "bgr8; jpeg compressed bgr8"
    grey = cv2.imencode(".jpg", BGR[..., 0])[1].tobytes()
    sample.Data = grey
    assert bi.ros_image_from_sample(make, sample).msg.format == "mono8; jpeg compressed mono8"
    decoded = bi.ros_image_from_sample(make, sample, decode_jpeg=True).msg
    assert (decoded.encoding, decoded.width, decoded.height) == ("mono8", 32, 24)
    # and back: a JPEG CompressedImage travels to BOW unchanged
    back = bi.sample_from_compressed_msg(out.msg, frame_number=7)
    assert back.Data == grey or back.Data == jpeg
    assert (back.Compression, list(back.DataShape), back.FrameNumber) == (JPG, [32, 24], 7)


def test_stereo_designation_and_frame_number_round_trip():
    sample = bow.ImageSample(Source="head", Data=UYVY.tobytes(), DataShape=[32, 24], Compression=RAW,
                             ImageType=RGB, Designation=bow.RIGHT, FrameNumber=123456789012)
    out = bi.ros_image_from_sample(make, sample)
    assert out.designation == "right" and out.frame_id == "head_right"
    assert out.msg.header.frame_id == "head_right" and out.frame_number == 123456789012
    back = bi.sample_from_image_msg(out.msg, frame_number=out.frame_number, designation=out.designation)
    assert (back.Source, back.Designation, back.FrameNumber) == ("head", bow.RIGHT, 123456789012)
    assert back.Data == sample.Data  # yuv422 passes through unchanged
    assert not bi.ros_image_from_sample(make, bow.ImageSample(
        Source="x", Data=UYVY.tobytes(), DataShape=[32, 24], Compression=RAW)).frame_number


def test_bgr_image_to_bow_yuv422_and_back():
    msg = image_msg_from_array(make, BGR, "bgr8", frame_id="webcam_optical_frame")
    sample = bi.sample_from_image_msg(msg, frame_number=3)
    assert (sample.ImageType, sample.Compression, list(sample.DataShape)) == (RGB, RAW, [32, 24])
    assert len(sample.Data) == 32 * 24 * 2 and sample.NewDataFlag
    np.testing.assert_array_equal(np.frombuffer(sample.Data, np.uint8).reshape(24, 32, 2), UYVY)
    back = bi.ros_image_from_sample(make, sample, desired_encoding="bgr8").msg
    # YUV 4:2:2 halves horizontal chroma: close, not exact
    assert np.abs(array_from_image_msg(back).astype(int) - BGR.astype(int)).mean() < 40
    jpg = bi.sample_from_image_msg(msg, compression=JPG, jpeg_quality=90)
    assert jpg.Compression == JPG and jpg.Data[:2] == b"\xff\xd8"


def test_greyscale_round_trips_at_full_range():
    grey = np.tile(np.array([0, 255, 1, 254, 16, 235, 128, 77], np.uint8), (3, 2))   # 3 x 16
    msg = image_msg_from_array(make, grey, "mono8", frame_id="ir_cam")
    sample = bi.sample_from_image_msg(msg)
    assert (sample.ImageType, sample.Compression, list(sample.DataShape)) == (RGB, RAW, [16, 3])
    uyvy = np.frombuffer(sample.Data, np.uint8).reshape(3, 16, 2)
    np.testing.assert_array_equal(uyvy[..., 1], grey)          # Y is the grey value, full range
    assert (uyvy[..., 0] == 128).all()                           # neutral chroma
    back = bi.ros_image_from_sample(make, sample, desired_encoding="mono8").msg
    np.testing.assert_array_equal(array_from_image_msg(back), grey)
    bgr = array_from_image_msg(bi.ros_image_from_sample(make, sample, desired_encoding="bgr8").msg)
    assert (bgr[:, 0] == 0).all() and (bgr[:, 1] == 255).all()


def test_fov_and_camera_info():
    sample = bow.ImageSample(Source="head", Data=UYVY.tobytes(), DataShape=[32, 24], Compression=RAW,
                             ImageType=RGB, HFOV=90.0, VFOV=60.0)
    info = bi.ros_image_from_sample(make, sample).camera_info
    assert info.k[0] == pytest.approx(16.0) and info.k[2] == 16.0 and info.k[5] == 12.0
    assert info.k[4] == pytest.approx(12.0 / np.tan(np.radians(30)))
    msg = image_msg_from_array(make, BGR, "bgr8", frame_id="c")
    back = bi.sample_from_image_msg(msg, camera_info=info)
    assert back.HFOV == pytest.approx(90.0, abs=1e-4) and back.VFOV == pytest.approx(60.0, abs=1e-4)


@pytest.mark.parametrize("sample,message", [
    (bow.ImageSample(Source="s", Data=b"\0" * 10, DataShape=[4, 4], Compression=RAW, ImageType=DEPTH),
     "RAW DEPTH 4x4 needs 32 bytes"),
    (bow.ImageSample(Source="s", Data=b"\0" * 10, DataShape=[4], Compression=RAW), "DataShape"),
    (bow.ImageSample(Source="s", Data=b"\0" * 10, DataShape=[4, 4], Compression=bi.Compression.H264),
     "H264 is a video stream codec"),
    (bow.ImageSample(Source="s", Data=b"nope", DataShape=[4, 4], Compression=JPG), "JPG data"),
    (bow.ImageSample(Source="s", Data=b"\0" * 7, DataShape=[4, 4], Compression=RAW), "not a 4x4 YUV422"),
])
def test_bad_samples_are_clear_errors(sample, message):
    with pytest.raises(bi.BowImageError, match=message):
        bi.ros_image_from_sample(make, sample)
