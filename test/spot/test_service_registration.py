"""spot/service_registration.py against the simulated robot's real directory services.

Checks what the keep-alive itself does (no reconnection callback involved): it registers, comes
back by itself when the robot's directory loses the entry, retries in the background when the
robot is not reachable at start, and unregisters on stop.
"""

from __future__ import annotations

import logging
import time

import pytest
from bosdyn.client.directory_registration import DirectoryRegistrationClient

from spot_bow_ros.sim import SimulatedSpot
from spot_bow_ros.spot.connection import SpotConnection
from spot_bow_ros.spot.connection_config import ConnectionConfig
from spot_bow_ros.spot.service_registration import LiveClient, ServiceRegistration

NAME = "test-payload-service"


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@pytest.fixture
def sim_and_connection():
    sim = SimulatedSpot().start()
    conn = SpotConnection(ConnectionConfig.from_sim_info(sim.info, auth_method="payload"))
    conn.connect()
    yield sim, conn
    conn.shutdown()
    sim.stop()


def test_keep_alive_registers_comes_back_and_unregisters(sim_and_connection):
    sim, conn = sim_and_connection
    reg = ServiceRegistration(LiveClient(conn, DirectoryRegistrationClient.default_service_name), NAME,
                              "bosdyn.api.ImageService", "test-payload", "127.0.0.1", 50051, interval_s=0.3)
    assert reg.start() is True
    entry = sim.directory.get(NAME)
    assert (entry.type, entry.authority) == ("bosdyn.api.ImageService", "test-payload.spot.robot")
    assert sim.directory.route("test-payload.spot.robot").port == 50051
    sim.directory.unregister(NAME)  # the robot's directory lost it (e.g. cleared by the robot)
    wait_for(lambda: sim.directory.get(NAME), 3.0, "the keep-alive to register again")
    reg.stop()
    assert sim.directory.get(NAME) is None
    assert not reg.is_alive()


def test_first_registration_retried_in_background(sim_and_connection, caplog):
    sim, conn = sim_and_connection

    class Flaky:
        """Directory registration client that fails its first two calls, like a booting robot."""

        def __init__(self, real):
            self.real, self.fails = real, 2

        def __getattr__(self, name):
            attr = getattr(self.real, name)
            if name in ("register", "unregister") and self.fails > 0:
                def failing(*a, **k):
                    self.fails -= 1
                    from bosdyn.client.exceptions import UnableToConnectToRobotError
                    raise UnableToConnectToRobotError(None, "robot booting")
                return failing
            return attr

    client = Flaky(LiveClient(conn, DirectoryRegistrationClient.default_service_name))
    reg = ServiceRegistration(client, NAME, "bosdyn.api.ImageService", "test-payload", "127.0.0.1", 50052,
                              interval_s=0.2, logger=logging.getLogger("test.registration"))
    with caplog.at_level(logging.WARNING, logger="test.registration"):
        assert reg.start() is False
        wait_for(lambda: sim.directory.get(NAME), 5.0, "the background registration")
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "retrying" in warnings[0].getMessage()
    reg.stop()
    assert sim.directory.get(NAME) is None
