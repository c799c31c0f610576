"""standalone/cyclone_config.py: distro choice and the Cyclone configuration for every discovery setting,
compared with what rmw_cyclonedds_cpp (check_create_domain) and rcl (discovery_options.c) do."""

import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from spot_bow_ros.ros.distro import DEFAULT_DISTRO, ros_distro
from spot_bow_ros.standalone.cyclone_config import (
    SHIPPED_CONFIG,
    apply_shipped_cyclone_config,
    cyclone_config,
    discovery_fragment,
    discovery_options,
    host_interface,
)

REPO = Path(__file__).resolve().parents[2]


# -- distro -----------------------------------------------------------------------------------
@pytest.mark.parametrize("value, distro, noted", [
    ("", "jazzy", False), ("jazzy", "jazzy", False), ("humble", "humble", False), ("Humble", "humble", False),
    ("iron", "iron", False), ("kilted", "kilted", False), ("rolling", "jazzy", True), ("foxy", "jazzy", True),
])
def test_ros_distro_follows_ros_distro_and_defaults_to_the_lts(value, distro, noted):
    got, note = ros_distro({"ROS_DISTRO": value})
    assert got == distro and bool(note) == noted
    assert ros_distro({})[0] == DEFAULT_DISTRO == "jazzy"
    if noted:
        assert value in note and "jazzy" in note and "\n" not in note


# -- discovery options (rcl) ------------------------------------------------------------------
def test_discovery_options_like_rcl():
    assert discovery_options("jazzy", {}).range == "SUBNET"
    for value in ("SUBNET", "LOCALHOST", "OFF", "SYSTEM_DEFAULT"):
        assert discovery_options("jazzy", {"ROS_AUTOMATIC_DISCOVERY_RANGE": value}).range == value
    bad = discovery_options("jazzy", {"ROS_AUTOMATIC_DISCOVERY_RANGE": "localhost"})  # rcl compares exactly
    assert bad.range == "LOCALHOST" and "invalid" in bad.notes[0]
    peers = discovery_options("jazzy", {"ROS_STATIC_PEERS": "192.168.0.2; robot.local;;"})
    assert peers.static_peers == ("192.168.0.2", "robot.local")
    legacy = discovery_options("jazzy", {"ROS_LOCALHOST_ONLY": "1", "ROS_AUTOMATIC_DISCOVERY_RANGE": "SUBNET",
                                         "ROS_STATIC_PEERS": "10.0.0.1"})
    assert (legacy.range, legacy.static_peers) == ("LOCALHOST", ()) and "deprecated" in legacy.notes[0]
    off = discovery_options("jazzy", {"ROS_AUTOMATIC_DISCOVERY_RANGE": "OFF", "ROS_STATIC_PEERS": "10.0.0.1"})
    assert "ignored" in off.notes[0]


def test_humble_knows_only_ros_localhost_only():
    opts = discovery_options("humble", {"ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST", "ROS_STATIC_PEERS": "10.0.0.1"})
    assert not opts.humble_localhost and opts.static_peers == ()
    assert discovery_fragment(opts) == ""
    assert discovery_options("humble", {"ROS_LOCALHOST_ONLY": "1"}).humble_localhost


# -- the XML fragment (rmw_cyclonedds_cpp) ----------------------------------------------------
def _parse(fragment):
    root = ET.fromstring(fragment)
    domain = root.find("Domain")
    text = lambda path: (domain.find(path).text if domain.find(path) is not None else None)
    return {
        "multicast": text("General/AllowMulticast"),
        "index": text("Discovery/ParticipantIndex"),
        "max_index": text("Discovery/MaxAutoParticipantIndex"),
        "tag": text("Discovery/Tag"),
        "peers": [p.get("address") for p in domain.iter("Peer")],
        "interfaces": [i.get("address") or i.get("name") for i in domain.iter("NetworkInterface")],
    }


def _fragment(env, distro="jazzy"):
    return discovery_fragment(discovery_options(distro, env), pid=4242)


