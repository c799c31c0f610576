"""Every executable says in one line which optional Python module is missing (issue 23, item 3)."""

import subprocess
import sys

import pytest

from spot_bow_ros.launcher import NODES

HIDE = "import sys; sys.modules[{name!r}] = None; sys.argv = [{prog!r}, *sys.argv[1:]]; " \
       "from spot_bow_ros.launcher import {func}; sys.exit({func}())"


def _run(name, prog, func, *args):
    return subprocess.run([sys.executable, "-c", HIDE.format(name=name, prog=prog, func=func), *args],
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("executable", ["spot_bow", "webcam", "spot_cameras", "image_service", "bow_vision"])
def test_a_node_without_opencv_is_one_line(executable):
    assert executable in NODES
    out = _run("cv2", executable, executable)
    assert out.returncode == 1, out.stderr
    assert out.stderr.strip().splitlines() == [
        f"{executable}: the Python module 'cv2' is missing (ROS 2 / Debian: sudo apt install python3-opencv; "
        "pip: pip install opencv-python-headless)"]


def test_the_cli_without_cryptography_is_one_line_and_debug_keeps_the_traceback(tmp_path):
    out = _run("cryptography", "spot-bow-ros", "cli", "sim", "--info-file", str(tmp_path / "sim.json"))
    assert out.returncode != 0
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "cryptography" in lines[0] and "Traceback" not in out.stderr, out.stderr
    debug = _run("cryptography", "spot-bow-ros", "cli", "sim", "--info-file", str(tmp_path / "sim.json"),
                 "--log-level", "debug")
    assert debug.returncode != 0 and "Traceback" in debug.stderr
