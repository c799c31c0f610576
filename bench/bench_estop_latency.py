#!/usr/bin/env python3
"""E-Stop latency during blocking power calls (printed figures, no assertion; target p99 <= 100 ms).

The real motor_command bridge, real bosdyn clients, the simulated Spot with motor power-on and
power-off slowed to `--slow-power` seconds (default 5 s), a cmd_vel flood (`--flood-hz`) on the
bridge's executor throughout. Each trial starts a blocking power call (power_on: the robot is
POWERING_ON for seconds; or power_off from ON), waits a random 50-600 ms, then sends an E-Stop
(alternating estop_hard / estop_gentle, alternating the control topic and the estop/* service).
Latency = request sent -> the robot applied the new level: with `--sim-process` (default, the
robot is another process, as a real Spot is another machine) the moment the bridge's check-in RPC
at that level returned (the robot answered, so it applied it); with `--no-sim-process` (the
simulator in the bench's process, sharing its GIL) the simulator's own record (`level_log`).

Backends: `inproc` (standalone, in-process bus), `dds` (standalone over Cyclone DDS, two
participants), `rclpy` (real rclpy nodes, MultiThreadedExecutor; needs a sourced ROS 2, e.g.
`source /opt/ros2-jazzy/install/setup.bash` before running this with the venv's python).

Usage: python bench/bench_estop_latency.py [--trials 200] [--power-off-trials 10]
           [--slow-power 5] [--backend inproc|dds|rclpy] [--flood-hz 200] [--no-sim-process]
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bosdyn.api import estop_pb2

from spot_bow_ros.nodes.motor_command import MotorCommandBridge
from spot_bow_ros.ros.qos import COMMAND, DEFAULT
from spot_bow_ros.sim import SimulatedSpot

STOPS = {"estop_hard": estop_pb2.ESTOP_LEVEL_CUT, "estop_gentle": estop_pb2.ESTOP_LEVEL_SETTLE_THEN_CUT}
SERVICES = {"estop_hard": "/estop/hard", "estop_gentle": "/estop/gentle", "power_on": "/power_on",
            "power_off": "/power_off"}


def bridge_params(info_file: str, tmp: str) -> dict:
    return dict(sim_info_file=info_file, estop_release_at_start=True, enable_motion=True,
                auto_power_on=False, auto_stand=False, recordings_dir=str(Path(tmp) / "rec"),
                diagnostics_period=0.5, cmd_timeout=0.5)


class Standalone:
    """Bridge and tester on the standalone backend (in-process bus or Cyclone DDS)."""

    def __init__(self, info_file: str, tmp: str, dds: bool):
        from spot_bow_ros.standalone.node import InProcessBus, StandaloneNode
        if dds:
            from spot_bow_ros.standalone.dds_transport import DdsTransport
            domain = int(os.environ.get("ROS_DOMAIN_ID", random.randint(100, 200)))
            self.bridge_transport, self.tester_transport = DdsTransport(domain), DdsTransport(domain)
        else:
            self.bridge_transport = self.tester_transport = InProcessBus()
        self.node = StandaloneNode("motor_command", self.bridge_transport,
                                   parameter_overrides=bridge_params(info_file, tmp))
        self.bridge = MotorCommandBridge(self.node)
        self.tester = StandaloneNode("bench", self.tester_transport)
        self.ctl = self.tester.create_publisher("std_msgs/msg/String", "motor_command/control", DEFAULT)
        self.twist = self.tester.create_publisher("geometry_msgs/msg/Twist", "cmd_vel", COMMAND)
        self.dds = dds
        self._clients: dict = {}
        if dds:
            from spot_bow_ros.standalone.service_endpoints import DdsServiceClient
            for name in SERVICES.values():
                self._clients[name] = DdsServiceClient(self.tester_transport, name, "std_srvs/srv/Trigger")
                self._clients[name].wait_for_service(10.0)
            deadline = time.monotonic() + 10
            while self.ctl.get_subscription_count() == 0 and time.monotonic() < deadline:
                time.sleep(0.05)

    def publish_verb(self, verb: str) -> None:
        self.ctl.publish(self.tester.msg("std_msgs/msg/String", data=verb))

    def publish_twist(self, vx: float) -> None:
        self.twist.publish(self.tester.msg("geometry_msgs/msg/Twist",
                                           linear=self.tester.msg("geometry_msgs/msg/Vector3", x=vx)))

    def call(self, name: str) -> None:
        from spot_bow_ros.standalone.service_types import request_type
        request = self.tester_transport.messages.make(request_type("std_srvs/srv/Trigger"))
        if self.dds:
            self._clients[name].call(request, timeout_s=30.0)
        else:
            self.tester_transport.call_service(name, request, timeout_s=30.0)

    def close(self) -> None:
        self.tester.destroy()
        self.node.destroy()
        for client in self._clients.values():
            client.close()
        if self.dds:
            self.tester_transport.close()
            self.bridge_transport.close()


class Rclpy:
    """Bridge and tester as real rclpy nodes (one MultiThreadedExecutor, as `run_rclpy_nodes`)."""

    def __init__(self, info_file: str, tmp: str):
        import rclpy
        from geometry_msgs.msg import Twist
        from rclpy.executors import MultiThreadedExecutor
        from std_msgs.msg import String
        from std_srvs.srv import Trigger

        from spot_bow_ros.backends.rclpy_backend import RclpyNode, qos_profile
        args = ["--ros-args"]
        for k, v in bridge_params(info_file, tmp).items():
            args += ["-p", f"motor_command:{k}:={str(v).lower() if isinstance(v, bool) else v}"]
        rclpy.init(args=args)
        self.rclpy, self.Trigger, self.String, self.Twist = rclpy, Trigger, String, Twist
        self.node = RclpyNode("motor_command")
        self.bridge = MotorCommandBridge(self.node)
        self.tester = rclpy.create_node("bench")
        self.ctl = self.tester.create_publisher(String, "motor_command/control", qos_profile(DEFAULT))
        self.twist = self.tester.create_publisher(Twist, "cmd_vel", qos_profile(COMMAND))
        self.clients = {n: self.tester.create_client(Trigger, n) for n in SERVICES.values()}
        self.executor = MultiThreadedExecutor(num_threads=2 * 1 + 2)
        self.executor.add_node(self.node.node)
        self.tester_executor = MultiThreadedExecutor(num_threads=2)
        self.tester_executor.add_node(self.tester)
        self._threads = [threading.Thread(target=e.spin, daemon=True) for e in (self.executor, self.tester_executor)]
        for t in self._threads:
            t.start()
        for c in self.clients.values():
            c.wait_for_service(timeout_sec=10.0)

    def publish_verb(self, verb: str) -> None:
        self.ctl.publish(self.String(data=verb))

    def publish_twist(self, vx: float) -> None:
        msg = self.Twist()
        msg.linear.x = vx
        self.twist.publish(msg)

    def call(self, name: str) -> None:
        future = self.clients[name].call_async(self.Trigger.Request())
        deadline = time.monotonic() + 30
        while not future.done() and time.monotonic() < deadline:
            time.sleep(0.002)

    def close(self) -> None:
        self.node.destroy()
        self.executor.shutdown()
        self.tester_executor.shutdown()
        self.rclpy.try_shutdown()


def wait_level(sim, level: int, after_ns: int, timeout: float = 5.0) -> int | None:
    """Local ns when our endpoint's check-in at `level` was applied after `after_ns`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for t_ns, name, lvl in list(sim.robot.estop.level_log):
            if t_ns >= after_ns and lvl == level and name == "spot_bow_ros":
                return t_ns
        time.sleep(0.0005)
    return None


