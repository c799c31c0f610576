"""BOW `MotorSample` (and ROS `cmd_vel`) -> the Spot command it means. Pure: no I/O, no threads.

Every sign and unit of the motor path is decided here, and every axis/unit convention comes from
`spot_bow_ros.bow.frames` (never re-derived here). The output is a `MotorCommand` made of plain
dataclasses that `spot.commander` turns into bosdyn `RobotCommand`s.

The command types, their frames and units, Spot's ranges and the clamping live in
`convert.motion`.

Meaning of a `MotorSample` (`bow_data.proto` declares every scalar with explicit presence):

- Unset fields mean "no change". Message fields (`Head`, `Locomotion`, `Transform`, `Gripper`)
  count when present; a present message's unset components are zero (a plain proto3 peer never
  sends zeros, so component-level presence carries no information).
- `Locomotion` VELOCITY_MODE: `Position` is a linear velocity (m/s), `Rotation` an angular
  velocity (`RotationUnits` per second; UNKNOWN = radians). POSITION_MODE: `Position` is a
  relative translation (m), `Rotation` a relative rotation. UNKNOWN_LOCOMOTION_MODE (or unset)
  uses `MotorConfig.default_locomotion_mode` (velocity: bounded in time by the command expiry).
  Only the ground-plane parts are used (forward, lateral, yaw); the vertical translation and
  the roll/pitch parts are ignored and listed in `MotorCommand.notes`.
- `Head` (X yaw look-right+, Y pitch look-up+, Z roll lean-right+, radians: the schema gives no
  unit field; beyond ±pi is rejected as the wrong units) -> body orientation. `OperatingHeight`
  (metres above the floor) -> body height offset = OperatingHeight - `MotorConfig.nominal_body_height`.
- `EndEffectors` (Spot has one arm; an end effector is the arm when it is the first entry
  without a name or is named one of `ARM_NAMES`): skipped unless `Enabled` is true (a plain
  proto3 peer cannot send `false`, so unset = false = skipped, as documented). ControlMode IK
  (and IK_WITH_SELF_COLLISION_AVOIDANCE; Spot always avoids self collision) with a `Transform`
  -> `ArmPose` in the frame named by `Transform.LocationTag` (`ARM_ROOT_FRAMES`); CUSTOM with
  `Angles` -> `ArmJointMove` in `AngleUnits`; `Gripper` -> `GripperCommand`;
  `MovementDurationMs` -> move duration (default `MotorConfig.default_move_duration`).
- `RecordFlag` / `PlaybackFlag` / `PlaybackActionName` are carried through for the recorder.

Safety: `validate_motor_sample` rejects the WHOLE sample (`InvalidMotorSample`, with the reason)
when any float anywhere in it is NaN or infinite or any enum holds a value the schema does not
define. `apply_limits` clamps to `MotionLimits` and reports every clamp; values that are
nonsense rather than too large (arm joint angles outside Spot's joint range, Head angles beyond
±pi, a hand goal out of
reach, a negative duration) are rejected instead of clamped, because clamping them would execute
a motion nobody asked for.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from google.protobuf import json_format
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import DecodeError, Message

from ..bow import bow_data_pb2 as bow
from ..bow import frames
from ..bow.frames import AxisConvention
from .motion import (
    SPOT_ARM_JOINT_LIMITS,
    SPOT_BODY_ANGLE_MAX,
    SPOT_BODY_HEIGHT_RANGE,
    SPOT_MAX_ANGULAR_VELOCITY,
    SPOT_MAX_LINEAR_VELOCITY,
    ArmJointMove,
    ArmPose,
    BodyPose,
    BodyPoseUpdate,
    Clamp,
    GripperCommand,
    InvalidMotorSample,
    Locomotion,
    LocomotionMode,
    MotionLimits,
    MotorCommand,
    Quat,
    Se2Goal,
    Vec3,
    VelocityCommand,
    apply_limits,
    clamp_body,
    clamp_body_pose,
    clamp_duration,
    clamp_se2_goal,
    clamp_velocity,
    describe,
    within_limits,
)
from .spot_catalogue import SPOT_ARM_JOINT_FIELDS

# TODO phase 2 (issue 22): the motion-command names below are re-exported for callers that still
# import them from here (nodes/motor_command.py, in flight on another branch); new code imports
# them from `convert.motion`.
__all__ = [
    "ARM_NAMES", "ARM_ROOT_FRAMES", "ConvertedSample", "MotorConfig", "check_action_name", "convert_motor_sample",
    "end_effectors_to_commands", "gripper_to_command", "head_to_body_orientation", "is_repeated",
    "locomotion_to_command",
    "motor_sample_to_command", "operating_height_to_offset", "parse_motor_sample", "parse_motor_sample_binary",
    "parse_motor_sample_json", "arm_joint_move", "transform_to_arm_pose", "twist_to_velocity",
    "validate_message", "validate_motor_sample",
    # re-exported from convert.motion
    "SPOT_ARM_JOINT_LIMITS", "SPOT_BODY_ANGLE_MAX", "SPOT_BODY_HEIGHT_RANGE",
    "SPOT_MAX_ANGULAR_VELOCITY", "SPOT_MAX_LINEAR_VELOCITY", "ArmJointMove", "ArmPose", "BodyPose",
    "BodyPoseUpdate", "Clamp", "GripperCommand", "InvalidMotorSample", "LocomotionMode", "MotionLimits",
    "Locomotion", "MotorCommand", "Se2Goal", "VelocityCommand", "apply_limits", "clamp_body", "clamp_body_pose",
    "clamp_duration", "clamp_se2_goal", "clamp_velocity", "describe", "within_limits",
]




#: BOW `RelativeToEnum` -> Spot frame an arm Cartesian command is expressed in.
#: BASE ("the robot's contact point with the floor") -> `flat_body`: the gravity-aligned body
#: frame (origin at the body centre, yaw of the body, z up). It is the Spot frame nearest to a
#: robot-attached, level base; its origin is the body centre, not the floor.
#: TORSO ("the robot's centre of mass") -> `body`.
#: HEAD and END_EFFECTOR*: Spot has no head frame an arm command accepts, and a hand goal
#: relative to the hand itself is undefined while the hand moves: rejected.
ARM_ROOT_FRAMES = {bow.BASE: "flat_body", bow.TORSO: "body"}
#: Names under which a BOW end effector addresses Spot's arm (compared lower-case).
ARM_NAMES = frozenset({"arm", "arm0", "spot_arm", "main", "end_effector", "right", "gripper"})


@dataclass(frozen=True)
class MotorConfig:
    """How samples are interpreted (node parameters)."""

    convention: AxisConvention = AxisConvention.BOW_DOCUMENTED
    #: Spot's nominal stand height (m above the floor) that OperatingHeight is relative to.
    nominal_body_height: float = 0.52
    has_arm: bool = True
    default_locomotion_mode: LocomotionMode = LocomotionMode.VELOCITY
    #: Arm/gripper move duration when a sample gives no MovementDurationMs (s).
    default_move_duration: float = 2.0


# ---------------------------------------------------------------------------------------------
# Parsing and validation
# ---------------------------------------------------------------------------------------------

def parse_motor_sample_json(text: str) -> bow.MotorSample:
    """A validated MotorSample from its protobuf JSON form (field names as in the schema)."""
    sample = bow.MotorSample()
    if not isinstance(text, str) or not text.lstrip().startswith("{"):
        raise InvalidMotorSample("not a MotorSample in protobuf JSON: expected a JSON object {...}")
    try:
        json_format.Parse(text, sample)
    except (json_format.ParseError, ValueError, TypeError, RecursionError) as exc:
        raise InvalidMotorSample(f"not a MotorSample in protobuf JSON: {_short(exc)}") from None
    validate_motor_sample(sample)
    return sample


def parse_motor_sample_binary(data: bytes) -> bow.MotorSample:
    """A validated MotorSample from its binary protobuf encoding."""
    sample = bow.MotorSample()
    try:
        sample.ParseFromString(bytes(data))
    except (DecodeError, ValueError, RuntimeError, RecursionError) as exc:
        raise InvalidMotorSample(f"not a binary MotorSample: {_short(exc)}") from None
    validate_motor_sample(sample)
    return sample


def validate_motor_sample(sample: bow.MotorSample) -> None:
    """Raise InvalidMotorSample if any float is NaN/inf or any enum value is undefined."""
    _validate_message(sample, "MotorSample")


def validate_message(msg: Message, path: str) -> None:
    """Raise InvalidMotorSample if any float in `msg` (any protobuf message, e.g. a BOW v1
    MotorSample) is NaN/inf or any enum value is undefined; `path` names it in the reason."""
    _validate_message(msg, path)


def _validate_message(msg: Message, path: str) -> None:
    for fd, value in msg.ListFields():
        where = f"{path}.{fd.name}"
        repeated = is_repeated(fd)
        values = list(value) if repeated else [value]
        for i, item in enumerate(values):
            at = f"{where}[{i}]" if repeated else where
            if fd.type == FieldDescriptor.TYPE_MESSAGE:
                _validate_message(item, at)
            elif fd.type in (FieldDescriptor.TYPE_FLOAT, FieldDescriptor.TYPE_DOUBLE):
                if not math.isfinite(item):
                    raise InvalidMotorSample(f"{at} is {item} (NaN and infinity are never commands)")
            elif fd.type == FieldDescriptor.TYPE_ENUM:
                if fd.enum_type.values_by_number.get(item) is None:
                    raise InvalidMotorSample(
                        f"{at} = {item} is not a {fd.enum_type.name} value "
                        f"({', '.join(v.name for v in fd.enum_type.values)})")


def is_repeated(fd: FieldDescriptor) -> bool:
    """True for a repeated protobuf field (any protobuf version)."""
    # protobuf >= 5.x has `is_repeated`; 7.x removed `label`; older ones only have `label`.
    flag = getattr(fd, "is_repeated", None)
    if flag is not None:
        return bool(flag)
    return bool(fd.label == FieldDescriptor.LABEL_REPEATED)


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."


# ---------------------------------------------------------------------------------------------
# MotorSample -> MotorCommand
# ---------------------------------------------------------------------------------------------

def _vec(v: bow.Vector3) -> Vec3:
    return (float(v.X), float(v.Y), float(v.Z))


def _units(msg: Message, field_name: str) -> int:
    return getattr(msg, field_name) if msg.HasField(field_name) else bow.UNKNOWN_ANGLE_UNITS


def motor_sample_to_command(sample: bow.MotorSample, config: MotorConfig = MotorConfig()) -> MotorCommand:
    """The command a validated MotorSample means (before limits). Raises InvalidMotorSample for
    a sample that cannot be executed as a whole (e.g. an arm goal in an unsupported frame)."""
    notes: list[str] = []
    locomotion = None
    if sample.HasField("Locomotion"):
        locomotion = locomotion_to_command(sample.Locomotion, config, notes)
    body = None
    height = None
    orientation = None
    if sample.HasField("OperatingHeight"):
        height = operating_height_to_offset(sample.OperatingHeight, config.nominal_body_height)
    if sample.HasField("Head"):
        orientation = head_to_body_orientation(_vec(sample.Head), config.convention)
    if height is not None or orientation is not None:
        body = BodyPoseUpdate(height=height, orientation=orientation)
    arm, gripper = end_effectors_to_commands(sample.EndEffectors, config, notes)
    playback = sample.PlaybackFlag if sample.HasField("PlaybackFlag") else False
    record = sample.RecordFlag if sample.HasField("RecordFlag") else False
    name = sample.PlaybackActionName if sample.HasField("PlaybackActionName") else None
    if playback and not name:
        raise InvalidMotorSample("PlaybackFlag is set but PlaybackActionName is empty: which recording?")
    if (playback or record) and name:
        check_action_name(name)
    return MotorCommand(locomotion=locomotion, body=body, arm=arm, gripper=gripper, record=record,
                        playback=playback, action_name=name or None, notes=tuple(notes))


def locomotion_to_command(loco: bow.Locomotion, config: MotorConfig,
                          notes: list[str] | None = None) -> Locomotion:
    """BOW Locomotion -> VelocityCommand (VELOCITY_MODE) or relative Se2Goal (POSITION_MODE)."""
    notes = notes if notes is not None else []
    mode = loco.LocomotionMode if loco.HasField("LocomotionMode") else bow.UNKNOWN_LOCOMOTION_MODE
    if mode == bow.VELOCITY_MODE:
        kind = LocomotionMode.VELOCITY
    elif mode == bow.POSITION_MODE:
        kind = LocomotionMode.POSITION
    elif mode == bow.UNKNOWN_LOCOMOTION_MODE:
        kind = config.default_locomotion_mode
    else:  # validate_motor_sample rejects these first; never guess a mode
        raise InvalidMotorSample(f"Locomotion.LocomotionMode {mode} is not a LocomotionModeEnum value")
    units = _units(loco, "RotationUnits")
    translation = frames.position_bow_to_ros(_vec(loco.Position), convention=config.convention)
    rotation_rad = tuple(frames.angles_to_radians(_vec(loco.Rotation), units))
    rotation = frames.angular_velocity_bow_to_ros(rotation_rad, convention=config.convention)
    if translation[2] != 0.0:
        notes.append(f"Locomotion vertical component {translation[2]:g} ignored (Spot walks on the ground plane)")
    if rotation[0] != 0.0 or rotation[1] != 0.0:
        notes.append("Locomotion roll/pitch components ignored (use Head for body orientation)")
    if kind is LocomotionMode.VELOCITY:
        return VelocityCommand(v_x=translation[0], v_y=translation[1], v_rot=rotation[2])
    return Se2Goal(x=translation[0], y=translation[1], yaw=rotation[2])


def head_to_body_orientation(head: Vec3, convention: AxisConvention = AxisConvention.BOW_DOCUMENTED) -> Vec3:
    """BOW Head Euler angles (rad; X yaw look-right+, Y pitch look-up+, Z roll lean-right+)
    -> Spot footprint_R_body (roll, pitch, yaw) in rad as `BodyPose` defines them.

    Head has no unit field: an angle beyond ±pi is not a radian value anyone means (degrees,
    probably), so it is rejected (InvalidMotorSample "check the units") like out-of-range arm
    joint angles, not clamped into a pose nobody asked for.
    """
    for axis, value in zip("XYZ", head):
        if abs(value) > math.pi + 1e-9:
            raise InvalidMotorSample(f"Head.{axis} = {value:.4g} rad is beyond ±pi: Head angles are radians "
                                     "(check the units)")
    roll, pitch, yaw = frames.head_euler_to_ros_rpy(head, convention=convention)
    return (float(roll), float(pitch), float(yaw))


def operating_height_to_offset(operating_height: float, nominal_body_height: float) -> float:
    """BOW OperatingHeight (m above the floor) -> Spot body height offset (m, + = higher)."""
    return float(operating_height) - float(nominal_body_height)


def end_effectors_to_commands(
        effectors: Sequence[bow.EndEffector], config: MotorConfig,
        notes: list[str] | None = None) -> tuple[ArmPose | ArmJointMove | None, GripperCommand | None]:
    """BOW EndEffectors -> (arm goal, gripper goal) for Spot's single arm."""
    notes = notes if notes is not None else []
    arm: ArmPose | ArmJointMove | None = None
    gripper: GripperCommand | None = None
    arm_seen = False
    for index, eff in enumerate(effectors):
        name = eff.Name if eff.HasField("Name") else ""
        label = f"EndEffectors[{index}]" + (f" '{name}'" if name else "")
        enabled = eff.HasField("Enabled") and eff.Enabled
        if not enabled:
            notes.append(f"{label} skipped: Enabled is not true")
            continue
        is_arm = (not name and index == 0) or name.lower() in ARM_NAMES
        if not is_arm:
            raise InvalidMotorSample(f"{label}: Spot has one end effector, the arm "
                                     f"(first entry or named one of {', '.join(sorted(ARM_NAMES))})")
        if arm_seen:
            raise InvalidMotorSample(f"{label}: more than one enabled update for Spot's arm")
        arm_seen = True
        if not config.has_arm:
            notes.append(f"{label} skipped: this Spot has no arm")
            continue
        arm, gripper = _arm_update(eff, label, config, notes)
    return arm, gripper


