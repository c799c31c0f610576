"""Backend choice (backends/chooser.py), ROS arguments (backends/ros_args.py), run_node and the
shared start/stop pieces (backends/lifecycle.py)."""

import threading
import time

import pytest

from spot_bow_ros.backends.chooser import choose_backend, run_node, run_nodes
from spot_bow_ros.backends.lifecycle import BackendError
from spot_bow_ros.backends.ros_args import parse_ros_args
from spot_bow_ros.ros.params import ParamSpec
from spot_bow_ros.ros.qos import DEFAULT
from spot_bow_ros.standalone.context import create_standalone_context
from spot_bow_ros.standalone.node import InProcessBus


def test_parse_ros_args_types_values_like_rcl(tmp_path):
    args = parse_ros_args(["--foo", "--ros-args", "-p", "rate:=5", "-p", "gain:=0.5", "-p", "on:=true",
                           "-p", "name:=front", "-p", "ids:=[1, 2]", "--params-file", "a.yaml",
                           "-r", "__ns:=robot", "-r", "__node:=cam2", "-r", "image:=/other/image",
                           "--log-level", "debug", "--", "tail", "--backend", "standalone"])
    assert args.params == {"rate": 5, "gain": 0.5, "on": True, "name": "front", "ids": [1, 2]}
    assert args.params_files == ["a.yaml"] and args.namespace == "/robot" and args.node_name == "cam2"
    assert args.remaps == {"image": "/other/image"} and args.log_level == "debug"
    assert args.other == ["--foo", "tail"] and args.backend == "standalone"


@pytest.mark.parametrize("argv, message", [
    (["--ros-args", "-p", "rate"], "name:=value"),
    (["--ros-args", "-p"], "needs a value"),
    (["--ros-args", "--bogus"], "unknown ROS argument '--bogus'"),
])
def test_bad_ros_args(argv, message):
    with pytest.raises(ValueError, match=message):
        parse_ros_args(argv)


def test_choose_backend(monkeypatch):
    monkeypatch.setenv("SPOT_BOW_ROS_BACKEND", "standalone")
    assert choose_backend() == "standalone"
    with pytest.raises(BackendError, match="unknown backend 'zenoh'"):
        choose_backend("zenoh")
    try:
        import rclpy  # noqa: F401
    except ImportError:
        with pytest.raises(BackendError, match="rclpy does not import"):
            choose_backend("rclpy")
        monkeypatch.delenv("SPOT_BOW_ROS_BACKEND")
        assert choose_backend() == "standalone"


class Talker:
    def __init__(self, node):
        p = node.declare_parameters([ParamSpec("rate", 50.0, "Hz", min=1.0), ParamSpec("text", "hi", "t")])
        self.pub = node.create_publisher("std_msgs/msg/String", "chatter", DEFAULT)
        self.node, self.text = node, p["text"]
        node.create_timer(1.0 / p["rate"], lambda: self.pub.publish(node.msg("std_msgs/msg/String", data=self.text)))
        node.add_on_shutdown(lambda: SHUTDOWN.append(node.name))


SHUTDOWN = []


def test_run_node_applies_args_spins_and_stops_cleanly(tmp_path):
    bus = InProcessBus()
    params = tmp_path / "p.yaml"
    params.write_text("talker2:\n  ros__parameters:\n    text: from_file\n    rate: 100.0\n")
    stop, result, got = threading.Event(), {}, []
    context = create_standalone_context(transport=InProcessBus())  # unrelated context: no cross-talk
    _listener = StandaloneListener(bus, got)  # keeps its subscription alive
    argv = ["--ros-args", "--params-file", str(params), "-r", "__ns:=/r", "-r", "__node:=talker2",
            "-r", "chatter:=speech"]
    thread = threading.Thread(target=lambda: result.setdefault("rc", run_node("talker", Talker, argv, stop=stop,
                                                                              transport=bus)))
    thread.start()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and len(got) < 3:
        time.sleep(0.01)
    stop.set()
    thread.join(5)
    context.close()
    assert result["rc"] == 0
    assert got[0] == "from_file"
    assert SHUTDOWN == ["talker2"]


