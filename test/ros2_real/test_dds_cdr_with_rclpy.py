"""The serialized-data fast path binds to cyclonedds-python's own Cyclone even when rclpy's
rmw_cyclonedds_cpp (Cyclone 0.10.5) is loaded first in the same process (issue 23, item 2)."""

import json

import pytest

from ros2_real.ros2_tier import describe, ns_run

pytestmark = pytest.mark.timeout(300)

PROBE = r"""
import json, os, rclpy
rclpy.init()
node = rclpy.create_node("cdr_probe")              # maps rmw_cyclonedds_cpp's libddsc.so.0
from cyclonedds.internal import DDS
from spot_bow_ros.standalone.dds_transport import DdsTransport
from spot_bow_ros.standalone.dds_serdata import CdrApi, _mapped_libddsc
from spot_bow_ros.standalone.message_store import messages_for
transport = DdsTransport()
api = CdrApi.load()
check = messages_for()
cdr = bytes(check.serialize(check.make("std_msgs/msg/String", data="abc")))
cdr += b"\0" * (-len(cdr) % 4)
topic = transport._topic("/cdr_probe", "std_msgs/msg/String")
print("RESULT=" + json.dumps({"mapped": _mapped_libddsc(), "bound": api and api.path,
                              "own": os.path.realpath(DDS._dll_handle._name),
                              "verified": bool(api and api.verify(topic._ref, cdr))}), flush=True)
transport.close(); node.destroy_node(); rclpy.shutdown()
"""


def test_serdata_binds_to_cyclonedds_python_with_rclpy_loaded(ros_env, tmp_path):
    (tmp_path / "probe.py").write_text(PROBE)
    out = ns_run('"$PY" probe.py\n', tmp_path, timeout=200)
    line = next((x for x in out.stdout.splitlines() if x.startswith("RESULT=")), None)
    assert line, describe(out, tmp_path)
    got = json.loads(line.split("=", 1)[1])
    assert len(got["mapped"]) == 2 and any("ros2-jazzy" in p for p in got["mapped"]), got
    assert got["bound"] == got["own"] and "ros2-jazzy" not in got["bound"], got
    assert got["verified"], got
