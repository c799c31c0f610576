"""Spot robot commands from `convert.motor` commands: lease, power, stand/sit/stop, motion.

`SpotCommander` owns the body lease (acquired, kept alive by a `LeaseKeepAlive`, returned on
`release()`/`shutdown()`), powers the robot on/off, and sends every command through one
`RobotCommandClient`. The pure `build_*` functions (`spot.command_builders`, re-exported here)
turn `convert.motor` dataclasses into bosdyn `RobotCommand` protos.

Rules this module enforces:
- Every mobility command carries `MobilityParams` with the current body pose (height offset and
  footprint_R_body) and velocity limits: a mobility command without params resets the body.
  Arm/gripper-only samples are sent without a mobility command, so they leave walking and body
  pose untouched.
- Velocity commands end `cmd_duration` after the moment they are sent, on the ROBOT clock
  (converted with the connection's time sync); a stream that stops therefore stops the robot.
  POSITION_MODE goals become an SE2 trajectory in `odom` (goal = current odom pose composed with
  the relative goal), ending when a walk at the velocity limits would have arrived, plus margin.
- Losing the lease (keep-alive failure, lease errors on a command) or the robot (RPC errors)
  stops forwarding: `ready` turns false until `claim()` (lease) or `probe()` (robot) succeeds.
  A lease another client took (LeaseUseResult STATUS_OLDER, naming its owner) or the robot revoked
  (STATUS_REVOKED) sets `lease_taken` (the reason) and calls `on_lease_taken(reason)` (the
  supervisor latches it and says it); only an explicit `claim()` clears it. A lease of an older
  epoch (STATUS_WRONG_EPOCH: the robot restarted) is lost without `lease_taken`.
- `clear_behavior_faults()` sends ClearBehaviorFault for the CLEARABLE faults only and names the
  UNCLEARABLE ones it leaves.
- No bosdyn exception leaves `execute`/`send`/`stand`/...: a robot that answers with an error
  (also the `get_robot_state` a POSITION_MODE goal needs, or a time-sync error) becomes a failed
  `CommandResult` whose detail is one line `ErrorType: message`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from bosdyn.client import exceptions as bd_exc
from bosdyn.client import lease as bd_lease
from bosdyn.client import power as bd_power
from bosdyn.client import robot_command as bd_command
from bosdyn.client.frame_helpers import BODY_FRAME_NAME, ODOM_FRAME_NAME, get_se2_a_tform_b
from bosdyn.client.lease import LeaseClient, LeaseKeepAlive
from bosdyn.client.robot_command import RobotCommandBuilder, RobotCommandClient
from bosdyn.client.robot_state import RobotStateClient

from ..convert.motion import BodyPose, MotionLimits, MotorCommand, Se2Goal, VelocityCommand, describe
from .command_builders import (  # noqa: F401 - re-exported: the builders' tests use commander.*
    build_arm_command,
    build_gripper_command,
    build_se2_goal_command,
    build_stand_command,
    build_velocity_command,
    combine,
    goal_duration,
    mobility_params,
    odom_goal,
)
from .connection import SpotConnectionError


class CommanderError(Exception):
    """A Spot command could not be sent. `str(exc)` says what and why."""


class NotReady(CommanderError):
    """Forwarding is stopped: no lease, or the robot is not reachable."""


class Connection(Protocol):
    """What the commander uses of `spot.connection.SpotConnection`."""

    robot: Any

    def ensure_client(self, name: str) -> Any: ...

    def robot_timestamp(self, local_ns: int | None = None) -> Any: ...

    def resync_time(self, reason: str) -> bool: ...


class Logger(Protocol):
    def info(self, msg: str) -> None: ...
    def warning(self, msg: str) -> None: ...
    def error(self, msg: str) -> None: ...


@dataclass(frozen=True)
class CommandResult:
    """Outcome of one command RPC. `local_ns`: when it was sent (local clock)."""

    ok: bool
    what: str
    detail: str = ""
    command_id: int | None = None
    local_ns: int = 0

    def __str__(self) -> str:
        return f"{self.what}: {'ok' if self.ok else 'FAILED'}{' (' + self.detail + ')' if self.detail else ''}"


# ---------------------------------------------------------------------------------------------
# The commander
# ---------------------------------------------------------------------------------------------

_LEASE_ERRORS = (bd_exc.LeaseUseError, bd_lease.LeaseResponseError, bd_lease.Error)
#: The robot did not answer (or the connection is down and reconnecting).
_ROBOT_ERRORS = (bd_exc.RpcError, SpotConnectionError)


def _robot_error_text(exc: Exception) -> str:
    """One clear line for a bosdyn error: `Type: first line of its message`."""
    first = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


#: The start of a failed command's detail when the robot refused it for a behavior fault.
BEHAVIOR_FAULT_REFUSAL = "refused: the robot has a behavior fault"


def _lease_taken(exc: Exception) -> bool:
    """True when a lease error means another client holds the lease or the robot revoked ours
    (not: an older epoch after a robot restart)."""
    result = getattr(getattr(exc, "response", None), "lease_use_result", None)
    if result is not None and result.status:
        return result.status != result.STATUS_WRONG_EPOCH
    state = getattr(exc, "lease_state", None)   # LeaseNotOwnedByWallet: what the wallet learnt
    status = getattr(state, "lease_status", None)
    return status in (bd_lease.LeaseState.Status.OTHER_OWNER, bd_lease.LeaseState.Status.REVOKED)


def _lease_error_text(exc: Exception) -> str:
    """Lease errors with the robot's LeaseUseResult status and owner, when there is one."""
    text = f"{type(exc).__name__}"
    response = getattr(exc, "response", None)
    result = getattr(response, "lease_use_result", None)
    if result is not None and result.status:
        text += f" {result.DESCRIPTOR.fields_by_name['status'].enum_type.values_by_number[result.status].name}"
        if result.owner.client_name:
            text += f" (held by {result.owner.client_name})"
    elif str(exc):
        text += f": {exc}"
    return text


