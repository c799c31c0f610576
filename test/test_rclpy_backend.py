"""rclpy backend (ros/rclpy_backend.py): runs only where ROS 2 is installed and sourced."""

import array

import numpy as np
import pytest

rclpy = pytest.importorskip("rclpy")

from spot_bow_ros.ros import rclpy_backend as rb  # noqa: E402
from spot_bow_ros.ros.messages import UnknownMessageType  # noqa: E402
from spot_bow_ros.ros.params import ParameterError, ParamSpec  # noqa: E402
from spot_bow_ros.ros.qos import LATCHED, SENSOR_DATA  # noqa: E402


@pytest.fixture
def node():
    rclpy.init(args=["test", "--ros-args", "-p", "rate:=30.0", "-p", "port:=70000"])
    n = rb.RclpyNode("rclpy_backend_test")
    yield n
    n.destroy()
    rclpy.try_shutdown()


def test_messages_are_real_classes_filled_fast():
    from sensor_msgs.msg import Image

    pixels = np.zeros((720, 1280, 3), np.uint8)
    img = rb.make_message("sensor_msgs/msg/Image", header={"frame_id": "cam"}, height=720, width=1280,
                          encoding="bgr8", step=3840, data=pixels)
    assert isinstance(img, Image) and img.header.frame_id == "cam"
    assert isinstance(img.data, array.array) and len(img.data) == pixels.size
    info = rb.make_message("sensor_msgs/CameraInfo", k=np.eye(3).ravel(), d=[0.1, 0.2])
    assert list(info.k) == list(np.eye(3).ravel()) and list(info.d) == [0.1, 0.2]
    with pytest.raises(UnknownMessageType):
        rb.make_message("sensor_msgs/msg/Nope")


def test_qos_profiles():
    from rclpy.qos import DurabilityPolicy, ReliabilityPolicy

    assert rb.qos_profile(SENSOR_DATA).reliability == ReliabilityPolicy.BEST_EFFORT
    assert rb.qos_profile(LATCHED).durability == DurabilityPolicy.TRANSIENT_LOCAL


def test_parameters_from_ros_args_with_descriptors(node):
    values = node.declare_parameters([ParamSpec("rate", 15.0, "Hz", min=1.0, max=60.0),
                                      ParamSpec("names", [], "joint names", list_type=str)])
    assert values == {"rate": 30.0, "names": []}
    with pytest.raises(ParameterError, match="port"):
        node.declare_parameters([ParamSpec("port", 443, "robot port", min=1, max=65535)])


def test_pub_sub_and_timer(node):
    pub = node.create_publisher("std_msgs/msg/String", "chatter", LATCHED)
    assert pub.topic == "/chatter" and pub.get_subscription_count() == 0
    got = []
    node.create_subscription("std_msgs/msg/String", "chatter", got.append, LATCHED)
    pub.publish(node.msg("std_msgs/msg/String", data="x"))
    for _ in range(50):
        rclpy.spin_once(node.node, timeout_sec=0.1)
        if got:
            break
    assert got and got[0].data == "x"
    sec, nsec = node.now()
    assert sec > 1_600_000_000 and 0 <= nsec < 1_000_000_000
