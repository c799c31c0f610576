"""Launch-file support (ROS 2 `launch` needed at call time): checks and settings every
spot_bow_ros launch file applies before it starts anything.

    return LaunchDescription(arguments + [start_checked([bridges, rviz, ...])])

- `password:=` is refused loudly (a ROS parameter can be read back with `ros2 param get`): the
  password comes from BOSDYN_CLIENT_PASSWORD or `password_file:=`. `username:=` is accepted.
- CYCLONEDDS_URI points at the package's Cyclone tuning for every process of the launch
  (the bridges, RViz, ros2 bag) unless the user set it; one log line says which is used.
- `passed_overrides`: connection and `enable_*` arguments become parameters only when the user
  passed them, so a default never overrides the `config_file`; a passed one wins over it, also
  over its per-node sections (`launch_params.NodeOverridesFile`, `overrides_by_section`).
- `optional_package(name)`: RViz, xacro and robot_state_publisher are not dependencies of the
  package (a headless payload needs none of them); launch files check before starting them.
- `robot_description`: the URDF robot_state_publisher starts with, or the one line saying why it
  does not start; the bridges' `robot_model` becomes `none` only when it does (else nobody would
  publish the link TF).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from ..standalone.cyclone_config import shipped_config_choice

if TYPE_CHECKING:  # ROS 2 `launch` (imported when a launch file runs) has no type information: Any to mypy
    from launch.action import Action
    from launch.actions import OpaqueFunction
    from launch.launch_context import LaunchContext

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


def overrides_by_section(overrides: Mapping[str, Any], config: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """`overrides` (the launch's own parameters) as params-file sections: all of them under `/**`,
    and under each per-node section of `config` (config_file's mapping) only those that section
    sets. Listed after config_file they win over it (rcl: the later file's value for a key, and
    `/**` before a node's own section), and no node gets a value in a section of its own that
    config_file did not give it: the launch's file causes no "does not declare" warning, so such
    a warning always points at the user's own params file (the nodes' ParamSpec lists are not
    imported here: they need bosdyn and OpenCV, which `ros2 launch`'s Python may not have)."""
    out: dict[str, dict[str, Any]] = {"/**": dict(overrides)}
    for key, section in config.items():
        params = section.get("ros__parameters") if isinstance(section, dict) else None
        if str(key) in ("/**", "**") or not isinstance(params, dict):
            continue
        mine = {name: value for name, value in overrides.items() if name in params}
        if mine:
            out[str(key)] = mine
    return out


def refused_arguments(configurations: Mapping[str, Any]) -> str | None:
    """The refusal message when a refused argument was given (non-empty), else None."""
    for name, reason in REFUSED_ARGUMENTS.items():
        if str(configurations.get(name, "") or ""):
            return reason
    return None


def package_share(name: str) -> str | None:
    """The share directory of ROS 2 package `name` (ament index), None when it is not installed."""
    from ament_index_python.packages import PackageNotFoundError, get_package_share_directory

    try:
        return str(get_package_share_directory(name))
    except (PackageNotFoundError, ValueError):
        return None


def optional_package(name: str) -> bool:
    """True when ROS 2 package `name` is installed (in the ament index)."""
    return package_share(name) is not None


#: Said after the reason when robot_state_publisher is asked for but does not start.
BRIDGES_PUBLISH_MODEL = ("no robot_state_publisher; the proprioception bridge publishes robot_description "
                         "and the link TF (robot_model as configured)")


def expand_xacro(path: str, arm: bool) -> str:
    """The URDF text of xacro file `path` (`arm` mapping); ImportError without xacro."""
    import xacro

    return str(xacro.process_file(path, mappings={"arm": "true" if arm else "false"}).toxml())


class RobotDescription(NamedTuple):
    """What spot_bow.launch.py does about the robot model: `urdf` is the robot_description
    robot_state_publisher starts with (None: it does not start, the bridges keep their
    `robot_model`); `reason` is the one line saying why it was asked for but not started."""

    urdf: str | None
    reason: str | None = None


def robot_description(requested: str, arm: bool, package: str = "", *,
                      share: Callable[[str], str | None] = package_share,
                      xacro: Callable[[str, bool], str] = expand_xacro) -> RobotDescription:
    """The robot_description for robot_state_publisher with `robot_state_publisher:=requested`:
    the URDF shipped in spot_bow_ros (urdf/spot_with_arm.urdf or urdf/spot.urdf after `arm`), or
    `package`'s urdf/spot.urdf.xacro (expanded with xacro) or urdf/spot.urdf. No URDF when not
    requested, or (with the reason) when robot_state_publisher, the package, its URDF or xacro
    is missing: the bridges' robot_model is `none` only when this returns a URDF."""
    if str(requested).strip().lower() not in ("true", "1"):
        return RobotDescription(None)

    def missing(why: str) -> RobotDescription:
        return RobotDescription(None, f"robot_state_publisher:=true but {why}: {BRIDGES_PUBLISH_MODEL}")

    if share("robot_state_publisher") is None:
        return missing("robot_state_publisher is not installed (apt install ros-$ROS_DISTRO-robot-state-publisher)")
    owner = package or "spot_bow_ros"
    root = share(owner)
    if root is None:
        return missing(f"package {owner} is not installed")
    candidates = ["urdf/spot.urdf.xacro", "urdf/spot.urdf"] if package else [
        "urdf/spot_with_arm.urdf" if arm else "urdf/spot.urdf"]
    path = next((os.path.join(root, c) for c in candidates if os.path.isfile(os.path.join(root, c))), None)
    if path is None:
        return missing(f"{owner} has no {' or '.join(candidates)} (in {root})")
    try:
        if path.endswith(".xacro"):
            return RobotDescription(xacro(path, arm))
        with open(path, encoding="utf-8") as f:
            return RobotDescription(f.read())
    except ImportError:
        return missing(f"xacro is not installed (apt install ros-$ROS_DISTRO-xacro) to expand {path}")
    except (OSError, UnicodeDecodeError) as exc:
        return missing(f"{path} cannot be read ({exc})")


def cyclone_dds_actions(context: LaunchContext) -> list[Action]:
    """[SetEnvironmentVariable(CYCLONEDDS_URI -> shipped tuning)] unless the user set it, and the
    one log line that says which configuration the launched processes use."""
    from launch.actions import LogInfo, SetEnvironmentVariable

    value, line = shipped_config_choice(dict(context.environment))
    actions: list[Action] = [LogInfo(msg=f"spot_bow_ros: {line}")]
    if value is not None:
        actions.insert(0, SetEnvironmentVariable("CYCLONEDDS_URI", value))
    return actions


def start_checked(actions: Iterable[Action]) -> OpaqueFunction:
    """An OpaqueFunction that refuses bad arguments (error line + shutdown, nothing started),
    else applies the Cyclone configuration and then hands launch `actions`."""
    from launch.actions import OpaqueFunction, Shutdown
    from launch.logging import get_logger

    actions = list(actions)

    def run(context: LaunchContext, *args: Any, **kwargs: Any) -> list[Action]:
        problem = refused_arguments(context.launch_configurations)
        if problem:
            get_logger("spot_bow_ros").error(problem)
            return [Shutdown(reason=problem)]
        return cyclone_dds_actions(context) + actions

    return OpaqueFunction(function=run)
