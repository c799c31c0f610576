"""The motion-safety scenario matrix (docs/estop.md) against the simulated Spot, on both backends:
the standalone backend always, the rclpy backend when rclpy imports (a sourced ROS 2); without it
`test_rclpy_matrix_via_ros2_jazzy` runs this file's rclpy cases in a subprocess with
/opt/ros2-jazzy sourced, or skips with one reason.

Every step asserts the ROBOT's state (the simulator: motor power, E-Stop stop level, registered
endpoints, commands received), not only what the bridge says.

"Nothing happened" checks wait for the bridge to have looked (its own diagnostics probes, its
keep-alive's check-ins at the robot), not for a fixed time that a loaded machine may not give it;
wall-clock bounds on how fast a stop lands hold where CpuMonitor saw the CPU free (cpu_load)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from bosdyn.api import estop_pb2, power_pb2, robot_state_pb2
from bosdyn.client.estop import EstopClient, EstopEndpoint, EstopKeepAlive
from bosdyn.client.lease import LeaseClient, LeaseKeepAlive
from cpu_load import CpuMonitor, frozen_heap
from waiting import interrupt_and_reap, wait_for, wait_until

from spot_bow_ros.nodes.motor_command import MotorCommandBridge
from spot_bow_ros.sim import SimulatedSpot
from spot_bow_ros.spot.connection import SpotConnection
from spot_bow_ros.spot.connection_config import ConnectionConfig

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
ON, OFF = robot_state_pb2.PowerState.STATE_ON, robot_state_pb2.PowerState.STATE_OFF
CUT, SETTLE, NONE = estop_pb2.ESTOP_LEVEL_CUT, estop_pb2.ESTOP_LEVEL_SETTLE_THEN_CUT, estop_pb2.ESTOP_LEVEL_NONE
ROS_SETUP = Path("/opt/ros2-jazzy/install/setup.bash")


def _rclpy_importable() -> bool:
    try:
        import rclpy  # noqa: F401
        return True
    except ImportError:
        return False


BACKENDS = ["standalone", pytest.param("rclpy", marks=pytest.mark.skipif(
    not _rclpy_importable(), reason="rclpy does not import here (test_rclpy_matrix_via_ros2_jazzy runs "
                                    "these with /opt/ros2-jazzy)"))]


# -- rigs: the bridge on one backend, a tester publishing/calling on the same backend -------------
class Rig:
    def __init__(self, backend: str, sim, tmp_path, **params):
        overrides = dict(sim_info_file=sim.info_file, enable_motion=True, estop_release_at_start=True,
                         auto_power_on=False, auto_stand=False, estop_timeout=1.5, heartbeat_timeout=4.0,
                         diagnostics_period=0.2, cmd_timeout=0.5, cmd_duration=0.6,
                         recordings_dir=str(tmp_path / "rec"))
        overrides.update(params)
        self.sim, self.backend = sim, backend
        self._closed = False
        if backend == "standalone":
            from spot_bow_ros.standalone.node import InProcessBus, StandaloneNode
            self.bus = InProcessBus()
            self.node = StandaloneNode("motor_command", self.bus, parameter_overrides=overrides)
            self.bridge = MotorCommandBridge(self.node)
            self.tester = StandaloneNode("tester", self.bus)
            self._ctl = self.tester.create_publisher("std_msgs/msg/String", "motor_command/control", _qos())
            self._twist = self.tester.create_publisher("geometry_msgs/msg/Twist", "cmd_vel", _qos())
        else:
            self._init_rclpy(overrides)
        self.probes = ProbeCount(self.bridge)

    def _init_rclpy(self, overrides):
        import rclpy
        from geometry_msgs.msg import Twist
        from rclpy.executors import MultiThreadedExecutor
        from std_msgs.msg import String
        from std_srvs.srv import Trigger

        from spot_bow_ros.backends.rclpy_backend import RclpyNode
        args = ["--ros-args"]
        for k, v in overrides.items():
            args += ["-p", f"motor_command:{k}:={str(v).lower() if isinstance(v, bool) else v}"]
        self.ctx = rclpy.Context()
        rclpy.init(args=args, context=self.ctx)
        self.String, self.Twist, self.Trigger = String, Twist, Trigger
        self.node = RclpyNode("motor_command", context=self.ctx)
        self.bridge = MotorCommandBridge(self.node)
        self.tester = rclpy.create_node("tester", context=self.ctx)
        self._ctl = self.tester.create_publisher(String, "motor_command/control", 10)
        self._twist = self.tester.create_publisher(Twist, "cmd_vel", 10)
        self._clients: dict = {}
        self.executor = MultiThreadedExecutor(num_threads=4, context=self.ctx)
        self.executor.add_node(self.node.node)
        self.executor.add_node(self.tester)
        self._spin = threading.Thread(target=self.executor.spin, daemon=True)
        self._spin.start()

    # -- inputs ----------------------------------------------------------------------------
    def control(self, verb: str) -> None:
        if self.backend == "standalone":
            self._ctl.publish(self.tester.msg("std_msgs/msg/String", data=verb))
        else:
            self._ctl.publish(self.String(data=verb))

    def twist(self, vx: float = 0.3) -> None:
        if self.backend == "standalone":
            self._twist.publish(self.tester.msg("geometry_msgs/msg/Twist",
                                                linear=self.tester.msg("geometry_msgs/msg/Vector3", x=vx)))
        else:
            msg = self.Twist()
            msg.linear.x = vx
            self._twist.publish(msg)

    def call(self, service: str) -> dict:
        """A std_srvs/Trigger call over the backend: {"success", "message"}."""
        if self.backend == "standalone":
            from spot_bow_ros.standalone.service_types import request_type
            reply = self.bus.call_service("/" + service, self.bus.messages.make(
                request_type("std_srvs/srv/Trigger")), timeout_s=30.0)
        else:
            client = self._clients.get(service) or self.tester.create_client(self.Trigger, service)
            self._clients[service] = client
            assert client.wait_for_service(timeout_sec=10.0)
            future = client.call_async(self.Trigger.Request())
            assert wait_until(future.done, 30.0)
            reply = future.result()
        return {"success": bool(reply.success), "message": str(reply.message)}

    def walk(self, seconds: float, vx: float = 0.3) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.twist(vx)
            time.sleep(0.05)

    # -- what the bridge says ------------------------------------------------------------------
    @property
    def state(self) -> str:
        return self.bridge.sup.state.value

    def diag(self) -> dict[str, str]:
        status = self.bridge._diagnostics_msg().status[0]
        level = status.level if isinstance(status.level, int) else status.level[0]
        return {"_level": level, "_message": status.message, **{kv.key: kv.value for kv in status.values}}

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self.backend == "standalone":
            self.tester.destroy()
            self.node.destroy()
        else:
            self.node.destroy()
            self.executor.shutdown()
            self.tester.destroy_node()
            self.ctx.try_shutdown()


class ProbeCount:
    """Counts the bridge's finished diagnostics probes (its periodic look at the robot: state,
    E-Stop, lease, faults; `Supervisor.probe`, called by the diagnostics timer at call time)."""

    def __init__(self, bridge):
        self.n = 0
        probe = bridge.sup.probe

        def counted():
            try:
                probe()
            finally:
                self.n += 1
        bridge.sup.probe = counted

    def wait(self, more: int = 3, timeout: float = 30.0) -> None:
        """Until `more` further probes finished (the bridge saw the robot as it is now)."""
        target = self.n + more
        assert wait_until(lambda: self.n >= target, timeout), f"{self.n} of {target} diagnostics probes"


def _qos(depth=10):
    from spot_bow_ros.ros.qos import QoS
    return QoS(depth=depth)


@pytest.fixture
def sim(tmp_path):
    with SimulatedSpot(arm=False) as spot:        # E-Stop required, as a real robot
        spot.robot.power.on_duration_ns = int(0.3e9)
        spot.info_file = str(spot.write_info(tmp_path / "sim.json"))
        yield spot


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture
def rigs(backend, sim, tmp_path):
    made = []

    def make(**params):
        made.append(Rig(backend, sim, tmp_path, **params))
        return made[-1]
    yield make
    for rig in made:
        rig.close()


# -- the robot's state ---------------------------------------------------------------------------
def power(sim) -> int:
    return sim.robot.power.motor_state()


def level(sim) -> int:
    return sim.robot.estop.stop_level()


def endpoints(sim) -> list[str]:
    return [e.endpoint.name for e in sim.robot.estop.status().endpoints if e.HasField("time_since_valid_response")]


def last_check_in_ns(sim, name: str = "spot_bow_ros") -> int:
    """When the robot last got a valid E-Stop check-in from `name` (wall clock ns; 0: never)."""
    for e in sim.robot.estop.status().endpoints:
        if e.endpoint.name == name and e.HasField("time_since_valid_response"):
            return time.time_ns() - e.time_since_valid_response.ToNanoseconds()
    return 0


def checking_in_for(sim, since_ns: int, span_s: float, timeout: float = 30.0) -> None:
    """Until the robot got our endpoint's valid check-ins from `since_ns` on over `span_s`: the
    bridge (its keep-alive) ran that long, however slowly a loaded machine runs it."""
    first = wait_for(lambda: max(0, last_check_in_ns(sim) - since_ns), timeout, "a check-in") + since_ns
    wait_for(lambda: last_check_in_ns(sim) >= first + span_s * 1e9, timeout, f"check-ins over {span_s} s")


def stop_applied_ns(sim, stop_level: int, since_ns: int) -> int:
    """When the robot applied our endpoint's check-in at `stop_level` (the first after `since_ns`)."""
    return min(ns for ns, name, lvl in sim.robot.estop.level_log
               if name == "spot_bow_ros" and lvl == stop_level and ns >= since_ns)


