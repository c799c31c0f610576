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
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from ..nodes.composed import BRIDGES, NODE_NAME, composed_builders, enabled_bridges, node_param_specs
from ..ros.params import ParameterError, load_params_file, unknown_parameter_warnings, validate_all
from .arg_types import byte_size, format_bytes, positive_seconds
from .disk_space import (
    DEFAULT_MIN_FREE_BYTES,
    RUN_ALL_TOPICS_BYTES_PER_S,
    RUN_WITHOUT_RAW_IMAGES_BYTES_PER_S,
    DiskSpaceGuard,
    LowDiskSpace,
)
from .run_connection import ConnectionPlan, ConnectionPlanError, config_connection, in_flag_words, plan_connection
from .run_status import StatusBoard
from .share import find_share_file

log = logging.getLogger("spot_bow_ros.run")


class RunError(RuntimeError):
    """A fatal problem of `spot-bow-ros run`: one clear message, exit status 1."""


class UsageError(RunError):
    """A wrong argument or parameter of `spot-bow-ros run`: one clear message, exit status 2."""


#: Raw image topics (left out by --exclude-raw-images; their compressed twins are recorded).
RAW_IMAGE_TYPES = ("sensor_msgs/msg/Image",)


class RefusePassword(argparse.Action):
    """`--password` is refused: a password on the command line is visible to every user (`ps`)."""

    def __call__(self, parser, namespace, values, option_string=None):  # type: ignore[override]
        parser.error(f"{option_string} is refused: a password on the command line is visible to every user "
                     "of this machine (ps); put it in BOSDYN_CLIENT_PASSWORD or a file for --password-file FILE")


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "run", help="run all bridges (built-in simulated Spot unless --hostname)",
        description="Run every bridge enabled in the config in one process, over DDS with ROS 2 "
                    "conventions. Without --hostname, --connect-sim or a hostname/sim_info_file in the "
                    "--config file, the built-in simulated Spot is started.")
    robot = parser.add_argument_group(
        "robot (flags win over the --config file's hostname/sim_info_file; with none of them the built-in "
        "simulated Spot starts)")
    robot.add_argument("--hostname", default="", help="robot hostname or IP")
    robot.add_argument("--port", type=int, default=None, help="robot TLS port (default 443)")
    robot.add_argument("--ca-cert", default="", help="robot CA certificate (default: the SDK's Spot CA)")
    robot.add_argument("--username", default="", help="robot user (else BOSDYN_CLIENT_USERNAME)")
    robot.add_argument("--password-file", default="", metavar="FILE",
                       help="file whose first line is the robot password (else BOSDYN_CLIENT_PASSWORD)")
    robot.add_argument("--password", action=RefusePassword, nargs="?",
                       help=argparse.SUPPRESS)  # refused with one line saying what to use instead
    robot.add_argument("--payload-credentials", default="", metavar="FILE",
                       help="payload credentials file (GUID and secret) instead of a user")
    robot.add_argument("--connect-sim", default="", metavar="FILE",
                       help="connect to a simulated Spot started separately with `spot-bow-ros sim --info-file FILE`")
    robot.add_argument("--sim-info-file", default="", metavar="FILE",
                       help="built-in simulator: write its connection info (JSON) here")
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
                        help="record all topics to a rosbag2 in DIR (an existing DIR is not overwritten: the "
                             "bag goes to a timestamped sibling DIR_YYYY_MM_DD-HH_MM_SS); about "
                             f"{format_bytes(RUN_ALL_TOPICS_BYTES_PER_S)}/s")
    parser.add_argument("--exclude-raw-images", action="store_true",
                        help="with --record: leave out raw sensor_msgs/Image topics, record their "
                             f"compressed twins (about {format_bytes(RUN_WITHOUT_RAW_IMAGES_BYTES_PER_S)}/s)")
    parser.add_argument("--min-free-space", type=byte_size, default=DEFAULT_MIN_FREE_BYTES, metavar="SIZE",
                        help="with --record: stop (bag complete) when free disk space under the bag falls "
                             f"below SIZE (e.g. 500M, 2G; default {format_bytes(DEFAULT_MIN_FREE_BYTES)})")
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
    parser.add_argument("--processes", type=int, choices=(1, 2), default=1,
                        help="2: the camera bridge in a worker process of its own "
                             "(both cores; see docs/performance.md)")
    parser.add_argument("--namespace", default="/", help="namespace of every topic (default /)")
    parser.set_defaults(func=run)
    return parser


# -- configuration ------------------------------------------------------------------------------
def load_overrides(config: Path, node_name: str, namespace: str) -> dict[str, Any]:
    return load_params_file(config, node_name, namespace)


