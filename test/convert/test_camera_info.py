"""convert/camera_info.py: calibration YAML, Spot camera models and empty calibrations -> CameraInfo."""

import cv2
import numpy as np
import pytest
from bosdyn.api import image_pb2

from spot_bow_ros.convert import camera_info as ci
from spot_bow_ros.standalone.message_store import messages_for

make = messages_for("humble")

# As written by ROS 2 `camera_calibration` (camera_calibration_parsers format)
CALIBRATION_YAML = """\
image_width: 640
image_height: 480
camera_name: narrow_stereo
camera_matrix:
  rows: 3
  cols: 3
  data: [430.15, 0, 306.5, 0, 430.54, 238.1, 0, 0, 1]
distortion_model: plumb_bob
distortion_coefficients:
  rows: 1
  cols: 5
  data: [-0.337, 0.119, 0.001, -0.0005, 0]
rectification_matrix:
  rows: 3
  cols: 3
  data: [1, 0, 0, 0, 1, 0, 0, 0, 1]
projection_matrix:
  rows: 3
  cols: 4
  data: [383.7, 0, 305.2, 0, 0, 401.9, 239.3, 0, 0, 0, 1, 0]
"""


def test_yaml_calibration_to_camera_info():
    info = ci.camera_info_from_yaml(make, CALIBRATION_YAML, stamp=(7, 8), frame_id="webcam_optical_frame")
    assert (info.width, info.height) == (640, 480)
    assert info.distortion_model == "plumb_bob"
    np.testing.assert_allclose(info.k, [430.15, 0, 306.5, 0, 430.54, 238.1, 0, 0, 1])
    np.testing.assert_allclose(info.d, [-0.337, 0.119, 0.001, -0.0005, 0])
    np.testing.assert_allclose(info.r, np.eye(3).ravel())
    np.testing.assert_allclose(info.p, [383.7, 0, 305.2, 0, 0, 401.9, 239.3, 0, 0, 0, 1, 0])
    assert (info.header.stamp.sec, info.header.stamp.nanosec, info.header.frame_id) == \
        (7, 8, "webcam_optical_frame")
    # survives CDR
    wire = make.deserialize(make.serialize(info), "sensor_msgs/msg/CameraInfo")
    np.testing.assert_allclose(wire.k, info.k)


def test_yaml_round_trip():
    info = ci.camera_info_from_yaml(make, CALIBRATION_YAML)
    again = ci.camera_info_from_yaml(make, ci.camera_info_to_yaml(info, "narrow_stereo"))
    for field in ("k", "d", "r", "p"):
        np.testing.assert_allclose(getattr(again, field), getattr(info, field))
    assert ci.calibration_from_yaml(ci.camera_info_to_yaml(info, "cam1"))["camera_name"] == "cam1"


def test_old_yaml_without_model_and_rational_polynomial():
    text = CALIBRATION_YAML.replace("distortion_model: plumb_bob\n", "")
    assert ci.calibration_from_yaml(text)["distortion_model"] == "plumb_bob"
    eight = text.replace("cols: 5\n  data: [-0.337, 0.119, 0.001, -0.0005, 0]",
                         "cols: 8\n  data: [1, 2, 3, 4, 5, 6, 7, 8]")
    assert ci.calibration_from_yaml(eight)["distortion_model"] == "rational_polynomial"


@pytest.mark.parametrize("text,message", [
    ("image_width: 640\n", "'image_height' must be a non-negative integer"),
    ("[1, 2]", "must be a YAML mapping"),
    (CALIBRATION_YAML.replace("data: [430.15, 0, 306.5, 0, 430.54, 238.1, 0, 0, 1]", "data: [1, 2]"),
     "'camera_matrix' is 3x3 but has 2 values"),
    (CALIBRATION_YAML.replace("rows: 3\n  cols: 4", "rows: 4\n  cols: 3"), "'projection_matrix' must be 3x4"),
    ("a: [", "is not valid YAML"),
])
def test_bad_yaml_is_a_clear_error(text, message):
    with pytest.raises(ci.CameraInfoError, match=message):
        ci.calibration_from_yaml(text, source="cam.yaml")


def test_empty_camera_info_has_image_size_only():
    info = ci.empty_camera_info(make, 1280, 720, (1, 2), "cam")
    assert (info.width, info.height, info.distortion_model, len(info.d)) == (1280, 720, "", 0)
    assert not np.any(info.k) and not np.any(info.p) and not np.any(info.r)
    assert info.header.frame_id == "cam"


