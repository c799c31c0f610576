"""Every sign and unit of the MotorSample -> Spot conversion (spot_bow_ros/convert/motor.py).

Expected values are written out by hand from the BOW documentation (X right, Y up, Z forward,
left-handed; Head X yaw look-right+, Y pitch look-up+, Z roll lean-right+) and Spot's body frame
(x forward, y left, z up; yaw left+, pitch nose-down+, roll right-side-down+), never computed
with the code under test.
"""

import math

import pytest
from google.protobuf import json_format

from spot_bow_ros.bow import bow_data_pb2 as bow
from spot_bow_ros.bow.frames import AxisConvention
from spot_bow_ros.convert import motion as mo
from spot_bow_ros.convert import motor as m

BOW = m.MotorConfig(convention=AxisConvention.BOW_DOCUMENTED)
ROS = m.MotorConfig(convention=AxisConvention.ROS)
WIDE = mo.MotionLimits(max_linear_velocity=1.6, max_angular_velocity=2.0, max_body_roll=0.5,
                      max_body_pitch=0.5, max_body_yaw=0.5, min_body_height=-0.2, max_body_height=0.2)


def sample(**kw) -> bow.MotorSample:
    return json_format.ParseDict(kw, bow.MotorSample())


def vt(v):
    """VelocityCommand/Se2Goal as a tuple (pytest.approx does not compare dataclasses)."""
    return tuple(getattr(v, f) for f in v.__dataclass_fields__)


def convert(s, config=BOW, limits=WIDE):
    return m.convert_motor_sample(s, config, limits).command


def velocity(position=None, rotation=None, units=None, config=BOW):
    loco = {"LocomotionMode": "VELOCITY_MODE"}
    if position:
        loco["Position"] = dict(zip("XYZ", position))
    if rotation:
        loco["Rotation"] = dict(zip("XYZ", rotation))
    if units:
        loco["RotationUnits"] = units
    cmd = convert(sample(Locomotion=loco), config)
    assert isinstance(cmd.locomotion, mo.VelocityCommand)
    return cmd.locomotion


# -- locomotion: documented BOW axes -----------------------------------------------------------

def test_bow_forward_is_plus_z_and_becomes_spot_plus_x():
    v = velocity(position=(0, 0, 0.5))
    assert vt(v) == pytest.approx((0.5, 0.0, 0.0))


def test_bow_backward():
    assert velocity(position=(0, 0, -0.3)).v_x == pytest.approx(-0.3)


def test_bow_right_is_plus_x_and_becomes_spot_minus_y():
    v = velocity(position=(0.4, 0, 0))
    assert (v.v_x, v.v_y, v.v_rot) == pytest.approx((0.0, -0.4, 0.0))


def test_bow_turn_right_is_negative_yaw_rate():
    # Left-handed, Y up: a positive rotation about +Y turns forward (+Z) towards right (+X).
    v = velocity(rotation=(0, 0.5, 0))
    assert (v.v_x, v.v_y, v.v_rot) == pytest.approx((0.0, 0.0, -0.5))


def test_bow_turn_left_degrees_per_second():
    v = velocity(rotation=(0, -90.0, 0), units="DEGREES")
    assert v.v_rot == pytest.approx(math.pi / 2)


def test_rotation_units_unknown_and_radians_are_radians():
    assert velocity(rotation=(0, 0.25, 0), units="UNKNOWN_ANGLE_UNITS").v_rot == pytest.approx(-0.25)
    assert velocity(rotation=(0, 0.25, 0), units="RADIANS").v_rot == pytest.approx(-0.25)
    assert velocity(rotation=(0, 0.25, 0)).v_rot == pytest.approx(-0.25)


def test_vertical_and_roll_pitch_locomotion_ignored_with_note():
    s = sample(Locomotion={"LocomotionMode": "VELOCITY_MODE", "Position": {"Y": 0.3, "Z": 0.2},
                           "Rotation": {"X": 0.1}})
    cmd = convert(s)
    assert vt(cmd.locomotion) == pytest.approx((0.2, 0.0, 0.0))
    assert any("vertical" in n for n in cmd.notes) and any("roll/pitch" in n for n in cmd.notes)


# -- locomotion: ROS convention ---------------------------------------------------------------

