"""BOW messages v1 MotorSample conversions (convert/bow_v1.py) with the real `bow_data` of the bow-api wheel."""

from __future__ import annotations

import math

import pytest
from google.protobuf import json_format

from spot_bow_ros.convert import bow_v1 as c
from spot_bow_ros.convert.motion import (
    ArmJointMove,
    ArmPose,
    BodyPose,
    GripperCommand,
    InvalidMotorSample,
    MotionLimits,
    VelocityCommand,
)
from spot_bow_ros.convert.motor import MotorConfig

v1 = pytest.importorskip("bow_data", reason="bow-api not installed (pip install --no-deps bow-api)")
LIMITS = MotionLimits()
ARM = {"sh0": 0.1, "sh1": -1.0, "el0": 1.5, "el1": 0.2, "wr0": 0.5, "wr1": -0.3}


def wire(sample):
    """Through the binary wire format and back, as a BOW app would send it."""
    return c.parse_motor_sample_v1(sample.SerializeToString(), v1)


def convert(sample, body=BodyPose(), **config):
    return c.convert_motor_sample_v1(wire(sample), v1, MotorConfig(**config), LIMITS, body)


def test_locomotion_velocity_target_is_rep103_body_velocity():
    s = v1.MotorSample()
    s.Locomotion.TranslationalVelocity.X = 0.3    # forward
    s.Locomotion.TranslationalVelocity.Y = -0.1   # right
    s.Locomotion.RotationalVelocity.Z = 0.4       # turn left
    cmd = convert(s).command
    loc = cmd.locomotion
    assert isinstance(loc, VelocityCommand)
    assert (loc.v_x, loc.v_y, loc.v_rot) == pytest.approx((0.3, -0.1, 0.4), abs=1e-6)
    assert cmd.body is None and cmd.arm is None and cmd.gripper is None


def test_locomotion_is_clamped_by_the_same_limits_and_unwalkable_parts_are_noted():
    s = v1.MotorSample()
    s.Locomotion.TranslationalVelocity.X = 3.0
    s.Locomotion.TranslationalVelocity.Z = 1.0
    s.Locomotion.RotationalVelocity.Z = -5.0
    s.Locomotion.RotationalVelocity.X = 0.2
    conv = convert(s)
    assert conv.command.locomotion.v_x == pytest.approx(LIMITS.max_linear_velocity)
    assert conv.command.locomotion.v_rot == pytest.approx(-LIMITS.max_angular_velocity)
    assert {cl.what for cl in conv.clamps} == {"linear speed (m/s)", "yaw rate (rad/s)"}
    assert any("TranslationalVelocity.Z" in n for n in conv.command.notes)
    assert any("RotationalVelocity X/Y" in n for n in conv.command.notes)


def test_nan_anywhere_rejects_the_whole_sample():
    s = v1.MotorSample()
    s.Locomotion.TranslationalVelocity.X = 0.2
    s.GazeTarget.GazeVector.Y = float("nan")
    with pytest.raises(InvalidMotorSample, match="GazeVector.Y is nan"):
        convert(s)


# The BOW SDK's own keyboard example (docs/bow.md, "Evidence"): i "Look up" Y = -0.2, k "Look
# down" Y = 0.2, j "Look left" X = -0.2, l "Look right" X = 0.2, o "Tilt left" Z = -0.2,
# u "Tilt right" Z = 0.2, nothing pressed: all 0.
@pytest.mark.parametrize("key, vec, rpy", [
    ("nothing", (0, 0, 0), (0.0, 0.0, 0.0)),                # level, looking ahead
    ("look right", (0.2, 0, 0), (0.0, 0.0, -0.2)),          # ROS yaw is left +
    ("look left", (-0.2, 0, 0), (0.0, 0.0, 0.2)),
    ("look up", (0, -0.2, 0), (0.0, -0.2, 0.0)),            # nose up = ROS pitch -
    ("look down", (0, 0.2, 0), (0.0, 0.2, 0.0)),
    ("tilt right", (0, 0, 0.2), (0.2, 0.0, 0.0)),           # right side down = ROS roll +
    ("tilt left", (0, 0, -0.2), (-0.2, 0.0, 0.0)),
])
def test_gaze_target_is_angle_offsets_as_the_bow_sdk_examples_send_them(key, vec, rpy):
    s = v1.MotorSample()
    s.GazeTarget.GazeVector.X, s.GazeTarget.GazeVector.Y, s.GazeTarget.GazeVector.Z = vec
    s.GazeTarget.VectorType = v1.GazeTarget.ABSOLUTE
    assert convert(s).command.body.orientation == pytest.approx(rpy, abs=1e-6), key
    s.ClearField("GazeTarget")  # the example sets only the vector: ABSOLUTE is the default (0)
    s.GazeTarget.GazeVector.X, s.GazeTarget.GazeVector.Y, s.GazeTarget.GazeVector.Z = vec
    assert convert(s).command.body.orientation == pytest.approx(rpy, abs=1e-6), key


