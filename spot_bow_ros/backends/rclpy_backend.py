"""rclpy backend: the `NodeHandle` over a real `rclpy.node.Node` (ROS 2 Humble .. Jazzy).

Nothing is re-implemented: real nodes, real message classes (imported by type name), rclpy's
own ROS-argument handling (`--ros-args -p/-r/--params-file` reach rcl through `rclpy.init`),
parameter descriptors, QoS profiles, timers, clock and logger.

Messages: with the rosbags package (a dependency of the standalone runtime) the bridges build
messages with the same rosbags factory as on the standalone route (`node.msg` is
`standalone.message_store.RosbagsMessages` of `ROS_DISTRO`), and publishers hand their CDR bytes to rclpy
(`Publisher.publish(bytes)`, `standalone.cdr_encoder`): on the wire byte-identical to the rclpy message,
at a fraction of the Python work per message (no field-by-field construction, no conversion
to C). Without rosbags (or with `SPOT_BOW_ROS_SERIALIZED=0`) messages are rclpy's own classes
(`make_message`): fields filled with setattr, converted first to what the generated (rosidl_generator_py)
setters take without a per-element check: uint8[] and other numeric sequences as `array.array`
(from bytes, numpy arrays or lists: one memcpy; `bytes` or a numpy array go through the setter's
`__debug__` element loop instead, ~0.3 s for a 1280x720 bgr8 image), fixed numeric arrays as numpy
arrays of the field's dtype, `byte` as bytes of length 1 and ints in float fields as floats.

Callbacks: all nodes of a process spin in one `MultiThreadedExecutor`; each node keeps rclpy's
default mutually exclusive callback group, so a node's callbacks run one at a time (as with the
standalone backend) while a slow node does not starve the others. A callback that raises is
logged and the node keeps running (as with the standalone backend). SIGINT/SIGTERM stop the
executor; nodes are destroyed (on-shutdown callbacks run) before the context shuts down.

The pure conversions (`field_value`, `descriptor_fields`, `qos_fields`, `parameter_type_name`)
import without ROS, so they are unit-tested without an install.
"""

from __future__ import annotations

import array
import importlib
import logging
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from ..ros.names import UnknownMessageType, normalize_type_name
from ..ros.node_api import Logger, MessageFactory, Timer
from ..ros.params import (
    ParameterError,
    ParamSpec,
    descriptor_fields,
    parameter_type_name,
    read_only_reason,
    unknown_parameter_warnings,
)
from ..ros.qos import Durability, History, QoS, Reliability
from ..standalone.service_types import normalize_srv_type as normalize_service_type
from .lifecycle import USER_ERRORS, BackendError, shutdown_signals, startup_failure
from .log_routing import route_library_logs

if TYPE_CHECKING:  # rclpy is typed, but not installed where CI runs mypy: these names are Any there
    from rclpy.callback_groups import CallbackGroup
    from rclpy.context import Context
    from rclpy.impl.rcutils_logger import RcutilsLogger
    from rclpy.publisher import Publisher as RclpyPublisher
    from rclpy.service import Service
    from rclpy.subscription import Subscription as RclpySubscription

    from ..standalone.cdr_encoder import CdrEncoder
    from ..standalone.message_store import RosbagsMessages
    from .ros_args import RosArgs

try:  # ROS 2 (sourced); without it only the pure conversions below are usable
    import rclpy
    from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor
    from rclpy.executors import MultiThreadedExecutor
    from rclpy.node import Node
    from rclpy.parameter import Parameter
    from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
except ImportError:  # pragma: no cover - exercised where ROS 2 is not installed
    rclpy = None

try:  # Humble and later
    from rclpy.executors import ExternalShutdownException
except ImportError:  # pragma: no cover
    class ExternalShutdownException(Exception):  # type: ignore[no-redef]
        pass

_log = logging.getLogger("spot_bow_ros")
#: `SPOT_BOW_ROS_SERIALIZED=0`: bridges build rclpy message objects (`make_message`) instead
SERIALIZED_ENV = "SPOT_BOW_ROS_SERIALIZED"

