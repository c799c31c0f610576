"""Unit tests of spot/image_service.py and spot/image_service_frames.py.

Request validation, frame ingestion (no copy), rendering and its cache, and the servicer
driven by bosdyn's real `ImageClient` over a plain channel to 127.0.0.1 (no robot).
"""

from __future__ import annotations

import math

import cv2
import grpc
import numpy as np
import pytest
from bosdyn.api import image_pb2
from bosdyn.client.image import (
    ImageClient,
    ImageDataError,
    ImageResponseError,
    UnknownImageSourceError,
    build_image_request,
)

from spot_bow_ros.spot import image_service_frames as frames
from spot_bow_ros.spot.image_service import ImageServiceServer, LatestFrameCamera, RosImageServicer, resolve_request
from spot_bow_ros.standalone.message_store import messages_for

Image = image_pb2.Image
ImageResponse = image_pb2.ImageResponse
MAKE = messages_for("humble").make


def image_msg(arr: np.ndarray, encoding: str, stamp_ns: int = 1_700_000_000_123_456_789,
              step: int | None = None, bigendian: bool = False, frame_id: str = "cam"):
    rows, cols = arr.shape[:2]
    data = arr.tobytes()
    if step is not None:  # pad rows
        row = arr.reshape(rows, -1).view(np.uint8)
        padded = np.zeros((rows, step), np.uint8)
        padded[:, :row.shape[1]] = row
        data = padded.tobytes()
    sec, nsec = divmod(stamp_ns, 1_000_000_000)
    return MAKE("sensor_msgs/msg/Image",
                header=MAKE("std_msgs/msg/Header", stamp=MAKE("builtin_interfaces/msg/Time", sec=sec, nanosec=nsec),
                            frame_id=frame_id),
                height=rows, width=cols, encoding=encoding, is_bigendian=int(bigendian),
                step=step or (len(data) // rows), data=np.frombuffer(data, np.uint8))


def compressed_msg(data: bytes, fmt: str = "bgr8; jpeg compressed bgr8", stamp_ns: int = 5_000_000_000):
    sec, nsec = divmod(stamp_ns, 1_000_000_000)
    return MAKE("sensor_msgs/msg/CompressedImage",
                header=MAKE("std_msgs/msg/Header", stamp=MAKE("builtin_interfaces/msg/Time", sec=sec, nanosec=nsec)),
                format=fmt, data=np.frombuffer(data, np.uint8))


def pattern(rows=48, cols=64) -> np.ndarray:
    """Smooth RGB gradient (JPEG-friendly), R varies with x, G with y, B constant."""
    y, x = np.mgrid[0:rows, 0:cols]
    return np.stack([(x * 255 // (cols - 1)), (y * 255 // (rows - 1)), np.full_like(x, 90)],
                    axis=-1).astype(np.uint8)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return math.inf if mse == 0 else 10 * math.log10(255.0 ** 2 / mse)


# -- request validation ---------------------------------------------------------------------

def req(**kw) -> image_pb2.ImageRequest:
    return image_pb2.ImageRequest(image_source_name="s", **kw)


def test_resolve_defaults_for_visual_and_depth():
    r = resolve_request(req(), "bgr8", default_quality=60)
    assert (r.image_format, r.pixel_format, r.quality, r.resize_ratio) == (
        Image.FORMAT_JPEG, Image.PIXEL_FORMAT_RGB_U8, 60, 1.0)
    assert resolve_request(req(), "mono8", 60).pixel_format == Image.PIXEL_FORMAT_GREYSCALE_U8
    d = resolve_request(req(), "depth16", 60)
    assert (d.image_format, d.pixel_format) == (Image.FORMAT_RAW, Image.PIXEL_FORMAT_DEPTH_U16)


@pytest.mark.parametrize("ratio", [-0.5, 1.0001, 2.0, float("nan"), float("inf")])
def test_resize_ratio_outside_range_is_rejected(ratio):
    with pytest.raises(Exception) as info:
        resolve_request(req(resize_ratio=ratio), "rgb8", 75)
    assert info.value.status == ImageResponse.STATUS_UNSUPPORTED_RESIZE_RATIO_REQUESTED


def test_resize_ratio_zero_means_unset_and_one_is_allowed():
    assert resolve_request(req(resize_ratio=0.0), "rgb8", 75).resize_ratio == 1.0
    assert resolve_request(req(resize_ratio=1.0), "rgb8", 75).resize_ratio == 1.0
    assert resolve_request(req(resize_ratio=0.25), "rgb8", 75).resize_ratio == 0.25


@pytest.mark.parametrize("layout,kw,status", [
    ("depth16", dict(image_format=Image.FORMAT_JPEG), ImageResponse.STATUS_UNSUPPORTED_IMAGE_FORMAT_REQUESTED),
    ("rgb8", dict(image_format=Image.FORMAT_RLE), ImageResponse.STATUS_UNSUPPORTED_IMAGE_FORMAT_REQUESTED),
    ("rgb8", dict(image_format=77), ImageResponse.STATUS_UNSUPPORTED_IMAGE_FORMAT_REQUESTED),
    ("rgb8", dict(pixel_format=Image.PIXEL_FORMAT_DEPTH_U16), ImageResponse.STATUS_UNSUPPORTED_PIXEL_FORMAT_REQUESTED),
    ("rgb8", dict(pixel_format=Image.PIXEL_FORMAT_RGBA_U8), ImageResponse.STATUS_UNSUPPORTED_PIXEL_FORMAT_REQUESTED),
    ("depth16", dict(pixel_format=Image.PIXEL_FORMAT_RGB_U8), ImageResponse.STATUS_UNSUPPORTED_PIXEL_FORMAT_REQUESTED),
])
def test_unsupported_formats_get_their_status(layout, kw, status):
    with pytest.raises(Exception) as info:
        resolve_request(req(**kw), layout, 75)
    assert info.value.status == status


def test_fallback_pixel_format_and_quality_bounds():
    r = resolve_request(req(pixel_format=Image.PIXEL_FORMAT_RGBA_U8,
                            fallback_formats=[Image.PIXEL_FORMAT_DEPTH_U16, Image.PIXEL_FORMAT_GREYSCALE_U8]),
                        "rgb8", 75)
    assert r.pixel_format == Image.PIXEL_FORMAT_GREYSCALE_U8
    assert resolve_request(req(quality_percent=150), "rgb8", 75).quality == 100
    assert resolve_request(req(quality_percent=-3), "rgb8", 75).quality == 75
    assert resolve_request(req(quality_percent=42.4), "rgb8", 75).quality == 42


# -- frames -----------------------------------------------------------------------------------

def test_frame_is_a_view_of_the_message_data():
    arr = pattern()
    msg = image_msg(arr, "rgb8")
    frame = frames.frame_from_image(msg, received_s=1.0)
    assert np.shares_memory(frame.pixels, msg.data)
    assert (frame.rows, frame.cols, frame.layout, frame.frame_id) == (48, 64, "rgb8", "cam")
    assert frame.stamp_ns == 1_700_000_000_123_456_789
    np.testing.assert_array_equal(frame.pixels, arr)


def test_padded_rows_and_big_endian_depth():
    arr = pattern()
    frame = frames.frame_from_image(image_msg(arr, "rgb8", step=64 * 3 + 8), 0.0)
    np.testing.assert_array_equal(frame.pixels, arr)
    depth = (np.arange(12 * 10, dtype=np.uint16).reshape(12, 10) * 300)
    msg = image_msg(depth.astype(">u2"), "16UC1", bigendian=True)
    frame = frames.frame_from_image(msg, 0.0)
    np.testing.assert_array_equal(frame.pixels, depth)
    out = frames.render(frame, frames.RenderRequest(Image.FORMAT_RAW, Image.PIXEL_FORMAT_DEPTH_U16, 75, 1.0))
    np.testing.assert_array_equal(np.frombuffer(out.data, "<u2").reshape(12, 10), depth)


def test_32fc1_metres_become_millimetres():
    m = np.array([[0.5, 1.2344, np.nan], [-1.0, 70.0, 0.001]], np.float32)
    frame = frames.frame_from_image(image_msg(m, "32FC1"), 0.0)
    assert frame.layout == "depth16"
    np.testing.assert_array_equal(frame.pixels, [[500, 1234, 0], [0, 65535, 1]])


@pytest.mark.parametrize("mutate,error", [
    (dict(encoding="yuv422"), frames.UnsupportedEncodingError),
    (dict(step=10), frames.MalformedImageError),
    (dict(height=100), frames.MalformedImageError),
    (dict(width=0), frames.MalformedImageError),
])
def test_bad_image_messages_raise_specific_errors(mutate, error):
    msg = image_msg(pattern(), "rgb8")
    for k, v in mutate.items():
        setattr(msg, k, v)
    with pytest.raises(error):
        frames.frame_from_image(msg, 0.0)


def test_compressed_frames_parse_geometry_without_decoding():
    bgr = cv2.cvtColor(pattern(), cv2.COLOR_RGB2BGR)
    jpeg = cv2.imencode(".jpg", bgr)[1].tobytes()
    frame = frames.frame_from_compressed(compressed_msg(jpeg), 0.0)
    assert (frame.rows, frame.cols, frame.layout, frame.pixels) == (48, 64, "bgr8", None)
    grey_jpeg = cv2.imencode(".jpg", bgr[:, :, 0])[1].tobytes()
    assert frames.frame_from_compressed(compressed_msg(grey_jpeg), 0.0).layout == "mono8"
    png16 = cv2.imencode(".png", np.full((6, 7), 1234, np.uint16))[1].tobytes()
    depth = frames.frame_from_compressed(compressed_msg(b"\0" * 12 + png16, "16UC1; compressedDepth png"), 0.0)
    assert (depth.rows, depth.cols, depth.layout) == (6, 7, "depth16")
    with pytest.raises(frames.UnsupportedEncodingError):
        frames.frame_from_compressed(compressed_msg(b"not an image at all"), 0.0)


def test_render_raw_rgb_and_grey_exact_and_cached():
    arr = pattern()
    frame = frames.frame_from_image(image_msg(cv2.cvtColor(arr, cv2.COLOR_RGB2BGR), "bgr8"), 0.0)
    raw = frames.RenderRequest(Image.FORMAT_RAW, Image.PIXEL_FORMAT_RGB_U8, 75, 1.0)
    out = frames.render(frame, raw)
    np.testing.assert_array_equal(np.frombuffer(out.data, np.uint8).reshape(48, 64, 3), arr)
    assert frames.render(frame, raw) is out  # cached per frame + request
    grey = frames.render(frame, frames.RenderRequest(Image.FORMAT_RAW, Image.PIXEL_FORMAT_GREYSCALE_U8, 75, 1.0))
    np.testing.assert_array_equal(np.frombuffer(grey.data, np.uint8).reshape(48, 64),
                                  cv2.cvtColor(arr, cv2.COLOR_RGB2GRAY))


def test_jpeg_cache_is_per_quality_and_resize_changes_size():
    frame = frames.frame_from_image(image_msg(pattern(96, 128), "rgb8"), 0.0)
    q90 = frames.render(frame, frames.RenderRequest(Image.FORMAT_JPEG, Image.PIXEL_FORMAT_RGB_U8, 90, 1.0))
    q20 = frames.render(frame, frames.RenderRequest(Image.FORMAT_JPEG, Image.PIXEL_FORMAT_RGB_U8, 20, 1.0))
    assert len(q20.data) < len(q90.data)
    assert frames.render(frame, frames.RenderRequest(Image.FORMAT_JPEG, Image.PIXEL_FORMAT_RGB_U8, 90, 1.0)) is q90
    decoded = cv2.cvtColor(cv2.imdecode(np.frombuffer(q90.data, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    assert psnr(decoded, pattern(96, 128)) > 35
    half = frames.render(frame, frames.RenderRequest(Image.FORMAT_RAW, Image.PIXEL_FORMAT_RGB_U8, 75, 0.5))
    assert (half.rows, half.cols, len(half.data)) == (48, 64, 48 * 64 * 3)
    # a new frame has its own cache: nothing stale is served
    frame2 = frames.frame_from_image(image_msg(255 - pattern(96, 128), "rgb8"), 0.0)
    assert frames.render(frame2, frames.RenderRequest(Image.FORMAT_JPEG, Image.PIXEL_FORMAT_RGB_U8, 90, 1.0)).data != q90.data


def test_jpeg_passthrough_only_when_the_request_allows_it():
    bgr = cv2.cvtColor(pattern(), cv2.COLOR_RGB2BGR)
    jpeg = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes()
    frame = frames.frame_from_compressed(compressed_msg(jpeg), 0.0)
    same = frames.render(frame, frames.RenderRequest(Image.FORMAT_JPEG, Image.PIXEL_FORMAT_RGB_U8, 75, 1.0))
    assert same.passthrough and same.data == jpeg and frame.pixels is None  # never decoded
    small = frames.render(frame, frames.RenderRequest(Image.FORMAT_JPEG, Image.PIXEL_FORMAT_RGB_U8, 75, 0.5))
    assert not small.passthrough and (small.rows, small.cols) == (24, 32)
    raw = frames.render(frame, frames.RenderRequest(Image.FORMAT_RAW, Image.PIXEL_FORMAT_RGB_U8, 75, 1.0))
    assert psnr(np.frombuffer(raw.data, np.uint8).reshape(48, 64, 3), pattern()) > 35
    grey = frames.render(frame, frames.RenderRequest(Image.FORMAT_JPEG, Image.PIXEL_FORMAT_GREYSCALE_U8, 75, 1.0))
    assert not grey.passthrough
    assert cv2.imdecode(np.frombuffer(grey.data, np.uint8), cv2.IMREAD_UNCHANGED).ndim == 2


# -- the servicer through bosdyn's ImageClient --------------------------------------------------

def get_responses(client: ImageClient, requests) -> list:
    """Image responses of one GetImage call; ImageClient raises on the first non-OK status,
    the exception carries the whole response."""
    try:
        return list(client.get_image(requests))
    except ImageResponseError as exc:
        return list(exc.response.image_responses)


class FakeClock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


class RecordingFaultClient:
    """Stands in for bosdyn's FaultClient: records what the sources raise and clear."""

    def __init__(self):
        self.active: dict[str, str] = {}
        self.log: list[tuple[str, str]] = []

    def trigger_service_fault(self, fault, **kw):
        self.active[fault.fault_id.fault_name] = fault.error_message
        self.log.append(("trigger", fault.fault_id.fault_name))

    def clear_service_fault(self, fault_id, clear_all_service_faults=False, **kw):
        self.log.append(("clear", fault_id.fault_name or f"all:{fault_id.service_name}"))
        if clear_all_service_faults:
            self.active.clear()
        else:
            self.active.pop(fault_id.fault_name, None)


@pytest.fixture
def service():
    clock = FakeClock()
    cams = [LatestFrameCamera("colour", "cam/image_raw", stale_after_s=2.0, default_quality=80, clock=clock),
            LatestFrameCamera("depth", "cam/depth", stale_after_s=0.0, clock=clock)]
    faults = RecordingFaultClient()
    offset_ns = 100_000_000_000
    servicer = RosImageServicer("ros-image-service", cams, local_to_robot_ns=lambda t: t + offset_ns,
                                fault_client=faults, watch_period_s=3600)
    server = ImageServiceServer(servicer, "127.0.0.1", 0)
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    client = ImageClient()
    client.channel = channel
    yield servicer, client, clock, faults
    channel.close()
    server.stop(0)


def test_list_sources_reports_latest_geometry_and_formats(service):
    servicer, client, clock, _ = service
    before = {s.name: s for s in client.list_image_sources()}
    assert set(before) == {"colour", "depth"} and before["colour"].rows == 0
    servicer.push("colour", frames.frame_from_image(image_msg(pattern(), "rgb8"), clock()))
    servicer.push("depth", frames.frame_from_image(image_msg(np.ones((24, 32), np.uint16), "16UC1"), clock()))
    listed = {s.name: s for s in client.list_image_sources()}
    assert (listed["colour"].rows, listed["colour"].cols) == (48, 64)
    assert list(listed["colour"].image_formats) == [Image.FORMAT_JPEG, Image.FORMAT_RAW]
    assert set(listed["colour"].pixel_formats) == {Image.PIXEL_FORMAT_RGB_U8, Image.PIXEL_FORMAT_GREYSCALE_U8}
    d = listed["depth"]
    assert (d.rows, d.cols, d.image_type, list(d.image_formats), list(d.pixel_formats), d.depth_scale) == (
        24, 32, image_pb2.ImageSource.IMAGE_TYPE_DEPTH, [Image.FORMAT_RAW], [Image.PIXEL_FORMAT_DEPTH_U16], 1000.0)


def test_get_image_raw_exact_with_robot_acquisition_time(service):
    servicer, client, clock, _ = service
    stamp = 1_700_000_000_123_456_789
    servicer.push("colour", frames.frame_from_image(image_msg(pattern(), "rgb8", stamp_ns=stamp), clock()))
    (resp,) = client.get_image([build_image_request("colour", image_format=Image.FORMAT_RAW,
                                                    pixel_format=Image.PIXEL_FORMAT_RGB_U8)])
    assert resp.status == ImageResponse.STATUS_OK
    img = resp.shot.image
    assert (img.rows, img.cols, img.format, img.pixel_format) == (48, 64, Image.FORMAT_RAW, Image.PIXEL_FORMAT_RGB_U8)
    np.testing.assert_array_equal(np.frombuffer(img.data, np.uint8).reshape(48, 64, 3), pattern())
    acq = resp.shot.acquisition_time
    assert acq.seconds * 1_000_000_000 + acq.nanos == stamp + 100_000_000_000
    (jpeg,) = client.get_image([build_image_request("colour")])  # JPEG by default, quality 75 from the client
    assert jpeg.status == ImageResponse.STATUS_OK and jpeg.shot.image.format == Image.FORMAT_JPEG


def test_bad_requests_get_per_image_status_in_one_batch(service):
    servicer, client, clock, _ = service
    servicer.push("colour", frames.frame_from_image(image_msg(pattern(), "rgb8"), clock()))
    servicer.push("depth", frames.frame_from_image(image_msg(np.ones((24, 32), np.uint16), "16UC1"), clock()))
    custom = image_pb2.ImageRequest(image_source_name="colour")
    custom.custom_params.values["gain"].double_value.value = 2.0
    with pytest.raises(UnknownImageSourceError):
        client.get_image([build_image_request("nope")])
    responses = get_responses(client, [
        build_image_request("nope"),
        build_image_request("colour", resize_ratio=1.5),
        build_image_request("colour", resize_ratio=-1.0),
        build_image_request("colour", image_format=Image.FORMAT_RLE),
        build_image_request("depth", image_format=Image.FORMAT_JPEG),
        build_image_request("colour", pixel_format=Image.PIXEL_FORMAT_DEPTH_U16),
        custom,
        build_image_request("colour", resize_ratio=0.5, pixel_format=Image.PIXEL_FORMAT_GREYSCALE_U8),
    ])
    assert [r.status for r in responses] == [
        ImageResponse.STATUS_UNKNOWN_CAMERA,
        ImageResponse.STATUS_UNSUPPORTED_RESIZE_RATIO_REQUESTED,
        ImageResponse.STATUS_UNSUPPORTED_RESIZE_RATIO_REQUESTED,
        ImageResponse.STATUS_UNSUPPORTED_IMAGE_FORMAT_REQUESTED,
        ImageResponse.STATUS_UNSUPPORTED_IMAGE_FORMAT_REQUESTED,
        ImageResponse.STATUS_UNSUPPORTED_PIXEL_FORMAT_REQUESTED,
        ImageResponse.STATUS_CUSTOM_PARAMS_ERROR,
        ImageResponse.STATUS_OK,
    ]
    assert (responses[-1].shot.image.rows, responses[-1].shot.image.cols) == (24, 32)
    assert not responses[1].shot.image.data


def test_stale_source_errors_raises_fault_and_recovers(service):
    servicer, client, clock, faults = service
    servicer.start()
    try:
        servicer.push("colour", frames.frame_from_image(image_msg(pattern(), "rgb8"), clock()))
        clock.t += 1.9
        servicer.check_stale()
        assert client.get_image([build_image_request("colour")])[0].status == ImageResponse.STATUS_OK
        assert not faults.active
        clock.t += 0.2  # 2.1 s without a frame
        with pytest.raises(ImageDataError):
            client.get_image([build_image_request("colour")])
        (stale,) = get_responses(client, [build_image_request("colour")])
        assert stale.status == ImageResponse.STATUS_IMAGE_DATA_ERROR and not stale.shot.image.data
        servicer.check_stale()
        servicer.check_stale()  # raised once, not per check
        assert list(faults.active) == ["Image Capture Failure for colour"]
        assert [e for e in faults.log if e[0] == "trigger"] == [("trigger", "Image Capture Failure for colour")]
        servicer.push("colour", frames.frame_from_image(image_msg(pattern(), "rgb8"), clock()))
        assert client.get_image([build_image_request("colour")])[0].status == ImageResponse.STATUS_OK
        servicer.check_stale()
        assert not faults.active and faults.log[-1] == ("clear", "Image Capture Failure for colour")
    finally:
        servicer.stop()


def test_source_without_frames_answers_image_data_error(service):
    servicer, client, clock, _ = service
    (resp,) = get_responses(client, [build_image_request("colour")])
    assert resp.status == ImageResponse.STATUS_IMAGE_DATA_ERROR
    assert resp.source.name == "colour"


def test_internal_error_is_a_status_not_a_trace(service, monkeypatch):
    servicer, client, clock, _ = service
    servicer.push("colour", frames.frame_from_image(image_msg(pattern(), "rgb8"), clock()))

    def broken(*a, **k):
        raise TypeError("bug in the encoder")

    monkeypatch.setattr("spot_bow_ros.spot.image_service.render", broken)
    (resp,) = get_responses(client, [build_image_request("colour", image_format=Image.FORMAT_RAW)])
    assert resp.status == ImageResponse.STATUS_IMAGE_DATA_ERROR
