"""The serialized publish path (standalone/cdr_encoder.py; backends/rclpy_backend.py publishes its bytes).

Without ROS: the encoder's bytes are exactly rosbags' CDR (unpadded for rclpy, padded with the
pad count for the standalone route), also when a big trailing uint8[] is passed through without
a copy, and decode back to the same stamps and values. With ROS 2 sourced: every message the
bridges build, built once with the rosbags factory (fast path) and once with rclpy's classes
(`make_message`, the former path) from the same converter call, serializes to the same bytes
(`rclpy.serialization`), and what a raw subscriber receives over rmw_cyclonedds is identical
whichever way it was published.
"""

from __future__ import annotations

import itertools
import os
import time

import numpy as np
import pytest
from waiting import wait_until

from spot_bow_ros.convert import camera_info as ci
from spot_bow_ros.convert import images as imconv
from spot_bow_ros.convert.imu import imu_msg
from spot_bow_ros.convert.joints import (
    SPOT_ARM_JOINTS,
    SPOT_LEG_JOINTS,
    joint_state_from_proprioception,
    proprioception_from_spot_joints,
)
from spot_bow_ros.convert.odometry import odometry_msg, tf_message, transform_stamped_msg
from spot_bow_ros.convert.pointcloud import point_cloud_msg
from spot_bow_ros.standalone.cdr_encoder import BLOB_MIN_BYTES, CdrEncoder, pad_cdr
from spot_bow_ros.standalone.message_store import messages_for

STAMP = (1_700_000_123, 456_789_012)
RNG = np.random.default_rng(7)
PIXELS = RNG.integers(0, 256, (480, 640), dtype=np.uint8)         # a big trailing uint8[] (blob path)
SMALL = RNG.integers(0, 256, (5, 7, 3), dtype=np.uint8)            # under BLOB_MIN_BYTES, odd length
JPEG = bytes(RNG.integers(0, 256, 9999, dtype=np.uint8))           # length not a multiple of 4
POINTS = RNG.random((1500, 3), dtype=np.float32)


def _joint_state(make):
    names = SPOT_LEG_JOINTS + SPOT_ARM_JOINTS
    sample = proprioception_from_spot_joints(names, [0.1 * i - 0.9 for i in range(19)],
                                             [0.01 * i for i in range(19)], [i - 2.5 for i in range(19)], "spot/")
    return joint_state_from_proprioception(make, sample, STAMP, prefix="spot/")[0]


def _tf(make):
    poses = [((1.0, -2.0, 0.5), (0.0, 0.0, 0.38268343, 0.92387953)), ((0.3, 0.0, 0.1), (0.0, 0.0, 0.0, 1.0))]
    return tf_message(make, [transform_stamped_msg(make, STAMP, "odom", "body", poses[0]),
                             transform_stamped_msg(make, STAMP, "body", "hand", poses[1])])


#: (name, ROS type, build(make)): what the bridges publish, through the same converters they use
CASES = [
    ("joint_states", "sensor_msgs/msg/JointState", _joint_state),
    ("imu", "sensor_msgs/msg/Imu", lambda m: imu_msg(m, STAMP, "body", (0.0, 0.0, 0.6, 0.8), (0.1, 0.2, 0.3), None)),
    ("odometry", "nav_msgs/msg/Odometry", lambda m: odometry_msg(
        m, STAMP, "odom", "body", ((1.0, 2.0, 0.3), (0.0, 0.0, 0.6, 0.8)), (0.5, 0.0, 0.0), (0.0, 0.0, 0.1))),
    ("tf", "tf2_msgs/msg/TFMessage", _tf),
    ("image", "sensor_msgs/msg/Image", lambda m: imconv.image_msg_from_array(
        m, PIXELS, "mono8", STAMP, "frontleft_fisheye", copy=False)),
    ("small image", "sensor_msgs/msg/Image", lambda m: imconv.image_msg_from_array(m, SMALL, "rgb8", STAMP, "hand")),
    ("compressed", "sensor_msgs/msg/CompressedImage", lambda m: imconv.compressed_msg_from_jpeg(
        m, JPEG, "rgb8", STAMP, "hand_color")),
    ("camera_info", "sensor_msgs/msg/CameraInfo", lambda m: ci.camera_info_msg(
        m, 640, 480, [300.0, 0, 320.5, 0, 301.0, 240.5, 0, 0, 1], d=[0.1, -0.2, 0.0, 0.0], distortion_model="plumb_bob",
        stamp=STAMP, frame_id="frontleft_fisheye")),
    ("points", "sensor_msgs/msg/PointCloud2", lambda m: point_cloud_msg(
        m, POINTS, STAMP, "body")),
    ("bow out", "std_msgs/msg/UInt8MultiArray", lambda m: m("std_msgs/msg/UInt8MultiArray", data=JPEG[:4097])),
    ("string", "std_msgs/msg/String", lambda m: m("std_msgs/msg/String", data="abcde")),
    ("diagnostics", "diagnostic_msgs/msg/DiagnosticStatus", lambda m: m(
        "diagnostic_msgs/msg/DiagnosticStatus", level=2, name="motor", message="ok",
        values=[m("diagnostic_msgs/msg/KeyValue", key="a", value="b")])),
]
IDS = [c[0] for c in CASES]


