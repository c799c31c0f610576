"""Point cloud benchmark: prints figures (no assertions).

1. Per frame (one thread, CPU time): the 5 body depth cameras' 424x240 16UC1 images (the
   simulator's depth scenes: a plane with a no-return patch) turned into
   `spot/depth/<name>/points` messages by the bridge's path (`convert.pointcloud`: deprojection
   + PointCloud2 construction), unorganized (valid points) and organized (NaN), compared with
   the numpy floor: the same deprojection as ONE vectorized expression on precomputed pixel
   grids, `np.stack(((U - cx) * z / fx, (V - cy) * z / fy, z), -1)` with `z = d * 0.001`
   (no invalid handling, no message). Target: <= 1.5x the floor. Also the CDR encoding of the
   message (what DDS publishing adds).
2. End to end: the spot_cameras bridge against the simulated Spot (own process) fetching the 5
   body depth cameras at `--rate` Hz for `--duration` s, once with only the depth images
   subscribed and once with the point clouds subscribed too (`point_clouds: true`). Prints
   the delivered rate per camera and the bridge process' CPU; the difference is what the
   clouds add. Targets: every depth camera at the robot's rate, < 0.5 core added.

    python bench/bench_pointcloud.py [--duration 20] [--rate 15] [--transport inproc|dds] [--organized]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_cameras import start_sim

from spot_bow_ros.convert import pointcloud as pc
from spot_bow_ros.convert.spot_catalogue import BODY_CAMERAS
from spot_bow_ros.ros.qos import QoS
from spot_bow_ros.sim.camera_catalogue import catalogue
from spot_bow_ros.sim.camera_scene import render_frame
from spot_bow_ros.standalone.message_store import messages_for
from spot_bow_ros.standalone.node import InProcessBus, StandaloneNode

REPEATS = 60


def cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def per_call(fn, repeats: int = REPEATS) -> float:
    """Median thread CPU seconds of fn() (median of 5 blocks)."""
    fn()
    blocks = []
    for _ in range(5):
        t0 = time.thread_time()
        for _ in range(repeats):
            fn()
        blocks.append((time.thread_time() - t0) / repeats)
    return float(np.median(blocks))


def bench_frames(organized_too: bool = True) -> None:
    make = messages_for("humble")
    specs = [s for s in catalogue(arm=False) if s.name in {f"{c}_depth" for c in BODY_CAMERAS}]
    frames = []
    for spec in specs:
        units = render_frame(spec, 12345)
        depth = np.rint(units.astype(np.float32) * (1000.0 / spec.depth_scale)).astype(np.uint16)  # 16UC1 mm
        intr = pc.Intrinsics(spec.fx, spec.fy, spec.cx, spec.cy)
        frames.append((spec, depth, intr, pc.Deprojector(intr, spec.cols, spec.rows)))
    floor_t = unorg_t = org_t = ser_t = 0.0
    points = 0
    for spec, depth, intr, deproj in frames:
        v, u = np.mgrid[0:spec.rows, 0:spec.cols].astype(np.float32)
        fx, fy, cx, cy = (np.float32(a) for a in (intr.fx, intr.fy, intr.cx, intr.cy))
        floor_t += per_call(lambda: np.stack(((u - cx) * (z := depth * np.float32(0.001)) / fx,
                                              (v - cy) * z / fy, z), -1))
        unorg_t += per_call(lambda: pc.point_cloud_msg(make, pc.cloud_points(depth, deproj, False), (1, 0),
                                                       spec.frame))
        if organized_too:
            org_t += per_call(lambda: pc.point_cloud_msg(make, pc.cloud_points(depth, deproj, True), (1, 0),
                                                         spec.frame))
        msg = pc.point_cloud_msg(make, pc.cloud_points(depth, deproj, False), (1, 0), spec.frame)
        points += msg.width
        ser_t += per_call(lambda: make.serialize_view(msg), 20)
    n = len(frames)
    print(f"== per frame: {n} body depth cameras, 424x240 16UC1, median thread CPU ==")
    print(f"numpy floor (one vectorized expression, organized, no invalid handling): {1e3 * floor_t / n:.3f} ms")
    print(f"bridge unorganized (valid points, {points // n} per frame) + PointCloud2: {1e3 * unorg_t / n:.3f} ms "
          f"= {unorg_t / floor_t:.2f}x floor (target <= 1.5x)")
    if organized_too:
        print(f"bridge organized (NaN for invalid) + PointCloud2: {1e3 * org_t / n:.3f} ms "
              f"= {org_t / floor_t:.2f}x floor")
    print(f"CDR encoding of one unorganized cloud ({points // n * 12 / 1e6:.2f} MB): {1e3 * ser_t / n:.3f} ms")
    bench_merged(frames, make)


def bench_merged(frames, make, voxel: float = 0.05) -> None:
    """spot/points as the bridge makes it: per camera (in its worker) strided deprojection, to body,
    voxel downsampling; then the union downsampled once more and the message."""
    from spot_bow_ros.convert.kinematics import matrix_from_pose
    from spot_bow_ros.sim.frames import BODY_TFORM_HEAD, SENSOR_FRAMES

    shares_t, shares = [], []
    for spec, depth, intr, _ in frames:
        pose = BODY_TFORM_HEAD * SENSOR_FRAMES[spec.frame][1]  # the sim's body -> housing (parent: head)
        tf = matrix_from_pose((pose.position, pose.rotation))

        def share(depth=depth, intr=intr, tf=tf):
            step = pc.stride_for_voxel(depth, intr, voxel)
            sub = np.ascontiguousarray(depth[::step, ::step])
            dep = pc.Deprojector(pc.strided(intr, step), sub.shape[1], sub.shape[0])
            return pc.voxel_downsample(pc.transform_points(dep.dense(sub), tf), voxel)
        shares_t.append(per_call(share, 10))
        shares.append(share())
    merge_t = per_call(lambda: pc.point_cloud_msg(make, pc.voxel_downsample(np.concatenate(shares), voxel),
                                                  (1, 0), "body"), 10)
    merged = pc.voxel_downsample(np.concatenate(shares), voxel)
    total = sum(shares_t) + merge_t
    print(f"merged spot/points (voxel {voxel} m, {len(merged)} points): per camera share "
          f"{1e3 * np.mean(shares_t):.3f} ms (pixel stride {pc.stride_for_voxel(frames[0][1], frames[0][2], voxel)}), "
          f"union + message {1e3 * merge_t:.3f} ms; {1e3 * total:.2f} ms CPU per merged cloud "
          f"= {15 * total:.3f} core at 15 Hz")


def run_bridge(info: Path, rate: float, duration: float, points: bool, transport_kind: str,
               organized: bool, merged: bool = False) -> tuple[dict[str, int], float, float]:
    """(messages per camera on the measured topic, wall s, process CPU s); with `merged` also the
    count of spot/points messages under the key "merged"."""
    from spot_bow_ros.nodes.spot_cameras import SpotCamerasBridge
    if transport_kind == "dds":
        from spot_bow_ros.standalone.dds_transport import DdsTransport
        transport = DdsTransport()
    else:
        transport = InProcessBus()
    tester = StandaloneNode("bench_listener", transport)
    got = {c: 0 for c in BODY_CAMERAS}
    got["merged"] = 0
    lock = threading.Lock()

    def count(cam):
        def cb(_msg):
            with lock:
                got[cam] += 1
        return cb
    qos = QoS(depth=20)
    for cam in BODY_CAMERAS:
        if points:
            tester.create_subscription("sensor_msgs/msg/PointCloud2", f"/spot/depth/{cam}/points", count(cam), qos)
        else:
            tester.create_subscription("sensor_msgs/msg/Image", f"/spot/depth/{cam}/image", count(cam), qos)
    if merged:
        tester.create_subscription("sensor_msgs/msg/PointCloud2", "/spot/points", count("merged"), qos)
    node = StandaloneNode("spot_cameras", transport, parameter_overrides={
        "sim_info_file": str(info), "cameras": list(BODY_CAMERAS), "rate": rate, "depth": True,
        "point_clouds": points, "organized": organized, "merged_cloud": merged})
    SpotCamerasBridge(node)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not all(v for k, v in got.items() if merged or k != "merged"):
        time.sleep(0.05)
    time.sleep(1.0)
    with lock:
        start = dict(got)
    c0, t0 = cpu_s(), time.monotonic()
    time.sleep(duration)
    c1, t1 = cpu_s(), time.monotonic()
    with lock:
        counts = {c: got[c] - start[c] for c in got}
    node.destroy()
    tester.destroy()
    transport.close()
    return counts, t1 - t0, c1 - c0


def bench_bridge(duration: float, rate: float, transport_kind: str, organized: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        sim, info = start_sim(Path(tmp), extra=("--no-arm",))
        try:
            base = run_bridge(info, rate, duration, False, transport_kind, organized)
            with_points = run_bridge(info, rate, duration, True, transport_kind, organized)
            with_merged = run_bridge(info, rate, duration, True, transport_kind, organized, merged=True)
        finally:
            sim.terminate()
            sim.wait(timeout=10)
    print(f"\n== end to end: 5 body depth cameras at {rate:g} Hz, {duration:g} s each, transport {transport_kind}, "
          f"{'organized' if organized else 'unorganized'} clouds ==")
    print(f"{'camera':<11} {'depth img Hz':>13} {'points Hz':>10}")
    for cam in BODY_CAMERAS:
        print(f"{cam:<11} {base[0][cam] / base[1]:>13.2f} {with_points[0][cam] / with_points[1]:>10.2f}")
    worst = min(with_points[0][c] / (rate * with_points[1]) for c in BODY_CAMERAS)
    core_base, core_points = base[2] / base[1], with_points[2] / with_points[1]
    print(f"worst camera's clouds: {100 * worst:.1f} % of {rate:g} Hz")
    print(f"bridge process CPU: depth images only {core_base:.3f} core, with point clouds {core_points:.3f} core "
          f"-> clouds add {core_points - core_base:.3f} core (target < 0.5)")
    core_merged = with_merged[2] / with_merged[1]
    print(f"with spot/points too (voxel 0.05 m): {with_merged[0]['merged'] / with_merged[1]:.2f} Hz merged, "
          f"{core_merged:.3f} core -> clouds + merged add {core_merged - core_base:.3f} core")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--rate", type=float, default=15.0, help="fetch rate (a real Spot's body cameras: 15 Hz)")
    parser.add_argument("--transport", choices=["inproc", "dds"], default="inproc")
    parser.add_argument("--organized", action="store_true", help="organized clouds in the end-to-end part")
    parser.add_argument("--frames-only", action="store_true", help="only the per-frame part")
    args = parser.parse_args()
    bench_frames()
    if not args.frames_only:
        bench_bridge(args.duration, args.rate, args.transport, args.organized)


if __name__ == "__main__":
    main()