def test_gaze_target_relative_adds_to_the_current_body_pose_and_is_clamped():
    s = v1.MotorSample()
    s.GazeTarget.GazeVector.X, s.GazeTarget.GazeVector.Y = -0.1, 0.05   # a bit more left, a bit down
    s.GazeTarget.VectorType = v1.GazeTarget.RELATIVE
    conv = convert(s, body=BodyPose(roll=0.05, pitch=0.1, yaw=0.2))
    assert conv.command.body.orientation == pytest.approx((0.05, 0.15, 0.3), abs=1e-6)
    s.GazeTarget.GazeVector.X = -0.8  # 0.8 rad more to the left on top of 0.2 rad: beyond max_body_yaw
    conv = convert(s, body=BodyPose(yaw=0.2))
    assert conv.command.body.orientation[2] == pytest.approx(LIMITS.max_body_yaw)
    assert [cl.what for cl in conv.clamps] == ["body yaw (rad)"]


def test_zero_relative_gaze_keeps_the_body_as_it_is():
    s = v1.MotorSample()
    s.GazeTarget.VectorType = v1.GazeTarget.RELATIVE
    cmd = convert(s, body=BodyPose(roll=0.01, pitch=-0.1, yaw=0.3)).command
    assert cmd.body.orientation == pytest.approx((0.01, -0.1, 0.3)) and not cmd.notes


@pytest.mark.parametrize("spelling", ["arm0.{}", "arm_{}", "{}"])
def test_raw_joints_direct_mode_move_the_arm_by_name_in_any_order(spelling):
    s = v1.MotorSample(ControlMode=v1.MotorSample.USE_DIRECT_JOINTS)
    for name in reversed(list(ARM)):
        s.RawJoints.add(Name=spelling.format(name), Position=ARM[name])
    s.RawJoints.add(Name=spelling.format("f1x"), Position=-0.7854)
    cmd = convert(s, default_move_duration=1.5).command
    assert isinstance(cmd.arm, ArmJointMove)
    assert cmd.arm.angles_rad == pytest.approx(tuple(ARM.values()), abs=1e-6)
    assert cmd.arm.duration_s == 1.5
    assert cmd.gripper.open_fraction == pytest.approx(0.5, abs=1e-4)


def test_raw_joints_are_ignored_outside_direct_joint_mode():
    s = v1.MotorSample(ControlMode=v1.MotorSample.USE_OBJECTIVE)
    for name, pos in ARM.items():
        s.RawJoints.add(Name=name, Position=pos)
    cmd = convert(s).command
    assert cmd.arm is None and any("USE_DIRECT_JOINTS" in n for n in cmd.notes)


@pytest.mark.parametrize("name, reason", [
    ("fl.kn", "legs cannot be commanded"),
    ("front_left_knee", "legs cannot be commanded"),
    ("tail", "is not a Spot joint"),
])
def test_leg_and_unknown_joints_reject_the_whole_sample(name, reason):
    s = v1.MotorSample(ControlMode=v1.MotorSample.USE_DIRECT_JOINTS)
    for arm_name, pos in ARM.items():
        s.RawJoints.add(Name=arm_name, Position=pos)
    s.RawJoints.add(Name=name, Position=-1.0)
    with pytest.raises(InvalidMotorSample, match=reason):
        convert(s)


def test_incomplete_or_out_of_range_arm_joints_are_rejected_not_clamped():
    s = v1.MotorSample(ControlMode=v1.MotorSample.USE_DIRECT_JOINTS)
    s.RawJoints.add(Name="sh0", Position=0.1)
    with pytest.raises(InvalidMotorSample, match="lacks sh1, el0, el1, wr0, wr1"):
        convert(s)
    s = v1.MotorSample(ControlMode=v1.MotorSample.USE_DIRECT_JOINTS)
    for name, pos in ARM.items():
        s.RawJoints.add(Name=name, Position=pos if name != "el0" else 90.0)  # degrees by mistake
    with pytest.raises(InvalidMotorSample, match="el0 = 90 rad is outside"):
        convert(s)
    s = v1.MotorSample(ControlMode=v1.MotorSample.USE_DIRECT_JOINTS)
    s.RawJoints.add(Name="arm0.f1x", Position=0.5)
    with pytest.raises(InvalidMotorSample, match="claw"):
        convert(s)


