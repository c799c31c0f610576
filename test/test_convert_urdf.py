"""convert/urdf.py: the shipped URDF files are current, well-formed and name the package's joints."""

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from spot_bow_ros.convert.joints import SPOT_ARM_JOINTS, SPOT_LEG_JOINTS, friendly_joint_name
from spot_bow_ros.convert.urdf import URDF_FILES, spot_urdf

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("relative", sorted(URDF_FILES))
def test_shipped_urdf_is_what_the_generator_writes(relative):
    assert (ROOT / relative).read_text() == spot_urdf(URDF_FILES[relative])


def test_gen_urdf_check_passes():
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "gen_urdf.py"), "--check"], capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("arm", [False, True])
def test_moving_joints_are_exactly_the_published_joint_names(arm):
    robot = ET.fromstring(spot_urdf(arm))
    moving = {j.get("name") for j in robot.findall("joint") if j.get("type") != "fixed"}
    expected = {friendly_joint_name(n) for n in SPOT_LEG_JOINTS + (SPOT_ARM_JOINTS if arm else ())}
    assert moving == expected
    fixed = {j.get("name") for j in robot.findall("joint") if j.get("type") == "fixed"}
    assert ("arm_hr0" in fixed) == arm  # the robot reports arm0.hr0 without data: fixed, as spot_description
    links = [link.get("name") for link in robot.findall("link")]
    assert len(links) == len(set(links))
    assert {"body", "base_link", "front_left_foot", "rear_right_lower_leg"} <= set(links)
    assert not {"hand", "odom", "vision", "head"} & set(links)  # frames the robot reports itself


def test_limits_are_real_spot_section_7():
    robot = ET.fromstring(spot_urdf(True))
    limits = {j.get("name"): j.find("limit").attrib for j in robot.findall("joint") if j.find("limit") is not None}
    assert float(limits["front_left_hip_x"]["upper"]) == pytest.approx(0.785398)
    assert float(limits["rear_right_hip_y"]["lower"]) == pytest.approx(-0.898845)
    assert float(limits["front_right_knee"]["upper"]) == pytest.approx(-0.247563)
    assert float(limits["front_left_knee"]["effort"]) == 115
    assert float(limits["arm_sh1"]["effort"]) == pytest.approx(181.8)
    assert float(limits["arm_f1x"]["lower"]) == pytest.approx(-1.5708)
