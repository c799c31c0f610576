"""What a new user trips on (issue 21), each through the installed `spot-bow-ros` command as a
user runs it: exit code, the one line, nothing lost (bags complete and readable by rosbags).

Low disk space is real: a small tmpfs mounted in a private mount namespace (`unshare -rm`),
else a threshold above the free space of the test's disk.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from waiting import wait_until

from cli.test_command_errors import COMMAND, one_line, spot_bow_ros, webcam_only_config

ENV = dict(os.environ, PYTHONUNBUFFERED="1")


def background(*args: str, **popen) -> subprocess.Popen:
    """The installed command in the background (stderr to a pipe, in its own process group as a
    terminal's foreground job)."""
    return subprocess.Popen([COMMAND, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=ENV, start_new_session=True, **popen)


def read_until(proc: subprocess.Popen, marker: str, timeout: float = 60) -> list[str]:
    """Lines of `proc` up to and including the first containing `marker`."""
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if marker in line:
            return lines
    raise AssertionError(f"{marker!r} not seen:\n" + "\n".join(lines[-30:]))


def problems(lines: list[str]) -> list[str]:
    return [ln for ln in lines if ln.startswith(("[WARNING]", "[ERROR]")) or "Traceback" in ln or "Error" in ln]


def bag_counts(bag: Path) -> dict[str, int]:
    from rosbags.rosbag2 import Reader

    with Reader(bag) as reader:  # needs metadata.yaml: a bag cut short has none
        return {c.topic: c.msgcount for c in reader.connections}


# -- 1. record: durations, the rate said up front, low disk space -----------------------------------
@pytest.mark.parametrize("args, words", [
    (["record", "-d", "-1", "-a"], ["--duration/-d", "must be 0 (no limit) or more seconds, got -1"]),
    (["record", "-d", "nan", "-a"], ["finite"]),
    (["run", "--durration", "3"], ["unrecognized arguments: --durration 3", "did you mean --duration?"]),
    (["record", "-a", "--min-free-space", "lots"], ["invalid size 'lots'"]),
])
def test_bad_arguments_are_one_line_exit_2(args, words):
    line = one_line(spot_bow_ros(*args), 2)
    assert all(w in line for w in words), line


def test_record_says_the_rate_and_how_long_the_disk_lasts(tmp_path):
    proc = spot_bow_ros("record", "-a", "-d", "1", "-o", str(tmp_path / "bag"))
    assert proc.returncode == 0, proc.stderr
    rate = [ln for ln in proc.stderr.splitlines() if "MB/s" in ln]
    assert len(rate) == 1 and "free there lasts about" in rate[0] and "--min-free-space 1.0 GB" in rate[0], proc.stderr
    assert bag_counts(tmp_path / "bag") == {}


@pytest.mark.parametrize("command", ["run", "record"])
def test_threshold_above_free_space_refuses_before_anything_starts(tmp_path, command):
    above = str(shutil.disk_usage(tmp_path).free + 10**10)
    args = (["run", "--config", str(webcam_only_config(tmp_path)), "--duration", "5", "--record"] if command == "run"
            else ["record", "-a", "-d", "5", "-o"])
    line = one_line(spot_bow_ros(*args, str(tmp_path / "bag"), "--min-free-space", above), 1)
    assert f"not recording to {tmp_path / 'bag'}" in line and "below --min-free-space" in line
    assert not (tmp_path / "bag").exists()


def _can_mount_tmpfs() -> bool:
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /mnt"],
                           capture_output=True, timeout=30) if shutil.which("unshare") else None
    return probe is not None and probe.returncode == 0


def in_small_tmpfs(args: list[str], tmp_path: Path, size_mb: int) -> subprocess.CompletedProcess:
    """`spot-bow-ros ARGS` with $DISK a fresh tmpfs of `size_mb` MB (private mount namespace);
    what it wrote there is copied to tmp_path/out afterwards."""
    disk, out = tmp_path / "disk", tmp_path / "out"
    disk.mkdir()
    out.mkdir()
    script = (f'mount -t tmpfs -o size={size_mb}m tmpfs "$DISK" || exit 99; "$@"; code=$?; '
              f'cp -r "$DISK"/. "$OUT"/; exit $code')
    return subprocess.run(["unshare", "-rm", "sh", "-c", script, "sh", COMMAND, *args], capture_output=True,
                          text=True, timeout=120, env=dict(ENV, DISK=str(disk), OUT=str(out)))


@pytest.mark.skipif(not _can_mount_tmpfs(), reason="no private mount namespace (unshare -rm) for a small tmpfs")
def test_run_stops_with_one_line_and_a_complete_bag_when_the_disk_fills(tmp_path):
    config = webcam_only_config(tmp_path)  # raw 640x480 bgr8 at 30 Hz: about 28 MB/s
    proc = in_small_tmpfs(["run", "--config", str(config), "--duration", "60", "--no-status",
                           "--record", str(tmp_path / "disk" / "bag"), "--min-free-space", "40M"], tmp_path, 64)
    assert proc.returncode == 1, proc.stderr
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("[ERROR]")]
    assert len(errors) == 1 and "stopped recording:" in errors[0] and "below --min-free-space 40 MB" in errors[0]
    assert "Traceback" not in proc.stderr and "--duration 60 s reached" not in proc.stderr
    counts = bag_counts(tmp_path / "out" / "bag")
    assert counts["/webcam/image_raw"] > 0 and counts["/webcam/image_raw/compressed"] > 0
    assert sum(f.stat().st_size for f in (tmp_path / "out" / "bag").iterdir()) < 64e6


