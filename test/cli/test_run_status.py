"""The live status table of `spot-bow-ros run` (cli/run_status.py) counts what is published."""

import io
import logging
import time

from bosdyn.api import estop_pb2

from spot_bow_ros.cli.run_status import WIDTH, StatusBoard


class _Commander:
    lease_held = True
    powered = False


class _Estop:
    last_status = estop_pb2.EstopSystemStatus(stop_level=estop_pb2.ESTOP_LEVEL_SETTLE_THEN_CUT)


class _Motor:
    commander = _Commander()
    estop = _Estop()
    motion_enabled = True
    counts = {"sent": 7, "rejected": 2}
    rejected = 2

    def compact_status(self):
        return "battery 87%, estop ok, faults 0"


class _Publisher:
    def __init__(self, topic, subscribers):
        self.topic, self.subscribers = topic, subscribers

    def get_subscription_count(self):
        return self.subscribers


class _Node:
    def __init__(self, *publishers):
        self.publishers = list(publishers)


def _row(lines, topic):
    return next(line for line in lines if line.startswith(topic + " "))


def test_counts_rates_and_robot_state():
    out = io.StringIO()
    board = StatusBoard(live=False, out=out)
    now = time.time_ns()
    for i in range(30):  # 30 messages over the last second: 30 Hz
        board.tap("/joint_states", "sensor_msgs/msg/JointState", b"\0" * 8, now - (29 - i) * 33_333_333)
    board.started_ns = board.topics["/joint_states"].first_ns = now - 2_000_000_000
    board.attach({"motor_command": _Motor()})
    lines = board.table()
    row = _row(lines, "/joint_states")
    assert row.split()[-1] == "30"
    assert 14.0 <= float(row.split()[-2]) <= 16.0  # 30 messages over the 2 s window
    footer = " | ".join(lines[-3:])
    assert "lease: yes" in footer and "power: no" in footer and "motion: enabled" in footer
    assert "E-Stop: SETTLE_THEN_CUT" in footer
    assert "battery 87%, estop ok, faults 0" in footer  # the bridge's compact robot status
    assert "errors 2" in footer
    board.print_summary()
    assert "/joint_states" in out.getvalue()


def test_rates_above_100_hz_are_not_capped():
    board = StatusBoard(live=False)
    now = time.time_ns()
    for i in range(2000):  # 1 kHz for the last 2 s
        board.tap("/imu", "sensor_msgs/msg/Imu", b"", now - (1999 - i) * 1_000_000)
    rate = float(_row(board.table(), "/imu").split()[1])
    assert 990 <= rate <= 1010


def test_fits_80_columns_and_shows_idle_topics_time_and_status_sources():
    board = StatusBoard(live=False, target_s=20)
    board.started_ns = time.time_ns() - 5_000_000_000
    long_topic = "/robot1/spot/camera/frontleft/image/compressed_and_then_some"
    board.tap(long_topic, "sensor_msgs/msg/CompressedImage", b"", time.time_ns())
    board.attach({"motor_command": _Motor()},
                 [_Node(_Publisher("/spot/camera/back/image", 0), _Publisher("/cmd_echo", 2),
                        _Publisher(long_topic, 1))])
    board.add_status_source(lambda: "battery 87%")
    board.add_status_source(lambda: "E-Stop: ok")
    lines = board.table()
    assert all(len(line) <= WIDTH for line in lines), [line for line in lines if len(line) > WIDTH]
    assert _row(lines, "/spot/camera/back/image").endswith("no subscriber")
    assert _row(lines, "/cmd_echo").endswith("waiting")
    assert any(line.startswith("~") and "compressed_and_then_some" in line for line in lines)
    footer = " | ".join(lines[-3:])
    assert "5 / 20 s" in footer and "battery 87%" in footer and "E-Stop: ok" in footer


class _Tty(io.StringIO):
    def isatty(self):
        return True


def test_log_lines_go_above_the_table_and_stay():
    out = _Tty()
    root = logging.getLogger()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(message)s"))
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.INFO)
    board = StatusBoard(live=True, out=out, period_s=0.05)
    try:
        board.tap("/joint_states", "sensor_msgs/msg/JointState", b"", time.time_ns())
        board.start()
        time.sleep(0.2)                      # a table is drawn
        logging.getLogger("test.status").info("hello above")
        time.sleep(0.2)
    finally:
        board.stop()
        root.setLevel(old_level)
        root.removeHandler(handler)
    assert handler not in root.handlers and not board._swapped
    text = out.getvalue()
    # the log line was written right after an erase of the table, then the table again
    erase_then_line = text.split("hello above")[0].rsplit("\n", 1)[-1]
    assert erase_then_line.endswith("\x1b[J")
    after = text.split("hello above\n", 1)[1]
    assert after.startswith("topic")
    # later redraws erase only the table's lines, never the log line
    n_table = len(board.table())
    assert f"\x1b[{n_table}F" in after


def test_idle_topics_are_grouped_to_fit_the_terminal_height():
    cameras = ["back", "frontleft", "frontright", "left", "right", "hand"]
    publishers = [_Publisher(f"/spot/camera/{c}/{kind}", 0)
                  for c in cameras for kind in ("image", "camera_info", "image/compressed")]
    board = StatusBoard(live=False, max_rows=12)
    board.tap("/joint_states", "sensor_msgs/msg/JointState", b"", time.time_ns())
    board.attach({}, [_Node(*publishers)])
    lines = board.table()
    assert len(lines) <= 12
    assert _row(lines, "/spot/camera/back/* (3)").endswith("no subscriber")
    board.max_rows = 6
    lines = board.table()
    assert len(lines) <= 6 and "18 topics not published yet (18 without a subscriber)" in lines
    board.max_rows = 40
    assert len([line for line in board.table() if line.endswith("no subscriber")]) == 18
