"""What both backends share around a node's life: the errors that end a start (`BackendError`,
`USER_ERRORS`, `startup_failure`), ROS-style log lines (`setup_logging`) and a clean stop on
SIGINT/SIGTERM (`shutdown_signals`, `wait_for`). Imports nothing of either backend."""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from ..ros.names import TopicNameError, UnknownMessageType
from ..ros.params import ParameterError

_log = logging.getLogger("spot_bow_ros")

#: Errors that mean "the user gave us something wrong": one line, exit code 2.
USER_ERRORS = (ParameterError, TopicNameError, UnknownMessageType, ValueError)


class BackendError(RuntimeError):
    """The requested backend cannot be used (e.g. rclpy forced but not installed)."""


def setup_logging(level: str | None = None) -> None:
    """Log lines like ROS 2: `[INFO] [1700000000.123] [node]: message`."""
    numeric = getattr(logging, (level or "info").upper(), logging.INFO)
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_RosFormatter())
        root.addHandler(handler)
    root.setLevel(numeric)


#: Control characters (newline, carriage return, escape, ...) as visible escapes.
_CONTROL_ESCAPES = {c: f"\\x{c:02x}" for c in [*range(0x20), 0x7f]} | {
    ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t"}


def escape_log_text(text: str) -> str:
    """`text` on one line with control characters escaped (`\\n`, `\\x1b`, ...): text from outside
    (a rejected JSON key, a robot's error message) cannot forge log lines or drive the terminal."""
    return text.translate(_CONTROL_ESCAPES)


class _RosFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        name = record.name[len("spot_bow_ros."):] if record.name.startswith("spot_bow_ros.") else record.name
        line = f"[{record.levelname}] [{record.created:.3f}] [{name}]: {escape_log_text(record.getMessage())}"
        if record.exc_info:  # tracebacks (--log-level debug) keep their lines
            line += "\n" + self.formatException(record.exc_info)
        return line


@contextlib.contextmanager
def shutdown_signals(stop: threading.Event) -> Iterator[threading.Event]:
    """While inside, SIGINT/SIGTERM set `stop` instead of raising (main thread only), also during
    the shutdown that follows: a second Ctrl-C (or launch's SIGINT then SIGTERM) cannot cut a
    clean shutdown short."""
    previous = {}
    if threading.current_thread() is threading.main_thread():
        def handler(signum: int, frame: Any) -> None:
            if stop.is_set():
                _log.warning("already shutting down")
            stop.set()

        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, handler)
    try:
        yield stop
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def wait_for(stop: threading.Event) -> None:
    """Block until `stop` is set (polling, so signal handlers run promptly in the main thread)."""
    while not stop.wait(0.2):
        pass


def startup_failure(builders: Sequence[tuple[str, Any]], exc: BaseException) -> str:
    """The one line of a node that failed to start (both backends): a user-facing error's own
    sentence (e.g. the robot refused the password), else which nodes failed and why."""
    if getattr(exc, "user_facing", False):
        return str(exc)
    return f"starting {', '.join(n for n, _ in builders)} failed: {type(exc).__name__}: {exc}"
