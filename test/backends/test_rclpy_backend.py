"""rclpy backend (backends/rclpy_backend.py).

Without ROS: the pure conversions (message fields as the rosidl-generated setters take them,
QoS and parameter descriptors), the bridges building messages through `make_message` over
rclpy-style classes with the generated setters' checks (test/fake_rosidl.py, a test double),
parameter declaration against a small model of rclpy's Node parameter rules (a test double,
`FakeRclpyNode` below), and that the rclpy route imports without the standalone runtime's pip
dependencies. With ROS 2 installed and sourced, the same against the real rclpy.
"""

from __future__ import annotations

import array
import enum
import logging
import subprocess
import sys
import threading
import time
import types

import fake_rosidl
import numpy as np
import pytest
from google.protobuf import json_format

from spot_bow_ros.backends import rclpy_backend as rb
from spot_bow_ros.backends.ros_args import parse_ros_args
from spot_bow_ros.ros.names import UnknownMessageType
from spot_bow_ros.ros.params import ParameterError, ParameterSet, ParamSpec, descriptor_fields, parameter_type_name
from spot_bow_ros.ros.qos import COMMAND, LATCHED, SENSOR_DATA, QoS


# -- message fields (no ROS) ----------------------------------------------------------------
@pytest.fixture
def msgs(monkeypatch):
    return fake_rosidl.install(monkeypatch)


@pytest.mark.parametrize("kind", ["ndarray", "bytes", "bytearray", "memoryview", "list"])
def test_uint8_data_takes_the_setters_array_fast_path(msgs, kind):
    pixels = np.arange(720 * 1280 * 3, dtype=np.uint32).astype(np.uint8).reshape(720, 1280, 3)
    data = {"ndarray": pixels, "bytes": pixels.tobytes(), "bytearray": bytearray(pixels.tobytes()),
            "memoryview": memoryview(pixels), "list": pixels.ravel()[:1000].tolist()}[kind]
    img = rb.make_message("sensor_msgs/msg/Image", header={"frame_id": "cam"}, height=720, width=1280,
                          encoding="bgr8", step=3840, data=data)
    assert isinstance(img.data, array.array) and img.data.typecode == "B"
    assert bytes(img.data) == (bytes(data) if kind == "list" else pixels.tobytes())
    assert img.header.frame_id == "cam" and fake_rosidl.SLOW_SETS == []


def test_fields_are_what_the_generated_setters_assert(msgs):
    # float fields: ints and numpy scalars become Python floats (the setter asserts isinstance float)
    v = rb.make_message("geometry_msgs/msg/Vector3", x=1, y=np.float32(0.5), z=np.int64(2))
    assert (v.x, v.y, v.z) == (1.0, 0.5, 2.0) and all(type(c) is float for c in (v.x, v.y, v.z))
    # `byte level`: bytes of length 1, from an int or as given
    assert rb.make_message("diagnostic_msgs/msg/DiagnosticStatus", level=2).level == b"\x02"
    assert rb.make_message("diagnostic_msgs/msg/DiagnosticStatus", level=b"\x01").level == b"\x01"
    # fixed float64[9] from numpy or ints; float64[] sequences as array('d')
    info = rb.make_message("sensor_msgs/msg/CameraInfo", k=np.eye(3).ravel(), r=[1, 0, 0, 0, 1, 0, 0, 0, 1],
                           d=[0.1, 0.2], p=np.zeros(12, np.float32))
    assert list(info.k) == list(np.eye(3).ravel()) and info.r.dtype == np.float64 and list(info.d) == [0.1, 0.2]
    js = rb.make_message("sensor_msgs/msg/JointState", name=["a", "b"], position=np.array([1, 2], np.float32),
                         velocity=[1, 2], effort=array.array("d", [3.0, 4.0]))
    assert js.position.typecode == "d" and list(js.velocity) == [1.0, 2.0] and list(js.effort) == [3.0, 4.0]
    # byte[] (octet sequence) from bytes: a list of 1-byte bytes
    assert rb.make_message("std_msgs/msg/ByteMultiArray", data=b"\x01\x02").data == [b"\x01", b"\x02"]
    # nested: message objects or dicts, stamp seconds as numpy ints
    hdr = rb.make_message("std_msgs/msg/Header", stamp={"sec": np.int64(5), "nanosec": 7}, frame_id="f")
    tf = rb.make_message("tf2_msgs/msg/TFMessage", transforms=[
        {"header": hdr, "child_frame_id": "c", "transform": {"rotation": {"w": 1}}}])
    assert tf.transforms[0].header.stamp.sec == 5 and tf.transforms[0].transform.rotation.w == 1.0
    assert fake_rosidl.SLOW_SETS.count("TFMessage.transforms") == 1  # lists of messages take the loop
    with pytest.raises(TypeError, match="no field"):
        rb.make_message("std_msgs/msg/String", text="x")
    with pytest.raises(UnknownMessageType):
        rb.make_message("sensor_msgs/msg/Nope")
    with pytest.raises(UnknownMessageType):
        rb.make_message("not a type")


