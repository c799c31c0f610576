"""Launch-file support (ROS 2 `launch` needed at call time): checks and settings every
spot_bow_ros launch file applies before it starts anything.

    return LaunchDescription(arguments + [start_checked([bridges, rviz, ...])])

- `password:=` is refused loudly (a ROS parameter can be read back with `ros2 param get`): the
  password comes from BOSDYN_CLIENT_PASSWORD or `password_file:=`. `username:=` is accepted.
- CYCLONEDDS_URI points at the package's Cyclone tuning for every process of the launch
  (the bridges, RViz, ros2 bag) unless the user set it; one log line says which is used.
- `passed_overrides`: connection and `enable_*` arguments become parameters only when the user
  passed them, so a default never overrides the `config_file`.
- `optional_package(name)`: RViz, xacro and robot_state_publisher are not dependencies of the
  package (a headless payload needs none of them); launch files check before starting them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..standalone.cyclone_config import shipped_config_choice

#: Launch arguments refused with the reason, checked before any process starts.
REFUSED_ARGUMENTS = {
    "password": ("password:= is refused: a ROS parameter can be read back by anyone with `ros2 param get`. "
                 "Export BOSDYN_CLIENT_PASSWORD before `ros2 launch`, or pass password_file:=FILE "
                 "(the password on its first line)"),
}


#: Launch arguments that become parameters of the bridges only when the user passes them, with
#: their parameter name and type (an argument left at '' keeps config_file's value, else the
#: node's default).
PASSED_ONLY = {
    "hostname": ("hostname", str), "port": ("port", int), "ca_cert": ("ca_cert", str),
    "username": ("username", str), "password_file": ("password_file", str),
    "credentials_file": ("payload_credentials_file", str), "sim_info_file": ("sim_info_file", str),
    "frame_prefix": ("frame_prefix", str),
}


def passed_overrides(values: dict[str, str], bridges: tuple[str, ...] = ()) -> dict[str, Any]:
    """The parameters the user set through launch arguments: `values` maps an argument name to
    its text ('' when not passed); `enable_<bridge>` arguments count for `bridges`.

    Only non-empty values are returned, so a launch argument the user did not pass never
    overrides the `config_file` (ValueError for a value of the wrong type)."""
    out: dict[str, Any] = {}
    for arg, (param, kind) in PASSED_ONLY.items():
        text = values.get(arg, "").strip()
        if text:
            try:
                out[param] = kind(text)
            except ValueError:
                raise ValueError(f"launch argument {arg}:={text!r} is not a valid {kind.__name__}") from None
    for bridge in bridges:
        text = values.get(f"enable_{bridge}", "").strip().lower()
        if text:
            if text not in ("true", "false", "1", "0"):
                raise ValueError(f"launch argument enable_{bridge}:={text!r} is not true or false")
            out[f"enable_{bridge}"] = text in ("true", "1")
    return out


def refused_arguments(configurations: Mapping[str, Any]) -> str | None:
    """The refusal message when a refused argument was given (non-empty), else None."""
    for name, reason in REFUSED_ARGUMENTS.items():
        if str(configurations.get(name, "") or ""):
            return reason
    return None


def optional_package(name: str) -> bool:
    """True when ROS 2 package `name` is installed (in the ament index)."""
    from ament_index_python.packages import PackageNotFoundError, get_package_share_directory

    try:
        get_package_share_directory(name)
    except (PackageNotFoundError, ValueError):
        return False
    return True


def robot_state_publisher_runs(requested: str, installed: Callable[[str], bool] = optional_package) -> bool:
    """Whether spot_bow.launch.py starts robot_state_publisher: `robot_state_publisher:=true`
    (or 1) and the package installed."""
    return str(requested).strip().lower() in ("true", "1") and installed("robot_state_publisher")


def bridges_robot_model(requested: str, installed: Callable[[str], bool] = optional_package) -> str:
    """The bridges' `robot_model` in spot_bow.launch.py: `none` when robot_state_publisher runs
    (it publishes robot_description and the link TF), else `auto` (the proprioception bridge
    does, also when robot_state_publisher was asked for but is not installed)."""
    return "none" if robot_state_publisher_runs(requested, installed) else "auto"


def cyclone_dds_actions(context: Any) -> list:
    """[SetEnvironmentVariable(CYCLONEDDS_URI -> shipped tuning)] unless the user set it, and the
    one log line that says which configuration the launched processes use."""
    from launch.actions import LogInfo, SetEnvironmentVariable

    value, line = shipped_config_choice(dict(context.environment))
    actions: list = [LogInfo(msg=f"spot_bow_ros: {line}")]
    if value is not None:
        actions.insert(0, SetEnvironmentVariable("CYCLONEDDS_URI", value))
    return actions


def start_checked(actions: Iterable[Any]) -> Any:
    """An OpaqueFunction that refuses bad arguments (error line + shutdown, nothing started),
    else applies the Cyclone configuration and then hands launch `actions`."""
    from launch.actions import OpaqueFunction, Shutdown
    from launch.logging import get_logger

    actions = list(actions)

    def run(context: Any, *args: Any, **kwargs: Any) -> list:
        problem = refused_arguments(context.launch_configurations)
        if problem:
            get_logger("spot_bow_ros").error(problem)
            return [Shutdown(reason=problem)]
        return cyclone_dds_actions(context) + actions

    return OpaqueFunction(function=run)
