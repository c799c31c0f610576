"""Real rclpy: keep the first `argv[2]` messages of each sensor_msgs/Image topic `argv[3:]` and save
each one's fields (encoding, height, width, step, is_bigendian, data) to `argv[1]/<n>.npz`; waits
up to 60 s, prints `DUMPED=<count>`."""

import sys
import time
from pathlib import Path

import numpy as np
import rclpy
from rclpy.node import Node
from sensor_msgs.msg import Image


def main() -> None:
    out, per_topic, topics = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
    out.mkdir(parents=True, exist_ok=True)
    rclpy.init()
    node = Node("image_dump")
    got = {t: 0 for t in topics}

    def keep(topic):
        def callback(msg):
            if got[topic] >= per_topic:
                return
            np.savez(out / f"{topic.strip('/').replace('/', '_')}_{got[topic]}.npz", topic=topic,
                     encoding=msg.encoding, height=msg.height, width=msg.width, step=msg.step,
                     is_bigendian=msg.is_bigendian, data=np.frombuffer(bytes(msg.data), np.uint8))
            got[topic] += 1
        return callback

    for topic in topics:
        node.create_subscription(Image, topic, keep(topic), 10)
    end = time.monotonic() + 60
    while time.monotonic() < end and min(got.values()) < per_topic:
        rclpy.spin_once(node, timeout_sec=0.1)
    print(f"DUMPED={sum(got.values())}")
    node.destroy_node()
    rclpy.shutdown()


if __name__ == "__main__":
    main()
