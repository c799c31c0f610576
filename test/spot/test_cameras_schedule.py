"""FetchSchedule: fetching at a rate, following the camera's frames, never wasting a fetch on a frame
already delivered."""

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


def _run_against_camera(rate_hz: float, camera_hz: float, start: float, cycles: int, ready_after_s: float = 0.001):
    """The fetch loop of nodes/spot_cameras.py against a camera whose frame n (acquired at n / camera_hz)
    can be fetched `ready_after_s` later. Returns (acquisition ns of the new frames, GetImage calls,
    fetch time - acquisition of each new frame in s)."""
    frame_ns = round(1e9 / camera_hz)
    s = FetchSchedule(period_s=1 / rate_hz)
    s.reset(now=start)
    got, calls, now, retry, lags = [], 0, start, False, []
    next_cycle_at = start
    while len(got) < cycles:
        n = int((now - ready_after_s) * 1e9) // frame_ns
        calls += 1
        fresh, dups = s.sort([(REQ, _response(n * frame_ns))], sent_at=now, robot_to_mono=_mono)
        got += [n * frame_ns for _ in fresh]
        lags += [now - n * frame_ns * 1e-9 for _ in fresh]
        if not retry:
            next_cycle_at = s.advance(now + 0.004, [REQ.source])  # a 4 ms fetch
        at = s.retry_at(dups, now + 0.004, next_cycle_at)
        retry = at is not None
        now = at if retry else next_cycle_at
    return got, calls, lags


@pytest.mark.parametrize("start", [100.0, 100.0 + 0.5 / 15, 100.0 + 0.99 / 15])
def test_at_the_camera_rate_every_frame_is_fetched_once_whatever_the_phase(start):
    got, calls, lags = _run_against_camera(rate_hz=15, camera_hz=15, start=start, cycles=300)
    steps = {b - a for a, b in zip(got[20:], got[21:])}
    assert steps == {round(1e9 / 15)}          # no frame lost after warm-up
    assert calls <= 300 * 1.03                 # (almost) no fetch returns a frame already delivered
    assert sorted(lags[100:])[100] < 0.008     # fetched soon after it is ready (1 ms), not a period late


def test_faster_schedule_than_camera_follows_the_camera():
    got, calls, _ = _run_against_camera(rate_hz=30, camera_hz=15, start=100.01, cycles=200)
    assert {b - a for a, b in zip(got[20:], got[21:])} == {round(1e9 / 15)}
    assert calls <= 200 * 1.05                 # ~15 calls/s, not 30 + retries


def test_slower_schedule_than_camera_keeps_its_rate():
    got, calls, _ = _run_against_camera(rate_hz=10, camera_hz=15, start=100.01, cycles=100)
    span_s = (got[-1] - got[0]) * 1e-9
    assert 99 / span_s == pytest.approx(10, rel=0.05) and calls == 100
