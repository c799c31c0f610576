"""The proprioception node's BOW input path (no robot): any BOW robot gets joint_states/imu.

bow/proprioception (JSON in std_msgs/String) and bow/proprioception/binary (UInt8MultiArray)
feed the same BOW -> ROS conversion; malformed input gives one error line, nothing published,
and the node keeps running.
"""

from __future__ import annotations

import logging
import math
import time

import pytest
from google.protobuf import json_format

from spot_bow_ros.bow import bow_data_pb2 as bow
from spot_bow_ros.nodes.proprioception import PROPRIOCEPTION_PARAMS, ProprioceptionBridge
from spot_bow_ros.ros.qos import DEFAULT
from spot_bow_ros.standalone.node import InProcessBus, StandaloneNode


class Rig:
    def __init__(self, **params):
        self.bus = InProcessBus()
        self.got = {"/joint_states": [], "/imu": [], "/imu/wrist": []}
        self.listener = StandaloneNode("listener", self.bus)
        for topic, type_name in (("/joint_states", "sensor_msgs/msg/JointState"), ("/imu", "sensor_msgs/msg/Imu"),
                                 ("/imu/wrist", "sensor_msgs/msg/Imu")):
            self.listener.create_subscription(type_name, topic, self.got[topic].append, DEFAULT)
        self.node = StandaloneNode("proprioception", self.bus,
                                   parameter_overrides={"connect_to_spot": False, **params})
        self.bridge = ProprioceptionBridge(self.node)
        self.sender = StandaloneNode("bow_robot", self.bus)
        self.json_pub = self.sender.create_publisher("std_msgs/msg/String", "/bow/proprioception", DEFAULT)
        self.bin_pub = self.sender.create_publisher("std_msgs/msg/UInt8MultiArray", "/bow/proprioception/binary",
                                                    DEFAULT)

    def send_json(self, text: str):
        self.json_pub.publish(self.sender.msg("std_msgs/msg/String", data=text))

    def send_binary(self, data: bytes):
        self.bin_pub.publish(self.sender.msg("std_msgs/msg/UInt8MultiArray", data=data))

    def wait(self, topic, count, timeout=3.0):
        deadline = time.monotonic() + timeout
        while len(self.got[topic]) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.got[topic]

    def settle(self):
        time.sleep(0.2)

    def close(self):
        for n in (self.sender, self.node, self.listener):
            n.destroy()


@pytest.fixture
def rig():
    made = []

    def build(**params):
        r = Rig(**params)
        made.append(r)
        return r

    yield build
    for r in made:
        r.close()


def arm_sample() -> bow.ProprioceptionSample:
    s = bow.ProprioceptionSample(JointNames=["shoulder", "elbow"], JointAngles=[90.0, -45.0],
                                 JointVelocities=[10.0, 0.0], AngleUnits=bow.DEGREES,
                                 JointTorques=[1.5, -0.5], TorqueUnits=bow.NEWTON_METRES)
    imu = s.Imu.add()
    imu.Gyro.Y = 0.5          # documented axes: yaw to the right
    imu.Acc.Y = 9.81          # up
    imu.Transform.Name = "torso"
    wrist = s.Imu.add()
    wrist.Transform.Name = "wrist"
    wrist.Gyro.X = 1.0
    return s


def test_json_sample_becomes_joint_states_and_imus(rig):
    r = rig(frame_prefix="bot/")
    before = time.time_ns()
    r.send_json(json_format.MessageToJson(arm_sample()))
    js = r.wait("/joint_states", 1)[0]
    assert list(js.name) == ["bot/shoulder", "bot/elbow"]
    assert list(js.position) == pytest.approx([math.pi / 2, -math.pi / 4], abs=1e-6)
    assert list(js.velocity) == pytest.approx([math.radians(10.0), 0.0], abs=1e-6)
    assert list(js.effort) == pytest.approx([1.5, -0.5])
    stamp = js.header.stamp.sec * 10**9 + js.header.stamp.nanosec
    assert before <= stamp <= time.time_ns()  # BOW carries no time: stamped on receipt
    imu = r.wait("/imu", 1)[0]
    assert imu.header.frame_id == "bot/torso"
    assert (imu.angular_velocity.x, imu.angular_velocity.y, imu.angular_velocity.z) == pytest.approx((0, 0, -0.5))
    assert imu.linear_acceleration.z == pytest.approx(9.81, abs=1e-5)
    assert imu.orientation_covariance[0] == -1.0  # no orientation sent (REP 145)
    wrist = r.wait("/imu/wrist", 1)[0]
    assert wrist.header.frame_id == "bot/wrist"
    assert wrist.angular_velocity.y == pytest.approx(1.0)  # about BOW +X (right) = about ROS +y (axial)
    assert wrist.linear_acceleration_covariance[0] == -1.0


def test_binary_sample_with_ros_axes(rig):
    r = rig(axis_convention="ros")
    r.send_binary(arm_sample().SerializeToString())
    imu = r.wait("/imu", 1)[0]
    assert imu.angular_velocity.y == pytest.approx(0.5)  # identity with the ROS convention
    assert imu.linear_acceleration.y == pytest.approx(9.81, abs=1e-5)
    assert len(r.wait("/joint_states", 1)) == 1


