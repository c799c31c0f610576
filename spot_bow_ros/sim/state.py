"""Robot state of the simulated Spot: `RobotStateService` and the (BETA) `RobotStateStreamingService`.

Both serve the physics `Snapshot`s of a `SimRobot`. All timestamps are on the robot clock.

Polled `RobotState` (as a real Spot, docs/spot_facts.md "Joint names and order", "Robot state"):
joints `fl.hx` ... `hr.kn` and, with an arm,
`arm0.sh0, arm0.sh1, arm0.hr0, arm0.el0, arm0.el1, arm0.wr0, arm0.wr1, arm0.f1x`
(20 entries; `arm0.hr0` has a name and no data) with position/velocity/load; the frame tree and
body velocities; power state and a battery that drains with the power drawn; E-Stop states;
WiFi (`comms_states`); system faults (active and historical) and behavior faults; 4 feet with
contact and terrain estimates; `terrain_state`; motor temperatures (`system_state`);
`manipulator_state` only with an arm.

`GetRobotStateStream` sends one message per physics step (333 Hz): 19 unnamed joint values in
`bosdyn.api.spot.JointIndex` order (no hr0; 12 without an arm), at least one IMU packet and 4
contact states, and stays open. A robot without the joint-level licence
(`SimRobot(streaming_licence=False)`) ends the stream at once with gRPC status
PERMISSION_DENIED before any message: the real server behaviour is undocumented, but users see
the stream read fail (C++ `StreamingFailed`, spot_ros2 #548), i.e. a gRPC error on the first read;
PERMISSION_DENIED is the gRPC code for a caller that lacks the right to a call.
"""

from __future__ import annotations

import grpc
from bosdyn.api import robot_state_pb2, robot_state_service_pb2_grpc

from .body import RobotBody
from .estop import LEVEL_NONE
from .frames import fill_frame_tree
from .geometry import Pose
from .headers import fill_response_header
from .physics import ARM_JOINT_NAMES, FEET, LEG_JOINT_NAMES, POLLED_ARM_JOINT_NAMES, Snapshot

RS = robot_state_pb2
PowerState = RS.PowerState
STREAM_IMU_ID = "imu"
MAX_PACKETS_PER_MESSAGE = 20
NO_LICENCE = (grpc.StatusCode.PERMISSION_DENIED,
              "robot state streaming needs a joint-level control licence, which this robot does not have")
WIFI_ESSID = "spot-BD-sim"
_CONTACT = {True: RS.FootState.CONTACT_MADE, False: RS.FootState.CONTACT_LOST}


def set_ts(ts, ns: int) -> None:
    ts.seconds, ts.nanos = divmod(int(ns), 1_000_000_000)


def set_pose(msg, pose: Pose) -> None:
    msg.position.x, msg.position.y, msg.position.z = pose.position
    msg.rotation.x, msg.rotation.y, msg.rotation.z, msg.rotation.w = pose.rotation


def set_vec(msg, v) -> None:
    msg.x, msg.y, msg.z = v


def polled_joint_names(snap: Snapshot) -> tuple[str, ...]:
    """The names polled RobotState lists for `snap`: 12, or 20 with the arm's `arm0.hr0`."""
    arm = snap.joint_names[len(LEG_JOINT_NAMES):]
    return LEG_JOINT_NAMES + (POLLED_ARM_JOINT_NAMES if arm == ARM_JOINT_NAMES else arm)


def _fill_kinematic_state(ks: RS.KinematicState, snap: Snapshot) -> None:
    index = {n: i for i, n in enumerate(snap.joint_names)}
    for name in polled_joint_names(snap):
        j = ks.joint_states.add()
        j.name = name
        i = index.get(name)
        if i is None:       # arm0.hr0: listed, no data (as on a real arm robot)
            continue
        j.position.value = snap.joint_position[i]
        j.velocity.value = snap.joint_velocity[i]
        j.load.value = snap.joint_load[i]
    set_ts(ks.acquisition_timestamp, snap.robot_ns)
    fill_frame_tree(ks.transforms_snapshot, snap, sensors=True)
    set_vec(ks.velocity_of_body_in_odom.linear, snap.velocity_linear_odom)
    set_vec(ks.velocity_of_body_in_odom.angular, snap.velocity_angular_odom)
    set_vec(ks.velocity_of_body_in_vision.linear, snap.velocity_linear_vision)
    set_vec(ks.velocity_of_body_in_vision.angular, snap.velocity_angular_vision)


