"""nodes/image_service.py: the `sources` parameter and the node's handling of incoming frames.

Uses the standalone node over an InProcessBus and a stand-in connection (no robot): the
gRPC server is real and queried with bosdyn's ImageClient on a plain channel.
"""

from __future__ import annotations

import logging
import time

import grpc
import numpy as np
import pytest
from bosdyn.api import image_pb2
from bosdyn.client.image import ImageClient, build_image_request

from spot_bow_ros.nodes.image_service import ImageServiceBridge, SourceEntry, parse_source_entry, parse_sources
from spot_bow_ros.ros.params import ParameterError
from spot_bow_ros.ros.qos import SENSOR_PUBLISHER
from spot_bow_ros.standalone.node import InProcessBus, StandaloneNode


@pytest.mark.parametrize("text,expected", [
    ("webcam/image_raw:webcam:raw", SourceEntry("webcam/image_raw", "webcam", "raw")),
    ("webcam/image_raw/compressed:cam", SourceEntry("webcam/image_raw/compressed", "cam", "compressed")),
    ("/spot/depth/image", SourceEntry("/spot/depth/image", "spot_depth_image", "raw")),
    ("cam/image::compressed", SourceEntry("cam/image", "cam_image", "compressed")),
    (" cam/image : front : RAW ", SourceEntry("cam/image", "front", "raw")),
])
def test_source_entries(text, expected):
    assert parse_source_entry(text) == expected


@pytest.mark.parametrize("text,fragment", [
    ("", "expected TOPIC"),
    ("a:b:raw:extra", "expected TOPIC"),
    ("9cam/image", "not a valid ROS topic"),
    ("cam//image", "not a valid ROS topic"),
    ("cam/image:bad name", "may only hold"),
    ("cam/image:front:jpeg", "not raw or compressed"),
])
def test_bad_source_entries_name_the_problem(text, fragment):
    with pytest.raises(ParameterError, match=fragment):
        parse_source_entry(text)


def test_duplicate_and_empty_sources():
    with pytest.raises(ParameterError, match="front used more than once"):
        parse_sources(["a/image:front", "b/image:front"])
    with pytest.raises(ParameterError, match="empty"):
        parse_sources([])


class StandInConnection:
    """What the bridge uses of a SpotConnection, without a robot: robot clock = local + 100 s."""

    def __init__(self):
        self.callbacks = []

    def local_to_robot_ns(self, local_ns):
        return local_ns + 100_000_000_000

    def ensure_client(self, name):
        raise ConnectionError("no robot in this test")

    def on_connected(self, callback):
        self.callbacks.append(callback)


@pytest.fixture
def bridge_rig():
    bus = InProcessBus()
    pub_node = StandaloneNode("driver", bus)
    node = StandaloneNode("image_service", bus, parameter_overrides={
        "sources": ["cam/image_raw:cam"], "register": False, "host_ip": "127.0.0.1", "stale_after": 0.0})
    bridge = ImageServiceBridge(node, connection=StandInConnection())
    channel = grpc.insecure_channel(f"127.0.0.1:{bridge.server.port}")
    client = ImageClient()
    client.channel = channel
    pub = pub_node.create_publisher("sensor_msgs/msg/Image", "cam/image_raw", SENSOR_PUBLISHER)
    yield bridge, pub_node, pub, client
    channel.close()
    node.destroy()
    pub_node.destroy()


def publish(node, pub, arr, encoding, stamp_ns):
    sec, nsec = divmod(stamp_ns, 1_000_000_000)
    rows = arr.shape[0]
    pub.publish(node.msg("sensor_msgs/msg/Image",
                         header=node.msg("std_msgs/msg/Header",
                                         stamp=node.msg("builtin_interfaces/msg/Time", sec=sec, nanosec=nsec)),
                         height=rows, width=arr.shape[1], encoding=encoding, step=arr.nbytes // rows,
                         data=arr.tobytes()))


def wait_for(predicate, timeout=3.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


def test_bad_frames_logged_once_then_recovery(bridge_rig, caplog):
    bridge, node, pub, client = bridge_rig
    cam = bridge.servicer.camera("cam")
    with caplog.at_level(logging.INFO, logger="spot_bow_ros.image_service"):
        for _ in range(3):
            publish(node, pub, np.zeros((4, 6, 2), np.uint8), "yuv422", 1_000_000_000)
        # handled (dropped, said so), not only given time to be
        assert wait_for(lambda: any("dropping frames" in r.getMessage() for r in caplog.records), 15.0)
        assert cam.latest is None
        good = np.arange(4 * 6 * 3, dtype=np.uint8).reshape(4, 6, 3)
        publish(node, pub, good, "rgb8", 2_000_000_000)
        assert wait_for(lambda: cam.latest is not None)
    dropped = [r for r in caplog.records if "dropping frames" in r.getMessage()]
    assert len(dropped) == 1 and "yuv422" in dropped[0].getMessage()
    assert any("usable again" in r.getMessage() for r in caplog.records)
    (resp,) = client.get_image([build_image_request("cam", image_format=image_pb2.Image.FORMAT_RAW)])
    np.testing.assert_array_equal(np.frombuffer(resp.shot.image.data, np.uint8).reshape(4, 6, 3), good)
    acq = resp.shot.acquisition_time
    assert acq.seconds * 10**9 + acq.nanos == 2_000_000_000 + 100_000_000_000


def test_zero_stamp_uses_receive_time(bridge_rig):
    bridge, node, pub, client = bridge_rig
    before = time.time_ns()
    publish(node, pub, np.zeros((4, 6), np.uint8), "mono8", 0)
    cam = bridge.servicer.camera("cam")
    assert wait_for(lambda: cam.latest is not None)
    assert before <= cam.latest.stamp_ns <= time.time_ns()