def _arm_update(eff: bow.EndEffector, label: str, config: MotorConfig,
                notes: list[str]) -> tuple[ArmPose | ArmJointMove | None, GripperCommand | None]:
    duration = config.default_move_duration
    if eff.HasField("MovementDurationMs"):
        if eff.MovementDurationMs < 0:
            raise InvalidMotorSample(f"{label}.MovementDurationMs = {eff.MovementDurationMs:g} is negative")
        duration = eff.MovementDurationMs / 1000.0
    mode = eff.ControlMode if eff.HasField("ControlMode") else bow.IK
    arm: ArmPose | ArmJointMove | None = None
    if mode == bow.CUSTOM:
        if len(eff.Angles):
            units = _units(eff, "AngleUnits")
            arm = arm_joint_move(frames.angles_to_radians(list(eff.Angles), units), duration, label)
        if eff.HasField("Transform"):
            notes.append(f"{label}.Transform ignored: ControlMode CUSTOM uses Angles")
    elif mode in (bow.IK, bow.IK_WITH_SELF_COLLISION_AVOIDANCE):
        if eff.HasField("Transform"):
            arm = transform_to_arm_pose(eff.Transform, duration, config.convention, label)
        if len(eff.Angles):
            notes.append(f"{label}.Angles ignored: ControlMode {bow.MotionGeneration.Name(mode)} uses Transform")
    else:
        raise InvalidMotorSample(f"{label}.ControlMode {mode} is not a MotionGeneration value")
    if len(eff.EndEffectorTorque):
        notes.append(f"{label}.EndEffectorTorque ignored: Spot's arm takes no joint torques here")
    gripper = None
    if eff.HasField("Gripper"):
        gripper = gripper_to_command(eff.Gripper, label, notes)
    return arm, gripper


