"""Spot's frame tree in the simulator: `FrameTreeSnapshot` protos from a physics `Snapshot`.

As on the robot the tree is rooted at `body`: `odom`, `vision`, `flat_body`, `head` and (with the
arm) `hand` hang off `body`; `gpe` off `odom`; camera sensor frames off `head` (body cameras) or
`hand` (gripper cameras). Use `bosdyn.client.frame_helpers.get_a_tform_b` to read it.
Camera sensor frames are optical frames: z out of the lens, x right, y down in the image.
"""

from __future__ import annotations

import math

from bosdyn.api import geometry_pb2

from .geometry import Pose, optical_frame_pose
from .physics import Snapshot

BODY_TFORM_HEAD = Pose((0.35, 0.0, 0.02))

# sensor frame -> (parent frame, parent_tform_sensor)
SENSOR_FRAMES: dict[str, tuple[str, Pose]] = {
    "frontleft_fisheye": ("head", optical_frame_pose(0.07, 0.04, 0.0, yaw=-0.35, pitch_down=0.35)),
    "frontright_fisheye": ("head", optical_frame_pose(0.07, -0.04, 0.0, yaw=0.35, pitch_down=0.35)),
    "left_fisheye": ("head", optical_frame_pose(-0.45, 0.11, 0.0, yaw=math.pi / 2, pitch_down=0.3)),
    "right_fisheye": ("head", optical_frame_pose(-0.45, -0.11, 0.0, yaw=-math.pi / 2, pitch_down=0.3)),
    "back_fisheye": ("head", optical_frame_pose(-0.77, 0.0, 0.0, yaw=math.pi, pitch_down=0.3)),
    "frontleft": ("head", optical_frame_pose(0.07, 0.05, 0.01, yaw=-0.35, pitch_down=0.35)),
    "frontright": ("head", optical_frame_pose(0.07, -0.05, 0.01, yaw=0.35, pitch_down=0.35)),
    "left": ("head", optical_frame_pose(-0.45, 0.11, 0.01, yaw=math.pi / 2, pitch_down=0.3)),
    "right": ("head", optical_frame_pose(-0.45, -0.11, 0.01, yaw=-math.pi / 2, pitch_down=0.3)),
    "back": ("head", optical_frame_pose(-0.77, 0.0, 0.01, yaw=math.pi, pitch_down=0.3)),
    "hand_color_image_sensor": ("hand", optical_frame_pose(0.02, 0.0, -0.01, yaw=0.0, pitch_down=0.0)),
    "hand_depth_sensor": ("hand", optical_frame_pose(0.02, 0.0, 0.01, yaw=0.0, pitch_down=0.0)),
}
HAND_SENSOR_FRAMES = ("hand_color_image_sensor", "hand_depth_sensor")


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

    `sensors`: include camera sensor frames (all, or only `only_sensor` when given).
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
    if not sensors:
        return
    for name, (parent, pose) in SENSOR_FRAMES.items():
        if only_sensor is not None and name != only_sensor:
            continue
        if parent == "hand" and not has_hand:
            continue
        add_edge(tree, parent, name, pose)


def body_tform_sensor(name: str, snap: Snapshot) -> Pose:
    """Pose of sensor frame `name` in `body` at `snap`."""
    parent, pose = SENSOR_FRAMES[name]
    if parent == "head":
        return BODY_TFORM_HEAD * pose
    if snap.body_tform_hand is None:
        raise KeyError(f"{name}: no arm")
    return snap.body_tform_hand * pose
