"""SpotConnection against the simulated Spot: config sources, auth, time, reconnection, secrets."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from spot_bow_ros.convert import time as tconv
from spot_bow_ros.sim import SimulatedSpot
from spot_bow_ros.spot.connection import (
    NotConnectedError,
    SpotAuthenticationError,
    SpotConnection,
    SpotUnreachableError,
)
from spot_bow_ros.spot.connection_config import CONNECTION_PARAMS, ConnectionConfig, ConnectionConfigError

OFFSET_S = 100.0


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    with SimulatedSpot(clock_offset_s=OFFSET_S, body=False,
                       state_dir=tmp_path_factory.mktemp("sim-state")) as spot:
        yield spot


@pytest.fixture
def info_file(sim, tmp_path):
    return str(sim.write_info(tmp_path / "sim.json"))


def _sdk_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate()
            if "_timesync_thread" in t.name or "(update)" in t.name or t.name.startswith("spot-connection")}


def test_params_cover_the_contract():
    names = {p.name for p in CONNECTION_PARAMS}
    assert {"hostname", "port", "ca_cert", "username", "password", "payload_credentials_file",
            "sim_info_file", "time_sync_interval", "connect_timeout"} <= names
    assert next(p for p in CONNECTION_PARAMS if p.name == "port").default == 443


def test_env_credentials(sim, monkeypatch):
    monkeypatch.setenv("BOSDYN_CLIENT_USERNAME", sim.info["username"])
    monkeypatch.setenv("BOSDYN_CLIENT_PASSWORD", sim.info["password"])
    config = ConnectionConfig.from_params({"hostname": "127.0.0.1", "port": sim.port,
                                           "ca_cert": sim.info["ca_cert"]})
    assert config.username == sim.info["username"] and not config.uses_payload_credentials
    conn = SpotConnection(config)
    try:
        robot = conn.connect()
        assert robot.get_id().serial_number == sim.info["serial_number"]
    finally:
        conn.shutdown()


def test_password_file_logs_in_and_errors_never_show_the_password(sim, tmp_path, monkeypatch):
    """On the ROS route the password comes from the environment or a file, never a parameter
    that `ros2 param get` would show."""
    monkeypatch.delenv("BOSDYN_CLIENT_PASSWORD", raising=False)
    secret = tmp_path / "robot_password"
    secret.write_text(sim.info["password"] + "\n")
    config = ConnectionConfig.from_params({"hostname": "127.0.0.1", "port": sim.port, "ca_cert": sim.info["ca_cert"],
                                           "username": sim.info["username"], "password_file": str(secret)})
    assert config.password == sim.info["password"] and sim.info["password"] not in repr(config)
    conn = SpotConnection(config)
    try:
        assert conn.connect().get_id().serial_number == sim.info["serial_number"]
    finally:
        conn.shutdown()
    with pytest.raises(ConnectionConfigError, match="cannot read password file .*missing"):
        ConnectionConfig.from_params({"hostname": "h", "username": "u", "password_file": str(tmp_path / "missing")})
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(ConnectionConfigError, match="is empty"):
        ConnectionConfig.from_params({"hostname": "h", "username": "u", "password_file": str(tmp_path / "empty")})


def test_missing_credentials_is_a_clear_config_error(sim, monkeypatch):
    monkeypatch.delenv("BOSDYN_CLIENT_USERNAME", raising=False)
    monkeypatch.delenv("BOSDYN_CLIENT_PASSWORD", raising=False)
    with pytest.raises(ConnectionConfigError, match="BOSDYN_CLIENT_USERNAME"):
        ConnectionConfig.from_params({"hostname": "127.0.0.1", "port": sim.port})
    with pytest.raises(ConnectionConfigError, match="hostname"):
        ConnectionConfig.from_params({"username": "u", "password": "p"})


def test_payload_credentials_file(sim, tmp_path):
    creds = tmp_path / "payload_guid_and_secret"
    creds.write_text(f"{sim.info['payload_guid']}\n{sim.info['payload_secret']}\n")
    config = ConnectionConfig.from_params({"hostname": "127.0.0.1", "port": sim.port,
                                           "ca_cert": sim.info["ca_cert"],
                                           "payload_credentials_file": str(creds)})
    assert config.uses_payload_credentials
    with SpotConnection(config) as conn:
        assert conn.robot.user_token
        assert conn.ensure_client("directory").list(timeout=3)


def test_sim_info_file_and_time_conversions(sim, info_file):
    config = ConnectionConfig.from_params({"sim_info_file": info_file})
    assert (config.hostname, config.port) == ("127.0.0.1", sim.port)
    with SpotConnection(config) as conn:
        local = time.time_ns()
        truth_robot = sim.clock.robot_ns(local)
        assert abs(conn.local_to_robot_ns(local) - truth_robot) < 5e6
        assert abs(conn.robot_to_local_ns(truth_robot) - local) < 5e6
        assert abs(conn.robot_to_local_ns(tconv.ns_to_timestamp(truth_robot)) - local) < 5e6
        assert abs(tconv.timestamp_to_ns(conn.robot_timestamp(local)) - truth_robot) < 5e6
        sec, nanosec = conn.robot_to_ros_stamp(tconv.ns_to_timestamp(truth_robot))
        assert abs(sec * 10**9 + nanosec - local) < 5e6


def test_sim_info_dict_and_payload_auth(sim):
    assert not ConnectionConfig.from_sim_info(sim.info).uses_payload_credentials
    config = ConnectionConfig.from_sim_info(sim.info, auth_method="payload")
    assert config.uses_payload_credentials
    with SpotConnection(config) as conn:
        assert conn.ensure_client("directory").list(timeout=3)


def test_wrong_password_fails_fast(sim):
    config = ConnectionConfig(hostname="127.0.0.1", port=sim.port, ca_cert=sim.info["ca_cert"],
                              username=sim.info["username"], password="not-the-password")
    conn = SpotConnection(config)
    start = time.monotonic()
    with pytest.raises(SpotAuthenticationError, match="rejected the password of user 'user'.*6 failed logins"):
        conn.connect()
    assert time.monotonic() - start < 3
    with pytest.raises(NotConnectedError):
        _ = conn.robot
    conn.shutdown()


def test_background_connection_does_not_retry_a_rejected_password(sim, caplog):
    """Retrying a wrong password would lock the robot's login: one error line, no retries."""
    config = ConnectionConfig(hostname="127.0.0.1", port=sim.port, ca_cert=sim.info["ca_cert"],
                              username=sim.info["username"], password="not-the-password",
                              reconnect_max_backoff=0.1)
    caplog.set_level(logging.INFO, logger="test.auth")
    conn = SpotConnection(config, logging.getLogger("test.auth"))
    conn.start()
    try:
        deadline = time.monotonic() + 5
        while conn._monitor.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not conn._monitor.is_alive()      # the monitor gave up
        time.sleep(0.5)
        with pytest.raises(SpotAuthenticationError):
            conn.connect(timeout=1)
    finally:
        conn.shutdown()
    errors = [r.getMessage() for r in caplog.records if r.name == "test.auth" and r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "rejected the password" in errors[0] and "; retrying" not in errors[0]


def _unreachable(config: ConnectionConfig) -> str:
    conn = SpotConnection(config)
    try:
        with pytest.raises(SpotUnreachableError) as info:
            conn.connect(timeout=5)
    finally:
        conn.shutdown()
    return str(info.value)


def test_wrong_ca_names_the_certificate(sim, tmp_path):
    import bosdyn.client
    other_ca = tmp_path / "other_ca.pem"
    other_ca.write_bytes(bosdyn.client.create_standard_sdk("ca-test").cert)  # Boston Dynamics' CA
    base = dict(hostname="127.0.0.1", port=sim.port, username="user", password="x", connect_timeout=3)
    text = _unreachable(ConnectionConfig(ca_cert=str(other_ca), **base))
    assert f"CA certificate {other_ca} does not trust" in text and f"127.0.0.1:{sim.port}" in text
    assert "bundled Boston Dynamics robot CA" in _unreachable(ConnectionConfig(ca_cert="", **base))


def test_closed_port_and_unresolvable_host_are_named(sim):
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    base = dict(ca_cert=sim.info["ca_cert"], username="user", password="x", connect_timeout=2)
    text = _unreachable(ConnectionConfig(hostname="127.0.0.1", port=closed, **base))
    assert text == f"robot at 127.0.0.1:{closed} does not answer: connection refused"
    text = _unreachable(ConnectionConfig(hostname="spot.invalid", port=443, **base))
    assert text.startswith("cannot resolve robot host 'spot.invalid' (port 443)")


def test_shared_connection_is_reference_counted(sim, info_file):
    before = _sdk_threads()
    config = ConnectionConfig.from_sim_info(info_file)
    a = SpotConnection.shared(config)
    b = SpotConnection.shared(ConnectionConfig.from_sim_info(info_file))
    assert a is b
    a.connect()
    b.connect()
    timesync_threads = [t for t in _sdk_threads() - before if "_timesync_thread" in t.name]
    assert len(timesync_threads) == 1
    a.shutdown()
    assert b.connected
    b.shutdown()
    assert not b.connected
    deadline = time.monotonic() + 3
    while _sdk_threads() - before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not (_sdk_threads() - before)


def test_reconnects_after_sim_restart_without_leaking_secrets(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    state = tmp_path / "state"
    first = SimulatedSpot(clock_offset_s=OFFSET_S, body=False, state_dir=state).start()
    port = first.port
    info = first.write_info(tmp_path / "sim.json")
    secrets = [first.info["password"], first.info["payload_secret"]]
    config = ConnectionConfig.from_params({"sim_info_file": str(info), "health_check_interval": 0.2,
                                           "reconnect_max_backoff": 0.5})
    assert first.info["password"] not in repr(config)
    conn = SpotConnection(config, logging.getLogger("test.connection"))
    connected, lost = [], []
    conn.on_connected(connected.append)
    conn.on_disconnected(lambda: lost.append(time.monotonic()))
    second = None
    try:
        conn.connect()
        secrets.append(conn.robot.user_token)
        assert len(connected) == 1
        first.stop()
        deadline = time.monotonic() + 5
        while not lost and time.monotonic() < deadline:
            time.sleep(0.05)
        assert lost and not conn.connected

        second = SimulatedSpot(port=port, clock_offset_s=OFFSET_S, body=False, state_dir=state).start()
        restarted = time.monotonic()
        assert conn.wait_until_connected(10)
        assert time.monotonic() - restarted < 10
        assert len(connected) == 2 and connected[1] is conn.robot
        assert conn.ensure_client("robot-id").get_id(timeout=3).serial_number == second.info["serial_number"]
        now = time.time_ns()     # one instant for both: no scheduling gap (GC pause) between two reads
        assert abs(conn.local_to_robot_ns(now) - second.clock.robot_ns(now)) < 5e6
        secrets.append(conn.robot.user_token)
    finally:
        conn.shutdown()
        first.stop()
        if second is not None:
            second.stop()

    ours = [r.getMessage() for r in caplog.records if r.name == "test.connection"]
    for phrase in ("connected to Spot", "lost connection", "reconnecting", "recovered connection"):
        assert sum(m.startswith(phrase) for m in ours) == 1, (phrase, ours)
    everything = "\n".join(r.getMessage() for r in caplog.records)
    for secret in secrets:
        assert secret and secret not in everything


def test_concurrent_connects_make_one_session(sim, info_file):
    conn = SpotConnection(ConnectionConfig.from_sim_info(info_file))
    opened = []
    real_open = conn._open
    conn._open = lambda *a, **k: opened.append(1) or real_open(*a, **k)
    connected = []
    conn.on_connected(connected.append)
    robots = []
    threads = [threading.Thread(target=lambda: robots.append(conn.connect())) for _ in range(4)]
    conn.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    try:
        assert len(robots) == 4 and all(r is robots[0] for r in robots)
        assert connected == [robots[0]]
        assert len(opened) == 1  # one Sdk/Robot, hence one TimeSyncThread
    finally:
        conn.shutdown()


def test_background_start_waits_for_the_robot(tmp_path, caplog):
    import socket
    with socket.socket() as s:  # a free port nobody listens on yet
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    state = tmp_path / "state"
    sim = SimulatedSpot(port=port, body=False, state_dir=state)
    config = None
    caplog.set_level(logging.INFO, logger="test.bg")
    try:
        # the info a launch file would have from an earlier run: same state dir, same port
        sim.start()
        config = ConnectionConfig.from_sim_info(sim.info, reconnect_max_backoff=0.3)
        sim.stop()
        conn = SpotConnection(config, logging.getLogger("test.bg"))
        connected = []
        conn.on_connected(connected.append)
        conn.start()
        time.sleep(0.5)
        assert not conn.connected and connected == []
        sim = SimulatedSpot(port=port, body=False, state_dir=state).start()
        assert conn.wait_until_connected(10)
        assert len(connected) == 1
        conn.shutdown()
    finally:
        sim.stop()
    messages = [r.getMessage() for r in caplog.records if r.name == "test.bg"]
    assert sum(m.startswith("waiting for Spot") for m in messages) == 1
    assert sum(m.startswith("connected to Spot") for m in messages) == 1
