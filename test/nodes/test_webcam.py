"""nodes/webcam.py + nodes/webcam_capture.py: video file, test pattern, calibration, missing/vanishing devices."""

import logging
import threading
import time

import cv2
import numpy as np
import pytest
from waiting import wait_until

from spot_bow_ros.convert.images import array_from_image_msg
from spot_bow_ros.nodes.webcam import WebcamBridge
from spot_bow_ros.nodes.webcam_capture import Frame, TestPattern, pattern_frame_number
from spot_bow_ros.ros.node_api import stamp_to_ns
from spot_bow_ros.ros.qos import QoS
from spot_bow_ros.standalone.node import InProcessBus, StandaloneNode

DEEP = QoS(depth=1000)


class Topics:
    """Subscribes to the webcam topics and keeps what arrives."""

    def __init__(self, bus):
        self.node = StandaloneNode("listener", bus)
        self.images, self.infos, self.compressed = [], [], []
        self.node.create_subscription("sensor_msgs/msg/Image", "/webcam/image_raw", self.images.append, DEEP)
        self.node.create_subscription("sensor_msgs/msg/CameraInfo", "/webcam/camera_info", self.infos.append, DEEP)
        self.node.create_subscription("sensor_msgs/msg/CompressedImage", "/webcam/image_raw/compressed",
                                      self.compressed.append, DEEP)

    def wait_for(self, n, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if min(len(self.images), len(self.infos)) >= n:
                return True
            time.sleep(0.02)
        return False


@pytest.fixture
def bus():
    bus = InProcessBus()
    nodes = []

    def start(**params):
        node = StandaloneNode("webcam", bus, parameter_overrides=params)
        nodes.append(node)
        return node

    bus.start = start
    yield bus
    for node in nodes:
        node.destroy()


def write_video(path, frames, fps=30.0):
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
    assert writer.isOpened()
    for frame in frames:
        writer.write(frame)
    writer.release()


def test_video_file_every_frame_in_order(tmp_path, bus):
    pattern = TestPattern(320, 240, 30.0)
    frames = [pattern.render(i) for i in range(24)]
    video = tmp_path / "clip.avi"
    write_video(video, frames)
    topics = Topics(bus)
    bridge = WebcamBridge(bus.start(device=str(video), fps=60.0, frame_id="cam_optical", publish_compressed=False))
    assert topics.wait_for(24)
    assert wait_until(lambda: not bridge.running, timeout=30)  # stopped by itself at the end of the file
    assert wait_until(lambda: len(topics.images) >= 24, timeout=30)
    assert len(topics.images) == 24 and bridge.frames_published == 24 and bridge.dropped == 0
    numbers = [pattern_frame_number(array_from_image_msg(m)) for m in topics.images]
    assert numbers == list(range(24))
    for msg in topics.images:
        assert (msg.width, msg.height, msg.encoding, msg.step) == (320, 240, "bgr8", 960)
        assert msg.header.frame_id == "cam_optical"
    stamps = [stamp_to_ns(m.header.stamp) for m in topics.images]
    assert all(b > a for a, b in zip(stamps, stamps[1:]))
    assert stamps[0] <= time.time_ns()
    # played at the requested 60 fps, not as fast as the file decodes
    assert 0.7 * 23 / 60 <= (stamps[-1] - stamps[0]) / 1e9 <= 2.0 * 23 / 60
    # camera_info: same stamps, image size, uncalibrated
    assert [stamp_to_ns(i.header.stamp) for i in topics.infos] == stamps
    assert (topics.infos[0].width, topics.infos[0].height, topics.infos[0].k[0]) == (320, 240, 0.0)
    # pixels survive MJPG closely
    diff = np.abs(array_from_image_msg(topics.images[5]).astype(int) - frames[5].astype(int))
    assert diff.mean() < 6


@pytest.mark.parametrize("encoding,channels", [("mono8", 1), ("rgb8", 3)])
def test_test_pattern_topics(bus, encoding, channels):
    topics = Topics(bus)
    bridge = WebcamBridge(bus.start(device="test_pattern", width=640, height=360, fps=30.0,
                                    encoding=encoding, jpeg_quality=90))
    assert topics.wait_for(15)
    bridge.stop()
    imgs = topics.images
    assert all((m.width, m.height, m.encoding) == (640, 360, encoding) for m in imgs)
    assert imgs[0].step == 640 * channels
    numbers = [pattern_frame_number(array_from_image_msg(m)) for m in imgs]
    assert all(b > a for a, b in zip(numbers, numbers[1:]))
    gaps = sum(b - a - 1 for a, b in zip(numbers, numbers[1:]))
    assert gaps <= bridge.dropped  # a loaded machine may drop a frame; every one is counted
    stamps = [stamp_to_ns(m.header.stamp) for m in imgs]
    assert all(b > a for a, b in zip(stamps, stamps[1:]))
    rate = (numbers[-1] - numbers[0]) / ((stamps[-1] - stamps[0]) / 1e9)
    assert 25 <= rate <= 35
    # pixels are exactly the pattern, in the requested encoding
    code = cv2.COLOR_BGR2GRAY if encoding == "mono8" else cv2.COLOR_BGR2RGB
    pattern = TestPattern(640, 360, 30.0)
    for msg, number in list(zip(imgs, numbers))[:3]:
        np.testing.assert_array_equal(array_from_image_msg(msg), cv2.cvtColor(pattern.render(number), code))
    first = topics.compressed[0]
    assert first.format == f"{encoding}; jpeg compressed {'bgr8' if channels == 3 else 'mono8'}"
    assert stamp_to_ns(first.header.stamp) in stamps
    decoded = cv2.imdecode(np.frombuffer(first.data, np.uint8), cv2.IMREAD_UNCHANGED)
    assert decoded.shape[:2] == (360, 640) and decoded.ndim == (2 if channels == 1 else 3)
    n = pattern_frame_number(decoded)
    expected = pattern.render(n) if channels == 3 else cv2.cvtColor(pattern.render(n), cv2.COLOR_BGR2GRAY)
    assert np.abs(decoded.astype(int) - expected.astype(int)).mean() < 4  # JPEG holds BGR/grey


def test_calibration_file(tmp_path, bus):
    from convert.test_camera_info import CALIBRATION_YAML
    path = tmp_path / "webcam.yaml"
    path.write_text(CALIBRATION_YAML)
    topics = Topics(bus)
    WebcamBridge(bus.start(device="test_pattern", width=640, height=480, camera_info_url=f"file://{path}"))
    assert topics.wait_for(2)
    info = topics.infos[0]
    assert info.distortion_model == "plumb_bob" and info.k[0] == pytest.approx(430.15)
    assert info.header.frame_id == "webcam_optical_frame"
    assert stamp_to_ns(info.header.stamp) == stamp_to_ns(topics.images[0].header.stamp)


def test_missing_device_is_one_clear_error(bus, caplog):
    caplog.set_level(logging.INFO)
    topics = Topics(bus)
    bridge = WebcamBridge(bus.start(device="/dev/video_does_not_exist", reconnect_interval=0.05))
    retries, real_open = [], bridge.source.open

    def counted_open():
        retries.append(time.monotonic())
        return real_open()
    bridge.source.open = counted_open
    assert wait_until(lambda: len(retries) >= 4, 20.0)  # several quiet retries (however slowly they come)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert "cannot open video device '/dev/video_does_not_exist': no such device or file" in errors[0].getMessage()
    assert topics.images == [] and bridge.frames_captured == 0


@pytest.mark.skipif(bool(__import__("glob").glob("/dev/video*")), reason="this machine has a camera")
def test_camera_index_without_any_camera_shows_the_test_pattern_with_one_line(bus, caplog):
    """The policy of `spot-bow-ros run` on every route (`ros2 launch` logged an ERROR per second)."""
    caplog.set_level(logging.INFO)
    topics = Topics(bus)
    bridge = WebcamBridge(bus.start(device="0", width=320, height=240, fps=30.0, reconnect_interval=0.05))
    assert topics.wait_for(5)
    bridge.stop()
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    lines = [r.getMessage() for r in caplog.records if "no camera" in r.getMessage()]
    assert lines == ["no camera at device 0 (no /dev/video*): the webcam bridge shows its test pattern"]
    numbers = [pattern_frame_number(array_from_image_msg(m)) for m in topics.images]
    assert all(b > a for a, b in zip(numbers, numbers[1:])) and topics.images[0].width == 320


def test_bad_calibration_url_is_one_error_and_uncalibrated(bus, caplog, tmp_path):
    caplog.set_level(logging.INFO)
    topics = Topics(bus)
    WebcamBridge(bus.start(device="test_pattern", camera_info_url=str(tmp_path / "none.yaml")))
    assert topics.wait_for(1)
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "cannot read camera calibration" in errors[0]
    assert topics.infos[0].k[0] == 0.0


class FlakyCamera:
    """A device that delivers 5 frames, vanishes for a while (opens fail), then comes back."""

    description = "video device 'flaky'"

    def __init__(self):
        self.dropped, self.finished = 0, False
        self.opens = 0
        self.index = 0
        self.fail_opens = 0

    def open(self):
        from spot_bow_ros.nodes.webcam_capture import CaptureError
        self.opens += 1
        if self.fail_opens:
            self.fail_opens -= 1
            raise CaptureError("cannot open video device 'flaky': gone")

    def read(self):
        time.sleep(0.01)
        if self.index == 5 and self.opens == 1:
            self.fail_opens = 2
            return None
        self.index += 1
        return Frame(np.full((16, 16, 3), self.index, np.uint8), time.time_ns(), self.index)

    def release(self):
        """Nothing to release: frames are generated."""


def test_vanished_device_is_retried_with_clear_log(bus, caplog):
    caplog.set_level(logging.INFO)
    topics = Topics(bus)
    cam = FlakyCamera()
    WebcamBridge(bus.start(reconnect_interval=0.05), source=cam)
    assert topics.wait_for(10, timeout=5)
    assert cam.opens == 4  # first, two failed retries, success
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == ["video device 'flaky' stopped delivering frames (unplugged?); reopening every 0.05 s"]
    assert any("is available again" in r.getMessage() for r in caplog.records)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]  # retries after a vanish are quiet