#: rosidl field type -> array.array typecode (numeric sequences; rosidl_generator_py's
#: SPECIAL_NESTED_BASIC_TYPES: their setters take an array.array of this typecode as is)
_TYPECODES = {"int8": "b", "uint8": "B", "int16": "h", "uint16": "H", "int32": "i",
              "uint32": "I", "int64": "q", "uint64": "Q", "float": "f", "double": "d"}
#: rosidl field type -> numpy dtype (fixed-size numeric arrays are numpy arrays of it)
_DTYPES = {"int8": np.int8, "uint8": np.uint8, "int16": np.int16, "uint16": np.uint16,
           "int32": np.int32, "uint32": np.uint32, "int64": np.int64, "uint64": np.uint64,
           "float": np.float32, "double": np.float64}
_FLOATS = ("float", "double")


def _require_rclpy() -> None:
    if rclpy is None:
        raise BackendError("rclpy does not import (source your ROS 2 setup)")


# -- messages -------------------------------------------------------------------------------
class MessageClass(Protocol):
    """A rosidl_generator_py message class (what `message_class` imports); `get_fields_and_field_types()`:
    field name -> rosidl field type string (`sequence<uint8>`, `double[9]`, `std_msgs/Header`)."""

    def __call__(self) -> Any: ...
    def get_fields_and_field_types(self) -> dict[str, str]: ...


def message_class(type_name: str) -> MessageClass:
    """The rclpy message class of `pkg/msg/Type` (imported from the ROS install)."""
    try:
        pkg, sub, name = normalize_type_name(type_name).split("/")
    except ValueError as exc:
        raise UnknownMessageType(str(exc)) from None
    try:
        cls: MessageClass = getattr(importlib.import_module(f"{pkg}.{sub}"), name)
        return cls
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
        setattr(msg, name, field_value(types[name], value))
    return msg


def _element_type(field_type: str) -> tuple[str, str]:
    """('sequence' | 'array' | 'scalar', element type) of a rosidl field type string:
    `sequence<uint8>`, `sequence<double, 3>`, `double[9]`, `std_msgs/Header`, `string<10>`."""
    if field_type.startswith("sequence<"):
        return "sequence", field_type[len("sequence<"):-1].split(",")[0].strip()
    if field_type.endswith("]") and "[" in field_type:
        return "array", field_type[:field_type.rindex("[")]
    return "scalar", field_type


def _scalar_value(elem: str, value: Any) -> Any:
    """A scalar as the generated setter asserts it: float for float/double (ints too), bytes of
    length 1 for `octet` (byte), Python numbers for numpy scalars, dicts as nested messages."""
    if isinstance(value, np.generic):
        value = value.item()
    if elem in _FLOATS and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if elem == "octet" and isinstance(value, int) and not isinstance(value, bool):
        return bytes([value])
    if "/" in elem and isinstance(value, dict):
        return make_message(elem, **value)
    return value


def field_value(field_type: str, value: Any) -> Any:
    """Convert `value` to what rclpy's setter for a field of rosidl type `field_type` takes fast."""
    kind, elem = _element_type(field_type)
    if kind == "scalar":
        return _scalar_value(elem, value)
    if kind == "sequence" and elem in _TYPECODES:
        code = _TYPECODES[elem]
        if isinstance(value, array.array) and value.typecode == code:
            return value
        out = array.array(code)
        if elem == "uint8" and isinstance(value, (bytes, bytearray, memoryview)):
            out.frombytes(value)  # one memcpy
        else:
            raw = np.ascontiguousarray(value, dtype=_DTYPES[elem]).reshape(-1).view(np.uint8)
            out.frombytes(raw)  # type: ignore[arg-type]  # numpy's stubs: ndarray is a Buffer from Python 3.12
        return out
    if kind == "array" and elem in _DTYPES:
        return np.asarray(value, dtype=_DTYPES[elem]).reshape(-1)
    if elem == "octet" and isinstance(value, (bytes, bytearray, memoryview)):
        return [bytes([b]) for b in bytes(value)]  # byte[]: a list of 1-byte bytes
    if isinstance(value, np.ndarray):
        value = value.tolist()
    return [_scalar_value(elem, v) for v in value]


