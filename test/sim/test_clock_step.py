"""The simulated Spot's clock stepping (`SimulatedSpot.step_clock`, sim/clock.py, sim/time_sync.py)
through the real bosdyn time-sync client: the robot's headers jump at once, the clock identifier
stays and stays synced (commands keep working), and the estimate is rebuilt from round trips
measured after the step (a previous round trip from before the step is no sample)."""

from __future__ import annotations

import time

from bosdyn.api import time_sync_pb2
from sim_client import sdk_robot

from spot_bow_ros.convert import time as tconv
from spot_bow_ros.sim import RobotClock, SimulatedSpot

OFFSET_S, STEP_S = 50.0, -7.5
TOL_NS = 5_000_000   # the simulator is on this machine: time sync finds its offset within 5 ms
TS = time_sync_pb2.TimeSyncState


def test_robot_clock_step_moves_robot_time_and_back_conversion():
    clock = RobotClock(offset_s=1.0, epoch_ns=0)
    local = 1_000_000_000_000
    assert clock.robot_ns(local) == local + 1_000_000_000
    clock.step(2.5)
    assert clock.robot_ns(local) == local + 3_500_000_000
    assert clock.local_ns(clock.robot_ns(local)) == local


def test_step_keeps_the_identifier_synced_and_the_estimate_follows_after_new_samples():
    with SimulatedSpot(clock_offset_s=OFFSET_S, arm=False, body=False) as spot:
        with sdk_robot(spot, "clock-step-test") as robot:
            robot.time_sync.time_sync_interval_sec = 3600   # only this test's round trips
            endpoint = robot.time_sync.endpoint
            identifier = endpoint.clock_identifier
            assert abs(tconv.duration_to_ns(endpoint.clock_skew) - OFFSET_S * 1e9) < TOL_NS
            spot.step_clock(STEP_S)
            assert abs(spot.clock.robot_ns(time.time_ns()) - time.time_ns() - (OFFSET_S + STEP_S) * 1e9) < TOL_NS
            # the next update carries the round trip measured before the step: not a sample
            endpoint.get_new_estimate()
            response = endpoint.response
            assert response.clock_identifier == identifier
            assert response.state.status == TS.STATUS_MORE_SAMPLES_NEEDED
            assert not response.HasField("previous_estimate")
            assert spot.time_sync.is_synced(identifier)   # RobotCommands with this clock still accepted
            received = tconv.timestamp_to_ns(response.header.request_received_timestamp)
            assert abs(received - time.time_ns() - (OFFSET_S + STEP_S) * 1e9) < 1e9   # headers on the new clock
            assert endpoint.establish_timesync(max_samples=25, break_on_success=True)
            assert endpoint.clock_identifier == identifier
            assert abs(tconv.duration_to_ns(endpoint.clock_skew) - (OFFSET_S + STEP_S) * 1e9) < TOL_NS
