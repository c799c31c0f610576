"""`spot-bow-ros sim` / `python -m spot_bow_ros.sim` as its own process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from spot_bow_ros.spot.connection import SpotConnection
from spot_bow_ros.spot.connection_config import ConnectionConfig

REPO = Path(__file__).resolve().parents[2]
KEYS = {"hostname", "port", "ca_cert", "username", "password", "payload_guid", "payload_secret"}


def _start(info: Path, *args: str) -> tuple[subprocess.Popen, float]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    start = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "spot_bow_ros.sim", "--info-file", str(info), *args],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = start + 10
    while not info.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"sim did not start: {proc.communicate()[0].decode(errors='replace')}")
        time.sleep(0.01)
    return proc, time.monotonic() - start


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_starts_fast_serves_and_stops_cleanly(tmp_path, signum):
    info = tmp_path / "sim.json"
    proc, startup_s = _start(info, "--clock-offset", "100", "--no-arm")
    try:
        data = json.loads(info.read_text())
        assert KEYS <= set(data)
        assert data["hostname"] == "127.0.0.1" and data["port"] > 0 and Path(data["ca_cert"]).is_file()
        # under a second on an idle machine; the test machine may be shared, so scale by its load
        limit_s = 1.0 * max(1.0, os.getloadavg()[0] / (os.cpu_count() or 1))
        print(f"sim process start to info file: {startup_s * 1000:.0f} ms (limit {limit_s:.1f} s)")
        assert startup_s < limit_s
        with SpotConnection(ConnectionConfig.from_sim_info(info)) as conn:
            skew_s = conn.clock_skew_ns() / 1e9
            assert abs(skew_s - 100.0) < 0.005
            # body services may still be mounting: calls wait for them instead of failing
            state = conn.ensure_client("robot-state").get_robot_state(timeout=10)
            assert len(state.kinematic_state.joint_states) == 12  # --no-arm: legs only
    finally:
        proc.send_signal(signum)
        try:
            out = proc.communicate(timeout=5)[0].decode(errors="replace")
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert proc.returncode == 0, out
    assert not info.exists()
    assert not Path(data["ca_cert"]).exists()  # temporary TLS material removed


def test_port_in_use_exits_with_error(tmp_path):
    info = tmp_path / "a.json"
    proc, _ = _start(info, "--no-body")
    try:
        port = json.loads(info.read_text())["port"]
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
        second = subprocess.run([sys.executable, "-m", "spot_bow_ros.sim", "--no-body", "--port", str(port),
                                 "--info-file", str(tmp_path / "b.json")],
                                env=env, capture_output=True, timeout=10)
        assert second.returncode == 2
        assert b"cannot listen" in second.stderr
        assert not (tmp_path / "b.json").exists()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=5)


def test_no_streaming_licence_makes_the_stream_fail_as_on_an_unlicensed_robot(tmp_path):
    import grpc
    from bosdyn.client.robot_state import RobotStateStreamingClient

    info = tmp_path / "sim.json"
    proc, _ = _start(info, "--no-streaming-licence")
    try:
        assert json.loads(info.read_text())["streaming_licence"] is False
        with SpotConnection(ConnectionConfig.from_sim_info(info)) as conn:
            state = conn.ensure_client("robot-state").get_robot_state(timeout=10)
            assert len(state.kinematic_state.joint_states) == 20      # arm robot: hr0 listed too
            conn.register_client(RobotStateStreamingClient)
            stream = conn.ensure_client("robot-state-streaming").get_robot_state_stream()
            with pytest.raises(grpc.RpcError) as err:
                next(iter(stream))
            assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    finally:
        proc.send_signal(signal.SIGTERM)
        out = proc.communicate(timeout=5)[0].decode(errors="replace")
    assert proc.returncode == 0, out


def test_control_stdin_injects_faults_visible_in_robot_state(tmp_path):
    from bosdyn.api import robot_state_pb2 as RS

    info = tmp_path / "sim.json"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen([sys.executable, "-m", "spot_bow_ros.sim", "--info-file", str(info), "--no-arm",
                             "--control-stdin", "--log-level", "warning"], env=env, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)

    def ask(line):
        proc.stdin.write(line + "\n")
        proc.stdin.flush()
        return proc.stdout.readline().strip()

    try:
        deadline = time.monotonic() + 10
        while not info.exists():
            assert proc.poll() is None and time.monotonic() < deadline, "sim did not start"
            time.sleep(0.01)
        with SpotConnection(ConnectionConfig.from_sim_info(info)) as conn:
            client = conn.ensure_client("robot-state")
            client.get_robot_state(timeout=10)                 # the body is up
            answer = ask("system-fault imu_degraded critical imu,robot 7")
            assert answer.startswith("ok ")
            uid = answer.split()[1]
            behavior = ask("behavior-fault fall")
            assert behavior.startswith("ok ")
            assert ask("battery 12.5") == "ok 12.5"
            assert ask("frobnicate").startswith("error unknown command 'frobnicate'")
            assert ask("system-fault x loud").startswith("error severity must be one of")
            state = client.get_robot_state(timeout=5)
            (fault,) = state.system_fault_state.faults
            assert (fault.name, fault.uuid, fault.code, fault.severity, list(fault.attributes)) == (
                "imu_degraded", uid, 7, RS.SystemFault.SEVERITY_CRITICAL, ["imu", "robot"])
            (bf,) = state.behavior_fault_state.faults
            assert bf.behavior_fault_id == int(behavior.split()[1]) and bf.cause == RS.BehaviorFault.CAUSE_FALL
            assert state.battery_states[0].charge_percentage.value == pytest.approx(12.5, abs=0.01)
            assert ask("clear-system-fault imu_degraded") == "ok 1"
            assert ask(f"clear-behavior-fault {bf.behavior_fault_id}") == "ok cleared"
            state = client.get_robot_state(timeout=5)
            assert not state.system_fault_state.faults and not state.behavior_fault_state.faults
            assert [h.uuid for h in state.system_fault_state.historical_faults] == [uid]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=5)
    assert proc.returncode == 0


@pytest.mark.parametrize("flag,formats,rate", [
    ("--rgb-cameras", ["PIXEL_FORMAT_RGB_U8", "PIXEL_FORMAT_GREYSCALE_U8"], 30.0),
    ("--no-rgb-cameras", ["PIXEL_FORMAT_GREYSCALE_U8"], 15.0)])
def test_rgb_cameras_and_camera_rate_flags(tmp_path, flag, formats, rate):
    from bosdyn.api import image_pb2
    from bosdyn.client.image import build_image_request
    info = tmp_path / "sim.json"
    proc, _ = _start(info, "--no-arm", flag, "--camera-rate", str(rate))
    try:
        with SpotConnection(ConnectionConfig.from_sim_info(info)) as conn:
            client = conn.ensure_client("image")
            sources = {s.name: s for s in client.list_image_sources(timeout=10)}
            assert len(sources) == 15   # no arm: the 15 body sources
            pixel = [image_pb2.Image.PixelFormat.Name(p) for p in sources["left_fisheye_image"].pixel_formats]
            assert pixel == formats
            first = client.get_image([build_image_request("left_fisheye_image")])[0].shot
            assert image_pb2.Image.PixelFormat.Name(first.image.pixel_format) == formats[0]
            time.sleep(0.3)
            later = client.get_image([build_image_request("left_fisheye_image")])[0].shot
            step_ns = later.acquisition_time.ToNanoseconds() - first.acquisition_time.ToNanoseconds()
            frames = step_ns * rate / 1e9
            assert frames >= 3 and frames == pytest.approx(round(frames), abs=0.01)   # whole frame periods
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=5)
    assert proc.returncode == 0
