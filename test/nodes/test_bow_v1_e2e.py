"""BOW messages v1 end to end over real DDS: the BOW SDK's own `bow_data` classes (bow-api wheel)
drive the simulated Spot through motor_command, and every v1 sample proprioception publishes
parses with them. Two DDS participants: the bridge's and the "BOW application's"."""

from __future__ import annotations

import math
import os
import re
import time
from pathlib import Path

import numpy as np
import pytest
from google.protobuf.unknown_fields import UnknownFieldSet
from waiting import wait_for, wait_until

from spot_bow_ros.nodes.motor_command import MotorCommandBridge
from spot_bow_ros.nodes.proprioception import ProprioceptionBridge
from spot_bow_ros.ros.qos import QoS, Reliability
from spot_bow_ros.sim.state import build_robot_state
from spot_bow_ros.standalone.dds_transport import DdsTransport
from spot_bow_ros.standalone.node import StandaloneNode

v1 = pytest.importorskip("bow_data", reason="bow-api not installed (pip install --no-deps bow-api)")

ROOT = Path(__file__).resolve().parents[2]
U8 = "std_msgs/msg/UInt8MultiArray"
URDF_NAMES = ["front_left_hip_x", "front_left_hip_y", "front_left_knee", "front_right_hip_x", "front_right_hip_y",
              "front_right_knee", "rear_left_hip_x", "rear_left_hip_y", "rear_left_knee", "rear_right_hip_x",
              "rear_right_hip_y", "rear_right_knee", "arm_sh0", "arm_sh1", "arm_el0", "arm_el1", "arm_wr0",
              "arm_wr1", "arm_f1x"]
SPOT_NAMES = [f"{leg}.{j}" for leg in ("fl", "fr", "hl", "hr") for j in ("hx", "hy", "kn")] + \
             [f"arm0.{j}" for j in ("sh0", "sh1", "el0", "el1", "wr0", "wr1", "f1x")]


def _domain() -> int:
    return int(os.environ["ROS_DOMAIN_ID"])


class App:
    """The BOW application side: its own DDS participant and node."""

    def __init__(self):
        self.transport = DdsTransport(domain_id=_domain())
        self.node = StandaloneNode("bow_app", self.transport)
        self.received: dict[str, list] = {}

    def collect(self, type_name, topic, qos=None):
        self.received[topic] = []
        self.node.create_subscription(type_name, topic, self.received[topic].append,
                                      qos or QoS(depth=100, reliability=Reliability.BEST_EFFORT))

    def close(self):
        self.node.destroy()
        self.transport.close()


@pytest.fixture
def app():
    a = App()
    yield a
    a.close()


@pytest.fixture
def bridge_transport():
    t = DdsTransport(domain_id=_domain())
    yield t
    t.close()


# -- proprioception (first: the module's simulated Spot is still sitting still) -----------------

