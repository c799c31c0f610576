"""Spot's frame tree in the simulator: `FrameTreeSnapshot` protos from a physics `Snapshot`.

As on the robot the tree is rooted at `body`: `odom`, `vision`, `flat_body`, `head` and (with the
arm) `hand` and `arm0.link_wr1` hang off `body`; `gpe` off `odom`. Camera frames as on a real
Spot (docs/spot_facts.md, "Image sources"): the housings `frontleft` ... `back` (the depth sensors' frames) hang off
`head` at the real robot's body->housing poses; each `<cam>_fisheye` (visual sensor frame) is
0.077 m along its housing's x axis, same orientation; the gripper's `hand_color_image_sensor`
and `hand_depth_sensor` hang off `arm0.link_wr1` (hand = wr1 + 0.19557 m along x).
Use `bosdyn.client.frame_helpers.get_a_tform_b` to read it.
All camera frames are optical frames: z out of the lens, x right, y down in the image.
"""

from __future__ import annotations

import math

from bosdyn.api import geometry_pb2

from .geometry import Pose
from .physics import Snapshot

BODY_TFORM_HEAD = Pose((0.35, 0.0, 0.02))
WR1 = "arm0.link_wr1"
#: hand = arm0.link_wr1 + 0.19557 m along x, same orientation (SDK arm_concepts.md)
WR1_TFORM_HAND = Pose((0.19557, 0.0, 0.0))
FISHEYE_OFFSET_M = 0.077

#: body -> camera housing on one real robot: (x, y, z) m, (roll, pitch, yaw) degrees
BODY_TFORM_HOUSING_XYZ_RPY: dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]] = {
    "frontleft": ((0.416, 0.039, 0.024), (-148.6, 65.9, -179.6)),
    "frontright": ((0.417, -0.036, 0.025), (149.5, 65.0, -179.6)),
    "left": ((-0.161, 0.112, 0.037), (-105.3, 0.3, 0.1)),
    "right": ((-0.170, -0.109, 0.036), (105.0, 0.0, -0.1)),
    "back": ((-0.417, -0.037, 0.010), (-105.5, 0.0, 90.1)),
}
#: arm0.link_wr1 -> gripper camera sensors: (x, y, z) m, (roll, pitch, yaw) degrees
WR1_TFORM_HAND_SENSOR_XYZ_RPY = {
    "hand_color_image_sensor": ((0.13806, 0.0202, 0.02452), (-81.0, 0.0, -90.0)),
    "hand_depth_sensor": ((0.13495, 0.0, 0.00799), (0.0, 81.0, 0.0)),
}


def _pose_deg(xyz, rpy_deg) -> Pose:
    r, p, y = (math.radians(a) for a in rpy_deg)
    return Pose.from_xyz_rpy(*xyz, roll=r, pitch=p, yaw=y)


def _sensor_frames() -> dict[str, tuple[str, Pose]]:
    out: dict[str, tuple[str, Pose]] = {}
    head_tform_body = BODY_TFORM_HEAD.inverse()
    for cam, (xyz, rpy) in BODY_TFORM_HOUSING_XYZ_RPY.items():
        out[cam] = ("head", head_tform_body * _pose_deg(xyz, rpy))
        out[f"{cam}_fisheye"] = (cam, Pose((FISHEYE_OFFSET_M, 0.0, 0.0)))
    for name, (xyz, rpy) in WR1_TFORM_HAND_SENSOR_XYZ_RPY.items():
        out[name] = (WR1, _pose_deg(xyz, rpy))
    return out


#: camera frame -> (parent frame, parent_tform_frame); parents are `head`, a housing or `arm0.link_wr1`
SENSOR_FRAMES: dict[str, tuple[str, Pose]] = _sensor_frames()
HAND_SENSOR_FRAMES = tuple(WR1_TFORM_HAND_SENSOR_XYZ_RPY)


def sensor_chain(name: str) -> list[str]:
    """`name` and its camera-frame ancestors (up to, not including, `head` / `arm0.link_wr1`)."""
    chain = []
    while name in SENSOR_FRAMES:
        chain.append(name)
        name = SENSOR_FRAMES[name][0]
    return chain


def _set_pose(msg: geometry_pb2.SE3Pose, pose: Pose) -> None:
    p, q = pose.position, pose.rotation
    msg.position.x, msg.position.y, msg.position.z = p
    msg.rotation.x, msg.rotation.y, msg.rotation.z, msg.rotation.w = q


def add_edge(tree: geometry_pb2.FrameTreeSnapshot, parent: str, child: str, parent_tform_child: Pose) -> None:
    edge = tree.child_to_parent_edge_map[child]
    edge.parent_frame_name = parent
    _set_pose(edge.parent_tform_child, parent_tform_child)


def fill_frame_tree(tree: geometry_pb2.FrameTreeSnapshot, snap: Snapshot, sensors: bool = True,
                    only_sensor: str | None = None) -> None:
    """Fill `tree` with the robot's frames at `snap`.

    `sensors`: include camera frames (all, or only `only_sensor` and its housing when given).
    """
    tree.child_to_parent_edge_map["body"].parent_frame_name = ""
    body_tform_odom = snap.odom_tform_body.inverse()
    add_edge(tree, "body", "odom", body_tform_odom)
    add_edge(tree, "body", "vision", snap.vision_tform_body.inverse())
    add_edge(tree, "body", "flat_body", body_tform_odom * snap.odom_tform_flat_body)
    add_edge(tree, "odom", "gpe", Pose())
    add_edge(tree, "body", "head", BODY_TFORM_HEAD)
    has_hand = snap.body_tform_hand is not None
    if has_hand:
        add_edge(tree, "body", "hand", snap.body_tform_hand)
        add_edge(tree, "body", WR1, snap.body_tform_hand * WR1_TFORM_HAND.inverse())
    if not sensors:
        return
    names = SENSOR_FRAMES if only_sensor is None else sensor_chain(only_sensor)
    for name in names:
        parent, pose = SENSOR_FRAMES[name]
        if parent == WR1 and not has_hand:
            continue
        add_edge(tree, parent, name, pose)


def hand_tform_sensor(name: str) -> Pose:
    """Fixed pose of gripper camera frame `name` in `hand`."""
    parent, pose = SENSOR_FRAMES[name]
    if parent != WR1:
        raise KeyError(f"{name} is not a gripper camera frame")
    return WR1_TFORM_HAND.inverse() * pose


def body_tform_sensor(name: str, snap: Snapshot) -> Pose:
    """Pose of camera frame `name` in `body` at `snap`."""
    pose = Pose()
    while name in SENSOR_FRAMES:
        parent, parent_tform = SENSOR_FRAMES[name]
        pose = parent_tform * pose
        name = parent
    if name == "head":
        return BODY_TFORM_HEAD * pose
    if snap.body_tform_hand is None:
        raise KeyError(f"{name}: no arm")
    return snap.body_tform_hand * WR1_TFORM_HAND.inverse() * pose