def test_field_value_spellings():
    assert rb.field_value("sequence<uint8, 4>", b"ab") == array.array("B", b"ab")
    assert rb.field_value("double[3]", [1, 2, 3]).dtype == np.float64
    assert rb.field_value("sequence<boolean>", np.array([True, False])) == [True, False]
    assert rb.field_value("string[2]", ("a", "b")) == ["a", "b"]
    assert rb.field_value("octet", 3) == b"\x03" and rb.field_value("string", "s") == "s"
    assert rb.field_value("int32", np.int32(4)) == 4 and type(rb.field_value("int32", np.int32(4))) is int


# -- the bridges build valid rclpy messages (no ROS) ----------------------------------------
class FakeHandle:
    """A `NodeHandle` whose messages are rclpy-style classes (test double): publishers keep what is
    published, subscriptions are called directly, timers run on a thread."""

    def __init__(self, name, overrides=None):
        self.name, self.namespace = name, "/"
        self.published: dict[str, list] = {}
        self.callbacks: dict[str, object] = {}
        self._params, self._overrides = ParameterSet(), dict(overrides or {})
        self._stop, self._on_shutdown = threading.Event(), []

    def msg(self, type_name, **fields):
        return rb.make_message(type_name, **fields)

    def create_publisher(self, type_name, topic, qos):
        cls = rb.message_class(type_name)
        got = self.published.setdefault(topic, [])

        class Pub:
            def publish(self, msg):
                assert isinstance(msg, cls)
                got.append(msg)

            def get_subscription_count(self):
                return 1

        pub = Pub()
        pub.topic = topic
        return pub

    def create_subscription(self, type_name, topic, callback, qos):
        self.callbacks[topic] = callback
        return types.SimpleNamespace(topic=topic)

    def create_timer(self, period_s, callback):
        def run():
            while not self._stop.wait(period_s):
                callback()
        threading.Thread(target=run, daemon=True).start()
        return types.SimpleNamespace(cancel=lambda: None)

    def now(self):
        return divmod(time.time_ns(), 1_000_000_000)

    def declare_parameters(self, specs):
        return self._params.declare(specs, self._overrides)

    def get_parameter(self, name):
        return self._params.get(name)

    def get_logger(self):
        return logging.getLogger(f"test.{self.name}")

    def add_on_shutdown(self, callback):
        self._on_shutdown.append(callback)

    def destroy(self):
        self._stop.set()
        for callback in reversed(self._on_shutdown):
            callback()


def test_proprioception_bridge_builds_rclpy_messages(msgs):
    from nodes.test_proprioception import arm_sample

    from spot_bow_ros.nodes.proprioception import ProprioceptionBridge

    node = FakeHandle("proprioception", {"connect_to_spot": False})
    ProprioceptionBridge(node)
    text = json_format.MessageToJson(arm_sample())
    node.callbacks["bow/proprioception"](rb.make_message("std_msgs/msg/String", data=text))
    node.callbacks["bow/proprioception/binary"](
        rb.make_message("std_msgs/msg/UInt8MultiArray", data=arm_sample().SerializeToString()))
    node.destroy()
    js = node.published["joint_states"]
    assert len(js) == 2 and list(js[0].name) == ["shoulder", "elbow"] and js[0].position.typecode == "d"
    assert node.published["imu"] and node.published["imu"][0].orientation_covariance[0] == -1.0


def test_webcam_bridge_publishes_rclpy_images_without_the_element_loop(msgs):
    from spot_bow_ros.nodes.webcam import WebcamBridge

    node = FakeHandle("webcam", {"device": "test_pattern", "width": 320, "height": 240, "fps": 30.0})
    WebcamBridge(node)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not (node.published.get("webcam/image_raw")
                                               and node.published.get("webcam/camera_info")):
        time.sleep(0.02)
    node.destroy()
    image = node.published["webcam/image_raw"][0]
    assert (image.width, image.height, len(image.data)) == (320, 240, 320 * 240 * 3)
    assert isinstance(image.data, array.array) and "Image.data" not in fake_rosidl.SLOW_SETS
    assert len(node.published["webcam/camera_info"][0].k) == 9