# -- QoS and parameters ---------------------------------------------------------------------
def qos_fields(qos: QoS) -> dict[str, Any]:
    """`QoSProfile` keyword arguments of our `QoS`, policies by their rclpy enum member names."""
    return {
        "history": "KEEP_ALL" if qos.history == History.KEEP_ALL else "KEEP_LAST",
        "depth": max(1, int(qos.depth)),
        "reliability": "RELIABLE" if qos.reliability == Reliability.RELIABLE else "BEST_EFFORT",
        "durability": "TRANSIENT_LOCAL" if qos.durability == Durability.TRANSIENT_LOCAL else "VOLATILE",
    }


def qos_profile(qos: QoS) -> QoSProfile:
    """rclpy `QoSProfile` of our `QoS` (1:1)."""
    _require_rclpy()
    f = qos_fields(qos)
    return QoSProfile(history=HistoryPolicy[f["history"]], depth=f["depth"],
                      reliability=ReliabilityPolicy[f["reliability"]],
                      durability=DurabilityPolicy[f["durability"]])


def parameter_descriptor(spec: ParamSpec, writable: bool = False, typed: bool = False) -> ParameterDescriptor:
    """`ParameterDescriptor` with description, read_only and the numeric range of `spec`
    (`writable`: read_only off, to give a declared-by-type parameter its first value; `typed`:
    `type` filled in, as `Node.set_descriptor` needs -- it refuses a descriptor whose type is not
    the parameter's, while `declare_parameter` fills the type in itself)."""
    _require_rclpy()
    f = descriptor_fields(spec)
    desc = ParameterDescriptor(description=f["description"], read_only=f["read_only"] and not writable,
                               additional_constraints=f.get("additional_constraints", ""))
    if typed:
        desc.type = parameter_type(spec).value
    if "floating_point_range" in f:
        desc.floating_point_range = [FloatingPointRange(**r) for r in f["floating_point_range"]]
    if "integer_range" in f:
        desc.integer_range = [IntegerRange(**r) for r in f["integer_range"]]
    return desc


def parameter_type(spec: ParamSpec) -> Parameter.Type:
    """The `rclpy.Parameter.Type` of `spec`."""
    _require_rclpy()
    return Parameter.Type[parameter_type_name(spec)]


def plain_value(value: Any) -> Any:
    """A parameter value as plain Python (rclpy returns arrays as array.array / numpy)."""
    return list(value) if isinstance(value, (array.array, np.ndarray, tuple)) else value


def fill_response(response: Any, fields: dict[str, Any]) -> None:
    """Set the `fields` a response has, each converted as `make_message` does (numpy scalars to
    Python numbers, numeric lists to arrays) so that the generated setters take them."""
    types = response.get_fields_and_field_types() if hasattr(response, "get_fields_and_field_types") else {}
    for key, value in fields.items():
        if hasattr(response, key):
            setattr(response, key, field_value(types[key], value) if key in types else value)


# -- the node -------------------------------------------------------------------------------
def serialized_messages() -> RosbagsMessages | None:
    """The rosbags message factory (`standalone.message_store`) of this ROS distribution (`ROS_DISTRO`), with
    which bridges build messages that publishers hand to rclpy already serialized; None (rclpy
    message classes, `make_message`) without the rosbags package, for a distribution rosbags does
    not know, with an rclpy that cannot publish serialized messages, or with
    `SPOT_BOW_ROS_SERIALIZED=0`."""
    if os.environ.get(SERIALIZED_ENV, "1").strip() == "0":
        return None
    try:  # an rclpy whose publishers take serialized bytes (`publish_raw`)
        from rclpy.impl.implementation_singleton import rclpy_implementation

        if not hasattr(rclpy_implementation.Publisher, "publish_raw"):
            return None
        from ..standalone.message_store import messages_for

        return messages_for(os.environ.get("ROS_DISTRO", "jazzy").strip().lower() or "jazzy")
    except (ImportError, ValueError):
        return None


