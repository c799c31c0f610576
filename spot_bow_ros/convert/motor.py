"""BOW `MotorSample` (and ROS `cmd_vel`) -> the Spot command it means. Pure: no I/O, no threads.

Every sign and unit of the motor path is decided here, and every axis/unit convention comes from
`spot_bow_ros.bow.frames` (never re-derived here). The output is a `MotorCommand` made of plain
dataclasses that `spot.commander` turns into bosdyn `RobotCommand`s.

Frames and units of the outputs (Spot body frame = REP 103: x forward, y left, z up):

- `VelocityCommand(v_x, v_y, v_rot)`: m/s forward, m/s left, rad/s counter-clockwise seen from
  above (positive = turn left). Spot's `synchro_velocity_command` takes exactly these.
- `Se2Goal(x, y, yaw)`: a goal relative to the robot's current body pose on the ground plane:
  metres forward/left, rad counter-clockwise.
- `BodyPose(height, roll, pitch, yaw)`: body height offset in metres relative to Spot's nominal
  stand height, and the orientation of the body relative to its footprint (`footprint_R_body`,
  applied as bosdyn `EulerZXY(yaw, roll, pitch)`) in rad: roll right side down positive (about
  +x), pitch nose DOWN positive (about +y), yaw left positive (about +z).
- `ArmPose(frame, position, quaternion, duration_s)`: hand pose in the Spot frame `frame`,
  metres, quaternion (x, y, z, w), move duration in seconds.
- `ArmJointMove(angles_rad, duration_s)`: Spot arm joints (sh0, sh1, el0, el1, wr0, wr1) in rad.
- `GripperCommand(open_fraction)`: Spot claw, 0 = closed, 1 = fully open.

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
  unit field; beyond ±pi is rejected as the wrong units) -> body orientation. `OperatingHeight` (metres above the floor) -> body height
  offset = OperatingHeight - `MotorConfig.nominal_body_height`.
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

import enum
import math
import re
from dataclasses import dataclass, field, replace
from typing import Sequence

from google.protobuf import json_format
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import DecodeError, Message

from ..bow import bow_data_pb2 as bow
from ..bow import frames
from ..bow.frames import AxisConvention

Vec3 = tuple[float, float, float]
Quat = tuple[float, float, float, float]  # (x, y, z, w)


class InvalidMotorSample(ValueError):
    """A MotorSample (or cmd_vel) that must not be executed at all. `str(exc)` says why."""


# ---------------------------------------------------------------------------------------------
# Spot facts (hardware ranges the configurable limits may never exceed)
# ---------------------------------------------------------------------------------------------

#: Spot's maximum walking speed (m/s) and yaw rate (rad/s) (Spot specifications).
SPOT_MAX_LINEAR_VELOCITY = 1.6
SPOT_MAX_ANGULAR_VELOCITY = 2.0
#: Body height offset range relative to the nominal stand height (m) accepted by Spot.
SPOT_BODY_HEIGHT_RANGE = (-0.20, 0.20)
#: Body orientation range (rad, each of roll, pitch, yaw relative to the footprint).
SPOT_BODY_ANGLE_MAX = 0.5
#: Spot arm joint names in the order `ArmJointMove.angles_rad` and BOW `Angles` use.
SPOT_ARM_JOINTS = ("sh0", "sh1", "el0", "el1", "wr0", "wr1")
#: Spot arm joint ranges (rad), from the Spot arm URDF.
SPOT_ARM_JOINT_LIMITS = {
    "sh0": (-2.61799, 3.14159),
    "sh1": (-3.14159, 0.523599),
    "el0": (0.0, 3.14159),
    "el1": (-2.79253, 2.79253),
    "wr0": (-1.8326, 1.8326),
    "wr1": (-2.87979, 2.87979),
}

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


class LocomotionMode(enum.Enum):
    VELOCITY = "velocity"
    POSITION = "position"


# ---------------------------------------------------------------------------------------------
# Output types
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class VelocityCommand:
    """Spot body-frame velocity: `v_x` m/s forward, `v_y` m/s left, `v_rot` rad/s turn left."""

    v_x: float = 0.0
    v_y: float = 0.0
    v_rot: float = 0.0

    @property
    def is_zero(self) -> bool:
        return self.v_x == 0.0 and self.v_y == 0.0 and self.v_rot == 0.0


@dataclass(frozen=True)
class Se2Goal:
    """Goal relative to the current body pose: `x` m forward, `y` m left, `yaw` rad turn left."""

    x: float = 0.0
    y: float = 0.0
    yaw: float = 0.0


@dataclass(frozen=True)
class BodyPose:
    """Body height offset (m, relative to nominal stand height) and footprint_R_body (rad):
    roll about +x (right side down positive), pitch about +y (nose down positive), yaw about +z
    (left positive)."""

    height: float = 0.0
    roll: float = 0.0
    pitch: float = 0.0
    yaw: float = 0.0

    def apply(self, update: "BodyPoseUpdate | None") -> "BodyPose":
        """This pose with the parts `update` sets replaced (unset parts unchanged)."""
        if update is None:
            return self
        pose = self
        if update.height is not None:
            pose = replace(pose, height=update.height)
        if update.orientation is not None:
            roll, pitch, yaw = update.orientation
            pose = replace(pose, roll=roll, pitch=pitch, yaw=yaw)
        return pose


@dataclass(frozen=True)
class BodyPoseUpdate:
    """What a sample changes of the body pose: `height` offset (m) and/or `orientation`
    (roll, pitch, yaw) in rad as in `BodyPose`; None = unchanged."""

    height: float | None = None
    orientation: Vec3 | None = None


@dataclass(frozen=True)
class ArmPose:
    """Hand goal: `position` (m) and `quaternion` (x, y, z, w) in Spot frame `frame`."""

    frame: str
    position: Vec3
    quaternion: Quat
    duration_s: float


@dataclass(frozen=True)
class ArmJointMove:
    """Arm joint goal: `angles_rad` in `SPOT_ARM_JOINTS` order, reached in `duration_s`."""

    angles_rad: tuple[float, ...]
    duration_s: float


@dataclass(frozen=True)
class GripperCommand:
    """Spot claw opening: 0.0 closed .. 1.0 fully open."""

    open_fraction: float


Locomotion = VelocityCommand | Se2Goal


@dataclass(frozen=True)
class MotorCommand:
    """Everything one MotorSample asks of Spot. None = no change of that part."""

    locomotion: Locomotion | None = None
    body: BodyPoseUpdate | None = None
    arm: ArmPose | ArmJointMove | None = None
    gripper: GripperCommand | None = None
    record: bool = False
    playback: bool = False
    action_name: str | None = None
    #: Parts of the sample that were present but not used (warned once per kind by motor_command).
    notes: tuple[str, ...] = ()

    @property
    def moves(self) -> bool:
        """True when the command asks for any motion or body/arm/gripper change."""
        return any(p is not None for p in (self.locomotion, self.body, self.arm, self.gripper))


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


@dataclass(frozen=True)
class MotionLimits:
    """Limits every command is clamped to (units as in the output types)."""

    max_linear_velocity: float = 0.5      # m/s, planar speed (direction kept)
    max_angular_velocity: float = 0.8     # rad/s
    min_body_height: float = -0.15        # m relative to nominal
    max_body_height: float = 0.15         # m relative to nominal
    max_body_roll: float = 0.35           # rad
    max_body_pitch: float = 0.35          # rad
    max_body_yaw: float = 0.35            # rad
    max_goal_distance: float = 2.0        # m per POSITION_MODE goal (direction kept)
    max_goal_yaw: float = math.pi         # rad per POSITION_MODE goal
    max_arm_reach: float = 1.5            # m from the root frame origin: farther is rejected
    min_move_duration: float = 0.5        # s: faster arm/gripper moves are slowed down
    max_move_duration: float = 30.0       # s

    def __post_init__(self) -> None:
        problems = []
        if not 0.0 <= self.max_linear_velocity <= SPOT_MAX_LINEAR_VELOCITY:
            problems.append(f"max_linear_velocity {self.max_linear_velocity} outside [0, {SPOT_MAX_LINEAR_VELOCITY}] m/s")
        if not 0.0 <= self.max_angular_velocity <= SPOT_MAX_ANGULAR_VELOCITY:
            problems.append(f"max_angular_velocity {self.max_angular_velocity} outside [0, {SPOT_MAX_ANGULAR_VELOCITY}] rad/s")
        lo, hi = SPOT_BODY_HEIGHT_RANGE
        if not lo <= self.min_body_height <= self.max_body_height <= hi:
            problems.append(f"body height range [{self.min_body_height}, {self.max_body_height}] m "
                            f"must be ordered and inside Spot's [{lo}, {hi}]")
        for name in ("max_body_roll", "max_body_pitch", "max_body_yaw"):
            value = getattr(self, name)
            if not 0.0 <= value <= SPOT_BODY_ANGLE_MAX:
                problems.append(f"{name} {value} outside [0, {SPOT_BODY_ANGLE_MAX}] rad")
        if not (self.max_goal_distance >= 0 and self.max_goal_yaw >= 0 and self.max_arm_reach > 0):
            problems.append("goal distance, goal yaw and arm reach limits must be positive")
        if not 0.0 < self.min_move_duration <= self.max_move_duration:
            problems.append(f"move duration range [{self.min_move_duration}, {self.max_move_duration}] s must be ordered and positive")
        if any(not math.isfinite(getattr(self, f)) for f in self.__dataclass_fields__):
            problems.append("limits must be finite")
        if problems:
            raise ValueError("invalid motion limits: " + "; ".join(problems))


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
        repeated = _is_repeated(fd)
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


def _is_repeated(fd: FieldDescriptor) -> bool:
    # protobuf >= 5.x has `is_repeated`; 7.x removed `label`; older ones only have `label`.
    flag = getattr(fd, "is_repeated", None)
    if flag is not None:
        return bool(flag)
    return fd.label == FieldDescriptor.LABEL_REPEATED


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


def end_effectors_to_commands(effectors: Sequence[bow.EndEffector], config: MotorConfig,
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
    if len(angles) != len(SPOT_ARM_JOINTS):
        raise InvalidMotorSample(f"{label}.Angles has {len(angles)} values; Spot's arm takes "
                                 f"{len(SPOT_ARM_JOINTS)} ({', '.join(SPOT_ARM_JOINTS)})")
    for joint, angle in zip(SPOT_ARM_JOINTS, angles):
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
    return ArmPose(frame=frame, position=tuple(float(c) for c in position), quaternion=quat,
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
# Limits
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Clamp:
    """One limit applied: `what` was `requested` and became `applied` (units of the output).
    `part`: which part of the command (locomotion, body, arm, gripper)."""

    what: str
    requested: float
    applied: float
    part: str = ""

    @property
    def noticeable(self) -> bool:
        """False when the value only exceeded the limit by float32 rounding (BOW fields are
        float32: 0.8 arrives as 0.800000011920929). Such values are still clipped, not warned."""
        return abs(self.requested - self.applied) > 1e-6 * max(1.0, abs(self.applied))

    def __str__(self) -> str:
        return f"{self.what} {self.requested:.4g} -> {self.applied:.4g}"


def _clip(value: float, lo: float, hi: float) -> float:
    return lo if value < lo else hi if value > hi else value


def clamp_velocity(cmd: VelocityCommand, limits: MotionLimits) -> tuple[VelocityCommand, list[Clamp]]:
    """Planar speed limited to max_linear_velocity (direction kept), |v_rot| to max_angular_velocity."""
    clamps: list[Clamp] = []
    v_x, v_y, v_rot = cmd.v_x, cmd.v_y, cmd.v_rot
    speed = math.hypot(v_x, v_y)
    if speed > limits.max_linear_velocity:
        scale = limits.max_linear_velocity / speed
        v_x, v_y = v_x * scale, v_y * scale
        clamps.append(Clamp("linear speed (m/s)", speed, limits.max_linear_velocity, "locomotion"))
    clipped = _clip(v_rot, -limits.max_angular_velocity, limits.max_angular_velocity)
    if clipped != v_rot:
        clamps.append(Clamp("yaw rate (rad/s)", v_rot, clipped, "locomotion"))
    return VelocityCommand(v_x, v_y, clipped), clamps


def clamp_se2_goal(goal: Se2Goal, limits: MotionLimits) -> tuple[Se2Goal, list[Clamp]]:
    """Goal distance limited to max_goal_distance (direction kept), |yaw| to max_goal_yaw."""
    clamps: list[Clamp] = []
    x, y = goal.x, goal.y
    dist = math.hypot(x, y)
    if dist > limits.max_goal_distance:
        scale = limits.max_goal_distance / dist
        x, y = x * scale, y * scale
        clamps.append(Clamp("goal distance (m)", dist, limits.max_goal_distance, "locomotion"))
    yaw = _clip(goal.yaw, -limits.max_goal_yaw, limits.max_goal_yaw)
    if yaw != goal.yaw:
        clamps.append(Clamp("goal yaw (rad)", goal.yaw, yaw, "locomotion"))
    return Se2Goal(x, y, yaw), clamps


def clamp_body(update: BodyPoseUpdate, limits: MotionLimits) -> tuple[BodyPoseUpdate, list[Clamp]]:
    """Body height offset to [min_body_height, max_body_height], each angle to its max."""
    clamps: list[Clamp] = []
    height = update.height
    if height is not None:
        clipped = _clip(height, limits.min_body_height, limits.max_body_height)
        if clipped != height:
            clamps.append(Clamp("body height offset (m)", height, clipped, "body"))
        height = clipped
    orientation = update.orientation
    if orientation is not None:
        out = []
        for name, value, lim in zip(("roll", "pitch", "yaw"), orientation,
                                    (limits.max_body_roll, limits.max_body_pitch, limits.max_body_yaw)):
            clipped = _clip(value, -lim, lim)
            if clipped != value:
                clamps.append(Clamp(f"body {name} (rad)", value, clipped, "body"))
            out.append(clipped)
        orientation = (out[0], out[1], out[2])
    return BodyPoseUpdate(height=height, orientation=orientation), clamps


def clamp_body_pose(pose: BodyPose, limits: MotionLimits) -> tuple[BodyPose, list[Clamp]]:
    """A full BodyPose within the limits (e.g. the initial pose from parameters)."""
    update, clamps = clamp_body(BodyPoseUpdate(pose.height, (pose.roll, pose.pitch, pose.yaw)), limits)
    roll, pitch, yaw = update.orientation
    return BodyPose(update.height, roll, pitch, yaw), clamps


def clamp_duration(duration_s: float, limits: MotionLimits, what: str = "arm move duration (s)") -> tuple[float, list[Clamp]]:
    """Arm move duration (s) to [min_move_duration, max_move_duration]."""
    clipped = _clip(duration_s, limits.min_move_duration, limits.max_move_duration)
    return clipped, ([Clamp(what, duration_s, clipped, "arm")] if clipped != duration_s else [])


def apply_limits(cmd: MotorCommand, limits: MotionLimits) -> tuple[MotorCommand, list[Clamp]]:
    """`cmd` clamped to `limits`, and every clamp applied. Raises InvalidMotorSample for an arm
    goal beyond `max_arm_reach` (rejected whole, never shortened)."""
    clamps: list[Clamp] = []
    locomotion = cmd.locomotion
    if isinstance(locomotion, VelocityCommand):
        locomotion, c = clamp_velocity(locomotion, limits)
        clamps += c
    elif isinstance(locomotion, Se2Goal):
        locomotion, c = clamp_se2_goal(locomotion, limits)
        clamps += c
    body = cmd.body
    if body is not None:
        body, c = clamp_body(body, limits)
        clamps += c
    arm = cmd.arm
    if arm is not None:
        duration, c = clamp_duration(arm.duration_s, limits, "arm move duration (s)")
        clamps += c
        if isinstance(arm, ArmPose):
            reach = math.sqrt(sum(p * p for p in arm.position))
            if reach > limits.max_arm_reach:
                raise InvalidMotorSample(f"arm goal {reach:.3g} m from {arm.frame} is beyond the "
                                         f"{limits.max_arm_reach:g} m reach limit")
        arm = replace(arm, duration_s=duration)
    gripper = cmd.gripper
    if gripper is not None:
        clipped = _clip(gripper.open_fraction, 0.0, 1.0)
        if clipped != gripper.open_fraction:
            clamps.append(Clamp("gripper open fraction", gripper.open_fraction, clipped, "gripper"))
            gripper = GripperCommand(clipped)
    clamps = [c for c in clamps if c.noticeable]
    return replace(cmd, locomotion=locomotion, body=body, arm=arm, gripper=gripper), clamps


def within_limits(cmd: MotorCommand, limits: MotionLimits, tol: float = 1e-9) -> bool:
    """True when `cmd` is inside `limits` (used by tests and as a last check before sending)."""
    try:
        limited, clamps = apply_limits(cmd, limits)
    except InvalidMotorSample:
        return False
    return all(abs(c.requested - c.applied) <= tol for c in clamps)


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


def describe(cmd: MotorCommand) -> str:
    """One-line summary of a command for logs."""
    parts: list[str] = []
    loc = cmd.locomotion
    if isinstance(loc, VelocityCommand):
        parts.append(f"velocity x={loc.v_x:.3f} y={loc.v_y:.3f} m/s yaw={loc.v_rot:.3f} rad/s")
    elif isinstance(loc, Se2Goal):
        parts.append(f"goal x={loc.x:.3f} y={loc.y:.3f} m yaw={loc.yaw:.3f} rad")
    if cmd.body is not None:
        if cmd.body.height is not None:
            parts.append(f"height {cmd.body.height:+.3f} m")
        if cmd.body.orientation is not None:
            parts.append("body rpy (%.3f, %.3f, %.3f) rad" % cmd.body.orientation)
    if isinstance(cmd.arm, ArmPose):
        parts.append(f"arm pose in {cmd.arm.frame}")
    elif isinstance(cmd.arm, ArmJointMove):
        parts.append("arm joints")
    if cmd.gripper is not None:
        parts.append(f"claw {cmd.gripper.open_fraction:.2f} open")
    return ", ".join(parts) or "no motion"

