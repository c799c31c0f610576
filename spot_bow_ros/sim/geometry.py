"""Small rigid-body helpers for the simulator (pure, no bosdyn).

Quaternions are `(x, y, z, w)` tuples (Hamilton convention, unit norm); vectors `(x, y, z)`;
a pose is `Pose(position, rotation)` meaning parent_tform_child.
Euler angles are roll (about x), pitch (about y), yaw (about z) applied as R = Rz(yaw) Ry(pitch) Rx(roll).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# The REP 103 quaternion/Euler algebra lives once, in bow.frames; the simulator reuses it.
from ..bow.frames import quaternion_conjugate as quat_conj
from ..bow.frames import quaternion_from_rpy as quat_from_rpy
from ..bow.frames import quaternion_multiply as quat_mul
from ..bow.frames import rpy_from_quaternion as rpy_from_quat  # noqa: F401 (re-exported)

Vec3 = tuple[float, float, float]
Quat = tuple[float, float, float, float]

IDENTITY_Q: Quat = (0.0, 0.0, 0.0, 1.0)


def quat_rotate(q: Quat, v: Vec3) -> Vec3:
    """Rotate vector `v` by unit quaternion `q` (q v q*)."""
    x, y, z, w = q
    vx, vy, vz = v
    # t = 2 * cross(q.xyz, v)
    tx = 2 * (y * vz - z * vy)
    ty = 2 * (z * vx - x * vz)
    tz = 2 * (x * vy - y * vx)
    return (vx + w * tx + (y * tz - z * ty),
            vy + w * ty + (z * tx - x * tz),
            vz + w * tz + (x * ty - y * tx))


def quat_from_matrix_columns(cx: Vec3, cy: Vec3, cz: Vec3) -> Quat:
    """Quaternion of the rotation matrix whose columns are the child axes in the parent frame."""
    m00, m10, m20 = cx
    m01, m11, m21 = cy
    m02, m12, m22 = cz
    tr = m00 + m11 + m22
    if tr > 0:
        s = math.sqrt(tr + 1.0) * 2
        return ((m21 - m12) / s, (m02 - m20) / s, (m10 - m01) / s, 0.25 * s)
    if m00 > m11 and m00 > m22:
        s = math.sqrt(1.0 + m00 - m11 - m22) * 2
        return (0.25 * s, (m01 + m10) / s, (m02 + m20) / s, (m21 - m12) / s)
    if m11 > m22:
        s = math.sqrt(1.0 + m11 - m00 - m22) * 2
        return ((m01 + m10) / s, 0.25 * s, (m12 + m21) / s, (m02 - m20) / s)
    s = math.sqrt(1.0 + m22 - m00 - m11) * 2
    return ((m02 + m20) / s, (m12 + m21) / s, 0.25 * s, (m10 - m01) / s)


@dataclass(frozen=True)
class Pose:
    """parent_tform_child: child origin `position` (m) and orientation `rotation` in the parent."""

    position: Vec3 = (0.0, 0.0, 0.0)
    rotation: Quat = IDENTITY_Q

    def __mul__(self, other: Pose) -> Pose:
        p = quat_rotate(self.rotation, other.position)
        return Pose((self.position[0] + p[0], self.position[1] + p[1], self.position[2] + p[2]),
                    quat_mul(self.rotation, other.rotation))

    def inverse(self) -> Pose:
        qi = quat_conj(self.rotation)
        p = quat_rotate(qi, self.position)
        return Pose((-p[0], -p[1], -p[2]), qi)

    def transform_point(self, v: Vec3) -> Vec3:
        p = quat_rotate(self.rotation, v)
        return (self.position[0] + p[0], self.position[1] + p[1], self.position[2] + p[2])

    @staticmethod
    def from_xyz_rpy(x: float, y: float, z: float, roll: float = 0.0, pitch: float = 0.0,
                     yaw: float = 0.0) -> Pose:
        return Pose((x, y, z), quat_from_rpy(roll, pitch, yaw))


def optical_frame_pose(x: float, y: float, z: float, yaw: float, pitch_down: float) -> Pose:
    """Pose of a camera optical frame (z out of the lens, x right, y down in the image).

    The camera sits at (x, y, z) in the parent (x forward, y left, z up) and looks along the
    parent's heading `yaw` (rad, left positive), tilted down by `pitch_down` (rad).
    """
    look = quat_from_rpy(0.0, pitch_down, yaw)
    # optical axes in a forward-looking, level camera: x_opt = -y, y_opt = -z, z_opt = +x
    optical = quat_from_matrix_columns((0.0, -1.0, 0.0), (0.0, 0.0, -1.0), (1.0, 0.0, 0.0))
    return Pose((x, y, z), quat_mul(look, optical))


def wrap_angle(a: float) -> float:
    """Angle wrapped into [-pi, pi)."""
    return (a + math.pi) % (2 * math.pi) - math.pi
