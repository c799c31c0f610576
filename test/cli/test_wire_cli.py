"""cli/wire_cli.py: what the topic, record and service commands share (messages as text both
ways, the guarded run's exit codes and one-line errors). The commands themselves run in
test_topic_cli.py and test_service_cli.py."""

import argparse

import pytest

from spot_bow_ros.cli.wire_cli import CliError, build, format_message, format_short, parse_fields, run_guarded
from spot_bow_ros.standalone.message_store import messages_for

MESSAGES = messages_for("humble")


def test_format_message_like_ros2_topic_echo():
    img = MESSAGES.make("sensor_msgs/msg/Image", header={"frame_id": "cam"}, height=480, encoding="mono8",
                        data=bytes(640 * 480))
    text = format_message(img)
    assert "header:\n  stamp:\n    sec: 0\n    nanosec: 0\n  frame_id: cam" in text
    assert "height: 480" in text and "encoding: mono8" in text
    assert "data: '<sequence of 307200 uint8>'" in text
    many = MESSAGES.make("sensor_msgs/msg/JointState", position=[0.25] * 40)
    assert "position: '<sequence of 40 float64>'" in format_message(many)
    assert "position:\n" + "- 0.25\n" * 39 + "- 0.25" in format_message(many, full_arrays=True)
    js = format_message(MESSAGES.make("sensor_msgs/msg/JointState", name=["a"], position=[0.5]))
    assert "name:\n- a" in js and "position:\n- 0.5" in js and "velocity: []" in js


def test_format_short_is_one_line():
    msg = MESSAGES.make("std_srvs/srv/SetBool_Request", data=True)
    assert format_short(msg) == "data: true"
    assert format_short(MESSAGES.make("std_srvs/srv/Trigger_Request")) == "std_srvs/srv/Trigger_Request()"


@pytest.mark.parametrize("text, fields", [
    ("", {}), ("  ", {}), ("{}", {}), ("~", {}), ("{data: true}", {"data": True}),
    ("{linear: {x: 0.2}}", {"linear": {"x": 0.2}}),
])
def test_parse_fields_reads_a_yaml_mapping(text, fields):
    assert parse_fields(text) == fields


@pytest.mark.parametrize("text, message", [
    ("[1, 2]", "values must be a YAML mapping of fields, e.g. '{data: true}', got '[1, 2]'"),
    ("{data: [}", "values are not valid YAML: "),
])
def test_parse_fields_refuses_what_is_no_mapping(text, message):
    with pytest.raises(CliError) as err:
        parse_fields(text)
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


def test_build_makes_the_message_or_says_why_not():
    assert build(MESSAGES.make, "std_msgs/msg/String", {"data": "hi"}).data == "hi"
    with pytest.raises(CliError, match=r"^cannot build std_msgs/msg/String: .*nope"):
        build(MESSAGES.make, "std_msgs/msg/String", {"nope": 1})


class NoReply(Exception):
    """A server that did not answer (run_guarded maps it to exit 1)."""


@pytest.mark.parametrize("raised, code", [(None, 0), (CliError("bad topic"), 2), (ValueError("bad value"), 2),
                                           (NoReply("no reply from /x"), 1)])
def test_run_guarded_exit_codes_and_one_line(capsys, raised, code):
    seen = []

    def body(args, stop):
        seen.append(stop.is_set())
        if raised is not None:
            raise raised
        return 0

    assert run_guarded(argparse.Namespace(), body, failures=(NoReply,)) == code
    assert seen == [False]
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ([] if raised is None else [f"error: {raised}"])
