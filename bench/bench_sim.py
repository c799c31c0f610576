"""Loopback latency of the simulated Spot with real bosdyn clients.

Runs `python -m spot_bow_ros.sim` as its own process (as in use), connects through
SpotConnection and prints p50/p90 of:
  - get_image_from_sources, 1 source and 5 sources (JPEG, the five fisheye cameras)
  - get_robot_state
  - a payload ImageService call proxied by the robot by authority (1 source, 640x480 JPEG)
Target: 5 sources p50 <= 5 ms.

    python bench/bench_sim.py [--n 200]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

FISHEYES = ["frontleft_fisheye_image", "frontright_fisheye_image", "left_fisheye_image",
            "right_fisheye_image", "back_fisheye_image"]


def percentiles(samples_s: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples_s)
    p50 = statistics.median(ms)
    p90 = ms[int(0.9 * (len(ms) - 1))]
    return f"p50 {p50:6.2f} ms  p90 {p90:6.2f} ms  (n={len(ms)})"


def timed(fn, n: int, warmup: int = 10) -> list[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def start_sim(info: Path) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    start = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "spot_bow_ros.sim", "--info-file", str(info),
                             "--log-level", "warning"], env=env)
    while not info.exists():
        if proc.poll() is not None:
            raise SystemExit("simulator exited")
        time.sleep(0.005)
    print(f"sim process start to info file: {(time.monotonic() - start) * 1000:.0f} ms")
    return proc


def payload_bench(conn, n: int) -> list[float]:
    """A tutorial-style payload image service registered in the directory, called via the robot."""
    from concurrent import futures

    import cv2
    import grpc
    import numpy as np
    from bosdyn.api import image_pb2, image_service_pb2_grpc
    from bosdyn.client.image_service_helpers import CameraBaseImageServicer, CameraInterface, VisualImageSource

    frame = np.random.default_rng(0).integers(0, 255, (480, 640), np.uint8)
    jpeg = cv2.imencode(".jpg", frame)[1].tobytes()

    class StillCamera(CameraInterface):
        def blocking_capture(self, **kwargs):
            return jpeg, time.time()

        def image_decode(self, image_data, image_proto, image_req):
            image_proto.format = image_pb2.Image.FORMAT_JPEG
            image_proto.pixel_format = image_pb2.Image.PIXEL_FORMAT_GREYSCALE_U8
            image_proto.rows, image_proto.cols = 480, 640
            image_proto.data = image_data

    source = VisualImageSource("bench_cam", StillCamera(), rows=480, cols=640,
                               pixel_formats=[image_pb2.Image.PIXEL_FORMAT_GREYSCALE_U8])
    servicer = CameraBaseImageServicer(conn.robot, "bench-cam-service", [source])
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    image_service_pb2_grpc.add_ImageServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    registration = conn.ensure_client("directory-registration")
    registration.register("bench-cam-service", "bosdyn.api.ImageService", "bench-cam", "127.0.0.1", port)
    try:
        client = conn.ensure_client("bench-cam-service")
        return timed(lambda: client.get_image_from_sources(["bench_cam"]), n)
    finally:
        registration.unregister("bench-cam-service")
        server.stop(0)
        source.stop_capturing() if hasattr(source, "stop_capturing") else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=200)
    args = parser.parse_args()

    from spot_bow_ros.spot.connection import SpotConnection
    from spot_bow_ros.spot.connection_config import ConnectionConfig

    tmp = Path(tempfile.mkdtemp(prefix="bench_sim_"))
    proc = start_sim(tmp / "sim.json")
    try:
        conn = SpotConnection(ConnectionConfig.from_sim_info(tmp / "sim.json"))
        t = time.monotonic()
        conn.connect()
        print(f"SpotConnection.connect (TLS + auth + time sync): {(time.monotonic() - t) * 1000:.0f} ms")
        images = conn.ensure_client("image")
        state = conn.ensure_client("robot-state")
        sizes = [len(r.shot.image.data) for r in images.get_image_from_sources(FISHEYES)]
        print(f"fisheye JPEG sizes: {sizes} bytes")
        print(f"get_image_from_sources 1 source : {percentiles(timed(lambda: images.get_image_from_sources(FISHEYES[:1]), args.n))}")
        print(f"get_image_from_sources 5 sources: {percentiles(timed(lambda: images.get_image_from_sources(FISHEYES), args.n))}")
        print(f"get_robot_state                 : {percentiles(timed(state.get_robot_state, args.n))}")
        print(f"payload image via robot proxy   : {percentiles(payload_bench(conn, args.n))}")
        conn.shutdown()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)
    print(f"load average during run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
