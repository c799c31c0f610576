"""spot_cameras end to end: the simulated Spot (robot clock +100 s) -> real bosdyn ImageClient ->
SpotCamerasBridge -> ROS topics, checked against what the simulator served."""

import logging
import threading
import time

import numpy as np
import pytest
from bosdyn.api import image_pb2
from bosdyn.client.image import ImageClient
from conftest import ROBOT_CLOCK_OFFSET_S
from cpu_load import CpuMonitor

from spot_bow_ros.convert.images import array_from_image_msg
from spot_bow_ros.nodes.spot_cameras import SpotCamerasBridge
from spot_bow_ros.ros.node_api import stamp_to_ns
from spot_bow_ros.ros.qos import QoS
from spot_bow_ros.sim.cameras import decode_frame_counter, decode_source_id, depth_plane_distance_m, depth_plane_mask
from spot_bow_ros.spot.cameras import CameraFetcher, SourceRequest, depth_request, visual_request
from spot_bow_ros.spot.connection import SpotConnection
from spot_bow_ros.spot.connection_config import ConnectionConfig
from spot_bow_ros.standalone.node import InProcessBus, StandaloneNode

OFFSET_S = ROBOT_CLOCK_OFFSET_S  # `sim` fixture of conftest.py
DEEP = QoS(depth=1000)


class Rig:
    def __init__(self, sim, topics, **params):
        self.sim = sim
        self.bus = InProcessBus()
        self.tester = StandaloneNode("tester", self.bus)
        self.got: dict[str, list] = {}
        for topic, type_name in topics:
            self.got[topic] = []
            self.tester.create_subscription(type_name, topic, self.got[topic].append, DEEP)
        overrides = dict(sim_info_file=sim.info_file)
        overrides.update(params)
        self.node = StandaloneNode("spot_cameras", self.bus, parameter_overrides=overrides)
        self.bridge = SpotCamerasBridge(self.node)

    def wait(self, topic, n, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.got[topic]) < n:
            time.sleep(0.02)
        return len(self.got[topic]) >= n

    def close(self):
        self.node.destroy()
        self.tester.destroy()


def served_by_stamp(sim, source, stamp_ns, tolerance_ns=5_000_000):
    """The served image of `source` whose acquisition time (robot clock -> local) is `stamp_ns`."""
    best = None
    for s in sim.cameras.served_for(source):
        local = sim.clock.local_ns(s.acquisition_robot_ns)
        if abs(local - stamp_ns) <= tolerance_ns and (best is None or
                                                      abs(local - stamp_ns) < abs(best[1] - stamp_ns)):
            best = (s, local)
    return best


IMG = "sensor_msgs/msg/Image"
INFO = "sensor_msgs/msg/CameraInfo"
JPEG = "sensor_msgs/msg/CompressedImage"


def test_fisheye_images_info_and_compressed_match_the_robot(sim):
    cams = ["frontleft", "back", "hand"]
    topics = []
    for cam in cams:
        topics += [(f"/spot/camera/{cam}/image", IMG), (f"/spot/camera/{cam}/camera_info", INFO),
                   (f"/spot/camera/{cam}/image/compressed", JPEG)]
    rig = Rig(sim, topics, rate=15.0)
    try:
        for cam in cams:
            assert rig.wait(f"/spot/camera/{cam}/image", 8), f"no images on {cam}"
            assert rig.wait(f"/spot/camera/{cam}/image/compressed", 8)
    finally:
        rig.close()
    for cam, source, frame, enc in [("frontleft", "frontleft_fisheye_image", "frontleft_fisheye", "mono8"),
                                    ("back", "back_fisheye_image", "back_fisheye", "mono8"),
                                    ("hand", "hand_color_image", "hand_color_image_sensor", "bgr8")]:
        spec = sim.cameras.by_name[source]
        images = rig.got[f"/spot/camera/{cam}/image"]
        infos = rig.got[f"/spot/camera/{cam}/camera_info"]
        jpegs = rig.got[f"/spot/camera/{cam}/image/compressed"]
        stamps = [stamp_to_ns(m.header.stamp) for m in images]
        assert all(b > a for a, b in zip(stamps, stamps[1:])), "stamps must increase"
        for msg in images[:6]:
            assert (msg.encoding, msg.width, msg.height, msg.header.frame_id) == (enc, 640, 480, frame)
            stamp = stamp_to_ns(msg.header.stamp)
            match = served_by_stamp(sim, source, stamp)
            assert match is not None, f"{cam}: stamp {stamp} is no acquisition time of the sim (±5 ms, offset removed)"
            served, local = match
            pixels = array_from_image_msg(msg)
            assert decode_frame_counter(pixels) == served.frame_counter
            assert decode_source_id(pixels) == spec.source_id
        for info in infos[:6]:
            assert (info.width, info.height, info.header.frame_id) == (640, 480, frame)
            np.testing.assert_allclose(info.k, [spec.fx, 0, spec.cx, 0, spec.fy, spec.cy, 0, 0, 1])
            np.testing.assert_allclose(info.p, [spec.fx, 0, spec.cx, 0, 0, spec.fy, spec.cy, 0, 0, 0, 1, 0])
            assert stamp_to_ns(info.header.stamp) in stamps or stamp_to_ns(info.header.stamp) > stamps[-1]
        for msg in jpegs[:6]:
            served, _ = served_by_stamp(sim, source, stamp_to_ns(msg.header.stamp))
            assert served.format == "FORMAT_JPEG"
            assert bytes(msg.data) == served.data  # the robot's JPEG, untouched
            assert msg.format == f"{enc}; jpeg compressed {enc}"


