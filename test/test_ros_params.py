"""Parameters (ros/params.py): specs, validation and ROS params YAML files."""

from pathlib import Path

import pytest
import yaml

from spot_bow_ros.ros.params import (ParameterError, ParameterSet, ParamSpec, load_params_file, namespaced_params,
                                    namespaced_params_file)

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
