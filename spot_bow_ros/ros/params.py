"""Node parameters: one declaration per node, with defaults, ranges and descriptions.

Each node declares its parameters once as a list of `ParamSpec`. Both backends use the same
list: the rclpy backend turns each into `declare_parameter` with a `ParameterDescriptor`, the
standalone backend resolves values from overrides and ROS params YAML files
(`/**: ros__parameters:` and `<node_name>: ros__parameters:` sections, as `ros2 run --ros-args
--params-file` reads them).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..convert.yaml_errors import yaml_error_line


class ParameterError(ValueError):
    """A parameter value, override or params file is wrong. The message names the problem."""


#: ROS parameter types we support, by the Python type of the default.
_TYPE_NAMES = {bool: "bool", int: "integer", float: "double", str: "string"}


@dataclass(frozen=True)
class ParamSpec:
    """Declaration of one ROS parameter.

    `default` fixes the type (bool, int, float, str, or a list of one of them; an empty list
    needs `list_type`). `min`/`max` bound numbers (inclusive), `choices` limits strings.
    `live`: the node applies changes at runtime (`ros2 param set`, through its on-set callback);
    every other parameter is read-only once the node runs (`ros2 param set` refuses it).
    """

    name: str
    default: Any
    description: str
    min: float | None = None
    max: float | None = None
    choices: Sequence[str] | None = None
    list_type: type | None = None
    read_only: bool = False
    #: a string parameter that also takes an integer, as its decimal text (`device: 9`)
    int_as_text: bool = False
    live: bool = False

    @property
    def is_read_only(self) -> bool:
        """Refused at runtime: declared read-only, or not applied live by its node."""
        return self.read_only or not self.live

    @property
    def type_name(self) -> str:
        if isinstance(self.default, (list, tuple)):
            elem = self.element_type
            return f"{_TYPE_NAMES[elem]}_array"
        return _TYPE_NAMES[type(self.default)]

    @property
    def element_type(self) -> type:
        if self.list_type is not None:
            return self.list_type
        if isinstance(self.default, (list, tuple)) and self.default:
            return type(self.default[0])
        raise ParameterError(f"parameter '{self.name}': an empty list default needs list_type")

    def validate(self, value: Any) -> Any:
        """Return `value` coerced to this parameter's type, or raise ParameterError."""
        if isinstance(self.default, (list, tuple)):
            if not isinstance(value, (list, tuple)):
                raise ParameterError(
                    f"parameter '{self.name}' expects {self.type_name}, got {type(value).__name__} {value!r}")
            elem = self.element_type
            return [self._scalar(v, elem) for v in value]
        return self._check_range(self._scalar(value, type(self.default)))

    def _scalar(self, value: Any, kind: type) -> Any:
        bad = ParameterError(
            f"parameter '{self.name}' expects {_TYPE_NAMES[kind]}, got {type(value).__name__} {value!r}")
        if kind is bool:
            if isinstance(value, bool):
                return value
            raise bad
        if kind is int:
            if isinstance(value, bool) or not isinstance(value, int):
                raise bad
            return value
        if kind is float:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise bad
            value = float(value)
            if math.isnan(value):
                raise ParameterError(f"parameter '{self.name}' must be a number, got NaN")
            return value
        if kind is str:
            if self.int_as_text and isinstance(value, int) and not isinstance(value, bool):
                return str(value)
            if not isinstance(value, str):
                raise bad
            return value
        raise bad

    def _check_range(self, value: Any) -> Any:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if self.min is not None and value < self.min:
                raise ParameterError(f"parameter '{self.name}' = {value} is below its minimum {self.min}")
            if self.max is not None and value > self.max:
                raise ParameterError(f"parameter '{self.name}' = {value} is above its maximum {self.max}")
        if self.choices is not None and value not in self.choices:
            raise ParameterError(
                f"parameter '{self.name}' = {value!r} is not one of {', '.join(map(str, self.choices))}")
        return value


def load_params_file(path: str | Path, node_name: str, namespace: str = "") -> dict[str, Any]:
    """Parameters for `node_name` from a ROS 2 params YAML file.

    Sections apply in order of specificity: `/**`, `<node_name>`, `/<ns>/<node_name>`.
    Nested dicts under `ros__parameters` are flattened with dots (`a: {b: 1}` -> `a.b`).
    """
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise ParameterError(f"cannot read params file {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ParameterError(f"params file {path} is not valid YAML: {yaml_error_line(exc)}") from exc
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise ParameterError(f"params file {path}: top level must be a mapping of node names")
    fq = "/" + "/".join(p for p in (namespace.strip("/"), node_name) if p)
    keys = ["/**", node_name, node_name.lstrip("/"), fq, fq.lstrip("/")]
    values: dict[str, Any] = {}
    for key in dict.fromkeys(keys):
        section = doc.get(key)
        if section is None:
            continue
        if not isinstance(section, dict) or "ros__parameters" not in section:
            raise ParameterError(f"params file {path}: section '{key}' has no 'ros__parameters' mapping")
        params = section["ros__parameters"] or {}
        if not isinstance(params, dict):
            raise ParameterError(f"params file {path}: '{key}.ros__parameters' must be a mapping")
        values.update(_flatten(params))
    return values


def _flatten(params: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, name + "."))
        else:
            out[name] = value
    return out


