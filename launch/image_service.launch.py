"""Re-serve ROS image topics to Spot as a bosdyn ImageService registered in the robot's directory.

    ros2 launch spot_bow_ros image_service.launch.py hostname:=192.168.50.3 \
        credentials_file:=/opt/payload/credentials.json host_ip:=192.168.50.5 \
        sources:="['webcam/image_raw:webcam:raw']"
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
        DeclareLaunchArgument("hostname", default_value="", description="Robot hostname or IP"),
        DeclareLaunchArgument("port", default_value="443", description="Robot TLS port"),
        DeclareLaunchArgument("ca_cert", default_value="", description="Robot CA certificate"),
        DeclareLaunchArgument("credentials_file", default_value="",
                              description="Payload credentials file (GUID and secret)"),
        DeclareLaunchArgument("username", default_value="",
                              description="Robot user (empty: BOSDYN_CLIENT_USERNAME)"),
        DeclareLaunchArgument("password_file", default_value="",
                              description="File with the robot password on line 1 (empty: "
                                          "BOSDYN_CLIENT_PASSWORD). password:= is refused"),
        DeclareLaunchArgument("sim_info_file", default_value="",
                              description="JSON info file of `spot-bow-ros sim`"),
        DeclareLaunchArgument("host_ip", default_value="",
                              description="IP of this computer as the robot reaches it"),
        DeclareLaunchArgument("service_port", default_value="0",
                              description="Port of the image service (0: any free port)"),
        DeclareLaunchArgument("namespace", default_value="", description="Namespace of the topics"),
        DeclareLaunchArgument("config_file",
                              default_value=PathJoinSubstitution([share, "config", "image_service.yaml"]),
                              description="ROS params YAML (sources, quality, staleness)"),
    ]
    # the params file's per-node sections, also under a namespace (rcl reads `webcam:` as `/webcam`)
    config = NamespacedParamsFile(LaunchConfiguration("config_file"), LaunchConfiguration("namespace"))
    node = Node(
        package="spot_bow_ros", executable="image_service", name="image_service",
        namespace=LaunchConfiguration("namespace"), output="screen",
        parameters=[config, {
            "hostname": ParameterValue(LaunchConfiguration("hostname"), value_type=str),
            "port": ParameterValue(LaunchConfiguration("port"), value_type=int),
            "ca_cert": ParameterValue(LaunchConfiguration("ca_cert"), value_type=str),
            "username": ParameterValue(LaunchConfiguration("username"), value_type=str),
            "password_file": ParameterValue(LaunchConfiguration("password_file"), value_type=str),
            "payload_credentials_file": ParameterValue(LaunchConfiguration("credentials_file"), value_type=str),
            "sim_info_file": ParameterValue(LaunchConfiguration("sim_info_file"), value_type=str),
            "host_ip": ParameterValue(LaunchConfiguration("host_ip"), value_type=str),
            "service_port": ParameterValue(LaunchConfiguration("service_port"), value_type=int),
        }],
    )
    return LaunchDescription(args + [start_checked([node])])