def test_odometry_tf_and_camera_info_converters_build_rclpy_messages(msgs):
    from spot_bow_ros.convert.camera_info import camera_info_msg, restamp
    from spot_bow_ros.convert.odometry import odometry_msg, tf_message, transform_stamped_msg

    pose = ((1, 2, 3), (0, 0, 0, 1))  # ints on purpose: float fields must still get floats
    odom = odometry_msg(rb.make_message, (5, 6), "odom", "body", pose, (0.1, 0, 0), (0, 0, 1))
    assert odom.pose.pose.position.x == 1.0 and odom.pose.covariance.dtype == np.float64
    tf = tf_message(rb.make_message, [transform_stamped_msg(rb.make_message, (5, 6), "odom", "body", pose)])
    assert tf.transforms[0].transform.rotation.w == 1.0 and tf.transforms[0].header.stamp.nanosec == 6
    info = camera_info_msg(rb.make_message, 640, 480, [500, 0, 320, 0, 500, 240, 0, 0, 1])
    again = restamp(rb.make_message, info, (7, 8), "cam")
    assert again.k[0] == 500.0 and again.header.frame_id == "cam" and again.header.stamp.sec == 7


# -- QoS and parameter descriptors (no ROS) --------------------------------------------------
def test_qos_fields():
    assert rb.qos_fields(SENSOR_DATA) == {"history": "KEEP_LAST", "depth": 5, "reliability": "BEST_EFFORT",
                                          "durability": "VOLATILE"}
    assert rb.qos_fields(LATCHED)["durability"] == "TRANSIENT_LOCAL" and rb.qos_fields(COMMAND)["depth"] == 1
    assert rb.qos_fields(QoS(depth=0))["depth"] == 1  # rclpy rejects depth 0 with KEEP_LAST


def test_descriptor_fields_and_parameter_types():
    f = descriptor_fields(ParamSpec("rate", 15.0, "Hz", min=1.0))
    assert f["floating_point_range"] == [{"from_value": 1.0, "to_value": float(np.finfo(np.float64).max),
                                          "step": 0.0}] and "integer_range" not in f
    f = descriptor_fields(ParamSpec("port", 443, "port", min=1, max=65535, read_only=True))
    assert f["integer_range"] == [{"from_value": 1, "to_value": 65535, "step": 0}] and f["read_only"] is True
    assert all(type(v) is int for v in f["integer_range"][0].values())
    assert descriptor_fields(ParamSpec("n", 0, "", min=0.5))["integer_range"][0]["from_value"] == 1
    f = descriptor_fields(ParamSpec("mode", "a", "Mode", choices=["a", "b"], live=True))
    assert f == {"description": "Mode (one of: a, b)", "read_only": False, "additional_constraints": "applied live"}
    # not applied live by its node: read-only, so `ros2 param set` refuses it
    assert descriptor_fields(ParamSpec("mode", "a", "Mode"))["read_only"] is True
    assert "additional_constraints" not in descriptor_fields(ParamSpec("mode", "a", "Mode"))
    assert "additional_constraints" not in descriptor_fields(ParamSpec("m", "a", "", live=True, read_only=True))
    assert "integer_range" not in descriptor_fields(ParamSpec("on", True, "", min=0, max=1))
    assert parameter_type_name(ParamSpec("names", [], "", list_type=str)) == "STRING_ARRAY"
    assert parameter_type_name(ParamSpec("gains", [1.0], "")) == "DOUBLE_ARRAY"
    assert [parameter_type_name(ParamSpec("x", d, "")) for d in (True, 1, 1.0, "s")] == \
        ["BOOL", "INTEGER", "DOUBLE", "STRING"]


# -- parameter declaration against a model of rclpy's rules (no ROS) ------------------------
class _Type(enum.Enum):
    NOT_SET, BOOL, INTEGER, DOUBLE, STRING, BYTE_ARRAY, BOOL_ARRAY, INTEGER_ARRAY, DOUBLE_ARRAY, \
        STRING_ARRAY = range(10)

    @classmethod
    def from_value(cls, v):  # rclpy.parameter.Parameter.Type.from_parameter_value
        if v is None:
            return cls.NOT_SET
        for t, kind in ((cls.BOOL, bool), (cls.INTEGER, int), (cls.DOUBLE, float), (cls.STRING, str)):
            if isinstance(v, kind):
                return t
        if all(isinstance(x, bytes) for x in v):
            return cls.BYTE_ARRAY  # also for [] (ros2/rclpy#912)
        for t, kind in ((cls.BOOL_ARRAY, bool), (cls.INTEGER_ARRAY, int), (cls.DOUBLE_ARRAY, float),
                        (cls.STRING_ARRAY, str)):
            if all(isinstance(x, kind) for x in v):
                return t
        raise TypeError(v)


