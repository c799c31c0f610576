"""Every std_srvs service through `ros2 service call`, and `ros2 param describe/get/set` (live
clamp, range, read-only and type refusals), on both routes: the rclpy launch route and the
standalone `spot-bow-ros run` (real ros2cli talking to the standalone runtime over DDS). The
standalone run also records a bag that real `ros2 bag info` / `ros2 bag play` read.

The service checks hold whatever E-Stop level the motor bridge starts at: each call must answer
(success true, or false with a reason), in an order that ends with motion stopped."""

import re

import pytest
from cpu_load import CpuMonitor

from ros2_real.ros2_tier import describe, ns_run, pip_in_workspace

pytestmark = pytest.mark.timeout(900)

CONFIG = r"""
share=$(ros2 pkg prefix spot_bow_ros 2>/dev/null)/share/spot_bow_ros
[ -d "$share" ] || share="$CONFIG_DIR"
sed -e "s|^    enable_bow_vision: true|    enable_bow_vision: false|" \
    -e "s|^    enable_image_service: true|    enable_image_service: false|" \
    -e "s|^    enable_webcam: true|    enable_webcam: false|" "$share/config/spot_bow.yaml" > cfg.yaml
"""

CHECKS = r"""
wait_for 150 bash -c 'ros2 service list --no-daemon | grep -qx /estop/release' || echo "SERVICES=timeout"
ros2 service list -t --no-daemon > services.txt
grep -E 'std_srvs/srv/(Trigger|SetBool)' services.txt | tr -d '[]' > calls.txt
while read -r srv type; do
  case "$type" in *SetBool) req='{data: false}' ;; *) req='{}' ;; esac
  answer=$(timeout 40 ros2 service call "$srv" "$type" "$req" 2>&1 | grep -o "success=[A-Za-z]*, message=.*" | head -1)
  echo "SERVICE $srv ${answer:-NO_ANSWER}"
done < <(sort -k1,1 calls.txt | grep -v -e estop/release -e '^/stop ' -e '^/release ' -e '^/claim '
         grep -e '^/estop/release ' -e '^/claim ' calls.txt; grep -e '^/stop ' calls.txt; grep -e '^/release ' calls.txt)
ros2 param describe /motor_command max_linear_velocity > describe.txt 2>&1
echo "PARAM_SET=$(ros2 param set /motor_command max_linear_velocity 0.1 2>&1)"
echo "PARAM_GET=$(ros2 param get /motor_command max_linear_velocity 2>&1)"
echo "PARAM_RANGE=$(ros2 param set /motor_command max_linear_velocity 99.0 2>&1)"
echo "PARAM_TYPE=$(ros2 param set /motor_command max_linear_velocity fast 2>&1)"
echo "PARAM_RO=$(ros2 param set /motor_command axis_convention ros 2>&1)"
timeout 60 ros2 topic pub --once -w 1 /cmd_vel geometry_msgs/msg/Twist "{linear: {x: 0.4}}" > /dev/null 2>&1
wait_for 30 grep -q "cmd_vel: clamped to limits" node.log
echo "CLAMP=$(grep -o 'cmd_vel: clamped to limits: .*' node.log | head -1)"
t0=$(date +%s.%N); kill -INT $NODE; wait $NODE; echo "NODE_RC=$?"
grep -c "rclpy does not import\|standalone runtime: No module" node.log | sed 's/^/FELL_BACK=/'
echo "STOP_S=$(echo "$(date +%s.%N) - $t0" | bc)"
echo "STOP_TO=$(date +%s%N)"
"""

LAUNCH_ROUTE = r"""
source "$WS/install/setup.bash"
bg SIM ros2 run spot_bow_ros spot-bow-ros sim --info-file "$PWD/sim.json" > sim.log 2>&1
wait_for 90 test -s sim.json || { echo SIM=failed; exit 1; }
""" + CONFIG + r"""
bg NODE ros2 launch spot_bow_ros spot_bow.launch.py config_file:="$PWD/cfg.yaml" sim_info_file:="$PWD/sim.json" > node.log 2>&1
""" + CHECKS