def test_ros_convention_axes():
    assert vt(velocity(position=(0.5, 0, 0), config=ROS)) == pytest.approx((0.5, 0, 0))
    assert vt(velocity(position=(0, 0.3, 0), config=ROS)) == pytest.approx((0, 0.3, 0))
    # turn right in ROS = negative rotation about +z
    assert vt(velocity(rotation=(0, 0, -0.5), config=ROS)) == pytest.approx((0, 0, -0.5))
    assert velocity(rotation=(0, 0, 30.0), units="DEGREES", config=ROS).v_rot == pytest.approx(math.radians(30))


# -- position mode ------------------------------------------------------------------------------

def test_position_mode_relative_goal_bow():
    s = sample(Locomotion={"LocomotionMode": "POSITION_MODE", "Position": {"X": -0.5, "Z": 1.0},
                           "Rotation": {"Y": 90.0}, "RotationUnits": "DEGREES"})
    goal = convert(s).locomotion
    assert isinstance(goal, mo.Se2Goal)
    # 1 m forward, 0.5 m to the left (BOW -X), turning right 90 degrees
    assert (goal.x, goal.y, goal.yaw) == pytest.approx((1.0, 0.5, -math.pi / 2))


def test_position_mode_relative_goal_ros():
    s = sample(Locomotion={"LocomotionMode": "POSITION_MODE", "Position": {"X": 1.0, "Y": -0.5},
                           "Rotation": {"Z": 0.5}})
    goal = convert(s, ROS).locomotion
    assert (goal.x, goal.y, goal.yaw) == pytest.approx((1.0, -0.5, 0.5))


def test_unknown_locomotion_mode_uses_configured_default():
    s = sample(Locomotion={"Position": {"Z": 0.2}})
    assert isinstance(convert(s).locomotion, mo.VelocityCommand)
    pos_default = m.MotorConfig(default_locomotion_mode=mo.LocomotionMode.POSITION)
    assert isinstance(convert(s, pos_default).locomotion, mo.Se2Goal)


def test_goal_clamped_keeps_direction():
    goal, clamps = mo.clamp_se2_goal(mo.Se2Goal(3.0, 4.0, 5.0), mo.MotionLimits(max_goal_distance=1.0, max_goal_yaw=1.0))
    assert (goal.x, goal.y, goal.yaw) == pytest.approx((0.6, 0.8, 1.0))
    assert {c.what for c in clamps} == {"goal distance (m)", "goal yaw (rad)"}


# -- head -> body orientation, operating height -------------------------------------------------

def head(x=None, y=None, z=None, config=BOW):
    h = {k: v for k, v in zip("XYZ", (x, y, z)) if v is not None}
    cmd = convert(sample(Head=h), config)
    assert cmd.body is not None and cmd.body.height is None
    return cmd.body.orientation  # (roll, pitch, yaw)


def test_head_yaw_look_right_is_negative_body_yaw():
    assert head(x=0.2) == pytest.approx((0.0, 0.0, -0.2))


def test_head_pitch_look_up_is_negative_spot_pitch():
    # Spot pitch is about +y (left): positive pitch = nose down. Looking up = nose up.
    assert head(y=0.2) == pytest.approx((0.0, -0.2, 0.0))


def test_head_roll_lean_right_is_positive_spot_roll():
    # roll about +x (forward): positive roll lowers the right side = leaning right.
    assert head(z=0.2) == pytest.approx((0.2, 0.0, 0.0))


def test_head_all_axes_documented():
    assert head(0.1, 0.2, 0.3) == pytest.approx((0.3, -0.2, -0.1))


def test_head_ros_convention_is_roll_pitch_yaw_about_ros_axes():
    assert head(0.1, 0.2, 0.3, config=ROS) == pytest.approx((0.1, 0.2, 0.3))


def test_head_in_degrees_is_not_a_thing_head_is_radians():
    # Head has no unit field: 30 would be 30 rad -> rejected ("check the units"), not clamped.
    with pytest.raises(mo.InvalidMotorSample, match=r"Head.X = 30 rad is beyond ±pi.*check the units"):
        m.convert_motor_sample(sample(Head={"X": 30.0}), BOW, mo.MotionLimits(max_body_yaw=0.3))
    with pytest.raises(mo.InvalidMotorSample, match="Head.Z"):
        m.convert_motor_sample(sample(Head={"Z": -3.2}), BOW, mo.MotionLimits())
    # within ±pi but beyond the body limits: clamped (reported) as before
    conv = m.convert_motor_sample(sample(Head={"X": 3.0}), BOW, mo.MotionLimits(max_body_yaw=0.3))
    assert conv.command.body.orientation == pytest.approx((0.0, 0.0, -0.3))
    assert [c.what for c in conv.clamps] == ["body yaw (rad)"]


