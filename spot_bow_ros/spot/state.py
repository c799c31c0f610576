"""Spot robot state in: polling `RobotStateClient` or the BETA robot-state *streaming* service.

`RobotStateSource(connection, on_sample, rate_hz, mode)` runs one thread that delivers
`SpotStateSample`s (robot-clock acquisition times, Spot's REP 103 frames) to `on_sample`:

- `mode="streaming"`: `RobotStateStreamingClient.get_robot_state_stream()` — joints, kinematic
  state and IMU packets (acceleration, angular velocity, odom_rot_link) at the robot's rate
  (333 Hz on Spot). Its joint arrays carry no names: they are in `JointIndex` order (12, or 19
  with an arm), named from the joint list learned from the robot by one `get_robot_state`
  before the stream opens (`convert.joints.stream_layout`); another count is an error.
  The stream has no frame tree, so with an arm a low-rate `get_robot_state` poll
  (`frame_poll_hz`) supplies `body_tform_hand` for the hand cameras' TF.
- `mode="polling"`: `get_robot_state` every 1/rate_hz s. Joints by name as the robot lists
  them; entries without a position (`arm0.hr0` on arm robots: listed, no data; a fixed joint in
  the Spot URDF) are left out, so both paths give the same 19 (or 12) joints. No IMU packets
  on this path: the IMU is synthesised from the kinematic state (orientation = odom_tform_body
  rotation, angular velocity = body velocity rotated into body axes, acceleration unknown).
- `mode="auto"` (default): streaming first; ANY streaming failure (no such service, an RPC
  error such as the PERMISSION_DENIED of a robot without the joint-level licence, data that
  does not decode, a joint count that does not fit the robot) switches to polling with one log
  line naming the cause. Streaming is tried again after a reconnection (it may be another robot).
- `mode="streaming"` never falls back: failures are logged (once per distinct cause) and retried.

No exception leaves the source thread: robot errors are logged and retried, and a failing
`on_sample` consumer is logged once per distinct error.

Losing the robot is the connection's business (`spot.connection`): the source waits for it
to come back and carries on, one log line per change.

`camera_sensor_frames(image_client)` reads each image source's sensor frame and its pose
(from the images' transform snapshots) for `/tf_static`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bosdyn.client.exceptions import Error as BosdynError
from bosdyn.client.robot_state import RobotStateClient, RobotStateStreamingClient

from ..bow import bow_data_pb2 as bow
from ..bow.frames import DEFAULT_CONVENTION, AxisConvention
from ..bow.frames import quaternion_conjugate as quat_conjugate  # convert.odometry's name for it
from ..convert.imu import bow_imu_from_spot_packet
from ..convert.joints import (
    ProprioceptionError,
    proprioception_from_spot_joints,
    robot_has_arm,
    stream_joint_names,
    stream_layout,
)
from ..convert.odometry import (
    IDENTITY,
    Pose,
    body_twist_from_odom_velocity,
    pose_from_proto,
    pose_inverse,
    pose_multiply,
    rotate,
)

Vec3 = tuple[float, float, float]
MODES = ("auto", "streaming", "polling")


class StateError(Exception):
    """Robot state could not be read or interpreted (the message says what)."""


@dataclass(frozen=True)
class ImuPacket:
    """One IMU reading in the mounting link's REP 103 axes; acceleration None when unknown."""

    robot_ns: int
    angular_velocity: Vec3
    odom_rot_link: tuple[float, float, float, float]
    acceleration: Vec3 | None = None
    link_name: str = "body"
    position_rt_link: Vec3 = (0.0, 0.0, 0.0)


@dataclass(frozen=True)
class SpotStateSample:
    """Robot state at one instant. Times: robot clock, ns since the epoch. Units: m, rad, s, N·m.

    `velocity_*_odom`: body velocity expressed in odom. `body_tform_hand`: None without arm or
    when not known. `source`: "polling" or "streaming".
    """

    robot_ns: int
    joint_names: tuple[str, ...]
    position: tuple[float, ...]
    velocity: tuple[float, ...]
    load: tuple[float, ...]
    odom_tform_body: Pose
    vision_tform_body: Pose | None
    linear_velocity_odom: Vec3
    angular_velocity_odom: Vec3
    imu: ImuPacket
    body_tform_hand: Pose | None = None
    source: str = "polling"
    kinematics_robot_ns: int = 0

    def body_twist(self) -> tuple[Vec3, Vec3]:
        """(linear m/s, angular rad/s) of the body in body axes."""
        return body_twist_from_odom_velocity(self.odom_tform_body[1], self.linear_velocity_odom,
                                             self.angular_velocity_odom)


