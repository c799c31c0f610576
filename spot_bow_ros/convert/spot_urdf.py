"""Spot joint facts from the Spot URDFs (docs/spot_facts.md, "Kinematics and joint limits"):
type, position range, velocity and effort limits per joint, keyed by Spot joint name
(`fl.hx` ... `arm0.f1x`).

Units: rad, rad/s, N·m. None = not documented. Knee ranges differ per leg (the SD xacro values).
"""

from __future__ import annotations

from dataclasses import dataclass

from .motion import SPOT_ARM_JOINT_LIMITS
from .spot_catalogue import SPOT_LEGS


@dataclass(frozen=True)
class JointFacts:
    """One Spot joint: `lower`/`upper` position limits (rad), `max_velocity` (rad/s) and
    `max_effort` (N·m); all Spot joints are revolute."""

    lower: float
    upper: float
    max_velocity: float | None = None
    max_effort: float | None = None


_KNEE_UPPER = {"fl": -0.254801, "fr": -0.247563, "hl": -0.267153, "hr": -0.257725}

SPOT_JOINT_FACTS: dict[str, JointFacts] = {}
for _leg in SPOT_LEGS:
    SPOT_JOINT_FACTS[f"{_leg}.hx"] = JointFacts(-0.785398, 0.785398, 17.647, 45.0)
    SPOT_JOINT_FACTS[f"{_leg}.hy"] = JointFacts(-0.898845, 2.295108, 17.647, 45.0)
    SPOT_JOINT_FACTS[f"{_leg}.kn"] = JointFacts(-2.7929, _KNEE_UPPER[_leg], 12.0, 115.0)
_ARM_EFFORT = {"sh0": 90.9, "sh1": 181.8, "el0": 90.9, "el1": 30.3, "wr0": 30.3, "wr1": 30.3}
for _joint, (_lo, _hi) in SPOT_ARM_JOINT_LIMITS.items():
    SPOT_JOINT_FACTS[f"arm0.{_joint}"] = JointFacts(_lo, _hi, None, _ARM_EFFORT[_joint])
#: The claw: 0 = closed, -1.5708 = fully open.
SPOT_JOINT_FACTS["arm0.f1x"] = JointFacts(-1.5708, 0.0, None, 15.32)
#: Claw angle (rad) when fully open; open fraction = angle / GRIPPER_OPEN_ANGLE.
GRIPPER_OPEN_ANGLE = -1.5708


def joint_facts(spot_name: str) -> JointFacts | None:
    """Facts of a Spot joint (`fl.hx`, `arm0.sh0`, ...), None for names Spot does not have."""
    return SPOT_JOINT_FACTS.get(spot_name)
