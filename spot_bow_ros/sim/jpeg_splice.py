"""JPEGs of the simulated cameras re-encoded only where a frame changed: the top rows.

A simulated camera frame is a scene that repeats every `SCENE_RING_FRAMES` frames plus a
frame code in its top rows (`camera_scene.py`), so a full JPEG encode per frame (most of the
simulator's CPU) is wasted on rows seen before. Baseline JPEGs with a restart marker after
every MCU row (DRI = MCUs per row) code each MCU row independently: the entropy-coded rows of
the top strip (encoded per frame) and of the rest (encoded once per scene phase, restart
markers renumbered) join into exactly the bytes a full encode of the whole frame gives
(`encode` of the full frame; test/sim/test_jpeg_splice.py checks byte equality).

Same quantisation and Huffman tables (libjpeg defaults for the quality) in both parts;
colour is 4:2:0 (16x16 MCUs), greyscale 8x8. `STRIP_MULTIPLE` rows: the strip height is a
multiple of 16 so that both MCU sizes fit.
"""

from __future__ import annotations

import re

import cv2
import numpy as np

STRIP_MULTIPLE = 16
_RST = re.compile(rb"\xff([\xd0-\xd7])")   # restart markers (0xFF in coded data is stuffed: 0xFF00)
_SOF0 = b"\xff\xc0"
_SOS = b"\xff\xda"
_EOI = b"\xff\xd9"


def mcu_rows(img: np.ndarray) -> int:
    """Pixel rows of one MCU row: 16 for colour (4:2:0), 8 for greyscale."""
    return 16 if img.ndim == 3 else 8


def strip_rows(band_rows: int) -> int:
    """Rows of the top strip that holds `band_rows` changing rows (rounded up to 16)."""
    return -(-band_rows // STRIP_MULTIPLE) * STRIP_MULTIPLE


def encode(img: np.ndarray, quality: int) -> bytes:
    """Baseline JPEG of `img` (grey HxW or BGR HxWx3 uint8) with a restart marker after every
    MCU row."""
    params = [cv2.IMWRITE_JPEG_QUALITY, int(quality),
              cv2.IMWRITE_JPEG_RST_INTERVAL, -(-img.shape[1] // mcu_rows(img))]
    # OpenCV >= 4.7 can name the chroma subsampling; 4.6 (Debian 12's and Ubuntu 24.04's
    # python3-opencv, what the ROS route gets) cannot and always writes libjpeg's default, 4:2:0.
    if img.ndim == 3 and hasattr(cv2, "IMWRITE_JPEG_SAMPLING_FACTOR"):
        params += [cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_420]
    ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(img), params)
    if not ok:
        raise RuntimeError("JPEG encode failed")
    return buf.tobytes()


def split(jpeg: bytes) -> tuple[bytes, bytes]:
    """(headers up to and including the SOS segment, entropy-coded data without EOI)."""
    i = jpeg.index(_SOS)
    end = i + 2 + int.from_bytes(jpeg[i + 2:i + 4], "big")
    if not jpeg.endswith(_EOI):
        raise ValueError("not a complete JPEG")
    return jpeg[:end], jpeg[end:-2]


def continuation(img_rest: np.ndarray, quality: int, rows_before: int) -> bytes:
    """Entropy-coded data of the rows below a strip of `rows_before` rows (a multiple of the
    MCU height), restart markers numbered as in the whole image, preceded by the marker that
    ends the strip's last MCU row."""
    k = rows_before // mcu_rows(img_rest)
    _, scan = split(encode(img_rest, quality))
    shifted = _RST.sub(lambda m: bytes((0xFF, 0xD0 + (m.group(1)[0] - 0xD0 + k) % 8)), scan)
    return bytes((0xFF, 0xD0 + (k - 1) % 8)) + shifted


def splice(top_jpeg: bytes, rest: bytes, rows: int) -> bytes:
    """The JPEG of a whole image of `rows` rows from the JPEG of its top strip (`encode`) and
    the `continuation` of the rows below."""
    header, scan = split(top_jpeg)
    i = header.index(_SOF0)   # SOF0: length(2) precision(1) height(2) width(2)
    return b"".join((header[:i + 5], rows.to_bytes(2, "big"), header[i + 7:], scan, rest, _EOI))
