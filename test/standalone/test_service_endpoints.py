"""standalone/service_types.py and standalone/service_endpoints.py: rmw_cyclonedds_cpp's service conventions (topics,
types, request header, endpoint USER_DATA) as seen by a plain Cyclone reader of the builtin topics."""

import struct

import pytest
from cyclonedds.builtin import BuiltinDataReader, BuiltinTopicDcpsPublication, BuiltinTopicDcpsSubscription
from cyclonedds.core import Policy
from cyclonedds.domain import DomainParticipant
from waiting import wait_until

from spot_bow_ros.standalone.dds_transport import DdsTransport
from spot_bow_ros.standalone.message_store import messages_for
from spot_bow_ros.standalone.node import StandaloneNode
from spot_bow_ros.standalone.service_endpoints import DdsServiceClient, ServiceCallError
from spot_bow_ros.standalone.service_types import csid_string, pack_sample, unpack_sample, user_data_value


def test_request_header_is_inserted_after_the_encapsulation_header():
    m = messages_for("humble")
    body = m.serialize(m.make("std_srvs/srv/SetBool_Request", data=True))
    sample = pack_sample(0xFEDCBA9876543210, 42, body)
    assert sample[:4] == body[:4] and sample[20:] == body[4:]
    assert struct.unpack_from("<Qq", sample, 4) == (0xFEDCBA9876543210, 42)
    assert unpack_sample(sample) == (0xFEDCBA9876543210, 42, body)
    big = b"\x00\x00\x00\x00" + struct.pack(">Qq", 7, 3) + b"\x01"
    assert unpack_sample(big)[:2] == (7, 3)
    with pytest.raises(ValueError, match="shorter than its headers"):
        unpack_sample(b"\x00\x01\x00\x00\x01")


def test_csid_and_user_data_text():
    ident = bytes([0x01, 0x10, 0xab] + [0] * 12 + [0x2f])
    # rmw_node.cpp csid_to_string: `os << std::hex << std::setw(2) << data[0]` (fill: space)
    assert csid_string(ident) == " 1.10.ab.0.0.0.0.0.0.0.0.0.0.0.0.2f"
    assert csid_string(bytes([0xc0] + [1] * 15)).startswith("c0.1.1.")
    assert user_data_value(b"serviceid=01.2;typehash=RIHS01_ab;", "serviceid") == "01.2"
    assert user_data_value(b"clientid=x;", "serviceid") is None and user_data_value(None, "k") is None


def test_service_types_hash_like_rosidl():
    m = messages_for("jazzy")
    # empty requests carry rosidl's placeholder member (its hash differs from a truly empty struct)
    assert [f for f, _ in m.typestore.fielddefs["std_srvs/srv/Trigger_Request"][1]] == \
        ["structure_needs_at_least_one_member"]
    assert m.type_hash("std_srvs/srv/Trigger_Response").startswith("RIHS01_")


def test_empty_request_hash_equals_rosidl_generated_value():
    """An empty request is hashed as rosidl does: with its `structure_needs_at_least_one_member`.
    Reference: rosidl-generated C of controller_manager_msgs/srv/ListHardwareInterfaces (Jazzy),
    whose request is empty: `..._Request__get_type_hash` = 41 9a 20 4c ... 80 98."""
    from rosbags.typesys import Stores, get_types_from_msg, get_typestore

    from spot_bow_ros.standalone.service_types import _EMPTY

    store = get_typestore(Stores.ROS2_JAZZY)
    name = "controller_manager_msgs/srv/ListHardwareInterfaces_Request"
    store.register({name: next(iter(get_types_from_msg(_EMPTY, name).values()))})
    assert store.hash_rihs01(name) == \
        "RIHS01_419a204c74b85adb602848d0f288fc756d0216f70bd30ab889c1d9b154ed8098"


