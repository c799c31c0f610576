"""motor_command: BOW MotorSamples and cmd_vel from ROS topics -> safe Spot robot commands.

Topics (all keep-last 1, so stale commands never pile up):
- `motor_command` (std_msgs/String): a BOW MotorSample as protobuf JSON (`ros2 topic pub`).
- `motor_command/binary` (std_msgs/UInt8MultiArray): a binary MotorSample (BOW clients).
- `cmd_vel` (geometry_msgs/Twist): REP 103 body axes, same locomotion path.
- `motor_command/control` (std_msgs/String): verbs enable_motion, disable_motion, claim,
  release, power_on, power_off, stand, sit, stop, and the E-Stop verbs estop_hard (cut motor
  power at once), estop_gentle (sit, then cut), estop_release (allow power-on again),
  clear_behavior_fault (clear every active behavior fault).
- services (std_srvs/Trigger, relative to the namespace, spot_ros2's names): `claim`, `release`,
  `power_on`, `power_off`, `stand`, `sit`, `stop`, `estop/hard`, `estop/gentle`,
  `estop/release`, `clear_behavior_fault`; `enable_motion` (std_srvs/SetBool). Each runs the
  same verb as the control topic (`SERVICE_VERBS`); `success`/`message` say what happened.
- live parameters: the limits, `cmd_timeout` and `cmd_duration` (`ros2 param set`); the others
  are read-only once running.
- publishes `diagnostics` (diagnostic_msgs/DiagnosticArray): lease, power, E-Stop, motion
  enabled, last command and result, counts; and from the RobotState of each probe (one RPC per
  `diagnostics_period`): power, E-Stop endpoints, lease owner, system/service faults with
  severity, behavior faults (clearable?), WiFi, feet contact/terrain (`convert.robot_status`).
- publishes `battery` (sensor_msgs/BatteryState) per Spot battery, each diagnostics period.
- `bow_messages: sdk_v1` (`/**`): the two MotorSample topics carry the BOW SDK's messages v1
  instead (`nodes.bow_v1`, docs/bow.md); limits, gate and expiry are the same.

E-Stop (parameter `estop`, see `spot.estop` and docs/estop.md): a real Spot refuses power-on
until an E-Stop endpoint allows it. `software` (default) registers this bridge as the robot's
E-Stop at start-up (only with motors off, and never over a live tablet E-Stop) and keeps it
alive: `spot-bow-ros run` powers on out of the box against the simulator, and so does a real
robot without a tablet. If this process dies or hangs, the robot sits and cuts power within
`estop_timeout`. On exit the bridge stops, powers off (sit, then cut) and deregisters. `none`:
somebody else (tablet) must hold the E-Stop. A refused power-on logs one line naming the cause
(E-Stop and who holds it, keep-alive policy, fault) and what to do; with `auto_power_on` the
node then exits (status 1).

Safety: nothing moves until motion is enabled (parameter `enable_motion` or the
`enable_motion` verb; `stop`, `sit`, `power_off`, `release` and the E-Stop verbs are always
allowed). Every sample is validated whole (NaN/inf/unknown enums rejected: one log line, nothing sent), converted by
`convert.motor`, clamped to the limits (one warning per clamping episode per part), and sent by
`spot.commander` with robot-clock expiry `cmd_duration` ahead; a refused command logs one line
(the same refusal again is counted in diagnostics, not logged). Parts of a sample that Spot
cannot use (e.g. a vertical locomotion component, a disabled end effector) are ignored with a
warning, once per kind of note for the node's lifetime. The watchdog sends a stop when a
velocity stream stops for `cmd_timeout`. Losing the lease or the robot stops forwarding until
recovered (`claim` verb / automatic re-claim with `auto_claim`, robot probe every diagnostics
period). The automatic re-claim only acquires (a free or stale lease), even with `take_lease`:
a lease the tablet took is not taken back behind the operator's back. Recording/playback: see `spot_bow_ros.nodes.motion_recording`.
"""

from __future__ import annotations

import math
import re
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..bow import bow_data_pb2 as bow
from ..bow.frames import AxisConvention
from ..convert import motor, robot_status
from ..convert.motor import (BodyPose, Clamp, InvalidMotorSample, LocomotionMode, MotionLimits,
                             MotorCommand, MotorConfig, VelocityCommand)
from .motion_recording import MotionPlayer, MotionRecorder, RecordingError, load_recording
from ..ros.node_api import NodeHandle, header
from ..ros.params import ParamSpec, ParameterError
from ..ros.qos import COMMAND, DEFAULT
from ..spot.commander import CommanderError, CommandResult, SpotCommander
from ..spot.estop import ESTOP_MODES, SoftwareEstop, level_name, power_refusal
from .bow_v1 import MotorV1Handler


NODE_NAME = "motor_command"
CONTROL_VERBS = ("enable_motion", "disable_motion", "claim", "release", "power_on", "power_off",
                 "stand", "sit", "stop", "estop_hard", "estop_gentle", "estop_release",
                 "clear_behavior_fault")