class FakeParameter:
    Type = _Type

    def __init__(self, name, type_=None, value=None):
        self.name, self.value = name, value
        self.type_ = _Type.from_value(value) if type_ is None else type_


class _ParamError(Exception):
    pass


class _TypeError(_ParamError):
    pass


class _Uninitialized(_ParamError):
    pass


class FakeRclpyNode:
    """The parameter rules of rclpy.node.Node (Humble..Jazzy) that the backend relies on: static
    types from the default or a Parameter.Type, overrides taking precedence (an untyped `[]` from
    a YAML file arrives as NOT_SET), wrong types and ranges raising, uninitialized parameters
    raising on get_parameter, read-only refusing set_parameters."""

    def __init__(self, overrides):
        self._parameter_overrides = {k: FakeParameter(k, _Type.NOT_SET if v == [] else None, None if v == [] else v)
                                     for k, v in overrides.items()}
        self.params, self.descs, self.calls = {}, {}, []

    def declare_parameter(self, name, value=None, descriptor=None, ignore_override=False):
        self.calls.append((name, value, ignore_override))
        assert descriptor is not None
        ptype = value if isinstance(value, _Type) else _Type.from_value(value)
        value = None if isinstance(value, _Type) else value
        if not ignore_override and name in self._parameter_overrides:
            value = self._parameter_overrides[name].value
        param = FakeParameter(name, value=value)
        if param.type_ != _Type.NOT_SET and param.type_ != ptype:
            raise _TypeError(f"{name}: expected {ptype.name}, got {param.type_.name}")
        for r in descriptor.integer_range + descriptor.floating_point_range:
            if param.value is not None and not r.from_value <= param.value <= r.to_value:
                raise _ParamError(f"{name} out of range")
        self.params[name], self.descs[name] = param, (ptype, descriptor)
        return param

    def set_descriptor(self, name, descriptor):
        """rclpy's Node.set_descriptor: refused on a read-only parameter; the current value is kept
        only when it complies with the new descriptor -- its `type` included (not filled in here,
        unlike in declare_parameter), unless dynamic_typing."""
        ptype, desc = self.descs[name]
        if desc.read_only:
            raise _ParamError(f"{name} is read-only")
        if not descriptor.dynamic_typing and self.params[name].type_.value != descriptor.type:
            raise _ParamError(f"{name}: wrong parameter type, expected {descriptor.type}")
        self.descs[name] = (ptype, descriptor)

    def set_parameters(self, params):
        out = []
        for p in params:
            ptype, desc = self.descs[p.name]
            ok = not desc.read_only and p.type_ == ptype
            if ok:
                self.params[p.name] = p
            out.append(types.SimpleNamespace(successful=ok, reason="" if ok else "refused"))
        return out

    def get_parameter(self, name):
        if self.params[name].type_ == _Type.NOT_SET:
            raise _Uninitialized(name)
        return self.params[name]

    def get_logger(self):
        return logging.getLogger("test.fake_rclpy")


@pytest.fixture
def fake_rclpy(monkeypatch):
    class Desc:
        def __init__(self, description="", read_only=False, type=0, dynamic_typing=False,
                     additional_constraints=""):
            self.description, self.read_only, self.type, self.dynamic_typing = \
                description, read_only, type, dynamic_typing
            self.additional_constraints = additional_constraints
            self.integer_range, self.floating_point_range = [], []

    exceptions = types.ModuleType("rclpy.exceptions")
    exceptions.ParameterException, exceptions.InvalidParameterTypeException = _ParamError, _TypeError
    monkeypatch.setitem(sys.modules, "rclpy.exceptions", exceptions)
    for name, value in (("rclpy", types.SimpleNamespace()), ("Parameter", FakeParameter),
                        ("ParameterDescriptor", Desc), ("IntegerRange", lambda **kw: types.SimpleNamespace(**kw)),
                        ("FloatingPointRange", lambda **kw: types.SimpleNamespace(**kw))):
        monkeypatch.setattr(rb, name, value, raising=False)

    def make(overrides):
        node = rb.RclpyNode.__new__(rb.RclpyNode)
        node.node, node._specs, node._on_shutdown, node._destroyed = FakeRclpyNode(overrides), {}, [], False
        return node
    return make


SPECS = [ParamSpec("rate", 15.0, "Hz", min=1.0, max=60.0), ParamSpec("names", [], "joint names", list_type=str),
         ParamSpec("cameras", ["a", "b"], "cameras"), ParamSpec("port", 443, "port", min=1, max=65535),
         ParamSpec("enabled", True, "on", read_only=True)]


