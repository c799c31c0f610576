"""Parameters (ros/params.py): specs, validation and ROS params YAML files."""

from pathlib import Path

import pytest
import yaml

from spot_bow_ros.ros.params import (
    ParameterError,
    ParameterSet,
    ParamSpec,
    load_params_file,
    namespaced_params,
    namespaced_params_file,
)

SPECS = [
    ParamSpec("rate", 15.0, "frames per second", min=0.1, max=60.0),
    ParamSpec("port", 443, "robot port", min=1, max=65535),
    ParamSpec("hostname", "192.168.80.3", "robot address"),
    ParamSpec("compress", True, "publish compressed images"),
    ParamSpec("format", "jpeg", "encoding", choices=("jpeg", "raw")),
    ParamSpec("sources", ["frontleft_fisheye_image"], "camera sources"),
    ParamSpec("gains", [], "motor gains", list_type=float),
]


def write(tmp_path, text):
    path = tmp_path / "params.yaml"
    path.write_text(text)
    return path


def test_defaults_and_overrides():
    values = ParameterSet().declare(SPECS, {"rate": 30, "sources": ["a", "b"], "gains": [1, 2.5]})
    assert values["rate"] == 30.0 and isinstance(values["rate"], float)  # int accepted for double
    assert values["port"] == 443 and values["compress"] is True
    assert values["sources"] == ["a", "b"] and values["gains"] == [1.0, 2.5]


def test_params_file_wildcard_and_node_sections_in_order(tmp_path):
    path = write(tmp_path, """
/**:
  ros__parameters:
    rate: 10.0
    hostname: 10.0.0.3
spot_cameras:
  ros__parameters:
    rate: 20.0
    image:
      format: raw
/robot/spot_cameras:
  ros__parameters:
    port: 8443
other_node:
  ros__parameters:
    rate: 99.0
""")
    values = load_params_file(path, "spot_cameras", "/robot")
    assert values == {"rate": 20.0, "hostname": "10.0.0.3", "image.format": "raw", "port": 8443}
    assert load_params_file(path, "webcam") == {"rate": 10.0, "hostname": "10.0.0.3"}


@pytest.mark.parametrize("overrides, message", [
    ({"rate": "fast"}, "parameter 'rate' expects double, got str 'fast'"),
    ({"port": 443.5}, "parameter 'port' expects integer"),
    ({"compress": "yes"}, "parameter 'compress' expects bool"),
    ({"rate": 100.0}, "parameter 'rate' = 100.0 is above its maximum 60.0"),
    ({"port": 0}, "parameter 'port' = 0 is below its minimum 1"),
    ({"format": "png"}, "parameter 'format' = 'png' is not one of jpeg, raw"),
    ({"sources": "frontleft"}, "parameter 'sources' expects string_array"),
    ({"gains": [1.0, "x"]}, "parameter 'gains' expects double"),
])
def test_wrong_values_raise_one_clear_error_naming_the_parameter(overrides, message):
    with pytest.raises(ParameterError) as err:
        ParameterSet().declare(SPECS, overrides)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_wrong_type_in_yaml_file_names_the_parameter(tmp_path):
    path = write(tmp_path, "/**:\n  ros__parameters:\n    port: \"443\"\n")
    with pytest.raises(ParameterError, match="parameter 'port' expects integer, got str '443'"):
        ParameterSet().declare(SPECS, load_params_file(path, "node"))


@pytest.mark.parametrize("text, message", [
    ("/**:\n  ros__parameters: [1, 2\n", "not valid YAML"),
    ("- 1\n- 2\n", "top level must be a mapping"),
    ("/**:\n  rate: 3\n", "has no 'ros__parameters'"),
])
def test_malformed_params_files(tmp_path, text, message):
    with pytest.raises(ParameterError, match=message):
        load_params_file(write(tmp_path, text), "node")
    with pytest.raises(ParameterError, match="cannot read params file"):
        load_params_file(tmp_path / "missing.yaml", "node")


def test_get_set_read_only_and_undeclared():
    params = ParameterSet()
    params.declare([ParamSpec("serial", "abc", "robot serial", read_only=True),
                    ParamSpec("gain", 1.0, "g", live=True), ParamSpec("mode", "a", "m")], {})
    assert params.get("serial") == "abc"
    assert params.set("gain", 2) == 2.0
    with pytest.raises(ParameterError, match="read-only"):
        params.set("serial", "x")
    with pytest.raises(ParameterError, match="'mode' is read-only: it applies at start-up only"):
        params.set("mode", "b")  # not live: refused at runtime like a read-only one
    with pytest.raises(ParameterError, match="'nope' is not declared"):
        params.get("nope")
    with pytest.raises(ParameterError, match="declared twice"):
        params.declare([ParamSpec("gain", 1.0, "g")], {})