def arm_joint_move(angles_rad: Sequence[float], duration_s: float, label: str = "EndEffector") -> ArmJointMove:
    """Spot arm joint goal from 6 angles in rad (sh0, sh1, el0, el1, wr0, wr1), checked against
    the joint ranges: out-of-range angles are rejected (probably the wrong units), not clamped."""
    angles = tuple(float(a) for a in angles_rad)
    if len(angles) != len(SPOT_ARM_JOINT_FIELDS):
        raise InvalidMotorSample(f"{label}.Angles has {len(angles)} values; Spot's arm takes "
                                 f"{len(SPOT_ARM_JOINT_FIELDS)} ({', '.join(SPOT_ARM_JOINT_FIELDS)})")
    for joint, angle in zip(SPOT_ARM_JOINT_FIELDS, angles):
        lo, hi = SPOT_ARM_JOINT_LIMITS[joint]
        if not lo <= angle <= hi:
            raise InvalidMotorSample(f"{label}.Angles: {joint} = {angle:.4g} rad is outside Spot's "
                                     f"range [{lo:.4g}, {hi:.4g}] rad (check AngleUnits)")
    return ArmJointMove(angles_rad=angles, duration_s=float(duration_s))


def transform_to_arm_pose(transform: bow.Transform, duration_s: float,
                          convention: AxisConvention = AxisConvention.BOW_DOCUMENTED,
                          label: str = "EndEffector") -> ArmPose:
    """BOW Transform -> Spot hand goal in the frame its LocationTag names (`ARM_ROOT_FRAMES`).

    Orientation from `Quaternion` (normalised), else from `EulerAngles` in `AngleUnits` (order
    as `frames.euler_bow_to_quaternion_ros` defines it), else identity (hand level, pointing
    along the frame's x axis).
    """
    tag = transform.LocationTag if transform.HasField("LocationTag") else bow.BASE
    frame = ARM_ROOT_FRAMES.get(tag)
    if frame is None:
        tag_name = bow.RelativeToEnum.Name(tag) if tag in bow.RelativeToEnum.values() else str(tag)
        raise InvalidMotorSample(f"{label}.Transform.LocationTag {tag_name} has no Spot frame an arm goal "
                                 f"can use (supported: BASE -> flat_body, TORSO -> body)")
    position = frames.position_bow_to_ros(_vec(transform.Position), convention=convention)
    if transform.HasField("Quaternion"):
        q = transform.Quaternion
        quat_bow = (float(q.QuatX), float(q.QuatY), float(q.QuatZ), float(q.QuatW))
        norm = math.sqrt(sum(c * c for c in quat_bow))
        if not norm > 1e-6:
            raise InvalidMotorSample(f"{label}.Transform.Quaternion is zero: not a rotation")
        quat = frames.quaternion_bow_to_ros(tuple(c / norm for c in quat_bow), convention=convention)
        quat = _normalized(quat)
    elif transform.HasField("EulerAngles"):
        euler = frames.angles_to_radians(_vec(transform.EulerAngles), _units(transform, "AngleUnits"))
        quat = _normalized(frames.euler_bow_to_quaternion_ros(euler, convention=convention))
    else:
        quat = (0.0, 0.0, 0.0, 1.0)
    return ArmPose(frame=frame, position=(float(position[0]), float(position[1]), float(position[2])), quaternion=quat,
                   duration_s=float(duration_s))


