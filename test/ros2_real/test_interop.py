"""Standalone runtime <-> real rclpy nodes, both ways (topics, services, parameters), in every
discovery range, on a "host" with a network interface (veth 10.254.0.2/24 in a private
namespace: the case where pip Cyclone >= 0.11 dropped real ROS's packets, issue 23 item 1)."""

from pathlib import Path

import pytest

from ros2_real.ros2_tier import describe, ns_run, values

pytestmark = pytest.mark.timeout(900)  # namespace scripts wait for discovery and builds

PEERS = Path(__file__).with_name("peers")

BOTH_WAYS = f"""
bg SA "$PY" {PEERS}/standalone_peer.py > sa.log 2>&1
bg REAL python3 {PEERS}/real_peer.py > real.log 2>&1
wait_for 60 grep -q ready sa.log; wait_for 60 grep -q ready real.log
# real ROS 2 sees the standalone node, its topic, service and parameters
wait_for 60 bash -c 'ros2 node list --no-daemon | grep -qx /sa_peer' && echo REAL_SEES_NODE=1
echo "REAL_ECHO=$(timeout 30 ros2 topic echo --once /sa_chatter std_msgs/msg/String --field data 2>&1 | head -1)"
echo "REAL_CALL=$(timeout 30 ros2 service call /sa_trigger std_srvs/srv/Trigger 2>&1 | grep -o 'standalone answered' | head -1)"
echo "REAL_PARAM_GET=$(timeout 30 ros2 param get /sa_peer sa_param 2>&1 | tail -1)"
echo "REAL_PARAM_SET=$(timeout 30 ros2 param set /sa_peer sa_param 9 2>&1 | tail -1)"
echo "REAL_PARAM_AFTER=$(timeout 30 ros2 param get /sa_peer sa_param 2>&1 | tail -1)"
# the standalone runtime sees the real node, its topic, service and parameters
wait_for 60 grep -q 'GOT=from real rclpy' sa.log && echo SA_GOT=1
echo "SA_CALL=$("$SPOT_BOW_ROS" service call /real_trigger std_srvs/srv/Trigger --timeout 30 2>&1 | grep -o 'real rclpy answered' | head -1)"
echo "SA_PARAM=$("$SPOT_BOW_ROS" service call /real_peer/get_parameters rcl_interfaces/srv/GetParameters '{{names: [real_param]}}' --timeout 30 2>&1 | tr -d ' \\n')"
"""


@pytest.mark.parametrize("env", [
    {"RANGE": "LOCALHOST"},
    {"RANGE": "SUBNET"},
    {"RANGE": "LOCALHOST", "ROS_STATIC_PEERS": "10.254.0.2"},
], ids=["localhost", "subnet", "localhost+static-peer"])
def test_standalone_and_real_rclpy_see_each_other_both_ways(ros_env, tmp_path, env):
    script = ""
    if "ROS_STATIC_PEERS" in env:
        script = f"export ROS_STATIC_PEERS={env['ROS_STATIC_PEERS']}\n"
    out = ns_run(script + BOTH_WAYS, tmp_path, veth=True, env={"RANGE": env["RANGE"]}, timeout=400)
    got = values(out.stdout)
    detail = describe(out, tmp_path, "sa.log", "real.log")
    assert got.get("REAL_SEES_NODE") == "1", detail
    assert got.get("REAL_ECHO") == "from standalone", detail
    assert got.get("REAL_CALL") == "standalone answered", detail
    assert got.get("REAL_PARAM_GET") == "Integer value is: 5", detail
    assert got.get("REAL_PARAM_SET") == "Set parameter successful", detail
    assert got.get("REAL_PARAM_AFTER") == "Integer value is: 9", detail
    assert got.get("SA_GOT") == "1", detail
    assert got.get("SA_CALL") == "real rclpy answered", detail
    assert "integer_value:7" in got.get("SA_PARAM", "") or "integer_value=7" in got.get("SA_PARAM", ""), detail
