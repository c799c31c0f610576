"""Which robot `spot-bow-ros run` connects to: flags first, then the `--config` file, else the
built-in simulated Spot.

    --hostname H (+ --port, --ca-cert, --username, --password-file, --payload-credentials)
                                  a robot (password: BOSDYN_CLIENT_PASSWORD or --password-file)
    --connect-sim FILE            a simulated Spot started separately (`spot-bow-ros sim --info-file FILE`)
    config `hostname:` / `sim_info_file:` (the `/**` section, or every robot bridge's)
                                  the same, when no flag names a robot
    none of these                 the built-in simulated Spot, started and stopped by `run`

Every conflict is refused before anything starts, with one line naming the flags
(`ConnectionPlanError`, exit code 2).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

#: connection parameters `run` takes from the config file (the rest, timeouts etc., pass through)
CONNECTION_KEYS = ("hostname", "port", "ca_cert", "username", "password_file", "payload_credentials_file",
                   "auth_method", "sim_info_file")
#: flags that only mean something for the built-in simulator: (dest, flag, default)
SIM_ONLY_FLAGS = (("sim_info_file", "--sim-info-file", ""), ("sim_clock_offset", "--sim-clock-offset", 0.0),
                  ("no_arm", "--no-arm", False), ("no_streaming_licence", "--no-streaming-licence", False),
                  ("sim_no_estop", "--sim-no-estop", False))
#: a parameter named in a bosdyn-side error -> the `run` flag that sets it
PARAMETER_FLAGS = {"'username'/'password'": "--username with BOSDYN_CLIENT_PASSWORD or --password-file",
                   "'payload_credentials_file'": "--payload-credentials FILE",
                   "'sim_info_file'": "--connect-sim FILE", "'hostname'": "--hostname",
                   "'password_file'": "--password-file"}


class ConnectionPlanError(ValueError):
    """Conflicting or incomplete connection settings: one line, exit code 2."""


@dataclass
class ConnectionPlan:
    """`builtin_sim`, `sim_file` or `robot`; the connection parameters every robot bridge gets
    (the sim info file is filled in once the built-in simulator has written it); where they came from."""

    kind: str
    values: dict[str, Any] = field(default_factory=dict)
    source: str = ""

    def describe(self) -> str:
        if self.kind == "sim_file":
            return f"connecting to the simulated Spot of {self.values['sim_info_file']} ({self.source})"
        return f"connecting to the robot at {self.values['hostname']}:{self.values.get('port', 443)} ({self.source})"


def config_connection(overrides: Mapping[str, Mapping[str, Any]], robot_bridges: Sequence[str],
                      config_name: str) -> dict[str, Any]:
    """The connection values the config file sets (non-empty), the same for every robot bridge
    (they share one connection); ConnectionPlanError when two bridges disagree."""
    found: dict[str, Any] = {}
    owner: dict[str, str] = {}
    for bridge in robot_bridges:
        for key in CONNECTION_KEYS:
            value = overrides.get(bridge, {}).get(key)
            if value in (None, "") or (key == "port" and value == 443) or (key == "auth_method" and value == "auto"):
                continue
            if key in found and found[key] != value:
                raise ConnectionPlanError(
                    f"{config_name}: '{key}' is {found[key]!r} for {owner[key]} but {value!r} for {bridge}; "
                    "the bridges share one robot connection: set it once in the '/**' section")
            found.setdefault(key, value)
            owner.setdefault(key, bridge)
    return found


def plan_connection(args: argparse.Namespace, from_config: Mapping[str, Any], config_name: str) -> ConnectionPlan:
    """Decide where `run` connects (see the module docstring); ConnectionPlanError on conflicts."""
    if args.hostname and args.connect_sim:
        raise ConnectionPlanError("--hostname and --connect-sim name two robots: give one")
    if from_config.get("hostname") and from_config.get("sim_info_file"):
        raise ConnectionPlanError(f"{config_name} sets both 'hostname' and 'sim_info_file': keep one")
    flags = _robot_flags(args)
    if args.connect_sim:
        plan = ConnectionPlan("sim_file", {"sim_info_file": args.connect_sim, "hostname": ""}, "--connect-sim")
    elif args.hostname:
        values = {k: v for k, v in from_config.items() if k != "sim_info_file"}
        plan = ConnectionPlan("robot", {**values, **flags}, "--hostname")
    elif from_config.get("sim_info_file"):
        plan = ConnectionPlan("sim_file", {"sim_info_file": from_config["sim_info_file"], "hostname": ""},
                              f"sim_info_file in {config_name}")
    elif from_config.get("hostname"):
        plan = ConnectionPlan("robot", {**from_config, **flags}, f"hostname in {config_name}")
    else:
        plan = ConnectionPlan("builtin_sim")
    _check_flags_apply(args, plan)
    return plan


def _robot_flags(args: argparse.Namespace) -> dict[str, Any]:
    """The connection flags given on the command line (they win over the config file)."""
    values: dict[str, Any] = {}
    if args.hostname:
        values["hostname"] = args.hostname
    if args.port is not None:
        values["port"] = args.port
    for dest, key in (("ca_cert", "ca_cert"), ("username", "username"), ("password_file", "password_file"),
                      ("payload_credentials", "payload_credentials_file")):
        if getattr(args, dest):
            values[key] = getattr(args, dest)
    return values


def _check_flags_apply(args: argparse.Namespace, plan: ConnectionPlan) -> None:
    """A flag that would be silently ignored is refused instead."""
    if plan.kind != "builtin_sim":
        given = [flag for dest, flag, default in SIM_ONLY_FLAGS if getattr(args, dest) != default]
        if given:
            verb, them = ("apply", "them") if len(given) > 1 else ("applies", "it")
            raise ConnectionPlanError(f"{', '.join(given)} only {verb} to the built-in simulated Spot, but run "
                                      f"connects to {_target(plan)}: drop {them}")
    if plan.kind != "robot":
        given = [flag for flag, value in (("--port", args.port), ("--ca-cert", args.ca_cert),
                                          ("--username", args.username), ("--password-file", args.password_file),
                                          ("--payload-credentials", args.payload_credentials)) if value]
        if given:
            verb = "need" if len(given) > 1 else "needs"
            raise ConnectionPlanError(f"{', '.join(given)} {verb} a robot (--hostname, or 'hostname' in the "
                                      f"config), but run connects to {_target(plan)}")


def _target(plan: ConnectionPlan) -> str:
    if plan.kind == "builtin_sim":
        return "the built-in simulated Spot"
    if plan.kind == "sim_file":
        return f"the simulated Spot of {plan.values['sim_info_file']} ({plan.source})"
    return f"{plan.values['hostname']} ({plan.source})"


def in_flag_words(message: str, plan: ConnectionPlan) -> str:
    """A connection error that names parameters, reworded with the `run` flags that set them."""
    if message.startswith("no robot credentials"):
        return (f"no robot credentials for {_target(plan)}: give --username USER (or BOSDYN_CLIENT_USERNAME) "
                "with the password in BOSDYN_CLIENT_PASSWORD or --password-file FILE, or --payload-credentials FILE")
    for parameter, flag in PARAMETER_FLAGS.items():
        message = message.replace(f"set {parameter}", f"give {flag}").replace(parameter, flag)
    return message.replace(" parameter", "")
