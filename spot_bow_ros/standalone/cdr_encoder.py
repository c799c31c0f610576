"""CDR bytes of the rosbags messages a publisher writes: the serialized path of both backends.

The bridges build messages with the rosbags typestore factory (`standalone.message_store`) on both routes;
this module turns them into CDR (XCDR1, little endian, 4-byte encapsulation header) once:

- the standalone route (`standalone.dds_transport.DdsWriter`) writes `chunks(msg, pad=True)` into Cyclone: the
  pad count in the header options, as XTypes specifies;
- the rclpy route (`backends.rclpy_backend`) hands `encode(msg)` (rosbags' exact bytes, unpadded) to
  rclpy's `Publisher.publish(bytes)` (`rcl_publish_serialized_message`); rmw_cyclonedds pads the
  sample itself, so what goes on the wire is byte-identical to publishing the equivalent rclpy
  message object (test/backends/test_rclpy_backend_serialized.py), without building one field by field in Python
  and converting it again in C (rclpy's per-message cost at 333 Hz joint_states and /tf).

A message whose big uint8[] is followed by single-byte fields only (Image, CompressedImage,
UInt8MultiArray: nothing; PointCloud2: `is_dense`) is encoded as [rosbags head + length, the
caller's buffer, the single-byte fields]: rosbags never copies the pixels or points.

Needs numpy and the `RosbagsMessages` codec only (no Cyclone, no rclpy).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from .message_store import RosbagsMessages

#: CDR bytes: rosbags' `serialize_cdr` result (a memoryview) or a padded copy (a uint8 array).
Cdr = memoryview | npt.NDArray[np.uint8]
#: The buffers `CdrEncoder.chunks` hands back to back (the CDR, or head + length, blob[, tail]).
Chunk = Cdr | bytes | bytearray

#: A trailing uint8[] longer than this (bytes) is not copied through rosbags.
BLOB_MIN_BYTES = 4096
_EMPTY_U8 = np.empty(0, dtype=np.uint8)


def pad_cdr(cdr: Cdr) -> Cdr:
    """CDR bytes padded to a multiple of 4 with the pad count in the header options (XTypes 7.6.3.1.2)."""
    pad = -len(cdr) % 4
    if not pad:
        return cdr
    out = np.zeros(len(cdr) + pad, dtype=np.uint8)
    out[:len(cdr)] = cdr
    out[3] = (out[3] & 0xFC) | pad
    return out


def trailing_uint8_sequence(messages: RosbagsMessages, type_name: str) -> str | None:
    """Name of the last field of `type_name` if it is an unbounded uint8[]/byte[] sequence."""
    from rosbags.interfaces import Nodetype

    fields = messages.typestore.fielddefs[type_name][1]
    if not fields:
        return None
    name, desc = fields[-1]
    kind = desc[0]
    rest: Any = desc[1]  # rosbags' FieldDesc union does not narrow on `kind`
    if kind == Nodetype.SEQUENCE and rest[0][0] == Nodetype.BASE and rest[0][1][0] in ("uint8", "byte") \
            and not rest[1]:
        return name
    return None


#: primitive types of one byte: after a uint8[] they need no alignment padding
_ONE_BYTE = {"bool", "uint8", "int8", "byte", "char", "octet"}


def blob_layout(messages: RosbagsMessages, type_name: str) -> tuple[str, int] | None:
    """(name of the unbounded uint8[]/byte[] field, bytes after it) when every field after it is
    a one-byte primitive (its CDR then follows the blob without padding); None otherwise."""
    from rosbags.interfaces import Nodetype

    tail = 0
    for name, desc in reversed(messages.typestore.fielddefs[type_name][1]):
        kind = desc[0]
        rest: Any = desc[1]  # rosbags' FieldDesc union does not narrow on `kind`
        if kind == Nodetype.BASE and rest[0] in _ONE_BYTE:
            tail += 1
            continue
        if kind == Nodetype.SEQUENCE and rest[0][0] == Nodetype.BASE and rest[0][1][0] in ("uint8", "byte") \
                and not rest[1]:
            return name, tail
        return None
    return None


class CdrEncoder:
    """CDR of messages of one ROS type (`messages`: a `RosbagsMessages`)."""

    def __init__(self, messages: RosbagsMessages, type_name: str):
        self.type_name = messages.resolve(type_name)
        self._serialize = messages.typestore.serialize_cdr
        layout = blob_layout(messages, self.type_name)
        self.blob_field: str | None = None
        self._tail = 0
        if layout is not None:
            self.blob_field, self._tail = layout

    def check(self, msg: Any) -> None:
        """TypeError unless `msg` is a rosbags message of this encoder's type."""
        msgtype = getattr(msg, "__msgtype__", None)
        if msgtype != self.type_name:
            raise TypeError(f"expected {self.type_name}, got {msgtype or type(msg).__name__}")

    def _blob(self, msg: Any) -> npt.NDArray[np.uint8] | None:
        if self.blob_field is None:
            return None
        blob = getattr(msg, self.blob_field)
        if isinstance(blob, np.ndarray) and blob.dtype == np.uint8 and blob.ndim == 1 and len(blob) > BLOB_MIN_BYTES:
            return blob
        return None

    def chunks(self, msg: Any, pad: bool = False) -> tuple[Chunk, ...]:
        """The CDR of `msg` as buffers to be sent back to back: (cdr,) or, for a big uint8[]
        (`blob_layout`), (head + length, the message's own buffer[, the fields after it and
        padding]). `pad`: padded to a multiple of 4 with the pad count in the header options;
        else exactly rosbags' bytes."""
        field, blob = self.blob_field, self._blob(msg)
        if field is None or blob is None:
            cdr = self._serialize(msg, self.type_name)
            return (pad_cdr(cdr) if pad else cdr,)
        head = self._serialize(dataclasses.replace(msg, **{field: _EMPTY_U8}), self.type_name)
        # head: ... the (aligned) uint32 length 0 of the empty blob, then `_tail` one-byte fields
        cut = len(head) - self._tail - 4
        padding = -(len(head) + len(blob)) % 4 if pad else 0
        prefix = bytearray(head[:cut].tobytes())
        if padding:
            prefix[3] = (prefix[3] & 0xFC) | padding
        prefix += len(blob).to_bytes(4, "little")
        end = head[cut + 4:].tobytes() + b"\0" * padding
        blob = np.ascontiguousarray(blob)
        return (prefix, blob, end) if end else (prefix, blob)

    def encode(self, msg: Any) -> bytes:
        """rosbags' CDR bytes of `msg` (unpadded) as one `bytes` object (one copy of a blob)."""
        self.check(msg)
        parts = self.chunks(msg)
        if len(parts) == 1:
            return bytes(parts[0])
        # numpy declares ndarray.__buffer__ only for Python >= 3.12 (mypy checks as 3.10)
        return b"".join(parts)  # type: ignore[arg-type]
