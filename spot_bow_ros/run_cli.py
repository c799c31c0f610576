"""`spot-bow-ros run`: every bridge in one process, without ROS, against a robot or the simulator.

With no `--hostname` the built-in simulated Spot starts in its own process (so it never competes
with the bridges for the GIL) and the bridges connect to it through its info file, exactly as
they would to a robot. Topics go out over DDS with ROS 2 conventions (`ros2 topic list` on the
same network sees them), optionally recorded to a rosbag2 (`--record`) and served to Foxglove
(`--foxglove`). `--demo-motion` drives the robot through a scripted BOW MotorSample sequence.
"""

from __future__ import annotations

import argparse
import glob
import json
import logging
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from .nodes.composed import BRIDGES, NODE_NAME, composed_builders
from .ros.params import ParameterError, load_params_file
from .run_status import StatusBoard
from .share import find_share_file

log = logging.getLogger("spot_bow_ros.run")


class RunError(RuntimeError):
    """A fatal problem of `spot-bow-ros run`: one clear message, exit status 1."""


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
    parser.add_argument("--config", default="", metavar="YAML",
                        help="ROS params file (default: config/spot_bow.yaml of the package)")
    parser.add_argument("--record", default="", metavar="DIR", help="record all topics to a rosbag2 in DIR")
    parser.add_argument("--storage", default="mcap", choices=["mcap", "sqlite3"],
                        help="rosbag2 storage (default mcap)")
    parser.add_argument("--duration", type=float, default=0.0, metavar="S",
                        help="stop cleanly after S seconds (default: until Ctrl-C)")
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
    device = str(values.get("device", "0"))
    if device.isdigit() and not glob.glob("/dev/video*"):
        log.info(f"no camera at device {device} (no /dev/video*): the webcam bridge shows its test pattern")
        return {**values, "device": "test_pattern"}
    return values


# -- the simulated robot ------------------------------------------------------------------------
class SimulatorProcess:
    """`spot-bow-ros sim` as a child process; its info file tells the bridges how to connect."""

    def __init__(self, info_file: Path, arm: bool, clock_offset_s: float):
        self.info_file = info_file
        cmd = [sys.executable, "-m", "spot_bow_ros.sim", "--port", "0", "--info-file", str(info_file),
               "--clock-offset", str(clock_offset_s), "--log-level", "warning"]
        cmd.append("--arm" if arm else "--no-arm")
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


# -- main ---------------------------------------------------------------------------------------
def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except (RunError, ParameterError) as exc:
        log.error(str(exc))
        return 1


def _run(args: argparse.Namespace) -> int:
    from .ros.backend import shutdown_signals

    config = Path(args.config) if args.config else find_share_file("config/spot_bow.yaml")
    if config is None or not config.exists():
        raise RunError(f"config file {args.config or 'config/spot_bow.yaml'} not found")

    sim = None
    sim_info: Path | None = None
    workdir = tempfile.TemporaryDirectory(prefix="spot_bow_run_")
    stop = threading.Event()
    with shutdown_signals(stop):
        try:
            if not args.hostname:
                sim_info = Path(args.sim_info_file) if args.sim_info_file else Path(workdir.name) / "sim.json"
                log.info("no --hostname given: starting the built-in simulated Spot "
                         f"(connection info in {sim_info})")
                sim = SimulatorProcess(sim_info, arm=not args.no_arm, clock_offset_s=args.sim_clock_offset)
                info = sim.wait_ready()
                log.info(f"simulated Spot listening on {info['hostname']}:{info['port']}")
            else:
                log.info(f"connecting to the robot at {args.hostname}:{args.port}")
            return _run_bridges(args, config, sim_info, stop)
        finally:
            if sim is not None:
                sim.stop()
            workdir.cleanup()


def _run_bridges(args: argparse.Namespace, config: Path, sim_info: Path | None, stop: threading.Event) -> int:
    from .ros.backend import create_standalone_context

    namespace = args.namespace if args.namespace.startswith("/") else "/" + args.namespace
    connection = connection_overrides(args, sim_info)
    overrides = {name: load_overrides(config, name, namespace)
                 for name in [NODE_NAME] + [b.name for b in BRIDGES]}
    for bridge in BRIDGES:
        overrides[bridge.name].update(connection)
    if "webcam" in overrides:
        overrides["webcam"] = webcam_overrides(overrides["webcam"])
    if args.demo_motion:
        overrides["motor_command"].update({"enable_motion": True})

    context = create_standalone_context()
    status = StatusBoard(live=not args.no_status and sys.stderr.isatty())
    context.transport.add_tap(status.tap)
    if args.record:
        context.attach_recorder(args.record, storage=args.storage)
        log.info(f"recording all topics to {args.record} ({args.storage})")
    if args.foxglove is not None:
        from .ros.foxglove_live import FoxgloveLive

        fox = FoxgloveLive(context.transport.messages, port=args.foxglove)
        context.transport.add_tap(fox.tap, counts_as_subscriber=True)
        log.info(f"Foxglove: open ws://127.0.0.1:{fox.port}")
    else:
        fox = None

    bridges: dict[str, Any] = {}
    try:
        for name, build in composed_builders(overrides[NODE_NAME]):
            node = context.create_node(name, namespace, overrides[name])
            bridges[name] = build(node)
        status.attach(bridges)
        if args.demo_motion:
            from .nodes.demo_motion import DemoMotion

            DemoMotion(context.create_node("demo_motion", namespace,  # runs on its node's timer
                                           load_overrides(config, "demo_motion", namespace)))
        started = time.monotonic()
        status.start()
        while not stop.is_set():
            if args.duration and time.monotonic() - started >= args.duration:
                log.info(f"--duration {args.duration:g} s reached: stopping")
                break
            stop.wait(0.1)
    except (ParameterError, ValueError) as exc:
        raise RunError(f"bad configuration: {exc}") from exc
    finally:
        status.stop()
        context.close()
        if fox is not None:
            fox.close()
    if args.record:
        log.info(f"bag written to {args.record}")
    status.print_summary()
    return 0
