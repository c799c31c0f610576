"""Standalone DDS transport between TWO processes: publish->receive latency and sustained rate.

    python bench/bench_dds.py [--seconds 4] [--domain N]

For 1280x720 bgr8 and 640x480 mono8 `sensor_msgs/Image`: a subscriber process (StandaloneNode on
DdsTransport, the full path a bridge uses: DDS -> rosbags decode -> node executor -> callback)
and this process publishing (rosbags encode -> DDS). Latency is callback time minus the header
stamp taken just before `publish` (same machine, same clock), at 30 Hz; the sustained rate is
what the subscriber receives while the publisher sends as fast as it can (reliable, keep-last 5).
Prints p50/p90 latency and rates. Target here: p50 <= 5 ms and >= 100 Hz for 1280x720 bgr8.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from spot_bow_ros.ros.node_api import header, stamp_from_ns, stamp_to_ns
from spot_bow_ros.ros.qos import SENSOR_PUBLISHER
from spot_bow_ros.standalone.dds_transport import DdsTransport
from spot_bow_ros.standalone.node import StandaloneNode

CASES = [("1280x720 bgr8", 720, 1280, "bgr8", 3), ("640x480 mono8", 480, 640, "mono8", 1)]


def receiver(domain: int, topic: str, idle_s: float) -> None:
    transport = DdsTransport(domain_id=domain)
    node = StandaloneNode("bench_receiver", transport)
    records: list[tuple[str, int, int]] = []
    last = [time.monotonic()]

    def on_image(msg) -> None:
        now = time.time_ns()
        records.append((msg.header.frame_id, now - stamp_to_ns(msg.header.stamp), now))
        last[0] = time.monotonic()

    node.create_subscription("sensor_msgs/msg/Image", topic, on_image, SENSOR_PUBLISHER)
    print("ready", flush=True)
    while not records or time.monotonic() - last[0] < idle_s:
        time.sleep(0.05)
    node.destroy()
    transport.close()
    print(json.dumps(records), flush=True)


def run_case(domain: int, label: str, height: int, width: int, encoding: str, channels: int,
             seconds: float) -> dict:
    topic = f"/bench/image_{width}x{height}"
    proc = subprocess.Popen([sys.executable, __file__, "--role", "recv", "--domain", str(domain), "--topic", topic],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    transport = DdsTransport(domain_id=domain)
    node = StandaloneNode("bench_sender", transport)
    pub = node.create_publisher("sensor_msgs/msg/Image", topic, SENSOR_PUBLISHER)
    deadline = time.monotonic() + 10
    while pub.get_subscription_count() == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.5)
    pixels = np.random.default_rng(0).integers(0, 256, (height, width, channels), dtype=np.uint8).tobytes()

    def send(phase: str) -> None:
        stamp = stamp_from_ns(time.time_ns())
        pub.publish(node.msg("sensor_msgs/msg/Image", header=header(node, stamp, phase), height=height,
                             width=width, encoding=encoding, step=width * channels, data=pixels))

    # phase 1: 30 Hz, latency
    period, t0, n_lat = 1 / 30, time.monotonic(), 0
    while time.monotonic() - t0 < seconds:
        send("lat")
        n_lat += 1
        time.sleep(max(0.0, t0 + n_lat * period - time.monotonic()))
    time.sleep(0.3)
    # phase 2: as fast as possible
    t0, n_rate = time.monotonic(), 0
    while time.monotonic() - t0 < seconds:
        send("rate")
        n_rate += 1
    send_s = time.monotonic() - t0
    records = json.loads(proc.communicate(timeout=60)[0].strip().splitlines()[-1])
    node.destroy()
    transport.close()

    lat = np.array([d for phase, d, _ in records if phase == "lat"]) / 1e6
    rate_times = np.array([t for phase, _, t in records if phase == "rate"]) / 1e9
    rate_lat = np.array([d for phase, d, _ in records if phase == "rate"]) / 1e6
    recv_rate = (len(rate_times) - 1) / (rate_times[-1] - rate_times[0]) if len(rate_times) > 1 else 0.0
    return {"case": label, "lat_sent": n_lat, "lat_received": len(lat),
            "p50_ms": float(np.percentile(lat, 50)), "p90_ms": float(np.percentile(lat, 90)),
            "max_ms": float(lat.max()), "sent_hz": n_rate / send_s, "received_hz": recv_rate,
            "rate_received": len(rate_times), "rate_sent": n_rate,
            "rate_p50_ms": float(np.percentile(rate_lat, 50)) if len(rate_lat) else float("nan")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--role", default="send")
    parser.add_argument("--domain", type=int, default=int(os.environ.get("ROS_DOMAIN_ID", random.randint(100, 200))))
    parser.add_argument("--topic", default="/bench/image")
    parser.add_argument("--seconds", type=float, default=4.0)
    args = parser.parse_args()
    if args.role == "recv":
        receiver(args.domain, args.topic, idle_s=1.5)
        return
    print(f"standalone DDS, two processes, DDS domain {args.domain}, {os.cpu_count()} CPUs, "
          f"load {os.getloadavg()[0]:.1f}")
    for case in CASES:
        r = run_case(args.domain, *case, seconds=args.seconds)
        print(f"{r['case']:>14}: latency at 30 Hz p50 {r['p50_ms']:.2f} ms  p90 {r['p90_ms']:.2f} ms  "
              f"max {r['max_ms']:.1f} ms  ({r['lat_received']}/{r['lat_sent']} received)")
        print(f"{'':>14}  max sustained rate: received {r['received_hz']:.0f} Hz "
              f"(sent {r['sent_hz']:.0f} Hz, {r['rate_received']}/{r['rate_sent']} received, "
              f"p50 latency under load {r['rate_p50_ms']:.1f} ms)")


if __name__ == "__main__":
    main()