def test_depth_is_16uc1_millimetres(sim):
    rig = Rig(sim, [("/spot/depth/frontright/image", IMG), ("/spot/depth/frontright/camera_info", INFO)],
              depth=True, cameras=["frontright"], rate=10.0)
    try:
        assert rig.wait("/spot/depth/frontright/image", 3)
        assert rig.wait("/spot/depth/frontright/camera_info", 3)
    finally:
        rig.close()
    spec = sim.cameras.by_name["frontright_depth"]
    msg = rig.got["/spot/depth/frontright/image"][0]
    assert (msg.encoding, msg.width, msg.height, msg.step, msg.header.frame_id) == \
        ("16UC1", spec.cols, spec.rows, spec.cols * 2, spec.frame)
    served, _ = served_by_stamp(sim, "frontright_depth", stamp_to_ns(msg.header.stamp))
    depth = array_from_image_msg(msg)
    # depth_scale 999 units per metre (a real robot's): converted to millimetres
    raw = np.frombuffer(served.data, "<u2").reshape(spec.rows, spec.cols)
    expect = np.clip(np.rint(raw * (1000.0 / 999.0)), 0, 65535).astype(np.uint16)
    expect[raw == 65535] = 65535                      # invalid (out of range) stays invalid
    np.testing.assert_array_equal(depth, expect)
    assert np.count_nonzero(depth == 65535) > 0 and np.count_nonzero(depth == 0) > 0
    plane = depth[depth_plane_mask(spec)]
    assert np.all(plane == round(depth_plane_distance_m("frontright_depth") * 1000))  # 1.75 m
    assert decode_frame_counter(depth) == served.frame_counter
    info = rig.got["/spot/depth/frontright/camera_info"][0]
    np.testing.assert_allclose(info.k, [spec.fx, 0, spec.cx, 0, spec.fy, spec.cy, 0, 0, 1])


def test_unsubscribed_sources_are_not_fetched(sim):
    names = ("frontleft_fisheye_image", "left_fisheye_image", "right_fisheye_image", "left_depth")
    before = {n: len(sim.cameras.served_for(n)) for n in names}
    rig = Rig(sim, [("/spot/camera/left/image", IMG)], rate=15.0, depth=True)
    try:
        assert rig.wait("/spot/camera/left/image", 5)
        right_before = len(sim.cameras.served_for("right_fisheye_image"))
        assert right_before == before["right_fisheye_image"]
        # a late subscriber (e.g. a recorder) makes 'right' due
        right = []
        rig.tester.create_subscription(JPEG, "/spot/camera/right/image/compressed", right.append, DEEP)
        deadline = time.monotonic() + 5
        while not right and time.monotonic() < deadline:
            time.sleep(0.02)
        assert right
    finally:
        rig.close()
    assert len(sim.cameras.served_for("left_fisheye_image")) > before["left_fisheye_image"]
    assert len(sim.cameras.served_for("right_fisheye_image")) > before["right_fisheye_image"]
    # nobody listened to frontleft or to the depth cameras: never asked for
    assert len(sim.cameras.served_for("frontleft_fisheye_image")) == before["frontleft_fisheye_image"]
    assert len(sim.cameras.served_for("left_depth")) == before["left_depth"]
    assert rig.bridge.published("frontleft") == 0
    # only the compressed topic of 'right' is wanted: JPEG bytes forwarded, nothing decoded
    assert rig.bridge.outputs[("right", "visual")].published > 0


def test_a_failing_source_does_not_stop_the_others(sim, caplog, monkeypatch):
    caplog.set_level(logging.INFO)
    original = sim.cameras.latest

    def broken(name, *args):
        data, cols, rows, n = original(name, *args)
        if name == "left_fisheye_image":
            return b"\xff\xd8 this is not a JPEG", cols, rows, n
        return data, cols, rows, n

    monkeypatch.setattr(sim.cameras, "latest", broken)
    rig = Rig(sim, [("/spot/camera/left/image", IMG), ("/spot/camera/right/image", IMG),
                    ("/spot/camera/back/image", IMG)], rate=15.0)
    try:
        assert rig.wait("/spot/camera/right/image", 10)
        assert rig.wait("/spot/camera/back/image", 10)
        time.sleep(0.2)
    finally:
        rig.close()
    assert rig.got["/spot/camera/left/image"] == []
    warnings = [r.getMessage() for r in caplog.records if "left_fisheye_image" in r.getMessage()]
    assert len(warnings) == 1 and "do not decode" in warnings[0] and "other cameras continue" in warnings[0]
    assert rig.bridge.errors.counts["left_fisheye_image"] >= 5