def test_spot_state_as_v1_samples_every_one_parses(sim, app, bridge_transport):
    for topic in ("bow/proprioception/out", "bow/exteroception/out", "bow/interoception/out"):
        app.collect(U8, topic)
    app.collect("sensor_msgs/msg/JointState", "joint_states")
    app.collect("sensor_msgs/msg/Imu", "imu")
    node = StandaloneNode("proprioception", bridge_transport, parameter_overrides=dict(
        sim_info_file=sim.info_file, bow_messages="sdk_v1", rate=20.0, camera_frames=False))
    bridge = ProprioceptionBridge(node)
    try:
        wait_for(lambda: len(app.received["bow/proprioception/out"]) >= 10
                   and len(app.received["bow/interoception/out"]) >= 1 and len(app.received["imu"]) >= 5,
                   timeout=15, what="v1 samples")
    finally:
        node.destroy()
    r = app.received
    proprio = [v1.ProprioceptionSample.FromString(bytes(m.data)) for m in r["bow/proprioception/out"]]
    extero = [v1.ExteroceptionSample.FromString(bytes(m.data)) for m in r["bow/exteroception/out"]]
    intero = [v1.InteroceptionSample.FromString(bytes(m.data)) for m in r["bow/interoception/out"]]
    for sample, msg in zip(proprio + extero + intero, r["bow/proprioception/out"] + r["bow/exteroception/out"]
                           + r["bow/interoception/out"]):
        assert sample.SerializeToString() == bytes(msg.data)  # nothing unknown to the SDK's classes
        assert len(UnknownFieldSet(sample)) == 0
    truth = sim.robot.latest()
    last = proprio[-1]
    assert [j.Name for j in last.RawJoints] == URDF_NAMES
    for joint, spot in zip(last.RawJoints, SPOT_NAMES):
        assert joint.Type == v1.Joint.REVOLUTE and joint.Min < joint.Max
        assert joint.Position == pytest.approx(truth.joint(spot)[0], abs=1e-4)  # sitting still
    (hand,) = last.Effectors  # the simulated Spot has an arm
    assert hand.EffectorLinkName == "hand" and hand.IsControllable
    assert 0.3 < hand.EndTransform.Position.X < 1.2  # stowed hand, in front of the body centre
    knee = last.RawJoints[2]
    assert (knee.Min, knee.Max, knee.MaxTorque) == pytest.approx((-2.7929, -0.254801, 115.0), abs=1e-5)
    imu = extero[-1].Imu[0]
    assert imu.Source == "body" and imu.HasGyro
    if imu.HasAcc:  # streaming IMU packets: specific force, +g up at rest
        assert imu.Acc.Z == pytest.approx(9.81, abs=0.1)
    assert abs(imu.Orientation.X) < 0.05 and abs(imu.Orientation.Y) < 0.05
    bat = intero[-1].battery
    truth = build_robot_state(sim.robot, sim.robot.latest()).battery_states[0]  # it drains
    assert bat.Present and bat.Percentage == pytest.approx(truth.charge_percentage.value, abs=0.1)
    assert bat.Voltage == pytest.approx(truth.voltage.value, abs=0.1)
    assert bat.SupplyStatus == v1.Battery.Discharging
    js = r["joint_states"][-1]
    assert list(js.name) == URDF_NAMES and len(js.position) == 19
    assert r["imu"][-1].header.frame_id == "body"
    assert bridge.rejected == 0


