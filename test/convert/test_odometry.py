"""Kinematic state -> nav_msgs/Odometry and TF (convert/odometry.py)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spot_bow_ros.convert.odometry import (
    body_twist_from_odom_velocity,
    odometry_msg,
    pose_inverse,
    pose_multiply,
    robot_tf_edges,
    rotate,
    tf_message,
    transform_stamped_msg,
)
from spot_bow_ros.standalone.message_store import messages_for

make = messages_for("humble")


def yaw_quat(yaw):
    return (0.0, 0.0, math.sin(yaw / 2), math.cos(yaw / 2))


def test_body_twist_of_a_robot_facing_left():
    # body yawed +90 deg in odom, walking forward at 1 m/s: odom velocity is +y
    v_body, w_body = body_twist_from_odom_velocity(yaw_quat(math.pi / 2), (0.0, 1.0, 0.0), (0.0, 0.0, 0.3))
    assert v_body == pytest.approx((1.0, 0.0, 0.0), abs=1e-12)
    assert w_body == pytest.approx((0.0, 0.0, 0.3), abs=1e-12)


def test_odometry_message():
    pose = ((1.0, 2.0, 0.5), yaw_quat(0.3))
    msg = odometry_msg(make, (10, 20), "spot/odom", "spot/body", pose, (0.4, 0.0, 0.0), (0.0, 0.0, -0.2))
    assert msg.header.frame_id == "spot/odom" and msg.child_frame_id == "spot/body"
    assert (msg.header.stamp.sec, msg.header.stamp.nanosec) == (10, 20)
    p, q = msg.pose.pose.position, msg.pose.pose.orientation
    assert (p.x, p.y, p.z) == (1.0, 2.0, 0.5)
    assert (q.z, q.w) == pytest.approx((math.sin(0.15), math.cos(0.15)))
    assert msg.twist.twist.linear.x == 0.4 and msg.twist.twist.angular.z == -0.2
    assert make.serialize(msg)


def test_tf_message():
    t = transform_stamped_msg(make, (1, 2), "odom", "body", ((1.0, 0.0, 0.0), (0.0, 0.0, 0.0, 1.0)))
    msg = tf_message(make, [t])
    assert msg.transforms[0].header.frame_id == "odom" and msg.transforms[0].child_frame_id == "body"
    assert msg.transforms[0].transform.translation.x == 1.0
    assert make.serialize(msg)


def test_tf_edges_keep_one_tree():
    odom_tform_body = ((3.0, 1.0, 0.5), yaw_quat(0.4))
    vision_tform_odom = ((2.0, -1.0, 0.0), yaw_quat(0.5))
    vision_tform_body = pose_multiply(vision_tform_odom, odom_tform_body)
    edges = {(p, c): pose for p, c, pose in robot_tf_edges("odom", odom_tform_body, vision_tform_body)}
    assert set(edges) == {("odom", "body"), ("odom", "vision")}
    odom_tform_vision = edges[("odom", "vision")]
    assert pose_multiply(odom_tform_vision, vision_tform_odom)[0] == pytest.approx((0, 0, 0), abs=1e-12)
    edges = {(p, c): pose for p, c, pose in robot_tf_edges("vision", odom_tform_body, vision_tform_body)}
    assert set(edges) == {("vision", "body"), ("vision", "odom")}
    assert edges[("vision", "odom")][0] == pytest.approx(vision_tform_odom[0], abs=1e-12)
    assert robot_tf_edges("odom", odom_tform_body, None) == [("odom", "body", odom_tform_body)]
    with pytest.raises(ValueError, match="unknown tf root"):
        robot_tf_edges("map", odom_tform_body, vision_tform_body)


finite = st.floats(-5, 5, allow_nan=False)


@settings(max_examples=100, deadline=None)
@given(x=finite, y=finite, z=finite, yaw=finite, roll=finite, v=st.tuples(finite, finite, finite))
def test_pose_inverse_and_rotate(x, y, z, yaw, roll, v):
    q = (math.sin(roll / 2) * math.cos(yaw / 2), 0.0, math.sin(yaw / 2) * math.cos(roll / 2),
         math.cos(roll / 2) * math.cos(yaw / 2))
    n = math.sqrt(sum(c * c for c in q))
    q = tuple(c / n for c in q)
    pose = ((x, y, z), q)
    ident = pose_multiply(pose, pose_inverse(pose))
    assert ident[0] == pytest.approx((0, 0, 0), abs=1e-9)
    assert abs(ident[1][3]) == pytest.approx(1.0, abs=1e-9)
    assert math.dist(rotate(q, v), (0, 0, 0)) == pytest.approx(math.dist(v, (0, 0, 0)), abs=1e-9)


def test_generic_factory_builds_the_same_messages():
    def generic(type_name, **fields):
        return make.make(type_name, **fields)

    pose = ((1.0, 2.0, 0.5), yaw_quat(0.3))
    for factory in (make, generic):
        odom = odometry_msg(factory, (1, 2), "odom", "body", pose, (0.1, 0.2, 0.3), (0.0, 0.0, 0.4))
        tf = tf_message(factory, [transform_stamped_msg(factory, (1, 2), "odom", "body", pose)])
        if factory is make:
            want = (make.serialize(odom), make.serialize(tf))
    assert (make.serialize(odom), make.serialize(tf)) == want
