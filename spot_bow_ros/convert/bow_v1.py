"""BOW messages v1 (the BOW SDK's `bow_data`, see `bow.sdk_v1`) MotorSample <-> Spot commands. Pure.

The v1 message module is passed in as `v1` (never imported here), so this module loads without
the BOW SDK. Axes and angles: `frames.SDK_V1_CONVENTION` (REP 103: X forward, Y left, Z up;
radians; Euler angles are roll/pitch/yaw), except `GazeTarget.GazeVector` (angle offsets, below).
Every motor conversion ends in the same `convert.motor.MotorCommand` as the documented schema,
so the same limits, expiry and motion gate apply (`apply_limits` here, the rest in `nodes.motor_command`).

MotorSample v1 -> Spot (`motor_sample_v1_to_command`):

- `Locomotion` (VelocityTarget): `TranslationalVelocity` X/Y m/s forward/left and
  `RotationalVelocity.Z` rad/s turn left -> `VelocityCommand` (Z translation and X/Y rotation
  cannot be walked: noted).
- `RawJoints` with `ControlMode USE_DIRECT_JOINTS`: joints matched by name (`arm0.sh0`,
  `arm_sh0` or `sh0`; radians) -> `ArmJointMove` (all six arm joints sh0..wr1 needed; out of
  range = rejected, never clamped); `arm0.f1x` -> claw (0 closed .. -1.5708 rad open). Leg joints
  are refused: Spot's legs are driven by its own balance controller, not joint by joint.
- `GazeTarget.GazeVector`: angle offsets in radians, as the BOW SDK's own example applications
  use them (docs/bow.md, "Evidence"): X + = look right, Y + = look down (Y -0.2 is "look up"),
  Z + = tilt right -> body orientation roll = Z, pitch = Y (ROS pitch: nose down +), yaw = -X
  (ROS yaw: left +). ABSOLUTE (the default): relative to the footprint, so a zero vector
  levels the body; RELATIVE: added to the current body orientation.
- `GripperObjective` in PERCENTAGE_MODE: `HandMapPercentage` digits are the fraction closed
  [0, 1] (as in the documented schema); the most-closed digit closes Spot's one-jaw claw.
- `Objectives`: an `Enabled` objective on the arm effector (`ARM_EFFECTORS`) with a
  `PoseTarget` of type TRANSFORM -> hand pose (`Transform.Position` m and `EulerAngles` rad in
  `flat_body`, or `body` when `Transform.Part` names the body/torso), duration from
  `MovementDurationMs`.
- Everything else (obstacles, IK settings, gait settings, torque/velocity objectives, other
  effectors, ...) is listed in `MotorCommand.notes` (the node warns once per kind).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from types import ModuleType
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message

from ..bow import frames
from ..bow.frames import SDK_V1_CONVENTION
from .joints import spot_joint_name
from .motion import (
    ArmPose,
    BodyPose,
    BodyPoseUpdate,
    GripperCommand,
    InvalidMotorSample,
    MotionLimits,
    MotorCommand,
    VelocityCommand,
    apply_limits,
)
from .motor import ConvertedSample, MotorConfig, arm_joint_move, is_repeated, validate_message
from .spot_catalogue import SPOT_ARM_JOINT_FIELDS
from .spot_urdf import GRIPPER_OPEN_ANGLE, joint_facts

Vec3 = tuple[float, float, float]

#: Effector names (lower-case) under which a v1 objective addresses Spot's arm.
ARM_EFFECTORS = frozenset({"arm", "arm0", "spot_arm", "hand", "gripper", "end_effector", "right",
                           "arm0.hand", "arm0.link_wr1", "arm_link_wr1", "link_wr1", "main"})
#: `Transform.Part` values that mean Spot's body frame (else `flat_body`).
_BODY_PARTS = frozenset({"body", "torso", "base_link"})


# ---------------------------------------------------------------------------------------------
# MotorSample v1 -> MotorCommand
# ---------------------------------------------------------------------------------------------

def parse_motor_sample_v1(payload: str | bytes | bytearray | memoryview, v1: ModuleType) -> Message:
    """JSON text (str) or binary protobuf (bytes-like) -> validated v1 MotorSample."""
    sample = v1.MotorSample()
    if isinstance(payload, str):
        if not payload.lstrip().startswith("{"):
            raise InvalidMotorSample("not a v1 MotorSample in protobuf JSON: expected a JSON object {...}")
        try:
            json_format.Parse(payload, sample)
        except (json_format.ParseError, ValueError, TypeError, RecursionError) as exc:
            raise InvalidMotorSample(f"not a v1 MotorSample in protobuf JSON: {str(exc)[:200]}") from None
    else:
        try:
            sample.ParseFromString(bytes(payload))
        except (DecodeError, ValueError, RuntimeError, RecursionError) as exc:
            raise InvalidMotorSample(f"not a binary v1 MotorSample: {str(exc)[:200]}") from None
    validate_message(sample, "MotorSample")
    return sample


def vector3_tuple(v: Any) -> Vec3:
    """A v1 Vector3 as a plain (x, y, z) tuple of float."""
    return (float(v.X), float(v.Y), float(v.Z))


def velocity_target_to_command(target: Any, notes: list[str]) -> VelocityCommand:
    """v1 VelocityTarget (m/s and rad/s, REP 103 body axes) -> Spot body velocity."""
    lin = frames.position_bow_to_ros(vector3_tuple(target.TranslationalVelocity), SDK_V1_CONVENTION)
    ang = frames.angular_velocity_bow_to_ros(vector3_tuple(target.RotationalVelocity), SDK_V1_CONVENTION)
    if lin[2] != 0.0:
        notes.append("Locomotion.TranslationalVelocity.Z ignored (Spot walks on the ground plane)")
    if ang[0] != 0.0 or ang[1] != 0.0:
        notes.append("Locomotion.RotationalVelocity X/Y ignored (use GazeTarget for body orientation)")
    return VelocityCommand(v_x=lin[0], v_y=lin[1], v_rot=ang[2])


def gaze_to_body_orientation(gaze: Any, current: BodyPose, relative_value: int) -> Vec3:
    """v1 GazeTarget -> body (roll, pitch, yaw) rad as `BodyPose` defines them (REP 103).

    `GazeVector` holds angle offsets (rad) in the BOW SDK examples' sense: X look right +,
    Y look down +, Z tilt right +. `relative_value`: the GazeTarget RELATIVE enum number."""
    x_right, y_down, z_tilt_right = vector3_tuple(gaze.GazeVector)
    roll, pitch, yaw = z_tilt_right, y_down, -x_right
    if gaze.VectorType == relative_value:
        return (current.roll + roll, current.pitch + pitch, current.yaw + yaw)
    return (roll, pitch, yaw)


def body_orientation_to_gaze(orientation: Vec3) -> Vec3:
    """Body (roll, pitch, yaw) rad (REP 103) -> ABSOLUTE GazeVector (X right, Y down, Z tilt right)."""
    roll, pitch, yaw = orientation
    return (-yaw, pitch, roll)


def raw_joints_to_commands(joints: Sequence[Any], duration_s: float, notes: list[str]
                           ) -> tuple[Any, GripperCommand | None]:
    """v1 RawJoints (names, `Position` rad) -> (ArmJointMove | None, GripperCommand | None).

    Leg joints and unknown names reject the whole sample; an arm move needs all six arm joints.
    """
    arm: dict[str, float] = {}
    gripper = None
    for i, joint in enumerate(joints):
        spot = _spot_name(joint.Name)
        if spot is None:
            raise InvalidMotorSample(f"RawJoints[{i}] '{joint.Name}' is not a Spot joint (arm joints: "
                                     f"{', '.join('arm0.' + j for j in SPOT_ARM_JOINT_FIELDS)}, arm0.f1x)")
        if not spot.startswith("arm0."):
            raise InvalidMotorSample(f"RawJoints[{i}] '{joint.Name}': Spot's legs cannot be commanded joint by "
                                     f"joint (its balance controller drives them); use Locomotion and "
                                     f"GazeTarget for the body")
        short = spot[5:]
        if short in arm or (short == "f1x" and gripper is not None):
            raise InvalidMotorSample(f"RawJoints[{i}] '{joint.Name}' appears twice")
        if short == "f1x":
            angle = float(joint.Position)
            if not GRIPPER_OPEN_ANGLE - 1e-3 <= angle <= 1e-3:
                raise InvalidMotorSample(f"RawJoints[{i}] arm0.f1x = {angle:.4g} rad is outside the claw's range "
                                         f"[{GRIPPER_OPEN_ANGLE:g}, 0] rad (0 closed, {GRIPPER_OPEN_ANGLE:g} open)")
            gripper = GripperCommand(open_fraction=min(1.0, max(0.0, angle / GRIPPER_OPEN_ANGLE)))
        else:
            arm[short] = float(joint.Position)
    move = None
    if arm:
        missing = [j for j in SPOT_ARM_JOINT_FIELDS if j not in arm]
        if missing:
            raise InvalidMotorSample(f"RawJoints moves Spot's arm but lacks {', '.join(missing)}: an arm "
                                     f"joint move needs all of {', '.join(SPOT_ARM_JOINT_FIELDS)}")
        move = arm_joint_move([arm[j] for j in SPOT_ARM_JOINT_FIELDS], duration_s, "RawJoints")
    return move, gripper


def _spot_name(name: str) -> str | None:
    """A joint name as BOW apps may write it (`arm0.sh0`, `arm_sh0`, `sh0`, `front_left_knee`,
    `fl.kn`) -> Spot's name, or None when Spot has no such joint."""
    text = str(name).strip()
    if joint_facts(text) is not None:
        return text
    spot = spot_joint_name(text)
    if joint_facts(spot) is not None:
        return spot
    if joint_facts("arm0." + text) is not None:
        return "arm0." + text
    return None