class SpotCommander:
    """Sends Spot commands over one connection; see the module docstring for the rules."""

    def __init__(self, connection: Connection, logger: Logger, *, limits: MotionLimits,
                 cmd_duration: float = 0.6, take_lease: bool = False, rpc_timeout: float = 2.0,
                 clock_ns: Callable[[], int] = time.time_ns):
        self.connection = connection
        self.log = logger
        self.limits = limits
        self.cmd_duration = float(cmd_duration)
        self.take_lease = take_lease
        self.rpc_timeout = rpc_timeout
        self._clock_ns = clock_ns
        self._lock = threading.RLock()
        self._keepalive: LeaseKeepAlive | None = None
        self._lease_client: LeaseClient | None = None
        self._command_client: RobotCommandClient | None = None
        self._state_client: RobotStateClient | None = None
        self.lease_held = False
        self.last_state: Any = None  # the RobotState of the last probe (status topics)
        self.lease_lost_reason = ""
        #: why another client took our lease or the robot revoked it ("" if not): latched until claim()
        self.lease_taken = ""
        self.on_lease_taken: Callable[[str], None] | None = None
        #: behavior_fault_ids this commander cleared (a robot state read before the clear may list them)
        self.cleared_fault_ids: set[int] = set()
        self.robot_ok = True
        self.robot_error = ""
        self.powered: bool | None = None
        self.last_result: CommandResult | None = None
        self.on_lost: Callable[[str], None] | None = None  # called once when forwarding stops
        #: exc -> one line saying why the robot refused power-on and what to do (spot.estop).
        self.explain_power_refusal: Callable[[Exception], str] | None = None
        self._closed = False
        self._lease = None          # the bosdyn Lease we hold (kept across reconnections)
        self._released = True       # released on purpose (no automatic resume)
        if hasattr(connection, "on_disconnected"):
            connection.on_disconnected(self._connection_lost)
        if hasattr(connection, "on_connected"):
            connection.on_connected(self._connection_up)

    # -- clients ---------------------------------------------------------------------------
    def _client(self, attr: str, name: str):
        client = getattr(self, attr)
        if client is None:
            client = self.connection.ensure_client(name)
            setattr(self, attr, client)
        return client

    @property
    def command_client(self) -> RobotCommandClient:
        return self._client("_command_client", RobotCommandClient.default_service_name)

    @property
    def lease_client(self) -> LeaseClient:
        return self._client("_lease_client", LeaseClient.default_service_name)

    @property
    def state_client(self) -> RobotStateClient:
        return self._client("_state_client", RobotStateClient.default_service_name)

    @property
    def ready(self) -> bool:
        """True when commands may be forwarded: lease held and robot reachable."""
        return self.lease_held and self.robot_ok

    # -- lease -----------------------------------------------------------------------------
    def claim(self, take: bool | None = None) -> None:
        """Acquire (or take: `take`, default the take_lease policy) the body lease and keep it
        alive. Automatic re-claims pass take=False: a lease the tablet took is never taken back."""
        take = self.take_lease if take is None else take
        with self._lock:
            if self._closed:
                raise CommanderError("the commander is shut down")
            if self.lease_held:
                return
            self._stop_keepalive(return_lease=False)
            try:
                lease = self.lease_client.take() if take else self.lease_client.acquire()
            except bd_lease.ResourceAlreadyClaimedError as exc:
                owner = getattr(getattr(exc, "response", None), "lease_owner", None)
                who = f"'{owner.client_name}'" if owner is not None and owner.client_name else "(tablet?)"
                raise CommanderError(f"the body lease is held by another client {who}: send take_lease to "
                                     "take it (operator decision) or release it there") from None
            except _ROBOT_ERRORS as exc:
                self._robot_failed(exc)
                raise CommanderError(f"could not acquire the body lease: {exc}") from None
            except (bd_exc.Error, bd_lease.Error) as exc:
                raise CommanderError(f"could not acquire the body lease: {exc}") from None
            self._lease = lease
            self._released = False
            self._start_keepalive()
            self.lease_held = True
            self.lease_lost_reason = ""
            self.lease_taken = ""
            self.robot_ok = True
            self.log.info(f"body lease acquired (sequence {list(lease.lease_proto.sequence)})")

    def _start_keepalive(self) -> None:
        self._keepalive = LeaseKeepAlive(self.lease_client, must_acquire=False, return_at_exit=False,
                                         on_failure_callback=self._keepalive_failed, warnings=False,
                                         rpc_interval_seconds=1.0)

    def release(self) -> None:
        """Stop the keep-alive and return the lease to the robot."""
        with self._lock:
            self._stop_keepalive(return_lease=True)

    def _stop_keepalive(self, return_lease: bool) -> None:
        keepalive, self._keepalive = self._keepalive, None
        if keepalive is not None:
            keepalive.shutdown()
        if return_lease:
            self._released = True
            self._lease = None
            if self.lease_held:
                self.lease_held = False
                try:
                    lease = self.lease_client.lease_wallet.get_lease()
                    self.lease_client.return_lease(lease, timeout=self.rpc_timeout)
                    self.log.info("body lease returned")
                except (bd_exc.Error, bd_lease.Error, SpotConnectionError) as exc:
                    self.log.warning(f"could not return the body lease: {exc}")
        self.lease_held = False

    # -- connection loss and recovery --------------------------------------------------------
    def _connection_lost(self) -> None:
        """Forwarding stops. The lease keep-alive goes on over the old channel (kept open by the
        connection until the new one is up: the robot keeps seeing our lease) and is replaced in
        `_connection_up`."""
        with self._lock:
            self._command_client = self._lease_client = self._state_client = None
        self._robot_failed(SpotConnectionError("connection to the robot lost"))

    def _connection_up(self, robot: Any) -> None:
        """(Re)connected: fresh clients; the lease we held goes into the new wallet and a new
        keep-alive retains it over the new channel (the old one is stopped; if the robot revoked
        the lease meanwhile, the first command or retain fails and the lease counts as lost). The
        lease carried over is the old wallet's newest (its sub-lease is what the robot accepts)."""
        with self._lock:
            self._command_client = self._lease_client = self._state_client = None
            was_down = not self.robot_ok
            self.robot_ok = True
            self.robot_error = ""
            old, self._keepalive = self._keepalive, None
            if self._lease is not None and not self._released and self.lease_held:
                try:
                    if old is not None:   # the newest lease we used (commands advance it), not the
                        self._lease = old.lease_wallet.get_lease()   # acquired one: that is OLDER now
                    robot.lease_wallet.add(self._lease)
                    self._start_keepalive()
                except Exception as exc:  # noqa: BLE001 - any failure means: claim again
                    self.lease_held = False
                    self.lease_lost_reason = f"could not resume the lease after reconnecting: {exc}"
        if old is not None:
            threading.Thread(target=old.shutdown, daemon=True).start()
            if self._keepalive is not None:
                self.log.info("body lease keep-alive moved to the new connection")
        if was_down:
            self.log.info("robot connection back: command forwarding resumes")

    def _keepalive_failed(self, exc: Exception) -> None:
        if isinstance(exc, _ROBOT_ERRORS):
            self._robot_failed(exc)
        elif self._lease_really_lost(exc):
            self._lease_lost(f"{_lease_error_text(exc)} on the lease keep-alive", _lease_taken(exc))

    def _lease_really_lost(self, exc: Exception) -> bool:
        """False for the benign race of a keep-alive (or command) carrying a lease the wallet has
        already advanced past (STATUS_OLDER against our own newer lease), as bosdyn's LeaseWallet
        treats it; True when the robot knows a lease that is not ours."""
        result = getattr(getattr(exc, "response", None), "lease_use_result", None)
        if result is None or result.status != result.STATUS_OLDER:
            return True
        try:
            current = self.lease_client.lease_wallet.get_lease()
        except (bd_lease.Error, SpotConnectionError):
            return True  # the wallet already knows another owner
        latest = bd_lease.Lease(result.latest_known_lease)
        if not latest.is_valid_lease():
            return True
        return current.compare(latest) not in (bd_lease.Lease.CompareResult.NEWER,
                                               bd_lease.Lease.CompareResult.SAME)

    def _lease_lost(self, reason: str, taken: bool = False) -> None:
        """Forwarding stops; `taken` (another client holds it, or revoked): `lease_taken` is set and
        `on_lease_taken` says it (one line), else one line here."""
        with self._lock:
            if not self.lease_held:
                return
            self.lease_held = False
            if taken and "held by" not in reason:   # the robot's answer did not name the holder
                owner = self.body_lease_owner()
                reason += f" (the lease service names '{owner}' as holder)" if owner else ""
            self.lease_lost_reason = reason
            if taken:
                self.lease_taken = reason
            keepalive, self._keepalive = self._keepalive, None
        if keepalive is not None:
            threading.Thread(target=keepalive.shutdown, daemon=True).start()  # may be its own thread
        if self.on_lost:
            self.on_lost(reason)
        if taken and self.on_lease_taken is not None:
            self.on_lease_taken(reason)
        else:
            self.log.error(f"body lease lost ({reason}): command forwarding stopped until the lease is "
                           "claimed again")

    def _robot_failed(self, exc: Exception) -> None:
        was_ok, self.robot_ok = self.robot_ok, False
        self.robot_error = str(exc) or type(exc).__name__
        if was_ok:
            self.log.error(f"robot not reachable ({type(exc).__name__}: {self.robot_error}): "
                           f"command forwarding stopped until it answers again")
            if self.on_lost:
                self.on_lost(self.robot_error)

    def probe(self) -> bool:
        """One robot-state RPC: updates `powered` and `robot_ok`. Returns robot_ok."""
        try:
            state = self.state_client.get_robot_state(timeout=self.rpc_timeout)
        except (bd_exc.Error, SpotConnectionError) as exc:
            self._robot_failed(exc)
            return False
        self.powered = state.power_state.motor_power_state == state.power_state.STATE_ON
        self.last_state = state
        if not self.robot_ok:
            self.log.info("robot answers again: command forwarding resumes")
        self.robot_ok = True
        return True

    def body_lease_owner(self) -> str | None:
        """Client name holding the body lease per the lease service (None: free or unknown)."""
        try:
            for resource in self.lease_client.list_leases(timeout=self.rpc_timeout):
                if resource.resource == "body":
                    return resource.lease_owner.client_name or None
        except (bd_exc.Error, SpotConnectionError):
            return None
        return None

    # -- power -----------------------------------------------------------------------------
    def power_on(self, timeout_s: float = 20.0) -> CommandResult:
        """Power on; a refusal (E-Stop, keep-alive policy, fault) has detail "refused: <why, what
        to do>" (see `explain_power_refusal`)."""
        return self._call("power on", lambda: self.connection.robot.power_on(timeout_sec=timeout_s),
                          powered=True)

    def clear_behavior_faults(self) -> CommandResult:
        """ClearBehaviorFault for every CLEARABLE behavior fault in the robot state; UNCLEARABLE
        ones are named, not sent. ok: no fault is left (`detail` names what was cleared / left)."""
        now = self._clock_ns()
        if not self.ready:
            return self._call("clear behavior faults", lambda: None, powered=None)
        try:
            faults = list(self.state_client.get_robot_state(timeout=self.rpc_timeout).behavior_fault_state.faults)
        except _ROBOT_ERRORS as exc:
            self._robot_failed(exc)
            return self._record(CommandResult(False, "clear behavior faults", f"{type(exc).__name__}: {exc}",
                                              local_ns=now))
        except bd_exc.Error as exc:
            return self._record(CommandResult(False, "clear behavior faults", _robot_error_text(exc), local_ns=now))
        if not faults:
            return self._record(CommandResult(True, "clear behavior faults", "no active behavior fault", local_ns=now))
        cleared, kept = [], []
        for fault in faults:
            name = f"{fault.behavior_fault_id} {fault.Cause.Name(fault.cause).replace('CAUSE_', '')}"
            if fault.status == fault.STATUS_UNCLEARABLE:
                kept.append(f"{name} (unclearable: inspect the robot)")
                continue
            try:
                self.command_client.clear_behavior_fault(fault.behavior_fault_id, timeout=self.rpc_timeout)
                cleared.append(name)
                self.cleared_fault_ids.add(fault.behavior_fault_id)
            except _LEASE_ERRORS as exc:
                if self._lease_really_lost(exc):
                    self._lease_lost(f"{_lease_error_text(exc)} on clear behavior fault", _lease_taken(exc))
                kept.append(f"{name} (lease: {_lease_error_text(exc)})")
            except _ROBOT_ERRORS as exc:
                self._robot_failed(exc)
                kept.append(f"{name} ({type(exc).__name__})")
            except bd_exc.Error as exc:
                kept.append(f"{name} ({type(exc).__name__})")
        detail = "; ".join(t for t in (f"cleared {', '.join(cleared)}" if cleared else "",
                                       f"NOT cleared {', '.join(kept)}" if kept else "") if t)
        return self._record(CommandResult(not kept, "clear behavior faults", detail, local_ns=now))

    def power_off(self, timeout_s: float = 20.0) -> CommandResult:
        """Safe power off: Spot sits down first, then cuts motor power."""
        return self._call("power off", lambda: self.connection.robot.power_off(
            cut_immediately=False, timeout_sec=timeout_s), powered=False)

    # -- motion ----------------------------------------------------------------------------
    def stand(self, body: BodyPose) -> CommandResult:
        return self.send(build_stand_command(body, self.limits), "stand")

    def sit(self) -> CommandResult:
        return self.send(RobotCommandBuilder.synchro_sit_command(), "sit")

    def stop(self) -> CommandResult:
        return self.send(RobotCommandBuilder.stop_command(), "stop")

    def end_time(self, seconds_ahead: float, local_ns: int | None = None):
        """google.protobuf.Timestamp `seconds_ahead` after `local_ns`, on the ROBOT clock."""
        local = self._clock_ns() if local_ns is None else local_ns
        return self.connection.robot_timestamp(local + int(seconds_ahead * 1e9))

    def execute(self, cmd: MotorCommand, body: BodyPose, body_changed: bool) -> CommandResult | None:
        """Send what `cmd` asks (already limited) with the body pose `body`. Returns None when
        there is nothing to send. `body_changed`: `body` differs from what Spot holds now."""
        now = self._clock_ns()
        if not self.ready:
            return self.send(None, describe(cmd), now)
        try:
            command = self._build(cmd, body, body_changed, now)
        except _ROBOT_ERRORS as exc:  # no time sync / robot state while the connection is down
            self._robot_failed(exc)
            return self._record(CommandResult(False, describe(cmd), f"{type(exc).__name__}: {exc}", local_ns=now))
        except bd_exc.Error as exc:  # the robot answered with an error (e.g. get_robot_state for a goal)
            return self._record(CommandResult(False, describe(cmd), _robot_error_text(exc), local_ns=now))
        if isinstance(command, CommandResult):
            return self._record(command)
        if command is None:
            return None
        return self.send(command, describe(cmd), now)

    def _build(self, cmd: MotorCommand, body: BodyPose, body_changed: bool, now: int):
        """The RobotCommand for `cmd` (None: nothing to send; CommandResult: cannot build)."""
        mobility = None
        loc = cmd.locomotion
        if isinstance(loc, VelocityCommand):
            mobility = build_velocity_command(loc, body, self.limits, self.end_time(self.cmd_duration, now))
        elif isinstance(loc, Se2Goal):
            state = self.state_client.get_robot_state(timeout=self.rpc_timeout)
            odom_tform_body = get_se2_a_tform_b(state.kinematic_state.transforms_snapshot,
                                                ODOM_FRAME_NAME, BODY_FRAME_NAME)
            if odom_tform_body is None:
                return CommandResult(False, describe(cmd), "no odom->body transform in robot state", local_ns=now)
            goal = odom_goal(loc, odom_tform_body)
            mobility = build_se2_goal_command(goal, body, self.limits,
                                              self.end_time(goal_duration(loc, self.limits), now))
        elif body_changed:
            mobility = build_stand_command(body, self.limits)
        arm = build_arm_command(cmd.arm) if cmd.arm is not None else None
        gripper = build_gripper_command(cmd.gripper) if cmd.gripper is not None else None
        return combine(mobility, arm, gripper)

    def send(self, command, what: str, local_ns: int | None = None) -> CommandResult:
        """Send one RobotCommand (end times already set). Raises nothing; returns the result."""
        now = self._clock_ns() if local_ns is None else local_ns

        def refused(exc: Exception) -> str | None:
            if isinstance(exc, bd_command.BehaviorFaultError):
                return f"{BEHAVIOR_FAULT_REFUSAL}: call clear_behavior_fault"
            return None  # the robot answered and refused (not powered, expired, ...): its own text

        with self._lock:
            return self._guarded(what, now,
                                 lambda: self.command_client.robot_command(command, timeout=self.rpc_timeout),
                                 lambda command_id: CommandResult(True, what, command_id=command_id, local_ns=now),
                                 refused)

    def _call(self, what: str, fn: Callable[[], Any], powered: bool | None) -> CommandResult:
        """A power call (`fn`); on success the motors are `powered` (None: unchanged)."""
        now = self._clock_ns()

        def refused(exc: Exception) -> str | None:
            if not isinstance(exc, bd_power.PowerResponseError):
                return None  # power errors, timeouts (bosdyn raises several kinds): their own text
            explain = self.explain_power_refusal  # the robot refused (E-Stop, keep-alive, fault)
            detail = explain(exc) if explain is not None else f"{type(exc).__name__}: {exc}"
            if powered:
                self.powered = False   # a refused power-on leaves the motors off
            return f"refused: {detail}"

        def succeeded(_: Any) -> CommandResult:
            if powered is not None:
                self.powered = powered
            return CommandResult(True, what, local_ns=now)

        return self._guarded(what, now, fn, succeeded, refused)

    def _guarded(self, what: str, now: int, fn: Callable[[], Any], succeeded: Callable[[Any], CommandResult],
                 refused: Callable[[Exception], str | None], resend_stop: bool = True) -> CommandResult:
        """The one place a robot call meets the lease and robot-error handling: not sent without
        the lease and a healthy robot; a lost lease or a robot failure updates the state; any other
        error becomes a failed result (`refused(exc)` may word it). Records and returns the result.

        NoTimeSyncError (the robot does not know our clock: it restarted) re-syncs time at once
        (`SpotConnection.resync_time`, which also has a restarted robot reconnected) and says so in
        one warning line. A motion command is NOT re-sent: its end time was computed on the old
        clock and it would arrive late; the next command of the stream goes out on the new clock.
        A stop ("stop") is re-sent once after the re-sync (`resend_stop`): a late stop still stops."""
        if not self.ready:
            reason = self.lease_lost_reason or ("no body lease" if not self.lease_held else self.robot_error)
            return self._record(CommandResult(False, what, f"not forwarded: {reason}", local_ns=now))
        try:
            value = fn()
        except _LEASE_ERRORS as exc:
            if self._lease_really_lost(exc):
                where = what if what in ("power on", "power off") else "a command"
                self._lease_lost(f"{_lease_error_text(exc)} on {where}", _lease_taken(exc))
            return self._record(CommandResult(False, what, f"lease: {_lease_error_text(exc)}", local_ns=now))
        except _ROBOT_ERRORS as exc:
            self._robot_failed(exc)
            return self._record(CommandResult(False, what, f"{type(exc).__name__}: {exc}", local_ns=now))
        except bd_command.NoTimeSyncError as exc:
            synced = self.connection.resync_time(f"a {what} command refused for no time sync")
            again = resend_stop and synced and what == "stop"
            done = "re-synced" if synced else "re-sync failed"
            self.log.warning(f"{what}: the robot has no time sync with us (NoTimeSyncError); time {done}; "
                             f"{'re-sending' if again else 'not re-sent'}")
            if again:
                return self._guarded(what, now, fn, succeeded, refused, resend_stop=False)
            return self._record(CommandResult(False, what, f"NoTimeSyncError: {exc} (not re-sent)", local_ns=now))
        except Exception as exc:  # noqa: BLE001 - every failure of a robot call becomes a result
            detail = refused(exc) or f"{type(exc).__name__}: {exc}"
            return self._record(CommandResult(False, what, detail, local_ns=now))
        return self._record(succeeded(value))

    def _record(self, result: CommandResult) -> CommandResult:
        self.last_result = result
        return result

    # -- shutdown --------------------------------------------------------------------------
    def shutdown(self, stop: bool = True) -> None:
        """Stop motion (if we hold the lease) and return the lease; no claim() afterwards."""
        with self._lock:
            self._closed = True
        if stop and self.ready and self.powered is not False:
            result = self.stop()
            if not result.ok:
                self.log.warning(f"stop on shutdown failed: {result.detail}")
        self.release()
