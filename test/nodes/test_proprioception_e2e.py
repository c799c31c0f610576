"""The proprioception bridge end to end: real bosdyn clients against the simulated Spot
(robot clock +100 s ahead), the bridge node and a listener node on an in-process bus.

Truth comes from the simulator's physics history (`sim.robot.history()`): every published
value is matched to the snapshot the robot served and compared with it.
"""

from __future__ import annotations

import math
import threading
import time

import numpy as np
import pytest
from bosdyn.api import power_pb2
from cpu_load import CpuMonitor
from sim_client import snapshot_with_joints

from spot_bow_ros.bow import bow_data_pb2 as bow
from spot_bow_ros.bow.frames import angular_velocity_ros_to_bow, position_ros_to_bow
from spot_bow_ros.convert.joints import friendly_joint_name
from spot_bow_ros.nodes.proprioception import ProprioceptionBridge
from spot_bow_ros.ros.node_api import stamp_to_ns
from spot_bow_ros.ros.qos import DEFAULT, LATCHED
from spot_bow_ros.sim import SimulatedSpot
from spot_bow_ros.sim.frames import body_tform_sensor
from spot_bow_ros.sim.physics import ARM_JOINT_NAMES, LEG_JOINT_NAMES
from spot_bow_ros.standalone.node import InProcessBus, StandaloneNode

OFFSET_S = 100.0
STAMP_TOL_NS = 5_000_000


def start_walking(sim: SimulatedSpot, vx=0.5, vy=0.1, wz=0.3, seconds=60.0) -> None:
    """Power on (sim power system) and walk; waits until the body moves."""
    sim.robot.power.command(power_pb2.PowerCommandRequest.REQUEST_ON_MOTORS)
    deadline = time.monotonic() + 5
    while not sim.robot.power.is_on() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sim.robot.power.is_on(), "simulated Spot did not power on"
    with sim.robot.lock:
        sim.robot.physics.set_velocity(vx, vy, wz, time.time_ns() + int(seconds * 1e9))
    deadline = time.monotonic() + 5
    while not sim.robot.latest().walking and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sim.robot.latest().walking


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    spot = SimulatedSpot(clock_offset_s=OFFSET_S, arm=True, estop_required=False)  # walks by sim truth, not via E-Stop
    spot.start()
    spot.info_file = str(spot.write_info(tmp_path_factory.mktemp("sim") / "info.json"))
    start_walking(spot)
    yield spot
    spot.stop()


class Listener:
    """A second node recording what the bridge publishes, with receipt times."""

    TOPICS = {"/joint_states": ("sensor_msgs/msg/JointState", DEFAULT), "/imu": ("sensor_msgs/msg/Imu", DEFAULT),
              "/odometry": ("nav_msgs/msg/Odometry", DEFAULT), "/tf": ("tf2_msgs/msg/TFMessage", DEFAULT),
              "/tf_static": ("tf2_msgs/msg/TFMessage", LATCHED),
              "/bow/proprioception/out": ("std_msgs/msg/UInt8MultiArray", DEFAULT)}

    def __init__(self, bus):
        self.node = StandaloneNode("listener", bus)
        self.lock = threading.Lock()
        self.got: dict[str, list] = {t: [] for t in self.TOPICS}
        for topic, (type_name, qos) in self.TOPICS.items():
            self.node.create_subscription(type_name, topic, self._cb(topic), qos)

    def _cb(self, topic):
        def cb(msg):
            with self.lock:
                self.got[topic].append((time.time_ns(), msg))
        return cb

    def msgs(self, topic):
        with self.lock:
            return [m for _, m in self.got[topic]]

    def wait(self, topic, count, timeout=8.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.got[topic]) >= count:
                return self.msgs(topic)
            time.sleep(0.02)
        raise AssertionError(f"{topic}: {len(self.got[topic])} messages, expected {count}")


@pytest.fixture
def run_bridge(sim):
    made = []

    def run(**params):
        bus = InProcessBus()
        listener = Listener(bus)
        node = StandaloneNode("proprioception", bus,
                              parameter_overrides={"sim_info_file": params.pop("info_file", sim.info_file), **params})
        bridge = ProprioceptionBridge(node)
        made.append((node, listener))
        return bridge, listener

    yield run
    for node, listener in made:
        node.destroy()
        listener.node.destroy()


