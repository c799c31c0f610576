"""`spot-bow-ros run --processes 2` when the robot restarts (spot/session_share.py, time_resync.py):
the installed command against a simulated Spot that is stopped and started again on the same port
(same state dir: same robot, tokens still valid) with a NEW robot clock offset. The camera worker
runs on the run process's login and clock skew; it must see the restart (the share carries the
robot clock identifier), say so in one line, reconnect on the run process's new clock skew, and
record camera stamps converted with it (the old skew would put them 150 s in the future)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time

from sim_client import CountingCalls
from waiting import interrupt_and_reap, wait_until

from spot_bow_ros.sim import SimulatedSpot

OLD_OFFSET_S, NEW_OFFSET_S = 100.0, 250.0
WORKER_LINE = "the run process's login and time sync"


class _Lines:
    """The run's stderr, read line by line in a thread (its lines and the worker's, relayed)."""

    def __init__(self, proc: subprocess.Popen):
        self.lines: list[tuple[float, str]] = []
        self._thread = threading.Thread(target=self._read, args=(proc.stderr,), daemon=True)
        self._thread.start()

    def _read(self, stream) -> None:
        for line in stream:
            self.lines.append((time.time_ns(), line.rstrip("\n")))

    def matching(self, pattern: str) -> list[tuple[float, re.Match]]:
        return [(t, m) for t, line in list(self.lines) if (m := re.search(pattern, line))]

    def text(self) -> str:
        return "\n".join(line for _, line in self.lines)


def test_the_camera_worker_follows_a_robot_restart_onto_the_new_clock(tmp_path):
    state, info = tmp_path / "state", tmp_path / "sim.json"
    sims = [SimulatedSpot(clock_offset_s=OLD_OFFSET_S, state_dir=state, arm=False).start()]
    sims[0].write_info(info)
    # recorded, so the worker's cameras have a subscriber and fetch images
    cmd = [sys.executable, "-m", "spot_bow_ros.cli", "run", "--processes", "2", "--duration", "600",
           "--record", str(tmp_path / "bag"), "--exclude-raw-images", "--no-status", "--connect-sim", str(info)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, PYTHONUNBUFFERED="1"))
    out = _Lines(proc)
    try:
        connected = r"connected to Spot at \S+ \(robot clock skew ([-+0-9.]+) s, " + re.escape(WORKER_LINE)
        assert wait_until(lambda: out.matching(connected), timeout=120, period=0.2), out.text()[-3000:]
        time.sleep(2.0)   # a few camera frames on the old clock
        port = sims[0].port
        sims[0].stop(grace=0.0)
        second = SimulatedSpot(port=port, clock_offset_s=NEW_OFFSET_S, state_dir=state, arm=False)
        second.calls = calls = CountingCalls()
        sims.append(second.start())
        second.write_info(info)
        recovered = r"recovered connection to Spot at \S+ after [0-9.]+ s \(robot clock skew ([-+0-9.]+) s, " + \
            re.escape(WORKER_LINE)
        assert wait_until(lambda: out.matching(recovered), timeout=120, period=0.2), out.text()[-4000:]
        seen = calls.counts["GetImage"]
        # the worker's cameras fetch from the restarted robot (they are its only GetImage client)
        assert wait_until(lambda: calls.counts["GetImage"] >= seen + 30, timeout=120, period=0.2)
    finally:
        code = interrupt_and_reap(proc, timeout=60)
        for sim in sims:
            sim.stop()
    log = out.text()
    assert code == 0, ("exit code", code, log[-3000:])
    skews = [float(m.group(1)) for _, m in out.matching(recovered)]
    assert skews and all(abs(s - NEW_OFFSET_S) < 0.005 for s in skews), skews   # only ever on the new clock
    worker_restart = [line for line in log.splitlines() if "robot restarted (new clock " in line
                      and "the run process" in line.split("seen by", 1)[-1]]
    assert len(worker_restart) == 1, ("worker restart lines", worker_restart, log[-3000:])   # said once
