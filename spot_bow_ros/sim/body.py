"""What the RobotCommand and RobotState servicers use of the simulated robot: the `RobotBody`
protocol. `sim.robot.SimRobot` implements it and builds the servicers; the servicers
(`sim.commands`, `sim.state`) depend on this protocol only, so no import points back at
`sim.robot` (not even for type checking).
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

from .clock import RobotClock
from .estop import EstopSystem
from .health import BatteryModel, BehaviorFaults, MotorThermal, SystemFaults
from .lease import LeaseManager
from .physics import Snapshot, SpotPhysics
from .power import PowerSystem


class RobotBody(Protocol):
    """The simulated robot as its command and state servicers see it (times in ns)."""

    arm: bool
    clock: RobotClock
    #: held while a command changes the physics goals (re-entrant)
    lock: threading.RLock
    leases: LeaseManager
    estop: EstopSystem
    power: PowerSystem
    physics: SpotPhysics
    battery: BatteryModel
    motor_thermal: MotorThermal
    system_faults: SystemFaults
    behavior_faults: BehaviorFaults
    streaming_licence: bool
    #: bumped on every state change a client may wait for
    state_version: int
    #: set when the robot's physics thread stops (ends open state streams). TODO phase 2: a public
    #: `stopped` on SimRobot (sim/robot.py is busy in another branch)
    _stop: threading.Event

    @property
    def faults(self) -> Any:
        """The service fault store reported in robot state."""

    def latest(self) -> Snapshot:
        """The most recent physics snapshot."""

    def snapshots_since(self, robot_ns: int, limit: int = 20) -> list[Snapshot]:
        """Snapshots acquired after `robot_ns` (oldest first, at most `limit`)."""

    def wait_for_state(self, after_robot_ns: int, timeout: float = 1.0) -> Snapshot | None:
        """A snapshot newer than `after_robot_ns` (None on timeout or stop; `timeout` in s)."""

    def record(self, rpc: str, request: Any, status: str, accepted: bool, command_id: int = 0,
               message: str = "", local_ns: int | None = None) -> Any:
        """Log one command RPC for tests and `sim` status (returns the record)."""
