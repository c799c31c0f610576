"""Shared test setup: every test session gets its own DDS domain so parallel runs never mix,
and the same DDS environment in a plain venv as in a sourced ROS 2 shell."""

import os
import random

if "ROS_DOMAIN_ID" not in os.environ or os.environ.get("SPOT_BOW_ROS_TEST_RANDOM_DOMAIN", "1") == "1":
    os.environ["ROS_DOMAIN_ID"] = str(random.SystemRandom().randint(1, 200))

# A sourced ROS 2 shell (or a user's profile) sets these; the DDS tests expect the defaults:
# Jazzy wire conventions, the shipped Cyclone tuning, rcl's default discovery range (SUBNET:
# what the plain-cyclonedds peers of the tests use too) and the standalone backend.
# Subprocesses of the tests inherit the same environment.
PINNED_ENV = {"ROS_DISTRO": "jazzy", "ROS_AUTOMATIC_DISCOVERY_RANGE": "SUBNET",
              "SPOT_BOW_ROS_BACKEND": "standalone"}  # rclpy (and its RMW) would not be the one under test
UNSET_ENV = ("CYCLONEDDS_URI", "ROS_LOCALHOST_ONLY", "ROS_STATIC_PEERS")
os.environ.update(PINNED_ENV)
for _name in UNSET_ENV:
    os.environ.pop(_name, None)


import pytest  # noqa: E402

#: Robot clock minus local clock of the shared simulated Spot: big enough that any stamp left on
#: the wrong clock fails a +-5 ms check.
ROBOT_CLOCK_OFFSET_S = 100.0


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    """A simulated Spot (with arm) whose clock runs +100 s ahead; `sim.info_file` is its JSON
    info file. Modules that need another robot define their own `sim` fixture."""
    from spot_bow_ros.sim import SimulatedSpot

    with SimulatedSpot(clock_offset_s=ROBOT_CLOCK_OFFSET_S) as spot:
        path = tmp_path_factory.mktemp("sim") / "sim_info.json"
        spot.write_info(path)
        spot.info_file = str(path)
        yield spot


@pytest.fixture
def transport():
    """A standalone DDS transport on the test session's ROS_DOMAIN_ID, closed afterwards."""
    from spot_bow_ros.standalone.dds_transport import DdsTransport

    t = DdsTransport(domain_id=int(os.environ["ROS_DOMAIN_ID"]))
    yield t
    t.close()


_LOGGER_CLASS = __import__("logging").getLoggerClass()


@pytest.fixture(autouse=True)
def _keep_the_logging_class():
    """Importing ROS 2's `launch` replaces the process's logging class (launch.logging); tests
    that need `launch` run it in a subprocess, and this puts the class back if one did not."""
    import logging

    yield
    if logging.getLoggerClass() is not _LOGGER_CLASS:
        logging.setLoggerClass(_LOGGER_CLASS)
