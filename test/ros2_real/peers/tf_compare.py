"""Real rclpy: collect /tf + /tf_static (the package's forward kinematics) and /rsp/tf +
/rsp/tf_static (robot_state_publisher fed the shipped URDF) for `argv[1]` seconds, then print
one JSON line comparing every transform robot_state_publisher published with ours (moving
joints matched by child frame and stamp, fixed ones by child frame)."""

import json
import sys
import time

import rclpy
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from tf2_msgs.msg import TFMessage


def main() -> None:
    rclpy.init()
    node = Node("tf_compare")
    stores = {name: {} for name in ("ours", "ours_static", "rsp", "rsp_static")}

    def keep(store, by_stamp):
        def callback(msg):
            for t in msg.transforms:
                key = (t.child_frame_id, t.header.stamp.sec, t.header.stamp.nanosec) if by_stamp else t.child_frame_id
                r, q = t.transform.translation, t.transform.rotation
                store[key] = (t.header.frame_id, (r.x, r.y, r.z), (q.x, q.y, q.z, q.w))
        return callback

    latched = QoSProfile(depth=100, durability=DurabilityPolicy.TRANSIENT_LOCAL, reliability=ReliabilityPolicy.RELIABLE)
    node.create_subscription(TFMessage, "/tf", keep(stores["ours"], True), 1000)
    node.create_subscription(TFMessage, "/rsp/tf", keep(stores["rsp"], True), 1000)
    node.create_subscription(TFMessage, "/tf_static", keep(stores["ours_static"], False), latched)
    node.create_subscription(TFMessage, "/rsp/tf_static", keep(stores["rsp_static"], False), latched)
    end = time.monotonic() + float(sys.argv[1])
    while time.monotonic() < end:
        rclpy.spin_once(node, timeout_sec=0.1)

    def diff(a, b):
        dt = max(abs(x - y) for x, y in zip(a[1], b[1]))
        sign = 1.0 if sum(x * y for x, y in zip(a[2], b[2])) >= 0 else -1.0
        dq = max(abs(x - sign * y) for x, y in zip(a[2], b[2]))
        return dt, dq, a[0] == b[0]

    moving = [diff(stores["rsp"][k], stores["ours"][k]) for k in stores["rsp"] if k in stores["ours"]]
    fixed = [diff(v, stores["ours_static"].get(k) or latest(stores["ours"], k)) for k, v in stores["rsp_static"].items()
             if k in stores["ours_static"] or latest(stores["ours"], k)]
    print(json.dumps({
        "rsp_moving": len(stores["rsp"]), "matched_moving": len(moving),
        "moving_frames": sorted({k[0] for k in stores["rsp"] if k in stores["ours"]}),
        "rsp_fixed": sorted(stores["rsp_static"]), "matched_fixed": len(fixed),
        "max_translation_m": max([d[0] for d in moving + fixed], default=None),
        "max_quaternion": max([d[1] for d in moving + fixed], default=None),
        "same_parents": all(d[2] for d in moving + fixed),
    }), flush=True)


def latest(store, child):
    hits = [v for k, v in store.items() if k[0] == child]
    return hits[-1] if hits else None


if __name__ == "__main__":
    main()
