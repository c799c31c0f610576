"""Live status of `spot-bow-ros run`: per-topic rate and counts, errors, lease and power.

Fed by the transport's publish tap (every message the process publishes, as CDR), so it
costs one dict update per message. Draws a table in place on a terminal, and prints a summary
at the end.
"""

from __future__ import annotations

import collections
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, TextIO


@dataclass
class TopicStats:
    type_name: str
    count: int = 0
    bytes: int = 0
    first_ns: int = 0
    recent: collections.deque = field(default_factory=lambda: collections.deque(maxlen=200))

    def rate_hz(self, now_ns: int, window_s: float = 2.0) -> float:
        """Messages per second over the last `window_s` seconds."""
        horizon = now_ns - int(window_s * 1e9)
        n = sum(1 for t in self.recent if t >= horizon)
        span = min(window_s, max(1e-9, (now_ns - self.first_ns) / 1e9))
        return n / span if self.count else 0.0


class StatusBoard:
    """Counts what is published; shows a live table (TTY) and a final summary."""

    def __init__(self, live: bool = True, out: TextIO | None = None, period_s: float = 1.0):
        self.live = live
        self.out = out or sys.stderr
        self.period_s = period_s
        self.topics: dict[str, TopicStats] = {}
        self._lock = threading.Lock()
        self._bridges: dict[str, Any] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lines_drawn = 0
        self.started_ns = time.time_ns()

    def tap(self, topic: str, type_name: str, cdr: bytes, t_ns: int, qos: Any = None) -> None:
        stats = self.topics.get(topic)
        if stats is None:
            with self._lock:
                stats = self.topics.setdefault(topic, TopicStats(type_name, first_ns=t_ns))
        stats.count += 1
        stats.bytes += len(cdr)
        stats.recent.append(t_ns)

    def attach(self, bridges: dict[str, Any]) -> None:
        self._bridges = bridges

    def robot_state(self) -> str:
        motor = self._bridges.get("motor_command")
        if motor is None:
            return "motor_command bridge off"
        commander = getattr(motor, "commander", None)
        parts = []
        for label, attr in (("lease", "lease_held"), ("power", "powered")):
            value = getattr(commander, attr, None)
            value = value() if callable(value) else value
            if value is not None:
                parts.append(f"{label}: {'yes' if value else 'no'}")
        parts.append(f"motion: {'enabled' if getattr(motor, 'motion_enabled', False) else 'disabled'}")
        compact = getattr(motor, "compact_status", None)
        if callable(compact):
            parts.append(compact())
        counts = getattr(motor, "counts", {})
        if counts:
            parts.append(f"commands sent {counts.get('sent', 0)}, rejected {counts.get('rejected', 0)}")
        return ", ".join(parts)

    def errors(self) -> int:
        total = 0
        for bridge in self._bridges.values():
            for attr in ("errors", "error_count", "rejected"):
                value = getattr(bridge, attr, None)
                if isinstance(value, int):
                    total += value
                    break
        return total

    def table(self) -> list[str]:
        now = time.time_ns()
        lines = [f"{'topic':<44} {'type':<32} {'rate Hz':>8} {'msgs':>8}"]
        with self._lock:
            items = sorted(self.topics.items())
        for topic, st in items:
            lines.append(f"{topic:<44.44} {st.type_name:<32.32} {st.rate_hz(now):8.1f} {st.count:8d}")
        lines.append(f"up {(now - self.started_ns) / 1e9:6.1f} s | errors {self.errors()} | {self.robot_state()}")
        return lines

    def start(self) -> None:
        if not self.live:
            return
        self._thread = threading.Thread(target=self._draw_loop, name="status", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)

    def _draw_loop(self) -> None:
        while not self._stop.wait(self.period_s):
            lines = self.table()
            # Move up over the previous table and redraw it in place.
            prefix = f"\x1b[{self._lines_drawn}F" if self._lines_drawn else ""
            self.out.write(prefix + "".join(f"\x1b[2K{line}\n" for line in lines))
            self.out.flush()
            self._lines_drawn = len(lines)

    def print_summary(self) -> None:
        span = max(1e-9, (time.time_ns() - self.started_ns) / 1e9)
        self.out.write(f"published in {span:.1f} s:\n")
        with self._lock:
            items = sorted(self.topics.items())
        for topic, st in items:
            self.out.write(f"  {topic:<44} {st.count:7d} msgs {st.count / span:7.1f} Hz\n")
        self.out.flush()
