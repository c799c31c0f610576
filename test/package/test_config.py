"""The shipped params files and docs/parameters.md match what the nodes declare."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from spot_bow_ros.nodes.composed import BRIDGES, COMPOSED_PARAMS, NODE_NAME, composed_builders, enabled_bridges
from spot_bow_ros.ros.params import ParameterError, load_params_file
from spot_bow_ros.spot.connection_config import CONNECTION_PARAMS

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "config"


def _specs_for(node_name):
    if node_name == NODE_NAME:
        return {s.name: s for s in COMPOSED_PARAMS}
    bridge = next(b for b in BRIDGES if b.name == node_name)
    specs = {s.name: s for s in bridge.param_specs()}
    if bridge.uses_robot:
        specs.update({s.name: s for s in CONNECTION_PARAMS})
    return specs


def test_generated_files_are_up_to_date():
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "gen_config.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", sorted(CONFIG.glob("*.yaml")), ids=lambda p: p.name)
def test_every_value_is_a_declared_parameter_of_the_right_type(path):
    doc = yaml.safe_load(path.read_text())
    nodes = [k for k in doc if k != "/**"]
    assert nodes, f"{path.name} names no node"
    for node_name in nodes:
        specs = _specs_for(node_name)
        values = load_params_file(path, node_name)
        own = doc[node_name]["ros__parameters"]
        for name in own:
            assert name in specs, f"{path.name}: {node_name}.{name} is not declared by the node"
        for name, value in values.items():
            if name in specs:
                assert specs[name].validate(value) == value or isinstance(value, int)


def test_every_parameter_has_a_description_and_appears_in_the_composed_config():
    text = (CONFIG / "spot_bow.yaml").read_text()
    for bridge in BRIDGES:
        for spec in bridge.param_specs():
            assert spec.description.strip(), f"{bridge.name}.{spec.name} has no description"
            assert f"    {spec.name}:" in text, f"{bridge.name}.{spec.name} missing from spot_bow.yaml"
    reference = (ROOT / "docs" / "parameters.md").read_text()
    for spec in [*CONNECTION_PARAMS, *COMPOSED_PARAMS, *(s for b in BRIDGES for s in b.param_specs())]:
        assert f"| `{spec.name}` |" in reference, f"{spec.name} missing from docs/parameters.md"
    assert "| parameter |" not in (ROOT / "README.md").read_text()  # the README links the reference


def test_enable_flags_choose_the_bridges():
    assert [b.name for b in enabled_bridges({})] == [b.name for b in BRIDGES]
    names = [n for n, _ in composed_builders({"enable_webcam": False, "enable_motor_command": False})]
    assert names == [NODE_NAME, "spot_cameras", "proprioception", "image_service", "bow_vision"]
    with pytest.raises(ParameterError, match="enable_webcam"):
        enabled_bridges({"enable_webcam": "yes"})