def robot_connection_plan(args: argparse.Namespace, overrides: dict[str, dict[str, Any]], config: Path,
                          robot_bridges: list[Any]) -> ConnectionPlan | None:
    """Where the robot bridges connect (flags, else the config file, else the built-in
    simulator); None when no enabled bridge uses the robot. UsageError on conflicts."""
    try:
        from_config = config_connection(overrides, [b.name for b in robot_bridges], config.name)
        plan = plan_connection(args, from_config, config.name)
    except ConnectionPlanError as exc:
        raise UsageError(str(exc)) from None
    return plan if robot_bridges else None


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
        cmd += ["--exit-with-parent", str(os.getpid())]
        info_file.unlink(missing_ok=True)
        # Its own session: the terminal's Ctrl-C (SIGINT to the foreground process group) reaches
        # only `run`, which stops the bridges first (lease returned, E-Stop deregistered) and the
        # simulator last; --exit-with-parent ends it should `run` itself be killed.
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, start_new_session=True)

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


def start_builtin_simulator(args: argparse.Namespace, workdir: Path, plan: ConnectionPlan) -> SimulatorProcess:
    """Start the built-in simulated Spot and point `plan` at its info file."""
    sim_info = Path(args.sim_info_file) if args.sim_info_file else workdir / "sim.json"
    log.info(f"no --hostname, --connect-sim or config hostname: starting the built-in simulated Spot "
             f"(connection info in {sim_info})")
    sim = SimulatorProcess(sim_info, arm=not args.no_arm, clock_offset_s=args.sim_clock_offset,
                           streaming_licence=not args.no_streaming_licence, estop=not args.sim_no_estop)
    try:
        info = sim.wait_ready()
    except RunError:
        sim.stop()
        raise
    log.info(f"simulated Spot listening on {info['hostname']}:{info['port']}")
    plan.values = {"sim_info_file": str(sim_info), "hostname": ""}
    return sim


# -- checks before anything starts --------------------------------------------------------------
def check_bag_output(args: argparse.Namespace) -> Path | None:
    """Where `--record` writes (RunError when it cannot be written there or the disk is nearly
    full), said in one line when that is not the directory asked for."""
    if not args.record:
        return None
    from ..standalone.recorder import RecorderError, bag_output

    try:
        bag, note = bag_output(args.record)
        DiskSpaceGuard(bag, args.min_free_space).check_before_start()
    except (RecorderError, LowDiskSpace) as exc:
        raise RunError(str(exc)) from None
    if note:
        log.info(f"--record {note}")
    return bag


def check_message_sets(overrides: dict[str, dict[str, Any]]) -> None:
    """`bow_messages: sdk_v1` needs the BOW SDK's message classes: UsageError when missing."""
    from ..bow.sdk_v1 import SDK_V1, BowSdkMissing, load_v1

    if any(str(values.get("bow_messages", "")).strip().lower() == SDK_V1 for values in overrides.values()):
        try:
            load_v1()
        except BowSdkMissing as exc:
            raise UsageError(str(exc)) from None


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
    check_message_sets(overrides)
    return overrides


