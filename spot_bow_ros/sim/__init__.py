"""Simulated Spot: real bosdyn gRPC services over TLS on 127.0.0.1 (see server.py)."""

from .clock import RobotClock
from .server import SimStartError, SimulatedSpot

__all__ = ["RobotClock", "SimStartError", "SimulatedSpot"]
