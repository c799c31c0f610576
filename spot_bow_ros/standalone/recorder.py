"""rosbag2 recording from CDR bytes, on a background thread (standalone `ros2 bag record`).

`BagRecorder.record(topic, type_name, cdr, time_ns, qos)` only queues; one writer thread
appends to the bag with `rosbags.rosbag2.Writer` (MCAP by default, sqlite3 on request), in
batches of `batch_interval_s` (20 ms: one wake-up per batch, not per message). The bag is
rosbag2 format version 8 (what Humble's rosbag2 and later read; offered QoS stored as the YAML
string rosbag2 writes). Nothing is serialized again: the bytes recorded are the bytes sent.

Memory: what waits to be written is bounded by `max_queue_bytes` (100 MiB, as `ros2 bag
record`'s default `--max-cache-size`); beyond it new messages are dropped, counted and warned
about once. Normally the queue holds one batch (~1 MB at 40 MB/s) and the open MCAP chunk 1 MiB.

Durability: every `flush_interval_s` (1 s) the pending MCAP chunk is closed and flushed to disk
(sqlite3: the transaction is committed), so a crash loses at most the last second. A bag cut
short by a crash has no metadata.yaml: `ros2 bag reindex` (sqlite3) or `mcap recover` (MCAP)
restores it. `close()` drains the queue and writes metadata.yaml with per-topic counts.
"""

from __future__ import annotations

import collections
import datetime
import logging
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Literal

from rosbags.interfaces import Connection, QosDurability, QosHistory, QosLiveliness, QosReliability, QosTime
from rosbags.interfaces import Qos as BagQos
from rosbags.rosbag2 import StoragePlugin, Writer

from ..ros.qos import Durability, History, QoS, Reliability
from .message_store import RosbagsMessages, messages_for  # first: a clear error without rosbags

STORAGES = {"mcap": StoragePlugin.MCAP, "sqlite3": StoragePlugin.SQLITE3}
#: rmw's RMW_DURATION_INFINITE as rmw_cyclonedds reports unset deadline/lifespan/lease.
_INFINITE = QosTime(sec=9223372036, nsec=854775807)
_log = logging.getLogger("spot_bow_ros.recorder")


class RecorderError(RuntimeError):
    """The bag cannot be written (bad storage id, output exists, disk error). Says which."""

    #: the message is a complete sentence for the user (commands print it alone)
    user_facing = True


def bag_output(requested: str, now: datetime.datetime | None = None) -> tuple[Path, str | None]:
    """Where a bag asked for at `requested` is written, and a note when that is not `requested`.

    A bag never overwrites: an existing DIR gets a timestamped sibling `DIR_YYYY_MM_DD-HH_MM_SS`,
    the name `ros2 bag record` gives a bag without `-o` (with `-o` an existing folder is
    refused there; here the run goes on and the note says where the bag went). Raises
    RecorderError when the place cannot be written.
    """
    path = Path(requested).expanduser()
    note = None
    if path.exists() or path.is_symlink():
        stamp = (now or datetime.datetime.now()).strftime("%Y_%m_%d-%H_%M_%S")
        candidate, n = path.with_name(f"{path.name}_{stamp}"), 1
        while candidate.exists():
            candidate, n = path.with_name(f"{path.name}_{stamp}_{n}"), n + 1
        note = f"{requested} exists: recording to {candidate} instead"
        path = candidate
    parent = path.parent if str(path.parent) else Path(".")
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise RecorderError(f"cannot record to {path}: {parent} is not a writable directory")
    try:  # a real probe: access() says yes to root, also where nothing can be created (/proc)
        tempfile.TemporaryFile(dir=parent).close()
    except OSError as exc:
        raise RecorderError(f"cannot record to {path}: cannot create files in {parent} "
                            f"({(exc.strerror or str(exc)).lower()})") from None
    return path, note


def bag_qos(qos: QoS) -> BagQos:
    """rosbag2 offered-QoS entry of a publisher QoS (as rmw reports it back)."""
    return BagQos(
        history=QosHistory.KEEP_ALL if qos.history == History.KEEP_ALL else QosHistory.KEEP_LAST,
        depth=0 if qos.history == History.KEEP_ALL else int(qos.depth),
        reliability=(QosReliability.RELIABLE if qos.reliability == Reliability.RELIABLE
                     else QosReliability.BEST_EFFORT),
        durability=(QosDurability.TRANSIENT_LOCAL if qos.durability == Durability.TRANSIENT_LOCAL
                    else QosDurability.VOLATILE),
        deadline=_INFINITE, lifespan=_INFINITE, liveliness=QosLiveliness.AUTOMATIC,
        liveliness_lease_duration=_INFINITE, avoid_ros_namespace_conventions=False)


