"""CPU of one camera cycle of the camera bridge without DDS: decode, clouds, messages, CDR.

What `spot_cameras` does per camera cycle with every feature on (6 cameras: JPEG visual images,
depth, registered depth, their point clouds, the registered coloured clouds and the merged
`spot/points`), on the simulated Spot's real GetImage responses (served in-process, no gRPC;
not timed), through the bridge's own `_publish` with publishers that only serialize (the CDR
chunks Cyclone would get; Cyclone's write and the network are not in these figures: see
`bench_run_processes.py` for the whole process).

Prints the CPU-ms per camera cycle of the whole `_publish` path and per step (thread CPU).

    python bench/bench_camera_cycle.py [--cycles 60] [--threads 1]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bosdyn.api import image_pb2

from spot_bow_ros.convert.spot_catalogue import BODY_CAMERAS
from spot_bow_ros.sim.cameras import SimCameras
from spot_bow_ros.sim.clock import RobotClock
from spot_bow_ros.sim.robot import SimRobot
from spot_bow_ros.spot.cameras import (
    DEPTH,
    DEPTH_REGISTERED,
    VISUAL,
    decode_response,
    depth_request,
    registered_depth_request,
    visual_request,
)
from spot_bow_ros.standalone.cdr_encoder import CdrEncoder
from spot_bow_ros.standalone.message_store import messages_for

CAMERAS = [*BODY_CAMERAS, "hand"]


class _Publisher:
    """Serializes like the standalone publisher (CdrEncoder chunks), writes nowhere."""

    def __init__(self, messages, type_name: str, topic: str, timings: dict):
        self.encoder = CdrEncoder(messages, type_name)
        self.topic, self.timings = topic, timings

    def get_subscription_count(self) -> int:
        return 1

    def publish(self, msg) -> None:
        t0 = time.thread_time()
        self.encoder.chunks(msg, pad=True)
        self.timings["serialize"] += time.thread_time() - t0


class _Logger:
    def info(self, *_):
        pass

    warning = error = debug = info


class _Node:
    """The node API the bridge uses, with serializing publishers and parameter defaults + overrides."""

    def __init__(self, overrides: dict, timings: dict):
        self.messages = messages_for()
        self.overrides, self.timings = overrides, timings

    def msg(self, type_name: str, **fields):
        return self.messages.make(type_name, **fields)

    def declare_parameters(self, specs):
        return {s.name: self.overrides.get(s.name, s.default) for s in specs}

    def create_publisher(self, type_name, topic, qos):
        return _Publisher(self.messages, type_name, topic, self.timings)

    def get_logger(self):
        return _Logger()

    def add_on_shutdown(self, fn):
        pass


def _bridge(timings: dict):
    """A SpotCamerasBridge with every feature on, its fetch thread not started, no robot."""
    from spot_bow_ros.nodes import spot_cameras as node_mod

    class _Connection:
        def on_connected(self, fn):
            pass

        def robot_to_local_ns(self, ns):
            return ns

    bridge = node_mod.SpotCamerasBridge.__new__(node_mod.SpotCamerasBridge)
    node = _Node({"depth": True, "depth_registered": True, "point_clouds": True, "merged_cloud": True,
                  "cameras": CAMERAS}, timings)
    orig_thread = node_mod.threading.Thread

    class _NoStart(orig_thread):
        def start(self):
            pass

    node_mod.threading.Thread = _NoStart
    try:
        node_mod.SpotCamerasBridge.__init__(bridge, node, connection=_Connection())
    finally:
        node_mod.threading.Thread = orig_thread
    bridge.due_requests()  # who listens: everyone (wants_* set on every output)
    return bridge


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=60, help="camera cycles to time")
    parser.add_argument("--threads", type=int, default=1, help="threads the images of a cycle are spread over")
    args = parser.parse_args()
    robot = SimRobot(RobotClock(), arm=True)
    cams = SimCameras(robot, robot.clock, arm=True, prepare_ahead=False)
    timings: dict[str, float] = defaultdict(float)
    bridge = _bridge(timings)
    sources = {r.source: r for r in bridge.due_requests()}
    requests = [visual_request(c) for c in CAMERAS] + [depth_request(c) for c in CAMERAS] + \
        [registered_depth_request(c) for c in CAMERAS]
    assert {r.source for r in requests} == set(sources), "the bench asks for what the bridge asks for"
    get = image_pb2.GetImageRequest(image_requests=[r.image_request() for r in requests])
    period_ns = cams.period_ns

    def one(req, resp):
        t0 = time.thread_time()
        image = decode_response(resp, req, lambda ns: ns)
        t1 = time.thread_time()
        bridge._publish(image)
        t2 = time.thread_time()
        return req.kind, t1 - t0, t2 - t1

    class _FrameClock:  # the robot clock in the middle of frame `n`
        n = 0

        def __init__(self, clock):
            self.clock = clock

        def robot_ns(self) -> int:
            return cams.t0_robot_ns + self.n * period_ns + period_ns // 2

        def __getattr__(self, name):
            return getattr(self.clock, name)

    cams.clock = clock = _FrameClock(cams.clock)

    def responses(n: int):
        clock.n = n
        return list(cams.servicer.GetImage(get, None).image_responses)

    for n in range(3):  # warm-up: first messages, camera infos, deprojectors
        for req, resp in zip(requests, responses(n)):
            one(req, resp)
    batches = [list(zip(requests, responses(n))) for n in range(3, 3 + args.cycles)]
    timings.clear()
    by_kind: dict[str, float] = defaultdict(float)
    pool = ThreadPoolExecutor(args.threads)
    t0, w0 = time.process_time(), time.perf_counter()
    for batch in batches:
        for kind, dec, pub in pool.map(lambda p: one(*p), batch):
            by_kind["decode"] += dec
            by_kind[kind] += pub
    cpu, wall = time.process_time() - t0, time.perf_counter() - w0
    pool.shutdown()
    ms = 1000.0 / args.cycles
    print(f"camera cycle without DDS ({len(CAMERAS)} cameras, {len(requests)} sources, every feature), "
          f"{args.cycles} cycles, {args.threads} thread(s):")
    print(f"    process CPU {cpu * ms:.1f} ms per cycle (wall {wall * ms:.1f} ms)")
    print(f"    decode_response {by_kind['decode'] * ms:.1f} ms; _publish of visual {by_kind[VISUAL] * ms:.1f}, "
          f"depth {by_kind[DEPTH] * ms:.1f}, registered depth {by_kind[DEPTH_REGISTERED] * ms:.1f} "
          f"(CDR serialization in these: {timings['serialize'] * ms:.1f})")
    print(f"    merged clouds: {bridge.merger.merged} in {args.cycles + 3} cycles; "
          f"stale {sum(o.stale for o in bridge.outputs.values())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