def gripper_objective_to_command(gripper: Any, v1: ModuleType, notes: list[str]) -> GripperCommand | None:
    """v1 Gripper (GripperObjective) in PERCENTAGE_MODE -> claw open fraction (1 - most closed)."""
    if gripper.GripperControlMode != v1.PERCENTAGE_MODE:
        notes.append(f"GripperObjective mode {v1.GripperModeEnum.Name(gripper.GripperControlMode)} ignored "
                     f"(Spot's claw takes PERCENTAGE_MODE)")
        return None
    if not gripper.HasField("HandMapPercentage"):
        notes.append("GripperObjective without HandMapPercentage ignored")
        return None
    h = gripper.HandMapPercentage
    closed = max(float(h.Thumb), float(h.Index), float(h.Middle), float(h.Ring), float(h.Pinky))
    return GripperCommand(open_fraction=1.0 - closed)


def objective_to_arm_pose(obj: Any, index: int, v1: ModuleType, config: MotorConfig,
                          notes: list[str]) -> ArmPose | None:
    """One v1 ObjectiveCommand on the arm effector -> hand pose, or None (noted) when it asks
    for something Spot's arm does not do here."""
    label = f"Objectives[{index}]"
    if obj.ControlMode != v1.POSITION_CONTROLLER:
        notes.append(f"Objectives {v1.ControllerEnum.Name(obj.ControlMode)} ignored (only pose targets)")
        return None
    if not obj.HasField("PoseTarget"):
        notes.append("Objectives without PoseTarget ignored")
        return None
    pose = obj.PoseTarget
    if pose.TargetType != v1.PoseTarget.TRANSFORM or not pose.HasField("Transform"):
        notes.append("Objectives PoseTarget other than TRANSFORM ignored")
        return None
    duration = config.default_move_duration
    if pose.MovementDurationMs < 0:
        raise InvalidMotorSample(f"{label}.PoseTarget.MovementDurationMs = {pose.MovementDurationMs:g} is negative")
    if pose.MovementDurationMs > 0:
        duration = pose.MovementDurationMs / 1000.0
    t = pose.Transform
    frame = "body" if t.Part.strip().lower() in _BODY_PARTS else "flat_body"
    position = frames.position_bow_to_ros(vector3_tuple(t.Position), SDK_V1_CONVENTION)
    quat = frames.euler_bow_to_quaternion_ros(vector3_tuple(t.EulerAngles), SDK_V1_CONVENTION)
    norm = math.sqrt(sum(c * c for c in quat))
    quat = (quat[0] / norm, quat[1] / norm, quat[2] / norm, quat[3] / norm)
    return ArmPose(frame=frame, position=(float(position[0]), float(position[1]), float(position[2])), quaternion=quat,
                   duration_s=float(duration))


