"""BOW <-> ROS axis and unit conventions. The ONLY module that knows them.

Two conventions for what the X/Y/Z of a BOW `Vector3`/`Quaternion` mean (`AxisConvention`):

- `BOW_DOCUMENTED` (default): the published BOW schema, X right, Y up, Z forward — a
  left-handed, Unity-style frame. ROS (REP 103) is X forward, Y left, Z up (right-handed).
- `ROS`: the BOW numbers are already in REP 103 axes (some later BOW examples behave this way).

Mathematics of the documented frame. Positions (and linear velocity/acceleration, polar
vectors) map with the matrix M (ros = M @ bow)::

    x_ros = z_bow,   y_ros = -x_bow,   z_ros = y_bow          det(M) = -1 (a reflection)

Rotations are the same algebra (R, quaternions, skew matrices) written in each frame's
coordinates, so a rotation R_bow becomes R_ros = M R_bow M^T. Because M is improper, an axial
vector (angular velocity, a rotation axis, a quaternion's vector part) maps with det(M)·M = -M::

    w_ros = (-w_z_bow, w_x_bow, -w_y_bow)        q_ros = (-M q_xyz_bow, q_w)

This is the left-hand rule of the left-handed frame: a positive rotation about BOW +Y (up)
turns forward (+Z) towards right (+X), i.e. a yaw to the right, which in ROS is a *negative*
rotation about +Z. Pitch: positive about BOW +X (right) tips forward down (ROS +pitch, about +Y
left). Roll: positive about BOW +Z (forward) lifts the right side (ROS -roll, about +X).

The `Head` of a MotorSample is documented separately as named Euler slots, not as rotations
about the axes: X = yaw (look right positive), Y = pitch (look up positive), Z = roll (lean head
right positive). In ROS terms yaw is positive to the LEFT (about +Z up), pitch positive nose
DOWN (about +Y left), roll positive right side DOWN (about +X forward, i.e. leaning right).
With the `ROS` convention Head is (roll, pitch, yaw) about ROS x, y, z.

Units: BOW angles carry `AngleTypeEnum` (UNKNOWN means the robot default, radians here);
torques carry `TorqueTypeEnum` (UNKNOWN = robot default newton-metres; CURRENT is amperes and
is not a torque). Vectors are plain `(x, y, z)` tuples of float, quaternions `(x, y, z, w)`.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Sequence

from . import bow_data_pb2 as bow

Vec3 = tuple[float, float, float]
Quat = tuple[float, float, float, float]  # (x, y, z, w)


class AxisConvention(enum.Enum):
    """What the axes of BOW vectors and quaternions mean."""

    BOW_DOCUMENTED = "bow_documented"  # X right, Y up, Z forward (left-handed), the default
    ROS = "ros"                        # X forward, Y left, Z up (REP 103)

    @classmethod
    def parse(cls, value: AxisConvention | str) -> AxisConvention:
        """From a parameter string ('bow_documented' | 'ros', case-insensitive) or a member."""
        if isinstance(value, AxisConvention):
            return value
        text = str(value).strip().lower()
        for member in cls:
            if text in (member.value, member.name.lower()):
                return member
        raise ValueError(f"unknown BOW axis convention {value!r} (expected one of "
                         f"{', '.join(m.value for m in cls)})")


#: Parameter choices for nodes: ParamSpec("axis_convention", "bow_documented", ..., choices=AXIS_CHOICES)
AXIS_CHOICES = tuple(m.value for m in AxisConvention)
DEFAULT_CONVENTION = AxisConvention.BOW_DOCUMENTED
#: Axes of the BOW SDK's message set v1 (`bow_messages: sdk_v1`, see `bow.sdk_v1`): its vectors
#: (`VelocityTarget`, `GazeTarget.GazeVector`, `Transform.Position`, `IMU.Gyro/Acc`) are in REP 103
#: robot axes (X forward, Y left, Z up, right-handed), angles in radians, and `EulerAngles` /
#: `IMU.Orientation` are (roll, pitch, yaw) about fixed x, y, z. `axis_convention` applies to the
#: documented message set only.
SDK_V1_CONVENTION = AxisConvention.ROS


class UnitError(ValueError):
    """A BOW unit enum value that is not documented (e.g. 7 for AngleTypeEnum)."""


# -- polar vectors: positions, linear velocity, linear acceleration ----------------------------

def position_bow_to_ros(v: Sequence[float], convention: AxisConvention = DEFAULT_CONVENTION) -> Vec3:
    """BOW (x, y, z) metres (or m/s, m/s²) -> ROS (x forward, y left, z up)."""
    x, y, z = float(v[0]), float(v[1]), float(v[2])
    if convention is AxisConvention.ROS:
        return (x, y, z)
    return (z, -x, y)


def position_ros_to_bow(v: Sequence[float], convention: AxisConvention = DEFAULT_CONVENTION) -> Vec3:
    """ROS (x forward, y left, z up) -> BOW (x, y, z); inverse of `position_bow_to_ros`."""
    x, y, z = float(v[0]), float(v[1]), float(v[2])
    if convention is AxisConvention.ROS:
        return (x, y, z)
    return (-y, z, x)


# -- axial vectors: angular velocity, rotation axes --------------------------------------------

def angular_velocity_bow_to_ros(v: Sequence[float], convention: AxisConvention = DEFAULT_CONVENTION) -> Vec3:
    """BOW angular velocity (rad/s about BOW x, y, z) -> ROS rad/s about x, y, z (right-hand).

    Documented frame: w_ros = -M w_bow = (-w_z, w_x, -w_y) — e.g. BOW +Y (yaw right) is ROS -z.
    """
    x, y, z = float(v[0]), float(v[1]), float(v[2])
    if convention is AxisConvention.ROS:
        return (x, y, z)
    return (-z, x, -y)


def angular_velocity_ros_to_bow(v: Sequence[float], convention: AxisConvention = DEFAULT_CONVENTION) -> Vec3:
    """ROS angular velocity (rad/s) -> BOW; inverse of `angular_velocity_bow_to_ros`."""
    x, y, z = float(v[0]), float(v[1]), float(v[2])
    if convention is AxisConvention.ROS:
        return (x, y, z)
    return (y, -z, -x)


# -- orientations -------------------------------------------------------------------------------

def quaternion_bow_to_ros(q: Sequence[float], convention: AxisConvention = DEFAULT_CONVENTION) -> Quat:
    """BOW quaternion (x, y, z, w) -> ROS quaternion (x, y, z, w) of the same physical rotation.

    The vector part maps as an axial vector, w is unchanged. Not normalised here.
    """
    x, y, z = angular_velocity_bow_to_ros(q[:3], convention)
    return (x, y, z, float(q[3]))


def quaternion_ros_to_bow(q: Sequence[float], convention: AxisConvention = DEFAULT_CONVENTION) -> Quat:
    """ROS quaternion (x, y, z, w) -> BOW quaternion (x, y, z, w); inverse of the above."""
    x, y, z = angular_velocity_ros_to_bow(q[:3], convention)
    return (x, y, z, float(q[3]))


def head_euler_to_ros_rpy(v: Sequence[float], convention: AxisConvention = DEFAULT_CONVENTION) -> Vec3:
    """MotorSample.Head (angles already in radians) -> ROS (roll, pitch, yaw) in radians.

    Documented: Head.X yaw (look right +), Head.Y pitch (look up +), Head.Z roll (lean right +)
    -> roll = Z, pitch = -Y, yaw = -X. ROS convention: Head = (roll, pitch, yaw) as is.
    Convert units first with `angles_to_radians`.
    """
    x, y, z = float(v[0]), float(v[1]), float(v[2])
    if convention is AxisConvention.ROS:
        return (x, y, z)
    return (z, -y, -x)


def ros_rpy_to_head_euler(rpy: Sequence[float], convention: AxisConvention = DEFAULT_CONVENTION) -> Vec3:
    """ROS (roll, pitch, yaw) radians -> MotorSample.Head (x, y, z) radians; inverse of the above."""
    roll, pitch, yaw = float(rpy[0]), float(rpy[1]), float(rpy[2])
    if convention is AxisConvention.ROS:
        return (roll, pitch, yaw)
    return (-yaw, -pitch, roll)


def euler_bow_to_quaternion_ros(v: Sequence[float], convention: AxisConvention = DEFAULT_CONVENTION) -> Quat:
    """`Transform.EulerAngles` (radians) -> ROS quaternion (x, y, z, w).

    Documented (Unity-style) frame: rotations about BOW Z, then X, then Y (extrinsic), i.e.
    R = Ry(y) Rx(x) Rz(z) in BOW coordinates — Unity's `Quaternion.Euler` order.
    ROS convention: (roll, pitch, yaw) about fixed x, y, z (REP 103 RPY), R = Rz Ry Rx.
    """
    x, y, z = float(v[0]), float(v[1]), float(v[2])
    if convention is AxisConvention.ROS:
        return quaternion_from_rpy(x, y, z)
    q = quaternion_multiply(quaternion_multiply(_axis_angle((0.0, 1.0, 0.0), y), _axis_angle((1.0, 0.0, 0.0), x)),
              _axis_angle((0.0, 0.0, 1.0), z))
    return quaternion_bow_to_ros(q, convention)


# -- units --------------------------------------------------------------------------------------

_DEG = math.pi / 180.0


def angle_to_radians(value: float, units: int) -> float:
    """An angle in BOW `AngleTypeEnum` units -> radians (UNKNOWN = robot default = radians)."""
    if units in (bow.RADIANS, bow.UNKNOWN_ANGLE_UNITS):
        return float(value)
    if units == bow.DEGREES:
        return float(value) * _DEG
    raise UnitError(f"unknown AngleTypeEnum value {units}")


def angles_to_radians(values: Iterable[float], units: int) -> list[float]:
    """Many angles (or angular rates per second) in BOW `AngleTypeEnum` units -> radians."""
    if units in (bow.RADIANS, bow.UNKNOWN_ANGLE_UNITS):
        return [float(v) for v in values]
    if units == bow.DEGREES:
        return [float(v) * _DEG for v in values]
    raise UnitError(f"unknown AngleTypeEnum value {units}")


def radians_to_angles(values: Iterable[float], units: int) -> list[float]:
    """Radians -> BOW `AngleTypeEnum` units (UNKNOWN/RADIANS unchanged, DEGREES scaled)."""
    if units in (bow.RADIANS, bow.UNKNOWN_ANGLE_UNITS):
        return [float(v) for v in values]
    if units == bow.DEGREES:
        return [float(v) / _DEG for v in values]
    raise UnitError(f"unknown AngleTypeEnum value {units}")


def torques_to_newton_metres(values: Iterable[float], units: int) -> list[float] | None:
    """Joint torques in BOW `TorqueTypeEnum` units -> N·m, or None when they are not torques.

    NEWTON_METRES and UNKNOWN (robot default, N·m for Spot) pass through; CURRENT (amperes) is
    only a relative measure and has no N·m value: None.
    """
    if units in (bow.NEWTON_METRES, bow.UNKNOWN_TORQUE_UNITS):
        return [float(v) for v in values]
    if units == bow.CURRENT:
        return None
    raise UnitError(f"unknown TorqueTypeEnum value {units}")


# -- small quaternion helpers (pure Python; (x, y, z, w)) ---------------------------------------

def quaternion_from_rpy(roll: float, pitch: float, yaw: float) -> Quat:
    """REP 103 roll/pitch/yaw (rad, fixed axes x, y, z) -> quaternion (x, y, z, w)."""
    cr, sr = math.cos(roll / 2), math.sin(roll / 2)
    cp, sp = math.cos(pitch / 2), math.sin(pitch / 2)
    cy, sy = math.cos(yaw / 2), math.sin(yaw / 2)
    return (sr * cp * cy - cr * sp * sy,
            cr * sp * cy + sr * cp * sy,
            cr * cp * sy - sr * sp * cy,
            cr * cp * cy + sr * sp * sy)


def rpy_from_quaternion(q: Sequence[float]) -> Vec3:
    """Quaternion (x, y, z, w) -> REP 103 (roll, pitch, yaw) in radians."""
    x, y, z, w = (float(c) for c in q)
    sinp = 2.0 * (w * y - z * x)
    pitch = math.copysign(math.pi / 2, sinp) if abs(sinp) >= 1 else math.asin(sinp)
    roll = math.atan2(2.0 * (w * x + y * z), 1.0 - 2.0 * (x * x + y * y))
    yaw = math.atan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))
    return (roll, pitch, yaw)


def rotate_vector(q: Sequence[float], v: Sequence[float]) -> Vec3:
    """Rotate vector v by quaternion q (x, y, z, w): q v q*. Same algebra in any frame."""
    qv = (float(v[0]), float(v[1]), float(v[2]), 0.0)
    x, y, z, _ = quaternion_multiply(quaternion_multiply(tuple(float(c) for c in q), qv),
                                     quaternion_conjugate(q))
    return (x, y, z)


def quaternion_conjugate(q: Sequence[float]) -> Quat:
    """Inverse rotation of a unit quaternion (x, y, z, w)."""
    return (-q[0], -q[1], -q[2], q[3])


def _axis_angle(axis: Sequence[float], angle: float) -> Quat:
    s = math.sin(angle / 2)
    return (axis[0] * s, axis[1] * s, axis[2] * s, math.cos(angle / 2))


def quaternion_multiply(a: Sequence[float], b: Sequence[float]) -> Quat:
    """Hamilton product a*b of (x, y, z, w) quaternions."""
    ax, ay, az, aw = a
    bx, by, bz, bw = b
    return (aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
            aw * bw - ax * bx - ay * by - az * bz)
