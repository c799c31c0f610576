"""Standalone DDS backend (standalone/dds_transport.py) against plain Cyclone DDS written from the ROS 2 conventions.

The "plain" side declares its own IDL structs named as rmw_cyclonedds_cpp names them and uses
only the cyclonedds package, never project code, so these tests check the wire format itself.
"""


import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from cyclonedds.builtin import BuiltinDataReader, BuiltinTopicDcpsPublication
from cyclonedds.core import Policy, Qos
from cyclonedds.domain import DomainParticipant
from cyclonedds.sub import DataReader
from cyclonedds.topic import Topic
from plain_ros_types import Image_, ParticipantEntitiesInfo_, String_  # test/: plain wire types
from waiting import wait_until

from spot_bow_ros.ros.names import TopicNameError
from spot_bow_ros.ros.qos import DEFAULT, LATCHED, SENSOR_DATA, SENSOR_PUBLISHER
from spot_bow_ros.standalone.dds_domain import ensure_domain
from spot_bow_ros.standalone.dds_qos import dds_qos
from spot_bow_ros.standalone.dds_transport import DdsTransport
from spot_bow_ros.standalone.message_store import UnknownMessageType, messages_for
from spot_bow_ros.standalone.node import StandaloneNode

REPO = Path(__file__).resolve().parents[2]
DOMAIN = int(os.environ["ROS_DOMAIN_ID"])

XCDR1 = Policy.DataRepresentation(use_cdrv0_representation=True)
RELIABLE = Policy.Reliability.Reliable(max_blocking_time=10**9)


@pytest.fixture(scope="module")
def plain():
    # The domain is configured as the standalone runtime (and rmw_cyclonedds_cpp) would: a
    # participant created first with Cyclone's defaults would fix the process's domain otherwise.
    ensure_domain(DOMAIN, "jazzy", None)
    return DomainParticipant(DOMAIN)


# -- wire format ----------------------------------------------------------------------------
def test_plain_cyclone_reader_receives_image_identical_to_rosbags(transport, plain):
    node = StandaloneNode("camera", transport)
    reader = DataReader(plain, Topic(plain, "rt/camera/image_raw", Image_),
                        qos=Qos(RELIABLE, Policy.History.KeepLast(2), XCDR1))
    pub = node.create_publisher("sensor_msgs/msg/Image", "camera/image_raw", SENSOR_PUBLISHER)
    assert wait_until(lambda: pub.get_subscription_count() >= 1)

    pixels = np.random.default_rng(1).integers(0, 256, (720, 1280, 3), dtype=np.uint8)
    msg = node.msg("sensor_msgs/msg/Image", header={"stamp": {"sec": 1700000000, "nanosec": 123456789},
                                                    "frame_id": "camera_optical"},
                   height=720, width=1280, encoding="bgr8", step=1280 * 3, data=pixels.tobytes())
    pub.publish(msg)
    samples = []
    assert wait_until(lambda: samples.extend(reader.take(1)) or bool(samples), timeout=10)
    got = samples[0]
    assert (got.height, got.width, got.encoding, got.step) == (720, 1280, "bgr8", 3840)
    assert (got.header.stamp.sec, got.header.stamp.nanosec) == (1700000000, 123456789)
    assert got.header.frame_id == "camera_optical"
    assert bytes(got.data) == pixels.tobytes()
    # What the plain reader decoded re-encodes (XCDR1) to exactly rosbags' serialization.
    assert got.serialize(use_version_2=False) == messages_for("humble").serialize(msg)
    node.destroy()


def test_plain_cyclone_writer_is_received_by_standalone_subscription(transport, plain):
    from cyclonedds.pub import DataWriter

    node = StandaloneNode("listener", transport)
    got = []
    node.create_subscription("std_msgs/msg/String", "/chatter_in", got.append, DEFAULT)
    writer = DataWriter(plain, Topic(plain, "rt/chatter_in", String_), qos=Qos(RELIABLE, XCDR1))
    assert wait_until(lambda: len(writer.get_matched_subscriptions()) >= 1)
    writer.write(String_(data="hello from plain cyclone"))
    assert wait_until(lambda: len(got) >= 1)
    assert got[0].data == "hello from plain cyclone"
    assert got[0].__msgtype__ == "std_msgs/msg/String"
    node.destroy()


def test_topic_and_type_names_on_the_wire(transport, plain):
    node = StandaloneNode("namer", transport, namespace="/robot")
    node.create_publisher("sensor_msgs/Imu", "imu", SENSOR_PUBLISHER)
    pubs = BuiltinDataReader(plain, BuiltinTopicDcpsPublication)
    found = {}

    def seen():
        for ep in pubs.take(N=200):
            found[ep.topic_name] = ep.type_name
        return "rt/robot/imu" in found

    assert wait_until(seen)
    assert found["rt/robot/imu"] == "sensor_msgs::msg::dds_::Imu_"
    node.destroy()


