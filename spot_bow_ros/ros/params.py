"""Node parameters: one declaration per node, with defaults, ranges and descriptions.

Each node declares its parameters once as a list of `ParamSpec`. Both backends use the same
list: the rclpy backend turns each into `declare_parameter` with a `ParameterDescriptor`, the
standalone backend resolves values from overrides and ROS params YAML files
(`/**: ros__parameters:` and `<node_name>: ros__parameters:` sections, as `ros2 run --ros-args
--params-file` reads them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import yaml


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
        raise ParameterError(f"params file {path} is not valid YAML: {exc}") from exc
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
            raise ParameterError(f"parameter '{name}' is read-only: it applies at start-up only "
                                 f"(restart the node with -p {name}:=...)")
        return spec.validate(value)


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
    except (OSError, yaml.YAMLError) as exc:
        raise ParameterError(f"cannot read params file {source}: {exc}") from exc
    if not isinstance(doc, dict):
        raise ParameterError(f"params file {source}: top level must be a mapping of node names")
    target_dir = Path(out_dir) if out_dir is not None else Path(tempfile.mkdtemp(prefix="spot_bow_ros_params_"))
    target = target_dir / f"{source.stem}.{namespace.strip('/').replace('/', '_')}{source.suffix or '.yaml'}"
    target.write_text(yaml.safe_dump(namespaced_params(doc, namespace), sort_keys=False))
    return str(target)
