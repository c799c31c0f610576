"""argparse value types shared by the `spot-bow-ros` commands (seconds, byte sizes) and the
"did you mean" hint for a mistyped option.

Each type raises `argparse.ArgumentTypeError`, so a wrong value is argparse's one line, exit 2.
"""

from __future__ import annotations

import argparse
import difflib
import math
import re
from collections.abc import Iterable

_SIZE = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([kmgt]?)(?:i?b)?\s*$", re.IGNORECASE)
_SIZE_FACTORS = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12}


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number of seconds: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number of seconds, got {text}")
    return value


def positive_seconds(text: str) -> float:
    """argparse type: a finite number of seconds > 0."""
    value = _seconds(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds, got {text}")
    return value


def non_negative_seconds(text: str) -> float:
    """argparse type: a finite number of seconds >= 0 (0 conventionally meaning "no limit")."""
    value = _seconds(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 (no limit) or more seconds, got {text}")
    return value


def byte_size(text: str) -> int:
    """argparse type: a size in bytes with an optional decimal suffix: `500M`, `2G`, `1.5GB`, `0`."""
    match = _SIZE.match(text)
    if not match:
        raise argparse.ArgumentTypeError(f"invalid size {text!r} (expected e.g. 500M, 2G, 1.5GB)")
    value = float(match.group(1)) * _SIZE_FACTORS[match.group(2).lower()]
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"invalid size {text!r}")
    return int(value)


def format_bytes(size: float) -> str:
    """`1.5 GB`, `65 MB`, `4.6 MB` (decimal units, as `du --si` and the bag sizes in the README)."""
    for unit, factor in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if abs(size) >= factor:
            value = size / factor
            return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"
    return f"{size:.0f} B"


def option_hint(unknown: Iterable[str], known: Iterable[str]) -> str:
    """'; did you mean --duration?' for the first mistyped option of `unknown` that is close to
    one of `known` (option strings such as `--duration`), else ''."""
    options = sorted(set(known))
    for token in unknown:
        if not token.startswith("-"):
            continue
        close = difflib.get_close_matches(token.split("=", 1)[0], options, n=1, cutoff=0.75)
        if close:
            return f"; did you mean {close[0]}?"
    return ""
