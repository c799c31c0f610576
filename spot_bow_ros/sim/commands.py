"""RobotCommandService of the simulated Spot: validation as the robot does it, then physics targets.

Checked in this order, each failure answered with the robot's status and logged:
lease (LeaseUseResult) -> malformed (NaN/inf anywhere, empty command: STATUS_INVALID_REQUEST) ->
an active behavior fault (STATUS_BEHAVIOR_FAULT; only a safe power off passes, so a fallen robot
can still be powered down) -> arm parts without an arm (STATUS_UNSUPPORTED) -> motors not on (STATUS_NOT_POWERED_ON) ->
unknown frames (STATUS_UNKNOWN_FRAME) -> a velocity/trajectory command (robot-clock end_time)
whose `clock_identifier` is missing or not a synced time-sync clock (STATUS_NO_TIMESYNC; checked
when `time_sync_ok` is set, as SimulatedSpot does) -> missing or past end time of
velocity/trajectory commands (STATUS_EXPIRED, robot clock).
`ClearBehaviorFault` (lease required) clears a CLEARABLE behavior fault (STATUS_CLEARED) and
answers STATUS_NOT_CLEARED for an unknown or UNCLEARABLE one.
Mobility params travel with every mobility command; a command without them resets the body
height and orientation offsets, as on Spot.
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bosdyn.api import (
    arm_command_pb2,
    basic_command_pb2,
    gripper_command_pb2,
    lease_pb2,
    power_pb2,
    robot_command_pb2,
    robot_command_service_pb2_grpc,
    robot_state_pb2,
)
from bosdyn.api.spot import robot_command_pb2 as spot_command_pb2
from google.protobuf import any_pb2, descriptor

from ..convert.spot_catalogue import SPOT_ARM_JOINT_FIELDS
from .body import RobotBody
from .geometry import Pose, rpy_from_quat
from .headers import CODE_INVALID_REQUEST, fill_response_header
from .physics import ARM_STOW, GRIPPER_OPEN_ANGLE, VISION_TFORM_ODOM

Resp = robot_command_pb2.RobotCommandResponse
FB = basic_command_pb2.RobotCommandFeedbackStatus
NAMED_ARM = {
    arm_command_pb2.NamedArmPositionsCommand.POSITIONS_STOW: ARM_STOW,
    arm_command_pb2.NamedArmPositionsCommand.POSITIONS_READY: (0.0, -0.9, 1.8, 0.0, -0.9, 0.0),
    arm_command_pb2.NamedArmPositionsCommand.POSITIONS_CARRY: (0.0, -2.3, 2.6, 0.0, -0.3, 0.0),
}
SE2_GOAL_FRAMES = ("odom", "vision", "body", "flat_body", "gpe")
#: Velocity frames: the SDK helper's "body" (real robots accept it) and the proto's documented
#: vision/odom/flat_body; vision and odom velocities are held in that frame while the robot turns.
VELOCITY_FRAMES = ("body", "flat_body", "odom", "vision")
ARM_ROOT_FRAMES = ("body", "flat_body", "odom", "vision", "gpe")


class Rejected(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def find_non_finite(msg, path: str = "") -> str | None:
    """Path of the first NaN/inf float in `msg` (recursing into MobilityParams in Any), or None."""
    for fd, value in msg.ListFields():
        name = f"{path}.{fd.name}" if path else fd.name
        values = value if fd.is_repeated else [value]
        if fd.type in (descriptor.FieldDescriptor.TYPE_DOUBLE, descriptor.FieldDescriptor.TYPE_FLOAT):
            for v in values:
                if not math.isfinite(v):
                    return name
        elif fd.type == descriptor.FieldDescriptor.TYPE_MESSAGE:
            if hasattr(value, "keys") and not hasattr(value, "ListFields"):   # map field
                values = list(value.values())
            for v in values:
                if isinstance(v, any_pb2.Any):
                    if v.Is(spot_command_pb2.MobilityParams.DESCRIPTOR):
                        inner = spot_command_pb2.MobilityParams()
                        v.Unpack(inner)
                        bad = find_non_finite(inner, name)
                        if bad:
                            return bad
                    continue
                if hasattr(v, "ListFields"):
                    bad = find_non_finite(v, name)
                    if bad:
                        return bad
    return None


def _ts_ns(ts) -> int:
    return ts.seconds * 1_000_000_000 + ts.nanos


def _dur_s(d) -> float:
    return d.seconds + d.nanos * 1e-9


def _pose(msg) -> Pose:
    p, q = msg.position, msg.rotation
    if q.x == q.y == q.z == q.w == 0:
        return Pose((p.x, p.y, p.z))
    n = math.sqrt(q.x * q.x + q.y * q.y + q.z * q.z + q.w * q.w)
    return Pose((p.x, p.y, p.z), (q.x / n, q.y / n, q.z / n, q.w / n))


def body_offsets_from_params(mobility) -> tuple[float, float, float, float]:
    """(height, roll, pitch, yaw) body offsets from a MobilityCommand.Request's params.

    As `RobotCommandBuilder.mobility_params` builds them: the first point of
    `body_control.base_offset_rt_footprint`; no params (or no body control) means zero offsets.
    """
    if not mobility.HasField("params"):
        return (0.0, 0.0, 0.0, 0.0)
    params = spot_command_pb2.MobilityParams()
    if not mobility.params.Unpack(params):
        return (0.0, 0.0, 0.0, 0.0)
    traj = params.body_control.base_offset_rt_footprint
    if not traj.points:
        return (0.0, 0.0, 0.0, 0.0)
    pose = _pose(traj.points[0].pose)
    roll, pitch, yaw = rpy_from_quat(pose.rotation)
    return (pose.position[2], roll, pitch, yaw)


@dataclass
class _Entry:
    """What a command asked for, for its feedback."""

    request: robot_command_pb2.RobotCommandRequest
    received_local_ns: int
    mobility: str | None = None      # stand, sit, velocity, trajectory, stop, stance
    full_body: str | None = None     # stop, freeze, safe_power_off
    arm: str | None = None           # cartesian, joint_move, named, stop
    gripper: bool = False
    end_local_ns: int = 0
    parts: set = field(default_factory=set)


class RobotCommandServicer(robot_command_service_pb2_grpc.RobotCommandServiceServicer):
    """bosdyn.api.RobotCommandService acting on a `SimRobot`."""

    def __init__(self, robot: RobotBody):
        self.robot = robot
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._entries: dict[int, _Entry] = {}
        self._latest_for_part: dict[str, int] = {}
        #: clock_identifier -> synced? (the time-sync service's `is_synced`); None: not checked.
        self.time_sync_ok: Callable[[str], bool] | None = None

    # ----- RPCs -----------------------------------------------------------------------------
    def RobotCommand(self, request, context):
        robot = self.robot
        received_robot = robot.clock.robot_ns()
        now = time.time_ns()
        resp = robot_command_pb2.RobotCommandResponse()
        use = robot.leases.use(request.lease)
        resp.lease_use_result.CopyFrom(use)
        if use.status != lease_pb2.LeaseUseResult.STATUS_OK:
            resp.status = Resp.STATUS_UNKNOWN
            resp.message = "lease: " + lease_pb2.LeaseUseResult.Status.Name(use.status)
            fill_response_header(resp, request, robot.clock, received_robot)
            robot.record("RobotCommand", request, "LEASE_" + lease_pb2.LeaseUseResult.Status.Name(use.status),
                         False, message=resp.message, local_ns=now)
            return resp
        try:
            with robot.lock:
                entry = self._apply(request, now)
            cid = next(self._ids)
            with self._lock:
                self._entries[cid] = entry
                for part in entry.parts:
                    self._latest_for_part[part] = cid
            resp.status = Resp.STATUS_OK
            resp.robot_command_id = cid
            robot.record("RobotCommand", request, "STATUS_OK", True, command_id=cid, local_ns=now)
        except Rejected as rej:
            resp.status = rej.status
            resp.message = rej.message
            robot.record("RobotCommand", request, Resp.Status.Name(rej.status), False, message=rej.message,
                         local_ns=now)
        fill_response_header(resp, request, robot.clock, received_robot)
        return resp

    def ClearBehaviorFault(self, request, context):
        robot = self.robot
        received = robot.clock.robot_ns()
        resp = robot_command_pb2.ClearBehaviorFaultResponse()
        use = robot.leases.use(request.lease)
        resp.lease_use_result.CopyFrom(use)
        if use.status == lease_pb2.LeaseUseResult.STATUS_OK:
            with robot.lock:
                cleared = robot.behavior_faults.clear(request.behavior_fault_id)
                robot.state_version += 1
                blocking = [f for f in robot.behavior_faults.active.values()
                            if f.behavior_fault_id == request.behavior_fault_id]
            Clear = robot_command_pb2.ClearBehaviorFaultResponse
            resp.status = Clear.STATUS_CLEARED if cleared is not None else Clear.STATUS_NOT_CLEARED
            if cleared is not None:
                resp.behavior_fault.CopyFrom(cleared)
            elif blocking:
                resp.behavior_fault.CopyFrom(blocking[0])
            robot.record("ClearBehaviorFault", request, Clear.Status.Name(resp.status), cleared is not None)
        else:
            robot.record("ClearBehaviorFault", request, "LEASE_" + lease_pb2.LeaseUseResult.Status.Name(use.status),
                         False)
        fill_response_header(resp, request, robot.clock, received)
        return resp

    def RobotCommandFeedback(self, request, context):
        robot = self.robot
        received = robot.clock.robot_ns()
        resp = robot_command_pb2.RobotCommandFeedbackResponse()
        with self._lock:
            entry = self._entries.get(request.robot_command_id)
            latest = dict(self._latest_for_part)
        if entry is None:
            fill_response_header(resp, request, robot.clock, received, code=CODE_INVALID_REQUEST,
                                 message=f"unknown robot_command_id {request.robot_command_id}")
            return resp
        holder = robot.leases.holder("body")
        if holder is not None:
            resp.lease_use_result.status = lease_pb2.LeaseUseResult.STATUS_OK
            resp.lease_use_result.latest_known_lease.CopyFrom(holder)
        with robot.lock:
            self._feedback(resp.feedback, entry, request.robot_command_id, latest)
        fill_response_header(resp, request, robot.clock, received)
        return resp

    # ----- validation and application -------------------------------------------------------
    def _apply(self, request, now: int) -> _Entry:
        robot = self.robot
        cmd = request.command
        bad = find_non_finite(cmd)
        if bad:
            raise Rejected(Resp.STATUS_INVALID_REQUEST, f"non-finite value in {bad}")
        entry = _Entry(request=request, received_local_ns=now)
        which = cmd.WhichOneof("command")
        if which is None:
            raise Rejected(Resp.STATUS_INVALID_REQUEST, "empty command")
        sync = cmd.synchronized_command
        if which == "synchronized_command" and not (sync.HasField("mobility_command") or sync.HasField("arm_command")
                                                    or sync.HasField("gripper_command")):
            raise Rejected(Resp.STATUS_INVALID_REQUEST, "empty synchronized command")
        if robot.behavior_faults.active and not (which == "full_body_command" and cmd.full_body_command
                                                 .WhichOneof("command") == "safe_power_off_request"):
            causes = ", ".join(robot_state_pb2.BehaviorFault.Cause.Name(f.cause)
                               for f in robot.behavior_faults.active.values())
            raise Rejected(Resp.STATUS_BEHAVIOR_FAULT, f"behavior fault active ({causes}): clear it first")
        if which == "synchronized_command" and not robot.arm and (sync.HasField("arm_command")
                                                                  or sync.HasField("gripper_command")):
            raise Rejected(Resp.STATUS_UNSUPPORTED, "arm/gripper command but the robot has no arm")
        if not robot.power.is_on(now):
            raise Rejected(Resp.STATUS_NOT_POWERED_ON, "motor power is not on")
        robot_now = robot.clock.robot_ns(now)
        actions = []
        if which == "full_body_command":
            actions.append(self._full_body(cmd.full_body_command, entry))
        else:
            if sync.HasField("mobility_command"):
                actions.append(self._mobility(sync.mobility_command, entry, robot_now))
            if sync.HasField("arm_command"):
                actions.append(self._arm(sync.arm_command, entry))
            if sync.HasField("gripper_command"):
                actions.append(self._gripper(sync.gripper_command, entry))
        for act in actions:   # everything validated: now act
            act()
        return entry

    def _full_body(self, fb, entry: _Entry):
        physics = self.robot.physics
        which = fb.WhichOneof("command")
        entry.parts = {"mobility", "arm", "gripper"}
        if which in ("stop_request", "freeze_request"):
            entry.full_body = "stop" if which == "stop_request" else "freeze"
            return physics.stop
        if which == "safe_power_off_request":
            entry.full_body = "safe_power_off"

            def act():
                physics.sit()
                self.robot.power.command(power_pb2.PowerCommandRequest.REQUEST_OFF_MOTORS)
            return act
        if which is None:
            raise Rejected(Resp.STATUS_INVALID_REQUEST, "empty full body command")
        raise Rejected(Resp.STATUS_UNSUPPORTED, f"full body {which} is not simulated")

    def _mobility(self, mob, entry: _Entry, robot_now: int):
        physics = self.robot.physics
        clock = self.robot.clock
        which = mob.WhichOneof("command")
        entry.parts.add("mobility")
        offsets = body_offsets_from_params(mob)
        if which == "stand_request":
            entry.mobility = "stand"

            def act():
                physics.set_body_offset(*offsets)
                physics.stand()
            return act
        if which == "sit_request":
            entry.mobility = "sit"
            return physics.sit
        if which == "stop_request":
            entry.mobility = "stop"
            return physics.stop
        if which == "se2_velocity_request":
            req = mob.se2_velocity_request
            if req.se2_frame_name not in VELOCITY_FRAMES:
                raise Rejected(Resp.STATUS_UNKNOWN_FRAME, f"velocity frame {req.se2_frame_name!r} not supported")
            self._check_time_sync(entry.request)
            end = self._end_time(req, robot_now, "velocity")
            entry.mobility, entry.end_local_ns = "velocity", clock.local_ns(end)
            v = req.velocity
            frame_yaw = {"odom": 0.0, "vision": -rpy_from_quat(VISION_TFORM_ODOM.rotation)[2]}.get(req.se2_frame_name)

            def act():
                physics.set_body_offset(*offsets)
                physics.set_velocity(v.linear.x, v.linear.y, v.angular, clock.local_ns(end), frame_yaw)
            return act
        if which == "se2_trajectory_request":
            req = mob.se2_trajectory_request
            if req.se2_frame_name not in SE2_GOAL_FRAMES:
                raise Rejected(Resp.STATUS_UNKNOWN_FRAME, f"trajectory frame {req.se2_frame_name!r} unknown")
            if not req.trajectory.points:
                raise Rejected(Resp.STATUS_INVALID_REQUEST, "trajectory has no points")
            self._check_time_sync(entry.request)
            end = self._end_time(req, robot_now, "trajectory")
            goal = req.trajectory.points[-1].pose
            gx, gy, gyaw = self._goal_in_odom(req.se2_frame_name, goal.position.x, goal.position.y, goal.angle)
            entry.mobility, entry.end_local_ns = "trajectory", clock.local_ns(end)

            def act():
                physics.set_body_offset(*offsets)
                physics.set_goal(gx, gy, gyaw, clock.local_ns(end))
            return act
        if which == "stance_request":
            raise Rejected(Resp.STATUS_UNSUPPORTED, "stance is not simulated")
        if which is None:
            raise Rejected(Resp.STATUS_INVALID_REQUEST, "empty mobility command")
        raise Rejected(Resp.STATUS_UNSUPPORTED, f"mobility {which} is not simulated")

    def _check_time_sync(self, request) -> None:
        """A robot-clock end_time means nothing without a synced clock: STATUS_NO_TIMESYNC."""
        if self.time_sync_ok is not None and not self.time_sync_ok(request.clock_identifier):
            what = "no clock_identifier" if not request.clock_identifier else \
                f"clock {request.clock_identifier!r} is not time-synced"
            raise Rejected(Resp.STATUS_NO_TIMESYNC, f"{what}: establish time sync first")

    @staticmethod
    def _end_time(req, robot_now: int, what: str) -> int:
        if not req.HasField("end_time") or _ts_ns(req.end_time) == 0:
            raise Rejected(Resp.STATUS_EXPIRED, f"{what} command has no end_time")
        end = _ts_ns(req.end_time)
        if end <= robot_now:
            raise Rejected(Resp.STATUS_EXPIRED,
                           f"{what} command end_time is {(robot_now - end) * 1e-9:.3f} s in the past (robot clock)")
        return end

    def _goal_in_odom(self, frame: str, x: float, y: float, angle: float) -> tuple[float, float, float]:
        snap = self.robot.latest()
        if frame in ("odom", "gpe"):
            return x, y, angle
        if frame == "vision":
            odom_tform_goal = VISION_TFORM_ODOM.inverse() * Pose.from_xyz_rpy(x, y, 0.0, yaw=angle)
        else:   # body / flat_body: relative to the current footprint
            odom_tform_goal = snap.odom_tform_flat_body * Pose.from_xyz_rpy(x, y, 0.0, yaw=angle)
        p = odom_tform_goal.position
        return p[0], p[1], rpy_from_quat(odom_tform_goal.rotation)[2]

    def _body_tform(self, frame: str) -> Pose:
        snap = self.robot.latest()
        if frame == "body":
            return Pose()
        body_tform_odom = snap.odom_tform_body.inverse()
        if frame in ("odom", "gpe"):
            return body_tform_odom
        if frame == "vision":
            return snap.vision_tform_body.inverse()
        return body_tform_odom * snap.odom_tform_flat_body   # flat_body

    def _arm(self, arm, entry: _Entry):
        physics = self.robot.physics
        which = arm.WhichOneof("command")
        entry.parts.add("arm")
        if which == "arm_cartesian_command":
            req = arm.arm_cartesian_command
            if req.root_frame_name not in ARM_ROOT_FRAMES:
                raise Rejected(Resp.STATUS_UNKNOWN_FRAME, f"arm root frame {req.root_frame_name!r} unknown")
            points = req.pose_trajectory_in_task.points
            if not points:
                raise Rejected(Resp.STATUS_INVALID_REQUEST, "arm cartesian command without pose trajectory")
            root_tform_task = _pose(req.root_tform_task) if req.HasField("root_tform_task") else Pose()
            target = self._body_tform(req.root_frame_name) * root_tform_task * _pose(points[-1].pose)
            duration = _dur_s(points[-1].time_since_reference) or 1.0
            entry.arm = "cartesian"
            return lambda: physics.move_hand(target, duration)
        if which == "arm_joint_move_command":
            points = arm.arm_joint_move_command.trajectory.points
            if not points:
                raise Rejected(Resp.STATUS_INVALID_REQUEST, "arm joint move without points")
            pos = points[-1].position
            goal = tuple(getattr(pos, f).value if pos.HasField(f) else None for f in SPOT_ARM_JOINT_FIELDS)
            duration = _dur_s(points[-1].time_since_reference)
            if duration <= 0:
                current = physics.arm_q
                duration = max([abs(g - c) for g, c in zip(goal, current) if g is not None] + [0.0]) / 1.0 + 0.1
            entry.arm = "joint_move"
            return lambda: physics.move_arm(goal, duration)
        if which == "named_arm_position_command":
            pos = arm.named_arm_position_command.position
            if pos not in NAMED_ARM:
                raise Rejected(Resp.STATUS_INVALID_REQUEST, "unknown named arm position")
            entry.arm = "named"
            return lambda: physics.move_arm(NAMED_ARM[pos], 2.0)
        if which == "arm_stop_command":
            entry.arm = "stop"
            return lambda: physics.move_arm(physics.arm_q, 0.05)
        if which is None:
            raise Rejected(Resp.STATUS_INVALID_REQUEST, "empty arm command")
        raise Rejected(Resp.STATUS_UNSUPPORTED, f"arm {which} is not simulated")

    def _gripper(self, grip, entry: _Entry):
        physics = self.robot.physics
        if not grip.HasField("claw_gripper_command"):
            raise Rejected(Resp.STATUS_INVALID_REQUEST, "empty gripper command")
        points = grip.claw_gripper_command.trajectory.points
        if not points:
            raise Rejected(Resp.STATUS_INVALID_REQUEST, "claw gripper command without points")
        angle = points[-1].point
        if not GRIPPER_OPEN_ANGLE - 1e-6 <= angle <= 1e-6:
            raise Rejected(Resp.STATUS_INVALID_REQUEST, f"claw gripper angle {angle} outside [{GRIPPER_OPEN_ANGLE}, 0]")
        duration = _dur_s(points[-1].time_since_reference) or abs(angle - physics.gripper_q) / 3.0 + 0.05
        entry.parts.add("gripper")
        entry.gripper = True
        return lambda: physics.move_gripper(angle, duration)

    # ----- feedback -------------------------------------------------------------------------
    def _feedback(self, fb: robot_command_pb2.RobotCommandFeedback, entry: _Entry, cid: int,
                  latest: dict[str, int]) -> None:
        physics = self.robot.physics
        now = time.time_ns()

        def status_for(part: str) -> int:
            return FB.STATUS_PROCESSING if latest.get(part) == cid else FB.STATUS_COMMAND_OVERRIDDEN

        if entry.full_body:
            fb.full_body_feedback.status = status_for("mobility")
            if entry.full_body == "stop":
                fb.full_body_feedback.stop_feedback.SetInParent()
            elif entry.full_body == "freeze":
                fb.full_body_feedback.freeze_feedback.SetInParent()
            else:
                S = basic_command_pb2.SafePowerOffCommand.Feedback
                fb.full_body_feedback.safe_power_off_feedback.status = (
                    S.STATUS_POWERED_OFF if not self.robot.power.is_on() else S.STATUS_IN_PROGRESS)
            return
        sync = fb.synchronized_feedback
        if entry.mobility:
            m = sync.mobility_command_feedback
            m.status = status_for("mobility")
            if entry.mobility == "stand":
                m.stand_feedback.status = (basic_command_pb2.StandCommand.Feedback.STATUS_IS_STANDING
                                           if physics.is_standing() else
                                           basic_command_pb2.StandCommand.Feedback.STATUS_IN_PROGRESS)
                m.stand_feedback.standing_state = basic_command_pb2.StandCommand.Feedback.STANDING_CONTROLLED
            elif entry.mobility == "sit":
                m.sit_feedback.status = (basic_command_pb2.SitCommand.Feedback.STATUS_IS_SITTING
                                         if physics.is_sitting() else
                                         basic_command_pb2.SitCommand.Feedback.STATUS_IN_PROGRESS)
            elif entry.mobility == "stop":
                m.stop_feedback.SetInParent()
            elif entry.mobility == "velocity":
                m.se2_velocity_feedback.SetInParent()
                if m.status == FB.STATUS_PROCESSING and now >= entry.end_local_ns:
                    m.status = FB.STATUS_COMMAND_TIMED_OUT
            elif entry.mobility == "trajectory":
                t = m.se2_trajectory_feedback
                T = basic_command_pb2.SE2TrajectoryCommand.Feedback
                reached = m.status == FB.STATUS_PROCESSING and physics.goal_reached()
                t.status = T.STATUS_AT_GOAL if reached else T.STATUS_GOING_TO_GOAL
                moving = abs(physics.vx) + abs(physics.vy) + abs(physics.wz) > 0.02
                t.body_movement_status = T.BODY_STATUS_MOVING if moving else T.BODY_STATUS_SETTLED
                t.final_goal_status = T.FINAL_GOAL_STATUS_ACHIEVABLE
                t.request_information.CopyFrom(entry.request.command.synchronized_command
                                               .mobility_command.se2_trajectory_request)
                if m.status == FB.STATUS_PROCESSING and not reached and now >= entry.end_local_ns:
                    m.status = FB.STATUS_COMMAND_TIMED_OUT
        if entry.arm:
            a = sync.arm_command_feedback
            a.status = status_for("arm")
            done = physics.arm_done()
            if entry.arm == "cartesian":
                S = arm_command_pb2.ArmCartesianCommand.Feedback
                a.arm_cartesian_feedback.status = S.STATUS_TRAJECTORY_COMPLETE if done else S.STATUS_IN_PROGRESS
            elif entry.arm == "joint_move":
                S = arm_command_pb2.ArmJointMoveCommand.Feedback
                a.arm_joint_move_feedback.status = S.STATUS_COMPLETE if done else S.STATUS_IN_PROGRESS
            elif entry.arm == "named":
                S = arm_command_pb2.NamedArmPositionsCommand.Feedback
                a.named_arm_position_feedback.status = S.STATUS_COMPLETE if done else S.STATUS_IN_PROGRESS
            else:
                a.arm_stop_feedback.SetInParent()
        if entry.gripper:
            g = sync.gripper_command_feedback
            g.status = status_for("gripper")
            S = gripper_command_pb2.ClawGripperCommand.Feedback
            g.claw_gripper_feedback.status = S.STATUS_AT_GOAL if physics.gripper_done() else S.STATUS_IN_PROGRESS
