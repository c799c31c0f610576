"""How much CPU the machine left free while a test ran, for rate checks that must hold only where
the package, not a loaded machine, is the limit.

A robot driver cannot deliver 15 Hz when the machine has no CPU to give it. Tests therefore check
what the package controls unconditionally (every frame the robot served is published once, stamps
are the robot's acquisition times, ...) and the rate only over the part of the run in which the
machine had spare CPU: `CpuMonitor` samples /proc/stat every `period` s; an interval in which less
than `min_idle` of all cores' time was idle counts as *saturated* (some process may have waited for
a core), and a rate check expects `fraction` of the configured rate only over the unsaturated part
of its window. On an idle machine that is the whole window, i.e. the plain rate check.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass


def _cpu_times() -> tuple[int, int]:
    """(idle, total) jiffies of all cores since boot (iowait counts as busy: not spare CPU)."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    return fields[3], sum(fields[:8])


@dataclass(frozen=True)
class Interval:
    """One sampling interval: wall-clock start and end (ns since the epoch) and the share of all
    cores' time that was idle in it (0..1)."""

    start_ns: int
    end_ns: int
    idle: float


class CpuMonitor:
    """Samples the machine's idle share in a background thread between `start()` and `stop()`."""

    def __init__(self, period: float = 0.5, min_idle: float = 0.2):
        self.period = period
        self.min_idle = min_idle
        self.intervals: list[Interval] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cpu-monitor", daemon=True)

    def __enter__(self) -> CpuMonitor:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        t0, (idle0, total0) = time.time_ns(), _cpu_times()
        stopping = False
        while not stopping:   # the last (partial) interval ends at stop()
            stopping = self._stop.wait(self.period)
            t1, (idle1, total1) = time.time_ns(), _cpu_times()
            if total1 > total0:
                self.intervals.append(Interval(t0, t1, (idle1 - idle0) / (total1 - total0)))
            t0, idle0, total0 = t1, idle1, total1

    def unsaturated_s(self, start_ns: int, end_ns: int) -> float:
        """Seconds of [start_ns, end_ns] (wall clock) that fell into unsaturated intervals; time
        not covered by any sample counts as saturated (unknown)."""
        free_ns = 0
        for iv in self.intervals:
            if iv.idle >= self.min_idle:
                free_ns += max(0, min(end_ns, iv.end_ns) - max(start_ns, iv.start_ns))
        return free_ns / 1e9

    def describe(self, start_ns: int, end_ns: int) -> str:
        """The machine's load over [start_ns, end_ns] in words, for assertion messages."""
        inside = [iv.idle for iv in self.intervals if iv.end_ns > start_ns and iv.start_ns < end_ns]
        mean = sum(inside) / len(inside) if inside else float("nan")
        span = (end_ns - start_ns) / 1e9
        return (f"{self.unsaturated_s(start_ns, end_ns):.1f} of {span:.1f} s with >= {self.min_idle:.0%} idle CPU "
                f"(mean idle {mean:.0%} of {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f})")

    def check_rate(self, times_ns: list[int], rate_hz: float, what: str, fraction: float = 0.9) -> str | None:
        """None if `times_ns` (sorted, wall clock) hold at least `fraction` of `rate_hz` over the
        unsaturated part of their span; else what fell short, with the load, for an assert."""
        if len(times_ns) < 2:
            return f"{what}: {len(times_ns)} messages"
        return self.check_count(len(times_ns) - 1, times_ns[0], times_ns[-1], rate_hz, what, fraction)

    def check_count(self, count: int, start_ns: int, end_ns: int, rate_hz: float, what: str,
                    fraction: float = 0.9) -> str | None:
        """None if `count` events in [start_ns, end_ns] (wall clock) are at least `fraction` of
        `rate_hz` over the window's unsaturated part; else what fell short, with the load."""
        expected = fraction * rate_hz * self.unsaturated_s(start_ns, end_ns)
        if count >= expected:
            return None
        span = (end_ns - start_ns) / 1e9
        return (f"{what}: {count} in {span:.1f} s ({count / span:.1f} Hz), expected >= {expected:.0f} "
                f"({fraction:.0%} of {rate_hz} Hz over {self.describe(start_ns, end_ns)})")
