"""The --demo-motion script means what it says once the motor bridge converts it."""

import math

import pytest

from spot_bow_ros.bow.frames import AxisConvention
from spot_bow_ros.convert import motion, motor
from spot_bow_ros.nodes.demo_motion import demo_script, head_sample, velocity_sample


@pytest.mark.parametrize("convention", list(AxisConvention))
def test_velocity_samples_become_the_intended_spot_velocity(convention):
    config = motor.MotorConfig(convention=convention)
    forward = motor.motor_sample_to_command(velocity_sample(forward=0.4, convention=convention), config)
    assert (forward.locomotion.v_x, forward.locomotion.v_y, forward.locomotion.v_rot) == pytest.approx((0.4, 0, 0))
    turn = motor.motor_sample_to_command(velocity_sample(yaw_rate_left=0.6, convention=convention), config)
    assert turn.locomotion.v_rot == pytest.approx(0.6)  # left turn: positive ROS yaw rate


def test_head_right_is_a_negative_body_yaw():
    cmd = motor.motor_sample_to_command(head_sample(0.3), motor.MotorConfig())
    assert cmd.body.orientation == pytest.approx((0.0, 0.0, -0.3))
    assert cmd.body.height is None  # unset OperatingHeight: no change


def test_script_walks_a_closed_square_and_ends_sitting():
    steps = demo_script(side_m=1.0, speed=0.4, turn_rate=0.6)
    assert [s.verb for s in steps if s.verb][:5] == ["claim", "enable_motion", "estop_release", "power_on", "stand"]
    assert steps[-1].verb == "sit"
    walks = [s for s in steps if s.sample is not None and s.label.startswith("square side")]
    turns = [s for s in steps if s.label.startswith("turn left")]
    assert len(walks) == len(turns) == 4
    assert sum(0.4 * s.duration_s for s in walks) == pytest.approx(4.0)
    assert sum(0.6 * s.duration_s for s in turns) == pytest.approx(2 * math.pi)
    within = motion.MotionLimits()
    for step in walks + turns:
        cmd = motor.motor_sample_to_command(step.sample, motor.MotorConfig())
        assert motion.within_limits(cmd, within)


def test_default_script_fits_the_readme_run_and_stops_before_the_watchdog_would():
    from spot_bow_ros.nodes.demo_motion import script_duration

    steps = demo_script()
    assert script_duration(steps) <= 17.0            # README: --duration 20, bridges start in ~2 s
    within = motion.MotionLimits()                     # the motor bridge's default limits: no clamping
    for step in steps:
        if step.sample is not None:
            assert motion.within_limits(motor.motor_sample_to_command(step.sample, motor.MotorConfig()), within)
    last_walk = max(i for i, s in enumerate(steps) if s.label.startswith(("square side", "turn left")))
    stop = steps[last_walk + 1]
    cmd = motor.motor_sample_to_command(stop.sample, motor.MotorConfig())
    assert stop.label == "stop walking" and cmd.locomotion.is_zero


def test_the_script_in_bow_sdk_v1_messages_means_the_same():
    """With bow_messages: sdk_v1 the demo sends v1 MotorSamples; they convert to the same commands."""
    v1 = pytest.importorskip("bow_data", reason="bow-api not installed")
    from spot_bow_ros.convert import bow_v1
    for step in demo_script():
        if step.sample is None:
            continue
        documented = motor.motor_sample_to_command(step.sample, motor.MotorConfig())
        sample = v1.MotorSample.FromString(bow_v1.motor_sample_v1_from_command(documented, v1).SerializeToString())
        again = bow_v1.motor_sample_v1_to_command(sample, v1)
        if documented.locomotion is not None:
            got, want = again.locomotion, documented.locomotion
            assert (got.v_x, got.v_y, got.v_rot) == pytest.approx((want.v_x, want.v_y, want.v_rot), abs=1e-6)
        if documented.body is not None:
            assert again.body.orientation == pytest.approx(documented.body.orientation, abs=1e-6)
