"""Pure builders of bosdyn `RobotCommand` protos from `convert.motion` dataclasses (no robot;
tested in test/spot/test_commander.py). `spot.commander.SpotCommander` sends them.

Every mobility command carries `MobilityParams` with the body pose (height offset and
footprint_R_body) and the velocity limits: a mobility command without params resets the body.
"""

from __future__ import annotations

import math

from bosdyn.client.frame_helpers import ODOM_FRAME_NAME
from bosdyn.client.math_helpers import SE2Pose
from bosdyn.client.robot_command import RobotCommandBuilder
from bosdyn.geometry import EulerZXY

from ..convert.motion import ArmJointMove, ArmPose, BodyPose, GripperCommand, MotionLimits, Se2Goal, VelocityCommand


def mobility_params(body: BodyPose, limits: MotionLimits):
    """Spot MobilityParams: body height offset (m) and footprint_R_body from `body`, and the
    velocity limits of `limits` (so Spot itself never walks faster, also for POSITION goals)."""
    params = RobotCommandBuilder.mobility_params(
        body_height=body.height,
        footprint_R_body=EulerZXY(yaw=body.yaw, roll=body.roll, pitch=body.pitch))
    v, w = limits.max_linear_velocity, limits.max_angular_velocity
    params.vel_limit.max_vel.linear.x = v
    params.vel_limit.max_vel.linear.y = v
    params.vel_limit.max_vel.angular = w
    params.vel_limit.min_vel.linear.x = -v
    params.vel_limit.min_vel.linear.y = -v
    params.vel_limit.min_vel.angular = -w
    return params


def build_velocity_command(vel: VelocityCommand, body: BodyPose, limits: MotionLimits, end_time):
    """synchro_velocity_command in the body frame with `end_time` (robot-clock Timestamp)."""
    cmd = RobotCommandBuilder.synchro_velocity_command(
        v_x=vel.v_x, v_y=vel.v_y, v_rot=vel.v_rot, params=mobility_params(body, limits))
    cmd.synchronized_command.mobility_command.se2_velocity_request.end_time.CopyFrom(end_time)
    return cmd


def odom_goal(goal: Se2Goal, odom_tform_body: SE2Pose) -> SE2Pose:
    """Relative goal (forward, left, yaw-left in the current body frame) -> odom SE2 pose."""
    return odom_tform_body * SE2Pose(goal.x, goal.y, goal.yaw)


def goal_duration(goal: Se2Goal, limits: MotionLimits, margin_s: float = 2.0) -> float:
    """Time (s) to allow for a relative goal: twice the time at the velocity limits, + margin."""
    t_lin = math.hypot(goal.x, goal.y) / max(limits.max_linear_velocity, 1e-3)
    t_rot = abs(goal.yaw) / max(limits.max_angular_velocity, 1e-3)
    return 2.0 * max(t_lin, t_rot) + margin_s


def build_se2_goal_command(goal_in_odom: SE2Pose, body: BodyPose, limits: MotionLimits, end_time):
    """synchro_se2_trajectory_point_command in `odom` with `end_time` (robot-clock Timestamp)."""
    cmd = RobotCommandBuilder.synchro_se2_trajectory_point_command(
        goal_x=goal_in_odom.x, goal_y=goal_in_odom.y, goal_heading=goal_in_odom.angle,
        frame_name=ODOM_FRAME_NAME, params=mobility_params(body, limits))
    cmd.synchronized_command.mobility_command.se2_trajectory_request.end_time.CopyFrom(end_time)
    return cmd


def build_stand_command(body: BodyPose, limits: MotionLimits):
    """synchro_stand_command holding `body` (also used for body-only changes)."""
    return RobotCommandBuilder.synchro_stand_command(params=mobility_params(body, limits))


def build_arm_command(arm: ArmPose | ArmJointMove):
    if isinstance(arm, ArmPose):
        x, y, z = arm.position
        qx, qy, qz, qw = arm.quaternion
        return RobotCommandBuilder.arm_pose_command(x, y, z, qw, qx, qy, qz, arm.frame,
                                                    seconds=arm.duration_s)
    return RobotCommandBuilder.arm_joint_move_helper(joint_positions=[list(arm.angles_rad)],
                                                     times=[arm.duration_s])


def build_gripper_command(gripper: GripperCommand):
    return RobotCommandBuilder.claw_gripper_open_fraction_command(gripper.open_fraction)


def combine(*commands):
    """One synchronized RobotCommand from mobility/arm/gripper parts (None parts skipped)."""
    parts = [c for c in commands if c is not None]
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    return RobotCommandBuilder.build_synchro_command(*parts)
