"""FetchSchedule: fixed-rate fetching that never wastes a fetch on a frame already delivered."""

import pytest
from bosdyn.api import image_pb2

from spot_bow_ros.spot.cameras import FetchSchedule, SourceRequest

FRAME_NS = 33_333_333  # robot camera at 30 Hz
REQ = SourceRequest(camera="frontleft", kind="VISUAL", source="frontleft_fisheye_image")


def _response(acq_ns: int) -> image_pb2.ImageResponse:
    resp = image_pb2.ImageResponse()
    resp.shot.acquisition_time.seconds, resp.shot.acquisition_time.nanos = divmod(acq_ns, 1_000_000_000)
    return resp


def _mono(robot_ns: int) -> float:
    return robot_ns / 1e9  # robot and monotonic clocks aligned in these tests


def test_repeated_frame_is_a_duplicate_and_is_retried_after_the_next_frame():
    s = FetchSchedule(period_s=1 / 15)
    t0 = 100 * 1_000_000_000
    fresh, dups = s.sort([(REQ, _response(t0))], sent_at=100.001, robot_to_mono=_mono)
    assert len(fresh) == 1 and dups == []
    fresh, dups = s.sort([(REQ, _response(t0 + FRAME_NS))], sent_at=100.035, robot_to_mono=_mono)
    assert len(fresh) == 1 and s.frame_period == pytest.approx(FRAME_NS / 1e9)
    fresh, dups = s.sort([(REQ, _response(t0 + FRAME_NS))], sent_at=100.040, robot_to_mono=_mono)
    assert fresh == [] and dups == [REQ] and s.duplicates == 1
    retry = s.retry_at(dups, now=100.041, next_cycle_at=100.1)
    # not before the robot's next frame (last frame + one frame period), but within this cycle
    assert 100.0 + 2 * FRAME_NS / 1e9 <= retry < 100.1


def test_late_cycle_catches_up_but_not_faster_than_the_camera():
    s = FetchSchedule(period_s=1 / 15, catch_up_periods=8)
    s.reset(now=50.0)
    t0 = 50 * 1_000_000_000
    s.sort([(REQ, _response(t0))], sent_at=50.0, robot_to_mono=_mono)
    s.sort([(REQ, _response(t0 + FRAME_NS))], sent_at=50.034, robot_to_mono=_mono)
    # the cycle ended 2 periods late: the next one is due at once, but the robot has no newer
    # frame before last + frame period
    at = s.advance(now=50.0 + 3 / 15, sources=[REQ.source])
    assert at >= 50.0 + FRAME_NS / 1e9
    assert at <= 50.0 + 3 / 15 + 1 / 15


def test_far_behind_skips_missed_cycles_instead_of_bursting():
    s = FetchSchedule(period_s=0.1, catch_up_periods=3)
    s.reset(now=10.0)
    at = s.advance(now=11.0, sources=[])
    assert s.skipped >= 8
    assert at == pytest.approx(11.0)
