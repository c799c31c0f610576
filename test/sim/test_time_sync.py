"""The simulated Spot's time sync (sim/time_sync.py) with the real bosdyn clients: status
progression, server-assigned clock identifier, robot-clock headers, a robot that has just booted
(STATUS_MORE_SAMPLES_NEEDED for a while) and RobotCommand's STATUS_NO_TIMESYNC."""

from __future__ import annotations

import time

import pytest
from bosdyn.api import header_pb2, robot_command_pb2, time_sync_pb2
from bosdyn.client.lease import LeaseClient, LeaseKeepAlive
from bosdyn.client.robot_command import (
    NoTimeSyncError,
    RobotCommandBuilder,
    RobotCommandClient,
    _robot_command_error,
    _robot_command_value,
)
from bosdyn.client.time_sync import TimedOutError, TimeSyncClient
from sim_client import sdk_robot

from spot_bow_ros.convert import time as tconv
from spot_bow_ros.sim import SimulatedSpot

OFFSET_S = 50.0
TS = time_sync_pb2.TimeSyncState


def _round_trip(client, identifier="", previous=None):
    tx = time.time_ns()
    resp = client.get_time_sync_update(previous, identifier or None, timeout=3)
    rx = time.time_ns()
    return resp, tx, rx


def test_first_answers_need_more_samples_then_ok_with_server_assigned_identifier():
    with SimulatedSpot(clock_offset_s=OFFSET_S, arm=False, body=False) as spot:
        with sdk_robot(spot, "time-sync-test", sync=False) as robot:
            client = robot.ensure_client(TimeSyncClient.default_service_name)
            resp, tx, rx = _round_trip(client)
            assert resp.header.error.code == header_pb2.CommonError.CODE_OK
            assert resp.state.status == TS.STATUS_MORE_SAMPLES_NEEDED
            identifier = resp.clock_identifier
            assert len(identifier) >= 16                     # assigned by the robot
            # header timestamps on the robot clock (+50 s), around our send/receive times
            received = tconv.timestamp_to_ns(resp.header.request_received_timestamp)
            assert tx + OFFSET_S * 1e9 - 5e6 < received < rx + OFFSET_S * 1e9 + 5e6
            assert tconv.timestamp_to_ns(resp.header.response_timestamp) >= received
            statuses, previous = [resp.state.status], None
            for _ in range(8):
                previous = time_sync_pb2.TimeSyncRoundTrip()
                previous.client_tx.CopyFrom(tconv.ns_to_timestamp(tx))
                previous.server_rx.CopyFrom(resp.header.request_received_timestamp)
                previous.server_tx.CopyFrom(resp.header.response_timestamp)
                previous.client_rx.CopyFrom(tconv.ns_to_timestamp(rx))
                resp, tx, rx = _round_trip(client, identifier, previous)
                assert resp.clock_identifier == identifier
                statuses.append(resp.state.status)
            first_ok = statuses.index(TS.STATUS_OK)
            assert first_ok >= 2 and set(statuses[:first_ok]) == {TS.STATUS_MORE_SAMPLES_NEEDED}
            skew_ns = tconv.duration_to_ns(resp.state.best_estimate.clock_skew)
            assert abs(skew_ns - OFFSET_S * 1e9) < 5e6
            assert spot.time_sync.is_synced(identifier) and not spot.time_sync.is_synced("other")


