"""Free disk space under a bag being recorded: refuse to start, or stop, below a threshold.

Used by `spot-bow-ros record` and `spot-bow-ros run --record` (every camera raw is about 65 MB/s,
a full disk would leave a bag without its metadata). The threshold is `--min-free-space`
(default `DEFAULT_MIN_FREE_BYTES`).
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from .arg_types import format_bytes

#: default threshold: about 15 s of every camera raw at full rate, and room for the metadata
DEFAULT_MIN_FREE_BYTES = 10**9
#: the expected rates the commands state up front, measured with the built-in simulated Spot
#: (README, "Recording uses disk fast": 1487 MB in 23.0 s of bag for the 20 s run; 89.5 MB in
#: 22.3 s with --exclude-raw-images, /tf at the default tf_rate 50 Hz): every topic of
#: `spot-bow-ros run`, and without raw images
RUN_ALL_TOPICS_BYTES_PER_S = 65e6
RUN_WITHOUT_RAW_IMAGES_BYTES_PER_S = 4.0e6


class LowDiskSpace(RuntimeError):
    """Free space under the bag is (or fell) below the threshold; the message is one sentence."""

    user_facing = True


def _existing(path: Path) -> Path:
    """`path` or its nearest existing ancestor (the bag directory may not exist yet)."""
    path = path.expanduser().absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


class DiskSpaceGuard:
    """Watches the free space of the file system a bag is written to.

    `check()` raises LowDiskSpace below `min_free_bytes`; `poll()` does so at most every
    `interval_s` seconds (cheap to call from a main loop)."""

    def __init__(self, bag: str | Path, min_free_bytes: int = DEFAULT_MIN_FREE_BYTES, interval_s: float = 0.5):
        self.bag = Path(bag)
        self.min_free_bytes = int(min_free_bytes)
        self.interval_s = interval_s
        self._next = 0.0

    def free_bytes(self) -> int:
        return shutil.disk_usage(_existing(self.bag)).free

    def check_before_start(self) -> int:
        """Free bytes; LowDiskSpace (nothing recorded yet) when already below the threshold."""
        free = self.free_bytes()
        if free < self.min_free_bytes:
            raise LowDiskSpace(f"not recording to {self.bag}: {format_bytes(free)} free there, below "
                               f"--min-free-space {format_bytes(self.min_free_bytes)}")
        return free

    def poll(self) -> None:
        """Raise LowDiskSpace when free space fell below the threshold (checked every interval_s)."""
        now = time.monotonic()
        if now < self._next:
            return
        self._next = now + self.interval_s
        free = self.free_bytes()
        if free < self.min_free_bytes:
            raise LowDiskSpace(f"stopped recording: {format_bytes(free)} free under {self.bag}, below "
                               f"--min-free-space {format_bytes(self.min_free_bytes)}; the bag is complete "
                               "up to here")

    def rate_note(self, bytes_per_s: float, what: str) -> str:
        """'<what> about 65 MB/s; 77 GB free there lasts about 20 min (...)' (the up-front size note)."""
        free = self.free_bytes()
        usable = max(0, free - self.min_free_bytes)
        minutes = usable / bytes_per_s / 60
        span = f"{minutes:.0f} min" if minutes >= 2 else f"{usable / bytes_per_s:.0f} s"
        return (f"{what} about {format_bytes(bytes_per_s)}/s; {format_bytes(free)} free there lasts about "
                f"{span} (recording stops below --min-free-space {format_bytes(self.min_free_bytes)})")
