"""Software E-Stop: an `EstopEndpoint` kept alive by bosdyn's `EstopKeepAlive`, plus the one-line
explanations of a refused power-on.

A Spot whose E-Stop nobody holds reports ESTOP_LEVEL_CUT ("Not all endpoints are registered")
and refuses power-on. `SoftwareEstop.start()` does what spot_ros2's `start_estop` does, more
carefully:

- It never takes the E-Stop away from somebody else: if another endpoint (the tablet, an
  E-Stop app) checked in within its timeout, it leaves the configuration alone and says so.
  Otherwise it runs `force_simple_setup` (one `PDB_rooted` endpoint named `name`: refused by the
  robot while the motors are on) and keeps the endpoint alive at the level the user last asked
  for (NONE at start, so the robot can power on).
- The keep-alive thread checks in every `timeout / 3`. If it dies, the process hangs or the
  network goes away, the robot does what a real E-Stop does: after `timeout` it sits and cuts
  power (SETTLE_THEN_CUT), after `cut_power_timeout` it cuts power at once. That is the point.
- `hard()` = CUT (motor power cut at once), `gentle()` = SETTLE_THEN_CUT (sit, then cut),
  `release()` = NONE (allow power-on again). They return one line saying what happened.
- On a reconnection the endpoint continues on the new channel at the level asked for; if the
  robot forgot it (restarted), `poll()` sets it up again with that level once motors are off.
- `shutdown()` stops the keep-alive and deregisters the endpoint (the robot refuses that while
  the motors are on: then the endpoint simply times out and the robot settles and cuts).

Pure helpers (`level_name`, `status_summary`, `power_refusal`) are tested without a robot.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any, Protocol

from bosdyn.api import estop_pb2
from bosdyn.client import exceptions as bd_exc
from bosdyn.client import power as bd_power
from bosdyn.client.estop import (EstopClient, EstopEndpoint, EstopKeepAlive, MotorsOnError,
                                 StopLevel)

from .connection import SpotConnectionError

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
        return estop_pb2.EstopStopLevel.Name(int(level)).replace("ESTOP_LEVEL_", "")
    except ValueError:
        return "UNKNOWN"


def _seconds(duration) -> float:
    return duration.seconds + duration.nanos * 1e-9


def active_foreign_endpoints(status: estop_pb2.EstopSystemStatus, own_id: str | None = None) -> list[str]:
    """Names of endpoints other than ours that checked in within their timeout (alive holders)."""
    names = []
    for e in status.endpoints:
        ep = e.endpoint
        if own_id and ep.unique_id == own_id:
            continue
        if not e.HasField("time_since_valid_response") or _seconds(ep.timeout) <= 0:
            continue  # configured slot nobody registered
        if _seconds(e.time_since_valid_response) < _seconds(ep.timeout):
            names.append(ep.name or ep.unique_id or ep.role)
    return names


def status_summary(status: estop_pb2.EstopSystemStatus) -> str:
    """'CUT (Not all endpoints are registered); endpoints: tablet NONE, spot_bow_ros CUT'."""
    text = level_name(status.stop_level)
    if status.stop_level_details:
        text += f" ({status.stop_level_details})"
    eps = [f"{e.endpoint.name or e.endpoint.role or '?'} {level_name(e.stop_level)}" for e in status.endpoints]
    return text + ("; endpoints: " + ", ".join(eps) if eps else "; no endpoints configured")


def power_refusal(exc: BaseException, status: estop_pb2.EstopSystemStatus | None, own_name: str | None,
                  own_registered: bool, behavior_faults: list | None = None) -> str:
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
        faults = ", ".join(_fault_text(f) for f in (behavior_faults or [])) or "see the robot's fault state"
        return f"robot has a fault ({faults}): clear it (clear_behavior_fault) or inspect the robot"
    return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}".rstrip(": ")


def _fault_text(fault: Any) -> str:
    from bosdyn.api import robot_state_pb2
    BF = robot_state_pb2.BehaviorFault
    cause = BF.Cause.Name(fault.cause).replace("CAUSE_", "")
    status = BF.Status.Name(fault.status).replace("STATUS_", "").lower()
    return f"behavior fault {fault.behavior_fault_id} {cause}, {status}"


class _KeepAlive(EstopKeepAlive):
    """EstopKeepAlive whose first check-in (in the constructor) is at `level`, not NONE, so a
    re-established endpoint never silently releases a stop the user asked for."""

    def __init__(self, endpoint: EstopEndpoint, level: int, **kwargs):
        self._start_level = level
        super().__init__(endpoint, **kwargs)

    def _check_in(self, rpc_timeout=None):
        if self._start_level is not None:
            self._desired_stop_level, self._start_level = self._start_level, None
        super()._check_in(rpc_timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()


@dataclass(frozen=True)
class EstopResult:
    ok: bool
    text: str


class SoftwareEstop:
    """The package's E-Stop endpoint on one connection (see the module docstring).

    `timeout` (s): the robot settles then cuts when no check-in arrived for this long;
    `cut_power_timeout` (s, 0 = robot default timeout + ~4 s): then it cuts at once.
    """

    def __init__(self, connection: Any, logger: Logger, *, name: str = "spot_bow_ros",
                 timeout: float = 9.0, cut_power_timeout: float = 0.0, rpc_timeout: float = 2.0,
                 enabled: bool = True):
        if cut_power_timeout and cut_power_timeout < timeout:
            raise ValueError(f"estop_cut_power_timeout {cut_power_timeout:g} s is shorter than "
                             f"estop_timeout {timeout:g} s")
        self.connection = connection
        self.log = logger
        self.name = name
        self.timeout = float(timeout)
        self.cut_power_timeout = float(cut_power_timeout) or None
        self.rpc_timeout = rpc_timeout
        self._lock = threading.RLock()
        self._endpoint: EstopEndpoint | None = None
        self._keepalive: _KeepAlive | None = None
        self.desired = NONE
        self.enabled = enabled
        self.problem = "not set up" if enabled else "parameter estop: none"  # "" when registered
        self.last_status: estop_pb2.EstopSystemStatus | None = None
        self._closed = False
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

    def client(self) -> EstopClient:
        return self.connection.ensure_client(EstopClient.default_service_name)

    def get_status(self) -> estop_pb2.EstopSystemStatus | None:
        """The robot's E-Stop status (None if it does not answer); kept as `last_status`."""
        try:
            self.last_status = self.client().get_status(timeout=self.rpc_timeout)
        except (bd_exc.Error, SpotConnectionError):
            return None
        return self.last_status

    def summary(self) -> str:
        """One line for diagnostics: our endpoint and the robot's stop level."""
        ours = (f"software E-Stop '{self.name}' asks {level_name(self.desired)} (timeout {self.timeout:g} s)"
                if self.registered else f"no software E-Stop ({self.problem})")
        if self.registered and not self.keepalive_alive:
            ours += " - KEEP-ALIVE STOPPED"
        robot = status_summary(self.last_status) if self.last_status is not None else "unknown"
        return f"{ours}; robot: {robot}"

    # -- set-up -------------------------------------------------------------------------------
    def start(self) -> bool:
        """Register (unless somebody else holds the E-Stop) and check in at `desired`. True if
        our endpoint is registered; otherwise `problem` says why (logged once)."""
        with self._lock:
            if self._closed or not self.enabled:
                return False
            if self._keepalive is not None:
                return True
            try:
                client = self.client()
                status = client.get_status(timeout=self.rpc_timeout)
                self.last_status = status
                others = active_foreign_endpoints(status, own_id=None)
                if others:
                    return self._fail(f"E-Stop held by another endpoint ({', '.join(others)}); "
                                      "the software E-Stop stays off: stop and release the robot there")
                endpoint = EstopEndpoint(client, self.name, self.timeout,
                                         estop_cut_power_timeout=self.cut_power_timeout)
                endpoint.logger = logging.getLogger("spot_bow_ros.estop_keepalive")
                endpoint.force_simple_setup()   # GetConfig, SetConfig, Register, check-in at CUT
                self._keepalive = _KeepAlive(endpoint, self.desired, rpc_timeout_seconds=self.rpc_timeout)
                self._endpoint = endpoint
            except MotorsOnError:
                return self._fail("the motors are on and the robot only changes its E-Stop "
                                  "configuration with motors off: power off, then it is set up")
            except (bd_exc.Error, SpotConnectionError) as exc:
                return self._fail(f"E-Stop set-up failed: {type(exc).__name__}: {_first_line(exc)}")
            self.problem = ""
            self.log.info(f"software E-Stop '{self.name}' registered (timeout {self.timeout:g} s, "
                          f"cut power after {endpoint.estop_cut_power_timeout or 0:g} s), level "
                          f"{level_name(self.desired)}")
            self.get_status()
            return True

    def _fail(self, problem: str) -> bool:
        if problem != self.problem:
            self.log.warning(f"software E-Stop not registered: {problem}")
        self.problem = problem
        return False

    def _connection_up(self, robot: Any) -> None:
        """New channel after a reconnection: the endpoint goes on checking in over it."""
        with self._lock:
            if self._endpoint is not None:
                try:
                    self._endpoint.client = self.client()
                except Exception as exc:  # noqa: BLE001 - poll() re-registers if needed
                    self.log.warning(f"software E-Stop: no E-Stop client after reconnecting: {exc}")

    def poll(self) -> None:
        """Periodic check (diagnostics period): refresh the status; set up again if the robot
        forgot our endpoint or the keep-alive stopped; retry a set-up that could not run."""
        with self._lock:
            if self._closed:
                return
            ka = self._keepalive
            if ka is not None and not ka.alive:
                self.log.error("software E-Stop keep-alive stopped (robot no longer knows the endpoint?): "
                               "the robot settles and cuts power; setting it up again")
                self._keepalive, self._endpoint = None, None
                self.problem = "keep-alive stopped"
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
        with self._lock:
            self.desired = level
            if self._keepalive is None and not self.start():
                return EstopResult(False, f"{verb} failed: no software E-Stop ({self.problem})")
            ka = self._keepalive
            try:
                if level == CUT:
                    ka.stop()
                elif level == SETTLE_THEN_CUT:
                    ka.settle_then_cut()
                else:
                    ka.allow()
            except (bd_exc.Error, SpotConnectionError) as exc:
                return EstopResult(False, f"{verb} failed: {type(exc).__name__}: {_first_line(exc)} "
                                          f"(the keep-alive keeps asking {level_name(level)})")
        status = self.get_status()
        robot = f"; robot E-Stop {status_summary(status)}" if status is not None else ""
        return EstopResult(True, f"{verb}: {effect}{robot}")

    # -- shutdown -----------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop checking in and deregister (refused by the robot while motors are on: then the
        endpoint times out and the robot settles and cuts power, as it should). Idempotent."""
        with self._lock:
            self._closed = True
            ka, self._keepalive = self._keepalive, None
            endpoint, self._endpoint = self._endpoint, None
        if ka is None:
            return
        ka.shutdown()
        try:
            endpoint.deregister(timeout=self.rpc_timeout)
            self.log.info(f"software E-Stop '{self.name}' deregistered")
        except MotorsOnError:
            self.log.warning(f"software E-Stop '{self.name}' not deregistered (motors on): the robot "
                             f"settles and cuts power within {self.timeout:g} s")
        except (bd_exc.Error, SpotConnectionError) as exc:
            self.log.warning(f"software E-Stop '{self.name}' not deregistered ({type(exc).__name__}): "
                             f"it times out on the robot")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else ""
