"""motor_command: BOW MotorSamples and cmd_vel from ROS topics -> safe Spot robot commands.

The node is wiring: the state machine that owns lease, power, E-Stop, motion gate, watchdog and
command admission is `spot.supervisor.MotionSupervisor` (docs/estop.md has its tables); the
sample path is `nodes.motor_inputs.MotorInputs`.

Topics (all keep-last 1, so stale commands never pile up):
- `motor_command` (std_msgs/String): a BOW MotorSample as protobuf JSON (`ros2 topic pub`).
- `motor_command/binary` (std_msgs/UInt8MultiArray): a binary MotorSample (BOW clients).
- `cmd_vel` (geometry_msgs/Twist): REP 103 body axes, same locomotion path.
- `motor_command/control` (std_msgs/String): the verbs of `spot.supervisor_verbs.VERBS`
  (enable_motion, disable_motion, claim, take_lease, release, power_on, power_off, stand, sit, stop,
  estop_hard, estop_gentle, estop_release, estop_takeover, clear_behavior_fault).
- services from the same table (std_srvs/Trigger, relative names, spot_ros2's): `claim`,
  `take_lease`, `release`, `power_on`, `power_off`, `stand`, `sit`, `stop`, `estop/hard`, `estop/gentle`,
  `estop/release`, `estop/takeover`, `clear_behavior_fault`; `enable_motion` (std_srvs/SetBool).
- E-Stop first: the control topic and the E-Stop services have their own callback group
  ("estop": own thread / rclpy callback group); E-Stop verbs run there at once, other topic
  verbs go to the supervisor's verb thread, so no blocking power call delays a stop.
- live parameters: the limits, `cmd_timeout` and `cmd_duration` (`ros2 param set`).
- publishes `/diagnostics` (diagnostic_msgs/DiagnosticArray, absolute as diagnostic_updater):
  state, lease, power, E-Stop, motion gate, last command and result, counts, and the RobotState
  of each probe (`convert.robot_status`); `battery` (sensor_msgs/BatteryState) per battery.
- `bow_messages: sdk_v1` (`/**`): the two MotorSample topics carry the BOW SDK's messages v1.

E-Stop (`estop: software`, default): the bridge registers its own E-Stop endpoint at
SETTLE_THEN_CUT (never over anybody else's, live or lapsed) and needs `estop_release` before the
first power_on (`estop_release_at_start: true` says otherwise). With `auto_power_on` a refused
power-on ends the node (status 1) with one line.
"""

from __future__ import annotations

import socket
import sys
import time
from typing import Any

from ..convert import robot_status
from ..ros.node_api import NodeHandle, header
from ..ros.params import ParameterError, ParamSpec
from ..ros.qos import COMMAND, DEFAULT
from ..spot.commander import SpotCommander
from ..spot.connection import SpotConnectionError
from ..spot.estop import SoftwareEstop
from ..spot.supervisor import MotionSupervisor
from ..spot.supervisor_verbs import SUCCESS, VERBS, Outcome
from .bow_messages import bow_message_set
from .bow_v1 import MotorV1Handler
from .motor_inputs import MotorInputs
from .motor_params import MOTOR_PARAMS, config_from_params, limits_from_params

__all__ = ["MOTOR_PARAMS", "MotorCommandBridge", "PowerOnRefused", "config_from_params", "limits_from_params"]


NODE_NAME = "motor_command"
#: Derived from the one verb table (`VERBS`).
CONTROL_VERBS = tuple(v.name for v in VERBS)
SERVICE_VERBS = {v.service: v.name for v in VERBS if v.service and v.srv == "Trigger"}
ESTOP_GROUP = "estop"

class PowerOnRefused(RuntimeError):
    """auto_power_on was asked and the robot (or our stopped E-Stop) refused."""


