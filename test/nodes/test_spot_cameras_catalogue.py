"""spot_cameras against the real Spot catalogue of the simulator: depth scales (999, absent),
depth frames, and one refused source through the real bosdyn ImageClient (which would fail the
whole GetImage) isolated by the fetcher and the bridge."""

import logging
import threading

import numpy as np
import pytest
from bosdyn.api import image_pb2
from bosdyn.client.image import ImageClient

from nodes.test_spot_cameras_e2e import IMG, Rig
from spot_bow_ros.convert.images import array_from_image_msg
from spot_bow_ros.sim import SimulatedSpot
from spot_bow_ros.sim.cameras import decode_source_id, depth_plane_distance_m, depth_plane_mask
from spot_bow_ros.spot.cameras import (
    DEPTH,
    DROP,
    FALLBACK,
    VISUAL,
    CameraFetcher,
    SourceRequest,
    depth_request,
    depth_to_millimetres,
    status_action,
    visual_request,
)
from spot_bow_ros.spot.connection import SpotConnection
from spot_bow_ros.spot.connection_config import ConnectionConfig

Image = image_pb2.Image
Status = image_pb2.ImageResponse
RGB, GREY = Image.PIXEL_FORMAT_RGB_U8, Image.PIXEL_FORMAT_GREYSCALE_U8


class Fetch:
    """A CameraFetcher on the real ImageClient of `sim`, recording images, errors and notices."""

    def __init__(self, sim):
        self.conn = SpotConnection(ConnectionConfig.from_sim_info(sim.info_file))
        self.conn.connect()
        self.images, self.errors, self.notices = [], [], []
        lock = threading.Lock()

        def on_image(img):
            with lock:
                self.images.append(img)
        self.fetcher = CameraFetcher(lambda: self.conn.ensure_client(ImageClient.default_service_name),
                                     self.conn.robot_to_local_ns, on_image,
                                     lambda r, m: self.errors.append((r.source, m)),
                                     on_notice=lambda r, m: self.notices.append((r.source, m)))

    def close(self):
        self.fetcher.close()
        self.conn.shutdown()


def test_status_action():
    rgb = visual_request("left", pixel_format=RGB)
    assert status_action(rgb, Status.STATUS_UNSUPPORTED_PIXEL_FORMAT_REQUESTED) == FALLBACK
    assert status_action(visual_request("left"), Status.STATUS_UNSUPPORTED_PIXEL_FORMAT_REQUESTED) is None
    assert status_action(visual_request("left"), Status.STATUS_UNSUPPORTED_IMAGE_FORMAT_REQUESTED) == FALLBACK
    assert status_action(rgb, Status.STATUS_UNKNOWN_CAMERA) == DROP
    assert status_action(rgb, Status.STATUS_IMAGE_DATA_ERROR) is None


def test_depth_to_millimetres_scales():
    raw = np.array([[0, 999, 1998, 65535]], np.uint16)
    np.testing.assert_array_equal(depth_to_millimetres(raw, 999.0), [[0, 1000, 2000, 65535]])
    assert depth_to_millimetres(raw, 0.0) is raw           # not reported: already millimetres
    assert depth_to_millimetres(raw, 1000.0) is raw


def test_rgb_on_a_greyscale_robot_falls_back_and_the_others_go_on(sim):
    f = Fetch(sim)
    try:
        requests = [visual_request("left", pixel_format=RGB), visual_request("back"), depth_request("frontleft"),
                    SourceRequest("left", VISUAL, "no_such_camera")]
        assert f.fetcher.fetch(requests) == 2          # one call: back and the depth delivered at once
        assert f.fetcher.stats.calls == 1 and f.fetcher.stats.fallback_calls == 0
        assert f.errors == []
        notices = dict(f.notices)
        assert len(f.notices) == 2
        assert "STATUS_UNSUPPORTED_PIXEL_FORMAT_REQUESTED for PIXEL_FORMAT_RGB_U8" in notices["left_fisheye_image"]
        assert "STATUS_UNKNOWN_CAMERA: source dropped" in notices["no_such_camera"]
        for _ in range(2):
            assert f.fetcher.fetch(requests) == 3      # left now in its own (greyscale) format
        assert len(f.notices) == 2 and f.errors == []   # told once
        left = [i for i in f.images if i.request.source == "left_fisheye_image"]
        assert len(left) == 2 and all(i.encoding == "mono8" and i.pixels.shape == (480, 640) for i in left)
        assert decode_source_id(left[0].pixels) == sim.cameras.by_name["left_fisheye_image"].source_id
        assert f.fetcher.adjusted["no_such_camera"] is None
        depth = [i for i in f.images if i.request.source == "frontleft_depth"][-1]
        assert (depth.frame_id, depth.encoding, depth.width, depth.height) == ("frontleft", "16UC1", 424, 240)
        assert depth.source.depth_scale == 999.0
        mm = np.asarray(depth.pixels)
        # 1.5 m -> round(1.5 * 999) = 1498 units -> 1499 mm (the robot's 1 mm quantisation)
        assert np.all(mm[depth_plane_mask(sim.cameras.by_name["frontleft_depth"])] == 1499)
        assert np.all(mm[210:, 371:] == 0) and np.all(mm[210:, :53] == 65535)   # invalid stays invalid
    finally:
        f.close()


