"""Names of a real Spot's parts, defined once: body cameras and joints. Data only.

The client side (`spot/`), the simulator (`sim/`) and the conversions all read these tables;
the simulator imports them from here (not from `spot/`) so that it stays independent of the
client code it is a counterpart for. Sources: docs/spot_facts.md ("Image sources", "Joint names
and order") and `bosdyn.api.spot.JointIndex`.
"""

from __future__ import annotations

#: The five body cameras (fisheye visual + depth pair each), in the order the robot lists them.
#: Their image sources are `<cam>_fisheye_image`, `<cam>_depth`, `<cam>_depth_in_visual_frame`;
#: the gripper camera ("hand") is not one of them.
BODY_CAMERAS: tuple[str, ...] = ("frontleft", "frontright", "left", "right", "back")

#: Legs as bosdyn names them (front left, front right, hind left, hind right).
SPOT_LEGS: tuple[str, ...] = ("fl", "fr", "hl", "hr")
#: `bosdyn.api.spot.JointIndex` order (FL_HX=0 ... HR_KN=11): the leg joints' bosdyn names.
SPOT_LEG_JOINTS: tuple[str, ...] = tuple(f"{leg}.{j}" for leg in SPOT_LEGS for j in ("hx", "hy", "kn"))
#: The arm joints that carry data, in `JointIndex` order (A0_SH0=12 ... A0_F1X=18); a state
#: stream sends 12 or 19 unnamed values in the order legs + these.
SPOT_ARM_JOINTS: tuple[str, ...] = ("arm0.sh0", "arm0.sh1", "arm0.el0", "arm0.el1", "arm0.wr0", "arm0.wr1",
                                    "arm0.f1x")
#: Listed by polled `RobotState` on arm robots with a name and no data (between sh1 and el0).
SPOT_ARM_HR0 = "arm0.hr0"
#: The six commandable arm joints as `ArmJointPosition` field names (sh0 ... wr1, no gripper):
#: the order of `convert.motion.ArmJointMove.angles_rad` and of BOW `Angles`.
SPOT_ARM_JOINT_FIELDS: tuple[str, ...] = ("sh0", "sh1", "el0", "el1", "wr0", "wr1")