def power_on_received_ns(sim) -> int:
    """When the robot accepted the last request to power the motors on (wall clock ns)."""
    on = power_pb2.PowerCommandRequest.REQUEST_ON_MOTORS
    return [r.local_ns for r in sim.robot.commands("PowerCommand", accepted=True) if r.request.request == on][-1]


def accepted_moves(sim, since_ns: int) -> list:
    """Accepted RobotCommands that move (velocity / stand), received after `since_ns`."""
    out = []
    for r in sim.robot.commands("RobotCommand", accepted=True):
        if r.local_ns < since_ns:
            continue
        sync = r.request.command.synchronized_command
        if sync.HasField("mobility_command") and (sync.mobility_command.HasField("se2_velocity_request")
                                                   or sync.mobility_command.HasField("stand_request")):
            out.append(r)
    return out


def powered_standing(rig) -> None:
    """estop_release was at start; power on and stand through the services, check the robot."""
    assert rig.call("power_on")["success"]
    assert wait_until(lambda: power(rig.sim) == ON, 15.0)
    assert rig.call("stand")["success"]
    assert wait_until(lambda: rig.sim.robot.latest().standing, 15.0)
    assert rig.state == "POWERED"


def tablet_endpoint(sim, timeout=1.0) -> tuple[SpotConnection, EstopEndpoint]:
    conn = SpotConnection(ConnectionConfig.from_sim_info(sim.info_file, client_name="tablet"))
    conn.connect()
    ep = EstopEndpoint(conn.ensure_client(EstopClient.default_service_name), "tablet", timeout)
    ep.force_simple_setup()
    return conn, ep


