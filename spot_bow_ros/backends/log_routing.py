"""Library log lines under the node's logger instead of `[root]`.

bosdyn-client logs on Python's root logger in places (`LeaseKeepAlive`, `PolicyKeepalive`,
`bosdyn.client.util`) and on `bosdyn.*` loggers elsewhere. In a ROS 2 process those lines
appeared as `[root]`, out of rosout and the node's log file. `route_library_logs(logger)`
re-emits them, one line each (no traceback), through a node logger (an rclpy logger or the
standalone runtime's), and keeps the process's other handlers from printing them a second time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

#: Loggers whose records are re-emitted under the node (the root logger and these top-level names).
LIBRARY_LOGGERS = ("bosdyn",)


def is_library_record(record: logging.LogRecord) -> bool:
    """True for records of the root logger or of a `LIBRARY_LOGGERS` package."""
    return record.name == "root" or record.name.split(".", 1)[0] in LIBRARY_LOGGERS


def one_line(record: logging.LogRecord) -> str:
    """`<origin>: <message>[: <exception>]` on one line; origin is the logger (or the module for
    the root logger), e.g. `lease: Failed to acquire the lease in LeaseKeepAlive: ...`."""
    origin = record.module if record.name == "root" else record.name
    text = record.getMessage()
    if record.exc_info and record.exc_info[1] is not None:
        exc = record.exc_info[1]
        text = f"{text}: {type(exc).__name__}: {exc}"
    first, *rest = text.strip().splitlines() or [""]
    return f"{origin}: {first}" + (" [...]" if rest else "")


class LibraryLogRouter(logging.Handler):
    """Handler on the root logger: library records -> `logger.<level>(one line)`.

    Each severity is logged from a call site of its own: rclpy's logger binds one severity to
    each call site (file, line) and raises ValueError when the same line logs at another."""

    def __init__(self, logger: Any):
        super().__init__()
        self.logger = logger
        self.addFilter(is_library_record)

    def emit(self, record: logging.LogRecord) -> None:
        level = record.levelno
        try:
            text = one_line(record)  # a record with bad %-args raises here
            if level >= logging.CRITICAL:
                self.logger.fatal(text)
            elif level >= logging.ERROR:
                self.logger.error(text)
            elif level >= logging.WARNING:
                self.logger.warning(text)
            elif level >= logging.INFO:
                self.logger.info(text)
            else:
                self.logger.debug(text)
        except Exception:  # noqa: BLE001 - a gone logger must not break the library
            self.handleError(record)


def _not_library(record: logging.LogRecord) -> bool:
    return not is_library_record(record)


def route_library_logs(logger: Any) -> Callable[[], None]:
    """Route root/bosdyn log records to `logger` (a node logger) until the returned undo is called."""
    root = logging.getLogger()
    others = [h for h in root.handlers if not isinstance(h, LibraryLogRouter)]
    for handler in others:
        handler.addFilter(_not_library)
    router = LibraryLogRouter(logger)
    root.addHandler(router)

    def undo() -> None:
        root.removeHandler(router)
        for handler in others:
            handler.removeFilter(_not_library)

    return undo