def motor_sample_v1_to_command(sample: Any, v1: ModuleType, config: MotorConfig = MotorConfig(),
                               current_body: BodyPose = BodyPose()) -> MotorCommand:
    """The command a validated v1 MotorSample means (before limits). `current_body`: the body
    pose now (for RELATIVE gaze targets). Raises InvalidMotorSample for samples that must not
    run at all (leg joints, incomplete arm joints, two arm goals, ...)."""
    notes: list[str] = []
    locomotion = velocity_target_to_command(sample.Locomotion, notes) if sample.HasField("Locomotion") else None
    body = None
    if sample.HasField("GazeTarget"):
        body = BodyPoseUpdate(orientation=gaze_to_body_orientation(sample.GazeTarget, current_body,
                                                                   v1.GazeTarget.RELATIVE))
    arm = gripper = None
    direct = sample.ControlMode == v1.MotorSample.USE_DIRECT_JOINTS
    if len(sample.RawJoints):
        if direct:
            arm, gripper = raw_joints_to_commands(sample.RawJoints, config.default_move_duration, notes)
        else:
            notes.append("RawJoints ignored: ControlMode is USE_OBJECTIVE (set USE_DIRECT_JOINTS)")
    for i, obj in enumerate(sample.Objectives):
        if direct:
            notes.append("Objectives ignored: ControlMode is USE_DIRECT_JOINTS")
            break
        if obj.TargetEffector.strip().lower() not in ARM_EFFECTORS:
            notes.append(f"Objectives for effector '{obj.TargetEffector}' ignored (Spot's arm: "
                         f"{', '.join(sorted(ARM_EFFECTORS))})")
            continue
        if not obj.Enabled:
            notes.append("Objectives with Enabled false skipped")
            continue
        pose = objective_to_arm_pose(obj, i, v1, config, notes)
        if pose is not None:
            if arm is not None:
                raise InvalidMotorSample(f"Objectives[{i}]: more than one enabled pose goal for Spot's arm")
            arm = pose
    if sample.HasField("GripperObjective"):
        claw = gripper_objective_to_command(sample.GripperObjective, v1, notes)
        if claw is not None:
            if gripper is not None:
                raise InvalidMotorSample("both RawJoints arm0.f1x and GripperObjective set the claw")
            gripper = claw
    for name in ("Obstacles", "IKSettings", "GaitSettings"):
        if _present(sample, name):
            notes.append(f"{name} ignored (Spot plans its own motion)")
    if (arm is not None or gripper is not None) and not config.has_arm:
        notes.append("arm/claw goals skipped: this Spot has no arm")
        arm = gripper = None
    return MotorCommand(locomotion=locomotion, body=body, arm=arm, gripper=gripper, notes=tuple(notes))


