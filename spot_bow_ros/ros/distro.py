"""The ROS 2 distributions the standalone runtime speaks: one profile table, one default.

Every module that depends on the distro (message definitions, wire details, discovery options)
reads this table; nothing else names a default distro.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class DistroProfile:
    """What differs between ROS 2 distributions on the wire and in bags.

    `rosbags_store`: the name of the `rosbags.typesys.Stores` member with its message
    definitions; `type_hash`: endpoints carry `typehash=` USER_DATA and GIDs are 16 bytes (24
    before Iron); `discovery_range`: rcl reads ROS_AUTOMATIC_DISCOVERY_RANGE / ROS_STATIC_PEERS
    (Humble: only ROS_LOCALHOST_ONLY)."""

    name: str
    rosbags_store: str
    type_hash: bool
    discovery_range: bool

    @property
    def gid_size(self) -> int:
        """Bytes of an rmw GID in `ros_discovery_info` (16 from Iron on, 24 on Humble)."""
        return 16 if self.type_hash else 24


PROFILES: dict[str, DistroProfile] = {p.name: p for p in (
    DistroProfile("humble", "ROS2_HUMBLE", type_hash=False, discovery_range=False),
    DistroProfile("iron", "ROS2_IRON", type_hash=True, discovery_range=True),
    DistroProfile("jazzy", "ROS2_JAZZY", type_hash=True, discovery_range=True),
    DistroProfile("kilted", "ROS2_KILTED", type_hash=True, discovery_range=True),
)}

#: The current ROS 2 LTS: what the standalone runtime speaks when `ROS_DISTRO` is not set.
DEFAULT_DISTRO = "jazzy"
#: Distros the standalone runtime knows the wire details (and message definitions) of.
KNOWN_DISTROS = tuple(PROFILES)


def profile(distro: str | None = None) -> DistroProfile:
    """The profile of `distro` (None: the default); ValueError for a distro not in the table."""
    name = DEFAULT_DISTRO if distro is None else distro
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown ROS distro {name!r} (expected one of {', '.join(PROFILES)})") from None


def ros_distro(env: Mapping[str, str] | None = None) -> tuple[str, str | None]:
    """(distro, note): the ROS 2 distribution whose wire details to speak.

    `ROS_DISTRO` when it names a known distro; unset or empty: Jazzy (the current LTS); an
    unknown name (rolling, a newer release): Jazzy's conventions, with a one-line `note` saying so.
    """
    env = os.environ if env is None else env
    name = env.get("ROS_DISTRO", "").strip().lower()
    if not name:
        return DEFAULT_DISTRO, None
    if name in KNOWN_DISTROS:
        return name, None
    return DEFAULT_DISTRO, (f"ROS_DISTRO={name} is not one of {', '.join(KNOWN_DISTROS)}: "
                            f"speaking {DEFAULT_DISTRO}'s wire conventions")
