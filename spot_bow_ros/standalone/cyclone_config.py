"""Which ROS 2 wire conventions and which Cyclone DDS configuration the standalone runtime uses.

Pure functions of the environment (no cyclonedds import), mirroring what a ROS 2 process does:

- **Distro**: `ros.distro.ros_distro` (`ROS_DISTRO` when set, else the current LTS, Jazzy).
- **Discovery** (`discovery_options`): rcl's reading of `ROS_AUTOMATIC_DISCOVERY_RANGE`,
  `ROS_STATIC_PEERS` and `ROS_LOCALHOST_ONLY` (Iron and later), or Humble's `ROS_LOCALHOST_ONLY`.
- **Cyclone configuration** (`cyclone_config`): the XML fragment rmw_cyclonedds_cpp's
  `check_create_domain` puts in front of the configuration for those options, then
  `CYCLONEDDS_URI` when the user set it, else the package's tuned `cyclonedds.xml`. Cyclone
  applies the pieces in order (later single values win, peer lists add up), so the shipped file
  carries only message-size and buffer tuning and never contradicts the discovery range.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path

from ..ros.distro import PROFILES

#: The rmw_cyclonedds_cpp discovery ranges (rmw/discovery_options.h).
RANGES = ("SUBNET", "LOCALHOST", "OFF", "SYSTEM_DEFAULT")
#: rmw_cyclonedds_cpp's MaxAutoParticipantIndex with a localhost or subnet peer list.
RMW_MAX_AUTO_PARTICIPANT_INDEX = 32

#: The package's tuned Cyclone configuration (also installed to share/spot_bow_ros/config/).
SHIPPED_CONFIG = Path(__file__).with_name("cyclonedds.xml")


@dataclass(frozen=True)
class DiscoveryOptions:
    """What rcl hands rmw_cyclonedds_cpp: a range and static peers; `humble_localhost` for
    Humble's ROS_LOCALHOST_ONLY=1 (bind to 127.0.0.1). `notes` are rcl's warnings, one line each.
    `ranged`: the distro has discovery ranges (Iron and later); Humble's rmw adds nothing else."""

    range: str = "SUBNET"
    static_peers: tuple[str, ...] = ()
    humble_localhost: bool = False
    notes: tuple[str, ...] = ()
    ranged: bool = True


def discovery_options(distro: str, env: Mapping[str, str] | None = None) -> DiscoveryOptions:
    """The discovery options a ROS 2 process of `distro` reads from `env`, as rcl does.

    Humble: only `ROS_LOCALHOST_ONLY=1` counts. Iron and later: `ROS_LOCALHOST_ONLY=1` means
    LOCALHOST and ignores the other two variables (rcl warns); otherwise
    `ROS_AUTOMATIC_DISCOVERY_RANGE` (empty: SUBNET; unknown: LOCALHOST with a warning) and
    `ROS_STATIC_PEERS` (`;`-separated addresses).
    """
    env = os.environ if env is None else env
    localhost_only = env.get("ROS_LOCALHOST_ONLY", "").strip() == "1"
    if distro not in PROFILES or not PROFILES[distro].discovery_range:
        return DiscoveryOptions(humble_localhost=localhost_only, ranged=False)
    notes: list[str] = []
    if localhost_only:
        notes.append("ROS_LOCALHOST_ONLY=1 is deprecated (use ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST); "
                     "ROS_AUTOMATIC_DISCOVERY_RANGE and ROS_STATIC_PEERS are ignored")
        return DiscoveryOptions(range="LOCALHOST", notes=tuple(notes))
    text = env.get("ROS_AUTOMATIC_DISCOVERY_RANGE", "").strip()
    if not text:
        range_ = "SUBNET"
    elif text in RANGES:
        range_ = text
    else:
        notes.append(f"invalid ROS_AUTOMATIC_DISCOVERY_RANGE={text!r} (expected one of {', '.join(RANGES)}): "
                     "assuming LOCALHOST")
        range_ = "LOCALHOST"
    peers = tuple(p.strip() for p in env.get("ROS_STATIC_PEERS", "").split(";") if p.strip())
    if peers and range_ in ("OFF", "SYSTEM_DEFAULT"):
        notes.append(f"{len(peers)} static peer(s) in ROS_STATIC_PEERS ignored: discovery range is {range_}")
    return DiscoveryOptions(range=range_, static_peers=peers, notes=tuple(notes))


