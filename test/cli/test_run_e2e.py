"""End to end: `spot-bow-ros run` against the built-in simulated Spot, as the README says.

One run (session-scoped, ~25 s) with `--record` and `--demo-motion`, checked three ways:
- an independent Cyclone DDS participant (plain cyclonedds, none of this project's code) sees
  the topics with ROS 2 names and types while it runs;
- the real bosdyn `ImageClient` fetches the re-served webcam image through the simulator's
  directory (authority-routed, as on a robot);
- the rosbag2 it writes, read with `rosbags`, holds every camera image the run fetched once on
  each of its topics, stamped with the robot's acquisition time of the frame it shows; every
  camera and state topic at >= 90 % of its configured rate over the part of the run in which the
  machine had spare CPU (`cpu_load.CpuMonitor`: a loaded CI machine cannot give a driver 15 Hz);
  and `joint_states` that change while the robot walks.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from cpu_load import CpuMonitor

DURATION_S = 22.0
CAMERAS = ("frontleft", "frontright", "left", "right", "back", "hand")
CAMERA_RATE_HZ = 15.0       # config/spot_bow.yaml spot_cameras.rate
JOINT_STATES_RATE_HZ = 50.0  # proprioception.rate (streaming delivers more)
WEBCAM_RATE_HZ = 30.0


def _wait_for_file(path: Path, proc: subprocess.Popen, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"spot-bow-ros run exited early with {proc.returncode}"
        if path.exists():
            try:
                return json.loads(path.read_text())
            except json.JSONDecodeError:
                time.sleep(0.05)  # caught while being written: read it again
                continue
        time.sleep(0.05)
    raise AssertionError(f"{path} did not appear within {timeout} s")


def _dds_topics_seen(timeout: float) -> dict[str, str]:
    """Topic -> type names of DDS publications, read with plain cyclonedds builtin topics."""
    from cyclonedds.builtin import BuiltinDataReader, BuiltinTopicDcpsPublication
    from cyclonedds.core import Qos as DdsQos
    from cyclonedds.domain import DomainParticipant

    participant = DomainParticipant(int(os.environ["ROS_DOMAIN_ID"]))
    reader = BuiltinDataReader(participant, BuiltinTopicDcpsPublication)
    seen: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for sample in reader.take(N=500):
            name = getattr(sample, "topic_name", None)
            if name:
                seen[name] = sample.type_name
        if "rt/spot/camera/frontleft/image" in seen and "rt/joint_states" in seen:
            break
        time.sleep(0.2)
    del reader, participant
    _ = DdsQos  # imported to prove the plain API is available
    return seen


def _fetch_reserved_webcam(info: dict):
    import bosdyn.client
    from bosdyn.api import image_pb2
    from bosdyn.client.image import ImageClient, build_image_request

    sdk = bosdyn.client.create_standard_sdk("run-e2e-client", cert_resource_glob=info["ca_cert"])
    robot = sdk.create_robot(info["hostname"])
    robot.update_secure_channel_port(info["port"])
    robot.authenticate(info["username"], info["password"])
    try:
        deadline = time.monotonic() + 15
        while True:
            robot.sync_with_directory()
            try:
                client = robot.ensure_client("ros-image-service")
                sources = client.list_image_sources()
                if any(s.name == "webcam" for s in sources):
                    break
            except Exception:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.3)
        assert isinstance(client, ImageClient)
        response = client.get_image([build_image_request("webcam", image_format=image_pb2.Image.FORMAT_RAW)])
        return sources, response[0]
    finally:
        sdk.clear_robots()   # its threads first, then its channels
        robot.shutdown()


@pytest.fixture(scope="module")
def run_result(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("run")
    bag = tmp / "bag"
    info_file = tmp / "sim.json"
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    cmd = [sys.executable, "-m", "spot_bow_ros.cli", "run", "--duration", str(DURATION_S), "--record", str(bag),
           "--demo-motion", "--no-status", "--sim-info-file", str(info_file)]
    log_path = tmp / "run.log"
    with open(log_path, "w") as log, CpuMonitor() as cpu:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        cpu.watch(proc.pid)
        try:
            info = _wait_for_file(info_file, proc, timeout=30)
            topics = _dds_topics_seen(timeout=15)
            sources, webcam_image = _fetch_reserved_webcam(info)
            code = proc.wait(timeout=DURATION_S + 60)
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
                proc.wait(timeout=20)
    return {"code": code, "bag": bag, "topics": topics, "sources": sources, "webcam": webcam_image,
            "log": log_path.read_text(), "cpu": cpu}


def test_run_exits_cleanly_and_says_it_uses_the_simulator(run_result):
    assert run_result["code"] == 0, run_result["log"][-3000:]
    first = run_result["log"].splitlines()[0]
    assert "simulated Spot" in first
    # bosdyn's own lines (e.g. the lease keep-alive's) come under a node's name, never as [root]
    assert "] [root]:" not in run_result["log"]
    assert "lease: Starting lease check-in" in run_result["log"]


def test_independent_dds_reader_sees_ros2_names_and_types(run_result):
    topics = run_result["topics"]
    assert topics.get("rt/spot/camera/frontleft/image") == "sensor_msgs::msg::dds_::Image_"
    assert topics.get("rt/joint_states") == "sensor_msgs::msg::dds_::JointState_"


def test_image_client_fetches_the_reserved_webcam_through_the_robot_directory(run_result):
    from bosdyn.api import image_pb2

    webcam = run_result["webcam"]
    assert webcam.status == image_pb2.ImageResponse.STATUS_OK
    assert (webcam.shot.image.cols, webcam.shot.image.rows) == (640, 480)
    pixels = np.frombuffer(webcam.shot.image.data, np.uint8)
    assert pixels.size == 640 * 480 * 3 and pixels.std() > 1.0  # the moving test pattern, not blank


def _bag_messages(bag: Path):
    """Message types by topic, receipt times (ns) by topic, joint positions, and the header stamps
    (ns) by topic of the camera topics with, for `.../image`, the frame counter each image shows."""
    from rosbags.highlevel import AnyReader

    from spot_bow_ros.sim.cameras import decode_frame_counter

    with AnyReader([bag]) as reader:
        per_topic: dict[str, list[int]] = {}
        stamps: dict[str, list[int]] = {}
        counters: dict[str, list[int]] = {}
        joints = []
        types = {c.topic: c.msgtype for c in reader.connections}
        for conn, t_ns, raw in reader.messages():
            per_topic.setdefault(conn.topic, []).append(t_ns)
            if conn.topic == "/joint_states":
                msg = reader.deserialize(raw, conn.msgtype)
                joints.append((t_ns, np.array(msg.position)))
            elif conn.topic.startswith("/spot/camera/"):
                msg = reader.deserialize(raw, conn.msgtype)
                stamps.setdefault(conn.topic, []).append(msg.header.stamp.sec * 10**9 + msg.header.stamp.nanosec)
                if conn.topic.endswith("/image"):
                    pixels = np.frombuffer(msg.data, np.uint8).reshape(msg.height, msg.width, -1).squeeze()
                    counters.setdefault(conn.topic, []).append(decode_frame_counter(pixels))
    return types, per_topic, joints, stamps, counters


def _robot_camera_period_ns() -> int:
    """The simulated robot's frame period (its cameras' default rate, which `run` keeps)."""
    import inspect

    from spot_bow_ros.sim.cameras import SimCameras

    return int(1e9 / inspect.signature(SimCameras).parameters["rate_hz"].default)


@pytest.fixture(scope="module")
def bag_contents(run_result):
    """`_bag_messages` of the run's bag, read once (1 GB of images)."""
    return _bag_messages(run_result["bag"])


