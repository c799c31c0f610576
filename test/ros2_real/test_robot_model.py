"""robot_state_publisher fed the shipped URDF gives the same TF as the standalone runtime's own
forward kinematics (proprioception bridge, robot_model auto), both from the same /joint_states."""

import json
from pathlib import Path

import pytest

from ros2_real.ros2_tier import REPO, UNUSED_BRIDGES, describe, ns_run, write_config

pytestmark = pytest.mark.timeout(900)
PEERS = Path(__file__).with_name("peers")

SCRIPT = f"""
bg NODE "$SPOT_BOW_ROS" run --config cfg.yaml --no-status > node.log 2>&1
wait_for 150 bash -c 'ros2 topic list --no-daemon | grep -qx /joint_states'
python3 -c "import sys, yaml; print(yaml.safe_dump({{'robot_state_publisher': {{'ros__parameters':
    {{'robot_description': open(sys.argv[1]).read()}}}}}}))" {REPO}/urdf/spot_with_arm.urdf > rsp.yaml
bg RSP ros2 run robot_state_publisher robot_state_publisher --ros-args --params-file rsp.yaml \\
    -r /tf:=/rsp/tf -r /tf_static:=/rsp/tf_static > rsp.log 2>&1
sleep 3
echo "COMPARE=$(python3 {PEERS}/tf_compare.py 8)"
"""


def test_robot_state_publisher_matches_the_standalone_forward_kinematics(ros_env, tmp_path):
    write_config(tmp_path / "cfg.yaml", disable=(*UNUSED_BRIDGES, "spot_cameras"))
    out = ns_run(SCRIPT, tmp_path, timeout=400)
    detail = describe(out, tmp_path, "node.log", "rsp.log")
    line = next((x for x in out.stdout.splitlines() if x.startswith("COMPARE={")), None)
    assert line, detail
    got = json.loads(line.split("=", 1)[1])
    assert got["matched_moving"] > 100, detail             # many stamped joint-state samples
    assert len(got["moving_frames"]) >= 12, detail         # every leg link (and the arm's)
    assert got["same_parents"], detail
    assert got["max_translation_m"] < 1e-6 and got["max_quaternion"] < 1e-6, detail
