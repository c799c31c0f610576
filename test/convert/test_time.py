"""Pure robot <-> local time conversions (convert/time.py)."""

from __future__ import annotations

from types import SimpleNamespace

from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp
from hypothesis import given
from hypothesis import strategies as st

from spot_bow_ros.convert import time as tconv

SKEW = 100 * 10**9 + 123_456  # robot is 100.000123456 s ahead


def test_timestamp_ns_round_trip():
    ts = Timestamp(seconds=1_700_000_000, nanos=999_999_999)
    assert tconv.timestamp_to_ns(ts) == 1_700_000_000_999_999_999
    assert tconv.ns_to_timestamp(1_700_000_000_999_999_999) == ts


def test_negative_ns_keeps_nanos_positive():
    ts = tconv.ns_to_timestamp(-1)
    assert (ts.seconds, ts.nanos) == (-1, 999_999_999)
    assert tconv.ns_to_ros_stamp(-1) == (-1, 999_999_999)


def test_duration_to_ns():
    assert tconv.duration_to_ns(Duration(seconds=100, nanos=123_456)) == SKEW
    assert tconv.duration_to_ns(Duration(seconds=-2, nanos=-500_000_000)) == -2_500_000_000


def test_robot_to_local_with_skew():
    local = 1_700_000_000_000_000_000
    robot = local + SKEW
    assert tconv.robot_to_local_ns(robot, SKEW) == local
    assert tconv.local_to_robot_ns(local, SKEW) == robot
    robot_ts = tconv.ns_to_timestamp(robot)
    assert tconv.robot_timestamp_to_local_ns(robot_ts, SKEW) == local
    assert tconv.local_ns_to_robot_timestamp(local, SKEW) == robot_ts
    assert tconv.robot_timestamp_to_ros_stamp(robot_ts, SKEW) == (1_700_000_000, 0)


def test_ros_stamp_inputs():
    assert tconv.ros_stamp_to_ns((5, 7)) == 5_000_000_007
    assert tconv.ros_stamp_to_ns(SimpleNamespace(sec=5, nanosec=7)) == 5_000_000_007
    robot_ts = tconv.ros_stamp_to_robot_timestamp((1_700_000_000, 0), SKEW)
    assert tconv.timestamp_to_ns(robot_ts) == 1_700_000_000_000_000_000 + SKEW


@given(st.integers(min_value=0, max_value=4_000_000_000 * 10**9),
       st.integers(min_value=-10**15, max_value=10**15))
def test_round_trips(local_ns, skew_ns):
    robot_ts = tconv.local_ns_to_robot_timestamp(local_ns, skew_ns)
    assert 0 <= robot_ts.nanos < 10**9
    assert tconv.robot_timestamp_to_local_ns(robot_ts, skew_ns) == local_ns
    sec, nanosec = tconv.robot_timestamp_to_ros_stamp(robot_ts, skew_ns)
    assert 0 <= nanosec < 10**9 and sec * 10**9 + nanosec == local_ns
    assert tconv.timestamp_to_ns(tconv.ros_stamp_to_robot_timestamp((sec, nanosec), skew_ns)) == local_ns + skew_ns


def test_rate_limiter_passes_the_first_sample_of_each_period():
    from spot_bow_ros.convert.time import RateLimiter

    robot = [1_700_000_000_000_000_000 + i * 3_000_000 for i in range(1000)]   # 333 Hz, 3 s
    limit = RateLimiter(100.0)
    passed = [t for t in robot if limit.due(t)]
    assert len(passed) == 300 and len({t // 10_000_000 for t in passed}) == 300   # 100 Hz, one per 10 ms
    assert all(limit.due(t) for t in (5, 20_000_005)) and not limit.due(20_000_006)
    limit.set_rate(0.0)
    assert all(limit.due(t) for t in robot[:10])                                  # 0: every sample
    limit.set_rate(50.0)
    assert limit.due(robot[0]) and not limit.due(robot[1]) and limit.due(robot[0] - 30_000_000)  # back in time
    import pytest
    with pytest.raises(ValueError, match=">= 0 Hz"):
        limit.set_rate(-1.0)