class LinkDown:
    """E-Stop check-ins do not reach the robot while inside (the robot's E-Stop service answers
    an error), as when the radio link drops; everything else still works."""

    def __init__(self, sim):
        self.system = sim.robot.estop

    def __enter__(self):
        def dropped(*args, **kwargs):
            raise RuntimeError("link down (test)")
        self.system.check_in = dropped
        return self

    def __exit__(self, *exc):
        del self.system.check_in


# -- the matrix ---------------------------------------------------------------------------------------
def test_01_tablet_live_is_never_taken_and_its_stop_is_latched(rigs, sim):
    conn, ep = tablet_endpoint(sim)
    with EstopKeepAlive(ep) as tablet:
        rig = rigs()
        assert not rig.bridge.estop.registered and endpoints(sim) == ["tablet"]
        assert "E-Stop held by someone else (tablet live)" in rig.diag()["estop"]
        assert rig.call("power_on")["success"] and wait_until(lambda: power(sim) == ON, 15.0)
        tablet.stop()                                                   # the operator hits the tablet's stop
        assert power(sim) == OFF and level(sim) == CUT
        assert wait_until(lambda: rig.state == "LATCHED", 15.0)
        d = rig.diag()
        assert d["_level"] == 2 and d["_message"].startswith("STOP LATCHED: robot E-Stop level CUT")
        assert d["motion_enabled"] == "false"
        tablet.allow()                                                  # released on the tablet
        assert wait_until(lambda: level(sim) == NONE, 10.0)
        rig.probes.wait(3)                                              # the bridge saw it released
        assert power(sim) == OFF and rig.state == "LATCHED"              # nothing comes back by itself
        rig.close()
        assert endpoints(sim) == ["tablet"]                             # still the tablet's
    ep.deregister()
    conn.shutdown()


def test_02_tablet_lapsed_is_held_by_someone_else_until_an_explicit_takeover(rigs, sim):
    conn, ep = tablet_endpoint(sim, timeout=1.0)
    EstopKeepAlive(ep).shutdown()                                       # checked in, then silent
    assert wait_until(lambda: level(sim) != NONE, 15.0)
    rig = rigs()
    rig.probes.wait(4)                                                  # several polls
    assert not rig.bridge.estop.registered and endpoints(sim) == ["tablet"]
    assert "tablet lapsed" in rig.diag()["estop"]
    refused = rig.call("power_on")
    assert not refused["success"] and "robot is E-Stopped" in refused["message"]
    assert power(sim) == OFF and level(sim) != NONE
    out = rig.call("estop/takeover")                                    # the operator asks
    assert out["success"], out
    assert endpoints(sim) == ["spot_bow_ros"] and level(sim) == SETTLE   # taken over stopped
    assert rig.state == "ESTOPPED"
    assert rig.call("estop/release")["success"] and level(sim) == NONE
    assert rig.call("power_on")["success"] and wait_until(lambda: power(sim) == ON, 15.0)
    conn.shutdown()


def test_03_tablet_at_cut_refuses_power_on_in_one_line(rigs, sim):
    conn, ep = tablet_endpoint(sim)
    with EstopKeepAlive(ep) as tablet:
        tablet.stop()
        rig = rigs()
        assert not rig.bridge.estop.registered and level(sim) == CUT
        mark = len(sim.robot.commands("PowerCommand", accepted=True))
        out = rig.call("power_on")
        assert not out["success"]
        assert out["message"].startswith("power_on failed: power_on refused: robot is E-Stopped by another "
                                         "endpoint (tablet): release it there")
        assert len(sim.robot.commands("PowerCommand", accepted=True)) == mark and power(sim) == OFF
        hard = rig.call("estop/hard")                                   # not ours to stop: says so
        assert not hard["success"] and "no software E-Stop" in hard["message"]
    ep.deregister()
    conn.shutdown()


def test_04_link_loss_shorter_than_the_timeout_changes_nothing(rigs, sim):
    # check-ins every timeout/3: a 0.7 s loss leaves at most ~0.7 + 1.3 s without one, < 4 s
    rig = rigs(estop_timeout=4.0)
    powered_standing(rig)
    with LinkDown(sim):
        rig.walk(0.7)
        assert level(sim) == NONE and power(sim) == ON
    since = time.time_ns()
    rig.walk(0.5)
    assert level(sim) == NONE and power(sim) == ON and rig.state == "POWERED"
    assert accepted_moves(sim, since)                                   # commands still reach it
    assert rig.bridge.counts["latched_stops"] == 0