@dataclass
class ParameterSet:
    """Resolved parameter values of one node (the standalone backend's parameter store)."""

    specs: dict[str, ParamSpec] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)

    def declare(self, specs: Iterable[ParamSpec], overrides: Mapping[str, Any]) -> dict[str, Any]:
        """Declare `specs`, taking values from `overrides` where given. Unknown overrides are ignored
        (they may belong to another bridge of a composed process)."""
        declared = {}
        for spec in specs:
            if spec.name in self.specs:
                raise ParameterError(f"parameter '{spec.name}' declared twice")
            self.specs[spec.name] = spec
            value = overrides[spec.name] if spec.name in overrides else spec.default
            value = spec.validate(value)
            self.values[spec.name] = value
            declared[spec.name] = value
        return declared

    def get(self, name: str) -> Any:
        if name not in self.values:
            raise ParameterError(f"parameter '{name}' is not declared")
        return self.values[name]

    def set(self, name: str, value: Any) -> Any:
        self.values[name] = self.check(name, value)
        return self.values[name]

    def check(self, name: str, value: Any) -> Any:
        """`value` validated for a runtime change of `name`, or ParameterError saying why not."""
        spec = self.specs.get(name)
        if spec is None:
            raise ParameterError(f"parameter '{name}' is not declared")
        if spec.is_read_only:
            raise ParameterError(read_only_reason(name))
        return spec.validate(value)


def read_only_reason(name: str) -> str:
    """Why a runtime change of the read-only (not live) parameter `name` is refused."""
    return f"parameter '{name}' is read-only: it applies at start-up only (restart the node with -p {name}:=...)"


# -- params files under a namespace ---------------------------------------------------------
def namespaced_params(doc: Mapping[str, Any], namespace: str) -> dict[str, Any]:
    """A params-file mapping whose per-node sections also apply under `namespace`.

    rcl reads a section `webcam:` as `/webcam`, the node in the root namespace: started with
    `namespace:=robot1`, node `/robot1/webcam` would silently ignore it. Each section keyed by a
    bare node name is therefore re-keyed `/<namespace>/<name>`; wildcard (`/**`, `*`) and fully
    qualified (`/...`) keys are kept as they are. An empty namespace changes nothing.
    """
    ns = namespace.strip("/")
    if not ns:
        return dict(doc)
    out: dict[str, Any] = {}
    for key, section in doc.items():
        key = str(key)
        out[key if key.startswith("/") or "*" in key else f"/{ns}/{key}"] = section
    return out


