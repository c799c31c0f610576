"""backends/launch_params.py: the params file spot_bow.launch.py writes for its own values
(`NodeOverridesFile`, sections from `launch_actions.overrides_by_section`) gives a node's own
section only what config_file's section for it sets, so the bridges' "does not declare"
warnings are about the user's files (it used to say "'webcam' sets 'sim_info_file', which
node 'webcam' does not declare" for 9 node/parameter pairs)."""

import json
import os
import subprocess
import textwrap
from pathlib import Path

import pytest
import yaml

from spot_bow_ros.backends.launch_actions import overrides_by_section
from spot_bow_ros.nodes.composed import BRIDGES, node_param_specs
from spot_bow_ros.ros.params import load_params_file, unknown_parameter_warnings

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "config" / "spot_bow.yaml"
ROS_ENV_SH = Path(os.environ.get("SPOT_BOW_ROS2_PREFIX", "/opt/ros2-jazzy")) / "env.sh"
#: What `ros2 launch ... sim_info_file:=/tmp/sim.json port:=8443 enable_webcam:=false` sets,
#: with robot_state_publisher running.
LAUNCH_VALUES = {"sim_info_file": "/tmp/sim.json", "port": 8443, "enable_webcam": False, "robot_model": "none"}
DECLARED = {node: [s.name for s in specs] for node, specs in node_param_specs(BRIDGES).items()}


def test_a_node_section_gets_only_what_config_file_sets_there():
    config = yaml.safe_load(SHIPPED.read_text())
    sections = overrides_by_section(LAUNCH_VALUES, config)
    assert sections == {"/**": LAUNCH_VALUES, "spot_bow": {"enable_webcam": False},
                        "proprioception": {"robot_model": "none"}}
    for key, values in sections.items():  # each only where the node declares it
        assert key == "/**" or set(values) <= set(DECLARED[key])
    assert overrides_by_section({"port": 1}, {"webcam": None, "x": {"ros__parameters": None}}) == {"/**": {"port": 1}}


def _overrides_file(overrides, config_file, namespace):
    """The file `NodeOverridesFile(...)` writes, with the real `launch` of ROS 2 Jazzy."""
    if not ROS_ENV_SH.is_file():
        pytest.skip(f"no ROS 2 Jazzy at {ROS_ENV_SH.parent} (NodeOverridesFile is a launch Substitution)")
    code = textwrap.dedent("""
        import json, sys
        from launch import LaunchContext
        from spot_bow_ros.backends.launch_params import NodeOverridesFile
        print(NodeOverridesFile(json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]).perform(LaunchContext()))
    """)
    script = f'source "{ROS_ENV_SH}" >/dev/null && export PYTHONPATH="{ROOT}:$PYTHONPATH" && exec python3 -c "$0" "$@"'
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    proc = subprocess.run(["bash", "-c", script, code, json.dumps(overrides), str(config_file), namespace],
                          capture_output=True, text=True, env=env, timeout=300, cwd="/")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return Path(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("namespace", ["", "robot1"])
def test_the_launch_overrides_file_warns_about_nothing_and_wins(tmp_path, namespace):
    """The bridges' own check finds nothing to warn about in the launch's file, its values win
    over config_file's (also its per-node sections, under a namespace), and a user's real
    mistake still warns."""
    path = _overrides_file(LAUNCH_VALUES, SHIPPED, namespace)
    assert unknown_parameter_warnings(DECLARED, [SHIPPED, path], namespace=namespace) == []
    assert "'none'" in path.read_text()  # quoted: rcl keeps it a string
    for node in ("proprioception", "motor_command"):
        merged = {**load_params_file(SHIPPED, node, namespace), **load_params_file(path, node, namespace)}
        assert merged["sim_info_file"] == "/tmp/sim.json" and merged["port"] == 8443
    proprioception = load_params_file(path, "proprioception", namespace)
    assert proprioception["robot_model"] == "none"  # its section in config/spot_bow.yaml says auto
    mine = tmp_path / "mine.yaml"
    mine.write_text("bow_vision:\n  ros__parameters:\n    sim_info_file: /tmp/sim.json\n")
    assert unknown_parameter_warnings(DECLARED, [path, mine], namespace=namespace) == [
        f"params file {mine}: 'bow_vision' sets 'sim_info_file', which node 'bow_vision' does not declare; ignored"]


def test_an_unreadable_config_file_leaves_the_values_under_the_wildcard(tmp_path):
    path = _overrides_file({"port": 8443}, tmp_path / "missing.yaml", "")
    assert yaml.safe_load(path.read_text()) == {"/**": {"ros__parameters": {"port": 8443}}}