def _ns(ts: Any) -> int:
    return int(ts.seconds) * 1_000_000_000 + int(ts.nanos)


def _vec(v: Any) -> Vec3:
    return (float(v.x), float(v.y), float(v.z))


def _root_tform(edges: Any, frame: str) -> tuple[str, Pose] | None:
    """(root frame, root_tform_frame) by walking child -> parent edges (None if broken/cyclic)."""
    pose: Pose = IDENTITY
    seen = 0
    while True:
        edge = edges.get(frame) if hasattr(edges, "get") else (edges[frame] if frame in edges else None)
        if edge is None:
            return None
        if not edge.parent_frame_name:
            return frame, pose
        pose = pose_multiply(pose_from_proto(edge.parent_tform_child), pose)
        frame = edge.parent_frame_name
        seen += 1
        if seen > 64:
            return None


def _frame_pose(tree: Any, a: str, b: str) -> Pose | None:
    """a_tform_b from a bosdyn FrameTreeSnapshot (like frame_helpers.get_a_tform_b, ~10x faster)."""
    edges = tree.child_to_parent_edge_map
    if a not in edges or b not in edges:
        return None
    ra, rb = _root_tform(edges, a), _root_tform(edges, b)
    if ra is None or rb is None or ra[0] != rb[0]:
        return None
    return pose_multiply(pose_inverse(ra[1]), rb[1])


def _kinematic_imu(robot_ns: int, odom_tform_body: Pose, angular_velocity_odom: Vec3) -> ImuPacket:
    rot = odom_tform_body[1]
    return ImuPacket(robot_ns, rotate(quat_conjugate(rot), angular_velocity_odom), rot, None, "body")


def polled_joint_names(state: Any) -> tuple[str, ...]:
    """Every joint name a polled `RobotState` lists (with `arm0.hr0` on arm robots)."""
    return tuple(j.name for j in state.kinematic_state.joint_states)


def sample_from_robot_state(state: Any) -> SpotStateSample:
    """`bosdyn.api.RobotState` (get_robot_state) -> SpotStateSample; IMU from kinematics.

    Joints by name in the robot's order; entries without a position (`arm0.hr0`) are left out;
    a missing velocity or load reads 0.
    """
    ks = state.kinematic_state
    joints = [j for j in ks.joint_states if j.HasField("position")]
    if not joints:
        raise StateError("robot state has no joint states")
    names = tuple(j.name for j in joints)
    position = tuple(j.position.value for j in joints)
    velocity = tuple(j.velocity.value for j in joints)
    load = tuple(j.load.value for j in joints)
    tree = ks.transforms_snapshot
    odom_tform_body = _frame_pose(tree, "odom", "body")
    if odom_tform_body is None:
        raise StateError("robot state frame tree lacks odom/body")
    vision_tform_body = _frame_pose(tree, "vision", "body")
    robot_ns = _ns(ks.acquisition_timestamp)
    w_odom = _vec(ks.velocity_of_body_in_odom.angular)
    return SpotStateSample(
        robot_ns=robot_ns, joint_names=names, position=position, velocity=velocity, load=load,
        odom_tform_body=odom_tform_body, vision_tform_body=vision_tform_body,
        linear_velocity_odom=_vec(ks.velocity_of_body_in_odom.linear), angular_velocity_odom=w_odom,
        imu=_kinematic_imu(robot_ns, odom_tform_body, w_odom),
        body_tform_hand=_frame_pose(tree, "body", "hand"), source="polling", kinematics_robot_ns=robot_ns)