def test_operating_height_relative_to_nominal():
    cmd = convert(sample(OperatingHeight=0.60), m.MotorConfig(nominal_body_height=0.52))
    assert cmd.body.height == pytest.approx(0.08)
    assert cmd.body.orientation is None
    cmd = convert(sample(OperatingHeight=0.40), m.MotorConfig(nominal_body_height=0.52))
    assert cmd.body.height == pytest.approx(-0.12)


def test_body_pose_update_changes_only_given_parts():
    pose = mo.BodyPose(height=0.1, roll=0.1, pitch=0.2, yaw=0.3)
    assert pose.apply(mo.BodyPoseUpdate(height=-0.05)) == mo.BodyPose(-0.05, 0.1, 0.2, 0.3)
    assert pose.apply(mo.BodyPoseUpdate(orientation=(0.0, 0.0, 0.1))) == mo.BodyPose(0.1, 0.0, 0.0, 0.1)
    assert pose.apply(None) is pose


def test_body_clamped_to_limits_and_reported():
    limits = mo.MotionLimits(min_body_height=-0.1, max_body_height=0.05, max_body_roll=0.2,
                            max_body_pitch=0.2, max_body_yaw=0.1)
    s = sample(OperatingHeight=2.0, Head={"X": -1.0, "Y": 1.0, "Z": -1.0})
    conv = m.convert_motor_sample(s, m.MotorConfig(nominal_body_height=0.5), limits)
    assert conv.command.body.height == pytest.approx(0.05)
    assert conv.command.body.orientation == pytest.approx((-0.2, -0.2, 0.1))
    assert {c.what for c in conv.clamps} == {"body height offset (m)", "body roll (rad)",
                                            "body pitch (rad)", "body yaw (rad)"}


# -- unset fields mean no change ------------------------------------------------------------------

def test_empty_sample_is_no_command():
    cmd = convert(bow.MotorSample())
    assert cmd.locomotion is None and cmd.body is None and cmd.arm is None and cmd.gripper is None
    assert not cmd.moves and not cmd.record and not cmd.playback


def test_zero_values_sent_explicitly_are_commands():
    cmd = convert(sample(Locomotion={"LocomotionMode": "VELOCITY_MODE"}, Head={}))
    assert cmd.locomotion == mo.VelocityCommand(0.0, 0.0, 0.0)
    assert cmd.body.orientation == (0.0, 0.0, 0.0) and cmd.body.height is None


def test_operating_height_absent_is_no_change_present_zero_is_a_height():
    assert convert(sample(Head={"X": 0.1})).body.height is None
    s = bow.MotorSample()
    s.OperatingHeight = 0.0
    assert convert(s, m.MotorConfig(nominal_body_height=0.5), WIDE).body.height == pytest.approx(-0.2)


# -- clamping velocity --------------------------------------------------------------------------

def test_velocity_clamped_keeps_direction_and_reports():
    limits = mo.MotionLimits(max_linear_velocity=0.5, max_angular_velocity=0.4)
    v, clamps = mo.clamp_velocity(mo.VelocityCommand(3.0, -4.0, -1.0), limits)
    assert (v.v_x, v.v_y, v.v_rot) == pytest.approx((0.3, -0.4, -0.4))
    assert [str(c) for c in clamps] == ["linear speed (m/s) 5 -> 0.5", "yaw rate (rad/s) -1 -> -0.4"]
    v, clamps = mo.clamp_velocity(mo.VelocityCommand(0.1, 0.0, 0.1), limits)
    assert clamps == [] and v == mo.VelocityCommand(0.1, 0.0, 0.1)


def test_limits_cannot_exceed_spot_ranges():
    with pytest.raises(ValueError, match="max_linear_velocity"):
        mo.MotionLimits(max_linear_velocity=5.0)
    with pytest.raises(ValueError, match="body height"):
        mo.MotionLimits(min_body_height=0.1, max_body_height=0.0)


