"""CPU per MB of `spot-bow-ros record` beside `ros2 bag record`, recording the same stream at once.

One publisher process (standalone DDS, pre-serialized messages, so its own cost stays small)
sends the robot's topic set: 6 cameras as raw Image (5 x 640x480 mono8 fisheye, the hand
640x480 rgb8) and CompressedImage (~40 kB) at 15 Hz each, joint_states and imu at 333 Hz and
/tf at ~600 Hz (15 topics, ~40 MB/s). Both recorders (`-a`, MCAP, no compression) run at the
same time on the same stream: the publisher starts when both are matched on every topic, sends
for `--duration` s, and the recorders are stopped (SIGINT) when both have seen every message.

Printed per recorder: CPU seconds over the publishing window (user + system, /proc), bag size,
CPU ms per MB, peak resident memory (VmHWM), messages per topic; then the ratio (target <= 1.2x).
Counts are checked against what was published (reliable QoS: every message is expected).

    python bench/bench_recorder.py [--duration 15] [--keep DIR]

`ros2 bag record` needs a sourced ROS 2; without it only `spot-bow-ros record` is measured.
Run it in a private network namespace so discovery stays here:
`unshare -n bash -c 'ip link set lo up; ip link set lo multicast on; python bench/bench_recorder.py'`
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_common import cpu_seconds, pythonpath  # noqa: E402  (bench/, the script's folder)

CAMERAS = ["frontleft", "frontright", "left", "right", "back", "hand"]
CAMERA_HZ = 15.0
STATE_HZ = 333.0
TF_PER_STATE = 2      # /tf: world frames + link transforms per robot sample (~600 Hz)


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# -- publisher (a subprocess: `--publish`) --------------------------------------------------------
def _messages(make):
    """(topic, type, cdr bytes) of the stream, built once."""
    import numpy as np

    from spot_bow_ros.standalone.cdr_encoder import CdrEncoder

    rng = np.random.default_rng(1)
    out = []

    def add(topic, type_name, msg):
        out.append((topic, type_name, CdrEncoder(make, type_name).encode(msg)))

    header = make("std_msgs/msg/Header", frame_id="body")
    for cam in CAMERAS:
        shape, encoding = ((480, 640, 3), "rgb8") if cam == "hand" else ((480, 640), "mono8")
        pixels = rng.integers(0, 256, shape, dtype=np.uint8)
        add(f"/spot/camera/{cam}/image", "sensor_msgs/msg/Image", make(
            "sensor_msgs/msg/Image", header=header, height=480, width=640, encoding=encoding,
            step=640 * (3 if cam == "hand" else 1), data=pixels.reshape(-1)))
        add(f"/spot/camera/{cam}/image/compressed", "sensor_msgs/msg/CompressedImage", make(
            "sensor_msgs/msg/CompressedImage", header=header, format="jpeg",
            data=rng.integers(0, 256, 40_000, dtype=np.uint8)))
    names = [f"joint_{i}" for i in range(19)]
    add("/joint_states", "sensor_msgs/msg/JointState", make(
        "sensor_msgs/msg/JointState", header=header, name=names, position=np.linspace(0, 1, 19),
        velocity=np.zeros(19), effort=np.ones(19)))
    add("/imu", "sensor_msgs/msg/Imu", make("sensor_msgs/msg/Imu", header=header))
    transforms = [make("geometry_msgs/msg/TransformStamped", header=header, child_frame_id=f"link_{i}")
                  for i in range(10)]
    add("/tf", "tf2_msgs/msg/TFMessage", make("tf2_msgs/msg/TFMessage", transforms=transforms))
    return out


def publish(duration: float, subscribers: int) -> None:
    """Wait until `subscribers` readers match every topic, send the stream for `duration` s,
    print the counts sent (JSON) and linger until killed (the recorders drain)."""
    from spot_bow_ros.ros.qos import QoS
    from spot_bow_ros.standalone.dds_transport import DdsTransport

    transport = DdsTransport()
    streams = _messages(transport.messages)
    writers = {topic: transport.create_writer(None, topic, type_name, QoS(depth=100 if topic == "/tf" else 5))
               for topic, type_name, _ in streams}
    deadline = time.monotonic() + 60
    while not all(w.matched_count() >= subscribers for w in writers.values()):
        if time.monotonic() > deadline:
            raise SystemExit("recorders did not subscribe to every topic within 60 s")
        time.sleep(0.1)
    time.sleep(1.0)
    sent = {topic: 0 for topic in writers}
    print(json.dumps({"start": True}), flush=True)
    start = time.monotonic()
    tick, state_period = 0, 1.0 / STATE_HZ
    camera_every = round(STATE_HZ / CAMERA_HZ)
    while True:
        due = start + tick * state_period
        now = time.monotonic()
        if due > start + duration:
            break
        if due > now:
            time.sleep(due - now)
        for topic, _, cdr in streams:
            if "/camera/" in topic:
                if tick % camera_every:
                    continue
                repeat = 1
            else:
                repeat = TF_PER_STATE if topic == "/tf" else 1
            for _ in range(repeat):
                writers[topic].write_cdr(cdr)
                sent[topic] += 1
        tick += 1
    sizes = {topic: len(cdr) for topic, _, cdr in streams}
    print(json.dumps({"sent": sent, "bytes": sum(sent[t] * sizes[t] for t in sent)}), flush=True)
    while True:
        time.sleep(1)


# -- recorders ------------------------------------------------------------------------------------
def _recorders(tmp: Path) -> dict[str, list[str]]:
    found = {"spot-bow-ros record": [sys.executable, "-m", "spot_bow_ros.cli", "record", "-a", "-s", "mcap",
                                     "-o", str(tmp / "spot_bow_ros_bag")]}
    if shutil.which("ros2"):
        found["ros2 bag record"] = ["ros2", "bag", "record", "-a", "-s", "mcap", "-o", str(tmp / "ros2_bag")]
    return found


def _bag_counts(path: Path) -> dict[str, int]:
    """Messages per topic, read back from the bag by rosbags (independent of both writers)."""
    from rosbags.rosbag2 import Reader

    with Reader(path) as reader:
        return {c.topic: c.msgcount for c in reader.connections}


def _bag_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=15.0, help="publishing window (s)")
    parser.add_argument("--keep", type=Path, default=None, help="keep the bags in this directory")
    parser.add_argument("--publish", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--subscribers", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.publish:
        publish(args.duration, args.subscribers)
        return 0
    tmp = Path(tempfile.mkdtemp(prefix="bench_recorder_", dir=args.keep))
    env = dict(os.environ, PYTHONPATH=pythonpath())
    procs = {name: subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                    start_new_session=True)
             for name, cmd in _recorders(tmp).items()}
    pub = subprocess.Popen([sys.executable, __file__, "--publish", "--duration", str(args.duration),
                            "--subscribers", str(len(procs))], env=env, stdout=subprocess.PIPE, text=True)
    results: dict[str, dict] = {}
    try:
        assert json.loads(pub.stdout.readline()).get("start"), "publisher failed"
        cpu0 = {name: cpu_seconds(p.pid) for name, p in procs.items()}
        report = json.loads(pub.stdout.readline())
        time.sleep(3.0)  # the recorders drain their queues
        for name, p in procs.items():
            results[name] = {"cpu_s": cpu_seconds(p.pid) - cpu0[name], "peak_rss_mb": _peak_rss_mb(p.pid)}
    finally:
        pub.kill()
        for p in procs.values():
            p.send_signal(signal.SIGINT)
        for p in procs.values():
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()
    sent = report["sent"]
    print(f"published {sum(sent.values())} messages, {report['bytes'] / 1e6:.0f} MB in {args.duration:g} s "
          f"on {len(sent)} topics; {os.cpu_count()} cores")
    for name, bag in zip(procs, sorted(tmp.iterdir(), key=lambda p: p.name != "spot_bow_ros_bag")):
        counts = _bag_counts(bag)
        r = results[name]
        r["mb"] = _bag_mb(bag)
        r["cpu_ms_per_mb"] = 1000 * r["cpu_s"] / r["mb"]
        missing = {t: sent[t] - counts.get(t, 0) for t in sent if counts.get(t, 0) != sent[t]}
        r["missing"] = missing
        print(f"{name:20s} CPU {r['cpu_s']:6.2f} s  bag {r['mb']:7.1f} MB  {r['cpu_ms_per_mb']:5.2f} CPU-ms/MB  "
              f"peak RSS {r['peak_rss_mb']:6.1f} MB  counts {'all ' + str(sum(sent.values())) if not missing else missing}")
    if len(results) == 2:
        ours, theirs = results["spot-bow-ros record"], results["ros2 bag record"]
        ratio = ours["cpu_ms_per_mb"] / theirs["cpu_ms_per_mb"]
        print(f"CPU per MB: spot-bow-ros record / ros2 bag record = {ratio:.2f}x (target <= 1.2x); "
              f"peak RSS {ours['peak_rss_mb']:.0f} / {theirs['peak_rss_mb']:.0f} MB")
        print(json.dumps({"ratio": round(ratio, 3), **{k: {kk: (round(vv, 2) if isinstance(vv, float) else vv)
                                                           for kk, vv in v.items()} for k, v in results.items()}}))
    if args.keep is None:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