@contextlib.contextmanager
def robot(args, tmp: str):
    """(info file, in-process SimulatedSpot or None) of a simulated Spot with slow power."""
    if not args.sim_process:
        with SimulatedSpot(arm=False, power_on_s=args.slow_power, power_off_s=args.slow_power) as sim:
            yield str(sim.write_info(Path(tmp) / "sim.json")), sim
        return
    info = Path(tmp) / "sim.json"
    proc = subprocess.Popen([sys.executable, "-m", "spot_bow_ros.cli", "sim", "--no-arm", "--camera-rate", "1",
                             "--slow-power", str(args.slow_power), "--info-file", str(info), "--log-level", "error"])
    try:
        deadline = time.monotonic() + 60
        while not info.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)   # body services up
        yield str(info), None
    finally:
        proc.terminate()
        proc.wait(20)


def wait_answered(answered: list[tuple[int, int]], level: int, after_ns: int, timeout: float = 5.0) -> int | None:
    """Local ns when the robot answered our check-in at `level` sent after `after_ns`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for lvl, t_ns in list(answered):
            if t_ns >= after_ns and lvl == level:
                return t_ns
        time.sleep(0.0005)
    return None


def run(args) -> dict[str, list[float]]:
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("spot_bow_ros").setLevel(logging.CRITICAL)   # refused power-ons: expected
    results: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp, robot(args, tmp) as (info, sim):
        rig = Rclpy(info, tmp) if args.backend == "rclpy" else Standalone(info, tmp, args.backend == "dds")
        stop_flood = threading.Event()

        def flood():
            period = 1.0 / args.flood_hz
            while not stop_flood.is_set():
                rig.publish_twist(0.2)
                time.sleep(period)

        flooder = threading.Thread(target=flood, daemon=True)
        flooder.start()
        rnd = random.Random(7)
        bridge = rig.bridge
        entered: list[int] = []      # when the verb reached the software E-Stop (bridge side)
        answered: list[tuple[int, int]] = []   # (level, when the robot answered that check-in)
        real_set = bridge.estop._set

        def timed_set(level, *a):
            entered.append(time.time_ns())
            result = real_set(level, *a)
            if result.ok:
                answered.append((level, time.time_ns()))
            return result
        bridge.estop._set = timed_set
        try:
            plan = [("power_on", i) for i in range(args.trials)] + [("power_off", i) for i in range(args.power_off_trials)]
            for k, (phase, i) in enumerate(plan):
                verb = ("estop_hard", "estop_gentle")[i % 2]
                path = ("topic", "service")[(i // 2) % 2]
                bridge.control("estop_release")
                if phase == "power_off":      # motors on first (slow), then a blocking power_off
                    bridge.control("power_on")
                    blocking = threading.Thread(target=rig.call, args=("/power_off",), daemon=True)
                else:
                    blocking = threading.Thread(target=rig.call, args=("/power_on",), daemon=True)
                blocking.start()
                time.sleep(rnd.uniform(0.05, 0.6))          # the power call is in flight on the robot
                t0 = time.time_ns()
                if path == "topic":
                    rig.publish_verb(verb)
                else:
                    threading.Thread(target=rig.call, args=(SERVICES[verb],), daemon=True).start()
                t_robot = (wait_level(sim, STOPS[verb], t0) if sim is not None else
                           wait_answered(answered, STOPS[verb], t0))
                key = f"during {phase}, {verb} via {path}"
                results.setdefault(key, []).append((t_robot - t0) / 1e6 if t_robot else float("inf"))
                t_in = next((t for t in entered if t >= t0), None)
                if t_robot and t_in:
                    results.setdefault("  of which: request -> bridge", []).append((t_in - t0) / 1e6)
                    results.setdefault("  of which: bridge -> robot applied", []).append((t_robot - t_in) / 1e6)
                blocking.join(30.0)
                if (k + 1) % 50 == 0:
                    print(f"  {k + 1}/{len(plan)} trials", flush=True)
        finally:
            stop_flood.set()
            flooder.join(2.0)
            received = bridge.counts["received"]
            rig.close()
    print(f"cmd_vel flood: {received} messages received by the bridge during the run")
    return results


def report(results: dict[str, list[float]], args) -> None:
    every = np.array([v for k, vs in results.items() if not k.startswith(" ") for v in vs])
    where = "robot in another process" if args.sim_process else "simulator in this process"
    print(f"\nE-Stop latency, request -> applied on the robot (ms); backend {args.backend}, {where}, power "
          f"on/off {args.slow_power:g} s, cmd_vel flood {args.flood_hz:g} Hz; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; GIL switch interval "
          f"{sys.getswitchinterval() * 1e3:g} ms")
    print(f"{'case':<48} {'n':>4} {'p50':>8} {'p99':>8} {'max':>8}")
    for key in sorted(results, key=lambda k: (k.startswith(" "), k)):
        v = np.array(results[key])
        print(f"{key:<48} {len(v):>4} {np.percentile(v, 50):>8.1f} {np.percentile(v, 99):>8.1f} {v.max():>8.1f}")
    p99 = np.percentile(every, 99)
    print(f"{'ALL':<48} {len(every):>4} {np.percentile(every, 50):>8.1f} {p99:>8.1f} {every.max():>8.1f}")
    print(f"p99 / target (100 ms): {p99 / 100.0:.2f}; lost (never applied): {int(np.isinf(every).sum())}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=200, help="E-Stops during a blocking power_on")
    parser.add_argument("--power-off-trials", type=int, default=10, help="E-Stops during a blocking power_off")
    parser.add_argument("--slow-power", type=float, default=5.0, help="simulated power-on/off time (s)")
    parser.add_argument("--backend", choices=("inproc", "dds", "rclpy"), default="dds")
    parser.add_argument("--flood-hz", type=float, default=200.0, help="cmd_vel messages per second")
    parser.add_argument("--sim-process", action=argparse.BooleanOptionalAction, default=True,
                        help="run the simulated Spot as its own process (default), as a real robot is")
    parser.add_argument("--switch-interval", type=float, default=0.0,
                        help="sys.setswitchinterval for this process (s; default: what motor_command's "
                             "gil_switch_interval sets, 0.001)")
    args = parser.parse_args()
    if args.switch_interval > 0:
        sys.setswitchinterval(args.switch_interval)
    report(run(args), args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