def snapshot_near(sim, local_ns, error=None):
    """The snapshot acquired within 5 ms of `local_ns` that best explains a published value
    (`error(snap)` smallest; nearest in time without `error`). Physics steps may be closer
    together than the time-sync error, so values, not times, pick the snapshot."""
    near = [s for s in sim.robot.history() if abs(s.local_ns - local_ns) <= STAMP_TOL_NS]
    assert near, f"no simulator state within 5 ms of stamp {local_ns}"
    return min(near, key=error or (lambda s: abs(s.local_ns - local_ns)))


def angle_between(q1, q2):
    dot = abs(sum(a * b for a, b in zip(q1, q2)))
    return 2 * math.acos(min(1.0, dot))


URDF_ALL = [friendly_joint_name(n) for n in LEG_JOINT_NAMES + ARM_JOINT_NAMES]


@pytest.mark.parametrize("mode", ["streaming", "polling"])
def test_joint_states_equal_truth_with_stamps_on_local_clock(run_bridge, sim, mode):
    """Every one of the last 40 published messages is a robot state, stamped with its acquisition
    time; >= 95 % of the 50 Hz rate over the part of the window in which the machine had spare CPU
    (a loaded machine slows polling: the count waits for messages, not for a fixed time)."""
    with CpuMonitor() as cpu:
        bridge, listener = run_bridge(state_source=mode, camera_frames=False)
        listener.wait("/joint_states", 42, timeout=60)
    msgs = listener.msgs("/joint_states")[2:]
    assert bridge.source.active_mode == mode
    stamps = [stamp_to_ns(m.header.stamp) for m in msgs]
    assert all(b >= a for a, b in zip(stamps, stamps[1:])), f"{mode}: stamps must not go back"
    shortfall = cpu.check_rate(stamps, 50.0, f"{mode} /joint_states", fraction=0.95)
    assert shortfall is None, shortfall
    matched = 0
    for msg, stamp in zip(msgs[-40:], stamps[-40:]):
        assert list(msg.name) == URDF_ALL
        assert len(msg.position) == len(msg.velocity) == len(msg.effort) == 19
        # the state acquired within 5 ms of the stamp with these joints (not the newest state with
        # them: a robot that holds still repeats its joint positions)
        snap = snapshot_near(sim, stamp, lambda s: float(np.max(np.abs(np.subtract(s.joint_position, msg.position)))))
        assert np.allclose(msg.position, snap.joint_position, atol=1e-6, rtol=0), \
            "published joint positions are no simulator state acquired within 5 ms of the stamp (±1e-6 rad)"
        assert np.allclose(msg.velocity, snap.joint_velocity, atol=1e-5, rtol=1e-6)
        assert np.allclose(msg.effort, snap.joint_load, atol=1e-5, rtol=1e-6)
        matched += 1
    assert matched == 40


def test_imu_equals_truth_after_axis_conversion(run_bridge, sim):
    bridge, listener = run_bridge(state_source="streaming", camera_frames=False)
    listener.wait("/imu", 30)
    imus = listener.msgs("/imu")[-20:]
    for msg in imus:
        stamp = stamp_to_ns(msg.header.stamp)
        assert msg.header.frame_id == "body"
        w = (msg.angular_velocity.x, msg.angular_velocity.y, msg.angular_velocity.z)
        a = (msg.linear_acceleration.x, msg.linear_acceleration.y, msg.linear_acceleration.z)
        q = (msg.orientation.x, msg.orientation.y, msg.orientation.z, msg.orientation.w)
        snap = snapshot_near(sim, stamp, lambda s: angle_between(q, s.imu.odom_rot_link))
        assert w == pytest.approx(snap.imu.angular_velocity, abs=1e-5)
        assert a == pytest.approx(snap.imu.acceleration, abs=1e-4)
        assert angle_between(q, snap.imu.odom_rot_link) < 1e-5
        assert msg.linear_acceleration_covariance[0] == 0.0 and msg.orientation_covariance[0] == 0.0
    # the BOW samples on bow/proprioception/out are in the documented BOW axes
    out = listener.wait("/bow/proprioception/out", 5)[-1]
    sample = bow.ProprioceptionSample.FromString(bytes(memoryview(out.data)))
    imu = sample.Imu[0]
    match = [s for s in sim.robot.history()
             if np.allclose(s.joint_position, sample.JointAngles, atol=1e-6, rtol=0)]
    assert match, "BOW sample is not a simulator state"
    truth = match[-1].imu
    assert (imu.Gyro.X, imu.Gyro.Y, imu.Gyro.Z) == pytest.approx(
        angular_velocity_ros_to_bow(truth.angular_velocity), abs=1e-5)
    assert (imu.Acc.X, imu.Acc.Y, imu.Acc.Z) == pytest.approx(position_ros_to_bow(truth.acceleration), abs=1e-4)
    assert imu.Acc.Y > 9.0  # gravity reaction points up = BOW +Y
    assert list(sample.JointNames) == URDF_ALL and sample.AngleUnits == bow.RADIANS


