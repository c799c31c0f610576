"""bow_vision (nodes/bow_vision.py) over real DDS: ROS images -> BOW ImageSamples on bow/vision/out,
BOW ImageSamples -> sensor_msgs/Image + CameraInfo, in both BOW message sets."""

from __future__ import annotations

import math
import os
import time

import cv2
import numpy as np
import pytest
from waiting import wait_for

from spot_bow_ros.bow import bow_data_pb2 as bow
from spot_bow_ros.convert import camera_info as ci
from spot_bow_ros.convert import images as imconv
from spot_bow_ros.nodes.bow_vision import BowVisionBridge, parse_source
from spot_bow_ros.ros.qos import QoS, Reliability
from spot_bow_ros.standalone.dds_transport import DdsTransport
from spot_bow_ros.standalone.node import StandaloneNode

U8 = "std_msgs/msg/UInt8MultiArray"
W, H = 320, 240
FX = 200.0


def _v1():
    return pytest.importorskip("bow_data", reason="bow-api not installed (pip install --no-deps bow-api)")


@pytest.fixture(params=["documented", "sdk_v1"])
def message_set(request):
    return request.param, (_v1() if request.param == "sdk_v1" else bow)


@pytest.fixture
def nodes():
    made = []

    def make(name, **overrides):
        transport = DdsTransport(domain_id=int(os.environ["ROS_DOMAIN_ID"]))
        node = StandaloneNode(name, transport, parameter_overrides=overrides)
        made.append((node, transport))
        return node
    yield make
    for node, transport in made:
        node.destroy()
        transport.close()


