"""The `spot-bow-ros` command: the standalone runtime's front door (no ROS 2 install needed).

    spot-bow-ros run [--record DIR] [--duration S] ...   all bridges (built-in simulated Spot by default)
    spot-bow-ros sim [--port P] [--info-file F]          the simulated Spot on its own
    spot-bow-ros topic list | echo TOPIC | hz TOPIC | pub TOPIC TYPE YAML   like `ros2 topic`
    spot-bow-ros service list | call NAME [TYPE] [YAML]  like `ros2 service`
    spot-bow-ros record [-o DIR] [-a | TOPIC...]         like `ros2 bag record`

Each subcommand lives in its own module exposing `add_parser(subparsers)` and `run(args) -> int`.

Exit codes: 0 success (also `run` and `record` stopped with Ctrl-C, their normal end), 1 runtime
failure (one line), 2 usage error (argparse's one line, with a "did you mean" for a mistyped
option), 130 interrupted before a command could handle Ctrl-C. Only `--log-level debug` shows
tracebacks of unexpected errors.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from types import ModuleType

from .. import __version__
from .arg_types import option_hint

LOG_LEVELS = ["debug", "info", "warning", "error"]


class OneLineParser(argparse.ArgumentParser):
    """Usage errors in one line (`spot-bow-ros run: error: ... (see --help)`), exit code 2."""

    def error(self, message: str):  # type: ignore[override]
        hint = ""
        if message.startswith("unrecognized arguments: "):  # `--durration`: "did you mean --duration?"
            known = [o for sub in _all_parsers(self) for a in sub._actions for o in a.option_strings]
            hint = option_hint(message.split(": ", 1)[1].split(), known)
        self.exit(2, f"{self.prog}: error: {message}{hint} (see {self.prog} --help)\n")


def _add_log_level(parser: argparse.ArgumentParser, default: object) -> None:
    parser.add_argument("--log-level", default=default, choices=LOG_LEVELS,
                        help="logging level (default: info); debug also shows tracebacks")


def _all_parsers(parser: argparse.ArgumentParser):
    """`parser` and every (nested) subcommand parser."""
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                yield from _all_parsers(sub)


def subcommand_modules() -> tuple[ModuleType, ...]:
    """The subcommand modules, in help order (imported here, when the parser is built)."""
    from ..sim import cli as sim_cli
    from . import run, service, topic

    return (run, sim_cli, topic, service)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="spot-bow-ros",
        description="Spot and BOW data messages on ROS 2, with or without a ROS 2 install.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _add_log_level(parser, "info")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in subcommand_modules():
        before = set(subparsers.choices)
        module.add_parser(subparsers)
        for command in set(subparsers.choices) - before:
            sub = subparsers.choices[command]
            if sub.get_default("func") is None:
                sub.set_defaults(func=module.run)
    # `--log-level` also after the subcommand (`spot-bow-ros run --log-level debug`); SUPPRESS
    # keeps a value given before the subcommand when it is not repeated after it.
    for sub in _all_parsers(parser):
        if sub is not parser and not any("--log-level" in a.option_strings for a in sub._actions):
            _add_log_level(sub, argparse.SUPPRESS)
    return parser


def _quiet_broken_pipe() -> None:
    """stdout's reader went away (`... | head`): send the rest to /dev/null, exit quietly."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def main(argv: list[str] | None = None) -> int:
    from ..backends.lifecycle import setup_logging

    parser = build_parser()
    args = parser.parse_args(argv)
    level = getattr(args, "log_level", "info")
    setup_logging(level)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        _quiet_broken_pipe()
        return 0
    except Exception as exc:
        log = logging.getLogger("spot_bow_ros")
        if level == "debug":
            log.exception(f"{args.command} failed")
        elif getattr(exc, "user_facing", False):  # a complete sentence already (bag exists, ...)
            log.error(str(exc))
        else:
            log.error(f"{args.command} failed: {type(exc).__name__}: {exc} (--log-level debug shows where)")
        return 1


if __name__ == "__main__":
    sys.exit(main())
