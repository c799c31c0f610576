"""MotionSupervisor: the one owner of lease, power, E-Stop endpoint, motion gate, watchdog and
command admission of the motor bridge, as the explicit state machine of `safety_machine` (no ROS
here: `nodes/motor_command.py` is the wiring). Policy and tables: docs/estop.md.

- Verbs (`supervisor_verbs.VERBS`) are admitted per state; `control(verb)` runs one and returns
  an `Outcome`; `submit(verb)` (the control topic) runs E-Stop verbs on the caller's thread at
  once and queues the others on the supervisor's verb thread, so a blocking power call never
  delays a stop behind it.
- `admit_and_send(cmd, source)`: a converted motor command goes to the robot only with the motion
  gate open in MOTORS_OFF/POWERED, lease held and robot reachable.
- Latched stops: the robot's stop level leaving NONE, motor power dropping without a command
  from us, our keep-alive lapsing or the driver stalling move to LATCHED (until estop_release /
  power_on). The robot's stop level is our E-Stop service status merged with its hardware
  E-Stops (the button, the payload port: non-software RobotState.estop_states entries, which the
  E-Stop service does not report): one pressed is CUT, named with its description, and latches in
  any state but ESTOPPED (there: one warning, and the latch once released); power_on is refused
  without a power command while one is pressed. A behavior fault (seen in the robot state, or a
  command refused with STATUS_BEHAVIOR_FAULT) moves to FAULTED (until clear_behavior_fault
  cleared all); another client taking the body lease or the robot revoking it to LEASE_LOST
  (until claim / take_lease; never re-acquired automatically). Each: one ERROR line naming the
  cause and the verbs that release it, motion disabled (enable_motion again afterwards),
  diagnostics ERROR.
- Heartbeat: `watchdog_tick()` (the node's executor, every <= 50 ms) beats it; the software
  E-Stop asks SETTLE_THEN_CUT when it is older than `heartbeat_timeout` (stuck executor or
  deadlock), and a gap in it is reported as a stall (SIGSTOP/SIGCONT, blocked executor).
- Safe exit (`shutdown()`): stop; if we powered the robot on, sit and power off (whoever holds
  the E-Stop) and say so, else say it is left powered; return the lease; our E-Stop asks
  SETTLE_THEN_CUT, stops checking in and deregisters.
"""

from __future__ import annotations

import collections
import re
import threading
import time
from collections.abc import Callable
from typing import Any

from bosdyn.client import exceptions as bd_exc
from bosdyn.client import power as bd_power

from ..convert.motion import BodyPose, MotionLimits, MotorCommand, VelocityCommand, describe
from ..convert.robot_status import StatusEntry
from .commander import BEHAVIOR_FAULT_REFUSAL, CommanderError, CommandResult, Logger, SpotCommander
from .connection import SpotConnectionError
from .estop import CUT, NONE, SoftwareEstop, fault_text, level_name, power_refusal
from .safety_machine import LATCHING, Event, SafetyMachine, State
from .supervisor_verbs import VERB_TABLE, VERBS, Outcome, hardware_refusal

#: A heartbeat gap longer than this (s) is reported as a stall of the driver.
STALL_REPORT_S = 1.0
#: What releases each latched state (the STOP LATCHED line names it).
RELEASED_BY = {
    State.LATCHED: "estop_release (if our E-Stop stopped it), power_on and enable_motion",
    State.FAULTED: "clear_behavior_fault, then enable_motion",
    State.LEASE_LOST: "claim (or take_lease to take it from its holder: an operator decision), then enable_motion",
}
#: States in which a pressed hardware E-Stop latches (level-triggered, like faults).
_HARDWARE_LATCHES = frozenset({State.MOTORS_OFF, State.POWERED, State.FAULTED, State.LEASE_LOST})


class _VerbThread:
    """One thread running queued control-topic verbs in order (never the E-Stop verbs)."""

    def __init__(self, run: Callable[[str], Any]):
        self._run = run
        self._queue: collections.deque[str] = collections.deque()
        self._cv = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="motor_command:verbs", daemon=True)
        self._thread.start()

    def put(self, verb: str) -> None:
        with self._cv:
            self._queue.append(verb)
            self._cv.notify()

    def close(self) -> None:
        with self._cv:
            self._closed = True
            self._queue.clear()
            self._cv.notify()

    def _loop(self) -> None:
        while True:
            with self._cv:
                while not self._queue and not self._closed:
                    self._cv.wait()
                if self._closed:
                    return
                verb = self._queue.popleft()
            self._run(verb)