def test_subnet_keeps_multicast_and_takes_a_well_known_port():
    """rmw_cyclonedds_cpp check_create_domain: SUBNET sets add_static_peers, so its fragment
    (participant index auto, max 32) is written even without static peers (the 32-process limit
    of ros2/rmw_cyclonedds#458 on Iron/Jazzy comes from it)."""
    expected = {"multicast": None, "index": "auto", "max_index": "32", "tag": None, "peers": [], "interfaces": []}
    assert _parse(_fragment({})) == expected == _parse(_fragment({"ROS_AUTOMATIC_DISCOVERY_RANGE": "SUBNET"}))
    got = _parse(_fragment({"ROS_STATIC_PEERS": "10.0.0.7"}))
    assert got == {**expected, "peers": ["10.0.0.7"]}


def test_localhost_keeps_the_interface_turns_multicast_off_and_adds_a_localhost_peer():
    """Not a 127.0.0.1 binding: a default-range ROS node on this host must still see us."""
    got = _parse(_fragment({"ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST", "ROS_STATIC_PEERS": "10.0.0.7"}))
    assert got == {"multicast": "false", "index": "auto", "max_index": "32", "tag": None,
                   "peers": ["localhost", "10.0.0.7"], "interfaces": []}
    assert _parse(_fragment({"ROS_LOCALHOST_ONLY": "1"}))["peers"] == ["localhost"]


def test_standalone_adds_loopback_and_the_host_interface_unless_the_user_configures_cyclone():
    """pip Cyclone (>= 0.11) accepts packets only on its interfaces; real ROS (Cyclone 0.10)
    sends to the localhost peer from 127.0.0.1 (the tier in test/ros2_real checks the effect)."""
    host_if = host_interface()
    for range_ in ("LOCALHOST", "SUBNET"):
        config = cyclone_config("jazzy", {"ROS_AUTOMATIC_DISCOVERY_RANGE": range_})
        assert _parse(config.xml.split(",")[0])["interfaces"] == ["127.0.0.1"] + ([host_if] if host_if else [])
        mine = cyclone_config("jazzy", {"ROS_AUTOMATIC_DISCOVERY_RANGE": range_, "CYCLONEDDS_URI": "file:///x.xml"})
        assert _parse(mine.xml.split(",")[0])["interfaces"] == []
    assert _parse(cyclone_config("jazzy", {"ROS_AUTOMATIC_DISCOVERY_RANGE": "OFF"}).xml.split(",")[0])["interfaces"] == []
    assert cyclone_config("humble", {}).xml == SHIPPED_CONFIG.resolve().as_uri()


def test_off_isolates_the_process_with_a_discovery_tag():
    got = _parse(_fragment({"ROS_AUTOMATIC_DISCOVERY_RANGE": "OFF", "ROS_STATIC_PEERS": "10.0.0.7"}))
    assert got == {"multicast": "false", "index": "none", "max_index": None, "tag": "ros_discovery_off_4242",
                   "peers": [], "interfaces": []}


def test_system_default_changes_nothing():
    assert _fragment({"ROS_AUTOMATIC_DISCOVERY_RANGE": "SYSTEM_DEFAULT", "ROS_STATIC_PEERS": "10.0.0.7"}) == ""


def test_humble_localhost_only_binds_loopback():
    got = _parse(_fragment({"ROS_LOCALHOST_ONLY": "1"}, distro="humble"))
    assert got["interfaces"] == ["127.0.0.1"] and got["peers"] == [] and got["multicast"] is None


# -- the whole configuration ------------------------------------------------------------------
def test_shipped_config_only_tunes_and_leaves_discovery_to_the_environment():
    domain = ET.parse(SHIPPED_CONFIG).getroot().find("{https://cdds.io/config}Domain")
    tags = {el.tag.split("}")[1] for el in domain.iter()}
    assert {"MaxMessageSize", "FragmentSize", "SocketReceiveBufferSize", "WhcHigh"} <= tags
    assert not tags & {"AllowMulticast", "Interfaces", "NetworkInterface", "Peers", "ParticipantIndex", "Tag"}