def test_05_link_loss_longer_than_the_timeout_is_latched(rigs, sim):
    rig = rigs()
    powered_standing(rig)
    with LinkDown(sim):
        assert wait_until(lambda: level(sim) == SETTLE, 15.0)            # robot: our endpoint timed out
        assert wait_until(lambda: power(sim) == OFF, 15.0)
        assert sim.robot.latest().sitting
        assert wait_until(lambda: "keep-alive error" in rig.diag()["estop"], 15.0)
    # the link is back: the keep-alive must not release the robot on its own
    assert wait_until(lambda: rig.state == "LATCHED", 10.0)
    since = time.time_ns()
    checking_in_for(sim, since, 1.2)                                    # the keep-alive checks in again ...
    rig.probes.wait(3)                                                  # ... and the bridge looked
    assert level(sim) == SETTLE and power(sim) == OFF
    assert [r for r in sim.robot.commands("PowerCommand") if r.local_ns >= since] == []
    d = rig.diag()
    # the cause: the robot's E-Stop seen by the probe, or our keep-alive noticing its own lapse
    assert d["_level"] == 2 and d["_message"].startswith("STOP LATCHED: ") and d["motion_enabled"] == "false"
    assert "timed out" in d["_message"] or "keep-alive lapsed" in d["_message"]
    rig.walk(0.3)
    assert accepted_moves(sim, since) == []
    # the operator: release, power on, enable motion -> walking again
    assert rig.call("estop/release")["success"] and level(sim) == NONE
    assert rig.call("power_on")["success"] and wait_until(lambda: power(sim) == ON, 15.0)
    rig.control("enable_motion")
    assert wait_until(lambda: rig.bridge.motion_enabled, 15.0)
    since = time.time_ns()
    rig.walk(0.4)
    assert accepted_moves(sim, since)


def test_06_hard_stop_during_a_slow_power_on(rigs, sim):
    sim.robot.power.on_duration_ns = int(3e9)
    rig = rigs()
    box = {}
    t = threading.Thread(target=lambda: box.update(r=rig.call("power_on")))
    t.start()
    assert wait_until(lambda: power(sim) == robot_state_pb2.PowerState.STATE_POWERING_ON, 10.0)
    with frozen_heap(), CpuMonitor() as cpu:
        t0 = time.time_ns()
        assert rig.call("estop/hard")["success"]
    applied = stop_applied_ns(sim, CUT, t0)
    # not behind the 3 s power-on: applied before that power-on would have finished, whatever the load
    assert applied < power_on_received_ns(sim) + int(3e9)
    assert cpu.check_latency(t0, applied, 1.0, "estop/hard applied") is None
    assert power(sim) == OFF and level(sim) == CUT
    t.join(10)
    assert not box["r"]["success"]
    assert rig.state == "ESTOPPED"
    refused = rig.call("power_on")
    assert not refused["success"] and "send estop_release first" in refused["message"]
    assert power(sim) == OFF


def test_07_gentle_stop_during_a_slow_power_on(rigs, sim):
    sim.robot.power.on_duration_ns = int(3e9)
    rig = rigs()
    t = threading.Thread(target=lambda: rig.call("power_on"))
    t.start()
    assert wait_until(lambda: power(sim) == robot_state_pb2.PowerState.STATE_POWERING_ON, 10.0)
    with frozen_heap(), CpuMonitor() as cpu:
        t0 = time.time_ns()
        rig.control("estop_gentle")                                     # on the control topic
        assert wait_until(lambda: level(sim) == SETTLE, 20.0)
    applied = stop_applied_ns(sim, SETTLE, t0)
    # not behind the 3 s power-on: applied before that power-on would have finished, whatever the load
    assert applied < power_on_received_ns(sim) + int(3e9)
    assert cpu.check_latency(t0, applied, 1.0, "estop_gentle applied") is None
    assert wait_until(lambda: power(sim) == OFF, 15.0)
    t.join(10)
    assert rig.state == "ESTOPPED" and not rig.bridge.motion_enabled


def test_08_hard_stop_during_a_walk(rigs, sim):
    rig = rigs()
    powered_standing(rig)
    rig.walk(0.5)
    assert sim.robot.latest().walking
    with frozen_heap(), CpuMonitor() as cpu:
        t0 = time.time_ns()
        rig.control("estop_hard")
        assert wait_until(lambda: power(sim) == OFF and level(sim) == CUT, 20.0)
    assert cpu.check_latency(t0, stop_applied_ns(sim, CUT, t0), 1.0, "estop_hard applied") is None
    since = time.time_ns()
    rig.walk(0.4)                                                       # the stream goes on: dropped
    assert accepted_moves(sim, since) == [] and power(sim) == OFF
    assert rig.state == "ESTOPPED" and rig.bridge.counts["dropped_stopped"] >= 1


def test_09_gentle_stop_during_a_walk_sits_then_cuts(rigs, sim):
    rig = rigs()
    powered_standing(rig)
    rig.walk(0.5)
    t0 = time.time_ns()
    assert rig.call("estop/gentle")["success"]
    assert level(sim) == SETTLE
    assert wait_until(lambda: power(sim) == OFF, 15.0)
    assert sim.robot.latest().sitting
    assert any(s.powered and s.sitting for s in sim.robot.history() if s.local_ns >= t0)   # sat first
    since = time.time_ns()
    rig.walk(0.3)
    assert accepted_moves(sim, since) == []