def _normalized(q: Sequence[float]) -> Quat:
    norm = math.sqrt(sum(c * c for c in q))
    x, y, z, w = (float(c) / norm for c in q)
    return (x, y, z, w)


#: Gripper digits that carry a "fraction closed" value.
_DIGITS = ("Thumb", "Index", "Middle", "Ring", "Pinky")


def gripper_to_command(gripper: bow.Gripper, label: str = "EndEffector",
                       notes: list[str] | None = None) -> GripperCommand | None:
    """BOW Gripper -> Spot claw open fraction (1 - fraction closed).

    Spot's claw has one degree of freedom: the most-closed digit given (Thumb..Pinky, each a
    fraction closed 0..1 in PERCENTAGE/DIRECT mode) sets the claw closure. DISTANCE_IK and
    CustomAngles have no Spot meaning and are ignored (noted). Values outside 0..1 are kept
    here and clamped by `apply_limits` (reported there).
    """
    notes = notes if notes is not None else []
    mode = gripper.GripperMode if gripper.HasField("GripperMode") else bow.PERCENTAGE
    if len(gripper.CustomAngles) or len(gripper.JointNames):
        notes.append(f"{label}.Gripper CustomAngles/JointNames ignored (Spot's claw has one joint)")
    if mode == bow.DISTANCE_IK:
        notes.append(f"{label}.Gripper DISTANCE_IK ignored: Spot's claw takes a fraction open")
        return None
    closed = [float(getattr(gripper, d)) for d in _DIGITS if gripper.HasField(d)]
    if not closed:
        return None
    return GripperCommand(open_fraction=1.0 - max(closed))


