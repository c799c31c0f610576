"""ROS 2 <-> DDS naming and IDL structs, as `rmw_cyclonedds_cpp` puts ROS on the wire.

- topic `/foo/bar` travels as DDS topic `rt/foo/bar`;
- type `sensor_msgs/msg/Image` as DDS type `sensor_msgs::msg::dds_::Image_` (final, XCDR1).

The IDL structs built here exist for type matching and discovery only (their names and member
layout are what a ROS 2 peer expects); payloads are encoded with `rosbags`' CDR codec, which is
byte-identical and ~1000x faster than Cyclone's Python serializer for images.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from cyclonedds.idl import IdlStruct, make_idl_struct
from cyclonedds.idl import types as T

from ..ros.names import normalize_type_name
from .message_store import Nodetype  # rosbags' (messages says what to install when it is missing)

if TYPE_CHECKING:
    from rosbags.interfaces.typing import FieldDesc

#: DDS topic prefix for ROS topics (rmw: `ros_topic_prefix`).
TOPIC_PREFIX = "rt"

_BASE = {
    "bool": bool, "byte": T.byte, "char": T.uint8, "int8": T.int8, "uint8": T.uint8,
    "int16": T.int16, "uint16": T.uint16, "int32": T.int32, "uint32": T.uint32,
    "int64": T.int64, "uint64": T.uint64, "float32": T.float32, "float64": T.float64,
}


def dds_topic_name(ros_topic: str) -> str:
    """`/foo/bar` -> `rt/foo/bar` (the topic must be fully qualified)."""
    if not ros_topic.startswith("/"):
        raise ValueError(f"topic {ros_topic!r} is not fully qualified")
    return TOPIC_PREFIX + ros_topic


def ros_topic_name(dds_topic: str) -> str | None:
    """`rt/foo/bar` -> `/foo/bar`; None for DDS topics that are not ROS topics (services, ...)."""
    prefix = TOPIC_PREFIX + "/"
    if dds_topic.startswith(prefix):
        return dds_topic[len(TOPIC_PREFIX):]
    return None


def ros_service_name(dds_topic: str, dds_type: str) -> tuple[str, str] | None:
    """(`/foo`, `pkg/srv/Srv`) of a service's reply topic `rr/fooReply` of type
    `pkg::srv::dds_::Srv_Response_`; None for anything else."""
    if not (dds_topic.startswith("rr/") and dds_topic.endswith("Reply")):
        return None
    parts = dds_type.split("::")
    if len(parts) != 4 or parts[2] != "dds_" or not parts[3].endswith("_Response_"):
        return None
    return dds_topic[2:-len("Reply")], f"{parts[0]}/{parts[1]}/{parts[3][:-len('_Response_')]}"


def dds_type_name(ros_type: str) -> str:
    """`sensor_msgs/msg/Image` -> `sensor_msgs::msg::dds_::Image_`."""
    pkg, sub, name = normalize_type_name(ros_type).split("/")
    return f"{pkg}::{sub}::dds_::{name}_"


def ros_type_name(dds_type: str) -> str | None:
    """`sensor_msgs::msg::dds_::Image_` -> `sensor_msgs/msg/Image`; None if not a ROS type."""
    parts = dds_type.split("::")
    if len(parts) != 4 or parts[2] != "dds_" or not parts[3].endswith("_"):
        return None
    return f"{parts[0]}/{parts[1]}/{parts[3][:-1]}"


_cache: dict[tuple[int, str], type[IdlStruct]] = {}
_cache_lock = threading.RLock()


def idl_struct(typestore: Any, ros_type: str) -> type[IdlStruct]:
    """The IDL struct (Cyclone Python type) of ROS message `ros_type` in `typestore` (rosbags).

    Members mirror the `.msg` fields in order with rosidl's IDL mapping (`char`/`byte` -> uint8,
    bounded strings and sequences keep their bounds, fixed arrays are arrays). Cached per store.
    """
    ros_type = normalize_type_name(ros_type)
    key = (id(typestore), ros_type)
    with _cache_lock:
        cls = _cache.get(key)
        if cls is None:
            fields = {}
            for fname, desc in typestore.fielddefs[ros_type][1]:
                fields[fname] = _member_type(typestore, desc)
            class_name = ros_type.split("/")[-1] + "_"
            cls = make_idl_struct(class_name, dds_type_name(ros_type), fields)
            _cache[key] = cls
        return cls


def _member_type(typestore: Any, desc: FieldDesc) -> Any:
    """The cyclonedds IDL member type of a rosbags field description. cyclonedds' `types.array`,
    `sequence` and `bounded_str` are indexed through `__class_getitem__`, which mypy does not
    see on a class that is not Generic (hence the narrow ignores)."""
    kind = desc[0]
    rest: Any = desc[1]  # rosbags' FieldDesc union does not narrow on `kind`
    if kind == Nodetype.BASE:
        name, bound = rest
        if name in ("string", "wstring"):
            return T.bounded_str[bound] if bound else str  # type: ignore[misc]
        return _BASE[name]
    if kind == Nodetype.NAME:
        return idl_struct(typestore, rest)
    sub, length = rest
    elem = _member_type(typestore, sub)
    if kind == Nodetype.ARRAY:
        return T.array[elem, length]  # type: ignore[misc]
    return T.sequence[elem, length] if length else T.sequence[elem]  # type: ignore[misc]


def service_idl_struct(typestore: Any, ros_type: str) -> type[IdlStruct]:
    """The IDL struct of a service request/response type as it travels (rmw_cyclonedds_cpp):
    the 16-byte request header (uint64 client guid, int64 sequence number) before the fields.

    Cyclone checks written and received CDR against the struct (e.g. that a bool is 0 or 1), so
    the header must be part of it; ROS 2 peers match the topic by type name."""
    key = (id(typestore), "srv:" + ros_type)
    with _cache_lock:
        cls = _cache.get(key)
        if cls is None:
            fields: dict[str, Any] = {"guid": T.uint64, "seq": T.int64}  # as cdds_request_header_t
            for fname, desc in typestore.fielddefs[ros_type][1]:
                fields[fname] = _member_type(typestore, desc)
            cls = make_idl_struct(ros_type.split("/")[-1] + "_", dds_type_name(ros_type), fields)
            _cache[key] = cls
        return cls
