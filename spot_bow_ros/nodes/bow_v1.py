"""BOW messages v1 (`bow_messages: sdk_v1`) for the motor_command and proprioception bridges.

The bridges keep their topics; with `sdk_v1` their `bow/...` topics carry the BOW SDK's v1
messages (binary protobuf on UInt8MultiArray topics, protobuf JSON on String topics):

- motor_command: `motor_command` (JSON) and `motor_command/binary`: v1 `MotorSample` ->
  `convert.bow_v1` -> the same limits, motion gate, lease checks and command expiry as the
  documented schema (`MotorCommandBridge._run`). Unused v1 fields: one warning per kind.
- proprioception: Spot state -> v1 `ProprioceptionSample` (RawJoints, the arm in Effectors) on
  `bow/proprioception/out`, v1 `ExteroceptionSample` (Imu) on `bow/exteroception/out`, v1
  `InteroceptionSample` (battery, read at `BATTERY_PERIOD_S`) on `bow/interoception/out`;
  `joint_states` and `imu` come from those samples like from any BOW robot. BOW input from any
  robot: `bow/proprioception[/binary]` (v1 ProprioceptionSample -> joint_states) and
  `bow/exteroception[/binary]` (v1 ExteroceptionSample -> imu, imu/<name>), stamped on receipt.
"""

from __future__ import annotations

import threading
import time
from types import ModuleType
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError

from ..convert import bow_v1
from ..convert import bow_v1_sensors as sensors
from ..convert.joints import ProprioceptionError
from ..convert.motion import InvalidMotorSample
from ..ros.node_api import stamp_from_ns
from ..ros.qos import SENSOR_DATA, SENSOR_PUBLISHER
from .bow_messages import bow_message_set

BATTERY_PERIOD_S = 1.0


def payload_of(msg: Any) -> str | bytes:
    """The payload of a std_msgs/String (str) or std_msgs/UInt8MultiArray (bytes) message."""
    data = msg.data
    if isinstance(data, str):
        return data
    if isinstance(data, (bytes, bytearray)):
        return bytes(data)
    try:
        return bytes(memoryview(data))
    except TypeError:  # a list of ints
        return bytes(data)


def parse_v1(cls: type, payload: str | bytes) -> Any:
    """A v1 message of class `cls` from protobuf JSON (str) or binary (bytes); ValueError if not."""
    try:
        if isinstance(payload, str):
            return json_format.Parse(payload, cls())
        return cls.FromString(payload)
    except (json_format.ParseError, DecodeError, TypeError, ValueError, RecursionError) as err:
        kind = "protobuf JSON" if isinstance(payload, str) else "binary protobuf"
        raise ValueError(f"not a v1 {cls.__name__} in {kind} ({str(err).splitlines()[0][:200] if str(err) else ''})") \
            from None


class MotorV1Handler:
    """v1 MotorSamples for a `MotorCommandBridge` (its lock, limits, gate and commander)."""

    @classmethod
    def create(cls, bridge: Any, node: Any, values: dict[str, Any]) -> MotorV1Handler | None:
        """The handler when the node's `bow_message_set` parameter (in `values`) selects v1, else None."""
        v1 = bow_message_set(node, values)
        return None if v1 is None else cls(bridge, v1)

    def __init__(self, bridge: Any, v1: ModuleType):
        self.bridge, self.v1 = bridge, v1

    def handle_payload(self, payload: str | bytes, source: str) -> Any:
        """Parse, validate, convert, limit and execute one v1 MotorSample payload."""
        b = self.bridge
        with b._lock:
            b.counts["received"] += 1
            try:
                sample = bow_v1.parse_motor_sample_v1(payload, self.v1)
                conv = bow_v1.convert_motor_sample_v1(sample, self.v1, b.config, b.limits, b.body)
            except InvalidMotorSample as exc:
                return b._reject(source, str(exc))
            cmd = conv.command  # its notes (fields Spot does not use) are warned once by b._run
            if cmd.moves:
                b._cancel_playback_for(source)
            return b._run(cmd, list(conv.clamps), source)


