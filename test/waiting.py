"""Polling helpers for tests that wait on other threads or processes (DDS, servers)."""

import os
import signal
import subprocess
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


def interrupt_and_reap(proc: subprocess.Popen, timeout: float = 20.0) -> int:
    """Resume `proc` (it may be SIGSTOPped), send it SIGINT as Ctrl-C would, wait up to `timeout` s
    (then kill it); its exit code."""
    os.kill(proc.pid, signal.SIGCONT)
    proc.send_signal(signal.SIGINT)
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()
