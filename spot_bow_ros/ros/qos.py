"""QoS profiles as the bridges ask for them, independent of the middleware.

Mirrors `rclpy.qos.QoSProfile` (reliability, durability, history, depth) so the rclpy
backend maps 1:1 and the standalone backend maps them as `rmw_cyclonedds_cpp` does.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace


class Reliability(enum.Enum):
    RELIABLE = "reliable"
    BEST_EFFORT = "best_effort"


class Durability(enum.Enum):
    VOLATILE = "volatile"
    TRANSIENT_LOCAL = "transient_local"


class History(enum.Enum):
    KEEP_LAST = "keep_last"
    KEEP_ALL = "keep_all"


@dataclass(frozen=True)
class QoS:
    """A ROS 2 QoS profile (the subset that matters for matching and queuing)."""

    depth: int = 10
    reliability: Reliability = Reliability.RELIABLE
    durability: Durability = Durability.VOLATILE
    history: History = History.KEEP_LAST

    def with_depth(self, depth: int) -> QoS:
        return replace(self, depth=depth)

    @classmethod
    def parse(cls, text: str, depth: int = 10) -> QoS:
        """Profile from a parameter string: `reliable`, `best_effort` / `sensor_data`, `latched`."""
        key = text.strip().lower()
        if key in ("reliable", "default", "system_default"):
            return cls(depth=depth)
        if key in ("best_effort", "sensor_data"):
            return cls(depth=depth, reliability=Reliability.BEST_EFFORT)
        if key in ("latched", "transient_local"):
            return cls(depth=depth, durability=Durability.TRANSIENT_LOCAL)
        raise ValueError(f"unknown QoS profile {text!r} (expected reliable, best_effort, sensor_data or latched)")


#: Drivers publish reliable so both reliable and best-effort subscribers match (DESIGN.md §7).
SENSOR_PUBLISHER = QoS(depth=5)
#: Default for ordinary topics (`rclpy` default profile with depth 10).
DEFAULT = QoS(depth=10)
#: Commands must never pile up: keep the newest only.
COMMAND = QoS(depth=1)
#: Best-effort, keep-last 5: rclpy's `qos_profile_sensor_data`.
SENSOR_DATA = QoS(depth=5, reliability=Reliability.BEST_EFFORT)
#: `/tf_static` and other latched topics.
LATCHED = QoS(depth=1, durability=Durability.TRANSIENT_LOCAL)
