"""Fast construction of the small ROS messages the proprioception path builds at high rate.

Converters take a message factory `make(type_name, **fields)` (a node's `msg` or a
`standalone.message_store.RosbagsMessages`). The generic factory fills defaults and normalises every field,
~10-15 µs per message; a JointState + Imu pair needs ~9 of them. When the factory exposes
`type_class(type_name)` (the rosbags typestore used by the standalone runtime), `builder_for`
constructs the dataclasses directly (~1-2 µs each) — callers then pass EVERY field, already in
the codec's types (numpy float64 arrays for float64[] and float64[9]). Otherwise (rclpy) it
calls the factory with the same fields.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

MessageFactory = Callable[..., Any]

ZERO9 = np.zeros(9, dtype=np.float64)
NOT_PROVIDED9 = np.array([-1.0] + [0.0] * 8, dtype=np.float64)
ZERO36 = np.zeros(36, dtype=np.float64)


class MessageBuilder:
    """Build messages with all fields given; direct dataclass construction when possible."""

    def __init__(self, make: MessageFactory):
        self.make = make
        self._type_class = getattr(make, "type_class", None)
        self._classes: dict[str, type] = {}

    def new(self, type_name: str, **fields: Any) -> Any:
        if self._type_class is None:
            return self.make(type_name, **fields)
        cls = self._classes.get(type_name)
        if cls is None:
            cls = self._classes[type_name] = self._type_class(type_name)
        return cls(**fields)

    # -- common pieces ----------------------------------------------------------------------
    def header(self, stamp: tuple[int, int], frame_id: str) -> Any:
        return self.new("std_msgs/msg/Header",
                        stamp=self.new("builtin_interfaces/msg/Time", sec=int(stamp[0]), nanosec=int(stamp[1])),
                        frame_id=frame_id)

    def vector3(self, v: Sequence[float]) -> Any:
        return self.new("geometry_msgs/msg/Vector3", x=float(v[0]), y=float(v[1]), z=float(v[2]))

    def quaternion(self, q: Sequence[float]) -> Any:
        return self.new("geometry_msgs/msg/Quaternion", x=float(q[0]), y=float(q[1]), z=float(q[2]),
                        w=float(q[3]))


_BUILDERS: dict[Any, MessageBuilder] = {}


def builder_for(make: MessageFactory) -> MessageBuilder:
    """The (cached) MessageBuilder of factory `make`."""
    builder = _BUILDERS.get(make)
    if builder is None:
        if len(_BUILDERS) > 64:
            _BUILDERS.clear()
        builder = _BUILDERS[make] = MessageBuilder(make)
    return builder