def _source(model):
    src = image_pb2.ImageSource(name="frontleft_fisheye_image", cols=640, rows=480)
    if model == "pinhole":
        intr = src.pinhole.intrinsics
    elif model == "brown_conrady":
        bc = src.pinhole_brown_conrady.intrinsics
        bc.k1, bc.k2, bc.p1, bc.p2, bc.k3 = 0.1, -0.02, 0.001, 0.002, 0.003
        intr = bc.pinhole_intrinsics
    else:
        kb = src.kannala_brandt.intrinsics
        kb.k1, kb.k2, kb.k3, kb.k4 = -0.01, 0.02, -0.03, 0.004
        intr = kb.pinhole_intrinsics
    intr.focal_length.x, intr.focal_length.y = 257.39, 257.04
    intr.principal_point.x, intr.principal_point.y = 316.40, 235.32
    return src


@pytest.mark.parametrize("model,dmodel,d", [
    ("pinhole", "plumb_bob", [0, 0, 0, 0, 0]),
    ("brown_conrady", "plumb_bob", [0.1, -0.02, 0.001, 0.002, 0.003]),
    ("kannala_brandt", "equidistant", [-0.01, 0.02, -0.03, 0.004]),
])
def test_spot_camera_models(model, dmodel, d):
    info = ci.camera_info_from_image_source(make, _source(model), (100, 5), "frontleft_fisheye")
    assert (info.width, info.height) == (640, 480)
    assert info.distortion_model == dmodel
    np.testing.assert_allclose(info.d, d, rtol=1e-6)
    np.testing.assert_allclose(info.k, [257.39, 0, 316.40, 0, 257.04, 235.32, 0, 0, 1], rtol=1e-6)
    np.testing.assert_allclose(info.p, [257.39, 0, 316.40, 0, 0, 257.04, 235.32, 0, 0, 0, 1, 0], rtol=1e-6)
    np.testing.assert_allclose(info.r, np.eye(3).ravel())
    assert info.header.frame_id == "frontleft_fisheye"


def test_spot_intrinsics_scale_with_resized_images_and_skew():
    src = _source("pinhole")
    src.pinhole.intrinsics.skew.x = 0.5
    info = ci.camera_info_from_image_source(make, src, width=320, height=240)
    assert (info.width, info.height) == (320, 240)
    # principal point: (c + 0.5) * s - 0.5 (pixel centres), not c * s
    np.testing.assert_allclose(info.k, [257.39 / 2, 0.25, 157.95, 0, 257.04 / 2, 117.41, 0, 0, 1],
                               rtol=1e-6)
    np.testing.assert_allclose(info.p[2], 157.95)


@pytest.mark.parametrize("s", [0.5, 0.25, 0.75])
def test_resized_principal_point_follows_opencv_resize(s):
    """A blob at sub-pixel (u, v) lands at (u + 0.5) * s - 0.5 after cv2.resize: the resized
    camera model must put the principal point (the image of the optical axis) there too."""
    u0, v0 = 316.4, 235.3
    yy, xx = np.mgrid[0:480, 0:640].astype(np.float64)
    blob = np.exp(-((xx - u0) ** 2 + (yy - v0) ** 2) / (2 * 6.0 ** 2))
    small = cv2.resize(blob, (int(640 * s), int(480 * s)), interpolation=cv2.INTER_AREA if s != 0.75
                       else cv2.INTER_LINEAR)
    ys, xs = np.mgrid[0:small.shape[0], 0:small.shape[1]]
    cu, cv_ = (small * xs).sum() / small.sum(), (small * ys).sum() / small.sum()
    src = _source("pinhole")
    src.pinhole.intrinsics.principal_point.x, src.pinhole.intrinsics.principal_point.y = u0, v0
    info = ci.camera_info_from_image_source(make, src, width=int(640 * s), height=int(480 * s))
    assert info.k[2] == pytest.approx(cu, abs=0.02) and info.k[5] == pytest.approx(cv_, abs=0.02)
    assert abs(u0 * s - cu) > 0.1  # the naive c * s would miss it


def test_spot_source_without_model_is_uncalibrated():
    info = ci.camera_info_from_image_source(make, image_pb2.ImageSource(name="x", cols=424, rows=240))
    assert (info.width, info.height) == (424, 240)
    assert not np.any(info.k) and info.distortion_model == ""


def test_restamp_keeps_calibration():
    info = ci.camera_info_from_image_source(make, _source("kannala_brandt"), (1, 0), "a")
    again = ci.restamp(make, info, (9, 10))
    assert (again.header.stamp.sec, again.header.stamp.nanosec, again.header.frame_id) == (9, 10, "a")
    np.testing.assert_array_equal(again.k, info.k)
    assert again.distortion_model == "equidistant"
