"""proprioception: Spot state -> BOW ProprioceptionSample -> joint_states, imu, odometry and TF.

Spot path (parameter `connect_to_spot`, default true): `spot.state.RobotStateSource` delivers
robot state (`state_source`: auto streams when the robot allows it and falls back to polling
at `rate` on any streaming failure, e.g. a robot without the joint-level licence, with one log
line naming the cause). Joints are matched by name and the joint list is learned from the
robot: 12 without an arm, 19 with one. Polled RobotState also lists `arm0.hr0` without data;
the Spot URDF (spot_description) has `arm_hr0` as a fixed joint, so it is left out of
`joint_states` (robot_state_publisher places fixed joints itself), and streaming and polling
publish the same joints. Joint names Spot does not document pass through (`.` -> `_`). Each sample becomes a
BOW `ProprioceptionSample` (URDF joint names, RADIANS, NEWTON_METRES, the body IMU in the BOW
axes of `axis_convention`), published on `bow/proprioception/out` (binary protobuf) and converted to ROS
exactly like BOW input from outside. Stamps: robot acquisition time converted to the local clock
with the connection's time sync. Odometry and TF come straight from the kinematic state.

BOW path: `bow/proprioception` (std_msgs/String, protobuf JSON) and `bow/proprioception/binary`
(std_msgs/UInt8MultiArray, binary protobuf) from any BOW robot. BOW samples carry no time: they
are stamped on receipt. Malformed input: one error line (repeats throttled), nothing published.

Published:
- `joint_states` (sensor_msgs/JointState): `frame_prefix` + BOW joint names;
- `imu` (sensor_msgs/Imu, REP 145) for the first IMU, `imu/<name>` for further ones; frame id
  `frame_prefix` + the IMU's Transform.Name (mounting link), else + `default_imu_frame`;
- `odometry` (nav_msgs/Odometry): odom -> body, twist in body axes (Spot only);
- `/tf`: `tf_root` (odom | vision) -> body, root -> the other world frame, body -> hand (arm);
- `/tf_static` (transient local, one message holding all): body -> each camera sensor frame
  (hand -> sensor for gripper cameras), read once per connection from the image sources'
  transform snapshots via the ImageClient (`camera_frames`);
- `bow/proprioception/out` (std_msgs/UInt8MultiArray): the Spot samples as binary protobuf;
- with `robot_model` (default `auto`; set `none` where robot_state_publisher runs): what
  robot_state_publisher would publish from the package's URDF (nodes/robot_model.py): `robot_description`
  (std_msgs/String, transient local), every joint state's link transforms on `/tf` (forward
  kinematics, body -> ... -> feet and arm links) and the fixed joints on `/tf_static`.

Rates: the robot streams state at ~333 Hz. `publish_rate` (Hz, live; default 0: every sample)
thins what is published from the robot (joint_states, imu, odometry, BOW out: the first sample
of each 1/rate period, unchanged, stamps as they were); controllers and BOW consumers get every
sample by default. `tf_rate` (Hz, live; default 50, as spot_ros2's robot state and TF) thins
/tf further (world frames and link transforms: each /tf message is one published sample with
its own stamp and values, just not every sample); 0 means every published sample.

`bow_messages: sdk_v1` (`/**`): the same topics carry the BOW SDK's messages v1, plus
`bow/exteroception/out` (IMU) and `bow/interoception/out` (battery); see `nodes.bow_v1`.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError

from ..bow import bow_data_pb2 as bow
from ..bow.frames import AXIS_CHOICES, AxisConvention
from ..convert.imu import imu_frame_id, imu_msg_from_bow, imu_topic
from ..convert.joints import ProprioceptionError, joint_state_from_proprioception
from ..convert.odometry import odometry_msg, robot_tf_edges, tf_message, transform_stamped_msg
from ..convert.time import RateLimiter
from ..ros.node_api import NodeHandle, stamp_from_ns
from ..ros.params import ParamSpec
from ..ros.qos import LATCHED, SENSOR_DATA, SENSOR_PUBLISHER, QoS
from .bow_v1 import ProprioceptionV1
from .robot_model import MODEL_CHOICES, RobotModel, RobotModelError, choose_model

NODE_NAME = "proprioception"
TF_QOS = QoS(depth=100)  # what tf2_ros' TransformBroadcaster uses

PROPRIOCEPTION_PARAMS: list[ParamSpec] = [
    ParamSpec("connect_to_spot", True, "Read Spot's robot state (false: only convert BOW input topics)"),
    ParamSpec("rate", 50.0, "Robot state polling rate (Hz); the streaming service delivers at the robot's rate",
              min=1.0, max=500.0),
    ParamSpec("state_source", "auto", "Robot state source: auto (streaming if available, else polling), "
              "streaming or polling", choices=["auto", "streaming", "polling"]),
    ParamSpec("frame_prefix", "", "Prefix for joint names and frame ids (e.g. 'spot/')"),
    ParamSpec("axis_convention", "bow_documented", "Axes of BOW vectors: bow_documented (X right, Y up, Z forward) "
              "or ros (X forward, Y left, Z up)", choices=list(AXIS_CHOICES)),
    ParamSpec("default_imu_frame", "body", "Frame id (without prefix) of BOW IMUs that name no mounting link"),
    ParamSpec("publish_rate", 0.0, "Most robot samples per second published on joint_states, imu, odometry and "
              "bow/proprioception/out (Hz; 0, the default: every sample the robot sends, ~333 Hz when streaming, "
              "for controllers and BOW consumers that want each one; applied live); BOW input topics are not "
              "limited", min=0.0, max=1000.0, live=True),
    ParamSpec("tf_rate", 50.0, "Most robot samples per second whose world frames and link transforms go to /tf "
              "(Hz; default 50, as spot_ros2 publishes robot state and TF: enough for RViz and tf2 buffers, and "
              "each /tf keeps its sample's stamp and values; 0: with every published sample, ~333 Hz when "
              "streaming, two /tf messages each; applied live)", min=0.0, max=1000.0, live=True),
    ParamSpec("publish_odometry", True, "Publish odometry (nav_msgs/Odometry, odom -> body)"),
    ParamSpec("publish_tf", True, "Publish the robot's world frames on /tf"),
    ParamSpec("tf_root", "odom", "Root of the robot's TF tree: odom or vision", choices=["odom", "vision"]),
    ParamSpec("camera_frames", True, "Publish body -> camera sensor frames on /tf_static"),
    ParamSpec("camera_sources", [], "Image sources whose frames go to /tf_static (empty: all)", list_type=str),
    ParamSpec("publish_bow", True, "Publish Spot samples as binary BOW on bow/proprioception/out"),
    ParamSpec("robot_model", "auto", "Publish robot_description and the links' TF from joint_states (as "
              "robot_state_publisher): auto (spot_with_arm if arm joints are reported, else spot), spot, "
              "spot_with_arm, or none (robot_state_publisher does it)", choices=list(MODEL_CHOICES)),
    ParamSpec("robot_description_file", "", "URDF file for robot_model instead of the package's "
              "urdf/<model>.urdf (its joint names must match joint_states)"),
]


class ProprioceptionBridge:
    """The proprioception bridge on one node. `connection`: an existing SpotConnection (tests)."""

    def __init__(self, node: NodeHandle, connection: Any = None, extra_params: list[ParamSpec] | None = None):
        from ..spot.connection_config import CONNECTION_PARAMS

        self.node = node
        self.log = node.get_logger()
        # The standalone runtime's typestore factory lets converters build messages directly
        # (convert.rosmsg); rclpy nodes use node.msg.
        self.make = getattr(getattr(node, "transport", None), "messages", None) or node.msg
        values = node.declare_parameters(PROPRIOCEPTION_PARAMS + list(CONNECTION_PARAMS) + list(extra_params or []))
        self.params = values
        self.prefix: str = values["frame_prefix"]
        self.convention = AxisConvention.parse(values["axis_convention"])
        self.default_imu_frame: str = values["default_imu_frame"]
        self._lock = threading.Lock()
        self._warned: set[str] = set()
        self._errors: dict[str, tuple[float, int]] = {}
        #: set by close(): the camera-frame thread's errors are then the shutdown's (channels and
        #: publishers closing under it), said at debug level only
        self._closing = threading.Event()
        self.published = 0
        self.rejected = 0
        # the robot's stream (~333 Hz) thinned to what the user asked for, by the samples' stamps
        self._state_limit = RateLimiter(values["publish_rate"])
        self._tf_limit = RateLimiter(values["tf_rate"])
        if hasattr(node, "on_parameters_set"):
            node.on_parameters_set(self._on_parameters_set)

        self.pub_joints = node.create_publisher("sensor_msgs/msg/JointState", "joint_states", SENSOR_PUBLISHER)
        self.pub_imu = {"imu": node.create_publisher("sensor_msgs/msg/Imu", "imu", SENSOR_PUBLISHER)}
        self.pub_odom = (node.create_publisher("nav_msgs/msg/Odometry", "odometry", SENSOR_PUBLISHER)
                         if values["publish_odometry"] else None)
        self.pub_tf = node.create_publisher("tf2_msgs/msg/TFMessage", "/tf", TF_QOS) if values["publish_tf"] else None
        self.model: RobotModel | None = None
        self._model_published = False
        self._model_setting = values["robot_model"]
        self.pub_links = self.pub_description = None
        if self._model_setting != "none" and values["robot_description_file"]:
            # a user's file is checked at start: a wrong path is a parameter error, not a later log line
            self.model = RobotModel.load(self._model_setting, values["robot_description_file"])
        if self._model_setting != "none":
            self.pub_links = self.pub_tf or node.create_publisher("tf2_msgs/msg/TFMessage", "/tf", TF_QOS)
            self.pub_description = node.create_publisher("std_msgs/msg/String", "robot_description", LATCHED)
        self.pub_tf_static = (node.create_publisher("tf2_msgs/msg/TFMessage", "/tf_static", LATCHED)
                              if values["camera_frames"] or self.pub_description is not None else None)
        self.pub_bow = (node.create_publisher("std_msgs/msg/UInt8MultiArray", "bow/proprioception/out",
                                              SENSOR_PUBLISHER) if values["publish_bow"] else None)
        node.create_subscription("std_msgs/msg/String", "bow/proprioception", self._on_json, SENSOR_DATA)
        node.create_subscription("std_msgs/msg/UInt8MultiArray", "bow/proprioception/binary", self._on_binary,
                                 SENSOR_DATA)

        self.connection = None
        self.source = None
        self._owns_connection = False
        self.static_frames: dict[str, Any] = {}
        # bow_messages: sdk_v1 -> BOW SDK v1 samples on the bow/... topics (None: documented)
        self.v1 = ProprioceptionV1.create(self, node, values)
        if values["connect_to_spot"]:
            self._start_spot(values, connection)
        node.add_on_shutdown(self.close)

    # -- Spot --------------------------------------------------------------------------------
    def _start_spot(self, values: dict[str, Any], connection: Any) -> None:
        from ..spot.connection import SpotConnection
        from ..spot.connection_config import ConnectionConfig
        from ..spot.state import RobotStateSource

        if connection is None:
            connection = SpotConnection.shared(ConnectionConfig.from_params(values), self.log)
            self._owns_connection = True
        self.connection = connection
        self.source = RobotStateSource(connection, self._on_spot_sample, rate_hz=values["rate"],
                                       mode=values["state_source"], logger=self.log)
        if values["camera_frames"]:
            connection.on_connected(lambda robot: threading.Thread(
                target=self._fetch_camera_frames, name="proprioception-camera-frames", daemon=True).start())
        if self._owns_connection:
            try:
                connection.connect()  # start-up policy of every bridge: fail fast, one line
            except Exception:
                connection.shutdown()
                raise
        self.source.start()
        if self.v1 is not None:
            self.v1.start_battery(connection)

    def _fetch_camera_frames(self) -> None:
        from bosdyn.client.exceptions import Error as BosdynError
        from bosdyn.client.image import ImageClient

        from ..spot.state import camera_sensor_frames

        try:
            client = self.connection.ensure_client(ImageClient.default_service_name)
            frames = camera_sensor_frames(client, self.params["camera_sources"], logger=self.log)
        except Exception as err:  # noqa: BLE001 - nothing from the robot may escape this thread
            kind = "" if isinstance(err, BosdynError) else "unexpected "
            say = self.log.debug if self._closing.is_set() else self.log.warning  # Ctrl-C closed the channels
            say(f"camera frames: cannot read image sources ({kind}{type(err).__name__}); "
                "no camera frames on /tf_static")
            return
        if self._closing.is_set():
            return
        if not frames:
            self.log.warning("camera frames: no image source reported a sensor frame")
            return
        try:
            self._publish_static([(f.parent, f.name, f.parent_tform_sensor) for f in frames])
        except Exception:  # a publisher closed by the shutdown (each backend raises its own type)
            if not self._closing.is_set():
                raise
            self.log.debug("camera frames: shutting down, not published")
            return
        self.log.info(f"camera frames: {len(frames)} sensor frames on /tf_static")

    def _publish_static(self, edges: list) -> None:
        """Add (parent, child, pose) edges to the one latched /tf_static message and republish it."""
        stamp = self.node.now()
        make = self.make
        with self._lock:
            for parent, child, pose in edges:
                self.static_frames[child] = transform_stamped_msg(make, stamp, self.prefix + parent,
                                                                  self.prefix + child, pose)
            self.pub_tf_static.publish(tf_message(make, list(self.static_frames.values())))

    # -- robot model (robot_state_publisher's job, without ROS) --------------------------------
    def _load_model(self, joint_names) -> bool:
        """Load the robot model for these joints once; publish robot_description and fixed joints."""
        if self.model is None:
            try:
                self.model = RobotModel.load(choose_model(self._model_setting, joint_names, self.prefix))
            except RobotModelError as err:
                self.log.error(f"{err}: no robot_description and no link transforms")
                self._model_setting = "none"
                return False
        self._model_published = True
        self.pub_description.publish(self.make("std_msgs/msg/String", data=self.model.urdf))
        self._publish_static(self.model.fixed())
        self.log.info(f"robot model {self.model.name}: robot_description and link transforms from joint_states")
        return True

    def _publish_links(self, names, positions, stamp: tuple[int, int]) -> None:
        if not self._model_published and (self._model_setting == "none" or not self._load_model(names)):
            return
        edges = self.model.moving(names, positions, self.prefix)
        if edges:
            make, p = self.make, self.prefix
            self.pub_links.publish(tf_message(make, [transform_stamped_msg(make, stamp, p + a, p + b, pose)
                                                     for a, b, pose in edges]))

    def _on_spot_sample(self, sample: Any) -> None:
        """Robot state (source thread): BOW out, joint_states + imu through BOW, odometry + TF."""
        from ..spot.state import proprioception_from_sample

        conn = self.connection
        stamp_ns = conn.robot_to_local_ns(sample.robot_ns)
        if not self._state_limit.due(stamp_ns):  # `publish_rate`: nothing of this sample is built
            return
        tf = self._tf_limit.due(stamp_ns)
        imu_ns = conn.robot_to_local_ns(sample.imu.robot_ns)
        kin_ns = conn.robot_to_local_ns(sample.kinematics_robot_ns or sample.robot_ns)
        if self.v1 is not None:
            self.v1.on_spot_sample(sample, stamp_ns, imu_ns)
            self._publish_kinematics(sample, stamp_from_ns(kin_ns), tf)
            return
        bow_sample = proprioception_from_sample(sample, convention=self.convention)
        if self.pub_bow is not None:
            self.pub_bow.publish(self.make("std_msgs/msg/UInt8MultiArray", data=bow_sample.SerializeToString()))
        self.publish_bow_sample(bow_sample, stamp_ns, [imu_ns], links=tf)
        self._publish_kinematics(sample, stamp_from_ns(kin_ns), tf)

    def _on_parameters_set(self, changes: dict[str, Any]) -> str | None:
        """Live `publish_rate` / `tf_rate` (`ros2 param set`); the others are read-only."""
        if "publish_rate" in changes:
            self._state_limit.set_rate(changes["publish_rate"])
        if "tf_rate" in changes:
            self._tf_limit.set_rate(changes["tf_rate"])
        self.params = {**self.params, **changes}
        return None

    def _publish_kinematics(self, sample: Any, stamp: tuple[int, int], tf: bool = True) -> None:
        make, p = self.make, self.prefix
        if self.pub_odom is not None:
            linear, angular = sample.body_twist()
            self.pub_odom.publish(odometry_msg(make, stamp, p + "odom", p + "body", sample.odom_tform_body,
                                               linear, angular))
        if self.pub_tf is not None and tf:
            root = self.params["tf_root"]
            try:
                edges = robot_tf_edges(root, sample.odom_tform_body, sample.vision_tform_body)
            except ValueError as err:
                self._error_once(f"tf: {err}")
                return
            if sample.body_tform_hand is not None:
                edges.append(("body", "hand", sample.body_tform_hand))
            self.pub_tf.publish(tf_message(make, [transform_stamped_msg(make, stamp, p + a, p + b, pose)
                                                  for a, b, pose in edges]))

    # -- BOW -> ROS -------------------------------------------------------------------------
    def publish_bow_sample(self, sample: bow.ProprioceptionSample, stamp_ns: int,
                           imu_stamps_ns: list[int] | None = None, links: bool = True) -> bool:
        """Publish joint_states and imu topics for one BOW sample (and, with `robot_model` and
        `links`, the link transforms on /tf); False (and one log line) if malformed."""
        make = self.make
        stamp = stamp_from_ns(stamp_ns)
        try:
            joints, note = joint_state_from_proprioception(make, sample, stamp, prefix=self.prefix)
            imus = []
            for i, imu in enumerate(sample.Imu):
                imu_stamp = stamp_from_ns(imu_stamps_ns[i]) if imu_stamps_ns and i < len(imu_stamps_ns) else stamp
                frame = imu_frame_id(imu, self.prefix, self.default_imu_frame)
                imus.append((imu_topic(i, imu), imu_msg_from_bow(make, imu, imu_stamp, frame, self.convention)))
        except ProprioceptionError as err:
            self.rejected += 1
            self._error_once(f"ProprioceptionSample rejected: {err}; nothing published")
            return False
        if note:
            self._warn_once(note)
        with self._lock:
            if len(joints.name):
                self.pub_joints.publish(joints)
            for topic, msg in imus:
                pub = self.pub_imu.get(topic)
                if pub is None:
                    pub = self.pub_imu[topic] = self.node.create_publisher("sensor_msgs/msg/Imu", topic,
                                                                           SENSOR_PUBLISHER)
                pub.publish(msg)
            self.published += 1
        if self.pub_links is not None and links and len(joints.name):
            self._publish_links(joints.name, joints.position, stamp)
        return True

    def _on_json(self, msg: Any) -> None:
        if self.v1 is not None:
            self.v1.on_input(msg, "bow/proprioception")
            return
        try:
            sample = json_format.Parse(str(msg.data), bow.ProprioceptionSample())
        except json_format.ParseError as err:
            self.rejected += 1
            self._error_once(f"bow/proprioception: not a ProprioceptionSample in protobuf JSON "
                             f"({str(err).splitlines()[0][:200]}); ignored")
            return
        self.publish_bow_sample(sample, time.time_ns())

    def _on_binary(self, msg: Any) -> None:
        if self.v1 is not None:
            self.v1.on_input(msg, "bow/proprioception/binary")
            return
        try:
            data = bytes(memoryview(msg.data)) if not isinstance(msg.data, (bytes, bytearray)) else bytes(msg.data)
            sample = bow.ProprioceptionSample.FromString(data)
        except (DecodeError, TypeError, ValueError) as err:
            self.rejected += 1
            self._error_once(f"bow/proprioception/binary: not a binary ProprioceptionSample ({err}); ignored")
            return
        self.publish_bow_sample(sample, time.time_ns())

    # -- logging helpers --------------------------------------------------------------------
    def _warn_once(self, text: str) -> None:
        if text not in self._warned:
            self._warned.add(text)
            self.log.warning(text)

    def _error_once(self, text: str, every_s: float = 10.0) -> None:
        """Log `text` at once; identical repeats at most every `every_s` seconds, with a count."""
        now = time.monotonic()
        last, count = self._errors.get(text, (None, 0))
        if last is None or now - last >= every_s:
            self.log.error(text if not count else f"{text} (+{count} more)")
            self._errors[text] = (now, 0)
        else:
            self._errors[text] = (last, count + 1)

    # -- lifecycle --------------------------------------------------------------------------
    def close(self) -> None:
        """Stop the state source and the v1 threads; shut the Spot connection down if this bridge
        created it (a shared one is left to its owner)."""
        self._closing.set()
        if self.v1 is not None:
            self.v1.close()
        if self.source is not None:
            self.source.stop()
            self.source = None
        if self.connection is not None and self._owns_connection:
            self.connection.shutdown()
        self.connection = None


def main(argv: list[str] | None = None) -> int:
    """The `proprioception` node executable: run the bridge until shutdown; the exit code."""
    from ..backends.chooser import run_node

    return run_node(NODE_NAME, lambda node: ProprioceptionBridge(node), argv)


if __name__ == "__main__":
    import sys

    sys.exit(main())
