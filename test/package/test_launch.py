"""Launch files and the RViz config parse; with launch_ros installed, every description loads."""

import ast
import os
import textwrap
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
LAUNCH_FILES = sorted((ROOT / "launch").glob("*.launch.py"))


def test_launch_files_exist():
    assert {p.name for p in LAUNCH_FILES} >= {"spot_bow.launch.py", "webcam.launch.py", "image_service.launch.py"}


@pytest.mark.parametrize("path", LAUNCH_FILES, ids=lambda p: p.name)
def test_launch_file_is_python_with_generate_launch_description(path):
    tree = ast.parse(path.read_text())
    names = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert "generate_launch_description" in names
    declared = {c.args[0].value for c in ast.walk(tree)
                if isinstance(c, ast.Call) and getattr(c.func, "id", "") == "DeclareLaunchArgument"
                and c.args and isinstance(c.args[0], ast.Constant)}
    assert declared, f"{path.name} declares no launch arguments"


def test_spot_bow_launch_declares_the_documented_arguments():
    text = (ROOT / "launch" / "spot_bow.launch.py").read_text()
    for arg in ("hostname", "port", "ca_cert", "credentials_file", "namespace", "config_file", "rviz",
                "record", "bag_path"):
        assert f'"{arg}"' in text
    assert '"-s", "mcap"' in text


def _run_with_launch(code: str, *args: str) -> str:
    """Run `code` in a fresh interpreter: importing `launch` replaces the logging class of the
    process (launch.logging), which would break later log-capture tests in this one."""
    import importlib.util
    import subprocess
    import sys

    if importlib.util.find_spec("launch_ros") is None:
        pytest.skip("launch_ros is not installed (no sourced ROS 2)")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env,
                          timeout=120, cwd=ROOT.parent)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


@pytest.mark.parametrize("path", LAUNCH_FILES, ids=lambda p: p.name)
def test_launch_description_loads_with_launch_ros(path):
    out = _run_with_launch(textwrap.dedent("""
        import importlib.util, sys
        from launch import LaunchDescription
        spec = importlib.util.spec_from_file_location("launch_file", sys.argv[1])
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        description = module.generate_launch_description()
        assert isinstance(description, LaunchDescription)
        print(sorted(a.name for a in description.get_launch_arguments()))
    """), str(path))
    assert "namespace" in out


def test_rviz_config_shows_cameras_tf_robot_model_and_imu():
    doc = yaml.safe_load((ROOT / "config" / "spot_bow.rviz").read_text())
    displays = doc["Visualization Manager"]["Displays"]
    classes = {d["Class"] for d in displays}
    assert {"rviz_default_plugins/TF", "rviz_default_plugins/RobotModel", "rviz_default_plugins/Image",
            "rviz_imu_plugin/Imu"} <= classes
    topics = {d.get("Topic", {}).get("Value") for d in displays}
    assert "spot/camera/frontleft/image" in topics and "imu" in topics
    assert doc["Visualization Manager"]["Global Options"]["Fixed Frame"] == "odom"


# -- launch parameters against the nodes' declarations (no ROS) ---------------------------
def _node_calls(path):
    """(package, executable, {param: value_type name or None}) of every launch_ros Node(...)."""
    out = []
    for call in ast.walk(ast.parse(path.read_text())):
        if not (isinstance(call, ast.Call) and getattr(call.func, "id", "") == "Node"):
            continue
        kw = {k.arg: k.value for k in call.keywords}
        const = {k: v.value for k, v in kw.items() if isinstance(v, ast.Constant)}
        params = {}
        for item in getattr(kw.get("parameters"), "elts", []):
            dicts = [item] if isinstance(item, ast.Dict) else []
            if isinstance(item, ast.Name):  # a dict built above in the same function
                dicts = [n.value for n in ast.walk(ast.parse(path.read_text()))
                         if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == item.id
                         and isinstance(n.value, (ast.Dict, ast.DictComp))]
            for d in dicts:
                if isinstance(d, ast.DictComp):  # {f"enable_{b}": ParameterValue(..., value_type=bool) ...}
                    if isinstance(d.value, ast.Call):  # (spot_bow.launch.py's passed_overrides: see below)
                        params["enable_*"] = next(k.value.id for k in d.value.keywords if k.arg == "value_type")
                    continue
                for key, value in zip(d.keys, d.values):
                    vtype = None
                    if isinstance(value, ast.Call):
                        vtype = next((k.value.id for k in value.keywords if k.arg == "value_type"), None)
                        if getattr(value.func, "id", "") == "text":  # spot_bow.launch.py's string helper
                            vtype = "str"
                    params[key.value] = vtype
        out.append((const.get("package"), const.get("executable"), params))
    return out


def _declared_specs():
    from spot_bow_ros.nodes.composed import BRIDGES, COMPOSED_PARAMS
    from spot_bow_ros.spot.connection_config import CONNECTION_PARAMS

    types: dict[str, set[str]] = {}
    for spec in [*CONNECTION_PARAMS, *COMPOSED_PARAMS, *(s for b in BRIDGES for s in b.param_specs())]:
        types.setdefault(spec.name, set()).add(spec.type_name)
    return types