@pytest.mark.skipif(not _can_mount_tmpfs(), reason="no private mount namespace (unshare -rm) for a small tmpfs")
def test_record_stops_with_one_line_and_a_complete_bag_when_the_disk_fills(tmp_path):
    run = background("run", "--config", str(webcam_only_config(tmp_path)), "--duration", "90", "--no-status")
    try:
        read_until(run, "capturing from test pattern")
        proc = in_small_tmpfs(["record", "/webcam/image_raw", "-d", "60", "-o", str(tmp_path / "disk" / "bag"),
                               "--min-free-space", "40M"], tmp_path, 64)
    finally:
        os.killpg(run.pid, signal.SIGINT)
        run.wait(timeout=30)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("error: stopped recording:"), proc.stderr
    assert "Traceback" not in proc.stderr
    assert bag_counts(tmp_path / "out" / "bag")["/webcam/image_raw"] > 0


def test_record_warns_about_a_mistyped_topic_with_did_you_mean(tmp_path):
    run = background("run", "--config", str(webcam_only_config(tmp_path)), "--duration", "60", "--no-status")
    try:
        read_until(run, "capturing from test pattern")
        proc = spot_bow_ros("record", "/webcam/camera_inf", "/webcam/camera_info", "-d", "7",
                            "-o", str(tmp_path / "bag"))
    finally:
        os.killpg(run.pid, signal.SIGINT)
        run.wait(timeout=30)
    assert proc.returncode == 0, proc.stderr
    warnings = [ln for ln in proc.stderr.splitlines() if ln.startswith("[WARNING]")]
    assert len(warnings) == 1, proc.stderr
    assert "no publisher of /webcam/camera_inf" in warnings[0] and "did you mean /webcam/camera_info?" in warnings[0]
    assert bag_counts(tmp_path / "bag")["/webcam/camera_info"] > 0
    infos = [ln for ln in proc.stderr.splitlines() if ln.startswith("[INFO]")]
    assert any("free under" in ln and "recording stops below --min-free-space 1.0 GB" in ln for ln in infos)
    assert any("measured: this recording is about" in ln and "free there lasts about" in ln for ln in infos)


# -- 2. run: where the robot is --------------------------------------------------------------------
def write_config(tmp_path: Path, connection: dict) -> Path:
    """The shipped config with `connection` in its `/**` section (as a user edits it)."""
    from spot_bow_ros.cli.share import find_share_file

    doc = yaml.safe_load(find_share_file("config/spot_bow.yaml").read_text())
    doc["/**"]["ros__parameters"].update(connection)
    path = tmp_path / "robot.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def test_config_hostname_is_the_robot_run_connects_to(tmp_path):
    from cli.test_command_errors import free_port

    port = free_port()
    config = write_config(tmp_path, {"hostname": "127.0.0.1", "port": port})
    proc = spot_bow_ros("run", "--config", str(config), "--duration", "5", "--no-status",
                        env={"BOSDYN_CLIENT_USERNAME": "user", "BOSDYN_CLIENT_PASSWORD": "x"})
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert "simulated Spot" not in proc.stderr
    assert lines == [lines[0], lines[-1]], proc.stderr
    assert lines[0].endswith(f"connecting to the robot at 127.0.0.1:{port} (hostname in robot.yaml)")
    assert lines[1].endswith(f"robot at 127.0.0.1:{port} does not answer: connection refused")


