"""The `spot-bow-ros` command: the standalone runtime's front door (no ROS 2 install needed).

    spot-bow-ros run [--record DIR] [--duration S] ...   all bridges (built-in simulated Spot by default)
    spot-bow-ros sim [--port P] [--info-file F]          the simulated Spot on its own
    spot-bow-ros topic list | echo TOPIC | hz TOPIC | pub TOPIC TYPE YAML   like `ros2 topic`
    spot-bow-ros service list | call NAME [TYPE] [YAML]  like `ros2 service`
    spot-bow-ros record [-o DIR] [-a | TOPIC...]         like `ros2 bag record`

Each subcommand lives in its own module exposing `add_parser(subparsers)` and `run(args) -> int`.
"""

from __future__ import annotations

import argparse
import importlib
import sys

#: subcommand modules, in help order
SUBCOMMAND_MODULES = (
    "spot_bow_ros.run_cli",
    "spot_bow_ros.sim.cli",
    "spot_bow_ros.ros.topic_cli",
    "spot_bow_ros.ros.service_cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="spot-bow-ros",
        description="Spot and BOW data messages on ROS 2, with or without a ROS 2 install.")
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"],
                        help="logging level (default: info)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMAND_MODULES:
        module = importlib.import_module(name)
        before = set(subparsers.choices)
        module.add_parser(subparsers)
        for command in set(subparsers.choices) - before:
            sub = subparsers.choices[command]
            if sub.get_default("func") is None:
                sub.set_defaults(func=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    from .ros.backend import setup_logging

    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(getattr(args, "log_level", "info"))
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
