"""Test helpers around a SimulatedSpot: a bosdyn-client robot logged in to it (the test's own SDK
instance), and look-ups in its ground-truth history."""

import collections
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


@contextlib.contextmanager
def estop_required_sim(tmp_path, power_on_s: float = 0.3) -> Iterator:
    """A SimulatedSpot of its own (no arm) that requires an E-Stop endpoint (as a real robot
    does), powers on in `power_on_s` s, its info file written under `tmp_path` (`spot.info_file`)."""
    from spot_bow_ros.sim import SimulatedSpot
    with SimulatedSpot(arm=False) as spot:
        spot.robot.power.on_duration_ns = int(power_on_s * 1e9)
        spot.info_file = str(spot.write_info(tmp_path / "sim.json"))
        yield spot


class CountingCalls(collections.deque):
    """A simulator call log (`spot.calls = CountingCalls()`) that counts every method by name;
    as the simulator's own deque, it keeps the last 1000 calls only."""

    def __init__(self):
        super().__init__(maxlen=1000)
        self.counts: collections.Counter = collections.Counter()

    def append(self, call):
        self.counts[call[0].rsplit("/", 1)[-1]] += 1
        super().append(call)
