"""Cyclone DDS's serialized-data calls (`dds_writecdr`, `dds_takecdr`) through ctypes.

These are the calls rmw_cyclonedds_cpp itself makes: it hands Cyclone CDR bytes and takes the
received CDR back, with no sample type in between. cyclonedds-python's `ddspy_write`/`ddspy_take`
do the same job with extra copies that dominate the latency of big messages (a 1280x720 bgr8
image is 2.7 MB; each copy costs ~0.3 ms here):

- write: `ddspy_write` needs one contiguous `bytes` (header + pixels joined: one copy of the
  image) and holds the GIL for the whole write. `write` gathers the message from a list of
  buffers (the small rosbags-encoded head and the image's own pixel buffer) straight into
  Cyclone's serdata, and ctypes releases the GIL while Cyclone sends.
- take: `ddspy_take` copies the sample into a zeroed buffer, then again into Python `bytes`.
  `take` hands out a read-only memoryview over Cyclone's own buffer instead; a reference on the
  serdata keeps it valid until the last view (e.g. a decoded Image's `data`) is gone. Small
  samples are copied into `bytes` at once (cheaper than tracking a view).

Only functions that libddsc exports for this purpose are called, on the very library instance
cyclonedds-python loaded (its own ctypes handle, checked to be mapped in this process), never on
another Cyclone in the same process (rclpy's rmw_cyclonedds_cpp brings Cyclone 0.10).
`CdrApi.load()` returns None, and callers keep using cyclonedds-python, when that library
instance cannot be identified (one warning) or a symbol is missing, on non-Linux systems (iovec
layout), when a serdata round trip fails its self-test, or with `SPOT_BOW_ROS_DDS_CDR_API=0`.
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys
import threading
import weakref
from collections.abc import Callable, Sequence
from typing import Any, cast

import numpy as np
import numpy.typing as npt

_log = logging.getLogger("spot_bow_ros.dds")

#: enum ddsi_serdata_kind (ddsi_serdata.h): SDK_EMPTY, SDK_KEY, SDK_DATA.
SDK_DATA = 2
#: Samples at least this big are handed out as views over Cyclone's buffer, smaller ones copied.
ZERO_COPY_MIN_BYTES = 64 * 1024
#: DDS_RETCODE_BAD_PARAMETER: what `write` returns when Cyclone rejects the CDR.
BAD_PARAMETER = -3


class _Iovec(ctypes.Structure):
    """`ddsrt_iovec_t` on POSIX: struct iovec."""

    _fields_ = [("iov_base", ctypes.c_void_p), ("iov_len", ctypes.c_size_t)]


class _SampleInfo(ctypes.Structure):
    """`dds_sample_info_t` (dds/dds.h); only `valid_data` is read."""

    _fields_ = [("sample_state", ctypes.c_uint32), ("view_state", ctypes.c_uint32),
                ("instance_state", ctypes.c_uint32), ("valid_data", ctypes.c_bool),
                ("source_timestamp", ctypes.c_int64), ("instance_handle", ctypes.c_uint64),
                ("publication_handle", ctypes.c_uint64), ("disposed_generation_count", ctypes.c_uint32),
                ("no_writers_generation_count", ctypes.c_uint32), ("sample_rank", ctypes.c_uint32),
                ("generation_rank", ctypes.c_uint32), ("absolute_generation_rank", ctypes.c_uint32)]


def _mapped_libddsc() -> list[str]:
    """Real paths of every libddsc mapped into this process (/proc/self/maps), in map order.

    More than one when rclpy's rmw_cyclonedds_cpp (Cyclone 0.10) shares the process with
    cyclonedds-python's own Cyclone."""
    paths: list[str] = []
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:  # address perms offset dev inode path
                fields = line.split(maxsplit=5)
                path = fields[5].strip() if len(fields) == 6 else ""
                if "/libddsc" in path and ".so" in path:
                    real = os.path.realpath(path)
                    if real not in paths:
                        paths.append(real)
    except OSError:
        pass
    return paths


