"""backends/launch_actions.py: what the launch files check before starting anything, and which
robot model spot_bow.launch.py starts (its description evaluated with the real ROS 2 `launch`)."""

import ast
import json
import os
import subprocess
import textwrap
from pathlib import Path

import pytest

from spot_bow_ros.backends.launch_actions import refused_arguments, robot_description

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


def _shares(tmp_path, packages, files=()):
    """A fake ament index for `robot_description`: `packages` installed under tmp_path/<name>,
    with `files` ("pkg/urdf/x.urdf") written (each holding its own path)."""
    for rel in files:
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"<robot name='{rel}'/>")
    return lambda name: str(tmp_path / name) if name in packages else None


def _no_xacro(path, arm):
    raise ImportError("No module named 'xacro'")


@pytest.mark.parametrize("arm, urdf", [(True, "spot_with_arm.urdf"), (False, "spot.urdf")])
def test_robot_description_is_the_shipped_urdf(tmp_path, arm, urdf):
    share = _shares(tmp_path, {"robot_state_publisher", "spot_bow_ros"},
                    ["spot_bow_ros/urdf/spot.urdf", "spot_bow_ros/urdf/spot_with_arm.urdf"])
    assert robot_description("true", arm, share=share) == (f"<robot name='spot_bow_ros/urdf/{urdf}'/>", None)
    assert robot_description("false", arm, share=share) == (None, None)  # not asked for: no line either


def test_robot_description_of_another_package_prefers_its_xacro(tmp_path):
    share = _shares(tmp_path, {"robot_state_publisher", "spot_description"},
                    ["spot_description/urdf/spot.urdf.xacro", "spot_description/urdf/spot.urdf"])
    expanded = []
    model = robot_description("1", False, "spot_description", share=share,
                              xacro=lambda path, arm: expanded.append((path, arm)) or "<robot name='x'/>")
    assert model == ("<robot name='x'/>", None)
    assert expanded == [(str(tmp_path / "spot_description/urdf/spot.urdf.xacro"), False)]


@pytest.mark.parametrize("packages, files, package, why", [
    ({"spot_bow_ros"}, ["spot_bow_ros/urdf/spot_with_arm.urdf"], "", "robot_state_publisher is not installed"),
    ({"robot_state_publisher", "spot_bow_ros"}, ["spot_bow_ros/urdf/spot.urdf"], "",
     "spot_bow_ros has no urdf/spot_with_arm.urdf"),
    ({"robot_state_publisher"}, [], "", "package spot_bow_ros is not installed"),
    ({"robot_state_publisher", "spot_bow_ros"}, [], "spot_description", "package spot_description is not installed"),
    ({"robot_state_publisher", "spot_description"}, ["spot_description/package.xml"], "spot_description",
     "spot_description has no urdf/spot.urdf.xacro or urdf/spot.urdf"),
    ({"robot_state_publisher", "spot_description"}, ["spot_description/urdf/spot.urdf.xacro"], "spot_description",
     "xacro is not installed"),
])
def test_without_a_robot_description_the_bridges_keep_publishing_the_model(tmp_path, packages, files, package, why):
    """robot_state_publisher:=true but no URDF can be produced: no robot_description (so the
    launch keeps the bridges' robot_model), and one line with the reason."""
    model = robot_description("true", True, package, share=_shares(tmp_path, packages, files), xacro=_no_xacro)
    assert model.urdf is None
    assert model.reason.startswith("robot_state_publisher:=true but " + why)
    assert model.reason.endswith("the proprioception bridge publishes robot_description and the link TF "
                                 "(robot_model as configured)")
    assert "\n" not in model.reason


# -- the launch description itself, with the real `launch` of a ROS 2 Jazzy ----------------------
ROS_ENV_SH = Path(os.environ.get("SPOT_BOW_ROS2_PREFIX", "/opt/ros2-jazzy")) / "env.sh"
#: Loads spot_bow.launch.py, sets the launch arguments (argv[2], JSON), runs its OpaqueFunctions and
#: prints the nodes it starts (package, evaluated parameters) and the lines it logs, as JSON.
DESCRIBE = textwrap.dedent("""
    import importlib.util, json, sys
    import yaml
    from launch import LaunchContext
    from launch.actions import DeclareLaunchArgument, LogInfo, OpaqueFunction, SetEnvironmentVariable
    from launch.utilities import perform_substitutions
    from launch_ros.actions import Node
    from launch_ros.utilities import evaluate_parameters

    spec = importlib.util.spec_from_file_location("launch_file", sys.argv[1])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    context = LaunchContext()
    context.launch_configurations.update(json.loads(sys.argv[2]))
    out = {"nodes": [], "lines": []}

    def visit(entities):
        for entity in entities:
            if getattr(entity, "condition", None) is not None and not entity.condition.evaluate(context):
                continue
            if isinstance(entity, (DeclareLaunchArgument, OpaqueFunction, SetEnvironmentVariable)):
                visit(entity.execute(context) or [])
            elif isinstance(entity, LogInfo):
                out["lines"].append(perform_substitutions(context, entity.msg))
            elif isinstance(entity, Node):
                params, sections = {}, {}
                for item in evaluate_parameters(context, entity._Node__parameters):
                    if isinstance(item, dict):
                        params.update(item)
                    else:  # a params file: rcl merges sections by key, in order of first appearance
                        for key, section in (yaml.safe_load(open(item)) or {}).items():
                            sections.setdefault(key, {}).update(section.get("ros__parameters", {}))
                # what node /proprioception gets: `/**` (and dicts) first, then its own section
                proprioception = dict(params)
                for key, values in sections.items():
                    if key in ("/**", "proprioception", "/proprioception"):
                        proprioception.update(values)
                out["nodes"].append([entity.node_package, params, proprioception])
    visit(module.generate_launch_description().entities)
    print(json.dumps(out))
""")


