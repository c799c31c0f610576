"""ROS arguments as `ros2 run` passes them: `--ros-args -p name:=value --params-file F
-r __ns:=/x -r __node:=n -r from:=to --log-level debug [--]` (values of `-p` are YAML-typed), and
the `--backend` flag. Pure (no middleware import)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from ..ros.params import load_params_file


# -- ROS arguments --------------------------------------------------------------------------
@dataclass
class RosArgs:
    """What `--ros-args` asked for, plus the arguments that were not ROS arguments."""

    params: dict[str, Any] = field(default_factory=dict)
    params_files: list[str] = field(default_factory=list)
    namespace: str | None = None
    node_name: str | None = None
    remaps: dict[str, str] = field(default_factory=dict)
    log_level: str | None = None
    backend: str | None = None
    other: list[str] = field(default_factory=list)
    raw: list[str] = field(default_factory=list)   # argv as given (for rclpy.init)

    def overrides_for(self, node_name: str, namespace: str = "") -> dict[str, Any]:
        """Parameter overrides for a node: params files in order, then `-p` values."""
        values: dict[str, Any] = {}
        for path in self.params_files:
            values.update(load_params_file(path, node_name, namespace))
        values.update(self.params)
        return values


def _yaml_value(text: str) -> Any:
    """A `-p name:=value` value typed as rcl does (YAML): `5` int, `5.0` float, `true` bool, `[1, 2]` list."""
    try:
        return yaml.safe_load(text) if text != "" else ""
    except yaml.YAMLError:
        return text


def _split_assignment(text: str, what: str) -> tuple[str, str]:
    if ":=" not in text:
        raise ValueError(f"{what} {text!r} must look like name:=value")
    name, value = text.split(":=", 1)
    if not name:
        raise ValueError(f"{what} {text!r} has an empty name")
    return name, value


def parse_ros_args(argv: Sequence[str]) -> RosArgs:
    """Split `argv` into ROS arguments (inside `--ros-args ... [--]`) and the rest.

    Raises ValueError with a message naming the bad argument.
    """
    out = RosArgs(raw=list(argv))
    args = list(argv)
    i, in_ros = 0, False
    while i < len(args):
        arg = args[i]
        if arg == "--ros-args":
            in_ros = True
        elif in_ros and arg == "--":
            in_ros = False
        elif arg == "--backend" or arg.startswith("--backend="):
            if "=" in arg:
                value = arg.split("=", 1)[1]
            else:
                i += 1
                if i >= len(args):
                    raise ValueError("--backend needs a value (rclpy or standalone)")
                value = args[i]
            out.backend = value
        elif in_ros:
            needs_value = arg in ("-p", "--param", "-r", "--remap", "--params-file", "--log-level",
                                  "-e", "--enclave", "--log-config-file", "--log-file-name")
            if needs_value:
                i += 1
                if i >= len(args):
                    raise ValueError(f"ROS argument {arg} needs a value")
                value = args[i]
                if arg in ("-p", "--param"):
                    name, text = _split_assignment(value, "parameter")
                    out.params[name] = _yaml_value(text)
                elif arg in ("-r", "--remap"):
                    src, dst = _split_assignment(value, "remapping")
                    if ":" in src and not src.startswith(("/", "~")) and src.split(":", 1)[0]:
                        src = src.split(":", 1)[1]  # node-targeted `node:from:=to`
                    if src == "__ns":
                        out.namespace = dst if dst.startswith("/") else "/" + dst
                    elif src in ("__node", "__name"):
                        out.node_name = dst
                    else:
                        out.remaps[src] = dst
                elif arg == "--params-file":
                    out.params_files.append(value)
                elif arg == "--log-level":
                    out.log_level = value.split(":=")[-1]
            elif arg in ("--enable-rosout-logs", "--disable-rosout-logs", "--enable-stdout-logs",
                         "--disable-stdout-logs", "--enable-external-lib-logs", "--disable-external-lib-logs"):
                pass
            else:
                raise ValueError(f"unknown ROS argument {arg!r}")
        else:
            out.other.append(arg)
        i += 1
    return out
