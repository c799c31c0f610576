"""bow/sdk_v1.py: the BOW SDK's v1 messages beside the package's own schema, and the error when
`bow_messages: sdk_v1` is selected without the bow-api package."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from spot_bow_ros.bow.sdk_v1 import BowSdkMissing, check_message_set, load_v1

ROOT = Path(__file__).resolve().parents[2]
pytest.importorskip("bow_data", reason="bow-api not installed (pip install --no-deps bow-api)")

OURS = "from spot_bow_ros.bow import bow_data_pb2 as ours"
THEIRS = "import bow_data as theirs"
USE_BOTH = textwrap.dedent("""
    from google.protobuf import json_format
    a = ours.MotorSample(OperatingHeight=0.5); a.Locomotion.Position.X = 0.25
    b = theirs.MotorSample(); b.Locomotion.TranslationalVelocity.X = 0.25
    assert ours.MotorSample.FromString(a.SerializeToString()) == a
    assert theirs.MotorSample.FromString(b.SerializeToString()) == b
    assert json_format.MessageToDict(a) == {"Locomotion": {"Position": {"X": 0.25}}, "OperatingHeight": 0.5}
    assert ours.MotorSample.DESCRIPTOR.full_name == theirs.MotorSample.DESCRIPTOR.full_name == "bow.data.MotorSample"
    assert ours.MotorSample is not theirs.MotorSample
    print("both loaded")
""")


def _python(code: str, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT)] + ([env_extra.pop("PYTHONPATH")]
                                                                   if env_extra and "PYTHONPATH" in env_extra else [])))
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)


@pytest.mark.parametrize("first, second", [(OURS, THEIRS), (THEIRS, OURS)], ids=["ours-first", "sdk-first"])
def test_both_schemas_load_in_one_process_in_either_order(first, second):
    proc = _python(f"{first}\n{second}\n{USE_BOTH}")
    assert proc.returncode == 0, proc.stderr
    assert "both loaded" in proc.stdout


def test_load_v1_returns_the_sdk_message_module():
    v1 = load_v1()
    assert "RawJoints" in v1.MotorSample.DESCRIPTOR.fields_by_name
    assert {"Imu"} <= set(v1.ExteroceptionSample.DESCRIPTOR.fields_by_name)
    assert v1.__name__ == "bow_data"


def test_message_set_values():
    assert check_message_set(" SDK_V1 ") == "sdk_v1"
    with pytest.raises(ValueError, match="documented, sdk_v1"):
        check_message_set("v2")


def _shadow(tmp_path: Path, body: str) -> str:
    pkg = tmp_path / "shadow" / "bow_data"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text(body)
    return str(pkg.parent)


def test_missing_or_foreign_bow_data_is_a_clear_error(tmp_path):
    missing = _shadow(tmp_path, "raise ImportError(\"No module named 'bow_data'\")\n")
    proc = _python("from spot_bow_ros.bow.sdk_v1 import load_v1, BowSdkMissing\n"
                   "try:\n    load_v1()\nexcept BowSdkMissing as e:\n    print(e)\n",
                   {"PYTHONPATH": missing})
    assert "pip install --no-deps bow-api" in proc.stdout
    foreign = tmp_path / "f"
    foreign.mkdir()
    path = _shadow(foreign, "MotorSample = None\n")
    proc = _python("from spot_bow_ros.bow.sdk_v1 import load_v1, BowSdkMissing\n"
                   "try:\n    load_v1()\nexcept BowSdkMissing as e:\n    print(e)\n",
                   {"PYTHONPATH": path})
    assert "is not the BOW SDK's v1 message set" in proc.stdout
    assert issubclass(BowSdkMissing, ValueError)  # a user error: exit code 2 in the nodes


@pytest.mark.parametrize("module", ["motor_command", "proprioception", "bow_vision", "composed"])
def test_nodes_exit_2_with_one_line_when_bow_api_is_missing(tmp_path, module):
    missing = _shadow(tmp_path, "raise ImportError(\"No module named 'bow_data'\")\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), missing]))
    argv = [sys.executable, "-m", f"spot_bow_ros.nodes.{module}", "--ros-args", "-p", "bow_messages:=sdk_v1",
            "-p", "connect_to_spot:=false"]
    if module == "composed":
        argv += ["-p", "enable_webcam:=false", "-p", "enable_spot_cameras:=false", "-p", "enable_image_service:=false",
                 "-p", "enable_motor_command:=false"]
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 2, proc.stderr
    lines = [ln for ln in (proc.stdout + proc.stderr).splitlines() if ln.strip()]
    errors = [ln for ln in lines if "bow-api" in ln]
    assert len(errors) == 1 and "pip install --no-deps bow-api" in errors[0]
    assert "Traceback" not in proc.stderr
