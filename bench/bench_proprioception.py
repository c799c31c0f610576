#!/usr/bin/env python3
"""Proprioception bridge figures (printed, not asserted).

1. Conversion throughput: BOW ProprioceptionSample (19 joints + 1 IMU) -> sensor_msgs/JointState
   + sensor_msgs/Imu per second, with the standalone runtime's typestore factory (direct message
   construction) and with a generic factory (what an rclpy node's `msg` costs in this code path),
   and including parsing the binary BOW sample. Target >= 10,000/s.
2. End-to-end latency: robot acquisition (simulator truth, local clock) -> `joint_states` receipt
   by another node, for the streaming and polling robot-state paths, over the in-process bus and
   (with --dds) Cyclone DDS between two participants. Target p50 <= 10 ms.
3. (with --cpu) CPU of the bridge process (over DDS) and of a `spot-bow-ros sim` process, per
   state source: the stream runs at 333 Hz like a real Spot's, polling at 50 Hz; the bridge's
   default rates (every sample on joint_states, /tf at `tf_rate` 50 Hz).

Usage: python bench/bench_proprioception.py [--seconds 5] [--dds] [--cpu]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from spot_bow_ros.bow import bow_data_pb2 as bow
from spot_bow_ros.convert.imu import bow_imu_from_spot_packet, imu_msg_from_bow
from spot_bow_ros.convert.joints import joint_state_from_proprioception, proprioception_from_spot_joints
from spot_bow_ros.convert.spot_catalogue import SPOT_ARM_JOINTS, SPOT_LEG_JOINTS
from spot_bow_ros.standalone.message_store import messages_for


def pct(values, q):
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


def conversion(seconds: float) -> None:
    make = messages_for("humble")

    def generic(type_name, **fields):
        return make.make(type_name, **fields)

    names = SPOT_LEG_JOINTS + SPOT_ARM_JOINTS
    sample = proprioception_from_spot_joints(names, np.linspace(-1, 1, 19), np.linspace(0, 2, 19),
                                             np.linspace(-30, 30, 19))
    sample.Imu.append(bow_imu_from_spot_packet((0.1, 0.2, 9.8), (0.01, 0.02, 0.3), (0, 0, 0.1, 0.995)))
    data = sample.SerializeToString()

    def one(factory, parse):
        s = bow.ProprioceptionSample.FromString(data) if parse else sample
        joint_state_from_proprioception(factory, s, (1, 2))
        imu_msg_from_bow(factory, s.Imu[0], (1, 2), "body")

    print("conversion: ProprioceptionSample (19 joints, 1 IMU) -> JointState + Imu")
    for label, factory, parse in (("typestore factory", make, False), ("typestore factory + binary parse", make, True),
                                  ("generic factory (rclpy-like path)", generic, False)):
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds / 3:
            for _ in range(200):
                one(factory, parse)
            n += 200
        rate = n / (time.perf_counter() - t0)
        print(f"  {label:38s} {rate:10,.0f} samples/s  ({1e6 / rate:.1f} us each)")


def walk(sim) -> None:
    """Power the simulated Spot on and let it trot for a minute (simulator internals)."""
    from bosdyn.api import power_pb2

    sim.robot.power.command(power_pb2.PowerCommandRequest.REQUEST_ON_MOTORS)
    deadline = time.monotonic() + 5
    while not sim.robot.power.is_on() and time.monotonic() < deadline:
        time.sleep(0.05)
    with sim.robot.lock:
        sim.robot.physics.set_velocity(0.5, 0.0, 0.3, time.time_ns() + 60_000_000_000)
    while not sim.robot.latest().walking and time.monotonic() < deadline + 5:
        time.sleep(0.05)


def latency(seconds: float, transport_kind: str) -> None:
    from spot_bow_ros.nodes.proprioception import ProprioceptionBridge
    from spot_bow_ros.ros.qos import DEFAULT
    from spot_bow_ros.sim import SimulatedSpot
    from spot_bow_ros.standalone.node import InProcessBus, StandaloneNode

    # powers the motors on directly (not through an E-Stop endpoint): a no-E-Stop robot
    with SimulatedSpot(clock_offset_s=100.0, estop_required=False) as sim, tempfile.TemporaryDirectory() as tmp:
        info = str(sim.write_info(Path(tmp) / "info.json"))
        walk(sim)  # joint positions then differ in every physics step: receipts match one snapshot
        for mode in ("streaming", "polling"):
            if transport_kind == "dds":
                from spot_bow_ros.standalone.dds_transport import DdsTransport
                tx, rx = DdsTransport(), DdsTransport()
            else:
                tx = rx = InProcessBus()
            got: list[tuple[int, np.ndarray]] = []
            lock = threading.Lock()

            def cb(msg):
                now = time.time_ns()
                with lock:
                    got.append((now, np.array(msg.position)))

            listener = StandaloneNode("bench_listener", rx)
            listener.create_subscription("sensor_msgs/msg/JointState", "/joint_states", cb, DEFAULT)
            node = StandaloneNode("proprioception", tx, parameter_overrides={
                "sim_info_file": info, "state_source": mode, "camera_frames": False})
            bridge = ProprioceptionBridge(node)
            time.sleep(1.5)  # connect, discovery
            with lock:
                got.clear()
            time.sleep(seconds)
            active = bridge.source.active_mode
            node.destroy()
            listener.destroy()
            if transport_kind == "dds":
                tx.close()
                rx.close()
            with lock:
                received = list(got)
            hist = sim.robot.history()
            keys = {}
            for s in hist:
                keys[np.asarray(s.joint_position, dtype=np.float32).tobytes()] = s.local_ns
            lat = []
            for t, pos in received:
                acq = keys.get(pos.astype(np.float32).tobytes())
                if acq is not None:
                    lat.append((t - acq) / 1e6)
            rate = len(received) / seconds
            print(f"latency {mode:9s} over {transport_kind:6s}: {len(received)} joint_states ({rate:.0f} Hz), "
                  f"{len(lat)} matched to truth; acquisition -> receipt p50 {pct(lat, 50):.2f} ms, "
                  f"p90 {pct(lat, 90):.2f} ms, max {max(lat) if lat else float('nan'):.2f} ms "
                  f"[{active}]")


def _proc_cpu_s(pid: int) -> float:
    import os
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (float(fields[11]) + float(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu(seconds: float) -> None:
    """Bridge and simulator CPU (fraction of one core) per state source, sim in its own process."""
    import os
    import subprocess

    from spot_bow_ros.nodes.proprioception import ProprioceptionBridge
    from spot_bow_ros.standalone.dds_transport import DdsTransport
    from spot_bow_ros.standalone.node import StandaloneNode

    for mode in ("streaming", "polling"):
        with tempfile.TemporaryDirectory() as tmp:
            info = Path(tmp) / "sim.json"
            sim = subprocess.Popen([sys.executable, "-m", "spot_bow_ros.sim", "--info-file", str(info),
                                    "--log-level", "warning"])
            try:
                while not info.exists():
                    time.sleep(0.05)
                transport = DdsTransport(domain_id=int(os.environ.get("ROS_DOMAIN_ID", "0")))
                node = StandaloneNode("proprioception", transport, parameter_overrides=dict(
                    sim_info_file=str(info), state_source=mode, camera_frames=False))
                bridge = ProprioceptionBridge(node)
                time.sleep(2.0)
                c0, s0, w0, n0 = time.process_time(), _proc_cpu_s(sim.pid), time.monotonic(), bridge.source.samples
                time.sleep(seconds)
                c1, s1, w1, n1 = time.process_time(), _proc_cpu_s(sim.pid), time.monotonic(), bridge.source.samples
                dt = w1 - w0
                print(f"cpu {mode:9s}: {(n1 - n0) / dt:5.0f} samples/s published (joint_states, imu, odometry, "
                      f"bow; /tf {_tf_rate_text(bridge.params['tf_rate'])}); bridge process {100 * (c1 - c0) / dt:4.0f}% of a core, "
                      f"sim process {100 * (s1 - s0) / dt:4.0f}% of a core")
                node.destroy()
                transport.close()
            finally:
                sim.terminate()
                sim.wait()


def _tf_rate_text(tf_rate: float) -> str:
    """The bridge's `tf_rate` (Hz) as the CPU line says it."""
    return f"at most {tf_rate:g} per s" if tf_rate > 0 else "with every sample"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--dds", action="store_true", help="also measure over Cyclone DDS")
    parser.add_argument("--cpu", action="store_true", help="also measure bridge and simulator CPU")
    args = parser.parse_args()
    conversion(args.seconds)
    latency(args.seconds, "inproc")
    if args.dds:
        latency(args.seconds, "dds")
    if args.cpu:
        cpu(args.seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