def test_config_order_fragment_then_user_uri_or_shipped_file():
    shipped = cyclone_config("jazzy", {"ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST"})
    fragment, base = shipped.xml.split(",", 1)
    assert "AllowMulticast" in fragment and base == SHIPPED_CONFIG.resolve().as_uri()
    assert "discovery LOCALHOST" in shipped.describe()
    subnet = _fragment({})
    user = cyclone_config("jazzy", {"CYCLONEDDS_URI": "file:///etc/my.xml"})
    assert user.xml == f"{subnet},file:///etc/my.xml" and user.source == "CYCLONEDDS_URI=file:///etc/my.xml"
    assert cyclone_config("jazzy", {}, config_xml="<CycloneDDS/>").xml == f"{subnet},<CycloneDDS/>"
    humble = cyclone_config("humble", {"CYCLONEDDS_URI": "file:///etc/my.xml"})
    assert humble.xml == "file:///etc/my.xml"  # Humble's rmw adds nothing without ROS_LOCALHOST_ONLY
    system = cyclone_config("jazzy", {"ROS_AUTOMATIC_DISCOVERY_RANGE": "SYSTEM_DEFAULT", "CYCLONEDDS_URI": "x"})
    assert system.xml == "x"


def test_empty_cyclonedds_uri_means_cyclone_defaults():
    """As rmw_cyclonedds_cpp: the discovery fragment, a comma, then the (empty) variable."""
    config = cyclone_config("jazzy", {"CYCLONEDDS_URI": ""})
    assert config.xml == _fragment({}) + "," and "defaults" in config.source


# -- the ROS 2 route: CYCLONEDDS_URI for rmw_cyclonedds_cpp ------------------------------------
def test_ros_route_gets_the_shipped_tuning_unless_the_user_set_cyclonedds_uri():
    env = {"RMW_IMPLEMENTATION": "rmw_cyclonedds_cpp"}
    line = apply_shipped_cyclone_config(env)
    assert env["CYCLONEDDS_URI"] == SHIPPED_CONFIG.resolve().as_uri()
    assert line.count("\n") == 0 and "CYCLONEDDS_URI=file://" in line and "RMW_IMPLEMENTATION" not in line
    assert apply_shipped_cyclone_config(env) is None  # set now (by us, or by launch): kept
    mine = {"CYCLONEDDS_URI": "file:///etc/mine.xml"}
    assert apply_shipped_cyclone_config(mine) is None and mine["CYCLONEDDS_URI"] == "file:///etc/mine.xml"
    fast = {}
    assert "RMW_IMPLEMENTATION=rmw_cyclonedds_cpp" in apply_shipped_cyclone_config(fast)


# What Cyclone itself makes of the configuration: its "config" trace lists every effective setting.
PROBE = textwrap.dedent("""
    import os, sys
    from cyclonedds.domain import Domain, DomainParticipant
    from spot_bow_ros.ros.distro import ros_distro
    from spot_bow_ros.standalone.cyclone_config import cyclone_config
    trace = ('<CycloneDDS><Domain><Tracing><Category>config</Category>'
             '<OutputFile>' + sys.argv[1] + '</OutputFile></Tracing></Domain></CycloneDDS>')
    config = cyclone_config(ros_distro()[0])
    keep = Domain(int(os.environ["ROS_DOMAIN_ID"]), config.xml + "," + trace)
    DomainParticipant(int(os.environ["ROS_DOMAIN_ID"]))
""")


def _effective(tmp_path, env_extra):
    import os

    log = tmp_path / "cyclone.log"
    env = {k: v for k, v in os.environ.items()
           if k not in ("ROS_AUTOMATIC_DISCOVERY_RANGE", "ROS_STATIC_PEERS", "ROS_LOCALHOST_ONLY", "CYCLONEDDS_URI")}
    env.update(env_extra, PYTHONPATH=str(REPO))
    subprocess.run([sys.executable, "-c", PROBE, str(log)], env=env, check=True, timeout=60)
    lines = [line.split("config: ", 1)[1] for line in log.read_text().splitlines() if "config: " in line]
    return lines


