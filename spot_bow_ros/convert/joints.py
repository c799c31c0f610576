"""Joint names and joint states: Spot <-> BOW `ProprioceptionSample` <-> `sensor_msgs/JointState`.

Spot names joints `fl.hx` ... `hr.kn` (legs front/hind left/right; hip x, hip y, knee) and
`arm0.sh0` ... `arm0.f1x`. ROS uses the Spot URDF's friendly names (as the ROS Spot drivers do):
`front_left_hip_x`, `front_left_hip_y`, `front_left_knee`, `rear_right_*`, `arm_sh0`, ...,
optionally with a frame prefix (`spot/front_left_hip_x`) for several robots in one tree.

Joints are matched by NAME, never by position in a list: polled RobotState names every joint
(12 legs, + 8 arm joints on an arm robot, `arm0.hr0` included with no data). The BETA state
stream sends unnamed values in `bosdyn.api.spot.JointIndex` order (12, or 19 with an arm: no
hr0); `stream_joint_names` names them from the joint list learned from the robot. Unknown names
pass through (`.` -> `_`), so a robot with other joints never breaks the conversion.

Units: angles rad (BOW `AngleUnits` RADIANS; DEGREES converted), velocities rad/s (in the
sample's angle units per second), torques N·m (`TorqueUnits` NEWTON_METRES; CURRENT is amperes,
not a torque, and never goes into `effort`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..bow import bow_data_pb2 as bow
from ..bow.frames import UnitError, angle_to_radians, torques_to_newton_metres
from .rosmsg import builder_for
from .spot_catalogue import SPOT_ARM_JOINTS, SPOT_LEG_JOINTS

# The joint tables (JointIndex order: the state stream's unnamed values are legs, then arm) live in
# `convert.spot_catalogue`. `SPOT_ARM_HR0` is listed by polled RobotState without data; the Spot
# URDF (spot_description) makes `arm_hr0` a fixed joint, so it is left out of JointState: a joint
# entry without a position is dropped (`spot.state.sample_from_robot_state`).

MessageFactory = Callable[..., Any]

_LEGS = {"fl": "front_left", "fr": "front_right", "hl": "rear_left", "hr": "rear_right"}
_LEG_JOINTS = {"hx": "hip_x", "hy": "hip_y", "kn": "knee"}
_LEGS_INV = {v: k for k, v in _LEGS.items()}
_LEG_JOINTS_INV = {v: k for k, v in _LEG_JOINTS.items()}



class ProprioceptionError(ValueError):
    """A ProprioceptionSample that cannot be turned into a JointState (the message says why)."""


def friendly_joint_name(spot_name: str, prefix: str = "") -> str:
    """Spot joint name -> Spot URDF name: `fl.hx` -> `front_left_hip_x`, `arm0.sh0` -> `arm_sh0`.

    Names Spot does not document pass through with '.' replaced by '_'. `prefix` is prepended.
    """
    leg, _, joint = spot_name.partition(".")
    if leg in _LEGS and joint in _LEG_JOINTS:
        name = f"{_LEGS[leg]}_{_LEG_JOINTS[joint]}"
    elif leg == "arm0" and joint:
        name = f"arm_{joint}"
    else:
        name = spot_name.replace(".", "_")
    return prefix + name


def spot_joint_name(friendly: str, prefix: str = "") -> str:
    """Inverse of `friendly_joint_name` for Spot's joints (prefix stripped when present)."""
    name = friendly[len(prefix):] if prefix and friendly.startswith(prefix) else friendly
    for joint_friendly, joint in _LEG_JOINTS_INV.items():
        suffix = "_" + joint_friendly
        if name.endswith(suffix) and name[: -len(suffix)] in _LEGS_INV:
            return f"{_LEGS_INV[name[:-len(suffix)]]}.{joint}"
    if name.startswith("arm_"):
        return f"arm0.{name[4:]}"
    return name


def robot_has_arm(polled_names: Sequence[str]) -> bool:
    """Whether a polled joint list (RobotState joint names) includes Spot's arm."""
    return any(name.startswith("arm0.") for name in polled_names)


def stream_layout(polled_names: Sequence[str]) -> tuple[str, ...]:
    """Names of the stream's values, in JointIndex order, for the robot whose polled RobotState
    lists `polled_names`: the 12 leg joints, + the 7 arm joints (no hr0) when it has an arm."""
    return SPOT_LEG_JOINTS + (SPOT_ARM_JOINTS if robot_has_arm(polled_names) else ())


def stream_joint_names(count: int, layout: Sequence[str] | None = None) -> tuple[str, ...]:
    """Spot names for a robot-state stream's unnamed joint arrays of length `count`.

    With `layout` (the names learned from the robot, see `stream_layout`) `count` must match it;
    without, 12 means legs and 19 legs + arm. Raises ProprioceptionError otherwise.
    """
    if layout is not None:
        if count != len(layout):
            raise ProprioceptionError(f"robot state stream has {count} joints; this robot has {len(layout)} "
                                      f"({'legs + arm' if len(layout) > len(SPOT_LEG_JOINTS) else 'legs'})")
        return tuple(layout)
    if count == len(SPOT_LEG_JOINTS):
        return SPOT_LEG_JOINTS
    if count == len(SPOT_LEG_JOINTS) + len(SPOT_ARM_JOINTS):
        return SPOT_LEG_JOINTS + SPOT_ARM_JOINTS
    raise ProprioceptionError(f"robot state stream has {count} joints; expected 12 (legs) or 19 (legs + arm)")


