"""Tests of spot/image_service_wire.py and of the servicer's pre-serialized GetImage answer.

The wire path must produce exactly the message the protobuf path builds (after parsing), the
image bytes equal to the published frame, for every mix of statuses.
"""

from __future__ import annotations

import grpc
import numpy as np
import pytest
from bosdyn.api import header_pb2, image_pb2
from bosdyn.client.image import ImageClient, build_image_request

from spot.test_image_service import image_msg, pattern
from spot_bow_ros.spot import image_service_frames as frames
from spot_bow_ros.spot.image_service import ImageServiceServer, LatestFrameCamera, RosImageServicer
from spot_bow_ros.spot.image_service_wire import (
    DATA,
    encode_get_image_response,
    image_response_parts,
    length_delimited_header,
    varint,
)

Image = image_pb2.Image
ImageResponse = image_pb2.ImageResponse
GetImageResponse = image_pb2.GetImageResponse
OFFSET_NS = 100_000_000_000


@pytest.mark.parametrize("size", [1, 127, 128, 300, 16383, 16384, 921_600, 2**21 + 5])
def test_length_delimited_header_is_what_protobuf_writes(size):
    data = bytes(range(256)) * (size // 256) + bytes(size % 256)
    assert length_delimited_header(DATA, size) + data == Image(data=data).SerializeToString()


def test_varint_edges():
    assert [varint(v) for v in (0, 1, 127, 128, 16384)] == [b"\x00", b"\x01", b"\x7f", b"\x80\x01", b"\x80\x80\x01"]
    with pytest.raises(ValueError):
        varint(-1)


def full_response(data: bytes, source: str = "cam") -> ImageResponse:
    """An OK ImageResponse with every kind of field the servicer sets, and `data`."""
    response = ImageResponse(status=ImageResponse.STATUS_OK)
    response.source.name = source
    response.source.rows, response.source.cols = 48, 64
    shot = response.shot
    shot.acquisition_time.seconds, shot.acquisition_time.nanos = 1_700_000_100, 123_456_789
    shot.frame_name_image_sensor = "cam_optical"
    shot.capture_params.exposure_duration.nanos = 5_000_000
    shot.image.rows, shot.image.cols = 48, 64
    shot.image.format, shot.image.pixel_format = Image.FORMAT_RAW, Image.PIXEL_FORMAT_RGB_U8
    shot.image.data = data
    return response


def test_image_response_parts_parse_to_the_full_message_without_copying_data():
    data = pattern().tobytes()
    expected = full_response(data)
    without = full_response(b"")
    parts = image_response_parts(without, data)
    assert parts[-1] is data  # appended, not copied
    assert ImageResponse.FromString(b"".join(parts)) == expected


def test_image_response_parts_of_error_is_the_plain_message():
    error = ImageResponse(status=ImageResponse.STATUS_UNKNOWN_CAMERA)
    error.source.name = "nope"
    assert image_response_parts(error, b"") == [error.SerializeToString()]
    with pytest.raises(ValueError):
        image_response_parts(full_response(b"already"), b"more")


def test_encode_get_image_response_mixed_statuses():
    first, second = pattern().tobytes(), np.arange(24 * 32, dtype="<u2").tobytes()
    response = GetImageResponse()
    response.header.error.code = header_pb2.CommonError.CODE_OK
    response.header.request_received_timestamp.seconds = 42
    response.image_responses.add().CopyFrom(full_response(b"", "a"))
    response.image_responses.add(status=ImageResponse.STATUS_UNKNOWN_CAMERA).source.name = "nope"
    response.image_responses.add().CopyFrom(full_response(b"", "b"))
    wire = encode_get_image_response(response, [first, b"", second])
    expected = GetImageResponse()
    expected.CopyFrom(response)
    expected.image_responses[0].shot.image.data = first
    expected.image_responses[2].shot.image.data = second
    assert GetImageResponse.FromString(wire) == expected
    with pytest.raises(ValueError):
        encode_get_image_response(response, [first])


# -- the servicer: wire answer == message answer -------------------------------------------

@pytest.fixture
def servicer():
    cams = [LatestFrameCamera("colour", "cam/image_raw", stale_after_s=0.0, default_quality=80),
            LatestFrameCamera("depth", "cam/depth", stale_after_s=0.0)]
    servicer = RosImageServicer("ros-image-service", cams, local_to_robot_ns=lambda t: t + OFFSET_NS)
    servicer.push("colour", frames.frame_from_image(image_msg(pattern(), "rgb8", stamp_ns=7_000_000_123), 0.0))
    depth = (np.arange(24 * 32, dtype=np.uint16) * 37).reshape(24, 32)
    servicer.push("depth", frames.frame_from_image(image_msg(depth, "16UC1"), 0.0))
    return servicer, depth


def test_wire_answer_equals_message_answer(servicer):
    servicer, depth = servicer
    request = image_pb2.GetImageRequest(image_requests=[
        build_image_request("colour", image_format=Image.FORMAT_RAW, pixel_format=Image.PIXEL_FORMAT_RGB_U8),
        build_image_request("colour", image_format=Image.FORMAT_JPEG, quality_percent=90),
        build_image_request("nope"),
        build_image_request("colour", image_format=Image.FORMAT_RAW, pixel_format=Image.PIXEL_FORMAT_GREYSCALE_U8,
                            resize_ratio=0.5),
        build_image_request("colour", resize_ratio=1.5),
        build_image_request("depth", image_format=Image.FORMAT_RAW),
    ])
    wire = GetImageResponse.FromString(servicer.get_image_wire(request, None))
    message = servicer.GetImage(request, None)
    assert wire.header.error.code == message.header.error.code == header_pb2.CommonError.CODE_OK
    assert list(wire.image_responses) == list(message.image_responses)  # every field, data included
    statuses = [r.status for r in wire.image_responses]
    assert statuses == [ImageResponse.STATUS_OK, ImageResponse.STATUS_OK, ImageResponse.STATUS_UNKNOWN_CAMERA,
                        ImageResponse.STATUS_OK, ImageResponse.STATUS_UNSUPPORTED_RESIZE_RATIO_REQUESTED,
                        ImageResponse.STATUS_OK]
    raw = wire.image_responses[0].shot
    assert raw.image.data == pattern().tobytes()
    assert raw.acquisition_time.seconds * 10**9 + raw.acquisition_time.nanos == 7_000_000_123 + OFFSET_NS
    assert wire.image_responses[5].shot.image.data == depth.astype("<u2").tobytes()
    assert (wire.image_responses[3].shot.image.rows, wire.image_responses[3].shot.image.cols) == (24, 32)


def test_server_serves_exact_raw_bytes_of_several_sources_in_one_call(servicer):
    servicer, depth = servicer
    server = ImageServiceServer(servicer, "127.0.0.1", 0)
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    client = ImageClient()
    client.channel = channel
    try:
        colour, dep = client.get_image([
            build_image_request("colour", image_format=Image.FORMAT_RAW, pixel_format=Image.PIXEL_FORMAT_RGB_U8),
            build_image_request("depth", image_format=Image.FORMAT_RAW)])
        assert colour.shot.image.data == pattern().tobytes()
        assert (colour.shot.image.rows, colour.shot.image.cols) == (48, 64)
        assert np.array_equal(np.frombuffer(dep.shot.image.data, "<u2").reshape(24, 32), depth)
        assert dep.shot.image.pixel_format == Image.PIXEL_FORMAT_DEPTH_U16
        assert {s.name for s in client.list_image_sources()} == {"colour", "depth"}
    finally:
        channel.close()
        server.stop(0)
