"""backends/launch_actions.py: what the launch files check before starting anything (the parts that
need no `launch`; the launch files themselves load in test_launch.py when ROS 2 is sourced)."""

import ast
from pathlib import Path

import pytest

from spot_bow_ros.backends.launch_actions import bridges_robot_model, refused_arguments, robot_state_publisher_runs

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("configs, refused", [
    ({}, False), ({"password": ""}, False), ({"username": "admin"}, False),
    ({"password": "hunter2"}, True), ({"username": "admin", "password": "s3cr3t!"}, True),
])
def test_password_argument_is_refused_loudly(configs, refused):
    message = refused_arguments(configs)
    assert bool(message) == refused
    if refused:
        assert "BOSDYN_CLIENT_PASSWORD" in message and "password_file:=" in message and "ros2 param get" in message
        assert configs["password"] not in message


@pytest.mark.parametrize("name", ["spot_bow.launch.py", "image_service.launch.py", "webcam.launch.py"])
def test_every_launch_file_starts_through_start_checked(name):
    """password:= refused and CYCLONEDDS_URI applied before any node starts."""
    tree = ast.parse((ROOT / "launch" / name).read_text())
    ret = [n for n in ast.walk(tree) if isinstance(n, ast.Return)
           and any(getattr(c.func, "id", "") == "LaunchDescription" for c in ast.walk(n) if isinstance(c, ast.Call))]
    assert ret and any(getattr(c.func, "id", "") == "start_checked" for c in ast.walk(ret[0]) if isinstance(c, ast.Call))


@pytest.mark.parametrize("name", ["spot_bow.launch.py", "image_service.launch.py"])
def test_robot_launch_files_take_username_and_password_file(name):
    text = (ROOT / "launch" / name).read_text()
    for arg in ("username", "password_file", "credentials_file"):
        assert f'DeclareLaunchArgument("{arg}"' in text
    assert 'DeclareLaunchArgument("password"' not in text


@pytest.mark.parametrize("requested, installed, runs", [
    ("true", True, True), ("True", True, True), ("1", True, True), ("false", True, False),
    ("0", True, False), ("true", False, False), ("false", False, False),
])
def test_bridges_publish_the_robot_model_unless_robot_state_publisher_runs(requested, installed, runs):
    """robot_state_publisher:=true on a machine without robot_state_publisher: the proprioception
    bridge publishes robot_description and the link TF (robot_model auto), not nobody."""
    asked = []

    def is_installed(package):
        asked.append(package)
        return installed

    assert robot_state_publisher_runs(requested, is_installed) is runs
    assert bridges_robot_model(requested, is_installed) == ("none" if runs else "auto")
    assert set(asked) <= {"robot_state_publisher"}


def test_spot_bow_launch_sets_robot_model_from_what_actually_runs():
    text = (ROOT / "launch" / "spot_bow.launch.py").read_text()
    assert 'overrides["robot_model"] = ParameterValue(BridgesRobotModel(LaunchConfiguration("robot_state_publisher"))' in text
