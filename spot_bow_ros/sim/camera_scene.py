"""Pixels of the simulated Spot's cameras: textured scenes, a depth plane, and a frame code.

Frame code (every source, every frame): a band of 16 x 3 cells in the TOP-LEFT corner of the
image; cell (col, row) covers x in [col*W/32, (col+1)*W/32), y in [row*H/24, (row+1)*H/24)
(W x H = image size; i.e. the left half of the width and the top 1/8 of the height). Rows 0-1
hold the 32-bit frame counter (bit i in cell i, bright = 1), row 2 the 8-bit source id and its
complement. Visual cells are 25/230 grey, depth cells 1000/3000 units. The cells survive JPEG
and resizing; `decode_frame_counter(img)` / `decode_source_id(img)` read them back.

Visual scenes: a multi-scale noise texture with hard-edged "structures", fixed per source and
panning sideways 3 px per frame over a ring of `SCENE_RING_FRAMES` frames, then starting over
(so consecutive frames differ and 640x480 JPEGs at quality 75 are tens of kilobytes, as a real
camera's; `scene_phase` is the position in the ring). Only the frame code is new in every frame:
the simulator encodes the rows below the code band once per phase (`jpeg_splice.py`). Textures
are computed once per source and process; a frame is a slice copy plus the code band.

Depth scenes: outside the code band every pixel shows a fronto-parallel plane at
`depth_plane_distance_m(source)` metres (value = round(distance * units per metre)), except two
invalid patches, each 1/8 of the width and of the height: no return (value 0) in the
bottom-right corner and out of range (value 65535) in the bottom-left corner (`invalid_patches`).
`depth_plane_mask(spec)` is True exactly on the plane pixels.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np
from bosdyn.api import image_pb2

from .camera_catalogue import CameraSpec, depth_plane_distance_m

Image = image_pb2.Image
CODE_COLS, CODE_ROWS = 16, 3          # cells in the code band
GRID_COLS, GRID_ROWS = 32, 24         # the image is divided in this grid; the band is its top-left
_U8_BITS = (25, 230)
_U16_BITS = (1000, 3000)              # depth units
PAN_PX_PER_FRAME = 3
SCENE_RING_FRAMES = 32           # the scene repeats after this many frames (~2 s at 15 Hz)


def _cell(shape, col: int, row: int) -> tuple[slice, slice]:
    h, w = shape[:2]
    return (slice(row * h // GRID_ROWS, (row + 1) * h // GRID_ROWS),
            slice(col * w // GRID_COLS, (col + 1) * w // GRID_COLS))


def code_band(shape) -> tuple[slice, slice]:
    """(rows, cols) slices of the pixels that carry the frame code in an image of `shape`."""
    h, w = shape[:2]
    return slice(0, CODE_ROWS * h // GRID_ROWS), slice(0, CODE_COLS * w // GRID_COLS)


def _bits_cells(counter: int, source_id: int) -> list[tuple[int, int, int]]:
    """(col, row, bit) for every coded cell."""
    cells = [(i % 16, i // 16, (counter >> i) & 1) for i in range(32)]
    code = (source_id & 0xFF) | ((~source_id & 0xFF) << 8)
    cells += [(i, 2, (code >> i) & 1) for i in range(16)]
    return cells


def _noise(rng: np.random.Generator, rows: int, cols: int) -> np.ndarray:
    acc = np.zeros((rows, cols), np.float32)
    for cell, amp in ((96, 70.0), (24, 45.0), (6, 22.0)):
        small = rng.random((rows // cell + 2, cols // cell + 2)).astype(np.float32)
        big = cv2.resize(small, (small.shape[1] * cell, small.shape[0] * cell), interpolation=cv2.INTER_CUBIC)
        acc += amp * (big[:rows, :cols] - 0.5)
    return acc


@functools.lru_cache(maxsize=64)
def scene_texture(spec: CameraSpec) -> np.ndarray:
    """The panning scene of a visual source: uint8 H x 2W (grey) or H x 2W x 3 (RGB)."""
    rng = np.random.default_rng(1000 + spec.source_id)
    h, w2 = spec.rows, 2 * spec.cols
    yy = np.arange(h, dtype=np.float32)[:, None]
    grey = 110.0 + 50.0 * (yy / h) + _noise(rng, h, w2)   # brighter floor towards the bottom
    for _ in range(14):                                      # hard-edged structures
        x0, y0 = int(rng.integers(0, w2)), int(rng.integers(0, h))
        x1, y1 = x0 + int(rng.integers(8, w2 // 6)), y0 + int(rng.integers(8, h // 3))
        cv2.rectangle(grey, (x0, y0), (x1, y1), float(rng.integers(30, 225)), -1)
    for _ in range(10):
        p0 = (int(rng.integers(0, w2)), int(rng.integers(0, h)))
        p1 = (int(rng.integers(0, w2)), int(rng.integers(0, h)))
        cv2.line(grey, p0, p1, float(rng.integers(0, 255)), int(rng.integers(1, 4)))
    grey += rng.normal(0.0, 3.0, grey.shape).astype(np.float32)  # sensor noise
    if spec.kind == "grey":
        return np.clip(grey, 0, 255).astype(np.uint8)
    tint = _noise(rng, h, w2)
    rgb = np.stack([grey + 0.6 * tint, grey * 0.95 + 10.0, grey * 0.85 - 0.6 * tint + 25.0], axis=-1)
    return np.clip(rgb, 0, 255).astype(np.uint8)


def invalid_patches(shape) -> list[tuple[tuple[slice, slice], int]]:
    """((rows, cols), value) of the invalid depth patches in an image of `shape`: 0 (no return)
    bottom right, 65535 (out of range) bottom left."""
    h, w = shape[:2]
    return [((slice(h * 7 // 8, h), slice(w * 7 // 8, w)), 0),
            ((slice(h * 7 // 8, h), slice(0, w // 8)), 65535)]


def depth_plane_mask(spec: CameraSpec) -> np.ndarray:
    """bool H x W: True where a depth source's pixels show the plane (not the code band, not an
    invalid patch)."""
    mask = np.ones((spec.rows, spec.cols), bool)
    mask[code_band(mask.shape)] = False
    for region, _ in invalid_patches(mask.shape):
        mask[region] = False
    return mask


@functools.lru_cache(maxsize=64)
def _depth_base(spec: CameraSpec) -> np.ndarray:
    units = int(round(depth_plane_distance_m(spec.name) * spec.units_per_metre))
    img = np.full((spec.rows, spec.cols), units, np.uint16)
    for region, value in invalid_patches(img.shape):
        img[region] = value
    return img


def scene_phase(spec: CameraSpec, counter: int) -> int:
    """Position of frame `counter` in the scene's ring: frames of equal phase differ only in
    the code band (depth scenes are still: always 0)."""
    return 0 if spec.kind == "depth" else counter % SCENE_RING_FRAMES


def band_rows(spec: CameraSpec) -> int:
    """Rows (from the top) that hold the frame code of `spec`'s images."""
    return code_band((spec.rows, spec.cols))[0].stop