def moves_reaching(sim, since_ns: int) -> list:
    """Every RobotCommand that reached the robot after `since_ns`, accepted or not."""
    return [r for r in sim.robot.commands("RobotCommand") if r.local_ns >= since_ns]


def test_10_behavior_fault_mid_walk_is_latched(rigs, sim):
    rig = rigs()
    powered_standing(rig)
    rig.walk(0.5)
    fid = sim.robot.inject_behavior_fault("fall", clearable=True)
    since = time.time_ns()
    rig.walk(0.4)
    assert wait_until(lambda: not sim.robot.latest().walking, 15.0)      # the fall stopped it
    assert wait_until(lambda: rig.state == "FAULTED", 15.0)
    refused = moves_reaching(sim, since)
    assert len(refused) <= 1 and all(r.status == "STATUS_BEHAVIOR_FAULT" for r in refused)   # then latched
    assert power(sim) == ON and level(sim) == NONE                      # the motors stay on
    d = rig.diag()
    assert d["_level"] == 2 and d["_message"] == f"STOP LATCHED: behavior fault {fid} FALL, clearable, motors on"
    assert d["motion_enabled"] == "false" and d["state"] == "FAULTED"
    since = time.time_ns()
    rig.walk(0.3)
    assert moves_reaching(sim, since) == []                              # nothing is forwarded
    assert not rig.call("power_on")["success"] and not rig.call("stand")["success"]
    out = rig.call("clear_behavior_fault")
    assert out["success"] and out["message"] == f"clear_behavior_fault: cleared {fid} FALL"
    assert sim.robot.behavior_faults.active == {}
    assert wait_until(lambda: rig.state == "POWERED", 15.0)
    refused = rig.call("stand")                                         # motion needs enable_motion again
    assert not refused["success"] and "motion is disabled" in refused["message"]
    rig.control("enable_motion")
    assert wait_until(lambda: rig.bridge.motion_enabled, 15.0)
    assert rig.call("stand")["success"]
    since = time.time_ns()
    rig.walk(0.4)
    assert accepted_moves(sim, since)


def test_10b_behavior_fault_with_motors_on_is_seen_without_a_command(rigs, sim):
    rig = rigs()
    powered_standing(rig)
    fid = sim.robot.inject_behavior_fault("command_failure", clearable=True)   # no fall: motors on, standing
    assert wait_until(lambda: rig.state == "FAULTED", 15.0)              # by the diagnostics probe
    assert power(sim) == ON and level(sim) == NONE
    d = rig.diag()
    assert d["_message"] == f"STOP LATCHED: behavior fault {fid} COMMAND_FAILURE, clearable, motors on"
    since = time.time_ns()
    rig.walk(0.4)
    assert moves_reaching(sim, since) == [] and rig.bridge.counts["dropped_stopped"] >= 1
    assert rig.call("estop/release")["success"] and rig.state == "FAULTED"   # not released by the E-Stop verbs
    assert rig.call("clear_behavior_fault")["success"]
    assert wait_until(lambda: rig.state == "POWERED", 15.0) and not rig.bridge.motion_enabled


def test_10c_unclearable_behavior_fault_stays_latched(rigs, sim):
    rig = rigs()
    powered_standing(rig)
    fid = sim.robot.inject_behavior_fault("hardware", clearable=False)
    assert wait_until(lambda: rig.state == "FAULTED", 15.0)
    assert "unclearable" in rig.diag()["_message"]
    out = rig.call("clear_behavior_fault")
    assert not out["success"]
    assert f"NOT cleared {fid} HARDWARE (unclearable: inspect the robot)" in out["message"]
    assert sim.robot.commands("ClearBehaviorFault") == []                # never asked to clear it
    rig.probes.wait(3)                                                  # several probes
    assert rig.state == "FAULTED" and fid in sim.robot.behavior_faults.active
    since = time.time_ns()
    rig.walk(0.3)
    assert moves_reaching(sim, since) == []
    assert rig.call("power_off")["success"] and wait_until(lambda: power(sim) == OFF, 15.0)   # a safe power off works
    assert rig.state == "FAULTED"
    refused = rig.call("power_on")
    assert not refused["success"] and "behavior fault" in refused["message"] and power(sim) == OFF


def _tablet_lease(sim):
    tablet = SpotConnection(ConnectionConfig.from_sim_info(sim.info_file, client_name="tablet"))
    tablet.connect()
    return tablet, tablet.ensure_client(LeaseClient.default_service_name)