def connect_robot(values: dict[str, Any], duration: float | None, plan: ConnectionPlan) -> Any:
    """Connect once, before any bridge starts (the start-up policy of every bridge: fail fast
    with one line; a connection lost later is retried). Returns the shared connection, which
    the bridges then use; the caller shuts it down after the bridges."""
    from ..spot.connection import ConnectionConfig, ConnectionConfigError, SpotConnection, SpotConnectionError

    try:
        config = ConnectionConfig.from_params(values)
    except ConnectionConfigError as exc:
        raise UsageError(in_flag_words(str(exc), plan)) from None
    if plan.kind != "builtin_sim":  # said when the config file chose the robot (flags speak for themselves)
        log.log(logging.DEBUG if plan.source.startswith("--") else logging.INFO, plan.describe())
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
    from ..backends.lifecycle import shutdown_signals

    config = Path(args.config) if args.config else find_share_file("config/spot_bow.yaml")
    if config is None or not config.exists():
        raise UsageError(f"config file {args.config or 'config/spot_bow.yaml'} not found")
    if args.exclude_raw_images and not args.record:
        raise UsageError("--exclude-raw-images needs --record DIR")
    bag = check_bag_output(args)
    if args.foxglove is not None:
        check_foxglove(args.foxglove)
    namespace = args.namespace if args.namespace.startswith("/") else "/" + args.namespace
    overrides = check_parameters(config, namespace, args.demo_motion)
    robot_bridges = [b for b in enabled_bridges(overrides[NODE_NAME]) if b.uses_robot]
    plan = robot_connection_plan(args, overrides, config, robot_bridges)
    if any(b.name == "webcam" for b in enabled_bridges(overrides[NODE_NAME])):
        from ..nodes.webcam_capture import CaptureError, check_video_file

        try:
            check_video_file(str(overrides["webcam"].get("device", "0")))
        except CaptureError as exc:
            raise RunError(f"webcam: {exc}") from None

    sim = None
    connection = None
    workdir = tempfile.TemporaryDirectory(prefix="spot_bow_run_")
    stop = threading.Event()
    with shutdown_signals(stop):
        try:
            if plan is not None and plan.kind == "builtin_sim":
                sim = start_builtin_simulator(args, Path(workdir.name), plan)
            connection_values = plan.values if plan is not None else {}
            if plan is not None and not stop.is_set():
                connection = connect_robot({**overrides[robot_bridges[0].name], **connection_values},
                                           args.duration, plan)
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
    from ..standalone.context import create_standalone_context

    for bridge in BRIDGES:
        if bridge.uses_robot:
            overrides[bridge.name].update(connection)
    if "webcam" in overrides:
        overrides["webcam"] = webcam_overrides(overrides["webcam"])

    context = create_standalone_context()
    status = StatusBoard(live=not args.no_status and sys.stderr.isatty(), target_s=args.duration)
    context.transport.add_tap(status.tap)
    guard = DiskSpaceGuard(bag, args.min_free_space) if bag is not None else None
    if bag is not None:
        exclude = RAW_IMAGE_TYPES if args.exclude_raw_images else ()
        context.attach_recorder(str(bag), storage=args.storage, exclude_types=exclude)
        log.info(recording_line(bag, args, guard))
    fox = None
    if args.foxglove is not None:
        fox = _start_foxglove(context, args.foxglove)

    from ..backends.log_routing import route_library_logs
    from .run_processes import forward_targets, start_worker

    worker = start_worker(args.processes, context.transport, overrides, namespace, forward_targets(
        status.tap, context.recorders, RAW_IMAGE_TYPES if args.exclude_raw_images else (), fox and fox.tap))
    if worker is not None:
        status.add_status_source(worker.status)
    bridges: dict[str, Any] = {}
    unroute = lambda: None
    try:
        for name, build in composed_builders(overrides[NODE_NAME]):
            node = context.create_node(name, namespace, overrides[name])
            if len(context.nodes) == 1:  # bosdyn's lines (some on the root logger) under the node
                unroute = route_library_logs(node.get_logger())
            try:
                bridges[name] = build(node)
            except ParameterError as exc:  # a value only the bridge can judge: a wrong parameter (2)
                raise UsageError(f"node '{name}': {exc}") from None
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
        status.start()
        code = wait_until_done(args.duration, stop, guard)
    except (ParameterError, ValueError) as exc:
        raise RunError(f"bad configuration: {exc}") from exc
    except PowerOnRefused as exc:
        raise RunError(f"motor_command: power_on refused: {exc}") from None
    finally:
        if worker is not None:  # the worker's bridge first, as the run's own bridges below
            worker.stop()
        status.stop()
        context.close()
        unroute()
        if fox is not None:
            fox.close()
    if bag is not None:
        size = sum(f.stat().st_size for f in bag.rglob("*") if f.is_file()) if bag.exists() else 0
        log.info(f"bag written to {bag} ({size / 1e6:.1f} MB)")
    status.print_summary()
    return code


def recording_line(bag: Path, args: argparse.Namespace, guard: DiskSpaceGuard) -> str:
    """The up-front recording line: what, where, the expected data rate and how long the disk lasts."""
    if args.exclude_raw_images:
        what, rate = "all topics but raw images", RUN_WITHOUT_RAW_IMAGES_BYTES_PER_S
    else:
        what, rate = "all topics", RUN_ALL_TOPICS_BYTES_PER_S
    hint = ("" if args.exclude_raw_images
            else f"; --exclude-raw-images: about {format_bytes(RUN_WITHOUT_RAW_IMAGES_BYTES_PER_S)}/s")
    return f"recording {what} to {bag} ({args.storage}): {guard.rate_note(rate, 'expect')}{hint}"


def wait_until_done(duration: float | None, stop: threading.Event, guard: DiskSpaceGuard | None) -> int:
    """Block until --duration, Ctrl-C (0) or low disk space under the bag (1, one line)."""
    started = time.monotonic()
    while not stop.is_set():
        if duration and time.monotonic() - started >= duration:
            log.info(f"--duration {duration:g} s reached: stopping")
            return 0
        if guard is not None:
            try:
                guard.poll()
            except LowDiskSpace as exc:
                log.error(str(exc))
                return 1
        stop.wait(0.1)
    log.info("stopping (Ctrl-C): bridges first, then the robot connection and the simulator")
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
    from ..standalone.foxglove_live import FoxgloveLive, FoxgloveUnavailable

    try:
        fox = FoxgloveLive(context.transport.messages, port=port)
    except FoxgloveUnavailable as exc:
        raise RunError(str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - the SDK raises its own types (e.g. a port taken meanwhile)
        raise RunError(f"--foxglove: cannot serve on port {port}: {exc}") from None
    context.transport.add_tap(fox.tap, counts_as_subscriber=True)
    log.info(f"Foxglove: open ws://127.0.0.1:{fox.port}")
    return fox