def test_no_credentials_names_the_flags_and_the_environment(tmp_path):
    config = write_config(tmp_path, {"hostname": "127.0.0.1"})
    line = one_line(spot_bow_ros("run", "--config", str(config), "--duration", "5",
                                 env={"BOSDYN_CLIENT_USERNAME": None, "BOSDYN_CLIENT_PASSWORD": None}), 2)
    assert "no robot credentials for 127.0.0.1 (hostname in robot.yaml)" in line
    assert "--username" in line and "BOSDYN_CLIENT_PASSWORD" in line and "--password-file" in line
    assert "'username'" not in line and "parameter" not in line


@pytest.mark.parametrize("how", ["--connect-sim", "config sim_info_file"])
def test_run_connects_to_a_separately_started_sim(sim, tmp_path, how):
    only = {f"enable_{b}": b == "proprioception" for b in
            ("webcam", "spot_cameras", "proprioception", "motor_command", "image_service", "bow_vision")}
    if how == "--connect-sim":
        config = write_config(tmp_path, {})
        args = ["--connect-sim", sim.info_file]
    else:
        config = write_config(tmp_path, {"sim_info_file": sim.info_file})
        args = []
    doc = yaml.safe_load(config.read_text())
    doc["spot_bow"]["ros__parameters"].update(only)
    config.write_text(yaml.safe_dump(doc))
    proc = spot_bow_ros("run", "--config", str(config), "--duration", "3", "--no-status", *args)
    assert proc.returncode == 0, proc.stderr
    assert "starting the built-in simulated Spot" not in proc.stderr
    assert f"connected to Spot at 127.0.0.1:{sim.port}" in proc.stderr
    assert "/joint_states" in proc.stdout + proc.stderr  # the summary: the sim's joints were published
    if how != "--connect-sim":
        assert f"connecting to the simulated Spot of {sim.info_file} (sim_info_file in robot.yaml)" in proc.stderr


@pytest.mark.parametrize("args, words", [
    (["--hostname", "127.0.0.1", "--no-arm"], ["--no-arm only applies to the built-in simulated Spot",
                                               "connects to 127.0.0.1 (--hostname)"]),
    (["--hostname", "a", "--connect-sim", "x.json"], ["--hostname and --connect-sim name two robots"]),
    (["--port", "444"], ["--port needs a robot", "the built-in simulated Spot"]),
])
def test_connection_flags_that_would_be_ignored_are_refused(args, words):
    line = one_line(spot_bow_ros("run", "--duration", "2", *args), 2)
    assert all(w in line for w in words), line


# -- 4. Ctrl-C ------------------------------------------------------------------------------------
def test_ctrl_c_stops_bridges_first_and_the_simulator_last_cleanly(tmp_path):
    info = tmp_path / "sim.json"
    run = background("run", "--no-status", "--sim-info-file", str(info), "--record", str(tmp_path / "bag"))
    lines = read_until(run, "motor_command ready")
    assert wait_until(lambda: info.exists(), timeout=10)
    time.sleep(1.0)  # a moment of running: bags and leases in use
    os.killpg(run.pid, signal.SIGINT)  # what the terminal does on Ctrl-C: the whole foreground group
    rest, _ = run.communicate(timeout=60)
    lines += rest.splitlines()
    assert run.returncode == 0, "\n".join(lines[-40:])
    assert problems(lines) == [], "\n".join(problems(lines))
    text = "\n".join(lines)
    order = ["stopping (Ctrl-C): bridges first", "body lease returned", "software E-Stop 'spot_bow_ros' deregistered",
             "bag written to", "disconnected from Spot"]
    positions = [text.find(marker) for marker in order]
    assert all(p >= 0 for p in positions) and positions == sorted(positions), positions
    assert not info.exists()  # the simulator stopped cleanly (it removes its info file)
    assert bag_counts(tmp_path / "bag")["/joint_states"] > 0