def build_robot_state(robot: RobotBody, snap: Snapshot) -> RS.RobotState:
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
    battery = robot.battery
    ps.locomotion_charge_percentage.value = battery.charge
    ps.locomotion_estimated_runtime.FromSeconds(int(battery.runtime_s))
    bat = state.battery_states.add()
    set_ts(bat.timestamp, now_robot)
    bat.identifier = "battery"
    bat.charge_percentage.value = battery.charge
    bat.estimated_runtime.FromSeconds(int(battery.runtime_s))
    bat.current.value = battery.current
    bat.voltage.value = battery.voltage
    bat.temperatures.extend(battery.temperatures)
    bat.status = battery.status
    comms = state.comms_states.add()
    set_ts(comms.timestamp, now_robot)
    comms.wifi_state.current_mode = RS.WiFiState.MODE_ACCESS_POINT
    comms.wifi_state.essid = WIFI_ESSID
    soft, details = robot.estop.stop_level_details(snap.local_ns)
    hardware = [(name, RS.EStopState.TYPE_HARDWARE, pressed, why)
                for name, pressed, why in robot.estop.hardware_states()]   # the payload port too (#190)
    for name, typ, estopped, why in (*hardware,
                                     ("software_estop", RS.EStopState.TYPE_SOFTWARE, soft != LEVEL_NONE, details)):
        e = state.estop_states.add()
        set_ts(e.timestamp, now_robot)
        e.name, e.type = name, typ
        e.state = RS.EStopState.STATE_ESTOPPED if estopped else RS.EStopState.STATE_NOT_ESTOPPED
        e.state_description = why
    _fill_kinematic_state(state.kinematic_state, snap)
    _fill_feet(state, snap)
    state.terrain_state.is_unsafe_to_sit = False
    for name, temp in robot.motor_thermal.temperatures.items():
        state.system_state.motor_temperatures.add(name=name, temperature=temp)
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
    robot.system_faults.fill(state.system_fault_state, now_robot)
    robot.behavior_faults.fill(state.behavior_fault_state)
    if robot.faults is not None:
        state.service_fault_state.faults.extend(robot.faults.active())
    return state


def _fill_feet(state: RS.RobotState, snap: Snapshot) -> None:
    """4 feet (fl, fr, hl, hr): position in body, contact, terrain estimates in odom."""
    for i, _ in enumerate(FEET):
        f = state.foot_state.add()
        contact = snap.foot_contact[i] if i < len(snap.foot_contact) else True
        f.contact = _CONTACT[contact]
        if i < len(snap.foot_position_rt_body):
            set_vec(f.foot_position_rt_body, snap.foot_position_rt_body[i])
        t = f.terrain
        t.ground_mu_est = 0.8
        t.frame_name = "odom"
        t.ground_contact_normal_rt_frame.z = 1.0
        t.visual_surface_ground_penetration_mean = 0.0
        t.visual_surface_ground_penetration_std = 0.005


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
    contacts = snap.foot_contact if len(snap.foot_contact) == 4 else (True,) * 4
    resp.contact_states.extend(_CONTACT[c] for c in contacts)
    return resp


class RobotStateServicer(robot_state_service_pb2_grpc.RobotStateServiceServicer):
    """get_robot_state: the latest snapshot (cached per snapshot, shared by all callers)."""

    def __init__(self, robot: RobotBody):
        self.robot = robot
        self._cache: tuple[tuple[int, int], RS.RobotState] | None = None
        self._errors: list[tuple[int, str]] = []

    def inject_error(self, code: int, message: str, times: int = 1) -> None:
        """Answer the next `times` GetRobotState calls with header error `code` (CommonError.Code),
        as a robot with an internal problem does (bosdyn clients raise a ResponseError)."""
        self._errors.extend([(code, message)] * times)

    def GetRobotState(self, request, context):
        received = self.robot.clock.robot_ns()
        if self._errors:
            code, message = self._errors.pop(0)
            resp = RS.RobotStateResponse()
            fill_response_header(resp, request, self.robot.clock, received, code=code, message=message)
            return resp
        snap = self.robot.latest()
        key = (snap.robot_ns, self.robot.state_version)
        cache = self._cache
        if cache is None or cache[0] != key:
            cache = (key, build_robot_state(self.robot, snap))
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

    def __init__(self, robot: RobotBody):
        self.robot = robot
        #: (CommonError code, message): streams send only header errors while set (tests).
        self.error: tuple[int, str] | None = None

    def GetRobotStateStream(self, request, context):
        robot = self.robot
        if not robot.streaming_licence:
            if context is None:
                raise PermissionError(NO_LICENCE[1])
            context.abort(*NO_LICENCE)
        if self.error is not None:
            resp = RS.RobotStateStreamResponse()
            fill_response_header(resp, request, robot.clock, code=self.error[0], message=self.error[1])
            yield resp
            return
        last = robot.latest().robot_ns - 1
        first = True
        while context is None or context.is_active():
            snap = robot.wait_for_state(last, timeout=0.5)
            if snap is None:
                if robot.stopped:
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
