"""backends/log_routing.py: bosdyn's (and root-logger) lines re-emitted under a node's logger."""

import ast
import inspect
import logging
from pathlib import Path

from spot_bow_ros.backends.log_routing import route_library_logs

PACKAGE = Path(__file__).resolve().parents[2] / "spot_bow_ros"


class SeverityPerCallSiteLogger:
    """rclpy's RcutilsLogger rule (rclpy/impl/rcutils_logger.py): the first call from a call site
    (file, line, bytecode offset) fixes its severity; another severity there raises ValueError."""

    def __init__(self):
        self.lines, self._sites = [], {}

    def _log(self, severity, msg):
        frame = inspect.currentframe().f_back.f_back
        site = (frame.f_code.co_filename, frame.f_lineno, frame.f_lasti)
        if self._sites.setdefault(site, severity) != severity:
            raise ValueError("Logger severity cannot be changed between calls.")
        self.lines.append((severity, msg))

    def debug(self, msg):
        self._log("debug", msg)

    def info(self, msg):
        self._log("info", msg)

    def warning(self, msg):
        self._log("warning", msg)

    def error(self, msg):
        self._log("error", msg)

    def fatal(self, msg):
        self._log("fatal", msg)


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
        ("warning", "test_log_routing: Failed to acquire the lease in LeaseKeepAlive: busy"),
        ("error", "bosdyn.client.robot: multi [...]"),
        ("error", "bosdyn.client.lease: retrying: RuntimeError: boom"),
    ]
    assert printer.names == ["spot_bow_ros.motor_command"]  # library lines are not printed twice
    logging.getLogger().warning("after undo")
    assert len(node.lines) == 3 and not printer.filters


SCRIPT = """
import logging, sys, threading
from spot_bow_ros.backends.chooser import run_node

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
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    proc = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    assert any(line.startswith("[WARNING]") and "[lib_logs]: keepalive_demo: keepalive lost the lease" in line
               for line in lines), proc.stderr
    assert any("[lib_logs]: bosdyn.client.robot: robot object created" in line for line in lines), proc.stderr
    assert "[root]" not in proc.stderr


def test_library_lines_of_every_severity_pass_an_rclpy_style_logger():
    root = logging.getLogger()
    old_level = root.level
    root.setLevel(logging.DEBUG)
    node = SeverityPerCallSiteLogger()
    undo = route_library_logs(node)
    try:
        bosdyn = logging.getLogger("bosdyn.client.lease")
        for _ in range(2):
            bosdyn.info("a"), bosdyn.warning("b"), bosdyn.error("c"), bosdyn.critical("d"), bosdyn.debug("e")
    finally:
        undo()
        root.setLevel(old_level)
    assert [level for level, _ in node.lines] == ["info", "warning", "error", "fatal", "debug"] * 2


def _dynamic_logger_calls(path):
    """Calls like `(log.warning if ok else log.error)(...)` or `getattr(logger, level)(...)`:
    one call site, several severities."""
    for call in ast.walk(ast.parse(path.read_text())):
        if not isinstance(call, ast.Call):
            continue
        func = call.func
        if isinstance(func, ast.IfExp) and any(isinstance(b, ast.Attribute) and "log" in ast.unparse(b.value).lower()
                                               for b in (func.body, func.orelse)):
            yield call.lineno
        if isinstance(func, ast.Call) and getattr(func.func, "id", "") == "getattr" and func.args \
                and "log" in ast.unparse(func.args[0]).lower():
            yield call.lineno


def test_no_call_site_logs_at_two_severities():
    """rclpy raises ValueError ('Logger severity cannot be changed between calls') when one call
    site logs at a second severity: the package never picks the logger method at run time."""
    found = [f"{path.relative_to(PACKAGE)}:{line}" for path in sorted(PACKAGE.rglob("*.py"))
             for line in _dynamic_logger_calls(path)]
    assert found == []