STANDALONE_ROUTE = CONFIG + r"""
bg NODE "$SPOT_BOW_ROS" run --config cfg.yaml --no-status --record sa_bag --exclude-raw-images > node.log 2>&1
""" + CHECKS + r"""
ros2 bag info sa_bag > baginfo.txt 2>&1; echo "BAGINFO_RC=$?"
# play the standalone bag back into real ROS 2 and catch one joint_states message
bg ECHO bash -c 'timeout 60 ros2 topic echo --once /joint_states sensor_msgs/msg/JointState --field name > played.txt 2>&1'
sleep 3
timeout 90 ros2 bag play sa_bag --topics /joint_states > play.log 2>&1; echo "PLAY_RC=$?"
wait $ECHO
"""


def _check(out, tmp_path, cpu: CpuMonitor):
    detail = describe(out, tmp_path, "node.log", "describe.txt")
    text = out.stdout
    services = dict(re.findall(r"^SERVICE (\S+) (.*)$", text, re.M))
    # relative service names resolve in the node's namespace (`/claim`, as rclpy does)
    expected = {f"/{s}" for s in ("claim", "release", "power_on", "power_off", "stand", "sit", "stop",
                                                  "estop/hard", "estop/gentle", "estop/release",
                                                  "clear_behavior_fault", "enable_motion")}
    assert expected <= set(services), detail
    for name, answer in services.items():
        assert re.fullmatch(r"success=(True|False), message=(['\"]).+\2\)?", answer), f"{name}: {answer}\n{detail}"
    # answers that hold at any E-Stop start level: the software E-Stop engages and releases
    assert services["/estop/hard"].startswith("success=True"), detail
    assert services["/estop/release"].startswith("success=True"), detail
    assert services["/claim"] == "success=True, message='lease held')", detail
    describe_text = (tmp_path / "describe.txt").read_text()
    assert "Type: double" in describe_text and "Planar speed limit (m/s)" in describe_text, detail
    get = dict(re.findall(r"^(PARAM_\w+)=(.*)$", text, re.M))
    assert get["PARAM_SET"] == "Set parameter successful", detail
    assert get["PARAM_GET"] == "Double value is: 0.1", detail
    assert get["PARAM_RANGE"].startswith("Setting parameter failed") and "99" in get["PARAM_RANGE"], detail
    assert get["PARAM_TYPE"].startswith("Setting parameter failed"), detail
    assert get["PARAM_RO"].startswith("Setting parameter failed") and "read-only" in get["PARAM_RO"], detail
    clamp = re.search(r"^CLAMP=(.*)$", text, re.M).group(1)
    assert "linear speed (m/s) 0.4 -> 0.1" in clamp, detail
    assert re.search(r"^NODE_RC=0$", text, re.M), detail
    # the node exits within 5 s of SIGINT where the machine had CPU to spare for it (cpu_load);
    # NODE_RC=0 above holds whatever the load
    stop_s = float(re.search(r"^STOP_S=(.*)$", text, re.M).group(1))
    stop_to = int(re.search(r"^STOP_TO=(\d+)$", text, re.M).group(1))
    late = cpu.check_latency(stop_to - int(stop_s * 1e9), stop_to, 5.0, "exit after SIGINT", max_gc_s=float("inf"))
    assert late is None, f"{late}\n{detail}"


def test_services_and_parameters_on_the_launch_route(workspace, tmp_path):
    pip_in_workspace(workspace, "opencv-python-headless", "cryptography", "pyyaml")  # rosdep's part
    with CpuMonitor() as cpu:     # watches this process's tree: the script and everything it starts
        out = ns_run(LAUNCH_ROUTE, tmp_path, env={"WS": str(workspace)}, timeout=600)
    assert "running (rclpy)" in (tmp_path / "node.log").read_text(), describe(out, tmp_path, "node.log")
    _check(out, tmp_path, cpu)


def test_services_parameters_and_bag_of_the_standalone_run(ros_env, tmp_path):
    from ros2_real.ros2_tier import REPO

    with CpuMonitor() as cpu:
        out = ns_run(STANDALONE_ROUTE, tmp_path, env={"CONFIG_DIR": str(REPO)}, timeout=600)
    _check(out, tmp_path, cpu)
    detail = describe(out, tmp_path, "baginfo.txt", "play.log", "played.txt")
    assert "BAGINFO_RC=0" in out.stdout and "/joint_states" in (tmp_path / "baginfo.txt").read_text(), detail
    assert "Storage id:        mcap" in (tmp_path / "baginfo.txt").read_text(), detail
    assert "PLAY_RC=0" in out.stdout, detail
    assert "front_left_hip_x" in (tmp_path / "played.txt").read_text(), detail
