"""Live status of `spot-bow-ros run`: per-topic rate and counts, errors, lease and power.

Fed by the transport's publish tap (every message the process publishes, as CDR), so it
costs one deque append per message. On a terminal it draws a table at the bottom (at most 79
columns) and prints log lines above it (never erased); it prints a summary at the end.

Topics a bridge publishes on but nobody subscribes to (lazy cameras) are listed as
"no subscriber". Robot facts beyond lease/power/motion (battery, E-Stop, ...) come from status
sources: a bridge with a `compact_status() -> str | None` method, or any callable given to
`add_status_source`; each adds a short `label: value` text to the robot line.
"""

from __future__ import annotations

import collections
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TextIO

#: widest line of the table (an 80-column terminal wraps a line of exactly 80 on some terminals)
WIDTH = 79
_TOPIC_W, _RATE_W, _MSGS_W = 42, 9, 9
_NOTE_W = WIDTH - _TOPIC_W - _RATE_W - _MSGS_W - 3


@dataclass
class TopicStats:
    type_name: str
    count: int = 0
    bytes: int = 0
    first_ns: int = 0
    #: receive times of the last `window_s` seconds (pruned as messages arrive; no count cap)
    recent: collections.deque = field(default_factory=collections.deque)
    window_s: float = 2.0

    def add(self, t_ns: int, size: int) -> None:
        self.count += 1
        self.bytes += size
        recent = self.recent
        recent.append(t_ns)
        horizon = t_ns - int(self.window_s * 1e9)
        try:
            while recent[0] < horizon:
                recent.popleft()
        except IndexError:  # emptied by another publishing thread meanwhile
            pass

    def rate_hz(self, now_ns: int, window_s: float | None = None) -> float:
        """Messages per second over the last `window_s` seconds (shorter while the topic is younger)."""
        window_s = self.window_s if window_s is None else window_s
        if not self.count:
            return 0.0
        horizon = now_ns - int(window_s * 1e9)
        n = sum(1 for t in list(self.recent) if t >= horizon)
        span = min(window_s, max(1e-9, (now_ns - self.first_ns) / 1e9))
        return n / span


def _fit(text: str, width: int) -> str:
    """`text` cut to `width` characters, keeping its end (topic names differ at the end)."""
    return text if len(text) <= width else "~" + text[-(width - 1):]


def _wrap(parts: Iterable[str], width: int = WIDTH, sep: str = " | ") -> list[str]:
    """Join `parts` with `sep` into lines of at most `width` characters."""
    lines: list[str] = []
    line = ""
    for part in parts:
        part = part[:width]
        if line and len(line) + len(sep) + len(part) > width:
            lines.append(line)
            line = part
        else:
            line = f"{line}{sep}{part}" if line else part
    if line:
        lines.append(line)
    return lines


class _AboveTableHandler(logging.Handler):
    """Writes log records above the live table (through the board), formatted as before."""

    def __init__(self, board: StatusBoard, replaced: logging.Handler):
        super().__init__(replaced.level)
        self.board = board
        self.replaced = replaced
        self.setFormatter(replaced.formatter)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.board.write_above(self.format(record) + "\n")
        except Exception:  # noqa: BLE001 - logging must never raise
            self.handleError(record)


