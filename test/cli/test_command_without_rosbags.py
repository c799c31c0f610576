"""`spot-bow-ros` commands that need no rosbags (help, the simulator) work without it: the ROS 2
route (colcon build) does not install it, and `ros2 run spot_bow_ros spot-bow-ros sim` must run."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

BLOCK = """
import importlib.abc, runpy, sys
class NoRosbags(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "rosbags" or name.startswith("rosbags."):
            raise ModuleNotFoundError(f"No module named {name!r} (blocked by the test)", name=name)
sys.meta_path.insert(0, NoRosbags())
sys.argv = ["spot-bow-ros", *sys.argv[1:]]
import spot_bow_ros.cli
assert not [m for m in sys.modules if m.startswith("rosbags")]
sys.exit(spot_bow_ros.cli.main(sys.argv[1:]))
"""


def _cli(*argv, **kwargs):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.Popen([sys.executable, "-c", BLOCK, *argv], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kwargs)


def test_help_of_every_command_without_rosbags():
    for argv in ([" --help"], ["run", "--help"], ["sim", "--help"], ["topic", "--help"]):
        proc = _cli(*[a.strip() for a in argv])
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert "usage: spot-bow-ros" in out and "Traceback" not in err


def test_simulator_runs_without_rosbags(tmp_path):
    info = tmp_path / "sim.json"
    proc = _cli("sim", "--info-file", str(info))
    try:
        deadline = time.monotonic() + 60
        while not info.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert info.exists(), proc.stderr.read() if proc.poll() is not None else "no info file"
        time.sleep(0.2)
        assert json.loads(info.read_text())["port"] > 0
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "rosbags" not in err


def test_commands_that_need_rosbags_say_so():
    proc = _cli("topic", "list")
    _, err = proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert "pip install rosbags" in err
