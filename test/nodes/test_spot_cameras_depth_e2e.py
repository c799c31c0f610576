"""spot_cameras with depth_registered + point_clouds against the simulated Spot, read over real DDS.

The bridge and the test listener each have their own Cyclone DDS participant (two
`DdsTransport`s), so every message crosses the wire as CDR. The simulator's depth sources see
fronto-parallel planes at known distances (`depth_plane_distance_m`), so points are checked
against geometry, not against the code that made them.
"""

import os
import threading
import time

import numpy as np
import pytest

from spot_bow_ros.convert.images import array_from_image_msg
from spot_bow_ros.convert.pointcloud import points_from_cloud
from spot_bow_ros.nodes.spot_cameras import SpotCamerasBridge
from spot_bow_ros.ros.node_api import stamp_to_ns
from spot_bow_ros.ros.qos import QoS
from spot_bow_ros.sim.camera_catalogue import depth_plane_distance_m
from spot_bow_ros.sim.camera_scene import depth_plane_mask
from spot_bow_ros.sim.frames import body_tform_sensor
from spot_bow_ros.standalone.dds_transport import DdsTransport
from spot_bow_ros.standalone.node import StandaloneNode

IMG, INFO, CLOUD = "sensor_msgs/msg/Image", "sensor_msgs/msg/CameraInfo", "sensor_msgs/msg/PointCloud2"
CAMS = ("frontleft", "back", "hand")
TOPICS = {f"/spot/depth_registered/{c}/image": IMG for c in CAMS}
TOPICS.update({f"/spot/depth_registered/{c}/camera_info": INFO for c in CAMS})
TOPICS.update({f"/spot/camera/{c}/image": IMG for c in CAMS})
TOPICS.update({f"/spot/camera/{c}/camera_info": INFO for c in CAMS})
TOPICS.update({f"/spot/depth/{c}/points": CLOUD for c in CAMS})
TOPICS.update({f"/spot/depth/{c}/image": IMG for c in CAMS})
TOPICS.update({f"/spot/depth_registered/{c}/points": CLOUD for c in CAMS})
TOPICS["/spot/points"] = CLOUD
VOXEL = 0.05


@pytest.fixture(scope="module")
def run(sim):
    domain = int(os.environ["ROS_DOMAIN_ID"])
    bridge_dds, listener_dds = DdsTransport(domain_id=domain), DdsTransport(domain_id=domain)
    listener = StandaloneNode("depth_listener", listener_dds)
    got: dict[str, list] = {t: [] for t in TOPICS}
    lock = threading.Lock()

    def keep(topic):
        def cb(msg):
            with lock:
                got[topic].append(msg)
        return cb
    for topic, type_name in TOPICS.items():
        listener.create_subscription(type_name, topic, keep(topic), QoS(depth=200))
    node = StandaloneNode("spot_cameras", bridge_dds, parameter_overrides=dict(
        sim_info_file=sim.info_file, cameras=list(CAMS), depth_registered=True, point_clouds=True,
        organized=True, merged_cloud=True, voxel_size=VOXEL, rate=10.0))
    published: dict[str, list[int]] = {t: [] for t in TOPICS}   # stamps as the bridge published them
    node.create_publisher = _recording_publishers(node.create_publisher, published, lock)
    _bridge = SpotCamerasBridge(node)  # kept alive while the node spins
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not all(len(v) >= 6 for v in got.values()):
        time.sleep(0.05)
    node.destroy()
    listener.destroy()
    bridge_dds.close()
    listener_dds.close()
    with lock:
        missing = {t: len(v) for t, v in got.items() if len(v) < 6}
        assert not missing, f"too few messages over DDS: {missing}"
        return {**{t: list(v) for t, v in got.items()}, "published": {t: list(v) for t, v in published.items()}}


def _recording_publishers(create_publisher, published: dict[str, list[int]], lock: threading.Lock):
    """`create_publisher` whose publishers on the topics of `published` first note each message's
    header stamp (ns) there: what the bridge published, whatever a loaded listener receives."""
    def create(type_name, topic, qos):
        pub = create_publisher(type_name, topic, qos)
        stamps = published.get(pub.topic)
        if stamps is not None:
            publish = pub.publish

            def recorded(msg):
                with lock:
                    stamps.append(stamp_to_ns(msg.header.stamp))
                publish(msg)
            pub.publish = recorded
        return pub
    return create


