"""A real rclpy node (ROS 2 python, sourced Jazzy): publishes /real_chatter at 5 Hz, serves the
std_srvs/Trigger /real_trigger and declares `real_param` (int, 7)."""

import rclpy
from rclpy.node import Node
from std_msgs.msg import String
from std_srvs.srv import Trigger


def main() -> None:
    rclpy.init()
    node = Node("real_peer")
    node.declare_parameter("real_param", 7)
    pub = node.create_publisher(String, "/real_chatter", 10)
    node.create_timer(0.2, lambda: pub.publish(String(data="from real rclpy")))

    def trigger(_request, response):
        response.success, response.message = True, "real rclpy answered"
        return response

    node.create_service(Trigger, "/real_trigger", trigger)
    print("real_peer ready", flush=True)
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, rclpy.executors.ExternalShutdownException):
        pass


if __name__ == "__main__":
    main()
