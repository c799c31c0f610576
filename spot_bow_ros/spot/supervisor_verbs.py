"""The motion supervisor's verbs: ONE table (`VERBS`) that the `motor_command/control` topic and
the std_srvs services are both built from (spot_ros2's service names), and what each verb does.

Each verb is a function of the `MotionSupervisor` (spot/supervisor.py) returning an `Outcome`.
Which verb may act in which state is `safety_machine.ALLOWED`; the supervisor checks it before
calling the function. E-Stop verbs (`estop=True`) run on the caller's thread at once: the node
gives their services and the control topic their own thread / callback group, and they take no
lock that a power or stand call holds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from ..convert.motion import BodyPose
from .commander import CommanderError, CommandResult, Logger, SpotCommander
from .estop import SoftwareEstop
from .safety_machine import Event

#: Outcome statuses that mean the verb did what it was asked.
SUCCESS = frozenset({"sent", "control"})


@dataclass(frozen=True)
class Outcome:
    """What happened to one input: status is one of sent, control, failed, refused, rejected,
    disabled, not_ready, nothing, playback."""

    status: str
    detail: str = ""
    result: CommandResult | None = None

    @property
    def ok(self) -> bool:
        return self.status in SUCCESS


class Supervised(Protocol):
    """What a verb uses of the `Supervised` (spot/supervisor.py, which imports this module)."""

    commander: SpotCommander
    estop: SoftwareEstop | None
    log: Logger
    body: BodyPose
    counts: dict[str, int]
    auto_claim: bool
    expect_off: bool
    powered_by_us: bool
    fatal_refusal: bool
    not_ready_logged: bool
    last_reason: str

    def pressed_estops_now(self) -> str: ...
    def transition(self, event: Event, cause: str = "") -> None: ...
    def stop_motion(self, send_stop: bool) -> Outcome | None: ...
    def account(self, result: CommandResult) -> Outcome: ...


@dataclass(frozen=True)
class Verb:
    """One control verb. `service`: its std_srvs service name (relative), `srv`: Trigger or
    SetBool (SetBool data false runs `off_verb`); `estop`: the E-Stop priority path."""

    name: str
    run: Callable[[Supervised], Outcome]
    doc: str
    service: str | None = None
    srv: str = "Trigger"
    off_verb: str = ""
    estop: bool = False


# -- motion gate, lease ----------------------------------------------------------------------------
def _enable_motion(sup: Supervised) -> Outcome:
    sup.transition(Event.ENABLE)
    sup.log.warning("motion ENABLED: motor commands are forwarded to Spot")
    return Outcome("control", "motion enabled")


def _disable_motion(sup: Supervised) -> Outcome:
    sup.transition(Event.DISABLE)
    sup.log.info("motion disabled: commands are dropped; stopping")
    return sup.stop_motion(send_stop=True) or Outcome("control", "motion disabled")


def _claim(sup: Supervised, take: bool | None = None) -> Outcome:
    """Acquire the body lease (`take`: take it from its holder, the take_lease verb; None: the
    take_lease parameter). Releases a LEASE_LOST latch; motion stays disabled."""
    verb = "take_lease" if take else "claim"
    if sup.commander.lease_held:
        return Outcome("control", "lease held")
    if take:
        holder = sup.commander.body_lease_owner()
        sup.log.warning(f"take_lease (operator request): taking the body lease from {holder or 'whoever holds it'}")
    try:
        sup.commander.claim(take=take)
    except CommanderError as exc:
        sup.log.error(f"{verb} failed: {exc}")
        return Outcome("failed", str(exc))
    sup.not_ready_logged = False
    sup.transition(Event.LEASE_CLAIMED)
    return Outcome("control", "lease held")


def _release(sup: Supervised) -> Outcome:
    sup.stop_motion(send_stop=True)
    sup.commander.release()
    sup.auto_claim = False  # an explicit release is not undone automatically
    return Outcome("control", "lease released")


# -- power ----------------------------------------------------------------------------------------
def hardware_refusal(pressed: str) -> str:
    """Why power-on is refused while the robot's hardware E-Stop(s) `pressed` ("name: text") are pressed."""
    return f"robot hardware E-Stop pressed ({pressed}): release it on the robot, then power_on"


def _power_on(sup: Supervised) -> Outcome:
    pressed = sup.pressed_estops_now()   # read now: a button released a moment ago counts as released
    if pressed:   # the robot would refuse it (STATUS_ESTOPPED): not sent
        sup.counts["rejected"] += 1
        line = f"power_on refused: {hardware_refusal(pressed)} (no power command sent)"
        sup.last_reason = line
        if not sup.fatal_refusal:
            sup.log.error(line)
        return Outcome("refused", line)
    sup.expect_off = False
    result = sup.commander.power_on()
    if result.ok:
        sup.powered_by_us = True
        sup.transition(Event.POWER_ON_OK)
        return sup.account(result)
    if not result.detail.startswith("refused: "):
        return sup.account(result)
    sup.counts["failed"] += 1
    line = "power_on refused: " + result.detail[len("refused: "):]
    sup.last_reason = line
    if not sup.fatal_refusal:
        sup.log.error(line)
    return Outcome("failed", line, result)


