"""Spot motion commands as plain dataclasses, Spot's hardware ranges, and the limits every command
is clamped to. Pure: no I/O, no threads.

`convert.motor` turns BOW `MotorSample`s and `cmd_vel` into these commands; `spot.commander` turns
them into bosdyn `RobotCommand`s. Frames and units (Spot body frame = REP 103: x forward, y left,
z up):

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
- `ArmJointMove(angles_rad, duration_s)`: Spot arm joints (`spot_catalogue.SPOT_ARM_JOINT_FIELDS`) in rad.
- `GripperCommand(open_fraction)`: Spot claw, 0 = closed, 1 = fully open.

`apply_limits` clamps a command to `MotionLimits` and reports every `Clamp`; an arm goal beyond
the reach limit is rejected (`InvalidMotorSample`), never shortened.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, replace

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
#: Spot arm joint ranges (rad), from the Spot arm URDF.
SPOT_ARM_JOINT_LIMITS = {
    "sh0": (-2.61799, 3.14159),
    "sh1": (-3.14159, 0.523599),
    "el0": (0.0, 3.14159),
    "el1": (-2.79253, 2.79253),
    "wr0": (-1.8326, 1.8326),
    "wr1": (-2.87979, 2.87979),
}


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

    def apply(self, update: BodyPoseUpdate | None) -> BodyPose:
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
    """Arm joint goal: `angles_rad` in `SPOT_ARM_JOINT_FIELDS` order, reached in `duration_s`."""

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
            problems.append(f"max_linear_velocity {self.max_linear_velocity} outside "
                            f"[0, {SPOT_MAX_LINEAR_VELOCITY}] m/s")
        if not 0.0 <= self.max_angular_velocity <= SPOT_MAX_ANGULAR_VELOCITY:
            problems.append(f"max_angular_velocity {self.max_angular_velocity} outside "
                            f"[0, {SPOT_MAX_ANGULAR_VELOCITY}] rad/s")
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
            problems.append(f"move duration range [{self.min_move_duration}, {self.max_move_duration}] s "
                            "must be ordered and positive")
        if any(not math.isfinite(getattr(self, f)) for f in self.__dataclass_fields__):
            problems.append("limits must be finite")
        if problems:
            raise ValueError("invalid motion limits: " + "; ".join(problems))


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
    assert update.height is not None and update.orientation is not None  # clamp_body keeps what is set
    roll, pitch, yaw = update.orientation
    return BodyPose(update.height, roll, pitch, yaw), clamps


def clamp_duration(duration_s: float, limits: MotionLimits,
                   what: str = "arm move duration (s)") -> tuple[float, list[Clamp]]:
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
            roll, pitch, yaw = cmd.body.orientation
            parts.append(f"body rpy ({roll:.3f}, {pitch:.3f}, {yaw:.3f}) rad")
    if isinstance(cmd.arm, ArmPose):
        parts.append(f"arm pose in {cmd.arm.frame}")
    elif isinstance(cmd.arm, ArmJointMove):
        parts.append("arm joints")
    if cmd.gripper is not None:
        parts.append(f"claw {cmd.gripper.open_fraction:.2f} open")
    return ", ".join(parts) or "no motion"

