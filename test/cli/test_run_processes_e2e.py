"""`spot-bow-ros run --processes 2` (cli/run_processes.py): the camera bridge in a worker process.

The worker's parameters are the run's `spot_cameras` overrides (credentials in its environment,
not in the file); end to end against the built-in simulated Spot, the bag written by the run
process holds the worker's camera topics beside its own, the worker's log lines come through
the run's log, and the worker is gone when `run` returns.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
import yaml
from cpu_load import CpuMonitor
from sim_client import CountingCalls

from spot_bow_ros.cli.run_processes import forward_targets, worker_params

DURATION_S = 12.0
CAMERAS = ("frontleft", "frontright", "left", "right", "back", "hand")


def test_worker_params_enable_only_the_camera_bridge_and_keep_secrets_out_of_the_file():
    overrides = {"spot_bow": {}, "spot_cameras": {"rate": 10.0, "depth": True, "hostname": "10.0.0.3",
                                                  "username": "user", "password": "s3cret", "bow_messages": "sdk_v1"}}
    doc, env = worker_params(overrides, "/robot1")
    assert doc["/robot1/spot_bow"]["ros__parameters"] == {
        "enable_webcam": False, "enable_spot_cameras": True, "enable_proprioception": False,
        "enable_motor_command": False, "enable_image_service": False, "enable_bow_vision": False}
    cams = doc["/robot1/spot_cameras"]["ros__parameters"]
    assert cams == {"rate": 10.0, "depth": True, "hostname": "10.0.0.3"}   # bow_messages: not its parameter
    assert env == {"BOSDYN_CLIENT_USERNAME": "user", "BOSDYN_CLIENT_PASSWORD": "s3cret"}
    assert "s3cret" not in yaml.safe_dump(doc)


def test_worker_messages_are_forwarded_only_when_recorded_or_shown():
    got = []

    class Rec:
        def record(self, *args):
            got.append(("bag",) + args[:2])

    assert forward_targets(lambda *a: got.append(a), [], (), None) == []
    targets = forward_targets(lambda *a: got.append(("status",) + a[:2]), [Rec()], {"sensor_msgs/msg/Image"}, None)
    for target in targets:
        target("/a/image", "sensor_msgs/msg/Image", b"x", 1, None)
        target("/a/info", "sensor_msgs/msg/CameraInfo", b"x", 1, None)
    assert got == [("status", "/a/image", "sensor_msgs/msg/Image"), ("status", "/a/info", "sensor_msgs/msg/CameraInfo"),
                   ("bag", "/a/info", "sensor_msgs/msg/CameraInfo")]   # --exclude-raw-images honoured


@pytest.fixture(scope="module")
def two_process_run(tmp_path_factory, sim):
    """`run --processes 2` against the shared simulated Spot (robot clock +100 s)."""
    tmp = tmp_path_factory.mktemp("run2")
    bag = tmp / "bag"
    sim.calls = CountingCalls()
    cmd = [sys.executable, "-m", "spot_bow_ros.cli", "run", "--processes", "2", "--duration", str(DURATION_S),
           "--record", str(bag), "--no-status", "--connect-sim", sim.info_file]
    with CpuMonitor() as cpu:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=dict(os.environ, PYTHONUNBUFFERED="1"))
        cpu.watch(proc.pid)
        try:
            stdout, stderr = proc.communicate(timeout=DURATION_S + 120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    out = subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr)
    return out, bag, sim.calls.counts, cpu


def test_two_process_run_records_the_workers_cameras_and_stops_it(two_process_run):
    from rosbags.highlevel import AnyReader

    out, bag, _, cpu = two_process_run
    log = out.stderr + out.stdout
    assert out.returncode == 0, log[-3000:]
    pid = int(re.search(r"spot_cameras in worker process (\d+)", log).group(1))
    assert "[spot_cameras]: running (standalone" in log          # the worker's own line, relayed
    assert "bridges in this process: webcam, proprioception" in log and "spot_cameras" not in \
        re.search(r"bridges in this process: webcam[^\n]*", log).group(0)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)                                           # the worker stopped with the run
    with AnyReader([bag]) as reader:
        counts = {c.topic: c.msgcount for c in reader.connections}
        stamps = [reader.deserialize(raw, c.msgtype).header.stamp for c, _, raw in
                  reader.messages(connections=[c for c in reader.connections
                                               if c.topic == "/spot/camera/frontleft/camera_info"])]
    # the counts a free machine gives (10 camera frames, 100 joint states) expected over the
    # share of the run the machine had CPU to spare for it (cpu_load: saturated 2-core CI
    # machines started the worker's cameras late, one topic had 0 messages in a 12 s run)
    start_ns, end_ns = cpu.intervals[0].start_ns, cpu.intervals[-1].end_ns
    least = {f"/spot/camera/{cam}/{kind}": 10 for cam in CAMERAS
             for kind in ("image", "image/compressed", "camera_info")}
    least.update({"/joint_states": 100, "/webcam/image_raw": 10})
    short = [cpu.check_count(counts.get(topic, 0), start_ns, end_ns, n * 1e9 / (end_ns - start_ns), topic, fraction=1.0)
             for topic, n in least.items()]
    assert not any(short), [s for s in short if s]
    ns = [s.sec * 10**9 + s.nanosec for s in stamps]
    assert ns == sorted(ns) and len(set(ns)) == len(ns)           # one stamp per frame, in order


def _stamp_lags(reader, topic: str) -> list[tuple[int, int]]:
    """(header stamp, receive time = the bag's log time), both ns on the local clock, of every message."""
    conns = [c for c in reader.connections if c.topic == topic]
    return [(m.header.stamp.sec * 10**9 + m.header.stamp.nanosec, t)
            for m, t in ((reader.deserialize(raw, c.msgtype), t) for c, t, raw in reader.messages(connections=conns))]


def test_the_worker_uses_the_runs_login_and_clock(two_process_run):
    """One login (the run process's), one clock skew for both processes: the worker's camera
    stamps and the run process's joint_states are on the local clock although the robot's
    runs 100 s ahead."""
    from conftest import ROBOT_CLOCK_OFFSET_S
    from rosbags.highlevel import AnyReader

    out, bag, calls, cpu = two_process_run
    log = out.stderr + out.stdout
    assert out.returncode == 0, log[-3000:]
    skews = [float(s) for s in re.findall(r"connected to Spot at \S+ \(robot clock skew ([-+0-9.]+) s\)", log)]
    shared = [float(s) for s in re.findall(r"connected to Spot at \S+ \(robot clock skew ([-+0-9.]+) s, "
                                           r"the run process's login and time sync\)", log)]
    assert len(skews) == 1 and len(shared) == 1, log[-3000:]      # the run process's line, the worker's
    assert abs(skews[0] - ROBOT_CLOCK_OFFSET_S) < 0.005 and abs(shared[0] - ROBOT_CLOCK_OFFSET_S) < 0.005
    assert calls["GetAuthToken"] == 1, calls                   # one login for both processes
    with AnyReader([bag]) as reader:
        worker = _stamp_lags(reader, "/spot/camera/frontleft/camera_info")
        run = _stamp_lags(reader, "/joint_states")
    # stamps on the local clock: every message received after it was stamped (5 ms slack for the
    # skew estimate; a stamp on the robot clock would be 100 s ahead) and within 30 s (one
    # converted the wrong way 100 s behind; a saturated machine delayed /joint_states by up to
    # ~6 s median), always; and
    # the median lag below 1 s over the messages whose whole stamp-to-receipt span the machine had
    # free CPU for (cpu_load.CpuMonitor: a saturated 2-core machine delays delivery by seconds).
    for name, stamped in (("worker", worker), ("run", run)):
        lags = [(t - stamp) * 1e-9 for stamp, t in stamped]
        assert len(lags) >= 10 and min(lags) > -0.005 and max(lags) < 30.0, (name, max(lags), lags[:20])
        free = sorted((t - stamp) * 1e-9 for stamp, t in stamped
                      if cpu.free_s(stamp, t) >= 0.999 * (t - stamp) * 1e-9)
        if len(free) >= 5:
            span = cpu.describe(stamped[0][1], stamped[-1][1])
            assert free[len(free) // 2] < 1.0, (name, f"median lag of {len(free)} messages sent while the "
                                                f"machine was free: {free[len(free) // 2]:.2f} s", span, free[:20])