def test_gripper_objective_percentage_closes_the_claw():
    s = v1.MotorSample()
    s.GripperObjective.GripperControlMode = v1.PERCENTAGE_MODE
    s.GripperObjective.HandMapPercentage.Thumb = 0.2
    s.GripperObjective.HandMapPercentage.Index = 0.6
    assert convert(s).command.gripper == GripperCommand(pytest.approx(0.4, abs=1e-6))
    s.GripperObjective.HandMapPercentage.Index = 1.5  # beyond fully closed: clamped, reported
    conv = convert(s)
    assert conv.command.gripper.open_fraction == 0.0 and conv.clamps[0].part == "gripper"
    s.GripperObjective.GripperControlMode = v1.JOINT_MODE
    cmd = convert(s).command
    assert cmd.gripper is None and any("JOINT_MODE" in n for n in cmd.notes)


def test_arm_objective_pose_target_is_a_hand_pose_in_flat_body():
    s = v1.MotorSample()
    o = s.Objectives.add(TargetEffector="arm", Enabled=True)
    o.PoseTarget.TargetType = v1.PoseTarget.TRANSFORM
    t = o.PoseTarget.Transform
    t.Position.X, t.Position.Y, t.Position.Z = 0.8, -0.1, 0.3
    t.EulerAngles.Z = math.pi / 2  # yaw left
    o.PoseTarget.MovementDurationMs = 1200
    cmd = convert(s).command
    assert isinstance(cmd.arm, ArmPose)
    assert cmd.arm.frame == "flat_body"
    assert cmd.arm.position == pytest.approx((0.8, -0.1, 0.3), abs=1e-6)
    assert cmd.arm.quaternion == pytest.approx((0, 0, math.sqrt(0.5), math.sqrt(0.5)), abs=1e-6)
    assert cmd.arm.duration_s == pytest.approx(1.2)
    t.Part = "body"
    assert convert(s).command.arm.frame == "body"
    t.Position.X = 3.0
    with pytest.raises(InvalidMotorSample, match="reach limit"):
        convert(s)


def test_objectives_that_spot_cannot_do_are_noted_not_executed():
    s = v1.MotorSample()
    s.Objectives.add(TargetEffector="left_hand", Enabled=True).PoseTarget.Transform.Position.X = 0.5
    s.Objectives.add(TargetEffector="arm", Enabled=False).PoseTarget.Transform.Position.X = 0.5
    vel = s.Objectives.add(TargetEffector="arm", Enabled=True, ControlMode=v1.VELOCITY_CONTROLLER)
    vel.VelocityTarget.TranslationalVelocity.X = 0.1
    s.GaitSettings.UseCustomGait = True
    s.Obstacles.add(name="box")
    cmd = convert(s).command
    assert not cmd.moves
    text = " | ".join(cmd.notes)
    for part in ("left_hand", "Enabled false", "VELOCITY_CONTROLLER", "GaitSettings", "Obstacles"):
        assert part in text


def test_json_form_parses_too_and_garbage_is_rejected():
    s = v1.MotorSample()
    s.Locomotion.TranslationalVelocity.X = 0.25
    parsed = c.parse_motor_sample_v1(json_format.MessageToJson(s), v1)
    assert parsed.Locomotion.TranslationalVelocity.X == 0.25
    with pytest.raises(InvalidMotorSample, match="protobuf JSON"):
        c.parse_motor_sample_v1('{"NoSuchField": 1}', v1)
    with pytest.raises(InvalidMotorSample, match="binary"):
        c.parse_motor_sample_v1(b"\xff\xff\xff", v1)


def test_no_arm_skips_arm_goals():
    s = v1.MotorSample()
    s.GripperObjective.HandMapPercentage.Index = 1.0
    cmd = convert(s, has_arm=False).command
    assert cmd.gripper is None and any("no arm" in n for n in cmd.notes)


def test_command_to_v1_sample_and_back():
    from spot_bow_ros.convert.motion import BodyPoseUpdate, MotorCommand, Se2Goal
    cmd = MotorCommand(locomotion=VelocityCommand(0.4, -0.1, 0.3), body=BodyPoseUpdate(orientation=(0.1, 0.2, -0.25)))
    sample = wire(c.motor_sample_v1_from_command(cmd, v1))
    g = sample.GazeTarget.GazeVector
    assert (g.X, g.Y, g.Z) == pytest.approx((0.25, 0.2, 0.1), abs=1e-6)  # yaw right 0.25 = look right
    back = c.motor_sample_v1_to_command(sample, v1)
    loc = back.locomotion
    assert (loc.v_x, loc.v_y, loc.v_rot) == pytest.approx((0.4, -0.1, 0.3), abs=1e-6)
    assert back.body.orientation == pytest.approx((0.1, 0.2, -0.25), abs=1e-6)
    with pytest.raises(ValueError, match="velocities only"):
        c.motor_sample_v1_from_command(MotorCommand(locomotion=Se2Goal(1.0)), v1)
