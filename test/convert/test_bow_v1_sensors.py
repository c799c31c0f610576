"""BOW messages v1 robot state conversions (convert/bow_v1_sensors.py) with the real `bow_data`
of the bow-api wheel: Spot -> v1 samples, v1 samples from any BOW robot -> ROS."""

from __future__ import annotations

import math

import numpy as np
import pytest

from spot_bow_ros.convert import bow_v1 as c
from spot_bow_ros.convert import bow_v1_sensors as sen
from spot_bow_ros.convert.joints import ProprioceptionError
from spot_bow_ros.convert.motion import MotionLimits
from spot_bow_ros.convert.motor import MotorConfig
from spot_bow_ros.convert.spot_urdf import SPOT_JOINT_FACTS
from spot_bow_ros.standalone.message_store import messages_for

v1 = pytest.importorskip("bow_data", reason="bow-api not installed (pip install --no-deps bow-api)")
make = messages_for("humble")


# -- Spot -> v1 ----------------------------------------------------------------------------------

def test_proprioception_v1_raw_joints_carry_values_and_urdf_limits():
    names = ["fl.hx", "hr.kn", "arm0.sh1", "arm0.f1x"]
    ps = sen.proprioception_v1_from_spot(v1, names, [0.1, -1.2, -2.0, -0.5], [0.5, -0.25, 0.0, 1.0],
                                       [3.0, -20.0, 7.5, 0.5], prefix="spot/")
    ps = v1.ProprioceptionSample.FromString(ps.SerializeToString())
    j = {x.Name: x for x in ps.RawJoints}
    assert list(j) == ["spot/front_left_hip_x", "spot/rear_right_knee", "spot/arm_sh1", "spot/arm_f1x"]
    knee = j["spot/rear_right_knee"]
    assert knee.Type == v1.Joint.REVOLUTE
    assert (knee.Position, knee.Velocity, knee.Torque) == pytest.approx((-1.2, -0.25, -20.0))
    assert (knee.Min, knee.Max) == pytest.approx((-2.7929, -0.257725))
    assert (knee.MaxVelocity, knee.MaxTorque) == pytest.approx((12.0, 115.0))
    assert (j["spot/arm_sh1"].Min, j["spot/arm_sh1"].Max) == pytest.approx((-3.14159, 0.523599))
    assert j["spot/arm_sh1"].MaxTorque == pytest.approx(181.8)
    assert (j["spot/arm_f1x"].Min, j["spot/arm_f1x"].Max) == pytest.approx((-1.5708, 0.0))


def test_every_spot_joint_has_urdf_facts():
    assert len(SPOT_JOINT_FACTS) == 19
    assert all(f.lower < f.upper for f in SPOT_JOINT_FACTS.values())


def test_exteroception_v1_imu_axes_and_orientation():
    q = (0.0, 0.0, math.sin(0.25), math.cos(0.25))  # yaw 0.5 rad
    ex = sen.exteroception_v1_from_imu(v1, (0.1, 0.0, 9.81), (0.0, 0.02, 0.3), q, "body", (0.01, 0.0, 0.05))
    ex = v1.ExteroceptionSample.FromString(ex.SerializeToString())
    imu = ex.Imu[0]
    assert imu.HasAcc and imu.HasGyro and imu.Source == "body" and imu.Transform.LinkName == "body"
    assert (imu.Acc.X, imu.Acc.Y, imu.Acc.Z) == pytest.approx((0.1, 0.0, 9.81), abs=1e-6)
    assert (imu.Gyro.X, imu.Gyro.Y, imu.Gyro.Z) == pytest.approx((0.0, 0.02, 0.3), abs=1e-6)
    assert (imu.Orientation.X, imu.Orientation.Y, imu.Orientation.Z) == pytest.approx((0, 0, 0.5), abs=1e-6)
    assert imu.Transform.Position.Z == pytest.approx(0.05)
    # and back to ROS: the same quantities in sensor_msgs/Imu
    ((topic, msg),) = sen.imu_msgs_from_v1(make, ex, (5, 6), prefix="spot/")
    assert topic == "imu" and msg.header.frame_id == "spot/body" and msg.header.stamp.sec == 5
    assert (msg.orientation.z, msg.orientation.w) == pytest.approx(q[2:], abs=1e-6)
    assert msg.linear_acceleration.z == pytest.approx(9.81, abs=1e-5)
    assert msg.angular_velocity.z == pytest.approx(0.3, abs=1e-6)
    assert msg.orientation_covariance[0] == 0.0


