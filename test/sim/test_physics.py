"""Unit tests of the simulator's kinematic model (spot_bow_ros/sim/physics.py, geometry.py)."""

from __future__ import annotations

import math

import pytest

from spot_bow_ros.sim.geometry import Pose, quat_from_rpy, quat_rotate, rpy_from_quat
from spot_bow_ros.sim.physics import (
    ARM_STOW,
    GRAVITY,
    GRIPPER_OPEN_ANGLE,
    LEG_JOINT_NAMES,
    SIT_HEIGHT,
    STAND_HEIGHT,
    SpotPhysics,
    arm_forward_kinematics,
    arm_inverse_kinematics,
)

DT_NS = 5_000_000  # 200 Hz


def run(p: SpotPhysics, seconds: float, t0: int | None = None):
    """Step `p` for `seconds`; returns the snapshots."""
    t = p.t_ns if t0 is None else t0
    out = []
    for _ in range(int(seconds * 1e9 / DT_NS)):
        t += DT_NS
        out.append(p.step(t))
    return out


def standing_robot(arm: bool = True) -> SpotPhysics:
    p = SpotPhysics(0, arm=arm)
    p.set_power(True)
    p.stand()
    run(p, 3.0)   # settled
    return p


def test_quaternion_rpy_round_trip_and_pose_inverse():
    for rpy in [(0.1, -0.2, 0.3), (0.0, 0.0, -3.0), (-0.4, 0.5, 2.0)]:
        back = rpy_from_quat(quat_from_rpy(*rpy))
        assert back == pytest.approx(rpy, abs=1e-12)
    pose = Pose.from_xyz_rpy(1.0, -2.0, 0.5, 0.1, 0.2, 0.3)
    ident = pose * pose.inverse()
    assert ident.position == pytest.approx((0, 0, 0), abs=1e-12)
    assert abs(ident.rotation[3]) == pytest.approx(1.0, abs=1e-12)
    # yaw +90 deg maps body x onto odom y
    assert quat_rotate(quat_from_rpy(0, 0, math.pi / 2), (1, 0, 0)) == pytest.approx((0, 1, 0), abs=1e-12)


def test_stand_raises_body_and_straightens_legs():
    p = SpotPhysics(0, arm=False)
    first = p.step(DT_NS)
    assert first.odom_tform_body.position[2] == pytest.approx(SIT_HEIGHT)
    assert first.sitting and not first.standing
    p.set_power(True)
    p.stand()
    snaps = run(p, 1.5)
    last = snaps[-1]
    assert last.standing
    assert last.odom_tform_body.position[2] == pytest.approx(STAND_HEIGHT, abs=0.005)
    assert last.joint("fl.kn")[0] > first.joint("fl.kn")[0] + 0.5     # knee less bent standing
    assert last.joint_names == LEG_JOINT_NAMES


def test_velocity_moves_body_in_odom_along_its_heading():
    p = standing_robot()
    start = p.step(p.t_ns + DT_NS)
    yaw0 = rpy_from_quat(start.odom_tform_body.rotation)[2]
    p.set_velocity(0.5, 0.0, 0.0, end_ns=p.t_ns + 2_000_000_000)
    snaps = run(p, 3.0)
    end = snaps[-1]
    dx = end.odom_tform_body.position[0] - start.odom_tform_body.position[0]
    dy = end.odom_tform_body.position[1] - start.odom_tform_body.position[1]
    assert math.atan2(dy, dx) == pytest.approx(yaw0, abs=1e-3)       # body x rotated by yaw
    assert math.hypot(dx, dy) == pytest.approx(1.0, abs=0.1)        # ~0.5 m/s for 2 s
    assert end.velocity_linear_odom == pytest.approx((0, 0, 0), abs=1e-3)   # stopped at end time
    # lateral velocity goes to the body's left
    p.set_velocity(0.0, 0.4, 0.0, end_ns=p.t_ns + 1_000_000_000)
    s2 = run(p, 0.5)[-1]
    vx, vy, _ = s2.velocity_linear_odom
    assert math.atan2(vy, vx) == pytest.approx(yaw0 + math.pi / 2, abs=1e-3)


def test_legs_show_gait_only_while_walking():
    p = standing_robot(arm=False)
    still = [s.joint("fl.hy")[0] for s in run(p, 0.5)]
    assert max(still) - min(still) < 1e-6
    p.set_velocity(0.6, 0.0, 0.0, end_ns=p.t_ns + 3_000_000_000)
    walking = run(p, 2.0)
    hy = [s.joint("fl.hy")[0] for s in walking[100:]]
    assert max(hy) - min(hy) > 0.2
    assert all(s.walking for s in walking[100:])
    # diagonal pairs in phase, lateral pairs in anti-phase
    s = walking[-37]
    assert s.joint("fl.hy")[0] == pytest.approx(s.joint("hr.hy")[0])
    assert s.joint("fl.hy")[0] != pytest.approx(s.joint("fr.hy")[0])
    # joint velocities are the joint positions' derivative
    a, b = walking[-2], walking[-1]
    fd = (b.joint("fl.hy")[0] - a.joint("fl.hy")[0]) / (DT_NS * 1e-9)
    assert b.joint("fl.hy")[1] == pytest.approx(fd)


