"""Polling helper for tests that wait on other threads or processes (DDS, servers)."""

import time
from typing import Callable


def wait_until(predicate: Callable[[], object], timeout: float = 10.0, period: float = 0.01) -> bool:
    """True as soon as `predicate()` is truthy, polling every `period` s; its last value after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(period)
    return bool(predicate())