def test_fetcher_one_call_and_isolated_failures(sim):
    """Unknown sources and an RPC-level failure of the batch never cost the good sources."""
    conn = SpotConnection(ConnectionConfig.from_sim_info(sim.info_file))
    conn.connect()
    delivered, failed = [], []
    lock = threading.Lock()

    def on_image(img):
        with lock:
            delivered.append(img)

    fetcher = CameraFetcher(lambda: conn.ensure_client(ImageClient.default_service_name), conn.robot_to_local_ns,
                            on_image, lambda req, msg: failed.append((req.source, msg)), workers=2)
    try:
        bogus = SourceRequest("left", "visual", "no_such_camera")
        n = fetcher.fetch([visual_request("frontleft"), bogus, depth_request("back"),
                           visual_request("hand", image_format=image_pb2.Image.FORMAT_RAW)])
        assert n == 3 and fetcher.stats.calls == 1
        assert failed == [("no_such_camera", "the robot answered STATUS_UNKNOWN_CAMERA: source dropped")]
        by_source = {img.request.source: img for img in delivered}
        assert by_source["hand_color_image"].encoding == "rgb8"
        assert isinstance(by_source["hand_color_image"].pixels, bytes)  # RAW passes through
        assert by_source["back_depth"].encoding == "16UC1"
        for img in delivered:
            assert abs(img.stamp_ns - sim.clock.local_ns(img.robot_stamp_ns)) < 5_000_000
            assert img.robot_stamp_ns - img.stamp_ns == pytest.approx(OFFSET_S * 1e9, abs=5e6)
        # the robot refuses the whole batch (an exception inside the service): per-source fallback
        original = sim.cameras.latest

        def explode(name, *a, **k):
            if name == "right_fisheye_image":
                raise RuntimeError("sensor fault")
            return original(name, *a, **k)

        sim.cameras.latest = explode
        try:
            delivered.clear()
            failed.clear()
            n = fetcher.fetch([visual_request("frontleft"), visual_request("right"), visual_request("back")])
        finally:
            del sim.cameras.latest
        assert n == 2 and sorted(i.request.source for i in delivered) == ["back_fisheye_image",
                                                                          "frontleft_fisheye_image"]
        assert [s for s, _ in failed] == ["right_fisheye_image"]
        assert fetcher.stats.fallback_calls == 2
    finally:
        fetcher.close()
        conn.shutdown()


def test_rate_changes_live_and_other_parameters_are_read_only(sim):
    """`ros2 param set /spot_cameras rate 2.0` (here through the node's parameter service):
    the fetch rate follows; `cameras` is refused (read-only once running)."""
    topic = "/spot/camera/frontleft/image/compressed"
    rig = Rig(sim, [(topic, JPEG)], cameras=["frontleft"], rate=15.0)
    try:
        assert rig.wait(topic, 10)
        msgs = rig.tester.msg
        value = msgs("rcl_interfaces/msg/ParameterValue", type=3, double_value=2.0)
        request = msgs("rcl_interfaces/srv/SetParameters_Request", parameters=[
            msgs("rcl_interfaces/msg/Parameter", name="rate", value=value),
            msgs("rcl_interfaces/msg/Parameter", name="cameras",
                 value=msgs("rcl_interfaces/msg/ParameterValue", type=9, string_array_value=["back"]))])
        results = rig.bus.call_service("/spot_cameras/set_parameters", request).results
        assert results[0].successful and not results[1].successful and "read-only" in results[1].reason
        assert rig.bridge.schedule.period == 0.5
        # 2 Hz now (was 15), measured on the images' acquisition stamps (robot frames): skip two
        # (one may be of the 15 Hz schedule), then 6 intervals. At most 3 Hz whatever the load;
        # at least 1 Hz where the machine had spare CPU (see cpu_load)
        n0 = len(rig.got[topic]) + 2
        with CpuMonitor() as cpu:
            assert rig.wait(topic, n0 + 7, timeout=60), f"{len(rig.got[topic]) - n0} images in 60 s at 2 Hz"
        stamps = [stamp_to_ns(m.header.stamp) for m in rig.got[topic][n0:n0 + 7]]
        rate = (len(stamps) - 1) / ((stamps[-1] - stamps[0]) / 1e9)
        assert rate <= 3.0, rate
        shortfall = cpu.check_rate(stamps, 2.0, topic, fraction=0.5)
        assert shortfall is None, shortfall
    finally:
        rig.close()


def test_decode_threads_zero_chooses_from_the_cores():
    from spot_bow_ros.nodes.spot_cameras import decode_threads
    assert [decode_threads(0, cores=c) for c in (1, 2, 3, 8)] == [1, 1, 2, 2]
    assert decode_threads(3, cores=2) == 3  # a set value is kept
