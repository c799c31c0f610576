"""The motion supervisor's state machine, pure (no robot, no ROS, no threads): states, events,
transitions and which verb may act in which state. docs/estop.md shows the same tables;
test/spot/test_safety_machine.py walks every transition.

States (`State`):
- ESTOPPED   our software E-Stop asks a stop level (registered stopped, or estop_hard/gentle);
- MOTORS_OFF power-on allowed as far as we know (E-Stop released or not ours), motors off;
- POWERED    motors on (by us or observed);
- LATCHED    the robot stopped without a command from us (stop level left NONE, motor power
             dropped, our keep-alive lapsed or the driver stalled): `cause` says why; motion is
             disabled until an operator acts (estop_release / power_on);
- FAULTED    the robot reports a behavior fault (it refuses commands until ClearBehaviorFault):
             latched until `clear_behavior_fault` cleared every fault; an UNCLEARABLE fault
             keeps it here;
- LEASE_LOST another client took the body lease, or the robot revoked ours: latched until an
             operator claims it again (`claim`, or `take_lease` to take it from its holder); the
             driver never re-acquires it by itself;
- CLOSED     shut down.

LATCHED has priority over FAULTED and LEASE_LOST (an E-Stop stop is the most severe); the
supervisor observes faults and a lost lease level-triggered, so after estop_release / power_on
a fault or a lost lease still there latches again.

The motion gate (`motion_enabled`) is part of the state: it may be opened (enable_motion) in
ESTOPPED, MOTORS_OFF and POWERED, never in a latched state; every stop closes it and no unlatch
opens it again. An unreachable robot stops forwarding (`SpotCommander.ready`) without changing
the state. Motor samples and `stand` are admitted only with the gate open, in MOTORS_OFF (the
robot refuses them and says why) or POWERED.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class State(enum.Enum):
    ESTOPPED = "ESTOPPED"
    MOTORS_OFF = "MOTORS_OFF"
    POWERED = "POWERED"
    LATCHED = "LATCHED"
    FAULTED = "FAULTED"
    LEASE_LOST = "LEASE_LOST"
    CLOSED = "CLOSED"


class Event(enum.Enum):
    """What happened. `_OK` events: a verb of ours succeeded; `OBSERVED_*`: seen on the robot."""

    ESTOP_OK = "estop_hard/estop_gentle succeeded"
    RELEASE_OK = "estop_release succeeded"
    TAKEOVER_OK = "estop_takeover succeeded (registered stopped)"
    POWER_ON_OK = "power_on succeeded"
    POWER_OFF_OK = "power_off succeeded"
    FAULT_CLEARED = "clear_behavior_fault succeeded"
    ENABLE = "enable_motion"
    DISABLE = "disable_motion"
    OBSERVED_ON = "motors seen on (powered by somebody else, or at start-up)"
    OBSERVED_OFF_EXPECTED = "motors seen off after our power_off"
    UNEXPECTED_STOP = "robot stopped without a command from us"
    BEHAVIOR_FAULT = "behavior fault seen on the robot"
    LEASE_LOST = "body lease taken by another client or revoked"
    LEASE_CLAIMED = "claim/take_lease succeeded"
    CLOSE = "shutdown"


S = State
_LIVE = (S.ESTOPPED, S.MOTORS_OFF, S.POWERED, S.LATCHED, S.FAULTED, S.LEASE_LOST)
#: States that hold a stop until an operator acts (`SafetyMachine.cause` says why).
LATCHING = frozenset({S.LATCHED, S.FAULTED, S.LEASE_LOST})

#: (state, event) -> next state. Pairs not listed leave the state as it is.
TRANSITIONS: dict[tuple[State, Event], State] = {
    **{(s, Event.ESTOP_OK): S.ESTOPPED for s in _LIVE},
    **{(s, Event.TAKEOVER_OK): S.ESTOPPED for s in (S.MOTORS_OFF, S.LATCHED, S.FAULTED, S.LEASE_LOST)},
    (S.ESTOPPED, Event.RELEASE_OK): S.MOTORS_OFF,
    (S.LATCHED, Event.RELEASE_OK): S.MOTORS_OFF,
    (S.MOTORS_OFF, Event.POWER_ON_OK): S.POWERED,
    (S.LATCHED, Event.POWER_ON_OK): S.POWERED,
    (S.POWERED, Event.POWER_OFF_OK): S.MOTORS_OFF,
    (S.POWERED, Event.OBSERVED_OFF_EXPECTED): S.MOTORS_OFF,
    (S.MOTORS_OFF, Event.OBSERVED_ON): S.POWERED,
    (S.FAULTED, Event.FAULT_CLEARED): S.MOTORS_OFF,
    (S.LEASE_LOST, Event.LEASE_CLAIMED): S.MOTORS_OFF,
    **{(s, Event.UNEXPECTED_STOP): S.LATCHED for s in (S.MOTORS_OFF, S.POWERED, S.FAULTED, S.LEASE_LOST)},
    **{(s, Event.BEHAVIOR_FAULT): S.FAULTED for s in (S.MOTORS_OFF, S.POWERED)},
    **{(s, Event.LEASE_LOST): S.LEASE_LOST for s in (S.MOTORS_OFF, S.POWERED, S.FAULTED)},
    **{(s, Event.CLOSE): S.CLOSED for s in _LIVE},
}

#: Events that close the motion gate (whatever the state).
GATE_CLOSING = frozenset({Event.ESTOP_OK, Event.TAKEOVER_OK, Event.DISABLE, Event.UNEXPECTED_STOP,
                          Event.BEHAVIOR_FAULT, Event.LEASE_LOST, Event.CLOSE})
#: States in which the gate may be opened.
GATE_STATES = frozenset({S.ESTOPPED, S.MOTORS_OFF, S.POWERED})

_ALWAYS = frozenset(_LIVE)
#: verb -> states in which it may act ("command" = a motor sample / cmd_vel).
ALLOWED: dict[str, frozenset[State]] = {
    "estop_hard": _ALWAYS, "estop_gentle": _ALWAYS, "estop_release": _ALWAYS,
    "estop_takeover": _ALWAYS, "stop": _ALWAYS, "sit": _ALWAYS, "power_off": _ALWAYS,
    "disable_motion": _ALWAYS, "release": _ALWAYS, "claim": _ALWAYS, "take_lease": _ALWAYS,
    "clear_behavior_fault": _ALWAYS,
    "power_on": frozenset({S.MOTORS_OFF, S.POWERED, S.LATCHED}),
    "enable_motion": GATE_STATES,
    "stand": frozenset({S.MOTORS_OFF, S.POWERED}),
    "command": frozenset({S.MOTORS_OFF, S.POWERED}),
}
#: Verbs that also need the motion gate open.
NEEDS_GATE = frozenset({"stand", "command"})

_WHY_NOT = {
    S.ESTOPPED: "our software E-Stop stops the robot: send estop_release first",
    S.LATCHED: "the robot stopped ({cause}): send estop_release (if ours) or power_on first",
    S.FAULTED: "the robot has a behavior fault ({cause}): send clear_behavior_fault first",
    S.LEASE_LOST: "the body lease was lost ({cause}): send claim (or take_lease to take it from its "
                  "holder) first",
    S.CLOSED: "the driver is shutting down",
}


@dataclass
class Transition:
    before: State
    after: State
    event: Event
    gate_closed: bool   # the gate was open and this event closed it

    @property
    def changed(self) -> bool:
        return self.before != self.after or self.gate_closed


class SafetyMachine:
    """State + motion gate + latch cause. Not thread-safe: the supervisor holds its lock."""

    def __init__(self, state: State = S.MOTORS_OFF, motion_enabled: bool = False):
        self.state = state
        self.motion_enabled = bool(motion_enabled) and state in GATE_STATES
        self.cause = ""   # why LATCHED (or why the last stop happened)

    def handle(self, event: Event, cause: str = "") -> Transition:
        """Apply `event`; returns what changed."""
        before = self.state
        after = TRANSITIONS.get((before, event), before)
        gate_was = self.motion_enabled
        if event in GATE_CLOSING:
            self.motion_enabled = False
        elif event == Event.ENABLE and after in GATE_STATES:
            self.motion_enabled = True
        self.state = after
        if after in LATCHING and after != before:
            self.cause = cause or event.value
        elif before in LATCHING and after not in LATCHING:
            self.cause = ""
        return Transition(before, after, event, gate_was and not self.motion_enabled)

    def admits(self, verb: str) -> tuple[bool, str]:
        """(allowed, why not) for `verb` in the current state (gate included)."""
        allowed = ALLOWED.get(verb)
        if allowed is None:
            return False, f"unknown verb {verb!r}"
        if self.state not in allowed:
            why = _WHY_NOT.get(self.state, f"not possible in state {self.state.value}")
            return False, why.format(cause=self.cause)
        if verb in NEEDS_GATE and not self.motion_enabled:
            return False, "motion is disabled"
        return True, ""