class StandaloneListener:
    def __init__(self, bus, got):
        from spot_bow_ros.standalone.node import StandaloneNode

        self.node = StandaloneNode("listener", bus)
        self.node.create_subscription("std_msgs/msg/String", "/r/speech", lambda m: got.append(m.data), DEFAULT)


@pytest.mark.parametrize("yaml_text, message", [
    ("/**:\n  ros__parameters:\n    rate: fast\n", "parameter 'rate' expects double, got str 'fast'"),
    ("/**:\n  ros__parameters:\n    rate: 0.5\n", "parameter 'rate' = 0.5 is below its minimum 1.0"),
])
def test_bad_parameters_exit_2_with_one_error_line(tmp_path, caplog, yaml_text, message):
    params = tmp_path / "p.yaml"
    params.write_text(yaml_text)
    rc = run_node("talker", Talker, ["--ros-args", "--params-file", str(params)], stop=threading.Event(),
                  transport=InProcessBus())
    assert rc == 2
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and message in errors[0].getMessage()


def test_build_failure_exits_1(caplog):
    def broken(node):
        raise RuntimeError("no camera")

    assert run_nodes([("a", broken)], [], stop=threading.Event(), transport=InProcessBus()) == 1
    assert "no camera" in caplog.text


def test_unknown_parameter_names_are_warned_with_a_hint(tmp_path, caplog):
    params = tmp_path / "p.yaml"
    params.write_text("talker:\n  ros__parameters:\n    txt: typo\n")
    stop = threading.Event()
    stop.set()  # start, warn, stop at once
    argv = ["--ros-args", "--params-file", str(params), "-p", "rat:=5.0"]
    assert run_node("talker", Talker, argv, stop=stop, transport=InProcessBus()) == 0
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("'txt'" in w and "did you mean 'text'" in w for w in warnings), warnings
    assert any("'rat' (-p)" in w and "did you mean 'rate'" in w for w in warnings), warnings


def test_user_facing_build_errors_are_printed_alone(caplog):
    class Refused(RuntimeError):
        user_facing = True

    def refused(node):
        raise Refused("Spot at 10.0.0.3:443 rejected the password of user 'u'")

    assert run_nodes([("a", refused)], [], stop=threading.Event(), transport=InProcessBus()) == 1
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert errors == ["Spot at 10.0.0.3:443 rejected the password of user 'u'"]


def test_help_lists_the_declared_parameters_and_starts_nothing(capsys):
    before = list(SHUTDOWN)
    assert run_node("talker", Talker, ["--help"], stop=threading.Event(), transport=InProcessBus()) == 0
    out = capsys.readouterr().out
    assert "parameters of node 'talker'" in out
    assert "  rate (double, default 50.0, range [1.0, ])\n      Hz" in out
    assert SHUTDOWN == before   # never built for real


def test_log_lines_from_outside_cannot_forge_lines():
    import logging

    from spot_bow_ros.backends.lifecycle import _RosFormatter, escape_log_text

    assert escape_log_text("key 'a\n[ERROR] [1] [x]: fake'\x1b[2J\r") == "key 'a\\n[ERROR] [1] [x]: fake'\\x1b[2J\\r"
    record = logging.LogRecord("spot_bow_ros.webcam", logging.WARNING, __file__, 1,
                               "rejected JSON key %r", ("x\ny",), None)
    line = _RosFormatter().format(record)
    assert "\n" not in line and line.endswith("[webcam]: rejected JSON key 'x\\ny'")
    record = logging.LogRecord("spot_bow_ros.run", logging.ERROR, __file__, 1, "bad\nthing", None, None)
    assert _RosFormatter().format(record).endswith("[run]: bad\\nthing")
