#!/usr/bin/env python3
"""motor_command latency figures (printed, not asserted).

Latency from topic receipt (the bridge's subscription callback starts) to the robot command RPC,
for a BOW MotorSample as JSON (`motor_command`), as binary (`motor_command/binary`) and for
`cmd_vel`, with the real bridge, real bosdyn clients and the simulated Spot (TLS on loopback):

- receipt -> RPC issued     (parse, validate, convert, limits, build, end time on robot clock)
- receipt -> robot received (the simulator's command log, local clock)
- receipt -> RPC returned   (the command id is known)
- publish -> robot received (adds the in-process bus or, with --dds, Cyclone DDS between two
  participants)

Target: receipt -> RPC p50 <= 5 ms.

Usage: python bench/bench_motor.py [--count 300] [--rate 50] [--dds]
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from google.protobuf import json_format

from spot_bow_ros.bow import bow_data_pb2 as bow
from spot_bow_ros.nodes.motor_command import MotorCommandBridge
from spot_bow_ros.ros.qos import COMMAND
from spot_bow_ros.sim import SimulatedSpot
from spot_bow_ros.standalone.node import InProcessBus, StandaloneNode

SEQ = 1e-4  # m/s of lateral velocity per message index (0.03 m/s for message 300)


def pct(values, q):
    return float(np.percentile(np.asarray(values), q)) if len(values) else float("nan")


class Timing:
    """Wraps the bridge callbacks and the command client to timestamp each stage (ns, local)."""

    def __init__(self, bridge):
        self.receipts: list[int] = []
        self.issued: list[int] = []
        self.returned: list[int] = []
        self.lock = threading.Lock()
        for name in ("on_json", "on_binary", "on_twist"):
            original = getattr(bridge, name)
            setattr(bridge, name, self._wrap_callback(original))
        client = bridge.commander.command_client
        original_rpc = client.robot_command

        def robot_command(command, **kw):
            self.issued.append(time.time_ns())
            result = original_rpc(command, **kw)
            self.returned.append(time.time_ns())
            return result

        client.robot_command = robot_command

    def _wrap_callback(self, fn):
        def wrapped(msg):
            self.receipts.append(time.time_ns())
            return fn(msg)
        return wrapped


def run(kind: str, count: int, rate: float, sim, info_file: str, transport_factory) -> None:
    pub_transport, bridge_transport = transport_factory()
    node = StandaloneNode("motor_command", bridge_transport, parameter_overrides=dict(
        sim_info_file=info_file, enable_motion=True, auto_power_on=True, auto_stand=True,
        cmd_timeout=2.0, diagnostics_period=5.0, recordings_dir=tempfile.mkdtemp()))
    bridge = MotorCommandBridge(node)
    # subscriptions are already created: re-subscribe the wrapped callbacks
    timing = Timing(bridge)
    node.create_subscription("std_msgs/msg/String", "bench/motor_command", bridge.on_json, COMMAND)
    node.create_subscription("std_msgs/msg/UInt8MultiArray", "bench/motor_command/binary", bridge.on_binary, COMMAND)
    node.create_subscription("geometry_msgs/msg/Twist", "bench/cmd_vel", bridge.on_twist, COMMAND)
    tester = StandaloneNode("bench", pub_transport)
    sample = bow.MotorSample()
    sample.Locomotion.LocomotionMode = bow.VELOCITY_MODE
    sample.Locomotion.Position.Z = 0.3
    sample.Locomotion.Rotation.Y = 0.1
    sample.Head.X = 0.05
    sample.OperatingHeight = 0.55
    # message i carries i in its lateral velocity so each robot command maps back to its publish
    if kind == "json":
        pub = tester.create_publisher("std_msgs/msg/String", "bench/motor_command", COMMAND)
    elif kind == "binary":
        pub = tester.create_publisher("std_msgs/msg/UInt8MultiArray", "bench/motor_command/binary", COMMAND)
    else:
        pub = tester.create_publisher("geometry_msgs/msg/Twist", "bench/cmd_vel", COMMAND)
    msgs = []
    for i in range(count):
        if kind == "cmd_vel":
            msgs.append(tester.msg("geometry_msgs/msg/Twist",
                                   linear=tester.msg("geometry_msgs/msg/Vector3", x=0.3, y=-i * SEQ),
                                   angular=tester.msg("geometry_msgs/msg/Vector3", z=-0.1)))
            continue
        sample.Locomotion.Position.X = i * SEQ     # BOW +X (right) = Spot -y
        if kind == "json":
            msgs.append(tester.msg("std_msgs/msg/String", data=json_format.MessageToJson(sample)))
        else:
            msgs.append(tester.msg("std_msgs/msg/UInt8MultiArray", data=sample.SerializeToString()))
    deadline = time.monotonic() + 5
    while pub.get_subscription_count() < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    mark = len(sim.robot.commands())
    published = []
    period = 1.0 / rate
    t0 = time.monotonic()
    for i in range(count):
        while time.monotonic() < t0 + i * period:
            time.sleep(0.0005)
        published.append(time.time_ns())
        pub.publish(msgs[i])
    time.sleep(0.5)
    recs = [r for r in sim.robot.commands()[mark:] if r.rpc == "RobotCommand"
            and r.request.command.synchronized_command.mobility_command.HasField("se2_velocity_request")]
    n = min(len(timing.receipts), len(timing.issued), len(timing.returned), len(recs))
    seqs = [round(-r.request.command.synchronized_command.mobility_command.se2_velocity_request
                  .velocity.linear.y / SEQ) for r in recs[:n]]
    rec_t = [r.local_ns for r in recs[:n]]
    rx = np.array(timing.receipts[:n], dtype=np.int64)
    to_ms = lambda a: (np.asarray(a, dtype=np.int64) - rx) / 1e6
    rows = [("receipt -> RPC issued", to_ms(timing.issued[:n])),
            ("receipt -> robot received", to_ms(rec_t)),
            ("receipt -> RPC returned", to_ms(timing.returned[:n])),
            ("publish -> robot received", (np.asarray(rec_t) - np.asarray([published[k] for k in seqs])) / 1e6)]
    accepted = sum(1 for r in recs if r.accepted)
    print(f"{kind:7s} {count} published at {rate:g} Hz, {n} commands sent ({accepted} accepted by the robot, "
          f"{count - n} superseded by keep-last-1)")
    for label, values in rows:
        print(f"  {label:28s} p50 {pct(values, 50):6.2f} ms   p90 {pct(values, 90):6.2f} ms   "
              f"max {np.max(values):6.2f} ms")
    tester.destroy()
    node.destroy()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--dds", action="store_true", help="publish over Cyclone DDS (two participants)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if args.dds:
        from spot_bow_ros.standalone.dds_transport import DdsTransport

        def transports():
            return DdsTransport(), DdsTransport()
        label = "Cyclone DDS"
    else:
        bus = InProcessBus()

        def transports():
            return bus, bus
        label = "in-process bus"
    with SimulatedSpot(clock_offset_s=100.0) as sim, tempfile.TemporaryDirectory() as tmp:
        info = Path(tmp) / "sim.json"
        sim.write_info(info)
        print(f"motor_command latency, simulated Spot on loopback TLS, transport: {label}")
        for kind in ("json", "binary", "cmd_vel"):
            run(kind, args.count, args.rate, sim, str(info), transports)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
