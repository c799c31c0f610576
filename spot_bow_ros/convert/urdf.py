"""Spot's URDF from primitive shapes, generated here (no xacro, no meshes): `spot_urdf(arm)`.

Kinematic dimensions and joint limits are those of spot_description (docs/spot_facts.md,
"Kinematics"); link and joint names, and the positions of named frames, are spot_description's
too, so RViz configs and tools built on it line up: the `joint_states` this package publishes
(`front_left_hip_x` ... `rear_right_knee`, `arm_sh0` ... `arm_f1x`; `arm_hr0` is fixed, as in
spot_description: the robot reports it without data).

Frames: `body` is the root (origin at the centre of the hips, x forward, z up); `base_link` is
fixed at `body`; every leg ends in `<leg>_foot`, 0.35 m down the lower leg through the fixed joint
`<leg>_ankle` (spot_description with `feet:=true`), and has `<leg>_foot_center`, the centre of
the foot sphere 0.3365 m down the lower leg (spot_description's frame of that name; the sphere
of radius 0.036 touches the ground 0.3725 m down); the arm ends in `arm_link_fngr` (the
finger, joint `arm_f1x`, lower limit -1.57 as in spot_description's arm macro). The frames the
robot reports itself (`odom`, `vision`, `hand`, camera frames) are not in the URDF, so the
URDF and the robot's own transforms never give a frame two parents.

`tools/gen_urdf.py` writes `urdf/spot.urdf` and `urdf/spot_with_arm.urdf` from this module
(test/convert/test_urdf.py checks that the shipped files are current).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

LEGS = (("front_left", 1, 1), ("front_right", 1, -1), ("rear_left", -1, 1), ("rear_right", -1, -1))
HIP_X_OFFSET = 0.29785      # body -> hip x joint, |x|
HIP_Y_OFFSET = 0.055        # body -> hip x joint, |y|
UPPER_LEG_Y = 0.110945      # hip -> hip y joint, |y|
KNEE_ORIGIN = (0.025, 0.0, -0.3205)   # upper leg -> knee
FOOT_Z = -0.35              # lower leg -> <leg>_foot (spot_description spot_feet_macro.urdf)
FOOT_CENTER_Z = -0.3365     # lower leg -> <leg>_foot_center, the foot sphere's centre (spot_macro.xacro)
FOOT_RADIUS = 0.036
# knee upper limits differ per leg in spot_description
KNEE_UPPER = {"front_left": -0.254801, "front_right": -0.247563, "rear_left": -0.267153, "rear_right": -0.257725}


@dataclass(frozen=True)
class JointSpec:
    """One URDF joint. `limits` = (lower, upper, effort N·m, velocity rad/s) for revolute joints."""

    name: str
    parent: str
    child: str
    xyz: tuple[float, float, float]
    axis: tuple[float, float, float] | None = None     # None: fixed joint
    limits: tuple[float, float, float, float] | None = None


def leg_joints() -> list[JointSpec]:
    """The 12 leg joints plus the fixed feet (`<leg>_ankle`) and foot centres."""
    out: list[JointSpec] = []
    for leg, sx, sy in LEGS:
        out += [
            JointSpec(f"{leg}_hip_x", "body", f"{leg}_hip", (sx * HIP_X_OFFSET, sy * HIP_Y_OFFSET, 0.0),
                      (1.0, 0.0, 0.0), (-0.785398, 0.785398, 45.0, 17.647)),
            JointSpec(f"{leg}_hip_y", f"{leg}_hip", f"{leg}_upper_leg", (0.0, sy * UPPER_LEG_Y, 0.0),
                      (0.0, 1.0, 0.0), (-0.898845, 2.295108, 45.0, 17.647)),
            JointSpec(f"{leg}_knee", f"{leg}_upper_leg", f"{leg}_lower_leg", KNEE_ORIGIN,
                      (0.0, 1.0, 0.0), (-2.7929, KNEE_UPPER[leg], 115.0, 12.0)),
            JointSpec(f"{leg}_ankle", f"{leg}_lower_leg", f"{leg}_foot", (0.0, 0.0, FOOT_Z)),
            JointSpec(f"{leg}_foot_center_joint", f"{leg}_lower_leg", f"{leg}_foot_center",
                      (0.0, 0.0, FOOT_CENTER_Z)),
        ]
    return out


# Arm velocity limits: BD's URDF gives efforts only; 10 rad/s is spot_description's value ("for
# kinematic planning. The motors might move faster"), which robot_state_publisher and RViz ignore.
ARM_VELOCITY = 10.0


def arm_joints() -> list[JointSpec]:
    """Spot Arm: sh0, sh1, (fixed) hr0, el0, el1, wr0, wr1, f1x."""
    v = ARM_VELOCITY
    return [
        JointSpec("arm_sh0", "body", "arm_link_sh0", (0.292, 0.0, 0.188), (0.0, 0.0, 1.0), (-2.618, 3.1416, 90.9, v)),
        JointSpec("arm_sh1", "arm_link_sh0", "arm_link_sh1", (0.0, 0.0, 0.0), (0.0, 1.0, 0.0),
                  (-3.1416, 0.5236, 181.8, v)),
        JointSpec("arm_hr0", "arm_link_sh1", "arm_link_hr0", (0.0, 0.0, 0.0)),
        JointSpec("arm_el0", "arm_link_hr0", "arm_link_el0", (0.3385, 0.0, 0.0), (0.0, 1.0, 0.0),
                  (0.0, 3.1416, 90.9, v)),
        JointSpec("arm_el1", "arm_link_el0", "arm_link_el1", (0.4033, 0.0, 0.075), (1.0, 0.0, 0.0),
                  (-2.7925, 2.7925, 30.3, v)),
        JointSpec("arm_wr0", "arm_link_el1", "arm_link_wr0", (0.0, 0.0, 0.0), (0.0, 1.0, 0.0),
                  (-1.8326, 1.8326, 30.3, v)),
        JointSpec("arm_wr1", "arm_link_wr0", "arm_link_wr1", (0.0, 0.0, 0.0), (1.0, 0.0, 0.0),
                  (-2.8798, 2.8798, 30.3, v)),
        JointSpec("arm_f1x", "arm_link_wr1", "arm_link_fngr", (0.11745, 0.0, 0.01482), (0.0, 1.0, 0.0),
                  (-1.57, 0.0, 15.32, v)),
    ]


def fixed_joints() -> list[JointSpec]:
    return [JointSpec("base_link_joint", "body", "base_link", (0.0, 0.0, 0.0)),
            JointSpec("front_rail_joint", "body", "front_rail", (0.223, 0.0, 0.0805)),
            JointSpec("rear_rail_joint", "body", "rear_rail", (-0.223, 0.0, 0.0805))]


# -- visuals: (shape, size, xyz, rpy) per link; shapes box (x y z), cylinder (r, l), sphere (r) --
_YELLOW, _BLACK, _GREY = "yellow", "black", "grey"


Visual = tuple[str, tuple[float, ...], tuple[float, ...], tuple[float, ...], str]


def _visuals(arm: bool) -> dict[str, list[Visual]]:
    v: dict[str, list[Visual]] = {"body": [("box", (0.85, 0.24, 0.18), (0.0, 0.0, -0.015), (0, 0, 0), _YELLOW)]}
    for leg, _sx, sy in LEGS:
        v[f"{leg}_hip"] = [("cylinder", (0.05, 0.09), (0.0, sy * 0.04, 0.0), (1.5708, 0, 0), _BLACK)]
        v[f"{leg}_upper_leg"] = [("box", (0.06, 0.05, 0.34), (0.0125, 0.0, -0.16), (0, 0, 0), _YELLOW)]
        v[f"{leg}_lower_leg"] = [("cylinder", (0.016, 0.33), (0.0, 0.0, -0.165), (0, 0, 0), _BLACK)]
        v[f"{leg}_foot_center"] = [("sphere", (FOOT_RADIUS,), (0, 0, 0), (0, 0, 0), _GREY)]
    if arm:
        v["arm_link_sh0"] = [("cylinder", (0.05, 0.1), (0.0, 0.0, -0.03), (0, 0, 0), _BLACK)]
        v["arm_link_hr0"] = [("cylinder", (0.035, 0.3385), (0.169, 0.0, 0.0), (0, 1.5708, 0), _YELLOW)]
        v["arm_link_el0"] = [("cylinder", (0.035, 0.1), (0.0, 0.0, 0.04), (0, 0, 0), _BLACK)]
        v["arm_link_el1"] = [("cylinder", (0.03, 0.3), (-0.15, 0.0, 0.0), (0, 1.5708, 0), _YELLOW)]
        v["arm_link_wr1"] = [("box", (0.12, 0.07, 0.06), (0.06, 0.0, 0.0), (0, 0, 0), _BLACK)]
        v["arm_link_fngr"] = [("box", (0.08, 0.03, 0.01), (0.04, 0.0, -0.005), (0, 0, 0), _GREY)]
    return v


_COLOURS = {_YELLOW: "0.95 0.75 0.1 1", _BLACK: "0.15 0.15 0.15 1", _GREY: "0.5 0.5 0.5 1"}


def _num(x: float) -> str:
    return repr(float(x)) if x != 0 else "0"


def _vec(v: Iterable[float]) -> str:
    return " ".join(_num(x) for x in v)


def _geometry(shape: str, size: tuple[float, ...]) -> str:
    if shape == "box":
        return f'<box size="{_vec(size)}"/>'
    if shape == "cylinder":
        return f'<cylinder radius="{_num(size[0])}" length="{_num(size[1])}"/>'
    return f'<sphere radius="{_num(size[0])}"/>'


def robot_joints(arm: bool) -> list[JointSpec]:
    """Every joint of the model, in URDF order."""
    return fixed_joints() + leg_joints() + (arm_joints() if arm else [])


def spot_urdf(arm: bool = False, name: str | None = None) -> str:
    """The URDF XML text of Spot (with the arm when `arm`)."""
    robot = name or ("spot_with_arm" if arm else "spot")
    joints = robot_joints(arm)
    visuals = _visuals(arm)
    lines = ['<?xml version="1.0"?>',
             "<!-- Generated by tools/gen_urdf.py from spot_bow_ros/convert/urdf.py: do not edit. -->",
             "<!-- Spot from primitive shapes; names, dimensions and limits of spot_description "
             "(docs/spot_facts.md). -->",
             f"<robot name={quoteattr(robot)}>"]
    for colour, rgba in _COLOURS.items():
        lines.append(f'  <material name="{colour}"><color rgba="{rgba}"/></material>')
    links = ["body"] + [j.child for j in joints]
    for link in links:
        shapes = visuals.get(link, [])
        if not shapes:
            lines.append(f'  <link name="{link}"/>')
            continue
        lines.append(f'  <link name="{link}">')
        for shape, size, xyz, rpy, colour in shapes:
            origin = f'<origin xyz="{_vec(xyz)}" rpy="{_vec(rpy)}"/>'
            geom = _geometry(shape, size)
            lines.append(f"    <visual>{origin}<geometry>{geom}</geometry>"
                         f'<material name="{colour}"/></visual>')
            lines.append(f"    <collision>{origin}<geometry>{geom}</geometry></collision>")
        lines.append("  </link>")
    for j in joints:
        kind = "fixed" if j.axis is None else "revolute"
        lines.append(f'  <joint name="{j.name}" type="{kind}">')
        lines.append(f'    <parent link="{j.parent}"/><child link="{j.child}"/>')
        lines.append(f'    <origin xyz="{_vec(j.xyz)}" rpy="0 0 0"/>')
        if j.axis is not None:
            lines.append(f'    <axis xyz="{_vec(j.axis)}"/>')
            assert j.limits is not None, f"revolute joint {j.name} without limits"
            lo, hi, effort, vel = j.limits
            lines.append(f'    <limit lower="{_num(lo)}" upper="{_num(hi)}" effort="{_num(effort)}" '
                         f'velocity="{_num(vel)}"/>')
        lines.append("  </joint>")
    lines.append("</robot>")
    return "\n".join(lines) + "\n"


URDF_FILES = {"urdf/spot.urdf": False, "urdf/spot_with_arm.urdf": True}