def test_11_lease_taken_by_another_client_is_latched(rigs, sim):
    rig = rigs()
    powered_standing(rig)
    tablet, lease_client = _tablet_lease(sim)
    try:
        lease_client.take()
        with LeaseKeepAlive(lease_client, must_acquire=False, return_at_exit=True, rpc_interval_seconds=0.5):
            rig.walk(0.4)
            assert wait_until(lambda: rig.state == "LEASE_LOST", 15.0)
            since = time.time_ns()
            rig.walk(1.0)                                               # several diagnostics periods
            ours = [r for r in sim.robot.commands() if r.local_ns >= since and r.rpc in
                    ("RobotCommand", "TakeLease", "AcquireLease")]
            assert ours == []                                           # nothing sent, no take-back, no re-acquire
            assert sim.robot.leases.holder("body").sequence == lease_client.lease_wallet.get_lease().lease_proto.sequence
            d = rig.diag()
            assert d["_level"] == 2 and d["lease"].startswith("lost") and d["motion_enabled"] == "false"
            assert d["_message"].startswith("STOP LATCHED: body lease lost: LeaseUseError STATUS_OLDER (held by tablet")
            assert power(sim) == ON                                     # the tablet has the robot now
            assert not rig.call("stand")["success"]                    # refused: LEASE_LOST
        # the tablet returned the lease: still latched until the operator claims it
        assert sim.robot.leases.holder("body") is None
        rig.probes.wait(3)
        assert rig.state == "LEASE_LOST" and not rig.bridge.commander.lease_held
        assert rig.call("claim")["success"]
        assert wait_until(lambda: rig.state == "POWERED", 15.0) and not rig.bridge.motion_enabled
        rig.control("enable_motion")
        assert wait_until(lambda: rig.bridge.motion_enabled, 15.0)
        since = time.time_ns()
        rig.walk(0.4)
        assert accepted_moves(sim, since)
    finally:
        tablet.shutdown()


def test_11b_lease_taken_back_only_by_take_lease(rigs, sim):
    rig = rigs()
    powered_standing(rig)
    tablet, lease_client = _tablet_lease(sim)
    try:
        lease_client.take()
        with LeaseKeepAlive(lease_client, must_acquire=False, return_at_exit=False, rpc_interval_seconds=0.5):
            assert wait_until(lambda: rig.state == "LEASE_LOST", 15.0)   # seen by our lease keep-alive
            out = rig.call("claim")
            assert not out["success"] and "send take_lease" in out["message"]
            assert rig.call("take_lease")["success"]                    # the operator's decision
            assert rig.bridge.commander.lease_held and [r for r in sim.robot.commands("TakeLease") if r.accepted]
            assert wait_until(lambda: rig.state == "POWERED", 15.0)
            assert not rig.bridge.motion_enabled
    finally:
        tablet.shutdown()


def test_11c_lease_revoked_by_the_robot_is_latched(rigs, sim):
    rig = rigs()
    powered_standing(rig)
    assert sim.robot.leases.revoke("body")
    assert wait_until(lambda: rig.state == "LEASE_LOST", 15.0)            # our keep-alive: STATUS_REVOKED
    assert "STATUS_REVOKED" in rig.diag()["_message"]
    since = time.time_ns()
    rig.walk(1.0)
    assert [r for r in sim.robot.commands() if r.local_ns >= since and r.rpc in
            ("RobotCommand", "AcquireLease", "TakeLease")] == []        # the free lease is not re-acquired
    assert sim.robot.leases.holder("body") is None
    assert rig.call("claim")["success"] and sim.robot.leases.holder("body") is not None


def test_12_exit_with_our_estop_sits_powers_off_and_deregisters(rigs, sim, caplog):
    rig = rigs()
    powered_standing(rig)
    with caplog.at_level("INFO"):
        rig.close()
    assert power(sim) == OFF and sim.robot.latest().sitting
    assert endpoints(sim) == []                                         # deregistered
    assert sim.robot.leases.holder("body") is None
    assert any("exit: this driver powered the robot on: sitting and powering off" in r.getMessage()
               for r in caplog.records) or rig.backend == "rclpy"
    sit_then_off = [r for r in sim.robot.commands() if r.rpc in ("RobotCommand", "PowerCommand")][-2:]
    assert sit_then_off and sit_then_off[-1].accepted


def test_13_exit_without_our_estop_still_powers_off_what_we_powered(rigs, sim):
    conn, ep = tablet_endpoint(sim)
    with EstopKeepAlive(ep):
        rig = rigs()
        assert not rig.bridge.estop.registered
        powered_standing(rig)
        rig.close()
        assert power(sim) == OFF and sim.robot.latest().sitting         # we powered it on: we power it off
        assert endpoints(sim) == ["tablet"] and level(sim) == NONE       # the tablet's E-Stop untouched
        assert sim.robot.leases.holder("body") is None
    ep.deregister()
    conn.shutdown()


def test_14_watchdog_expiry_stops_the_robot(rigs, sim):
    rig = rigs()
    powered_standing(rig)
    since = time.time_ns()
    rig.twist(0.3)                                                      # one command, then silence
    def stops():
        return [r for r in sim.robot.commands("RobotCommand", accepted=True)
                if r.local_ns >= since and r.request.command.full_body_command.HasField("stop_request")]
    assert wait_until(stops, 10.0)
    rig.probes.wait(3)                                                  # the bridge's executor ran on
    assert len(stops()) == 1 and rig.bridge.counts["watchdog_stops"] == 1
    assert wait_until(lambda: not sim.robot.latest().walking, 15.0)
    assert power(sim) == ON and rig.state == "POWERED"                  # a watchdog stop is not an E-Stop


