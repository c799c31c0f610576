"""Cyclone's serdata API through ctypes (standalone/dds_serdata.py), as the standalone transport uses it.

Big images cross a process boundary both ways against a plain cyclonedds peer (a subprocess that
uses only the cyclonedds package and IDL structs written from the ROS 2 conventions), so the
gathered write and the zero-copy take are checked on the wire, not only in-process.
"""

import gc
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from waiting import wait_until

from spot_bow_ros.ros.qos import DEFAULT, SENSOR_PUBLISHER
from spot_bow_ros.standalone.dds_domain import DdsError
from spot_bow_ros.standalone.dds_serdata import ZERO_COPY_MIN_BYTES, CdrApi
from spot_bow_ros.standalone.message_store import messages_for
from spot_bow_ros.standalone.node import StandaloneNode

REPO = Path(__file__).resolve().parents[2]
DOMAIN = int(os.environ["ROS_DOMAIN_ID"])
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="serdata API is used on Linux only")

PLAIN_PEER = textwrap.dedent('''
    """A plain cyclonedds peer (no project code): echoes rt/cdr_test/in to rt/cdr_test/out as raw
    Image_ samples, and writes 3 generated images on rt/cdr_test/gen."""
    import sys, time
    from cyclonedds.core import Policy, Qos
    from cyclonedds.domain import DomainParticipant
    from cyclonedds.pub import DataWriter
    from cyclonedds.sub import DataReader
    from cyclonedds.topic import Topic
    from plain_ros_types import Header_, Image_, Time_  # on sys.path: this test folder

    qos = Qos(Policy.Reliability.Reliable(max_blocking_time=10**9), Policy.History.KeepLast(5),
              Policy.DataRepresentation(use_cdrv0_representation=True))
    dp = DomainParticipant(int(sys.argv[1]))
    reader = DataReader(dp, Topic(dp, "rt/cdr_test/in", Image_), qos=qos)
    echo = DataWriter(dp, Topic(dp, "rt/cdr_test/out", Image_), qos=qos)
    gen = DataWriter(dp, Topic(dp, "rt/cdr_test/gen", Image_), qos=qos)
    print("ready", flush=True)
    deadline = time.monotonic() + 30
    while not gen.get_matched_subscriptions() and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.3)
    for i in range(3):
        pixels = bytes((i * 7 + k) % 251 for k in range(480 * 640))
        gen.write(Image_(Header_(Time_(1700000000 + i, 5), "gen"), 480, 640, "mono8", 0, 640, list(pixels)))
    echoed = 0
    while echoed < 2 and time.monotonic() < deadline:
        for sample in reader.take(N=5):
            echo.write(sample)
            echoed += 1
        time.sleep(0.005)
    time.sleep(1.0)
''')


def test_serdata_api_loads_and_passes_its_self_test(transport):
    api = CdrApi.load()
    assert api is not None and transport.cdr_api is api
    check = messages_for("humble")
    cdr = bytes(check.serialize(check.make("std_msgs/msg/String", data="abc")))
    cdr += b"\0" * (-len(cdr) % 4)
    topic = transport._topic("/cdr_test/selfcheck", "std_msgs/msg/String")
    assert api.verify(topic._ref, cdr)
    # A CDR whose string length runs past the end is not valid: Cyclone refuses it.
    assert not api.verify(topic._ref, cdr[:4] + (10**6).to_bytes(4, "little") + cdr[8:])


SECOND_CYCLONE = textwrap.dedent('''
    """Another libddsc mapped before cyclonedds-python's (as rclpy's rmw_cyclonedds_cpp does)."""
    import ctypes, json, os, sys
    second = ctypes.CDLL(sys.argv[1])  # RTLD_LOCAL, like a dlopen'ed rmw
    from cyclonedds.internal import DDS
    from spot_bow_ros.standalone.dds_transport import DdsTransport
    from spot_bow_ros.standalone.dds_serdata import CdrApi, _mapped_libddsc
    from spot_bow_ros.standalone.message_store import messages_for
    transport = DdsTransport(domain_id=int(sys.argv[2]))
    api = CdrApi.load()
    check = messages_for()
    cdr = bytes(check.serialize(check.make("std_msgs/msg/String", data="abc")))
    cdr += b"\\0" * (-len(cdr) % 4)
    topic = transport._topic("/cdr_test/second", "std_msgs/msg/String")
    print(json.dumps({"mapped": _mapped_libddsc(), "bound": api and api.path,
                      "cyclonedds_python": os.path.realpath(DDS._dll_handle._name),
                      "verified": bool(api and api.verify(topic._ref, cdr))}))
    transport.close()
''')


