"""Robot state protos -> SpotStateSample -> BOW (spot/state.py), without a robot.

The protos are built by the simulator's own builders from a physics snapshot, so the values
they carry are known exactly.
"""

from __future__ import annotations

import math
import time

import pytest
from bosdyn.api import geometry_pb2, image_pb2, robot_state_pb2
from bosdyn.client.frame_helpers import get_a_tform_b

from spot_bow_ros.bow import bow_data_pb2 as bow
from spot_bow_ros.bow.frames import AxisConvention
from spot_bow_ros.sim.frames import fill_frame_tree
from spot_bow_ros.sim.physics import SpotPhysics
from spot_bow_ros.sim.state import build_robot_state, build_stream_response
from spot_bow_ros.spot.state import (
    StateError,
    _frame_pose,
    proprioception_from_sample,
    sample_from_robot_state,
    sample_from_stream,
    sensor_frame_from_capture,
)


def walking_snapshot(arm=True):
    t = time.time_ns()
    phys = SpotPhysics(t, arm=arm)
    phys.set_power(True)
    phys.set_velocity(0.5, 0.1, 0.3, t + 10**10)
    snap = None
    for i in range(1, 400):
        snap = phys.step(t + i * 5_000_000)
    return snap


def test_frame_tree_walk_equals_bosdyn_frame_helpers():
    snap = walking_snapshot()
    tree = geometry_pb2.FrameTreeSnapshot()
    fill_frame_tree(tree, snap)
    for a, b in [("odom", "body"), ("vision", "body"), ("body", "hand"), ("odom", "frontleft_fisheye"),
                 ("hand", "hand_color_image_sensor"), ("vision", "odom")]:
        ref = get_a_tform_b(tree, a, b)
        (x, y, z), q = _frame_pose(tree, a, b)
        assert (x, y, z) == pytest.approx((ref.x, ref.y, ref.z), abs=1e-12)
        dot = abs(sum(u * v for u, v in zip(q, (ref.rot.x, ref.rot.y, ref.rot.z, ref.rot.w))))
        assert dot == pytest.approx(1.0, abs=1e-12)
    assert _frame_pose(tree, "odom", "no_such_frame") is None


def test_stream_response_to_sample_and_bow():
    snap = walking_snapshot()
    snap = snap.__class__(**{**snap.__dict__, "robot_ns": snap.local_ns + 100 * 10**9})
    resp = build_stream_response(snap, [snap])
    sample = sample_from_stream(resp)
    assert sample.joint_names[:3] == ("fl.hx", "fl.hy", "fl.kn") and len(sample.joint_names) == 19
    assert sample.position == pytest.approx(snap.joint_position)
    assert sample.robot_ns == snap.robot_ns and sample.imu.robot_ns == snap.robot_ns
    assert sample.imu.acceleration == pytest.approx(snap.imu.acceleration)
    v_body, w_body = sample.body_twist()
    assert math.hypot(v_body[0], v_body[1]) > 0.3  # walking forward in body axes
    out = proprioception_from_sample(sample, convention=AxisConvention.BOW_DOCUMENTED)
    assert out.JointNames[0] == "front_left_hip_x" and out.AngleUnits == bow.RADIANS
    assert out.Imu[0].Acc.Y == pytest.approx(snap.imu.acceleration[2], abs=1e-5)  # up is BOW +Y


def test_stream_with_unexpected_joint_count_is_a_state_error():
    resp = robot_state_pb2.RobotStateStreamResponse()
    resp.joint_states.position.extend([0.0] * 13)
    with pytest.raises(StateError, match="13 joints"):
        sample_from_stream(resp)


def test_sensor_frame_parent_is_hand_for_gripper_cameras():
    snap = walking_snapshot()
    for name, parent in (("hand_color_image_sensor", "hand"), ("frontleft_fisheye", "body")):
        shot = image_pb2.ImageCapture(frame_name_image_sensor=name)
        fill_frame_tree(shot.transforms_snapshot, snap, only_sensor=name)
        frame = sensor_frame_from_capture(shot, "src")
        assert frame.parent == parent and frame.name == name


def test_polled_state_drops_hr0_and_keeps_unknown_joints_by_name():
    from spot_bow_ros.sim.clock import RobotClock
    from spot_bow_ros.sim.robot import SimRobot
    robot = SimRobot(RobotClock.starting_now(0.0), arm=True, autostart=False)
    state = build_robot_state(robot, robot.latest())
    assert len(state.kinematic_state.joint_states) == 20
    extra = state.kinematic_state.joint_states.add(name="tail0.wag")   # a joint nobody documents
    extra.position.value = 0.25
    sample = sample_from_robot_state(state)
    assert "arm0.hr0" not in sample.joint_names and len(sample.joint_names) == 20
    assert sample.joint_names[12:15] == ("arm0.sh0", "arm0.sh1", "arm0.el0")
    assert sample.position[-1] == 0.25 and sample.velocity[-1] == 0.0
    out = proprioception_from_sample(sample)
    assert out.JointNames[-1] == "tail0_wag" and "arm_hr0" not in out.JointNames


def test_stream_checked_against_the_learned_layout():
    from spot_bow_ros.convert.spot_catalogue import SPOT_LEG_JOINTS
    snap = walking_snapshot(arm=True)
    resp = build_stream_response(snap, [snap])
    with pytest.raises(StateError, match="this robot has 12"):
        sample_from_stream(resp, layout=SPOT_LEG_JOINTS)
    legs = build_stream_response(walking_snapshot(arm=False), [])
    sample = sample_from_stream(legs, layout=SPOT_LEG_JOINTS)
    assert len(sample.joint_names) == 12 and sample.body_tform_hand is None
    assert len(legs.contact_states) == 4


def test_a_robot_state_delivered_twice_is_passed_on_once():
    """Polling faster than the robot updates (or under load) returns the same state again: its
    acquisition time must not reach joint_states and /tf twice."""
    from types import SimpleNamespace

    from spot_bow_ros.spot.state import RobotStateSource

    class Connection:  # what RobotStateSource uses of a connection when it is built
        def register_client(self, _client):
            pass

    got = []
    source = RobotStateSource(Connection(), got.append)
    for robot_ns in (1_000, 1_000, 4_000, 4_000, 4_000, 7_000, 2_000):  # 2_000: a robot restart
        source._deliver(SimpleNamespace(robot_ns=robot_ns))
    assert [s.robot_ns for s in got] == [1_000, 4_000, 7_000, 2_000]
    assert (source.samples, source.repeated) == (4, 3)