class _Publisher:
    """An rclpy publisher. Messages of the rosbags factory (the bridges' on this route when
    `serialized_messages()` is available) are published as their CDR bytes
    (`Publisher.publish(bytes)`: rcl_publish_serialized_message); rclpy message objects as they are."""

    def __init__(self, pub: RclpyPublisher, topic: str, encoder: CdrEncoder | None = None):
        self._pub, self.topic, self._encoder = pub, topic, encoder

    def publish(self, msg: Any) -> None:
        if self._encoder is not None and hasattr(msg, "__msgtype__"):
            msg = self._encoder.encode(msg)  # TypeError for a message of another type
        self._pub.publish(msg)

    def get_subscription_count(self) -> int:
        return int(self._pub.get_subscription_count())


class _Subscription:
    def __init__(self, sub: RclpySubscription, topic: str):
        self._sub, self.topic = sub, topic


def guarded(callback: Callable[..., None], logger: Logger) -> Callable[..., None]:
    """`callback` that logs what it raises in one line instead of stopping the executor (rclpy
    re-raises callback exceptions from spin; the standalone backend logs and goes on)."""
    def run(*args: Any) -> None:
        try:
            callback(*args)
        except Exception as exc:  # noqa: BLE001 - a callback's error is one line, the node keeps running
            logger.error(f"callback {getattr(callback, '__qualname__', callback)} raised "
                         f"{type(exc).__name__}: {exc}")
    return run


