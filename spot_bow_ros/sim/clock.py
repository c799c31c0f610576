"""The simulated robot's clock: local time shifted by a fixed offset and a linear drift.

Real Spot clocks are not the payload's clock; bosdyn's time sync estimates the difference.
The simulator makes that difference explicit so tests can check every robot<->local conversion.
"""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass
class RobotClock:
    """robot_ns = local_ns + offset + drift * (local_ns - epoch_ns)

    `offset_s`: robot clock minus local clock at `epoch_ns` (seconds, e.g. +100.0).
    `drift_ppm`: how fast the robot clock runs relative to local, parts per million.
    `step(delta_s)` moves the robot clock at once (as NTP stepping the robot's clock would);
    every service sharing this object sees the new time.
    """

    offset_s: float = 0.0
    drift_ppm: float = 0.0
    epoch_ns: int = 0

    @classmethod
    def starting_now(cls, offset_s: float = 0.0, drift_ppm: float = 0.0) -> RobotClock:
        return cls(offset_s, drift_ppm, time.time_ns())

    def step(self, delta_s: float) -> None:
        """Step the robot clock by `delta_s` seconds (positive: forwards)."""
        self.offset_s += float(delta_s)

    def robot_ns(self, local_ns: int | None = None) -> int:
        """Robot time (ns since epoch) at local time `local_ns` (default: now)."""
        local = time.time_ns() if local_ns is None else local_ns
        return local + int(self.offset_s * 1e9) + int(self.drift_ppm * 1e-6 * (local - self.epoch_ns))

    def local_ns(self, robot_ns: int) -> int:
        """Local time (ns since epoch) at which the robot clock reads `robot_ns`."""
        k = self.drift_ppm * 1e-6
        return int((robot_ns - int(self.offset_s * 1e9) + k * self.epoch_ns) / (1.0 + k))
