"""What the commands on the DDS domain (`topic`, `record`, `service`) share: the guarded run
(one line and exit code 2 for user errors), the DDS transport, the `list` verb, and messages as
text both ways (`format_message` prints like `ros2 topic echo`; `parse_fields`/`build` make a
message or request from the YAML given on the command line)."""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import yaml

from ..backends.lifecycle import setup_logging, shutdown_signals
from ..convert.yaml_errors import yaml_error_line
from ..ros.names import TopicNameError, UnknownMessageType


class CliError(Exception):
    """A user error of a topic, record or service command: printed as one line, exit code 2."""


def run_guarded(args: argparse.Namespace, body: Callable[[argparse.Namespace, threading.Event], int],
                failures: tuple[type[Exception], ...] = ()) -> int:
    """Run `body(args, stop)` with logging set up and Ctrl-C setting `stop`. User errors print one
    line and return 2; the `failures` (e.g. no reply) print one line and return 1."""
    setup_logging(getattr(args, "log_level", None))
    stop = threading.Event()
    try:
        with shutdown_signals(stop):
            return body(args, stop)
    except (CliError, TopicNameError, UnknownMessageType, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except failures as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def add_list_verb(verbs: Any, help_text: str, what: str) -> None:
    """Register a `list [-t] [--wait S]` verb listing discovered `what`s (topics or services)."""
    p = verbs.add_parser("list", help=help_text)
    p.add_argument("-t", "--show-types", action="store_true", help=f"also print each {what}'s type")
    p.add_argument("--wait", type=float, default=1.5, help="seconds of discovery before listing (default 1.5)")


def list_discovered(args: argparse.Namespace, discover: Callable[[Any], dict[str, str]]) -> int:
    """Join DDS for `args.wait` s, then print the sorted names `discover(transport)` maps to types."""
    transport = dds_transport()
    try:
        time.sleep(max(0.0, args.wait))
        found = discover(transport)
    finally:
        transport.close()
    for name in sorted(found):
        print(f"{name} [{found[name]}]" if args.show_types else name)
    return 0


def dds_transport(**options: Any) -> Any:
    """A DDS transport on `ROS_DOMAIN_ID` for the detected ROS distro (`options`: DdsTransport's)."""
    from ..backends.chooser import default_distro
    from ..standalone.dds_transport import DdsTransport

    return DdsTransport(distro=default_distro(), **options)


# -- messages as text -------------------------------------------------------------------------
def format_message(msg: Any, full_arrays: bool = False, indent: str = "") -> str:
    """YAML-like text of a message, as `ros2 topic echo` prints it (long arrays summarised)."""
    lines = []
    for name in getattr(msg, "__dataclass_fields__", {}):
        if name == "__msgtype__":
            continue
        value = getattr(msg, name)
        if hasattr(value, "__msgtype__"):
            lines.append(f"{indent}{name}:")
            lines.append(format_message(value, full_arrays, indent + "  "))
        elif isinstance(value, np.ndarray) or isinstance(value, list):
            items = list(value) if full_arrays or len(value) <= 32 else None
            if items is None:
                kind = value.dtype if isinstance(value, np.ndarray) else type(value[0]).__name__
                lines.append(f"{indent}{name}: '<sequence of {len(value)} {kind}>'")
            elif items and hasattr(items[0], "__msgtype__"):
                lines.append(f"{indent}{name}:")
                for item in items:
                    body = format_message(item, full_arrays, indent + "  ")
                    lines.append(f"{indent}- " + body.lstrip())
            else:
                lines.append(f"{indent}{name}:" + ("" if items else " []"))
                lines.extend(f"{indent}- {_scalar(v)}" for v in items)
        else:
            lines.append(f"{indent}{name}: {_scalar(value)}")
    return "\n".join(lines)


def _scalar(value: Any) -> str:
    if isinstance(value, str):
        return repr(value) if value == "" or value.strip() != value or ":" in value else value
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, np.generic):
        return str(value.item())
    return str(value)


def parse_fields(text: str) -> dict[str, Any]:
    """The YAML mapping of message fields given on the command line."""
    try:
        value = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as exc:
        raise CliError(f"values are not valid YAML: {yaml_error_line(exc)}") from None
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise CliError(f"values must be a YAML mapping of fields, e.g. '{{data: true}}', got {text!r}")
    return value


def build(make: Any, type_name: str, fields: dict[str, Any]) -> Any:
    try:
        return make(type_name, **fields)
    except (TypeError, ValueError) as exc:
        raise CliError(f"cannot build {type_name}: {exc}") from None


def format_short(msg: Any) -> str:
    """One line of a message's fields (`pkg/srv/Type_Request()` when it has none)."""
    if [f for f in vars(msg) if not f.startswith("__")] == ["structure_needs_at_least_one_member"]:
        return f"{msg.__msgtype__}()"
    return " ".join(format_message(msg).split())
