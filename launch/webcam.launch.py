"""Webcam (or video file, GStreamer pipeline, test pattern) to sensor_msgs/Image.

    ros2 launch spot_bow_ros webcam.launch.py device:=/dev/video0 width:=1280 height:=720
    ros2 launch spot_bow_ros webcam.launch.py device:=test_pattern
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue
from launch_ros.substitutions import FindPackageShare

from spot_bow_ros.backends.launch_actions import start_checked
from spot_bow_ros.backends.launch_params import NamespacedParamsFile


def generate_launch_description():
    share = FindPackageShare("spot_bow_ros")
    args = [
        DeclareLaunchArgument("device", default_value="0",
                              description="Device index, /dev/video* path, video file, GStreamer "
                                          "pipeline or test_pattern"),
        DeclareLaunchArgument("width", default_value="640", description="Requested width in pixels"),
        DeclareLaunchArgument("height", default_value="480", description="Requested height in pixels"),
        DeclareLaunchArgument("fps", default_value="30.0", description="Requested frame rate"),
        DeclareLaunchArgument("frame_id", default_value="webcam_optical", description="Image frame id"),
        DeclareLaunchArgument("camera_info_url", default_value="",
                              description="ROS camera calibration YAML (file:// or path)"),
        DeclareLaunchArgument("namespace", default_value="", description="Namespace of the topics"),
        DeclareLaunchArgument("config_file",
                              default_value=PathJoinSubstitution([share, "config", "webcam.yaml"]),
                              description="ROS params YAML"),
    ]
    # the params file's per-node sections, also under a namespace (rcl reads `webcam:` as `/webcam`)
    config = NamespacedParamsFile(LaunchConfiguration("config_file"), LaunchConfiguration("namespace"))
    node = Node(
        package="spot_bow_ros", executable="webcam", name="webcam",
        namespace=LaunchConfiguration("namespace"), output="screen",
        parameters=[config, {
            "device": ParameterValue(LaunchConfiguration("device"), value_type=str),
            "width": ParameterValue(LaunchConfiguration("width"), value_type=int),
            "height": ParameterValue(LaunchConfiguration("height"), value_type=int),
            "fps": ParameterValue(LaunchConfiguration("fps"), value_type=float),
            "frame_id": ParameterValue(LaunchConfiguration("frame_id"), value_type=str),
            "camera_info_url": ParameterValue(LaunchConfiguration("camera_info_url"), value_type=str),
        }],
    )
    return LaunchDescription(args + [start_checked([node])])
