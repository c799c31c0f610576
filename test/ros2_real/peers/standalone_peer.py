"""A standalone-runtime node (project venv, no ROS): publishes /sa_chatter at 5 Hz, serves the
std_srvs/Trigger /sa_trigger, declares `sa_param` (int, 5, live, range [0, 10]) and prints every
/real_chatter message it receives as `GOT=<data>`."""

import signal
import threading

from spot_bow_ros.ros.params import ParamSpec
from spot_bow_ros.ros.qos import DEFAULT
from spot_bow_ros.standalone.dds_transport import DdsTransport
from spot_bow_ros.standalone.node import StandaloneNode


def main() -> None:
    transport = DdsTransport()
    node = StandaloneNode("sa_peer", transport)
    node.declare_parameters([ParamSpec("sa_param", 5, "a live test parameter", min=0, max=10, live=True)])
    node.on_parameters_set(lambda values: None)
    pub = node.create_publisher("std_msgs/msg/String", "/sa_chatter", DEFAULT)
    node.create_timer(0.2, lambda: pub.publish(node.msg("std_msgs/msg/String", data="from standalone")))
    node.create_subscription("std_msgs/msg/String", "/real_chatter", lambda m: print(f"GOT={m.data}", flush=True),
                             DEFAULT)
    node.create_service("std_srvs/srv/Trigger", "/sa_trigger",
                        lambda request: {"success": True, "message": "standalone answered"})
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print("sa_peer ready", flush=True)
    stop.wait()
    node.destroy()
    transport.close()


if __name__ == "__main__":
    main()
