"""`spot-bow-ros run`: every bridge in one process, without ROS, against a robot or the simulator.

With no `--hostname` the built-in simulated Spot starts in its own process (so it never competes
with the bridges for the GIL) and the bridges connect to it through its info file, exactly as
they would to a robot. Topics go out over DDS with ROS 2 conventions (`ros2 topic list` on the
same network sees them), optionally recorded to a rosbag2 (`--record`) and served to Foxglove
(`--foxglove`). `--demo-motion` drives the robot through a scripted BOW MotorSample sequence.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from ..nodes.composed import BRIDGES, NODE_NAME, composed_builders, enabled_bridges, node_param_specs
from ..ros.params import ParameterError, load_params_file, unknown_parameter_warnings, validate_all
from .run_status import StatusBoard
from .share import find_share_file

log = logging.getLogger("spot_bow_ros.run")


class RunError(RuntimeError):
    """A fatal problem of `spot-bow-ros run`: one clear message, exit status 1."""


class UsageError(RunError):
    """A wrong argument or parameter of `spot-bow-ros run`: one clear message, exit status 2."""


#: Raw image topics (left out by --exclude-raw-images; their compressed twins are recorded).
RAW_IMAGE_TYPES = ("sensor_msgs/msg/Image",)


def positive_seconds(text: str) -> float:
    """argparse type: a finite number of seconds > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number of seconds: {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds, got {text}")
    return value


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "run", help="run all bridges (built-in simulated Spot unless --hostname)",
        description="Run every bridge enabled in the config in one process, over DDS with ROS 2 "
                    "conventions. Without --hostname the built-in simulated Spot is started.")
    robot = parser.add_argument_group("robot (omit --hostname for the simulated Spot)")
    robot.add_argument("--hostname", default="", help="robot hostname or IP")
    robot.add_argument("--port", type=int, default=443, help="robot TLS port (default 443)")
    robot.add_argument("--ca-cert", default="", help="robot CA certificate (default: the SDK's Spot CA)")
    robot.add_argument("--username", default="", help="robot user (else BOSDYN_CLIENT_USERNAME)")
    robot.add_argument("--password", default="", help="robot password (else BOSDYN_CLIENT_PASSWORD)")
    robot.add_argument("--payload-credentials", default="", metavar="FILE",
                       help="payload credentials file (GUID and secret) instead of a user")
    robot.add_argument("--sim-info-file", default="", metavar="FILE",
                       help="write the simulator's connection info (JSON) here")
    robot.add_argument("--sim-clock-offset", type=float, default=0.0, metavar="S",
                       help="simulated robot clock minus local clock, seconds (default 0)")
    robot.add_argument("--no-arm", action="store_true", help="simulate a Spot without arm")
    robot.add_argument("--no-streaming-licence", action="store_true",
                       help="simulate a Spot without the joint-level licence (robot-state streaming fails)")
    robot.add_argument("--sim-no-estop", action="store_true",
                       help="simulated Spot that powers on without an E-Stop endpoint (by default it "
                            "needs one, as a real Spot; the motor bridge's software E-Stop provides it)")
    parser.add_argument("--config", default="", metavar="YAML",
                        help="ROS params file (default: config/spot_bow.yaml of the package)")
    parser.add_argument("--record", default="", metavar="DIR",
                        help="record all topics to a rosbag2 in DIR (an existing DIR gets a timestamped "
                             "sibling, like ros2 bag); every camera raw is about 65 MB/s")
    parser.add_argument("--exclude-raw-images", action="store_true",
                        help="with --record: leave out raw sensor_msgs/Image topics, record their "
                             "compressed twins (about 1/40 of the size)")
    parser.add_argument("--storage", default="mcap", choices=["mcap", "sqlite3"],
                        help="rosbag2 storage (default mcap)")
    parser.add_argument("--duration", type=positive_seconds, default=None, metavar="S",
                        help="stop cleanly after S seconds, S > 0 (default: until Ctrl-C)")
    parser.add_argument("--foxglove", nargs="?", type=int, const=8765, default=None, metavar="PORT",
                        help="serve the topics live to Foxglove on ws://127.0.0.1:PORT (default 8765)")
    parser.add_argument("--demo-motion", action="store_true",
                        help="enable motion and drive a scripted MotorSample sequence "
                             "(stand, walk a square, turn the head, sit)")
    parser.add_argument("--no-status", action="store_true", help="no live status table")
    parser.add_argument("--namespace", default="/", help="namespace of every topic (default /)")
    parser.set_defaults(func=run)
    return parser