def host_interface() -> str | None:
    """Name of the interface Cyclone picks by default: the first one that is up, not loopback and
    has an IPv4 address (None: only loopback). Linux only (SIOCGIFFLAGS / SIOCGIFADDR)."""
    import fcntl
    import socket
    import struct

    try:
        names = [name for _, name in socket.if_nameindex()]
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    except OSError:
        return None
    with sock:
        for name in names:
            req = struct.pack("256s", name.encode()[:15])
            try:
                flags = struct.unpack_from("H", fcntl.ioctl(sock.fileno(), 0x8913, req), 16)[0]  # SIOCGIFFLAGS
                fcntl.ioctl(sock.fileno(), 0x8915, req)  # SIOCGIFADDR: OSError without an IPv4 address
            except OSError:
                continue
            if flags & 0x1 and not flags & 0x8:  # IFF_UP, not IFF_LOOPBACK
                return name
    return None


def discovery_fragment(options: DiscoveryOptions, pid: int | None = None,
                       interfaces: tuple[str, ...] = ()) -> str:
    """The Cyclone XML rmw_cyclonedds_cpp prepends for `options` ('' when it adds nothing).

    SUBNET: participant index auto (max 32: this process listens on a well-known unicast port,
    so LOCALHOST processes on this host find it) plus the static peers, multicast kept;
    LOCALHOST: the same with multicast off and a `localhost` peer, the default network interface
    kept; OFF: multicast off, participant index none and a per-process discovery tag (nobody
    else matches); SYSTEM_DEFAULT: nothing. As `check_create_domain` does it: SUBNET and
    LOCALHOST set `add_static_peers`, so their fragment is written even without static peers.
    Humble's localhost-only binds the interface to 127.0.0.1 instead.

    One addition for SUBNET and LOCALHOST (not in rmw's fragment): `interfaces` (addresses or
    interface names; `cyclone_config` passes loopback and the default interface). Jazzy's rmw
    links Cyclone 0.10, which accepts packets on any interface and sends to the `localhost` peer
    from 127.0.0.1; the pip Cyclone (>= 0.11) accepts packets only on the interfaces it uses, so
    with only the default interface it drops those (on a host with a network interface, real
    ROS nodes in LOCALHOST would not see the standalone runtime at all).
    """
    if options.humble_localhost:
        return ('<CycloneDDS><Domain><General><Interfaces><NetworkInterface address="127.0.0.1"/>'
                '</Interfaces></General></Domain></CycloneDDS>')
    if not options.ranged or options.range not in ("SUBNET", "LOCALHOST", "OFF"):  # Humble, SYSTEM_DEFAULT
        return ""
    localhost_peer = options.range == "LOCALHOST"
    static_peers = options.static_peers if options.range in ("SUBNET", "LOCALHOST") else ()
    no_multicast = options.range in ("LOCALHOST", "OFF")
    xml = "<CycloneDDS><Domain>"
    general = "<AllowMulticast>false</AllowMulticast>" if no_multicast else ""
    if interfaces:
        general += "<Interfaces>" + "".join(
            f'<NetworkInterface {"address" if item[:1].isdigit() else "name"}="{_xml_attr(item)}"/>'
            for item in interfaces) + "</Interfaces>"
    if general:
        xml += f"<General>{general}</General>"
    if options.range == "OFF":
        xml += ("<Discovery><ParticipantIndex>none</ParticipantIndex>"
                f"<Tag>ros_discovery_off_{os.getpid() if pid is None else pid}</Tag>")
    else:
        xml += ("<Discovery><ParticipantIndex>auto</ParticipantIndex>"
                f"<MaxAutoParticipantIndex>{RMW_MAX_AUTO_PARTICIPANT_INDEX}</MaxAutoParticipantIndex>")
    if localhost_peer or static_peers:
        xml += "<Peers>"
        if localhost_peer:
            xml += '<Peer address="localhost"/>'
        xml += "".join(f'<Peer address="{_xml_attr(p)}"/>' for p in static_peers)
        xml += "</Peers>"
    return xml + "</Discovery></Domain></CycloneDDS>"


