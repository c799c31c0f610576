"""Robot state of the simulated Spot: `RobotStateService` and the (BETA) `RobotStateStreamingService`.

Both serve the physics `Snapshot`s of a `SimRobot`: joints (`fl.hx` ... `hr.kn`, `arm0.sh0` ...
`arm0.f1x`) with position/velocity/load, the frame tree, body velocities, power, battery and
E-Stop states; the stream adds IMU packets (`inertial_state`) at the physics rate.
All timestamps are on the robot clock.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bosdyn.api import robot_state_pb2, robot_state_service_pb2_grpc

from .estop import LEVEL_NONE
from .frames import fill_frame_tree
from .geometry import Pose
from .headers import fill_response_header
from .physics import Snapshot

if TYPE_CHECKING:
    from .robot import SimRobot

RS = robot_state_pb2
PowerState = RS.PowerState
STREAM_IMU_ID = "imu"
MAX_PACKETS_PER_MESSAGE = 20


def set_ts(ts, ns: int) -> None:
    ts.seconds, ts.nanos = divmod(int(ns), 1_000_000_000)


def set_pose(msg, pose: Pose) -> None:
    msg.position.x, msg.position.y, msg.position.z = pose.position
    msg.rotation.x, msg.rotation.y, msg.rotation.z, msg.rotation.w = pose.rotation


def set_vec(msg, v) -> None:
    msg.x, msg.y, msg.z = v


def _fill_kinematic_state(ks: RS.KinematicState, snap: Snapshot) -> None:
    for name, p, v, load in zip(snap.joint_names, snap.joint_position, snap.joint_velocity, snap.joint_load):
        j = ks.joint_states.add()
        j.name = name
        j.position.value = p
        j.velocity.value = v
        j.load.value = load
    set_ts(ks.acquisition_timestamp, snap.robot_ns)
    fill_frame_tree(ks.transforms_snapshot, snap, sensors=True)
    set_vec(ks.velocity_of_body_in_odom.linear, snap.velocity_linear_odom)
    set_vec(ks.velocity_of_body_in_odom.angular, snap.velocity_angular_odom)
    set_vec(ks.velocity_of_body_in_vision.linear, snap.velocity_linear_vision)
    set_vec(ks.velocity_of_body_in_vision.angular, snap.velocity_angular_vision)


def build_robot_state(robot: "SimRobot", snap: Snapshot) -> RS.RobotState:
    """The full `RobotState` at snapshot `snap`."""
    state = RS.RobotState()
    now_robot = snap.robot_ns
    ps = state.power_state
    set_ts(ps.timestamp, now_robot)
    ps.motor_power_state = robot.power.motor_state(snap.local_ns)
    ps.shore_power_state = PowerState.STATE_OFF_SHORE_POWER
    ps.robot_power_state = PowerState.ROBOT_POWER_STATE_ON
    ps.payload_ports_power_state = PowerState.PAYLOAD_PORTS_POWER_STATE_ON
    ps.wifi_radio_power_state = PowerState.WIFI_RADIO_POWER_STATE_ON
    charge = 87.5
    ps.locomotion_charge_percentage.value = charge
    ps.locomotion_estimated_runtime.FromSeconds(int(charge * 60))
    bat = state.battery_states.add()
    set_ts(bat.timestamp, now_robot)
    bat.identifier = "battery"
    bat.charge_percentage.value = charge
    bat.estimated_runtime.FromSeconds(int(charge * 60))
    bat.current.value = -8.0 if snap.powered else -2.0
    bat.voltage.value = 55.2
    bat.temperatures.extend([31.0, 31.5])
    bat.status = RS.BatteryState.STATUS_DISCHARGING
    soft, details = robot.estop.stop_level_details(snap.local_ns)
    for name, typ, estopped, why in (("hardware_estop", RS.EStopState.TYPE_HARDWARE, False, ""),
                                     ("payload_estop", RS.EStopState.TYPE_HARDWARE, False, ""),
                                     ("software_estop", RS.EStopState.TYPE_SOFTWARE, soft != LEVEL_NONE, details)):
        e = state.estop_states.add()
        set_ts(e.timestamp, now_robot)
        e.name, e.type = name, typ
        e.state = RS.EStopState.STATE_ESTOPPED if estopped else RS.EStopState.STATE_NOT_ESTOPPED
        e.state_description = why
    state.behavior_fault_state.faults.extend(robot.behavior_faults.active())
    _fill_kinematic_state(state.kinematic_state, snap)
    for foot in ("fl", "fr", "hl", "hr"):
        f = state.foot_state.add()
        f.contact = RS.FootState.CONTACT_MADE
    if snap.body_tform_hand is not None:
        ms = state.manipulator_state
        ms.gripper_open_percentage = 100.0 * snap.gripper_open_fraction
        ms.stow_state = (RS.ManipulatorState.STOWSTATE_STOWED if snap.body_tform_hand.position[2] < 0.35
                         and snap.body_tform_hand.position[0] < 0.6 else RS.ManipulatorState.STOWSTATE_DEPLOYED)
        ms.carry_state = RS.ManipulatorState.CARRY_STATE_CARRIABLE_AND_STOWABLE
    if snap.standing and snap.walking:
        state.behavior_state.state = RS.BehaviorState.STATE_STEPPING
    elif snap.standing:
        state.behavior_state.state = RS.BehaviorState.STATE_STANDING
    elif snap.powered:
        state.behavior_state.state = RS.BehaviorState.STATE_TRANSITION
    else:
        state.behavior_state.state = RS.BehaviorState.STATE_NOT_READY
    if robot.faults is not None:
        state.service_fault_state.faults.extend(robot.faults.active())
    return state


def build_stream_response(snap: Snapshot, imu_snaps: list[Snapshot]) -> RS.RobotStateStreamResponse:
    """One streaming message: joints/kinematics at `snap`, one IMU packet per `imu_snaps` entry."""
    resp = RS.RobotStateStreamResponse()
    js = resp.joint_states
    set_ts(js.acquisition_timestamp, snap.robot_ns)
    js.position.extend(snap.joint_position)
    js.velocity.extend(snap.joint_velocity)
    js.load.extend(snap.joint_load)
    ins = resp.inertial_state
    ins.identifier = STREAM_IMU_ID
    ins.mounting_link_name = snap.imu.mounting_link_name
    set_vec(ins.position_imu_rt_link, snap.imu.position_imu_rt_link)
    if len(imu_snaps) > 1:
        span = (imu_snaps[-1].robot_ns - imu_snaps[0].robot_ns) * 1e-9
        ins.packet_rate = (len(imu_snaps) - 1) / span if span > 0 else 0.0
    for s in imu_snaps:
        p = ins.packets.add()
        set_vec(p.acceleration_rt_odom_in_link_frame, s.imu.acceleration)
        set_vec(p.angular_velocity_rt_odom_in_link_frame, s.imu.angular_velocity)
        q = s.imu.odom_rot_link
        p.odom_rot_link.x, p.odom_rot_link.y, p.odom_rot_link.z, p.odom_rot_link.w = q
        set_ts(p.timestamp, s.robot_ns)
    ks = resp.kinematic_state
    set_ts(ks.acquisition_timestamp, snap.robot_ns)
    set_pose(ks.odom_tform_body, snap.odom_tform_body)
    set_pose(ks.vision_tform_body, snap.vision_tform_body)
    set_vec(ks.velocity_of_body_in_odom.linear, snap.velocity_linear_odom)
    set_vec(ks.velocity_of_body_in_odom.angular, snap.velocity_angular_odom)
    set_vec(ks.velocity_of_body_in_vision.linear, snap.velocity_linear_vision)
    set_vec(ks.velocity_of_body_in_vision.angular, snap.velocity_angular_vision)
    resp.contact_states.extend([RS.FootState.CONTACT_MADE] * 4)
    return resp


class RobotStateServicer(robot_state_service_pb2_grpc.RobotStateServiceServicer):
    """get_robot_state: the latest snapshot (cached per snapshot, shared by all callers)."""

    def __init__(self, robot: "SimRobot"):
        self.robot = robot
        self._cache: tuple[int, RS.RobotState] | None = None

    def GetRobotState(self, request, context):
        received = self.robot.clock.robot_ns()
        snap = self.robot.latest()
        cache = self._cache
        if cache is None or cache[0] != snap.robot_ns:
            cache = (snap.robot_ns, build_robot_state(self.robot, snap))
            self._cache = cache
        resp = RS.RobotStateResponse()
        resp.robot_state.CopyFrom(cache[1])
        fill_response_header(resp, request, self.robot.clock, received)
        return resp

    def GetRobotMetrics(self, request, context):
        received = self.robot.clock.robot_ns()
        resp = RS.RobotMetricsResponse()
        set_ts(resp.robot_metrics.timestamp, received)
        fill_response_header(resp, request, self.robot.clock, received)
        return resp


class RobotStateStreamingServicer(robot_state_service_pb2_grpc.RobotStateStreamingServiceServicer):
    """GetRobotStateStream: one message per physics step with every IMU packet since the last."""

    def __init__(self, robot: "SimRobot"):
        self.robot = robot

    def GetRobotStateStream(self, request, context):
        robot = self.robot
        last = robot.latest().robot_ns - 1
        first = True
        while context is None or context.is_active():
            snap = robot.wait_for_state(last, timeout=0.5)
            if snap is None:
                if robot._stop.is_set():
                    return
                continue
            if first:
                new = [snap]
                first = False
            else:
                new = robot.snapshots_since(last, MAX_PACKETS_PER_MESSAGE) or [snap]
            last = new[-1].robot_ns
            resp = build_stream_response(new[-1], new)
            fill_response_header(resp, request, robot.clock)
            yield resp
