"""nodes/robot_model.py: which model, loading the shipped and user URDFs, clear errors."""

import pytest

from spot_bow_ros.nodes.robot_model import RobotModel, RobotModelError, choose_model


def test_choose_model():
    assert choose_model("auto", ["front_left_hip_x", "arm_sh0"]) == "spot_with_arm"
    assert choose_model("auto", ["spot/front_left_hip_x"], prefix="spot/") == "spot"
    assert choose_model("auto", ["spot/arm_sh0"], prefix="spot/") == "spot_with_arm"
    assert choose_model("spot", ["arm_sh0"]) == "spot"
    assert choose_model("none", ["arm_sh0"]) is None


def test_shipped_models_load_with_their_joints():
    legs, arm = RobotModel.load("spot"), RobotModel.load("spot_with_arm")
    assert legs.kinematics.root == arm.kinematics.root == "body"
    assert "arm_sh0" in arm.kinematics.by_name and "arm_sh0" not in legs.kinematics.by_name
    assert ("front_left_lower_leg", "front_left_foot") in {(p, c) for p, c, _ in legs.fixed()}
    edges = arm.moving(["front_left_knee", "arm_hr0", "nope"], [-1.0, 0.3, 2.0])
    assert [(p, c) for p, c, _ in edges] == [("front_left_upper_leg", "front_left_lower_leg")]  # hr0 is fixed


def test_bad_files_raise_one_clear_error(tmp_path):
    with pytest.raises(RobotModelError, match="cannot read the robot model"):
        RobotModel.load("spot", str(tmp_path / "missing.urdf"))
    bad = tmp_path / "bad.urdf"
    bad.write_text("<robot><link name='a'/>")
    with pytest.raises(RobotModelError, match="bad.urdf: not valid URDF XML"):
        RobotModel.load("spot", str(bad))