def test_simulator_stops_when_run_is_killed(tmp_path):
    info = tmp_path / "sim.json"
    run = background("run", "--no-status", "--sim-info-file", str(info))
    try:
        read_until(run, "simulated Spot listening")
        sims = subprocess.run(["pgrep", "-P", str(run.pid), "-f", "spot_bow_ros.sim"], capture_output=True,
                              text=True).stdout.split()
        assert len(sims) == 1
    finally:
        run.kill()
        run.wait(timeout=10)
    assert wait_until(lambda: not Path(f"/proc/{sims[0]}").exists() or
                      "zombie" in Path(f"/proc/{sims[0]}/status").read_text().lower(), timeout=30)


# -- 5, 6. the password, exit codes as documented ---------------------------------------------------
@pytest.mark.parametrize("value", [["--password", "secret"], ["--password=secret"]])
def test_password_on_the_command_line_is_refused(value):
    line = one_line(spot_bow_ros("run", "--hostname", "192.0.2.1", *value), 2)
    assert "--password is refused" in line and "BOSDYN_CLIENT_PASSWORD" in line and "--password-file" in line
    assert "secret" not in line


def test_sdk_v1_without_bow_api_is_exit_2_before_anything_starts(tmp_path):
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    (shadow / "bow_data.py").write_text("raise ImportError(\"No module named 'bow_data'\")\n")
    config = webcam_only_config(tmp_path, extra={"/**": {"ros__parameters": {"bow_messages": "sdk_v1"}}})
    line = one_line(spot_bow_ros("run", "--config", str(config), "--duration", "5",
                                 env={"PYTHONPATH": str(shadow)}), 2)
    assert "bow_messages: sdk_v1 needs the BOW SDK's message classes" in line
    assert "pip install --no-deps bow-api" in line


def test_unwritable_record_place_is_refused_before_anything_starts():
    started = time.monotonic()
    line = one_line(spot_bow_ros("run", "--record", "/proc/nope/bag", "--duration", "5"), 1)
    assert line.endswith("cannot record to /proc/nope/bag: cannot create files in /proc (no such file or directory)")
    assert time.monotonic() - started < 30  # no simulator, no connection


