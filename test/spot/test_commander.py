"""spot/commander.py without a robot: the RobotCommand builders and the lease-loss decision.
(The commander against the simulated Spot is covered by test_motor_command_e2e.py.)"""

import logging
import math
from types import SimpleNamespace

import pytest
from bosdyn.api import lease_pb2
from bosdyn.client.lease import Lease, LeaseWallet
from bosdyn.client.math_helpers import SE2Pose
from google.protobuf.timestamp_pb2 import Timestamp

from spot_bow_ros.convert.motion import BodyPose, MotionLimits, Se2Goal, VelocityCommand
from spot_bow_ros.spot import commander as c

LIMITS = MotionLimits(max_linear_velocity=0.4, max_angular_velocity=0.5)


def test_mobility_params_carry_body_pose_and_velocity_limits():
    params = c.mobility_params(BodyPose(height=0.1, roll=0.05, pitch=-0.2, yaw=0.3), LIMITS)
    pose = params.body_control.base_offset_rt_footprint.points[0].pose
    e = pose.rotation.to_euler_zxy()
    assert (pose.position.z, e.roll, e.pitch, e.yaw) == pytest.approx((0.1, 0.05, -0.2, 0.3), abs=1e-9)
    assert (params.vel_limit.max_vel.linear.x, params.vel_limit.max_vel.linear.y,
            params.vel_limit.max_vel.angular) == pytest.approx((0.4, 0.4, 0.5))
    assert (params.vel_limit.min_vel.linear.x, params.vel_limit.min_vel.angular) == pytest.approx((-0.4, -0.5))


def test_velocity_command_has_end_time_and_body_frame():
    end = Timestamp(seconds=1234, nanos=5)
    cmd = c.build_velocity_command(VelocityCommand(0.3, -0.1, 0.2), BodyPose(), LIMITS, end)
    req = cmd.synchronized_command.mobility_command.se2_velocity_request
    assert (req.velocity.linear.x, req.velocity.linear.y, req.velocity.angular) == pytest.approx((0.3, -0.1, 0.2))
    assert req.se2_frame_name == "body" and req.end_time == end


def test_relative_goal_composed_with_odom_pose():
    odom_tform_body = SE2Pose(2.0, 1.0, math.pi / 2)        # facing +y of odom
    goal = c.odom_goal(Se2Goal(1.0, 0.5, -math.pi / 2), odom_tform_body)
    assert (goal.x, goal.y, goal.angle) == pytest.approx((1.5, 2.0, 0.0))
    assert c.goal_duration(Se2Goal(0.8, 0.0, 0.0), LIMITS) == pytest.approx(2 * 2.0 + 2.0)
    cmd = c.build_se2_goal_command(goal, BodyPose(), LIMITS, Timestamp(seconds=9))
    req = cmd.synchronized_command.mobility_command.se2_trajectory_request
    assert req.se2_frame_name == "odom" and req.end_time.seconds == 9


def _commander_with_wallet(wallet):
    conn = SimpleNamespace(ensure_client=lambda name: SimpleNamespace(lease_wallet=wallet),
                           robot_timestamp=lambda ns: Timestamp())
    return c.SpotCommander(conn, logging.getLogger("test"), limits=LIMITS)


def _older_error(latest_sequence):
    result = lease_pb2.LeaseUseResult(status=lease_pb2.LeaseUseResult.STATUS_OLDER)
    result.latest_known_lease.CopyFrom(lease_pb2.Lease(resource="body", epoch="e", sequence=latest_sequence))
    return SimpleNamespace(response=SimpleNamespace(lease_use_result=result))


def test_stale_keepalive_against_our_own_newer_lease_is_not_a_loss():
    wallet = LeaseWallet()
    wallet.set_client_name("me")
    wallet.add(Lease(lease_pb2.Lease(resource="body", epoch="e", sequence=[5])))
    wallet.advance()
    wallet.advance()                                  # our current (sub)lease: [5, 2]
    cmd = _commander_with_wallet(wallet)
    assert cmd._lease_really_lost(_older_error([5, 1])) is False   # robot saw an older one of ours
    assert cmd._lease_really_lost(_older_error([5, 2])) is False
    assert cmd._lease_really_lost(_older_error([6])) is True         # someone took a newer lease
    assert cmd._lease_really_lost(RuntimeError("other")) is True


@pytest.mark.parametrize("status, taken", [
    (lease_pb2.LeaseUseResult.STATUS_OLDER, True),          # another client took it
    (lease_pb2.LeaseUseResult.STATUS_REVOKED, True),        # the robot revoked it
    (lease_pb2.LeaseUseResult.STATUS_WRONG_EPOCH, False),   # the robot restarted: not a latched stop
])
def test_which_lease_errors_are_a_taken_lease(status, taken):
    from bosdyn.api import robot_command_pb2
    from bosdyn.client.exceptions import LeaseUseError
    response = robot_command_pb2.RobotCommandResponse()
    response.lease_use_result.status = status
    response.lease_use_result.owner.client_name = "tablet"
    exc = LeaseUseError(response, response.lease_use_result)
    assert c._lease_taken(exc) is taken
    text = c._lease_error_text(exc)
    assert text.startswith(f"LeaseUseError {lease_pb2.LeaseUseResult.Status.Name(status)}")
    assert text.endswith("(held by tablet)")


def test_a_wallet_that_learnt_of_another_owner_is_a_taken_lease():
    from bosdyn.client.lease import LeaseNotOwnedByWallet, LeaseState
    other = LeaseNotOwnedByWallet("body", LeaseState(LeaseState.Status.OTHER_OWNER))
    unowned = LeaseNotOwnedByWallet("body", LeaseState(LeaseState.Status.UNOWNED))
    assert c._lease_taken(other) and not c._lease_taken(unowned)