# -- QoS ------------------------------------------------------------------------------------
def test_qos_maps_like_rmw_cyclonedds():
    q = dds_qos(LATCHED)
    assert Policy.Reliability.Reliable(max_blocking_time=2**63 - 1) in q
    assert Policy.Durability.TransientLocal in q
    assert Policy.History.KeepLast(1) in q
    assert Policy.WriterDataLifecycle(autodispose=False) in q
    assert Policy.DataRepresentation(use_cdrv0_representation=True) in q
    q = dds_qos(SENSOR_DATA)
    assert Policy.Reliability.BestEffort in q
    assert Policy.Durability.Volatile in q
    assert Policy.History.KeepLast(5) in q


def test_best_effort_subscription_matches_reliable_publisher_and_counts(transport):
    a, b = StandaloneNode("pub_node", transport), StandaloneNode("sub_node", transport)
    pub = a.create_publisher("std_msgs/msg/String", "/qos_topic", SENSOR_PUBLISHER)
    assert pub.get_subscription_count() == 0
    got = []
    b.create_subscription("std_msgs/msg/String", "/qos_topic", got.append, SENSOR_DATA)
    assert wait_until(lambda: pub.get_subscription_count() == 1)
    pub.publish(a.msg("std_msgs/msg/String", data="x"))
    assert wait_until(lambda: len(got) == 1)
    a.destroy()
    b.destroy()


def test_transient_local_reaches_late_subscriber(transport):
    a = StandaloneNode("latcher", transport)
    pub = a.create_publisher("std_msgs/msg/String", "/latched", LATCHED)
    pub.publish(a.msg("std_msgs/msg/String", data="first"))
    pub.publish(a.msg("std_msgs/msg/String", data="last"))
    other = DdsTransport(domain_id=DOMAIN)
    try:
        b = StandaloneNode("late", other)
        got = []
        b.create_subscription("std_msgs/msg/String", "/latched", got.append, LATCHED)
        assert wait_until(lambda: len(got) >= 1)
        time.sleep(0.2)
        assert [m.data for m in got] == ["last"]  # depth 1
        b.destroy()
    finally:
        other.close()
    a.destroy()


# -- graph: ros_discovery_info, typehash ----------------------------------------------------
@pytest.fixture
def humble_transport():
    """ROS_DISTRO=humble's wire conventions (24-byte GIDs, no type hashes), on request."""
    t = DdsTransport(domain_id=DOMAIN, distro="humble")
    yield t
    t.close()


def test_default_transport_speaks_jazzy_unless_ros_distro_says_humble(monkeypatch):
    monkeypatch.delenv("ROS_DISTRO")
    with DdsTransport(domain_id=DOMAIN) as t:
        assert (t.distro, t.gid_size, t.type_hashes) == ("jazzy", 16, True)
    monkeypatch.setenv("ROS_DISTRO", "humble")
    with DdsTransport(domain_id=DOMAIN) as t:
        assert (t.distro, t.gid_size, t.type_hashes) == ("humble", 24, False)
        assert t._user_data("std_msgs/msg/String") is None


def test_ros_discovery_info_describes_nodes_humble(humble_transport, plain):
    transport = humble_transport
    node = StandaloneNode("graph_node", transport, namespace="/g")
    pub = node.create_publisher("std_msgs/msg/String", "out", DEFAULT)
    sub = node.create_subscription("std_msgs/msg/String", "in", lambda m: None, DEFAULT)
    reader = DataReader(plain, Topic(plain, "ros_discovery_info", ParticipantEntitiesInfo_),
                        qos=Qos(RELIABLE, Policy.Durability.TransientLocal, Policy.History.KeepLast(1), XCDR1))
    gid = transport.gid + bytes(8)
    info = {}

    def described():
        for s in reader.take(N=50):
            if bytes(s.gid.data) == gid:
                info["last"] = s
        last = info.get("last")
        return last is not None and any(n.node_name == "graph_node" for n in last.node_entities_info_seq)

    assert wait_until(described)
    entry = next(n for n in info["last"].node_entities_info_seq if n.node_name == "graph_node")
    assert entry.node_namespace == "/g"
    writer_gids = [bytes(g.data) for g in entry.writer_gid_seq]
    assert writer_gids == [transport.writers[0].gid + bytes(8)] or \
        pub._writer.gid + bytes(8) in writer_gids
    # the subscription and the request readers of the 6 parameter services; writers: the publisher,
    # /parameter_events and the 6 reply writers
    reader_gids = [bytes(g.data) for g in entry.reader_gid_seq]
    assert len(reader_gids) == 7 and sub.reader.gid + bytes(8) in reader_gids
    assert len(writer_gids) == 8
    node.destroy()


