#!/usr/bin/env python3
"""BOW messages v1 conversion cost (printed, not asserted), with the BOW SDK's `bow_data`.

- v1 MotorSample (binary) -> validated, limited MotorCommand (locomotion + gaze + claw + arm pose)
- Spot joint state (19 joints) -> v1 ProprioceptionSample bytes
- v1 ProprioceptionSample bytes -> sensor_msgs/JointState
- Spot IMU -> v1 ExteroceptionSample bytes -> sensor_msgs/Imu

Usage: python bench/bench_bow_v1.py [--count 5000]   (needs: pip install --no-deps bow-api)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from spot_bow_ros.bow.sdk_v1 import load_v1
from spot_bow_ros.convert import bow_v1
from spot_bow_ros.convert import bow_v1_sensors as sensors
from spot_bow_ros.convert.motion import MotionLimits
from spot_bow_ros.convert.motor import MotorConfig
from spot_bow_ros.standalone.message_store import messages_for

NAMES = [f"{leg}.{j}" for leg in ("fl", "fr", "hl", "hr") for j in ("hx", "hy", "kn")] + \
        [f"arm0.{j}" for j in ("sh0", "sh1", "el0", "el1", "wr0", "wr1", "f1x")]


def per_call_us(fn, count: int) -> float:
    fn()
    t0 = time.perf_counter()
    for _ in range(count):
        fn()
    return (time.perf_counter() - t0) / count * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000)
    args = parser.parse_args()
    v1 = load_v1()
    make = messages_for("humble")
    s = v1.MotorSample()
    s.Locomotion.TranslationalVelocity.X = 0.3
    s.Locomotion.RotationalVelocity.Z = 0.2
    s.GazeTarget.GazeVector.X, s.GazeTarget.GazeVector.Y = 1.0, 0.1
    s.GripperObjective.HandMapPercentage.Index = 0.5
    o = s.Objectives.add(TargetEffector="arm", Enabled=True)
    o.PoseTarget.Transform.Position.X = 0.7
    motor_bytes = s.SerializeToString()
    config, limits = MotorConfig(), MotionLimits()
    pos, vel, load = [0.1] * 19, [0.01] * 19, [1.0] * 19
    proprio_bytes = sensors.proprioception_v1_from_spot(v1, NAMES, pos, vel, load).SerializeToString()

    def motor():
        bow_v1.convert_motor_sample_v1(bow_v1.parse_motor_sample_v1(motor_bytes, v1), v1, config, limits)

    def proprio_out():
        sensors.proprioception_v1_from_spot(v1, NAMES, pos, vel, load).SerializeToString()

    def proprio_in():
        sensors.joint_state_from_v1(make, v1.ProprioceptionSample.FromString(proprio_bytes), (0, 0))

    def imu_round_trip():
        ex = sensors.exteroception_v1_from_imu(v1, (0, 0, 9.81), (0, 0, 0.1), (0, 0, 0, 1))
        sensors.imu_msgs_from_v1(make, v1.ExteroceptionSample.FromString(ex.SerializeToString()), (0, 0))

    for label, fn in (("v1 MotorSample bytes -> limited MotorCommand", motor),
                      ("Spot 19 joints -> v1 ProprioceptionSample bytes", proprio_out),
                      ("v1 ProprioceptionSample bytes -> JointState", proprio_in),
                      ("Spot IMU -> v1 ExteroceptionSample -> Imu", imu_round_trip)):
        print(f"{label:50s} {per_call_us(fn, args.count):8.1f} us/sample")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