def gradient() -> np.ndarray:
    y, x = np.mgrid[0:H, 0:W]
    return np.dstack([(x * 255 // W), (y * 255 // H), ((x + y) * 255 // (W + H))]).astype(np.uint8)


def test_source_entries():
    assert parse_source("spot/camera/frontleft/image") == ("spot/camera/frontleft/image", "frontleft")
    assert parse_source("webcam/image_raw:cam0") == ("webcam/image_raw", "cam0")


def test_ros_camera_images_become_image_samples(nodes, message_set):
    name, classes = message_set
    bridge_node = nodes("bow_vision", bow_messages=name, sources=["webcam/image_raw:webcam"], rate=20.0)
    bridge = BowVisionBridge(bridge_node)
    app = nodes("app")
    got = []
    app.create_subscription(U8, "bow/vision/out", got.append, QoS(depth=10, reliability=Reliability.BEST_EFFORT))
    pub = app.create_publisher("sensor_msgs/msg/Image", "webcam/image_raw", QoS(depth=1))
    pub_info = app.create_publisher("sensor_msgs/msg/CameraInfo", "webcam/camera_info", QoS(depth=1))
    frame = gradient()
    image = imconv.image_msg_from_array(app.msg, frame, "bgr8", (1, 0), "webcam_optical_frame")
    info = ci.camera_info_msg(app.msg, W, H, [FX, 0, W / 2, 0, FX, H / 2, 0, 0, 1], [0.0] * 5, ci.PLUMB_BOB)

    def arrived():
        pub_info.publish(info)
        pub.publish(image)
        time.sleep(0.1)
        return [m for m in got if classes.ImageSamples.FromString(bytes(m.data)).Samples[0].HFOV > 0]
    msgs = wait_for(arrived, what="ImageSamples on bow/vision/out")
    samples = classes.ImageSamples.FromString(bytes(msgs[-1].data))
    (s,) = samples.Samples
    assert s.Source == "webcam" and list(s.DataShape) == [W, H]
    assert s.Compression == classes.ImageSample.JPG and s.ImageType == classes.ImageSample.RGB
    assert s.HFOV == pytest.approx(math.degrees(2 * math.atan(W / (2 * FX))), abs=1e-3)
    assert s.VFOV == pytest.approx(math.degrees(2 * math.atan(H / (2 * FX))), abs=1e-3)
    assert s.FrameNumber >= 1 and s.NewDataFlag
    decoded = cv2.imdecode(np.frombuffer(s.Data, np.uint8), cv2.IMREAD_COLOR)
    assert decoded.shape == (H, W, 3)
    assert np.abs(decoded.astype(int) - frame.astype(int)).mean() < 3.0
    assert bridge.sent >= 1


def test_bow_image_samples_become_ros_images_and_camera_info(nodes, message_set):
    name, classes = message_set
    nodes_bridge = nodes("bow_vision", bow_messages=name, frame_prefix="robot2/")
    bridge = BowVisionBridge(nodes_bridge)
    app = nodes("app")
    images, infos, depth = [], [], []
    qos = QoS(depth=10, reliability=Reliability.BEST_EFFORT)
    app.create_subscription("sensor_msgs/msg/Image", "bow/vision/head_cam/image", images.append, qos)
    app.create_subscription("sensor_msgs/msg/CameraInfo", "bow/vision/head_cam/camera_info", infos.append, qos)
    app.create_subscription("sensor_msgs/msg/Image", "bow/vision/tof/image", depth.append, qos)
    pub = app.create_publisher(U8, "bow/vision/binary", QoS(depth=5))
    frame = gradient()
    ok, jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 95])
    depth_mm = (np.arange(W * H, dtype=np.uint16).reshape(H, W) % 5000)
    out = classes.ImageSamples()
    out.Samples.add(Source="head_cam", Data=jpeg.tobytes(), DataShape=[W, H], Compression=classes.ImageSample.JPG,
                    ImageType=classes.ImageSample.RGB, HFOV=90.0, VFOV=60.0, FrameNumber=7, NewDataFlag=True)
    out.Samples.add(Source="tof", Data=depth_mm.astype("<u2").tobytes(), DataShape=[W, H],
                    Compression=classes.ImageSample.RAW, ImageType=classes.ImageSample.DEPTH)

    def arrived():
        pub.publish(app.msg(U8, data=out.SerializeToString()))
        time.sleep(0.1)
        return images and infos and depth
    wait_for(arrived, what="Image, CameraInfo and depth from bow/vision/binary")
    img = images[-1]
    assert (img.width, img.height, img.encoding) == (W, H, "bgr8")
    assert img.header.frame_id == "robot2/head_cam"
    pixels = np.frombuffer(bytes(img.data), np.uint8).reshape(H, W, 3)
    assert np.abs(pixels.astype(int) - frame.astype(int)).mean() < 3.0
    info = infos[-1]
    assert info.header.frame_id == "robot2/head_cam" and (info.width, info.height) == (W, H)
    assert info.k[0] == pytest.approx((W / 2) / math.tan(math.radians(45)), rel=1e-5)
    assert info.k[4] == pytest.approx((H / 2) / math.tan(math.radians(30)), rel=1e-5)
    d = depth[-1]
    assert d.encoding == "16UC1"
    assert np.array_equal(np.frombuffer(bytes(d.data), "<u2").reshape(H, W), depth_mm)
    assert bridge.received >= 2


def test_simulated_spot_cameras_reach_bow_as_v1_image_samples(sim, nodes):
    """spot_cameras (real bosdyn ImageClient against the simulator) -> bow_vision -> a BOW reader."""
    from spot_bow_ros.nodes.spot_cameras import SpotCamerasBridge
    v1 = _v1()
    cams = nodes("spot_cameras", sim_info_file=sim.info_file, cameras=["frontleft", "hand"], rate=5.0)
    SpotCamerasBridge(cams)
    vision = nodes("bow_vision", bow_messages="sdk_v1", rate=5.0,
                   sources=["spot/camera/frontleft/image", "spot/camera/hand/image"])
    BowVisionBridge(vision)
    app = nodes("app")
    got = []
    app.create_subscription(U8, "bow/vision/out", got.append, QoS(depth=20, reliability=Reliability.BEST_EFFORT))

    def both_sources():
        seen = {}
        for m in got:
            for s in v1.ImageSamples.FromString(bytes(m.data)).Samples:
                if s.HFOV > 0:
                    seen[s.Source] = s
        return seen if {"frontleft", "hand"} <= set(seen) else None
    seen = wait_for(both_sources, timeout=20, what="frontleft and hand ImageSamples with HFOV")
    hand = seen["hand"]
    assert hand.Compression == v1.ImageSample.JPG and list(hand.DataShape)[:2] == [640, 480]
    # fx = 552.03 px of a real hand camera: docs/spot_facts.md, "Image sources"
    assert hand.HFOV == pytest.approx(2 * math.degrees(math.atan(320 / 552.03)), abs=0.5)
    image = cv2.imdecode(np.frombuffer(hand.Data, np.uint8), cv2.IMREAD_UNCHANGED)
    assert image.shape[:2] == (480, 640)
    assert list(seen["frontleft"].DataShape)[:2] == [640, 480]