def test_polling_imu_has_orientation_and_rate_but_no_acceleration(run_bridge, sim):
    _, listener = run_bridge(state_source="polling", camera_frames=False, axis_convention="ros")
    listener.wait("/imu", 10)
    for msg in listener.msgs("/imu")[-5:]:
        assert msg.linear_acceleration_covariance[0] == -1.0
        q = (msg.orientation.x, msg.orientation.y, msg.orientation.z, msg.orientation.w)
        snap = snapshot_near(sim, stamp_to_ns(msg.header.stamp),
                             lambda s: angle_between(q, s.odom_tform_body.rotation))
        assert angle_between(q, snap.odom_tform_body.rotation) < 1e-5
        w = (msg.angular_velocity.x, msg.angular_velocity.y, msg.angular_velocity.z)
        assert w == pytest.approx(snap.imu.angular_velocity, abs=1e-5)


@pytest.mark.parametrize("root", ["odom", "vision"])
def test_odometry_and_tf_follow_the_walking_robot(run_bridge, sim, root):
    _, listener = run_bridge(state_source="streaming", camera_frames=False, tf_root=root, frame_prefix="spot/",
                             robot_model="none")  # only the world frames on /tf
    listener.wait("/odometry", 60)
    odoms = listener.msgs("/odometry")
    first, last = odoms[0].pose.pose.position, odoms[-1].pose.pose.position
    assert math.hypot(last.x - first.x, last.y - first.y) > 0.05  # it walks
    for msg in odoms[-20:]:
        assert msg.header.frame_id == "spot/odom" and msg.child_frame_id == "spot/body"
        p, o = msg.pose.pose.position, msg.pose.pose.orientation
        snap = snapshot_near(sim, stamp_to_ns(msg.header.stamp),
                             lambda s: math.dist((p.x, p.y, p.z), s.odom_tform_body.position))
        assert (p.x, p.y, p.z) == pytest.approx(snap.odom_tform_body.position, abs=1e-3)
        assert angle_between((o.x, o.y, o.z, o.w), snap.odom_tform_body.rotation) < 1e-4
        # twist in body axes: forward ~0.5 m/s, yaw rate ~0.3 rad/s (truth rotated into body)
        from spot_bow_ros.sim.geometry import quat_conj, quat_rotate
        inv = quat_conj(snap.odom_tform_body.rotation)
        v = msg.twist.twist.linear
        w = msg.twist.twist.angular
        assert (v.x, v.y, v.z) == pytest.approx(quat_rotate(inv, snap.velocity_linear_odom), abs=1e-6)
        assert (w.x, w.y, w.z) == pytest.approx(quat_rotate(inv, snap.velocity_angular_odom), abs=1e-6)
    tfs = listener.msgs("/tf")[-20:]
    for msg in tfs:
        edges = {(t.header.frame_id, t.child_frame_id): t for t in msg.transforms}
        body = edges[(f"spot/{root}", "spot/body")]
        tr, rot = body.transform.translation, body.transform.rotation
        pick = (lambda s: s.odom_tform_body) if root == "odom" else (lambda s: s.vision_tform_body)
        snap = snapshot_near(sim, stamp_to_ns(body.header.stamp),
                             lambda s: math.dist((tr.x, tr.y, tr.z), pick(s).position))
        truth = pick(snap)
        assert (tr.x, tr.y, tr.z) == pytest.approx(truth.position, abs=1e-3)
        assert angle_between((rot.x, rot.y, rot.z, rot.w), truth.rotation) < 1e-4
        other = "vision" if root == "odom" else "odom"
        assert (f"spot/{root}", f"spot/{other}") in edges


