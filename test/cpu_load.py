"""How much CPU the machine left free while a test ran, for rate checks that must hold only where
the package, not a loaded machine, is the limit.

A robot driver cannot deliver 15 Hz when the machine has no CPU to give it. Tests therefore check
what the package controls unconditionally (every frame the robot served is published once, stamps
are the robot's acquisition times, ...) and the rate only over the part of the run in which the
machine had CPU to spare for it: `CpuMonitor` samples /proc/stat (and the CPU time of the watched
process tree, the system under test) every `period` s. An interval counts as *free* when at least
`min_idle` of all cores' time was idle (nobody waited for a core) or when the other processes
used at most `max_others` of it (the system under test had the machine to itself, even if it
keeps it busy); otherwise *saturated*. A rate check expects `fraction` of the configured rate only
over the free part of its window. On an otherwise idle machine that is the whole window, i.e. the
plain rate check.

It also records this process's garbage-collection pauses (`gc_pause_s`): late in a long test
session a full collection of the suite's heap can stop every thread of the test process for tens
of ms, a pause a node's own process does not have; assertion messages name them.
"""

from __future__ import annotations

import gc
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


def _cpu_times() -> tuple[int, int]:
    """(idle, total) jiffies of all cores since boot (iowait counts as busy: not spare CPU)."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    return fields[3], sum(fields[:8])


def _tree_jiffies(roots: set[int]) -> int:
    """User + system jiffies of the processes `roots` and their live descendants."""
    parent: dict[int, int] = {}
    used: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue   # exited meanwhile
        parent[int(entry)] = int(fields[1])
        used[int(entry)] = int(fields[11]) + int(fields[12])
    total = 0
    for pid, jiffies in used.items():
        p, seen = pid, 0
        while p > 1 and p not in roots and seen < 64:
            p, seen = parent.get(p, 0), seen + 1
        if p in roots:
            total += jiffies
    return total


@dataclass(frozen=True)
class Interval:
    """One sampling interval: wall-clock start and end (ns since the epoch), the share of all
    cores' time that was idle in it and the share other processes than the watched ones used (0..1)."""

    start_ns: int
    end_ns: int
    idle: float
    others: float