#: Verbs that make Spot move and therefore need motion enabled.
_MOTION_VERBS = {"stand"}
#: std_srvs/Trigger service (relative name) -> control verb. Verbs this build lacks answer
#: success=False naming the verb.
SERVICE_VERBS = {
    "claim": "claim", "release": "release", "power_on": "power_on", "power_off": "power_off",
    "stand": "stand", "sit": "sit", "stop": "stop", "estop/hard": "estop_hard",
    "estop/gentle": "estop_gentle", "estop/release": "estop_release",
    "clear_behavior_fault": "clear_behavior_fault",
}
#: Outcome statuses that mean the verb did what it was asked.
_SUCCESS = {"sent", "control"}

_DEFAULT_LIMITS = MotionLimits()

MOTOR_PARAMS: list[ParamSpec] = [
    ParamSpec("enable_motion", False, "Allow motion from start-up (else send the enable_motion verb)"),
    ParamSpec("auto_claim", True, "Acquire the body lease at start-up and after losing it"),
    ParamSpec("take_lease", False, "Take the lease at start-up and on the claim verb even if another "
              "client (tablet) holds it; a lease lost later is never taken back automatically"),
    ParamSpec("auto_power_on", False, "Power the motors on at start-up"),
    ParamSpec("auto_stand", False, "Stand up at start-up (needs enable_motion and power)"),
    ParamSpec("estop", "software", "E-Stop: software = this bridge registers as the robot's E-Stop "
              "endpoint (needed to power on without a tablet; the robot stops if the bridge dies); "
              "none = somebody else (tablet) holds it", choices=ESTOP_MODES),
    ParamSpec("estop_timeout", 9.0, "Software E-Stop: the robot sits and cuts power when the bridge "
              "has not checked in for this long (s)", min=1.0, max=60.0),
    ParamSpec("estop_cut_power_timeout", 0.0, "Software E-Stop: cut power at once after this long "
              "without check-in (s; 0 = robot default, about estop_timeout + 4)", min=0.0, max=120.0),
    ParamSpec("cmd_duration", 0.6, "Velocity command lifetime on the robot (s)", min=0.05, max=5.0, live=True),
    ParamSpec("cmd_timeout", 0.5, "Watchdog: stop when velocity commands stop for this long (s)",
              min=0.05, max=10.0, live=True),
    ParamSpec("max_linear_velocity", _DEFAULT_LIMITS.max_linear_velocity, "Planar speed limit (m/s)",
              min=0.0, max=motor.SPOT_MAX_LINEAR_VELOCITY, live=True),
    ParamSpec("max_angular_velocity", _DEFAULT_LIMITS.max_angular_velocity, "Yaw rate limit (rad/s)",
              min=0.0, max=motor.SPOT_MAX_ANGULAR_VELOCITY, live=True),
    ParamSpec("min_body_height", _DEFAULT_LIMITS.min_body_height, "Lowest body height offset (m)",
              min=motor.SPOT_BODY_HEIGHT_RANGE[0], max=motor.SPOT_BODY_HEIGHT_RANGE[1], live=True),
    ParamSpec("max_body_height", _DEFAULT_LIMITS.max_body_height, "Highest body height offset (m)",
              min=motor.SPOT_BODY_HEIGHT_RANGE[0], max=motor.SPOT_BODY_HEIGHT_RANGE[1], live=True),
    ParamSpec("max_body_roll", _DEFAULT_LIMITS.max_body_roll, "Body roll limit (rad)", min=0.0,
              max=motor.SPOT_BODY_ANGLE_MAX, live=True),
    ParamSpec("max_body_pitch", _DEFAULT_LIMITS.max_body_pitch, "Body pitch limit (rad)", min=0.0,
              max=motor.SPOT_BODY_ANGLE_MAX, live=True),
    ParamSpec("max_body_yaw", _DEFAULT_LIMITS.max_body_yaw, "Body yaw limit (rad)", min=0.0,
              max=motor.SPOT_BODY_ANGLE_MAX, live=True),
    ParamSpec("max_goal_distance", _DEFAULT_LIMITS.max_goal_distance, "POSITION_MODE step limit (m)",
              min=0.0, max=20.0, live=True),
    ParamSpec("max_goal_yaw", _DEFAULT_LIMITS.max_goal_yaw, "POSITION_MODE turn limit (rad)", min=0.0,
              max=2 * math.pi, live=True),
    ParamSpec("max_arm_reach", _DEFAULT_LIMITS.max_arm_reach, "Arm goals farther are rejected (m)",
              min=0.1, max=3.0, live=True),
    ParamSpec("min_move_duration", _DEFAULT_LIMITS.min_move_duration, "Fastest arm move (s)", min=0.05,
              max=60.0, live=True),
    ParamSpec("max_move_duration", _DEFAULT_LIMITS.max_move_duration, "Slowest arm move (s)", min=0.05,
              max=600.0, live=True),
    ParamSpec("default_move_duration", 2.0, "Arm move duration without MovementDurationMs (s)",
              min=0.05, max=600.0),
    ParamSpec("nominal_body_height", 0.52, "Spot's nominal stand height above the floor (m); "
              "OperatingHeight is relative to it", min=0.2, max=1.0),
    ParamSpec("axis_convention", "bow_documented", "BOW axes: bow_documented (X right, Y up, "
              "Z forward) or ros (X forward, Y left, Z up)", choices=("bow_documented", "ros")),
    ParamSpec("default_locomotion_mode", "velocity", "Mode for UNKNOWN_LOCOMOTION_MODE",
              choices=("velocity", "position")),
    ParamSpec("has_arm", True, "Spot has an arm (EndEffectors are skipped otherwise)"),
    ParamSpec("recordings_dir", "~/.local/share/spot_bow_ros/recordings",
              "Directory of MotorArray recordings (<name>.motorarray)"),
    ParamSpec("default_recording_name", "recording", "Recording name when PlaybackActionName is empty"),
    ParamSpec("diagnostics_period", 1.0, "Diagnostics publishing and robot probe period (s)",
              min=0.05, max=60.0),
]