def _present(msg: Message, name: str) -> bool:
    fd = msg.DESCRIPTOR.fields_by_name[name]
    value = getattr(msg, name)
    if fd.message_type is not None and not is_repeated(fd):
        return bool(msg.HasField(name))
    return bool(len(value)) if is_repeated(fd) else bool(value)


def convert_motor_sample_v1(sample: Any, v1: ModuleType, config: MotorConfig, limits: MotionLimits,
                            current_body: BodyPose = BodyPose()) -> ConvertedSample:
    """validate -> convert -> limit (the same `apply_limits` as the documented schema)."""
    validate_message(sample, "MotorSample")
    command = motor_sample_v1_to_command(sample, v1, config, current_body)
    command, clamps = apply_limits(command, limits)
    return ConvertedSample(sample, command, tuple(clamps))


def motor_sample_v1_from_command(cmd: MotorCommand, v1: ModuleType) -> Message:
    """What a BOW app sends for `cmd` (inverse of `motor_sample_v1_to_command` for walking and
    body orientation): VelocityCommand -> Locomotion; body (roll, pitch, yaw) -> ABSOLUTE
    GazeTarget angle offsets. Used by the --demo-motion script."""
    out = v1.MotorSample()
    if isinstance(cmd.locomotion, VelocityCommand):
        loc = cmd.locomotion
        t = frames.position_ros_to_bow((loc.v_x, loc.v_y, 0.0), SDK_V1_CONVENTION)
        r = frames.angular_velocity_ros_to_bow((0.0, 0.0, loc.v_rot), SDK_V1_CONVENTION)
        out.Locomotion.TranslationalVelocity.X, out.Locomotion.TranslationalVelocity.Y = t[0], t[1]
        out.Locomotion.RotationalVelocity.Z = r[2]
    elif cmd.locomotion is not None:
        raise ValueError("v1 MotorSamples carry velocities only (no relative goals)")
    if cmd.body is not None and cmd.body.orientation is not None:
        g = out.GazeTarget
        g.GazeVector.X, g.GazeVector.Y, g.GazeVector.Z = body_orientation_to_gaze(cmd.body.orientation)
        g.VectorType = v1.GazeTarget.ABSOLUTE
    return out