def test_imu_agrees_with_motion():
    p = standing_robot(arm=False)
    rest = p.step(p.t_ns + DT_NS)
    assert rest.imu.acceleration == pytest.approx((0, 0, GRAVITY), abs=1e-3)
    assert rest.imu.angular_velocity == pytest.approx((0, 0, 0), abs=1e-9)
    p.set_velocity(0.8, 0.2, 0.6, end_ns=p.t_ns + 3_000_000_000)
    p.set_body_offset(0.05, 0.1, -0.15, 0.0)
    snaps = run(p, 1.0)
    dt = DT_NS * 1e-9
    checked = 0
    for i in range(10, len(snaps) - 1, 10):
        a, b, c = snaps[i - 1], snaps[i], snaps[i + 1]
        # angular velocity: body-frame rotation between neighbours
        qa, qc = a.odom_tform_body.rotation, c.odom_tform_body.rotation
        dq = Pose((0, 0, 0), qa).inverse() * Pose((0, 0, 0), qc)
        ang = 2 * math.acos(min(1.0, abs(dq.rotation[3])))
        axis_sign = 1 if dq.rotation[3] >= 0 else -1
        w_fd = tuple(axis_sign * 2 * x / (2 * dt) for x in dq.rotation[:3]) if ang > 0 else (0, 0, 0)
        assert b.imu.angular_velocity == pytest.approx(w_fd, abs=0.03)
        # specific force: second difference of position, plus gravity, in the body frame
        acc = tuple((pa - 2 * pb + pc) / (dt * dt) for pa, pb, pc in
                    zip(a.odom_tform_body.position, b.odom_tform_body.position, c.odom_tform_body.position))
        spec = (acc[0], acc[1], acc[2] + GRAVITY)
        rot = b.odom_tform_body.rotation
        spec_body = quat_rotate((-rot[0], -rot[1], -rot[2], rot[3]), spec)
        assert b.imu.acceleration == pytest.approx(spec_body, abs=0.15)
        assert b.imu.odom_rot_link == b.odom_tform_body.rotation
        checked += 1
    assert checked >= 9
    # turning left: positive yaw rate about body z
    assert snaps[-1].imu.angular_velocity[2] == pytest.approx(0.6, abs=0.05)


def test_body_height_and_orientation_follow_offsets_and_clamp():
    p = standing_robot()
    p.set_body_offset(0.1, 0.0, 0.2, -0.1)
    s = run(p, 1.5)[-1]
    assert s.odom_tform_body.position[2] == pytest.approx(STAND_HEIGHT + 0.1, abs=2e-3)
    roll, pitch, yaw = rpy_from_quat(s.odom_tform_body.rotation)
    assert pitch == pytest.approx(0.2, abs=2e-3)
    assert roll == pytest.approx(0.0, abs=2e-3)
    assert s.standing
    p.set_body_offset(5.0, 0.0, 0.0, 0.0)           # far out of range: clamped
    s = run(p, 1.5)[-1]
    assert s.odom_tform_body.position[2] == pytest.approx(STAND_HEIGHT + 0.2, abs=2e-3)
    # flat_body keeps the yaw, drops roll/pitch
    assert rpy_from_quat(s.odom_tform_flat_body.rotation)[:2] == pytest.approx((0, 0), abs=1e-12)


def test_se2_goal_is_reached():
    p = standing_robot(arm=False)
    p.set_goal(2.0, 1.5, 1.0, end_ns=p.t_ns + 20_000_000_000)
    for _ in range(20):
        run(p, 0.5)
        if p.goal_reached():
            break
    assert p.goal_reached()
    s = p.step(p.t_ns + DT_NS)
    assert s.odom_tform_body.position[:2] == pytest.approx((2.0, 1.5), abs=0.03)
    assert rpy_from_quat(s.odom_tform_body.rotation)[2] == pytest.approx(1.0, abs=0.03)


def test_arm_ik_fk_round_trip_and_moves():
    target = Pose((0.8, 0.1, 0.45), quat_from_rpy(0.2, 0.3, math.atan2(0.1, 0.8 - 0.292)))
    q = arm_inverse_kinematics(target)
    fk = arm_forward_kinematics(q)
    assert fk.position == pytest.approx(target.position, abs=1e-9)
    d = sum(a * b for a, b in zip(fk.rotation, target.rotation))
    assert abs(d) == pytest.approx(1.0, abs=1e-9)
    p = standing_robot(arm=True)
    assert p.step(p.t_ns + DT_NS).joint("arm0.sh1")[0] == pytest.approx(ARM_STOW[1])
    p.move_hand(target, 1.0)
    p.move_gripper(GRIPPER_OPEN_ANGLE / 2, 0.5)
    s = run(p, 1.2)[-1]
    assert s.body_tform_hand.position == pytest.approx(target.position, abs=1e-6)
    assert s.gripper_open_fraction == pytest.approx(0.5)
    assert s.joint("arm0.f1x")[0] == pytest.approx(GRIPPER_OPEN_ANGLE / 2)


def test_power_off_sits_down():
    p = standing_robot(arm=False)
    p.set_power(False)
    s = run(p, 1.5)[-1]
    assert s.sitting and not s.powered
    assert s.odom_tform_body.position[2] == pytest.approx(SIT_HEIGHT, abs=5e-3)