def test_v1_input_from_another_bow_robot_becomes_joint_states_and_imu(app, bridge_transport):
    app.collect("sensor_msgs/msg/JointState", "joint_states")
    app.collect("sensor_msgs/msg/Imu", "imu")
    app.collect("sensor_msgs/msg/Imu", "imu/head")
    node = StandaloneNode("proprioception", bridge_transport, parameter_overrides=dict(
        connect_to_spot=False, bow_messages="sdk_v1", frame_prefix="pepper/"))
    ProprioceptionBridge(node)
    pub_p = app.node.create_publisher(U8, "bow/proprioception/binary", QoS(depth=5))
    pub_e = app.node.create_publisher(U8, "bow/exteroception/binary", QoS(depth=5))
    pub_json = app.node.create_publisher("std_msgs/msg/String", "bow/proprioception", QoS(depth=5))
    ps = v1.ProprioceptionSample()
    ps.RawJoints.add(Name="HeadYaw", Type=v1.Joint.REVOLUTE, Position=0.4, Velocity=0.1, Torque=0.5)
    ps.RawJoints.add(Name="HeadPitch", Type=v1.Joint.REVOLUTE, Position=-0.2)
    ex = v1.ExteroceptionSample()
    a = ex.Imu.add(Source="torso", HasGyro=True, HasAcc=True)
    a.Gyro.Z, a.Acc.Z = 0.25, 9.8
    a.Orientation.Z = 0.5
    ex.Imu.add(Source="head", HasGyro=True).Gyro.X = 0.1
    try:
        wait_for(lambda: pub_p.get_subscription_count() and pub_e.get_subscription_count(), what="discovery")
        time.sleep(0.3)

        def received():
            pub_p.publish(app.node.msg(U8, data=ps.SerializeToString()))
            pub_e.publish(app.node.msg(U8, data=ex.SerializeToString()))
            time.sleep(0.1)
            return app.received["joint_states"] and app.received["imu"] and app.received["imu/head"]
        wait_for(received, what="joint_states and imu")
        js = app.received["joint_states"][-1]
        assert list(js.name) == ["pepper/HeadYaw", "pepper/HeadPitch"]
        assert np.allclose(js.position, [0.4, -0.2], atol=1e-6) and np.allclose(js.effort, [0.5, 0.0])
        imu = app.received["imu"][-1]
        assert imu.header.frame_id == "pepper/torso"
        assert (imu.angular_velocity.z, imu.linear_acceleration.z) == pytest.approx((0.25, 9.8), abs=1e-5)
        assert (imu.orientation.z, imu.orientation.w) == pytest.approx((math.sin(0.25), math.cos(0.25)), abs=1e-6)
        assert app.received["imu/head"][-1].header.frame_id == "pepper/head"
        # the JSON form as well
        from google.protobuf import json_format
        ps.RawJoints[0].Position = 0.9
        n = len(app.received["joint_states"])
        wait_for(lambda: (pub_json.publish(app.node.msg("std_msgs/msg/String",
                                                          data=json_format.MessageToJson(ps))),
                            time.sleep(0.1), any(m.position[0] > 0.8 for m in app.received["joint_states"][n:]))[2],
                   what="joint_states from JSON")
    finally:
        node.destroy()


# -- motor_command: v1 MotorSamples drive the simulated Spot ------------------------------------

class MotorRig:
    def __init__(self, sim, transport, app, tmp_path, **params):
        self.sim, self.app = sim, app
        overrides = dict(sim_info_file=sim.info_file, enable_motion=True, auto_power_on=True, auto_stand=True,
                         estop_release_at_start=True,
                         cmd_duration=0.6, cmd_timeout=0.5, recordings_dir=str(tmp_path / "rec"),
                         diagnostics_period=0.5, bow_messages="sdk_v1")
        overrides.update(params)
        self.node = StandaloneNode("motor_command", transport, parameter_overrides=overrides)
        self.bridge = MotorCommandBridge(self.node)
        self.pub = app.node.create_publisher(U8, "motor_command/binary", QoS(depth=1))
        wait_for(lambda: self.pub.get_subscription_count(), what="discovery of motor_command/binary")
        time.sleep(0.3)

    def mark(self):
        return len(self.sim.robot.commands())

    def commands_since(self, mark):
        return [r for r in self.sim.robot.commands()[mark:] if r.rpc == "RobotCommand"]

    def send(self, sample, handled=True):
        """Publish until the bridge has handled it (DDS may still be matching the reader)."""
        before = self.bridge.counts["received"]
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline:
            self.pub.publish(self.app.node.msg(U8, data=sample.SerializeToString()))
            end = time.monotonic() + 0.3
            while time.monotonic() < end:
                if self.bridge.counts["received"] > before:
                    return
                time.sleep(0.005)
        raise AssertionError("the bridge never received the sample")

    def close(self):
        self.node.destroy()


@pytest.fixture
def rig(sim, bridge_transport, app, tmp_path):
    r = MotorRig(sim, bridge_transport, app, tmp_path)
    yield r
    r.close()


def velocity_of(rec):
    req = rec.request.command.synchronized_command.mobility_command.se2_velocity_request
    return req.velocity.linear.x, req.velocity.linear.y, req.velocity.angular