def sample_from_stream(resp: Any, body_tform_hand: Pose | None = None,
                       layout: Sequence[str] | None = None) -> SpotStateSample:
    """`bosdyn.api.RobotStateStreamResponse` -> SpotStateSample (IMU: the newest packet).

    `layout`: the stream's joint names learned from the robot (`convert.joints.stream_layout`);
    without it 12 values are legs and 19 legs + arm. Raises StateError for data that does not fit.
    """
    js, ks, ins = resp.joint_states, resp.kinematic_state, resp.inertial_state
    try:
        names = stream_joint_names(len(js.position), layout)
    except ProprioceptionError as err:
        raise StateError(str(err)) from None
    if len(js.velocity) not in (0, len(names)) or len(js.load) not in (0, len(names)):
        raise StateError("robot state stream joint arrays differ in length")
    odom_tform_body = pose_from_proto(ks.odom_tform_body)
    vision_tform_body = pose_from_proto(ks.vision_tform_body) if ks.HasField("vision_tform_body") else None
    w_odom = _vec(ks.velocity_of_body_in_odom.angular)
    robot_ns = _ns(js.acquisition_timestamp)
    if ins.packets:
        p = max(ins.packets, key=lambda pk: _ns(pk.timestamp))
        r = p.odom_rot_link
        imu = ImuPacket(_ns(p.timestamp), _vec(p.angular_velocity_rt_odom_in_link_frame),
                        (float(r.x), float(r.y), float(r.z), float(r.w)),
                        _vec(p.acceleration_rt_odom_in_link_frame), ins.mounting_link_name or "body",
                        _vec(ins.position_imu_rt_link))
    else:
        imu = _kinematic_imu(_ns(ks.acquisition_timestamp), odom_tform_body, w_odom)
    return SpotStateSample(
        robot_ns=robot_ns, joint_names=names, position=tuple(js.position), velocity=tuple(js.velocity),
        load=tuple(js.load), odom_tform_body=odom_tform_body, vision_tform_body=vision_tform_body,
        linear_velocity_odom=_vec(ks.velocity_of_body_in_odom.linear), angular_velocity_odom=w_odom,
        imu=imu, body_tform_hand=body_tform_hand if robot_has_arm(names) else None, source="streaming",
        kinematics_robot_ns=_ns(ks.acquisition_timestamp))


def proprioception_from_sample(sample: SpotStateSample, prefix: str = "",
                               convention: AxisConvention = DEFAULT_CONVENTION) -> bow.ProprioceptionSample:
    """SpotStateSample -> BOW ProprioceptionSample: URDF joint names (with `prefix`), RADIANS,
    NEWTON_METRES, and one IMU (body) in the BOW axes of `convention`."""
    out = proprioception_from_spot_joints(sample.joint_names, sample.position, sample.velocity, sample.load,
                                          prefix)
    imu = sample.imu
    out.Imu.append(bow_imu_from_spot_packet(imu.acceleration, imu.angular_velocity, imu.odom_rot_link,
                                            imu.link_name, imu.position_rt_link, convention))
    return out


# -- the source thread ---------------------------------------------------------------------------

def _error_text(err: BaseException) -> str:
    """`Type: first line of the message` (the message alone if it already names the type)."""
    first = str(err).splitlines()[0] if str(err) else ""
    name = type(err).__name__
    return first if first.startswith(name) else (f"{name}: {first}" if first else name)


