"""rclpy backend: the `NodeHandle` over a real `rclpy.node.Node` (ROS 2 Humble .. Jazzy).

Nothing is re-implemented: real nodes, real message classes (imported by type name), rclpy's
own ROS-argument handling (`--ros-args -p/-r/--params-file` reach rcl through `rclpy.init`),
parameter descriptors, QoS profiles, timers, clock and logger.

Message fields are filled with setattr. uint8[]/byte[] sequences are handed to rclpy as `bytes`
(assigning a numpy array to `Image.data` copies element by element: ~100 ms for 1280x720 bgr8,
bytes take ~0.3 ms); other numeric sequences as `array.array`, fixed arrays as numpy arrays.

Callbacks: all nodes of a process spin in one `MultiThreadedExecutor`; each node keeps rclpy's
default mutually exclusive callback group, so a node's callbacks run one at a time (as with the
standalone backend) while a slow node does not starve the others.
"""

from __future__ import annotations

import array
import importlib
import logging
import threading
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import rclpy
from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor
from rclpy.executors import MultiThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

from .names import normalize_type_name
from .params import ParameterError, ParamSpec
from .qos import Durability, History, QoS, Reliability

try:  # Humble and later
    from rclpy.executors import ExternalShutdownException
except ImportError:  # pragma: no cover
    class ExternalShutdownException(Exception):  # type: ignore[no-redef]
        pass

_log = logging.getLogger("spot_bow_ros")

#: rosidl field type -> array.array typecode (numeric sequences)
_TYPECODES = {"int8": "b", "uint8": "B", "octet": "B", "int16": "h", "uint16": "H", "int32": "i",
              "uint32": "I", "int64": "q", "uint64": "Q", "float": "f", "double": "d"}
_DTYPES = {"int8": np.int8, "uint8": np.uint8, "octet": np.uint8, "int16": np.int16, "uint16": np.uint16,
           "int32": np.int32, "uint32": np.uint32, "int64": np.int64, "uint64": np.uint64,
           "float": np.float32, "double": np.float64, "boolean": np.bool_}
_PARAM_TYPES = {
    bool: Parameter.Type.BOOL, int: Parameter.Type.INTEGER, float: Parameter.Type.DOUBLE, str: Parameter.Type.STRING,
}
_ARRAY_PARAM_TYPES = {
    bool: Parameter.Type.BOOL_ARRAY, int: Parameter.Type.INTEGER_ARRAY, float: Parameter.Type.DOUBLE_ARRAY,
    str: Parameter.Type.STRING_ARRAY,
}


# -- messages -------------------------------------------------------------------------------
def message_class(type_name: str) -> type:
    """The rclpy message class of `pkg/msg/Type` (imported from the ROS install)."""
    from .messages import UnknownMessageType

    try:
        pkg, sub, name = normalize_type_name(type_name).split("/")
    except ValueError as exc:
        raise UnknownMessageType(str(exc)) from None
    try:
        return getattr(importlib.import_module(f"{pkg}.{sub}"), name)
    except (ImportError, AttributeError):
        raise UnknownMessageType(f"unknown message type {type_name!r} (is its package installed and sourced?)") \
            from None


def make_message(type_name: str, **fields: Any) -> Any:
    """Build an rclpy message: defaults from the class, `fields` set with setattr (see module doc)."""
    cls = message_class(type_name)
    msg = cls()
    types = cls.get_fields_and_field_types()
    for name, value in fields.items():
        if name not in types:
            raise TypeError(f"{type_name} has no field {name}")
        setattr(msg, name, _field_value(types[name], value))
    return msg


