"""Spot IMU -> BOW IMU -> sensor_msgs/Imu (convert/imu.py), REP 145 and axis conventions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from spot_bow_ros.bow import bow_data_pb2 as bow
from spot_bow_ros.bow.frames import AxisConvention
from spot_bow_ros.convert.imu import (
    bow_imu_from_kinematics,
    bow_imu_from_spot_packet,
    imu_frame_id,
    imu_msg_from_bow,
    imu_topic,
)
from spot_bow_ros.standalone.message_store import messages_for

make = messages_for("humble")
DOC, ROS = AxisConvention.BOW_DOCUMENTED, AxisConvention.ROS

# a body pitched nose-down 0.1 rad and yawed 0.3 rad, turning left and accelerating forward
ROT = (0.0149, 0.0492, 0.1486, 0.9876)
NORM = math.sqrt(sum(c * c for c in ROT))
ROT = tuple(c / NORM for c in ROT)
GYRO = (0.05, -0.02, 0.4)
ACC = (1.2, 0.1, 9.7)


def vec(v):
    return (v.x, v.y, v.z)


def test_spot_packet_in_documented_bow_axes():
    imu = bow_imu_from_spot_packet(ACC, GYRO, ROT, "body", convention=DOC)
    # documented BOW: X right, Y up, Z forward; gravity reaction is +Y, forward acceleration +Z
    assert (imu.Acc.X, imu.Acc.Y, imu.Acc.Z) == pytest.approx((-0.1, 9.7, 1.2), abs=1e-6)
    # turning left (ROS +z) is a negative rotation about BOW up (positive = yaw right)
    assert imu.Gyro.Y == pytest.approx(-0.4, abs=1e-7)
    assert imu.Transform.Name == "body" and imu.Transform.LocationTag == bow.TORSO


@pytest.mark.parametrize("link, tag", [("body", bow.TORSO), ("head", bow.HEAD), ("hand", bow.END_EFFECTOR),
                                       ("arm0.link_wr1", bow.END_EFFECTOR), ("payload_imu", None)])
def test_imus_off_the_body_are_not_tagged_base(link, tag):
    imu = bow_imu_from_spot_packet(ACC, GYRO, ROT, link, convention=DOC)
    assert imu.Transform.Name == link
    if tag is None:
        assert not imu.Transform.HasField("LocationTag")   # unset: BASE would mean the floor contact
    else:
        assert imu.Transform.LocationTag == tag
    assert not (imu.Transform.HasField("LocationTag") and imu.Transform.LocationTag == bow.BASE)


@pytest.mark.parametrize("conv", [DOC, ROS])
def test_spot_packet_round_trips_to_ros_imu(conv):
    imu = bow_imu_from_spot_packet(ACC, GYRO, ROT, "body", convention=conv)
    imu = bow.IMU.FromString(imu.SerializeToString())  # what travels on bow/proprioception/out
    msg = imu_msg_from_bow(make, imu, (12, 34), imu_frame_id(imu, "spot/"), conv)
    assert msg.header.frame_id == "spot/body"
    assert (msg.header.stamp.sec, msg.header.stamp.nanosec) == (12, 34)
    assert vec(msg.angular_velocity) == pytest.approx(GYRO, abs=1e-6)
    assert vec(msg.linear_acceleration) == pytest.approx(ACC, abs=1e-5)
    q = (msg.orientation.x, msg.orientation.y, msg.orientation.z, msg.orientation.w)
    assert q == pytest.approx(ROT, abs=1e-6)
    for cov in (msg.orientation_covariance, msg.angular_velocity_covariance, msg.linear_acceleration_covariance):
        assert np.all(np.asarray(cov) == 0.0)  # known, covariance unknown (REP 145)


def test_kinematic_imu_marks_acceleration_not_provided():
    imu = bow_imu_from_kinematics(ROT, GYRO, convention=DOC)
    assert not imu.HasField("Acc")
    msg = imu_msg_from_bow(make, imu, (0, 0), "body", DOC)
    assert msg.linear_acceleration_covariance[0] == -1.0
    assert list(msg.linear_acceleration_covariance[1:]) == [0.0] * 8
    assert msg.angular_velocity_covariance[0] == 0.0
    assert vec(msg.angular_velocity) == pytest.approx(GYRO, abs=1e-6)


def test_missing_orientation_and_gyro_are_not_provided():
    imu = bow.IMU()
    imu.Acc.Y = 9.81  # documented axes: up
    msg = imu_msg_from_bow(make, imu, (0, 0), "imu_link", DOC)
    assert msg.orientation_covariance[0] == -1.0
    assert msg.angular_velocity_covariance[0] == -1.0
    assert msg.linear_acceleration_covariance[0] == 0.0
    assert vec(msg.linear_acceleration) == pytest.approx((0.0, 0.0, 9.81), abs=1e-6)
    zero_q = bow.IMU()
    zero_q.Transform.Quaternion.QuatW = 0.0  # present but all zero: not an orientation
    assert imu_msg_from_bow(make, zero_q, (0, 0), "x", DOC).orientation_covariance[0] == -1.0


def test_yaw_right_orientation_from_documented_bow_is_negative_ros_yaw():
    imu = bow.IMU()
    s, c = math.sin(0.25), math.cos(0.25)  # 0.5 rad about BOW +Y: yaw right
    imu.Transform.Quaternion.QuatY, imu.Transform.Quaternion.QuatW = s, c
    msg = imu_msg_from_bow(make, imu, (0, 0), "x", DOC)
    assert (msg.orientation.z, msg.orientation.w) == pytest.approx((-s, c), abs=1e-7)
    msg_ros = imu_msg_from_bow(make, imu, (0, 0), "x", ROS)  # ROS axes: about +y (pitch)
    assert (msg_ros.orientation.y, msg_ros.orientation.w) == pytest.approx((s, c), abs=1e-7)


def test_frame_ids_and_topics():
    unnamed = bow.IMU()
    named = bow.IMU()
    named.Transform.Name = "arm/wrist-imu"
    assert imu_frame_id(unnamed, "spot/") == "spot/body"
    assert imu_frame_id(named) == "arm/wrist-imu"
    assert imu_topic(0, named) == "imu"
    assert imu_topic(1, named) == "imu/arm_wrist_imu"
    assert imu_topic(2, unnamed) == "imu/imu2"
    assert make.serialize(imu_msg_from_bow(make, named, (0, 0), "x"))


def test_generic_factory_builds_the_same_message():
    """Through a plain factory (what rclpy nodes give) the bytes equal the fast path's."""
    def generic(type_name, **fields):
        return make.make(type_name, **fields)

    imu = bow_imu_from_spot_packet(ACC, GYRO, ROT, "body")
    fast = imu_msg_from_bow(make, imu, (3, 4), "body")
    slow = imu_msg_from_bow(generic, imu, (3, 4), "body")
    assert make.serialize(fast) == make.serialize(slow)
    no_acc = bow_imu_from_kinematics(ROT, GYRO)
    assert make.serialize(imu_msg_from_bow(make, no_acc, (0, 0), "b")) == make.serialize(
        imu_msg_from_bow(generic, no_acc, (0, 0), "b"))