def proprioception_from_spot_joints(names: Sequence[str], positions: Sequence[float],
                                    velocities: Sequence[float], loads: Sequence[float],
                                    prefix: str = "",
                                    sample: bow.ProprioceptionSample | None = None) -> bow.ProprioceptionSample:
    """Spot joint states (rad, rad/s, N·m) -> BOW ProprioceptionSample with URDF joint names.

    Fills JointNames, JointAngles (AngleUnits RADIANS), JointVelocities and JointTorques
    (TorqueUnits NEWTON_METRES) of `sample` (a new one by default). Values are float32 in BOW.
    """
    out = bow.ProprioceptionSample() if sample is None else sample
    out.JointNames.extend(friendly_joint_name(n, prefix) for n in names)
    out.JointAngles.extend(positions)
    out.AngleUnits = bow.RADIANS
    if len(velocities):
        out.JointVelocities.extend(velocities)
    if len(loads):
        out.JointTorques.extend(loads)
        out.TorqueUnits = bow.NEWTON_METRES
    return out


@dataclass
class JointArrays:
    """What a JointState carries, validated and in SI units.

    `torque_note`: why effort is empty although torques were sent (e.g. CURRENT units), else "".
    """

    names: list[str]
    position: np.ndarray
    velocity: np.ndarray
    effort: np.ndarray
    torque_note: str = ""
    notes: list[str] = field(default_factory=list)


def _float64(values: Sequence[float]) -> np.ndarray:
    """A repeated float field as float64 array (np.fromiter: ~2x faster than np.array on it)."""
    return np.fromiter(values, dtype=np.float64, count=len(values))


def joint_arrays_from_proprioception(sample: bow.ProprioceptionSample) -> JointArrays:
    """Validate a ProprioceptionSample's joint fields and convert them to rad, rad/s, N·m.

    Raises ProprioceptionError when the arrays do not line up with JointNames (JointState needs
    equal-length arrays, optional ones may be empty) or a unit enum is undocumented.
    """
    names = list(sample.JointNames)
    n = len(names)
    if len(sample.JointAngles) != n:
        raise ProprioceptionError(f"{len(sample.JointAngles)} JointAngles for {n} JointNames")
    for label, values in (("JointVelocities", sample.JointVelocities), ("JointTorques", sample.JointTorques)):
        if len(values) not in (0, n):
            raise ProprioceptionError(f"{len(values)} {label} for {n} JointNames (must be {n} or none)")
    if len(set(names)) != n:
        raise ProprioceptionError("JointNames contains duplicates")
    try:
        # unit scale factors from bow.frames (the one place that knows BOW units)
        angle_scale = angle_to_radians(1.0, sample.AngleUnits)
        torque_scale = (torques_to_newton_metres([1.0], sample.TorqueUnits)
                        if len(sample.JointTorques) else [1.0])
    except UnitError as err:
        raise ProprioceptionError(str(err)) from None
    position = _float64(sample.JointAngles)
    velocity = _float64(sample.JointVelocities)
    if angle_scale != 1.0:
        position *= angle_scale
        velocity *= angle_scale
    torque_note = ""
    if torque_scale is None:
        effort = np.zeros(0, dtype=np.float64)
        torque_note = ("JointTorques are in CURRENT units (amperes), not N·m: "
                       "not published as JointState.effort")
    else:
        effort = _float64(sample.JointTorques)
        if torque_scale[0] != 1.0:
            effort *= torque_scale[0]
    return JointArrays(names, position, velocity, effort, torque_note)


def joint_state_from_proprioception(make: MessageFactory, sample: bow.ProprioceptionSample,
                                    stamp: tuple[int, int], frame_id: str = "",
                                    prefix: str = "") -> tuple[Any, str]:
    """BOW ProprioceptionSample -> (sensor_msgs/JointState, torque note).

    `stamp` (sec, nanosec) on the local clock: the acquisition time. `prefix` is prepended to
    every joint name (BOW names carry none). The note is non-empty when torques were dropped
    (CURRENT units); log it once. Raises ProprioceptionError.
    """
    arrays = joint_arrays_from_proprioception(sample)
    if prefix:
        arrays.names = [prefix + n for n in arrays.names]
    return joint_state_msg(make, arrays, stamp, frame_id), arrays.torque_note


def joint_state_msg(make: MessageFactory, arrays: JointArrays, stamp: tuple[int, int], frame_id: str = "") -> Any:
    """sensor_msgs/JointState from validated `JointArrays`."""
    b = builder_for(make)
    return b.new("sensor_msgs/msg/JointState", header=b.header(stamp, frame_id), name=arrays.names,
                 position=arrays.position, velocity=arrays.velocity, effort=arrays.effort)


def proprioception_from_joint_state(msg: Any, prefix: str = "") -> bow.ProprioceptionSample:
    """sensor_msgs/JointState -> BOW ProprioceptionSample (RADIANS, NEWTON_METRES).

    `prefix` is removed from joint names that carry it. Effort is assumed to be N·m (REP 103).
    """
    names = [str(n) for n in msg.name]
    if prefix:
        names = [n[len(prefix):] if n.startswith(prefix) else n for n in names]
    out = bow.ProprioceptionSample(JointNames=names, AngleUnits=bow.RADIANS)
    out.JointAngles.extend(float(v) for v in msg.position)
    out.JointVelocities.extend(float(v) for v in msg.velocity)
    if len(msg.effort):
        out.JointTorques.extend(float(v) for v in msg.effort)
        out.TorqueUnits = bow.NEWTON_METRES
    return out