def test_v1_locomotion_walks_spot_at_the_commanded_velocity_then_the_watchdog_stops_it(rig):
    s = v1.MotorSample()
    s.Locomotion.TranslationalVelocity.X = 0.4
    s.Locomotion.TranslationalVelocity.Y = -0.1   # right
    s.Locomotion.RotationalVelocity.Z = 0.3       # turn left
    mark = rig.mark()
    rig.send(s)
    end = time.monotonic() + 1.5
    while time.monotonic() < end:  # a BOW app streams at 10 Hz
        rig.pub.publish(rig.app.node.msg(U8, data=s.SerializeToString()))
        time.sleep(0.1)
    recs = rig.commands_since(mark)
    assert recs and all(r.accepted for r in recs)
    assert velocity_of(recs[-1]) == pytest.approx((0.4, -0.1, 0.3), abs=1e-6)
    snap = rig.sim.robot.latest()
    assert snap.walking
    speed = math.hypot(*snap.velocity_linear_odom[:2])
    assert speed == pytest.approx(math.hypot(0.4, 0.1), abs=0.05)
    assert snap.velocity_angular_odom[2] == pytest.approx(0.3, abs=0.05)
    wait_for(lambda: not rig.sim.robot.latest().walking, timeout=3, what="Spot to stop")
    assert rig.bridge.counts["watchdog_stops"] >= 1


def test_v1_limits_apply(rig):
    s = v1.MotorSample()
    s.Locomotion.TranslationalVelocity.X = 5.0
    s.Locomotion.RotationalVelocity.Z = -4.0
    mark = rig.mark()
    rig.send(s)
    rec = wait_for(lambda: rig.commands_since(mark), what="a RobotCommand")[-1]
    assert velocity_of(rec) == pytest.approx((0.5, 0.0, -0.8), abs=1e-6)  # MotionLimits defaults


def test_v1_raw_joints_move_spots_arm_by_name(rig):
    target = {"arm_sh0": 0.3, "arm_sh1": -1.2, "arm_el0": 1.6, "arm_el1": 0.1, "arm_wr0": 0.4, "arm_wr1": -0.2}
    s = v1.MotorSample(ControlMode=v1.MotorSample.USE_DIRECT_JOINTS)
    for name in reversed(list(target)):  # order does not matter: matched by name
        s.RawJoints.add(Name=name, Position=target[name])
    s.RawJoints.add(Name="arm_f1x", Position=-0.7854)   # half open
    mark = rig.mark()
    rig.send(s)
    rec = wait_for(lambda: rig.commands_since(mark), what="an arm command")[-1]
    assert rec.accepted, rec.message
    deadline = time.monotonic() + 6
    while time.monotonic() < deadline:
        snap = rig.sim.robot.latest()
        if all(abs(snap.joint("arm0." + n[4:])[0] - v) < 0.01 for n, v in target.items()):
            break
        time.sleep(0.05)
    snap = rig.sim.robot.latest()
    for name, value in target.items():
        assert snap.joint("arm0." + name[4:])[0] == pytest.approx(value, abs=0.01), name
    assert snap.gripper_open_fraction == pytest.approx(0.5, abs=0.02)


def test_v1_leg_joints_are_refused_and_nothing_moves(rig):
    s = v1.MotorSample(ControlMode=v1.MotorSample.USE_DIRECT_JOINTS)
    s.RawJoints.add(Name="front_left_knee", Position=-1.0)
    mark = rig.mark()
    rejected = rig.bridge.counts["rejected"]
    rig.send(s)
    assert wait_until(lambda: rig.bridge.counts["rejected"] == rejected + 1, timeout=20), rig.bridge.counts
    assert "legs cannot be commanded" in rig.bridge.last_reason
    assert rig.commands_since(mark) == []


