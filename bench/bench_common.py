"""Helpers shared by the benchmarks: this checkout on PYTHONPATH, a process's CPU time, and the
simulated Spot in its own process. Benchmarks run as `python bench/bench_x.py`, so this module
is imported as `bench_common` (bench/ is on sys.path as the script's folder)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

#: the checkout the benchmarks measure
ROOT = Path(__file__).resolve().parents[1]


def pythonpath() -> str:
    """This checkout first, then the caller's PYTHONPATH (a sourced ROS 2's rclpy and messages)."""
    return os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)


def cpu_seconds(pid: int) -> float:
    """utime + stime of `pid` in seconds (/proc/<pid>/stat fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_sim(workdir: Path, args: Sequence[str] = (), *, info_name: str = "sim.json",
              timeout: float = 60.0, quiet: bool = True) -> tuple[subprocess.Popen, Path]:
    """`spot-bow-ros sim --info-file <workdir>/<info_name> *args` in its own process, this checkout
    on PYTHONPATH (stderr discarded when `quiet`); returns it and its info file once written.
    SystemExit when the simulator exits or `timeout` (s) passes first."""
    info = workdir / info_name
    proc = subprocess.Popen([sys.executable, "-m", "spot_bow_ros.cli", "sim", "--info-file", str(info), *args],
                            env=dict(os.environ, PYTHONPATH=pythonpath()),
                            stderr=subprocess.DEVNULL if quiet else None)
    deadline = time.monotonic() + timeout
    while not info.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("the simulated Spot did not start")
        time.sleep(0.1)
    return proc, info
