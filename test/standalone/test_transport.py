"""standalone/transport.py: `InProcessBus` on its own (the transport the node tests build on):
delivery by topic and type, transient-local depth, matched counts with taps, services."""

import threading

import pytest

from spot_bow_ros.ros.qos import DEFAULT, LATCHED
from spot_bow_ros.standalone.transport import InProcessBus


@pytest.fixture
def bus():
    b = InProcessBus()
    yield b
    b.close()


def _string(bus, text):
    return bus.messages.make("std_msgs/msg/String", data=text)


def test_delivers_to_readers_of_the_same_topic_and_type_only(bus):
    got, other_type, other_topic = [], [], []
    bus.create_reader(None, "/chat", "std_msgs/msg/String", DEFAULT, got.append)
    bus.create_reader(None, "/chat", "std_msgs/msg/Bool", DEFAULT, other_type.append)
    bus.create_reader(None, "/other", "std_msgs/msg/String", DEFAULT, other_topic.append)
    writer = bus.create_writer(None, "/chat", "std_msgs/msg/String", DEFAULT)
    assert writer.matched_count() == 1
    writer.write(_string(bus, "hi"))
    assert [m.data for m in got] == ["hi"] and other_type == [] and other_topic == []


def test_transient_local_keeps_the_last_depth_messages_for_late_readers(bus):
    writer = bus.create_writer(None, "/static", "std_msgs/msg/String", LATCHED)
    for i in range(LATCHED.depth + 2):
        writer.write(_string(bus, f"m{i}"))
    late = []
    reader = bus.create_reader(None, "/static", "std_msgs/msg/String", LATCHED, late.append)
    assert [m.data for m in late] == [f"m{i}" for i in range(2, LATCHED.depth + 2)]
    reader.close()
    assert writer.matched_count() == 0


def test_listening_taps_count_as_subscribers_and_get_cdr(bus):
    writer = bus.create_writer(None, "/t", "std_msgs/msg/String", DEFAULT)
    taps = []

    def tap(*args):
        taps.append(args)

    bus.add_tap(tap, counts_as_subscriber=True)
    assert writer.matched_count() == 1 and bus.listening_taps == 1
    msg = _string(bus, "rec")
    writer.write(msg)
    assert [(t[0], t[1], t[2], t[4]) for t in taps] == [("/t", "std_msgs/msg/String", bus.messages.serialize(msg),
                                                         DEFAULT)]
    bus.remove_tap(tap)
    assert writer.matched_count() == 0 and bus.listening_taps == 0


def test_service_calls_reply_time_out_and_hand_over(bus):
    trigger = bus.messages.make("std_srvs/srv/Trigger_Request")
    first = bus.create_service(None, "/power_on", "std_srvs/srv/Trigger",
                               lambda req, respond: respond("first"), DEFAULT)
    assert bus.services == {"/power_on": "std_srvs/srv/Trigger"}
    assert bus.call_service("/power_on", trigger) == "first"
    # a second server of the name takes over; closing the first then leaves it in place
    bus.create_service(None, "/power_on", "std_srvs/srv/Trigger",
                       lambda req, respond: threading.Timer(0.05, respond, ["later"]).start(), DEFAULT)
    first.close()
    assert bus.call_service("/power_on", trigger) == "later"
    bus.create_service(None, "/silent", "std_srvs/srv/Trigger", lambda req, respond: None, DEFAULT)
    with pytest.raises(TimeoutError, match=r"^service /silent did not reply within 0.2 s$"):
        bus.call_service("/silent", trigger, timeout_s=0.2)
    with pytest.raises(LookupError, match=r"^service /nobody is not available$"):
        bus.call_service("/nobody", trigger)