def twist_to_velocity(linear: Vec3, angular: Vec3) -> VelocityCommand:
    """geometry_msgs/Twist on `cmd_vel` (REP 103 body axes: m/s, rad/s) -> Spot body velocity.

    linear.x forward, linear.y left, angular.z turn left; the other components cannot be
    executed by a walking robot and are ignored. NaN/inf anywhere rejects the whole Twist.
    """
    for name, vec in (("linear", linear), ("angular", angular)):
        for axis, value in zip("xyz", vec):
            if not math.isfinite(value):
                raise InvalidMotorSample(f"cmd_vel {name}.{axis} is {value} (NaN and infinity are never commands)")
    return VelocityCommand(v_x=float(linear[0]), v_y=float(linear[1]), v_rot=float(angular[2]))


# ---------------------------------------------------------------------------------------------
# Whole pipeline
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ConvertedSample:
    """A sample ready to execute: the original, its limited command and the clamps applied."""

    sample: bow.MotorSample
    command: MotorCommand
    clamps: tuple[Clamp, ...] = field(default=())


def convert_motor_sample(sample: bow.MotorSample, config: MotorConfig,
                         limits: MotionLimits) -> ConvertedSample:
    """validate -> convert -> limit. Raises InvalidMotorSample with the reason."""
    validate_motor_sample(sample)
    command = motor_sample_to_command(sample, config)
    command, clamps = apply_limits(command, limits)
    return ConvertedSample(sample, command, tuple(clamps))


def parse_motor_sample(payload: str | bytes | bytearray | memoryview) -> bow.MotorSample:
    """JSON text (str) or binary protobuf (bytes-like) -> validated MotorSample."""
    if isinstance(payload, str):
        return parse_motor_sample_json(payload)
    return parse_motor_sample_binary(bytes(payload))


_ACTION_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,127}$")


def check_action_name(name: str) -> str:
    """A recording name usable as a file name: letters, digits, '_', '-', '.', not leading '.'."""
    if not isinstance(name, str) or not _ACTION_NAME.match(name) or ".." in name:
        raise InvalidMotorSample(f"PlaybackActionName {name!r} is not a valid recording name "
                                 f"(letters, digits, '_', '-', '.'; at most 128 characters)")
    return name
