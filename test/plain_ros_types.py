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


# -- services (rmw_cyclonedds_cpp: 16-byte request header before the fields) -----------------
@dataclass
class Trigger_Request_(IdlStruct, typename="std_srvs::srv::dds_::Trigger_Request_"):
    guid: T.uint64
    seq: T.int64
    structure_needs_at_least_one_member: T.uint8


@dataclass
class Trigger_Response_(IdlStruct, typename="std_srvs::srv::dds_::Trigger_Response_"):
    guid: T.uint64
    seq: T.int64
    success: bool
    message: str


@dataclass
class SetBool_Request_(IdlStruct, typename="std_srvs::srv::dds_::SetBool_Request_"):
    guid: T.uint64
    seq: T.int64
    data: bool


@dataclass
class SetBool_Response_(IdlStruct, typename="std_srvs::srv::dds_::SetBool_Response_"):
    guid: T.uint64
    seq: T.int64
    success: bool
    message: str


@dataclass
class ParameterValue_(IdlStruct, typename="rcl_interfaces::msg::dds_::ParameterValue_"):
    type: T.uint8
    bool_value: bool
    integer_value: T.int64
    double_value: T.float64
    string_value: str
    byte_array_value: T.sequence[T.byte]  # rosidl: byte -> octet
    bool_array_value: T.sequence[bool]
    integer_array_value: T.sequence[T.int64]
    double_array_value: T.sequence[T.float64]
    string_array_value: T.sequence[str]


@dataclass
class Parameter_(IdlStruct, typename="rcl_interfaces::msg::dds_::Parameter_"):
    name: str
    value: ParameterValue_


@dataclass
class SetParametersResult_(IdlStruct, typename="rcl_interfaces::msg::dds_::SetParametersResult_"):
    successful: bool
    reason: str


@dataclass
class SetParameters_Request_(IdlStruct, typename="rcl_interfaces::srv::dds_::SetParameters_Request_"):
    guid: T.uint64
    seq: T.int64
    parameters: T.sequence[Parameter_]


@dataclass
class SetParameters_Response_(IdlStruct, typename="rcl_interfaces::srv::dds_::SetParameters_Response_"):
    guid: T.uint64
    seq: T.int64
    results: T.sequence[SetParametersResult_]


@dataclass
class GetParameters_Request_(IdlStruct, typename="rcl_interfaces::srv::dds_::GetParameters_Request_"):
    guid: T.uint64
    seq: T.int64
    names: T.sequence[str]


@dataclass
class GetParameters_Response_(IdlStruct, typename="rcl_interfaces::srv::dds_::GetParameters_Response_"):
    guid: T.uint64
    seq: T.int64
    values: T.sequence[ParameterValue_]


@dataclass
class FloatingPointRange_(IdlStruct, typename="rcl_interfaces::msg::dds_::FloatingPointRange_"):
    from_value: T.float64
    to_value: T.float64
    step: T.float64


@dataclass
class IntegerRange_(IdlStruct, typename="rcl_interfaces::msg::dds_::IntegerRange_"):
    from_value: T.int64
    to_value: T.int64
    step: T.uint64


@dataclass
class ParameterDescriptor_(IdlStruct, typename="rcl_interfaces::msg::dds_::ParameterDescriptor_"):
    name: str
    type: T.uint8
    description: str
    additional_constraints: str
    read_only: bool
    dynamic_typing: bool
    floating_point_range: T.sequence[FloatingPointRange_, 1]
    integer_range: T.sequence[IntegerRange_, 1]


@dataclass
class DescribeParameters_Request_(IdlStruct, typename="rcl_interfaces::srv::dds_::DescribeParameters_Request_"):
    guid: T.uint64
    seq: T.int64
    names: T.sequence[str]


@dataclass
class DescribeParameters_Response_(IdlStruct, typename="rcl_interfaces::srv::dds_::DescribeParameters_Response_"):
    guid: T.uint64
    seq: T.int64
    descriptors: T.sequence[ParameterDescriptor_]