def _field_value(field_type: str, value: Any) -> Any:
    """Convert `value` to what rclpy's setter for a field of rosidl type `field_type` takes fast."""
    if field_type.startswith("sequence<"):
        elem = field_type[len("sequence<"):-1].split(",")[0].strip()
        if elem in ("uint8", "octet"):
            if isinstance(value, np.ndarray):
                return value.astype(np.uint8, copy=False).tobytes()
            if isinstance(value, (bytearray, memoryview)):
                return bytes(value)
            if isinstance(value, (list, tuple)):
                return bytes(value)
            return value
        if elem in _TYPECODES and isinstance(value, (np.ndarray, list, tuple)):
            arr = np.ascontiguousarray(value, dtype=_DTYPES[elem]).reshape(-1)
            return array.array(_TYPECODES[elem], arr.tobytes())
        if "/" in elem:
            return [make_message(elem, **v) if isinstance(v, dict) else v for v in value]
        return list(value) if isinstance(value, np.ndarray) else value
    if "[" in field_type:  # fixed-size array, e.g. double[9]
        elem = field_type.split("[")[0]
        if elem in _DTYPES:
            return np.asarray(value, dtype=_DTYPES[elem]).reshape(-1)
        if "/" in elem:
            return [make_message(elem, **v) if isinstance(v, dict) else v for v in value]
        return list(value)
    if "/" in field_type and isinstance(value, dict):
        return make_message(field_type, **value)
    if isinstance(value, np.generic):
        return value.item()
    return value


# -- QoS and parameters ---------------------------------------------------------------------
def qos_profile(qos: QoS) -> QoSProfile:
    """rclpy `QoSProfile` of our `QoS` (1:1)."""
    return QoSProfile(
        history=HistoryPolicy.KEEP_ALL if qos.history == History.KEEP_ALL else HistoryPolicy.KEEP_LAST,
        depth=max(1, int(qos.depth)),
        reliability=(ReliabilityPolicy.RELIABLE if qos.reliability == Reliability.RELIABLE
                     else ReliabilityPolicy.BEST_EFFORT),
        durability=(DurabilityPolicy.TRANSIENT_LOCAL if qos.durability == Durability.TRANSIENT_LOCAL
                     else DurabilityPolicy.VOLATILE))


def parameter_descriptor(spec: ParamSpec) -> ParameterDescriptor:
    """`ParameterDescriptor` with description, read_only and the numeric range of `spec`."""
    text = spec.description
    if spec.choices:
        text += f" (one of: {', '.join(map(str, spec.choices))})"
    desc = ParameterDescriptor(description=text, read_only=spec.read_only)
    if spec.min is not None or spec.max is not None:
        if isinstance(spec.default, bool):
            pass
        elif isinstance(spec.default, float):
            desc.floating_point_range = [FloatingPointRange(
                from_value=float(spec.min if spec.min is not None else -np.finfo(np.float64).max),
                to_value=float(spec.max if spec.max is not None else np.finfo(np.float64).max), step=0.0)]
        elif isinstance(spec.default, int):
            desc.integer_range = [IntegerRange(
                from_value=int(spec.min if spec.min is not None else -(2**63)),
                to_value=int(spec.max if spec.max is not None else 2**63 - 1), step=0)]
    return desc


def parameter_type(spec: ParamSpec) -> Any:
    if isinstance(spec.default, (list, tuple)):
        return _ARRAY_PARAM_TYPES[spec.element_type]
    return _PARAM_TYPES[type(spec.default)]


# -- the node -------------------------------------------------------------------------------
class _Publisher:
    def __init__(self, pub: Any, topic: str):
        self._pub, self.topic = pub, topic

    def publish(self, msg: Any) -> None:
        self._pub.publish(msg)

    def get_subscription_count(self) -> int:
        return self._pub.get_subscription_count()


class _Subscription:
    def __init__(self, sub: Any, topic: str):
        self._sub, self.topic = sub, topic


