"""Webcam bridge (node `webcam`): an OpenCV capture source to `sensor_msgs/Image`.

Topics (relative to the node namespace):
- `webcam/image_raw` (`sensor_msgs/Image`, encoding `bgr8`, `rgb8` or `mono8`),
- `webcam/camera_info` (`sensor_msgs/CameraInfo`, same stamp; from `camera_info_url` or an
  uncalibrated one of the image size),
- `webcam/image_raw/compressed` (`sensor_msgs/CompressedImage`, JPEG, when `publish_compressed`).

A capture thread reads frames and stamps them at capture; a publish thread converts and
publishes them in order; when more than `QUEUE_FRAMES` wait, the oldest is dropped and
counted, so a slow consumer never delays capture nor piles up latency. A device that stops delivering is reopened
every `reconnect_interval` s (one warning when it goes, one info line when it is back); a
device that cannot be opened gives one error line (retried quietly). Topics nobody subscribes
to (a recorder counts) are not converted or encoded.
"""

from __future__ import annotations

import collections
import threading
from typing import Any

from ..convert import camera_info as ci
from ..convert import images
from ..ros.node_api import NodeHandle, stamp_from_ns
from ..ros.params import ParamSpec
from ..ros.qos import QoS
from .webcam_capture import (
    TEST_PATTERN,
    CaptureError,
    Frame,
    FrameSource,
    check_video_file,
    missing_camera_fallback,
    open_source,
    read_calibration,
)

NODE_NAME = "webcam"
#: Captured frames waiting for the publish thread; beyond this the oldest is dropped (counted),
#: so a stall of the publisher costs frames, never latency.
QUEUE_FRAMES = 6

PARAMS = [
    ParamSpec("device", "0", "Camera index (\"0\" or 0), /dev/video* or /dev/v4l/by-id/* path, video file, "
              "GStreamer pipeline (contains '!') or \"test_pattern\"", int_as_text=True),
    ParamSpec("loop", False, "Video files: start again at the end (false: stop at the end; the webcam "
              "executable then exits)"),
    ParamSpec("width", 640, "Requested image width in pixels (0: device default)", min=0, max=16384),
    ParamSpec("height", 480, "Requested image height in pixels (0: device default)", min=0, max=16384),
    ParamSpec("fps", 30.0, "Requested frame rate in Hz (video files: playback rate, 0 = file's own)",
              min=0.0, max=1000.0),
    ParamSpec("frame_id", "webcam_optical_frame", "frame_id of images and camera_info (optical frame)"),
    ParamSpec("encoding", "bgr8", "Encoding of image_raw", choices=["bgr8", "rgb8", "mono8"]),
    ParamSpec("camera_info_url", "", "Calibration YAML: file:///path.yaml, package://pkg/path.yaml or a "
              "path; empty: uncalibrated CameraInfo of the image size"),
    ParamSpec("publish_compressed", True, "Also publish image_raw/compressed (JPEG)"),
    ParamSpec("jpeg_quality", 80, "JPEG quality of image_raw/compressed", min=1, max=100),
    ParamSpec("qos", "reliable", "Publisher QoS: reliable (matches every subscriber) or best_effort",
              choices=["reliable", "best_effort", "sensor_data"]),
    ParamSpec("qos_depth", 5, "Publisher queue depth", min=1, max=100),
    ParamSpec("fourcc", "", "Pixel format to ask the device for (e.g. MJPG for 1280x720 at 30 fps "
              "over USB 2); empty: the driver's default"),
    ParamSpec("reconnect_interval", 1.0, "Seconds between attempts to (re)open the device", min=0.05, max=60.0),
]


