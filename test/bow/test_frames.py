"""BOW <-> ROS axis and unit conventions (spot_bow_ros/bow/frames.py), proven with concrete motions.

Physical directions in each frame:
  BOW documented: right = +X, up = +Y, forward = +Z.   ROS (REP 103): forward = +x, left = +y, up = +z.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spot_bow_ros.bow import bow_data_pb2 as bow
from spot_bow_ros.bow.frames import (
    AxisConvention,
    UnitError,
    angle_to_radians,
    angles_to_radians,
    angular_velocity_bow_to_ros,
    angular_velocity_ros_to_bow,
    euler_bow_to_quaternion_ros,
    head_euler_to_ros_rpy,
    position_bow_to_ros,
    position_ros_to_bow,
    quaternion_bow_to_ros,
    quaternion_from_rpy,
    quaternion_ros_to_bow,
    radians_to_angles,
    ros_rpy_to_head_euler,
    rotate_vector,
    rpy_from_quaternion,
    torques_to_newton_metres,
)

DOC = AxisConvention.BOW_DOCUMENTED
ROS = AxisConvention.ROS

BOW_RIGHT, BOW_UP, BOW_FORWARD = (1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)
ROS_FORWARD, ROS_LEFT, ROS_UP = (1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)


def approx(v, tol=1e-9):
    return pytest.approx(tuple(v), abs=tol)


def about(axis, angle):
    """Quaternion (x, y, z, w) of `angle` about `axis` — the same algebra in either frame."""
    s = math.sin(angle / 2)
    return (axis[0] * s, axis[1] * s, axis[2] * s, math.cos(angle / 2))


# -- positions ------------------------------------------------------------------------------

def test_documented_positions_map_forward_right_up():
    assert position_bow_to_ros(BOW_FORWARD, DOC) == approx(ROS_FORWARD)
    assert position_bow_to_ros(BOW_RIGHT, DOC) == approx((0.0, -1.0, 0.0))  # right = -left
    assert position_bow_to_ros(BOW_UP, DOC) == approx(ROS_UP)
    assert position_bow_to_ros((0.25, -1.5, 2.0), DOC) == approx((2.0, -0.25, -1.5))
    assert position_ros_to_bow(ROS_LEFT, DOC) == approx((-1.0, 0.0, 0.0))
    assert position_ros_to_bow((2.0, -0.25, -1.5), DOC) == approx((0.25, -1.5, 2.0))


def test_ros_convention_is_identity():
    v = (0.1, -2.0, 3.5)
    q = (0.1, 0.2, -0.3, 0.9)
    for fn in (position_bow_to_ros, position_ros_to_bow, angular_velocity_bow_to_ros,
               angular_velocity_ros_to_bow, head_euler_to_ros_rpy, ros_rpy_to_head_euler):
        assert fn(v, ROS) == approx(v)
    assert quaternion_bow_to_ros(q, ROS) == approx(q)
    assert quaternion_ros_to_bow(q, ROS) == approx(q)


def test_default_convention_is_the_documented_one():
    assert position_bow_to_ros(BOW_FORWARD) == approx(ROS_FORWARD)
    assert AxisConvention.parse("bow_documented") is DOC and AxisConvention.parse("ROS") is ROS
    with pytest.raises(ValueError, match="unknown BOW axis convention"):
        AxisConvention.parse("unity")


# -- rotations (documented frame) -----------------------------------------------------------

def test_yaw_right_in_bow_is_negative_yaw_in_ros():
    theta = 0.4
    q_bow = about(BOW_UP, theta)  # left-handed frame: positive about +Y turns forward to the right
    turned = rotate_vector(q_bow, BOW_FORWARD)
    assert turned[0] > 0.3  # forward now points partly right
    q_ros = quaternion_bow_to_ros(q_bow, DOC)
    assert rpy_from_quaternion(q_ros) == approx((0.0, 0.0, -theta))
    assert rotate_vector(q_ros, ROS_FORWARD)[1] < -0.3  # partly right = negative y in ROS
    # turning right at 0.4 rad/s: ROS yaw rate -0.4
    assert angular_velocity_bow_to_ros((0.0, theta, 0.0), DOC) == approx((0.0, 0.0, -theta))


def test_pitch_up_in_bow_is_negative_pitch_in_ros():
    theta = 0.3
    q_bow = about(BOW_RIGHT, -theta)  # about +X (right), negative: forward tips up
    assert rotate_vector(q_bow, BOW_FORWARD)[1] > 0.2
    q_ros = quaternion_bow_to_ros(q_bow, DOC)
    assert rpy_from_quaternion(q_ros) == approx((0.0, -theta, 0.0))  # ROS +pitch is nose DOWN
    assert rotate_vector(q_ros, ROS_FORWARD)[2] > 0.2
    assert angular_velocity_bow_to_ros((-theta, 0.0, 0.0), DOC) == approx((0.0, -theta, 0.0))


def test_roll_right_in_bow_is_positive_roll_in_ros():
    theta = 0.2
    q_bow = about(BOW_FORWARD, -theta)  # about +Z (forward), negative: right side goes down
    assert rotate_vector(q_bow, BOW_RIGHT)[1] < -0.1
    q_ros = quaternion_bow_to_ros(q_bow, DOC)
    assert rpy_from_quaternion(q_ros) == approx((theta, 0.0, 0.0))
    assert rotate_vector(q_ros, ROS_LEFT)[2] > 0.1  # left side up = leaning right
    assert angular_velocity_bow_to_ros((0.0, 0.0, -theta), DOC) == approx((theta, 0.0, 0.0))


def test_head_euler_slots_map_to_ros_rpy():
    # Head.X yaw: look right positive -> negative ROS yaw
    assert head_euler_to_ros_rpy((0.2, 0.0, 0.0), DOC) == approx((0.0, 0.0, -0.2))
    # Head.Y pitch: look up positive -> negative ROS pitch (ROS +pitch is nose down)
    assert head_euler_to_ros_rpy((0.0, 0.1, 0.0), DOC) == approx((0.0, -0.1, 0.0))
    # Head.Z roll: lean right positive -> positive ROS roll
    assert head_euler_to_ros_rpy((0.0, 0.0, 0.3), DOC) == approx((0.3, 0.0, 0.0))
    # ... and the resulting ROS orientations really look right / up / lean right
    look_right = quaternion_from_rpy(*head_euler_to_ros_rpy((0.2, 0.0, 0.0), DOC))
    assert rotate_vector(look_right, ROS_FORWARD)[1] < 0
    look_up = quaternion_from_rpy(*head_euler_to_ros_rpy((0.0, 0.1, 0.0), DOC))
    assert rotate_vector(look_up, ROS_FORWARD)[2] > 0
    lean_right = quaternion_from_rpy(*head_euler_to_ros_rpy((0.0, 0.0, 0.3), DOC))
    assert rotate_vector(lean_right, ROS_LEFT)[2] > 0
    assert ros_rpy_to_head_euler((0.3, -0.1, -0.2), DOC) == approx((0.2, 0.1, 0.3))


def test_head_with_ros_convention_is_roll_pitch_yaw_about_ros_axes():
    # yaw left 0.2 about +z, nose down 0.1 about +y, roll 0.3 about +x
    assert head_euler_to_ros_rpy((0.3, 0.1, 0.2), ROS) == approx((0.3, 0.1, 0.2))
    q = quaternion_from_rpy(*head_euler_to_ros_rpy((0.0, 0.0, 0.2), ROS))
    assert rotate_vector(q, ROS_FORWARD)[1] > 0  # looks left


def test_transform_euler_angles_unity_order():
    # Unity-style EulerAngles: +Y turns right, +X tips nose down, +Z lifts the right side
    assert rpy_from_quaternion(euler_bow_to_quaternion_ros((0.0, 0.5, 0.0), DOC)) == approx((0, 0, -0.5))
    assert rpy_from_quaternion(euler_bow_to_quaternion_ros((0.5, 0.0, 0.0), DOC)) == approx((0, 0.5, 0))
    assert rpy_from_quaternion(euler_bow_to_quaternion_ros((0.0, 0.0, 0.5), DOC)) == approx((-0.5, 0, 0))
    # combined: Unity applies Z, then X, then Y (all about fixed axes)
    x, y, z = 0.2, -0.7, 0.4
    q_doc = euler_bow_to_quaternion_ros((x, y, z), DOC)
    v_bow = (0.3, -0.2, 0.9)
    step = rotate_vector(about(BOW_FORWARD, z), v_bow)
    step = rotate_vector(about(BOW_RIGHT, x), step)
    step = rotate_vector(about(BOW_UP, y), step)
    assert rotate_vector(q_doc, position_bow_to_ros(v_bow, DOC)) == approx(position_bow_to_ros(step, DOC))
    assert rpy_from_quaternion(euler_bow_to_quaternion_ros((0.1, 0.2, 0.3), ROS)) == approx((0.1, 0.2, 0.3))


# -- properties ------------------------------------------------------------------------------

finite = st.floats(min_value=-10.0, max_value=10.0, allow_nan=False)
vec = st.tuples(finite, finite, finite)
unit_quat = st.tuples(finite, finite, finite, finite).filter(
    lambda q: sum(c * c for c in q) > 1e-3).map(lambda q: tuple(c / math.sqrt(sum(d * d for d in q)) for c in q))


@settings(max_examples=200, deadline=None)
@given(q=unit_quat, v=vec)
def test_rotating_then_converting_equals_converting_then_rotating(q, v):
    """A BOW rotation applied to a BOW vector is the same physical motion after conversion."""
    for conv in (DOC, ROS):
        rotated_bow = rotate_vector(q, v)
        q_ros = quaternion_bow_to_ros(q, conv)
        assert rotate_vector(q_ros, position_bow_to_ros(v, conv)) == approx(
            position_bow_to_ros(rotated_bow, conv), 1e-7)


@settings(max_examples=200, deadline=None)
@given(w=vec)
def test_angular_velocity_matches_the_rotation_it_integrates_to(w):
    """Spinning at w for dt in BOW equals spinning at the converted w in ROS."""
    dt = 1e-3
    norm = math.sqrt(sum(c * c for c in w))
    if norm < 1e-6:
        return
    axis = tuple(c / norm for c in w)
    q_bow = about(axis, norm * dt)
    w_ros = angular_velocity_bow_to_ros(w, DOC)
    q_ros = about(tuple(c / norm for c in w_ros), norm * dt)
    assert quaternion_bow_to_ros(q_bow, DOC) == approx(q_ros, 1e-12)


@given(v=vec)
def test_inverses(v):
    for conv in (DOC, ROS):
        assert position_ros_to_bow(position_bow_to_ros(v, conv), conv) == approx(v)
        assert angular_velocity_ros_to_bow(angular_velocity_bow_to_ros(v, conv), conv) == approx(v)
        assert ros_rpy_to_head_euler(head_euler_to_ros_rpy(v, conv), conv) == approx(v)
        q = (*v, 0.5)
        assert quaternion_ros_to_bow(quaternion_bow_to_ros(q, conv), conv) == approx(q)


# -- units -----------------------------------------------------------------------------------

def test_angle_units():
    assert angle_to_radians(180.0, bow.DEGREES) == pytest.approx(math.pi)
    assert angle_to_radians(1.25, bow.RADIANS) == 1.25
    assert angle_to_radians(1.25, bow.UNKNOWN_ANGLE_UNITS) == 1.25  # robot default: radians
    assert angles_to_radians([90.0, -45.0], bow.DEGREES) == pytest.approx([math.pi / 2, -math.pi / 4])
    assert radians_to_angles([math.pi], bow.DEGREES) == pytest.approx([180.0])
    with pytest.raises(UnitError, match="AngleTypeEnum value 7"):
        angle_to_radians(1.0, 7)


def test_torque_units():
    assert torques_to_newton_metres([1.5, -2.0], bow.NEWTON_METRES) == [1.5, -2.0]
    assert torques_to_newton_metres([1.5], bow.UNKNOWN_TORQUE_UNITS) == [1.5]
    assert torques_to_newton_metres([3.0], bow.CURRENT) is None  # amperes are not torques
    with pytest.raises(UnitError):
        torques_to_newton_metres([1.0], 9)
