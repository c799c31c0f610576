"""motor_command end to end: ROS topics -> MotorCommandBridge -> real bosdyn clients -> the
simulated Spot (robot clock +100 s), checked against the simulator's command log."""

import logging
import math
import time

import pytest
from bosdyn.api import estop_pb2, robot_state_pb2
from bosdyn.api.spot import robot_command_pb2 as spot_command_pb2
from conftest import ROBOT_CLOCK_OFFSET_S
from cpu_load import CpuMonitor
from google.protobuf import json_format
from waiting import wait_until

from spot_bow_ros.bow import bow_data_pb2 as bow
from spot_bow_ros.nodes.motion_recording import load_recording
from spot_bow_ros.nodes.motor_command import MotorCommandBridge
from spot_bow_ros.sim import SimulatedSpot
from spot_bow_ros.sim.geometry import rpy_from_quat
from spot_bow_ros.standalone.node import InProcessBus, StandaloneNode

OFFSET_S = ROBOT_CLOCK_OFFSET_S  # `sim` fixture of conftest.py
CMD_DURATION = 0.6


class Rig:
    """A motor_command bridge and a tester node on one in-process bus."""

    def __init__(self, sim, tmp_path, **params):
        self.sim = sim
        self.bus = InProcessBus()
        overrides = dict(sim_info_file=sim.info_file, enable_motion=True, auto_power_on=True,
                         estop_release_at_start=True,
                         auto_stand=True, cmd_duration=CMD_DURATION, cmd_timeout=0.5,
                         recordings_dir=str(tmp_path / "recordings"), diagnostics_period=0.2)
        overrides.update(params)
        self.node = StandaloneNode("motor_command", self.bus, parameter_overrides=overrides)
        self.bridge = MotorCommandBridge(self.node)
        self.tester = StandaloneNode("tester", self.bus)
        self.pub_json = self.tester.create_publisher("std_msgs/msg/String", "motor_command", _qos())
        self.pub_bin = self.tester.create_publisher("std_msgs/msg/UInt8MultiArray", "motor_command/binary", _qos())
        self.pub_twist = self.tester.create_publisher("geometry_msgs/msg/Twist", "cmd_vel", _qos())
        self.pub_ctl = self.tester.create_publisher("std_msgs/msg/String", "motor_command/control", _qos())
        self.diagnostics = []
        self.tester.create_subscription("diagnostic_msgs/msg/DiagnosticArray", "diagnostics",
                                        self.diagnostics.append, _qos(10))

    def mark(self) -> int:
        return len(self.sim.robot.commands())

    def commands_since(self, mark: int, rpc: str = "RobotCommand"):
        return [r for r in self.sim.robot.commands()[mark:] if r.rpc == rpc]

    def send_json(self, sample_or_text):
        text = sample_or_text if isinstance(sample_or_text, str) else json_format.MessageToJson(sample_or_text)
        self.pub_json.publish(self.tester.msg("std_msgs/msg/String", data=text))

    def send_binary(self, sample):
        self.pub_bin.publish(self.tester.msg("std_msgs/msg/UInt8MultiArray", data=sample.SerializeToString()))

    def send_twist(self, vx=0.0, vy=0.0, wz=0.0):
        self.pub_twist.publish(self.tester.msg(
            "geometry_msgs/msg/Twist", linear=self.tester.msg("geometry_msgs/msg/Vector3", x=vx, y=vy),
            angular=self.tester.msg("geometry_msgs/msg/Vector3", z=wz)))

    def control(self, verb):
        self.pub_ctl.publish(self.tester.msg("std_msgs/msg/String", data=verb))

    def wait_commands(self, mark, n=1, timeout=3.0, rpc="RobotCommand"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            recs = self.commands_since(mark, rpc)
            if len(recs) >= n:
                return recs
            time.sleep(0.005)
        raise AssertionError(f"expected {n} {rpc} after mark, got {len(self.commands_since(mark, rpc))}")

    def wait_handled(self, count_before, timeout=3.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.bridge.counts["received"] > count_before:
                return
            time.sleep(0.005)
        raise AssertionError("sample not handled")

    def wait_diagnostics_periods(self, n: int, timeout: float = 20.0) -> None:
        """Until `n` more diagnostics messages arrived: the node's timers (diagnostics, auto_claim,
        watchdog) have run `n` more times, however slowly a loaded machine runs them."""
        start = len(self.diagnostics)
        assert wait_until(lambda: len(self.diagnostics) >= start + n, timeout=timeout), \
            f"{len(self.diagnostics) - start} of {n} diagnostics periods in {timeout} s"

    def close(self):
        self.tester.destroy()
        self.node.destroy()


def _qos(depth=1):
    from spot_bow_ros.ros.qos import QoS
    return QoS(depth=depth)


def forget_lapsed_estop_endpoints(sim, timeout: float = 40.0) -> list[str]:
    """Names of the E-Stop endpoints left registered on `sim` by an earlier test, now forgotten.

    A bridge that exits with motors on cannot deregister (the robot refuses, as a real Spot): its
    endpoint stays registered and the robot settles and cuts power once it lapses. A test failing
    at such a moment would leave every later bridge of the module "E-Stop held by someone else".
    No endpoint of a finished test checks in any more, so: wait until the robot cut power (its
    own timeouts), then deregister them (as an operator would on the tablet)."""
    estop = sim.robot.estop

    def left() -> list:
        return [e.endpoint for e in estop.status().endpoints if e.HasField("time_since_valid_response")]
    if not left():
        return []
    assert wait_until(lambda: sim.robot.power.motor_state() == robot_state_pb2.PowerState.STATE_OFF,
                      timeout=timeout), "motors still on after the earlier test's E-Stop endpoint lapsed"
    names = []
    for endpoint in left():
        assert estop.deregister(estop.config.unique_id, endpoint) == \
            estop_pb2.DeregisterEstopEndpointResponse.STATUS_SUCCESS, endpoint.name
        names.append(endpoint.name)
    return names


@pytest.fixture(autouse=True)
def clean_estop(request):
    """Every test starts with no E-Stop endpoint registered (see `forget_lapsed_estop_endpoints`);
    tests that start a robot of their own (no `sim` fixture) are left alone."""
    if "sim" in request.fixturenames:
        left = forget_lapsed_estop_endpoints(request.getfixturevalue("sim"))
        if left:
            logging.getLogger(__name__).warning("E-Stop endpoints %s of an earlier test forgotten", left)
    yield


@pytest.fixture
def rig(sim, tmp_path):
    r = Rig(sim, tmp_path)
    yield r
    r.close()


def velocity_sample(x=None, y=None, z=None, rx=None, ry=None, rz=None, units=None):
    s = bow.MotorSample()
    s.Locomotion.LocomotionMode = bow.VELOCITY_MODE
    for comp, value in zip("XYZ", (x, y, z)):
        if value is not None:
            setattr(s.Locomotion.Position, comp, value)
    for comp, value in zip("XYZ", (rx, ry, rz)):
        if value is not None:
            setattr(s.Locomotion.Rotation, comp, value)
    if units is not None:
        s.Locomotion.RotationUnits = units
    return s


def velocity_of(rec):
    req = rec.request.command.synchronized_command.mobility_command.se2_velocity_request
    assert req.se2_frame_name == "body"
    return req.velocity.linear.x, req.velocity.linear.y, req.velocity.angular


def params_of(rec):
    params = spot_command_pb2.MobilityParams()
    assert rec.request.command.synchronized_command.mobility_command.params.Unpack(params)
    return params


def body_of(rec):
    """(height offset, roll, pitch, yaw) carried in the mobility params of a command."""
    pose = params_of(rec).body_control.base_offset_rt_footprint.points[0].pose
    e = pose.rotation.to_euler_zxy()
    return pose.position.z, e.roll, e.pitch, e.yaw


def assert_end_time_on_robot_clock(rig, sent_local_ns: int, rec) -> None:
    """The velocity command's end_time is CMD_DURATION after the robot-clock time at which the
    bridge built it: between the test's send (`sent_local_ns`, local clock) and the robot's receipt,
    within 10 ms of time-sync error. Not a latency bound (a GC pause of this test process in
    between moves both ends, not the check)."""
    end_ns = ts_ns(rec.request.command.synchronized_command.mobility_command.se2_velocity_request.end_time)
    built_robot_ns = end_ns - int(CMD_DURATION * 1e9)
    sent_robot_ns = rig.sim.robot.clock.robot_ns(sent_local_ns)     # the ROBOT clock (+100 s)
    assert sent_robot_ns - 10e6 <= built_robot_ns <= rec.robot_ns + 10e6, (
        (built_robot_ns - sent_robot_ns) / 1e9, (rec.robot_ns - built_robot_ns) / 1e9)


def ts_ns(ts):
    return ts.seconds * 1_000_000_000 + ts.nanos


# -- the mappings, observed in the robot's command log ------------------------------------------

def test_startup_claims_powers_and_stands(rig):
    log = rig.sim.robot.commands()
    rpcs = [r.rpc for r in log]
    assert "AcquireLease" in rpcs and "PowerCommand" in rpcs
    stands = [r for r in log if r.rpc == "RobotCommand"
              and r.request.command.synchronized_command.mobility_command.HasField("stand_request")]
    assert stands and stands[-1].accepted
    assert body_of(stands[-1]) == pytest.approx((0.0, 0.0, 0.0, 0.0), abs=1e-6)


def test_bow_forward_half_metre_per_second_is_spot_plus_x_with_robot_clock_end_time(rig):
    mark = rig.mark()
    sent_ns = time.time_ns()
    rig.send_json(velocity_sample(z=0.5))
    (rec,) = rig.wait_commands(mark)
    assert rec.accepted, rec.message
    assert velocity_of(rec) == pytest.approx((0.5, 0.0, 0.0), abs=1e-6)
    # cmd_duration ahead of the moment the bridge sent it, on the ROBOT clock (+100 s)
    assert_end_time_on_robot_clock(rig, sent_ns, rec)   # (on the local clock it would be 100 s early)
    vel_limit = params_of(rec).vel_limit.max_vel
    assert (vel_limit.linear.x, vel_limit.angular) == pytest.approx((0.5, 0.8))


def test_bow_turn_right_is_negative_yaw_rate_and_lateral(rig):
    mark = rig.mark()
    rig.send_json(velocity_sample(ry=0.3))          # BOW +Y rotation (left-handed) = turn right
    rig.wait_commands(mark, 1)
    rig.send_json(velocity_sample(x=0.2))           # BOW +X = right
    rig.wait_commands(mark, 2)
    rig.send_binary(velocity_sample(x=-0.2, ry=-20.0, units=bow.DEGREES))   # left, turn left 20 deg/s
    recs = rig.wait_commands(mark, 3)
    assert velocity_of(recs[0]) == pytest.approx((0.0, 0.0, -0.3), abs=1e-6)
    assert velocity_of(recs[1]) == pytest.approx((0.0, -0.2, 0.0), abs=1e-6)
    assert velocity_of(recs[2]) == pytest.approx((0.0, 0.2, math.radians(20)), abs=1e-6)
    assert all(r.accepted for r in recs)


def test_head_and_height_become_body_pose_carried_by_every_command(rig):
    mark = rig.mark()
    s = bow.MotorSample()
    s.Head.X, s.Head.Y, s.Head.Z = 0.1, 0.2, 0.05    # look right, look up, lean right (rad)
    s.OperatingHeight = 0.60                          # nominal 0.52 -> +0.08
    rig.send_json(s)
    (stand,) = rig.wait_commands(mark)
    assert stand.request.command.synchronized_command.mobility_command.HasField("stand_request")
    height, roll, pitch, yaw = body_of(stand)
    assert (height, roll, pitch, yaw) == pytest.approx((0.08, 0.05, -0.2, -0.1), abs=1e-5)
    # the next velocity command keeps the body pose (omitting params would reset it)
    rig.send_json(velocity_sample(z=0.1))
    recs = rig.wait_commands(mark, 2)
    assert body_of(recs[1]) == pytest.approx((0.08, 0.05, -0.2, -0.1), abs=1e-5)
    # head only: height stays, orientation changes
    s2 = bow.MotorSample()
    s2.Head.X = -0.2
    rig.send_json(s2)
    recs = rig.wait_commands(mark, 3)
    assert body_of(recs[2]) == pytest.approx((0.08, 0.0, 0.0, 0.2), abs=1e-5)


def test_cmd_vel_same_path(rig):
    mark = rig.mark()
    sent_ns = time.time_ns()
    rig.send_twist(vx=0.3, vy=0.1, wz=-0.2)
    (rec,) = rig.wait_commands(mark)
    assert velocity_of(rec) == pytest.approx((0.3, 0.1, -0.2), abs=1e-6)
    assert_end_time_on_robot_clock(rig, sent_ns, rec)
    rig.send_twist(vx=3.0)  # clamped like any other command
    recs = rig.wait_commands(mark, 2)
    assert velocity_of(recs[1]) == pytest.approx((0.5, 0.0, 0.0), abs=1e-6)


def test_position_mode_goal_in_odom(rig):
    time.sleep(0.3)  # let the robot settle after earlier velocity commands
    mark = rig.mark()
    s = bow.MotorSample()
    s.Locomotion.LocomotionMode = bow.POSITION_MODE
    s.Locomotion.Position.Z = 1.0                    # 1 m forward
    s.Locomotion.Rotation.Y = -90.0                  # turn left 90 degrees
    s.Locomotion.RotationUnits = bow.DEGREES
    before = rig.sim.robot.latest().odom_tform_flat_body
    rig.send_json(s)
    (rec,) = rig.wait_commands(mark)
    assert rec.accepted, rec.message
    req = rec.request.command.synchronized_command.mobility_command.se2_trajectory_request
    assert req.se2_frame_name == "odom"
    goal = req.trajectory.points[0].pose
    yaw0 = rpy_from_quat(before.rotation)[2]
    x0, y0 = before.position[0], before.position[1]
    assert goal.position.x == pytest.approx(x0 + math.cos(yaw0), abs=0.02)
    assert goal.position.y == pytest.approx(y0 + math.sin(yaw0), abs=0.02)
    assert math.remainder(goal.angle - (yaw0 + math.pi / 2), 2 * math.pi) == pytest.approx(0.0, abs=0.02)
    assert ts_ns(req.end_time) > rec.robot_ns


def test_robot_state_error_during_position_goal_is_a_failed_result_not_an_exception(rig, caplog):
    from bosdyn.api import header_pb2
    time.sleep(0.3)
    mark = rig.mark()
    rig.sim.robot.state_servicer.inject_error(header_pb2.CommonError.CODE_INTERNAL_SERVER_ERROR,
                                              "state estimator restarting")
    s = bow.MotorSample()
    s.Locomotion.LocomotionMode = bow.POSITION_MODE
    s.Locomotion.Position.Z = 0.5
    received = rig.bridge.counts["received"]
    earlier = rig.bridge.commander.last_result       # e.g. the auto_stand's
    with caplog.at_level(logging.WARNING):
        rig.send_json(s)
        rig.wait_handled(received)
        assert wait_until(lambda: rig.bridge.commander.last_result is not earlier, timeout=20), "no result"
    result = rig.bridge.commander.last_result
    assert result is not None and not result.ok
    assert result.detail.startswith("InternalServerError") and "\n" not in result.detail
    assert rig.commands_since(mark) == []          # nothing was sent to the robot
    assert rig.bridge.commander.ready              # the robot answered: forwarding goes on
    rig.send_json(s)                               # the next goal goes through
    (rec,) = rig.wait_commands(mark)
    assert rec.accepted, rec.message


def test_ignored_sample_parts_are_warned_once_per_kind(rig, caplog):
    with caplog.at_level(logging.DEBUG, logger="spot_bow_ros"):
        for up in (0.3, 0.4, 0.5):                 # vertical velocity: Spot walks on the ground plane
            received = rig.bridge.counts["received"]
            rig.send_json(velocity_sample(z=0.2, y=up))
            rig.wait_handled(received)
    notes = [r for r in caplog.records if "vertical component" in r.getMessage()]
    assert len(notes) == 1 and notes[0].levelno == logging.WARNING
    assert "0.3 ignored" in notes[0].getMessage()


def test_arm_pose_joints_and_gripper(rig):
    mark = rig.mark()
    s = bow.MotorSample()
    eff = s.EndEffectors.add()
    eff.Enabled = True
    eff.Transform.Position.X, eff.Transform.Position.Y, eff.Transform.Position.Z = 0.0, 0.2, 0.7
    eff.Transform.LocationTag = bow.TORSO
    eff.Gripper.Thumb = 0.25
    eff.MovementDurationMs = 1500
    rig.send_json(s)
    (rec,) = rig.wait_commands(mark)
    assert rec.accepted, rec.message
    sync = rec.request.command.synchronized_command
    cart = sync.arm_command.arm_cartesian_command
    assert cart.root_frame_name == "body"
    point = cart.pose_trajectory_in_task.points[0]
    assert (point.pose.position.x, point.pose.position.y, point.pose.position.z) == pytest.approx((0.7, 0.0, 0.2), abs=1e-6)
    assert point.time_since_reference.seconds + point.time_since_reference.nanos / 1e9 == pytest.approx(1.5)
    claw = sync.gripper_command.claw_gripper_command.trajectory.points[0].point
    assert claw == pytest.approx(-1.5707 * 0.75, abs=0.01)   # 75 % open (bosdyn: closed 0, open -1.5707 rad)
    assert not sync.HasField("mobility_command")             # arm-only: walking/body untouched

    s2 = bow.MotorSample()
    eff = s2.EndEffectors.add()
    eff.Enabled, eff.ControlMode, eff.AngleUnits = True, bow.CUSTOM, bow.DEGREES
    eff.Angles.extend([0, -60, 90, 0, 30, 0])
    rig.send_json(s2)
    recs = rig.wait_commands(mark, 2)
    pos = recs[1].request.command.synchronized_command.arm_command.arm_joint_move_command.trajectory.points[0].position
    assert (pos.sh0.value, pos.sh1.value, pos.el0.value, pos.wr0.value) == pytest.approx(
        (0.0, math.radians(-60), math.radians(90), math.radians(30)), abs=1e-5)


# -- the ROS convention ------------------------------------------------------------------------

def test_ros_convention(sim, tmp_path):
    rig = Rig(sim, tmp_path, axis_convention="ros")
    try:
        mark = rig.mark()
        rig.send_json(velocity_sample(x=0.4, y=0.1, rz=-0.3))   # forward, left, turn right
        (rec,) = rig.wait_commands(mark)
        assert velocity_of(rec) == pytest.approx((0.4, 0.1, -0.3), abs=1e-6)
        s = bow.MotorSample()
        s.Head.X, s.Head.Y, s.Head.Z = 0.05, 0.1, 0.2            # roll, pitch, yaw
        rig.send_json(s)
        recs = rig.wait_commands(mark, 2)
        assert body_of(recs[1])[1:] == pytest.approx((0.05, 0.1, 0.2), abs=1e-5)
    finally:
        rig.close()


# -- safety --------------------------------------------------------------------------------------

def test_clamping_one_warning_per_episode(rig, caplog):
    caplog.set_level(logging.WARNING, logger="spot_bow_ros.motor_command")
    mark = rig.mark()
    for _ in range(3):
        rig.send_json(velocity_sample(z=5.0, ry=-3.0))
        time.sleep(0.02)
    recs = rig.wait_commands(mark, 3)
    for rec in recs:
        assert velocity_of(rec) == pytest.approx((0.5, 0.0, 0.8), abs=1e-6)
    rig.send_json(velocity_sample(z=0.1))
    rig.wait_commands(mark, 4)
    rig.send_json(velocity_sample(z=-9.0))
    recs = rig.wait_commands(mark, 5)
    assert velocity_of(recs[4]) == pytest.approx((-0.5, 0.0, 0.0), abs=1e-6)
    warnings = [r for r in caplog.records if "clamped to limits" in r.getMessage()]
    assert len(warnings) == 2
    assert "linear speed (m/s) 5 -> 0.5" in warnings[0].getMessage()
    s = bow.MotorSample(OperatingHeight=2.0)
    rig.send_json(s)
    recs = rig.wait_commands(mark, 6)
    assert body_of(recs[5])[0] == pytest.approx(0.15, abs=1e-6)


def test_nan_inf_and_unknown_enums_rejected_whole(rig, caplog):
    caplog.set_level(logging.ERROR, logger="spot_bow_ros.motor_command")
    mark = rig.mark()
    rejected = rig.bridge.counts["rejected"]
    bad_inputs = [lambda: rig.send_binary(velocity_sample(z=0.5, ry=float("nan"))),
                  lambda: rig.send_json('{"Locomotion": {"LocomotionMode": "VELOCITY_MODE", "Position": {"Z": "Infinity"}}}'),
                  lambda: rig.send_json('{"Locomotion": {"LocomotionMode": 9, "Position": {"Z": 0.3}}}'),
                  lambda: rig.send_json("this is not json"),
                  lambda: rig.send_twist(vx=float("inf"))]
    for i, send in enumerate(bad_inputs, 1):
        send()   # one at a time (publisher depth 1): each is handled (rejected) before the next
        assert wait_until(lambda: rig.bridge.counts["rejected"] - rejected >= i, timeout=20), \
            f"bad input {i} not rejected: {rig.bridge.counts['rejected'] - rejected} rejections"
    assert rig.commands_since(mark) == []
    rig.send_json(velocity_sample(z=0.2))
    (rec,) = rig.wait_commands(mark, timeout=20)
    # every bad input was handled before the valid one arrived: the one velocity command at the
    # robot is the valid one (a later watchdog stop is no velocity command)
    velocities = [r for r in rig.commands_since(mark) if not r.request.command.full_body_command.HasField("stop_request")]
    assert velocities == [rec]
    assert velocity_of(rec) == pytest.approx((0.2, 0.0, 0.0), abs=1e-6)
    assert rig.bridge.counts["rejected"] - rejected == 5
    lines = [r.getMessage() for r in caplog.records if "rejected, nothing sent" in r.getMessage()]
    assert len(lines) == 5
    assert any("is nan" in line for line in lines) and any("LocomotionMode = 9" in line for line in lines)


def test_watchdog_sends_stop(rig):
    mark = rig.mark()
    rig.send_json(velocity_sample(z=0.3))
    (vel,) = rig.wait_commands(mark)
    recs = rig.wait_commands(mark, 2, timeout=2.0)
    stop = recs[1]
    assert stop.request.command.full_body_command.HasField("stop_request")
    gap = (stop.local_ns - vel.local_ns) / 1e9
    # never before cmd_timeout; how much later depends on the machine's load (timer jitter), so
    # the bound is generous: the robot stops by itself anyway, at the command's end time
    assert 0.5 <= gap <= 2.5
    end_ns = ts_ns(vel.request.command.synchronized_command.mobility_command.se2_velocity_request.end_time)
    assert (end_ns - vel.robot_ns) / 1e9 <= CMD_DURATION + 0.05
    assert rig.bridge.counts["watchdog_stops"] == 1
    # one stop per episode: the node's timers ran on (three diagnostics periods and more than
    # cmd_timeout after the stop) without a second one
    rig.wait_diagnostics_periods(3)
    assert wait_until(lambda: time.time_ns() - stop.local_ns > 0.6e9, timeout=20)
    rig.wait_diagnostics_periods(1)
    assert len(rig.commands_since(mark)) == 2
    assert rig.bridge.counts["watchdog_stops"] == 1


def test_motion_disabled_until_enabled(sim, tmp_path):
    rig = Rig(sim, tmp_path, enable_motion=False, auto_stand=True)
    try:
        mark = rig.mark()
        rig.send_json(velocity_sample(z=0.3))
        rig.send_twist(vx=0.3)
        rig.control("stand")
        assert wait_until(lambda: rig.bridge.counts["dropped_disabled"] == 2, timeout=20), rig.bridge.counts
        rig.control("enable_motion")
        assert wait_until(lambda: rig.bridge.motion_enabled, timeout=20)
        assert rig.commands_since(mark) == []   # the 'stand' verb, handled before, sent nothing
        rig.send_json(velocity_sample(z=0.3))
        (rec,) = rig.wait_commands(mark)
        assert velocity_of(rec) == pytest.approx((0.3, 0.0, 0.0), abs=1e-6)
        rig.control("disable_motion")
        recs = rig.wait_commands(mark, 2)
        assert recs[1].request.command.full_body_command.HasField("stop_request")
        rig.send_json(velocity_sample(z=0.3))
        assert wait_until(lambda: rig.bridge.counts["dropped_disabled"] == 3, timeout=20), rig.bridge.counts
        assert len(rig.commands_since(mark)) == 2
    finally:
        rig.close()


def test_control_verbs_and_lease_return_on_shutdown(sim, tmp_path):
    rig = Rig(sim, tmp_path, auto_power_on=False, auto_stand=False)
    mark = rig.mark()
    try:
        rig.control("power_on")
        rig.wait_commands(mark, 1, rpc="PowerCommand", timeout=5)
        rig.control("stand")
        rig.control("sit")
        rig.control("release")
        rig.wait_commands(mark, 1, rpc="ReturnLease")
        rig.send_json(velocity_sample(z=0.3))
        assert wait_until(lambda: rig.bridge.counts["dropped_not_ready"] == 1, timeout=20), rig.bridge.counts
        rig.control("claim")
        rig.wait_commands(mark, 1, rpc="AcquireLease")
        rig.control("bogus")
        time.sleep(0.1)
        robot_cmds = rig.commands_since(mark)
        kinds = [r.request.command.synchronized_command.mobility_command.WhichOneof("command") for r in robot_cmds]
        assert kinds[:2] == ["stand_request", "sit_request"]
    finally:
        before = rig.mark()
        rig.close()
    after = rig.sim.robot.commands()[before:]
    rpcs = [r.rpc for r in after]
    assert "ReturnLease" in rpcs
    assert rpcs.index("RobotCommand") < rpcs.index("ReturnLease")   # stop first, then return
    assert after[rpcs.index("RobotCommand")].request.command.full_body_command.HasField("stop_request")


def test_lease_lost_is_latched_until_claimed(sim, tmp_path):
    rig = Rig(sim, tmp_path)
    try:
        # another client takes the lease (like the tablet)
        from bosdyn.client.lease import LeaseClient

        from spot_bow_ros.spot.connection import SpotConnection
        from spot_bow_ros.spot.connection_config import ConnectionConfig
        thief = SpotConnection(ConnectionConfig.from_sim_info(sim.info_file, client_name="thief"))
        thief.connect()
        try:
            thief.ensure_client(LeaseClient.default_service_name).take()
            mark = rig.mark()
            rig.send_json(velocity_sample(z=0.3))
            assert wait_until(lambda: not rig.bridge.commander.lease_held, timeout=20)
            rig.send_json(velocity_sample(z=0.3))
            assert wait_until(lambda: rig.bridge.counts["dropped_stopped"] >= 1, timeout=20)  # latched: LEASE_LOST
            accepted = [r for r in rig.commands_since(mark) if r.accepted]
            assert accepted == []
            assert rig.bridge.sup.state.value == "LEASE_LOST"
            assert wait_until(lambda: _diag_values(rig).get("lease", "").startswith("lost"), timeout=20), _diag_values(rig)
        finally:
            thief.ensure_client(LeaseClient.default_service_name).return_lease(
                thief.robot.lease_wallet.get_lease())
            thief.shutdown()
        # the lease is free again: no automatic re-claim (auto_claim runs on diagnostics periods:
        # three of them pass without one); the operator claims and enables motion
        rig.wait_diagnostics_periods(3)
        assert not rig.bridge.commander.lease_held
        assert rig.bridge.control("claim").status == "control" and rig.bridge.commander.lease_held
        assert rig.bridge.control("enable_motion").status == "control"
        mark = rig.mark()
        rig.send_json(velocity_sample(z=0.3))
        (rec,) = rig.wait_commands(mark)
        assert rec.accepted
    finally:
        rig.close()


def _diag_values(rig) -> dict[str, str]:
    """The key/values of the bridge's newest diagnostics status ({} before the first)."""
    return {kv.key: kv.value for kv in rig.diagnostics[-1].status[0].values} if rig.diagnostics else {}


def test_diagnostics(rig):
    deadline = time.monotonic() + 2
    while not rig.diagnostics and time.monotonic() < deadline:
        time.sleep(0.02)
    status = rig.diagnostics[-1].status[0]
    values = {kv.key: kv.value for kv in status.values}
    assert values["lease"] == "held" and values["power"] == "on" and values["motion_enabled"] == "true"
    assert int(status.level) == 0
    assert {"rejected", "sent", "last_result", "last_command"} <= set(values)


# -- record and playback ------------------------------------------------------------------------

def test_record_then_playback_reproduces_sequence_and_timing(sim, tmp_path):
    rig = Rig(sim, tmp_path)
    cpu = CpuMonitor()
    cpu.start()
    try:
        offsets = [0.0, 0.08, 0.2, 0.26, 0.4]
        speeds = [0.1, 0.2, 0.3, 0.2, 0.1]
        mark = rig.mark()
        t0, sent = time.monotonic(), []
        for off, v in zip(offsets, speeds):
            while time.monotonic() < t0 + off:
                time.sleep(0.001)
            s = velocity_sample(z=v)
            s.RecordFlag = True
            s.PlaybackActionName = "walk_test"
            rig.send_json(s)
            sent.append(time.monotonic() - t0)
        recorded = rig.wait_commands(mark, len(speeds), timeout=20)
        recording_window = (recorded[0].local_ns, recorded[-1].local_ns)
        time.sleep(0.1)
        end = velocity_sample(z=0.0)       # no RecordFlag: ends and saves the recording
        rig.send_json(end)
        rig.wait_commands(mark, len(speeds) + 1)
        assert (tmp_path / "recordings" / "walk_test.motorarray").is_file()

        mark = rig.mark()
        play = bow.MotorSample(PlaybackFlag=True, PlaybackActionName="walk_test")
        rig.send_json(play)
        played = rig.wait_commands(mark, len(speeds), timeout=20)
        cpu.stop()
        assert [velocity_of(r)[0] for r in played] == pytest.approx(speeds, abs=1e-6)
        # the recording's timing (receipt times, ms) is what playback reproduces at the robot
        array = load_recording(tmp_path / "recordings", "walk_test")
        rec_t = [(t - array.Tstamp[0]) / 1e3 for t in array.Tstamp]
        live_t = [(r.local_ns - recorded[0].local_ns) / 1e9 for r in recorded]
        play_t = [(r.local_ns - played[0].local_ns) / 1e9 for r in played]
        assert all(b > a for a, b in zip(rec_t, rec_t[1:])) and all(b > a for a, b in zip(play_t, play_t[1:]))
        # the timing within 30 / 20 ms where the machine gave the test and the node the CPU
        # (see cpu_load); late by a loaded machine's scheduling otherwise. One sample of the five
        # may be late by one scheduling hiccup (seen: 26 ms, on an idle machine, 800 s into the
        # suite) but no more than 60 ms, and its lateness does not carry over to the next
        # (the player keeps absolute deadlines: no drift).
        checks = (("recording", recording_window, sent, rec_t, 0.030),
                  ("playback", (played[0].local_ns, played[-1].local_ns), rec_t, play_t, 0.020))
        for what, (start, end), want, got, tolerance in checks:
            if cpu.free_s(start, end) < 0.95 * (end - start) / 1e9:
                print(f"{what} timing not checked: {cpu.describe(start, end)}")
                continue
            errors = sorted(abs(g - w) for w, g in zip(want, got))
            context = (what, want, got, live_t, cpu.describe(start, end))
            assert errors[-2] <= tolerance and errors[-1] <= 0.060, context
        # unknown recording: rejected, nothing sent
        rejected = rig.bridge.counts["rejected"]
        mark = rig.mark()
        rig.send_json(bow.MotorSample(PlaybackFlag=True, PlaybackActionName="nope"))
        assert wait_until(lambda: rig.bridge.counts["rejected"] == rejected + 1, timeout=20), rig.bridge.counts
        assert rig.commands_since(mark) == []
    finally:
        cpu.stop()
        rig.close()


def test_robot_lost_stops_forwarding_until_it_is_back(tmp_path):
    state = tmp_path / "robot"
    spot = SimulatedSpot(clock_offset_s=OFFSET_S, state_dir=state).start()
    port = spot.port
    spot.write_info(tmp_path / "sim.json")
    spot.info_file = str(tmp_path / "sim.json")
    rig = Rig(spot, tmp_path, health_check_interval=0.2, reconnect_max_backoff=0.3, connect_timeout=2.0)
    try:
        rig.send_json(velocity_sample(z=0.2))
        rig.wait_commands(0, 1)
        spot.stop()
        deadline = time.monotonic() + 5
        while rig.bridge.commander.robot_ok and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not rig.bridge.commander.robot_ok
        before = rig.bridge.counts["dropped_not_ready"]
        rig.send_json(velocity_sample(z=0.2))
        assert wait_until(lambda: rig.bridge.counts["dropped_not_ready"] == before + 1, timeout=20), rig.bridge.counts
        # the connection's health check saw the robot gone too (else a robot back within one check
        # would be taken for the same session: its time sync, with the old robot's clock, kept)
        assert wait_until(lambda: not rig.bridge.commander.connection.connected, timeout=20)
        # the same robot comes back (same port and credentials; its lease service restarted)
        spot2 = SimulatedSpot(port=port, clock_offset_s=OFFSET_S, state_dir=state).start()
        rig.sim = spot2
        try:
            # the first lease use fails (the restarted robot does not know our lease): lost,
            # re-acquired by auto_claim on a diagnostics period. The restarted robot forgot our
            # E-Stop: it is registered again stopped (latched) and power-on waits for estop_release
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not spot2.robot.commands("PowerCommand", accepted=True):
                rig.control("estop_release")
                rig.control("power_on")
                time.sleep(0.3)
            assert spot2.robot.commands("PowerCommand", accepted=True)
            assert spot2.robot.commands("AcquireLease", accepted=True)
            assert rig.bridge.commander.ready
            assert rig.bridge.control("enable_motion").status == "control"   # the latch closed the gate
            mark = rig.mark()
            rig.send_json(velocity_sample(z=0.25))
            (rec,) = rig.wait_commands(mark)
            assert rec.accepted and velocity_of(rec)[0] == pytest.approx(0.25)
        finally:
            rig.close()
            spot2.stop()
    finally:
        spot.stop()
