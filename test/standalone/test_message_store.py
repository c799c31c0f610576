"""Message factory and CDR codec over rosbags (standalone/message_store.py)."""

import numpy as np
import pytest

from spot_bow_ros.standalone.message_store import UnknownMessageType, messages_for

M = messages_for("humble")

REQUIRED = ["std_msgs/msg/Header", "std_msgs/msg/String", "std_msgs/msg/UInt8MultiArray", "sensor_msgs/msg/Image",
            "sensor_msgs/msg/CompressedImage", "sensor_msgs/msg/CameraInfo", "sensor_msgs/msg/JointState",
            "sensor_msgs/msg/Imu", "geometry_msgs/msg/Twist"]


@pytest.mark.parametrize("type_name", REQUIRED)
def test_required_types_build_with_defaults_and_round_trip(type_name):
    msg = M.make(type_name)
    assert msg.__msgtype__ == type_name
    back = M.deserialize(M.serialize(msg), type_name)
    assert M.serialize(back) == M.serialize(msg)


def test_ros_defaults():
    img = M.make("sensor_msgs/msg/Image")
    assert (img.height, img.width, img.encoding, img.step, img.is_bigendian) == (0, 0, "", 0, 0)
    assert img.data.dtype == np.uint8 and len(img.data) == 0
    assert (img.header.stamp.sec, img.header.stamp.nanosec, img.header.frame_id) == (0, 0, "")
    info = M.make("sensor_msgs/msg/CameraInfo")
    assert info.k.shape == (9,) and not info.k.any() and info.distortion_model == ""
    imu = M.make("sensor_msgs/msg/Imu")
    assert imu.orientation.w == 0.0 and imu.orientation_covariance.shape == (9,)
    assert M.make("geometry_msgs/msg/Twist").linear.x == 0.0


def test_fields_nested_dicts_bytes_and_lists():
    img = M.make("sensor_msgs/Image", header={"stamp": {"sec": 5, "nanosec": 6}, "frame_id": "cam"},
                 height=1, width=2, encoding="mono8", step=2, data=b"\x01\x02")
    assert img.header.frame_id == "cam" and img.header.stamp.sec == 5
    assert list(img.data) == [1, 2]
    js = M.make("sensor_msgs/msg/JointState", name=["a", "b"], position=[0.5, 1.5])
    assert js.position.dtype == np.float64 and list(js.position) == [0.5, 1.5]
    data = M.serialize(img)
    assert data[:4] == b"\x00\x01\x00\x00"  # CDR little endian header


def test_unknown_type_and_fields_are_clear_errors():
    with pytest.raises(UnknownMessageType, match="unknown message type 'sensor_msgs/msg/Nope'"):
        M.make("sensor_msgs/msg/Nope")
    with pytest.raises(UnknownMessageType, match="pkg/msg/Type"):
        M.make("Image")
    with pytest.raises(TypeError, match="no field"):
        M.make("std_msgs/msg/String", text="x")
    with pytest.raises(ValueError, match="fixed array needs 9"):
        M.make("sensor_msgs/msg/CameraInfo", k=[1.0, 2.0])


def test_msgdef_and_type_hash():
    assert "uint32 height" in M.msgdef("sensor_msgs/msg/Image")
    h = messages_for("jazzy").type_hash("std_msgs/msg/String")
    assert h == "RIHS01_df668c740482bbd48fb39d76a70dfd4bd59db1288021743503259e948f6b1a18"
    with pytest.raises(ValueError, match="unknown ROS distro"):
        messages_for("melodic")
