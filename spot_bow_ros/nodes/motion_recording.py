"""Record BOW MotorSamples into named `MotorArray` files and play them back with their timing.

Used by the motor_command bridge (`nodes/motor_command.py`) for the MotorSample `RecordFlag` / `PlaybackFlag` /
`PlaybackActionName` fields. It lives in `nodes/` beside its bridge, not in `convert/` (no I/O there)
nor `spot/` (the robot): it does file I/O and timing, and depends on `bow` only.

File format: `<recordings_dir>/<name>.motorarray`, the binary protobuf of a BOW `MotorArray`
(`Samples` and `Tstamp`, the receive time of each sample in milliseconds since the Unix epoch).
Samples are stored with their record/playback fields cleared, so playing a recording never
starts another recording or playback.

Recording: the first sample with `RecordFlag` true starts a recording named by its
`PlaybackActionName` (or the default name); each following sample with `RecordFlag` true is
appended; the first sample without it (or with a different name, or `finish()`) saves the file.
Playback: `MotionPlayer.play(array)` submits each sample at `start + (Tstamp[i] - Tstamp[0])`
on a monotonic clock, from its own thread, until the end or `cancel()`.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from ..bow import bow_data_pb2 as bow

SUFFIX = ".motorarray"


class RecordingError(Exception):
    """A recording cannot be read or written. `str(exc)` names the file and the problem."""


def recording_path(directory: str | Path, name: str) -> Path:
    """File of recording `name` (a name already checked with `convert.motor.check_action_name`)."""
    return Path(directory).expanduser() / f"{name}{SUFFIX}"


def save_recording(path: Path, array: bow.MotorArray) -> Path:
    """Write `array` atomically (temp file + rename) to `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as f:
            f.write(array.SerializeToString())
        os.replace(tmp, path)
    except OSError as exc:
        raise RecordingError(f"cannot write recording {path}: {exc.strerror or exc}") from None
    return path


def load_recording(directory: str | Path, name: str) -> bow.MotorArray:
    """The MotorArray saved as `name`; RecordingError if missing or corrupt."""
    path = recording_path(directory, name)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise RecordingError(f"no recording named {name!r} ({path} does not exist)") from None
    except OSError as exc:
        raise RecordingError(f"cannot read recording {path}: {exc.strerror or exc}") from None
    array = bow.MotorArray()
    try:
        array.ParseFromString(data)
    except Exception as exc:  # noqa: BLE001 - DecodeError and friends: the file is not a MotorArray
        raise RecordingError(f"recording {path} is not a MotorArray: {exc}") from None
    if len(array.Samples) != len(array.Tstamp):
        raise RecordingError(f"recording {path} has {len(array.Samples)} samples but "
                             f"{len(array.Tstamp)} timestamps")
    if any(b < a for a, b in zip(array.Tstamp, array.Tstamp[1:])):
        raise RecordingError(f"recording {path}: timestamps go backwards")
    return array


def _stripped(sample: bow.MotorSample) -> bow.MotorSample:
    copy = bow.MotorSample()
    copy.CopyFrom(sample)
    for name in ("RecordFlag", "PlaybackFlag", "PlaybackActionName"):
        copy.ClearField(name)
    return copy


class MotionRecorder:
    """Collects samples while their RecordFlag is set; saves each finished recording."""

    def __init__(self, directory: str | Path, default_name: str = "recording"):
        self.directory = Path(directory).expanduser()
        self.default_name = default_name
        self.name: str | None = None
        self._array: bow.MotorArray | None = None

    @property
    def recording(self) -> bool:
        """True from the first sample fed with `record` set until the recording is saved (a sample
        without `record` or with another name, or `finish`)."""
        return self._array is not None

    @property
    def count(self) -> int:
        """Samples in the recording in progress (0 when none is)."""
        return len(self._array.Samples) if self._array is not None else 0

    def feed(self, sample: bow.MotorSample, record: bool, name: str | None, t_ns: int) -> Path | None:
        """Handle one valid sample received at `t_ns` (ns since the epoch). Returns the path of
        a recording saved by this call, if any."""
        saved = None
        name = name or self.default_name
        if self._array is not None and (not record or name != self.name):
            saved = self.finish()
        if record:
            if self._array is None:
                self._array = bow.MotorArray()
                self.name = name
            self._array.Samples.append(_stripped(sample))
            self._array.Tstamp.append(int(t_ns // 1_000_000))
        return saved

    def finish(self) -> Path | None:
        """Save the recording in progress (if any) and return its path."""
        array, name = self._array, self.name
        self._array, self.name = None, None
        if array is None or not len(array.Samples):
            return None
        return save_recording(recording_path(self.directory, name), array)


class MotionPlayer:
    """Replays a MotorArray through `submit(sample)` with the recorded timing on a thread."""

    def __init__(self, submit: Callable[[bow.MotorSample], None],
                 on_done: Callable[[str, int, bool], None] | None = None):
        self._submit = submit
        self._on_done = on_done  # (name, samples submitted, cancelled)
        self._thread: threading.Thread | None = None
        self._cancel = threading.Event()
        self.name: str | None = None

    @property
    def playing(self) -> bool:
        """True while a playback thread is running."""
        return self._thread is not None and self._thread.is_alive()

    def is_current(self) -> bool:
        """True when called from the thread of the playback in progress and it is not cancelled
        (a superseded playback thread must not submit anything)."""
        return threading.current_thread() is self._thread and not self._cancel.is_set()

    def play(self, array: bow.MotorArray, name: str) -> None:
        """Start playing `array` (cancels a playback in progress without waiting for it)."""
        self.cancel(wait=False)
        self._cancel = threading.Event()
        self.name = name
        self._thread = threading.Thread(target=self._run, args=(array, name, self._cancel),
                                        name=f"playback:{name}", daemon=True)
        self._thread.start()

    def cancel(self, wait: bool = True) -> bool:
        """Stop the playback in progress. Returns True if one was playing."""
        thread = self._thread
        if thread is None or not thread.is_alive():
            return False
        self._cancel.set()
        if wait and thread is not threading.current_thread():
            thread.join(timeout=2.0)
        return True

    def _run(self, array: bow.MotorArray, name: str, cancel: threading.Event) -> None:
        start = time.monotonic()
        t0 = array.Tstamp[0] if len(array.Tstamp) else 0
        sent = 0
        for sample, t_ms in zip(array.Samples, array.Tstamp):
            due = start + (t_ms - t0) / 1000.0
            delay = due - time.monotonic()
            if delay > 0 and cancel.wait(delay):
                break
            if cancel.is_set():
                break
            self._submit(sample)
            sent += 1
        if self._on_done:
            self._on_done(name, sent, cancel.is_set())
