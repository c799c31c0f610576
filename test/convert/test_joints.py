"""Joint names and BOW ProprioceptionSample <-> sensor_msgs/JointState (convert/joints.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from spot_bow_ros.bow import bow_data_pb2 as bow
from spot_bow_ros.convert.joints import (
    ProprioceptionError,
    friendly_joint_name,
    joint_state_from_proprioception,
    proprioception_from_joint_state,
    proprioception_from_spot_joints,
    spot_joint_name,
    stream_joint_names,
)
from spot_bow_ros.convert.spot_catalogue import SPOT_ARM_HR0, SPOT_ARM_JOINTS, SPOT_LEG_JOINTS
from spot_bow_ros.standalone.message_store import messages_for

make = messages_for("humble")

URDF_NAMES = [
    "front_left_hip_x", "front_left_hip_y", "front_left_knee",
    "front_right_hip_x", "front_right_hip_y", "front_right_knee",
    "rear_left_hip_x", "rear_left_hip_y", "rear_left_knee",
    "rear_right_hip_x", "rear_right_hip_y", "rear_right_knee",
    "arm_sh0", "arm_sh1", "arm_el0", "arm_el1", "arm_wr0", "arm_wr1", "arm_f1x",
]


def test_spot_names_map_to_urdf_names_and_back():
    spot = SPOT_LEG_JOINTS + SPOT_ARM_JOINTS
    assert [friendly_joint_name(n) for n in spot] == URDF_NAMES
    assert [spot_joint_name(n) for n in URDF_NAMES] == list(spot)
    assert friendly_joint_name("fl.kn", "spot/") == "spot/front_left_knee"
    assert spot_joint_name("spot/rear_right_hip_y", "spot/") == "hr.hy"
    assert friendly_joint_name("tail.wag") == "tail_wag"  # undocumented joints pass through


def test_stream_joint_order():
    assert stream_joint_names(12) == SPOT_LEG_JOINTS
    assert stream_joint_names(19)[12:] == SPOT_ARM_JOINTS
    with pytest.raises(ProprioceptionError, match="13 joints"):
        stream_joint_names(13)


def test_stream_layout_learned_from_the_polled_names():
    from bosdyn.api.spot import spot_constants_pb2

    from spot_bow_ros.convert.joints import robot_has_arm, stream_layout
    polled_arm = SPOT_LEG_JOINTS + ("arm0.sh0", "arm0.sh1", SPOT_ARM_HR0, "arm0.el0", "arm0.el1", "arm0.wr0",
                                    "arm0.wr1", "arm0.f1x")
    layout = stream_layout(polled_arm)
    assert len(polled_arm) == 20 and len(layout) == 19 and SPOT_ARM_HR0 not in layout
    # the stream's order is bosdyn.api.spot.JointIndex
    for name, index in (("fl.hx", "JOINT_INDEX_FL_HX"), ("hr.kn", "JOINT_INDEX_HR_KN"),
                        ("arm0.sh0", "JOINT_INDEX_A0_SH0"), ("arm0.el0", "JOINT_INDEX_A0_EL0"),
                        ("arm0.f1x", "JOINT_INDEX_A0_F1X")):
        assert layout.index(name) == spot_constants_pb2.JointIndex.Value(index)
    assert stream_layout(SPOT_LEG_JOINTS) == SPOT_LEG_JOINTS and not robot_has_arm(SPOT_LEG_JOINTS)
    # the learned layout decides, not the count alone
    assert stream_joint_names(19, layout) == layout
    with pytest.raises(ProprioceptionError, match="19 joints; this robot has 12"):
        stream_joint_names(19, stream_layout(SPOT_LEG_JOINTS))
    assert friendly_joint_name(SPOT_ARM_HR0) == "arm_hr0"     # the Spot URDF's (fixed) joint name


def spot_sample(prefix=""):
    names = SPOT_LEG_JOINTS + SPOT_ARM_JOINTS
    pos = [0.1 * i - 0.9 for i in range(19)]
    vel = [0.01 * i for i in range(19)]
    load = [-2.5 + i for i in range(19)]
    return proprioception_from_spot_joints(names, pos, vel, load, prefix), pos, vel, load


def test_spot_joints_to_bow_sample():
    sample, pos, vel, load = spot_sample("spot/")
    assert list(sample.JointNames) == ["spot/" + n for n in URDF_NAMES]
    assert sample.AngleUnits == bow.RADIANS and sample.TorqueUnits == bow.NEWTON_METRES
    assert list(sample.JointAngles) == pytest.approx(pos, abs=1e-6)  # float32 in BOW
    assert list(sample.JointVelocities) == pytest.approx(vel, abs=1e-6)
    assert list(sample.JointTorques) == pytest.approx(load, abs=1e-5)


def test_bow_sample_to_joint_state():
    sample, pos, vel, load = spot_sample()
    msg, note = joint_state_from_proprioception(make, sample, (1700000000, 123), "")
    assert note == ""
    assert (msg.header.stamp.sec, msg.header.stamp.nanosec) == (1700000000, 123)
    assert list(msg.name) == URDF_NAMES
    assert len(msg.position) == len(msg.velocity) == len(msg.effort) == 19
    assert np.allclose(msg.position, pos, atol=1e-6)
    assert np.allclose(msg.velocity, vel, atol=1e-6)
    assert np.allclose(msg.effort, load, atol=1e-5)
    assert make.serialize(msg)  # a valid message for the CDR codec


def test_degrees_are_converted_to_radians():
    sample = bow.ProprioceptionSample(JointNames=["a", "b"], JointAngles=[90.0, -180.0],
                                      JointVelocities=[45.0, 0.0], AngleUnits=bow.DEGREES)
    msg, _ = joint_state_from_proprioception(make, sample, (0, 0))
    assert np.allclose(msg.position, [math.pi / 2, -math.pi], atol=1e-6)
    assert np.allclose(msg.velocity, [math.pi / 4, 0.0], atol=1e-6)
    assert len(msg.effort) == 0


def test_unknown_angle_units_mean_radians():
    sample = bow.ProprioceptionSample(JointNames=["a"], JointAngles=[1.25])
    msg, _ = joint_state_from_proprioception(make, sample, (0, 0))
    assert list(msg.position) == [1.25]


def test_current_torques_are_not_effort():
    sample = bow.ProprioceptionSample(JointNames=["a", "b"], JointAngles=[0.0, 1.0],
                                      JointTorques=[3.0, 4.0], TorqueUnits=bow.CURRENT)
    msg, note = joint_state_from_proprioception(make, sample, (0, 0))
    assert len(msg.effort) == 0
    assert "CURRENT" in note
    assert len(msg.position) == 2


@pytest.mark.parametrize("fields, message", [
    (dict(JointNames=["a", "b"], JointAngles=[1.0]), "1 JointAngles for 2 JointNames"),
    (dict(JointNames=["a"], JointAngles=[1.0], JointVelocities=[1.0, 2.0]), "2 JointVelocities"),
    (dict(JointNames=["a"], JointAngles=[1.0], JointTorques=[1.0, 2.0]), "2 JointTorques"),
    (dict(JointNames=["a", "a"], JointAngles=[1.0, 2.0]), "duplicates"),
    (dict(JointNames=["a"], JointAngles=[1.0], AngleUnits=7), "AngleTypeEnum value 7"),
    (dict(JointNames=["a"], JointAngles=[1.0], JointTorques=[1.0], TorqueUnits=5), "TorqueTypeEnum value 5"),
])
def test_malformed_samples_are_rejected(fields, message):
    with pytest.raises(ProprioceptionError, match=message):
        joint_state_from_proprioception(make, bow.ProprioceptionSample(**fields), (0, 0))


def test_empty_sample_gives_empty_joint_state():
    msg, _ = joint_state_from_proprioception(make, bow.ProprioceptionSample(), (5, 6))
    assert len(msg.name) == len(msg.position) == 0


def test_joint_state_to_bow_and_back():
    js = make("sensor_msgs/msg/JointState", name=["spot/arm_sh0", "spot/arm_el0"], position=[0.5, -1.0],
              velocity=[0.1, 0.2], effort=[1.0, 2.0])
    sample = proprioception_from_joint_state(js, prefix="spot/")
    assert list(sample.JointNames) == ["arm_sh0", "arm_el0"]
    assert sample.AngleUnits == bow.RADIANS and sample.TorqueUnits == bow.NEWTON_METRES
    back, _ = joint_state_from_proprioception(make, sample, (0, 0))
    assert np.allclose(back.position, [0.5, -1.0]) and np.allclose(back.effort, [1.0, 2.0])


def test_generic_factory_builds_the_same_message():
    sample, _, _, _ = spot_sample()
    fast, _ = joint_state_from_proprioception(make, sample, (1, 2), prefix="spot/")
    slow, _ = joint_state_from_proprioception(lambda t, **f: make.make(t, **f), sample, (1, 2), prefix="spot/")
    assert make.serialize(fast) == make.serialize(slow)
    assert list(fast.name)[0] == "spot/front_left_hip_x"