def limits_from_params(values: dict[str, Any]) -> MotionLimits:
    names = [f for f in MotionLimits.__dataclass_fields__]
    try:
        return MotionLimits(**{n: values[n] for n in names if n in values})
    except ValueError as exc:
        raise ParameterError(str(exc)) from None


def config_from_params(values: dict[str, Any]) -> MotorConfig:
    return MotorConfig(
        convention=AxisConvention.ROS if values["axis_convention"] == "ros" else AxisConvention.BOW_DOCUMENTED,
        nominal_body_height=values["nominal_body_height"], has_arm=values["has_arm"],
        default_locomotion_mode=LocomotionMode(values["default_locomotion_mode"]),
        default_move_duration=values["default_move_duration"])


class PowerOnRefused(RuntimeError):
    """auto_power_on was asked and the robot refused (E-Stop, keep-alive policy, fault)."""


@dataclass(frozen=True)
class Outcome:
    """What happened to one input: status is one of sent, failed, rejected, disabled,
    not_ready, nothing, playback, control."""

    status: str
    detail: str = ""
    result: CommandResult | None = None


class _Throttle:
    """Token bucket for log lines: bursts of `burst` lines, then `rate` per second; the next
    line logged says how many were suppressed (a flood of bad input must not flood the log)."""

    def __init__(self, rate: float = 5.0, burst: int = 20):
        self.rate, self.burst = rate, float(burst)
        self.tokens = float(burst)
        self.last = time.monotonic()
        self.suppressed = 0

    def ready(self) -> tuple[bool, int]:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            n, self.suppressed = self.suppressed, 0
            return True, n
        self.suppressed += 1
        return False, 0