def render_frame(spec: CameraSpec, counter: int, base: np.ndarray | None = None,
                 top_rows: int | None = None) -> np.ndarray:
    """Pixels of frame `counter` of `spec` (uint8 HxW grey, HxWx3 RGB, or uint16 HxW depth units).
    `base`: an explicit background (else the source's scene); `top_rows`: only that many rows
    from the top (the same pixels as those rows of the whole frame)."""
    rows = spec.rows if top_rows is None else top_rows
    if base is not None:
        img = base[:rows].copy()
    elif spec.kind == "depth":
        img = _depth_base(spec)[:rows].copy()
    else:
        off = (scene_phase(spec, counter) * PAN_PX_PER_FRAME) % spec.cols
        img = scene_texture(spec)[:rows, off:off + spec.cols].copy()
    lo, hi = _U16_BITS if spec.kind == "depth" else _U8_BITS
    band = _band_pixels((spec.rows, spec.cols) if base is None else base.shape, counter, spec.source_id,
                        lo, hi, img.dtype)
    img[:band.shape[0], :band.shape[1]] = band if img.ndim == 2 else band[..., None]
    return img


def _band_pixels(shape, counter: int, source_id: int, lo: int, hi: int, dtype) -> np.ndarray:
    """The code band of an image of `shape` (the cells of `_bits_cells` at `_cell`), built in
    one go: each cell's value repeated over its rows and columns."""
    h, w = shape[:2]
    bits = np.zeros((CODE_ROWS, CODE_COLS), bool)
    for col, row, bit in _bits_cells(counter, source_id):
        bits[row, col] = bit
    vals = np.where(bits, hi, lo).astype(dtype)
    heights = np.diff([r * h // GRID_ROWS for r in range(CODE_ROWS + 1)])
    widths = np.diff([c * w // GRID_COLS for c in range(CODE_COLS + 1)])
    return np.repeat(np.repeat(vals, heights, axis=0), widths, axis=1)


def _cell_means(img: np.ndarray, row: int, n: int) -> list[float]:
    a = np.asarray(img)
    if a.ndim == 3:
        a = a.mean(axis=2)
    out = []
    for col in range(n):
        ys, xs = _cell(a.shape, col, row)
        hgt, wid = ys.stop - ys.start, xs.stop - xs.start
        core = a[ys.start + hgt // 4: ys.stop - hgt // 4, xs.start + wid // 4: xs.stop - wid // 4]
        out.append(float(core.mean()))
    return out


def _threshold(img: np.ndarray) -> float:
    return 2000.0 if np.asarray(img).dtype == np.uint16 else 128.0


def decode_frame_counter(img: np.ndarray) -> int:
    """The frame counter encoded in an image from the simulator (grey, RGB/BGR or depth array,
    decoded JPEG included, any resize)."""
    t = _threshold(img)
    bits = _cell_means(img, 0, 16) + _cell_means(img, 1, 16)
    return sum(1 << i for i, m in enumerate(bits) if m > t)


def decode_source_id(img: np.ndarray) -> int | None:
    """The source id encoded in the image (`CameraSpec.source_id`), None if the code is inconsistent."""
    t = _threshold(img)
    bits = _cell_means(img, 2, 16)
    code = sum(1 << i for i, m in enumerate(bits) if m > t)
    sid, check = code & 0xFF, (code >> 8) & 0xFF
    return sid if check == (~sid & 0xFF) else None


def image_to_array(image: image_pb2.Image) -> np.ndarray:
    """Pixels of a bosdyn `Image` (JPEG decoded with OpenCV; RGB stays RGB; depth as uint16)."""
    if image.format == Image.FORMAT_JPEG:
        flag = cv2.IMREAD_GRAYSCALE if image.pixel_format == Image.PIXEL_FORMAT_GREYSCALE_U8 else cv2.IMREAD_COLOR
        arr = cv2.imdecode(np.frombuffer(image.data, np.uint8), flag)
        return arr if arr.ndim == 2 else arr[..., ::-1]
    if image.pixel_format == Image.PIXEL_FORMAT_DEPTH_U16:
        return np.frombuffer(image.data, "<u2").reshape(image.rows, image.cols)
    if image.pixel_format == Image.PIXEL_FORMAT_RGB_U8:
        return np.frombuffer(image.data, np.uint8).reshape(image.rows, image.cols, 3)
    return np.frombuffer(image.data, np.uint8).reshape(image.rows, image.cols)
