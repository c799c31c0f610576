"""ROS 2 name rules: validate and expand topic names the way rcl does."""

from __future__ import annotations

import re


class UnknownMessageType(LookupError):
    """A message type name that neither the typestore nor the ROS install knows."""


class TopicNameError(ValueError):
    """A topic name ROS 2 would reject. The message says why."""


_TOKEN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def expand_topic_name(name: str, namespace: str = "/", node_name: str = "") -> str:
    """Fully qualified topic name (`/ns/topic`) from a relative, absolute or `~` name.

    Rules as rcl's `rcl_expand_topic_name` + `rmw_validate_full_topic_name`: tokens of letters,
    digits and underscores not starting with a digit, no `//`, no trailing `/`.
    """
    if not isinstance(name, str) or not name:
        raise TopicNameError("topic name must not be empty")
    ns = namespace if namespace.startswith("/") else "/" + namespace
    ns = ns.rstrip("/")
    if name.startswith("~"):
        if not node_name:
            raise TopicNameError(f"topic name {name!r} uses '~' but no node name is known")
        rest = name[1:]
        if rest and not rest.startswith("/"):
            raise TopicNameError(f"topic name {name!r}: '~' must be followed by '/'")
        full = f"{ns}/{node_name}{rest}"
    elif name.startswith("/"):
        full = name
    else:
        full = f"{ns}/{name}"
    validate_full_topic_name(full, original=name)
    return full


def validate_full_topic_name(full: str, original: str | None = None) -> None:
    shown = original if original is not None else full
    if full != "/" and full.endswith("/"):
        raise TopicNameError(f"topic name {shown!r} must not end with '/'")
    if "//" in full:
        raise TopicNameError(f"topic name {shown!r} must not contain '//'")
    for token in full.strip("/").split("/"):
        if not _TOKEN.match(token):
            raise TopicNameError(
                f"topic name {shown!r}: token {token!r} must be letters, digits and '_' and not start with a digit")
    if len(full) > 255 - len("rt"):
        raise TopicNameError(f"topic name {shown!r} is too long for DDS")


def normalize_type_name(type_name: str) -> str:
    """`sensor_msgs/Image` or `sensor_msgs/msg/Image` -> `sensor_msgs/msg/Image`."""
    parts = type_name.strip().split("/")
    if len(parts) == 2:
        parts = [parts[0], "msg", parts[1]]
    if len(parts) != 3 or not all(parts):
        raise ValueError(f"message type name {type_name!r} is not of the form pkg/msg/Type")
    return "/".join(parts)
