"""IMU data: Spot (state stream IMU packets, or kinematic state) -> BOW `IMU` -> `sensor_msgs/Imu`.

BOW `IMU` as used here (the schema documents only "Gyro rad/s, Acc m/s², Transform: reference
frame"):

- `Gyro`: angular velocity of the IMU link (rad/s) in the link's axes, BOW axes convention;
- `Acc`: specific force (what an accelerometer measures, +g up at rest; m/s²) in the link's
  axes; absent when unknown (e.g. Spot without the state-streaming service);
- `Transform.Name`: the mounting link (ROS frame id, e.g. Spot's `body`);
  `Transform.Quaternion`: orientation of the link relative to a gravity-aligned world frame
  (Spot's `odom`), absent when unknown; `Transform.Position`: IMU position in the link (m);
  `Transform.LocationTag` from the mounting link (`imu_location_tag`): TORSO for Spot's body
  IMU, HEAD for a head link, END_EFFECTOR for the hand/arm; unset for any other link (BASE
  means the floor contact point, where no IMU of Spot sits).

`sensor_msgs/Imu` follows REP 145: orientation/angular velocity/linear acceleration in the
`frame_id` link, covariances all zero when unknown, and element 0 set to -1 when a quantity is
not provided at all. Axes go through `bow.frames` with the configured convention.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..bow import bow_data_pb2 as bow
from ..bow.frames import (
    DEFAULT_CONVENTION,
    AxisConvention,
    Quat,
    Vec3,
    angular_velocity_bow_to_ros,
    angular_velocity_ros_to_bow,
    position_bow_to_ros,
    position_ros_to_bow,
    quaternion_bow_to_ros,
    quaternion_ros_to_bow,
)
from .rosmsg import NOT_PROVIDED9, ZERO9, MessageBuilder, builder_for

MessageFactory = Callable[..., Any]



# -- Spot -> BOW ---------------------------------------------------------------------------------

def imu_location_tag(link_name: str) -> bow.RelativeToEnum | None:
    """BOW `RelativeToEnum` of an IMU mounted on `link_name`, or None when none fits.

    `body` (or no name) -> TORSO; `head` -> HEAD; `hand`, `arm0.*`/`arm_*` links, grippers ->
    END_EFFECTOR. Never BASE (the robot's contact point with the floor).
    """
    name = link_name.lower()
    if name in ("body", "base_link", ""):
        return bow.TORSO
    if name == "head" or name.endswith("/head"):
        return bow.HEAD
    if name.startswith(("hand", "arm0.", "arm_", "gripper")) or "hand" in name:
        return bow.END_EFFECTOR
    return None


def bow_imu_from_spot_packet(acceleration: Sequence[float] | None, angular_velocity: Sequence[float] | None,
                             odom_rot_link: Sequence[float] | None, link_name: str = "body",
                             position_imu_rt_link: Sequence[float] = (0.0, 0.0, 0.0),
                             convention: AxisConvention = DEFAULT_CONVENTION) -> bow.IMU:
    """One Spot IMU packet (REP 103 axes of the mounting link) -> BOW IMU.

    `acceleration` m/s² (specific force, `acceleration_rt_odom_in_link_frame`), `angular_velocity`
    rad/s (`angular_velocity_rt_odom_in_link_frame`), `odom_rot_link` quaternion (x, y, z, w);
    any may be None when unknown and is then left unset.
    """
    imu = bow.IMU()
    if angular_velocity is not None:
        imu.Gyro.X, imu.Gyro.Y, imu.Gyro.Z = angular_velocity_ros_to_bow(angular_velocity, convention)
    if acceleration is not None:
        imu.Acc.X, imu.Acc.Y, imu.Acc.Z = position_ros_to_bow(acceleration, convention)
    t = imu.Transform
    t.Name = link_name
    tag = imu_location_tag(link_name)
    if tag is not None:
        t.LocationTag = tag
    t.Position.X, t.Position.Y, t.Position.Z = position_ros_to_bow(position_imu_rt_link, convention)
    if odom_rot_link is not None:
        q = t.Quaternion
        q.QuatX, q.QuatY, q.QuatZ, q.QuatW = quaternion_ros_to_bow(odom_rot_link, convention)
    return imu


def bow_imu_from_kinematics(odom_rot_body: Sequence[float], angular_velocity_body: Sequence[float],
                            link_name: str = "body",
                            convention: AxisConvention = DEFAULT_CONVENTION) -> bow.IMU:
    """Spot kinematic state -> BOW IMU without acceleration (not known from `get_robot_state`).

    `odom_rot_body` (x, y, z, w); `angular_velocity_body` rad/s in body axes.
    """
    return bow_imu_from_spot_packet(None, angular_velocity_body, odom_rot_body, link_name,
                                    convention=convention)


# -- BOW -> ROS ----------------------------------------------------------------------------------

def imu_frame_id(imu: bow.IMU, prefix: str = "", default: str = "body") -> str:
    """ROS frame id of a BOW IMU: prefix + its Transform.Name (mounting link), else + `default`."""
    name = imu.Transform.Name if imu.HasField("Transform") and imu.Transform.Name else default
    return prefix + name


def imu_topic(index: int, imu: bow.IMU) -> str:
    """Topic of the `index`-th IMU of a sample: `imu` for the first, `imu/<name>` for the others
    (name from Transform.Name made a valid ROS name token, else its index)."""
    if index == 0:
        return "imu"
    name = imu.Transform.Name if imu.HasField("Transform") else ""
    token = re.sub(r"[^A-Za-z0-9_]", "_", name).strip("_")
    if not token or token[0].isdigit():
        token = f"imu{index}" if not token else f"imu_{token}"
    return f"imu/{token}"


def imu_vectors_from_bow(imu: bow.IMU, convention: AxisConvention = DEFAULT_CONVENTION,
                         ) -> tuple[Quat | None, Vec3 | None, Vec3 | None]:
    """(orientation (x, y, z, w) | None, angular_velocity | None, linear_acceleration | None) in ROS
    axes. Orientation is normalised; an all-zero quaternion counts as not provided."""
    orientation: Quat | None = None
    angular: Vec3 | None = None
    linear: Vec3 | None = None
    if imu.HasField("Transform") and imu.Transform.HasField("Quaternion"):
        q = imu.Transform.Quaternion
        values = (q.QuatX, q.QuatY, q.QuatZ, q.QuatW)
        norm = math.sqrt(sum(c * c for c in values))
        if norm > 1e-6 and math.isfinite(norm):
            orientation = quaternion_bow_to_ros(tuple(c / norm for c in values), convention)
    if imu.HasField("Gyro"):
        g = imu.Gyro
        angular = angular_velocity_bow_to_ros((g.X, g.Y, g.Z), convention)
    if imu.HasField("Acc"):
        a = imu.Acc
        linear = position_bow_to_ros((a.X, a.Y, a.Z), convention)
    return orientation, angular, linear


def imu_msg_from_bow(make: MessageFactory, imu: bow.IMU, stamp: tuple[int, int], frame_id: str,
                     convention: AxisConvention = DEFAULT_CONVENTION) -> Any:
    """BOW IMU -> sensor_msgs/Imu (REP 145). `stamp` (sec, nanosec), local clock."""
    orientation, angular, linear = imu_vectors_from_bow(imu, convention)
    return imu_msg(make, stamp, frame_id, orientation, angular, linear)


def imu_msg(make: MessageFactory, stamp: tuple[int, int], frame_id: str,
            orientation: Sequence[float] | None, angular_velocity: Sequence[float] | None,
            linear_acceleration: Sequence[float] | None) -> Any:
    """sensor_msgs/Imu from ROS-axis values; None marks a quantity as not provided (REP 145)."""
    b = builder_for(make)
    if orientation is None:
        q, q_cov = b.quaternion((0.0, 0.0, 0.0, 1.0)), NOT_PROVIDED9.copy()
    else:
        q, q_cov = b.quaternion(orientation), ZERO9.copy()
    w, w_cov = _vector3(b, angular_velocity)
    a, a_cov = _vector3(b, linear_acceleration)
    return b.new("sensor_msgs/msg/Imu", header=b.header(stamp, frame_id), orientation=q, orientation_covariance=q_cov,
                 angular_velocity=w, angular_velocity_covariance=w_cov, linear_acceleration=a,
                 linear_acceleration_covariance=a_cov)


def _vector3(b: MessageBuilder, v: Sequence[float] | None) -> tuple[Any, np.ndarray]:
    if v is None:
        return b.vector3((0.0, 0.0, 0.0)), NOT_PROVIDED9.copy()
    return b.vector3(v), ZERO9.copy()