class BurstCamera:
    """Delivers frames as fast as it can: the publisher (JPEG 1280x720) cannot keep up."""

    description = "burst"

    def __init__(self, n):
        self.n, self.i, self.dropped, self.finished = n, 0, 0, False
        self.image = TestPattern(1280, 720).render(0)

    def open(self):
        """Always available: frames are generated."""

    def read(self):
        if self.i == self.n:
            self.finished = True
            return None
        self.i += 1
        return Frame(self.image, time.time_ns(), self.i)

    def release(self):
        """Nothing to release: frames are generated."""


def test_dropped_frames_are_counted(bus):
    topics = Topics(bus)
    bridge = WebcamBridge(bus.start(jpeg_quality=95), source=BurstCamera(300))
    assert wait_until(lambda: not bridge.running, timeout=60)
    # every captured frame ends published or counted as dropped
    assert wait_until(lambda: bridge.frames_published + bridge.frames_dropped >= 300, timeout=30)
    assert bridge.frames_captured == 300
    assert bridge.frames_dropped > 0
    assert bridge.frames_published + bridge.frames_dropped == 300
    assert len(topics.images) == bridge.frames_published


def test_unsubscribed_topics_are_not_encoded(bus):
    bridge = WebcamBridge(bus.start(device="test_pattern", fps=50.0))
    time.sleep(0.3)
    listener = StandaloneNode("late", bus)
    got = threading.Event()
    listener.create_subscription("sensor_msgs/msg/CompressedImage", "/webcam/image_raw/compressed",
                                 lambda m: got.set(), DEEP)
    assert got.wait(2.0)
    assert bridge.frames_published > 0
    listener.destroy()