@pytest.fixture(scope="module")
def rosbags_make():
    return messages_for("jazzy")


# -- without ROS ------------------------------------------------------------------------------
@pytest.mark.parametrize("name,type_name,build", CASES, ids=IDS)
def test_encoder_bytes_are_rosbags_bytes(rosbags_make, name, type_name, build):
    msg = build(rosbags_make)
    expected = rosbags_make.typestore.serialize_cdr(msg, type_name)
    enc = CdrEncoder(rosbags_make, type_name)
    cdr = enc.encode(msg)
    assert isinstance(cdr, bytes) and cdr == expected.tobytes()       # what rclpy gets (rmw pads it)
    padded = b"".join(bytes(memoryview(c)) for c in enc.chunks(msg, pad=True))
    assert padded == pad_cdr(expected).tobytes() and len(padded) % 4 == 0   # the standalone route's wire
    back = rosbags_make.deserialize(cdr, type_name)
    header = getattr(back, "header", None) or getattr(getattr(back, "transforms", [None])[0], "header", None)
    if header is not None:
        assert (header.stamp.sec, header.stamp.nanosec) == STAMP


def test_big_blobs_are_passed_through_without_a_copy(rosbags_make):
    msg = CASES[4][2](rosbags_make)
    enc = CdrEncoder(rosbags_make, "sensor_msgs/msg/Image")
    assert enc.blob_field == "data" and PIXELS.size > BLOB_MIN_BYTES
    chunks = enc.chunks(msg)
    assert len(chunks) == 2 and np.shares_memory(chunks[1], PIXELS)   # the pixels themselves
    assert int.from_bytes(chunks[0][-4:], "little") == PIXELS.size
    back = rosbags_make.deserialize(enc.encode(msg), "sensor_msgs/msg/Image")
    assert (back.height, back.width, back.encoding, back.step) == (480, 640, "mono8", 640)
    assert np.array_equal(back.data, PIXELS.reshape(-1)) and back.header.frame_id == "frontleft_fisheye"


def test_encoder_refuses_a_message_of_another_type(rosbags_make):
    enc = CdrEncoder(rosbags_make, "sensor_msgs/msg/JointState")
    with pytest.raises(TypeError, match="expected sensor_msgs/msg/JointState, got std_msgs/msg/String"):
        enc.encode(rosbags_make("std_msgs/msg/String", data="x"))


# -- with ROS 2 sourced -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ros():
    rclpy = pytest.importorskip("rclpy")
    return rclpy


@pytest.mark.parametrize("name,type_name,build", CASES, ids=IDS)
def test_fast_path_bytes_equal_rclpys_own_serialization(ros, rosbags_make, name, type_name, build):
    from rclpy.serialization import serialize_message

    from spot_bow_ros.backends import rclpy_backend as rb

    slow = build(rb.make_message)                  # rclpy's classes: the path the backend took before
    assert type(slow).__module__.startswith(type_name.split("/")[0])
    fast = build(rosbags_make)
    assert CdrEncoder(rosbags_make, type_name).encode(fast) == serialize_message(slow)