def test_unknown_acceleration_is_marked_not_provided():
    ex = sen.exteroception_v1_from_imu(v1, None, (0.0, 0.0, 0.1), (0.0, 0.0, 0.0, 1.0))
    assert not ex.Imu[0].HasAcc and not ex.Imu[0].HasField("Acc")
    ((_, msg),) = sen.imu_msgs_from_v1(make, ex, (0, 0))
    assert msg.linear_acceleration_covariance[0] == -1.0


def test_interoception_v1_battery():
    s = sen.interoception_v1_from_battery(v1, 87.5, 55.2, -8.0, 3)  # bosdyn STATUS_DISCHARGING
    s = v1.InteroceptionSample.FromString(s.SerializeToString())
    b = s.battery
    assert (b.Percentage, b.Voltage, b.Current) == pytest.approx((87.5, 55.2, -8.0), abs=1e-5)
    assert b.Present and b.SupplyStatus == v1.Battery.Discharging
    assert sen.interoception_v1_from_battery(v1, None, None, None, 1).battery.Present is False


# -- v1 from any BOW robot -> ROS ----------------------------------------------------------------

def test_v1_proprioception_from_another_robot_to_joint_state():
    ps = v1.ProprioceptionSample()
    ps.RawJoints.add(Name="neck_yaw", Type=v1.Joint.REVOLUTE, Position=0.3, Velocity=-0.1, Torque=1.5)
    ps.RawJoints.add(Name="camera_mount", Type=v1.Joint.FIXED)
    ps.RawJoints.add(Name="lift", Type=v1.Joint.LINEAR_PRISMATIC, Position=0.12)
    msg = sen.joint_state_from_v1(make, v1.ProprioceptionSample.FromString(ps.SerializeToString()), (1, 2), "r/")
    assert list(msg.name) == ["r/neck_yaw", "r/lift"]  # FIXED joints have no state
    assert np.allclose(msg.position, [0.3, 0.12]) and np.allclose(msg.velocity, [-0.1, 0.0])
    assert np.allclose(msg.effort, [1.5, 0.0])
    ps.RawJoints.add(Name="lift", Type=v1.Joint.REVOLUTE)
    with pytest.raises(ProprioceptionError, match="duplicates"):
        sen.joint_state_from_v1(make, ps, (1, 2))


def test_several_v1_imus_get_their_own_topics():
    ex = v1.ExteroceptionSample()
    ex.Imu.add(Source="torso", HasGyro=True).Gyro.Z = 0.1
    ex.Imu.add(Source="head imu", HasAcc=True).Acc.Z = 9.8
    topics = [(t, m.header.frame_id) for t, m in sen.imu_msgs_from_v1(make, ex, (0, 0))]
    assert topics == [("imu", "torso"), ("imu/head_imu", "head imu")]


def test_arm_effector_names_the_target_of_objectives():
    ps = v1.ProprioceptionSample()
    q = (0.0, 0.0, math.sin(0.15), math.cos(0.15))  # hand yawed 0.3 rad left
    sen.add_arm_effector_v1(ps, v1, ((0.55, 0.0, 0.25), q))
    (eff,) = v1.ProprioceptionSample.FromString(ps.SerializeToString()).Effectors
    assert eff.EffectorLinkName == "hand" and eff.EffectorLinkName in c.ARM_EFFECTORS
    assert eff.IsControllable and eff.Type == v1.EFFECTOR and list(eff.AvailableActions) == [v1.GOTO]
    p = eff.EndTransform.Position
    assert (p.X, p.Y, p.Z) == pytest.approx((0.55, 0.0, 0.25), abs=1e-6)
    assert eff.EndTransform.EulerAngles.Z == pytest.approx(0.3, abs=1e-6)
    assert eff.EndTransform.Part == "body"
    # an objective at the reported pose, relative to the body, is the same hand pose
    s = v1.MotorSample()
    o = s.Objectives.add(TargetEffector=eff.EffectorLinkName, Enabled=True)
    o.PoseTarget.Transform.CopyFrom(eff.EndTransform)
    arm = c.convert_motor_sample_v1(v1.MotorSample.FromString(s.SerializeToString()), v1, MotorConfig(),
                                    MotionLimits()).command.arm
    assert arm.frame == "body" and arm.position == pytest.approx((0.55, 0.0, 0.25), abs=1e-6)
    assert arm.quaternion == pytest.approx(q, abs=1e-6)