class RclpyNode:
    """`NodeHandle` backed by a real `rclpy.node.Node` (available as `.node`)."""

    def __init__(self, name: str, namespace: str | None = None, context: Context | None = None,
                 serialized: bool | None = None):
        _require_rclpy()
        kwargs = {"context": context} if context is not None else {}
        self.node = Node(name, namespace=namespace, **kwargs) if namespace else Node(name, **kwargs)
        self.name = self.node.get_name()
        self.namespace = self.node.get_namespace()
        self._on_shutdown: list[Callable[[], None]] = []
        self._specs: dict[str, ParamSpec] = {}
        self._destroyed = False
        #: The node's message factory (`NodeHandle.msg`): rosbags messages, published serialized,
        #: when available (`serialized_messages`; pass `serialized=False` for rclpy's classes).
        self.messages = serialized_messages() if serialized is not False else None
        self.msg: MessageFactory = self.messages if self.messages is not None else make_message

    def create_publisher(self, type_name: str, topic: str, qos: QoS) -> _Publisher:
        pub = self.node.create_publisher(message_class(type_name), topic, qos_profile(qos))
        encoder = None
        if self.messages is not None:
            from ..standalone.cdr_encoder import CdrEncoder

            encoder = CdrEncoder(self.messages, type_name)
        return _Publisher(pub, pub.topic_name, encoder)

    def create_subscription(self, type_name: str, topic: str, callback: Callable[[Any], None],
                            qos: QoS, callback_group: str | None = None) -> _Subscription:
        """`callback_group`: a named MutuallyExclusiveCallbackGroup of its own (E-Stop first)."""
        sub = self.node.create_subscription(message_class(type_name), topic,
                                            guarded(callback, self.node.get_logger()), qos_profile(qos),
                                            callback_group=self._group(callback_group))
        return _Subscription(sub, sub.topic_name)

    def create_timer(self, period_s: float, callback: Callable[[], None]) -> Timer:
        if not period_s > 0:
            raise ValueError(f"timer period must be > 0 s, got {period_s}")
        # A zero-argument wrapper: newer rclpy hands a TimerInfo to callbacks that take an argument.
        run = guarded(callback, self.node.get_logger())
        timer: Timer = self.node.create_timer(float(period_s), lambda: run())  # rclpy.timer.Timer
        return timer

    def now(self) -> tuple[int, int]:
        sec, nsec = self.node.get_clock().now().seconds_nanoseconds()
        return int(sec), int(nsec)

    def declare_parameters(self, specs: Iterable[ParamSpec]) -> dict[str, Any]:
        """Declare each spec with its descriptor; overrides (`-p`, params files) come from rcl.
        A wrong type or range raises ParameterError naming the parameter. As on the standalone
        backend an integer override of a double parameter is taken as a float, and an empty
        YAML list (`[]`, which rcl hands over without a type) as an empty list."""
        values = {}
        for spec in specs:
            param = self._declare(spec)
            value = plain_value(param.value)
            if value is None:  # no override of a list declared by type, or an untyped `[]` override
                overrides = getattr(self.node, "_parameter_overrides", {})
                value = [] if isinstance(spec.default, (list, tuple)) and spec.name in overrides \
                    else plain_value(spec.default)
                self._initialize(spec, value)
            if isinstance(spec.default, (list, tuple)) and spec.is_read_only and hasattr(self.node, "set_descriptor"):
                try:  # initialized: now read-only (declared writable only to be initialized)
                    self.node.set_descriptor(spec.name, parameter_descriptor(spec, typed=True))
                except Exception as exc:  # noqa: BLE001 - stays writable; the node ignores runtime changes of it
                    self.node.get_logger().debug(f"parameter '{spec.name}' stays writable: {exc}")
            values[spec.name] = spec.validate(value)  # choices, NaN, int->float as the standalone backend
            self._specs[spec.name] = spec
        return values

    def _declare(self, spec: ParamSpec) -> Parameter:
        exceptions = importlib.import_module("rclpy.exceptions")
        ParameterException = exceptions.ParameterException
        # a wrong override type: its own exception in Humble .. Jazzy; by its reason otherwise
        wrong_type = getattr(exceptions, "InvalidParameterTypeException", None)

        # Plain Python defaults are what every distro's declare_parameter takes; an empty list
        # carries no element type (rclpy would infer BYTE_ARRAY), so it is declared by its type.
        default = plain_value(spec.default)
        initial = default if default != [] else parameter_type(spec)
        try:
            try:
                return self.node.declare_parameter(spec.name, initial,
                                                   parameter_descriptor(spec, writable=isinstance(default, list)))
            except ParameterException as exc:
                # e.g. `-p rate:=30` for a double: coerce as the standalone backend does, or fail
                override = getattr(self.node, "_parameter_overrides", {}).get(spec.name)
                is_type = (wrong_type is not None and isinstance(exc, wrong_type)) or "type" in str(exc).lower()
                if override is None or not is_type:
                    raise
                value = spec.validate(plain_value(override.value))
                return self.node.declare_parameter(spec.name, value, parameter_descriptor(spec),
                                                   ignore_override=True)
        except ParameterException as exc:
            raise ParameterError(f"parameter '{spec.name}': {exc}") from None
        except TypeError as exc:  # wrong override type in some distros
            raise ParameterError(f"parameter '{spec.name}' expects {spec.type_name}: {exc}") from None

    def _initialize(self, spec: ParamSpec, value: Any) -> None:
        """Give a declared-but-unset (statically typed) parameter its value, so that
        `get_parameter`, `ros2 param get` and `ros2 param dump` see it (not 'not initialized')."""
        try:
            result = self.node.set_parameters([Parameter(spec.name, parameter_type(spec), value)])[0]
        except Exception as exc:  # noqa: BLE001 - keep the resolved value; only the ROS-side view stays unset
            result = type("Result", (), {"successful": False, "reason": str(exc)})()
        if not result.successful:
            self.node.get_logger().debug(f"parameter '{spec.name}' left unset: {result.reason}")

    def get_parameter(self, name: str) -> Any:
        return plain_value(self.node.get_parameter(name).value)

    def on_parameters_set(self, callback: Callable[[dict[str, Any]], str | None]) -> None:
        """Live parameters: `callback({name: value})` applies a runtime change or returns the
        reason to refuse it (rclpy `add_on_set_parameters_callback`; read-only parameters are
        refused by rclpy itself from their descriptor)."""
        from rcl_interfaces.msg import SetParametersResult

        def on_set(params: list[Parameter]) -> SetParametersResult:
            batch = {}
            for p in params:
                spec = self._specs.get(p.name)
                if spec is None:
                    continue
                if spec.is_read_only:  # rclpy refuses it from the descriptor; should that not be in force
                    return SetParametersResult(successful=False, reason=read_only_reason(p.name))
                try:
                    batch[p.name] = spec.validate(plain_value(p.value))
                except ParameterError as exc:
                    return SetParametersResult(successful=False, reason=str(exc))
            try:
                reason = callback(batch) if batch else None
            except Exception as exc:  # noqa: BLE001 - a callback's error rejects the change with its reason
                reason = f"{type(exc).__name__}: {exc}"
            return SetParametersResult(successful=reason is None, reason=reason or "")

        self.node.add_on_set_parameters_callback(on_set)
        if hasattr(self.node, "add_pre_set_parameters_callback"):  # Iron and later (Jazzy), not Humble
            self.node.add_pre_set_parameters_callback(self._integers_as_doubles)

    def _integers_as_doubles(self, params: list[Parameter]) -> list[Parameter]:
        """`ros2 param set /node rate 30` sends an integer: taken as 30.0 for a double parameter
        (as the standalone backend does) instead of rclpy's 'Wrong parameter type'."""
        out = []
        for p in params:
            spec = self._specs.get(p.name)
            if spec is not None and p.type_ == Parameter.Type.INTEGER and parameter_type_name(spec) == "DOUBLE":
                p = Parameter(p.name, Parameter.Type.DOUBLE, float(p.value))  # range: rclpy and on_set check it
            elif spec is not None and p.type_ == Parameter.Type.INTEGER_ARRAY \
                    and parameter_type_name(spec) == "DOUBLE_ARRAY":
                p = Parameter(p.name, Parameter.Type.DOUBLE_ARRAY, [float(v) for v in p.value])
            out.append(p)
        return out

    def _group(self, name: str | None) -> CallbackGroup | None:
        """The named MutuallyExclusiveCallbackGroup (None: the node's default group)."""
        if name is None:
            return None
        from rclpy.callback_groups import MutuallyExclusiveCallbackGroup

        groups = self.__dict__.setdefault("_groups", {})
        if name not in groups:
            groups[name] = MutuallyExclusiveCallbackGroup()
        return groups[name]

    def create_service(self, srv_type: str, name: str, callback: Callable[[Any], Any],
                       parameters: bool = False, callback_group: str | None = None) -> Service:
        """A real rclpy service; `callback(request)` returns the response's fields (dict) or a
        response. Services of a node share one mutually exclusive callback group of their own:
        with the MultiThreadedExecutor they run beside the node's subscriptions and timers
        (a robot RPC behind a service never stalls them; the bridges guard shared state with
        their own locks), one service call at a time. `callback_group`: a named group of its own
        instead (E-Stop services beside a blocking power call)."""
        from rclpy.callback_groups import MutuallyExclusiveCallbackGroup

        pkg, _, type_name = normalize_service_type(srv_type).split("/")
        cls = getattr(importlib.import_module(f"{pkg}.srv"), type_name)
        if getattr(self, "_service_group", None) is None:
            self._service_group = MutuallyExclusiveCallbackGroup()
        logger = self.node.get_logger()

        def serve(request: Any, response: Any) -> Any:
            # Nothing may escape: rclpy's executor re-raises a callback's exception from spin,
            # which would stop every node of the process.
            try:
                out = callback(request)
                if not isinstance(out, dict):
                    return out
                fill_response(response, out)
            except Exception as exc:  # noqa: BLE001 - a handler's error is one line, the service keeps serving
                logger.error(f"service {name} failed: {type(exc).__name__}: {exc}")
                try:
                    fill_response(response, {"success": False, "message": f"{type(exc).__name__}: {exc}"})
                except Exception:  # noqa: BLE001 - a response without these fields: its defaults
                    pass
            return response

        group = self._group(callback_group) or self._service_group
        return self.node.create_service(cls, name, serve, callback_group=group)

    def get_logger(self) -> RcutilsLogger:
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
            except Exception as exc:  # noqa: BLE001 - shutdown must go on for the other steps
                self.node.get_logger().error(f"shutdown step failed: {exc}")
        self.node.destroy_node()


