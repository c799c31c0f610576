"""Protobuf wire encoding of a `GetImageResponse` around image bytes kept outside the message.

Why: a 640x480 RGB image is 921,600 bytes. Putting it into `shot.image.data` copies it into
the message, serializing copies it again, and gRPC copies the result once more. Here the
small parts of each `ImageResponse` (status, source, acquisition time, image geometry...) are
serialized as ordinary messages and the image bytes are appended with hand-written
length-delimited field headers, so the only copy made here is the final `b"".join`.

The output is plain protobuf: every field occurs once (the image's `data` field follows its
other fields, the `image` field follows the capture's other fields, `shot` follows the
response's other fields: field order on the wire is free, see the protobuf encoding guide).
Any parser returns exactly the message a servicer would have built with the data inside;
`test_image_service_wire.py` checks that field for field after parsing.

All functions are pure. Field numbers are those of bosdyn `image.proto` (checked against the
message descriptors at import).
"""

from __future__ import annotations

from bosdyn.api import image_pb2

GetImageResponse = image_pb2.GetImageResponse
ImageResponse = image_pb2.ImageResponse
ImageCapture = image_pb2.ImageCapture

_WIRE_LEN = 2  # wire type of length-delimited fields (bytes, strings, messages)


def _field_number(message_type, name: str) -> int:
    return message_type.DESCRIPTOR.fields_by_name[name].number


# GetImageResponse.header = 1, .image_responses = 2; ImageResponse.shot = 1;
# ImageCapture.image = 3; Image.data = 4 (bosdyn 5.2). Read from the descriptors, not assumed.
HEADER = _field_number(GetImageResponse, "header")
IMAGE_RESPONSES = _field_number(GetImageResponse, "image_responses")
SHOT = _field_number(ImageResponse, "shot")
IMAGE = _field_number(ImageCapture, "image")
DATA = _field_number(image_pb2.Image, "data")


def varint(value: int) -> bytes:
    """Base-128 varint of a non-negative integer (protobuf wire format)."""
    if value < 0:
        raise ValueError(f"varint of a negative value {value}")
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def length_delimited_header(field_number: int, length: int) -> bytes:
    """Key and length of a length-delimited field whose payload is `length` bytes."""
    return varint((field_number << 3) | _WIRE_LEN) + varint(length)


def image_response_parts(response: ImageResponse, data: bytes) -> list[bytes]:
    """Byte strings whose concatenation is `response` serialized with `shot.image.data = data`.

    `response.shot.image.data` must be empty (the data travels separately). Without `data`
    (error statuses) this is just the serialized response. `data` is not copied: it is the
    last element of the list.
    """
    if not data:
        return [response.SerializeToString()]
    if response.shot.image.data:
        raise ValueError("response.shot.image.data must be empty: the data is passed separately")
    image_rest = response.shot.image.SerializeToString()
    shot_rest = ImageCapture()
    shot_rest.CopyFrom(response.shot)
    shot_rest.ClearField("image")
    response_rest = ImageResponse()
    response_rest.CopyFrom(response)
    response_rest.ClearField("shot")
    # innermost first: Image = its fields + data; ImageCapture = its fields + image; ...
    data_head = length_delimited_header(DATA, len(data))
    image_len = len(image_rest) + len(data_head) + len(data)
    image_head = length_delimited_header(IMAGE, image_len)
    shot_rest_bytes = shot_rest.SerializeToString()
    shot_len = len(shot_rest_bytes) + len(image_head) + image_len
    return [response_rest.SerializeToString(), length_delimited_header(SHOT, shot_len),
            shot_rest_bytes, image_head, image_rest, data_head, data]


def encode_get_image_response(response: GetImageResponse, image_data: list[bytes]) -> bytes:
    """Serialized `response` with `image_data[i]` as `image_responses[i].shot.image.data`.

    `response` holds the header and one image response per entry of `image_data` (b"" where
    there is no image), their `shot.image.data` empty.
    """
    if len(image_data) != len(response.image_responses):
        raise ValueError(f"{len(image_data)} data entries for {len(response.image_responses)} image responses")
    parts: list[bytes] = []
    if response.HasField("header"):
        header = response.header.SerializeToString()
        parts += [length_delimited_header(HEADER, len(header)), header]
    for image_response, data in zip(response.image_responses, image_data):
        element = image_response_parts(image_response, data)
        parts.append(length_delimited_header(IMAGE_RESPONSES, sum(map(len, element))))
        parts += element
    return b"".join(parts)
