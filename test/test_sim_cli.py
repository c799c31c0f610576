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

from spot_bow_ros.spot.connection import ConnectionConfig, SpotConnection

REPO = Path(__file__).resolve().parents[1]
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