class WebcamBridge:
    """Capture -> sensor_msgs/Image, CameraInfo and CompressedImage. Threads stop on node shutdown."""

    def __init__(self, node: NodeHandle, source: FrameSource | None = None, exit_at_end: bool = False):
        """`exit_at_end`: the process ends (as on Ctrl-C) when a video file ends without `loop`
        (the `webcam` executable; in a composed process only the capture stops)."""
        self.node = node
        self._exit_at_end = exit_at_end
        self.log = node.get_logger()
        p = node.declare_parameters(PARAMS)
        self.params = p
        self.encoding: str = p["encoding"]
        self.frame_id: str = p["frame_id"]
        self.jpeg_quality: int = p["jpeg_quality"]
        self.reconnect_interval: float = p["reconnect_interval"]
        qos = QoS.parse(p["qos"], depth=p["qos_depth"])
        self.pub_image = node.create_publisher("sensor_msgs/msg/Image", "webcam/image_raw", qos)
        self.pub_info = node.create_publisher("sensor_msgs/msg/CameraInfo", "webcam/camera_info", qos)
        self.pub_compressed = (node.create_publisher("sensor_msgs/msg/CompressedImage",
                                                     "webcam/image_raw/compressed", qos)
                               if p["publish_compressed"] else None)
        self.calibration: dict[str, Any] | None = None
        if p["camera_info_url"]:
            try:
                text, path = read_calibration(p["camera_info_url"])
                self.calibration = ci.calibration_from_yaml(text, source=path)
                self.log.info(f"camera calibration from {path} ({self.calibration['width']}x"
                              f"{self.calibration['height']}, {self.calibration['distortion_model']})")
            except (CaptureError, ci.CameraInfoError) as exc:
                self.log.error(f"{exc}; publishing an uncalibrated camera_info instead")
        self._size_warned = False
        self.loop: bool = p["loop"]
        device = p["device"]
        if source is None:
            check_video_file(device)  # a missing or corrupt file: one line, before anything runs
            fallback = missing_camera_fallback(device)
            if fallback:  # no camera on this machine: one line, then the test pattern
                self.log.info(fallback)
                device = TEST_PATTERN
        self.source = source or open_source(device, p["width"], p["height"], p["fps"], p["fourcc"])
        # statistics
        self.frames_captured = 0
        self.frames_published = 0
        self.frames_dropped = 0     # overwritten before publishing (publisher too slow)
        self.last_error: str | None = None
        self._queue: collections.deque[Frame] = collections.deque()
        self._cv = threading.Condition()
        self._stop = threading.Event()
        self._capture_thread = threading.Thread(target=self._capture_loop, name="webcam-capture", daemon=True)
        self._publish_thread = threading.Thread(target=self._publish_loop, name="webcam-publish", daemon=True)
        node.add_on_shutdown(self.stop)
        self._capture_thread.start()
        self._publish_thread.start()

    # -- lifecycle --------------------------------------------------------------------------
    @property
    def dropped(self) -> int:
        """All frames lost: skipped by the source (late reads) plus overwritten before publishing."""
        return self.frames_dropped + getattr(self.source, "dropped", 0)

    @property
    def running(self) -> bool:
        """True while the capture thread runs: until `stop` or the end of a video file that is not
        looped (a device that stops delivering is reopened meanwhile)."""
        return self._capture_thread.is_alive()

    def stop(self) -> None:
        """Stop capturing and publishing (threads joined, up to 3 s each) and release the source."""
        self._stop.set()
        with self._cv:
            self._cv.notify_all()
        for thread in (self._capture_thread, self._publish_thread):
            if thread is not threading.current_thread():
                thread.join(timeout=3.0)
        self.source.release()
        if self.frames_captured:
            self.log.info(f"webcam stopped: {self.frames_captured} frames captured, {self.frames_published} "
                          f"published, {self.dropped} dropped")

    # -- capture thread ---------------------------------------------------------------------
    def _open(self, first: bool) -> bool:
        try:
            self.source.open()
        except CaptureError as exc:
            if first:
                self.last_error = str(exc)
                self.log.error(f"{exc}; retrying every {self.reconnect_interval:g} s")
            return False
        return True

    def _capture_loop(self) -> None:
        desc = self.source.description
        opened = self._open(first=True)
        if opened:
            self.log.info(f"capturing from {desc}")
        while not self._stop.is_set():
            if not opened:
                if self._stop.wait(self.reconnect_interval):
                    break
                opened = self._open(first=False)
                if opened:
                    self.log.info(f"{desc} is available again; capturing")
                continue
            frame = self.source.read()
            if frame is None:
                if self.source.finished and self.loop:
                    self.source.release()
                    opened = self._open(first=True)
                    continue
                if self.source.finished:
                    self.log.info(f"end of {desc} after {self.frames_captured} frames; capture stopped"
                                  + ("; exiting (loop: false)" if self._exit_at_end else ""))
                    if self._exit_at_end:
                        self._end_process()
                    break
                self.source.release()
                opened = False
                self.log.warning(f"{desc} stopped delivering frames (unplugged?); "
                                 f"reopening every {self.reconnect_interval:g} s")
                continue
            self.frames_captured += 1
            with self._cv:
                if len(self._queue) >= QUEUE_FRAMES:
                    self._queue.popleft()
                    self.frames_dropped += 1
                self._queue.append(frame)
                self._cv.notify()
        with self._cv:
            self._cv.notify_all()

    @staticmethod
    def _end_process() -> None:
        """Stop this process the way Ctrl-C does (nodes shut down cleanly, exit code 0)."""
        import os
        import signal

        os.kill(os.getpid(), signal.SIGINT)

    # -- publish thread ---------------------------------------------------------------------
    def _publish_loop(self) -> None:
        while True:
            with self._cv:
                while not self._queue and not self._stop.is_set() and self._capture_thread.is_alive():
                    self._cv.wait(0.5)
                frame = self._queue.popleft() if self._queue else None
            if frame is None:
                if self._stop.is_set() or not self._capture_thread.is_alive():
                    return
                continue
            try:
                self.publish(frame)
            except Exception as exc:  # noqa: BLE001 - one bad frame must not stop the bridge
                self.log.error(f"webcam: could not publish frame {frame.index}: {type(exc).__name__}: {exc}")

    def publish(self, frame: Frame) -> None:
        """Convert and publish one captured BGR frame on every topic that has subscribers."""
        stamp = stamp_from_ns(frame.stamp_ns)
        make = self.node.msg
        height, width = frame.image.shape[:2]
        want_image = self.pub_image.get_subscription_count() > 0
        want_jpeg = self.pub_compressed is not None and self.pub_compressed.get_subscription_count() > 0
        pixels = None
        if want_image or (want_jpeg and self.encoding == images.MONO8):
            pixels = frame.image if self.encoding == images.BGR8 else \
                images.convert_encoding(frame.image, images.BGR8, self.encoding)
        if want_image:
            self.pub_image.publish(images.image_msg_from_array(make, pixels, self.encoding, stamp, self.frame_id,
                                                               copy=False))  # a fresh frame per capture
        if want_jpeg:
            # as image_transport's compressed publisher: colour is encoded from bgr8, grey from mono8
            jpeg = (images.encode_jpeg(pixels, images.MONO8, self.jpeg_quality) if self.encoding == images.MONO8
                    else images.encode_jpeg(frame.image, images.BGR8, self.jpeg_quality))
            self.pub_compressed.publish(images.compressed_msg_from_jpeg(make, jpeg, self.encoding, stamp,
                                                                        self.frame_id))
        if self.pub_info.get_subscription_count() > 0:
            self.pub_info.publish(self._camera_info(width, height, stamp))
        self.frames_published += 1

    def _camera_info(self, width: int, height: int, stamp: tuple[int, int]) -> Any:
        cal = self.calibration
        if cal is None:
            return ci.empty_camera_info(self.node.msg, width, height, stamp, self.frame_id)
        if (cal["width"], cal["height"]) != (width, height) and not self._size_warned:
            self._size_warned = True
            self.log.warning(f"camera calibration is for {cal['width']}x{cal['height']} but the device "
                             f"delivers {width}x{height}; publishing the calibration unchanged")
        return ci.camera_info_msg(self.node.msg, cal["width"], cal["height"], cal["k"], cal["d"],
                                  cal["distortion_model"], cal["r"], cal["p"], stamp, self.frame_id)


def main(argv: list[str] | None = None) -> int:
    """The `webcam` node executable: run the bridge until shutdown (or the end of a video file);
    the exit code."""
    from ..backends.chooser import run_node
    return run_node(NODE_NAME, lambda node: WebcamBridge(node, exit_at_end=True), argv)


if __name__ == "__main__":
    raise SystemExit(main())
