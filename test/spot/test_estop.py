"""spot/estop.py: the pure helpers (status lines, power-on refusal lines, foreign endpoints) and
SoftwareEstop against the simulated Spot (registered stopped, never over a foreign endpoint live
or lapsed, explicit take-over, latched lapse and health gate, shutdown)."""

from __future__ import annotations

import logging
import time

import pytest
from bosdyn.api import estop_pb2, robot_state_pb2
from bosdyn.client import power as bd_power
from bosdyn.client.estop import EstopClient, EstopEndpoint, EstopKeepAlive
from waiting import wait_until

from spot_bow_ros.sim import SimulatedSpot
from spot_bow_ros.spot.connection import SpotConnection
from spot_bow_ros.spot.connection_config import ConnectionConfig
from spot_bow_ros.spot.estop import (
    CUT,
    NONE,
    SETTLE_THEN_CUT,
    Foreign,
    SoftwareEstop,
    foreign_endpoints,
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


def test_foreign_endpoints_are_every_registered_endpoint_live_or_lapsed():
    st = _status(NONE, endpoints=[("tablet", NONE, 0.5, 5.0), ("dead", CUT, 30.0, 5.0), ("", CUT, None, 9.0)])
    assert foreign_endpoints(st) == [Foreign("tablet", True, 0.5), Foreign("dead", False, 30.0)]
    assert [str(f) for f in foreign_endpoints(st)] == ["tablet live", "dead lapsed 30 s ago"]
    assert foreign_endpoints(_status(CUT, endpoints=[("", CUT, None, 9.0)])) == []   # nobody registered


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
    assert sim.robot.estop.stop_level() == SETTLE_THEN_CUT     # registered stopped
    assert estop.release().ok and sim.robot.estop.stop_level() == NONE
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


def _tablet(conn, timeout=1.0):
    ep = EstopEndpoint(conn.ensure_client(EstopClient.default_service_name), "tablet", timeout)
    ep.force_simple_setup()
    return ep


def test_a_lapsed_tablet_is_never_taken_over_automatically_only_on_request(conn):
    """The reproduced hazard: a tablet stops checking in (robot SETTLE_THEN_CUT); the software
    E-Stop must not replace its configuration on the next poll, only on an explicit take-over."""
    sim = conn.sim
    tablet = _tablet(conn, timeout=1.0)
    ka = EstopKeepAlive(tablet)
    lines: list[str] = []
    log = type("Log", (), {"info": lambda s, m: None, "warning": lambda s, m: lines.append(m),
                           "error": lambda s, m: lines.append(m)})()
    estop = SoftwareEstop(conn, log, name="bridge", timeout=3.0, release_at_start=True)
    assert not estop.start() and "E-Stop held by someone else (tablet live)" in estop.problem
    refused = estop.takeover()
    assert not refused.ok and refused.text.startswith("estop_takeover refused: tablet live is checking in")
    ka.shutdown()                                                     # the tablet lapses
    assert wait_until(lambda: sim.robot.estop.stop_level() != NONE, 3.0)
    for _ in range(3):
        estop.poll()
    assert not estop.registered and "tablet lapsed" in estop.problem and "estop_takeover" in estop.problem
    assert [ln for ln in lines if "lapsed" in ln] == [lines[-1]]       # one line, not one per poll
    assert [e.endpoint.name for e in sim.robot.estop.status().endpoints] == ["tablet"]   # still the tablet's
    assert sim.robot.estop.stop_level() != NONE
    taken = estop.takeover()                                          # operator request
    assert taken.ok and "SETTLE_THEN_CUT" in taken.text
    assert [e.endpoint.name for e in sim.robot.estop.status().endpoints] == ["bridge"]
    assert sim.robot.estop.stop_level() == SETTLE_THEN_CUT             # taken over stopped, not released
    assert estop.release().ok and sim.robot.estop.stop_level() == NONE
    estop.shutdown()


def test_lapse_and_stale_health_are_latched_at_settle_then_cut(conn):
    sim = conn.sim
    causes: list[str] = []
    stale = {"why": ""}
    estop = SoftwareEstop(conn, logging.getLogger("t"), name="unit", timeout=1.0, release_at_start=True,
                          health=lambda: stale["why"], on_stop=causes.append)
    assert estop.start() and sim.robot.estop.stop_level() == NONE
    stale["why"] = "driver stalled: no heartbeat for 5.0 s"           # stuck executor
    assert wait_until(lambda: sim.robot.estop.stop_level() == SETTLE_THEN_CUT, 2.0)
    assert causes == ["driver stalled: no heartbeat for 5.0 s: the software E-Stop asks SETTLE_THEN_CUT"]
    stale["why"] = ""                                                  # healthy again: stays stopped
    time.sleep(0.8)
    assert sim.robot.estop.stop_level() == SETTLE_THEN_CUT and estop.desired == SETTLE_THEN_CUT
    assert estop.release().ok and sim.robot.estop.stop_level() == NONE
    estop._keepalive.last_ok_mono = time.monotonic() - 5.0            # as after a link loss / SIGSTOP
    assert wait_until(lambda: sim.robot.estop.stop_level() == SETTLE_THEN_CUT, 2.0)
    assert causes[-1].startswith("software E-Stop keep-alive lapsed: no check-in for 5.")
    estop.shutdown()
    assert sim.robot.estop.level_log[-1][1:] == ("unit", SETTLE_THEN_CUT)   # exit asked SETTLE_THEN_CUT


def _quiet_s(sim, name: str) -> float:
    """Seconds since endpoint `name` last checked in validly (the robot's view)."""
    (e,) = [e for e in sim.robot.estop.status().endpoints if e.endpoint.name == name]
    return e.time_since_valid_response.seconds + e.time_since_valid_response.nanos * 1e-9


def test_a_health_check_reconnect_keeps_the_e_stop_checking_in_and_stoppable(tmp_path, caplog):
    """Under load the health check may fail once and the re-connection (authenticate, time sync)
    take longer than estop_timeout. The E-Stop endpoint must go on checking in over the old channel
    (no closed-channel ValueError, no spurious settle) and a stop must still reach the robot; once
    reconnected it checks in over the new channel (said), and the old channels are closed."""
    caplog.set_level(logging.INFO)
    with SimulatedSpot(arm=False, body=True) as sim:
        config = ConnectionConfig.from_params({"sim_info_file": str(sim.write_info(tmp_path / "sim.json")),
                                               "health_check_interval": 0.2, "reconnect_max_backoff": 0.3})
        conn = SpotConnection(config, logging.getLogger("test.connection"))
        conn.connect()
        estop = SoftwareEstop(conn, logging.getLogger("test.estop"), name="unit", timeout=1.5,
                              release_at_start=True)
        try:
            assert estop.start() and sim.robot.estop.stop_level() == NONE
            old_robot, old_client = conn.robot, estop._endpoint.client
            real_check, real_open = conn._check, conn._open
            failed = []

            def check(session):
                if not failed:
                    failed.append(time.monotonic())
                    return "forced health-check failure (test)"
                return real_check(session)

            def slow_open(cfg, timeout):
                time.sleep(2.5)                    # longer than estop_timeout 1.5 s
                return real_open(cfg, timeout)
            conn._check, conn._open = check, slow_open
            assert wait_until(lambda: not conn.connected, 3.0)
            quiet = []
            while not conn.connected and len(quiet) < 40:
                quiet.append(_quiet_s(sim, "unit"))
                time.sleep(0.05)
            assert len(quiet) >= 20 and max(quiet) < 1.5, quiet      # check-ins never stopped
            assert sim.robot.estop.stop_level() == NONE               # the robot did not settle
            result = estop.hard()                                     # a stop during the reconnect
            assert result.ok, result.text
            assert sim.robot.estop.stop_level() == CUT
            assert conn.wait_until_connected(10) and conn.robot is not old_robot
            assert estop._endpoint.client is conn.ensure_client(EstopClient.default_service_name)
            assert estop.release().ok and sim.robot.estop.stop_level() == NONE
            # checking in over the new channel: a fresh valid check-in (the robot's view), however
            # slowly a loaded machine runs the keep-alive thread
            assert wait_until(lambda: _quiet_s(sim, "unit") < 0.3, 15.0), _quiet_s(sim, "unit")
            assert sim.robot.estop.stop_level() == NONE
            with pytest.raises(ValueError):                            # the old channels are closed now
                old_client.get_status(timeout=1.0)
        finally:
            estop.shutdown()
            conn.shutdown()
    text = [r.getMessage() for r in caplog.records]
    assert not [m for m in text if "closed channel" in m or "Generic exception" in m], text
    assert [m for m in text if m.startswith("software E-Stop: checking in over the new connection")], text