def test_depth_in_visual_frame_without_depth_scale_is_millimetres(sim):
    f = Fetch(sim)
    try:
        reqs = [SourceRequest(cam, DEPTH, f"{cam}_depth_in_visual_frame", Image.FORMAT_RAW,
                              Image.PIXEL_FORMAT_DEPTH_U16, 100.0) for cam in ("left", "back")]
        assert f.fetcher.fetch(reqs) == 2 and f.errors == []
        for img in f.images:
            src = img.request.source
            assert img.source.depth_scale == 0.0         # as a real robot reports it
            assert (img.frame_id, img.width, img.height) == (src.split("_")[0] + "_fisheye", 640, 480)
            mm = np.frombuffer(img.pixels, "<u2").reshape(480, 640)
            plane = mm[depth_plane_mask(sim.cameras.by_name[src])]
            assert np.all(plane == round(depth_plane_distance_m(src) * 1000))
    finally:
        f.close()


def test_bridge_rgb_on_greyscale_robot_one_line_per_source_and_depth_in_mm(sim, caplog):
    caplog.set_level(logging.INFO)
    cams = ["frontleft", "left", "hand"]
    topics = [(f"/spot/camera/{c}/image", IMG) for c in cams] + [(f"/spot/depth/{c}/image", IMG) for c in cams]
    rig = Rig(sim, topics, rate=15.0, cameras=cams, depth=True, pixel_format="rgb")
    try:
        for topic, _ in topics:
            assert rig.wait(topic, 5), topic
    finally:
        rig.close()
    for cam in ("frontleft", "left"):
        msgs = rig.got[f"/spot/camera/{cam}/image"]
        assert {m.encoding for m in msgs} == {"mono8"}
        lines = [r.getMessage() for r in caplog.records if f"source {cam}_fisheye_image" in r.getMessage()]
        assert len(lines) == 1, lines
        assert "STATUS_UNSUPPORTED_PIXEL_FORMAT_REQUESTED" in lines[0] and "other cameras continue" in lines[0]
    assert {m.encoding for m in rig.got["/spot/camera/hand/image"]} == {"bgr8"}   # the hand camera is RGB
    assert not [r for r in caplog.records if "hand_color_image" in r.getMessage()]
    for cam, source, frame, mm in (("left", "left_depth", "left", 2000),
                                   ("hand", "hand_depth", "hand_depth_sensor", 600)):
        msg = rig.got[f"/spot/depth/{cam}/image"][-1]
        assert (msg.encoding, msg.header.frame_id) == ("16UC1", frame)
        depth = array_from_image_msg(msg)
        assert np.all(depth[depth_plane_mask(sim.cameras.by_name[source])] == mm)


@pytest.fixture(scope="module")
def colour_sim(tmp_path_factory):
    with SimulatedSpot(arm=False, colour_cameras=True) as spot:
        path = tmp_path_factory.mktemp("colour") / "sim_info.json"
        spot.write_info(path)
        spot.info_file = str(path)
        yield spot


@pytest.mark.parametrize("pixel_format,encoding", [("rgb", "bgr8"), ("greyscale", "mono8"), ("auto", "bgr8")])
def test_bridge_on_a_colour_robot(colour_sim, caplog, pixel_format, encoding):
    caplog.set_level(logging.WARNING)
    rig = Rig(colour_sim, [("/spot/camera/back/image", IMG)], rate=15.0, cameras=["back"],
              pixel_format=pixel_format)
    try:
        assert rig.wait("/spot/camera/back/image", 3)
    finally:
        rig.close()
    msg = rig.got["/spot/camera/back/image"][0]
    assert (msg.encoding, msg.width, msg.height) == (encoding, 640, 480)
    assert decode_source_id(array_from_image_msg(msg)) == colour_sim.cameras.by_name["back_fisheye_image"].source_id
    assert not [r for r in caplog.records if "back_fisheye_image" in r.getMessage()]