# -- configuration ------------------------------------------------------------------------------
def load_overrides(config: Path, node_name: str, namespace: str) -> dict[str, Any]:
    return load_params_file(config, node_name, namespace)


def connection_overrides(args: argparse.Namespace, sim_info: Path | None) -> dict[str, Any]:
    """Connection parameters every Spot bridge gets (they share one SpotConnection)."""
    if sim_info is not None:
        return {"sim_info_file": str(sim_info), "hostname": ""}
    values: dict[str, Any] = {"hostname": args.hostname, "port": args.port}
    if args.ca_cert:
        values["ca_cert"] = args.ca_cert
    if args.username:
        values["username"] = args.username
    if args.password:
        values["password"] = args.password
    if args.payload_credentials:
        values["payload_credentials_file"] = args.payload_credentials
    return values


def webcam_overrides(values: dict[str, Any]) -> dict[str, Any]:
    """Use the moving test pattern when the configured camera does not exist on this machine."""
    from ..nodes.webcam_capture import TEST_PATTERN, missing_camera_fallback  # the policy of every route

    fallback = missing_camera_fallback(str(values.get("device", "0")))
    if fallback:
        log.info(fallback)
        return {**values, "device": TEST_PATTERN}
    return values


# -- the simulated robot ------------------------------------------------------------------------
class SimulatorProcess:
    """`spot-bow-ros sim` as a child process; its info file tells the bridges how to connect."""

    def __init__(self, info_file: Path, arm: bool, clock_offset_s: float, streaming_licence: bool = True,
                 estop: bool = True):
        self.info_file = info_file
        cmd = [sys.executable, "-m", "spot_bow_ros.sim", "--port", "0", "--info-file", str(info_file),
               "--clock-offset", str(clock_offset_s), "--log-level", "warning"]
        cmd.append("--arm" if arm else "--no-arm")
        if not streaming_licence:
            cmd.append("--no-streaming-licence")
        cmd.append("--estop" if estop else "--no-estop")
        info_file.unlink(missing_ok=True)
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL)

    def wait_ready(self, timeout: float = 20.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RunError(f"the simulated Spot exited at start-up with status {self.proc.returncode}")
            if self.info_file.exists():
                try:
                    return json.loads(self.info_file.read_text())
                except json.JSONDecodeError:
                    pass  # being written
            time.sleep(0.02)
        raise RunError(f"the simulated Spot did not start within {timeout:.0f} s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# -- checks before anything starts --------------------------------------------------------------
def check_parameters(config: Path, namespace: str, demo_motion: bool) -> dict[str, dict[str, Any]]:
    """Every node's overrides from `config`, all validated (raises UsageError) and unknown names
    warned about with a "did you mean" hint, before any bridge or simulator starts."""
    names = [NODE_NAME] + [b.name for b in BRIDGES]
    try:
        overrides = {name: load_overrides(config, name, namespace) for name in names}
        bridges = enabled_bridges(overrides[NODE_NAME])
        specs = node_param_specs(bridges)
        if demo_motion:
            overrides["motor_command"]["enable_motion"] = True
        for warning in unknown_parameter_warnings(
                {name: [s.name for s in node_specs] for name, node_specs in node_param_specs(BRIDGES).items()},
                [config], namespace=namespace):
            log.warning(warning)
        validate_all(specs, overrides)
    except ParameterError as exc:
        raise UsageError(str(exc)) from None
    return overrides


def connect_robot(values: dict[str, Any], duration: float | None) -> Any:
    """Connect once, before any bridge starts (the start-up policy of every bridge: fail fast
    with one line; a connection lost later is retried). Returns the shared connection, which
    the bridges then use; the caller shuts it down after the bridges."""
    from ..spot.connection import ConnectionConfig, ConnectionConfigError, SpotConnection, SpotConnectionError

    try:
        config = ConnectionConfig.from_params(values)
    except ConnectionConfigError as exc:
        raise UsageError(str(exc)) from None
    connection = SpotConnection.shared(config, logging.getLogger("spot_bow_ros.spot"))
    try:
        connection.connect(timeout=min(config.connect_timeout, duration or math.inf))
    except SpotConnectionError as exc:
        connection.shutdown()
        raise RunError(str(exc)) from None
    return connection


# -- main ---------------------------------------------------------------------------------------
def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except UsageError as exc:
        log.error(str(exc))
        return 2
    except (RunError, ParameterError) as exc:
        log.error(str(exc))
        return 1


def _run(args: argparse.Namespace) -> int:
    from ..ros.backend import shutdown_signals

    config = Path(args.config) if args.config else find_share_file("config/spot_bow.yaml")
    if config is None or not config.exists():
        raise UsageError(f"config file {args.config or 'config/spot_bow.yaml'} not found")
    if args.exclude_raw_images and not args.record:
        raise UsageError("--exclude-raw-images needs --record DIR")
    bag = None
    if args.record:
        from ..ros.recorder import RecorderError, bag_output

        try:
            bag, note = bag_output(args.record)
        except RecorderError as exc:
            raise RunError(str(exc)) from None
        if note:
            log.info(f"--record {note}")
    if args.foxglove is not None:
        check_foxglove(args.foxglove)
    namespace = args.namespace if args.namespace.startswith("/") else "/" + args.namespace
    overrides = check_parameters(config, namespace, args.demo_motion)
    if any(b.name == "webcam" for b in enabled_bridges(overrides[NODE_NAME])):
        from ..nodes.webcam_capture import CaptureError, check_video_file

        try:
            check_video_file(str(overrides["webcam"].get("device", "0")))
        except CaptureError as exc:
            raise RunError(f"webcam: {exc}") from None

    sim = None
    sim_info: Path | None = None
    connection = None
    workdir = tempfile.TemporaryDirectory(prefix="spot_bow_run_")
    stop = threading.Event()
    with shutdown_signals(stop):
        try:
            robot_bridges = [b for b in enabled_bridges(overrides[NODE_NAME]) if b.uses_robot]
            if not args.hostname and robot_bridges:
                sim_info = Path(args.sim_info_file) if args.sim_info_file else Path(workdir.name) / "sim.json"
                log.info("no --hostname given: starting the built-in simulated Spot "
                         f"(connection info in {sim_info})")
                sim = SimulatorProcess(sim_info, arm=not args.no_arm, clock_offset_s=args.sim_clock_offset,
                                       streaming_licence=not args.no_streaming_licence,
                                       estop=not args.sim_no_estop)
                info = sim.wait_ready()
                log.info(f"simulated Spot listening on {info['hostname']}:{info['port']}")
            connection_values = connection_overrides(args, sim_info)
            if robot_bridges and not stop.is_set():
                connection = connect_robot({**overrides[robot_bridges[0].name], **connection_values},
                                           args.duration)
            return _run_bridges(args, overrides, connection_values, namespace, bag, stop)
        finally:
            # order matters: bridges first (lease returned, services unregistered), then the
            # connection they shared, then the robot they talked to
            if connection is not None:
                connection.shutdown()
            if sim is not None:
                sim.stop()
            workdir.cleanup()


def _run_bridges(args: argparse.Namespace, overrides: dict[str, dict[str, Any]], connection: dict[str, Any],
                 namespace: str, bag: Path | None, stop: threading.Event) -> int:
    from ..nodes.motor_command import PowerOnRefused
    from ..ros.backend import create_standalone_context

    for bridge in BRIDGES:
        if bridge.uses_robot:
            overrides[bridge.name].update(connection)
    if "webcam" in overrides:
        overrides["webcam"] = webcam_overrides(overrides["webcam"])

    context = create_standalone_context()
    status = StatusBoard(live=not args.no_status and sys.stderr.isatty(), target_s=args.duration)
    context.transport.add_tap(status.tap)
    if bag is not None:
        exclude = RAW_IMAGE_TYPES if args.exclude_raw_images else ()
        context.attach_recorder(str(bag), storage=args.storage, exclude_types=exclude)
        log.info(f"recording {'all topics but raw images' if exclude else 'all topics'} to {bag} ({args.storage}); "
                 + ("" if exclude else "raw camera images take about 65 MB/s, --exclude-raw-images about 1/40 of that"))
    fox = None
    if args.foxglove is not None:
        fox = _start_foxglove(context, args.foxglove)

    from ..ros.log_routing import route_library_logs

    bridges: dict[str, Any] = {}
    unroute = lambda: None  # noqa: E731
    try:
        for name, build in composed_builders(overrides[NODE_NAME]):
            node = context.create_node(name, namespace, overrides[name])
            if len(context.nodes) == 1:  # bosdyn's lines (some on the root logger) under the node
                unroute = route_library_logs(node.get_logger())
            bridges[name] = build(node)
        status.attach(bridges, context.nodes)
        if args.demo_motion:
            from ..nodes.demo_motion import DemoMotion, demo_script, script_duration

            steps = demo_script()
            if args.duration and script_duration(steps) > args.duration:
                log.warning(f"--demo-motion takes {script_duration(steps):.0f} s, longer than --duration "
                            f"{args.duration:g}: it will be cut short")
            demo_values = {k: v for k, v in overrides["motor_command"].items() if k == "bow_messages"}
            DemoMotion(context.create_node("demo_motion", namespace, demo_values),  # runs on its node's timer
                       steps=steps)
        started = time.monotonic()
        status.start()
        while not stop.is_set():
            if args.duration and time.monotonic() - started >= args.duration:
                log.info(f"--duration {args.duration:g} s reached: stopping")
                break
            stop.wait(0.1)
        else:
            log.info("stopping (Ctrl-C): bridges first, then the robot connection")
    except (ParameterError, ValueError) as exc:
        raise RunError(f"bad configuration: {exc}") from exc
    except PowerOnRefused as exc:
        raise RunError(f"motor_command: power_on refused: {exc}") from None
    finally:
        status.stop()
        context.close()
        unroute()
        if fox is not None:
            fox.close()
    if bag is not None:
        size = sum(f.stat().st_size for f in bag.rglob("*") if f.is_file()) if bag.exists() else 0
        log.info(f"bag written to {bag} ({size / 1e6:.1f} MB)")
    status.print_summary()
    return 0


def check_foxglove(port: int) -> None:
    """Before anything starts: the Foxglove SDK imports and `port` is free (else RunError)."""
    import importlib.util
    import socket

    if importlib.util.find_spec("foxglove") is None:
        raise RunError("--foxglove needs the foxglove-sdk package: pip install 'spot_bow_ros[foxglove]'")
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as exc:
            raise RunError(f"--foxglove {port}: port {port} is busy ({(exc.strerror or str(exc)).lower()}); "
                           "choose another with --foxglove PORT") from None


def _start_foxglove(context: Any, port: int) -> Any:
    """The Foxglove live server, fed by the transport's tap."""
    from ..ros.foxglove_live import FoxgloveLive, FoxgloveUnavailable

    try:
        fox = FoxgloveLive(context.transport.messages, port=port)
    except FoxgloveUnavailable as exc:
        raise RunError(str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - the SDK raises its own types (e.g. a port taken meanwhile)
        raise RunError(f"--foxglove: cannot serve on port {port}: {exc}") from None
    context.transport.add_tap(fox.tap, counts_as_subscriber=True)
    log.info(f"Foxglove: open ws://127.0.0.1:{fox.port}")
    return fox