# -- rejection ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    '{"Locomotion": {"Position": {"Z": "NaN"}}}',
    '{"Locomotion": {"Position": {"Z": "Infinity"}}}',
    '{"OperatingHeight": "-Infinity"}',
    '{"Head": {"X": "NaN"}}',
    '{"EndEffectors": [{"Enabled": false, "Angles": [0, "NaN"]}]}',
    '{"EndEffectors": [{"Gripper": {"Thumb": "NaN"}}]}',
])
def test_nan_and_inf_rejected_whole(text):
    with pytest.raises(mo.InvalidMotorSample, match="NaN and infinity"):
        m.parse_motor_sample_json(text)


def test_nan_in_binary_rejected():
    s = bow.MotorSample()
    s.Locomotion.Position.Z = 0.5
    s.Locomotion.Rotation.Y = float("nan")
    with pytest.raises(mo.InvalidMotorSample, match=r"MotorSample.Locomotion.Rotation.Y is nan"):
        m.parse_motor_sample_binary(s.SerializeToString())


def test_unknown_enum_values_rejected():
    with pytest.raises(mo.InvalidMotorSample, match="LocomotionMode = 7 is not a LocomotionModeEnum"):
        m.parse_motor_sample_json('{"Locomotion": {"LocomotionMode": 7}}')
    s = bow.MotorSample()
    s.EndEffectors.add().AngleUnits = 5
    with pytest.raises(mo.InvalidMotorSample, match="AngleUnits = 5"):
        m.parse_motor_sample_binary(s.SerializeToString())
    with pytest.raises(mo.InvalidMotorSample, match="not a MotorSample in protobuf JSON"):
        m.parse_motor_sample_json('{"Locomotion": {"LocomotionMode": "RUN"}}')


@pytest.mark.parametrize("payload", ["", "{", "[]", '{"Nope": 1}', '{"OperatingHeight": 1e39}', "null"])
def test_malformed_json_rejected(payload):
    with pytest.raises(mo.InvalidMotorSample):
        m.parse_motor_sample_json(payload)


def test_malformed_binary_rejected():
    with pytest.raises(mo.InvalidMotorSample, match="not a binary MotorSample"):
        m.parse_motor_sample_binary(b"\xff\xff\xff\xff")


def test_parse_dispatches_on_type():
    s = bow.MotorSample(OperatingHeight=0.5)
    assert m.parse_motor_sample(s.SerializeToString()).OperatingHeight == pytest.approx(0.5)
    assert m.parse_motor_sample('{"OperatingHeight": 0.5}').OperatingHeight == pytest.approx(0.5)


# -- end effectors ------------------------------------------------------------------------------

def arm_sample(**eff):
    eff.setdefault("Enabled", True)
    return sample(EndEffectors=[eff])


def test_end_effector_not_enabled_is_skipped():
    for enabled in ({}, {"Enabled": False}):
        s = sample(EndEffectors=[dict(Transform={"Position": {"Z": 0.5}}, Gripper={"Thumb": 1.0}, **enabled)])
        cmd = convert(s)
        assert cmd.arm is None and cmd.gripper is None
        assert any("skipped" in n for n in cmd.notes)


def test_transform_to_arm_pose_bow_axes_and_frames():
    s = arm_sample(Transform={"Position": {"X": -0.1, "Y": 0.2, "Z": 0.7}, "LocationTag": "TORSO"},
                   MovementDurationMs=1500)
    arm = convert(s).arm
    assert isinstance(arm, mo.ArmPose)
    assert arm.frame == "body"
    assert arm.position == pytest.approx((0.7, 0.1, 0.2))   # forward, left, up
    assert arm.quaternion == pytest.approx((0.0, 0.0, 0.0, 1.0))
    assert arm.duration_s == pytest.approx(1.5)
    base = convert(arm_sample(Transform={"Position": {"Z": 0.7}})).arm
    assert base.frame == "flat_body" and base.duration_s == pytest.approx(2.0)


def test_transform_quaternion_rotation_about_up():
    # A BOW rotation of +90 degrees about +Y (up, left-handed) turns forward to the right:
    # in Spot's frame that is -90 degrees about +z.
    h = math.sqrt(0.5)
    s = arm_sample(Transform={"Position": {"Z": 0.6}, "Quaternion": {"QuatY": h, "QuatW": h}})
    q = convert(s).arm.quaternion
    expected = (0.0, 0.0, -h, h)
    assert q == pytest.approx(expected, abs=1e-6) or q == pytest.approx(tuple(-c for c in expected), abs=1e-6)