def _xml_attr(text: str) -> str:
    return (text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;"))


@dataclass(frozen=True)
class CycloneConfig:
    """The configuration string for `dds_create_domain` and a one-line description of it."""

    xml: str
    source: str          # "CYCLONEDDS_URI=...", "argument", "Cyclone's defaults ..." or the shipped file's path
    options: DiscoveryOptions

    def describe(self) -> str:
        opts = self.options
        where = "localhost only (Humble ROS_LOCALHOST_ONLY)" if opts.humble_localhost else opts.range
        peers = f", static peers {', '.join(opts.static_peers)}" if opts.static_peers else ""
        return f"Cyclone DDS: {self.source}; discovery {where}{peers}"


def cyclone_config(distro: str, env: Mapping[str, str] | None = None,
                   config_xml: str | None = None) -> CycloneConfig:
    """The whole configuration the standalone runtime creates its Cyclone domain with.

    The discovery fragment for the environment, then `config_xml` if given, else the user's
    `CYCLONEDDS_URI` (what rmw_cyclonedds_cpp appends; set but empty: Cyclone's defaults), else
    the shipped `cyclonedds.xml`.
    """
    env = os.environ if env is None else env
    options = discovery_options(distro, env)
    if config_xml is not None:
        base, source = config_xml, "argument"
    elif "CYCLONEDDS_URI" in env:  # set, even empty (= Cyclone's defaults): the user's choice
        base = env["CYCLONEDDS_URI"].strip()
        source = f"CYCLONEDDS_URI={base}" if base else "Cyclone's defaults (CYCLONEDDS_URI is empty)"
    else:
        base, source = SHIPPED_CONFIG.resolve().as_uri(), str(SHIPPED_CONFIG)
    interfaces: tuple[str, ...] = ()
    if source == str(SHIPPED_CONFIG) and options.ranged and options.range in ("SUBNET", "LOCALHOST"):
        # Loopback and the default interface (see discovery_fragment); a user's CYCLONEDDS_URI
        # or configuration argument chooses its own interfaces.
        host_if = host_interface()
        interfaces = ("127.0.0.1", host_if) if host_if else ("127.0.0.1",)
    fragment = discovery_fragment(options, interfaces=interfaces)
    # Empty fragments are ignored by Cyclone; rmw_cyclonedds_cpp joins them with a comma too.
    return CycloneConfig(xml=f"{fragment},{base}" if fragment else base, source=source, options=options)


# -- the ROS 2 route (rmw_cyclonedds_cpp) -----------------------------------------------------
def shipped_config_path() -> Path:
    """`share/spot_bow_ros/config/cyclonedds.xml` of a ROS 2 install, else the package's copy."""
    try:
        from ament_index_python.packages import get_package_share_directory

        path = Path(get_package_share_directory("spot_bow_ros")) / "config" / SHIPPED_CONFIG.name
        if path.is_file():
            return path
    except Exception:  # noqa: BLE001 - no ROS 2, or the package is not in the ament index
        pass
    return SHIPPED_CONFIG


def rmw_cyclone_note(env: Mapping[str, str]) -> str:
    """'' when rmw_cyclonedds_cpp is selected, else why CYCLONEDDS_URI does not apply (one clause)."""
    rmw = env.get("RMW_IMPLEMENTATION", "").strip()
    if rmw == "rmw_cyclonedds_cpp":
        return ""
    return (f"; it applies with RMW_IMPLEMENTATION=rmw_cyclonedds_cpp (now "
            f"{rmw or 'unset: the distro default, rmw_fastrtps_cpp'})")


def shipped_config_choice(env: Mapping[str, str], path: Path | None = None) -> tuple[str | None, str]:
    """(value to set CYCLONEDDS_URI to or None to leave it, the one log line saying so)."""
    if "CYCLONEDDS_URI" in env:
        value = env["CYCLONEDDS_URI"].strip()
        shown = f"your CYCLONEDDS_URI={value}" if value else "Cyclone's defaults (CYCLONEDDS_URI is empty)"
        return None, f"Cyclone DDS configuration: {shown}{rmw_cyclone_note(env)}"
    uri = (path or shipped_config_path()).resolve().as_uri()
    return uri, (f"Cyclone DDS configuration: CYCLONEDDS_URI={uri} (spot_bow_ros's tuning for large "
                 f"messages; set CYCLONEDDS_URI yourself to use another){rmw_cyclone_note(env)}")


def apply_shipped_cyclone_config(env: MutableMapping[str, str] | None = None, path: Path | None = None) -> str | None:
    """Before `rclpy.init`: point CYCLONEDDS_URI at the shipped tuning unless the user set it.

    rmw_cyclonedds_cpp reads CYCLONEDDS_URI when the process creates its first node, so setting
    it here covers `ros2 run spot_bow_ros ...`. Returns the log line, or None when the user's
    (or launch's) setting is kept as it is."""
    target: MutableMapping[str, str] = os.environ if env is None else env
    value, line = shipped_config_choice(target, path)
    if value is None:
        return None
    target["CYCLONEDDS_URI"] = value
    return line