def test_tf_static_holds_every_camera_frame(run_bridge, sim):
    _, listener = run_bridge(state_source="polling", camera_frames=True)
    frames = {c.frame for c in sim.cameras.cameras}
    deadline = time.monotonic() + 10  # the robot model's fixed joints may come first; cameras join them
    while time.monotonic() < deadline:
        static = listener.wait("/tf_static", 1, timeout=10)[-1]
        edges = {t.child_frame_id: t for t in static.transforms}
        if frames <= set(edges):
            break
        time.sleep(0.05)
    assert frames <= set(edges), f"missing {frames - set(edges)}"
    snap = sim.robot.latest()
    for name in frames:
        t = edges[name]
        tr, rot = t.transform.translation, t.transform.rotation
        if name.startswith("hand"):
            assert t.header.frame_id == "hand"
            from spot_bow_ros.sim.frames import hand_tform_sensor
            truth = hand_tform_sensor(name)
        else:
            assert t.header.frame_id == "body"
            truth = body_tform_sensor(name, snap)
        assert (tr.x, tr.y, tr.z) == pytest.approx(truth.position, abs=1e-6)
        assert angle_between((rot.x, rot.y, rot.z, rot.w), truth.rotation) < 1e-6
    # the hand frame itself is on /tf (polling reads it from the frame tree)
    tfs = listener.wait("/tf", 6)
    assert any(("body", "hand") in {(t.header.frame_id, t.child_frame_id) for t in tf.transforms} for tf in tfs)


def test_robot_without_arm_has_12_joints(run_bridge, tmp_path):
    with SimulatedSpot(clock_offset_s=OFFSET_S, arm=False, estop_required=False) as legs_only:
        info = legs_only.write_info(tmp_path / "info.json")
        _, listener = run_bridge(info_file=str(info), state_source="auto", camera_frames=False)
        msg = listener.wait("/joint_states", 3)[-1]
        assert list(msg.name) == [friendly_joint_name(n) for n in LEG_JOINT_NAMES]
        assert snapshot_with_joints(legs_only, msg.position) is not None


def test_joint_states_resume_after_the_robot_restarts(run_bridge, tmp_path):
    spot = SimulatedSpot(state_dir=tmp_path / "robot", password="restart-pw", estop_required=False)
    spot.start()
    try:
        port = spot.port
        info = spot.write_info(tmp_path / "info.json")
        bridge, listener = run_bridge(info_file=str(info), state_source="auto", camera_frames=False,
                                      reconnect_max_backoff=0.5, health_check_interval=0.2)
        listener.wait("/joint_states", 10)
        spot.stop()
        time.sleep(1.0)
        stopped_at = len(listener.msgs("/joint_states"))
        spot = SimulatedSpot(port=port, state_dir=tmp_path / "robot", password="restart-pw", estop_required=False)
        spot.start()
        listener.wait("/joint_states", stopped_at + 20, timeout=15)
        assert bridge.source.samples > stopped_at
    finally:
        spot.stop()


def _chain(edges, parent, child):
    """4x4 parent_tform_child through the (parent, child) -> TransformStamped map."""
    from spot_bow_ros.convert.kinematics import matrix_from_pose
    by_child = {c: (p, t) for (p, c), t in edges.items()}
    m = np.eye(4)
    while child != parent:
        p, t = by_child[child]
        tr, rot = t.transform.translation, t.transform.rotation
        m = matrix_from_pose(((tr.x, tr.y, tr.z), (rot.x, rot.y, rot.z, rot.w))) @ m
        child = p
    return m


