"""Launch files and the RViz config parse; with launch_ros installed, every description loads."""

import ast
import importlib.util
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
LAUNCH_FILES = sorted((ROOT / "launch").glob("*.launch.py"))


def test_launch_files_exist():
    assert {p.name for p in LAUNCH_FILES} >= {"spot_bow.launch.py", "webcam.launch.py", "image_service.launch.py"}


@pytest.mark.parametrize("path", LAUNCH_FILES, ids=lambda p: p.name)
def test_launch_file_is_python_with_generate_launch_description(path):
    tree = ast.parse(path.read_text())
    names = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert "generate_launch_description" in names
    declared = {c.args[0].value for c in ast.walk(tree)
                if isinstance(c, ast.Call) and getattr(c.func, "id", "") == "DeclareLaunchArgument"
                and c.args and isinstance(c.args[0], ast.Constant)}
    assert declared, f"{path.name} declares no launch arguments"


def test_spot_bow_launch_declares_the_documented_arguments():
    text = (ROOT / "launch" / "spot_bow.launch.py").read_text()
    for arg in ("hostname", "port", "ca_cert", "credentials_file", "namespace", "config_file", "rviz",
                "record", "bag_path"):
        assert f'"{arg}"' in text
    assert '"-s", "mcap"' in text


@pytest.mark.parametrize("path", LAUNCH_FILES, ids=lambda p: p.name)
def test_launch_description_loads_with_launch_ros(path):
    pytest.importorskip("launch_ros")
    from launch import LaunchDescription

    spec = importlib.util.spec_from_file_location(path.stem.replace(".", "_"), path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    description = module.generate_launch_description()
    assert isinstance(description, LaunchDescription)
    assert description.get_launch_arguments()


def test_rviz_config_shows_cameras_tf_robot_model_and_imu():
    doc = yaml.safe_load((ROOT / "config" / "spot_bow.rviz").read_text())
    displays = doc["Visualization Manager"]["Displays"]
    classes = {d["Class"] for d in displays}
    assert {"rviz_default_plugins/TF", "rviz_default_plugins/RobotModel", "rviz_default_plugins/Image",
            "rviz_imu_plugin/Imu"} <= classes
    topics = {d.get("Topic", {}).get("Value") for d in displays}
    assert "spot/camera/frontleft/image" in topics and "imu" in topics
    assert doc["Visualization Manager"]["Global Options"]["Fixed Frame"] == "odom"
