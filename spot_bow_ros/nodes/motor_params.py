"""motor_command's parameters, declared in one place: defaults, ranges, descriptions; and the
`MotionLimits` / `MotorConfig` they make (the supervisor owns the limits once running)."""

from __future__ import annotations

import math
from typing import Any

from ..bow.frames import AxisConvention
from ..convert import motion
from ..convert.motion import LocomotionMode, MotionLimits
from ..convert.motor import MotorConfig
from ..ros.params import ParameterError, ParamSpec
from ..spot.estop import ESTOP_MODES

_DEFAULT_LIMITS = MotionLimits()

MOTOR_PARAMS: list[ParamSpec] = [
    ParamSpec("enable_motion", False, "Allow motion from start-up (else send the enable_motion verb)"),
    ParamSpec("auto_claim", True, "Acquire the body lease at start-up, and again when it was lost without being "
              "taken (robot restart, reconnection); a lease another client took or the robot revoked is "
              "a latched stop: claim / take_lease"),
    ParamSpec("take_lease", False, "Take the lease at start-up and on the claim verb even if another "
              "client (tablet) holds it; a lease lost later is never taken back automatically"),
    ParamSpec("auto_power_on", False, "Power the motors on at start-up"),
    ParamSpec("auto_stand", False, "Stand up at start-up (needs enable_motion and power)"),
    ParamSpec("estop", "software", "E-Stop: software = this bridge registers as the robot's E-Stop "
              "endpoint (needed to power on without a tablet; the robot stops if the bridge dies); "
              "none = somebody else (tablet) holds it", choices=ESTOP_MODES),
    ParamSpec("estop_release_at_start", False, "Software E-Stop: register at NONE (power-on allowed at "
              "once) instead of SETTLE_THEN_CUT, which needs the estop_release verb before the first power_on"),
    ParamSpec("heartbeat_timeout", 4.0, "Software E-Stop: ask SETTLE_THEN_CUT when the command path "
              "(executor) has not run for this long (s)", min=0.5, max=60.0),
    ParamSpec("gil_switch_interval", 0.001, "Python's thread switch interval for this process (s, "
              "sys.setswitchinterval, only ever lowered): short, so the E-Stop thread gets the interpreter "
              "within about a millisecond while other threads are busy; 0 leaves Python's 0.005",
              min=0.0, max=0.1),
    ParamSpec("estop_timeout", 9.0, "Software E-Stop: the robot sits and cuts power when the bridge "
              "has not checked in for this long (s)", min=1.0, max=60.0),
    ParamSpec("estop_cut_power_timeout", 0.0, "Software E-Stop: cut power at once after this long "
              "without check-in (s; 0 = robot default, about estop_timeout + 4)", min=0.0, max=120.0),
    ParamSpec("cmd_duration", 0.6, "Velocity command lifetime on the robot (s)", min=0.05, max=5.0, live=True),
    ParamSpec("cmd_timeout", 0.5, "Watchdog: stop when velocity commands stop for this long (s)",
              min=0.05, max=10.0, live=True),
    ParamSpec("max_linear_velocity", _DEFAULT_LIMITS.max_linear_velocity, "Planar speed limit (m/s)",
              min=0.0, max=motion.SPOT_MAX_LINEAR_VELOCITY, live=True),
    ParamSpec("max_angular_velocity", _DEFAULT_LIMITS.max_angular_velocity, "Yaw rate limit (rad/s)",
              min=0.0, max=motion.SPOT_MAX_ANGULAR_VELOCITY, live=True),
    ParamSpec("min_body_height", _DEFAULT_LIMITS.min_body_height, "Lowest body height offset (m)",
              min=motion.SPOT_BODY_HEIGHT_RANGE[0], max=motion.SPOT_BODY_HEIGHT_RANGE[1], live=True),
    ParamSpec("max_body_height", _DEFAULT_LIMITS.max_body_height, "Highest body height offset (m)",
              min=motion.SPOT_BODY_HEIGHT_RANGE[0], max=motion.SPOT_BODY_HEIGHT_RANGE[1], live=True),
    ParamSpec("max_body_roll", _DEFAULT_LIMITS.max_body_roll, "Body roll limit (rad)", min=0.0,
              max=motion.SPOT_BODY_ANGLE_MAX, live=True),
    ParamSpec("max_body_pitch", _DEFAULT_LIMITS.max_body_pitch, "Body pitch limit (rad)", min=0.0,
              max=motion.SPOT_BODY_ANGLE_MAX, live=True),
    ParamSpec("max_body_yaw", _DEFAULT_LIMITS.max_body_yaw, "Body yaw limit (rad)", min=0.0,
              max=motion.SPOT_BODY_ANGLE_MAX, live=True),
    ParamSpec("max_goal_distance", _DEFAULT_LIMITS.max_goal_distance, "POSITION_MODE step limit (m)",
              min=0.0, max=20.0, live=True),
    ParamSpec("max_goal_yaw", _DEFAULT_LIMITS.max_goal_yaw, "POSITION_MODE turn limit (rad)", min=0.0,
              max=2 * math.pi, live=True),
    ParamSpec("max_arm_reach", _DEFAULT_LIMITS.max_arm_reach, "Arm goals farther are rejected (m)",
              min=0.1, max=3.0, live=True),
    ParamSpec("min_move_duration", _DEFAULT_LIMITS.min_move_duration, "Fastest arm move (s)", min=0.05,
              max=60.0, live=True),
    ParamSpec("max_move_duration", _DEFAULT_LIMITS.max_move_duration, "Slowest arm move (s)", min=0.05,
              max=600.0, live=True),
    ParamSpec("default_move_duration", 2.0, "Arm move duration without MovementDurationMs (s)",
              min=0.05, max=600.0),
    ParamSpec("nominal_body_height", 0.52, "Spot's nominal stand height above the floor (m); "
              "OperatingHeight is relative to it", min=0.2, max=1.0),
    ParamSpec("axis_convention", "bow_documented", "BOW axes: bow_documented (X right, Y up, "
              "Z forward) or ros (X forward, Y left, Z up)", choices=("bow_documented", "ros")),
    ParamSpec("default_locomotion_mode", "velocity", "Mode for UNKNOWN_LOCOMOTION_MODE",
              choices=("velocity", "position")),
    ParamSpec("has_arm", True, "Spot has an arm (EndEffectors are skipped otherwise)"),
    ParamSpec("recordings_dir", "~/.local/share/spot_bow_ros/recordings",
              "Directory of MotorArray recordings (<name>.motorarray)"),
    ParamSpec("default_recording_name", "recording", "Recording name when PlaybackActionName is empty"),
    ParamSpec("diagnostics_period", 1.0, "Diagnostics publishing and robot probe period (s)",
              min=0.05, max=60.0),
]


def limits_from_params(values: dict[str, Any]) -> MotionLimits:
    names = [f for f in MotionLimits.__dataclass_fields__]
    try:
        return MotionLimits(**{n: values[n] for n in names if n in values})
    except ValueError as exc:
        raise ParameterError(str(exc)) from None


def config_from_params(values: dict[str, Any]) -> MotorConfig:
    return MotorConfig(
        convention=AxisConvention.ROS if values["axis_convention"] == "ros" else AxisConvention.BOW_DOCUMENTED,
        nominal_body_height=values["nominal_body_height"], has_arm=values["has_arm"],
        default_locomotion_mode=LocomotionMode(values["default_locomotion_mode"]),
        default_move_duration=values["default_move_duration"])