def test_bag_holds_every_frame_the_run_fetched_once_stamped_with_its_acquisition_time(bag_contents):
    """What the package controls, whatever the load: each camera's image, compressed image and
    camera_info carry the same stamps (nothing lost between fetch and bag), every frame appears
    once (counters strictly increase), and each stamp is the robot's acquisition time of the frame
    the image shows: consecutive stamps are exactly as many robot periods apart as the counters."""
    _, _, _, stamps, counters = bag_contents
    period_ns = _robot_camera_period_ns()
    for cam in CAMERAS:
        image = f"/spot/camera/{cam}/image"
        assert len(stamps.get(image, [])) >= 10, f"{image}: {len(stamps.get(image, []))} images in the bag"
        assert stamps[f"{image}/compressed"] == stamps[image], f"{cam}: compressed and raw images differ"
        assert stamps[f"/spot/camera/{cam}/camera_info"] == stamps[image], f"{cam}: camera_info and image differ"
        n = counters[image]
        assert all(b > a for a, b in zip(n, n[1:])), f"{cam}: a frame recorded twice or out of order"
        for (s0, s1), (n0, n1) in zip(zip(stamps[image], stamps[image][1:]), zip(n, n[1:])):
            assert abs((s1 - s0) - (n1 - n0) * period_ns) <= 1_000_000, \
                f"{cam}: frames {n0}->{n1} stamped {(s1 - s0) / 1e6:.3f} ms apart, not {n1 - n0} robot periods"


