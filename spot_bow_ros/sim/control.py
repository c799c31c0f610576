"""Text control of a running simulated Spot: inject and clear faults, set the battery.

`spot-bow-ros sim --control-stdin` reads one command per line on stdin and answers one line on
stdout (`ok ...` or `error ...`), so tests and demos can drive a simulator in another process.
In-process code calls the `SimRobot` methods directly (`inject_system_fault`, ...).

Commands:
  system-fault NAME [info|warn|critical] [ATTR,ATTR...] [CODE]   -> ok <uuid>
  clear-system-fault NAME_OR_UUID                                -> ok <count cleared>
  behavior-fault [fall|hardware|lease_timeout|command_failure] [unclearable]  -> ok <id>
  clear-behavior-fault ID                                        -> ok cleared | error ...
  battery PERCENT                                                -> ok <percent>
"""

from __future__ import annotations

import shlex
from typing import Any, TextIO

SEVERITIES = ("info", "warn", "critical")


class ControlError(ValueError):
    """A control line that cannot be executed (the message says why)."""


def apply_control_line(robot: Any, line: str) -> str:
    """Execute one control command on `robot` (a SimRobot); the answer text after `ok`."""
    words = shlex.split(line)
    if not words:
        raise ControlError("empty command")
    verb, args = words[0], words[1:]
    if verb == "system-fault":
        if not args:
            raise ControlError("system-fault needs a NAME")
        severity = args[1] if len(args) > 1 else "warn"
        if severity not in SEVERITIES:
            raise ControlError(f"severity must be one of {', '.join(SEVERITIES)}, got {severity!r}")
        attributes = tuple(a for a in args[2].split(",") if a) if len(args) > 2 else ("robot",)
        code = _int(args[3], "CODE") if len(args) > 3 else 1
        return robot.inject_system_fault(args[0], code=code, severity=severity, attributes=attributes)
    if verb == "clear-system-fault":
        if len(args) != 1:
            raise ControlError("clear-system-fault needs NAME_OR_UUID")
        return str(robot.clear_system_fault(args[0]))
    if verb == "behavior-fault":
        cause = args[0] if args else "fall"
        clearable = "unclearable" not in args[1:]
        try:
            return str(robot.inject_behavior_fault(cause, clearable=clearable))
        except ValueError:
            raise ControlError(f"unknown behavior fault cause {cause!r}") from None
    if verb == "clear-behavior-fault":
        if len(args) != 1:
            raise ControlError("clear-behavior-fault needs ID")
        if not robot.clear_behavior_fault(_int(args[0], "ID")):
            raise ControlError(f"behavior fault {args[0]} is not active or not clearable")
        return "cleared"
    if verb == "battery":
        if len(args) != 1:
            raise ControlError("battery needs PERCENT")
        try:
            percent = float(args[0])
        except ValueError:
            raise ControlError(f"PERCENT must be a number, got {args[0]!r}") from None
        if not 0.0 <= percent <= 100.0:
            raise ControlError(f"PERCENT must be within 0..100, got {percent:g}")
        robot.set_battery(percent)
        return f"{percent:g}"
    raise ControlError(f"unknown command {verb!r} (system-fault, clear-system-fault, behavior-fault, "
                       "clear-behavior-fault, battery)")


def _int(text: str, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ControlError(f"{what} must be an integer, got {text!r}") from None


def serve_lines(robot_of: Any, stdin: TextIO, stdout: TextIO) -> None:
    """Answer control lines from `stdin` until it closes. `robot_of()` returns the SimRobot
    (None while the body is not mounted yet)."""
    for line in stdin:
        if not line.strip():
            continue
        robot = robot_of()
        try:
            if robot is None:
                raise ControlError("the robot body is not running")
            answer = f"ok {apply_control_line(robot, line)}"
        except ControlError as err:
            answer = f"error {err}"
        stdout.write(answer + "\n")
        stdout.flush()
