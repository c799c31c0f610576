"""spot/estop.py: the pure helpers (status lines, power-on refusal lines) and SoftwareEstop
against the simulated Spot (registration, reconnection-safe start level, shutdown)."""

from __future__ import annotations

import logging

import pytest
from bosdyn.api import estop_pb2, robot_state_pb2
from bosdyn.client import power as bd_power

from spot_bow_ros.sim import SimulatedSpot
from spot_bow_ros.spot.connection import SpotConnection
from spot_bow_ros.spot.connection_config import ConnectionConfig
from spot_bow_ros.spot.estop import (
    CUT,
    NONE,
    SETTLE_THEN_CUT,
    SoftwareEstop,
    active_foreign_endpoints,
    level_name,
    power_refusal,
    status_summary,
)

BF = robot_state_pb2.BehaviorFault


def _status(level, details="", endpoints=()):
    st = estop_pb2.EstopSystemStatus(stop_level=level, stop_level_details=details)
    for name, lvl, since_s, timeout_s in endpoints:
        e = st.endpoints.add(stop_level=lvl)
        e.endpoint.name, e.endpoint.role = name, "PDB_rooted"
        e.endpoint.timeout.FromNanoseconds(int(timeout_s * 1e9))
        if since_s is not None:
            e.time_since_valid_response.FromNanoseconds(int(since_s * 1e9))
    return st


def test_level_names_and_summary():
    assert [level_name(v) for v in (CUT, SETTLE_THEN_CUT, NONE, 99)] == ["CUT", "SETTLE_THEN_CUT", "NONE", "UNKNOWN"]
    st = _status(CUT, "Not all endpoints are registered", [("", CUT, None, 9.0)])
    assert status_summary(st) == "CUT (Not all endpoints are registered); endpoints: PDB_rooted CUT"
    assert status_summary(_status(NONE)) == "NONE; no endpoints configured"


def test_active_foreign_endpoints_are_those_checking_in_within_their_timeout():
    st = _status(NONE, endpoints=[("tablet", NONE, 0.5, 5.0), ("dead", CUT, 30.0, 5.0), ("", CUT, None, 9.0)])
    assert active_foreign_endpoints(st) == ["tablet"]


def _err(cls):
    return cls(response=None, error_message=cls.__doc__)


def test_power_refusal_lines_name_the_cause_and_what_to_do():
    ours = _status(CUT, "endpoint 'spot_bow_ros' requested CUT", [("spot_bow_ros", CUT, 0.1, 9.0)])
    assert power_refusal(_err(bd_power.EstoppedError), ours, "spot_bow_ros", True) == (
        "robot is E-Stopped by our software E-Stop (CUT (endpoint 'spot_bow_ros' requested CUT); "
        "endpoints: spot_bow_ros CUT): call estop_release")
    tablet = _status(CUT, "", [("tablet", CUT, 0.1, 5.0)])
    assert power_refusal(_err(bd_power.EstoppedError), tablet, "spot_bow_ros", False).startswith(
        "robot is E-Stopped by another endpoint (tablet): release it there")
    lockout = _status(NONE, "", [("tablet", NONE, 0.1, 5.0)])
    assert "motor lockout" in power_refusal(_err(bd_power.EstoppedError), lockout, "spot_bow_ros", False)
    assert power_refusal(_err(bd_power.KeepaliveMotorsOffError), None, None, False).startswith(
        "robot's keep-alive policy keeps the motors off")
    fault = BF(behavior_fault_id=3, cause=BF.CAUSE_HARDWARE, status=BF.STATUS_UNCLEARABLE)
    assert power_refusal(_err(bd_power.FaultedError), None, None, False, [fault]) == (
        "robot has a fault (behavior fault 3 HARDWARE, unclearable): clear it (clear_behavior_fault) "
        "or inspect the robot")
    for exc in (_err(bd_power.EstoppedError), _err(bd_power.ShorePowerConnectedError)):
        assert "\n" not in power_refusal(exc, ours, "spot_bow_ros", True)


def test_cut_power_timeout_shorter_than_timeout_is_refused():
    with pytest.raises(ValueError, match="shorter than estop_timeout"):
        SoftwareEstop(object(), logging.getLogger("t"), timeout=5.0, cut_power_timeout=2.0)


@pytest.fixture
def conn(tmp_path):
    with SimulatedSpot(arm=False, body=True) as spot:
        with SpotConnection(ConnectionConfig.from_sim_info(spot.info)) as c:
            c.sim = spot
            yield c


def test_software_estop_registers_keeps_the_asked_level_and_deregisters(conn):
    sim = conn.sim
    estop = SoftwareEstop(conn, logging.getLogger("t"), name="unit", timeout=3.0, cut_power_timeout=5.0)
    assert estop.start()
    assert estop.registered and estop.keepalive_alive
    assert sim.robot.estop.stop_level() == NONE
    (ep,) = sim.robot.estop.status().endpoints
    assert (ep.endpoint.name, ep.endpoint.timeout.seconds, ep.endpoint.cut_power_timeout.seconds) == ("unit", 3, 5)
    r = estop.hard()
    assert r.ok and sim.robot.estop.stop_level() == CUT
    assert "robot: CUT" in estop.summary()
    # a set-up from scratch (robot forgot us) comes back at the asked level, never silently NONE
    estop._keepalive.shutdown()
    estop._keepalive = None
    assert estop.start()
    assert sim.robot.estop.stop_level() == CUT
    assert estop.release().ok and sim.robot.estop.stop_level() == NONE
    estop.shutdown()
    assert not estop.registered
    assert [e.HasField("time_since_valid_response") for e in sim.robot.estop.status().endpoints] == [False]


def test_disabled_software_estop_registers_nothing(conn):
    estop = SoftwareEstop(conn, logging.getLogger("t"), enabled=False)
    assert not estop.start()
    assert estop.problem == "parameter estop: none"
    assert not estop.hard().ok
    assert conn.sim.robot.estop.stop_level() == CUT