def test_jazzy_endpoints_carry_typehash_and_16_byte_gids(plain):
    t = DdsTransport(domain_id=DOMAIN, distro="jazzy")
    try:
        node = StandaloneNode("jazzy_node", t)
        node.create_publisher("sensor_msgs/msg/Image", "/jazzy_image", SENSOR_PUBLISHER)
        expected = messages_for("jazzy").type_hash("sensor_msgs/msg/Image")
        pubs = BuiltinDataReader(plain, BuiltinTopicDcpsPublication)
        found = {}

        def seen():
            for ep in pubs.take(N=200):
                found[ep.topic_name] = ep
            return "rt/jazzy_image" in found

        assert wait_until(seen)
        user_data = [p for p in found["rt/jazzy_image"].qos if isinstance(p, Policy.Userdata)]
        assert user_data and user_data[0].data == f"typehash={expected};".encode()
        # the ros_discovery_info writer too (else every Jazzy process warns once)
        graph_hash = messages_for("jazzy").type_hash("rmw_dds_common/msg/ParticipantEntitiesInfo")
        assert wait_until(lambda: seen() or "ros_discovery_info" in found)
        graph_user_data = [p for p in found["ros_discovery_info"].qos if isinstance(p, Policy.Userdata)]
        assert graph_user_data and graph_user_data[0].data == f"typehash={graph_hash};".encode()
        assert expected.startswith("RIHS01_") and len(expected) == 7 + 64
        msg = t._graph.message()
        assert len(msg.gid.data) == 16
        assert bytes(msg.gid.data) == t.gid
        node.destroy()
    finally:
        t.close()


# -- errors ---------------------------------------------------------------------------------
def test_bad_topic_name_and_unknown_type_are_clear_errors(transport):
    node = StandaloneNode("errors", transport)
    with pytest.raises(TopicNameError, match="bad topic"):
        node.create_publisher("std_msgs/msg/String", "bad topic", DEFAULT)
    with pytest.raises(TopicNameError, match="2nd"):
        node.create_subscription("std_msgs/msg/String", "/ok/2nd", lambda m: None, DEFAULT)
    with pytest.raises(UnknownMessageType, match="foo_msgs/msg/Nope"):
        node.create_publisher("foo_msgs/msg/Nope", "x", DEFAULT)
    node.destroy()


# -- two processes --------------------------------------------------------------------------
TALKER = textwrap.dedent("""
    import sys
    from spot_bow_ros.backends.chooser import run_node
    from spot_bow_ros.ros.params import ParamSpec
    from spot_bow_ros.ros.qos import DEFAULT

    class Talker:
        def __init__(self, node):
            p = node.declare_parameters([ParamSpec("rate", 10.0, "Hz", min=0.1),
                                         ParamSpec("text", "hi", "prefix")])
            self.node, self.n, self.text = node, 0, p["text"]
            self.pub = node.create_publisher("std_msgs/msg/String", "chatter", DEFAULT)
            node.create_timer(1.0 / p["rate"], self.tick)

        def tick(self):
            self.n += 1
            self.pub.publish(self.node.msg("std_msgs/msg/String", data=f"{self.text} {self.n}"))

    sys.exit(run_node("talker", Talker))
""")


def test_subprocess_publisher_reaches_this_process_and_stops_on_sigint(tmp_path, transport, plain):
    script = tmp_path / "talker.py"
    script.write_text(TALKER)
    # ROS_DISTRO=humble: the plain ParticipantEntitiesInfo_ below has Humble's 24-byte GIDs
    env = dict(os.environ, PYTHONPATH=str(REPO), SPOT_BOW_ROS_BACKEND="standalone", ROS_DISTRO="humble")
    proc = subprocess.Popen([sys.executable, str(script), "--ros-args", "-p", "rate:=50", "-p", "text:=hello",
                             "-r", "__ns:=/xproc", "-r", "__node:=talker2"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        node = StandaloneNode("listener", transport)
        got = []
        node.create_subscription("std_msgs/msg/String", "/xproc/chatter", got.append, DEFAULT)
        assert wait_until(lambda: len(got) >= 5, timeout=15), proc.stderr.read() if proc.poll() else "no data"
        assert all(m.data.startswith("hello ") for m in got)
        numbers = [int(m.data.split()[1]) for m in got]
        assert numbers == sorted(numbers)

        # The other process's node is described on ros_discovery_info with its namespace/name.
        reader = DataReader(plain, Topic(plain, "ros_discovery_info", ParticipantEntitiesInfo_),
                            qos=Qos(RELIABLE, Policy.Durability.TransientLocal, Policy.History.KeepLast(1), XCDR1))
        names = set()

        def described():
            for s in reader.read(N=50):
                names.update((n.node_namespace, n.node_name) for n in s.node_entities_info_seq)
            return ("/xproc", "talker2") in names

        assert wait_until(described, timeout=10)
        node.destroy()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            rc = proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert rc == 0
