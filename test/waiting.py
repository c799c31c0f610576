"""Polling helpers for tests that wait on other threads or processes (DDS, servers)."""

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(predicate: Callable[[], object], timeout: float = 10.0, period: float = 0.01) -> bool:
    """True as soon as `predicate()` is truthy, polling every `period` s; its last value after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(period)
    return bool(predicate())


def wait_for(produce: Callable[[], T], timeout: float = 8.0, what: str = "condition", period: float = 0.01) -> T:
    """The first truthy value of `produce()`, polling every `period` s; AssertionError naming `what`
    after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = produce()
        if value:
            return value
        time.sleep(period)
    raise AssertionError(f"timed out waiting for {what}")
