"""convert/urdf.py: the shipped URDF files are current, well-formed and name the package's joints."""

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from spot_bow_ros.convert.joints import friendly_joint_name
from spot_bow_ros.convert.spot_catalogue import SPOT_ARM_JOINTS, SPOT_LEG_JOINTS
from spot_bow_ros.convert.urdf import URDF_FILES, spot_urdf

ROOT = Path(__file__).resolve().parents[2]


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
    assert float(limits["arm_f1x"]["lower"]) == -1.57  # spot_description's arm macro (BD's URDF: -1.5708)


@pytest.mark.parametrize("leg", ["front_left", "front_right", "rear_left", "rear_right"])
def test_feet_have_spot_description_names_and_positions(leg):
    """spot_description (docs/spot_facts.md): `<leg>_foot` 0.35 m down the lower leg through the
    fixed joint `<leg>_ankle` (feet:=true), `<leg>_foot_center` 0.3365 m down (the foot sphere's
    centre, where the package draws the sphere)."""
    robot = ET.fromstring(spot_urdf(True))
    joints = {j.get("name"): j for j in robot.findall("joint")}
    ankle = joints[f"{leg}_ankle"]
    assert ankle.get("type") == "fixed"
    assert (ankle.find("parent").get("link"), ankle.find("child").get("link")) == (f"{leg}_lower_leg", f"{leg}_foot")
    assert _floats(ankle.find("origin").get("xyz"), 3) == [0, 0, -0.35]
    centre = next(j for j in joints.values() if j.find("child").get("link") == f"{leg}_foot_center")
    assert centre.find("parent").get("link") == f"{leg}_lower_leg"
    assert _floats(centre.find("origin").get("xyz"), 3) == [0, 0, -0.3365]
    assert f"{leg}_foot_joint" not in joints
    links = {link.get("name"): link for link in robot.findall("link")}
    assert links[f"{leg}_foot_center"].find("visual/geometry/sphere").get("radius") == "0.036"


def _floats(text, n):
    values = [float(v) for v in (text or "").split()]
    assert len(values) == n, text
    return values


@pytest.mark.parametrize("relative", sorted(URDF_FILES))
def test_shipped_urdf_is_a_valid_tree_for_robot_state_publisher(relative):
    """What urdfdom (robot_state_publisher, RViz) requires: unique names, every joint between
    existing links, each link the child of at most one joint, exactly one root, no cycle, limits
    (effort, velocity, lower <= upper) on revolute/prismatic joints, a non-zero axis, numeric
    origins, defined materials and complete geometry."""
    robot = ET.parse(ROOT / relative).getroot()
    assert robot.tag == "robot" and robot.get("name")
    links = [link.get("name") for link in robot.findall("link")]
    joints = robot.findall("joint")
    assert len(links) == len(set(links)) and all(links)
    assert len({j.get("name") for j in joints}) == len(joints)
    parent_of = {}
    for joint in joints:
        name, kind = joint.get("name"), joint.get("type")
        assert kind in ("revolute", "continuous", "prismatic", "fixed", "floating", "planar"), name
        parent, child = joint.find("parent").get("link"), joint.find("child").get("link")
        assert parent in links and child in links and parent != child, name
        assert child not in parent_of, f"{child} has two parent joints"
        parent_of[child] = parent
        origin = joint.find("origin")
        if origin is not None:
            _floats(origin.get("xyz", "0 0 0"), 3), _floats(origin.get("rpy", "0 0 0"), 3)
        if kind in ("revolute", "prismatic"):
            limit = joint.find("limit")
            assert limit is not None, f"{name}: {kind} joint without <limit>"
            assert float(limit.get("effort")) > 0 and float(limit.get("velocity")) > 0, name
            assert float(limit.get("lower", 0)) <= float(limit.get("upper", 0)), name
        if kind != "fixed" and joint.find("axis") is not None:
            assert any(_floats(joint.find("axis").get("xyz"), 3)), f"{name}: zero axis"
    roots = [link for link in links if link not in parent_of]
    assert len(roots) == 1, f"roots: {roots}"
    for link in links:  # every link reaches the root without a cycle
        seen = set()
        while link in parent_of:
            assert link not in seen, f"cycle through {link}"
            seen.add(link)
            link = parent_of[link]
        assert link == roots[0]
    materials = {m.get("name") for m in robot.findall("material")}
    for link in robot.findall("link"):
        for part in link.findall("visual") + link.findall("collision"):
            (shape,) = list(part.find("geometry"))
            needs = {"box": ["size"], "cylinder": ["radius", "length"], "sphere": ["radius"],
                     "mesh": ["filename"]}[shape.tag]
            assert all(shape.get(a) for a in needs), f"{link.get('name')}: {shape.tag} needs {needs}"
            if shape.tag == "box":
                assert all(v > 0 for v in _floats(shape.get("size"), 3))
            material = part.find("material")
            if material is not None:
                assert material.get("name") in materials or material.find("color") is not None