class MotorCommandBridge:
    """The motor_command node: wiring of topics, services, timers and parameters."""

    def __init__(self, node: NodeHandle, commander: SpotCommander | None = None,
                 connection: Any = None, params: list[ParamSpec] | None = None):
        self.node = node
        self.log = node.get_logger()
        if params is None:
            from ..spot.connection_config import CONNECTION_PARAMS
            params = list(CONNECTION_PARAMS) + MOTOR_PARAMS
        values = self.values = node.declare_parameters(params)
        if 0 < values["gil_switch_interval"] < sys.getswitchinterval():   # E-Stop first (docs/estop.md)
            sys.setswitchinterval(values["gil_switch_interval"])
        limits = limits_from_params(values)
        self.config = config_from_params(values)
        self._owns_connection = False
        v1_messages = bow_message_set(node, values)  # bow_messages: sdk_v1, checked before the robot
        if commander is None:
            if connection is None:
                from ..spot.connection import SpotConnection, SpotConnectionError
                from ..spot.connection_config import ConnectionConfig
                connection = SpotConnection.shared(ConnectionConfig.from_params(values), self.log)
                self._owns_connection = True
                try:
                    connection.connect()  # start-up policy of every bridge: fail fast, one line
                except SpotConnectionError:
                    connection.shutdown()
                    raise
            commander = SpotCommander(connection, self.log, limits=limits,
                                      cmd_duration=values["cmd_duration"], take_lease=values["take_lease"])
        self.connection = connection
        self.commander = commander
        self.estop: SoftwareEstop | None = None
        if connection is not None:
            try:
                self.estop = SoftwareEstop(connection, self.log, name=str(values.get("client_name") or "spot_bow_ros"),
                                           timeout=values["estop_timeout"],
                                           cut_power_timeout=values["estop_cut_power_timeout"],
                                           enabled=values["estop"] == "software",
                                           release_at_start=values["estop_release_at_start"])
            except ValueError as exc:
                raise ParameterError(str(exc)) from None
        self.sup = MotionSupervisor(commander, self.log, limits=limits, estop=self.estop,
                                    motion_enabled=values["enable_motion"], auto_claim=values["auto_claim"],
                                    cmd_timeout=values["cmd_timeout"], heartbeat_timeout=values["heartbeat_timeout"])
        self.inputs = MotorInputs(self.sup, self.config, self.log, values["recordings_dir"],
                                  values["default_recording_name"])
        self.inputs.v1 = None if v1_messages is None else MotorV1Handler(self.inputs, v1_messages)
        self.v1 = self.inputs.v1
        self.hostname = str(values.get("hostname", "")) or socket.gethostname()
        self._level_is_bytes: bool | None = None
        self.diag_pub = node.create_publisher("diagnostic_msgs/msg/DiagnosticArray", "/diagnostics", DEFAULT)
        self.battery_pub = node.create_publisher("sensor_msgs/msg/BatteryState", "battery", DEFAULT)
        node.create_subscription("std_msgs/msg/String", "motor_command", self.inputs.on_json, COMMAND)
        node.create_subscription("std_msgs/msg/UInt8MultiArray", "motor_command/binary", self.inputs.on_binary, COMMAND)
        node.create_subscription("geometry_msgs/msg/Twist", "cmd_vel", self.inputs.on_twist, COMMAND)
        node.create_subscription("std_msgs/msg/String", "motor_command/control",
                                 lambda msg: self.sup.submit(str(msg.data)), DEFAULT, callback_group=ESTOP_GROUP)
        self._watchdog_timer = node.create_timer(min(0.05, self.sup.cmd_timeout / 4), self.sup.watchdog_tick)
        self._diag_timer = node.create_timer(values["diagnostics_period"], self.diagnostics_tick)
        node.add_on_shutdown(self.shutdown)
        self._create_services(node)
        if hasattr(node, "on_parameters_set"):
            node.on_parameters_set(self.on_parameters_set)
        self._startup(values)

    # -- what tests, the run command's status table and bow_v1 read ----------------------------
    counts = property(lambda self: self.sup.counts)
    motion_enabled = property(lambda self: self.sup.motion_enabled)
    limits = property(lambda self: self.sup.limits)
    last_reason = property(lambda self: self.sup.last_reason)
    player = property(lambda self: self.inputs.player)
    on_json = property(lambda self: self.inputs.on_json)
    on_binary = property(lambda self: self.inputs.on_binary)
    on_twist = property(lambda self: self.inputs.on_twist)
    handle_payload = property(lambda self: self.inputs.handle_payload)

    def control(self, verb: str) -> Outcome:
        """Run one control verb now (the services' path)."""
        outcome = self.sup.control(verb)
        self.diagnostics_tick(probe=False)
        return outcome

    # -- start-up / shutdown ------------------------------------------------------------------
    def _startup(self, values: dict[str, Any]) -> None:
        self.sup.start()
        if values["auto_claim"]:
            self.control("claim")
        if values["auto_power_on"]:
            self.sup.fatal_refusal = True   # logged once, by whoever reports the start-up failure
            try:
                outcome = self.control("power_on")
            finally:
                self.sup.fatal_refusal = False
            if outcome.status in ("failed", "refused") and outcome.detail.startswith("power_on refused: "):
                hint = (" (auto_power_on: set estop_release_at_start: true to register released)"
                        if outcome.status == "refused" and self.sup.state.value == "ESTOPPED" else "")
                self.shutdown()
                raise PowerOnRefused(outcome.detail[len("power_on refused: "):] + hint)
        if values["auto_stand"]:
            if self.sup.motion_enabled:
                self.control("stand")
            else:
                self.log.warning("auto_stand ignored: motion is not enabled (parameter enable_motion)")
        self.sup.arm_heartbeat()
        axes = "BOW SDK v1 messages (REP 103 axes)" if self.v1 else f"axes {self.config.convention.name}"
        self.log.info(f"motor_command ready ({self.sup.state.value}): motion "
                      f"{'ENABLED' if self.sup.motion_enabled else 'disabled'}, lease "
                      f"{'held' if self.commander.lease_held else 'not held'}, {axes}, limits "
                      f"{self.limits.max_linear_velocity} m/s, {self.limits.max_angular_velocity} rad/s")

    def shutdown(self) -> None:
        """Stop playback, save a recording in progress, then the supervisor's safe exit. Idempotent."""
        if self.sup.closing:
            return
        self._watchdog_timer.cancel()
        self._diag_timer.cancel()
        self.inputs.player.cancel()
        self.inputs.save_recording()
        try:
            self.sup.shutdown()
        finally:
            if self._owns_connection and self.connection is not None:
                self.connection.shutdown()

    # -- services and live parameters ---------------------------------------------------------
    def _create_services(self, node: NodeHandle) -> None:
        if not hasattr(node, "create_service"):
            return
        for verb in VERBS:
            if verb.service:
                node.create_service(f"std_srvs/srv/{verb.srv}", verb.service, self._service_handler(verb),
                                    callback_group=ESTOP_GROUP if verb.estop else None)

    def _service_handler(self, verb: Any) -> Any:
        """Trigger: run the verb; SetBool: the verb for data true, its `off_verb` for false."""
        def handle(request: Any) -> dict[str, Any]:
            on = verb.srv != "SetBool" or bool(request.data)
            return self.call_verb(verb.name if on else verb.off_verb)
        return handle

    def call_verb(self, verb: str) -> dict[str, Any]:
        """A service call: run `verb` -> Trigger/SetBool response fields."""
        outcome = self.control(verb)
        return {"success": outcome.status in SUCCESS, "message": service_message(verb, outcome)}

    def on_parameters_set(self, changes: dict[str, Any]) -> str | None:
        """Apply live parameter changes (limits, cmd_timeout, cmd_duration); None, or why not."""
        values = {**self.values, **changes}
        try:
            limits = limits_from_params(values)
        except ParameterError as exc:
            return str(exc)
        self.values = values
        self.sup.set_limits(limits, values["cmd_timeout"], values["cmd_duration"])
        self.inputs.limits_changed()
        return None  # the node logs the accepted change

    # -- diagnostics --------------------------------------------------------------------------
    def diagnostics_tick(self, probe: bool = True) -> None:
        """Probe the robot (supervisor: state, E-Stop, re-claim, latched stops; no lock held over
        the RPCs) and publish diagnostics (+ battery after a probe)."""
        if self.sup.closing:
            return
        if probe:
            self.sup.probe()
        self.diag_pub.publish(self._diagnostics_msg())
        state = self.commander.last_state
        if state is not None and probe:
            skew_ns = self._clock_skew_ns()
            for battery in state.battery_states:
                stamp = (robot_status.battery_stamp(battery, skew_ns, time.time_ns()) if skew_ns is not None
                         else self.node.now())
                self.battery_pub.publish(self.node.msg(
                    "sensor_msgs/msg/BatteryState", header=header(self.node, stamp, battery.identifier),
                    **robot_status.battery_state_fields(battery)))

    def _clock_skew_ns(self) -> int | None:
        """Robot minus local clock (ns) from the shared time sync; None before the first sync."""
        try:
            return int(self.commander.connection.clock_skew_ns())
        except SpotConnectionError:
            return None

    def compact_status(self) -> str:
        """Battery, E-Stop and faults in one short line (the live table of `spot-bow-ros run`)."""
        state = self.commander.last_state
        return robot_status.compact_status(state) if state is not None else "robot state not known yet"

    def _diagnostics_msg(self) -> Any:
        make = self.node.msg
        main = self.sup.status_entry()
        body, rec, player = self.sup.body, self.inputs.recorder, self.inputs.player
        main.values.update({
            "recording": rec.name if rec.recording else "no", "playback": player.name if player.playing else "no",
            "body_height_offset_m": f"{body.height:.3f}",
            "body_rpy_rad": f"{body.roll:.3f} {body.pitch:.3f} {body.yaw:.3f}",
            **{k: str(v) for k, v in self.sup.counts.items()}})
        # `byte level`: rclpy wants bytes of length 1, rosbags an int; follow the backend's default.
        if self._level_is_bytes is None:
            self._level_is_bytes = isinstance(make("diagnostic_msgs/msg/DiagnosticStatus").level, (bytes, bytearray))
        entries = [main, robot_status.lease_entry(self.sup.lease_owner, self.commander.lease_held)]
        if self.commander.last_state is not None:
            entries.extend(robot_status.status_entries(self.commander.last_state))
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
    if outcome.status in SUCCESS or outcome.status == "refused":
        return outcome.detail or verb
    return f"{verb} failed: {outcome.detail or outcome.status}"


def main(argv: list[str] | None = None) -> int:
    from ..backends.chooser import run_node
    return run_node(NODE_NAME, lambda node: MotorCommandBridge(node), argv)


if __name__ == "__main__":
    raise SystemExit(main())
