"""depth_image_proc's point_cloud_xyz (Jazzy's, a real C++ node) fed the package's
spot/depth/<cam>/image + camera_info gives the same points as the package's own organized
spot/depth/<cam>/points for the same frame (matched by stamp), wherever depth_image_proc's
semantics apply (0 < depth < 65535; docs/depth_and_model.md, "A deliberate difference")."""

import json
from pathlib import Path

import pytest

from ros2_real.ros2_tier import UNUSED_BRIDGES, describe, ns_run, write_config

pytestmark = pytest.mark.timeout(900)
PEERS = Path(__file__).with_name("peers")
CAM = "frontleft"

SCRIPT = f"""
bg NODE "$SPOT_BOW_ROS" run --config cfg.yaml --no-status > node.log 2>&1
wait_for 150 bash -c 'ros2 topic list --no-daemon | grep -qx /spot/depth/{CAM}/points'
bg DIP ros2 run depth_image_proc point_cloud_xyz_node --ros-args \\
    -r image_rect:=/spot/depth/{CAM}/image -r camera_info:=/spot/depth/{CAM}/camera_info \\
    -r points:=/dip/points > dip.log 2>&1
sleep 3
echo "COMPARE=$(python3 {PEERS}/cloud_compare.py /spot/depth/{CAM}/points /dip/points 12 /spot/depth/{CAM}/image)"
"""


def test_depth_image_proc_point_cloud_xyz_matches_the_package_cloud(ros_env, tmp_path):
    write_config(tmp_path / "cfg.yaml", disable=UNUSED_BRIDGES, spot_cameras={
        "cameras": f"[{CAM}]", "rate": "5.0", "point_clouds": "true", "organized": "true"})
    out = ns_run(SCRIPT, tmp_path, timeout=400)
    detail = describe(out, tmp_path, "node.log", "dip.log")
    line = next((x for x in out.stdout.splitlines() if x.startswith("COMPARE={")), None)
    assert line, detail
    got = json.loads(line.split("=", 1)[1])
    assert got["matched"] >= 5, detail                      # several frames at 5 Hz in 12 s
    assert got["compared_points"] > 1000 * got["matched"], detail
    assert len(got["frame_ids"]) == 1, detail               # one depth sensor frame, the same in both
    frame_ours, frame_dip = got["frame_ids"][0]
    assert frame_ours == frame_dip and frame_ours, detail
    assert got["shapes"] == [[240, 424, 240, 424, 240, 424, "16UC1"]], detail
    assert got["max_abs_m"] < 1e-5, detail
    assert got["nan_agree"], detail
    # the documented difference: depth_image_proc makes 65535 a 65.535 m point, the package NaN
    assert got["dip_65m_points"] > 0, detail
