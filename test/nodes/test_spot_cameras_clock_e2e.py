"""spot_cameras across a step of the robot's clock (same boot, same time-sync clock identifier),
against the simulated Spot: images converted with the old skew until time sync follows the robot
would be stamped in the future; they must not be published (stamped after their arrival) nor
hold back the correctly stamped images that follow."""

import logging
import time

from nodes.test_spot_cameras_e2e import DEEP, IMG, Rig
from spot_bow_ros.ros.node_api import stamp_to_ns
from spot_bow_ros.sim import SimulatedSpot

TOPIC = "/spot/camera/frontleft/image"
STEP_S = 30.0


def test_a_robot_clock_step_forward_neither_future_stamps_nor_stalls_the_cameras(tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    arrivals: list[tuple[int, int]] = []   # (local arrival ns, header stamp ns)
    with SimulatedSpot(clock_offset_s=50.0, arm=False) as spot:
        spot.write_info(tmp_path / "sim.json")
        spot.info_file = str(tmp_path / "sim.json")
        # health checks every 2 s: several images are fetched between the step and the re-sync
        rig = Rig(spot, [(TOPIC, IMG)], rate=10.0, health_check_interval=2.0)
        rig.tester.create_subscription(
            IMG, TOPIC, lambda m: arrivals.append((time.time_ns(), stamp_to_ns(m.header.stamp))), DEEP)
        try:
            assert rig.wait(TOPIC, 5, timeout=30), "no images before the step"
            spot.step_clock(STEP_S)
            stepped_at = time.time_ns()
            before = len(rig.got[TOPIC])
            assert rig.wait(TOPIC, before + 10, timeout=40), "the cameras stalled after the robot clock stepped"
            future = rig.bridge.outputs[("frontleft", "visual")].future
        finally:
            rig.close()
    stamps = [stamp for _, stamp in arrivals]
    assert all(b > a for a, b in zip(stamps, stamps[1:])), "stamps must increase"
    # an image is acquired before it arrives: nothing stamped after its arrival (sync error allowance 50 ms)
    late = [(arrived, stamp) for arrived, stamp in arrivals if stamp > arrived + 50_000_000]
    assert late == [], f"{len(late)} images stamped up to {max(s - a for a, s in late) / 1e9:.1f} s after arrival"
    # the images after the step carry the robot's acquisition time on the local clock: recent
    after = [(arrived, stamp) for arrived, stamp in arrivals if arrived > stepped_at][-5:]
    assert all(0 <= arrived - stamp < 1_000_000_000 for arrived, stamp in after), after
    # the images stamped in the future were dropped and said once
    said = [r.getMessage() for r in caplog.records
            if "frontleft_fisheye_image" in r.getMessage() and "s in the future" in r.getMessage()]
    assert future >= 1 and len(said) == 1, (future, said)
    assert "image stamped 30.0 s in the future" in said[0] or "image stamped 29.9 s in the future" in said[0], said