class ProprioceptionV1:
    """v1 samples out of Spot state and v1 input -> ROS for a `ProprioceptionBridge`."""

    @classmethod
    def create(cls, bridge: Any, node: Any, values: dict[str, Any]) -> ProprioceptionV1 | None:
        """The v1 side (its publishers and subscriptions created on `node`) when the node's
        `bow_message_set` parameter (in `values`) selects v1, else None."""
        v1 = bow_message_set(node, values)
        return None if v1 is None else cls(bridge, node, v1)

    def __init__(self, bridge: Any, node: Any, v1: ModuleType):
        self.bridge, self.node, self.v1 = bridge, node, v1
        u8 = "std_msgs/msg/UInt8MultiArray"
        publish = bridge.params.get("publish_bow", True)
        self.pub_extero = node.create_publisher(u8, "bow/exteroception/out", SENSOR_PUBLISHER) if publish else None
        self.pub_intero = node.create_publisher(u8, "bow/interoception/out", SENSOR_PUBLISHER) if publish else None
        node.create_subscription("std_msgs/msg/String", "bow/exteroception",
                                 lambda m: self.on_input(m, "bow/exteroception"), SENSOR_DATA)
        node.create_subscription(u8, "bow/exteroception/binary",
                                 lambda m: self.on_input(m, "bow/exteroception/binary"), SENSOR_DATA)
        self._stop = threading.Event()
        self._battery_thread: threading.Thread | None = None
        bridge.log.info("BOW SDK v1 messages on bow/proprioception/out, bow/exteroception/out, "
                        "bow/interoception/out; v1 input on bow/proprioception[/binary], bow/exteroception[/binary]")

    # -- Spot -> v1 ------------------------------------------------------------------------
    def start_battery(self, connection: Any) -> None:
        """Read the battery every BATTERY_PERIOD_S on a thread and publish InteroceptionSamples."""
        if self.pub_intero is None or self._battery_thread is not None:
            return
        self._battery_thread = threading.Thread(target=self._battery_loop, args=(connection,),
                                                name="proprioception-battery", daemon=True)
        self._battery_thread.start()

    def _battery_loop(self, connection: Any) -> None:
        from bosdyn.client.exceptions import Error as BosdynError
        from bosdyn.client.robot_state import RobotStateClient

        from ..spot.connection import SpotConnectionError

        while not self._stop.wait(BATTERY_PERIOD_S):
            try:
                state = connection.ensure_client(RobotStateClient.default_service_name).get_robot_state()
            except (BosdynError, SpotConnectionError, RuntimeError, AttributeError):
                continue  # robot away: the connection logs it; try again next period
            if not state.battery_states:
                continue
            bat = state.battery_states[0]
            sample = sensors.interoception_v1_from_battery(
                self.v1, bat.charge_percentage.value if bat.HasField("charge_percentage") else None,
                bat.voltage.value if bat.HasField("voltage") else None,
                bat.current.value if bat.HasField("current") else None, bat.status)
            self._publish(self.pub_intero, sample)

    def on_spot_sample(self, sample: Any, stamp_ns: int, imu_ns: int) -> None:
        """One SpotStateSample: v1 samples out, joint_states and imu from them."""
        b = self.bridge
        proprio = sensors.proprioception_v1_from_spot(self.v1, sample.joint_names, sample.position,
                                                     sample.velocity, sample.load)
        if sample.body_tform_hand is not None:
            sensors.add_arm_effector_v1(proprio, self.v1, sample.body_tform_hand)
        imu = sample.imu
        extero = sensors.exteroception_v1_from_imu(self.v1, imu.acceleration, imu.angular_velocity,
                                                  imu.odom_rot_link, imu.link_name, imu.position_rt_link)
        self._publish(b.pub_bow, proprio)
        self._publish(self.pub_extero, extero)
        self.publish_joints(proprio, stamp_ns)
        self.publish_imus(extero, imu_ns)

    def _publish(self, pub: Any, sample: Any) -> None:
        if pub is not None:
            pub.publish(self.bridge.make("std_msgs/msg/UInt8MultiArray", data=sample.SerializeToString()))

    # -- v1 -> ROS -------------------------------------------------------------------------
    def publish_joints(self, sample: Any, stamp_ns: int) -> bool:
        """A v1 ProprioceptionSample -> sensor_msgs/JointState on joint_states (names: the bridge's
        prefix + the sample's RawJoints names), stamped `stamp_ns` (ns since the epoch). False
        (counted, logged once) when the sample is rejected."""
        b = self.bridge
        try:
            msg = sensors.joint_state_from_v1(b.make, sample, stamp_from_ns(stamp_ns), prefix=b.prefix)
        except ProprioceptionError as err:
            b.rejected += 1
            b._error_once(f"v1 ProprioceptionSample rejected: {err}; nothing published")
            return False
        with b._lock:
            if len(msg.name):
                b.pub_joints.publish(msg)
            b.published += 1
        return True

    def publish_imus(self, sample: Any, stamp_ns: int) -> bool:
        """A v1 ExteroceptionSample -> one sensor_msgs/Imu per IMU in ROS axes (`imu` for the first,
        `imu/<name>` for further ones; frame id: the bridge's prefix + the IMU's link name, else the
        default IMU frame), stamped `stamp_ns` (ns since the epoch). False (counted, logged once)
        when the sample is rejected."""
        b = self.bridge
        try:
            msgs = sensors.imu_msgs_from_v1(b.make, sample, stamp_from_ns(stamp_ns), b.prefix, b.default_imu_frame)
        except ProprioceptionError as err:
            b.rejected += 1
            b._error_once(f"v1 ExteroceptionSample rejected: {err}; nothing published")
            return False
        with b._lock:
            for topic, msg in msgs:
                pub = b.pub_imu.get(topic)
                if pub is None:
                    pub = b.pub_imu[topic] = self.node.create_publisher("sensor_msgs/msg/Imu", topic,
                                                                        SENSOR_PUBLISHER)
                pub.publish(msg)
        return True

    def on_input(self, msg: Any, topic: str) -> bool:
        """A v1 sample from any BOW robot on `topic` -> joint_states / imu (stamped on receipt)."""
        extero = topic.startswith("bow/exteroception")
        cls = self.v1.ExteroceptionSample if extero else self.v1.ProprioceptionSample
        try:
            sample = parse_v1(cls, payload_of(msg))
        except ValueError as err:
            self.bridge.rejected += 1
            self.bridge._error_once(f"{topic}: {err}; ignored")
            return False
        now = time.time_ns()
        return self.publish_imus(sample, now) if extero else self.publish_joints(sample, now)

    def close(self) -> None:
        """Stop the battery thread (it ends at its next wait, after a read in progress)."""
        self._stop.set()