def test_robot_model_description_and_link_tf_from_joint_states(run_bridge, sim):
    """Without robot_state_publisher: robot_description (latched), fixed joints on /tf_static,
    every joint state's link transforms on /tf with its stamp; body -> foot equals the chain of
    docs/spot_facts.md ("Kinematics and joint limits") offsets at the joint_states' angles."""
    from convert.test_kinematics import foot_by_hand

    from spot_bow_ros.ros.qos import LATCHED as _LATCHED

    bridge, listener = run_bridge(state_source="polling", camera_frames=False, frame_prefix="spot/",
                                  tf_rate=0.0)  # every joint state's links (default: 50 Hz)
    desc = []
    listener.node.create_subscription("std_msgs/msg/String", "/robot_description", desc.append, _LATCHED)
    joints = listener.wait("/joint_states", 5)
    deadline = time.monotonic() + 5
    while not desc and time.monotonic() < deadline:
        time.sleep(0.02)
    assert desc and desc[0].data.startswith("<?xml") and 'name="spot_with_arm"' in desc[0].data
    static = {(t.header.frame_id, t.child_frame_id): t for t in listener.wait("/tf_static", 1)[-1].transforms}
    assert ("spot/front_left_lower_leg", "spot/front_left_foot") in static
    assert ("spot/arm_link_sh1", "spot/arm_link_hr0") in static
    by_stamp = {stamp_to_ns(m.header.stamp): m for m in joints}
    checked = 0
    for tf in listener.msgs("/tf"):
        edges = {(t.header.frame_id, t.child_frame_id): t for t in tf.transforms}
        if ("spot/body", "spot/front_left_hip") not in edges:
            continue
        stamp = stamp_to_ns(tf.transforms[0].header.stamp)
        js = by_stamp.get(stamp)
        if js is None:
            continue
        assert {t.header.frame_id for t in tf.transforms} <= {"spot/" + n for n in (
            "body", "arm_link_sh0", "arm_link_sh1", "arm_link_hr0", "arm_link_el0", "arm_link_el1", "arm_link_wr0",
            "arm_link_wr1") + tuple(f"{leg}_{part}" for leg in ("front_left", "front_right", "rear_left",
                                                                "rear_right") for part in ("hip", "upper_leg"))}
        assert len(tf.transforms) == 19  # 12 leg + 7 moving arm joints (hr0 is fixed)
        pos = dict(zip(js.name, js.position))
        for leg, sx, sy in (("front_left", 1, 1), ("rear_right", -1, -1)):
            all_edges = {**edges, **static}
            foot = _chain(all_edges, "spot/body", f"spot/{leg}_foot")[:3, 3]
            expect = foot_by_hand(sx, sy, pos[f"spot/{leg}_hip_x"], pos[f"spot/{leg}_hip_y"], pos[f"spot/{leg}_knee"])
            np.testing.assert_allclose(foot, expect, atol=1e-6)
        checked += 1
    assert checked >= 3


