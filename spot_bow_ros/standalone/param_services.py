"""The `rcl_interfaces` parameter services of a standalone node (what `ros2 param` calls).

`<node>/list_parameters`, `get_parameters`, `set_parameters`, `set_parameters_atomically`,
`describe_parameters` and `get_parameter_types`, and `/parameter_events` on accepted changes,
served from the node's `ParamSpec`s and values like rclcpp/rclpy serve them: descriptors carry the
description, read-only flag and numeric range of the spec; sets go through the node's
`set_parameters` (validation, read-only refusal, the node's on-set callback that applies the
change live).

The conversions between Python values and `rcl_interfaces/msg/ParameterValue` are pure
functions over a message factory (`make(type_name, **fields)`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..ros.params import ParamSpec, descriptor_fields
from ..ros.qos import QoS

#: rcl_interfaces/msg/ParameterType
NOT_SET, BOOL, INTEGER, DOUBLE, STRING = 0, 1, 2, 3, 4
BYTE_ARRAY, BOOL_ARRAY, INTEGER_ARRAY, DOUBLE_ARRAY, STRING_ARRAY = 5, 6, 7, 8, 9
_SCALAR_TYPES = {bool: BOOL, int: INTEGER, float: DOUBLE, str: STRING}
_FIELDS = {BOOL: "bool_value", INTEGER: "integer_value", DOUBLE: "double_value", STRING: "string_value",
           BYTE_ARRAY: "byte_array_value", BOOL_ARRAY: "bool_array_value",
           INTEGER_ARRAY: "integer_array_value", DOUBLE_ARRAY: "double_array_value",
           STRING_ARRAY: "string_array_value"}

SERVICES = ("list_parameters", "get_parameters", "set_parameters", "set_parameters_atomically",
            "describe_parameters", "get_parameter_types")

Make = Callable[..., Any]
#: rclcpp/rclpy's parameter events QoS (rmw_qos_profile_parameter_events: keep-last 1000).
EVENTS_QOS = QoS(depth=1000)


def spec_type(spec: ParamSpec) -> int:
    """ParameterType of a spec."""
    if isinstance(spec.default, (list, tuple)):
        return _SCALAR_TYPES[spec.element_type] + 5  # BOOL -> BOOL_ARRAY ... STRING -> STRING_ARRAY
    return _SCALAR_TYPES[type(spec.default)]


def to_parameter_value(make: Make, value: Any, ptype: int) -> Any:
    """`rcl_interfaces/msg/ParameterValue` holding `value` as type `ptype`."""
    if value is None or ptype == NOT_SET:
        return make("rcl_interfaces/msg/ParameterValue", type=NOT_SET)
    if ptype >= BYTE_ARRAY:
        value = list(value)
    return make("rcl_interfaces/msg/ParameterValue", type=ptype, **{_FIELDS[ptype]: value})


def from_parameter_value(pv: Any) -> Any:
    """The Python value of a `ParameterValue` (lists for arrays), None when NOT_SET."""
    ptype = int(pv.type)
    if ptype not in _FIELDS:
        return None
    value = getattr(pv, _FIELDS[ptype])
    if ptype >= BYTE_ARRAY:
        return [v.item() if hasattr(v, "item") else v for v in value]
    if ptype == BOOL:
        return bool(value)
    if ptype == INTEGER:
        return int(value)
    if ptype == DOUBLE:
        return float(value)
    return str(value)


def descriptor_msg(make: Make, spec: ParamSpec) -> Any:
    """`rcl_interfaces/msg/ParameterDescriptor` of a spec (same fields as the rclpy route)."""
    f = descriptor_fields(spec)
    fields: dict[str, Any] = {"name": spec.name, "type": spec_type(spec), "description": f["description"],
                              "read_only": f["read_only"]}
    if "additional_constraints" in f:
        fields["additional_constraints"] = f["additional_constraints"]
    if "floating_point_range" in f:
        fields["floating_point_range"] = [make("rcl_interfaces/msg/FloatingPointRange", **r)
                                          for r in f["floating_point_range"]]
    if "integer_range" in f:
        fields["integer_range"] = [make("rcl_interfaces/msg/IntegerRange", **r) for r in f["integer_range"]]
    return make("rcl_interfaces/msg/ParameterDescriptor", **fields)


class ParameterServices:
    """Serves the parameter services of `node` (a standalone node: `parameter_specs`,
    `get_parameter`, `set_parameters`, `create_service`, `msg`)."""

    def __init__(self, node: Any):
        self.node = node
        # what rclcpp/rclpy publish on every accepted change (rqt_reconfigure, `ros2 param` tools)
        self.events = node.create_publisher("rcl_interfaces/msg/ParameterEvent", "/parameter_events", EVENTS_QOS)
        for name in SERVICES:
            srv = "rcl_interfaces/srv/" + "".join(p.capitalize() for p in name.split("_"))
            node.create_service(srv, f"~/{name}", getattr(self, "_" + name), parameters=True)

    def _value(self, name: str) -> Any:
        spec = self.node.parameter_specs.get(name)
        if spec is None:
            return to_parameter_value(self.node.msg, None, NOT_SET)
        return to_parameter_value(self.node.msg, self.node.get_parameter(name), spec_type(spec))

    def _list_parameters(self, request: Any) -> dict[str, Any]:
        prefixes = [str(p) for p in request.prefixes]
        depth = int(request.depth)
        names, found_prefixes = [], set()
        for name in sorted(self.node.parameter_specs):
            if prefixes and not any(name == p or name.startswith(p + ".") for p in prefixes):
                continue
            if depth and name.count(".") >= depth and not prefixes:
                continue
            names.append(name)
            if "." in name:
                found_prefixes.add(name.rsplit(".", 1)[0])
        result = self.node.msg("rcl_interfaces/msg/ListParametersResult", names=names,
                               prefixes=sorted(found_prefixes))
        return {"result": result}

    def _get_parameters(self, request: Any) -> dict[str, Any]:
        return {"values": [self._value(str(n)) for n in request.names]}

    def _get_parameter_types(self, request: Any) -> dict[str, Any]:
        specs = self.node.parameter_specs
        return {"types": [spec_type(specs[n]) if n in specs else NOT_SET for n in map(str, request.names)]}

    def _describe_parameters(self, request: Any) -> dict[str, Any]:
        specs = self.node.parameter_specs
        out = []
        for name in map(str, request.names):
            spec = specs.get(name)
            out.append(descriptor_msg(self.node.msg, spec) if spec is not None
                       else self.node.msg("rcl_interfaces/msg/ParameterDescriptor", name=name))
        return {"descriptors": out}

    def _result(self, ok: bool, reason: str) -> Any:
        return self.node.msg("rcl_interfaces/msg/SetParametersResult", successful=ok, reason=reason)

    def _set_parameters(self, request: Any) -> dict[str, Any]:
        results, changed = [], []
        for param in request.parameters:
            name = str(param.name)
            (ok, reason), = self.node.set_parameters({name: from_parameter_value(param.value)})
            results.append(self._result(ok, reason))
            if ok:
                changed.append(name)
        self._publish_event(changed)
        return {"results": results}

    def _set_parameters_atomically(self, request: Any) -> dict[str, Any]:
        values = {str(p.name): from_parameter_value(p.value) for p in request.parameters}
        outcome = self.node.set_parameters(values, atomic=True)
        refused = [reason for ok, reason in outcome if not ok]
        if not refused:
            self._publish_event(list(values))
        return {"result": self._result(not refused, "; ".join(refused))}

    def _publish_event(self, names: list[str]) -> None:
        """`/parameter_events`: the node's accepted changes, with their new values."""
        if not names:
            return
        from ..ros.node_api import header

        make = self.node.msg
        ns = self.node.namespace.rstrip("/")
        self.events.publish(make(
            "rcl_interfaces/msg/ParameterEvent", stamp=header(self.node, self.node.now(), "").stamp,
            node=f"{ns}/{self.node.name}",
            changed_parameters=[make("rcl_interfaces/msg/Parameter", name=n, value=self._value(n)) for n in names]))