def test_15_stuck_executor_settles_the_robot_latched(rigs, sim):
    rig = rigs(heartbeat_timeout=1.5)
    powered_standing(rig)
    blocked, unblocked = threading.Event(), threading.Event()

    def hang():                                                         # a callback that never returns soon
        if not blocked.is_set():
            blocked.set()
            time.sleep(6.0)
            unblocked.set()
    timer = rig.node.create_timer(0.05, hang)                          # the bridge's own executor / group
    with frozen_heap(), CpuMonitor() as cpu:
        assert wait_until(blocked.is_set, 10.0)
        t0 = time.time_ns()
        assert wait_until(lambda: level(sim) == SETTLE, 20.0)
        settled = time.time_ns()
    assert cpu.check_latency(t0, settled, 4.5, "heartbeat_timeout 1.5 s, then settle") is None
    assert wait_until(lambda: power(sim) == OFF, 10.0)
    assert wait_until(lambda: rig.state == "LATCHED", 10.0)
    assert "driver stalled: no heartbeat" in rig.diag()["_message"]
    timer.cancel()
    assert wait_until(unblocked.is_set, 30.0)
    rig.probes.wait(3)                                                  # the executor runs again
    assert level(sim) == SETTLE and power(sim) == OFF                   # stays stopped: latched


class SlowReconnect:
    """The connection's health check fails once (an overloaded machine) and re-opening the
    session (authenticate, time sync) takes `open_s`, longer than estop_timeout."""

    def __init__(self, connection, open_s: float = 2.5):
        self.conn, self.open_s = connection, open_s
        self._check, self._open = connection._check, connection._open
        self.failed = False

    def __enter__(self):
        def check(session):
            if not self.failed:
                self.failed = True
                return "forced health-check failure (test)"
            return self._check(session)

        def slow_open(config, timeout):
            time.sleep(self.open_s)
            return self._open(config, timeout)
        self.conn._check, self.conn._open = check, slow_open
        return self

    def __exit__(self, *exc):
        self.conn._check, self.conn._open = self._check, self._open


def test_17_health_check_reconnect_mid_walk_keeps_the_e_stop_and_the_lease(rigs, sim):
    rig = rigs(health_check_interval=0.2, reconnect_max_backoff=0.3)
    powered_standing(rig)
    lease = sim.robot.leases.holder("body")
    conn = rig.bridge.connection
    with SlowReconnect(conn):
        rig.walk(0.3)
        assert wait_until(lambda: not conn.connected, 15.0)
        while not conn.connected:                                       # 2.5 s > estop_timeout 1.5 s
            rig.twist(0.3)
            assert level(sim) == NONE and power(sim) == ON              # our check-ins go on: no settle
            time.sleep(0.05)
    assert rig.bridge.counts["dropped_not_ready"] >= 1                  # forwarding paused meanwhile
    assert sim.robot.leases.holder("body").sequence[:1] == lease.sequence[:1]   # the same lease, retained
    assert wait_until(lambda: rig.bridge.commander.ready, 15.0)
    since = time.time_ns()
    rig.walk(0.4)
    assert accepted_moves(sim, since) and rig.state == "POWERED"
    assert rig.bridge.counts["latched_stops"] == 0 and level(sim) == NONE
    with SlowReconnect(conn):                                           # a stop during a reconnect
        assert wait_until(lambda: not conn.connected, 15.0)
        assert rig.call("estop/hard")["success"]
        assert level(sim) == CUT and power(sim) == OFF
    assert conn.wait_until_connected(10)
    checking_in_for(sim, time.time_ns(), 0.5)                          # over the new channel
    rig.probes.wait(2)
    assert level(sim) == CUT and rig.state == "ESTOPPED"                # stays stopped over the new channel


# -- SIGSTOP / SIGCONT of the whole process -------------------------------------------------------------
def _bridge_env(backend: str) -> dict:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
               PYTHONUNBUFFERED="1", SPOT_BOW_ROS_BACKEND=backend)
    return env


def test_16_sigstop_sigcont_is_reported_and_the_stop_stays_latched(backend, sim, tmp_path):
    log_path = tmp_path / "bridge.log"
    args = [sys.executable, "-m", "spot_bow_ros.nodes.motor_command", "--ros-args"]
    for p in (f"sim_info_file:={sim.info_file}", "estop_release_at_start:=true", "auto_power_on:=true",
              "enable_motion:=true", "auto_stand:=true", "estop_timeout:=1.5", "diagnostics_period:=0.3"):
        args += ["-p", p]
    with open(log_path, "w") as log:
        proc = subprocess.Popen(args, env=_bridge_env(backend), stdout=log, stderr=subprocess.STDOUT)
        try:
            assert wait_until(lambda: sim.robot.latest().standing, 30), log_path.read_text()
            os.kill(proc.pid, signal.SIGSTOP)
            assert wait_until(lambda: level(sim) == SETTLE, 15.0)
            assert wait_until(lambda: power(sim) == OFF, 15.0)
            time.sleep(0.5)
            since = time.time_ns()
            os.kill(proc.pid, signal.SIGCONT)
            assert wait_until(lambda: "STOP LATCHED" in log_path.read_text(), 15.0), log_path.read_text()
            checking_in_for(sim, since, 1.5)                            # running again (keep-alive at SETTLE)
            assert level(sim) == SETTLE and power(sim) == OFF                # not released behind our back
            assert [r for r in sim.robot.commands("PowerCommand") if r.local_ns >= since] == []
            text = log_path.read_text()
            assert "driver stalled for" in text and "keep-alive lapsed" in text, text
        finally:
            interrupt_and_reap(proc)
    assert proc.returncode == 0, log_path.read_text()


