"""Behavior faults of the simulated Spot (robot_state.proto `BehaviorFaultState`).

Tests inject them (`inject(cause, clearable)`); they appear in `RobotState.behavior_fault_state`,
make every RobotCommand answer STATUS_BEHAVIOR_FAULT until cleared with ClearBehaviorFault
(STATUS_CLEARED; an unclearable one answers STATUS_NOT_CLEARED), and an unclearable fault
(e.g. HARDWARE) refuses power-on with STATUS_FAULTED (inferred: the SDK documents FaultedError as
"Cannot power on due to a fault").
"""

from __future__ import annotations

import itertools
import threading

from bosdyn.api import robot_state_pb2

BehaviorFault = robot_state_pb2.BehaviorFault


class BehaviorFaults:
    """Active behavior faults (thread-safe). Timestamps are robot-clock ns."""

    def __init__(self):
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._active: dict[int, BehaviorFault] = {}

    def inject(self, cause: int = BehaviorFault.CAUSE_FALL, clearable: bool = True,
               onset_robot_ns: int = 0) -> int:
        """Add a fault; returns its behavior_fault_id."""
        fault = BehaviorFault(behavior_fault_id=next(self._ids), cause=cause,
                              status=BehaviorFault.STATUS_CLEARABLE if clearable else BehaviorFault.STATUS_UNCLEARABLE)
        fault.onset_timestamp.FromNanoseconds(int(onset_robot_ns))
        with self._lock:
            self._active[fault.behavior_fault_id] = fault
        return fault.behavior_fault_id

    def active(self) -> list[BehaviorFault]:
        with self._lock:
            return list(self._active.values())

    def any(self) -> bool:
        with self._lock:
            return bool(self._active)

    def unclearable(self) -> bool:
        with self._lock:
            return any(f.status == BehaviorFault.STATUS_UNCLEARABLE for f in self._active.values())

    def resolve(self, fault_id: int) -> None:
        """Remove a fault whatever its status (the robot was repaired / a test is done with it)."""
        with self._lock:
            self._active.pop(fault_id, None)

    def clear(self, fault_id: int) -> bool:
        """True if fault `fault_id` was active and clearable (and is now gone)."""
        with self._lock:
            fault = self._active.get(fault_id)
            if fault is None or fault.status != BehaviorFault.STATUS_CLEARABLE:
                return False
            del self._active[fault_id]
            return True