@pytest.mark.parametrize("path", LAUNCH_FILES, ids=lambda p: p.name)
def test_launch_parameters_are_declared_with_the_launch_value_type(path):
    """rclpy rejects an override of the wrong type (a `value_type=str` port would stop the node)."""
    import setup_nodes

    specs = _declared_specs()
    python_types = {"bool": "bool", "int": "integer", "float": "double", "str": "string"}
    ours = [c for c in _node_calls(path) if c[0] == "spot_bow_ros"]
    assert ours, f"{path.name} starts no spot_bow_ros node"
    for _, executable, params in ours:
        assert executable in setup_nodes.NODES, f"{executable} is not a console script (lib/spot_bow_ros)"
        for name, vtype in params.items():
            if name == "enable_*":
                assert vtype == "bool"
                continue
            assert name in specs, f"{path.name}: {name} is not a parameter of any bridge"
            assert vtype is not None, f"{path.name}: {name} needs ParameterValue(..., value_type=...)"
            # one type in every bridge that declares it: launch dicts reach every node (`/**`)
            assert specs[name] == {python_types[vtype]}, f"{path.name}: {name} is {specs[name]}"


def test_spot_bow_launch_passes_only_the_arguments_the_user_gave():
    """Launch arguments left empty never override config_file (issue 23, item 5); the ones given
    are typed as the bridges declare them."""
    from spot_bow_ros.backends.launch_actions import PASSED_ONLY, passed_overrides
    from spot_bow_ros.nodes.composed import BRIDGES

    specs = _declared_specs()
    names = {bool: "bool", int: "integer", float: "double", str: "string"}
    for arg, (param, kind) in PASSED_ONLY.items():
        assert specs[param] == {names[kind]}, f"{arg}:= -> {param} is {specs[param]}"
    bridges = tuple(b.name for b in BRIDGES)
    assert passed_overrides({}, bridges) == {}
    assert passed_overrides({"hostname": "", "port": "", "enable_webcam": ""}, bridges) == {}
    assert passed_overrides({"hostname": "10.0.0.3", "port": "8443", "enable_webcam": "false",
                             "enable_bow_vision": "True", "credentials_file": "/c.txt"}, bridges) == {
        "hostname": "10.0.0.3", "port": 8443, "enable_webcam": False, "enable_bow_vision": True,
        "payload_credentials_file": "/c.txt"}
    with pytest.raises(ValueError, match=r"port:='x' is not a valid int"):
        passed_overrides({"port": "x"}, bridges)
    with pytest.raises(ValueError, match=r"enable_webcam:='yes' is not true or false"):
        passed_overrides({"enable_webcam": "yes"}, bridges)
    text = (ROOT / "launch" / "spot_bow.launch.py").read_text()
    assert 'f"enable_{bridge}", default_value=""' in text and '"hostname", default_value=""' in text


def test_launch_files_need_no_ros_at_import_beyond_launch():
    """Optional packages (xacro, the Spot description) are imported inside the OpaqueFunction only."""
    for path in LAUNCH_FILES:
        top = {a.names[0].name.split(".")[0] if isinstance(a, ast.Import) else (a.module or "").split(".")[0]
               for a in ast.parse(path.read_text()).body if isinstance(a, (ast.Import, ast.ImportFrom))}
        assert top <= {"os", "launch", "launch_ros", "spot_bow_ros"}, f"{path.name} imports {top}"


def test_launch_files_pass_the_config_file_through_namespaced_params_file():
    """Per-node config sections must reach nodes started under `namespace:=...` (see launch_params)."""
    for path in LAUNCH_FILES:
        text = path.read_text()
        assert 'NamespacedParamsFile(LaunchConfiguration("config_file"), LaunchConfiguration("namespace"))' in text
        assert 'parameters=[LaunchConfiguration("config_file")' not in text


def test_namespaced_params_file_substitution_with_launch(tmp_path):
    source = tmp_path / "webcam.yaml"
    source.write_text("webcam:\n  ros__parameters:\n    fps: 15.0\n")
    out = _run_with_launch(textwrap.dedent("""
        import sys
        from launch import LaunchContext
        from spot_bow_ros.backends.launch_params import NamespacedParamsFile
        context = LaunchContext()
        print(NamespacedParamsFile(sys.argv[1], "").perform(context))
        print(NamespacedParamsFile(sys.argv[1], "robot1").perform(context))
    """), str(source))
    same, rewritten = out.split()
    assert same == str(source)
    assert yaml.safe_load(Path(rewritten).read_text()) == {"/robot1/webcam": {"ros__parameters": {"fps": 15.0}}}


def test_robot_model_ships_and_robot_state_publisher_uses_it_by_default():
    text = (ROOT / "launch" / "spot_bow.launch.py").read_text()
    for arg in ("robot_state_publisher", "arm", "robot_description_package"):
        assert f'"{arg}"' in text
    tree = ast.parse(text)
    defaults = {c.args[0].value: next(k.value.value for k in c.keywords if k.arg == "default_value")
                for c in ast.walk(tree) if isinstance(c, ast.Call) and getattr(c.func, "id", "") == "DeclareLaunchArgument"
                and c.args and isinstance(c.args[0], ast.Constant)
                and any(k.arg == "default_value" and isinstance(k.value, ast.Constant) for k in c.keywords)}
    assert defaults["robot_state_publisher"] == "true"
    assert defaults["robot_description_package"] == ""  # the shipped URDF unless spot_description is asked for
    assert '"urdf/spot_with_arm.urdf" if arm else "urdf/spot.urdf"' in (
        ROOT / "spot_bow_ros" / "backends" / "launch_actions.py").read_text()
    assert 'f"share/{PACKAGE}/urdf", glob("urdf/*.urdf")' in (ROOT / "setup.py").read_text()
    assert {p.name for p in (ROOT / "urdf").glob("*.urdf")} == {"spot.urdf", "spot_with_arm.urdf"}