class BagRecorder:
    """Writes rosbag2 bags from already-serialized CDR messages on its own thread."""

    def __init__(self, output: str | Path, storage: str = "mcap", messages: RosbagsMessages | None = None,
                 flush_interval_s: float = 1.0, max_queue_bytes: int = 100 * 2**20, version: Literal[8, 9] = 8,
                 batch_interval_s: float = 0.02):
        if storage not in STORAGES:
            raise RecorderError(f"unknown storage {storage!r} (expected mcap or sqlite3)")
        self.output = Path(output)
        if self.output.exists():
            raise RecorderError(f"output {self.output} already exists")
        self.storage = storage
        self.messages = messages or messages_for()
        self.flush_interval_s = flush_interval_s
        self.max_queue_bytes = max_queue_bytes
        self.batch_interval_s = batch_interval_s
        self.counts: collections.Counter[str] = collections.Counter()
        self.dropped = 0
        self._version = version
        self._queue: collections.deque[tuple[str, str, bytes, int, QoS]] = collections.deque()  # record()'s args
        self._queued_bytes = 0
        self._cv = threading.Condition()
        self._closing = False
        self._thread: threading.Thread | None = None
        self._writer: Writer | None = None
        self._connections: dict[tuple[str, str], Connection] = {}
        self.error: Exception | None = None

    # -- producer side ----------------------------------------------------------------------
    def start(self) -> BagRecorder:
        """Open the bag (on the writer thread: sqlite3 connections are per thread) and start."""
        opened = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(opened,), name=f"recorder:{self.output.name}",
                                        daemon=True)
        self._thread.start()
        opened.wait()
        if self.error is not None:
            self._thread.join()
            raise RecorderError(f"cannot create bag {self.output}: {self.error}") from self.error
        return self

    def record(self, topic: str, type_name: str, cdr: bytes, time_ns: int, qos: QoS) -> None:
        """Queue one message (any thread). Drops (and counts) when the writer is too far behind."""
        with self._cv:
            if self._closing:
                return
            if self._queued_bytes + len(cdr) > self.max_queue_bytes:
                self.dropped += 1
                if self.dropped == 1:
                    _log.warning(f"recorder is behind (>{self.max_queue_bytes >> 20} MiB queued): "
                                 "dropping messages")
                return
            self._queue.append((topic, type_name, cdr, time_ns, qos))
            self._queued_bytes += len(cdr)
            # the writer wakes for the first message of a batch (or a big backlog), not for each
            if len(self._queue) == 1 or self._queued_bytes >= self.max_queue_bytes // 4:
                self._cv.notify()

    __call__ = record  # usable directly as a transport tap

    def close(self) -> None:
        """Write what is queued, then metadata.yaml; the bag is complete afterwards."""
        with self._cv:
            if self._closing:
                return
            self._closing = True
            self._cv.notify()
        if self._thread is not None:
            self._thread.join()
        if self.dropped:
            _log.warning(f"recorder dropped {self.dropped} messages")

    def __enter__(self) -> BagRecorder:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- writer thread ----------------------------------------------------------------------
    def _run(self, opened: threading.Event) -> None:
        try:
            self.output.parent.mkdir(parents=True, exist_ok=True)
            writer = self._writer = Writer(self.output, version=self._version,
                                           storage_plugin=STORAGES[self.storage])
            writer.open()
        except Exception as exc:  # noqa: BLE001 - kept and raised to the caller by start()/close()
            self.error = exc
            return
        finally:
            opened.set()
        next_flush = time.monotonic() + self.flush_interval_s
        dirty = False
        try:
            while True:
                with self._cv:
                    while not self._queue and not self._closing:
                        timeout = next_flush - time.monotonic() if dirty else None
                        if timeout is not None and timeout <= 0:
                            break
                        self._cv.wait(timeout)
                    # let a batch build up: one wake-up per `batch_interval_s`, not per message
                    end = time.monotonic() + self.batch_interval_s
                    while not self._closing and self._queued_bytes < self.max_queue_bytes // 4:
                        left = end - time.monotonic()
                        if left <= 0:
                            break
                        self._cv.wait(left)
                    batch = list(self._queue)
                    self._queue.clear()
                    self._queued_bytes = 0
                    closing = self._closing
                for topic, type_name, cdr, time_ns, qos in batch:
                    writer.write(self._connection(topic, type_name, qos), time_ns, cdr)
                    self.counts[topic] += 1
                    dirty = True
                if closing:
                    break
                if dirty and time.monotonic() >= next_flush:
                    self._flush()
                    dirty = False
                    next_flush = time.monotonic() + self.flush_interval_s
        except Exception as exc:  # noqa: BLE001 - kept and raised to the caller by close()
            self.error = exc
            _log.error(f"recording to {self.output} failed: {type(exc).__name__}: {exc}")
        finally:
            try:
                writer.close()
            except Exception as exc:  # noqa: BLE001 - kept and raised to the caller by close()
                self.error = self.error or exc
                _log.error(f"closing bag {self.output} failed: {exc}")

    def _connection(self, topic: str, type_name: str, qos: QoS) -> Connection:
        key = (topic, type_name)
        conn = self._connections.get(key)
        if conn is None:
            assert self._writer is not None
            conn = self._writer.add_connection(topic, type_name, typestore=self.messages.typestore,
                                               serialization_format="cdr", offered_qos_profiles=[bag_qos(qos)])
            self._connections[key] = conn
        return conn

    def _flush(self) -> None:
        """Push everything written so far to disk (bounded loss on a crash)."""
        storage = getattr(self._writer, "storage", None)
        if storage is None:
            return
        if hasattr(storage, "close_chunk"):  # MCAP: pending chunk -> file
            if storage.chunk.bio.tell():
                storage.close_chunk()
            storage.bio.flush()
        elif hasattr(storage, "conn"):  # sqlite3
            storage.conn.commit()