class MotorCommandBridge:
    """The motor_command node: inputs -> validation -> limits -> SpotCommander."""

    def __init__(self, node: NodeHandle, commander: SpotCommander | None = None,
                 connection: Any = None, params: list[ParamSpec] | None = None):
        self.node = node
        self.log = node.get_logger()
        if params is None:
            from ..spot.connection import CONNECTION_PARAMS
            params = list(CONNECTION_PARAMS) + MOTOR_PARAMS
        values = node.declare_parameters(params)
        self.values = values
        # bow_messages (documented | sdk_v1): checked before touching the robot
        self.v1 = MotorV1Handler.create(self, node, values)
        self.limits = limits_from_params(values)
        self.config = config_from_params(values)
        self.cmd_timeout = values["cmd_timeout"]
        self._owns_connection = False
        if commander is None:
            if connection is None:
                from ..spot.connection import ConnectionConfig, SpotConnection, SpotConnectionError
                connection = SpotConnection.shared(ConnectionConfig.from_params(values), self.log)
                self._owns_connection = True
                try:
                    connection.connect()  # start-up policy of every bridge: fail fast, one line
                except SpotConnectionError:
                    connection.shutdown()
                    raise
            commander = SpotCommander(connection, self.log, limits=self.limits,
                                      cmd_duration=values["cmd_duration"], take_lease=values["take_lease"])
        self.connection = connection
        self.commander = commander
        commander.on_lost = self._on_forwarding_lost
        self.estop: SoftwareEstop | None = None
        if connection is not None:
            try:
                self.estop = SoftwareEstop(connection, self.log,
                                           name=str(values.get("client_name") or "spot_bow_ros"),
                                           timeout=values["estop_timeout"],
                                           cut_power_timeout=values["estop_cut_power_timeout"],
                                           enabled=values["estop"] == "software")
            except ValueError as exc:
                raise ParameterError(str(exc)) from None
        commander.explain_power_refusal = self._explain_power_refusal
        self._lock = threading.RLock()
        self.motion_enabled = bool(values["enable_motion"])
        self.auto_claim = bool(values["auto_claim"])
        self.body = BodyPose()
        self.counts = {"received": 0, "sent": 0, "failed": 0, "rejected": 0, "dropped_disabled": 0,
                       "dropped_not_ready": 0, "clamped": 0, "watchdog_stops": 0, "playbacks": 0,
                       "recordings_saved": 0}
        self.last_command = "none"
        self.last_reason = ""
        self._clamping: set[str] = set()
        self._motion_active = False
        self._last_motion_mono = 0.0
        self._disabled_logged = False
        self._noted: set[str] = set()
        self._not_ready_logged = False
        self._failure_logged: str | None = None   # kind of the last failure logged
        self._reject_throttle = _Throttle()
        self.recorder = MotionRecorder(values["recordings_dir"], values["default_recording_name"])
        self.player = MotionPlayer(self._submit_playback, self._playback_done)
        self.hostname = str(values.get("hostname", "")) or socket.gethostname()
        self._level_is_bytes: bool | None = None
        self._closing = False
        self._fatal_refusal = False

        self.diag_pub = node.create_publisher("diagnostic_msgs/msg/DiagnosticArray", "diagnostics", DEFAULT)
        self.battery_pub = node.create_publisher("sensor_msgs/msg/BatteryState", "battery", DEFAULT)
        self.lease_owner: str | None = None
        node.create_subscription("std_msgs/msg/String", "motor_command", self.on_json, COMMAND)
        node.create_subscription("std_msgs/msg/UInt8MultiArray", "motor_command/binary", self.on_binary, COMMAND)
        node.create_subscription("geometry_msgs/msg/Twist", "cmd_vel", self.on_twist, COMMAND)
        node.create_subscription("std_msgs/msg/String", "motor_command/control", self.on_control, DEFAULT)
        self._watchdog_timer = node.create_timer(min(0.05, self.cmd_timeout / 4), self.watchdog_tick)
        self._diag_timer = node.create_timer(values["diagnostics_period"], self.diagnostics_tick)
        node.add_on_shutdown(self.shutdown)
        self._create_services(node)
        if hasattr(node, "on_parameters_set"):
            node.on_parameters_set(self.on_parameters_set)
        self._startup(values)

    # -- start-up / shutdown ------------------------------------------------------------------
    def _startup(self, values: dict[str, Any]) -> None:
        if self.estop is not None and self.estop.enabled:
            self.estop.start()
        if self.auto_claim:
            self.control("claim")
        if values["auto_power_on"]:
            self._fatal_refusal = True   # logged once, by whoever reports the start-up failure
            try:
                outcome = self.control("power_on")
            finally:
                self._fatal_refusal = False
            if outcome.status == "failed" and outcome.detail.startswith("power_on refused: "):
                self.shutdown()
                raise PowerOnRefused(outcome.detail[len("power_on refused: "):])
        if values["auto_stand"]:
            if self.motion_enabled:
                self.control("stand")
            else:
                self.log.warning("auto_stand ignored: motion is not enabled (parameter enable_motion)")
        axes = "BOW SDK v1 messages (REP 103 axes)" if self.v1 else f"axes {self.config.convention.name}"
        self.log.info(f"motor_command ready: motion {'ENABLED' if self.motion_enabled else 'disabled'}, "
                      f"lease {'held' if self.commander.lease_held else 'not held'}, {axes}, "
                      f"limits {self.limits.max_linear_velocity} m/s, {self.limits.max_angular_velocity} rad/s")

    def shutdown(self) -> None:
        """Stop playback, save a recording in progress, stop the robot, power off (software
        E-Stop only: the robot would settle and cut anyway once we stop checking in), return the
        lease, deregister the E-Stop endpoint. Idempotent."""
        if self._closing:
            return
        self._closing = True
        self._watchdog_timer.cancel()
        self._diag_timer.cancel()
        self.player.cancel()
        with self._lock:
            self._save_recording()
            try:
                estop = self.estop
                if estop is not None and estop.registered and self.commander.ready and self.commander.powered:
                    self._account(self.commander.stop())
                    self.log.info("shutting down with the software E-Stop: powering off (sit, then cut)")
                    self._account(self.commander.power_off())
                self.commander.shutdown(stop=True)
            finally:
                try:
                    if self.estop is not None:
                        self.estop.shutdown()
                finally:
                    if self._owns_connection and self.connection is not None:
                        self.connection.shutdown()

    # -- topic callbacks ----------------------------------------------------------------------
    def on_json(self, msg: Any) -> Outcome:
        return self.handle_payload(str(msg.data), "motor_command")

    def on_binary(self, msg: Any) -> Outcome:
        data = msg.data
        payload = data if isinstance(data, (bytes, bytearray)) else np.asarray(data, dtype=np.uint8).tobytes()
        return self.handle_payload(bytes(payload), "motor_command/binary")

    def on_twist(self, msg: Any) -> Outcome:
        with self._lock:
            self.counts["received"] += 1
            try:
                lin, ang = msg.linear, msg.angular
                vel = motor.twist_to_velocity((float(lin.x), float(lin.y), float(lin.z)),
                                              (float(ang.x), float(ang.y), float(ang.z)))
                cmd, clamps = motor.apply_limits(MotorCommand(locomotion=vel), self.limits)
            except InvalidMotorSample as exc:
                return self._reject("cmd_vel", str(exc))
            self._cancel_playback_for("cmd_vel")
            return self._execute(cmd, clamps, "cmd_vel")

    def on_control(self, msg: Any) -> Outcome:
        return self.control(str(msg.data))

    # -- the sample path ----------------------------------------------------------------------
    def handle_payload(self, payload: str | bytes, source: str) -> Outcome:
        """Parse, validate, convert, limit, record and execute one MotorSample payload."""
        if self.v1 is not None:  # bow_messages: sdk_v1
            return self.v1.handle_payload(payload, source)
        t_ns = time.time_ns()
        with self._lock:
            self.counts["received"] += 1
            try:
                sample = motor.parse_motor_sample(payload)
                conv = motor.convert_motor_sample(sample, self.config, self.limits)
            except InvalidMotorSample as exc:
                return self._reject(source, str(exc))
            cmd = conv.command
            self._record(sample, cmd, t_ns)
            if cmd.playback:
                return self._start_playback(cmd.action_name)
            if cmd.moves:
                self._cancel_playback_for(source)
            return self._run(cmd, list(conv.clamps), source)

    def _submit_playback(self, sample: bow.MotorSample) -> None:
        with self._lock:
            if not self.player.is_current():
                return  # cancelled or superseded while waiting for the lock
            try:
                conv = motor.convert_motor_sample(sample, self.config, self.limits)
            except InvalidMotorSample as exc:  # limits changed since the recording, say
                self._reject(f"playback {self.player.name}", str(exc))
                return
            self._run(conv.command, list(conv.clamps), f"playback {self.player.name}")

    def _run(self, cmd: MotorCommand, clamps: list[Clamp], source: str) -> Outcome:
        for note in cmd.notes:
            self._warn_note_once(source, note)
        if not cmd.moves:
            return Outcome("nothing", "sample asks for no change")
        return self._execute(cmd, clamps, source)

    def _execute(self, cmd: MotorCommand, clamps: list[Clamp], source: str) -> Outcome:
        self._warn_clamps(cmd, clamps, source)
        if not self.motion_enabled:
            self.counts["dropped_disabled"] += 1
            if not self._disabled_logged:
                self._disabled_logged = True
                self.log.warning(f"{source}: motion is disabled, command dropped (send 'enable_motion' on "
                                 f"motor_command/control or set enable_motion); further drops are counted")
            return Outcome("disabled", "motion disabled")
        if not self.commander.ready:
            self.counts["dropped_not_ready"] += 1
            if not self._not_ready_logged:
                self._not_ready_logged = True
                self.log.warning(f"{source}: command dropped: forwarding stopped "
                                 f"({self._not_ready_reason()}); further drops are counted")
            return Outcome("not_ready", self._not_ready_reason())
        self._not_ready_logged = False
        new_body = self.body.apply(cmd.body)
        result = self.commander.execute(cmd, new_body, body_changed=new_body != self.body)
        if result is None:
            return Outcome("nothing", "nothing to send")
        self.last_command = f"{source}: {motor.describe(cmd)}"
        return self._account(result, body=new_body, cmd=cmd)

    def _account(self, result: CommandResult, body: BodyPose | None = None,
                 cmd: MotorCommand | None = None) -> Outcome:
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
        kind = re.sub(r"[-+]?\d[\d.]*", "#", result.detail)   # numbers (e.g. seconds late) aside
        if kind != self._failure_logged:   # a stream refused for one reason: one line
            self._failure_logged = kind
            self.log.error(f"Spot command failed: {result} (the same failure again is counted, not logged)")
        return Outcome("failed", result.detail, result)

    def _reject(self, source: str, reason: str) -> Outcome:
        self.counts["rejected"] += 1
        self.last_reason = f"rejected: {reason}"
        ok, suppressed = self._reject_throttle.ready()
        if ok:
            more = f" ({suppressed} more rejected inputs not logged)" if suppressed else ""
            self.log.error(f"{source}: rejected, nothing sent: {reason}{more}")
        return Outcome("rejected", reason)

    def _warn_note_once(self, source: str, note: str) -> None:
        """Warn about an ignored part of a sample once per kind (numbers do not make a new kind)."""
        kind = re.sub(r"[-+]?\d[\d.eE+-]*", "#", note)
        if kind not in self._noted:
            self._noted.add(kind)
            self.log.warning(f"{source}: {note} (warned once)")

    def _warn_clamps(self, cmd: MotorCommand, clamps: list[Clamp], source: str) -> None:
        parts_present = {p for p, v in (("locomotion", cmd.locomotion), ("body", cmd.body),
                                        ("arm", cmd.arm), ("gripper", cmd.gripper)) if v is not None}
        clamped_parts = {c.part for c in clamps}
        if clamps:
            self.counts["clamped"] += 1
        new = clamped_parts - self._clamping
        if new:
            shown = ", ".join(str(c) for c in clamps if c.part in new)
            self.log.warning(f"{source}: clamped to limits: {shown} (warned once until the "
                             f"{'/'.join(sorted(new))} commands are within limits again)")
        self._clamping = (self._clamping - parts_present) | clamped_parts

    def _not_ready_reason(self) -> str:
        c = self.commander
        if not c.lease_held:
            return c.lease_lost_reason or "no body lease (send 'claim')"
        return c.robot_error or "robot not reachable"

    def _on_forwarding_lost(self, reason: str) -> None:
        self._motion_active = False
        self._not_ready_logged = False

    # -- recording / playback -----------------------------------------------------------------
    def _record(self, sample: bow.MotorSample, cmd: MotorCommand, t_ns: int) -> None:
        if cmd.playback:
            return
        try:
            was = self.recorder.recording
            saved = self.recorder.feed(sample, cmd.record, cmd.action_name, t_ns)
            if not was and self.recorder.recording:
                self.log.info(f"recording '{self.recorder.name}' started")
        except RecordingError as exc:
            self.log.error(f"recording failed: {exc}")
            return
        if saved is not None:
            self.counts["recordings_saved"] += 1
            self.log.info(f"recording saved: {saved}")

    def _save_recording(self) -> None:
        try:
            saved = self.recorder.finish()
        except RecordingError as exc:
            self.log.error(f"recording failed: {exc}")
            return
        if saved is not None:
            self.counts["recordings_saved"] += 1
            self.log.info(f"recording saved: {saved}")

    def _start_playback(self, name: str) -> Outcome:
        try:
            array = load_recording(self.recorder.directory, name)
        except RecordingError as exc:
            return self._reject("playback", str(exc))
        if not len(array.Samples):
            return self._reject("playback", f"recording {name!r} is empty")
        self.counts["playbacks"] += 1
        span = (array.Tstamp[-1] - array.Tstamp[0]) / 1000.0
        self.log.info(f"playing recording '{name}': {len(array.Samples)} samples over {span:.2f} s")
        self.player.play(array, name)
        return Outcome("playback", name)

    def _playback_done(self, name: str, sent: int, cancelled: bool) -> None:
        self.log.info(f"playback '{name}' {'cancelled' if cancelled else 'finished'} after {sent} samples")

    def _cancel_playback_for(self, source: str) -> None:
        if self.player.playing and self.player.cancel(wait=False):
            self.log.warning(f"playback '{self.player.name}' cancelled: live command on {source}")

    # -- services and live parameters ---------------------------------------------------------
    def _create_services(self, node: NodeHandle) -> None:
        if not hasattr(node, "create_service"):
            return
        for name, verb in SERVICE_VERBS.items():
            node.create_service("std_srvs/srv/Trigger", name, lambda request, verb=verb: self.call_verb(verb))
        node.create_service("std_srvs/srv/SetBool", "enable_motion",
                            lambda request: self.call_verb("enable_motion" if request.data else "disable_motion"))

    def call_verb(self, verb: str) -> dict[str, Any]:
        """A service call: run `verb` (the control topic's path) -> Trigger/SetBool response fields."""
        outcome = self.control(verb)
        return {"success": outcome.status in _SUCCESS, "message": service_message(verb, outcome)}

    def on_parameters_set(self, changes: dict[str, Any]) -> str | None:
        """Apply live parameter changes (limits, cmd_timeout, cmd_duration); None, or why not."""
        with self._lock:
            values = {**self.values, **changes}
            try:
                limits = limits_from_params(values)
            except ParameterError as exc:
                return str(exc)
            self.values = values
            self.limits = limits
            self.commander.limits = limits
            self.cmd_timeout = values["cmd_timeout"]
            self.commander.cmd_duration = float(values["cmd_duration"])
            self._clamping.clear()
        return None  # the node logs the accepted change

    # -- control verbs ------------------------------------------------------------------------
    def control(self, verb: str) -> Outcome:
        """Run one control verb. Unknown verbs: one log line, nothing done."""
        verb = verb.strip().lower()
        with self._lock:
            if verb not in CONTROL_VERBS:
                self.log.error(f"motor_command/control: unknown verb {verb!r} ignored "
                               f"(expected one of {', '.join(CONTROL_VERBS)})")
                return Outcome("rejected", f"unknown verb {verb!r}")
            if verb in _MOTION_VERBS and not self.motion_enabled:
                self.log.warning(f"'{verb}' ignored: motion is disabled (send 'enable_motion' first)")
                return Outcome("disabled", verb)
            outcome = getattr(self, f"_verb_{verb}")()
        self.diagnostics_tick(probe=False)
        return outcome

    def _verb_enable_motion(self) -> Outcome:
        self.motion_enabled = True
        self._disabled_logged = False
        self.log.warning("motion ENABLED: motor commands are forwarded to Spot")
        return Outcome("control", "motion enabled")

    def _verb_disable_motion(self) -> Outcome:
        self.motion_enabled = False
        self.player.cancel(wait=False)
        self.log.info("motion disabled: commands are dropped; stopping")
        if self.commander.ready:
            self._account(self.commander.stop())
        self._motion_active = False
        return Outcome("control", "motion disabled")

    def _verb_claim(self) -> Outcome:
        try:
            self.commander.claim()
        except CommanderError as exc:
            self.log.error(f"claim failed: {exc}")
            return Outcome("failed", str(exc))
        self._not_ready_logged = False
        return Outcome("control", "lease held")

    def _verb_release(self) -> Outcome:
        self.player.cancel(wait=False)
        if self.commander.ready:
            self._account(self.commander.stop())
        self._motion_active = False
        self.commander.release()
        self.auto_claim = False  # an explicit release is not undone automatically
        return Outcome("control", "lease released")

    def _verb_power_on(self) -> Outcome:
        result = self.commander.power_on()
        if result.ok or not result.detail.startswith("refused: "):
            return self._account(result)
        self.counts["failed"] += 1
        line = "power_on refused: " + result.detail[len("refused: "):]
        self.last_reason = line
        if not self._fatal_refusal:
            self.log.error(line)
        return Outcome("failed", line, result)

    def _explain_power_refusal(self, exc: Exception) -> str:
        """One line for a refused power-on (runs on the caller's thread; a few RPCs)."""
        estop = self.estop
        status = estop.get_status() if estop is not None else None
        faults = []
        try:
            faults = list(self.commander.state_client.get_robot_state(
                timeout=self.commander.rpc_timeout).behavior_fault_state.faults)
        except Exception:  # noqa: BLE001 - the explanation must not fail
            pass
        return power_refusal(exc, status, estop.name if estop is not None else None,
                             bool(estop is not None and estop.registered), faults)

    def _estop_verb(self, verb: str, act: str) -> Outcome:
        estop = self.estop
        if estop is None or not estop.enabled:
            line = f"{verb} failed: the software E-Stop is off (parameter estop: none); use the tablet's E-Stop"
            self.log.error(line)
            return Outcome("failed", line)
        if act != "release":
            self.player.cancel(wait=False)
            self._motion_active = False
        result = getattr(estop, act)()
        if act == "hard" and result.ok:
            self.commander.powered = False
        self.last_reason = result.text
        if result.ok:  # one severity per line: rclpy's logger refuses a second one at a call site
            self.log.warning(result.text)
        else:
            self.log.error(result.text)
        return Outcome("control" if result.ok else "failed", result.text)

    def _verb_estop_hard(self) -> Outcome:
        return self._estop_verb("estop_hard", "hard")

    def _verb_estop_gentle(self) -> Outcome:
        return self._estop_verb("estop_gentle", "gentle")

    def _verb_estop_release(self) -> Outcome:
        return self._estop_verb("estop_release", "release")

    def _verb_clear_behavior_fault(self) -> Outcome:
        result = self.commander.clear_behavior_faults()
        outcome = self._account(result)
        text = f"clear_behavior_fault: {result.detail or ('ok' if result.ok else 'failed')}"
        if result.ok:
            self.log.info(text)
        return Outcome(outcome.status if not result.ok else "control", text, result)

    def _verb_power_off(self) -> Outcome:
        self.player.cancel(wait=False)
        self._motion_active = False
        return self._account(self.commander.power_off())

    def _verb_stand(self) -> Outcome:
        return self._account(self.commander.stand(self.body))

    def _verb_sit(self) -> Outcome:
        self.player.cancel(wait=False)
        self._motion_active = False
        return self._account(self.commander.sit())

    def _verb_stop(self) -> Outcome:
        self.player.cancel(wait=False)
        self._motion_active = False
        return self._account(self.commander.stop())

    # -- watchdog and diagnostics -------------------------------------------------------------
    def watchdog_tick(self) -> None:
        """Send one stop when a velocity stream stopped arriving for cmd_timeout."""
        with self._lock:
            if not self._motion_active:
                return
            idle = time.monotonic() - self._last_motion_mono
            if idle <= self.cmd_timeout:
                return
            self._motion_active = False
            self.counts["watchdog_stops"] += 1
            self.log.warning(f"watchdog: no velocity command for {idle:.2f} s (cmd_timeout "
                             f"{self.cmd_timeout:g} s): sending stop")
            if self.commander.ready:
                self._account(self.commander.stop())

    def diagnostics_tick(self, probe: bool = True) -> None:
        """Probe the robot (power state, reachability), re-claim a lost lease with auto_claim,
        publish diagnostics. The RPCs run outside the bridge lock so commands and playback
        never wait for them."""
        c = self.commander
        if self._closing:
            return
        if probe:
            c.probe()  # also the RobotState of the status topics (battery, E-Stop, faults, ...)
            self.lease_owner = None if c.lease_held or not c.robot_ok else c.body_lease_owner()
            if self.estop is not None and c.robot_ok:
                self.estop.poll()
            if self.auto_claim and not c.lease_held and c.robot_ok:
                try:
                    c.claim(take=False)  # never take back a lease another client (tablet) took
                    self.log.info("body lease re-acquired: command forwarding resumes")
                except CommanderError:
                    pass  # logged when it first failed; retried next period
        with self._lock:
            msg = self._diagnostics_msg()
        self.diag_pub.publish(msg)
        state = c.last_state
        if state is not None and probe:
            for battery in state.battery_states:
                self.battery_pub.publish(self.node.msg(
                    "sensor_msgs/msg/BatteryState", header=header(self.node, self.node.now(), battery.identifier),
                    **robot_status.battery_state_fields(battery)))

    def compact_status(self) -> str:
        """Battery, E-Stop and faults in one short line (the live table of `spot-bow-ros run`)."""
        state = self.commander.last_state
        return robot_status.compact_status(state) if state is not None else "robot state not known yet"

    def _estop_level(self) -> str:
        status = self.estop.last_status if self.estop is not None else None
        return "unknown" if status is None else level_name(status.stop_level)

    def _diagnostics_msg(self) -> Any:
        c = self.commander
        make = self.node.msg
        if not c.robot_ok or (not c.lease_held and c.lease_lost_reason):
            level, summary = 2, "forwarding stopped: " + self._not_ready_reason()
        elif self._estop_level() not in ("NONE", "unknown"):
            level, summary = 1, f"robot E-Stopped ({self._estop_level()})"
        elif self.estop is not None and self.estop.enabled and not self.estop.registered:
            level, summary = 1, f"software E-Stop not registered: {self.estop.problem}"
        elif not c.lease_held:
            level, summary = 1, "no body lease"
        elif not self.motion_enabled:
            level, summary = 1, "motion disabled"
        elif c.powered is False:
            level, summary = 1, "motors off"
        else:
            level, summary = 0, "forwarding commands"
        power = "unknown" if c.powered is None else ("on" if c.powered else "off")
        values = {
            "lease": "held" if c.lease_held else (f"lost: {c.lease_lost_reason}" if c.lease_lost_reason else "not held"),
            "robot": "ok" if c.robot_ok else f"unreachable: {c.robot_error}",
            "power": power,
            "estop": self.estop.summary() if self.estop is not None else "not managed by this bridge",
            "motion_enabled": str(self.motion_enabled).lower(),
            "last_command": self.last_command,
            "last_result": self.last_reason or "none",
            "recording": self.recorder.name if self.recorder.recording else "no",
            "playback": self.player.name if self.player.playing else "no",
            "body_height_offset_m": f"{self.body.height:.3f}",
            "body_rpy_rad": f"{self.body.roll:.3f} {self.body.pitch:.3f} {self.body.yaw:.3f}",
        }
        values.update({k: str(v) for k, v in self.counts.items()})
        # `byte level`: rclpy wants bytes of length 1, rosbags an int; follow the backend's default.
        if self._level_is_bytes is None:
            self._level_is_bytes = isinstance(make("diagnostic_msgs/msg/DiagnosticStatus").level, (bytes, bytearray))
        entries = [robot_status.StatusEntry("Spot motor commands", level, summary, values)]
        entries.append(robot_status.lease_entry(self.lease_owner, c.lease_held))
        if c.last_state is not None:
            entries.extend(robot_status.status_entries(c.last_state))
        status = [make("diagnostic_msgs/msg/DiagnosticStatus",
                       level=bytes([e.level]) if self._level_is_bytes else e.level,
                       name=f"{self.node.name}: {e.name}", message=e.message, hardware_id=self.hostname,
                       values=[make("diagnostic_msgs/msg/KeyValue", key=k, value=str(v)) for k, v in e.values.items()])
                  for e in entries]
        return make("diagnostic_msgs/msg/DiagnosticArray", header=header(self.node, self.node.now(), ""),
                    status=status)


def service_message(verb: str, outcome: Outcome) -> str:
    """The `message` of a service reply: what happened, in one line."""
    if outcome.status == "disabled":
        return f"{verb} refused: motion is disabled (call enable_motion with data: true first)"
    if outcome.status == "rejected" and outcome.detail.startswith("unknown verb"):
        return f"{verb} is not supported by this motor_command ({outcome.detail})"
    if outcome.status in _SUCCESS:
        return outcome.detail or verb
    return f"{verb} failed: {outcome.detail or outcome.status}"


def main(argv: list[str] | None = None) -> int:
    from ..ros.backend import run_node
    return run_node(NODE_NAME, lambda node: MotorCommandBridge(node), argv)


if __name__ == "__main__":
    raise SystemExit(main())
