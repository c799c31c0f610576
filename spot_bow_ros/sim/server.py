"""The simulated Spot: one TLS gRPC endpoint on 127.0.0.1 serving real bosdyn services.

`SimulatedSpot` assembles the robot's infrastructure services (auth, robot id, directory,
directory registration, payload registration, time sync, faults; this package) with the robot
body (`robot.SimRobot`: lease, estop, power, state, commands) and cameras
(`cameras.SimCameras`: image service), all routed by `:authority` (`router.py`).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import tempfile
import threading
import uuid
from collections import deque
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
from bosdyn.api import (
    auth_service_pb2_grpc,
    directory_registration_service_pb2_grpc,
    directory_service_pb2_grpc,
    fault_service_pb2_grpc,
    payload_pb2,
    payload_registration_service_pb2_grpc,
    robot_id_service_pb2_grpc,
    time_sync_service_pb2_grpc,
)

from .auth import AuthServicer
from .certs import generate_certificates
from .clock import RobotClock
from .directory import Directory, DirectoryRegistrationServicer, DirectoryServicer
from .faults import FaultServicer, FaultStore
from .payloads import PayloadRegistrationServicer, PayloadRegistry
from .robot_id import RobotIdServicer, make_robot_id
from .router import AuthorityRouter
from .time_sync import TimeSyncServicer
from .tokens import TokenAuthority

_LOGGER = logging.getLogger(__name__)

STATE_FILE = "sim_state.json"
MAX_MESSAGE_LENGTH = 100 * 1024 * 1024


class SimStartError(RuntimeError):
    """The simulator could not start (e.g. the port is taken)."""


def _load_state(state_dir: Path, username: str, password: str | None, payload_guid: str | None,
                payload_secret: str | None) -> dict[str, Any]:
    """Credentials and token key, kept in `state_dir` so a restarted simulator is the same robot."""
    path = state_dir / STATE_FILE
    state: dict[str, Any] = {}
    if path.is_file():
        try:
            state = json.loads(path.read_text())
        except (OSError, ValueError):
            _LOGGER.warning("sim: unreadable %s; creating new credentials", path)
            state = {}
    state.setdefault("token_key", secrets.token_hex(32))
    state.setdefault("serial_number", f"sim-{secrets.token_hex(3)}")
    state.setdefault("password", secrets.token_urlsafe(12))
    state.setdefault("payload_guid", str(uuid.uuid4()))
    state.setdefault("payload_secret", secrets.token_urlsafe(16))
    state["username"] = username
    if password is not None:
        state["password"] = password
    if payload_guid is not None:
        state["payload_guid"] = payload_guid
    if payload_secret is not None:
        state["payload_secret"] = payload_secret
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(state, f)
    return state


class SimulatedSpot:
    """A simulated Spot on 127.0.0.1 that unchanged bosdyn clients talk to over verified TLS.

    `port` 0 picks a free port. `clock_offset_s`/`clock_drift_ppm` define the robot clock
    relative to this host's clock. `state_dir` keeps the CA, server certificate, credentials
    and token key; a simulator restarted with the same `state_dir` (and port) is the same
    robot to its clients. Without it a temporary directory is used and removed on `stop()`.
    Credentials not given are generated (random password, payload GUID and secret).
    `body=False` serves only the infrastructure services (no SimRobot/SimCameras).
    `colour_cameras=True`: body cameras are RGB_U8 (default GREYSCALE_U8, as older robots).
    `streaming_licence=False`: a robot without the joint-level licence, whose robot-state stream
    fails (see sim/state.py). Faults are injected through `robot` (`SimRobot.inject_*`); hardware
    E-Stops are pressed with `press_hardware_estop` / `release_hardware_estop`.
    `estop_required` (default True, as a real Spot): motor power needs a registered E-Stop
    endpoint that allows it; False is the permissive robot of `spot-bow-ros sim --no-estop`.
    `power_on_s` / `power_off_s`: how long motor power-on / power-off take (s; a real Spot about
    1 s; several seconds to test what waits behind a blocking power call, `--slow-power`).
    `camera_rate_hz`: frame rate of every camera (default 15 Hz, as a real Spot's body cameras).
    `time_sync_ready_after_s`: time sync answers STATUS_MORE_SAMPLES_NEEDED for that long after
    start (a robot that has just booted); RobotCommands with an end_time need a synced clock.
    """

    def __init__(self, port: int = 0, arm: bool = True, clock_offset_s: float = 0.0,
                 clock_drift_ppm: float = 0.0, username: str = "user", password: str | None = None,
                 state_dir: str | os.PathLike | None = None, payload_guid: str | None = None,
                 payload_secret: str | None = None, auto_authorize_payloads: bool = True,
                 max_workers: int = 32, host: str = "127.0.0.1", body: bool = True,
                 colour_cameras: bool = False, camera_rate_hz: float = 15.0,
                 streaming_licence: bool = True, estop_required: bool = True,
                 time_sync_ready_after_s: float = 0.0, power_on_s: float = 1.0,
                 power_off_s: float = 0.5):
        self.requested_port = int(port)
        self.arm = bool(arm)
        self.colour_cameras = bool(colour_cameras)
        self.camera_rate_hz = float(camera_rate_hz)
        self.streaming_licence = bool(streaming_licence)
        self.host = host
        self.clock = RobotClock.starting_now(clock_offset_s, clock_drift_ppm)
        self._username = username
        self._password = password
        self._payload_guid = payload_guid
        self._payload_secret = payload_secret
        self._state_dir_arg = Path(state_dir) if state_dir is not None else None
        self._max_workers = max_workers
        self._body = bool(body)
        self.estop_required = bool(estop_required)
        self.power_on_s, self.power_off_s = float(power_on_s), float(power_off_s)
        self.time_sync = TimeSyncServicer(self.clock, ready_after_s=time_sync_ready_after_s)
        self._body_thread: threading.Thread | None = None
        #: Exception that stopped the body from starting (None if fine).
        self.body_error: BaseException | None = None
        self._lock = threading.Lock()
        self._server: grpc.Server | None = None
        self._owned_dir: Path | None = None
        self.port: int | None = None
        self.robot = None
        self.cameras = None
        self.directory = Directory(self.clock)
        self.faults = FaultStore()
        self.payloads = PayloadRegistry(auto_authorize=auto_authorize_payloads)
        #: Recent calls as (method, authority), newest last.
        self.calls: deque[tuple[str, str]] = deque(maxlen=1000)
        self.certificates = None
        self.router: AuthorityRouter | None = None
        self._state: dict[str, Any] = {}

    # -- lifecycle ------------------------------------------------------------------------
    def __enter__(self) -> SimulatedSpot:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self, wait_body: bool = True) -> SimulatedSpot:
        """Listen and serve. Returns once every service is mounted, or with `wait_body=False`
        as soon as the endpoint listens (the body mounts in the background; calls that need it
        wait for it, see router.py). `wait_ready()` waits for the body.
        """
        with self._lock:
            if self._server is not None:
                return self
            try:
                self._start_locked()
            except BaseException:
                self._stop_locked(0)
                raise
            if self._body and wait_body:
                self._finish_body()
                if self.body_error is not None:
                    self._stop_locked(0)
                    raise self.body_error
            elif self._body:
                self._body_thread = threading.Thread(target=self._finish_body, daemon=True,
                                                     name="spot-sim-body")
                self._body_thread.start()
            else:
                self.router.ready.set()
        return self

    def _finish_body(self) -> None:
        try:
            self._mount_body()
            for part in (self.robot, self.cameras):
                if part is not None and hasattr(part, "start"):
                    part.start()
        except Exception as err:
            self.body_error = err
            _LOGGER.exception("sim: the robot body failed to start; only infrastructure services run")
        finally:
            self.router.ready.set()

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Wait until every service (body included) is mounted."""
        return self.router is not None and self.router.ready.wait(timeout)

    def _start_locked(self) -> None:
        if self._state_dir_arg is None:
            self._owned_dir = Path(tempfile.mkdtemp(prefix="spot_sim_"))
            state_dir = self._owned_dir
        else:
            state_dir = self._state_dir_arg
            state_dir.mkdir(parents=True, exist_ok=True)
        self.certificates = generate_certificates(state_dir)
        self._state = _load_state(state_dir, self._username, self._password, self._payload_guid,
                                  self._payload_secret)
        tokens = TokenAuthority(bytes.fromhex(self._state["token_key"]))
        self.payloads.register(payload_pb2.Payload(
            GUID=self._state["payload_guid"], name="spot_bow_ros payload",
            description="payload computer of the simulated Spot", is_authorized=True),
            self._state["payload_secret"])

        self.router = AuthorityRouter(self.directory, tokens,
                                      on_call=lambda m, a: self.calls.append((m, a)))
        self._mount(auth_service_pb2_grpc.add_AuthServiceServicer_to_server,
                    AuthServicer(self._username, self._state["password"], tokens, self.clock),
                    "auth", "bosdyn.api.AuthService", "auth.spot.robot", token=False)
        self._mount(robot_id_service_pb2_grpc.add_RobotIdServiceServicer_to_server,
                    RobotIdServicer(make_robot_id(self._state["serial_number"], "sim-spot", self.arm),
                                    self.clock),
                    "robot-id", "bosdyn.api.RobotIdService", "id.spot.robot", token=False)
        self._mount(payload_registration_service_pb2_grpc.add_PayloadRegistrationServiceServicer_to_server,
                    PayloadRegistrationServicer(self.payloads, tokens, self.clock),
                    "payload-registration", "bosdyn.api.PayloadRegistrationService",
                    "payload-registration.spot.robot", token=False)
        self._mount(directory_service_pb2_grpc.add_DirectoryServiceServicer_to_server,
                    DirectoryServicer(self.directory, self.clock),
                    "directory", "bosdyn.api.DirectoryService", "api.spot.robot")
        self._mount(directory_registration_service_pb2_grpc.add_DirectoryRegistrationServiceServicer_to_server,
                    DirectoryRegistrationServicer(self.directory, self.clock),
                    "directory-registration", "bosdyn.api.DirectoryRegistrationService", "api.spot.robot")
        self._mount(time_sync_service_pb2_grpc.add_TimeSyncServiceServicer_to_server,
                    self.time_sync, "time-sync", "bosdyn.api.TimeSyncService",
                    "api.spot.robot")
        self._mount(fault_service_pb2_grpc.add_FaultServiceServicer_to_server,
                    FaultServicer(self.faults, self.clock), "fault", "bosdyn.api.FaultService",
                    "api.spot.robot")

        server = grpc.server(futures.ThreadPoolExecutor(max_workers=self._max_workers,
                                                        thread_name_prefix="spot-sim"),
                             handlers=[self.router],
                             options=[("grpc.so_reuseport", 0),
                                      ("grpc.max_receive_message_length", MAX_MESSAGE_LENGTH),
                                      ("grpc.max_send_message_length", MAX_MESSAGE_LENGTH)])
        credentials = grpc.ssl_server_credentials(
            [(self.certificates.server_key_pem, self.certificates.server_cert_pem)])
        address = f"{self.host}:{self.requested_port}"
        try:
            port = server.add_secure_port(address, credentials)
        except RuntimeError as err:
            raise SimStartError(f"simulated Spot cannot listen on {address}: {err}") from err
        if not port:
            raise SimStartError(f"simulated Spot cannot listen on {address} (port in use?)")
        self._server = server
        self.port = port
        server.start()
        _LOGGER.info("simulated Spot listening on %s:%d (arm=%s, robot clock offset %+.3f s, "
                     "drift %+.1f ppm)", self.host, port, self.arm, self.clock.offset_s,
                     self.clock.drift_ppm)

    def _mount(self, add_fn, servicer, name: str, service_type: str, authority: str,
               token: bool = True) -> None:
        self.router.add_servicer(add_fn, servicer, user_token_required=token)
        self.directory.add_robot_service(name, service_type, authority, user_token_required=token)

    def _mount_body(self) -> None:
        # The body (physics, cameras: numpy, OpenCV) is imported when a simulator starts it, not
        # when `spot_bow_ros.sim` is imported (`spot-bow-ros --help`, the sim CLI's usage errors).
        from .cameras import SimCameras
        from .robot import SimRobot

        self.robot = SimRobot(self.clock, arm=self.arm, streaming_licence=self.streaming_licence,
                              estop_required=self.estop_required, power_on_s=self.power_on_s,
                              power_off_s=self.power_off_s)
        self.robot.fault_store = self.faults
        self.robot.command_servicer.time_sync_ok = self.time_sync.is_synced   # commands with end_time need time sync
        for add_fn, servicer, name, service_type, authority in self.robot.servicers():
            self._mount(add_fn, servicer, name, service_type, authority)
        self.cameras = SimCameras(self.robot, self.clock, arm=self.arm, colour_body=self.colour_cameras,
                                  rate_hz=self.camera_rate_hz)
        for add_fn, servicer, name, service_type, authority in self.cameras.servicers():
            self._mount(add_fn, servicer, name, service_type, authority)

    def stop(self, grace: float = 0.5) -> None:
        """Stop serving (in-flight calls get `grace` seconds), stop the body, remove temp files."""
        with self._lock:
            self._stop_locked(grace)

    def _stop_locked(self, grace: float) -> None:
        if self._body_thread is not None:
            self._body_thread.join(timeout=30.0)
            self._body_thread = None
        server, self._server = self._server, None
        if server is not None:
            server.stop(grace).wait(grace + 2.0)
        for part in (self.cameras, self.robot):
            if part is not None and hasattr(part, "stop"):
                try:
                    part.stop()
                except Exception:
                    _LOGGER.exception("sim: error stopping %s", type(part).__name__)
        if self.router is not None:
            self.router.close()
        if self._owned_dir is not None:
            shutil.rmtree(self._owned_dir, ignore_errors=True)
            self._owned_dir = None
        if server is not None:
            _LOGGER.info("simulated Spot on port %s stopped", self.port)

    def press_hardware_estop(self, name: str = "hardware_estop", description: str | None = None) -> None:
        """Press the robot's hardware E-Stop `name` (or "payload_estop"): `SimRobot.press_hardware_estop`."""
        self.robot.press_hardware_estop(name, description)

    def release_hardware_estop(self, name: str = "hardware_estop") -> None:
        """Release it again: `SimRobot.release_hardware_estop`."""
        self.robot.release_hardware_estop(name)

    def step_clock(self, delta_s: float) -> None:
        """The robot's clock jumps by `delta_s` s (same boot, same time-sync clock identifiers):
        every service reads the new time; the time-sync service rebuilds its estimates from
        round trips measured after the step (sim/time_sync.py)."""
        self.clock.step(delta_s)
        self.time_sync.clock_stepped()
        _LOGGER.info("simulated Spot: robot clock stepped by %+.3f s", delta_s)

    # -- what clients need ----------------------------------------------------------------
    @property
    def info(self) -> dict[str, Any]:
        """hostname, port, ca_cert (path), username, password, payload_guid, payload_secret, ..."""
        if self.certificates is None:
            raise RuntimeError("SimulatedSpot.info is known after start()")
        return {
            "hostname": self.host,
            "port": self.port,
            "ca_cert": str(self.certificates.ca_cert_path),
            "username": self._username,
            "password": self._state["password"],
            "payload_guid": self._state["payload_guid"],
            "payload_secret": self._state["payload_secret"],
            "serial_number": self._state["serial_number"],
            "arm": self.arm,
            "streaming_licence": self.streaming_licence,
            "estop_required": self.estop_required,
            "clock_offset_s": self.clock.offset_s,
            "clock_drift_ppm": self.clock.drift_ppm,
            "pid": os.getpid(),
        }

    def write_info(self, path: str | os.PathLike) -> Path:
        """Write `info` as JSON atomically (readers never see a partial file), mode 0600."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(self.info, f, indent=2)
        os.replace(tmp, path)
        return path