def _cyclonedds_python_lib() -> tuple[ctypes.CDLL | None, str]:
    """(the libddsc handle cyclonedds-python itself calls, or None; why not, when None).

    That is `cyclonedds.internal.DDS._dll_handle`, the very instance its entities live in; it
    must also be the library its C layer (`_clayer`) is linked to, i.e. mapped in this process."""
    import cyclonedds._clayer  # noqa: F401  (maps the libddsc the C layer is linked to)

    try:
        from cyclonedds.internal import DDS

        lib = DDS._dll_handle
        path = os.path.realpath(lib._name)
    except (ImportError, AttributeError, TypeError) as exc:
        return None, f"cyclonedds-python's library handle is not reachable ({exc})"
    mapped = _mapped_libddsc()
    if path not in mapped:
        return None, (f"cyclonedds-python's libddsc {path} is not among the mapped ones "
                      f"({', '.join(mapped) or 'none'})")
    return lib, ""


class CdrApi:
    """ctypes bindings of Cyclone's serdata API, per process (see the module docstring)."""

    _instance: CdrApi | None = None
    _loaded = False
    _lock = threading.Lock()

    def __init__(self, lib: ctypes.CDLL):
        self.path = os.path.realpath(lib._name)  # the libddsc these bindings call into
        c_void_p, c_int32, c_uint32, c_size_t = ctypes.c_void_p, ctypes.c_int32, ctypes.c_uint32, ctypes.c_size_t

        def fn(name: str, restype: Any, *argtypes: Any) -> Any:
            f = lib[name]  # a function object of our own: cyclonedds-python's argtypes stay untouched
            f.restype, f.argtypes = restype, list(argtypes)
            return f

        # Typed as called here: addresses (void *) are ints, pointer arguments (byref(...), ctypes
        # arrays) are `object` (ctypes checks them against argtypes), c_void_p results are int | None.
        self._takecdr: Callable[[int, object, int, object, int], int] = fn(
            "dds_takecdr", c_int32, c_int32, ctypes.POINTER(c_void_p), c_uint32, ctypes.POINTER(_SampleInfo), c_uint32)
        self._writecdr: Callable[[int, int], int] = fn("dds_writecdr", c_int32, c_int32, c_void_p)
        self._get_sertype: Callable[[int, object], int] = fn(
            "dds_get_entity_sertype", c_int32, c_int32, ctypes.POINTER(c_void_p))
        self._from_ser_iov: Callable[[int, int, int, object, int], int | None] = fn(
            "ddsi_serdata_from_ser_iov", c_void_p, c_void_p, ctypes.c_int, c_size_t, ctypes.POINTER(_Iovec), c_size_t)
        self._size: Callable[[int], int] = fn("ddsi_serdata_size", c_uint32, c_void_p)
        self._to_ser_ref: Callable[[int, int, int, object], int | None] = fn(
            "ddsi_serdata_to_ser_ref", c_void_p, c_void_p, c_size_t, c_size_t, ctypes.POINTER(_Iovec))
        self._to_ser_unref: Callable[[int | None, object], None] = fn(
            "ddsi_serdata_to_ser_unref", None, c_void_p, ctypes.POINTER(_Iovec))
        self._unref: Callable[[int], None] = fn("ddsi_serdata_unref", None, c_void_p)

    # -- loading ----------------------------------------------------------------------------
    @classmethod
    def load(cls) -> CdrApi | None:
        """The process's bindings, or None when they cannot be used (see the module docstring)."""
        with cls._lock:
            if not cls._loaded:
                cls._loaded = True
                cls._instance = cls._try_load()
            return cls._instance

    @classmethod
    def _try_load(cls) -> CdrApi | None:
        if os.environ.get("SPOT_BOW_ROS_DDS_CDR_API", "1").strip() == "0":
            return None
        if not sys.platform.startswith("linux"):
            return None
        lib, why = _cyclonedds_python_lib()
        if lib is None:  # loud: big messages then cost extra copies
            _log.warning(f"Cyclone serdata fast path off: {why}; using cyclonedds-python's write/take")
            return None
        try:
            return cls(lib)
        except AttributeError as exc:
            _log.warning(f"Cyclone serdata fast path off ({exc}); using cyclonedds-python's write/take")
            return None

    def verify(self, entity: int, cdr: bytes) -> bool:
        """True if a serdata built from `cdr` (valid CDR of `entity`'s type) gives `cdr` back.

        Run once before use: it checks the calling conventions on this library build."""
        sertype = self.sertype(entity)
        if sertype is None:
            return False
        head, tail = cdr[:4], cdr[4:]
        iov, keep = self._iovecs((head, tail))
        sd = self._from_ser_iov(sertype, SDK_DATA, 2, iov, len(cdr))
        if not sd:
            return False
        try:
            if self._size(sd) != len(cdr):
                return False
            ref = _Iovec()
            held = self._to_ser_ref(sd, 0, len(cdr), ctypes.byref(ref))
            try:
                return ctypes.string_at(ref.iov_base, ref.iov_len) == cdr
            finally:
                self._to_ser_unref(held, ctypes.byref(ref))
        finally:
            self._unref(sd)

    # -- calls ----------------------------------------------------------------------------
    def sertype(self, entity: int) -> int | None:
        """Address of the sertype of a topic, reader or writer (valid while the entity lives)."""
        out = ctypes.c_void_p()
        if self._get_sertype(entity, ctypes.byref(out)) < 0 or not out.value:
            return None
        return out.value

    @staticmethod
    def _iovecs(chunks: Sequence[Any]) -> tuple[ctypes.Array[_Iovec], list[npt.NDArray[np.uint8]]]:
        """iovecs over `chunks` (any buffers; nothing copied) and the arrays that must stay
        referenced while Cyclone reads them."""
        iov = (_Iovec * len(chunks))()
        keep = []
        for i, chunk in enumerate(chunks):
            arr = np.frombuffer(chunk, dtype=np.uint8)
            keep.append(arr)
            iov[i].iov_base = arr.ctypes.data if arr.nbytes else None
            iov[i].iov_len = arr.nbytes
        return iov, keep

    def write(self, writer: int, sertype: int, chunks: Sequence[Any], size: int) -> int:
        """`dds_writecdr` of the CDR made of `chunks` (buffers, `size` bytes in all, a multiple of 4).

        Returns Cyclone's return code (negative on error; BAD_PARAMETER if the CDR is invalid)."""
        iov, keep = self._iovecs(chunks)
        sd = self._from_ser_iov(sertype, SDK_DATA, len(chunks), iov, size)
        del keep
        if not sd:
            return BAD_PARAMETER
        return self._writecdr(writer, sd)  # consumes the serdata reference

    def take(self, reader: int, mask: int) -> tuple[int, Any]:
        """Take one sample: (count, cdr). count 0: nothing left; < 0: DDS error; cdr None for an
        invalid (dispose/unregister) sample. `cdr` is `bytes`, or a read-only memoryview over
        Cyclone's buffer for samples of at least ZERO_COPY_MIN_BYTES."""
        sd_out = (ctypes.c_void_p * 1)()
        info = _SampleInfo()
        n = self._takecdr(reader, sd_out, 1, ctypes.byref(info), mask)
        if n <= 0:
            return n, None
        sd = cast(int, sd_out[0])  # n > 0: Cyclone stored the serdata's address (never NULL)
        try:
            if not info.valid_data:
                return n, None
            size = self._size(sd)
            ref = _Iovec()
            held = self._to_ser_ref(sd, 0, size, ctypes.byref(ref))
        finally:
            self._unref(sd)
        if size < ZERO_COPY_MIN_BYTES:
            try:
                return n, ctypes.string_at(ref.iov_base, size)
            finally:
                self._to_ser_unref(held, ctypes.byref(ref))
        buffer = (ctypes.c_ubyte * size).from_address(ref.iov_base)
        release = weakref.finalize(buffer, self._to_ser_unref, held, ref)
        release.atexit = False
        return n, memoryview(buffer).cast("B").toreadonly()
