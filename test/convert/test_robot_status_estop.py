"""The "estop" diagnostics entry (convert/robot_status.py) for the robot's hardware E-Stops."""

from __future__ import annotations

from bosdyn.api import robot_state_pb2 as rs

from spot_bow_ros.convert import robot_status as st

ES = rs.EStopState


def test_a_pressed_hardware_estop_is_named_with_its_description():
    s = rs.RobotState()
    s.estop_states.add(name="hardware_estop", type=ES.TYPE_HARDWARE, state=ES.STATE_ESTOPPED,
                       state_description="E-Stop button pressed")
    s.estop_states.add(name="payload_estop", type=ES.TYPE_HARDWARE, state=ES.STATE_NOT_ESTOPPED)
    s.estop_states.add(name="software_estop", type=ES.TYPE_SOFTWARE, state=ES.STATE_NOT_ESTOPPED)
    entry = st.estop_entry(s)
    assert entry.level == st.ERROR
    assert entry.message == "E-STOPPED by hardware_estop (hardware: E-Stop button pressed)"
    assert entry.values == {"hardware_estop": "ESTOPPED (hardware): E-Stop button pressed",
                            "payload_estop": "NOT_ESTOPPED (hardware)",
                            "software_estop": "NOT_ESTOPPED (software)"}


def test_a_software_stop_keeps_its_short_summary_and_a_released_button_is_ok():
    s = rs.RobotState()
    s.estop_states.add(name="hardware_estop", type=ES.TYPE_HARDWARE, state=ES.STATE_NOT_ESTOPPED)
    s.estop_states.add(name="software_estop", type=ES.TYPE_SOFTWARE, state=ES.STATE_ESTOPPED,
                       state_description="Not all endpoints are registered")
    entry = st.estop_entry(s)
    assert (entry.level, entry.message) == (st.ERROR, "E-STOPPED by software_estop")
    del s.estop_states[1]
    assert (st.estop_entry(s).level, st.estop_entry(s).message) == (st.OK, "not stopped")