class RobotStateSource:
    """Delivers `SpotStateSample`s from a `SpotConnection` to `on_sample` on its own thread."""

    def __init__(self, connection: Any, on_sample: Callable[[SpotStateSample], None], rate_hz: float = 50.0,
                 mode: str = "auto", logger: Any = None, frame_poll_hz: float = 10.0,
                 rpc_timeout: float = 1.0):
        if mode not in MODES:
            raise ValueError(f"robot state mode {mode!r} is not one of {', '.join(MODES)}")
        if not rate_hz > 0:
            raise ValueError(f"robot state rate must be > 0 Hz, got {rate_hz}")
        import logging
        self.connection = connection
        self.on_sample = on_sample
        self.period = 1.0 / rate_hz
        self.mode = mode
        self.frame_poll_period = 1.0 / frame_poll_hz if frame_poll_hz > 0 else 0.0
        self.rpc_timeout = rpc_timeout
        self._log = logger or logging.getLogger(__name__)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._frame_thread: threading.Thread | None = None
        self._call: Any = None  # the active stream (cancel() on stop)
        self._hand: Pose | None = None
        self._streaming_failed = False
        self.fallback_reason = ""    # why auto mode polls (empty while streaming works)
        self.joint_names: tuple[str, ...] | None = None   # learned from the robot (polled names)
        self.active_mode: str | None = None  # "streaming" | "polling" once running
        self.samples = 0
        self.repeated = 0    # states delivered again with the same acquisition time (not passed on)
        self._last_robot_ns: int | None = None
        self.errors = 0
        self._consumer_errors: set[str] = set()
        connection.register_client(RobotStateStreamingClient)
        if hasattr(connection, "on_connected"):
            connection.on_connected(self._on_reconnect)

    def _on_reconnect(self, _robot: Any) -> None:
        """A new connection may be another robot: learn its joints and try streaming again."""
        if self.active_mode is None:
            return
        self.joint_names = None
        if self._streaming_failed:
            self._streaming_failed = False
            self.fallback_reason = ""

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="spot-robot-state", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        call = self._call
        if call is not None:
            try:
                call.cancel()
            except Exception:  # noqa: BLE001 - cancelling a finished call is fine
                pass
        for thread in (self._thread, self._frame_thread):
            if thread is not None and thread is not threading.current_thread():
                thread.join(timeout=3.0)

    # -- loop -----------------------------------------------------------------------------
    def _run(self) -> None:
        waiting_logged = False
        last_error = None
        while not self._stop.is_set():
            if not self.connection.wait_until_connected(timeout=0.5):
                if not waiting_logged:
                    self._log.info("robot state: waiting for the connection to Spot")
                    waiting_logged = True
                continue
            waiting_logged = False
            try:
                if self._want_streaming():
                    self._stream()
                else:
                    self._poll()
                last_error = None
            except Exception as err:  # noqa: BLE001 - nothing from the robot may end this thread
                if self._stop.is_set():
                    break
                self.errors += 1
                text = _error_text(err)
                if not isinstance(err, (BosdynError, StateError)):
                    text = f"unexpected {text}"
                if text != last_error:
                    self._log.warning(f"robot state: {text}; retrying")
                    last_error = text
                self._stop.wait(0.2)

    def _want_streaming(self) -> bool:
        if self.mode == "polling":
            return False
        if self.mode == "streaming":
            return True
        return not self._streaming_failed

    def _set_mode(self, mode: str, why: str = "") -> None:
        if mode != self.active_mode:
            self.active_mode = mode
            self._log.info(f"robot state: {mode}{' (' + why + ')' if why else ''}")

    def _poll(self) -> None:
        client = self.connection.ensure_client(RobotStateClient.default_service_name)
        rate = f"{1.0 / self.period:.0f} Hz"
        next_t = time.monotonic()
        while not self._stop.is_set() and self.connection.connected and not self._want_streaming():
            state = client.get_robot_state(timeout=self.rpc_timeout)
            self.joint_names = polled_joint_names(state)
            why = f"{rate}; streaming failed: {self.fallback_reason}" if self.fallback_reason else rate
            self._set_mode("polling", why)
            self._deliver(sample_from_robot_state(state))
            next_t += self.period
            delay = next_t - time.monotonic()
            if delay < -0.5:  # far behind (robot or machine stalled): restart the schedule
                next_t = time.monotonic()
            elif delay > 0:
                self._stop.wait(delay)
            # slightly behind: poll again at once, so the average rate holds

    def _learn_joints(self) -> tuple[str, ...]:
        """The robot's joint names (one get_robot_state unless already known)."""
        if self.joint_names is None:
            client = self.connection.ensure_client(RobotStateClient.default_service_name)
            self.joint_names = polled_joint_names(client.get_robot_state(timeout=self.rpc_timeout))
        return self.joint_names

    def _stream_failed(self, reason: str) -> None:
        """In auto mode: poll from now on (the poll loop logs the one line); else raise."""
        if self.mode == "auto":
            self._streaming_failed = True
            self.fallback_reason = reason
            return
        raise StateError(reason)

    def _stream(self) -> None:
        import grpc

        layout = stream_layout(self._learn_joints())
        try:
            client = self.connection.ensure_client(RobotStateStreamingClient.default_service_name)
        except BosdynError as err:
            return self._stream_failed(f"no robot-state streaming service ({_error_text(err)})")
        try:
            call = client.get_robot_state_stream()
        except (BosdynError, grpc.RpcError) as err:
            return self._stream_failed(f"cannot open the stream ({_error_text(err)})")
        self._call = call
        try:
            for resp in call:
                if self._stop.is_set():
                    break
                error = resp.header.error
                if error.code > 1:   # not CODE_UNSPECIFIED or CODE_OK: the robot reports an error
                    name = error.DESCRIPTOR.fields_by_name["code"].enum_type.values_by_number.get(error.code)
                    raise StateError(f"robot reports {name.name if name else error.code}"
                                     f"{': ' + error.message if error.message else ''}")
                sample = sample_from_stream(resp, self._hand, layout)
                if self.active_mode != "streaming":
                    self._set_mode("streaming", "robot-state streaming service")
                    self._start_frame_poll(robot_has_arm(layout))
                self._deliver(sample)
        except grpc.RpcError as err:
            if self._stop.is_set():
                return
            code = err.code() if hasattr(err, "code") else None
            name = getattr(code, "name", str(code))
            details = err.details() if hasattr(err, "details") else ""
            return self._stream_failed(f"{name}{': ' + details if details else ''}")
        except StateError as err:
            reason = str(err) if str(err).startswith("robot reports") else f"undecodable stream data: {err}"
            return self._stream_failed(reason)
        except Exception as err:  # noqa: BLE001 - e.g. a malformed message
            if self._stop.is_set():
                return
            return self._stream_failed(f"undecodable stream data: {_error_text(err)}")
        finally:
            self._call = None
        if not self._stop.is_set():
            self._stream_failed("the robot closed the stream")

    def _deliver(self, sample: SpotStateSample) -> None:
        """Pass `sample` on, once: a robot state with the acquisition time of the previous one
        (polled twice while the robot had no newer state) would repeat a stamp on joint_states
        and /tf, which tf2 rejects as TF_REPEATED_DATA."""
        if sample.robot_ns == self._last_robot_ns:
            self.repeated += 1
            return
        self._last_robot_ns = sample.robot_ns
        self.samples += 1
        try:
            self.on_sample(sample)
        except Exception as err:  # noqa: BLE001 - a consumer bug must not kill the source
            self.errors += 1
            text = f"robot state consumer failed: {type(err).__name__}: {err}"
            if text not in self._consumer_errors:  # once per distinct problem, not per sample
                self._consumer_errors.add(text)
                self._log.error(text)

    # -- hand pose for streaming mode ------------------------------------------------------
    def _start_frame_poll(self, has_arm: bool) -> None:
        if not has_arm or not self.frame_poll_period or self._frame_thread is not None:
            return
        self._frame_thread = threading.Thread(target=self._frame_poll, name="spot-robot-frames", daemon=True)
        self._frame_thread.start()

    def _frame_poll(self) -> None:
        while not self._stop.wait(self.frame_poll_period):
            if not self.connection.connected or self.active_mode != "streaming":
                continue   # polling reads the hand pose with every state
            try:
                client = self.connection.ensure_client(RobotStateClient.default_service_name)
                state = client.get_robot_state(timeout=self.rpc_timeout)
                self._hand = _frame_pose(state.kinematic_state.transforms_snapshot, "body", "hand")
            except Exception:  # noqa: BLE001 - the hand pose is optional; the next poll retries
                continue


