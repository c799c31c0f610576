#!/usr/bin/env python3
"""GetImage latency of the image service through the simulated Spot, and a 4-client soak.

Three processes, as deployed: the simulated robot (TLS, directory, authority proxy), the
payload (a camera-driver node publishing 640x480 bgr8 at 30 Hz + the `image_service` node,
standalone runtime, in-process bus) and this process as the robot-side clients (bosdyn
`ImageClient` of a `Robot` authenticated with username/password, via the directory). For the
gRPC floor only, a fourth process serves constant answers in place of the payload.

Prints: encode cost per frame (uncached), sequential GetImage latency for JPEG and RAW through
the robot (and directly to the payload port, for the proxy's share) with the CPU time each
process spends per call, the gRPC floor (the same RAW traffic answered by constant-bytes
servers instead of the image service: through the robot's proxy, and one TLS hop without it),
then N clients at R Hz for D seconds: requests, errors, achieved rate, latency and frame age.

    python bench/bench_image_service.py [--duration 60] [--samples 300] [--clients 4] [--rate 15]
                                        [--no-floor]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SERVICE = "ros-image-service"
ROWS, COLS = 480, 640


def _proc_cpu(pid: int) -> tuple[float, int]:
    """(CPU seconds user+system, minor page faults) of process `pid` so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), int(fields[7])


class CpuMeter:
    """CPU time and minor page faults per call of each process of the bench (robot, payload,
    clients): where a call's work is done. Linux only (reads /proc/<pid>/stat)."""

    def __init__(self, pids: dict[str, int]):
        self.pids = pids
        self._start: dict[str, tuple[float, int]] = {}

    def __enter__(self) -> CpuMeter:
        self._start = {name: _proc_cpu(pid) for name, pid in self.pids.items()}
        return self

    def __exit__(self, *exc) -> None:
        self._end = {name: _proc_cpu(pid) for name, pid in self.pids.items()}

    def per_call(self, calls: int) -> str:
        """One line: CPU ms and page faults per call of each process (everything the process
        did during the calls, background work included, divided by the number of calls) and
        the mean latency that CPU time allows at best: all of it spread over every core."""
        parts, total = [], 0.0
        for name, (cpu0, flt0) in self._start.items():
            cpu1, flt1 = self._end[name]
            total += cpu1 - cpu0
            parts.append(f"{name} {(cpu1 - cpu0) / calls * 1e3:4.2f} ms/{(flt1 - flt0) / calls:3.0f} flt")
        per_call_ms = total / calls * 1e3
        return (f"cpu per call: {', '.join(parts)}; sum {per_call_ms:4.2f} ms = at least "
                f"{per_call_ms / os.cpu_count():4.2f} ms on {os.cpu_count()} cores")


def _pct(values, ps=(50, 90, 99)) -> str:
    a = np.asarray(values) * 1e3
    return "  ".join(f"p{p} {np.percentile(a, p):6.2f} ms" for p in ps) + f"  max {a.max():6.2f} ms"