@pytest.mark.parametrize("cam,source,visual_frame", [
    ("frontleft", "frontleft_depth_in_visual_frame", "frontleft_fisheye"),
    ("back", "back_depth_in_visual_frame", "back_fisheye"),
    ("hand", "hand_depth_in_hand_color_frame", "hand_color_image_sensor")])
def test_registered_depth_has_the_visual_cameras_info_stamp_and_frame(run, sim, cam, source, visual_frame):
    images = run[f"/spot/depth_registered/{cam}/image"]
    # stamps compared with what the bridge published (recorded at its publishers): a loaded
    # listener may miss some of the visual images, the bridge must not stamp them differently
    published = run["published"]
    visual_stamps = set(published[f"/spot/camera/{cam}/image"])
    visual_info = run[f"/spot/camera/{cam}/camera_info"][0]
    spec = sim.cameras.by_name[source]
    for msg in images:
        assert (msg.encoding, msg.width, msg.height, msg.step) == ("16UC1", 640, 480, 1280)
        assert msg.header.frame_id == visual_frame
        depth = array_from_image_msg(msg)
        plane = depth[depth_plane_mask(spec)]
        assert np.all(plane == round(depth_plane_distance_m(source) * 1000))  # millimetres
        assert np.all(depth[-5:, -5:] == 0)  # no return stays 0 (invalid)
    received = {stamp_to_ns(m.header.stamp) for m in images}
    assert received <= set(published[f"/spot/depth_registered/{cam}/image"])
    # every registered depth the visual image of its acquisition (the last one's may not have
    # been published yet when the bridge stopped)
    unmatched = [s for s in published[f"/spot/depth_registered/{cam}/image"] if s not in visual_stamps]
    assert unmatched in ([], [max(published[f"/spot/depth_registered/{cam}/image"])]), \
        ("registered depth must carry the visual image's stamp", unmatched, sorted(visual_stamps))
    for info in run[f"/spot/depth_registered/{cam}/camera_info"]:
        assert info.header.frame_id == visual_info.header.frame_id == visual_frame
        assert (info.width, info.height, info.distortion_model) == (visual_info.width, visual_info.height,
                                                                    visual_info.distortion_model)
        np.testing.assert_array_equal(info.k, visual_info.k)
        np.testing.assert_array_equal(info.p, visual_info.p)
    assert {stamp_to_ns(m.header.stamp) for m in run[f"/spot/depth_registered/{cam}/camera_info"]} <= received


@pytest.mark.parametrize("cam,source,sensor_frame", [("frontleft", "frontleft_depth", "frontleft"),
                                                     ("back", "back_depth", "back"),
                                                     ("hand", "hand_depth", "hand_depth_sensor")])
def test_point_cloud_is_the_depth_sensors_plane(run, sim, cam, source, sensor_frame):
    spec = sim.cameras.by_name[source]
    mask = depth_plane_mask(spec)
    distance = depth_plane_distance_m(source)
    depth_stamps = {stamp_to_ns(m.header.stamp) for m in run[f"/spot/depth/{cam}/image"]}
    clouds = run[f"/spot/depth/{cam}/points"]
    for msg in clouds[:4]:
        assert msg.header.frame_id == sensor_frame
        assert (msg.height, msg.width, msg.point_step, msg.is_dense) == (spec.rows, spec.cols, 12, False)
        assert [f.name for f in msg.fields] == ["x", "y", "z"]
        pts = points_from_cloud(msg).reshape(spec.rows, spec.cols, 3)
        plane = pts[mask]
        assert np.abs(plane[:, 2] - distance).max() < 0.01  # on the plane within 1 cm
        # x, y by the pinhole of the depth sensor (optical frame: x right, y down)
        v, u = np.nonzero(mask)
        np.testing.assert_allclose(plane[:, 0], (u - spec.cx) * plane[:, 2] / spec.fx, atol=1e-4)
        np.testing.assert_allclose(plane[:, 1], (v - spec.cy) * plane[:, 2] / spec.fy, atol=1e-4)
        assert np.isnan(pts[-3:, -3:]).all()  # no-return patch: NaN in an organized cloud
    assert sum(stamp_to_ns(m.header.stamp) in depth_stamps for m in clouds) >= len(clouds) - 2


