"""Test helpers around a SimulatedSpot: a bosdyn-client robot logged in to it (the test's own SDK
instance), and look-ups in its ground-truth history."""

import contextlib
from collections.abc import Iterator

import numpy as np


@contextlib.contextmanager
def sdk_robot(spot, name: str, streaming: bool = False, sync: bool = True) -> Iterator:
    """An authenticated bosdyn `Robot` on `spot` (a running SimulatedSpot), time-synced unless
    `sync` is False; with `streaming` the SDK also knows RobotStateStreamingClient. On exit its
    time-sync and token threads are stopped first, then its channels closed (the other order leaves
    a time-sync thread calling on a closed channel)."""
    import bosdyn.client
    sdk = bosdyn.client.create_standard_sdk(name, cert_resource_glob=spot.info["ca_cert"])
    if streaming:
        from bosdyn.client.robot_state import RobotStateStreamingClient
        sdk.register_service_client(RobotStateStreamingClient)
    robot = sdk.create_robot(spot.info["hostname"])
    robot.update_secure_channel_port(spot.port)
    try:
        robot.authenticate(spot.info["username"], spot.info["password"], timeout=5)
        if sync:
            robot.time_sync.wait_for_sync(5)
        yield robot
    finally:
        sdk.clear_robots()
        robot.shutdown()


def snapshot_with_joints(spot, positions, tol: float = 1e-6):
    """The newest snapshot of `spot`'s ground-truth history whose joint positions (rad) equal
    `positions` within `tol`, or None."""
    want = np.asarray(positions)
    for snap in reversed(spot.robot.history()):
        if len(snap.joint_position) == len(want) and np.allclose(snap.joint_position, want, atol=tol, rtol=0):
            return snap
    return None