@pytest.mark.parametrize("env, expect, absent", [
    ({}, ["General/AllowMulticast/#text: default", "General/MaxMessageSize/#text: 65500 B",
          "ParticipantIndex/#text: auto", "NetworkInterface[@address]: 127.0.0.1"],
     ["Peer[@Address]: localhost"]),
    ({"ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST"},
     ["General/AllowMulticast/#text: false", "Peers/Peer[@Address]: localhost", "ParticipantIndex/#text: auto",
      "General/MaxMessageSize/#text: 65500 B", "NetworkInterface[@address]: 127.0.0.1"], []),
    ({"ROS_AUTOMATIC_DISCOVERY_RANGE": "OFF"},
     ["General/AllowMulticast/#text: false", "ParticipantIndex/#text: none", "Discovery/Tag/#text: ros_discovery_off_"],
     ["Peer[@Address]: localhost"]),
    ({"ROS_DISTRO": "humble", "ROS_LOCALHOST_ONLY": "1"},
     ["NetworkInterface[@address]: 127.0.0.1"], ["General/AllowMulticast/#text: false"]),
], ids=["subnet", "localhost", "off", "humble-localhost-only"])
def test_cyclone_applies_the_configuration(tmp_path, env, expect, absent):
    lines = _effective(tmp_path, env)
    assert lines, "Cyclone wrote no config trace"
    for item in expect:
        assert any(item in line for line in lines), f"{item!r} not in Cyclone's effective config"
    for item in absent:
        assert not any(item in line for line in lines), f"{item!r} in Cyclone's effective config"


# Two processes of the standalone runtime with the same discovery setting: LOCALHOST finds the
# other process without multicast (through the localhost peer), OFF finds nobody.
PEER = textwrap.dedent("""
    import sys, time
    from spot_bow_ros.standalone.dds_transport import DdsTransport
    from spot_bow_ros.ros.qos import DEFAULT
    from spot_bow_ros.standalone.node import StandaloneNode
    t = DdsTransport()
    node = StandaloneNode("peer_" + sys.argv[1], t)
    got = []
    if sys.argv[1] == "pub":
        pub = node.create_publisher("std_msgs/msg/String", "/discovery_probe", DEFAULT)
        print("ready", flush=True)
        for i in range(int(float(sys.argv[2]) * 10)):
            pub.publish(node.msg("std_msgs/msg/String", data=str(i)))
            time.sleep(0.1)
    else:
        node.create_subscription("std_msgs/msg/String", "/discovery_probe", got.append, DEFAULT)
        time.sleep(float(sys.argv[2]))
        print(len(got))
    node.destroy()
    t.close()
""")


@pytest.mark.parametrize("setting, sub_setting, reached", [
    ("LOCALHOST", "LOCALHOST", True), ("OFF", "OFF", False),
    # a LOCALHOST process finds a SUBNET one already running on this host: its localhost peer
    # probes the well-known ports of participant indices 0..32, where rmw_cyclonedds' SUBNET
    # fragment (participant index auto) puts the SUBNET process (the other way round, Cyclone
    # does not re-probe within seconds: the SUBNET process must be up first)
    ("SUBNET", "LOCALHOST", True)])
def test_two_processes_with_these_ranges(setting, sub_setting, reached):
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("ROS_STATIC_PEERS", "ROS_LOCALHOST_ONLY", "CYCLONEDDS_URI")}
    env.update(ROS_AUTOMATIC_DISCOVERY_RANGE=setting, PYTHONPATH=str(REPO))
    pub = subprocess.Popen([sys.executable, "-c", PEER, "pub", "5"], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True)
    try:
        assert pub.stdout.readline().strip() == "ready"  # the publishing process is up first
        sub_env = {**env, "ROS_AUTOMATIC_DISCOVERY_RANGE": sub_setting}
        sub = subprocess.run([sys.executable, "-c", PEER, "sub", "3"], env=sub_env, capture_output=True, text=True,
                             timeout=60)
    finally:
        pub.kill()
        pub.wait()
    assert sub.returncode == 0, sub.stderr
    assert (int(sub.stdout.strip()) > 5) == reached, sub.stdout
