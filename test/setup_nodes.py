"""Test helper: the console scripts of setup.py (`ros2 run spot_bow_ros <name>`), read without running it
(setup.py takes them from spot_bow_ros/launcher.py)."""

import ast
from pathlib import Path

_tree = ast.parse((Path(__file__).resolve().parents[1] / "spot_bow_ros" / "launcher.py").read_text())
NODES: dict[str, str] = next(
    ast.literal_eval(n.value) for n in _tree.body
    if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "NODES")
