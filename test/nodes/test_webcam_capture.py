"""`camera_info_url` resolution (nodes/webcam_capture.py, `calibration_path`): package:// URLs through
the real ament_index_python of /opt/ros2-jazzy; every lookup failure is one CaptureError line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from spot_bow_ros.nodes.webcam_capture import CaptureError, calibration_path

ROS_PREFIX = Path("/opt/ros2-jazzy/install")
AMENT_INDEX = next(iter(sorted(ROS_PREFIX.glob("lib/python3*/site-packages/ament_index_python"))), None)
REPO = Path(__file__).resolve().parents[2]

RESOLVE = """
import json, sys
from spot_bow_ros.nodes.webcam_capture import CaptureError, calibration_path
out = []
for url in sys.argv[1:]:
    try:
        out.append(["path", str(calibration_path(url))])
    except CaptureError as exc:
        out.append(["error", str(exc)])
print(json.dumps(out))
"""


def resolve(tmp_path: Path, urls: list[str], ament_prefix: str | None) -> list[list[str]]:
    """calibration_path() of each URL in a child process that imports only ament_index_python
    from the ROS install (nothing else of ROS)."""
    (tmp_path / "ament_index_python").symlink_to(AMENT_INDEX)
    env = {k: v for k, v in os.environ.items() if k != "AMENT_PREFIX_PATH"}
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), str(REPO)])
    if ament_prefix is not None:
        env["AMENT_PREFIX_PATH"] = ament_prefix
    out = subprocess.run([sys.executable, "-c", RESOLVE, *urls], env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_file_and_plain_paths():
    assert calibration_path("file:///tmp/cal%20one.yaml") == Path("/tmp/cal one.yaml")
    assert calibration_path("~/cal.yaml") == Path(os.path.expanduser("~/cal.yaml"))
    with pytest.raises(CaptureError, match=r"only file://, package:// or a path are supported"):
        calibration_path("http://example.invalid/cal.yaml")


@pytest.mark.skipif(AMENT_INDEX is None, reason=f"no ament_index_python under {ROS_PREFIX}")
def test_package_urls_through_ament_index(tmp_path):
    got = resolve(tmp_path, ["package://rclpy/cal/x.yaml", "package://no_such_pkg/x.yaml",
                             "package://bad name!/x.yaml"], str(ROS_PREFIX))
    assert got[0] == ["path", str(ROS_PREFIX / "share" / "rclpy" / "cal" / "x.yaml")]
    assert got[1][0] == "error"
    assert got[1][1].startswith("camera_info_url 'package://no_such_pkg/x.yaml': package 'no_such_pkg' not found")
    assert got[2][0] == "error" and "package 'bad name!' not found" in got[2][1]


@pytest.mark.skipif(AMENT_INDEX is None, reason=f"no ament_index_python under {ROS_PREFIX}")
def test_package_url_without_a_sourced_ros(tmp_path):
    """No AMENT_PREFIX_PATH (ament_index_python raises EnvironmentError): one CaptureError line."""
    got = resolve(tmp_path, ["package://rclpy/x.yaml"], None)
    assert got[0][0] == "error"
    assert got[0][1].startswith("camera_info_url 'package://rclpy/x.yaml': package 'rclpy' not found (")
    assert "\n" not in got[0][1]