class RclpyNode:
    """`NodeHandle` backed by a real `rclpy.node.Node` (available as `.node`)."""

    def __init__(self, name: str, namespace: str | None = None, context: Any = None):
        kwargs = {"context": context} if context is not None else {}
        self.node = Node(name, namespace=namespace, **kwargs) if namespace else Node(name, **kwargs)
        self.name = self.node.get_name()
        self.namespace = self.node.get_namespace()
        self._on_shutdown: list[Callable[[], None]] = []
        self._specs: dict[str, ParamSpec] = {}
        self._destroyed = False

    def msg(self, type_name: str, **fields: Any) -> Any:
        return make_message(type_name, **fields)

    def create_publisher(self, type_name: str, topic: str, qos: QoS) -> _Publisher:
        pub = self.node.create_publisher(message_class(type_name), topic, qos_profile(qos))
        return _Publisher(pub, pub.topic_name)

    def create_subscription(self, type_name: str, topic: str, callback: Callable[[Any], None],
                            qos: QoS) -> _Subscription:
        sub = self.node.create_subscription(message_class(type_name), topic, callback, qos_profile(qos))
        return _Subscription(sub, sub.topic_name)

    def create_timer(self, period_s: float, callback: Callable[[], None]) -> Any:
        if not period_s > 0:
            raise ValueError(f"timer period must be > 0 s, got {period_s}")
        return self.node.create_timer(period_s, callback)

    def now(self) -> tuple[int, int]:
        sec, nsec = self.node.get_clock().now().seconds_nanoseconds()
        return int(sec), int(nsec)

    def declare_parameters(self, specs: Iterable[ParamSpec]) -> dict[str, Any]:
        """Declare each spec with its descriptor; overrides (`-p`, params files) come from rcl.
        A wrong type or range raises ParameterError naming the parameter."""
        from rclpy.exceptions import ParameterException

        values = {}
        for spec in specs:
            # Plain Python defaults are what every distro's declare_parameter takes; an empty
            # list carries no element type, so it is declared by its Parameter.Type instead.
            default = list(spec.default) if isinstance(spec.default, (list, tuple)) else spec.default
            initial = default if default != [] else parameter_type(spec)
            try:
                param = self.node.declare_parameter(spec.name, initial, parameter_descriptor(spec))
            except ParameterException as exc:
                raise ParameterError(f"parameter '{spec.name}': {exc}") from None
            except TypeError as exc:  # wrong override type in some distros
                raise ParameterError(f"parameter '{spec.name}' expects {spec.type_name}: {exc}") from None
            value = param.value
            if value is None:  # declared by type without an override
                value = default
            if isinstance(value, (array.array, np.ndarray, tuple)):
                value = list(value)
            values[spec.name] = spec.validate(value)  # choices, NaN, int->float as the standalone backend
            self._specs[spec.name] = spec
        return values

    def get_parameter(self, name: str) -> Any:
        value = self.node.get_parameter(name).value
        return list(value) if isinstance(value, (array.array, np.ndarray, tuple)) else value

    def get_logger(self) -> Any:
        return self.node.get_logger()

    def add_on_shutdown(self, callback: Callable[[], None]) -> None:
        self._on_shutdown.append(callback)

    def destroy(self) -> None:
        if self._destroyed:
            return
        self._destroyed = True
        for callback in reversed(self._on_shutdown):
            try:
                callback()
            except Exception as exc:
                self.node.get_logger().error(f"shutdown step failed: {exc}")
        self.node.destroy_node()


def run_rclpy_nodes(builders: Sequence[tuple[str, Callable[[Any], object]]], args: Any,
                    stop: threading.Event | None = None) -> int:
    """`run_nodes` for rclpy: init with the ROS args, build, spin until shutdown, clean up."""
    from .backend import USER_ERRORS

    rclpy.init(args=["spot_bow_ros", *args.raw])
    nodes: list[RclpyNode] = []
    executor = MultiThreadedExecutor(num_threads=max(2, len(builders) + 1))
    code = 0
    try:
        for name, build in builders:
            node = RclpyNode(name)
            nodes.append(node)
            build(node)
            executor.add_node(node.node)
        while rclpy.ok() and not (stop is not None and stop.is_set()):
            executor.spin_once(timeout_sec=0.2)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except USER_ERRORS as exc:
        _log.error(str(exc))
        code = 2
    except Exception as exc:
        _log.error(f"{', '.join(n for n, _ in builders)} failed: {type(exc).__name__}: {exc}")
        code = 1
    finally:
        for node in reversed(nodes):
            try:
                executor.remove_node(node.node)
            except Exception:
                pass
            node.destroy()
        executor.shutdown()
        rclpy.try_shutdown()
    return code
