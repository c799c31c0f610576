"""End to end: ROS image topics -> image_service node -> simulated Spot's directory -> ImageClient.

Real pieces only: the node over the standalone runtime (InProcessBus), the real bosdyn gRPC
server registered with `DirectoryRegistrationKeepAlive` in the simulated robot's directory,
and bosdyn's `ImageClient` of a separately authenticated "tablet" `Robot`, reaching the service
through the robot's authority-routed proxy (`ros-image-service.spot.robot`), as on a robot.
The robot clock runs +100 s ahead of this host.
"""

from __future__ import annotations

import math
import time

import bosdyn.client
import cv2
import numpy as np
import pytest
from bosdyn.api import image_pb2
from bosdyn.client.image import ImageClient, ImageDataError, ImageResponseError, build_image_request
from waiting import wait_for

from spot_bow_ros.nodes.image_service import ImageServiceBridge
from spot_bow_ros.sim import SimulatedSpot
from spot_bow_ros.standalone.node import InProcessBus, StandaloneNode

Image = image_pb2.Image
ImageResponse = image_pb2.ImageResponse
OFFSET_NS = 100_000_000_000
SERVICE = "ros-image-service"


def colour_frame(k: int, rows: int = 480, cols: int = 640) -> np.ndarray:
    """Smooth RGB content that changes with k (JPEG-friendly)."""
    y, x = np.mgrid[0:rows, 0:cols]
    return np.stack([(x // 3 + k) % 256, (y // 2 + 3 * k) % 256, ((x + y) // 5) % 256], -1).astype(np.uint8)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return math.inf if mse == 0 else 10 * math.log10(255.0 ** 2 / mse)


class Publisher:
    """Publishes one frame on every test topic, with one stamp, like camera drivers do."""

    def __init__(self, node: StandaloneNode):
        self.node = node
        self.colour = node.create_publisher("sensor_msgs/msg/Image", "cam/image_raw", _qos())
        self.mono = node.create_publisher("sensor_msgs/msg/Image", "mono/image_raw", _qos())
        self.depth = node.create_publisher("sensor_msgs/msg/Image", "depth/image_raw", _qos())
        self.jpeg = node.create_publisher("sensor_msgs/msg/CompressedImage", "cam/image_raw/compressed", _qos())
        self.k = 0

    def _header(self, stamp_ns: int, frame_id: str):
        sec, nsec = divmod(stamp_ns, 1_000_000_000)
        return self.node.msg("std_msgs/msg/Header", frame_id=frame_id,
                             stamp=self.node.msg("builtin_interfaces/msg/Time", sec=sec, nanosec=nsec))

    def image(self, pub, arr: np.ndarray, encoding: str, stamp_ns: int) -> None:
        rows, cols = arr.shape[:2]
        data = arr.tobytes()
        pub.publish(self.node.msg("sensor_msgs/msg/Image", header=self._header(stamp_ns, "cam_optical"),
                                  height=rows, width=cols, encoding=encoding, step=len(data) // rows,
                                  data=data))

    def publish(self, which=("colour", "mono", "depth", "jpeg")) -> dict:
        self.k += 1
        stamp = time.time_ns()
        rgb = colour_frame(self.k)
        out = {"stamp": stamp, "rgb": rgb}
        if "colour" in which:
            self.image(self.colour, rgb, "rgb8", stamp)
        if "mono" in which:
            out["mono"] = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
            self.image(self.mono, out["mono"], "mono8", stamp)
        if "depth" in which:
            out["depth"] = (np.arange(240 * 320, dtype=np.uint32).reshape(240, 320) * 7 + self.k).astype(np.uint16)
            self.image(self.depth, out["depth"], "16UC1", stamp)
        if "jpeg" in which:
            out["jpeg"] = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR),
                                       [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()
            self.jpeg.publish(self.node.msg("sensor_msgs/msg/CompressedImage",
                                            header=self._header(stamp, "cam_optical"),
                                            format="rgb8; jpeg compressed bgr8", data=out["jpeg"]))
        return out


def _qos():
    from spot_bow_ros.ros.qos import SENSOR_PUBLISHER
    return SENSOR_PUBLISHER


class Tablet:
    """A client of the robot (not of the payload): bosdyn Robot with username/password."""

    def __init__(self, info: dict):
        self.sdk = bosdyn.client.create_standard_sdk("tablet", cert_resource_glob=info["ca_cert"])
        self.robot = self.sdk.create_robot(info["hostname"])
        self.robot.update_secure_channel_port(info["port"])
        self.robot.authenticate(info["username"], info["password"])
        self.robot.sync_with_directory()  # what the tablet does: learn the payload services
        self.images: ImageClient = self.robot.ensure_client(SERVICE)

    def responses(self, requests) -> list:
        try:
            return list(self.images.get_image(requests))
        except ImageResponseError as exc:  # ImageClient raises on the first non-OK image
            return list(exc.response.image_responses)

    def close(self):
        self.sdk.clear_robots()
        self.robot.shutdown()


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    state = tmp_path_factory.mktemp("sim")
    info_file = state / "info.json"
    sim = SimulatedSpot(clock_offset_s=100.0, state_dir=state).start()
    sim.write_info(info_file)
    bus = InProcessBus()
    pub_node = StandaloneNode("camera_driver", bus)
    node = StandaloneNode("image_service", bus, parameter_overrides={
        "sources": ["cam/image_raw:colour:raw", "mono/image_raw:mono", "depth/image_raw:depth:raw",
                    "cam/image_raw/compressed:colour_jpeg"],
        "sim_info_file": str(info_file), "host_ip": "127.0.0.1", "stale_after": 1.0,
        "registration_interval": 0.5, "health_check_interval": 0.2, "reconnect_max_backoff": 0.3,
        "time_sync_interval": 0.5})
    bridge = ImageServiceBridge(node)
    rig = {"sim": sim, "state": state, "info_file": info_file, "node": node, "bridge": bridge,
           "pub": Publisher(pub_node)}
    rig["tablet"] = Tablet(sim.info)
    yield rig
    rig["tablet"].close()
    node.destroy()
    pub_node.destroy()
    rig["sim"].stop()


def publish_and_wait(rig, which=("colour", "mono", "depth", "jpeg")) -> dict:
    sent = rig["pub"].publish(which)
    servicer = rig["bridge"].servicer
    names = {"colour": "colour", "mono": "mono", "depth": "depth", "jpeg": "colour_jpeg"}
    for key in which:
        wait_for(lambda n=names[key]: (f := servicer.camera(n).latest) is not None and f.stamp_ns == sent["stamp"],
                 5.0, f"frame on {key}")
    return sent


def test_sources_listed_through_the_robot(rig):
    publish_and_wait(rig)
    listed = {s.name: s for s in rig["tablet"].images.list_image_sources()}
    assert set(listed) == {"colour", "mono", "depth", "colour_jpeg"}
    assert (listed["colour"].rows, listed["colour"].cols) == (480, 640)
    assert set(listed["colour"].pixel_formats) == {Image.PIXEL_FORMAT_RGB_U8, Image.PIXEL_FORMAT_GREYSCALE_U8}
    assert list(listed["mono"].pixel_formats)[0] == Image.PIXEL_FORMAT_GREYSCALE_U8
    assert (listed["depth"].rows, listed["depth"].cols, list(listed["depth"].pixel_formats)) == (
        240, 320, [Image.PIXEL_FORMAT_DEPTH_U16])
    assert list(listed["depth"].image_formats) == [Image.FORMAT_RAW]
    # the call went through the robot's proxy, by authority
    assert ("/bosdyn.api.ImageService/ListImageSources", f"{SERVICE}.spot.robot") in list(rig["sim"].calls)


def test_raw_rgb_and_grey_exact_with_robot_acquisition_time(rig):
    sent = publish_and_wait(rig)
    rgb, mono, depth = rig["tablet"].images.get_image([
        build_image_request("colour", image_format=Image.FORMAT_RAW, pixel_format=Image.PIXEL_FORMAT_RGB_U8),
        build_image_request("mono", image_format=Image.FORMAT_RAW),
        build_image_request("depth")])
    assert rgb.shot.image.pixel_format == Image.PIXEL_FORMAT_RGB_U8
    np.testing.assert_array_equal(np.frombuffer(rgb.shot.image.data, np.uint8).reshape(480, 640, 3), sent["rgb"])
    assert mono.shot.image.pixel_format == Image.PIXEL_FORMAT_GREYSCALE_U8
    np.testing.assert_array_equal(np.frombuffer(mono.shot.image.data, np.uint8).reshape(480, 640), sent["mono"])
    assert (depth.shot.image.format, depth.shot.image.pixel_format) == (Image.FORMAT_RAW, Image.PIXEL_FORMAT_DEPTH_U16)
    np.testing.assert_array_equal(np.frombuffer(depth.shot.image.data, "<u2").reshape(240, 320), sent["depth"])
    for resp in (rgb, mono, depth):
        acq = resp.shot.acquisition_time
        acq_ns = acq.seconds * 1_000_000_000 + acq.nanos
        assert abs(acq_ns - (sent["stamp"] + OFFSET_NS)) <= 5_000_000, (acq_ns - sent["stamp"]) / 1e9


def test_jpeg_colour_and_greyscale_match_by_psnr(rig):
    sent = publish_and_wait(rig)
    colour, grey, mono = rig["tablet"].images.get_image([
        build_image_request("colour", image_format=Image.FORMAT_JPEG, quality_percent=90),
        build_image_request("colour", image_format=Image.FORMAT_JPEG, pixel_format=Image.PIXEL_FORMAT_GREYSCALE_U8),
        build_image_request("mono", image_format=Image.FORMAT_JPEG)])
    assert colour.shot.image.format == Image.FORMAT_JPEG
    decoded = cv2.cvtColor(cv2.imdecode(np.frombuffer(colour.shot.image.data, np.uint8), cv2.IMREAD_COLOR),
                           cv2.COLOR_BGR2RGB)
    assert psnr(decoded, sent["rgb"]) > 35
    g = cv2.imdecode(np.frombuffer(grey.shot.image.data, np.uint8), cv2.IMREAD_UNCHANGED)
    assert g.shape == (480, 640) and psnr(g, sent["mono"]) > 35
    m = cv2.imdecode(np.frombuffer(mono.shot.image.data, np.uint8), cv2.IMREAD_UNCHANGED)
    assert m.shape == (480, 640) and psnr(m, sent["mono"]) > 35


def test_resized_images(rig):
    sent = publish_and_wait(rig)
    raw, jpeg, depth = rig["tablet"].images.get_image([
        build_image_request("colour", image_format=Image.FORMAT_RAW, resize_ratio=0.5),
        build_image_request("colour", image_format=Image.FORMAT_JPEG, resize_ratio=0.25),
        build_image_request("depth", resize_ratio=0.5)])
    assert (raw.shot.image.rows, raw.shot.image.cols) == (240, 320)
    expected = cv2.resize(sent["rgb"], (320, 240), interpolation=cv2.INTER_AREA)
    np.testing.assert_array_equal(np.frombuffer(raw.shot.image.data, np.uint8).reshape(240, 320, 3), expected)
    small = cv2.imdecode(np.frombuffer(jpeg.shot.image.data, np.uint8), cv2.IMREAD_COLOR)
    assert small.shape == (120, 160, 3) and (jpeg.shot.image.rows, jpeg.shot.image.cols) == (120, 160)
    d = np.frombuffer(depth.shot.image.data, "<u2").reshape(120, 160)
    np.testing.assert_array_equal(d, sent["depth"][::2, ::2])  # nearest neighbour: no blended depths
    assert raw.source.rows == 480  # the source keeps its full size


def test_compressed_topic_jpeg_is_served_untouched(rig):
    sent = publish_and_wait(rig, which=("jpeg",))
    jpeg, raw = rig["tablet"].images.get_image([
        build_image_request("colour_jpeg"),
        build_image_request("colour_jpeg", image_format=Image.FORMAT_RAW)])
    assert jpeg.shot.image.data == sent["jpeg"]
    assert psnr(np.frombuffer(raw.shot.image.data, np.uint8).reshape(480, 640, 3), sent["rgb"]) > 35


def test_bad_requests_get_their_status(rig):
    publish_and_wait(rig)
    responses = rig["tablet"].responses([
        build_image_request("no_such_camera"),
        build_image_request("colour", resize_ratio=1.5),
        build_image_request("colour", resize_ratio=-0.5),
        build_image_request("colour", image_format=Image.FORMAT_RLE),
        build_image_request("depth", image_format=Image.FORMAT_JPEG),
        build_image_request("colour", pixel_format=Image.PIXEL_FORMAT_DEPTH_U16),
        build_image_request("depth", pixel_format=Image.PIXEL_FORMAT_RGB_U8),
        build_image_request("mono", image_format=Image.FORMAT_RAW),
    ])
    assert [r.status for r in responses] == [
        ImageResponse.STATUS_UNKNOWN_CAMERA,
        ImageResponse.STATUS_UNSUPPORTED_RESIZE_RATIO_REQUESTED,
        ImageResponse.STATUS_UNSUPPORTED_RESIZE_RATIO_REQUESTED,
        ImageResponse.STATUS_UNSUPPORTED_IMAGE_FORMAT_REQUESTED,
        ImageResponse.STATUS_UNSUPPORTED_IMAGE_FORMAT_REQUESTED,
        ImageResponse.STATUS_UNSUPPORTED_PIXEL_FORMAT_REQUESTED,
        ImageResponse.STATUS_UNSUPPORTED_PIXEL_FORMAT_REQUESTED,
        ImageResponse.STATUS_OK,
    ]


def _mono_fault(sim):
    return [f for f in sim.faults.active()
            if f.fault_id.service_name == SERVICE and f.fault_id.fault_name == "Image Capture Failure for mono"]


def test_stale_source_errors_with_fault_and_recovers(rig):
    sim, tablet = rig["sim"], rig["tablet"]
    publish_and_wait(rig, which=("mono",))
    assert tablet.images.get_image([build_image_request("mono")])[0].status == ImageResponse.STATUS_OK
    time.sleep(1.2)  # stale_after is 1 s
    with pytest.raises(ImageDataError):
        tablet.images.get_image([build_image_request("mono")])
    fault = wait_for(lambda: _mono_fault(sim), 3.0, "the stale-source fault on the robot")[0]
    assert "mono/image_raw" in fault.error_message
    publish_and_wait(rig, which=("mono",))
    assert tablet.images.get_image([build_image_request("mono")])[0].status == ImageResponse.STATUS_OK
    wait_for(lambda: not _mono_fault(sim), 3.0, "the fault to clear")


def test_reregisters_after_robot_restart_and_unregisters_on_shutdown(rig):
    old = rig["sim"]
    port = old.port
    assert old.directory.get(SERVICE) is not None
    old.stop()
    time.sleep(0.3)
    new = SimulatedSpot(port=port, clock_offset_s=100.0, state_dir=rig["state"]).start()
    rig["sim"] = new
    new.write_info(rig["info_file"])
    assert new.directory.get(SERVICE) is None  # a restarted robot has an empty directory
    entry = wait_for(lambda: new.directory.get(SERVICE), 10.0, "re-registration in the new directory")
    assert (entry.type, entry.authority) == ("bosdyn.api.ImageService", f"{SERVICE}.spot.robot")
    tablet = Tablet(new.info)
    try:
        sent = publish_and_wait(rig)
        (resp,) = tablet.images.get_image([build_image_request("colour", image_format=Image.FORMAT_RAW)])
        np.testing.assert_array_equal(np.frombuffer(resp.shot.image.data, np.uint8).reshape(480, 640, 3), sent["rgb"])
        acq = resp.shot.acquisition_time
        assert abs(acq.seconds * 10**9 + acq.nanos - (sent["stamp"] + OFFSET_NS)) <= 5_000_000
    finally:
        tablet.close()
    rig["bridge"].shutdown()
    assert new.directory.get(SERVICE) is None  # unregistered on shutdown
