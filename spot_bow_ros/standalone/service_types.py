"""ROS 2 service types without ROS, and rmw_cyclonedds_cpp's request header.

rosbags ships message types only: the request/response types of the services this package
serves or calls (`std_srvs` Trigger/SetBool/Empty, the `rcl_interfaces` parameter services) are
registered from their `.srv` text here, under their ROS names (`std_srvs/srv/Trigger_Request`),
so their CDR codec and REP-2011 type hashes come from the same typestore as every message.
An empty request gets rosidl's `uint8 structure_needs_at_least_one_member` (as on the wire).

rmw_cyclonedds_cpp puts a service `/foo` on DDS as:
- requests on topic `rq/fooRequest`, type `pkg::srv::dds_::Srv_Request_`;
- replies on topic `rr/fooReply`, type `pkg::srv::dds_::Srv_Response_`;
- each sample = CDR encapsulation header, then the 16-byte `cdds_request_header_t`
  (uint64 `guid`: the instance handle of the client's request writer; int64 `seq`), then the
  CDR body of the request/response. A reply echoes the request's header: clients keep only
  replies with their own `guid`.
- endpoints carry USER_DATA `serviceid=<csid>;` (server) / `clientid=<csid>;` (client), the id
  pairing a client's request writer with its reply reader.
"""

from __future__ import annotations

import struct
import threading
from typing import TYPE_CHECKING, Any

from ..ros.names import UnknownMessageType
from ..ros.qos import QoS

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

#: rmw_cyclonedds_cpp topic prefixes of service requests and replies.
REQUEST_PREFIX, REPLY_PREFIX = "rq", "rr"
#: cdds_request_header_t: uint64 guid, int64 seq (little endian, as the CDR body).
_HEADER_LE, _HEADER_BE = struct.Struct("<Qq"), struct.Struct(">Qq")
HEADER_SIZE = 16

_EMPTY = "uint8 structure_needs_at_least_one_member"

#: rmw_qos_profile_services_default (reliable, volatile, keep-last 10) and
#: rmw_qos_profile_parameters (keep-last 1000).
SERVICES_QOS = QoS(depth=10)
PARAMETERS_QOS = QoS(depth=1000)

#: `.srv` definitions (request, response) of the service types known without ROS.
SRV_DEFINITIONS: dict[str, tuple[str, str]] = {
    "std_srvs/srv/Trigger": ("", "bool success\nstring message"),
    "std_srvs/srv/SetBool": ("bool data", "bool success\nstring message"),
    "std_srvs/srv/Empty": ("", ""),
    "rcl_interfaces/srv/ListParameters": (
        "string[] prefixes\nuint64 depth", "rcl_interfaces/msg/ListParametersResult result"),
    "rcl_interfaces/srv/GetParameters": ("string[] names", "rcl_interfaces/msg/ParameterValue[] values"),
    "rcl_interfaces/srv/SetParameters": (
        "rcl_interfaces/msg/Parameter[] parameters", "rcl_interfaces/msg/SetParametersResult[] results"),
    "rcl_interfaces/srv/SetParametersAtomically": (
        "rcl_interfaces/msg/Parameter[] parameters", "rcl_interfaces/msg/SetParametersResult result"),
    "rcl_interfaces/srv/DescribeParameters": (
        "string[] names", "rcl_interfaces/msg/ParameterDescriptor[] descriptors"),
    "rcl_interfaces/srv/GetParameterTypes": ("string[] names", "uint8[] types"),
}

_registered: set[int] = set()
_lock = threading.Lock()


def normalize_srv_type(srv_type: str) -> str:
    """`std_srvs/Trigger` or `std_srvs/srv/Trigger` -> `std_srvs/srv/Trigger`."""
    parts = srv_type.strip().split("/")
    if len(parts) == 2:
        parts = [parts[0], "srv", parts[1]]
    if len(parts) != 3 or parts[1] != "srv" or not all(parts):
        raise UnknownMessageType(f"service type {srv_type!r} is not of the form pkg/srv/Type")
    return "/".join(parts)


def request_type(srv_type: str) -> str:
    return normalize_srv_type(srv_type) + "_Request"


def response_type(srv_type: str) -> str:
    return normalize_srv_type(srv_type) + "_Response"


def register_service_types(typestore: Any) -> None:
    """Add the request/response types of `SRV_DEFINITIONS` to a rosbags typestore (once)."""
    with _lock:
        if id(typestore) in _registered:
            return
        from rosbags.typesys import get_types_from_msg

        types: dict[str, Any] = {}
        for srv, (req, resp) in SRV_DEFINITIONS.items():
            for name, text in ((srv + "_Request", req), (srv + "_Response", resp)):
                parsed = get_types_from_msg(text.strip() or _EMPTY, name)
                # rosbags names every parsed type pkg/msg/Name: keep the ROS service name.
                types[name] = next(iter(parsed.values()))
        typestore.register(types)
        _registered.add(id(typestore))


def known_service_type(srv_type: str) -> str:
    """The normalized name of a service type this package can encode, else UnknownMessageType."""
    name = normalize_srv_type(srv_type)
    if name not in SRV_DEFINITIONS:
        raise UnknownMessageType(f"unknown service type {srv_type!r} (known: {', '.join(SRV_DEFINITIONS)})")
    return name


# -- the request header ---------------------------------------------------------------------
def pack_sample(guid: int, seq: int, body_cdr: bytes | memoryview | npt.NDArray[np.uint8]) -> bytes:
    """A service request/reply sample: `body_cdr` (CDR with its 4-byte encapsulation header) with
    the request header inserted after the encapsulation header, in the body's byte order."""
    body = bytes(body_cdr)
    header = (_HEADER_LE if body[1] & 1 else _HEADER_BE).pack(guid & 0xFFFFFFFFFFFFFFFF, seq)
    return body[:4] + header + body[4:]


def unpack_sample(sample: bytes | memoryview) -> tuple[int, int, bytes]:
    """(guid, seq, body CDR with its encapsulation header) of a service request/reply sample."""
    data = bytes(sample)
    if len(data) < 4 + HEADER_SIZE:
        raise ValueError(f"service sample of {len(data)} bytes is shorter than its headers")
    guid, seq = (_HEADER_LE if data[1] & 1 else _HEADER_BE).unpack_from(data, 4)
    return guid, seq, data[:4] + data[4 + HEADER_SIZE:]


def csid_string(ident: bytes) -> str:
    """rmw_cyclonedds_cpp's text form of a 16-byte client/service id (`csid_to_string`):
    the first byte in hex at width 2 (`std::setw(2)` with the stream's default fill, a space),
    the others in hex without padding, joined by dots. Only ever compared with ids of the same
    origin (a client's writer and reader), so this is fidelity, not matching."""
    return f"{ident[0]:2x}" + "".join(f".{b:x}" for b in ident[1:])


def user_data_value(user_data: bytes | None, key: str) -> str | None:
    """The value of `key=value;` in an endpoint's USER_DATA, or None."""
    if not user_data:
        return None
    for item in bytes(user_data).decode("utf-8", "replace").split(";"):
        k, sep, v = item.partition("=")
        if sep and k.strip() == key:
            return v
    return None


def response_defaults(make: Any, resp_type: str, error: str | None = None) -> Any:
    """A response of `resp_type` with defaults; `success=False`/`message=error` where it has them."""
    msg = make(resp_type)
    if error is not None:
        if hasattr(msg, "success"):
            msg.success = False
        if hasattr(msg, "message"):
            msg.message = error
    return msg