@pytest.mark.parametrize("distro", ["humble", "jazzy"])
def test_endpoints_topics_types_qos_and_user_data(distro):
    import os

    domain = int(os.environ["ROS_DOMAIN_ID"])
    t = DdsTransport(domain_id=domain, distro=distro)
    plain = DomainParticipant(domain)
    try:
        node = StandaloneNode("svc_node", t, namespace="/ns", serve_parameters=False)
        node.create_service("std_srvs/srv/Trigger", "power_on", lambda req: {"success": True})
        subs = BuiltinDataReader(plain, BuiltinTopicDcpsSubscription)
        pubs = BuiltinDataReader(plain, BuiltinTopicDcpsPublication)
        found = {}

        def seen():
            for ep in list(subs.take(N=100)) + list(pubs.take(N=100)):
                found[ep.topic_name] = ep
            return {"rq/ns/power_onRequest", "rr/ns/power_onReply"} <= set(found)

        assert wait_until(seen, timeout=5)
        rq, rr = found["rq/ns/power_onRequest"], found["rr/ns/power_onReply"]
        assert rq.type_name == "std_srvs::srv::dds_::Trigger_Request_"
        assert rr.type_name == "std_srvs::srv::dds_::Trigger_Response_"
        for ep in (rq, rr):
            ud = next(p.data for p in ep.qos if isinstance(p, Policy.Userdata))
            assert user_data_value(ud, "serviceid") is not None
            assert (user_data_value(ud, "typehash") is not None) == (distro == "jazzy")
            assert Policy.Durability.Volatile in ep.qos and Policy.History.KeepLast(10) in ep.qos
        assert user_data_value(next(p.data for p in rq.qos if isinstance(p, Policy.Userdata)), "serviceid") == \
            user_data_value(next(p.data for p in rr.qos if isinstance(p, Policy.Userdata)), "serviceid")
        assert t.discovered_services()["/ns/power_on"] == "std_srvs/srv/Trigger"
        client = DdsServiceClient(t, "/ns/power_on", "std_srvs/srv/Trigger")
        assert client.call(t.messages.make("std_srvs/srv/Trigger_Request"), 5).success is True
        missing = DdsServiceClient(t, "/ns/nobody", "std_srvs/srv/Trigger")
        with pytest.raises(ServiceCallError, match="not available"):
            missing.call(t.messages.make("std_srvs/srv/Trigger_Request"), 0.3)
        node.destroy()
    finally:
        t.close()


def test_ros_discovery_info_attributes_service_endpoints_like_the_graph_cache():
    """rmw_dds_common's graph cache joins DCPS discovery keys with `ros_discovery_info` GIDs:
    `ros2 node info` lists a node's services from its *request readers* (rmw_cyclonedds
    `rmw_get_service_names_and_types_by_node`: reader names, `_demangle_service_request_from_topic`)
    and `ros2 service list` from any rq/rr endpoint. Checked with the DCPS keys a ROS peer sees."""
    import os

    from cyclonedds.core import Qos
    from cyclonedds.sub import DataReader
    from cyclonedds.topic import Topic
    from plain_ros_types import ParticipantEntitiesInfo_  # 24-byte GIDs: Humble

    domain = int(os.environ["ROS_DOMAIN_ID"])
    t = DdsTransport(domain_id=domain, distro="humble")
    plain = DomainParticipant(domain)
    try:
        node = StandaloneNode("attr_node", t, namespace="/attr", serve_parameters=False)
        node.create_service("std_srvs/srv/Trigger", "power_on", lambda req: {"success": True})
        subs = BuiltinDataReader(plain, BuiltinTopicDcpsSubscription)
        pubs = BuiltinDataReader(plain, BuiltinTopicDcpsPublication)
        graph = DataReader(plain, Topic(plain, "ros_discovery_info", ParticipantEntitiesInfo_),
                           qos=Qos(Policy.Reliability.Reliable(10**9), Policy.Durability.TransientLocal,
                                   Policy.History.KeepLast(1),
                                   Policy.DataRepresentation(use_cdrv0_representation=True)))
        keys: dict = {}
        entries: dict = {}

        def seen():
            for ep in subs.take(N=100):
                if ep.topic_name == "rq/attr/power_onRequest":
                    keys["rq"] = ep.key.bytes
            for ep in pubs.take(N=100):
                if ep.topic_name == "rr/attr/power_onReply":
                    keys["rr"] = ep.key.bytes
            for info in graph.take(N=50):
                if bytes(info.gid.data) == t.gid + bytes(8):
                    for n in info.node_entities_info_seq:
                        entries[(n.node_namespace, n.node_name)] = n
            n = entries.get(("/attr", "attr_node"))
            return {"rq", "rr"} <= set(keys) and n is not None and len(n.reader_gid_seq) >= 1

        assert wait_until(seen, timeout=5)
        entry = entries[("/attr", "attr_node")]
        readers = [bytes(g.data) for g in entry.reader_gid_seq]
        writers = [bytes(g.data) for g in entry.writer_gid_seq]
        assert readers == [keys["rq"] + bytes(8)]   # the request reader: the node *serves* it
        assert writers == [keys["rr"] + bytes(8)]   # the reply writer
        node.destroy()
    finally:
        t.close()


