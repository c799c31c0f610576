"""The `--demo-motion` script: drive Spot through BOW MotorSamples like any BOW client would.

Publishes on the motor bridge's own inputs (`motor_command/control` verbs and binary
`MotorSample`s on `motor_command/binary`), so the demo exercises the whole command path:
claim, power on, stand, walk a 1 m square (forward, then turn left 90 degrees, four times),
turn the head right and left, then sit. Motions are expressed in ROS axes and converted to
BOW axes with the configured convention (`bow.frames`), as a BOW client would send them.
With `bow_messages: sdk_v1` the same motions go out as BOW SDK v1 MotorSamples.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..bow import bow_data_pb2 as bow
from ..bow import frames
from ..convert import bow_v1, motor
from ..ros import qos
from ..ros.node_api import NodeHandle

RATE_HZ = 10.0  # faster than the motor bridge's watchdog (cmd_timeout 0.5 s)


@dataclass(frozen=True)
class Step:
    """One step of the script: a control verb, or a MotorSample held for `duration_s`."""

    duration_s: float
    verb: str = ""
    sample: bow.MotorSample | None = None
    label: str = ""


def velocity_sample(forward: float = 0.0, left: float = 0.0, yaw_rate_left: float = 0.0,
                    convention: frames.AxisConvention = frames.DEFAULT_CONVENTION) -> bow.MotorSample:
    """VELOCITY_MODE MotorSample for a body velocity in ROS axes (m/s, rad/s, + = left turn)."""
    sample = bow.MotorSample()
    loco = sample.Locomotion
    loco.LocomotionMode = bow.VELOCITY_MODE
    loco.RotationUnits = bow.RADIANS
    px, py, pz = frames.position_ros_to_bow((forward, left, 0.0), convention)
    loco.Position.X, loco.Position.Y, loco.Position.Z = px, py, pz
    rx, ry, rz = frames.angular_velocity_ros_to_bow((0.0, 0.0, yaw_rate_left), convention)
    loco.Rotation.X, loco.Rotation.Y, loco.Rotation.Z = rx, ry, rz
    return sample


def head_sample(yaw_right_rad: float, pitch_up_rad: float = 0.0) -> bow.MotorSample:
    """MotorSample turning the head (Spot's body orientation): documented BOW Head angles."""
    sample = bow.MotorSample()
    sample.Head.X, sample.Head.Y, sample.Head.Z = yaw_right_rad, pitch_up_rad, 0.0
    return sample


def demo_script(side_m: float = 0.4, speed: float = 0.5, turn_rate: float = 0.8,
                convention: frames.AxisConvention = frames.DEFAULT_CONVENTION) -> list[Step]:
    """The demo: claim, enable motion, release the software E-Stop (explicitly: it registers
    stopped), power on, stand, a square of `side_m` at `speed` (m/s) turning left at
    `turn_rate` (rad/s), an explicit zero-velocity stop (so the motor bridge's watchdog never has
    to step in), head right/left/centre, sit. About 17 s with the defaults (within the motor
    bridge's default limits of 0.5 m/s and 0.8 rad/s), so the README's 20 s run sees it end."""
    steps = [Step(0.3, verb="claim"), Step(0.2, verb="enable_motion"), Step(0.2, verb="estop_release"),
             Step(1.5, verb="power_on"),
             Step(1.2, verb="stand")]
    for side in range(4):
        steps.append(Step(side_m / speed, sample=velocity_sample(forward=speed, convention=convention),
                          label=f"square side {side + 1}: forward {side_m:g} m"))
        steps.append(Step((math.pi / 2) / turn_rate,
                          sample=velocity_sample(yaw_rate_left=turn_rate, convention=convention),
                          label="turn left 90 deg"))
    steps += [Step(0.2, sample=velocity_sample(convention=convention), label="stop walking"),
              Step(0.6, sample=head_sample(0.3), label="head right"),
              Step(0.6, sample=head_sample(-0.3), label="head left"),
              Step(0.3, sample=head_sample(0.0), label="head centre"),
              Step(0.8, verb="sit")]
    return steps


def script_duration(steps: list[Step]) -> float:
    """Seconds the script takes from its first step to its end."""
    return sum(step.duration_s for step in steps)


class DemoMotion:
    """Plays `demo_script()` on a node's timer; `done` is set at the end."""

    def __init__(self, node: NodeHandle, on_done: Callable[[], None] | None = None,
                 steps: list[Step] | None = None):
        self.node = node
        self.log = node.get_logger()
        self.steps = steps if steps is not None else demo_script()
        self.on_done = on_done
        self.done = False
        self._control = node.create_publisher("std_msgs/msg/String", "motor_command/control", qos.COMMAND)
        self._samples = node.create_publisher("std_msgs/msg/UInt8MultiArray", "motor_command/binary", qos.COMMAND)
        from .bow_messages import bow_message_set

        self.v1 = bow_message_set(node)  # the message set motor_command expects (`/**`)
        self._index = -1
        self._step_end = 0.0
        self._timer = node.create_timer(1.0 / RATE_HZ, self._tick)

    def _tick(self) -> None:
        now = time.monotonic()
        if self._index >= 0 and now < self._step_end:
            step = self.steps[self._index]
            if step.sample is not None:  # hold velocity commands against the watchdog
                self._publish_sample(step.sample)
            return
        self._index += 1
        if self._index >= len(self.steps):
            self._timer.cancel()
            self.done = True
            self.log.info("demo motion finished")
            if self.on_done is not None:
                self.on_done()
            return
        step = self.steps[self._index]
        self._step_end = now + step.duration_s
        if step.verb:
            if step.verb == "estop_release":
                self.log.warning("demo motion: estop_release - the demo releases the software E-Stop "
                                 "explicitly (it registers stopped) so that the robot may power on")
            else:
                self.log.info(f"demo motion: {step.verb}")
            self._control.publish(self.node.msg("std_msgs/msg/String", data=step.verb))
        else:
            self.log.info(f"demo motion: {step.label}")
            self._publish_sample(step.sample)

    def _publish_sample(self, sample: bow.MotorSample) -> None:
        if self.v1 is not None:
            cmd = motor.motor_sample_to_command(sample, motor.MotorConfig())
            sample = bow_v1.motor_sample_v1_from_command(cmd, self.v1)
        self._samples.publish(self.node.msg("std_msgs/msg/UInt8MultiArray", data=sample.SerializeToString()))


def main(argv: list[str] | None = None) -> int:
    """`python -m spot_bow_ros.nodes.demo_motion [--help]`: list the script's steps (it runs with
    `spot-bow-ros run --demo-motion`; it is not a node of its own)."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m spot_bow_ros.nodes.demo_motion", description=__doc__,
        epilog="The demo runs with `spot-bow-ros run --demo-motion` (it enables motion on the motor bridge "
               "it runs beside); this module on its own only lists the steps.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.parse_args(argv)
    steps = demo_script()
    elapsed = 0.0
    for step in steps:
        print(f"{elapsed:6.1f} s  {step.label or step.verb}")
        elapsed += step.duration_s
    print(f"{elapsed:6.1f} s  done ({len(steps)} steps)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