# -- camera sensor frames for /tf_static -----------------------------------------------------------

@dataclass(frozen=True)
class SensorFrame:
    """A camera sensor frame and its fixed pose in `parent` ("body", or "hand" for gripper cameras)."""

    name: str
    parent: str
    parent_tform_sensor: Pose
    source: str


def _ancestors(tree: Any, frame: str) -> list[str]:
    out: list[str] = []
    edges = tree.child_to_parent_edge_map
    while frame in edges and edges[frame].parent_frame_name and len(out) < 64:
        frame = edges[frame].parent_frame_name
        out.append(frame)
    return out


def sensor_frame_from_capture(shot: Any, source: str) -> SensorFrame | None:
    """The sensor frame of one `ImageCapture`: under `hand` if it hangs off the hand or the wrist
    (`arm0.link_wr1`, fixed to the hand, as on a real Spot), else `body`."""
    name = shot.frame_name_image_sensor
    tree = shot.transforms_snapshot
    if not name or name not in tree.child_to_parent_edge_map:
        return None
    parent = "hand" if {"hand", "arm0.link_wr1"} & set(_ancestors(tree, name)) else "body"
    pose = _frame_pose(tree, parent, name)
    return None if pose is None else SensorFrame(name, parent, pose, source)


def camera_sensor_frames(image_client: Any, sources: Sequence[str] | None = None, timeout: float = 5.0,
                         logger: Any = None) -> list[SensorFrame]:
    """Sensor frames of the robot's image sources (all listed sources when `sources` is empty).

    Asks for one small image per source (all in one GetImage call; one by one if the robot
    refuses the batch) and reads `frame_name_image_sensor` and the transform snapshot.
    Sources that fail are skipped (logged once each). Frames are unique by name.
    """
    from bosdyn.client.image import build_image_request

    if not sources:
        sources = [s.name for s in image_client.list_image_sources(timeout=timeout)]
    requests = [build_image_request(s, quality_percent=25) for s in sources]
    responses: list[Any] = []
    try:
        responses = list(image_client.get_image(requests, timeout=timeout))
    except BosdynError:
        for req in requests:
            try:
                responses.extend(image_client.get_image([req], timeout=timeout))
            except BosdynError as err:
                if logger is not None:
                    logger.warning(f"camera frames: source {req.image_source_name} failed "
                                   f"({type(err).__name__}); its frame is not in /tf_static")
    frames: dict[str, SensorFrame] = {}
    for resp in responses:
        frame = sensor_frame_from_capture(resp.shot, resp.source.name)
        if frame is not None:
            frames.setdefault(frame.name, frame)
    return list(frames.values())