def test_merged_cloud_is_in_body_on_the_cameras_planes(run, sim):
    snap = sim.robot.latest()
    planes = []
    for cam in ("frontleft", "back"):  # the body cameras among CAMS
        pose = body_tform_sensor(cam, snap)
        normal = np.array(_rotate(pose.rotation, (0.0, 0.0, 1.0)))
        planes.append((normal, depth_plane_distance_m(f"{cam}_depth") + normal @ np.array(pose.position)))
    for msg in run["/spot/points"][:3]:
        assert msg.header.frame_id == "body" and msg.height == 1 and msg.is_dense
        pts = points_from_cloud(msg).astype(np.float64)
        assert np.isfinite(pts).all()
        off = np.min([np.abs(pts @ n - d) for n, d in planes], axis=0)
        assert np.mean(off < 0.01) > 0.85  # all but the frame-code band lies on a camera's plane
        # voxel downsampling: at most one point per 5 cm voxel
        cells = np.floor(pts / VOXEL).astype(np.int64)
        assert len(np.unique(cells, axis=0)) >= len(pts) * 0.9
        assert len(pts) < 2 * (424 * 240) / 4


def _rotate(q, v):
    x, y, z, w = q
    r = np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                  [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                  [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])
    return r @ np.asarray(v)


@pytest.mark.parametrize("cam,source,visual_frame", [
    ("frontleft", "frontleft_depth_in_visual_frame", "frontleft_fisheye"),
    ("hand", "hand_depth_in_hand_color_frame", "hand_color_image_sensor")])
def test_registered_points_carry_the_visual_images_colour(run, sim, cam, source, visual_frame):
    """depth_image_proc point_cloud_xyzrgb: registered depth + the visual image of the same stamp."""
    spec = sim.cameras.by_name[source]
    visual = {stamp_to_ns(m.header.stamp): m for m in run[f"/spot/camera/{cam}/image"]}
    checked = 0
    for msg in run[f"/spot/depth_registered/{cam}/points"]:
        assert msg.header.frame_id == visual_frame
        assert [(f.name, f.offset) for f in msg.fields] == [("x", 0), ("y", 4), ("z", 8), ("rgb", 12)]
        assert (msg.height, msg.width, msg.point_step) == (480, 640, 16)
        raw = np.frombuffer(bytes(memoryview(msg.data)), np.uint8).reshape(480, 640, 16)
        pts = points_from_cloud(msg).reshape(480, 640, 3)
        mask = depth_plane_mask(spec)
        assert np.abs(pts[mask][:, 2] - depth_plane_distance_m(source)).max() < 0.01
        image = visual.get(stamp_to_ns(msg.header.stamp))
        if image is None:
            continue
        packed = raw[..., 12:16].copy().view("<u4")[..., 0]
        colour = np.stack([(packed >> 16) & 255, (packed >> 8) & 255, packed & 255], axis=-1).astype(np.uint8)
        pixels = array_from_image_msg(image)
        expect = (np.repeat(pixels[..., None], 3, axis=-1) if pixels.ndim == 2 else pixels[..., ::-1])  # bgr8 -> rgb
        np.testing.assert_array_equal(colour, expect)
        checked += 1
    assert checked >= 2


def test_merged_cloud_without_point_clouds_is_one_line_and_exit_2():
    import subprocess
    import sys
    from pathlib import Path

    exe = Path(sys.executable).parent / "spot_cameras"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "spot_bow_ros.nodes.spot_cameras"]
    done = subprocess.run(cmd + ["--ros-args", "-p", "merged_cloud:=true"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "'merged_cloud' needs 'point_clouds: true'" in lines[0], done.stderr
