"""Console-script entry points (setup.py): every executable of the package, guarded.

A console script imports its module before anything runs, so a missing optional dependency
(OpenCV on a ROS 2 machine without python3-opencv, `cryptography` in a venv, ...) would end in an
import traceback. Here it is one line naming the module and how to install it, exit code 1
(`--log-level debug` keeps the traceback).
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable

#: `ros2 run spot_bow_ros <name>` executables and their entry functions (setup.py reads this).
NODES = {
    "spot_bow": "spot_bow_ros.nodes.composed:main",
    "webcam": "spot_bow_ros.nodes.webcam:main",
    "spot_cameras": "spot_bow_ros.nodes.spot_cameras:main",
    "proprioception": "spot_bow_ros.nodes.proprioception:main",
    "motor_command": "spot_bow_ros.nodes.motor_command:main",
    "image_service": "spot_bow_ros.nodes.image_service:main",
    "bow_vision": "spot_bow_ros.nodes.bow_vision:main",
}
#: The `spot-bow-ros` command.
CLI = "spot_bow_ros.cli:main"

#: How to install a missing module, by its top-level name: (ROS 2 / apt, pip).
INSTALL = {
    "cv2": ("sudo apt install python3-opencv", "pip install opencv-python-headless"),
    "cryptography": ("sudo apt install python3-cryptography", "pip install cryptography"),
    "yaml": ("sudo apt install python3-yaml", "pip install pyyaml"),
    "numpy": ("sudo apt install python3-numpy", "pip install numpy"),
    "grpc": ("sudo apt install python3-grpcio", "pip install grpcio"),
    "google": ("sudo apt install python3-protobuf", "pip install protobuf"),
    "bosdyn": (None, "pip install bosdyn-client"),
    "rosbags": (None, "pip install rosbags (standalone runtime; with ROS 2 use ros2 bag / ros2 topic)"),
    "cyclonedds": (None, "pip install cyclonedds (standalone runtime)"),
    "foxglove": (None, "pip install foxglove-sdk"),
    "rclpy": ("source your ROS 2 setup.bash", None),
}


def missing_module_line(exc: ModuleNotFoundError, prog: str) -> str:
    """The one line for a missing module: which, and how to install it."""
    name = exc.name or str(exc)
    apt, pip = INSTALL.get(name.split(".")[0], (None, None))
    how = "; ".join(h for h in (apt and f"ROS 2 / Debian: {apt}", pip and f"pip: {pip}") if h)
    return f"{prog}: the Python module '{name}' is missing ({how or 'install it'})"


def _debug(argv: list[str]) -> bool:
    return any(a.lower() == "debug" or a.lower().endswith("=debug") for a in argv) and "--log-level" in " ".join(argv)


def entry(target: str) -> Callable[[], int]:
    """A console-script function running `module:function`, guarded as the module docstring says."""
    module_name, func = target.split(":")

    def main() -> int:
        try:  # imports at start-up and the ones a command makes when it needs them
            return getattr(importlib.import_module(module_name), func)()
        except ModuleNotFoundError as exc:
            if not exc.name or exc.name.split(".")[0] == "spot_bow_ros" or _debug(sys.argv[1:]):
                raise
            print(missing_module_line(exc, os.path.basename(sys.argv[0]) or module_name), file=sys.stderr)
            return 1

    main.__name__ = main.__qualname__ = func
    return main


cli = entry(CLI)
globals().update({name: entry(target) for name, target in NODES.items()})