def test_malformed_input_is_rejected_with_one_line_and_the_node_keeps_running(rig, caplog):
    r = rig()
    caplog.set_level(logging.ERROR)
    r.send_json("{not json")
    r.send_json('{"JointNames": ["a"], "NoSuchField": 1}')
    r.send_binary(b"\xff\xff\xff\xff")
    r.send_binary(bow.ProprioceptionSample(JointNames=["a", "b"], JointAngles=[1.0]).SerializeToString())
    r.settle()
    assert r.got["/joint_states"] == [] and r.got["/imu"] == []
    errors = [rec.getMessage() for rec in caplog.records if rec.levelno >= logging.ERROR]
    assert len(errors) == 4, errors
    assert any("not a ProprioceptionSample in protobuf JSON" in e for e in errors)
    assert any("not a binary ProprioceptionSample" in e for e in errors)
    assert any("1 JointAngles for 2 JointNames" in e for e in errors)
    assert r.bridge.rejected == 4
    # repeats of the same problem are throttled, not logged each time
    for _ in range(5):
        r.send_json("{not json")
    r.settle()
    assert len([rec for rec in caplog.records if rec.levelno >= logging.ERROR]) == 4
    # still alive
    r.send_binary(arm_sample().SerializeToString())
    assert len(r.wait("/joint_states", 1)) == 1


def test_current_torques_warned_once_and_left_out(rig, caplog):
    r = rig()
    caplog.set_level(logging.WARNING)
    s = bow.ProprioceptionSample(JointNames=["a"], JointAngles=[0.1], JointTorques=[2.0], TorqueUnits=bow.CURRENT)
    for _ in range(3):
        r.send_binary(s.SerializeToString())
    msgs = r.wait("/joint_states", 3)
    assert all(len(m.effort) == 0 for m in msgs)
    warnings = [rec for rec in caplog.records if "CURRENT" in rec.getMessage()]
    assert len(warnings) == 1


def test_parameters_are_declared_once_with_descriptions():
    names = [p.name for p in PROPRIOCEPTION_PARAMS]
    assert len(names) == len(set(names))
    assert all(p.description for p in PROPRIOCEPTION_PARAMS)
    node = StandaloneNode("proprioception", InProcessBus(), parameter_overrides={"connect_to_spot": False})
    try:
        ProprioceptionBridge(node)
        assert node.get_parameter("rate") == 50.0 and node.get_parameter("axis_convention") == "bow_documented"
        assert node.get_parameter("hostname") == ""  # connection parameters are declared too
    finally:
        node.destroy()


def _installed(command: str) -> list[str]:
    import sys
    from pathlib import Path

    exe = Path(sys.executable).parent / command
    return [str(exe)] if exe.exists() else [sys.executable, "-m", f"spot_bow_ros.nodes.{command}"]


def test_missing_robot_description_file_is_one_line_and_exit_2(tmp_path):
    import subprocess

    missing = tmp_path / "nope.urdf"
    done = subprocess.run(_installed("proprioception") + ["--ros-args", "-p", "connect_to_spot:=false",
                                                          "-p", f"robot_description_file:={missing}"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "cannot read the robot model" in lines[0] and str(missing) in lines[0], done.stderr
    assert "Traceback" not in done.stderr


def test_robot_description_file_replaces_the_shipped_model(tmp_path):
    urdf = tmp_path / "bot.urdf"
    urdf.write_text('<robot name="bot"><link name="base"/><link name="arm"/><joint name="bot/shoulder" '
                    'type="revolute"><parent link="base"/><child link="arm"/><origin xyz="0 0 0.5"/>'
                    '<axis xyz="0 0 1"/></joint></robot>')
    r = Rig(robot_description_file=str(urdf))
    try:
        desc, tf = [], []
        r.listener.create_subscription("std_msgs/msg/String", "/robot_description", desc.append,
                                       __import__("spot_bow_ros.ros.qos", fromlist=["LATCHED"]).LATCHED)
        r.listener.create_subscription("tf2_msgs/msg/TFMessage", "/tf", tf.append, DEFAULT)
        r.settle()
        sample = bow.ProprioceptionSample(JointNames=["bot/shoulder"], JointAngles=[math.pi / 2],
                                          AngleUnits=bow.RADIANS)
        r.send_binary(sample.SerializeToString())
        deadline = time.monotonic() + 3
        while not (tf and desc) and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        r.close()
    assert desc and desc[0].data == urdf.read_text()
    t = tf[0].transforms[0]
    assert (t.header.frame_id, t.child_frame_id) == ("base", "arm")
    assert (t.transform.translation.z, t.transform.rotation.z, t.transform.rotation.w) == pytest.approx(
        (0.5, math.sqrt(0.5), math.sqrt(0.5)))


class _ClosedChannelConnection:
    """What the camera-frame thread meets once Ctrl-C closed the robot's channels: grpc's ValueError."""

    def ensure_client(self, service_name):
        raise ValueError("Cannot invoke RPC on closed channel!")


def test_camera_frames_error_is_a_warning_but_only_debug_while_shutting_down(rig, caplog):
    """The same unexpected error: one warning while running; during close() (Ctrl-C) a debug line
    only (it used to say "cannot read image sources (unexpected ValueError)" on an early Ctrl-C)."""
    r = rig()
    caplog.set_level(logging.DEBUG)
    r.bridge.connection = _ClosedChannelConnection()
    r.bridge._fetch_camera_frames()
    said = [(rec.levelno, rec.getMessage()) for rec in caplog.records if "cannot read image sources" in rec.getMessage()]
    assert said == [(logging.WARNING, "camera frames: cannot read image sources (unexpected ValueError); "
                                      "no camera frames on /tf_static")]
    caplog.clear()
    r.bridge.close()
    r.bridge.connection = _ClosedChannelConnection()  # the thread still holds the connection close() let go
    r.bridge._fetch_camera_frames()
    said = [rec.levelno for rec in caplog.records if "cannot read image sources" in rec.getMessage()]
    assert said == [logging.DEBUG]
    assert not [rec for rec in caplog.records if rec.levelno >= logging.WARNING]
