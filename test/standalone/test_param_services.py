"""standalone/param_services.py + StandaloneNode live parameters: the rcl_interfaces services a node
serves (called through the in-process bus), on-set callbacks, read-only refusal, atomic sets."""

import pytest
from waiting import wait_until

from spot_bow_ros.ros.params import ParameterError, ParamSpec
from spot_bow_ros.ros.qos import QoS
from spot_bow_ros.standalone.node import InProcessBus, StandaloneNode
from spot_bow_ros.standalone.param_services import (
    DOUBLE,
    INTEGER,
    NOT_SET,
    STRING,
    STRING_ARRAY,
    from_parameter_value,
    to_parameter_value,
)

SPECS = [ParamSpec("rate", 15.0, "Fetch rate (Hz)", min=0.1, max=60.0, live=True),
         ParamSpec("quality", 75, "JPEG quality", min=1, max=100, live=True),
         ParamSpec("cameras", ["a", "b"], "cameras"),
         ParamSpec("frame_prefix", "", "prefix")]


@pytest.fixture
def node():
    bus = InProcessBus()
    n = StandaloneNode("cams", bus, namespace="/spot")
    n.declare_parameters(SPECS)
    n.applied = []

    def on_set(changes):
        if changes.get("quality") == 13:
            return "13 is unlucky"
        n.applied.append(changes)
        return None

    n.on_parameters_set(on_set)
    n.bus = bus
    yield n
    n.destroy()


def call(node, service, **fields):
    srv = "rcl_interfaces/srv/" + "".join(p.capitalize() for p in service.split("_"))
    request = node.msg(srv + "_Request", **fields)
    return node.bus.call_service(f"/spot/cams/{service}", request)


def param(node, name, value, ptype):
    return node.msg("rcl_interfaces/msg/Parameter", name=name, value=to_parameter_value(node.msg, value, ptype))


def test_value_conversions_round_trip(node):
    for value, ptype in ((2.5, DOUBLE), (7, INTEGER), ("x", STRING), (["a", "b"], STRING_ARRAY)):
        assert from_parameter_value(to_parameter_value(node.msg, value, ptype)) == value
    assert from_parameter_value(to_parameter_value(node.msg, None, NOT_SET)) is None


def test_list_get_types_describe(node):
    names = list(call(node, "list_parameters").result.names)
    assert names == ["cameras", "frame_prefix", "quality", "rate"]
    values = call(node, "get_parameters", names=["rate", "cameras", "nope"]).values
    assert (values[0].type, values[0].double_value) == (DOUBLE, 15.0)
    assert list(values[1].string_array_value) == ["a", "b"] and values[2].type == NOT_SET
    assert list(call(node, "get_parameter_types", names=["quality", "cameras"]).types) == [INTEGER, STRING_ARRAY]
    rate, cams = call(node, "describe_parameters", names=["rate", "cameras"]).descriptors
    assert rate.description == "Fetch rate (Hz)" and not rate.read_only
    assert (rate.floating_point_range[0].from_value, rate.floating_point_range[0].to_value) == (0.1, 60.0)
    assert cams.read_only  # not live: read-only at runtime


def test_set_applies_live_refuses_read_only_range_and_callback(node):
    events = []
    listener = StandaloneNode("listener", node.bus, serve_parameters=False)
    listener.create_subscription("rcl_interfaces/msg/ParameterEvent", "/parameter_events", events.append,
                                 QoS(depth=100))
    results = call(node, "set_parameters", parameters=[
        param(node, "rate", 5.0, DOUBLE), param(node, "frame_prefix", "x/", STRING),
        param(node, "quality", 500, INTEGER), param(node, "quality", 13, INTEGER)]).results
    assert [r.successful for r in results] == [True, False, False, False]
    assert "read-only" in results[1].reason and "above its maximum 100" in results[2].reason
    assert results[3].reason == "13 is unlucky"
    assert node.get_parameter("rate") == 5.0 and node.get_parameter("quality") == 75
    assert node.applied == [{"rate": 5.0}]
    assert wait_until(lambda: len(events) == 1)
    assert events[0].node == "/spot/cams" and [p.name for p in events[0].changed_parameters] == ["rate"]
    assert events[0].changed_parameters[0].value.double_value == 5.0
    listener.destroy()


def test_set_atomically_is_all_or_nothing(node):
    r = call(node, "set_parameters_atomically", parameters=[param(node, "rate", 7.0, DOUBLE),
                                                            param(node, "frame_prefix", "y", STRING)]).result
    assert not r.successful and "read-only" in r.reason and node.get_parameter("rate") == 15.0
    r = call(node, "set_parameters_atomically", parameters=[param(node, "rate", 7.0, DOUBLE),
                                                            param(node, "quality", 50, INTEGER)]).result
    assert r.successful and node.applied[-1] == {"rate": 7.0, "quality": 50}
    with pytest.raises(ParameterError, match="read-only"):
        node.set_parameter("cameras", ["a"])
