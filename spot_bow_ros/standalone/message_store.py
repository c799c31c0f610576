"""ROS 2 message classes and CDR codec without ROS: `rosbags`' typestore.

`RosbagsMessages` builds messages by ROS type name with ROS defaults for every unspecified
field, normalises arrays to what `rosbags.serialize_cdr` needs (numpy arrays of the field's
dtype; `bytes` for uint8[] become a zero-copy `np.frombuffer` view), and (de)serialises CDR.
Message types not in the typestore (e.g. `rmw_dds_common`) are in it: rosbags ships them.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

try:  # a pip dependency of the standalone runtime; the ROS 2 route (colcon) does not install it
    from rosbags.interfaces import Nodetype as Nodetype  # re-exported: dds_idl imports it from here
    from rosbags.typesys import Stores, get_typestore
except ImportError as _exc:
    raise ModuleNotFoundError(
        "the standalone runtime needs the rosbags package: `pip install rosbags` "
        "(with ROS 2 sourced, use `ros2 topic` / `ros2 bag` instead)", name="rosbags") from _exc

from ..ros.distro import DEFAULT_DISTRO, profile
from ..ros.names import UnknownMessageType, normalize_type_name

if TYPE_CHECKING:
    from rosbags.interfaces.typing import Fielddefs, FieldDesc

_DTYPES = {
    "bool": np.bool_, "byte": np.uint8, "char": np.uint8, "int8": np.int8, "uint8": np.uint8,
    "int16": np.int16, "uint16": np.uint16, "int32": np.int32, "uint32": np.uint32,
    "int64": np.int64, "uint64": np.uint64, "float32": np.float32, "float64": np.float64,
}
_SCALAR_DEFAULTS = {"bool": False, "string": "", "float32": 0.0, "float64": 0.0}



class RosbagsMessages:
    """Message factory + CDR codec over a rosbags typestore for one ROS 2 distribution."""

    def __init__(self, distro: str = DEFAULT_DISTRO):
        distro_profile = profile(distro)  # ValueError for a distro not in ros/distro.py's table
        self.distro = distro_profile.name
        self.typestore = get_typestore(getattr(Stores, distro_profile.rosbags_store))
        from .service_types import register_service_types

        register_service_types(self.typestore)  # std_srvs / rcl_interfaces request+response types
        self._layouts: dict[str, tuple[type, Fielddefs, frozenset[str]]] = {}

    # -- construction -------------------------------------------------------------------
    def __call__(self, type_name: str, **fields: Any) -> Any:
        return self.make(type_name, **fields)

    def make(self, type_name: str, **fields: Any) -> Any:
        cls, fdefs, known = self._layout(type_name)
        if not known.issuperset(fields):
            unknown = set(fields) - known
            raise TypeError(f"{self.resolve(type_name)} has no field(s) {', '.join(sorted(unknown))}")
        kwargs = {}
        for fname, desc in fdefs:
            if fname in fields:
                kwargs[fname] = self._convert(desc, fields[fname])
            else:
                kwargs[fname] = self._default(desc)
        return cls(**kwargs)

    def _layout(self, type_name: str) -> tuple[type, Fielddefs, frozenset[str]]:
        """(class, field definitions, field names) of a type, cached: `make` runs per message."""
        layout = self._layouts.get(type_name)
        if layout is None:
            name = self.resolve(type_name)
            fdefs = self.typestore.fielddefs[name][1]
            layout = (self.typestore.types[name], fdefs, frozenset(f for f, _ in fdefs))
            self._layouts[type_name] = layout
        return layout

    def resolve(self, type_name: str) -> str:
        try:
            name = normalize_type_name(type_name)
        except ValueError as exc:
            raise UnknownMessageType(str(exc)) from None
        if name not in self.typestore.types:
            raise UnknownMessageType(f"unknown message type {type_name!r}")
        return name

    def type_class(self, type_name: str) -> type:
        return self.typestore.types[self.resolve(type_name)]

    def _default(self, desc: FieldDesc) -> Any:
        kind = desc[0]
        rest: Any = desc[1]  # rosbags' FieldDesc union does not narrow on `kind`
        if kind == Nodetype.BASE:
            return _SCALAR_DEFAULTS.get(rest[0], 0)
        if kind == Nodetype.NAME:
            return self.make(rest)
        (sub_kind, sub_rest), length = rest
        if kind == Nodetype.ARRAY:
            if sub_kind == Nodetype.BASE and sub_rest[0] in _DTYPES:
                return np.zeros(length, dtype=_DTYPES[sub_rest[0]])
            return [self._default((sub_kind, sub_rest)) for _ in range(length)]
        # SEQUENCE
        if sub_kind == Nodetype.BASE and sub_rest[0] in _DTYPES:
            return np.empty(0, dtype=_DTYPES[sub_rest[0]])
        return []

    def _convert(self, desc: FieldDesc, value: Any) -> Any:
        kind = desc[0]
        rest: Any = desc[1]  # rosbags' FieldDesc union does not narrow on `kind`
        if kind == Nodetype.BASE:
            return value
        if kind == Nodetype.NAME:
            return self.make(rest, **value) if isinstance(value, dict) else value
        (sub_kind, sub_rest), length = rest
        if sub_kind == Nodetype.BASE and sub_rest[0] in _DTYPES:
            dtype = _DTYPES[sub_rest[0]]
            arr: npt.NDArray[Any]
            if isinstance(value, (bytes, bytearray, memoryview)):
                arr = np.frombuffer(value, dtype=np.uint8).view(dtype)
            else:
                arr = np.asarray(value, dtype=dtype)
                if arr.ndim != 1:
                    arr = arr.reshape(-1)
            if kind == Nodetype.ARRAY and len(arr) != length:
                raise ValueError(f"fixed array needs {length} elements, got {len(arr)}")
            return arr
        if sub_kind == Nodetype.NAME:
            return [self.make(sub_rest, **v) if isinstance(v, dict) else v for v in value]
        return list(value)

    # -- codec --------------------------------------------------------------------------
    def serialize(self, msg: Any) -> bytes:
        """CDR (XCDR1, little endian, 4-byte encapsulation header) bytes of `msg`."""
        return self.typestore.serialize_cdr(msg, msg.__msgtype__).tobytes()

    def serialize_view(self, msg: Any) -> memoryview:
        return memoryview(self.typestore.serialize_cdr(msg, msg.__msgtype__))

    def deserialize(self, data: bytes | memoryview, type_name: str) -> Any:
        return self.typestore.deserialize_cdr(data, self.resolve(type_name))

    def msgdef(self, type_name: str) -> str:
        """`.msg` definition text (rosbag2 metadata / MCAP schema, `ros2msg` encoding)."""
        return self.typestore.generate_msgdef(self.resolve(type_name), ros_version=2)[0]

    def type_hash(self, type_name: str) -> str:
        """REP-2011 type hash (`RIHS01_<sha256 hex>`), as Iron and later advertise it."""
        return self.typestore.hash_rihs01(self.resolve(type_name))


@cache
def messages_for(distro: str = DEFAULT_DISTRO) -> RosbagsMessages:
    """Shared factory per distro (building a typestore takes a few ms)."""
    return RosbagsMessages(distro)
