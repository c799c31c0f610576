"""Point clouds from Spot's depth images: per-camera clouds and one merged cloud in `body`.

`DepthClouds.points(image, organized)` deprojects a delivered 16UC1 depth image (`SpotImage`)
with its source's pinhole model (`convert.pointcloud`, depth_image_proc's formula); the
`Deprojector` of each (source, size, K) is built once. `body_tform(image)` reads the sensor
frame's pose in `body` from the image's own `transforms_snapshot` (bosdyn frame_helpers), so
the merged cloud uses the robot's transforms at acquisition time.

`CloudMerger` collects the body-frame clouds of the body depth cameras and hands out one
merged, voxel-downsampled cloud each time every expected camera has delivered a new one (or a
camera delivers twice before the others: a failing camera never blocks the merged cloud).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

import numpy as np
from bosdyn.client import frame_helpers

from ..convert import pointcloud as pc
from .cameras import SpotImage, camera_model

BODY_FRAME = "body"


def depth_array(image: SpotImage) -> np.ndarray:
    """The 16UC1 millimetre pixels of a delivered depth image as uint16 HxW (no copy)."""
    pixels = image.pixels
    if isinstance(pixels, np.ndarray):
        return pixels
    return np.frombuffer(pixels, "<u2").reshape(image.height, image.width)


class DepthClouds:
    """Deprojection of delivered depth images, with cached camera models."""

    def __init__(self):
        self._deprojectors: dict[tuple, pc.Deprojector] = {}
        self._lock = threading.Lock()

    def deprojector(self, image: SpotImage, k: list[float] | None = None) -> pc.Deprojector:
        """The Deprojector of the image's source and size (`k`: K to use instead of the source's).
        Raises ValueError if uncalibrated."""
        if k is None:
            k, _model, _d = camera_model(image)
        key = (image.request.source, image.width, image.height, tuple(k))
        dep = self._deprojectors.get(key)
        if dep is None:
            dep = pc.Deprojector(pc.Intrinsics.from_k(k), image.width, image.height)
            with self._lock:
                self._deprojectors[key] = dep
        return dep

    def points(self, image: SpotImage, organized: bool) -> np.ndarray:
        """float32 points (optical frame of `image.frame_id`, metres): HxWx3 with NaN (organized)
        or Nx3 valid points."""
        return pc.cloud_points(depth_array(image), self.deprojector(image), organized)

    def sparse_points(self, image: SpotImage, voxel_size: float) -> np.ndarray:
        """Nx3 valid points of every s-th pixel in both directions, s from `stride_for_voxel`: enough
        for a `voxel_size` downsampling, at a fraction of the cost (the merged cloud)."""
        depth = depth_array(image)
        k, _model, _d = camera_model(image)
        intr = pc.Intrinsics.from_k(k)
        step = pc.stride_for_voxel(depth, intr, voxel_size)
        sub = np.ascontiguousarray(depth[::step, ::step])
        key = (image.request.source, "stride", step, sub.shape, tuple(k))
        dep = self._deprojectors.get(key)
        if dep is None:
            dep = pc.Deprojector(pc.strided(intr, step), sub.shape[1], sub.shape[0])
            with self._lock:
                self._deprojectors[key] = dep
        return dep.dense(sub)


def body_tform(image: SpotImage) -> np.ndarray | None:
    """4x4 pose of the image's sensor frame in `body` from its transforms snapshot (None if absent)."""
    if image.snapshot is None:
        return None
    pose = frame_helpers.get_a_tform_b(image.snapshot, BODY_FRAME, image.frame_id)
    return None if pose is None else pose.to_matrix()