class CpuMonitor:
    """Samples the machine's idle share and the watched processes' CPU use in a background thread
    between `start()` and `stop()`. Watched: this process (the default) or those given to `watch`."""

    def __init__(self, period: float = 0.5, min_idle: float = 0.2, max_others: float = 0.15):
        self.period = period
        self.min_idle = min_idle
        self.max_others = max_others
        self.intervals: list[Interval] = []
        self._roots = {os.getpid()}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cpu-monitor", daemon=True)
        #: (start_ns, end_ns) wall clock of this process's garbage collections while monitoring
        self.gc_pauses: list[tuple[int, int]] = []
        self._gc_started_ns = 0

    def __enter__(self) -> CpuMonitor:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def watch(self, pid: int) -> None:
        """Count `pid` (e.g. a command under test started after `start()`) and its children as the
        system under test instead of this process."""
        self._roots = {pid}

    def start(self) -> None:
        gc.callbacks.append(self._on_gc)
        self._thread.start()

    def stop(self) -> None:
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)
        self._stop.set()
        if self._thread.ident is not None:   # started (stop() may come twice, or without start())
            self._thread.join()

    def _on_gc(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._gc_started_ns = time.time_ns()
        else:
            self.gc_pauses.append((self._gc_started_ns, time.time_ns()))

    def gc_pause_s(self, start_ns: int, end_ns: int) -> tuple[float, float]:
        """(total, longest) seconds of [start_ns, end_ns] (wall clock) this process spent in
        garbage collection."""
        inside = [max(0, min(end_ns, b) - max(start_ns, a)) for a, b in self.gc_pauses]
        return sum(inside) / 1e9, max(inside, default=0) / 1e9

    def _run(self) -> None:
        roots = set(self._roots)
        t0, (idle0, total0), ours0 = time.time_ns(), _cpu_times(), _tree_jiffies(roots)
        stopping = False
        while not stopping:   # the last (partial) interval ends at stop()
            stopping = self._stop.wait(self.period)
            if roots != self._roots:   # watch(): start counting the new tree from here
                roots = set(self._roots)
                ours0 = _tree_jiffies(roots)
            t1, (idle1, total1), ours1 = time.time_ns(), _cpu_times(), _tree_jiffies(roots)
            if total1 > total0:
                busy = (total1 - total0) - (idle1 - idle0)
                others = max(0, busy - max(0, ours1 - ours0))
                self.intervals.append(Interval(t0, t1, (idle1 - idle0) / (total1 - total0),
                                               others / (total1 - total0)))
            t0, idle0, total0, ours0 = t1, idle1, total1, ours1

    def _free(self, iv: Interval) -> bool:
        return iv.idle >= self.min_idle or iv.others <= self.max_others

    def free_s(self, start_ns: int, end_ns: int) -> float:
        """Seconds of [start_ns, end_ns] (wall clock) that fell into free intervals; time not
        covered by any sample counts as saturated (unknown)."""
        free_ns = 0
        for iv in self.intervals:
            if self._free(iv):
                free_ns += max(0, min(end_ns, iv.end_ns) - max(start_ns, iv.start_ns))
        return free_ns / 1e9

    def unloaded(self, start_ns: int, end_ns: int, max_gc_s: float = 0.02) -> bool:
        """True when all of [start_ns, end_ns] (wall clock) fell into free intervals and no garbage
        collection of this process in it took longer than `max_gc_s`: where a wall-clock bound on
        how fast something happens applies. Ask after `stop()` (or a `period` after `end_ns`):
        time not sampled yet counts as saturated."""
        return (self.free_s(start_ns, end_ns) >= 0.999 * (end_ns - start_ns) / 1e9
                and self.gc_pause_s(start_ns, end_ns)[1] <= max_gc_s)

    def check_latency(self, start_ns: int, end_ns: int, limit_s: float, what: str,
                      max_gc_s: float = 0.02) -> str | None:
        """None if [start_ns, end_ns] (wall clock) lasted less than `limit_s`, or if it did not
        but the machine was not `unloaded` for all of it (printed: a loaded machine's scheduling
        is not the package's latency); else what was late, with the load, for an assert."""
        took = (end_ns - start_ns) / 1e9
        if took < limit_s:
            return None
        if not self.unloaded(start_ns, end_ns, max_gc_s):
            print(f"{what}: {took:.2f} s >= {limit_s} s on a loaded machine, not counted: "
                  f"{self.describe(start_ns, end_ns)}")
            return None
        return f"{what}: {took:.2f} s, expected < {limit_s} s ({self.describe(start_ns, end_ns)})"

    def describe(self, start_ns: int, end_ns: int) -> str:
        """The machine's load over [start_ns, end_ns] in words, for assertion messages."""
        inside = [iv for iv in self.intervals if iv.end_ns > start_ns and iv.start_ns < end_ns]
        idle = sum(iv.idle for iv in inside) / len(inside) if inside else float("nan")
        others = sum(iv.others for iv in inside) / len(inside) if inside else float("nan")
        span = (end_ns - start_ns) / 1e9
        gc_total, gc_longest = self.gc_pause_s(start_ns, end_ns)
        return (f"{self.free_s(start_ns, end_ns):.1f} of {span:.1f} s free (>= {self.min_idle:.0%} idle "
                f"or <= {self.max_others:.0%} used by other processes; mean idle {idle:.0%}, others {others:.0%} "
                f"of {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; garbage collection "
                f"{gc_total * 1e3:.0f} ms, longest {gc_longest * 1e3:.0f} ms)")

    def check_rate(self, times_ns: list[int], rate_hz: float, what: str, fraction: float = 0.9) -> str | None:
        """None if `times_ns` (sorted, wall clock) hold at least `fraction` of `rate_hz` over the
        free part of their span; else what fell short, with the load, for an assert."""
        if len(times_ns) < 2:
            return f"{what}: {len(times_ns)} messages"
        return self.check_count(len(times_ns) - 1, times_ns[0], times_ns[-1], rate_hz, what, fraction)

    def check_count(self, count: int, start_ns: int, end_ns: int, rate_hz: float, what: str,
                    fraction: float = 0.9) -> str | None:
        """None if `count` events in [start_ns, end_ns] (wall clock) are at least `fraction` of
        `rate_hz` over the window's free part; else what fell short, with the load."""
        expected = fraction * rate_hz * self.free_s(start_ns, end_ns)
        if count >= expected:
            return None
        span = (end_ns - start_ns) / 1e9
        return (f"{what}: {count} in {span:.1f} s ({count / span:.1f} Hz), expected >= {expected:.0f} "
                f"({fraction:.0%} of {rate_hz} Hz over {self.describe(start_ns, end_ns)})")


@contextmanager
def frozen_heap() -> Iterator[None]:
    """Collect once, then keep every object this process holds now out of garbage collection
    (`gc.freeze`) while inside: for the timing window of a test only. Late in a long session a
    full collection walks the whole test-suite heap and stops every thread of this process (the
    in-process simulator and bridge included) for tens of ms; a node's own process does not carry
    that heap, so such a pause says nothing about the package."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