def _rmw_client(plain, name, req_cls, rep_cls, clientid):
    """A client's request writer and reply reader as rmw_cyclonedds_cpp creates them (one QoS,
    services default, USER_DATA `clientid=`)."""
    from cyclonedds.core import Qos
    from cyclonedds.pub import DataWriter
    from cyclonedds.sub import DataReader
    from cyclonedds.topic import Topic

    qos = Qos(Policy.Reliability.Reliable(10**9), Policy.History.KeepLast(10), Policy.Durability.Volatile,
              Policy.DataRepresentation(use_cdrv0_representation=True),
              Policy.Userdata(data=f"clientid={clientid};".encode()))
    writer = DataWriter(plain, Topic(plain, f"rq{name}Request", req_cls), qos=qos)
    reader = DataReader(plain, Topic(plain, f"rr{name}Reply", rep_cls), qos=qos)
    assert wait_until(lambda: writer.get_matched_subscriptions() and reader.get_matched_publications(), timeout=5)
    return writer, reader


def _raw_reply(reader, guid, seq):
    import time

    from cyclonedds._clayer import ddspy_take
    from cyclonedds.core import InstanceState, SampleState, ViewState

    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        taken = ddspy_take(reader._ref, SampleState.Any | ViewState.Any | InstanceState.Any, 10)
        for data, info in (taken if not isinstance(taken, int) else ()):
            if info.valid_data and struct.unpack_from("<Qq", data, 4) == (guid, seq):
                return bytes(data)
        time.sleep(0.01)
    raise AssertionError("no reply")


def test_raw_rmw_style_requests_get_rmw_style_replies():
    """Samples built byte by byte as rmw_cyclonedds_cpp's CDRWriter writes them (Serialization.cpp
    `serialize_top_level(cdds_request_wrapper_t)`: encapsulation `00 01 00 00`, raw guid and seq,
    then the body with its alignment origin just after the encapsulation, no trailing padding),
    and replies parsed as its CDRReader would: offsets relative to byte 4."""
    import os

    from plain_ros_types import GetParameters_Request_, GetParameters_Response_, SetBool_Request_, SetBool_Response_

    from spot_bow_ros.ros.params import ParamSpec

    domain = int(os.environ["ROS_DOMAIN_ID"])
    t = DdsTransport(domain_id=domain, distro="jazzy")
    plain = DomainParticipant(domain)
    try:
        node = StandaloneNode("raw_node", t, namespace="/raw")
        node.declare_parameters([ParamSpec("quality", 75, "JPEG quality", min=1, max=100)])
        node.create_service("std_srvs/srv/SetBool", "toggle",
                            lambda req: {"success": bool(req.data), "message": "on" if req.data else "off"})
        from cyclonedds._clayer import ddspy_write

        # SetBool: 4 + 16 + 1 bytes, unpadded
        w, r = _rmw_client(plain, "/raw/toggle", SetBool_Request_, SetBool_Response_,
                           " 1.2.3.4.5.6.7.8.9.a.b.c.0.0.0.1")
        guid = w.get_instance_handle() & (2**64 - 1)
        assert ddspy_write(w._ref, b"\x00\x01\x00\x00" + struct.pack("<Qq", guid, 7) + b"\x01") >= 0
        reply = _raw_reply(r, guid, 7)
        assert reply[:2] == b"\x00\x01"
        assert reply[20] == 1                                     # success at origin offset 16
        assert struct.unpack_from("<I", reply, 24)[0] == 3        # string length at origin 20
        assert reply[28:31] == b"on\x00"

        # GetParameters: the int64 of ParameterValue is 8-aligned relative to the origin (byte 4)
        w, r = _rmw_client(plain, "/raw/raw_node/get_parameters", GetParameters_Request_,
                           GetParameters_Response_, " 1.2.3.4.5.6.7.8.9.a.b.c.0.0.0.2")
        guid = w.get_instance_handle() & (2**64 - 1)
        body = struct.pack("<I", 1) + struct.pack("<I", 8) + b"quality\x00"
        assert ddspy_write(w._ref, b"\x00\x01\x00\x00" + struct.pack("<Qq", guid, 9) + body) >= 0
        reply = _raw_reply(r, guid, 9)
        assert struct.unpack_from("<I", reply, 20)[0] == 1        # one value
        assert reply[24] == 2                                     # type INTEGER at origin 20
        assert struct.unpack_from("<q", reply, 28)[0] == 75       # integer_value at origin 24 (8-aligned)
        node.destroy()
    finally:
        t.close()
