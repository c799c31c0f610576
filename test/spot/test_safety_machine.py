"""spot/safety_machine.py: every transition of the documented table (docs/estop.md), the motion
gate and which verb may act in which state. Pure: no robot, no threads."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from spot_bow_ros.spot.safety_machine import (
    ALLOWED,
    GATE_CLOSING,
    GATE_STATES,
    NEEDS_GATE,
    TRANSITIONS,
    Event,
    SafetyMachine,
    State,
)
from spot_bow_ros.spot.supervisor_verbs import VERBS

S, E = State, Event
DOC = Path(__file__).resolve().parents[2] / "docs" / "estop.md"


@pytest.mark.parametrize("pair", sorted(TRANSITIONS, key=lambda p: (p[0].value, p[1].value)),
                         ids=lambda p: f"{p[0].value}-{p[1].name}")
def test_every_listed_transition(pair):
    state, event = pair
    m = SafetyMachine(state)
    t = m.handle(event, cause="test cause")
    assert (t.before, t.after, m.state) == (state, TRANSITIONS[pair], TRANSITIONS[pair])
    if m.state == S.LATCHED and state != S.LATCHED:
        assert m.cause == "test cause"
    if state == S.LATCHED and m.state != S.LATCHED:
        assert m.cause == ""


def test_pairs_not_listed_leave_the_state_alone():
    for state, event in itertools.product(State, Event):
        if (state, event) in TRANSITIONS:
            continue
        m = SafetyMachine(state)
        assert m.handle(event).after == state, (state, event)


def test_the_documented_table_is_the_code_table():
    """docs/estop.md lists every transition as `| STATE | EVENT | NEXT |` rows."""
    rows = set(re.findall(r"^\| (\w+) \| `(\w+)` \| (\w+) \|$", DOC.read_text(), re.M))
    code = {(s.value, e.name, n.value) for (s, e), n in TRANSITIONS.items()}
    assert rows == code


@pytest.mark.parametrize("state", list(State), ids=lambda s: s.value)
def test_gate_opens_only_where_allowed_and_every_stop_closes_it(state):
    m = SafetyMachine(state)
    m.handle(E.ENABLE)
    assert m.motion_enabled == (state in GATE_STATES)
    for event in GATE_CLOSING:
        m = SafetyMachine(state, motion_enabled=True)
        t = m.handle(event)
        assert not m.motion_enabled
        assert t.gate_closed == (state in GATE_STATES)


def test_a_latched_stop_keeps_motion_off_until_power_on_and_enable():
    m = SafetyMachine(S.POWERED, motion_enabled=True)
    assert m.admits("command") == (True, "")
    m.handle(E.UNEXPECTED_STOP, "robot E-Stop level CUT")
    assert (m.state, m.motion_enabled, m.cause) == (S.LATCHED, False, "robot E-Stop level CUT")
    assert m.admits("command") == (False, "the robot stopped (robot E-Stop level CUT): send estop_release "
                                          "(if ours) or power_on first")
    assert m.admits("enable_motion")[0] is False
    m.handle(E.ENABLE)
    assert not m.motion_enabled
    m.handle(E.OBSERVED_ON)                      # the robot powering on by itself changes nothing
    assert m.state == S.LATCHED
    m.handle(E.POWER_ON_OK)
    assert (m.state, m.motion_enabled) == (S.POWERED, False)
    m.handle(E.ENABLE)
    assert m.admits("command") == (True, "")


@pytest.mark.parametrize("state", list(State), ids=lambda s: s.value)
def test_verb_admission_per_state(state):
    for verb, states in ALLOWED.items():
        for gate in (False, True):
            m = SafetyMachine(state, motion_enabled=gate)
            ok, why = m.admits(verb)
            expected = state in states and (verb not in NEEDS_GATE or m.motion_enabled)
            assert ok == expected, (state, verb, gate, why)
            assert ok or why


def test_e_stop_verbs_act_in_every_live_state_and_power_on_waits_for_release():
    for verb in ("estop_hard", "estop_gentle", "estop_release"):
        assert ALLOWED[verb] == {S.ESTOPPED, S.MOTORS_OFF, S.POWERED, S.LATCHED}
    m = SafetyMachine(S.ESTOPPED)
    assert m.admits("power_on") == (False, "our software E-Stop stops the robot: send estop_release first")
    assert SafetyMachine(S.CLOSED).admits("estop_hard") == (False, "the driver is shutting down")
    assert SafetyMachine(S.POWERED).admits("dance") == (False, "unknown verb 'dance'")


def test_one_verb_table_covers_the_admission_table():
    assert {v.name for v in VERBS} | {"command"} == set(ALLOWED)
    estop = {v.name for v in VERBS if v.estop}
    assert estop == {"estop_hard", "estop_gentle", "estop_release"}
    services = [v.service for v in VERBS if v.service]
    assert len(services) == len(set(services))
