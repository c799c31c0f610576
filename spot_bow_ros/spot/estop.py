"""Software E-Stop: an `EstopEndpoint` kept alive by bosdyn's `EstopKeepAlive`, plus the one-line
explanations of a refused power-on. Policy (docs/estop.md):

- **Never take an E-Stop that is not ours.** Any registered endpoint other than ours, live or
  lapsed, means "held by someone else": one line, shown in diagnostics, no set-up, and no
  automatic retry while one exists. `takeover()` (the `estop_takeover` verb) replaces a
  configuration whose other endpoints all lapsed, on an explicit operator request only, and
  refuses while any other endpoint is checking in.
- **Registered stopped.** `start()` registers (`force_simple_setup`: motors off only) and checks
  in at SETTLE_THEN_CUT: the robot cannot power on until an operator calls `release()`
  (`estop_release`), unless `release_at_start` (parameter `estop_release_at_start`) says so.
- **Stops are latched.** A keep-alive that could not check in for longer than the timeout (link
  loss, process stall) finds the robot settled; its next check-in asks SETTLE_THEN_CUT instead
  of silently releasing, and `on_stop(cause)` tells the supervisor. Only `release()` lowers it.
- **Tied to the driver's health.** Before each periodic check-in `health()` is asked; a stale
  heartbeat (stuck executor, deadlock) makes the keep-alive ask SETTLE_THEN_CUT at once (latched).
  If the check-in thread itself hangs, the robot's own timeout settles and cuts.
- **E-Stop first.** `hard()`/`gentle()` take no lock that set-up, polling or power calls hold:
  only the keep-alive's own check-in lock (held for one check-in RPC at most).
- `hard()` = CUT, `gentle()` = SETTLE_THEN_CUT, `release()` = NONE; they return one line.
- `settle_and_stop()` (exit): ask SETTLE_THEN_CUT, stop checking in, deregister.

Pure helpers (`level_name`, `status_summary`, `power_refusal`, `foreign_endpoints`) are tested
without a robot.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, cast

from bosdyn.api import estop_pb2
from bosdyn.client import exceptions as bd_exc
from bosdyn.client import power as bd_power
from bosdyn.client.estop import EstopClient, EstopEndpoint, EstopKeepAlive, MotorsOnError, StopLevel

from .connection import SpotConnection, SpotConnectionError

if TYPE_CHECKING:  # bosdyn and protobuf are untyped: these names are Any to mypy
    from bosdyn.api.robot_state_pb2 import BehaviorFault
    from bosdyn.client.robot import Robot
    from google.protobuf.duration_pb2 import Duration

#: EstopStopLevel values (bosdyn's StopLevel)
NONE: int
SETTLE_THEN_CUT: int
CUT: int
NONE, SETTLE_THEN_CUT, CUT = (StopLevel.ESTOP_LEVEL_NONE, StopLevel.ESTOP_LEVEL_SETTLE_THEN_CUT,
                              StopLevel.ESTOP_LEVEL_CUT)
#: Mode names of the motor bridge's `estop` parameter.
ESTOP_MODES = ("none", "software")


class Logger(Protocol):
    def info(self, msg: str) -> None: ...
    def warning(self, msg: str) -> None: ...
    def error(self, msg: str) -> None: ...


def level_name(level: int) -> str:
    """'NONE', 'SETTLE_THEN_CUT', 'CUT' (or 'UNKNOWN') for an EstopStopLevel value."""
    try:
        return cast(str, estop_pb2.EstopStopLevel.Name(int(level))).replace("ESTOP_LEVEL_", "")
    except ValueError:
        return "UNKNOWN"


def _seconds(duration: Duration) -> float:
    return cast(float, duration.seconds + duration.nanos * 1e-9)


@dataclass(frozen=True)
class Foreign:
    """A registered endpoint that is not ours; `live`: it checked in within its timeout."""

    name: str
    live: bool
    quiet_s: float

    def __str__(self) -> str:
        return f"{self.name} {'live' if self.live else f'lapsed {self.quiet_s:.0f} s ago'}"


def foreign_endpoints(status: estop_pb2.EstopSystemStatus, own_id: str | None = None) -> list[Foreign]:
    """Every endpoint other than ours that is registered (has checked in at least once), live
    or lapsed. Configured slots nobody registered are not endpoints of anybody."""
    out = []
    for e in status.endpoints:
        ep = e.endpoint
        if own_id and ep.unique_id == own_id:
            continue
        if not e.HasField("time_since_valid_response"):
            continue  # configured slot nobody registered
        quiet = _seconds(e.time_since_valid_response)
        out.append(Foreign(ep.name or ep.unique_id or ep.role, quiet < _seconds(ep.timeout), quiet))
    return out


def status_summary(status: estop_pb2.EstopSystemStatus) -> str:
    """'CUT (Not all endpoints are registered); endpoints: tablet NONE, spot_bow_ros CUT'."""
    text = level_name(status.stop_level)
    if status.stop_level_details:
        text += f" ({status.stop_level_details})"
    eps = [f"{e.endpoint.name or e.endpoint.role or '?'} {level_name(e.stop_level)}" for e in status.endpoints]
    return text + ("; endpoints: " + ", ".join(eps) if eps else "; no endpoints configured")


def power_refusal(exc: BaseException, status: estop_pb2.EstopSystemStatus | None, own_name: str | None,
                  own_registered: bool, behavior_faults: list[BehaviorFault] | None = None) -> str:
    """One line: why the robot refused power-on and what to do (without the 'power_on refused: ')."""
    if isinstance(exc, bd_power.EstoppedError):
        if status is None:
            return "robot is E-Stopped: release the E-Stop (estop_release, or on the tablet)"
        summary = status_summary(status)
        if own_registered:
            own = [e for e in status.endpoints if e.endpoint.name == own_name]
            if own and own[0].stop_level != NONE:
                return f"robot is E-Stopped by our software E-Stop ({summary}): call estop_release"
        holders = [e.endpoint.name or e.endpoint.role for e in status.endpoints
                   if e.endpoint.name != own_name and e.stop_level != NONE and e.HasField("time_since_valid_response")]
        if holders:
            return (f"robot is E-Stopped by another endpoint ({', '.join(holders)}): release it there "
                    f"[{summary}]")
        if status.stop_level == NONE:
            return ("robot reports E-Stopped although every E-Stop allows power (motor lockout "
                    "button engaged?): check the robot")
        return (f"robot is E-Stopped ({summary}): no E-Stop endpoint allows motor power; set the "
                f"parameter estop: software (motors off) or hold the E-Stop on the tablet")
    if isinstance(exc, bd_power.KeepaliveMotorsOffError):
        return ("robot's keep-alive policy keeps the motors off (an E-Stop or keep-alive endpoint "
                "stopped checking in): register an E-Stop again (estop: software) or clear the policy")
    if isinstance(exc, bd_power.FaultedError):
        faults = ", ".join(fault_text(f) for f in (behavior_faults or [])) or "see the robot's fault state"
        return f"robot has a fault ({faults}): clear it (clear_behavior_fault) or inspect the robot"
    return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}".rstrip(": ")


def fault_text(fault: BehaviorFault) -> str:
    """'behavior fault 3 HARDWARE, unclearable' for a bosdyn BehaviorFault (id, cause, status)."""
    from bosdyn.api import robot_state_pb2
    BF = robot_state_pb2.BehaviorFault
    cause = BF.Cause.Name(fault.cause).replace("CAUSE_", "")
    status = BF.Status.Name(fault.status).replace("STATUS_", "").lower()
    return f"behavior fault {fault.behavior_fault_id} {cause}, {status}"


_SEVERITY = {NONE: 0, SETTLE_THEN_CUT: 1, CUT: 2}
_KEEPALIVE_LOG = logging.getLogger("spot_bow_ros.estop_keepalive")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else ""




class _KeepAlive(EstopKeepAlive):  # type: ignore[misc]  # bosdyn is untyped: EstopKeepAlive is Any
    """EstopKeepAlive that first checks in at `level` (a re-established endpoint never silently
    releases), lets its owner raise the level before each periodic check-in (lapse, stale
    heartbeat: `SoftwareEstop._periodic_level`) and keeps its last error for diagnostics."""

    def __init__(self, owner: SoftwareEstop, endpoint: EstopEndpoint, level: int, **kwargs: Any):
        self._owner = owner
        self._start_level: int | None = level
        self.last_ok_mono: float | None = None   # monotonic time of the last valid check-in
        self.last_error = ""
        super().__init__(endpoint, keep_running_cb=lambda: not owner.closed, **kwargs)

    def _check_in(self, rpc_timeout: float | None = None) -> None:
        periodic = threading.current_thread() is getattr(self, "_thread", None)
        with self._lock:
            if self._start_level is not None:
                self._desired_stop_level, self._start_level = self._start_level, None
            elif periodic:
                self._desired_stop_level = self._owner._periodic_level(self, self._desired_stop_level)
        super()._check_in(rpc_timeout)
        self.last_ok_mono = time.monotonic()

    def _error(self, msg: str, exception: BaseException | None = None, disable: bool = False) -> None:
        line = (f"{type(exception).__name__}: {_first_line(exception)}" if exception is not None
                else str(msg).strip().splitlines()[0] if str(msg).strip() else "check-in failed")
        self._update_status(self.KeepAliveStatus.ERROR, msg)
        if line != self.last_error:
            self._owner.log.error(f"software E-Stop keep-alive: check-in failed: {line}")
        self.last_error = line
        if disable:
            self._end_periodic_check_in()
            self._update_status(self.KeepAliveStatus.DISABLED, msg)

    def _ok(self) -> None:
        self._update_status(self.KeepAliveStatus.OK)
        if self.last_error:
            self._owner.log.info("software E-Stop keep-alive: check-ins succeed again")
            self.last_error = ""

    @property
    def alive(self) -> bool:
        return cast(bool, self._thread.is_alive())


@dataclass(frozen=True)
class EstopResult:
    ok: bool
    text: str


class SoftwareEstop:
    """The package's E-Stop endpoint on one connection (policy: the module docstring).

    `timeout` (s): the robot settles then cuts when no check-in arrived for this long;
    `cut_power_timeout` (s, 0 = robot default timeout + ~4 s): then it cuts at once.
    `release_at_start`: register at NONE instead of SETTLE_THEN_CUT (explicit configuration).
    `health()`: "" while the driver's command path is alive, else why not (checked before each
    periodic check-in). `on_stop(cause)`: the keep-alive raised the level on its own (latched
    stop); called on the keep-alive thread, must not block.
    """

    def __init__(self, connection: SpotConnection, logger: Logger, *, name: str = "spot_bow_ros",
                 timeout: float = 9.0, cut_power_timeout: float = 0.0, rpc_timeout: float = 2.0,
                 enabled: bool = True, release_at_start: bool = False,
                 health: Callable[[], str] | None = None, on_stop: Callable[[str], None] | None = None):
        if cut_power_timeout and cut_power_timeout < timeout:
            raise ValueError(f"estop_cut_power_timeout {cut_power_timeout:g} s is shorter than "
                             f"estop_timeout {timeout:g} s")
        self.connection = connection
        self.log = logger
        self.name = name
        self.timeout = float(timeout)
        self.cut_power_timeout = float(cut_power_timeout) or None
        self.rpc_timeout = rpc_timeout
        self.health = health or (lambda: "")
        self.on_stop = on_stop or (lambda cause: None)
        self._setup_lock = threading.RLock()   # set-up, polling, take-over, shutdown (RPCs)
        self._ref_lock = threading.Lock()      # the keep-alive reference only: never held over an RPC
        self._endpoint: EstopEndpoint | None = None
        self._keepalive: _KeepAlive | None = None
        self.desired = NONE if release_at_start else SETTLE_THEN_CUT
        self.enabled = enabled
        self.problem = "not set up" if enabled else "parameter estop: none"  # "" when registered
        self.foreign: list[Foreign] = []
        self.last_status: estop_pb2.EstopSystemStatus | None = None
        self._own_id: str | None = None   # our endpoint's unique id (ours even if it lapsed)
        self.closed = False
        if hasattr(connection, "on_connected"):
            connection.on_connected(self._connection_up)

    # -- state --------------------------------------------------------------------------------
    @property
    def registered(self) -> bool:
        return self._keepalive is not None

    @property
    def keepalive_alive(self) -> bool:
        ka = self._keepalive
        return ka is not None and ka.alive

    @property
    def keepalive_error(self) -> str:
        ka = self._keepalive
        return ka.last_error if ka is not None else ""

    def client(self) -> EstopClient:
        return self.connection.ensure_client(EstopClient.default_service_name)

    def get_status(self) -> estop_pb2.EstopSystemStatus | None:
        """The robot's E-Stop status (None if it does not answer); kept as `last_status`."""
        try:
            self.last_status = self.client().get_status(timeout=self.rpc_timeout)
        except (bd_exc.Error, SpotConnectionError, ValueError):   # ValueError: channel closed meanwhile
            return None
        return self.last_status

    def summary(self) -> str:
        """One line for diagnostics: our endpoint, other holders and the robot's stop level."""
        if self.registered:
            ours = f"software E-Stop '{self.name}' asks {level_name(self.desired)} (timeout {self.timeout:g} s)"
            if not self.keepalive_alive:
                ours += " - KEEP-ALIVE STOPPED"
            if self.keepalive_error:
                ours += f" - keep-alive error: {self.keepalive_error}"
        else:
            ours = f"no software E-Stop ({self.problem})"
        robot = status_summary(self.last_status) if self.last_status is not None else "unknown"
        return f"{ours}; robot: {robot}"

    # -- set-up -------------------------------------------------------------------------------
    def start(self) -> bool:
        """Register unless any other endpoint is registered (live or lapsed), at `desired`.
        True if our endpoint is registered; otherwise `problem` says why (logged once)."""
        with self._setup_lock:
            if self.closed or not self.enabled:
                return False
            if self._keepalive is not None:
                return True
            try:
                client = self.client()
                status = client.get_status(timeout=self.rpc_timeout)
                self.last_status = status
                self.foreign = foreign_endpoints(status, own_id=self._own_id)
                if self.foreign:
                    hint = ("stop and release the robot there" if any(f.live for f in self.foreign) else
                            "release it there, or send estop_takeover (motors off) to take the lapsed "
                            "E-Stop over")
                    return self._fail(f"E-Stop held by someone else ({', '.join(map(str, self.foreign))}); "
                                      f"the software E-Stop stays off: {hint}")
                if self._endpoint is not None and self._own_registered(status):
                    self._start_keepalive(self._endpoint)   # our endpoint lapsed: resume, latched
                else:
                    self._setup(client)
            except MotorsOnError:
                return self._fail("the motors are on and the robot only changes its E-Stop "
                                  "configuration with motors off: power off, then it is set up")
            except (bd_exc.Error, SpotConnectionError) as exc:
                return self._fail(f"E-Stop set-up failed: {type(exc).__name__}: {_first_line(exc)}")
            self.problem = ""
            self.get_status()
            return True

    def _own_registered(self, status: estop_pb2.EstopSystemStatus) -> bool:
        return any(e.endpoint.unique_id == self._own_id and e.HasField("time_since_valid_response")
                   for e in status.endpoints)

    def _setup(self, client: EstopClient) -> None:
        endpoint = EstopEndpoint(client, self.name, self.timeout, estop_cut_power_timeout=self.cut_power_timeout)
        endpoint.logger = _KEEPALIVE_LOG
        endpoint.force_simple_setup()   # GetConfig, SetConfig, Register, check-in at CUT
        self._endpoint, self._own_id = endpoint, endpoint.unique_id
        self._start_keepalive(endpoint)
        self.log.info(f"software E-Stop '{self.name}' registered (timeout {self.timeout:g} s, cut power "
                      f"after {endpoint.estop_cut_power_timeout or 0:g} s), level {level_name(self.desired)}"
                      + ("" if self.desired == NONE else ": send estop_release to allow power-on"))

    def _start_keepalive(self, endpoint: EstopEndpoint) -> None:
        ka = _KeepAlive(self, endpoint, self.desired, rpc_timeout_seconds=self.rpc_timeout)
        with self._ref_lock:
            self._keepalive = ka

    def _fail(self, problem: str) -> bool:
        """Record why we are not registered; logged once per kind (numbers such as "lapsed 12 s
        ago" do not make a new kind)."""
        if re.sub(r"\d+", "#", problem) != re.sub(r"\d+", "#", self.problem):
            self.log.warning(f"software E-Stop not registered: {problem}")
        self.problem = problem
        return False

    def _connection_up(self, robot: Robot) -> None:
        """New channel after a reconnection: the endpoint goes on checking in over it (until now
        it checked in over the old channel, which the connection keeps open until this ran)."""
        with self._setup_lock:
            if self._endpoint is not None:
                try:
                    self._endpoint.client = self.client()
                except Exception as exc:  # noqa: BLE001 - poll() re-registers if needed
                    self.log.warning(f"software E-Stop: no E-Stop client after reconnecting: {exc}")
                    return
                if self._keepalive is not None:
                    self.log.info(f"software E-Stop: checking in over the new connection (level "
                                  f"{level_name(self.desired)})")

    def _periodic_level(self, ka: _KeepAlive, level: int) -> int:
        """The level of the next periodic check-in (keep-alive thread, its lock held): raised to
        SETTLE_THEN_CUT, latched, after a lapse longer than the timeout or while `health()`
        reports a stalled command path."""
        now = time.monotonic()
        cause = ""
        if ka.last_ok_mono is not None and now - ka.last_ok_mono > self.timeout:
            cause = (f"software E-Stop keep-alive lapsed: no check-in for {now - ka.last_ok_mono:.1f} s "
                     f"(estop_timeout {self.timeout:g} s; link loss or process stall): the robot settles "
                     f"and cuts power")
        else:
            why = self.health()
            if why:
                cause = f"{why}: the software E-Stop asks SETTLE_THEN_CUT"
        if not cause or _SEVERITY[level] >= _SEVERITY[SETTLE_THEN_CUT]:
            return level
        self.desired = SETTLE_THEN_CUT
        self.on_stop(cause)
        return SETTLE_THEN_CUT

    def poll(self) -> None:
        """Periodic check (diagnostics period): refresh the status; a keep-alive that stopped
        (robot forgot the endpoint) is latched at SETTLE_THEN_CUT and set up again when no other
        endpoint is registered; a set-up that could not run is retried."""
        with self._setup_lock:
            if self.closed:
                return
            ka = self._keepalive
            if ka is not None and not ka.alive:
                with self._ref_lock:
                    self._keepalive = None
                self.problem = "keep-alive stopped"
                if _SEVERITY[self.desired] < _SEVERITY[SETTLE_THEN_CUT]:
                    self.desired = SETTLE_THEN_CUT
                self.on_stop("software E-Stop keep-alive stopped (robot no longer knows the endpoint?): "
                             "the robot settles and cuts power")
            if self._keepalive is None and self.enabled:
                self.start()
            else:
                self.get_status()

    # -- verbs --------------------------------------------------------------------------------
    def hard(self) -> EstopResult:
        return self._set(CUT, "estop_hard", "motor power cut")

    def gentle(self) -> EstopResult:
        return self._set(SETTLE_THEN_CUT, "estop_gentle", "robot sits, then motor power is cut")

    def release(self) -> EstopResult:
        return self._set(NONE, "estop_release", "E-Stop released: the robot may power on again")

    def _set(self, level: int, verb: str, effect: str) -> EstopResult:
        """The E-Stop path: no set-up/poll lock; one check-in RPC at `level`."""
        self.desired = level
        with self._ref_lock:
            ka = self._keepalive
        if ka is None and level == NONE and self.start():
            ka = self._keepalive
        if ka is None:
            return EstopResult(False, f"{verb} failed: no software E-Stop ({self.problem})")
        try:
            if level == CUT:
                ka.stop()
            elif level == SETTLE_THEN_CUT:
                ka.settle_then_cut()
            else:
                ka.allow()
        except (bd_exc.Error, SpotConnectionError, ValueError) as exc:   # ValueError: gRPC channel closed
            return EstopResult(False, f"{verb} failed: {type(exc).__name__}: {_first_line(exc)} "
                                      f"(the keep-alive keeps asking {level_name(level)})")
        status = self.get_status()
        robot = f"; robot E-Stop {status_summary(status)}" if status is not None else ""
        return EstopResult(True, f"{verb}: {effect}{robot}")

    def takeover(self) -> EstopResult:
        """Operator request: replace a configuration whose other endpoints all lapsed (refused
        while any of them checks in, or with motors on). Registers stopped (SETTLE_THEN_CUT)."""
        verb = "estop_takeover"
        with self._setup_lock:
            if not self.enabled or self.closed:
                return EstopResult(False, f"{verb} refused: the software E-Stop is off ({self.problem})")
            if self._keepalive is not None:
                return EstopResult(True, f"{verb}: the software E-Stop '{self.name}' already holds the E-Stop")
            try:
                client = self.client()
                status = client.get_status(timeout=self.rpc_timeout)
                foreign = foreign_endpoints(status, own_id=self._own_id)
                live = [f for f in foreign if f.live]
                if live:
                    return EstopResult(False, f"{verb} refused: {', '.join(map(str, live))} is checking in: "
                                              "stop and release the robot there")
                self.desired = SETTLE_THEN_CUT
                self.log.warning(f"{verb} (operator request): replacing the E-Stop configuration of "
                                 f"{', '.join(map(str, foreign)) or 'nobody'}")
                self._setup(client)
            except MotorsOnError:
                return EstopResult(False, f"{verb} refused: the motors are on (the robot changes its E-Stop "
                                          "configuration with motors off only)")
            except (bd_exc.Error, SpotConnectionError) as exc:
                return EstopResult(False, f"{verb} failed: {type(exc).__name__}: {_first_line(exc)}")
            self.problem, self.foreign = "", []
            self.get_status()
        return EstopResult(True, f"{verb}: the software E-Stop '{self.name}' holds the E-Stop at "
                                 "SETTLE_THEN_CUT: send estop_release, then power_on")

    # -- shutdown -----------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Exit: ask SETTLE_THEN_CUT, stop checking in, deregister (refused by the robot while
        motors are on: then the robot settles and cuts, as asked). Idempotent."""
        with self._setup_lock:
            self.closed = True
            with self._ref_lock:
                ka, self._keepalive = self._keepalive, None
            endpoint, self._endpoint = self._endpoint, None
        if ka is None:
            return
        try:
            ka.settle_then_cut()
        except (bd_exc.Error, SpotConnectionError, ValueError) as exc:
            self.log.warning(f"software E-Stop: SETTLE_THEN_CUT on exit failed ({type(exc).__name__})")
        ka.shutdown()
        try:
            # a keep-alive is only started on a registered endpoint (`_start_keepalive`)
            cast(EstopEndpoint, endpoint).deregister(timeout=self.rpc_timeout)
            self.log.info(f"software E-Stop '{self.name}' deregistered")
        except MotorsOnError:
            self.log.warning(f"software E-Stop '{self.name}' not deregistered (motors on): it asked "
                             "SETTLE_THEN_CUT, the robot sits and cuts power")
        except (bd_exc.Error, SpotConnectionError) as exc:
            self.log.warning(f"software E-Stop '{self.name}' not deregistered ({type(exc).__name__}): "
                             f"it times out on the robot")