def test_video_file_loops_with_loop_true(tmp_path, bus):
    pattern = TestPattern(320, 240, 30.0)
    video = tmp_path / "loop.avi"
    write_video(video, [pattern.render(i) for i in range(5)])
    topics = Topics(bus)
    bridge = WebcamBridge(bus.start(device=str(video), fps=100.0, loop=True, publish_compressed=False))
    assert topics.wait_for(12)          # more frames than the file has: it started again
    assert bridge.running
    numbers = [pattern_frame_number(array_from_image_msg(m)) for m in topics.images[:12]]
    assert numbers[:10] == [0, 1, 2, 3, 4, 0, 1, 2, 3, 4]


def test_device_given_as_an_integer_is_a_camera_index():
    from spot_bow_ros.nodes.webcam import PARAMS

    device = next(spec for spec in PARAMS if spec.name == "device")
    assert device.validate(9) == "9" and device.validate("/dev/video0") == "/dev/video0"
    with pytest.raises(ValueError):
        device.validate(True)


def _webcam_node(*params, timeout=30):
    import os
    import subprocess
    import sys

    args = [sys.executable, "-m", "spot_bow_ros.nodes.webcam", "--ros-args"]
    for param in params:
        args += ["-p", param]
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, PYTHONUNBUFFERED="1"))


def test_webcam_executable_exits_at_the_end_of_a_file(tmp_path):
    video = tmp_path / "short.avi"
    write_video(video, [TestPattern(320, 240, 30.0).render(i) for i in range(10)])
    proc = _webcam_node(f"device:={video}", "fps:=50.0")
    assert proc.returncode == 0, proc.stderr
    assert "end of video file" in proc.stderr and "exiting (loop: false)" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("content, message", [(None, "does not exist"), (b"\x00junk" * 500, "cannot be decoded")])
def test_missing_or_corrupt_video_file_is_one_line(tmp_path, content, message):
    video = tmp_path / "clip.mp4"
    if content is not None:
        video.write_bytes(content)
    proc = _webcam_node(f"device:={video}")
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and str(video) in lines[0], proc.stderr
    assert proc.stdout == ""