def camera_pattern_base() -> np.ndarray:
    """ROWS x COLS x 3 uint8 gradient (x/3, y/2, (x+y)/5) of the synthetic camera, frame 0."""
    y, x = np.mgrid[0:ROWS, 0:COLS]
    return np.stack([(x // 3) % 256, (y // 2) % 256, ((x + y) // 5) % 256], -1).astype(np.uint8)


def camera_pattern(base: np.ndarray, k: int) -> np.ndarray:
    """Frame `k` of the synthetic camera: the base gradient moved by (k, 3k, 0) per channel.

    Why uint8 arithmetic: it wraps mod 256 exactly like the int64 `% 256` of the base, so the
    pixels equal `((x // 3 + k) % 256, (y // 2 + 3k) % 256, ((x + y) // 5) % 256)`, at ~0.3 ms
    a frame instead of ~34 ms (int64 arrays: a whole core of this 2-core machine at 30 Hz,
    which a real camera driver does not cost and which skewed every latency below).
    """
    row = np.tile(np.array([k % 256, (3 * k) % 256, 0], dtype=np.uint8), base.shape[1])
    # (rows, cols*3) + one row: numpy's inner loop then runs over whole rows, not 3 bytes
    return (base.reshape(base.shape[0], -1) + row).reshape(base.shape)


# -- process 1: the robot -------------------------------------------------------------------------
def run_sim(info_path: str, stop, ready) -> None:
    from spot_bow_ros.sim import SimulatedSpot

    with SimulatedSpot(clock_offset_s=100.0) as sim:
        sim.write_info(info_path)
        ready.set()
        stop.wait()


# -- process 2: the payload -----------------------------------------------------------------------
def run_payload(info_path: str, stop, ready, port) -> None:
    import logging

    logging.basicConfig(level=logging.WARNING)
    from spot_bow_ros.nodes.image_service import ImageServiceBridge
    from spot_bow_ros.ros.qos import SENSOR_PUBLISHER
    from spot_bow_ros.standalone.node import InProcessBus, StandaloneNode

    bus = InProcessBus()
    cam = StandaloneNode("webcam", bus)
    pub = cam.create_publisher("sensor_msgs/msg/Image", "webcam/image_raw", SENSOR_PUBLISHER)
    base = camera_pattern_base()
    k = [0]

    def publish() -> None:
        k[0] += 1
        bgr = camera_pattern(base, k[0])
        sec, nsec = divmod(time.time_ns(), 1_000_000_000)
        pub.publish(cam.msg("sensor_msgs/msg/Image",
                            header=cam.msg("std_msgs/msg/Header", frame_id="webcam_optical_frame",
                                           stamp=cam.msg("builtin_interfaces/msg/Time", sec=sec, nanosec=nsec)),
                            height=ROWS, width=COLS, encoding="bgr8", step=COLS * 3, data=bgr.tobytes()))

    cam.create_timer(1 / 30, publish)
    node = StandaloneNode("image_service", bus, parameter_overrides={
        "sources": ["webcam/image_raw:webcam:raw"], "sim_info_file": info_path,
        "host_ip": "127.0.0.1", "max_workers": 8})
    bridge = ImageServiceBridge(node)
    port.value = bridge.server.port
    ready.set()
    stop.wait()
    node.destroy()
    cam.destroy()


# -- process 3 (unless --no-floor): the same traffic without the image service ---------------
FLOOR_SERVICE = "floor-constant"


def constant_raw_response() -> bytes:
    """A serialized GetImageResponse as the image service answers a 640x480 RGB RAW request
    (header OK, one image response, 921,600 bytes of data), built once."""
    from bosdyn.api import header_pb2, image_pb2

    Image = image_pb2.Image
    response = image_pb2.GetImageResponse()
    response.header.error.code = header_pb2.CommonError.CODE_OK
    image_response = response.image_responses.add(status=image_pb2.ImageResponse.STATUS_OK)
    image_response.source.name = "webcam"
    image = image_response.shot.image
    image.rows, image.cols, image.format, image.pixel_format = ROWS, COLS, Image.FORMAT_RAW, Image.PIXEL_FORMAT_RGB_U8
    image.data = np.random.default_rng(0).integers(0, 256, ROWS * COLS * 3, dtype=np.uint8).tobytes()
    return response.SerializeToString()


def run_floor(cert_dir: str, stop, ready, ports) -> None:
    """Two bare gRPC servers answering every GetImage with `constant_raw_response()` bytes:
    plaintext (registered in the robot's directory, reached through its proxy as the image
    service is) and TLS with the robot's certificate (one hop, no proxy). What they cost is
    the cost of gRPC, TLS and the proxy alone: the floor under the image service's figures."""
    from concurrent import futures

    import grpc
    from bosdyn.client.channel import generate_channel_options

    from spot_bow_ros.sim.certs import generate_certificates

    answer = constant_raw_response()
    handler = grpc.method_handlers_generic_handler("bosdyn.api.ImageService", {
        "GetImage": grpc.unary_unary_rpc_method_handler(lambda request, context: answer)})
    certs = generate_certificates(cert_dir)  # reuses the simulator's CA and server certificate
    servers = []
    for secure in (False, True):
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=8), handlers=(handler,),
                             options=generate_channel_options())
        if secure:
            creds = grpc.ssl_server_credentials([(certs.server_key_pem, certs.server_cert_pem)])
            ports[1] = server.add_secure_port("127.0.0.1:0", creds)
        else:
            ports[0] = server.add_insecure_port("127.0.0.1:0")
        server.start()
        servers.append(server)
    ready.set()
    stop.wait()
    for server in servers:
        server.stop(0)


def floor_latency(info: dict, tablet: Tablet, ports, samples: int, pids: dict[str, int]) -> None:
    """RAW GetImage latency of the same bosdyn client against the constant-answer servers."""
    import grpc
    from bosdyn.client.channel import create_secure_channel, generate_channel_options
    from bosdyn.client.image import ImageClient

    registration = tablet.robot.ensure_client("directory-registration")
    registration.register(FLOOR_SERVICE, "bosdyn.api.ImageService", FLOOR_SERVICE, "127.0.0.1", ports[0])
    try:
        tablet.robot.sync_with_directory()
        latency(tablet.robot.ensure_client(FLOOR_SERVICE), "via robot", samples, pids, raw_only=True)
        creds = grpc.ssl_channel_credentials(root_certificates=Path(info["ca_cert"]).read_bytes())
        one_hop = ImageClient()
        one_hop.channel = create_secure_channel("127.0.0.1", ports[1], creds, f"{FLOOR_SERVICE}.spot.robot",
                                                options=generate_channel_options())
        latency(one_hop, "TLS 1 hop", samples, pids, raw_only=True)
    finally:
        registration.unregister(FLOOR_SERVICE)


# -- this process: robot-side clients ------------------------------------------------------------
class Tablet:
    def __init__(self, info: dict, name: str = "tablet"):
        import bosdyn.client

        self.sdk = bosdyn.client.create_standard_sdk(name, cert_resource_glob=info["ca_cert"])
        self.robot = self.sdk.create_robot(info["hostname"])
        self.robot.update_secure_channel_port(info["port"])
        self.robot.authenticate(info["username"], info["password"])
        self.robot.sync_with_directory()
        self.images = self.robot.ensure_client(SERVICE)

    def close(self) -> None:
        self.sdk.clear_robots()
        self.robot.shutdown()


def encode_cost() -> None:
    from bosdyn.api import image_pb2

    from spot_bow_ros.spot.image_service_frames import Frame, RenderRequest, render

    Image = image_pb2.Image
    base = camera_pattern_base()
    times = {"jpeg q75": [], "raw rgb": [], "jpeg cached": []}
    for k in range(60):
        bgr = camera_pattern(base, k)
        frame = Frame(0, 0.0, ROWS, COLS, "bgr8", pixels=bgr)
        for name, req in (("jpeg q75", RenderRequest(Image.FORMAT_JPEG, Image.PIXEL_FORMAT_RGB_U8, 75, 1.0)),
                          ("raw rgb", RenderRequest(Image.FORMAT_RAW, Image.PIXEL_FORMAT_RGB_U8, 75, 1.0))):
            t = time.perf_counter()
            render(frame, req)
            times[name].append(time.perf_counter() - t)
        t = time.perf_counter()
        render(frame, RenderRequest(Image.FORMAT_JPEG, Image.PIXEL_FORMAT_RGB_U8, 75, 1.0))
        times["jpeg cached"].append(time.perf_counter() - t)
    print("encode per frame, 640x480 bgr8 (once per frame and request kind; cached after):")
    for name, values in times.items():
        print(f"  {name:12s} {_pct(values)}")


def latency(images, label: str, samples: int, pids: dict[str, int] | None = None,
            raw_only: bool = False) -> None:
    from bosdyn.api import image_pb2
    from bosdyn.client.image import build_image_request

    Image = image_pb2.Image
    formats = (("JPEG", Image.FORMAT_JPEG), ("RAW ", Image.FORMAT_RAW))
    for fmt_name, fmt in formats[1:] if raw_only else formats:
        req = [build_image_request("webcam", image_format=fmt, pixel_format=Image.PIXEL_FORMAT_RGB_U8)]
        for _ in range(10):
            images.get_image(req)
        ts, size = [], 0
        with CpuMeter(pids or {}) as meter:
            for _ in range(samples):
                t = time.perf_counter()
                resp = images.get_image(req)
                ts.append(time.perf_counter() - t)
                size = len(resp[0].shot.image.data)
        target = "<= 5 ms" if fmt == Image.FORMAT_JPEG else "<= 3 ms"
        print(f"  {label} {fmt_name} ({size / 1024:6.0f} KiB): {_pct(ts)}   (target p50 {target})")
        if pids:
            print(f"      {meter.per_call(samples)}")


def soak(info: dict, clients: int, rate: float, duration: float) -> None:
    from bosdyn.api import image_pb2
    from bosdyn.client.image import build_image_request

    Image = image_pb2.Image
    skew_ns = int(info.get("clock_offset_s", 0.0) * 1e9)
    tablets = [Tablet(info, f"client{i}") for i in range(clients)]
    stats = [{"n": 0, "errors": [], "lat": [], "age": [], "late": 0} for _ in tablets]

    def run(i: int) -> None:
        images, s = tablets[i].images, stats[i]
        fmt = Image.FORMAT_JPEG if i % 2 == 0 else Image.FORMAT_RAW
        req = [build_image_request("webcam", image_format=fmt)]
        period = 1.0 / rate
        start = time.monotonic() + i * period / clients
        end = start + duration
        k = 0
        while True:
            due = start + k * period
            if due >= end:
                break
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            elif delay < -period:
                s["late"] += 1
            t = time.perf_counter()
            try:
                resp = images.get_image(req, timeout=2.0)
                s["lat"].append(time.perf_counter() - t)
                acq = resp[0].shot.acquisition_time
                s["age"].append((time.time_ns() + skew_ns - (acq.seconds * 10**9 + acq.nanos)) / 1e9)
            except Exception as exc:  # noqa: BLE001 - counted and reported
                s["errors"].append(f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}")
            s["n"] += 1
            k += 1

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    for tablet in tablets:
        tablet.close()
    total = sum(s["n"] for s in stats)
    errors = [e for s in stats for e in s["errors"]]
    lat = [v for s in stats for v in s["lat"]]
    age = [v for s in stats for v in s["age"]]
    print(f"{clients} clients x {rate:g} Hz for {duration:g} s (JPEG and RAW alternating by client):")
    print(f"  requests {total}, errors {len(errors)}, achieved {total / elapsed:.1f} req/s "
          f"(target {clients * rate:g}), late by > 1 period: {sum(s['late'] for s in stats)}")
    if lat:
        print(f"  latency {_pct(lat)}")
        print(f"  frame age at receipt (robot clock, 30 Hz source) {_pct(age)}")
    for e in sorted(set(errors))[:5]:
        print(f"  error: {e} (x{errors.count(e)})")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=60.0, help="soak duration in seconds (default 60)")
    ap.add_argument("--samples", type=int, default=300, help="sequential GetImage calls per format")
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--rate", type=float, default=15.0, help="requests per second per client")
    ap.add_argument("--no-floor", dest="floor", action="store_false",
                    help="skip the gRPC floor (constant-answer servers in place of the image service)")
    args = ap.parse_args()

    ctx = mp.get_context("spawn")  # gRPC and fork do not mix
    tmp = tempfile.mkdtemp(prefix="bench_image_service_")
    info_path = os.path.join(tmp, "sim.json")
    stop = ctx.Event()
    sim_ready, payload_ready = ctx.Event(), ctx.Event()
    sim = ctx.Process(target=run_sim, args=(info_path, stop, sim_ready), daemon=True)
    sim.start()
    if not sim_ready.wait(60):
        print("simulator did not start", file=sys.stderr)
        return 1
    port = ctx.Value("i", 0)
    payload_stop = ctx.Event()
    payload = ctx.Process(target=run_payload, args=(info_path, payload_stop, payload_ready, port), daemon=True)
    payload.start()
    try:
        if not payload_ready.wait(60):
            print("image service did not start", file=sys.stderr)
            return 1
        info = json.loads(Path(info_path).read_text())
        encode_cost()
        tablet = Tablet(info)
        entry = tablet.robot.ensure_client("directory").get_entry(SERVICE)
        print(f"service '{entry.name}' at authority {entry.authority} (cores: {os.cpu_count()}, "
              f"load {os.getloadavg()[0]:.2f})")
        print(f"sequential GetImage, 640x480 RGB, {args.samples} calls each:")
        pids = {"robot": sim.pid, "payload": payload.pid, "client": os.getpid()}
        latency(tablet.images, "via robot", args.samples, pids)
        latency(_direct_client(port.value), "direct   ", args.samples, pids)
        if args.floor:
            print(f"gRPC floor: constant {ROWS}x{COLS} RAW answer, no image service, same client:")
            floor_ports, floor_ready, floor_stop = ctx.Array("i", 2), ctx.Event(), ctx.Event()
            floor = ctx.Process(target=run_floor, args=(str(Path(info["ca_cert"]).parent), floor_stop,
                                                        floor_ready, floor_ports), daemon=True)
            floor.start()
            try:
                if floor_ready.wait(60):
                    floor_latency(info, tablet, floor_ports, args.samples,
                                  {"robot": sim.pid, "floor": floor.pid, "client": os.getpid()})
                else:
                    print("  the floor servers did not start", file=sys.stderr)
            finally:
                floor_stop.set()  # stopped before the soak: it must not share the CPUs
                floor.join(10)
        tablet.close()
        soak(info, args.clients, args.rate, args.duration)
    finally:
        payload_stop.set()  # the payload first: it unregisters from the running robot
        payload.join(15)
        stop.set()
        sim.join(15)
        for proc in (payload, sim):
            if proc.is_alive():
                proc.terminate()
    return 0


def _direct_client(port: int):
    """ImageClient on a plain channel to the payload's port (bypassing the robot's proxy)."""
    import grpc
    from bosdyn.client.channel import generate_channel_options
    from bosdyn.client.image import ImageClient

    client = ImageClient()
    client.channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=generate_channel_options())
    return client


if __name__ == "__main__":
    raise SystemExit(main())
