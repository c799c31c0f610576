"""`sensor_msgs/CameraInfo` from calibrations: ROS calibration YAML, Spot camera models, none.

Matrices are row-major lists as ROS stores them: `k` 3x3 intrinsics (pixels), `r` 3x3
rectification (identity for a single camera), `p` 3x4 projection `[K' | 0]`, `d` distortion
coefficients of `distortion_model`:

- `plumb_bob`: `[k1, k2, p1, p2, k3]` (OpenCV / Brown-Conrady, 5 coefficients);
- `rational_polynomial`: `[k1, k2, p1, p2, k3, k4, k5, k6]` (8 or more);
- `equidistant`: `[k1, k2, k3, k4]` (OpenCV fisheye / Kannala-Brandt).

An uncalibrated camera has `k[0] == 0` (image_geometry and camera_info_manager treat it so).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import yaml

from .yaml_errors import yaml_error_line

MessageFactory = Callable[..., Any]
Stamp = tuple[int, int]

PLUMB_BOB = "plumb_bob"
RATIONAL_POLYNOMIAL = "rational_polynomial"
EQUIDISTANT = "equidistant"
IDENTITY_3X3 = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]


class CameraInfoError(ValueError):
    """A calibration cannot be turned into a CameraInfo. The message says what is wrong."""


def _header(make: MessageFactory, stamp: Stamp, frame_id: str) -> Any:
    return make("std_msgs/msg/Header",
                stamp=make("builtin_interfaces/msg/Time", sec=int(stamp[0]), nanosec=int(stamp[1])),
                frame_id=frame_id)


def camera_info_msg(make: MessageFactory, width: int, height: int, k: Sequence[float],
                    d: Sequence[float] = (), distortion_model: str = "", r: Sequence[float] | None = None,
                    p: Sequence[float] | None = None, stamp: Stamp = (0, 0), frame_id: str = "",
                    binning_x: int = 0, binning_y: int = 0) -> Any:
    """A CameraInfo from its parts. `r` defaults to identity (a calibrated monocular camera) or
    zeros (uncalibrated, `k[0] == 0`); `p` defaults to `[K | 0]`."""
    k = [float(v) for v in k]
    if len(k) != 9:
        raise CameraInfoError(f"camera matrix K needs 9 values, got {len(k)}")
    calibrated = k[0] != 0.0
    r = list(IDENTITY_3X3 if calibrated else [0.0] * 9) if r is None else [float(v) for v in r]
    if len(r) != 9:
        raise CameraInfoError(f"rectification matrix R needs 9 values, got {len(r)}")
    p = ([k[0], k[1], k[2], 0.0, k[3], k[4], k[5], 0.0, k[6], k[7], k[8], 0.0]
         if p is None else [float(v) for v in p])
    if len(p) != 12:
        raise CameraInfoError(f"projection matrix P needs 12 values, got {len(p)}")
    return make("sensor_msgs/msg/CameraInfo", header=_header(make, stamp, frame_id), height=int(height),
                width=int(width), distortion_model=distortion_model, d=[float(v) for v in d], k=k, r=r, p=p,
                binning_x=int(binning_x), binning_y=int(binning_y))


def empty_camera_info(make: MessageFactory, width: int, height: int, stamp: Stamp = (0, 0),
                      frame_id: str = "") -> Any:
    """An uncalibrated CameraInfo of the image size (all matrices zero, no distortion model),
    as camera_info_manager publishes without a calibration file."""
    return make("sensor_msgs/msg/CameraInfo", header=_header(make, stamp, frame_id), height=int(height),
                width=int(width))


# -- ROS camera calibration YAML (camera_calibration_parsers) ----------------------------------

def _matrix(doc: Mapping[str, Any], key: str, rows: int | None, cols: int | None, source: str) -> list[float]:
    node = doc.get(key)
    if node is None:
        raise CameraInfoError(f"{source}: '{key}' is missing")
    if not isinstance(node, Mapping) or "data" not in node:
        raise CameraInfoError(f"{source}: '{key}' must be a mapping with rows, cols and data")
    data = node["data"]
    if not isinstance(data, (list, tuple)):
        raise CameraInfoError(f"{source}: '{key}.data' must be a list of numbers")
    try:
        values = [float(v) for v in data]
    except (TypeError, ValueError):
        raise CameraInfoError(f"{source}: '{key}.data' must contain numbers only") from None
    n_rows, n_cols = node.get("rows", rows), node.get("cols", cols)
    if rows is not None and n_rows != rows or cols is not None and n_cols != cols:
        raise CameraInfoError(f"{source}: '{key}' must be {rows}x{cols}, the file says {n_rows}x{n_cols}")
    if isinstance(n_rows, int) and isinstance(n_cols, int) and n_rows * n_cols != len(values):
        raise CameraInfoError(f"{source}: '{key}' is {n_rows}x{n_cols} but has {len(values)} values")
    return values


def calibration_from_yaml(text: str, source: str = "calibration") -> dict[str, Any]:
    """Parse a ROS camera calibration YAML (as written by `camera_calibration` and read by
    `camera_calibration_parsers`): image_width, image_height, camera_name, camera_matrix,
    distortion_model, distortion_coefficients, rectification_matrix, projection_matrix.

    Returns a dict with keys width, height, camera_name, k, d, distortion_model, r, p.
    """
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CameraInfoError(f"{source} is not valid YAML: {yaml_error_line(exc)}") from None
    if not isinstance(doc, Mapping):
        raise CameraInfoError(f"{source}: a camera calibration must be a YAML mapping")
    for key in ("image_width", "image_height"):
        if not isinstance(doc.get(key), int) or doc[key] < 0:
            raise CameraInfoError(f"{source}: '{key}' must be a non-negative integer, got {doc.get(key)!r}")
    k = _matrix(doc, "camera_matrix", 3, 3, source)
    d = _matrix(doc, "distortion_coefficients", 1, None, source) if "distortion_coefficients" in doc else []
    model = doc.get("distortion_model")
    if model is None:  # old files: plumb_bob for 5 coefficients, rational_polynomial for 8
        model = RATIONAL_POLYNOMIAL if len(d) >= 8 else PLUMB_BOB
    r = _matrix(doc, "rectification_matrix", 3, 3, source) if "rectification_matrix" in doc else list(IDENTITY_3X3)
    p = (_matrix(doc, "projection_matrix", 3, 4, source) if "projection_matrix" in doc
         else [k[0], k[1], k[2], 0.0, k[3], k[4], k[5], 0.0, k[6], k[7], k[8], 0.0])
    return {"width": doc["image_width"], "height": doc["image_height"],
            "camera_name": str(doc.get("camera_name", "")), "k": k, "d": d, "distortion_model": str(model),
            "r": r, "p": p}


def camera_info_from_yaml(make: MessageFactory, text: str, stamp: Stamp = (0, 0), frame_id: str = "",
                          source: str = "calibration") -> Any:
    """CameraInfo from the text of a ROS camera calibration YAML file (`source` names the file
    in error messages)."""
    cal = calibration_from_yaml(text, source)
    return camera_info_msg(make, cal["width"], cal["height"], cal["k"], cal["d"], cal["distortion_model"],
                           cal["r"], cal["p"], stamp, frame_id)


def camera_info_to_yaml(info: Any, camera_name: str = "camera") -> str:
    """The calibration YAML of a CameraInfo (what `camera_calibration_parsers` writes)."""
    def matrix(rows: int, cols: int, data: Any) -> dict[str, Any]:
        return {"rows": rows, "cols": cols, "data": [float(v) for v in data]}
    d = list(info.d)
    doc = {"image_width": int(info.width), "image_height": int(info.height), "camera_name": camera_name,
           "camera_matrix": matrix(3, 3, info.k), "distortion_model": str(info.distortion_model),
           "distortion_coefficients": matrix(1, len(d), d),
           "rectification_matrix": matrix(3, 3, info.r), "projection_matrix": matrix(3, 4, info.p)}
    return str(yaml.safe_dump(doc, sort_keys=False))


# -- Spot ImageSource camera models -------------------------------------------------------------

def _pinhole_k(intrinsics: Any, sx: float, sy: float) -> list[float]:
    """K from bosdyn `PinholeModel.CameraIntrinsics`, scaled by (sx, sy) for resized images.

    Pixel coordinates have their origin at the CENTRE of the top-left pixel (OpenCV, ROS), so
    resizing by s maps u to (u + 0.5) * s - 0.5: focal lengths and skew scale by s, the
    principal point as c' = (c + 0.5) * s - 0.5 (not c * s, which is off by (1 - s) / 2 px).
    bosdyn's `skew` is a Vec2: `skew.x` couples y into u (K[0][1], the usual pinhole skew) and
    `skew.y` couples x into v (K[1][0]); both are zero on Spot's cameras.
    """
    fx, fy = intrinsics.focal_length.x, intrinsics.focal_length.y
    cx, cy = intrinsics.principal_point.x, intrinsics.principal_point.y
    skx, sky = intrinsics.skew.x, intrinsics.skew.y
    return [fx * sx, skx * sx, scale_principal_point(cx, sx),
            sky * sy, fy * sy, scale_principal_point(cy, sy),
            0.0, 0.0, 1.0]


def scale_principal_point(c: float, s: float) -> float:
    """Principal point coordinate (px, origin at the centre of the first pixel) of an image
    resized by factor `s`: (c + 0.5) * s - 0.5. Unchanged for s == 1."""
    return c if s == 1.0 else (c + 0.5) * s - 0.5


def camera_model_of_source(source: Any, width: int | None = None, height: int | None = None
                           ) -> tuple[list[float], str, list[float]]:
    """(K, distortion_model, D) of a bosdyn `ImageSource` (pinhole, pinhole_brown_conrady,
    kannala_brandt), scaled to an image of `width` x `height` when it differs from the source
    size (a `resize_ratio` request). A source without a camera model gives K of zeros and no
    distortion (uncalibrated)."""
    cols, rows = int(source.cols), int(source.rows)
    sx = (width / cols) if width and cols else 1.0
    sy = (height / rows) if height and rows else 1.0
    which = source.WhichOneof("camera_models")
    if which == "pinhole":
        return _pinhole_k(source.pinhole.intrinsics, sx, sy), PLUMB_BOB, [0.0] * 5
    if which == "pinhole_brown_conrady":
        i = source.pinhole_brown_conrady.intrinsics
        return _pinhole_k(i.pinhole_intrinsics, sx, sy), PLUMB_BOB, [i.k1, i.k2, i.p1, i.p2, i.k3]
    if which == "kannala_brandt":
        i = source.kannala_brandt.intrinsics
        return _pinhole_k(i.pinhole_intrinsics, sx, sy), EQUIDISTANT, [i.k1, i.k2, i.k3, i.k4]
    return [0.0] * 9, "", []


def camera_info_from_image_source(make: MessageFactory, source: Any, stamp: Stamp = (0, 0),
                                  frame_id: str = "", width: int | None = None,
                                  height: int | None = None) -> Any:
    """CameraInfo of a Spot camera from its bosdyn `ImageSource` (see `camera_model_of_source`).

    `width`/`height` are the delivered image's size (default: the source's cols/rows); K and
    P = [K | 0] are in pixels of that image, R is identity, `frame_id` is the image sensor frame.
    """
    w = int(width) if width else int(source.cols)
    h = int(height) if height else int(source.rows)
    k, model, d = camera_model_of_source(source, w, h)
    if k[0] == 0.0:
        return empty_camera_info(make, w, h, stamp, frame_id)
    return camera_info_msg(make, w, h, k, d, model, stamp=stamp, frame_id=frame_id)


def restamp(make: MessageFactory, info: Any, stamp: Stamp, frame_id: str | None = None) -> Any:
    """A copy of `info` with a new header (calibrations are computed once, stamped per image)."""
    return make("sensor_msgs/msg/CameraInfo",
                header=_header(make, stamp, info.header.frame_id if frame_id is None else frame_id),
                height=info.height, width=info.width, distortion_model=info.distortion_model,
                d=info.d, k=info.k, r=info.r, p=info.p, binning_x=info.binning_x,
                binning_y=info.binning_y, roi=info.roi)
