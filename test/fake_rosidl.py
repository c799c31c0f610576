"""Test double (tests only): rclpy-style message classes with rosidl_generator_py's setter rules.

Classes are generated from the rosbags typestore (the standalone runtime's message definitions)
and check values as the generated `_<msg>.py` setters do (ros2/rosidl_python,
rosidl_generator_py/resource/_msg.py.em): `isinstance(value, float)` for float/double,
`bytes` of length 1 for `byte` (octet), `array.array` of the right typecode taken as is for
numeric sequences (anything else goes through the `__debug__` element loop, counted in
`SLOW_SETS`), numpy arrays of the field's dtype and size for fixed numeric arrays.

`install(monkeypatch)` puts `<pkg>.msg` (and `std_srvs.srv`) modules into `sys.modules` so that
`rclpy_backend.message_class` (and `RclpyNode.create_service`) import these instead of a ROS install.
"""

from __future__ import annotations

import array
import sys
import types
from collections.abc import Sequence, Set
from typing import Any

import numpy as np
from rosbags.typesys.base import Nodetype

from spot_bow_ros.standalone.message_store import messages_for

#: rosbags base type -> rosidl type name (as in get_fields_and_field_types)
_IDL = {"bool": "boolean", "byte": "octet", "char": "uint8", "float32": "float", "float64": "double",
        "string": "string"}
_TYPECODES = {"int8": "b", "uint8": "B", "int16": "h", "uint16": "H", "int32": "i", "uint32": "I",
              "int64": "q", "uint64": "Q", "float": "f", "double": "d"}
_DTYPES = {"int8": np.int8, "uint8": np.uint8, "int16": np.int16, "uint16": np.uint16, "int32": np.int32,
           "uint32": np.uint32, "int64": np.int64, "uint64": np.uint64, "float": np.float32,
           "double": np.float64}
_PY = {"boolean": bool, "octet": bytes, "float": float, "double": float, "string": str}
SLOW_SETS: list[str] = []  # "<Type>.<field>" set through the per-element check


def _idl(base: str) -> str:
    return _IDL.get(base, base)


def _short(type_name: str) -> str:
    pkg, _, name = type_name.split("/")
    return f"{pkg}/{name}"


class Registry:
    def __init__(self, distro: str = "jazzy"):
        self.store = messages_for(distro).typestore
        self.classes: dict[str, type] = {}

    def cls(self, type_name: str) -> type:
        if type_name not in self.classes:
            self.classes[type_name] = self._build(type_name)
        return self.classes[type_name]

    def _field(self, desc: tuple) -> tuple[str, str, Any]:
        """(kind, element rosidl type or message type, size) of a rosbags field description."""
        kind, rest = desc
        if kind == Nodetype.BASE:
            return "scalar", _idl(rest[0]), None
        if kind == Nodetype.NAME:
            return "scalar", rest, None
        (sub_kind, sub_rest), size = rest
        elem = _idl(sub_rest[0]) if sub_kind == Nodetype.BASE else sub_rest
        return ("array" if kind == Nodetype.ARRAY else "sequence"), elem, size

    def _build(self, type_name: str) -> type:
        registry = self
        fields = self.store.fielddefs[type_name][1]
        layout = {name: self._field(desc) for name, desc in fields}
        spelled = {}
        for name, (kind, elem, size) in layout.items():
            shown = _short(elem) if "/" in elem else elem
            spelled[name] = {"scalar": shown, "array": f"{shown}[{size}]",
                             "sequence": f"sequence<{shown}{', ' + str(size) if size else ''}>"}[kind]
        short = type_name.rsplit("/", 1)[1]

        def check_scalar(field: str, elem: str, value: Any) -> None:
            if "/" in elem:
                assert isinstance(value, registry.cls(elem)), f"{short}.{field} must be a {elem}"
            elif elem == "octet":
                assert isinstance(value, bytes) and len(value) == 1, f"{short}.{field} must be bytes of length 1"
            elif elem in _PY:
                assert isinstance(value, _PY[elem]), f"{short}.{field} must be {_PY[elem].__name__}, got {value!r}"
            else:
                bits = int(elem.lstrip("uint"))
                lo, hi = (0, 2**bits) if elem.startswith("u") else (-(2**(bits - 1)), 2**(bits - 1))
                assert isinstance(value, int) and lo <= value < hi, f"{short}.{field} must be {elem}, got {value!r}"

        def make_property(field: str, kind: str, elem: str, size: int | None) -> property:
            def get(self):
                return getattr(self, "_" + field)

            def set_(self, value):
                if kind == "sequence" and elem in _TYPECODES and isinstance(value, array.array):
                    assert value.typecode == _TYPECODES[elem], f"{short}.{field} needs typecode {_TYPECODES[elem]}"
                    object.__setattr__(self, "_" + field, value)
                    return
                if kind == "array" and elem in _DTYPES and isinstance(value, np.ndarray):
                    assert value.dtype == _DTYPES[elem] and value.size == size, f"{short}.{field} dtype/size"
                    object.__setattr__(self, "_" + field, value)
                    return
                if kind == "scalar":
                    check_scalar(field, elem, value)
                    object.__setattr__(self, "_" + field, value)
                    return
                SLOW_SETS.append(f"{short}.{field}")
                assert isinstance(value, (Sequence, Set)) and not isinstance(value, str), \
                    f"{short}.{field} must be a set or sequence"
                if kind == "array":
                    assert len(value) == size, f"{short}.{field} needs {size} elements"
                for v in value:
                    check_scalar(field, elem, v)
                if kind == "array" and elem in _DTYPES:
                    value = np.array(value, dtype=_DTYPES[elem])
                elif kind == "sequence" and elem in _TYPECODES:
                    value = array.array(_TYPECODES[elem], value)
                object.__setattr__(self, "_" + field, value)

            return property(get, set_)

        def default(kind: str, elem: str, size: int | None) -> Any:
            if kind == "sequence":
                return array.array(_TYPECODES[elem]) if elem in _TYPECODES else []
            if kind == "array":
                if elem in _DTYPES:
                    return np.zeros(size, dtype=_DTYPES[elem])
                return [default("scalar", elem, None) for _ in range(size)]
            if "/" in elem:
                return registry.cls(elem)()
            return {"boolean": False, "octet": bytes([0]), "float": 0.0, "double": 0.0, "string": ""}.get(elem, 0)

        def __init__(self, **kwargs):
            assert set(kwargs) <= set(layout), f"invalid arguments for {short}: {sorted(set(kwargs) - set(layout))}"
            for name, (kind, elem, size) in layout.items():
                object.__setattr__(self, "_" + name, default(kind, elem, size))
            for name, value in kwargs.items():
                setattr(self, name, value)

        namespace = {"__slots__": ["_" + n for n in layout], "__init__": __init__,
                     "_fields_and_field_types": spelled,
                     "get_fields_and_field_types": classmethod(lambda cls: dict(cls._fields_and_field_types))}
        namespace.update({name: make_property(name, *spec) for name, spec in layout.items()})
        return type(short, (), namespace)