def test_an_identifier_from_before_a_restart_gets_a_new_one():
    """A restarted robot forgets the identifiers it issued: asked with one it did not issue, it
    answers with a new identifier and STATUS_MORE_SAMPLES_NEEDED (the previous round trip, measured
    against the old clock, is not a sample); its own identifiers are kept."""
    with SimulatedSpot(clock_offset_s=OFFSET_S, arm=False, body=False) as spot:
        with sdk_robot(spot, "time-sync-test") as robot:
            client = robot.ensure_client(TimeSyncClient.default_service_name)
            mine = robot.time_sync.endpoint.clock_identifier
            resp, _, _ = _round_trip(client, mine)
            assert resp.clock_identifier == mine and resp.state.status == TS.STATUS_OK
            before = robot.time_sync.endpoint.response.header
            previous = time_sync_pb2.TimeSyncRoundTrip()
            previous.client_tx.CopyFrom(tconv.ns_to_timestamp(time.time_ns()))
            previous.server_rx.CopyFrom(before.request_received_timestamp)
            previous.server_tx.CopyFrom(before.response_timestamp)
            previous.client_rx.CopyFrom(tconv.ns_to_timestamp(time.time_ns()))
            resp, _, _ = _round_trip(client, "issued-before-a-restart", previous)
            assert resp.clock_identifier not in ("", "issued-before-a-restart", mine)
            assert resp.state.status == TS.STATUS_MORE_SAMPLES_NEEDED
            assert not resp.HasField("previous_estimate")
            assert not spot.time_sync.is_synced("issued-before-a-restart")


def test_a_robot_that_has_just_booted_needs_more_samples_for_a_while():
    with SimulatedSpot(arm=False, body=False, time_sync_ready_after_s=1.0) as spot:
        with sdk_robot(spot, "time-sync-test", sync=False) as robot:
            t0 = time.monotonic()
            with pytest.raises(TimedOutError):
                robot.time_sync.wait_for_sync(0.4)
            assert robot.time_sync.endpoint.response.state.status == TS.STATUS_MORE_SAMPLES_NEEDED
            robot.time_sync.wait_for_sync(3)
            assert time.monotonic() - t0 >= 0.9


@pytest.fixture
def powered():
    with SimulatedSpot(arm=False, estop_required=False) as spot:
        spot.robot.power.on_duration_ns = int(0.2e9)
        with sdk_robot(spot, "time-sync-test") as robot:
            with LeaseKeepAlive(robot.ensure_client(LeaseClient.default_service_name), must_acquire=True,
                                return_at_exit=True):
                robot.power_on(timeout_sec=5)
                yield spot, robot


def test_velocity_without_a_synced_clock_identifier_is_no_timesync(powered):
    spot, robot = powered
    client = robot.ensure_client(RobotCommandClient.default_service_name)
    command = RobotCommandBuilder.synchro_velocity_command(0.2, 0.0, 0.0)
    end = robot.time_sync.robot_timestamp_from_local_secs(time.time() + 0.5)
    command.synchronized_command.mobility_command.se2_velocity_request.end_time.CopyFrom(end)
    for identifier, why in (("", "no clock_identifier"), ("made-up", "is not time-synced")):
        req = robot_command_pb2.RobotCommandRequest(command=command, clock_identifier=identifier)
        with pytest.raises(NoTimeSyncError):
            client.call(client._stub.RobotCommand, req, _robot_command_value, _robot_command_error, timeout=3)
        assert spot.robot.commands("RobotCommand")[-1].status == "STATUS_NO_TIMESYNC"
        assert why in spot.robot.commands("RobotCommand")[-1].message
    # the SDK's own path sends the synced identifier: accepted, frame "body"
    client.robot_command(RobotCommandBuilder.synchro_velocity_command(0.2, 0.0, 0.0),
                         end_time_secs=time.time() + 0.5, timeout=3)
    rec = spot.robot.commands("RobotCommand")[-1]
    assert rec.accepted and rec.request.clock_identifier == robot.time_sync.endpoint.clock_identifier
    assert rec.request.command.synchronized_command.mobility_command.se2_velocity_request.se2_frame_name == "body"
    # commands without a robot-clock time do not need it (stand)
    req = robot_command_pb2.RobotCommandRequest(command=RobotCommandBuilder.synchro_stand_command())
    client.call(client._stub.RobotCommand, req, _robot_command_value, _robot_command_error, timeout=3)
    assert spot.robot.commands("RobotCommand")[-1].accepted
