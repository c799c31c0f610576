"""bench/bench_ros_route_cpu.py gives its children this checkout in front of the sourced ROS 2
PYTHONPATH (replacing it made rclpy unimportable in the rclpy half)."""

import importlib.util
import os
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench_ros_route_cpu.py"


def _bench():
    sys.path.insert(0, str(BENCH.parent))  # as when run as a script: bench/ on sys.path (bench_common)
    spec = importlib.util.spec_from_file_location("bench_ros_route_cpu", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_children_keep_the_sourced_ros_paths_behind_the_checkout():
    bench = _bench()
    ros = os.pathsep.join(["/opt/ros2-jazzy/install/rclpy/lib/python3.11/site-packages",
                           "/opt/ros2-jazzy/install/std_msgs/lib/python3.11/site-packages"])
    env = bench.child_env({"PYTHONPATH": ros, "HOME": "/root"}, SPOT_BOW_ROS_BACKEND="rclpy")
    assert env["PYTHONPATH"].split(os.pathsep) == [str(BENCH.parents[1])] + ros.split(os.pathsep)
    assert env["SPOT_BOW_ROS_BACKEND"] == "rclpy" and env["HOME"] == "/root"
    assert bench.child_env({})["PYTHONPATH"] == str(BENCH.parents[1])
