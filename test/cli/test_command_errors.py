"""The installed `spot-bow-ros` command (from PATH) at its edges: every user error is one line
and an exit code (usage 2, runtime 1), no traceback; checked before anything starts.

Robot errors run against the simulated Spot: wrong password, wrong payload secret, wrong CA;
unreachable is a closed local port, unresolvable a `.invalid` host name.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

COMMAND = shutil.which("spot-bow-ros")


def spot_bow_ros(*args: str, timeout: float = 60, env: dict | None = None) -> subprocess.CompletedProcess:
    """The installed command with `args`; `env` adds to (None values: removes from) the environment."""
    assert COMMAND, "spot-bow-ros is not on PATH (pip install the package into the environment)"
    environ = dict(os.environ, PYTHONUNBUFFERED="1")
    for key, value in (env or {}).items():
        environ.pop(key, None) if value is None else environ.__setitem__(key, value)
    return subprocess.run([COMMAND, *args], capture_output=True, text=True, timeout=timeout, env=environ)


def one_line(proc: subprocess.CompletedProcess, code: int) -> str:
    """The single line a failing command printed (stderr), after checking code and silence."""
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def webcam_only_config(tmp_path: Path, webcam: dict | None = None, extra: dict | None = None) -> Path:
    """A params file running only the webcam bridge (test pattern): no robot, no simulator."""
    doc = {"spot_bow": {"ros__parameters": {f"enable_{b}": b == "webcam" for b in
                                            ("webcam", "spot_cameras", "proprioception", "motor_command",
                                             "image_service")}},
           "webcam": {"ros__parameters": {"device": "test_pattern", **(webcam or {})}}}
    doc.update(extra or {})
    path = tmp_path / "webcam_only.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


# -- the command itself --------------------------------------------------------------------------
def test_installed_command_on_path_prints_its_version():
    from spot_bow_ros import __version__

    proc = spot_bow_ros("--version")
    assert proc.returncode == 0 and proc.stdout.strip() == f"spot-bow-ros {__version__}"


def test_log_level_is_accepted_before_and_after_the_subcommand():
    from spot_bow_ros.cli import build_parser

    parser = build_parser()
    assert parser.parse_args(["run", "--log-level", "debug"]).log_level == "debug"
    assert parser.parse_args(["--log-level", "warning", "run"]).log_level == "warning"
    assert parser.parse_args(["topic", "list", "--log-level", "error"]).log_level == "error"
    assert parser.parse_args(["run"]).log_level == "info"
    assert parser.parse_args(["--log-level", "debug", "sim"]).log_level == "debug"
    assert parser.parse_args(["sim", "--log-level", "error"]).log_level == "error"
    assert parser.parse_args(["sim"]).log_level == "info"


def test_every_subcommand_and_argument_has_a_help_text():
    from spot_bow_ros.cli import build_parser
    from spot_bow_ros.cli.command import _all_parsers

    missing = []
    for parser in _all_parsers(build_parser()):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                missing += [f"{parser.prog} {a.dest}" for a in action._choices_actions if not a.help]
            elif not action.help and not isinstance(action, argparse._HelpAction):
                missing.append(f"{parser.prog} {'/'.join(action.option_strings) or action.dest}")
    assert missing == []


@pytest.mark.parametrize("args", [["run", "--duration", "0"], ["run", "--duration", "-2"],
                                  ["run", "--no-such-flag"], ["topic", "echo"]])
def test_usage_errors_are_one_line_exit_2(args):
    line = one_line(spot_bow_ros(*args), 2)
    assert line.startswith("spot-bow-ros") and "error:" in line


def test_unwritable_record_path_is_one_line(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    line = one_line(spot_bow_ros("run", "--record", str(blocker / "bag"), "--duration", "1"), 1)
    assert f"cannot record to {blocker / 'bag'}" in line


def test_bad_parameter_value_is_refused_before_anything_starts(tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text(yaml.safe_dump({"motor_command": {"ros__parameters": {"max_linear_velocity": 99.0}}}))
    line = one_line(spot_bow_ros("run", "--config", str(config), "--duration", "5"), 2)
    assert "motor_command" in line and "max_linear_velocity" in line and "maximum" in line


def test_foxglove_port_busy_is_one_line(tmp_path):
    import importlib.util

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        line = one_line(spot_bow_ros("run", "--config", str(webcam_only_config(tmp_path)), "--duration", "5",
                                     "--foxglove", str(port)), 1)
    if importlib.util.find_spec("foxglove") is None:
        assert "foxglove-sdk" in line
    else:
        assert f"port {port} is busy" in line


# -- the robot ------------------------------------------------------------------------------------
def run_robot(sim, password: str | None = None, **changes) -> subprocess.CompletedProcess:
    """`spot-bow-ros run` against `sim` as a robot (--hostname ...), the password (default: the
    simulator's) in BOSDYN_CLIENT_PASSWORD as the README says; a flag changed to None is left out."""
    values = {"--hostname": "127.0.0.1", "--port": str(sim.port), "--ca-cert": sim.info["ca_cert"],
              "--username": sim.info["username"], "--duration": "10"}
    values.update(changes)
    args = ["run", "--no-status"] + [item for kv in values.items() if kv[1] is not None for item in kv]
    return spot_bow_ros(*args, env={"BOSDYN_CLIENT_PASSWORD": sim.info["password"] if password is None else password,
                                    "BOSDYN_CLIENT_USERNAME": None})


def test_wrong_password_names_the_user_and_the_lockout(sim):
    started = time.monotonic()
    line = one_line(run_robot(sim, password="not-it"), 1)
    assert f"rejected the password of user '{sim.info['username']}'" in line
    assert "6 failed logins" in line and "not retrying" in line
    assert time.monotonic() - started < 10


def test_wrong_payload_secret_names_the_payload(sim, tmp_path):
    credentials = tmp_path / "payload.txt"
    credentials.write_text(f"{sim.info['payload_guid']}\nnot-the-secret\n")
    line = one_line(run_robot(sim, password="", **{"--username": None, "--payload-credentials": str(credentials)}), 1)
    assert f"payload secret of payload {sim.info['payload_guid']}" in line and "6 failed logins" in line


def test_wrong_ca_names_the_certificate(sim, tmp_path):
    import bosdyn.client

    other = tmp_path / "boston_dynamics_ca.pem"
    other.write_bytes(bosdyn.client.create_standard_sdk("ca").cert)
    line = one_line(run_robot(sim, **{"--ca-cert": str(other)}), 1)
    assert f"CA certificate {other} does not trust" in line and f"127.0.0.1:{sim.port}" in line
    assert "CERTIFICATE_VERIFY_FAILED" not in line


def test_closed_port_names_host_and_port(sim):
    port = free_port()
    line = one_line(run_robot(sim, **{"--port": str(port)}), 1)
    assert f"robot at 127.0.0.1:{port} does not answer" in line


def free_port_with_429() -> int:
    """A free port whose number contains "429". bosdyn names an UNAVAILABLE gRPC error
    TooManyRequestsError when its details contain "429", as "127.0.0.1:42909" does."""
    for port in range(42900, 43000):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.skip("no free port 42900-42999")


def test_robot_on_a_port_containing_429_still_gets_the_right_line(tmp_path):
    import bosdyn.client

    from spot_bow_ros.sim import SimulatedSpot

    with SimulatedSpot(port=free_port_with_429()) as spot:
        other = tmp_path / "boston_dynamics_ca.pem"
        other.write_bytes(bosdyn.client.create_standard_sdk("ca").cert)
        line = one_line(run_robot(spot, **{"--ca-cert": str(other)}), 1)
        assert f"CA certificate {other} does not trust" in line and f"127.0.0.1:{spot.port}" in line
        line = one_line(run_robot(spot, **{"--hostname": "no-such-spot.invalid"}), 1)
        assert "cannot resolve robot host 'no-such-spot.invalid' (port" in line


def test_unresolvable_host_names_it(sim):
    line = one_line(run_robot(sim, **{"--hostname": "no-such-spot.invalid"}), 1)
    assert "cannot resolve robot host 'no-such-spot.invalid' (port" in line


# -- runs that work --------------------------------------------------------------------------------
def test_existing_bag_dir_gets_a_timestamped_sibling_and_typos_get_a_hint(tmp_path):
    bag = tmp_path / "bag"
    bag.mkdir()
    config = webcam_only_config(tmp_path, webcam={"devise": "0"},
                                extra={"webcm": {"ros__parameters": {"fps": 10.0}}})
    proc = spot_bow_ros("run", "--config", str(config), "--duration", "2", "--no-status",
                        "--record", str(bag), "--exclude-raw-images")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    siblings = [p for p in tmp_path.iterdir() if p.name.startswith("bag_")]
    assert len(siblings) == 1 and list(bag.iterdir()) == []
    notes = [line for line in proc.stderr.splitlines() if f"--record {bag} exists: recording to" in line]
    assert len(notes) == 1 and str(siblings[0]) in notes[0]
    assert any("'devise'" in line and "did you mean 'device'" in line for line in proc.stderr.splitlines())
    assert any("'webcm'" in line and "did you mean 'webcam'" in line for line in proc.stderr.splitlines())
    # --exclude-raw-images: the compressed topic is recorded, the raw one is not
    from rosbags.rosbag2 import Reader

    with Reader(siblings[0]) as reader:
        topics = {c.topic for c in reader.connections if c.msgcount}
    assert "/webcam/image_raw/compressed" in topics and "/webcam/image_raw" not in topics


def test_topic_echo_into_a_closed_pipe_exits_quietly(tmp_path):
    config = webcam_only_config(tmp_path)
    run = subprocess.Popen([COMMAND, "run", "--config", str(config), "--duration", "30", "--no-status"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        echo = subprocess.Popen([COMMAND, "topic", "echo", "/webcam/camera_info", "--timeout", "25"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        first = [echo.stdout.readline() for _ in range(3)]   # like `| head -n 3`
        echo.stdout.close()
        code = echo.wait(timeout=20)
        stderr = echo.stderr.read().decode()
    finally:
        run.terminate()
        run.wait(timeout=20)
    assert all(first), first
    assert code == 0, stderr
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr and "Exception ignored" not in stderr


# -- node executables --------------------------------------------------------------------------
@pytest.mark.parametrize("node", ["webcam", "spot_bow"])
def test_node_help_lists_its_parameters(node):
    executable = shutil.which(node)
    assert executable, f"{node} is not on PATH"
    proc = subprocess.run([executable, "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stderr == ""
    assert "parameters of node 'webcam'" in proc.stdout
    assert "  device (string, default '0')" in proc.stdout
    assert "  fps (double, default 30.0, range [0.0, 1000.0])" in proc.stdout
    module = subprocess.run([sys.executable, "-m", "spot_bow_ros.nodes.webcam", "--help"],
                            capture_output=True, text=True, timeout=60)
    assert module.returncode == 0 and "  jpeg_quality (integer, default 80, range [1, 100])" in module.stdout


def test_pip_installs_the_command_into_the_environments_bin(tmp_path):
    """pyproject.toml: pip builds a wheel, so console scripts land in <venv>/bin (not lib/).

    A fresh venv with its own pip (never `pip --prefix` from this environment: that uninstalls
    the package here first)."""
    import sysconfig

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PIP_PREFIX")}
    proc = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--no-deps", "--quiet", str(root)],
                          capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    script = venv / "bin" / "spot-bow-ros"
    assert script.is_file() and not (venv / "lib" / "spot_bow_ros").exists()
    assert (venv / "bin" / "webcam").is_file()
    # it runs: the venv's own package first, then this environment's dependencies
    site = next(venv.glob("lib/python*/site-packages"))
    env["PYTHONPATH"] = os.pathsep.join([str(site), sysconfig.get_paths()["purelib"]])
    version = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=60, env=env,
                             cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.startswith("spot-bow-ros "), version.stderr


@pytest.mark.parametrize("node", ["spot_cameras", "proprioception", "motor_command", "image_service"])
def test_every_robot_bridge_fails_fast_at_start_up_in_one_line(sim, node):
    """One start-up policy for every bridge executable: no robot, one line, exit 1."""
    port = free_port()
    proc = subprocess.run([shutil.which(node), "--ros-args", "-p", "hostname:=127.0.0.1", "-p", f"port:={port}",
                           "-p", f"ca_cert:={sim.info['ca_cert']}", "-p", "username:=user", "-p", "password:=x",
                           "-p", "connect_timeout:=3.0"],
                          capture_output=True, text=True, timeout=60)
    line = one_line(proc, 1)
    assert line.endswith(f"robot at 127.0.0.1:{port} does not answer: connection refused"), line


def test_composed_executable_checks_every_bridge_before_starting_any():
    proc = subprocess.run([shutil.which("spot_bow"), "--ros-args", "-p", "max_linear_velocity:=99.0"],
                          capture_output=True, text=True, timeout=60)
    line = one_line(proc, 2)
    assert "node 'motor_command': parameter 'max_linear_velocity' = 99.0 is above its maximum" in line
