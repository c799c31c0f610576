"""The robot's hardware E-Stops (the button, the payload port) seen by the motor_command bridge,
end to end against the simulated Spot (E-Stop required, our software E-Stop registered): a press
cuts motor power on the robot; the bridge latches the stop naming it (log line and diagnostics),
drops the command stream, refuses power_on without sending it while pressed, and keeps the latch
after the release until the operator powers on again (docs/estop.md).

"Nothing happened" checks wait for the bridge's own diagnostics probes (ProbeCount), not a fixed time."""

from __future__ import annotations

import threading

import pytest
from bosdyn.api import estop_pb2, robot_state_pb2
from sim_client import estop_required_sim
from waiting import wait_until

from nodes.test_motor_command_e2e import Rig, clean_estop  # noqa: F401 - autouse: no cascade
from nodes.test_safety_scenarios_e2e import ProbeCount
from spot_bow_ros.convert import robot_status

PS = robot_state_pb2.PowerState
OFF, ON = PS.STATE_OFF, PS.STATE_ON
NONE = estop_pb2.ESTOP_LEVEL_NONE
BUTTON = "hardware_estop: E-Stop button pressed"
RELEASED_BY = "motion disabled until an operator sends estop_release (if our E-Stop stopped it), power_on and enable_motion"


@pytest.fixture
def sim(tmp_path):
    with estop_required_sim(tmp_path) as spot:
        yield spot


def _diag(rig) -> dict:
    msg = rig.bridge._diagnostics_msg()
    status = msg.status[0]
    level = status.level if isinstance(status.level, int) else status.level[0]
    return {"_level": level, "_message": status.message, **{kv.key: kv.value for kv in status.values}}


def _latched_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "STOP LATCHED" in r.getMessage()]


class Walker:
    """Publishes cmd_vel (vx m/s) at about 20 Hz until stopped, as a teleop would."""

    def __init__(self, rig, vx: float = 0.5):
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(rig, vx), daemon=True)
        self._thread.start()

    def _run(self, rig, vx: float) -> None:
        while not self._stop.wait(0.05):
            rig.send_twist(vx=vx)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)


def _power_commands(sim) -> int:
    return len(sim.robot.commands("PowerCommand"))


def test_hardware_estop_pressed_while_walking_latches_until_the_operator_powers_on(sim, tmp_path, caplog):
    rig = Rig(sim, tmp_path)                   # powers on, stands, motion enabled
    bridge = rig.bridge
    probes = ProbeCount(bridge)
    walker = None
    try:
        assert wait_until(lambda: sim.robot.latest().standing, 20.0)
        walker = Walker(rig)
        assert wait_until(lambda: sim.robot.latest().walking, 20.0)
        with caplog.at_level("INFO"):
            sim.press_hardware_estop()
            assert sim.robot.power.motor_state() == OFF            # the robot cut power at once
            assert sim.robot.estop.status().stop_level == NONE       # not in the E-Stop service
            assert wait_until(lambda: bridge.sup.state.value == "LATCHED", 20.0)
            assert not bridge.motion_enabled
            # the stream goes on: dropped by the bridge, nothing reaches the robot
            probes.wait(2)
            mark, dropped = rig.mark(), bridge.counts["dropped_stopped"]
            probes.wait(3)
            assert rig.commands_since(mark) == [] and bridge.counts["dropped_stopped"] > dropped
            walker.stop()
            # named in one STOP LATCHED line and in diagnostics
            assert _latched_lines(caplog) == [f"STOP LATCHED: robot E-Stop level CUT ({BUTTON}); {RELEASED_BY}"]
            diag = _diag(rig)
            assert diag["_level"] == 2 and diag["_message"] == f"STOP LATCHED: robot E-Stop level CUT ({BUTTON})"
            assert diag["hardware_estop"] == f"PRESSED: {BUTTON}" and diag["motion_enabled"] == "false"
            entry = robot_status.estop_entry(bridge.commander.last_state)
            assert entry.level == robot_status.ERROR
            assert entry.message == "E-STOPPED by hardware_estop (hardware: E-Stop button pressed)"
            # power_on while pressed: refused in one line, no power command sent
            before = _power_commands(sim)
            out = bridge.control("power_on")
            line = ("power_on refused: robot hardware E-Stop pressed (hardware_estop: E-Stop button pressed): "
                    "release it on the robot, then power_on (no power command sent)")
            assert (out.status, out.detail) == ("refused", line)
            assert _power_commands(sim) == before and sim.robot.power.motor_state() == OFF
            assert [r.getMessage() for r in caplog.records if "power_on refused" in r.getMessage()] == [line]
            # released on the robot: the latch stays until the operator acts
            sim.release_hardware_estop()
            probes.wait(3)
            assert bridge.sup.state.value == "LATCHED" and not bridge.motion_enabled
            assert _power_commands(sim) == before and sim.robot.power.motor_state() == OFF
            diag = _diag(rig)
            assert diag["_message"] == f"STOP LATCHED: robot E-Stop level CUT ({BUTTON})"
            assert diag["hardware_estop"] == "not pressed"
            assert bridge.control("stand").status == "refused"
            assert len(_latched_lines(caplog)) == 1                 # latched once, not again per probe
        # the operator: power on, enable motion -> walking again
        assert bridge.control("power_on").status == "sent"
        assert wait_until(lambda: sim.robot.power.motor_state() == ON, 15.0)
        assert bridge.sup.state.value == "POWERED"
        assert bridge.control("stand").status == "disabled"        # motion comes back only explicitly
        assert bridge.control("enable_motion").status == "control"
        assert bridge.control("stand").status == "sent"
        assert wait_until(lambda: sim.robot.latest().standing, 20.0)
        mark = rig.mark()
        walker = Walker(rig)
        assert wait_until(lambda: sim.robot.latest().walking, 20.0)
        assert any(r.accepted for r in rig.commands_since(mark))
    finally:
        if walker is not None:
            walker.stop()
        rig.close()


