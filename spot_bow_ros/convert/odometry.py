"""Spot kinematic state -> `nav_msgs/Odometry` and TF (`tf2_msgs/TFMessage`), plus pose math.

Poses are `(position, rotation)` with position (x, y, z) in metres and rotation a unit
quaternion (x, y, z, w); `a_tform_b` maps coordinates in frame b to frame a (Spot's naming).
All frames are REP 103 (Spot's own frames already are: x forward, y left, z up).

Odometry (REP 105): `header.frame_id` = odom, `child_frame_id` = body; pose of body in odom;
twist of body in the *body* frame (nav_msgs convention), converted from Spot's
`velocity_of_body_in_odom` which is expressed in odom.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ..bow.frames import quaternion_conjugate as quat_conjugate
from ..bow.frames import quaternion_multiply as quat_multiply
from .rosmsg import ZERO36, builder_for

MessageFactory = Callable[..., Any]
Vec3 = tuple[float, float, float]
Quat = tuple[float, float, float, float]
Pose = tuple[Vec3, Quat]

IDENTITY: Pose = ((0.0, 0.0, 0.0), (0.0, 0.0, 0.0, 1.0))


# -- pose math -----------------------------------------------------------------------------------

def quat_normalize(q: Sequence[float]) -> Quat:
    n = math.sqrt(sum(c * c for c in q))
    if not n > 0:
        return (0.0, 0.0, 0.0, 1.0)
    return (q[0] / n, q[1] / n, q[2] / n, q[3] / n)


def rotate(q: Sequence[float], v: Sequence[float]) -> Vec3:
    """Vector v rotated by unit quaternion q."""
    x, y, z, w = q
    # v + 2w (u x v) + 2 u x (u x v), u = (x, y, z)
    cx = y * v[2] - z * v[1]
    cy = z * v[0] - x * v[2]
    cz = x * v[1] - y * v[0]
    return (v[0] + 2 * (w * cx + y * cz - z * cy),
            v[1] + 2 * (w * cy + z * cx - x * cz),
            v[2] + 2 * (w * cz + x * cy - y * cx))


def pose_multiply(a_tform_b: Pose, b_tform_c: Pose) -> Pose:
    """a_tform_c = a_tform_b * b_tform_c."""
    (pa, qa), (pb, qb) = a_tform_b, b_tform_c
    r = rotate(qa, pb)
    return ((pa[0] + r[0], pa[1] + r[1], pa[2] + r[2]), quat_multiply(qa, qb))


def pose_inverse(a_tform_b: Pose) -> Pose:
    """b_tform_a."""
    p, q = a_tform_b
    qi = quat_conjugate(q)
    r = rotate(qi, p)
    return ((-r[0], -r[1], -r[2]), qi)


def pose_from_proto(se3: Any) -> Pose:
    """(position, rotation) from a bosdyn `SE3Pose`-like object (.position.x, .rotation.w, ...)."""
    p, r = se3.position, se3.rotation
    return ((float(p.x), float(p.y), float(p.z)), quat_normalize((float(r.x), float(r.y), float(r.z), float(r.w))))


def body_twist_from_odom_velocity(odom_rot_body: Sequence[float], linear_in_odom: Sequence[float],
                                  angular_in_odom: Sequence[float]) -> tuple[Vec3, Vec3]:
    """Body velocity expressed in odom (Spot's `velocity_of_body_in_odom`) -> expressed in body.

    Returns (linear m/s, angular rad/s), both in body axes.
    """
    inv = quat_conjugate(odom_rot_body)
    return rotate(inv, linear_in_odom), rotate(inv, angular_in_odom)


# -- ROS messages --------------------------------------------------------------------------------

def odometry_msg(make: MessageFactory, stamp: tuple[int, int], frame_id: str, child_frame_id: str,
                 pose: Pose, linear_body: Sequence[float], angular_body: Sequence[float]) -> Any:
    """nav_msgs/Odometry: pose of `child_frame_id` in `frame_id`, twist in `child_frame_id` axes.

    Covariances are left zero (unknown; Spot reports none).
    """
    b = builder_for(make)
    position, rotation = pose
    pose_msg = b.new("geometry_msgs/msg/PoseWithCovariance",
                     pose=b.new("geometry_msgs/msg/Pose",
                                position=b.new("geometry_msgs/msg/Point", x=float(position[0]),
                                               y=float(position[1]), z=float(position[2])),
                                orientation=b.quaternion(rotation)),
                     covariance=ZERO36.copy())
    twist_msg = b.new("geometry_msgs/msg/TwistWithCovariance",
                      twist=b.new("geometry_msgs/msg/Twist", linear=b.vector3(linear_body),
                                  angular=b.vector3(angular_body)),
                      covariance=ZERO36.copy())
    return b.new("nav_msgs/msg/Odometry", header=b.header(stamp, frame_id), child_frame_id=child_frame_id,
                 pose=pose_msg, twist=twist_msg)


def transform_stamped_msg(make: MessageFactory, stamp: tuple[int, int], parent: str, child: str,
                          parent_tform_child: Pose) -> Any:
    """geometry_msgs/TransformStamped of `child` in `parent`."""
    b = builder_for(make)
    position, rotation = parent_tform_child
    return b.new("geometry_msgs/msg/TransformStamped", header=b.header(stamp, parent), child_frame_id=child,
                 transform=b.new("geometry_msgs/msg/Transform", translation=b.vector3(position),
                                 rotation=b.quaternion(rotation)))


def tf_message(make: MessageFactory, transforms: Iterable[Any]) -> Any:
    """tf2_msgs/TFMessage holding `transforms` (TransformStamped messages)."""
    return builder_for(make).new("tf2_msgs/msg/TFMessage", transforms=list(transforms))


def robot_tf_edges(root: str, odom_tform_body: Pose, vision_tform_body: Pose | None) -> list[tuple[str, str, Pose]]:
    """(parent, child, parent_tform_child) edges that put body under `root` ('odom' | 'vision').

    The other world frame is published as a sibling of body under the root, so both stay in
    one tree (a frame may have one parent only): root odom -> odom->body, odom->vision;
    root vision -> vision->body, vision->odom. Without a vision pose only root->body.
    """
    if root == "odom":
        edges = [("odom", "body", odom_tform_body)]
        if vision_tform_body is not None:
            edges.append(("odom", "vision", pose_multiply(odom_tform_body, pose_inverse(vision_tform_body))))
        return edges
    if root == "vision":
        if vision_tform_body is None:
            raise ValueError("tf root 'vision' needs the vision_tform_body pose")
        return [("vision", "body", vision_tform_body),
                ("vision", "odom", pose_multiply(vision_tform_body, pose_inverse(odom_tform_body)))]
    raise ValueError(f"unknown tf root {root!r} (expected 'odom' or 'vision')")