def test_parameters_declared_by_default_or_type_and_initialized(fake_rclpy):
    node = fake_rclpy({})
    assert node.declare_parameters(SPECS) == {"rate": 15.0, "names": [], "cameras": ["a", "b"], "port": 443,
                                              "enabled": True}
    calls = {name: value for name, value, _ in node.node.calls}
    assert calls["names"] is _Type.STRING_ARRAY and calls["rate"] == 15.0 and calls["cameras"] == ["a", "b"]
    assert node.get_parameter("names") == []  # initialized: not 'uninitialized' for ros2 param get
    assert node.node.descs["port"][1].integer_range[0].to_value == 65535


def test_parameter_overrides_int_for_double_and_empty_yaml_lists(fake_rclpy):
    node = fake_rclpy({"rate": 30, "names": ["x"], "cameras": [], "port": 80})
    assert node.declare_parameters(SPECS) == {"rate": 30.0, "names": ["x"], "cameras": [], "port": 80,
                                              "enabled": True}
    assert node.get_parameter("rate") == 30.0 and type(node.get_parameter("rate")) is float
    assert ("rate", 30.0, True) in node.node.calls  # retried with the coerced value, override ignored
    assert node.get_parameter("cameras") == []


@pytest.mark.parametrize("overrides, message", [
    ({"port": 70000}, "parameter 'port'"), ({"rate": "fast"}, "parameter 'rate' expects double"),
    ({"rate": 100}, "parameter 'rate' = 100.0 is above its maximum"), ({"names": [1]}, "parameter 'names'"),
])
def test_wrong_parameter_overrides_are_one_clear_error(fake_rclpy, overrides, message):
    with pytest.raises(ParameterError, match=message):
        fake_rclpy(overrides).declare_parameters(SPECS)