def _describe_launch(tmp_path, arguments, shipped_urdf=True):
    """spot_bow.launch.py's nodes (package -> launch dict parameters), the parameters the
    proprioception bridge ends up with (params files merged as rcl does: `/**` before its own
    section, later files over earlier ones) and the lines it logs, with `arguments`; spot_bow_ros
    registered in a scratch ament prefix (with or without its URDF) before the ROS 2 Jazzy one."""
    if not ROS_ENV_SH.is_file():
        pytest.skip(f"no ROS 2 Jazzy at {ROS_ENV_SH.parent} (its `launch` loads the launch file)")
    prefix = tmp_path / "prefix"
    (prefix / "share/ament_index/resource_index/packages").mkdir(parents=True)
    (prefix / "share/ament_index/resource_index/packages/spot_bow_ros").write_text("")
    (prefix / "share/spot_bow_ros/config").mkdir(parents=True)
    if shipped_urdf:
        (prefix / "share/spot_bow_ros/urdf").symlink_to(ROOT / "urdf")
    arguments = {"config_file": str(ROOT / "config" / "spot_bow.yaml"), **arguments}
    script = (f'source "{ROS_ENV_SH}" >/dev/null && export AMENT_PREFIX_PATH="{prefix}:$AMENT_PREFIX_PATH" '
              f'PYTHONPATH="{ROOT}:$PYTHONPATH" && exec python3 -c "$0" "$@"')
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    proc = subprocess.run(["bash", "-c", script, DESCRIBE, str(ROOT / "launch" / "spot_bow.launch.py"),
                           json.dumps(arguments)], capture_output=True, text=True, env=env, timeout=300,
                          cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    nodes = {package: params for package, params, _ in out["nodes"]}
    proprioception = next(p for package, _, p in out["nodes"] if package == "spot_bow_ros")
    return nodes, proprioception, out["lines"]


def test_launch_starts_robot_state_publisher_and_sets_robot_model_none(tmp_path):
    """robot_model none reaches the proprioception bridge although config/spot_bow.yaml's
    `proprioception:` section says auto (a launch dict, applied as `/**`, would lose to it)."""
    nodes, proprioception, lines = _describe_launch(tmp_path, {"robot_state_publisher": "true", "arm": "false",
                                                               "port": "8443"})
    assert set(nodes) == {"spot_bow_ros", "robot_state_publisher"}
    assert nodes["robot_state_publisher"]["robot_description"] == (ROOT / "urdf" / "spot.urdf").read_text()
    assert proprioception["robot_model"] == "none" and proprioception["port"] == 8443
    assert proprioception["tf_root"] == "odom"  # the rest of its section still applies
    assert not [line for line in lines if "robot_state_publisher" in line]


@pytest.mark.parametrize("arguments, shipped_urdf, why", [
    ({"robot_description_package": "no_such_description"}, True, "package no_such_description is not installed"),
    ({}, False, "spot_bow_ros has no urdf/spot_with_arm.urdf"),
])
def test_launch_without_a_urdf_keeps_the_bridges_robot_model(tmp_path, arguments, shipped_urdf, why):
    """robot_state_publisher:=true (the default) and installed, but no URDF: no
    robot_state_publisher, robot_model not overridden (the bridges publish the link TF), one line."""
    nodes, proprioception, lines = _describe_launch(tmp_path, arguments, shipped_urdf)
    assert set(nodes) == {"spot_bow_ros"}
    assert proprioception["robot_model"] == "auto"  # config/spot_bow.yaml's
    said = [line for line in lines if "robot_state_publisher" in line]
    assert len(said) == 1 and said[0].startswith(f"spot_bow_ros: robot_state_publisher:=true but {why}")
    assert said[0].endswith("the proprioception bridge publishes robot_description and the link TF "
                            "(robot_model as configured)")


def test_launch_without_robot_state_publisher_asked_for_says_nothing_about_it(tmp_path):
    nodes, proprioception, lines = _describe_launch(tmp_path, {"robot_state_publisher": "false"})
    assert set(nodes) == {"spot_bow_ros"} and proprioception["robot_model"] == "auto"
    assert not [line for line in lines if "robot_state_publisher" in line]
