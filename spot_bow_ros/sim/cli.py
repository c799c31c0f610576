"""`spot-bow-ros sim`: run the simulated Spot as its own process.

Writes a JSON info file (hostname, port, ca_cert, username, password, payload_guid,
payload_secret) once it listens, so any client can connect; stops cleanly on SIGINT/SIGTERM
(exit code 0) and removes the info file it wrote.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--port", type=int, default=0,
                        help="TLS port on 127.0.0.1 (default 0: a free port, see --info-file)")
    parser.add_argument("--arm", action=argparse.BooleanOptionalAction, default=True,
                        help="simulate a Spot with arm and gripper camera (default: --arm)")
    parser.add_argument("--rgb-cameras", action=argparse.BooleanOptionalAction, default=False,
                        help="body cameras are RGB_U8 colour cameras (default: --no-rgb-cameras, "
                             "greyscale as on older robots, which refuse RGB_U8 requests)")
    parser.add_argument("--streaming-licence", action=argparse.BooleanOptionalAction, default=True,
                        help="the robot has the joint-level licence for robot-state streaming "
                             "(--no-streaming-licence: the stream fails with PERMISSION_DENIED, as "
                             "on a robot without it; clients must fall back to polling)")
    parser.add_argument("--camera-rate", type=float, default=15.0, metavar="HZ",
                        help="camera frame rate (default 15, as a real Spot's body cameras)")
    parser.add_argument("--clock-offset", type=float, default=0.0, metavar="SECONDS",
                        help="robot clock minus local clock, seconds (e.g. 100)")
    parser.add_argument("--clock-drift-ppm", type=float, default=0.0, metavar="PPM",
                        help="robot clock drift relative to local clock, parts per million")
    parser.add_argument("--info-file", default="", metavar="FILE",
                        help="write connection info JSON here once listening")
    parser.add_argument("--state-dir", default="", metavar="DIR",
                        help="keep CA, certificate and credentials here (reused on restart); "
                             "default: a temporary directory removed on exit")
    parser.add_argument("--username", default="user", help="robot user name (default: user)")
    parser.add_argument("--password", default=None,
                        help="robot password (default: generated, see --info-file)")
    parser.add_argument("--body", action=argparse.BooleanOptionalAction, default=True,
                        help="serve the robot body and cameras (--no-body: only auth, directory, "
                             "time sync, payload registration and faults)")
    parser.add_argument("--control-stdin", action="store_true",
                        help="read control commands on stdin (inject/clear faults, set the battery; "
                             "see spot_bow_ros/sim/control.py), one answer line each on stdout")
    parser.add_argument("--estop", action=argparse.BooleanOptionalAction, default=True,
                        help="as a real Spot, motor power needs a registered E-Stop endpoint that "
                             "allows it (default); --no-estop: power on without one (quick demos)")
    parser.add_argument("--exit-with-parent", type=int, default=0, metavar="PID",
                        help="stop cleanly when process PID (the one that started this simulator) is gone "
                             "(`spot-bow-ros run` passes its own; 0: never)")
    parser.add_argument("--slow-power", type=float, default=0.0, metavar="SECONDS",
                        help="motor power-on and power-off take this long (default: about 1 s as on "
                             "Spot); several seconds show what waits behind a blocking power call")
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"],
                        help="logging level (default: info)")
    return parser


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the `sim` subcommand to an argparse subparsers object."""
    parser = subparsers.add_parser("sim", help="run a simulated Spot on 127.0.0.1",
                                   description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    parser.set_defaults(func=run)
    for action in parser._actions:  # `spot-bow-ros --log-level debug sim` keeps the level given first
        if action.dest == "log_level":
            action.default = argparse.SUPPRESS
    return parser


def run(args: argparse.Namespace) -> int:
    """Run until SIGINT/SIGTERM; 0 on a clean stop, 2 if the simulator cannot start."""
    logging.basicConfig(level=getattr(logging, args.log_level.upper()),
                        format="[%(levelname)s] [%(asctime)s] [%(name)s]: %(message)s")
    log = logging.getLogger("spot_bow_ros.sim")
    from . import SimStartError, SimulatedSpot

    stop = threading.Event()

    def on_signal(signum, _frame):
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    sim = SimulatedSpot(port=args.port, arm=args.arm, clock_offset_s=args.clock_offset,
                        clock_drift_ppm=args.clock_drift_ppm, username=args.username,
                        password=args.password, state_dir=args.state_dir or None, body=args.body,
                        colour_cameras=args.rgb_cameras, camera_rate_hz=args.camera_rate,
                        streaming_licence=args.streaming_licence, estop_required=args.estop,
                        **({"power_on_s": args.slow_power, "power_off_s": args.slow_power}
                           if args.slow_power > 0 else {}))
    try:
        try:
            sim.start(wait_body=False)  # listening now; calls needing the body wait for it
        except SimStartError as err:
            log.error(f"{err}; exiting")
            return 2
        info_path = None
        if args.info_file:
            info_path = sim.write_info(args.info_file)
            log.info(f"connection info written to {info_path}")
        if args.control_stdin:
            from .control import serve_lines
            threading.Thread(target=serve_lines, args=(lambda: sim.robot, sys.stdin, sys.stdout),
                             name="sim-control", daemon=True).start()
        if sim.wait_ready(30.0) and sim.body_error is None:
            log.info("simulated Spot ready" + ("" if args.estop else
                                              " (--no-estop: motors power on without an E-Stop)"))
        while not stop.wait(0.5):
            if args.exit_with_parent and not _alive(args.exit_with_parent):
                log.warning(f"process {args.exit_with_parent} that started this simulator is gone: stopping")
                break
        log.info("stopping simulated Spot")
        if info_path is not None:
            info_path.unlink(missing_ok=True)
        return 0
    finally:
        sim.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _alive(pid: int) -> bool:
    """Whether process `pid` still exists (a parent killed with SIGKILL cannot stop its simulator)."""
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="spot-bow-ros sim", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