def _periods(stamps_ns, rate_hz):
    """Index of the 1/rate period each stamp falls in."""
    period = round(1e9 / rate_hz)
    return [s // period for s in stamps_ns]


def test_publish_rate_and_tf_rate_thin_the_robot_stream_live(run_bridge, sim):
    """`publish_rate` 50 Hz: at most one robot sample per 20 ms period on joint_states, imu,
    odometry and BOW out (the robot streams ~333 Hz, several per period); `tf_rate` 10 Hz: at
    most one per 100 ms on /tf (world frames and link transforms), each a published sample's
    stamp. `ros2 param set publish_rate 0` (live) brings back every sample."""
    bridge, listener = run_bridge(state_source="streaming", camera_frames=False, publish_rate=50.0, tf_rate=10.0)
    joints = listener.wait("/joint_states", 30, timeout=20)
    listener.wait("/tf", 4, timeout=20)
    stamps = [stamp_to_ns(m.header.stamp) for m in joints]
    assert _periods(stamps, 50) == sorted(set(_periods(stamps, 50)))     # strictly one per period
    for topic in ("/imu", "/odometry"):
        got = [stamp_to_ns(m.header.stamp) for m in listener.msgs(topic)]
        assert got and len(set(_periods(got, 50))) == len(got), topic
    assert len(listener.msgs("/bow/proprioception/out")) <= len(joints) + 2
    world = [stamp_to_ns(m.transforms[0].header.stamp) for m in listener.msgs("/tf")
             if m.transforms[0].child_frame_id == "body"]
    links = [stamp_to_ns(m.transforms[0].header.stamp) for m in listener.msgs("/tf")
             if m.transforms[0].child_frame_id != "body"]
    assert world and links
    for tf_stamps in (world, links):
        assert len(set(_periods(tf_stamps, 10))) == len(tf_stamps)
    assert set(links) <= set(stamps) | {stamp_to_ns(m.header.stamp) for m in listener.msgs("/joint_states")}
    # values and stamps are the robot's, unchanged by the thinning
    for msg, stamp in zip(joints[-5:], stamps[-5:]):
        snap = snapshot_with_joints(sim, msg.position)
        assert snap is not None and abs(stamp - snap.local_ns) <= STAMP_TOL_NS

    assert bridge.node.set_parameters({"publish_rate": 0.0}) == [(True, "")]
    before = len(listener.msgs("/joint_states"))
    fresh = listener.wait("/joint_states", before + 60, timeout=20)[before + 10:]
    fresh_periods = _periods([stamp_to_ns(m.header.stamp) for m in fresh], 50)
    assert len(set(fresh_periods)) < len(fresh_periods)   # several samples per 20 ms again


def test_default_tf_rate_is_50_hz_while_joint_states_keep_every_robot_sample(run_bridge, sim):
    """The defaults (`tf_rate` 50 Hz, `publish_rate` 0), streaming: /tf carries the first robot
    sample of each 20 ms period of the robot's stamps and no other (link transforms with that
    joint_states message's stamp, world frames with its kinematics stamp), so at most 50 per second
    of robot time (+1 at the window's edges); joint_states carry every sample the robot streamed
    (the source's count, ~333 Hz), each a distinct robot stamp. Counted by stamps, not wall time."""
    from spot_bow_ros.ros.qos import QoS

    bridge, listener = run_bridge(state_source="streaming", camera_frames=False)
    assert (bridge.params["tf_rate"], bridge.params["publish_rate"]) == (50.0, 0.0)
    got: dict[str, list] = {"/joint_states": [], "/tf": []}
    source = bridge.source
    for topic, type_name in (("/joint_states", "sensor_msgs/msg/JointState"), ("/tf", "tf2_msgs/msg/TFMessage")):
        listener.node.create_subscription(type_name, topic, got[topic].append, QoS(depth=100_000))  # drops none
    delivered_before = source.samples
    deadline = time.monotonic() + 60
    while len(got["/joint_states"]) < 600 and time.monotonic() < deadline:   # ~2 s of the robot's stream
        time.sleep(0.05)
    bridge.close()   # stop the stream, then let the listener take what is queued
    delivered = source.samples - delivered_before
    sizes, deadline = None, time.monotonic() + 30
    while sizes != (len(got["/joint_states"]), len(got["/tf"])) and time.monotonic() < deadline:
        sizes = (len(got["/joint_states"]), len(got["/tf"]))
        time.sleep(0.5)
    joints = [stamp_to_ns(m.header.stamp) for m in got["/joint_states"]]
    assert len(joints) >= 300, f"only {len(joints)} joint_states"
    # joint_states: every sample the robot streamed since the subscription (+1 in flight), none twice
    assert delivered <= len(joints) <= delivered + 1
    assert joints == sorted(set(joints))
    links = [stamp_to_ns(m.transforms[0].header.stamp) for m in got["/tf"] if m.transforms[0].child_frame_id != "body"]
    world = [stamp_to_ns(m.transforms[0].header.stamp) for m in got["/tf"] if m.transforms[0].child_frame_id == "body"]
    assert links and world and len(joints) > len(links)   # not thinned with /tf
    for tf_stamps in (links, world):
        periods = _periods(tf_stamps, 50)
        assert periods == sorted(set(periods)), "two /tf samples in one 20 ms period"
        span_s = (tf_stamps[-1] - tf_stamps[0]) * 1e-9
        assert len(tf_stamps) <= 50 * span_s + 2, f"{len(tf_stamps)} /tf samples in {span_s:.2f} s of robot time"
    # exactly the first joint_states sample of each period between the first and the last /tf one
    first: dict[int, int] = {}
    for stamp, period in zip(joints, _periods(joints, 50)):
        first.setdefault(period, stamp)
    inner = [p for p in sorted(first) if _periods(links, 50)[0] < p < _periods(links, 50)[-1]]
    assert [s for s in links if _periods([s], 50)[0] in inner] == [first[p] for p in inner]
    assert set(links) <= set(joints)
