"""convert/kinematics.py: forward kinematics on the shipped URDF, checked against hand-computed chains."""

import math
from pathlib import Path

import numpy as np
import pytest

from spot_bow_ros.convert.kinematics import KinematicModel, UrdfError, matrix_from_pose, quat_from_rpy

ROOT = Path(__file__).resolve().parents[2]
SPOT = KinematicModel.from_urdf((ROOT / "urdf" / "spot.urdf").read_text())
ARM = KinematicModel.from_urdf((ROOT / "urdf" / "spot_with_arm.urdf").read_text())


def rx(a):
    c, s = math.cos(a), math.sin(a)
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])


def ry(a):
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])


#: lower leg -> `<leg>_foot` (spot_description spot_feet_macro.urdf, joint `<leg>_ankle`) and
#: -> `<leg>_foot_center` (spot_macro.xacro frame): docs/spot_facts.md, "Kinematics"
FOOT_Z, FOOT_CENTER_Z = -0.35, -0.3365


def foot_by_hand(sx, sy, hx, hy, kn, foot_z=FOOT_Z):
    """body -> `<leg>_foot` (or, with foot_z=FOOT_CENTER_Z, the foot centre) from
    spot_description's numbers (docs/spot_facts.md), chained by hand."""
    knee_to_foot = ry(kn) @ [0, 0, foot_z]
    hip_y_to_foot = ry(hy) @ (np.array([0.025, 0, -0.3205]) + knee_to_foot)
    hip_x_to_foot = rx(hx) @ (np.array([0, sy * 0.110945, 0]) + hip_y_to_foot)
    return np.array([sx * 0.29785, sy * 0.055, 0]) + hip_x_to_foot


def test_zero_pose_foot_position():
    links = SPOT.forward({})
    np.testing.assert_allclose(links["front_left_foot"][:3, 3], [0.29785 + 0.025, 0.055 + 0.110945, -0.3205 - 0.35],
                               atol=1e-12)
    np.testing.assert_allclose(links["front_left_foot_center"][:3, 3],
                               [0.29785 + 0.025, 0.055 + 0.110945, -0.3205 - 0.3365], atol=1e-12)


@pytest.mark.parametrize("leg,sx,sy", [("front_left", 1, 1), ("front_right", 1, -1), ("rear_left", -1, 1),
                                       ("rear_right", -1, -1)])
def test_stand_pose_body_to_foot_matches_hand_chain(leg, sx, sy):
    hx, hy, kn = 0.12 * sy, 0.72, -1.45
    pose = {f"{leg}_hip_x": hx, f"{leg}_hip_y": hy, f"{leg}_knee": kn}
    links = SPOT.forward(pose)
    foot = links[f"{leg}_foot"][:3, 3]
    np.testing.assert_allclose(foot, foot_by_hand(sx, sy, hx, hy, kn), atol=1e-12)
    centre = links[f"{leg}_foot_center"][:3, 3]
    np.testing.assert_allclose(centre, foot_by_hand(sx, sy, hx, hy, kn, FOOT_CENTER_Z), atol=1e-12)
    # standing: the foot centre is ~0.49 m below the body (docs/spot_facts.md), the foot 13.5 mm
    # further down the lower leg
    assert -0.52 < centre[2] < -0.46
    assert np.linalg.norm(foot - centre) == pytest.approx(0.0135, abs=1e-12)
    assert np.linalg.norm(foot) == pytest.approx(np.linalg.norm(foot_by_hand(sx, sy, hx, hy, kn)), abs=1e-12)


def test_moving_transforms_chain_to_the_same_foot():
    names = ["front_left_hip_x", "front_left_hip_y", "front_left_knee", "not_a_joint"]
    edges = SPOT.moving_transforms(["spot/" + n for n in names], [0.1, 0.8, -1.6, 5.0], prefix="spot/")
    assert [(p, c) for p, c, _ in edges] == [("body", "front_left_hip"), ("front_left_hip", "front_left_upper_leg"),
                                             ("front_left_upper_leg", "front_left_lower_leg")]
    fixed = {c: pose for _, c, pose in SPOT.fixed_transforms()}
    m = np.eye(4)
    for _, _, pose in edges:
        m = m @ matrix_from_pose(pose)
    m = m @ matrix_from_pose(fixed["front_left_foot"])
    np.testing.assert_allclose(m[:3, 3], foot_by_hand(1, 1, 0.1, 0.8, -1.6), atol=1e-12)


def test_arm_stow_and_reach():
    links = ARM.forward({})
    # all arm joints at 0: the arm stretched forward; wr1 at sh0 + (0.3385 + 0.4033, 0, 0.075)
    np.testing.assert_allclose(links["arm_link_wr1"][:3, 3], [0.292 + 0.3385 + 0.4033, 0, 0.188 + 0.075], atol=1e-12)
    # sh1 = -pi/2 points the upper arm straight up (rotation about +y by -90 deg maps x to +z)
    up = ARM.forward({"arm_sh1": -math.pi / 2})["arm_link_el0"][:3, 3]
    np.testing.assert_allclose(up, [0.292, 0, 0.188 + 0.3385], atol=1e-12)
    assert {"arm_link_fngr", "arm_link_hr0"} <= set(links)
    assert ARM.root == SPOT.root == "body"


def test_rpy_origin_and_bad_urdf():
    urdf = """<robot name="r"><link name="a"/><link name="b"/>
      <joint name="j" type="revolute"><parent link="a"/><child link="b"/>
      <origin xyz="1 0 0" rpy="0 0 1.5707963267948966"/><axis xyz="0 0 1"/></joint></robot>"""
    model = KinematicModel.from_urdf(urdf)
    m = model.forward({"j": math.pi / 2})["b"]
    np.testing.assert_allclose(m[:3, :3] @ [1, 0, 0], [-1, 0, 0], atol=1e-12)  # yaw 90 + joint 90
    np.testing.assert_allclose(quat_from_rpy(0, 0, math.pi), [0, 0, 1, 0], atol=1e-12)
    with pytest.raises(UrdfError, match="not valid URDF XML"):
        KinematicModel.from_urdf("<robot")
    with pytest.raises(UrdfError, match="planar"):
        KinematicModel.from_urdf('<robot><link name="a"/><link name="b"/><joint name="j" type="planar">'
                                 '<parent link="a"/><child link="b"/></joint></robot>')


def test_quat_from_rpy_is_urdf_fixed_axis_convention():
    r, p, y = 0.3, -0.2, 1.1
    rz = np.array([[math.cos(y), -math.sin(y), 0], [math.sin(y), math.cos(y), 0], [0, 0, 1]])
    m = matrix_from_pose(((0, 0, 0), quat_from_rpy(r, p, y)))[:3, :3]
    np.testing.assert_allclose(m, rz @ ry(p) @ rx(r), atol=1e-12)
