"""Real rclpy: collect the package's organized cloud `argv[1]` and depth_image_proc's
point_cloud_xyz output `argv[2]` for `argv[3]` seconds, plus the depth image `argv[4]`; then print
one JSON line comparing the clouds frame by frame (matched by header stamp) at the pixels whose
depth is valid for both (0 < depth < 65535: depth_image_proc keeps 65535 as a 65.535 m point,
the package makes it NaN)."""

import json
import sys
import time

import numpy as np
import rclpy
from rclpy.node import Node
from sensor_msgs.msg import Image, PointCloud2


def xyz(msg: PointCloud2) -> np.ndarray:
    """(height*width, 3) float32 x, y, z of a cloud (fields read by name and offset)."""
    off = {f.name: f.offset for f in msg.fields}
    raw = np.frombuffer(bytes(msg.data), np.uint8).reshape(msg.height * msg.width, msg.point_step)
    return np.stack([raw[:, off[k]:off[k] + 4].copy().view(np.float32)[:, 0] for k in "xyz"], axis=1)


def main() -> None:
    ours_topic, dip_topic, seconds, depth_topic = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
    rclpy.init()
    node = Node("cloud_compare")
    stores = {"ours": {}, "dip": {}, "depth": {}}

    def keep(store):
        def callback(msg):
            store[(msg.header.stamp.sec, msg.header.stamp.nanosec)] = msg
        return callback

    node.create_subscription(PointCloud2, ours_topic, keep(stores["ours"]), 50)
    node.create_subscription(PointCloud2, dip_topic, keep(stores["dip"]), 50)
    node.create_subscription(Image, depth_topic, keep(stores["depth"]), 50)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        rclpy.spin_once(node, timeout_sec=0.1)

    stamps = sorted(set(stores["ours"]) & set(stores["dip"]) & set(stores["depth"]))
    max_err, compared, frames_ids, shapes, nan_agree, far = 0.0, 0, set(), set(), True, 0
    for stamp in stamps:
        ours, dip, depth = stores["ours"][stamp], stores["dip"][stamp], stores["depth"][stamp]
        frames_ids.add((ours.header.frame_id, dip.header.frame_id))
        shapes.add((ours.height, ours.width, dip.height, dip.width, depth.height, depth.width, depth.encoding))
        d = np.frombuffer(bytes(depth.data), np.uint16 if not depth.is_bigendian else ">u2").reshape(
            depth.height, depth.step // 2)[:, :depth.width].reshape(-1)
        a, b = xyz(ours), xyz(dip)
        valid = (d > 0) & (d < 65535)
        compared += int(valid.sum())
        if valid.any():
            max_err = max(max_err, float(np.abs(a[valid] - b[valid]).max()))
        # both NaN where depth is 0; at 65535 depth_image_proc has z = 65.535, the package NaN
        nan_agree &= bool(np.isnan(a[d == 0]).all() and np.isnan(b[d == 0]).all() and np.isnan(a[d == 65535]).all())
        far += int(np.isclose(b[d == 65535, 2], 65.535).sum())
    print(json.dumps({"ours": len(stores["ours"]), "dip": len(stores["dip"]), "depth": len(stores["depth"]),
                      "matched": len(stamps), "compared_points": compared, "max_abs_m": max_err,
                      "frame_ids": sorted(frames_ids), "shapes": sorted(shapes), "nan_agree": nan_agree,
                      "dip_65m_points": far}))
    node.destroy_node()
    rclpy.shutdown()


if __name__ == "__main__":
    main()