_domain_ids = itertools.count(150 + os.getpid() % 50)


@pytest.fixture
def rclpy_context(ros):
    """An rclpy context of its own (a private domain, localhost discovery): nothing from outside."""
    from rclpy.context import Context

    ctx = Context()
    ros.init(args=[], context=ctx, domain_id=next(_domain_ids))
    yield ctx
    ctx.try_shutdown()


def test_node_message_factory_is_rosbags_unless_switched_off(rclpy_context, monkeypatch):
    from spot_bow_ros.backends import rclpy_backend as rb

    node = rb.RclpyNode("serialized_factory_test", context=rclpy_context)
    slow = rb.RclpyNode("serialized_factory_slow", context=rclpy_context, serialized=False)
    monkeypatch.setenv(rb.SERIALIZED_ENV, "0")
    switched_off = rb.RclpyNode("serialized_factory_env", context=rclpy_context)
    try:
        assert node.msg is messages_for(os.environ.get("ROS_DISTRO", "jazzy"))
        assert node.msg("std_msgs/msg/String", data="x").__msgtype__ == "std_msgs/msg/String"
        assert slow.msg is rb.make_message and switched_off.msg is rb.make_message
        with pytest.raises(TypeError, match="expected sensor_msgs/msg/JointState"):
            node.create_publisher("sensor_msgs/msg/JointState", "js", rb_qos()).publish(
                node.msg("std_msgs/msg/String", data="x"))
    finally:
        for n in (node, slow, switched_off):
            n.destroy()


def rb_qos():
    from spot_bow_ros.ros.qos import QoS

    return QoS(depth=10)


@pytest.mark.parametrize("name,type_name,build", [c for c in CASES if c[0] in
                                                  ("joint_states", "tf", "image", "compressed", "string")],
                         ids=["joint_states", "tf", "image", "compressed", "string"])
def test_wire_bytes_are_identical_on_both_paths(rclpy_context, name, type_name, build):
    """Published by a fast-path node and by a node with rclpy's classes, a raw subscriber
    (rmw_cyclonedds) receives the same bytes."""
    from rclpy.executors import SingleThreadedExecutor

    from spot_bow_ros.backends import rclpy_backend as rb

    fast = rb.RclpyNode("serialized_fast", context=rclpy_context)
    slow = rb.RclpyNode("serialized_slow", context=rclpy_context, serialized=False)
    topic = f"/serialized_{name.replace(' ', '_')}"
    got: list[bytes] = []
    listener = slow.node.create_subscription(rb.message_class(type_name), topic, got.append,
                                             rb.qos_profile(rb_qos()), raw=True)
    executor = SingleThreadedExecutor(context=rclpy_context)
    executor.add_node(slow.node)
    try:
        pubs = [n.create_publisher(type_name, topic, rb_qos()) for n in (fast, slow)]
        assert wait_until(lambda: all(p.get_subscription_count() == 1 for p in pubs), timeout=20)
        pubs[0].publish(build(fast.msg))
        pubs[1].publish(build(slow.msg))
        assert wait_until(lambda: executor.spin_once(timeout_sec=0.05) or len(got) >= 2, timeout=20)
        assert len(got) == 2 and got[0] == got[1]
        assert got[0][:4] == b"\x00\x01\x00\x00" and len(got[0]) % 4 == 0
    finally:
        slow.node.destroy_subscription(listener)
        executor.shutdown()
        fast.destroy()
        slow.destroy()


def test_point_cloud_points_are_passed_through_with_the_field_after_them(rosbags_make):
    """PointCloud2: `data` is followed by `is_dense` (one byte): still no copy of the points."""
    msg = dict((c[0], c) for c in CASES)["points"][2](rosbags_make)
    enc = CdrEncoder(rosbags_make, "sensor_msgs/msg/PointCloud2")
    assert enc.blob_field == "data"
    for pad in (False, True):
        chunks = enc.chunks(msg, pad=pad)
        assert len(chunks) == 3 and np.shares_memory(chunks[1], POINTS)
        joined = b"".join(bytes(memoryview(c)) for c in chunks)
        expected = rosbags_make.typestore.serialize_cdr(msg, "sensor_msgs/msg/PointCloud2")
        assert joined == (pad_cdr(expected) if pad else expected).tobytes()
    back = rosbags_make.deserialize(enc.encode(msg), "sensor_msgs/msg/PointCloud2")
    assert back.is_dense is True and np.array_equal(back.data.view(np.float32).reshape(-1, 3), POINTS)


