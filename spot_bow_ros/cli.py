"""The `spot-bow-ros` command (temporary minimal version: the lead wires in the other subcommands)."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    from .ros import topic_cli

    parser = argparse.ArgumentParser(prog="spot-bow-ros", description="Spot, BOW and ROS 2 bridges")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    topic_cli.add_parser(subparsers)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
