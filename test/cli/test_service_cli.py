"""`spot-bow-ros service list|call` and `topic pub` (cli/service.py) as subprocesses against
standalone nodes on DDS."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from waiting import wait_until

from spot_bow_ros.ros.params import ParamSpec
from spot_bow_ros.ros.qos import DEFAULT
from spot_bow_ros.standalone.node import StandaloneNode

REPO = Path(__file__).resolve().parents[2]


def cli(*argv, timeout=60):
    exe = shutil.which("spot-bow-ros", path=os.path.dirname(sys.executable))
    cmd = [exe] if exe else [sys.executable, "-m", "spot_bow_ros.cli"]
    return subprocess.run([*cmd, *argv], capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, PYTHONPATH=str(REPO)))


@pytest.fixture
def server(transport):
    node = StandaloneNode("robot_ctl", transport, namespace="/spot1")
    node.declare_parameters([ParamSpec("gain", 1.0, "Gain", min=0.0, max=2.0, live=True)])
    calls = []
    node.create_service("std_srvs/srv/Trigger", "power_on",
                        lambda req: calls.append("power_on") or {"success": True, "message": "motors on"})
    node.create_service("std_srvs/srv/SetBool", "enable_motion",
                        lambda req: calls.append(bool(req.data)) or {"success": True, "message": f"set {req.data}"})
    node.calls = calls
    yield node
    node.destroy()


def test_service_list_shows_services_and_parameter_services(server):
    out = cli("service", "list", "-t", "--wait", "2")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert "/spot1/power_on [std_srvs/srv/Trigger]" in lines
    assert "/spot1/enable_motion [std_srvs/srv/SetBool]" in lines
    assert "/spot1/robot_ctl/set_parameters [rcl_interfaces/srv/SetParameters]" in lines


def test_service_call_trigger_setbool_and_set_parameters(server):
    out = cli("service", "call", "/spot1/power_on")  # type discovered
    assert out.returncode == 0, out.stderr
    assert "success: true" in out.stdout and "message: motors on" in out.stdout
    out = cli("service", "call", "/spot1/enable_motion", "std_srvs/srv/SetBool", "{data: true}")
    assert out.returncode == 0 and "message: set True" in out.stdout, out.stderr
    assert server.calls == ["power_on", True]
    out = cli("service", "call", "/spot1/robot_ctl/set_parameters", "rcl_interfaces/srv/SetParameters",
              "{parameters: [{name: gain, value: {type: 3, double_value: 1.5}}]}")
    assert out.returncode == 0 and "successful: true" in out.stdout, out.stdout + out.stderr
    assert server.get_parameter("gain") == 1.5


@pytest.mark.parametrize("argv, code, message", [
    (["service", "call", "/spot1/nobody", "std_srvs/srv/Trigger", "--timeout", "0.5"], 1,
     "error: service /spot1/nobody (std_srvs/srv/Trigger) is not available"),
    (["service", "call", "/x", "std_srvs/srv/Nope"], 2, "error: unknown service type 'std_srvs/srv/Nope'"),
    (["service", "call", "/x", "std_srvs/srv/SetBool", "[1, 2]"], 2, "error: values must be a YAML mapping"),
    (["topic", "pub", "/x", "std_msgs/msg/String", "{nope: 1}", "--once"], 2,
     "error: cannot build std_msgs/msg/String: std_msgs/msg/String has no field(s) nope"),
])
def test_cli_errors_are_one_line(argv, code, message):
    out = cli(*argv)
    assert out.returncode == code, out.stderr
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(message), out.stderr


def test_topic_pub_once_and_times_reach_a_subscriber(transport):
    node = StandaloneNode("listener", transport, serve_parameters=False)
    got = []
    node.create_subscription("geometry_msgs/msg/Twist", "/cmd_vel", got.append, DEFAULT)
    out = cli("topic", "pub", "/cmd_vel", "geometry_msgs/msg/Twist", "{linear: {x: 0.25}, angular: {z: -0.5}}",
              "--once")
    assert out.returncode == 0, out.stderr
    assert wait_until(lambda: len(got) == 1)
    assert got[0].linear.x == 0.25 and got[0].angular.z == -0.5
    out = cli("topic", "pub", "/cmd_vel", "geometry_msgs/msg/Twist", "{linear: {x: 0.1}}", "--times", "3",
              "--rate", "20")
    assert out.returncode == 0, out.stderr
    assert wait_until(lambda: len(got) == 4)
    assert [m.linear.x for m in got[1:]] == [0.1, 0.1, 0.1]
    node.destroy()
