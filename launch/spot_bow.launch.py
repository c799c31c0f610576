"""Launch every spot_bow_ros bridge in one process with one robot connection.

Examples (on the robot's payload computer)::

    ros2 launch spot_bow_ros spot_bow.launch.py hostname:=192.168.50.3 \
        credentials_file:=/opt/payload/credentials.json ca_cert:=/opt/payload/robot.pem
    ros2 launch spot_bow_ros spot_bow.launch.py sim_info_file:=/tmp/sim.json rviz:=true record:=true

Arguments are listed with `ros2 launch spot_bow_ros spot_bow.launch.py --show-args`.
Credentials: `credentials_file:=` (payload), or `username:=` with the password in
BOSDYN_CLIENT_PASSWORD or `password_file:=` (`password:=` is refused: parameters are readable).
RViz, xacro and robot_state_publisher are optional: started only when installed.
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, ExecuteProcess, OpaqueFunction
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue
from launch_ros.substitutions import FindPackageShare

from spot_bow_ros.backends.launch_actions import (
    PASSED_ONLY,
    optional_package,
    passed_overrides,
    robot_description,
    start_checked,
)
from spot_bow_ros.backends.launch_params import NamespacedParamsFile, NodeOverridesFile

BRIDGES = ("webcam", "spot_cameras", "proprioception", "motor_command", "image_service", "bow_vision")


def _arguments():
    share = FindPackageShare("spot_bow_ros")
    args = [
        DeclareLaunchArgument("hostname", default_value="",
                              description="Robot hostname or IP (empty: use sim_info_file)"),
        DeclareLaunchArgument("port", default_value="", description="Robot TLS port (empty: config_file's, else 443)"),
        DeclareLaunchArgument("ca_cert", default_value="",
                              description="Robot CA certificate (empty: the SDK's bundled Spot CA)"),
        DeclareLaunchArgument("credentials_file", default_value="",
                              description="Payload credentials file (GUID and secret); "
                                          "else BOSDYN_CLIENT_USERNAME/PASSWORD are used"),
        DeclareLaunchArgument("username", default_value="",
                              description="Robot user (empty: BOSDYN_CLIENT_USERNAME)"),
        DeclareLaunchArgument("password_file", default_value="",
                              description="File with the robot password on line 1 (empty: "
                                          "BOSDYN_CLIENT_PASSWORD). password:= is refused"),
        DeclareLaunchArgument("sim_info_file", default_value="",
                              description="JSON info file of `spot-bow-ros sim` (connects to the simulator)"),
        DeclareLaunchArgument("namespace", default_value="", description="Namespace of every topic"),
        DeclareLaunchArgument("config_file",
                              default_value=PathJoinSubstitution([share, "config", "spot_bow.yaml"]),
                              description="ROS params YAML for the bridges"),
        DeclareLaunchArgument("rviz", default_value="false", description="Start RViz with config/spot_bow.rviz"),
        DeclareLaunchArgument("record", default_value="false", description="Record all topics with ros2 bag (MCAP)"),
        DeclareLaunchArgument("bag_path", default_value="",
                              description="Output directory of the bag (empty: ros2 bag's own "
                                          "rosbag2_<date>_<time>, never an existing directory)"),
        DeclareLaunchArgument("robot_state_publisher", default_value="true",
                              description="Start robot_state_publisher with the robot model (false: the "
                                          "proprioception bridge publishes robot_description and the link TF)"),
        DeclareLaunchArgument("arm", default_value="true",
                              description="Robot model with the arm (urdf/spot_with_arm.urdf) or without"),
        DeclareLaunchArgument("robot_description_package", default_value="",
                              description="Empty: the URDF shipped with spot_bow_ros (urdf/). Else a package "
                                          "with urdf/spot.urdf.xacro or urdf/spot.urdf (e.g. spot_description)"),
        DeclareLaunchArgument("frame_prefix", default_value="", description="Prefix of every TF frame and joint"),
    ]
    for bridge in BRIDGES:
        args.append(DeclareLaunchArgument(f"enable_{bridge}", default_value="",
                                          description=f"Run the {bridge} bridge: true or false "
                                                      "(empty: config_file's value, else true)"))
    return args


def _bag_record(context, *args, **kwargs):
    """`ros2 bag record -s mcap -a`, into `bag_path` when one is given."""
    path = LaunchConfiguration("bag_path").perform(context)
    output = ["-o", path] if path else []
    return [ExecuteProcess(cmd=["ros2", "bag", "record", "-s", "mcap", *output, "-a"], output="screen")]


def _rviz(context, *args, **kwargs):
    """RViz with config/spot_bow.rviz, when rviz2 is installed (it is not a dependency)."""
    from launch.actions import LogInfo

    if not optional_package("rviz2"):
        return [LogInfo(msg="rviz:=true but rviz2 is not installed (sudo apt install ros-$ROS_DISTRO-rviz2): "
                            "no RViz")]
    share = FindPackageShare("spot_bow_ros")
    return [Node(package="rviz2", executable="rviz2", name="rviz2",
                 arguments=["-d", PathJoinSubstitution([share, "config", "spot_bow.rviz"])])]


def _robot_model(context, *args, **kwargs):
    """robot_state_publisher with the URDF shipped in this package (default) or with the one of
    `robot_description_package` (e.g. spot_description), and the bridges. The bridges' robot_model
    is `none` only when robot_state_publisher really starts with a robot_description; otherwise
    (not asked for, or robot_state_publisher, the package, its URDF or xacro missing: one line
    says which) they keep theirs and publish robot_description and the link TF themselves."""
    from launch.actions import LogInfo

    model = robot_description(LaunchConfiguration("robot_state_publisher").perform(context),
                              LaunchConfiguration("arm").perform(context).lower() in ("true", "1"),
                              LaunchConfiguration("robot_description_package").perform(context))
    actions = [LogInfo(msg=f"spot_bow_ros: {model.reason}")] if model.reason else []
    if model.urdf is not None:
        actions.append(Node(
            package="robot_state_publisher", executable="robot_state_publisher",
            namespace=LaunchConfiguration("namespace"),
            parameters=[{"robot_description": ParameterValue(model.urdf, value_type=str),
                         "frame_prefix": ParameterValue(LaunchConfiguration("frame_prefix"), value_type=str)}],
        ))
    return actions + _bridges(context, publish_model=model.urdf is None)


def _bridges(context, publish_model=True):
    """The composed bridges. Connection and enable_* arguments become parameters only when the
    user passed them (empty: config_file's value, else the node's default); robot_model is
    `none` unless they `publish_model`."""
    names = list(PASSED_ONLY) + [f"enable_{b}" for b in BRIDGES]
    values = {name: LaunchConfiguration(name).perform(context) for name in names}
    try:
        overrides = passed_overrides(values, BRIDGES)
    except ValueError as exc:
        raise RuntimeError(str(exc)) from None  # launch reports it in one line and stops
    if not publish_model:  # robot_state_publisher publishes robot_description and the link TF
        overrides["robot_model"] = "none"
    # the params file's per-node sections, also under a namespace (rcl reads `webcam:` as `/webcam`)
    config = NamespacedParamsFile(LaunchConfiguration("config_file"), LaunchConfiguration("namespace"))
    # The composed executable hosts one node per bridge, so no `name=` here (it would rename all
    # of them). The launch's values go in a params file after config_file, under `/**` and in the
    # config_file sections that set them: a launch dict would apply as `/**` only, which a
    # config_file section such as `proprioception:` overrides (rcl applies `/**` first).
    params = [config]
    if overrides:
        params.append(NodeOverridesFile(overrides, LaunchConfiguration("config_file"),
                                        LaunchConfiguration("namespace")))
    return [Node(package="spot_bow_ros", executable="spot_bow", namespace=LaunchConfiguration("namespace"),
                 output="screen", emulate_tty=True, parameters=params)]


def generate_launch_description():
    rviz = OpaqueFunction(function=_rviz, condition=IfCondition(LaunchConfiguration("rviz")))
    record = OpaqueFunction(function=_bag_record, condition=IfCondition(LaunchConfiguration("record")))
    # refuses password:=, sets CYCLONEDDS_URI (unless set) for all of them, then starts them
    return LaunchDescription(_arguments() + [start_checked([
        OpaqueFunction(function=_robot_model), rviz, record,
    ])])