def test_payload_estop_pressed_with_motors_off_latches_and_refuses_power_on(sim, tmp_path, caplog):
    rig = Rig(sim, tmp_path, auto_power_on=False, auto_stand=False)
    bridge = rig.bridge
    probes = ProbeCount(bridge)
    try:
        probes.wait(2)
        assert bridge.sup.state.value == "MOTORS_OFF" and sim.robot.estop.status().stop_level == NONE
        payload = "payload_estop: payload port open"
        with caplog.at_level("INFO"):
            sim.press_hardware_estop("payload_estop", "payload port open")
            assert wait_until(lambda: bridge.sup.state.value == "LATCHED", 20.0)
            assert _latched_lines(caplog) == [f"STOP LATCHED: robot E-Stop level CUT ({payload}); {RELEASED_BY}"]
        assert _diag(rig)["hardware_estop"] == f"PRESSED: {payload}"
        out = bridge.control("power_on")
        assert out.status == "refused" and f"({payload})" in out.detail
        assert sim.robot.commands("PowerCommand") == []            # never asked the robot
        sim.release_hardware_estop("payload_estop")
        probes.wait(3)
        assert bridge.sup.state.value == "LATCHED" and sim.robot.commands("PowerCommand") == []
        assert bridge.control("power_on").status == "sent"
        assert wait_until(lambda: sim.robot.power.motor_state() == ON, 15.0)
    finally:
        rig.close()


def test_hardware_estop_while_our_estop_stops_is_said_and_latches_once_released(sim, tmp_path, caplog):
    """Our software E-Stop holds the robot (ESTOPPED): a press is said in one warning; after
    estop_release the still-pressed button latches, and power_on is refused without a command."""
    rig = Rig(sim, tmp_path, estop_release_at_start=False, auto_power_on=False, auto_stand=False)
    bridge = rig.bridge
    probes = ProbeCount(bridge)
    try:
        assert bridge.sup.state.value == "ESTOPPED"
        with caplog.at_level("INFO"):
            sim.press_hardware_estop()
            warned = f"robot stop: robot E-Stop level CUT ({BUTTON}; software E-Stop SETTLE_THEN_CUT: "
            assert wait_until(lambda: any(r.getMessage().startswith(warned) for r in caplog.records), 20.0)
            probes.wait(3)
            assert bridge.sup.state.value == "ESTOPPED" and _latched_lines(caplog) == []
            assert sum(r.getMessage().startswith("robot stop: ") for r in caplog.records) == 1   # once
            assert _diag(rig)["_message"] == (f"robot E-Stopped by its hardware E-Stop ({BUTTON}): "
                                              "release it on the robot")
            assert bridge.control("estop_release").status == "control"
            assert wait_until(lambda: bridge.sup.state.value == "LATCHED", 20.0)
            assert _latched_lines(caplog) == [f"STOP LATCHED: robot E-Stop level CUT ({BUTTON}); {RELEASED_BY}"]
        assert bridge.control("power_on").status == "refused" and sim.robot.commands("PowerCommand") == []
        sim.release_hardware_estop()
        assert bridge.control("power_on").status == "sent"
        assert wait_until(lambda: sim.robot.power.motor_state() == ON, 15.0)
    finally:
        rig.close()
