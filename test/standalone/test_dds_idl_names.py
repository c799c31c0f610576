"""ROS 2 name rules (ros/names.py) and their DDS spelling (standalone/dds_idl.py)."""

import pytest

from spot_bow_ros.ros.names import TopicNameError, expand_topic_name, normalize_type_name
from spot_bow_ros.standalone.dds_idl import dds_topic_name, dds_type_name, ros_topic_name, ros_type_name


@pytest.mark.parametrize("name, ns, node, full", [
    ("chatter", "/", "n", "/chatter"),
    ("chatter", "/robot", "n", "/robot/chatter"),
    ("camera/image_raw", "robot", "n", "/robot/camera/image_raw"),
    ("/abs/topic", "/robot", "n", "/abs/topic"),
    ("~", "/robot", "cam", "/robot/cam"),
    ("~/image", "/robot", "cam", "/robot/cam/image"),
    ("~/image", "/", "cam", "/cam/image"),
])
def test_expand_topic_name(name, ns, node, full):
    assert expand_topic_name(name, ns, node) == full


@pytest.mark.parametrize("name, why", [
    ("", "empty"),
    ("bad topic", "bad topic"),
    ("/a//b", "//"),
    ("/a/b/", "end with"),
    ("/a/2b", "2b"),
    ("~x", "followed by"),
    ("/caf\u00e9", "caf"),
])
def test_names_ros_rejects_raise_one_clear_error(name, why):
    with pytest.raises(TopicNameError) as err:
        expand_topic_name(name, "/", "node")
    assert why in str(err.value)
    assert "\n" not in str(err.value)


def test_normalize_type_name():
    assert normalize_type_name("sensor_msgs/Image") == "sensor_msgs/msg/Image"
    assert normalize_type_name("sensor_msgs/msg/Image") == "sensor_msgs/msg/Image"
    with pytest.raises(ValueError, match="pkg/msg/Type"):
        normalize_type_name("Image")


def test_dds_names_follow_rmw_cyclonedds():
    assert dds_topic_name("/camera/image_raw") == "rt/camera/image_raw"
    assert ros_topic_name("rt/camera/image_raw") == "/camera/image_raw"
    assert ros_topic_name("rq/add_two_intsRequest") is None
    assert ros_topic_name("ros_discovery_info") is None
    assert dds_type_name("sensor_msgs/msg/Image") == "sensor_msgs::msg::dds_::Image_"
    assert dds_type_name("geometry_msgs/Twist") == "geometry_msgs::msg::dds_::Twist_"
    assert ros_type_name("sensor_msgs::msg::dds_::Image_") == "sensor_msgs/msg/Image"
    assert ros_type_name("DDS::Something") is None
    with pytest.raises(ValueError):
        dds_topic_name("relative")
