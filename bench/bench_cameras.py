"""Camera bridge benchmark: prints figures (no assertions).

1. Spot cameras (issue 12 item 5): the 5 fisheye cameras + the hand colour camera at 15 Hz,
   plus the 5 body depth cameras (`depth: true`; `--no-depth` leaves them out), from one bridge
   process for `--duration` s against the simulated Spot (real catalogue, textured images of
   tens of kB) running in its own process (robot clock +100 s). Prints per stream the delivered
   rate (% of rate x duration), latency acquisition -> subscriber (p50/p90), the bridge's worker
   CPU per frame and, for visual streams, its ratio to a tight-loop `cv2.imdecode` of the same
   JPEG; CPU of the bridge and simulator processes and the machine load. Targets: >= 99 %
   delivered on every stream, < 1 core, bridge cost <= 1.25x decode.
2. Webcam: the test pattern at 1280x720, 30 fps for `--webcam-duration` s (image_raw,
   camera_info and compressed subscribed). Target: no drops.

    python bench/bench_cameras.py [--duration 60] [--transport inproc|dds] [--no-depth] [--cameras a,b]
                                  [--load-procs N] [--load-threads N]

`--load-procs N` runs N CPU-bound processes beside the bridge (a loaded machine); `--load-threads N`
runs N pure-Python busy threads inside the bridge process (other bridges holding the GIL, as
in `spot-bow-ros run`). Both stop with the measurement.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bench_common  # bench/, the script's folder

from spot_bow_ros.ros.node_api import stamp_to_ns
from spot_bow_ros.ros.qos import QoS
from spot_bow_ros.standalone.node import InProcessBus, StandaloneNode

FISHEYES = ["frontleft", "frontright", "left", "right", "back"]
CAMERAS = FISHEYES + ["hand"]


def cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def pct(values, q):
    return float(np.percentile(values, q)) if len(values) else float("nan")


def _burn(stop_at: float) -> None:
    x = 0
    while time.monotonic() < stop_at:
        for i in range(1000):
            x += i * i


class Load:
    """CPU load for the measurement: `procs` busy processes, `threads` busy Python threads here."""

    def __init__(self, procs: int, threads: int, seconds: float):
        stop_at = time.monotonic() + seconds
        code = f"import time\nt = time.monotonic() + {seconds}\nx = 0\nwhile time.monotonic() < t:\n    x += 1\n"
        self.procs = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(procs)]
        self.threads = [threading.Thread(target=_burn, args=(stop_at,), daemon=True) for _ in range(threads)]
        for t in self.threads:
            t.start()

    def stop(self) -> None:
        for p in self.procs:
            p.terminate()
            p.wait(timeout=5)
        for t in self.threads:
            t.join(timeout=5)


def make_transport(kind: str):
    if kind == "dds":
        from spot_bow_ros.standalone.dds_transport import DdsTransport
        return DdsTransport()
    return InProcessBus()


def start_sim(workdir: Path, camera_rate: float = 15.0, extra: tuple[str, ...] = ()) -> tuple[subprocess.Popen, Path]:
    """`spot-bow-ros sim` in its own process (robot clock +100 s, `extra` arguments); returns it
    and its info file once written."""
    return bench_common.start_sim(workdir, ["--clock-offset", "100", "--log-level", "warning",
                                             "--camera-rate", str(camera_rate), *extra],
                                  info_name="sim_info.json", quiet=False)


def decode_reference(info_file: Path, cameras: list[str], rate: float
                     ) -> tuple[dict[str, tuple[float, int, float]], float]:
    """Per visual source: (median CPU time of one cv2.imdecode of its JPEG from the simulator in a
    tight loop, JPEG bytes, median CPU time of one cv2.imdecode of the same JPEG at the bridge's
    pace: every source once per 1/rate s, one thread, nothing else running); and the median
    time of one GetImage for all those sources."""
    from bosdyn.client.image import ImageClient, build_image_request

    from spot_bow_ros.spot.cameras import CAMERA_SOURCES
    from spot_bow_ros.spot.connection import SpotConnection
    from spot_bow_ros.spot.connection_config import ConnectionConfig
    conn = SpotConnection(ConnectionConfig.from_sim_info(str(info_file)))
    conn.connect()
    try:
        client = conn.ensure_client(ImageClient.default_service_name)
        reqs = [build_image_request(CAMERA_SOURCES[c][0], quality_percent=75) for c in cameras]
        rpc = []
        for _ in range(30):
            t0 = time.perf_counter()
            responses = client.get_image(reqs)
            rpc.append(time.perf_counter() - t0)
        out = {}
        jpegs = {}
        for resp in responses:
            jpeg = np.frombuffer(resp.shot.image.data, np.uint8)
            grey = resp.shot.image.pixel_format == resp.shot.image.PIXEL_FORMAT_GREYSCALE_U8
            flags = cv2.IMREAD_GRAYSCALE if grey else cv2.IMREAD_UNCHANGED
            jpegs[resp.source.name] = (jpeg, flags)
            times = []
            for _ in range(10):  # CPU time (thread_time) per decode, median of 10 runs of 20
                t0 = time.thread_time()
                for _ in range(20):
                    cv2.imdecode(jpeg, flags)
                times.append((time.thread_time() - t0) / 20)
            out[resp.source.name] = (float(np.median(times)), len(jpeg))
        paced: dict[str, list[float]] = {k: [] for k in jpegs}
        for _ in range(int(3 * rate)):   # 3 s at the bridge's pace
            for name, (jpeg, flags) in jpegs.items():
                t0 = time.thread_time()
                cv2.imdecode(jpeg, flags)
                paced[name].append(time.thread_time() - t0)
            time.sleep(1.0 / rate)
        out = {k: (*v, float(np.median(paced[k]))) for k, v in out.items()}
        return out, float(np.median(rpc))
    finally:
        conn.shutdown()


def proc_cpu_s(pid: int) -> float:
    """utime + stime of process `pid` (Linux /proc), seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_spot(info_file: Path, duration: float, rate: float, transport_kind: str, compressed: bool,
               load_procs: int = 0, load_threads: int = 0, cameras: list[str] | None = None,
               depth: bool = True, sim_pid: int | None = None, decode_threads: int = 0) -> None:
    from spot_bow_ros.nodes.spot_cameras import SpotCamerasBridge
    from spot_bow_ros.nodes.spot_cameras import decode_threads as decode_threads_for
    from spot_bow_ros.spot.cameras import CAMERA_SOURCES
    cameras = cameras or CAMERAS
    depth_cams = [c for c in cameras if c in FISHEYES] if depth else []
    reference, rpc_s = decode_reference(info_file, cameras, rate)
    transport = make_transport(transport_kind)
    tester = StandaloneNode("bench_listener", transport)
    streams = [("camera", c) for c in cameras] + [("depth", c) for c in depth_cams]
    received = {k: [] for k in streams}   # (receive ns, stamp ns)
    lock = threading.Lock()

    def listener(key):
        def cb(msg):
            now = time.time_ns()
            with lock:
                received[key].append((now, stamp_to_ns(msg.header.stamp)))
        return cb

    qos = QoS(depth=50)
    for kind, cam in streams:
        tester.create_subscription("sensor_msgs/msg/Image", f"/spot/{kind}/{cam}/image", listener((kind, cam)), qos)
        tester.create_subscription("sensor_msgs/msg/CameraInfo", f"/spot/{kind}/{cam}/camera_info",
                                   lambda m: None, qos)
        if compressed and kind == "camera":
            tester.create_subscription("sensor_msgs/msg/CompressedImage", f"/spot/camera/{cam}/image/compressed",
                                       lambda m: None, qos)
    node = StandaloneNode("spot_cameras", transport, parameter_overrides={
        "sim_info_file": str(info_file), "cameras": cameras, "rate": rate, "depth": bool(depth_cams),
        "decode_threads": decode_threads})
    bridge = SpotCamerasBridge(node)
    # warm up: until every stream delivered once
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not all(received[k] for k in streams):
        time.sleep(0.05)
    time.sleep(0.5)
    with lock:
        for k in streams:
            received[k].clear()
    st = bridge.fetcher.stats
    with bridge.fetcher._lock:
        by_source0 = {k: list(v) for k, v in st.by_source.items()}
    stats0 = (st.delivered, st.rpc_s, st.calls)
    sched = getattr(bridge, "schedule", None)
    sched0 = (sched.duplicates, sched.skipped, bridge.cycles) if sched else (0, 0, 0)
    stale0 = sum(o.stale for o in bridge.outputs.values())
    load = Load(load_procs, load_threads, duration) if (load_procs or load_threads) else None
    sim0 = proc_cpu_s(sim_pid) if sim_pid else None
    c0, t0 = cpu_s(), time.monotonic()
    time.sleep(duration)
    c1, t1 = cpu_s(), time.monotonic()
    sim1 = proc_cpu_s(sim_pid) if sim_pid else None
    with lock:
        got = {k: list(v) for k, v in received.items()}
    if load:
        load.stop()
    with bridge.fetcher._lock:
        by_source = {k: [a - b for a, b in zip(v, by_source0.get(k, [0, 0.0, 0.0]))]
                     for k, v in st.by_source.items()}
    sched1 = (sched.duplicates, sched.skipped, bridge.cycles) if sched else (0, 0, 0)
    stale = sum(o.stale for o in bridge.outputs.values()) - stale0
    calls = st.calls - stats0[2]
    rpc_mean = (st.rpc_s - stats0[1]) / max(1, calls)
    node.destroy()
    tester.destroy()
    transport.close()
    wall = t1 - t0
    cpu = c1 - c0
    total = sum(len(v) for v in got.values())
    print(f"\n== Spot cameras: {', '.join(cameras)} at {rate:g} Hz"
          f"{' + depth of ' + ', '.join(depth_cams) if depth_cams else ''} for {wall:.1f} s "
          f"(transport {transport_kind}, compressed {'on' if compressed else 'off'}, load: {load_procs} processes, "
          f"{load_threads} GIL threads, {decode_threads_for(decode_threads)} decode threads) ==")
    print(f"machine load (uptime): {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} "
          f"on {os.cpu_count()} cores")
    print(f"{'stream':<17} {'frames':>7} {'rate Hz':>8} {'delivered':>10} {'lat p50 ms':>11} {'lat p90 ms':>11} "
          f"{'bridge ms':>10} {'decode ms':>10} {'ratio':>6} {'paced dec ms':>13} {'ratio':>6} "
          f"{'in-bridge dec ms':>17}")
    worst = 100.0
    worst_ratio = worst_paced = 0.0
    for kind, cam in streams:
        v = got[(kind, cam)]
        lat = [(r - s) / 1e6 for r, s in v]
        delivered = 100.0 * len(v) / (rate * wall)
        worst = min(worst, delivered)
        source = CAMERA_SOURCES[cam][0 if kind == "camera" else 1]
        n, work, dec_in = by_source.get(source, [0, 0.0, 0.0])
        per = work / max(1, n)
        ref, _size, ref_paced = reference.get(source, (0.0, 0, 0.0)) if kind == "camera" else (0.0, 0, 0.0)
        ratio = f"{per / ref:>6.2f}" if ref else f"{'-':>6}"
        ratio_paced = f"{per / ref_paced:>6.2f}" if ref_paced else f"{'-':>6}"
        if ref:
            worst_ratio = max(worst_ratio, per / ref)
            worst_paced = max(worst_paced, per / ref_paced)
        print(f"{kind + '/' + cam:<17} {len(v):>7} {len(v) / wall:>8.2f} {delivered:>9.1f}% {pct(lat, 50):>11.2f} "
              f"{pct(lat, 90):>11.2f} {1e3 * per:>10.3f} {1e3 * ref:>10.3f} {ratio} {1e3 * ref_paced:>13.3f} "
              f"{ratio_paced} {1e3 * dec_in / max(1, n):>17.3f}")
    print(f"worst stream delivered: {worst:.1f} % (target >= 99 %)")
    print(f"fetch cycles {sched1[2] - sched0[2]}, frames fetched twice (not decoded) {sched1[0] - sched0[0]}, "
          f"cycles skipped {sched1[1] - sched0[1]}, stale images dropped {stale}")
    print(f"bridge process CPU: {cpu:.2f} s in {wall:.1f} s = {cpu / wall:.2f} cores (target < 1)"
          + (f"; simulator process: {(sim1 - sim0) / wall:.2f} cores" if sim_pid else ""))
    print(f"GetImage calls: {calls} ({calls / wall:.2f}/s), mean RPC {1e3 * rpc_mean:.2f} ms "
          f"(idle reference {1e3 * rpc_s:.2f} ms for the {len(cameras)} visual sources)")
    print("JPEG sizes (quality 75): " + ", ".join(f"{k} {v[1]} B" for k, v in reference.items()))
    print(f"bridge cost per visual frame (worker CPU: response -> decoded Image + CameraInfo published) / "
          f"cv2.imdecode of the same JPEG: worst {worst_paced:.2f}x decoded at the bridge's pace, "
          f"{worst_ratio:.2f}x decoded in a tight loop (target <= 1.25x)")
    print(f"whole process CPU per frame (adds gRPC/TLS, protobuf, time sync, scheduling, subscribers): "
          f"{1e3 * cpu / max(1, total):.3f} ms")


