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
    LATCHING,
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
    if m.state in LATCHING and state != m.state:
        assert m.cause == "test cause"
    if state in LATCHING and m.state not in LATCHING:
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
        assert ALLOWED[verb] == {S.ESTOPPED, S.MOTORS_OFF, S.POWERED, S.LATCHED, S.FAULTED, S.LEASE_LOST}
    m = SafetyMachine(S.ESTOPPED)
    assert m.admits("power_on") == (False, "our software E-Stop stops the robot: send estop_release first")
    assert SafetyMachine(S.CLOSED).admits("estop_hard") == (False, "the driver is shutting down")
    assert SafetyMachine(S.POWERED).admits("dance") == (False, "unknown verb 'dance'")


def test_one_verb_table_covers_the_admission_table():
    assert {v.name for v in VERBS} | {"command"} == set(ALLOWED)
    estop = {v.name for v in VERBS if v.estop}
    assert estop == {"estop_hard", "estop_gentle", "estop_release"}
    assert {"take_lease", "claim", "clear_behavior_fault"} <= {v.name for v in VERBS if v.service}
    services = [v.service for v in VERBS if v.service]
    assert len(services) == len(set(services))


def test_a_behavior_fault_is_latched_until_cleared_then_motion_needs_enable():
    m = SafetyMachine(S.POWERED, motion_enabled=True)
    t = m.handle(E.BEHAVIOR_FAULT, "behavior fault 1 FALL, clearable, motors on")
    assert (m.state, m.motion_enabled, t.gate_closed) == (S.FAULTED, False, True)
    assert m.admits("command") == (False, "the robot has a behavior fault (behavior fault 1 FALL, clearable, "
                                          "motors on): send clear_behavior_fault first")
    for verb in ("enable_motion", "power_on", "stand"):
        assert m.admits(verb)[0] is False, verb
    for event in (E.RELEASE_OK, E.POWER_ON_OK, E.OBSERVED_ON, E.ENABLE, E.LEASE_CLAIMED):
        m.handle(event)                      # none of these unlatches a fault
        assert (m.state, m.motion_enabled) == (S.FAULTED, False), event
    m.handle(E.FAULT_CLEARED)
    assert (m.state, m.motion_enabled, m.cause) == (S.MOTORS_OFF, False, "")
    m.handle(E.OBSERVED_ON)
    assert m.state == S.POWERED and m.admits("command") == (False, "motion is disabled")
    m.handle(E.ENABLE)
    assert m.admits("command") == (True, "")


def test_a_lost_lease_is_latched_until_claimed_and_is_never_released_by_the_e_stop_verbs():
    m = SafetyMachine(S.POWERED, motion_enabled=True)
    m.handle(E.LEASE_LOST, "body lease lost: LeaseUseError STATUS_OLDER (held by tablet)")
    assert (m.state, m.motion_enabled) == (S.LEASE_LOST, False)
    assert "send claim (or take_lease" in m.admits("command")[1]
    for event in (E.RELEASE_OK, E.POWER_ON_OK, E.FAULT_CLEARED, E.OBSERVED_ON, E.ENABLE):
        assert m.handle(event).after == S.LEASE_LOST, event
    assert m.admits("take_lease") == (True, "") and m.admits("claim") == (True, "")
    m.handle(E.LEASE_CLAIMED)
    assert (m.state, m.motion_enabled) == (S.MOTORS_OFF, False)


def test_an_e_stop_stop_takes_priority_over_a_fault_or_a_lost_lease():
    for state in (S.FAULTED, S.LEASE_LOST):
        m = SafetyMachine(state)
        m.handle(E.UNEXPECTED_STOP, "robot E-Stop level CUT")
        assert (m.state, m.cause) == (S.LATCHED, "robot E-Stop level CUT")
        assert m.handle(E.BEHAVIOR_FAULT).after == S.LATCHED      # the fault is seen again after release
        assert m.handle(E.LEASE_LOST).after == S.LATCHED
    m = SafetyMachine(S.FAULTED)
    assert m.handle(E.LEASE_LOST, "body lease lost").after == S.LEASE_LOST   # cannot clear without the lease
    assert SafetyMachine(S.LATCHED).handle(E.FAULT_CLEARED).after == S.LATCHED  # a clear does not release a stop