class StatusBoard:
    """Counts what is published; shows a live table (TTY) and a final summary."""

    def __init__(self, live: bool = True, out: TextIO | None = None, period_s: float = 1.0,
                 target_s: float | None = None, max_rows: int | None = None):
        """`max_rows`: the table's height limit (default: the terminal's height minus one line
        for a log line); idle topics are grouped per camera, then counted, to stay within it."""
        self.live = live
        self.max_rows = max_rows
        self.out = out or sys.stderr
        self.period_s = period_s
        self.target_s = target_s
        self.topics: dict[str, TopicStats] = {}
        self._lock = threading.Lock()
        self._draw_lock = threading.RLock()
        self._bridges: dict[str, Any] = {}
        self._publishers: list[Any] = []
        self._sources: list[Callable[[], str | None]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lines_drawn = 0
        self._last_table: list[str] = []
        self._swapped: list[tuple[logging.Handler, logging.Handler]] = []
        self.started_ns = time.time_ns()

    # -- feeding ----------------------------------------------------------------------------
    def tap(self, topic: str, type_name: str, cdr: bytes, t_ns: int, qos: Any = None) -> None:
        stats = self.topics.get(topic)
        if stats is None:
            with self._lock:
                stats = self.topics.setdefault(topic, TopicStats(type_name, first_ns=t_ns))
        stats.add(t_ns, len(cdr))

    def attach(self, bridges: dict[str, Any], nodes: Iterable[Any] = ()) -> None:
        """The bridges (robot state, errors, `compact_status`) and their nodes (publishers, so
        topics that never published are listed too)."""
        self._bridges = bridges
        self._publishers = [pub for node in nodes for pub in getattr(node, "publishers", [])]

    def add_status_source(self, source: Callable[[], str | None]) -> None:
        """`source()` returns a short text for the robot line (e.g. "battery 87%", "E-Stop: ok"),
        or None to show nothing; it must be quick (it runs on the drawing thread)."""
        self._sources.append(source)

    # -- content ----------------------------------------------------------------------------
    def robot_state(self) -> str:
        return " | ".join(self._robot_parts())

    def _robot_parts(self) -> list[str]:
        parts = []
        motor = self._bridges.get("motor_command")
        if motor is None:
            parts.append("motor_command off")
        else:
            commander = getattr(motor, "commander", None)
            for label, attr in (("lease", "lease_held"), ("power", "powered")):
                value = getattr(commander, attr, None)
                value = value() if callable(value) else value
                if value is not None:
                    parts.append(f"{label}: {'yes' if value else 'no'}")
            parts.append(f"motion: {'enabled' if getattr(motor, 'motion_enabled', False) else 'disabled'}")
            status = getattr(getattr(motor, "estop", None), "last_status", None)
            if status is not None:
                from ..spot.estop import level_name
                parts.append(f"E-Stop: {level_name(status.stop_level)}")
            counts = getattr(motor, "counts", {})
            if counts:
                parts.append(f"commands sent {counts.get('sent', 0)}, rejected {counts.get('rejected', 0)}")
        sources = [b.compact_status for b in self._bridges.values()
                   if callable(getattr(b, "compact_status", None))] + self._sources
        for source in sources:
            try:
                text = source()
            except Exception:  # noqa: BLE001 - a status source must not break the table
                text = None
            if text:
                parts.append(str(text))
        return parts

    def errors(self) -> int:
        total = 0
        for bridge in self._bridges.values():
            for attr in ("errors", "error_count", "rejected"):
                value = getattr(bridge, attr, None)
                if isinstance(value, int):
                    total += value
                    break
        return total

    def _idle_topics(self) -> dict[str, str]:
        """Topics with a publisher that has not published yet -> why."""
        idle: dict[str, str] = {}
        for pub in self._publishers:
            topic = getattr(pub, "topic", None)
            if not topic or topic in self.topics or topic in idle:
                continue
            try:
                subscribers = pub.get_subscription_count()
            except Exception:  # noqa: BLE001 - closed meanwhile
                continue
            idle[topic] = "no subscriber" if subscribers == 0 else "waiting"
        return idle

    def table(self) -> list[str]:
        now = time.time_ns()
        lines = [f"{'topic':<{_TOPIC_W}} {'rate Hz':>{_RATE_W}} {'msgs':>{_MSGS_W}} {'':<{_NOTE_W}}".rstrip()]
        with self._lock:
            items = sorted(self.topics.items())
        for topic, st in items:
            lines.append(f"{_fit(topic, _TOPIC_W):<{_TOPIC_W}} {st.rate_hz(now):>{_RATE_W}.1f} "
                         f"{st.count:>{_MSGS_W}d}")
        elapsed = (now - self.started_ns) / 1e9
        clock = f"{elapsed:.0f} / {self.target_s:g} s" if self.target_s else f"{elapsed:.0f} s (Ctrl-C stops)"
        footer = _wrap([clock, f"errors {self.errors()}"] + self._robot_parts())
        room = self._rows() - len(lines) - len(footer)
        lines += self._idle_rows(self._idle_topics(), room)
        return lines + footer

    def _rows(self) -> int:
        if self.max_rows is not None:
            return self.max_rows
        import shutil

        return max(10, shutil.get_terminal_size((WIDTH + 1, 25)).lines - 1)

    @staticmethod
    def _idle_rows(idle: dict[str, str], room: int) -> list[str]:
        """Rows of the idle topics: one per topic if they fit in `room`, else one per group
        (`/spot/camera/back/*`), else one line counting them."""
        def row(name: str, why: str) -> str:
            return f"{_fit(name, _TOPIC_W):<{_TOPIC_W}} {'-':>{_RATE_W}} {0:>{_MSGS_W}d} {why:<{_NOTE_W}}".rstrip()

        if len(idle) <= room:
            return [row(topic, why) for topic, why in sorted(idle.items())]
        groups: dict[tuple[str, str], list[str]] = collections.defaultdict(list)
        for topic, why in idle.items():
            groups[("/".join(topic.split("/")[:4]) + "/*", why)].append(topic)
        if len(groups) <= room:
            return [row(f"{name} ({len(topics)})" if len(topics) > 1 else topics[0], why)
                    for (name, why), topics in sorted(groups.items())]
        silent = sum(1 for why in idle.values() if why == "no subscriber")
        return [f"{len(idle)} topics not published yet ({silent} without a subscriber)"[:WIDTH]]

    # -- drawing ----------------------------------------------------------------------------
    def start(self) -> None:
        if not self.live:
            return
        root = logging.getLogger()
        for handler in list(root.handlers):
            if isinstance(handler, logging.StreamHandler) and getattr(handler, "stream", None) is self.out:
                above = _AboveTableHandler(self, handler)
                root.removeHandler(handler)
                root.addHandler(above)
                self._swapped.append((handler, above))
        self._thread = threading.Thread(target=self._draw_loop, name="status", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        root = logging.getLogger()
        for original, above in self._swapped:
            root.removeHandler(above)
            root.addHandler(original)
        self._swapped.clear()

    def _erase(self) -> str:
        # cursor to the start of the table's first line, clear from there to the end of screen
        return f"\x1b[{self._lines_drawn}F\x1b[J" if self._lines_drawn else ""

    def write_above(self, text: str) -> None:
        """Print `text` (whole lines) above the table, then the table again."""
        with self._draw_lock:
            table = self._last_table
            self.out.write(self._erase() + text + "".join(f"{line}\n" for line in table))
            self.out.flush()
            self._lines_drawn = len(table)

    def _draw_loop(self) -> None:
        while not self._stop.wait(self.period_s):
            lines = self.table()
            with self._draw_lock:
                self.out.write(self._erase() + "".join(f"{line}\n" for line in lines))
                self.out.flush()
                self._lines_drawn = len(lines)
                self._last_table = lines

    def print_summary(self) -> None:
        span = max(1e-9, (time.time_ns() - self.started_ns) / 1e9)
        self.out.write(f"published in {span:.1f} s:\n")
        with self._lock:
            items = sorted(self.topics.items())
        for topic, st in items:
            self.out.write(f"  {_fit(topic, 44):<44} {st.count:8d} msgs {st.count / span:8.1f} Hz\n")
        self.out.flush()
