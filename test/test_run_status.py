"""The live status table of `spot-bow-ros run` counts what is published."""

import io
import time

from spot_bow_ros.run_status import StatusBoard


class _Commander:
    lease_held = True
    powered = False


class _Motor:
    commander = _Commander()
    motion_enabled = True
    counts = {"sent": 7, "rejected": 2}
    rejected = 2

    def compact_status(self):
        return "battery 87%, estop ok, faults 0"


def test_counts_rates_and_robot_state():
    out = io.StringIO()
    board = StatusBoard(live=False, out=out)
    now = time.time_ns()
    for i in range(30):  # 30 messages over the last second: 30 Hz
        board.tap("/joint_states", "sensor_msgs/msg/JointState", b"\0" * 8, now - (29 - i) * 33_333_333)
    board.started_ns = board.topics["/joint_states"].first_ns = now - 2_000_000_000
    board.attach({"motor_command": _Motor()})
    lines = board.table()
    row = next(line for line in lines if line.startswith("/joint_states"))
    assert row.split()[-1] == "30"
    assert 14.0 <= float(row.split()[-2]) <= 16.0  # 30 messages over the 2 s window
    assert "lease: yes" in lines[-1] and "power: no" in lines[-1] and "motion: enabled" in lines[-1]
    assert "battery 87%, estop ok, faults 0" in lines[-1]  # the bridge's compact robot status
    assert "errors 2" in lines[-1]
    board.print_summary()
    assert "/joint_states" in out.getvalue()
