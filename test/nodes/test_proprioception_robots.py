"""The proprioception bridge against simulated Spots with and without arm, with and without the
streaming licence, over real DDS (bridge and listener in separate DDS participants).

`state_source: auto` streams from a licensed robot; an unlicensed one (PERMISSION_DENIED on the
first read) is polled after ONE log line. Both give the same joints: 19 with an arm (the polled
`arm0.hr0` without data is left out, as the stream has no hr0), 12 without, by URDF name.
"""

from __future__ import annotations

import logging
import os

import numpy as np
import pytest
from sim_client import snapshot_with_joints
from waiting import wait_until

from spot_bow_ros.convert.joints import friendly_joint_name
from spot_bow_ros.nodes.proprioception import ProprioceptionBridge
from spot_bow_ros.ros.qos import DEFAULT
from spot_bow_ros.sim import SimulatedSpot
from spot_bow_ros.sim.physics import ARM_JOINT_NAMES, LEG_JOINT_NAMES
from spot_bow_ros.standalone.dds_transport import DdsTransport
from spot_bow_ros.standalone.node import StandaloneNode

DOMAIN = int(os.environ["ROS_DOMAIN_ID"])
LEGS_URDF = [f"{side}_{j}" for side in ("front_left", "front_right", "rear_left", "rear_right")
             for j in ("hip_x", "hip_y", "knee")]
ARM_URDF = ["arm_sh0", "arm_sh1", "arm_el0", "arm_el1", "arm_wr0", "arm_wr1", "arm_f1x"]


@pytest.fixture(scope="module")
def listener_transport():
    t = DdsTransport(domain_id=DOMAIN)
    yield t
    t.close()


@pytest.mark.parametrize("arm", [True, False], ids=["arm", "no_arm"])
@pytest.mark.parametrize("licence", [True, False], ids=["licensed", "unlicensed"])
def test_joint_states_from_every_kind_of_robot(arm, licence, transport, listener_transport, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="spot_bow_ros")
    with SimulatedSpot(arm=arm, streaming_licence=licence) as spot:
        info = spot.write_info(tmp_path / "info.json")
        listener = StandaloneNode("joint_listener", listener_transport)
        got = []
        listener.create_subscription("sensor_msgs/msg/JointState", "/joint_states", got.append, DEFAULT)
        node = StandaloneNode("proprioception", transport, parameter_overrides=dict(
            sim_info_file=str(info), state_source="auto", camera_frames=False, publish_tf=False,
            publish_odometry=False, publish_bow=False))
        try:
            bridge = ProprioceptionBridge(node)
            assert wait_until(lambda: len(got) >= 30, timeout=15), f"{len(got)} joint_states over DDS"
            msgs = list(got[-10:])
            mode = bridge.source.active_mode
        finally:
            node.destroy()
            listener.destroy()
        want = LEGS_URDF + (ARM_URDF if arm else [])
        assert want == [friendly_joint_name(n) for n in LEG_JOINT_NAMES + (ARM_JOINT_NAMES if arm else ())]
        assert mode == ("streaming" if licence else "polling")
        for msg in msgs:
            assert list(msg.name) == want and "arm_hr0" not in msg.name
            assert len(msg.position) == len(msg.velocity) == len(msg.effort) == len(want)
        matched = [snapshot_with_joints(spot, m.position) for m in msgs]
        assert sum(s is not None for s in matched) >= 8, "published joints are not simulator states"
        snap = next(s for s in matched if s is not None)
        msg = msgs[matched.index(snap)]
        assert np.allclose(msg.effort, snap.joint_load, atol=1e-5)
    state_lines = [r for r in caplog.records if r.getMessage().startswith("robot state")]
    fallback = [r for r in state_lines if "streaming failed" in r.getMessage()]
    if licence:
        assert fallback == []
    else:
        assert len(fallback) == 1, [r.getMessage() for r in state_lines]
        text = fallback[0].getMessage()
        assert "PERMISSION_DENIED" in text and "licence" in text and "\n" not in text
        assert [r for r in state_lines if r.levelno >= logging.WARNING] == []


def test_stream_joint_count_that_does_not_fit_the_robot_falls_back_in_one_line(tmp_path, caplog):
    """The joint list learned from the robot says 12 joints; the (arm) stream sends 19."""
    from spot_bow_ros.spot.connection import SpotConnection
    from spot_bow_ros.spot.connection_config import ConnectionConfig
    from spot_bow_ros.spot.state import RobotStateSource

    caplog.set_level(logging.INFO, logger="test.state")
    samples = []
    with SimulatedSpot(arm=True) as spot, SpotConnection(ConnectionConfig.from_sim_info(spot.info)) as conn:
        source = RobotStateSource(conn, samples.append, rate_hz=50.0, mode="auto",
                                  logger=logging.getLogger("test.state"))
        source.joint_names = tuple(LEG_JOINT_NAMES)
        source.start()
        try:
            assert wait_until(lambda: len(samples) >= 5, timeout=10)
        finally:
            source.stop()
    assert source.active_mode == "polling" and samples[-1].source == "polling"
    assert len(samples[-1].joint_names) == 19      # polling learns the real list again
    lines = [r.getMessage() for r in caplog.records if r.name == "test.state"]
    assert len(lines) == 1, lines
    assert "streaming failed: undecodable stream data: robot state stream has 19 joints; this robot has 12" in lines[0]


def test_stream_with_a_header_error_falls_back_in_one_line(caplog):
    from bosdyn.api import header_pb2

    from spot_bow_ros.spot.connection import SpotConnection
    from spot_bow_ros.spot.connection_config import ConnectionConfig
    from spot_bow_ros.spot.state import RobotStateSource

    caplog.set_level(logging.INFO, logger="test.state2")
    samples = []
    with SimulatedSpot(arm=False) as spot, SpotConnection(ConnectionConfig.from_sim_info(spot.info)) as conn:
        spot.robot.stream_servicer.error = (header_pb2.CommonError.CODE_INTERNAL_SERVER_ERROR, "estimator reset")
        source = RobotStateSource(conn, samples.append, mode="auto", logger=logging.getLogger("test.state2"))
        source.start()
        try:
            assert wait_until(lambda: len(samples) >= 3, timeout=10)
        finally:
            source.stop()
    assert source.active_mode == "polling" and len(samples[-1].joint_names) == 12
    lines = [r.getMessage() for r in caplog.records if r.name == "test.state2"]
    assert lines == ["robot state: polling (50 Hz; streaming failed: robot reports CODE_INTERNAL_SERVER_ERROR: "
                     "estimator reset)"]
