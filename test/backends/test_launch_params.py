"""backends/launch_params.py: the params file spot_bow.launch.py writes for its own values
(`NodeOverridesFile`, fed by `launch_actions.overrides_by_node`) gives each node only the
parameters it declares, so the bridges' "does not declare" warnings are about the user's files."""

import json
import os
import subprocess
import textwrap
from pathlib import Path

import pytest

from spot_bow_ros.backends.launch_actions import overrides_by_node
from spot_bow_ros.nodes.composed import BRIDGES, enabled_bridges, node_param_specs
from spot_bow_ros.ros.params import load_params_file, unknown_parameter_warnings

ROOT = Path(__file__).resolve().parents[2]
ROS_ENV_SH = Path(os.environ.get("SPOT_BOW_ROS2_PREFIX", "/opt/ros2-jazzy")) / "env.sh"
#: What `ros2 launch spot_bow.launch.py sim_info_file:=... enable_webcam:=false` sets with
#: robot_state_publisher running.
LAUNCH_VALUES = {"sim_info_file": "/tmp/sim.json", "port": 8443, "enable_webcam": False, "robot_model": "none"}


def _declared(overrides):
    """Node -> declared parameter names, for the nodes a process with `overrides` has."""
    return {node: [s.name for s in specs] for node, specs in node_param_specs(enabled_bridges(overrides)).items()}


def test_each_node_gets_only_the_launch_values_it_declares():
    by_node = overrides_by_node(LAUNCH_VALUES, _declared(LAUNCH_VALUES))
    assert by_node["spot_bow"] == {"enable_webcam": False}
    assert by_node["proprioception"] == {"sim_info_file": "/tmp/sim.json", "port": 8443, "robot_model": "none"}
    for robot_bridge in ("spot_cameras", "motor_command", "image_service"):
        assert by_node[robot_bridge] == {"sim_info_file": "/tmp/sim.json", "port": 8443}
    assert "bow_vision" not in by_node  # declares none of them: no section at all
    assert "webcam" not in by_node  # turned off: not a node of the process
    assert overrides_by_node({}, _declared({})) == {}


def _overrides_file(by_node, namespace):
    """The file `NodeOverridesFile(by_node, namespace)` writes, with the real `launch` of ROS 2 Jazzy."""
    if not ROS_ENV_SH.is_file():
        pytest.skip(f"no ROS 2 Jazzy at {ROS_ENV_SH.parent} (NodeOverridesFile is a launch Substitution)")
    code = textwrap.dedent("""
        import json, sys
        from launch import LaunchContext
        from spot_bow_ros.backends.launch_params import NodeOverridesFile
        print(NodeOverridesFile(json.loads(sys.argv[1]), sys.argv[2]).perform(LaunchContext()))
    """)
    script = f'source "{ROS_ENV_SH}" >/dev/null && export PYTHONPATH="{ROOT}:$PYTHONPATH" && exec python3 -c "$0" "$@"'
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    proc = subprocess.run(["bash", "-c", script, code, json.dumps(by_node), namespace],
                          capture_output=True, text=True, env=env, timeout=300, cwd="/")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return Path(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("namespace", ["", "robot1"])
def test_the_launch_overrides_file_warns_about_nothing_and_reaches_the_nodes(tmp_path, namespace):
    """The bridges' own check finds nothing to warn about in the launch's file (it used to say
    "'webcam' sets 'sim_info_file', which node 'webcam' does not declare" 9 times), each node
    reads its values from it under the namespace, and a user's real mistake still warns."""
    declared = _declared(LAUNCH_VALUES)
    path = _overrides_file(overrides_by_node(LAUNCH_VALUES, declared), namespace)
    assert unknown_parameter_warnings(declared, [path], namespace=namespace) == []
    proprioception = load_params_file(path, "proprioception", namespace)
    assert proprioception == {"sim_info_file": "/tmp/sim.json", "port": 8443, "robot_model": "none"}
    assert load_params_file(path, "bow_vision", namespace) == {}
    assert "'none'" in path.read_text()  # quoted: rcl keeps it a string
    mine = tmp_path / "mine.yaml"
    mine.write_text("bow_vision:\n  ros__parameters:\n    sim_info_file: /tmp/sim.json\n")
    assert unknown_parameter_warnings(declared, [path, mine], namespace=namespace) == [
        f"params file {mine}: 'bow_vision' sets 'sim_info_file', which node 'bow_vision' does not declare; ignored"]