def _power_off(sup: Supervised) -> Outcome:
    sup.expect_off = True
    sup.stop_motion(send_stop=False)
    outcome = sup.account(sup.commander.power_off())
    if outcome.ok:
        sup.powered_by_us = False
        sup.transition(Event.POWER_OFF_OK)
    return outcome


def _clear_behavior_fault(sup: Supervised) -> Outcome:
    """ClearBehaviorFault for the clearable faults; FAULTED -> MOTORS_OFF only when none is left
    (an unclearable fault stays latched). Motion stays disabled until enable_motion."""
    result = sup.commander.clear_behavior_faults()
    text = f"clear_behavior_fault: {result.detail or ('ok' if result.ok else 'failed')}"
    sup.last_reason = text
    if result.ok:
        sup.counts["sent"] += 1
        sup.log.info(text)
        sup.transition(Event.FAULT_CLEARED)
        return Outcome("control", text, result)
    sup.counts["failed"] += 1
    sup.log.error(f"{text}: the stop stays latched")
    return Outcome("failed", text, result)


# -- motion ---------------------------------------------------------------------------------------
def _stand(sup: Supervised) -> Outcome:
    return sup.account(sup.commander.stand(sup.body))


def _sit(sup: Supervised) -> Outcome:
    sup.stop_motion(send_stop=False)
    return sup.account(sup.commander.sit())


def _stop(sup: Supervised) -> Outcome:
    sup.stop_motion(send_stop=False)
    return sup.account(sup.commander.stop())


# -- E-Stop ---------------------------------------------------------------------------------------
def _estop(sup: Supervised, act: str, verb: str) -> Outcome:
    estop = sup.estop
    off = estop is None or not estop.enabled
    if act in ("hard", "gentle") and (estop is None or off or not estop.registered):
        sup.transition(Event.DISABLE)    # not ours to cut: at least nothing moves from us (latched gate)
        sup.stop_motion(send_stop=True)
        why = ("the software E-Stop is off (parameter estop: none)" if estop is None or off
               else f"no software E-Stop ({estop.problem})")
        line = f"{verb} failed: {why}; motion disabled and stop sent: use the E-Stop of its holder (tablet)"
        sup.log.error(line)
        return Outcome("failed", line)
    if off:
        line = f"{verb} failed: the software E-Stop is off (parameter estop: none); use the tablet's E-Stop"
        sup.log.error(line)
        return Outcome("failed", line)
    if act in ("hard", "gentle"):
        sup.expect_off = True
        sup.transition(Event.ESTOP_OK)   # before the RPC: nothing moves from now on
        sup.stop_motion(send_stop=False)
    result = getattr(estop, act)()
    if result.ok and act == "hard":
        sup.commander.powered = False
        sup.powered_by_us = False
    elif result.ok and act == "release":
        sup.transition(Event.RELEASE_OK)
    elif result.ok and act == "takeover":
        sup.transition(Event.TAKEOVER_OK)
    sup.last_reason = result.text
    if result.ok:  # one severity per line: rclpy's logger refuses a second one at a call site
        sup.log.warning(result.text)
    else:
        sup.log.error(result.text)
    return Outcome("control" if result.ok else "failed", result.text)


VERBS: tuple[Verb, ...] = (
    Verb("enable_motion", _enable_motion, "allow motor commands (motion gate open)",
         service="enable_motion", srv="SetBool", off_verb="disable_motion"),
    Verb("disable_motion", _disable_motion, "drop motor commands and stop"),
    Verb("claim", _claim, "acquire (parameter take_lease: take) the body lease", service="claim"),
    Verb("take_lease", lambda sup: _claim(sup, take=True),
         "take the body lease from its holder (operator decision)", service="take_lease"),
    Verb("release", _release, "stop and return the body lease", service="release"),
    Verb("power_on", _power_on, "motor power on", service="power_on"),
    Verb("power_off", _power_off, "sit, then cut motor power", service="power_off"),
    Verb("stand", _stand, "stand up (needs motion enabled)", service="stand"),
    Verb("sit", _sit, "sit down", service="sit"),
    Verb("stop", _stop, "stop moving", service="stop"),
    Verb("estop_hard", lambda sup: _estop(sup, "hard", "estop_hard"),
         "E-Stop CUT: motor power cut at once", service="estop/hard", estop=True),
    Verb("estop_gentle", lambda sup: _estop(sup, "gentle", "estop_gentle"),
         "E-Stop SETTLE_THEN_CUT: sit, then cut", service="estop/gentle", estop=True),
    Verb("estop_release", lambda sup: _estop(sup, "release", "estop_release"),
         "our E-Stop to NONE: power-on allowed again", service="estop/release", estop=True),
    Verb("estop_takeover", lambda sup: _estop(sup, "takeover", "estop_takeover"),
         "take over a lapsed E-Stop configuration (operator request, motors off)",
         service="estop/takeover"),
    Verb("clear_behavior_fault", _clear_behavior_fault, "clear every clearable behavior fault",
         service="clear_behavior_fault"),
)
#: name -> Verb
VERB_TABLE: dict[str, Verb] = {v.name: v for v in VERBS}
