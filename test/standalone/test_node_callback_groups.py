"""Named callback groups of the standalone backend (standalone/node.py): a subscription or service
in a group runs on the group's own thread, so it is served while the node's executor and its
default service thread are blocked (the E-Stop path of motor_command)."""

from __future__ import annotations

import threading
import time

from waiting import wait_until

from spot_bow_ros.ros.qos import QoS
from spot_bow_ros.standalone.node import InProcessBus, StandaloneNode
from spot_bow_ros.standalone.service_types import request_type


def test_grouped_subscription_and_service_run_beside_a_blocked_executor_and_service_thread():
    bus = InProcessBus()
    node = StandaloneNode("n", bus)
    tester = StandaloneNode("t", bus)
    release = threading.Event()
    blocked = {"executor": threading.Event(), "service": threading.Event()}
    got: list[tuple[str, str]] = []

    def block(which: str) -> bool:
        blocked[which].set()
        return release.wait(10)
    try:
        node.create_subscription("std_msgs/msg/String", "slow", lambda m: block("executor"), QoS(depth=10))
        node.create_subscription("std_msgs/msg/String", "fast",
                                 lambda m: got.append((m.data, threading.current_thread().name)),
                                 QoS(depth=10), callback_group="estop")
        node.create_service("std_srvs/srv/Trigger", "block", lambda r: (block("service"), {"success": True})[1])
        node.create_service("std_srvs/srv/Trigger", "stop", lambda r: {"success": True, "message": "stopped"},
                            callback_group="estop")
        slow = tester.create_publisher("std_msgs/msg/String", "slow", QoS(depth=10))
        fast = tester.create_publisher("std_msgs/msg/String", "fast", QoS(depth=10))
        slow.publish(tester.msg("std_msgs/msg/String", data="x"))            # the executor blocks
        trigger = bus.messages.make(request_type("std_srvs/srv/Trigger"))
        threading.Thread(target=lambda: bus.call_service("/block", trigger, 15.0), daemon=True).start()
        assert all(e.wait(15.0) for e in blocked.values())                  # both are blocked now
        t0 = time.monotonic()
        fast.publish(tester.msg("std_msgs/msg/String", data="estop"))
        reply = bus.call_service("/stop", trigger, 5.0)
        assert reply.success and reply.message == "stopped"
        assert wait_until(lambda: got, 2.0) and got[0] == ("estop", "estop:n")
        assert time.monotonic() - t0 < 2.0 and not release.is_set()          # served while blocked
    finally:
        release.set()
        tester.destroy()
        node.destroy()