class CloudMerger:
    """Latest body-frame cloud per camera -> one merged cloud when a new set is complete."""

    def __init__(self, voxel_size: float):
        self.voxel_size = voxel_size
        self.expected: frozenset[str] = frozenset()
        self._new: dict[str, tuple[int, np.ndarray]] = {}
        self._lock = threading.Lock()
        self.merged = 0

    def expect(self, cameras: Iterable[str]) -> None:
        """The cameras a complete merged cloud holds (those being fetched now)."""
        self.expected = frozenset(cameras)

    def add(self, camera: str, points_in_body: np.ndarray, stamp_ns: int) -> tuple[np.ndarray, int] | None:
        """Add a camera's cloud (Nx3 in body, already voxel-downsampled: `downsample`, run in the
        camera's own worker); returns (merged points, newest stamp ns) when ready."""
        with self._lock:
            ready = None
            if camera in self._new:  # this camera is ahead of the others: flush what we have
                ready = self._take()
            self._new[camera] = (stamp_ns, points_in_body)
            if ready is None and self.expected and self.expected <= self._new.keys():
                ready = self._take()
        if ready is None:
            return None
        clouds, stamp = ready
        if len(clouds) == 1:
            return clouds[0], stamp
        return pc.voxel_downsample(np.concatenate(clouds), self.voxel_size), stamp  # where cameras overlap

    def downsample(self, points_in_body: np.ndarray) -> np.ndarray:
        """One camera's share, downsampled before merging (voxels are aligned to the body origin)."""
        return pc.voxel_downsample(points_in_body, self.voxel_size)

    def _take(self) -> tuple[list[np.ndarray], int]:
        clouds = [p for _, p in self._new.values()]
        stamp = max(s for s, _ in self._new.values())
        self._new = {}
        self.merged += 1
        return clouds, stamp


def packed_colour(image: SpotImage, width: int, height: int) -> np.ndarray:
    """HxW float32 packed `rgb` (PCL's 0x00RRGGBB, `convert.pointcloud.pack_rgb`) of a decoded
    visual image (mono8 / bgr8 / rgb8 / bgra8 / rgba8), resized (nearest) to the registered
    depth's size when they differ. Packed straight from the decoded pixels (mono8 and bgr8
    need no RGB copy); nearest resizing of the packed pixels picks the same pixels."""
    import cv2

    from ..convert import images as imconv

    pixels = image.pixels
    if not isinstance(pixels, np.ndarray):
        dtype, channels = imconv.encoding_info(image.encoding)
        pixels = np.frombuffer(pixels, dtype).reshape(image.height, image.width, channels)
    if pixels.ndim == 2 or pixels.shape[2] == 1:
        packed = pc.pack_grey(pixels.reshape(pixels.shape[:2]))
    elif image.encoding in (imconv.RGB8, "rgba8"):
        packed = pc.pack_rgb(pixels[..., :3])
    else:
        packed = pc.pack_bgr(pixels)
    if packed.shape != (height, width):
        packed = cv2.resize(packed.view(np.uint8).reshape(packed.shape + (4,)), (width, height),
                            interpolation=cv2.INTER_NEAREST).view("<u4")[..., 0].view(np.float32)
    return packed


class RegisteredPairs:
    """Pairs a camera's registered depth with its visual image of the same acquisition. One
    GetImage call serves both, "hardware time-synced" (the simulator: equal acquisition times);
    a robot whose two streams are not exactly aligned is paired within `tolerance_ns`."""

    def __init__(self, tolerance_ns: int = 20_000_000):
        self.tolerance_ns = tolerance_ns
        self._latest: dict[tuple[str, str], SpotImage] = {}
        self._lock = threading.Lock()

    def offer(self, image: SpotImage, other_kind: str) -> SpotImage | None:
        """Keep `image`; return the other kind's image of the same acquisition if it is here."""
        cam, kind = image.request.camera, image.request.kind
        with self._lock:
            other = self._latest.get((cam, other_kind))
            if other is not None and abs(other.robot_stamp_ns - image.robot_stamp_ns) <= self.tolerance_ns:
                del self._latest[(cam, other_kind)]
                return other
            self._latest[(cam, kind)] = image
            return None