def test_bag_holds_every_topic_at_its_configured_rate_where_the_machine_had_cpu(run_result, bag_contents):
    """Cameras: the frames recorded against the frames the robot produced between the first and
    the last recorded (their acquisition stamps); the other topics by receipt time. Expected over
    the part of the run in which the machine had spare CPU (see cpu_load)."""
    types, per_topic, _, stamps, _ = bag_contents
    cpu = run_result["cpu"]
    expected = {f"/spot/camera/{c}/{kind}": CAMERA_RATE_HZ for c in CAMERAS for kind in ("image", "camera_info")}
    expected.update({"/joint_states": JOINT_STATES_RATE_HZ, "/imu": JOINT_STATES_RATE_HZ,
                     "/webcam/image_raw": WEBCAM_RATE_HZ})
    for topic, rate in expected.items():
        assert topic in per_topic, f"{topic} missing from the bag ({sorted(per_topic)})"
        times = stamps.get(topic, per_topic[topic])
        print(f"{topic}: {len(times)} messages; {cpu.describe(times[0], times[-1])}")   # shown with -rP
        shortfall = cpu.check_rate(times, rate, topic)
        assert shortfall is None, shortfall
    assert types["/spot/camera/frontleft/image"] == "sensor_msgs/msg/Image"
    assert types["/spot/camera/frontleft/image/compressed"] == "sensor_msgs/msg/CompressedImage"
    assert types["/imu"] == "sensor_msgs/msg/Imu"
    assert types["/tf_static"] == "tf2_msgs/msg/TFMessage"


def test_joint_states_change_while_the_demo_walks(bag_contents):
    _, _, joints, _, _ = bag_contents
    positions = np.stack([p for _, p in joints])
    assert positions.shape[1] == 19  # 12 leg + 7 arm joints (simulated Spot has an arm)
    leg_motion = positions[:, :12].max(axis=0) - positions[:, :12].min(axis=0)
    assert leg_motion.max() > 0.2, f"legs barely moved: {leg_motion}"


def test_robot_model_and_moving_legs_without_robot_state_publisher(run_result):
    """`run` publishes robot_description and the link TF (forward kinematics of joint_states), so
    Foxglove's 3D panel shows the robot; the legs' transforms change while the demo walks."""
    from rosbags.highlevel import AnyReader

    descriptions, knees, static_children = [], [], set()
    with AnyReader([run_result["bag"]]) as reader:
        for conn, _, raw in reader.messages():
            if conn.topic == "/robot_description":
                descriptions.append(reader.deserialize(raw, conn.msgtype).data)
            elif conn.topic == "/tf_static":
                static_children |= {t.child_frame_id for t in reader.deserialize(raw, conn.msgtype).transforms}
            elif conn.topic == "/tf":
                for t in reader.deserialize(raw, conn.msgtype).transforms:
                    if (t.header.frame_id, t.child_frame_id) == ("front_left_upper_leg", "front_left_lower_leg"):
                        knees.append(t.transform.rotation.y)
    assert descriptions and 'name="spot_with_arm"' in descriptions[0]
    assert {"front_left_foot", "rear_right_foot", "arm_link_hr0", "base_link"} <= static_children
    assert len(knees) > 100 and max(knees) - min(knees) > 0.05, "front left knee transform never changed"


def test_bag_has_tf_at_50_hz_and_joint_states_at_the_robot_rate(run_result):
    """`run`'s defaults (proprioception `tf_rate` 50 Hz, `publish_rate` 0): /tf holds at most one
    robot sample per 20 ms period of its stamps (world frames and link transforms alike), while
    joint_states keep every streamed sample (~333 Hz: more than /tf). Counted by stamps, not wall time."""
    from rosbags.highlevel import AnyReader

    tf: dict[bool, list[int]] = {True: [], False: []}   # link transforms / world frames
    joints: list[int] = []
    with AnyReader([run_result["bag"]]) as reader:
        for conn, _, raw in reader.messages():
            if conn.topic in ("/tf", "/joint_states"):
                msg = reader.deserialize(raw, conn.msgtype)
                if conn.topic == "/joint_states":
                    joints.append(msg.header.stamp.sec * 10**9 + msg.header.stamp.nanosec)
                else:
                    t = msg.transforms[0]
                    tf[t.child_frame_id != "body"].append(t.header.stamp.sec * 10**9 + t.header.stamp.nanosec)
    for stamps in tf.values():
        stamps.sort()
        periods = [s // 20_000_000 for s in stamps]
        assert len(stamps) > 100 and len(set(periods)) == len(periods), "two /tf samples in one 20 ms period"
        span_s = (stamps[-1] - stamps[0]) * 1e-9
        assert len(stamps) <= 50 * span_s + 2, f"{len(stamps)} /tf samples in {span_s:.1f} s of robot time"
    assert len(joints) > len(tf[True]), f"{len(joints)} joint_states for {len(tf[True])} /tf samples"