def test_transform_ros_convention():
    h = math.sqrt(0.5)
    s = arm_sample(Transform={"Position": {"X": 0.6, "Y": 0.1, "Z": 0.2}, "Quaternion": {"QuatZ": h, "QuatW": h}})
    arm = convert(s, ROS).arm
    assert arm.position == pytest.approx((0.6, 0.1, 0.2))
    assert arm.quaternion == pytest.approx((0.0, 0.0, h, h), abs=1e-6)


@pytest.mark.parametrize("tag", ["HEAD", "END_EFFECTOR", "END_EFFECTOR_LEFT", "END_EFFECTOR_RIGHT"])
def test_unsupported_location_tags_rejected(tag):
    with pytest.raises(mo.InvalidMotorSample, match=f"LocationTag {tag}"):
        convert(arm_sample(Transform={"Position": {"Z": 0.5}, "LocationTag": tag}))


def test_zero_quaternion_rejected():
    with pytest.raises(mo.InvalidMotorSample, match="Quaternion is zero"):
        convert(arm_sample(Transform={"Quaternion": {"QuatW": 0.0}}))


def test_euler_angles_without_quaternion_degrees():
    # 90 degrees about BOW +Y (up): the hand turns to the right = -90 degrees about Spot's z.
    arm = convert(arm_sample(Transform={"Position": {"Z": 0.6}, "EulerAngles": {"Y": 90.0},
                                        "AngleUnits": "DEGREES"})).arm
    h = math.sqrt(0.5)
    assert arm.quaternion == pytest.approx((0.0, 0.0, -h, h), abs=1e-6)


def test_arm_goal_beyond_reach_rejected():
    with pytest.raises(mo.InvalidMotorSample, match="reach limit"):
        convert(arm_sample(Transform={"Position": {"Z": 5.0}}))


def test_custom_angles_to_joint_move_degrees_and_radians():
    degs = [10, -20, 30, 40, -50, 60]
    arm = convert(arm_sample(ControlMode="CUSTOM", Angles=degs, AngleUnits="DEGREES", MovementDurationMs=3000)).arm
    assert isinstance(arm, mo.ArmJointMove)
    assert arm.angles_rad == pytest.approx(tuple(math.radians(d) for d in degs), abs=1e-6)
    assert arm.duration_s == pytest.approx(3.0)
    rads = [0.1, -0.2, 0.3, 0.4, -0.5, 0.6]
    arm = convert(arm_sample(ControlMode="CUSTOM", Angles=rads)).arm
    assert arm.angles_rad == pytest.approx(tuple(rads), abs=1e-6)


def test_custom_angles_wrong_count_or_range_rejected():
    with pytest.raises(mo.InvalidMotorSample, match="has 3 values"):
        convert(arm_sample(ControlMode="CUSTOM", Angles=[0, 0, 0]))
    # 90 "radians" for sh1: degrees sent without AngleUnits
    with pytest.raises(mo.InvalidMotorSample, match="sh1 = 90 rad is outside"):
        convert(arm_sample(ControlMode="CUSTOM", Angles=[0, 90, 0, 0, 0, 0]))


def test_ik_mode_ignores_angles_custom_ignores_transform():
    cmd = convert(arm_sample(Angles=[0] * 6, Transform={"Position": {"Z": 0.5}}))
    assert isinstance(cmd.arm, mo.ArmPose) and any("Angles ignored" in n for n in cmd.notes)
    cmd = convert(arm_sample(ControlMode="CUSTOM", Angles=[0, -1, 1, 0, 0, 0], Transform={"Position": {"Z": 0.5}}))
    assert isinstance(cmd.arm, mo.ArmJointMove) and any("Transform ignored" in n for n in cmd.notes)


def test_gripper_open_fraction():
    assert convert(arm_sample(Gripper={"Thumb": 0.25})).gripper == mo.GripperCommand(0.75)
    assert convert(arm_sample(Gripper={"Thumb": 0.2, "Index": 0.9})).gripper.open_fraction == pytest.approx(0.1)
    assert convert(arm_sample(Gripper={"GripperMode": "DIRECT", "Index": 0.0})).gripper == mo.GripperCommand(1.0)
    assert convert(arm_sample(Gripper={})).gripper is None
    assert convert(arm_sample(Gripper={"GripperMode": "DISTANCE_IK", "Thumb": 0.02})).gripper is None


