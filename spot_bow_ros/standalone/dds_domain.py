"""The Cyclone DDS domain of the standalone runtime: `ROS_DOMAIN_ID`, one configured domain per
process (`ensure_domain`, configured by `cyclone_config`), the process-wide malloc tuning for
image-sized buffers, the once-per-process check of Cyclone's serdata API and the explicit
delete of a Cyclone entity. `DdsError` is what every DDS module raises."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import threading
from typing import Any

from cyclonedds.core import DDSException
from cyclonedds.domain import Domain, DomainParticipant
from cyclonedds.topic import Topic

from .cdr_encoder import pad_cdr
from .cyclone_config import cyclone_config
from .dds_idl import idl_struct
from .dds_serdata import CdrApi
from .message_store import RosbagsMessages

_log = logging.getLogger("spot_bow_ros.dds")


class DdsError(RuntimeError):
    """DDS could not do what was asked (domain, entity creation). The message says what."""


def default_domain_id() -> int:
    """`ROS_DOMAIN_ID` (0 when unset), validated as ROS 2 does (0..232)."""
    text = os.environ.get("ROS_DOMAIN_ID", "").strip()
    if not text:
        return 0
    try:
        value = int(text)
    except ValueError:
        raise DdsError(f"ROS_DOMAIN_ID={text!r} is not an integer") from None
    if not 0 <= value <= 232:
        raise DdsError(f"ROS_DOMAIN_ID={value} is outside 0..232")
    return value


_domains: dict[int, Any] = {}
_domains_lock = threading.Lock()
_malloc_tuned = False

#: glibc `mallopt` parameters (malloc.h) and the values `tune_malloc` sets.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
MALLOC_MMAP_THRESHOLD = 32 * 1024 * 1024   # glibc's maximum (HEAP_MAX_SIZE / 2 on 64-bit)
MALLOC_TRIM_THRESHOLD = 128 * 1024 * 1024


def tune_malloc() -> bool:
    """Keep big buffers (images: 1-6 MB) on the malloc heap instead of fresh `mmap`s.

    Every image passes through ~5 buffers of its size per process (Cyclone's serdata and receive
    buffers, the Python bytes of a take, the CDR of a write), allocated on different threads.
    With glibc's defaults each of them is a new `mmap` whose pages fault in one by one (~675 page
    faults for 1280x720 bgr8), which measured ~2.5 ms of the 10 ms image latency here. Raising the
    mmap threshold to 32 MB and the trim threshold to 128 MB lets freed buffers be reused warm.
    Process-wide; done once, before the first Cyclone domain; skipped when not glibc, when the
    user set `MALLOC_MMAP_THRESHOLD_`/`MALLOC_TRIM_THRESHOLD_` themselves, or with
    `SPOT_BOW_ROS_MALLOC_TUNING=0`. Returns True if applied.
    """
    global _malloc_tuned
    if _malloc_tuned:
        return True
    if os.environ.get("SPOT_BOW_ROS_MALLOC_TUNING", "1").strip() == "0" or any(
            name in os.environ for name in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
        _ = libc.gnu_get_libc_version  # glibc only: AttributeError elsewhere (musl, macOS)
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    _malloc_tuned = bool(mallopt(_M_MMAP_THRESHOLD, MALLOC_MMAP_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, MALLOC_TRIM_THRESHOLD))
    return _malloc_tuned


def ensure_domain(domain_id: int, distro: str, config_xml: str | None) -> None:
    """Create the Cyclone domain once per process, configured as rmw_cyclonedds_cpp would be.

    `cyclone_config.cyclone_config`: the discovery fragment of ROS_AUTOMATIC_DISCOVERY_RANGE /
    ROS_STATIC_PEERS / ROS_LOCALHOST_ONLY, then `config_xml`, else CYCLONEDDS_URI, else the
    shipped tuning. Said in one debug log line (`--log-level debug`).
    """
    with _domains_lock:
        if domain_id in _domains:
            return
        tune_malloc()
        config = cyclone_config(distro, config_xml=config_xml)
        for note in config.options.notes:
            _log.warning(note)
        _log.debug(config.describe())  # --log-level debug shows it; not a line on every command
        try:
            _domains[domain_id] = Domain(domain_id, config.xml)
        except DDSException as exc:
            # Already created in this process by someone else (e.g. a plain participant): use it.
            _log.debug(f"DDS domain {domain_id} not configured by spot_bow_ros: {exc}")
            _domains[domain_id] = None


_cdr_api_checked: list[CdrApi | None] = []  # [the API or None] once checked in this process


def checked_cdr_api(participant: DomainParticipant, messages: RosbagsMessages) -> CdrApi | None:
    """Cyclone's serdata API if it loads and round-trips a sample on this build (once per process)."""
    with _domains_lock:
        if not _cdr_api_checked:
            api = CdrApi.load()
            if api is not None:
                check_type = "std_msgs/msg/String"
                topic = Topic(participant, "spot_bow_ros_cdr_api_check", idl_struct(messages.typestore, check_type))
                cdr = bytes(pad_cdr(messages.typestore.serialize_cdr(messages.make(check_type, data="check"),
                                                                     check_type)))
                try:
                    if not api.verify(topic._ref, cdr):
                        _log.warning("Cyclone's serdata API failed its self-test: using cyclonedds-python's "
                                     "write/take (one more copy of every message)")
                        api = None
                finally:
                    delete_entity(topic)
            _cdr_api_checked.append(api)
        return _cdr_api_checked[0]


def delete_entity(entity: Any) -> None:
    """Delete a Cyclone entity now (idempotent); a failure on the shutdown path is logged at debug."""
    try:
        entity.__del__()  # cyclonedds' explicit delete (idempotent)
    except Exception as exc:  # noqa: BLE001 - shutdown path; pragma: no cover - shutdown path
        _log.debug(f"deleting {entity!r}: {exc}")