@pytest.mark.parametrize("serialized", [True, False], ids=["serialized", "rclpy_messages"])
def test_proprioception_on_rclpy_publishes_the_robots_state_either_way(ros, tmp_path, serialized):
    """The proprioception bridge on a real rclpy node against the simulated Spot: an rclpy
    subscriber receives joint_states, /tf and odometry equal to the robot's state, stamped on
    the local clock, whether the bridge published serialized rosbags messages or rclpy's own."""
    from nodes.test_proprioception_e2e import start_walking
    from rclpy.executors import SingleThreadedExecutor
    from sim_client import snapshot_with_joints

    from spot_bow_ros.backends import rclpy_backend as rb
    from spot_bow_ros.nodes.proprioception import ProprioceptionBridge
    from spot_bow_ros.ros.qos import QoS
    from spot_bow_ros.sim import SimulatedSpot

    spot = SimulatedSpot(clock_offset_s=100.0, arm=True, estop_required=False)
    spot.start()
    start_walking(spot)  # joints move: each published state matches one snapshot
    info = spot.write_info(tmp_path / "info.json")
    node = listener = None
    from rclpy.context import Context

    rclpy_context = Context()
    ros.init(args=["test", "--ros-args", "-p", f"sim_info_file:={info}", "-p", "camera_frames:=false",
                   "-p", "publish_rate:=100.0"], context=rclpy_context, domain_id=next(_domain_ids))
    try:
        node = rb.RclpyNode("proprioception", context=rclpy_context, serialized=serialized)
        bridge = ProprioceptionBridge(node)
        assert (node.msg is rb.make_message) is (not serialized)
        listener = rb.RclpyNode("listener", context=rclpy_context)
        got: dict[str, list] = {"/joint_states": [], "/tf": [], "/odometry": []}
        for topic, type_name in (("/joint_states", "sensor_msgs/msg/JointState"), ("/tf", "tf2_msgs/msg/TFMessage"),
                                 ("/odometry", "nav_msgs/msg/Odometry")):
            listener.node.create_subscription(rb.message_class(type_name), topic, got[topic].append,
                                              rb.qos_profile(QoS(depth=1000)))  # a slow listener drops none
        executor = SingleThreadedExecutor(context=rclpy_context)
        executor.add_node(listener.node)
        assert wait_until(lambda: executor.spin_once(timeout_sec=0.05) or all(len(v) >= 20 for v in got.values()),
                          timeout=30)
        executor.shutdown()
        now = time.time_ns()
        for msg in got["/joint_states"][-5:]:
            assert len(msg.name) == 19 and msg.name[0] == "front_left_hip_x"
            snap = snapshot_with_joints(spot, list(msg.position))
            stamp = msg.header.stamp.sec * 10**9 + msg.header.stamp.nanosec
            assert snap is not None and abs(stamp - snap.local_ns) <= 5_000_000 and abs(now - stamp) < 30e9
            assert np.allclose(msg.velocity, snap.joint_velocity, atol=1e-5)
        stamps = [m.header.stamp.sec * 10**9 + m.header.stamp.nanosec for m in got["/joint_states"]]
        assert len({s // 10_000_000 for s in stamps}) == len(stamps)   # publish_rate 100 Hz honoured
        frames = {(t.header.frame_id, t.child_frame_id) for m in got["/tf"] for t in m.transforms}
        assert ("odom", "body") in frames and ("body", "front_left_hip") in frames
        odom = got["/odometry"][-1]
        assert odom.header.frame_id == "odom" and odom.child_frame_id == "body"
        bridge.close()
    finally:
        for n in (node, listener):
            if n is not None:
                n.destroy()
        rclpy_context.try_shutdown()
        spot.stop()