def test_v1_gaze_gripper_and_arm_objective(rig):
    s = v1.MotorSample()
    s.GazeTarget.GazeVector.X = -0.2   # look a bit left (BOW SDK example: "Look left" X = -0.2)
    s.GripperObjective.HandMapPercentage.Index = 0.25
    o = s.Objectives.add(TargetEffector="arm", Enabled=True)
    o.PoseTarget.Transform.Position.X, o.PoseTarget.Transform.Position.Z = 0.75, 0.25
    o.PoseTarget.MovementDurationMs = 1500
    from bosdyn.api.spot import robot_command_pb2 as spot_command_pb2

    def parts(recs):
        """The body yaws, arm cartesian commands and claw positions the robot was sent."""
        yaws, arms, claws = [], [], []
        for r in recs:
            sync = r.request.command.synchronized_command
            if sync.mobility_command.HasField("params"):
                params = spot_command_pb2.MobilityParams()
                sync.mobility_command.params.Unpack(params)
                yaws.append(params.body_control.base_offset_rt_footprint.points[0].pose.rotation.to_euler_zxy().yaw)
            if sync.arm_command.HasField("arm_cartesian_command"):
                arms.append(sync.arm_command.arm_cartesian_command)
            if sync.gripper_command.HasField("claw_gripper_command"):
                claws.append(sync.gripper_command.claw_gripper_command.trajectory.points[0].point)
        return yaws, arms, claws

    mark = rig.mark()
    rig.send(s)
    wait_until(lambda: all(parts(rig.commands_since(mark))), timeout=20)   # gaze, arm and gripper sent
    recs = rig.commands_since(mark)
    assert recs and all(r.accepted for r in recs), [r.message for r in recs]
    yaws, arms, claws = parts(recs)
    assert yaws and yaws[-1] == pytest.approx(0.2, abs=1e-4)
    assert arms and arms[-1].root_frame_name == "flat_body"
    p = arms[-1].pose_trajectory_in_task.points[0].pose.position
    assert (p.x, p.y, p.z) == pytest.approx((0.75, 0.0, 0.25), abs=1e-6)
    assert claws and claws[-1] == pytest.approx(-1.5707 * 0.75, abs=0.01)


def test_v1_motion_gate(rig):
    rig.bridge.control("disable_motion")
    s = v1.MotorSample()
    s.Locomotion.TranslationalVelocity.X = 0.3
    mark = rig.mark()
    dropped = rig.bridge.counts["dropped_disabled"]
    rig.send(s)
    assert wait_until(lambda: rig.bridge.counts["dropped_disabled"] == dropped + 1, timeout=20), rig.bridge.counts
    assert [velocity_of(r) for r in rig.commands_since(mark) if r.request.command.synchronized_command
            .mobility_command.HasField("se2_velocity_request")] == []


def test_docs_example_drives_the_simulated_spot(rig):
    """The Python example of docs/bow.md, run as written (same ROS_DOMAIN_ID)."""
    text = (ROOT / "docs" / "bow.md").read_text()
    (code,) = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(code.strip().splitlines()) <= 16
    mark = rig.mark()
    scope: dict = {}
    try:
        exec(compile(code, "docs/bow.md", "exec"), scope)
    finally:
        node = scope.get("node")
        if node is not None:
            transport = node.transport
            node.destroy()
            transport.close()
    recs = [r for r in rig.commands_since(mark)
            if r.request.command.synchronized_command.mobility_command.HasField("se2_velocity_request")]
    assert len(recs) >= 10 and all(r.accepted for r in recs)
    assert velocity_of(recs[-1]) == pytest.approx((0.3, 0.0, 0.2), abs=1e-6)


def test_unused_v1_fields_warn_once_per_kind(rig, caplog):
    import logging
    caplog.set_level(logging.WARNING, logger="spot_bow_ros.motor_command")
    s = v1.MotorSample()
    s.Locomotion.TranslationalVelocity.X = 0.1
    s.GaitSettings.UseCustomGait = True
    for _ in range(3):
        rig.send(s)
    warned = [r.getMessage() for r in caplog.records if "GaitSettings ignored" in r.getMessage()]
    assert len(warned) == 1 and "warned once" in warned[0]
