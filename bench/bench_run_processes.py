"""Every camera feature on, a subscriber on every topic, no disk: 1 process vs 2 processes.

Against one simulated Spot (its own process), the bridges run with all camera features on at the
robot's rate (6 cameras at 15 Hz with compressed images, depth, depth registered, point clouds,
the merged cloud) plus proprioception, motor_command and bow_vision, on the standalone route:

- `1 process`: every bridge in one composed process (what `spot-bow-ros run` does);
- `2 processes`: the camera bridge in a worker process of its own, the other bridges in the
  other (`spot-bow-ros run --processes 2`; the same composed executable with `enable_*`).

An external subscriber (this process, standalone DDS) takes every topic the bridges publish.
Printed per layout: each process's CPU (% of one core, /proc), the lowest / median rate over
the camera streams and joint_states, the CPU-ms per camera cycle (every stream once) of the camera
process, the simulator and the subscriber; then every stream's rate per layout and the scaling
1 -> 2 processes. Target: every stream
>= 14 Hz with 2 processes on a 2-core machine. CPU figures hold under load; rates do not (other
work on the machine lowers them: the load average is printed). The simulated Spot serves every image
from the same cores (its CPU is printed; it re-encodes only each frame's code strip): a real robot
renders on the robot.

    python bench/bench_run_processes.py [--duration 20] [--warmup 8] [--layouts 1,2] [--features depth,...]
        [--rate 15] [--state-rate 0]

`--features` and `--rate` measure less than everything (what fits in two cores); the JSON line
at the end holds every figure per layout, including each process's CPU.

Run it in a private network namespace so discovery stays here:
`unshare -n bash -c 'ip link set lo up; ip link set lo multicast on; python bench/bench_run_processes.py'`
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_common import cpu_seconds, pythonpath, start_sim  # noqa: E402  (bench/, the script's folder)

FEATURES = ("depth", "depth_registered", "point_clouds", "merged_cloud")
OTHERS = ["enable_webcam:=false", "enable_image_service:=false"]
STABLE_S = 8.0   # no new topic for this long: all discovered


def _bridges(layout: int, info: Path, features: Sequence[str], rate: float,
             state_rate: float = 0.0) -> list[tuple[str, list[str]]]:
    base = [sys.executable, "-m", "spot_bow_ros.nodes.composed", "--ros-args", "-p", f"sim_info_file:={info}"]
    on = [f"{f}:={'true' if f in features else 'false'}" for f in FEATURES] + [f"rate:={rate:g}"]
    on += [f"publish_rate:={state_rate:g}", f"tf_rate:={state_rate:g}"] if state_rate > 0 else []
    params = [a for p in on + OTHERS for a in ("-p", p)]
    if layout == 1:
        return [("all bridges", base + params)]
    return [("cameras", base + params + ["-p", "enable_proprioception:=false", "-p", "enable_motor_command:=false",
                                         "-p", "enable_bow_vision:=false"]),
            ("other bridges", base + params + ["-p", "enable_spot_cameras:=false"])]


def _self_cpu() -> float:
    return cpu_seconds(os.getpid())


def _measure(layout: int, sim: subprocess.Popen, info: Path, duration: float, warmup: float,
             features: Sequence[str], rate: float, profile: Path | None = None, state_rate: float = 0.0) -> dict:
    from spot_bow_ros.standalone.dds_transport import DdsTransport

    env = dict(os.environ, PYTHONPATH=pythonpath(), SPOT_BOW_ROS_BACKEND="standalone")
    procs = [(name, subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
             for name, cmd in _bridges(layout, info, features, rate, state_rate)]
    transport = DdsTransport()
    counts: dict[str, int] = {}
    received = [0]   # bytes of CDR
    subscribed: set[str] = set()
    own = {"/rosout", "/parameter_events"}

    def count(topic, _type, cdr, *_):
        counts[topic] = counts.get(topic, 0) + 1
        received[0] += len(cdr)

    try:
        # subscribe to every topic as it appears: at least `warmup` s, and until no new topic
        # came for STABLE_S (discovery is slow on a loaded machine), at most 90 s
        began = last_new = time.monotonic()
        while True:
            now = time.monotonic()
            if now - began >= warmup and (now - last_new >= STABLE_S or now - began > 90):
                break
            for topic, topic_info in transport.discovered_topics().items():
                if topic not in subscribed and topic not in own and not topic.startswith("/bow/"):
                    transport.subscribe_raw(topic, topic_info.type_name, count)
                    subscribed.add(topic)
                    last_new = time.monotonic()
            time.sleep(0.5)
        for name, p in procs:
            if p.poll() is not None:
                raise SystemExit(f"{name} exited")
        start_counts, start, bytes0 = dict(counts), time.monotonic(), received[0]
        cpu0 = {name: cpu_seconds(p.pid) for name, p in procs}
        sim0, sub0 = cpu_seconds(sim.pid), _self_cpu()
        spies = [subprocess.Popen(["py-spy", "record", "--pid", str(p.pid), "--duration", str(int(duration)),
                                   "--rate", "100", "--nonblocking", "--format", "speedscope", "--output",
                                   str(profile / f"{layout}-{name.replace(' ', '_')}.speedscope.json")],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                 for name, p in [*procs, ("sim", sim)]] if profile else []
        time.sleep(duration)
        for spy in spies:
            spy.wait(timeout=60)
        elapsed = time.monotonic() - start
        cpu = {name: 100 * (cpu_seconds(p.pid) - cpu0[name]) / elapsed for name, p in procs}
        other = {"sim": 100 * (cpu_seconds(sim.pid) - sim0) / elapsed, "subscriber": 100 * (_self_cpu() - sub0) / elapsed}
        rates = {t: (counts.get(t, 0) - start_counts.get(t, 0)) / elapsed for t in subscribed}
        mb_s = (received[0] - bytes0) / elapsed / 1e6
    finally:
        transport.close()
        for _, p in procs:
            p.send_signal(signal.SIGINT)
        for _, p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
    return {"cpu_pct": cpu, "other_pct": other, "rates": rates, "load": os.getloadavg()[0], "mb_s": mb_s}


def _streams(rates: dict[str, float]) -> dict[str, float]:
    """The camera streams (images, camera_info, clouds) and joint_states."""
    return {t: r for t, r in rates.items() if t.startswith("/spot/") or t == "/joint_states"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=20.0, help="measuring window (s)")
    parser.add_argument("--warmup", type=float, default=8.0, help="seconds before measuring")
    parser.add_argument("--layouts", default="1,2", help="process counts to measure")
    parser.add_argument("--profile", type=Path, default=None, help="directory for py-spy profiles (py-spy on PATH)")
    parser.add_argument("--features", default=",".join(FEATURES),
                        help=f"camera features on, comma-separated (of {', '.join(FEATURES)}; empty: images only)")
    parser.add_argument("--rate", type=float, default=15.0, help="spot_cameras rate (Hz; the robot's: 15)")
    parser.add_argument("--state-rate", type=float, default=0.0,
                        help="proprioception publish_rate and tf_rate (Hz; 0: their defaults, joint_states at every "
                             "robot state sample (~333 Hz) and /tf at 50 Hz)")
    args = parser.parse_args()
    layouts = [int(x) for x in args.layouts.split(",")]
    features = [f for f in args.features.split(",") if f]
    if set(features) - set(FEATURES):
        parser.error(f"--features: unknown {', '.join(sorted(set(features) - set(FEATURES)))}")
    with tempfile.TemporaryDirectory() as tmp:
        sim, info = start_sim(Path(tmp))
        try:
            results = {n: _measure(n, sim, info, args.duration, args.warmup, features, args.rate, args.profile,
                                   args.state_rate) for n in layouts}
        finally:
            sim.send_signal(signal.SIGINT)
            sim.wait(timeout=20)
    state = f"joint_states/tf at {args.state_rate:g} Hz" if args.state_rate > 0 else "joint_states every sample, /tf 50 Hz"
    print(f"camera features: {', '.join(features) or 'images only'} at rate {args.rate:g}, {state}, subscriber on every "
          f"topic, {args.duration:g} s window, {os.cpu_count()} cores")
    summary = {}
    for n, r in results.items():
        streams = _streams(r["rates"])
        values = sorted(streams.values())
        low = min(streams, key=streams.get) if streams else "-"
        cpu = " + ".join(f"{name} {pct:.0f} %" for name, pct in r["cpu_pct"].items())
        median = values[len(values) // 2]
        # CPU per camera cycle (every camera stream once) of the process hosting the cameras, and
        # what 14 Hz would take of a core (the other process's load does not scale with cameras)
        cam = "cameras" if "cameras" in r["cpu_pct"] else "all bridges"
        per_cycle = 10 * r["cpu_pct"][cam] / median  # ms
        print(f"{n} process(es): CPU {cpu} = {sum(r['cpu_pct'].values()):.0f} % (sim {r['other_pct']['sim']:.0f} %, "
              f"subscriber {r['other_pct']['subscriber']:.0f} %); {len(streams)} streams, "
              f"lowest {values[0]:.1f} Hz ({low}), median {median:.1f} Hz, below 14 Hz: "
              f"{sum(v < 14 for v in values)}; load average {r['load']:.1f}")
        sim_cycle = 10 * r["other_pct"]["sim"] / median
        sub_cycle = 10 * r["other_pct"]["subscriber"] / median
        print(f"    CPU-ms per camera cycle: {cam} {per_cycle:.0f} (14 Hz needs {per_cycle * 1.4:.0f} % of a core), "
              f"sim {sim_cycle:.0f} (with its fixed work), subscriber {sub_cycle:.0f}; subscriber received "
              f"{r['mb_s']:.0f} MB/s ({r['mb_s'] / median:.1f} MB per cycle)")
        summary[n] = {"cpu_pct": round(sum(r["cpu_pct"].values()), 1), "camera_ms_per_cycle": round(per_cycle, 1),
                      "cpu_by_process": {k: round(v, 1) for k, v in {**r["cpu_pct"], **r["other_pct"]}.items()},
                      "sub_ms_per_cycle": round(sub_cycle, 1), "mb_per_cycle": round(r["mb_s"] / median, 2),
                      "min_hz": round(values[0], 2), "sim_ms_per_cycle": round(sim_cycle, 1),
                      "load": round(r["load"], 1),
                      "median_hz": round(values[len(values) // 2], 2), "below_14": sum(v < 14 for v in values)}
    print("per stream (Hz): " + " | ".join(f"{n} process(es)" for n in results))
    for topic in sorted(set().union(*(_streams(r["rates"]) for r in results.values()))):
        print(f"    {topic:<48} " + " | ".join(f"{r['rates'].get(topic, 0.0):6.1f}" for r in results.values()))
    if 1 in summary and 2 in summary:
        print(f"scaling 1 -> 2 processes: median rate {summary[2]['median_hz'] / summary[1]['median_hz']:.2f}x, "
              f"CPU {summary[2]['cpu_pct'] / summary[1]['cpu_pct']:.2f}x")
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
