"""package.xml: what rosdep installs on a headless payload computer."""

import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ET.parse(ROOT / "package.xml").getroot()


def _deps(kind):
    return {e.text for e in PACKAGE.findall(kind)}


def test_gui_and_robot_model_are_optional_and_cv_bridge_is_test_only():
    run = _deps("exec_depend") | _deps("depend")
    assert not run & {"rviz2", "xacro", "robot_state_publisher", "cv_bridge"}
    assert "cv_bridge" in _deps("test_depend")
    assert {"rclpy", "launch_ros", "sensor_msgs", "python3-opencv", "ros2bag", "rosbag2_storage_mcap"} <= run


def test_license_file_matches_package_xml_and_setup_py():
    assert PACKAGE.find("license").text == "Apache-2.0"
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in text and "Version 2.0, January 2004" in text and "END OF TERMS AND CONDITIONS" in text
    assert 'license="Apache-2.0"' in (ROOT / "setup.py").read_text()
