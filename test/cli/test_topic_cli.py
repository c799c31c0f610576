"""`spot-bow-ros topic list|echo|hz` (cli/topic.py) over the standalone DDS runtime."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cpu_load import CpuMonitor, frozen_heap

from spot_bow_ros.cli import main
from spot_bow_ros.ros.qos import DEFAULT
from spot_bow_ros.standalone.dds_transport import DdsTransport
from spot_bow_ros.standalone.node import StandaloneNode

REPO = Path(__file__).resolve().parents[2]
DOMAIN = int(os.environ["ROS_DOMAIN_ID"])


@pytest.fixture
def talker():
    transport = DdsTransport(domain_id=DOMAIN)
    node = StandaloneNode("cli_talker", transport, namespace="/cli_echo")
    pub = node.create_publisher("std_msgs/msg/String", "chat", DEFAULT)
    node.create_timer(0.02, lambda: pub.publish(node.msg("std_msgs/msg/String", data="tick")))
    yield node
    node.destroy()
    transport.close()


def test_topic_list_and_echo(talker, capsys):
    assert main(["topic", "list", "-t", "--wait", "1"]) == 0
    assert "/cli_echo/chat [std_msgs/msg/String]" in capsys.readouterr().out.splitlines()
    assert main(["topic", "echo", "/cli_echo/chat", "-n", "2", "--timeout", "10"]) == 0
    assert capsys.readouterr().out == "data: tick\n---\ndata: tick\n---\n"


def test_topic_hz(talker, capsys):
    with frozen_heap(), CpuMonitor() as cpu:
        start = time.time_ns()
        assert main(["topic", "hz", "/cli_echo/chat", "--timeout", "2.5"]) == 0
        end = time.time_ns()
    rates = [float(line.split(":")[1]) for line in capsys.readouterr().out.splitlines()
             if line.startswith("average rate")]
    assert rates and rates[-1] < 60  # 50 Hz timer: never faster
    # ... and not much slower where the machine had CPU to spare for the talker and `topic hz`
    if cpu.unloaded(start, end):
        assert 35 < rates[-1], (rates, cpu.describe(start, end))
    else:
        print(f"rate {rates[-1]} not checked: {cpu.describe(start, end)}")


@pytest.mark.parametrize("argv, message", [
    (["topic", "echo", "bad topic"], "error: topic name 'bad topic': token 'bad topic' must be"),
    (["topic", "echo", "/x", "foo_msgs/msg/Nope"], "error: unknown message type 'foo_msgs/msg/Nope'"),
    (["topic", "echo", "/nobody_publishes", "--timeout", "0.5"], "error: topic /nobody_publishes has no publisher"),
    (["record"], "error: record needs topics or -a/--all"),
])
def test_cli_errors_are_one_line_exit_2(argv, message):
    proc = subprocess.run([sys.executable, "-m", "spot_bow_ros.cli", *argv], capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=str(REPO)), timeout=30)
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(message), proc.stderr