def test_gripper_out_of_range_clamped():
    conv = m.convert_motor_sample(arm_sample(Gripper={"Thumb": -1.0}), BOW, WIDE)
    assert conv.command.gripper == mo.GripperCommand(1.0)
    assert [c.what for c in conv.clamps] == ["gripper open fraction"]


def test_move_duration_clamped_and_negative_rejected():
    conv = m.convert_motor_sample(arm_sample(Gripper={"Thumb": 1}, Transform={"Position": {"Z": 0.5}},
                                             MovementDurationMs=10), BOW, mo.MotionLimits(min_move_duration=0.5))
    assert conv.command.arm.duration_s == pytest.approx(0.5)
    with pytest.raises(mo.InvalidMotorSample, match="negative"):
        convert(arm_sample(MovementDurationMs=-5, Transform={}))


def test_second_named_end_effector_rejected_and_arm_names():
    with pytest.raises(mo.InvalidMotorSample, match="Spot has one end effector"):
        convert(sample(EndEffectors=[{"Enabled": True, "Name": "left_leg", "Gripper": {"Thumb": 1}}]))
    cmd = convert(sample(EndEffectors=[{"Enabled": False}, {"Enabled": True, "Name": "arm", "Gripper": {"Thumb": 1}}]))
    assert cmd.gripper == mo.GripperCommand(0.0)


def test_no_arm_skips_end_effectors():
    cmd = convert(arm_sample(Gripper={"Thumb": 1}), m.MotorConfig(has_arm=False))
    assert cmd.gripper is None and any("no arm" in n for n in cmd.notes)


# -- cmd_vel ------------------------------------------------------------------------------------

def test_twist_axes_are_ros_body_axes():
    assert m.twist_to_velocity((0.5, 0.2, 9.0), (1.0, 1.0, -0.3)) == mo.VelocityCommand(0.5, 0.2, -0.3)
    with pytest.raises(mo.InvalidMotorSample, match="angular.z is nan"):
        m.twist_to_velocity((0.5, 0.0, 0.0), (0.0, 0.0, float("nan")))


# -- record/playback flags ----------------------------------------------------------------------

def test_record_and_playback_flags():
    cmd = convert(sample(RecordFlag=True, PlaybackActionName="wave"))
    assert cmd.record and cmd.action_name == "wave" and not cmd.playback
    cmd = convert(sample(PlaybackFlag=True, PlaybackActionName="wave"))
    assert cmd.playback and cmd.action_name == "wave"
    with pytest.raises(mo.InvalidMotorSample, match="PlaybackActionName is empty"):
        convert(sample(PlaybackFlag=True))


@pytest.mark.parametrize("name", ["../etc", "a/b", "", ".hidden", "x" * 200, "a..b"])
def test_bad_action_names(name):
    with pytest.raises(mo.InvalidMotorSample, match="not a valid recording name"):
        m.check_action_name(name)


def test_within_limits():
    limits = mo.MotionLimits()
    assert mo.within_limits(mo.MotorCommand(locomotion=mo.VelocityCommand(0.1, 0, 0)), limits)
    assert not mo.within_limits(mo.MotorCommand(locomotion=mo.VelocityCommand(5, 0, 0)), limits)


def test_float32_rounding_at_the_limit_is_clipped_without_a_warning():
    """BOW floats are float32: a yaw rate of exactly the limit arrives slightly above it."""
    limits = mo.MotionLimits()
    sample = bow.MotorSample()
    sample.Locomotion.LocomotionMode = bow.VELOCITY_MODE
    sample.Locomotion.Rotation.Y = -limits.max_angular_velocity  # turn left at the limit (documented axes)
    cmd, clamps = mo.apply_limits(m.motor_sample_to_command(sample), limits)
    assert clamps == []
    assert abs(cmd.locomotion.v_rot) <= limits.max_angular_velocity
    sample.Locomotion.Rotation.Y = -2 * limits.max_angular_velocity
    cmd, clamps = mo.apply_limits(m.motor_sample_to_command(sample), limits)
    assert [c.what for c in clamps] == ["yaw rate (rad/s)"]
    assert cmd.locomotion.v_rot == pytest.approx(limits.max_angular_velocity)