#: the message packages the bridges use
PACKAGES = ("builtin_interfaces", "std_msgs", "sensor_msgs", "geometry_msgs", "nav_msgs", "tf2_msgs",
            "diagnostic_msgs")


def install(monkeypatch: Any, distro: str = "jazzy") -> Registry:
    """Serve `<pkg>.msg.<Type>` from a `Registry` for the `PACKAGES` (replacing a ROS install's
    modules for the duration of the test)."""
    registry = Registry(distro)
    for pkg in PACKAGES:
        module = types.ModuleType(f"{pkg}.msg")

        def lookup(attr: str, pkg: str = pkg) -> type:
            name = f"{pkg}/msg/{attr}"
            if name not in registry.store.types:
                raise AttributeError(attr)
            return registry.cls(name)

        module.__getattr__ = lookup  # PEP 562
        parent = types.ModuleType(pkg)
        parent.msg = module
        monkeypatch.setitem(sys.modules, pkg, parent)
        monkeypatch.setitem(sys.modules, f"{pkg}.msg", module)
    _install_services(monkeypatch, registry)
    SLOW_SETS.clear()
    return registry


#: the service packages the bridges serve (`<pkg>.srv.<Srv>` with `.Request` / `.Response`)
SRV_PACKAGES = ("std_srvs",)


def _install_services(monkeypatch: Any, registry: Registry) -> None:
    """`<pkg>.srv.<Srv>` classes as rosidl_generator_py makes them: a class with `Request` and
    `Response` message classes (from the service types `standalone.service_types` registers)."""
    from spot_bow_ros.standalone.service_types import SRV_DEFINITIONS, register_service_types

    register_service_types(registry.store)
    for pkg in SRV_PACKAGES:
        module = types.ModuleType(f"{pkg}.srv")
        for srv in SRV_DEFINITIONS:
            if srv.startswith(f"{pkg}/srv/"):
                short = srv.rsplit("/", 1)[1]
                setattr(module, short, type(short, (), {"Request": registry.cls(srv + "_Request"),
                                                        "Response": registry.cls(srv + "_Response")}))
        parent = sys.modules.get(pkg) or types.ModuleType(pkg)
        parent.srv = module
        monkeypatch.setitem(sys.modules, pkg, parent)
        monkeypatch.setitem(sys.modules, f"{pkg}.srv", module)