# -- 7. the small ones ----------------------------------------------------------------------------
def test_yaml_error_is_one_readable_line(tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text("spot_bow:\n  ros__parameters:\n    enable_webcam: [true\n")
    line = one_line(spot_bow_ros("run", "--config", str(config)), 2)
    assert line.endswith(f"params file {config} is not valid YAML: line 4, column 1: expected ',' or ']', "
                         "but got '<stream end>' (while parsing a flow sequence)")
    assert "\\n" not in line


@pytest.mark.parametrize("bridge, values, says", [
    # the built-in simulator starts first: only the camera bridge knows the robot's camera names
    ("spot_cameras", {"cameras": ["frontleft", "frontrigt"]},
     "node 'spot_cameras': parameter 'cameras': unknown camera(s) frontrigt (expected some of frontleft, "
     "frontright, left, right, back, hand)"),
    ("bow_vision", {"sources": [":front"]}, "node 'bow_vision': bow_vision sources entry ':front': empty topic"),
])
def test_a_value_only_the_bridge_can_judge_is_a_wrong_parameter_exit_2(tmp_path, bridge, values, says):
    """README: a wrong parameter is exit code 2, also when the bridge itself finds it at start-up
    (after the simulator started); one line at --log-level warning, nothing left running."""
    enable = {"webcam": False, "spot_cameras": bridge == "spot_cameras", "proprioception": False,
              "motor_command": False, "image_service": False, "bow_vision": bridge == "bow_vision"}
    config = tmp_path / "typo.yaml"
    config.write_text(yaml.safe_dump({
        "spot_bow": {"ros__parameters": {f"enable_{b}": on for b, on in enable.items()}},
        bridge: {"ros__parameters": values}}))
    proc = spot_bow_ros("--log-level", "warning", "run", "--config", str(config), "--duration", "60",
                        "--no-status", timeout=120)
    line = one_line(proc, 2)
    assert line.startswith("[ERROR]") and line.endswith(f"[run]: {says}"), line


def test_exclude_raw_images_line_ends_cleanly_and_says_the_rate(tmp_path):
    proc = spot_bow_ros("run", "--config", str(webcam_only_config(tmp_path)), "--duration", "1", "--no-status",
                        "--record", str(tmp_path / "bag"), "--exclude-raw-images")
    assert proc.returncode == 0, proc.stderr
    line = next(ln for ln in proc.stderr.splitlines() if "recording all topics but raw images" in ln)
    assert line.rstrip().endswith(")") and not line.rstrip().endswith(";")
    assert "expect about" in line and "MB/s" in line


def test_cyclone_dds_line_only_at_debug():
    env = {"ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST"}  # not the default: it used to be said at info
    quiet = spot_bow_ros("topic", "list", "--wait", "0.2", env=env)
    assert quiet.returncode == 0 and "Cyclone DDS:" not in quiet.stderr, quiet.stderr
    debug = spot_bow_ros("topic", "list", "--wait", "0.2", "--log-level", "debug", env=env)
    assert debug.returncode == 0 and "Cyclone DDS:" in debug.stderr and "discovery LOCALHOST" in debug.stderr


def test_topic_pub_prints_each_message(tmp_path):
    proc = spot_bow_ros("topic", "pub", "/chatter", "std_msgs/msg/String", "{data: hi}", "-r", "20", "-t", "5",
                        "--wait-matching-subscriptions", "0")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["publisher: beginning loop"] + [
        f"publishing #{n}: data: hi" for n in range(1, 6)]


def test_service_call_with_the_wrong_type_names_the_served_type(sim, tmp_path):
    config = write_config(tmp_path, {})
    doc = yaml.safe_load(config.read_text())
    doc["spot_bow"]["ros__parameters"].update({f"enable_{b}": b == "motor_command" for b in
                                               ("webcam", "spot_cameras", "proprioception", "motor_command",
                                                "image_service", "bow_vision")})
    config.write_text(yaml.safe_dump(doc))
    run = background("run", "--config", str(config), "--connect-sim", sim.info_file, "--duration", "60",
                     "--no-status")
    try:
        read_until(run, "motor_command ready")
        wrong = spot_bow_ros("service", "call", "/stand", "std_srvs/srv/SetBool", "{data: true}", "--timeout", "10")
        typo = spot_bow_ros("service", "call", "/stnd", "--timeout", "3")
    finally:
        os.killpg(run.pid, signal.SIGINT)
        run.wait(timeout=30)
    line = one_line(wrong, 2)
    assert "service /stand is std_srvs/srv/Trigger, not std_srvs/srv/SetBool" in line
    assert "spot-bow-ros service call /stand std_srvs/srv/Trigger" in line
    assert "did you mean /stand?" in one_line(typo, 1)


@pytest.mark.parametrize("module, expect", [
    ("spot_bow_ros.nodes.demo_motion", "spot-bow-ros run --demo-motion"),
    ("spot_bow_ros.nodes.robot_model", "robot_description"),
])
def test_helper_modules_print_help(module, expect):
    proc = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stderr == "" and expect in proc.stdout
    assert proc.stdout.startswith(f"usage: python -m {module}")


def test_robot_model_prints_the_urdf_users_can_save():
    import xml.etree.ElementTree as ET

    proc = subprocess.run([sys.executable, "-m", "spot_bow_ros.nodes.robot_model", "spot"], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    robot = ET.fromstring(proc.stdout)
    assert robot.get("name") == "spot" and not [j for j in robot.iter("joint") if j.get("name", "").startswith("arm_")]


def test_demo_motion_lists_its_steps():
    proc = subprocess.run([sys.executable, "-m", "spot_bow_ros.nodes.demo_motion"], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    from spot_bow_ros.nodes.demo_motion import demo_script
    assert "stand" in proc.stdout and "sit" in lines[-2] and lines[-1].endswith(f"done ({len(demo_script())} steps)")
    # the software E-Stop starts stopped (docs/estop.md): the demo releases it before power_on
    assert proc.stdout.index("estop_release") < proc.stdout.index("power_on")