def _init_rclpy(argv: Sequence[str]) -> None:
    """`rclpy.init` with the ROS args and without rclpy's signal handlers (ours stop the loop,
    so nodes are destroyed -- leases returned -- while the context is still valid)."""
    try:
        from rclpy.signals import SignalHandlerOptions

        rclpy.init(args=list(argv), signal_handler_options=SignalHandlerOptions.NO)
    except (ImportError, TypeError):  # pragma: no cover - an rclpy without signal handler options
        rclpy.init(args=list(argv))


def run_rclpy_nodes(builders: Sequence[tuple[str, Callable[[RclpyNode], object]]], args: RosArgs,
                    stop: threading.Event | None = None) -> int:
    """`run_nodes` for rclpy: init with the ROS args, build, spin until SIGINT/SIGTERM (or
    `stop`), destroy the nodes, shut down. Returns 0, 1 (failure) or 2 (bad arguments/parameters)."""
    from ..standalone.cyclone_config import apply_shipped_cyclone_config  # looked up here: tests replace it

    _require_rclpy()
    if len(builders) > 1 and any(a.startswith(("__node:=", "__name:=")) for a in args.raw):
        # rcl applies a global rename to every node of the context: duplicate names
        _log.error(f"-r __node:=... would give every node of this process ({', '.join(n for n, _ in builders)}) "
                   "the same name; rename one node with -r <node>:__node:=<new name>")
        return 2
    note = apply_shipped_cyclone_config()  # before rclpy.init: rmw_cyclonedds_cpp reads it then
    if note:
        _log.info(note)
    try:
        _init_rclpy(["spot_bow_ros", *args.raw])
    except Exception as exc:  # noqa: BLE001 - rcl rejects the ROS arguments: one line, exit 2
        _log.error(f"rclpy.init failed: {exc}")
        return 2
    stop = stop or threading.Event()
    nodes: list[RclpyNode] = []
    unroute: Callable[[], None] = lambda: None
    # two threads per node and two more: a blocking service, a timer and a named group (E-Stop)
    # of one node all run at once
    executor = MultiThreadedExecutor(num_threads=2 * len(builders) + 2)
    code, running = 0, False
    with shutdown_signals(stop):
        try:
            for name, build in builders:
                node = RclpyNode(name)
                nodes.append(node)
                if len(nodes) == 1:  # bosdyn's lines (some on the root logger) under the node, not `[root]`
                    unroute = route_library_logs(node.get_logger().get_child("bosdyn"))
                build(node)
                executor.add_node(node.node)
            # as on the standalone route: overrides no node declares (rclpy ignores them silently)
            for warning in unknown_parameter_warnings({n.name: n._specs for n in nodes}, args.params_files,
                                                      args.params, args.namespace or ""):
                _log.warning(warning)
            for node in nodes:
                node.get_logger().info("running (rclpy)")
            running = True
            while rclpy.ok() and not stop.is_set():
                executor.spin_once(timeout_sec=0.2)
        except (KeyboardInterrupt, ExternalShutdownException):
            pass
        except Exception as exc:  # noqa: BLE001 - an executor failure is one line, exit 1
            if running:  # re-raised by the executor from a callback: not the user's arguments
                _log.error(f"{', '.join(n for n, _ in builders)} failed: {type(exc).__name__}: {exc}")
                code = 1
            elif isinstance(exc, USER_ERRORS):  # bad parameters or names: one line, exit code 2
                _log.error(str(exc))
                code = 2
            else:
                _log.error(startup_failure(builders, exc))
                code = 1
        finally:
            for node in reversed(nodes):
                try:
                    executor.remove_node(node.node)
                except Exception:  # noqa: BLE001 - shutdown path: the node may be gone already
                    pass
                try:
                    node.destroy()
                except Exception as exc:  # noqa: BLE001 - keep shutting down the other nodes
                    _log.error(f"destroying node {node.name} failed: {exc}")
            executor.shutdown()
            unroute()
            rclpy.try_shutdown()
    return code