def bench_webcam(duration: float, transport_kind: str) -> None:
    from spot_bow_ros.nodes.webcam import WebcamBridge
    transport = make_transport(transport_kind)
    tester = StandaloneNode("bench_listener", transport)
    stamps: list[int] = []
    recv: list[int] = []
    compressed = [0]
    qos = QoS(depth=50)

    def on_image(msg):
        recv.append(time.time_ns())
        stamps.append(stamp_to_ns(msg.header.stamp))

    tester.create_subscription("sensor_msgs/msg/Image", "/webcam/image_raw", on_image, qos)
    tester.create_subscription("sensor_msgs/msg/CameraInfo", "/webcam/camera_info", lambda m: None, qos)
    tester.create_subscription("sensor_msgs/msg/CompressedImage", "/webcam/image_raw/compressed",
                               lambda m: compressed.__setitem__(0, compressed[0] + 1), qos)
    node = StandaloneNode("webcam", transport, parameter_overrides={
        "device": "test_pattern", "width": 1280, "height": 720, "fps": 30.0})
    c0, t0 = cpu_s(), time.monotonic()
    bridge = WebcamBridge(node)
    time.sleep(duration)
    c1, t1 = cpu_s(), time.monotonic()
    node.destroy()
    tester.destroy()
    transport.close()
    wall = t1 - t0
    lat = [(r - s) / 1e6 for r, s in zip(recv, stamps)]
    print(f"\n== Webcam test pattern 1280x720 @ 30 fps for {wall:.1f} s (transport {transport_kind}) ==")
    print(f"captured {bridge.frames_captured}, published {bridge.frames_published}, received {len(stamps)} "
          f"({len(stamps) / wall:.2f} Hz), compressed {compressed[0]}, dropped {bridge.dropped} (target 0): "
          f"{bridge.source.dropped} late reads of the source, {bridge.frames_dropped} overwritten before publishing")
    print(f"latency capture -> subscriber: p50 {pct(lat, 50):.2f} ms, p90 {pct(lat, 90):.2f} ms")
    print(f"process CPU: {(c1 - c0) / wall:.2f} cores")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=float, default=60.0, help="seconds of Spot camera measurement")
    ap.add_argument("--webcam-duration", type=float, default=None, help="seconds of webcam (default: min(duration, 20))")
    ap.add_argument("--rate", type=float, default=15.0)
    ap.add_argument("--transport", choices=["inproc", "dds"], default="inproc")
    ap.add_argument("--compressed", action="store_true", help="also subscribe to the compressed topics")
    ap.add_argument("--skip-webcam", action="store_true")
    ap.add_argument("--load-procs", type=int, default=0, help="CPU-bound processes beside the bridge")
    ap.add_argument("--load-threads", type=int, default=0, help="busy Python threads in the bridge process")
    ap.add_argument("--skip-spot", action="store_true")
    ap.add_argument("--sim-camera-rate", type=float, default=15.0,
                    help="the simulator's camera frame rate (default 15, as a real Spot's body cameras)")
    ap.add_argument("--decode-threads", type=int, default=0,
                    help="the bridge's decode_threads (default 0: the node's choice from the cores)")
    ap.add_argument("--cameras", default=",".join(CAMERAS), help="visual cameras (default: 5 fisheyes + hand)")
    ap.add_argument("--depth", action=argparse.BooleanOptionalAction, default=True,
                    help="also the depth of the body cameras among --cameras (default: on)")
    args = ap.parse_args()
    if not args.skip_spot:
        with tempfile.TemporaryDirectory() as tmp:
            proc, info = start_sim(Path(tmp), args.sim_camera_rate)
            try:
                bench_spot(info, args.duration, args.rate, args.transport, args.compressed,
                           args.load_procs, args.load_threads, cameras=args.cameras.split(","),
                           depth=args.depth, sim_pid=proc.pid, decode_threads=args.decode_threads)
            finally:
                proc.terminate()
                proc.wait(timeout=10)
    if not args.skip_webcam:
        bench_webcam(args.webcam_duration or min(args.duration, 20.0), args.transport)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
