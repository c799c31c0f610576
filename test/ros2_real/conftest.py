"""The real-ROS tier: spot_bow_ros against a real ROS 2 Jazzy (rclpy, ros2cli, launch, rosbag2,
rmw_cyclonedds_cpp), every process of a test inside a private network namespace.

It runs when SPOT_BOW_ROS2_REAL=1 (`.ci/run` sets it after installing ../shared/ros2-jazzy with
its setup.sh) and a Jazzy is installed at SPOT_BOW_ROS2_PREFIX (default /opt/ros2-jazzy);
otherwise every test here is skipped with one line saying why:

    SPOT_BOW_ROS2_REAL=1 python -m pytest -q test/ros2_real

The tests run from the project's venv (its python is the standalone runtime); ROS 2 commands run
in bash scripts that source the Jazzy environment, inside `unshare -n` (root) with loopback
and, where the host matters, a veth "host interface" 10.254.0.2/24 that leads nowhere.
"""

from pathlib import Path

import pytest

from ros2_real.ros2_tier import PREFIX, SKIP_REASON, build_workspace


def pytest_collection_modifyitems(config, items):
    if SKIP_REASON is None:
        return
    mark = pytest.mark.skip(reason=SKIP_REASON)
    for item in items:
        if Path(str(item.fspath)).is_relative_to(Path(__file__).parent):
            item.add_marker(mark)


def pytest_terminal_summary(terminalreporter):
    if SKIP_REASON is not None:
        terminalreporter.write_line(SKIP_REASON)


@pytest.fixture(scope="session")
def ros_env() -> dict:
    """Just a guard: the tier's tests need the checks above to have passed."""
    if SKIP_REASON is not None:
        pytest.skip(SKIP_REASON)
    return {"prefix": str(PREFIX)}


@pytest.fixture(scope="session")
def workspace(ros_env, tmp_path_factory) -> Path:
    """A colcon workspace with spot_bow_ros built (plain build) in a README-route venv."""
    ws = tmp_path_factory.mktemp("ws")
    out = build_workspace(ws)
    if out.returncode != 0:
        pytest.fail(f"README ROS route failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
    return ws