def test_serdata_api_binds_to_cyclonedds_pythons_library_with_a_second_cyclone_mapped(tmp_path):
    from cyclonedds.internal import DDS

    # A second copy of the library with another SONAME (same length, so the ELF stays valid),
    # mapped first, as rclpy maps Cyclone 0.10's libddsc.so.0.
    original = Path(DDS._dll_handle._name)
    soname = original.name.encode()
    other = b"libddsc-second" + soname[len(b"libddsc-second"):]
    data = original.read_bytes()
    assert data.count(soname + b"\0") == 1 and len(other) == len(soname) != other
    second = tmp_path / other.decode()
    second.write_bytes(data.replace(soname + b"\0", other + b"\0"))
    script = tmp_path / "second.py"
    script.write_text(SECOND_CYCLONE)
    out = subprocess.run([sys.executable, str(script), str(second), str(DOMAIN)], capture_output=True,
                         text=True, timeout=120, env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert out.returncode == 0, out.stderr
    import json

    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert str(second) in result["mapped"] and len(result["mapped"]) == 2
    assert result["bound"] == result["cyclonedds_python"] != str(second)
    assert result["verified"]


def test_big_images_cross_processes_both_ways_against_plain_cyclonedds(tmp_path, transport):
    script = tmp_path / "plain_peer.py"
    script.write_text(PLAIN_PEER)
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))  # plain_ros_types only
    proc = subprocess.Popen([sys.executable, str(script), str(DOMAIN)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        node = StandaloneNode("cdr_test", transport)
        generated, echoed = [], []
        node.create_subscription("sensor_msgs/msg/Image", "/cdr_test/gen", generated.append, SENSOR_PUBLISHER)
        node.create_subscription("sensor_msgs/msg/Image", "/cdr_test/out", echoed.append, SENSOR_PUBLISHER)
        pub = node.create_publisher("sensor_msgs/msg/Image", "/cdr_test/in", SENSOR_PUBLISHER)
        # both ends of this process are on the serdata path (not the cyclonedds-python fallback)
        assert transport.writers[-1]._sertype is not None
        assert all(r._cdr_api is transport.cdr_api for r in transport.readers if getattr(r, "topic", "").startswith("/cdr_test"))

        # plain writer -> this process (zero-copy take): every pixel as written, read-only views
        assert wait_until(lambda: len(generated) >= 3, timeout=30), proc.stderr.read() if proc.poll() is not None else ""
        for i, msg in enumerate(generated):
            expected = np.frombuffer(bytes((i * 7 + k) % 251 for k in range(480 * 640)), np.uint8)
            assert (msg.height, msg.width, msg.encoding, msg.header.frame_id) == (480, 640, "mono8", "gen")
            assert msg.header.stamp.sec == 1700000000 + i
            assert np.array_equal(msg.data, expected)
            assert not msg.data.flags.writeable  # a view of Cyclone's buffer, shared with other readers

        # this process (gathered write) -> plain reader -> echoed back unchanged
        assert wait_until(lambda: pub.get_subscription_count() >= 1)
        rng = np.random.default_rng(7)
        sent = []
        for i in range(2):
            pixels = rng.integers(0, 256, (720, 1280, 3), dtype=np.uint8)
            # odd-sized frame id and data: padding to 4 must be right on both sides
            msg = node.msg("sensor_msgs/msg/Image", header={"stamp": {"sec": 10 + i, "nanosec": 1},
                                                            "frame_id": "cam_odd"},
                           height=720, width=1280, encoding="bgr8", step=3840, data=pixels.tobytes()[:-1])
            pub.publish(msg)
            sent.append(msg)
        assert wait_until(lambda: len(echoed) >= 2, timeout=30), proc.stderr.read() if proc.poll() is not None else ""
        codec = messages_for("humble")
        for got, msg in zip(echoed, sent):
            assert got.header.stamp.sec == msg.header.stamp.sec
            assert bytes(codec.serialize(got)) == bytes(codec.serialize(msg))
        node.destroy()
    finally:
        proc.kill()
        proc.wait(timeout=10)


def test_big_sample_view_releases_cyclone_buffer_when_last_reference_goes(transport, monkeypatch):
    api = transport.cdr_api
    released = []
    real_unref = api._to_ser_unref
    monkeypatch.setattr(api, "_to_ser_unref", lambda sd, iov: (released.append(sd), real_unref(sd, iov)))
    node = StandaloneNode("cdr_release", transport)
    got = []
    node.create_subscription("std_msgs/msg/UInt8MultiArray", "/cdr_test/blob", got.append, DEFAULT)
    pub = node.create_publisher("std_msgs/msg/UInt8MultiArray", "/cdr_test/blob", DEFAULT)
    payload = np.arange(ZERO_COPY_MIN_BYTES * 2, dtype=np.uint64).astype(np.uint8)
    pub.publish(node.msg("std_msgs/msg/UInt8MultiArray", data=payload.tobytes()))
    pub.publish(node.msg("std_msgs/msg/UInt8MultiArray", data=b"small"))
    assert wait_until(lambda: len(got) >= 2)
    big, small = got
    assert np.array_equal(big.data, payload) and bytes(small.data) == b"small"
    assert len(released) == 1  # the small sample was copied and released at once; the big one is held
    del got[:], big
    gc.collect()
    assert len(released) == 2  # dropping the message released Cyclone's buffer
    node.destroy()


def test_malformed_cdr_is_refused_with_a_clear_error(transport):
    node = StandaloneNode("cdr_bad", transport)
    pub = node.create_publisher("std_msgs/msg/String", "/cdr_test/bad", DEFAULT)
    writer = transport.writers[-1]
    bad = b"\x00\x01\x00\x00" + (1 << 30).to_bytes(4, "little") + b"abcd"  # string longer than the sample
    with pytest.raises(DdsError, match=r"writing on /cdr_test/bad failed: DDS error -3"):
        writer.write_cdr(bad)
    pub.publish(node.msg("std_msgs/msg/String", data="still fine"))  # the writer keeps working
    node.destroy()


def test_without_serdata_api_the_transport_uses_cyclonedds_python(tmp_path):
    script = tmp_path / "fallback.py"
    script.write_text(textwrap.dedent(f'''
        import sys, time
        sys.path.insert(0, {str(REPO)!r})
        import numpy as np
        from spot_bow_ros.standalone.dds_transport import DdsTransport
        from spot_bow_ros.ros.qos import SENSOR_PUBLISHER
        from spot_bow_ros.standalone.node import StandaloneNode
        t = DdsTransport(domain_id={DOMAIN})
        assert t.cdr_api is None, "SPOT_BOW_ROS_DDS_CDR_API=0 ignored"
        node = StandaloneNode("fallback", t)
        got = []
        node.create_subscription("sensor_msgs/msg/Image", "/cdr_test/fallback", got.append, SENSOR_PUBLISHER)
        pub = node.create_publisher("sensor_msgs/msg/Image", "/cdr_test/fallback", SENSOR_PUBLISHER)
        pixels = np.arange(480 * 640, dtype=np.uint32).astype(np.uint8).tobytes()
        pub.publish(node.msg("sensor_msgs/msg/Image", height=480, width=640, encoding="mono8", step=640,
                             data=pixels))
        deadline = time.monotonic() + 10
        while not got and time.monotonic() < deadline:
            time.sleep(0.01)
        assert got and bytes(got[0].data) == pixels
        print("ok", len(got[0].data))
        node.destroy()
        t.close()
    '''))
    env = dict(os.environ, SPOT_BOW_ROS_DDS_CDR_API="0")
    out = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["ok", str(480 * 640)]