def namespaced_params_file(path: str | Path, namespace: str, out_dir: str | Path | None = None) -> str:
    """`path` itself without a namespace, else a copy rewritten by `namespaced_params` (written
    to `out_dir`, default a new temporary directory). For launch files (`parameters=[...]`)."""
    if not namespace.strip("/"):
        return str(path)
    import tempfile

    source = Path(path)
    try:
        doc = yaml.safe_load(source.read_text()) or {}
    except OSError as exc:
        raise ParameterError(f"cannot read params file {source}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ParameterError(f"params file {source} is not valid YAML: {yaml_error_line(exc)}") from exc
    if not isinstance(doc, dict):
        raise ParameterError(f"params file {source}: top level must be a mapping of node names")
    target_dir = Path(out_dir) if out_dir is not None else Path(tempfile.mkdtemp(prefix="spot_bow_ros_params_"))
    target = target_dir / f"{source.stem}.{namespace.strip('/').replace('/', '_')}{source.suffix or '.yaml'}"
    target.write_text(yaml.safe_dump(namespaced_params(doc, namespace), sort_keys=False))
    return str(target)


# -- checking a whole process's parameters before it starts ---------------------------------
def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """` (did you mean 'x'?)` for the closest of `candidates` (difflib), or ''."""
    import difflib

    close = difflib.get_close_matches(name, sorted(set(candidates)), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _section_node(key: str, namespace: str) -> str | None:
    """The node name a params-file section applies to (`webcam`, `/webcam`, `/<ns>/webcam`),
    '' for `/**`, None for other wildcards or another namespace."""
    if key in ("/**", "**"):
        return ""
    if "*" in key:
        return None
    parts = [p for p in key.split("/") if p]
    if not parts:
        return None
    ns = [p for p in namespace.split("/") if p]
    if len(parts) == 1 or parts[:-1] == ns:
        return parts[-1]
    return None


def unknown_parameter_warnings(specs_by_node: Mapping[str, Iterable[str]], params_files: Sequence[str | Path] = (),
                               cli_params: Iterable[str] = (), namespace: str = "") -> list[str]:
    """One warning per params-file section that names no node of the process, and per parameter
    (in a node's section, under `/**`, or given with `-p`) that no node it applies to declares;
    each with a "did you mean" hint. `specs_by_node`: node name -> declared parameter names."""
    known = {node: set(names) for node, names in specs_by_node.items()}
    everything = set().union(*known.values()) if known else set()
    warnings: list[str] = []
    for path in params_files:
        try:
            doc = yaml.safe_load(Path(path).read_text()) or {}
        except (OSError, yaml.YAMLError):
            continue  # load_params_file reports it
        if not isinstance(doc, dict):
            continue
        for key, section in doc.items():
            node = _section_node(str(key), namespace)
            if node is None:
                continue
            if node and node not in known:
                warnings.append(f"params file {path}: section '{key}' names no node of this process"
                                f"{did_you_mean(node, known)}; ignored")
                continue
            params = section.get("ros__parameters") if isinstance(section, dict) else None
            names = known[node] if node else everything
            for name in _flatten(params) if isinstance(params, dict) else {}:
                if name not in names:
                    which = f"node '{node}' does not declare" if node else "no node declares"
                    warnings.append(f"params file {path}: '{key}' sets '{name}', which {which}"
                                    f"{did_you_mean(name, names)}; ignored")
    for name in cli_params:
        if name not in everything:
            warnings.append(f"parameter '{name}' (-p) is not declared by any node{did_you_mean(name, everything)}; "
                            "ignored")
    return warnings


def validate_all(specs_by_node: Mapping[str, Iterable[ParamSpec]],
                 overrides_by_node: Mapping[str, Mapping[str, Any]]) -> None:
    """Validate every node's values before any node starts. Raises ParameterError naming the
    node and the parameter of the first bad value."""
    for node, specs in specs_by_node.items():
        values = overrides_by_node.get(node, {})
        for spec in specs:
            if spec.name in values:
                try:
                    spec.validate(values[spec.name])
                except ParameterError as exc:
                    raise ParameterError(f"node '{node}': {exc}") from None


def format_parameters(node_name: str, specs: Sequence[ParamSpec], width: int = 79) -> str:
    """Help text for a node's parameters: name, type, default, range or choices, description."""
    import textwrap

    lines = [f"parameters of node '{node_name}' (--ros-args -p NAME:=VALUE):"]
    for spec in specs:
        default = "(secret)" if spec.name == "password" else repr(
            list(spec.default) if isinstance(spec.default, tuple) else spec.default)
        head = f"  {spec.name} ({spec.type_name}, default {default}"
        if spec.min is not None or spec.max is not None:
            head += f", range [{'' if spec.min is None else spec.min}, {'' if spec.max is None else spec.max}]"
        if spec.choices:
            head += ", one of " + "|".join(map(str, spec.choices))
        if spec.read_only:
            head += ", read-only"
        lines.append(head + ")")
        lines += textwrap.wrap(spec.description.strip(), width, initial_indent="      ",
                               subsequent_indent="      ")
    return "\n".join(lines)


#: `rclpy.Parameter.Type` member names of the scalar parameter types
_PARAM_TYPE_NAMES = {bool: "BOOL", int: "INTEGER", float: "DOUBLE", str: "STRING"}
_INT64 = (-(2**63), 2**63 - 1)
_DOUBLE_MAX = sys.float_info.max


def parameter_type_name(spec: ParamSpec) -> str:
    """The `rclpy.Parameter.Type` member name of `spec` (`DOUBLE`, `STRING_ARRAY`, ...)."""
    if isinstance(spec.default, (list, tuple)):
        return _PARAM_TYPE_NAMES[spec.element_type] + "_ARRAY"
    return _PARAM_TYPE_NAMES[type(spec.default)]


def descriptor_fields(spec: ParamSpec) -> dict[str, Any]:
    """`ParameterDescriptor` fields of `spec`: description (with the choices), read_only,
    additional_constraints `applied live` for a live parameter, and its bounds as one
    `floating_point_range` / `integer_range` (from_value, to_value, step 0 = continuous; an
    open side is the type's limit). `type` is left to rclpy (from the default)."""
    text = spec.description
    if spec.choices:
        text += f" (one of: {', '.join(map(str, spec.choices))})"
    out: dict[str, Any] = {"description": text, "read_only": bool(spec.is_read_only)}
    if not spec.is_read_only:  # what `ros2 param describe` shows under "Additional constraints"
        out["additional_constraints"] = "applied live"
    if spec.min is None and spec.max is None or isinstance(spec.default, (bool, list, tuple)):
        return out
    if isinstance(spec.default, float):
        out["floating_point_range"] = [{
            "from_value": float(spec.min) if spec.min is not None else -_DOUBLE_MAX,
            "to_value": float(spec.max) if spec.max is not None else _DOUBLE_MAX, "step": 0.0}]
    elif isinstance(spec.default, int):
        out["integer_range"] = [{
            "from_value": math.ceil(spec.min) if spec.min is not None else _INT64[0],
            "to_value": math.floor(spec.max) if spec.max is not None else _INT64[1], "step": 0}]
    return out
