"""CPU of the simulated Spot's image service per camera cycle: whole-frame encode vs splice.

The simulator serves each frame anew only in its top strip (the frame code) and reuses the rows
below per scene phase (`sim/jpeg_splice.py`). This bench asks for every source of the robot
once per frame, as the camera bridge with every feature on does (visual sources JPEG, depth
sources RAW), for `--frames` consecutive frames, and prints the CPU-ms per cycle of

- `whole`: render + encode the whole frame (what the simulator did before),
- `splice`: `SimCameras.encoded` (after one ring of warm-up frames, as in a running simulator),

and the ratio. No robot, no gRPC: the image path only.

    python bench/bench_sim_cameras.py [--frames 96]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bosdyn.api import image_pb2

from spot_bow_ros.sim.camera_scene import SCENE_RING_FRAMES, render_frame
from spot_bow_ros.sim.cameras import SimCameras
from spot_bow_ros.sim.clock import RobotClock
from spot_bow_ros.sim.robot import SimRobot

Image = image_pb2.Image


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=96, help="camera cycles to time")
    args = parser.parse_args()
    robot = SimRobot(RobotClock(), arm=True)
    cams = SimCameras(robot, robot.clock, arm=True, prepare_ahead=False)
    try:
        asks = [(c, Image.FORMAT_RAW if c.kind == "depth" else Image.FORMAT_JPEG) for c in cams.cameras]
        first = 1000

        def whole() -> None:
            for n in range(first, first + args.frames):
                for spec, fmt in asks:
                    SimCameras._encode(spec, render_frame(spec, n), fmt, 75.0, 0.0)

        def splice(start: int) -> None:
            for n in range(start, start + args.frames):
                for spec, fmt in asks:
                    cams.encoded(spec.name, n, fmt, 75.0, 0.0, touch=False)

        splice(first - SCENE_RING_FRAMES * ((args.frames // SCENE_RING_FRAMES) + 1))  # fill the phase cache
        t0 = time.process_time()
        whole()
        t1 = time.process_time()
        splice(first)
        t2 = time.process_time()
    finally:
        cams.stop()
        robot.stop()
    w, s = 1e3 * (t1 - t0) / args.frames, 1e3 * (t2 - t1) / args.frames
    print(f"{len(asks)} sources per cycle ({sum(f == Image.FORMAT_JPEG for _, f in asks)} JPEG, "
          f"{sum(f == Image.FORMAT_RAW for _, f in asks)} RAW depth), {args.frames} cycles")
    print(f"whole-frame encode: {w:.1f} CPU-ms per cycle ({w * 1.5:.0f} % of a core at 15 Hz)")
    print(f"splice:             {s:.1f} CPU-ms per cycle ({s * 1.5:.0f} % of a core at 15 Hz)")
    print(f"ratio whole / splice: {w / s:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