# -- the rclpy route needs no standalone dependencies ---------------------------------------
def test_rclpy_route_imports_without_rosbags_and_cyclonedds():
    code = ("import builtins\n"
            "real = builtins.__import__\n"
            "def guard(name, *a, **k):\n"
            "    if name.split('.')[0] in ('rosbags', 'cyclonedds'):\n"
            "        raise ImportError('no ' + name)\n"
            "    return real(name, *a, **k)\n"
            "builtins.__import__ = guard\n"
            "from spot_bow_ros.backends import chooser, lifecycle, rclpy_backend, ros_args\n"
            "from spot_bow_ros.nodes import composed, webcam, spot_cameras, proprioception, motor_command\n"
            "from spot_bow_ros.nodes import image_service\n"
            "assert issubclass(lifecycle.UnknownMessageType, LookupError)\n"
            "print('ok')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "ok", out.stderr


def test_ros_args_that_rcl_knows_are_accepted():
    args = parse_ros_args(["--ros-args", "--log-config-file", "log.cfg", "--log-file-name", "x",
                           "--disable-rosout-logs", "-r", "webcam:__node:=cam", "--log-level", "webcam:=debug"])
    assert args.node_name == "cam" and args.log_level == "debug"


# -- with ROS 2 installed and sourced --------------------------------------------------------
@pytest.fixture
def ros():
    return pytest.importorskip("rclpy")


@pytest.fixture
def node(ros):
    ros.init(args=["test", "--ros-args", "-p", "rate:=30", "-p", "port:=70000"])
    n = rb.RclpyNode("rclpy_backend_test")
    yield n
    n.destroy()
    ros.try_shutdown()


def test_real_messages_filled_fast(ros):
    from sensor_msgs.msg import Image

    pixels = np.zeros((720, 1280, 3), np.uint8)
    img = rb.make_message("sensor_msgs/msg/Image", header={"frame_id": "cam"}, height=720, width=1280,
                          encoding="bgr8", step=3840, data=pixels.tobytes())
    assert isinstance(img, Image) and img.header.frame_id == "cam"
    assert isinstance(img.data, array.array) and len(img.data) == pixels.size
    info = rb.make_message("sensor_msgs/CameraInfo", k=np.eye(3).ravel(), d=[0.1, 0.2])
    assert list(info.k) == list(np.eye(3).ravel()) and list(info.d) == [0.1, 0.2]
    assert rb.make_message("diagnostic_msgs/msg/DiagnosticStatus", level=2).level == b"\x02"
    assert rb.make_message("geometry_msgs/msg/Vector3", x=1).x == 1.0
    with pytest.raises(UnknownMessageType):
        rb.make_message("sensor_msgs/msg/Nope")


def test_real_qos_profiles(ros):
    from rclpy.qos import DurabilityPolicy, ReliabilityPolicy

    assert rb.qos_profile(SENSOR_DATA).reliability == ReliabilityPolicy.BEST_EFFORT
    assert rb.qos_profile(LATCHED).durability == DurabilityPolicy.TRANSIENT_LOCAL


def test_real_parameters_from_ros_args_with_descriptors(node):
    values = node.declare_parameters([ParamSpec("rate", 15.0, "Hz", min=1.0, max=60.0),
                                      ParamSpec("names", [], "joint names", list_type=str)])
    assert values == {"rate": 30.0, "names": []}  # `-p rate:=30` is an integer: taken as a double
    assert node.get_parameter("names") == [] and node.get_parameter("rate") == 30.0
    with pytest.raises(ParameterError, match="port"):
        node.declare_parameters([ParamSpec("port", 443, "robot port", min=1, max=65535)])


def test_real_pub_sub_and_timer(node, ros):
    pub = node.create_publisher("std_msgs/msg/String", "chatter", LATCHED)
    assert pub.topic == "/chatter" and pub.get_subscription_count() == 0
    got, ticks = [], []
    node.create_subscription("std_msgs/msg/String", "chatter", got.append, LATCHED)
    node.create_timer(0.01, lambda: ticks.append(1))
    pub.publish(node.msg("std_msgs/msg/String", data="x"))
    for _ in range(50):
        ros.spin_once(node.node, timeout_sec=0.1)
        if got and ticks:
            break
    assert got and got[0].data == "x" and ticks
    sec, nsec = node.now()
    assert sec > 1_600_000_000 and 0 <= nsec < 1_000_000_000


def test_live_parameters_callback_validates_and_applies(fake_rclpy, monkeypatch):
    """on_parameters_set -> rclpy's add_on_set_parameters_callback: values validated against
    the spec (range, int->float), the bridge's callback applies or refuses."""
    msg_module = types.ModuleType("rcl_interfaces.msg")
    msg_module.SetParametersResult = lambda successful, reason: types.SimpleNamespace(successful=successful,
                                                                                     reason=reason)
    monkeypatch.setitem(sys.modules, "rcl_interfaces", types.ModuleType("rcl_interfaces"))
    monkeypatch.setitem(sys.modules, "rcl_interfaces.msg", msg_module)
    node = fake_rclpy({})
    node.declare_parameters([ParamSpec("rate", 15.0, "Hz", min=1.0, max=60.0, live=True), *SPECS[1:]])
    registered = []
    node.node.add_on_set_parameters_callback = registered.append
    applied = []
    node.on_parameters_set(lambda changes: applied.append(changes) or (None if changes["rate"] < 50 else "too fast"))
    (callback,) = registered
    ok = callback([FakeParameter("rate", None, 30)])  # an integer for a double
    assert ok.successful and applied == [{"rate": 30.0}] and type(applied[0]["rate"]) is float
    refused = callback([FakeParameter("rate", None, 55.0)])
    assert not refused.successful and refused.reason == "too fast"
    out_of_range = callback([FakeParameter("rate", None, 100.0)])
    assert not out_of_range.successful and "above its maximum" in out_of_range.reason
    assert callback([FakeParameter("unrelated", None, 1)]).successful  # not ours: left to rclpy
    # not live: read-only (rclpy refuses it from the descriptor; the callback never applies it)
    read_only = callback([FakeParameter("port", None, 80)])
    assert not read_only.successful and "read-only" in read_only.reason and len(applied) == 2


def test_list_parameters_end_read_only_unless_live(fake_rclpy):
    """A list parameter is declared writable (to be given its first value when declared by type),
    then made read-only with a descriptor of its own type (set_descriptor keeps the value only then)."""
    specs = [*SPECS, ParamSpec("gains", [1.0, 2.0], "gains", live=True)]
    node = fake_rclpy({"names": ["x"]})
    assert node.declare_parameters(specs)["names"] == ["x"]
    for name in ("names", "cameras"):
        ptype, desc = node.node.descs[name]
        assert desc.read_only and desc.type == ptype.value == _Type.STRING_ARRAY.value
        assert not node.node.set_parameters([FakeParameter(name, None, ["y"])])[0].successful
    assert not node.node.descs["gains"][1].read_only
    assert node.node.set_parameters([FakeParameter("gains", None, [3.0])])[0].successful


def test_services_run_in_their_own_callback_group_and_fill_the_response(fake_rclpy, monkeypatch):
    """create_service -> rclpy Node.create_service(srv class, name, callback, callback_group):
    one mutually exclusive group for the node's services, dict results copied into the response,
    a raising callback answered with success=False."""
    groups = types.ModuleType("rclpy.callback_groups")
    groups.MutuallyExclusiveCallbackGroup = type("MutuallyExclusiveCallbackGroup", (), {})
    srv = types.ModuleType("std_srvs.srv")
    srv.Trigger = type("Trigger", (), {})
    for name, module in (("rclpy.callback_groups", groups), ("std_srvs", types.ModuleType("std_srvs")),
                         ("std_srvs.srv", srv)):
        monkeypatch.setitem(sys.modules, name, module)
    node = fake_rclpy({})
    created = []
    node.node.create_service = lambda cls, name, cb, callback_group: created.append((cls, name, cb, callback_group))
    node.create_service("std_srvs/Trigger", "power_on", lambda req: {"success": True, "message": "on"})
    node.create_service("std_srvs/srv/Trigger", "stand", lambda req: 1 / 0)
    (cls1, name1, serve_ok, g1), (_, _, serve_bad, g2) = created
    assert cls1 is srv.Trigger and name1 == "power_on" and g1 is g2
    response = types.SimpleNamespace(success=False, message="")
    assert serve_ok(object(), response) is response and (response.success, response.message) == (True, "on")
    bad = serve_bad(object(), types.SimpleNamespace(success=True, message=""))
    assert bad.success is False and bad.message == "ZeroDivisionError: division by zero"


def test_services_answer_with_generated_classes_and_never_raise(msgs, fake_rclpy, monkeypatch):
    """Trigger/SetBool as rosidl generates them (std_srvs.srv.X.Request/Response with asserting
    setters): numpy results converted; a result the setter refuses is logged and answered
    success=False instead of raising (rclpy would re-raise it from spin and stop the process)."""
    groups = types.ModuleType("rclpy.callback_groups")
    groups.MutuallyExclusiveCallbackGroup = type("MutuallyExclusiveCallbackGroup", (), {})
    monkeypatch.setitem(sys.modules, "rclpy.callback_groups", groups)
    from std_srvs.srv import SetBool, Trigger

    node = fake_rclpy({})
    created = {}
    node.node.create_service = lambda cls, name, cb, callback_group: created.setdefault(name, (cls, cb))
    node.create_service("std_srvs/srv/SetBool", "enable_motion",
                        lambda req: {"success": np.bool_(req.data), "message": f"motion {req.data}"})
    node.create_service("std_srvs/srv/Trigger", "bad", lambda req: {"success": True, "message": 5})
    cls, serve = created["enable_motion"]
    assert cls is SetBool
    response = serve(SetBool.Request(data=True), SetBool.Response())
    assert response.success is True and response.message == "motion True"
    cls, serve = created["bad"]
    assert cls is Trigger
    response = serve(Trigger.Request(), Trigger.Response())
    assert response.success is False and "must be str" in response.message


# -- run_rclpy_nodes: exit codes and the one error line (rclpy replaced by doubles) ---------
class _Logger:
    def get_child(self, name):
        return self

    def info(self, msg):
        pass

    debug = warning = error = fatal = info


class _Node:
    def __init__(self, name):
        self.name, self.node, self._specs = name, object(), {}

    def declare_parameters(self, specs):
        self._specs.update({s.name: s for s in specs})

    def get_logger(self):
        return _Logger()

    def destroy(self):
        pass


@pytest.fixture
def fake_run(monkeypatch):
    from spot_bow_ros.standalone import cyclone_config

    spins = []

    class Executor:
        def __init__(self, num_threads):
            pass

        add_node = remove_node = lambda self, node: None

        def spin_once(self, timeout_sec):
            spins.append(timeout_sec)
            if spins[0] == "raise":
                raise ValueError("Logger severity cannot be changed between calls.")

        def shutdown(self):
            pass

    monkeypatch.setattr(rb, "rclpy", types.SimpleNamespace(ok=lambda: True, try_shutdown=lambda: None), raising=False)
    monkeypatch.setattr(rb, "_init_rclpy", lambda argv: None)
    monkeypatch.setattr(rb, "MultiThreadedExecutor", Executor, raising=False)
    monkeypatch.setattr(rb, "RclpyNode", _Node)
    monkeypatch.setattr(cyclone_config, "apply_shipped_cyclone_config", lambda: None)

    def run(build, spin_raises=False, argv=()):
        spins[:] = ["raise"] if spin_raises else []
        return rb.run_rclpy_nodes([("webcam", build)], parse_ros_args(list(argv)), stop=threading.Event())
    return run


def _fail(exc):
    def build(node):
        raise exc
    return build


def test_run_rclpy_nodes_reports_one_line_with_the_right_exit_code(fake_run, caplog):
    class Refused(RuntimeError):
        user_facing = True

    caplog.set_level(logging.ERROR, logger="spot_bow_ros")
    assert fake_run(_fail(ParameterError("parameter 'fps' = -1.0 is below its minimum 0.1"))) == 2
    assert fake_run(_fail(Refused("the robot refused the password for user 'admin'"))) == 1
    assert fake_run(_fail(RuntimeError("camera gone"))) == 1
    # a callback's error re-raised by the executor while running: a failure, not a user error
    assert fake_run(lambda node: None, spin_raises=True) == 1
    assert [r.getMessage() for r in caplog.records] == [
        "parameter 'fps' = -1.0 is below its minimum 0.1",
        "the robot refused the password for user 'admin'",
        "starting webcam failed: RuntimeError: camera gone",
        "webcam failed: ValueError: Logger severity cannot be changed between calls.",
    ]


def test_run_rclpy_nodes_warns_about_overrides_no_node_declares(fake_run, caplog, tmp_path):
    """`ros2 run` picks rclpy when ROS is sourced: a misspelt `-p` or params-file entry gets the
    same one-line warning as on the standalone route (rclpy would ignore it silently)."""
    params = tmp_path / "webcam.yaml"
    params.write_text("webcam:\n  ros__parameters:\n    fps: 15.0\n    widht: 640\n")
    caplog.set_level(logging.WARNING, logger="spot_bow_ros")
    def build(node):
        node.declare_parameters([ParamSpec("fps", 30.0, "Hz"), ParamSpec("width", 640, "px")])

    assert fake_run(build, spin_raises=True, argv=["--ros-args", "-p", "fpss:=10", "--params-file", str(params)]) == 1
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2
    assert "'widht'" in warnings[0] and "did you mean 'width'" in warnings[0]
    assert "'fpss' (-p) is not declared by any node (did you mean 'fps'?)" in warnings[1]


def test_integer_for_a_live_double_is_taken_as_a_double(fake_rclpy, monkeypatch):
    """Jazzy's pre-set callback: `ros2 param set /motor_command cmd_timeout 1` (an integer) reaches
    the descriptor check as 1.0, like on the standalone backend; Humble has no pre-set callbacks."""
    msg_module = types.ModuleType("rcl_interfaces.msg")
    msg_module.SetParametersResult = lambda successful, reason: types.SimpleNamespace(successful=successful,
                                                                                     reason=reason)
    monkeypatch.setitem(sys.modules, "rcl_interfaces", types.ModuleType("rcl_interfaces"))
    monkeypatch.setitem(sys.modules, "rcl_interfaces.msg", msg_module)
    node = fake_rclpy({})
    node.declare_parameters([ParamSpec("cmd_timeout", 0.5, "s", min=0.05, max=10.0, live=True),
                             ParamSpec("gains", [1.0], "", live=True), ParamSpec("count", 3, "", live=True)])
    pre = []
    node.node.add_on_set_parameters_callback = lambda cb: None
    node.node.add_pre_set_parameters_callback = pre.append
    node.on_parameters_set(lambda changes: None)
    (coerce,) = pre
    out = coerce([FakeParameter("cmd_timeout", None, 1), FakeParameter("gains", None, [1, 2]),
                  FakeParameter("count", None, 4), FakeParameter("other", None, 1)])
    assert [(p.name, p.type_, p.value) for p in out] == [
        ("cmd_timeout", _Type.DOUBLE, 1.0), ("gains", _Type.DOUBLE_ARRAY, [1.0, 2.0]),
        ("count", _Type.INTEGER, 4), ("other", _Type.INTEGER, 1)]
    assert type(out[0].value) is float


def test_a_global_node_rename_is_refused_for_several_nodes(fake_run, caplog):
    """rcl applies `-r __node:=x` to every node of the process: duplicate names. Refused with one
    line (exit 2) when the process hosts several nodes; a node-targeted rename is rcl's business."""
    caplog.set_level(logging.ERROR, logger="spot_bow_ros")
    two = [("spot_bow", lambda node: None), ("webcam", lambda node: None)]
    args = parse_ros_args(["--ros-args", "-r", "__node:=bridges"])
    assert rb.run_rclpy_nodes(two, args, stop=threading.Event()) == 2
    assert "-r <node>:__node:=<new name>" in caplog.records[-1].getMessage()
    caplog.clear()
    targeted = parse_ros_args(["--ros-args", "-r", "webcam:__node:=cam"])
    assert rb.run_rclpy_nodes([*two[:1], ("webcam", _fail(RuntimeError("x")))], targeted, stop=threading.Event()) == 1
    assert "__node" not in caplog.records[-1].getMessage()  # started (and failed in the build), not refused
