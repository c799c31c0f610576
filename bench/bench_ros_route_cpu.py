"""Whole-package CPU of the ROS 2 (rclpy) route beside the standalone route, at equal rates.

Runs the composed bridges (`python -m spot_bow_ros.nodes.composed`, every bridge, as `ros2 run
spot_bow_ros spot_bow` does) against one simulated Spot (its own process) twice: with the rclpy
backend (RMW_IMPLEMENTATION=rmw_cyclonedds_cpp, CYCLONEDDS_URI set by the node itself as in
`ros2 run`) and with the standalone backend. A standalone DDS subscriber in this process takes
every camera image and joint_states in both runs, so the bridges publish the same topics at the
same rates; the rates received are printed to show it. CPU is the bridge process's user+system
time over the measuring window (after `--warmup` s), in % of one core.

Target (issues 16, 20): rclpy route <= 1.2x the standalone route. On a loaded machine a route
may not keep the robot's rates; the ratio is then also printed at equal rates (each route's CPU
divided by the share of the nominal rates it delivered).

    python bench/bench_ros_route_cpu.py [--duration 20] [--warmup 5]

Needs a sourced ROS 2 (rclpy); elsewhere it prints why it cannot run and exits 0.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_common import cpu_seconds as _ticks  # noqa: E402  (bench/, the script's folder)
from bench_common import start_sim as _start_sim  # noqa: E402

TOPICS = ["/spot/camera/frontleft/image", "/spot/camera/frontright/image", "/spot/camera/left/image",
          "/spot/camera/right/image", "/spot/camera/back/image", "/joint_states"]


def child_env(env: dict | None = None, **extra: str) -> dict:
    """The children's environment: this checkout in front of PYTHONPATH, the sourced ROS 2 paths
    (rclpy, message packages) kept behind it."""
    env = dict(os.environ if env is None else env)
    paths = [str(ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    return dict(env, PYTHONPATH=os.pathsep.join(paths), **extra)


def _profile(pid: int, duration: float, out: Path) -> subprocess.Popen:
    """py-spy (pip install py-spy) sampling `pid` for `duration` s into `out` (speedscope JSON)."""
    return subprocess.Popen(["py-spy", "record", "--pid", str(pid), "--duration", str(int(duration)),
                             "--rate", "200", "--nonblocking", "--threads", "--format", "speedscope",
                             "--output", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _measure(backend: str, info: Path, duration: float, warmup: float, profile: Path | None = None) -> dict:
    from spot_bow_ros.ros.qos import SENSOR_DATA
    from spot_bow_ros.standalone.dds_transport import DdsTransport

    env = child_env(SPOT_BOW_ROS_BACKEND=backend)
    if backend == "rclpy":
        env["RMW_IMPLEMENTATION"] = "rmw_cyclonedds_cpp"
    proc = subprocess.Popen([sys.executable, "-m", "spot_bow_ros.nodes.composed", "--ros-args",
                             "-p", f"sim_info_file:={info}", "-p", "enable_webcam:=false",
                             "-p", "enable_image_service:=false"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    counts = {t: 0 for t in TOPICS}
    transport = DdsTransport()
    readers = []
    try:
        for topic in TOPICS:
            kind = "sensor_msgs/msg/JointState" if topic == "/joint_states" else "sensor_msgs/msg/Image"
            readers.append(transport.subscribe_raw(
                topic, kind, lambda t, *_: counts.__setitem__(t, counts[t] + 1), qos=SENSOR_DATA))
        time.sleep(warmup)
        if proc.poll() is not None:
            raise SystemExit(f"{backend} bridges exited: {proc.stderr.read()[-500:]}")
        spy = _profile(proc.pid, duration, profile / f"{backend}.speedscope.json") if profile else None
        start_counts, start_cpu, start = dict(counts), _ticks(proc.pid), time.monotonic()
        time.sleep(duration)
        if spy is not None:
            spy.wait(timeout=60)
        cpu, elapsed = _ticks(proc.pid) - start_cpu, time.monotonic() - start
        rates = {t: (counts[t] - start_counts[t]) / elapsed for t in TOPICS}
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        transport.close()
    return {"cpu_pct": 100.0 * cpu / elapsed, "rates": rates}


#: nominal rates of the measured topics (Hz): cameras at the robot's 15 Hz, the state stream ~333 Hz
NOMINAL_HZ = {t: (333.0 if t == "/joint_states" else 15.0) for t in TOPICS}


def _delivered(rates: dict[str, float]) -> float:
    """Mean share of the nominal rates a route delivered (1.0: all of them)."""
    return sum(min(1.0, rates[t] / NOMINAL_HZ[t]) for t in TOPICS) / len(TOPICS)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=20.0, help="measuring window (s)")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds before measuring")
    parser.add_argument("--profile", type=Path, default=None,
                        help="directory for py-spy profiles of both runs (needs py-spy on PATH)")
    args = parser.parse_args()
    if importlib.util.find_spec("rclpy") is None:
        print("skipped: rclpy does not import here (source a ROS 2 setup, e.g. /opt/ros/jazzy/setup.bash, "
              "with ros-$ROS_DISTRO-rmw-cyclonedds-cpp installed): the rclpy route cannot be measured")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        sim, info = _start_sim(Path(tmp))
        try:
            results = {b: _measure(b, info, args.duration, args.warmup, args.profile) for b in ("standalone", "rclpy")}
        finally:
            sim.send_signal(signal.SIGINT)
            sim.wait(timeout=20)
    print(f"whole-package CPU, {args.duration:g} s window, {os.cpu_count()} cores")
    print(f"{'topic':36s} {'standalone Hz':>14s} {'rclpy Hz':>10s}")
    for topic in TOPICS:
        print(f"{topic:36s} {results['standalone']['rates'][topic]:14.1f} {results['rclpy']['rates'][topic]:10.1f}")
    s, r = results["standalone"]["cpu_pct"], results["rclpy"]["cpu_pct"]
    # On a loaded machine a route may deliver less than the robot's rates (and do less work):
    # CPU divided by the share of the nominal rates delivered compares equal work.
    fs, fr = (_delivered(results[b]["rates"]) for b in ("standalone", "rclpy"))
    print(f"CPU standalone {s:.1f} %  rclpy {r:.1f} %  ratio {r / s:.2f}x (target <= 1.2x)")
    print(f"at equal rates (CPU / share of nominal rates delivered: {fs:.2f}, {fr:.2f}): standalone {s / fs:.1f} %  "
          f"rclpy {r / fr:.1f} %  ratio {(r / fr) / (s / fs):.2f}x")
    print(json.dumps({"standalone_cpu_pct": round(s, 1), "rclpy_cpu_pct": round(r, 1), "ratio": round(r / s, 3),
                      "ratio_at_equal_rates": round((r / fr) / (s / fs), 3)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
