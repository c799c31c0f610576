"""ros/log_routing.py: bosdyn's (and root-logger) lines re-emitted under a node's logger."""

import logging

from spot_bow_ros.ros.log_routing import route_library_logs


class NodeLogger:
    """What rclpy's logger offers: one method per severity, one message argument."""

    def __init__(self):
        self.lines = []

    def __getattr__(self, level):
        return lambda msg: self.lines.append((level, msg))


class Collect(logging.Handler):
    def __init__(self):
        super().__init__()
        self.names = []

    def emit(self, record):
        self.names.append(record.name)


def test_root_and_bosdyn_records_go_to_the_node_logger_once():
    root = logging.getLogger()
    printer = Collect()  # stands for the process's stderr handler ("[root]: ..." before)
    root.addHandler(printer)
    node = NodeLogger()
    old_level = root.level
    root.setLevel(logging.INFO)
    undo = route_library_logs(node)
    try:
        logging.getLogger().warning("Failed to acquire the lease in LeaseKeepAlive: %s", "busy")
        logging.getLogger("bosdyn.client.robot").error("multi\nline")
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            logging.getLogger("bosdyn.client.lease").exception("retrying")
        logging.getLogger("spot_bow_ros.motor_command").info("ours")
    finally:
        undo()
        root.setLevel(old_level)
        root.removeHandler(printer)
    assert node.lines == [
        ("warning", "test_ros_log_routing: Failed to acquire the lease in LeaseKeepAlive: busy"),
        ("error", "bosdyn.client.robot: multi [...]"),
        ("error", "bosdyn.client.lease: retrying: RuntimeError: boom"),
    ]
    assert printer.names == ["spot_bow_ros.motor_command"]  # library lines are not printed twice
    logging.getLogger().warning("after undo")
    assert len(node.lines) == 3 and not printer.filters