# -- params files under a namespace (launch files) ------------------------------------------
def test_namespaced_params_rekeys_bare_node_sections_only():
    doc = {"/**": {"ros__parameters": {"hostname": "a"}},
           "webcam": {"ros__parameters": {"fps": 15.0}},
           "/other/node": {"ros__parameters": {"x": 1}},
           "/*/image_service": {"ros__parameters": {"y": 2}}}
    out = namespaced_params(doc, "/robot1/")
    assert list(out) == ["/**", "/robot1/webcam", "/other/node", "/*/image_service"]
    assert out["/robot1/webcam"] == {"ros__parameters": {"fps": 15.0}}
    assert namespaced_params(doc, "") == doc and namespaced_params(doc, "/") == doc


def test_namespaced_params_file_applies_node_sections_under_the_namespace(tmp_path):
    source = tmp_path / "webcam.yaml"
    source.write_text("/**:\n  ros__parameters:\n    hostname: spot\n"
                      "webcam:\n  ros__parameters:\n    fps: 15.0\n    encoding: mono8\n")
    assert namespaced_params_file(source, "") == str(source)  # no namespace: the file itself
    out = namespaced_params_file(source, "robot1/front", out_dir=tmp_path)
    assert out != str(source) and Path(out).parent == tmp_path
    values = load_params_file(out, "webcam", namespace="/robot1/front")
    assert values == {"hostname": "spot", "fps": 15.0, "encoding": "mono8"}
    assert "/robot1/front/webcam" in yaml.safe_load(Path(out).read_text())


def test_namespaced_params_file_of_a_bad_file_is_one_clear_error(tmp_path):
    with pytest.raises(ParameterError, match="cannot read params file .*missing.yaml"):
        namespaced_params_file(tmp_path / "missing.yaml", "robot1", out_dir=tmp_path)
    listed = tmp_path / "list.yaml"
    listed.write_text("- a\n- b\n")
    with pytest.raises(ParameterError, match="top level must be a mapping"):
        namespaced_params_file(listed, "robot1", out_dir=tmp_path)


# -- checking a whole process before it starts ---------------------------------------------
def test_unknown_names_and_sections_get_a_did_you_mean_hint(tmp_path):
    from spot_bow_ros.ros.params import unknown_parameter_warnings

    params = tmp_path / "p.yaml"
    params.write_text(yaml.safe_dump({
        "/**": {"ros__parameters": {"hostname": "spot", "hostnme": "x"}},
        "webcam": {"ros__parameters": {"devise": "0", "fps": 10.0}},
        "/robot1/webcam": {"ros__parameters": {"fps": 5.0}},
        "/other_ns/webcam": {"ros__parameters": {"nonsense": 1}},     # another namespace: not ours
        "webcm": {"ros__parameters": {"fps": 1.0}},
        "/*/webcam": {"ros__parameters": {"whatever": 1}},           # wildcards are not checked
    }))
    known = {"webcam": ["device", "fps"], "spot_cameras": ["hostname", "rate"]}
    warnings = unknown_parameter_warnings(known, [params], ["rate", "rtae"], namespace="/robot1")
    assert len(warnings) == 4, warnings
    assert "'/**' sets 'hostnme', which no node declares (did you mean 'hostname'?)" in warnings[0]
    assert "'webcam' sets 'devise', which node 'webcam' does not declare (did you mean 'device'?)" in warnings[1]
    assert "section 'webcm' names no node of this process (did you mean 'webcam'?)" in warnings[2]
    assert warnings[3] == "parameter 'rtae' (-p) is not declared by any node (did you mean 'rate'?); ignored"


def test_validate_all_names_the_node_of_a_bad_value():
    from spot_bow_ros.ros.params import validate_all

    specs = {"a": [ParamSpec("rate", 1.0, "Hz", min=0.0, max=10.0)], "b": [ParamSpec("rate", 1, "n", max=3)]}
    validate_all(specs, {"a": {"rate": 5}, "b": {"rate": 3}})
    with pytest.raises(ParameterError, match=r"node 'b': parameter 'rate' = 4 is above its maximum 3"):
        validate_all(specs, {"a": {"rate": 5}, "b": {"rate": 4}})


def test_int_as_text_and_the_help_text_of_a_node():
    from spot_bow_ros.ros.params import format_parameters

    device = ParamSpec("device", "0", "Camera index or path", int_as_text=True)
    assert device.validate(9) == "9"
    with pytest.raises(ParameterError):
        ParamSpec("frame_id", "cam", "frame").validate(9)        # other strings stay strict
    text = format_parameters("webcam", [device, ParamSpec("fps", 30.0, "Frame rate in Hz", min=0.0, max=60.0),
                                        ParamSpec("qos", "reliable", "QoS", choices=["reliable", "best_effort"]),
                                        ParamSpec("password", "", "Robot password")])
    assert text.splitlines() == [
        "parameters of node 'webcam' (--ros-args -p NAME:=VALUE):",
        "  device (string, default '0')", "      Camera index or path",
        "  fps (double, default 30.0, range [0.0, 60.0])", "      Frame rate in Hz",
        "  qos (string, default 'reliable', one of reliable|best_effort)", "      QoS",
        "  password (string, default (secret))", "      Robot password"]
