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


SCRIPT = """
import logging, sys, threading
from spot_bow_ros.ros.backend import run_node

stop = threading.Event()

def build(node):
    logging.getLogger().warning("keepalive lost the lease")            # as bosdyn's LeaseKeepAlive
    logging.getLogger("bosdyn.client.robot").info("robot object created")
    stop.set()

sys.exit(run_node("lib_logs", build, [], stop=stop))
"""


def test_a_standalone_node_shows_library_lines_under_its_name(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = tmp_path / "keepalive_demo.py"
    script.write_text(SCRIPT)
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    proc = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    assert any(line.startswith("[WARNING]") and "[lib_logs]: keepalive_demo: keepalive lost the lease" in line
               for line in lines), proc.stderr
    assert any("[lib_logs]: bosdyn.client.robot: robot object created" in line for line in lines), proc.stderr
    assert "[root]" not in proc.stderr
