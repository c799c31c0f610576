"""ROS 2 message types on the wire, declared from the rmw_cyclonedds_cpp conventions only.

IDL structs named `pkg::msg::dds_::Type_` with the `.msg` fields in order, for tests that talk to
the project as a *plain* Cyclone DDS peer: this module uses only the cyclonedds package, never
project code, so what it reads and writes checks the wire format itself. Subprocess peers import
it by putting this folder on `sys.path`.
"""

from dataclasses import dataclass

from cyclonedds.idl import IdlStruct
from cyclonedds.idl import types as T

@dataclass
class Time_(IdlStruct, typename="builtin_interfaces::msg::dds_::Time_"):
    sec: T.int32
    nanosec: T.uint32


@dataclass
class Header_(IdlStruct, typename="std_msgs::msg::dds_::Header_"):
    stamp: Time_
    frame_id: str


@dataclass
class Image_(IdlStruct, typename="sensor_msgs::msg::dds_::Image_"):
    header: Header_
    height: T.uint32
    width: T.uint32
    encoding: str
    is_bigendian: T.uint8
    step: T.uint32
    data: T.sequence[T.uint8]


@dataclass
class String_(IdlStruct, typename="std_msgs::msg::dds_::String_"):
    data: str


@dataclass
class Gid_(IdlStruct, typename="rmw_dds_common::msg::dds_::Gid_"):
    data: T.array[T.uint8, 24]


@dataclass
class NodeEntitiesInfo_(IdlStruct, typename="rmw_dds_common::msg::dds_::NodeEntitiesInfo_"):
    node_namespace: T.bounded_str[256]
    node_name: T.bounded_str[256]
    reader_gid_seq: T.sequence[Gid_]
    writer_gid_seq: T.sequence[Gid_]


@dataclass
class ParticipantEntitiesInfo_(IdlStruct, typename="rmw_dds_common::msg::dds_::ParticipantEntitiesInfo_"):
    gid: Gid_
    node_entities_info_seq: T.sequence[NodeEntitiesInfo_]