class MotionSupervisor:
    """See the module docstring. `estop` None: no E-Stop management at all (tests, `estop: none`
    still passes a disabled SoftwareEstop). `on_motion_stopped()`: cancel playback (the node's)."""

    def __init__(self, commander: SpotCommander, logger: Logger, *, limits: MotionLimits,
                 estop: SoftwareEstop | None = None, motion_enabled: bool = False, auto_claim: bool = True,
                 cmd_timeout: float = 0.5, heartbeat_timeout: float = 4.0):
        self.commander = commander
        self.log = logger
        self.estop = estop
        self.machine = SafetyMachine(State.MOTORS_OFF, motion_enabled)
        self._motion_param = bool(motion_enabled)
        self.auto_claim = bool(auto_claim)
        self.cmd_timeout = float(cmd_timeout)
        self.heartbeat_timeout = float(heartbeat_timeout)
        self._limits = limits
        commander.limits = limits
        self.body = BodyPose()
        self._lock = threading.RLock()       # state only: never held over a robot RPC
        self._op_lock = threading.Lock()     # serialises the non-E-Stop verbs (robot operations)
        self.counts = {"received": 0, "sent": 0, "failed": 0, "rejected": 0, "dropped_disabled": 0,
                       "dropped_not_ready": 0, "dropped_stopped": 0, "clamped": 0, "watchdog_stops": 0,
                       "playbacks": 0, "recordings_saved": 0, "latched_stops": 0, "stalls": 0}
        self.last_command = "none"
        self.last_reason = ""
        self.lease_owner: str | None = None
        self.on_motion_stopped: Callable[[], None] = lambda: None
        self.expect_off = False        # we asked for motors off (power_off, E-Stop)
        self.powered_by_us = False
        self.fatal_refusal = False     # start-up: the caller reports a refused power-on
        self.not_ready_logged = False
        self._dropped_logged: str | None = None
        self._failure_logged: str | None = None
        self._motion_active = False
        self._last_motion_mono = 0.0
        self._beat: float | None = None  # heartbeat (monotonic s); None until armed
        self._prev_level: int | None = None
        self._prev_powered: bool | None = None
        self._prev_pressed = ""        # hardware E-Stops pressed at the last observation
        self.closing = False
        self._verbs = _VerbThread(self.control)
        commander.on_lost = self._forwarding_lost
        commander.on_lease_taken = lambda reason: self.latch(Event.LEASE_LOST, f"body lease lost: {reason}")
        commander.explain_power_refusal = self._explain_power_refusal
        if estop is not None:
            estop.health = self.health
            estop.on_stop = self.unexpected_stop

    # -- state ----------------------------------------------------------------------------------
    @property
    def state(self) -> State:
        return self.machine.state

    @property
    def motion_enabled(self) -> bool:
        return self.machine.motion_enabled

    @property
    def limits(self) -> MotionLimits:
        return self._limits

    def set_limits(self, limits: MotionLimits, cmd_timeout: float, cmd_duration: float) -> None:
        """The one writer of the motion limits (live parameters)."""
        with self._lock:
            self._limits = limits
            self.commander.limits = limits
            self.cmd_timeout = float(cmd_timeout)
            self.commander.cmd_duration = float(cmd_duration)

    def transition(self, event: Event, cause: str = "") -> None:
        with self._lock:
            t = self.machine.handle(event, cause)
            if t.before != t.after:   # observations compare within one state only
                self._prev_level = self._prev_powered = None
        if t.before != t.after:
            self.log.info(f"motion supervisor: {t.before.value} -> {t.after.value} ({event.value})")

    def unexpected_stop(self, cause: str) -> None:
        """The robot stopped without a command from us: latch (one ERROR line), motion off.
        Any thread (also the E-Stop keep-alive's): takes only the state lock."""
        self.latch(Event.UNEXPECTED_STOP, cause)

    def latch(self, event: Event, cause: str) -> None:
        """A stop to hold until an operator acts (`event` UNEXPECTED_STOP, BEHAVIOR_FAULT or
        LEASE_LOST): one ERROR line naming the cause and what releases it, motion off, playback
        cancelled. Any thread: takes only the state lock."""
        with self._lock:
            before = self.machine.state
            t = self.machine.handle(event, cause)
            self._motion_active = False
            if t.before != t.after:
                self._prev_level = self._prev_powered = None
        if t.after in LATCHING and t.after != before:
            self.counts["latched_stops"] += 1
            self.last_reason = f"stop latched: {cause}"
            self.log.error(f"STOP LATCHED: {cause}; motion disabled until an operator sends "
                           f"{RELEASED_BY[t.after]}")
            self.on_motion_stopped()
        elif before not in (State.LATCHED, State.CLOSED):
            self.log.warning(f"robot stop: {cause} (state {before.value})")
            self.on_motion_stopped()

    # -- verbs ----------------------------------------------------------------------------------
    def control(self, verb: str) -> Outcome:
        """Run one control verb now (unknown verb or refused in this state: one line, nothing done)."""
        verb = verb.strip().lower()
        spec = VERB_TABLE.get(verb)
        if spec is None:
            self.log.error(f"motor_command/control: unknown verb {verb!r} ignored "
                           f"(expected one of {', '.join(v.name for v in VERBS)})")
            return Outcome("rejected", f"unknown verb {verb!r}")
        with self._lock:
            ok, why = self.machine.admits(verb)
        if not ok:
            if why == "motion is disabled":
                self.log.warning(f"'{verb}' ignored: motion is disabled (send 'enable_motion' first)")
                return Outcome("disabled", verb)
            line = f"{verb} refused: {why}"
            if not (self.fatal_refusal and verb == "power_on"):
                self.log.warning(line)
            self.last_reason = line
            return Outcome("refused", line)
        if spec.estop:
            return spec.run(self)
        with self._op_lock:
            return spec.run(self)

    def submit(self, verb: str) -> None:
        """The control topic: E-Stop verbs now on this thread, the others queued in order."""
        spec = VERB_TABLE.get(verb.strip().lower())
        if spec is not None and spec.estop:
            self.control(verb)
        else:
            self._verbs.put(verb)

    def stop_motion(self, send_stop: bool) -> Outcome | None:
        """Cancel playback, forget the velocity stream; optionally send a stop (lease held)."""
        self._motion_active = False
        self.on_motion_stopped()
        if send_stop and self.commander.ready:
            return self.account(self.commander.stop())
        return None

    def _explain_power_refusal(self, exc: Exception) -> str:
        estop = self.estop
        status = estop.get_status() if estop is not None else None
        faults, pressed = [], ""
        try:
            state = self.commander.state_client.get_robot_state(timeout=self.commander.rpc_timeout)
            faults, pressed = list(state.behavior_fault_state.faults), self.pressed_estops(state)
        except Exception:  # noqa: BLE001 - the explanation must not fail
            pass
        if pressed and isinstance(exc, bd_power.EstoppedError):
            return hardware_refusal(pressed)
        return power_refusal(exc, status, estop.name if estop is not None else None,
                             bool(estop is not None and estop.registered), faults)

    # -- command admission ----------------------------------------------------------------------
    def admit_and_send(self, cmd: MotorCommand, source: str) -> Outcome:
        """Send a converted, limited motor command if the state admits it."""
        with self._lock:
            ok, why = self.machine.admits("command")
        if not ok:
            key = "dropped_disabled" if why == "motion is disabled" else "dropped_stopped"
            self.counts[key] += 1
            if self._dropped_logged != why:
                self._dropped_logged = why
                hint = (" (send 'enable_motion' on motor_command/control or set enable_motion)"
                        if key == "dropped_disabled" else "")
                self.log.warning(f"{source}: {why}, command dropped{hint}; further drops are counted")
            return Outcome("disabled" if key == "dropped_disabled" else "refused", why)
        self._dropped_logged = None
        if not self.commander.ready:
            self.counts["dropped_not_ready"] += 1
            if not self.not_ready_logged:
                self.not_ready_logged = True
                self.log.warning(f"{source}: command dropped: forwarding stopped "
                                 f"({self.not_ready_reason()}); further drops are counted")
            return Outcome("not_ready", self.not_ready_reason())
        self.not_ready_logged = False
        new_body = self.body.apply(cmd.body)
        result = self.commander.execute(cmd, new_body, body_changed=new_body != self.body)
        if result is None:
            return Outcome("nothing", "nothing to send")
        self.last_command = f"{source}: {describe(cmd)}"
        return self.account(result, body=new_body, cmd=cmd)

    def account(self, result: CommandResult, body: BodyPose | None = None,
                cmd: MotorCommand | None = None) -> Outcome:
        said = not result.ok and self.machine.state in LATCHING and self.last_reason.startswith("stop latched: ")
        self.last_reason = str(result)
        if result.ok:
            self._failure_logged = None
            self.counts["sent"] += 1
            if body is not None:
                self.body = body
            if cmd is not None and isinstance(cmd.locomotion, VelocityCommand):
                self._motion_active = not cmd.locomotion.is_zero
                self._last_motion_mono = time.monotonic()
            return Outcome("sent", result.what, result)
        self.counts["failed"] += 1
        if result.detail.startswith(BEHAVIOR_FAULT_REFUSAL) and self.machine.state != State.FAULTED:
            self.check_faults()
        if said:
            return Outcome("failed", result.detail, result)   # the STOP LATCHED line said it
        kind = re.sub(r"[-+]?\d[\d.]*", "#", result.detail)   # numbers (e.g. seconds late) aside
        if kind != self._failure_logged:   # a stream refused for one reason: one line
            self._failure_logged = kind
            self.log.error(f"Spot command failed: {result} (the same failure again is counted, not logged)")
        return Outcome("failed", result.detail, result)

    def not_ready_reason(self) -> str:
        c = self.commander
        if not c.lease_held:
            return c.lease_lost_reason or "no body lease (send 'claim')"
        return c.robot_error or "robot not reachable"

    def _forwarding_lost(self, reason: str) -> None:
        self._motion_active = False
        self.not_ready_logged = False

    # -- heartbeat, watchdog, stalls ---------------------------------------------------------------
    def arm_heartbeat(self) -> None:
        self._beat = time.monotonic()

    def health(self) -> str:
        """"" while the command path beats; else why not (the software E-Stop then settles)."""
        beat = self._beat
        if beat is None or self.closing:
            return ""
        age = time.monotonic() - beat
        return f"driver stalled: no heartbeat for {age:.1f} s" if age > self.heartbeat_timeout else ""

    def watchdog_tick(self) -> None:
        """Executor timer: beat the heartbeat (report a stall), send one stop when a velocity
        stream stopped arriving for cmd_timeout."""
        now = time.monotonic()
        beat = self._beat
        if beat is not None and not self.closing:
            self._beat = now
            if now - beat > STALL_REPORT_S:
                self._report_stall(now - beat)
        with self._lock:
            if not self._motion_active:
                return
            idle = now - self._last_motion_mono
            if idle <= self.cmd_timeout:
                return
            self._motion_active = False
        self.counts["watchdog_stops"] += 1
        # An ended velocity stream is normal, not a fault: info (the count is in diagnostics)
        self.log.info(f"velocity commands stopped arriving ({idle:.2f} s > cmd_timeout "
                      f"{self.cmd_timeout:g} s): sending stop")
        if self.commander.ready:
            self.account(self.commander.stop())

    def _report_stall(self, gap: float) -> None:
        self.counts["stalls"] += 1
        latched = f"; stop latched: {self.machine.cause}" if self.machine.state == State.LATCHED else ""
        self.log.warning(f"driver stalled for {gap:.1f} s (process stopped, e.g. SIGSTOP/SIGCONT, or its "
                         f"executor blocked){latched}")

    # -- robot probe and observation ----------------------------------------------------------------
    def probe(self) -> None:
        """Diagnostics period (no lock held over the RPCs): robot state, E-Stop status, auto
        re-claim, then `observe()`."""
        c = self.commander
        c.probe()
        self.lease_owner = None if c.lease_held or not c.robot_ok else c.body_lease_owner()
        if self.estop is not None and c.robot_ok:
            self.estop.poll()
        if self.auto_claim and not c.lease_held and not c.lease_taken and c.robot_ok and not self.closing:
            try:
                c.claim(take=False)  # never take back a lease another client (tablet) took
                self.log.info("body lease re-acquired: command forwarding resumes")
            except CommanderError:
                pass  # logged when it first failed; retried next period
        if c.robot_ok:
            self.observe()

    def robot_stop_level(self) -> tuple[int | None, str]:
        """(level, details): our E-Stop service status (without one: the robot state's software
        E-Stops) merged with the robot's pressed hardware E-Stops (CUT, named first)."""
        status = self.estop.last_status if self.estop is not None else None
        state = self.commander.last_state
        if status is not None:
            level, details = int(status.stop_level), str(status.stop_level_details)
        elif state is not None:
            stopped = [e.name for e in state.estop_states if e.type == e.TYPE_SOFTWARE and e.state == e.STATE_ESTOPPED]
            level, details = (CUT if stopped else NONE), ", ".join(stopped)
        else:
            return None, ""
        pressed = self.pressed_estops()
        if not pressed:
            return level, details
        if level != NONE:
            pressed += f"; software E-Stop {level_name(level)}" + (f": {details}" if details else "")
        return CUT, pressed

    def pressed_estops(self, state: Any = None) -> str:
        """The robot's pressed hardware E-Stops (non-software `estop_states` at STATE_ESTOPPED) of
        `state` (default: the last probe's RobotState) as "name: description, ..."; "" if none."""
        state = self.commander.last_state if state is None else state
        if state is None:
            return ""
        return ", ".join(f"{e.name or 'hardware E-Stop'}: {e.state_description}" if e.state_description
                         else (e.name or "hardware E-Stop") for e in state.estop_states
                         if e.type != e.TYPE_SOFTWARE and e.state == e.STATE_ESTOPPED)

    def pressed_estops_now(self) -> str:
        """`pressed_estops()` of a robot state read now ("" if the robot does not answer: then the
        robot itself refuses a power-on while one is pressed, and the refusal names it)."""
        c = self.commander
        try:
            return self.pressed_estops(c.state_client.get_robot_state(timeout=c.rpc_timeout))
        except (bd_exc.Error, SpotConnectionError):
            return ""

    def check_faults(self) -> None:
        """A command was refused for a behavior fault: read the robot state now and latch it."""
        if self.commander.probe():
            self.observe()

    def active_faults(self) -> list[Any]:
        """The robot's behavior faults (last probe) that we have not cleared ourselves."""
        state = self.commander.last_state
        if state is None:
            return []
        cleared = self.commander.cleared_fault_ids
        return [f for f in state.behavior_fault_state.faults if f.behavior_fault_id not in cleared]

    def observe(self) -> None:
        """Compare the robot with what we expect: latch stops we did not command (E-Stop level,
        power drop), and, level-triggered, a pressed hardware E-Stop, a lost lease and behavior faults."""
        level, details = self.robot_stop_level()
        pressed = self.pressed_estops()
        c = self.commander
        powered = c.powered
        faults = self.active_faults()
        taken = c.lease_taken if not c.lease_held else ""
        cause, event = "", Event.UNEXPECTED_STOP
        with self._lock:
            state = self.machine.state
            if pressed and (state in _HARDWARE_LATCHES or (state == State.ESTOPPED and pressed != self._prev_pressed)):
                cause = f"robot E-Stop level {level_name(CUT)} ({details})"   # ESTOPPED: warned, not latched
            elif state in (State.MOTORS_OFF, State.POWERED):
                if self._prev_level == NONE and level not in (None, NONE):
                    cause = f"robot E-Stop level {level_name(level)}" + (f" ({details})" if details else "")
                elif taken:
                    cause, event = f"body lease lost: {taken}", Event.LEASE_LOST
                elif faults:
                    cause, event = self._fault_cause(faults, powered), Event.BEHAVIOR_FAULT
                elif self._prev_powered and powered is False and not self.expect_off:
                    cause = "motor power dropped without a command from us (" + self._power_drop_guess(level) + ")"
            elif state == State.FAULTED and taken:
                cause, event = f"body lease lost: {taken}", Event.LEASE_LOST
            prev_powered = self._prev_powered
            self._prev_level, self._prev_powered, self._prev_pressed = level, powered, pressed
        if cause:
            self.latch(event, cause)
        elif powered and state == State.MOTORS_OFF:
            self.transition(Event.OBSERVED_ON)
        elif powered is False and prev_powered and state == State.POWERED:
            self.transition(Event.OBSERVED_OFF_EXPECTED)

    def _fault_cause(self, faults: list[Any], powered: bool | None) -> str:
        text = "; ".join(fault_text(f) for f in faults)
        text += ", motors on" if powered else ", motors off" if powered is False else ""
        if any(f.status == f.STATUS_UNCLEARABLE for f in faults):
            text += " (an unclearable fault: clear_behavior_fault cannot clear it, inspect the robot)"
        return text

    def _power_drop_guess(self, level: int | None) -> str:
        state = self.commander.last_state
        faults = list(state.behavior_fault_state.faults) if state is not None else []
        if level not in (None, NONE):
            return f"E-Stop {level_name(level)}"
        if faults:
            return f"behavior fault {faults[0].behavior_fault_id}"
        return "power loss, a fault or another client"

    # -- start-up and exit ------------------------------------------------------------------------
    def start(self) -> None:
        """Register the E-Stop (if ours) and set the initial state from it."""
        estop = self.estop
        if estop is not None and estop.enabled:
            estop.start()
            if estop.registered and estop.desired != NONE:
                with self._lock:
                    self.machine = SafetyMachine(State.ESTOPPED, self._motion_param)

    def shutdown(self) -> None:
        """Safe exit (module docstring). Idempotent."""
        if self.closing:
            return
        self.closing = True
        self._verbs.close()
        self.stop_motion(send_stop=False)
        c = self.commander
        estop = self.estop
        ours = estop is not None and estop.registered
        with self._op_lock:
            if c.robot_ok:
                c.probe()   # what is the power now (an E-Stop or a fault may have cut it)
            if c.ready and c.powered:
                self.account(c.stop())
            if self.powered_by_us and c.powered is not False:
                if c.ready:
                    self.log.info("exit: this driver powered the robot on: sitting and powering off")
                    self.expect_off = True
                    result = self.account(c.power_off())
                    if not result.ok:
                        self._left_powered(f"power off failed: {result.detail}", ours)
                else:
                    self._left_powered(f"cannot power off ({self.not_ready_reason()})", ours)
            elif c.powered:
                self._left_powered("powered on by somebody else", ours)
            c.shutdown(stop=False)
        try:
            if estop is not None:
                estop.shutdown()
        finally:
            self.transition(Event.CLOSE)

    def _left_powered(self, why: str, ours: bool) -> None:
        if ours:
            self.log.error(f"exit: {why}; our software E-Stop asks SETTLE_THEN_CUT: the robot sits and "
                           f"cuts power")
        else:
            self.log.error(f"exit: {why}: the robot is left powered")

    # -- diagnostics ------------------------------------------------------------------------------
    def status_entry(self) -> StatusEntry:
        """The "Spot motor commands" diagnostics entry (level 0 OK, 1 WARN, 2 ERROR)."""
        c = self.commander
        estop = self.estop
        state = self.machine.state
        level_now, _ = self.robot_stop_level()
        pressed = self.pressed_estops()
        if state in LATCHING:
            level, summary = 2, f"STOP LATCHED: {self.machine.cause}"
        elif not c.robot_ok or (not c.lease_held and c.lease_lost_reason):
            level, summary = 2, "forwarding stopped: " + self.not_ready_reason()
        elif pressed:
            level, summary = 2, f"robot E-Stopped by its hardware E-Stop ({pressed}): release it on the robot"
        elif estop is not None and estop.keepalive_error:
            level, summary = 2, f"software E-Stop keep-alive error: {estop.keepalive_error}"
        elif state == State.ESTOPPED and estop is not None:
            level, summary = 1, f"robot E-Stopped by our software E-Stop ({level_name(estop.desired)}): " \
                                "estop_release to allow power-on"
        elif level_now not in (None, NONE):
            level, summary = 1, f"robot E-Stopped ({level_name(level_now)})"
        elif estop is not None and estop.enabled and not estop.registered:
            level, summary = 1, f"software E-Stop not registered: {estop.problem}"
        elif not c.lease_held:
            level, summary = 1, "no body lease"
        elif not self.motion_enabled:
            level, summary = 1, "motion disabled"
        elif c.powered is False:
            level, summary = 1, "motors off"
        else:
            level, summary = 0, "forwarding commands"
        values = {
            "state": state.value,
            "lease": "held" if c.lease_held
                     else (f"lost: {c.lease_lost_reason}" if c.lease_lost_reason else "not held"),
            "robot": "ok" if c.robot_ok else f"unreachable: {c.robot_error}",
            "power": "unknown" if c.powered is None else ("on" if c.powered else "off"),
            "estop": estop.summary() if estop is not None else "not managed by this bridge",
            "hardware_estop": f"PRESSED: {pressed}" if pressed else "not pressed",
            "motion_enabled": str(self.motion_enabled).lower(),
            "last_command": self.last_command,
            "last_result": self.last_reason or "none",
        }
        return StatusEntry("Spot motor commands", level, summary, values)
