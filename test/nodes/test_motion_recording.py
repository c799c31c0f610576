"""MotorArray recordings on disk and their timed playback (spot_bow_ros/nodes/motion_recording.py)."""

import threading
import time

import pytest

from spot_bow_ros.bow import bow_data_pb2 as bow
from spot_bow_ros.nodes.motion_recording import (
    MotionPlayer,
    MotionRecorder,
    RecordingError,
    load_recording,
    recording_path,
    save_recording,
)


def sample(z, record=True, name="walk"):
    s = bow.MotorSample()
    s.Locomotion.Position.Z = z
    if record:
        s.RecordFlag = True
    if name:
        s.PlaybackActionName = name
    return s


def test_recorder_saves_named_motor_array_with_ms_times_and_strips_flags(tmp_path):
    rec = MotionRecorder(tmp_path)
    t0 = 1_700_000_000_000_000_000
    assert rec.feed(sample(0.1), True, "walk", t0) is None
    assert rec.recording and rec.name == "walk"
    rec.feed(sample(0.2), True, "walk", t0 + 120_000_000)
    rec.feed(sample(0.3), True, "walk", t0 + 250_400_000)
    path = rec.feed(sample(0.0, record=False), False, None, t0 + 300_000_000)
    assert path == recording_path(tmp_path, "walk") and path.is_file()
    assert not rec.recording
    array = load_recording(tmp_path, "walk")
    assert list(array.Tstamp) == [t0 // 10**6, t0 // 10**6 + 120, t0 // 10**6 + 250]
    assert [s.Locomotion.Position.Z for s in array.Samples] == pytest.approx([0.1, 0.2, 0.3])
    for s in array.Samples:
        assert not s.HasField("RecordFlag") and not s.HasField("PlaybackActionName")


def test_recorder_name_change_starts_a_new_recording_and_default_name(tmp_path):
    rec = MotionRecorder(tmp_path, default_name="take")
    rec.feed(sample(0.1, name=""), True, None, 0)
    saved = rec.feed(sample(0.2, name="other"), True, "other", 1_000_000)
    assert saved == recording_path(tmp_path, "take")
    assert rec.name == "other"
    assert rec.finish() == recording_path(tmp_path, "other")
    assert rec.finish() is None


def test_load_errors(tmp_path):
    with pytest.raises(RecordingError, match="no recording named 'missing'"):
        load_recording(tmp_path, "missing")
    recording_path(tmp_path, "junk").write_bytes(b"\xff\xff\xff")
    with pytest.raises(RecordingError, match="not a MotorArray"):
        load_recording(tmp_path, "junk")
    bad = bow.MotorArray(Tstamp=[5, 3])
    bad.Samples.add()
    bad.Samples.add()
    save_recording(recording_path(tmp_path, "backwards"), bad)
    with pytest.raises(RecordingError, match="backwards"):
        load_recording(tmp_path, "backwards")


def test_player_reproduces_timing_and_order():
    array = bow.MotorArray()
    offsets_ms = [0, 50, 55, 180, 300]
    for i, off in enumerate(offsets_ms):
        array.Samples.append(sample(float(i), record=False, name=""))
        array.Tstamp.append(1_000 + off)
    got, done = [], threading.Event()
    player = MotionPlayer(lambda s: got.append((time.monotonic(), s.Locomotion.Position.Z)),
                          lambda name, n, cancelled: done.set())
    player.play(array, "x")
    assert done.wait(2.0)
    assert [z for _, z in got] == [0.0, 1.0, 2.0, 3.0, 4.0]
    t0 = got[0][0]
    for (t, _), off in zip(got, offsets_ms):
        assert (t - t0) * 1000 == pytest.approx(off, abs=10)


def test_player_cancel_stops_submitting():
    array = bow.MotorArray()
    for i in range(3):
        array.Samples.append(sample(float(i), record=False, name=""))
        array.Tstamp.append(i * 500)
    got, result = [], []
    player = MotionPlayer(lambda s: got.append(s), lambda name, n, cancelled: result.append((n, cancelled)))
    player.play(array, "x")
    time.sleep(0.1)
    assert player.playing
    assert player.cancel()
    assert not player.playing
    assert len(got) == 1 and result == [(1, True)]