# -- the rclpy half through /opt/ros2-jazzy ------------------------------------------------------------
def test_rclpy_matrix_via_ros2_jazzy():
    if _rclpy_importable():
        pytest.skip("rclpy imports in this process: the rclpy cases ran directly")
    if not ROS_SETUP.exists():
        pytest.skip(f"no ROS 2 at {ROS_SETUP.parent.parent}: the rclpy backend cases are not run")
    cmd = (f"source {ROS_SETUP} >/dev/null 2>&1; export RMW_IMPLEMENTATION=rmw_cyclonedds_cpp "
           f"ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST; exec {sys.executable} -m pytest -q -p no:cacheprovider "
           f"{Path(__file__).name} -k 'rclpy and not via_ros2'")
    out = subprocess.run(["bash", "-c", cmd], cwd=HERE, capture_output=True, text=True, timeout=900)
    tail = (out.stdout + out.stderr)[-3000:]
    assert out.returncode == 0, tail
    assert " passed" in out.stdout and "skipped" not in out.stdout.splitlines()[-1], tail


def test_18_estop_verbs_with_estop_none_still_stop_the_walk_and_close_the_gate(rigs, sim):
    """`estop: none` (the tablet holds the E-Stop): estop_hard cannot cut power from here, but the
    operator asked for a stop: the walk is stopped (a stop command reaches the robot), the motion
    gate closes (the stream that goes on is dropped) and the line says what to use instead."""
    conn, ep = tablet_endpoint(sim, timeout=3.0)
    with EstopKeepAlive(ep) as tablet:
        tablet.allow()
        rig = rigs(estop="none")
        powered_standing(rig)
        rig.walk(0.5)
        assert sim.robot.latest().walking
        t0 = time.time_ns()
        out = rig.call("estop/hard")
        assert not out["success"]
        assert "the software E-Stop is off (parameter estop: none); motion disabled and stop sent" in out["message"]
        stops = [r for r in sim.robot.commands("RobotCommand", accepted=True) if r.local_ns >= t0
                 and r.request.command.full_body_command.HasField("stop_request")]
        assert stops, "no stop reached the robot"
        assert wait_until(lambda: not sim.robot.latest().walking, 15.0)
        since = time.time_ns()
        rig.walk(0.4)                                                   # the stream goes on: dropped
        assert accepted_moves(sim, since) == [] and not sim.robot.latest().walking
        assert rig.bridge.sup.motion_enabled is False and rig.bridge.counts["dropped_disabled"] >= 1
        assert power(sim) == ON and level(sim) == NONE                  # the tablet's E-Stop: not ours to cut
        rig.close()
    ep.deregister()
    conn.shutdown()


def test_19_motor_power_lost_mid_walk_is_latched_and_nothing_powers_on_again(rigs, sim):
    """Motor power drops without an E-Stop change or a command from us (a power loss or a fault
    that cuts it): STOP LATCHED naming it, motion disabled, the stream dropped, and the motors stay
    off (no automatic power-on) until an operator sends power_on and enable_motion."""
    rig = rigs()
    powered_standing(rig)
    rig.walk(0.5)
    assert sim.robot.latest().walking
    sim.robot.power.cut()                                               # the robot loses motor power
    assert wait_until(lambda: rig.state == "LATCHED", 15.0)
    d = rig.diag()
    assert d["_level"] == 2 and d["_message"].startswith(
        "STOP LATCHED: motor power dropped without a command from us"), d["_message"]
    assert d["motion_enabled"] == "false" and level(sim) == NONE
    since = time.time_ns()
    rig.walk(0.4)                                                       # the stream goes on: dropped
    assert accepted_moves(sim, since) == []
    rig.probes.wait(3)                                                  # the bridge looked at the robot again
    assert power(sim) == OFF and [r for r in sim.robot.commands("PowerCommand") if r.local_ns >= since] == []
    assert rig.call("power_on")["success"] and wait_until(lambda: power(sim) == ON, 15.0)   # the operator
    assert rig.state == "POWERED" and rig.bridge.sup.motion_enabled is False


def test_20_connection_lost_mid_walk_the_robot_stops_by_itself_within_cmd_duration(rigs, sim):
    """The link to the robot is lost mid-walk (nothing more reaches it; the operator's stream
    goes on): every velocity command carried an end time cmd_duration ahead on the robot clock,
    so the robot stops on its own, long before the connection is back."""
    from spot_bow_ros.convert import time as tconv
    rig = rigs(health_check_interval=0.2, reconnect_max_backoff=0.3)
    powered_standing(rig)
    conn = rig.bridge.connection
    rig.walk(0.5)
    assert sim.robot.latest().walking
    with SlowReconnect(conn, open_s=6.0):                              # back no sooner than 6 s
        assert wait_until(lambda: not conn.connected, 5.0)
        stopped = False
        while not conn.connected and not stopped:
            rig.twist(0.3)                                              # dropped: not forwarded
            stopped = not sim.robot.latest().walking
            time.sleep(0.05)
        assert stopped and not conn.connected                          # stopped by itself, still cut off
    last = [r for r in sim.robot.commands("RobotCommand", accepted=True)
            if r.request.command.synchronized_command.mobility_command.HasField("se2_velocity_request")][-1]
    end = last.request.command.synchronized_command.mobility_command.se2_velocity_request.end_time
    assert 0.0 < (tconv.timestamp_to_ns(end) - last.robot_ns) / 1e9 <= 0.6 + 0.01   # cmd_duration ahead
