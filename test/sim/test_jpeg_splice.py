"""The simulated cameras' spliced frames (sim/jpeg_splice.py, SimCameras._spliced): JPEGs byte
for byte what a full encode of the frame gives (the same pixels as a plain encode), RAW bytes the
whole frame's, frame code and scene ring intact."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from bosdyn.api import image_pb2

from spot_bow_ros.sim import jpeg_splice
from spot_bow_ros.sim.camera_scene import (
    SCENE_RING_FRAMES,
    _bits_cells,
    _cell,
    band_rows,
    code_band,
    decode_frame_counter,
    decode_source_id,
    render_frame,
    scene_phase,
)
from spot_bow_ros.sim.cameras import SimCameras, catalogue
from spot_bow_ros.sim.clock import RobotClock
from spot_bow_ros.sim.robot import SimRobot

Image = image_pb2.Image
GREY, RGB = Image.PIXEL_FORMAT_GREYSCALE_U8, Image.PIXEL_FORMAT_RGB_U8


@pytest.fixture(scope="module")
def cams():
    robot = SimRobot(RobotClock(), arm=True)
    out = SimCameras(robot, robot.clock, arm=True, prepare_ahead=False, colour_body=True)
    yield out
    out.stop()
    robot.stop()


def _as_encoder_takes(pixels: np.ndarray, pixel_format: int) -> np.ndarray:
    if pixel_format == GREY and pixels.ndim == 3:
        return cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY)
    return pixels[..., ::-1] if pixels.ndim == 3 else pixels


def test_spliced_jpeg_is_the_full_encode_byte_for_byte(cams):
    visual = [c for c in cams.cameras if c.kind != "depth"]
    assert {c.kind for c in visual} == {"rgb", "grey"} and any(c.rows % 16 for c in visual)  # 171 rows
    for spec in visual:
        formats = [0, GREY] if spec.kind == "rgb" else [0]
        # frames of one phase (rest cached) and of others, a counter with many bits set
        for counter in (3, 3 + SCENE_RING_FRAMES, 4, 2**31 + 77):
            for pixel_format in formats:
                for quality in (75.0, 10.0):
                    data, cols, rows = cams.encoded(spec.name, counter, Image.FORMAT_JPEG, quality, 0.0,
                                                    touch=False, pixel_format=pixel_format)
                    assert (cols, rows) == (spec.cols, spec.rows)
                    pixels = _as_encoder_takes(render_frame(spec, counter), pixel_format)
                    assert data == jpeg_splice.encode(pixels, int(quality)), (spec.name, counter, pixel_format)
                    back = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
                    # restart markers change no pixel: the same as a plain JPEG of the frame
                    ok, plain = cv2.imencode(".jpg", np.ascontiguousarray(pixels),
                                             [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
                    assert np.array_equal(back, cv2.imdecode(plain, cv2.IMREAD_UNCHANGED))
                    assert decode_frame_counter(back) == counter
                    assert decode_source_id(back) == spec.source_id
    assert len(cams._state["hand_color_image"].rest) == 2 * 3 * 2   # (key, phase): 2 qualities x 3 phases x 2 formats


def test_raw_frames_are_the_whole_frames_bytes(cams):
    """RAW (depth units and visual pixels): the strip joined to the cached rows below gives the
    bytes of the whole rendered frame, as before the splice."""
    for spec in cams.cameras:
        formats = [0, GREY] if spec.kind == "rgb" else [0]
        for counter in (7, 7 + SCENE_RING_FRAMES, 2**31 + 77):
            for pixel_format in formats:
                data, cols, rows = cams.encoded(spec.name, counter, Image.FORMAT_RAW, 0.0, 0.0,
                                                touch=False, pixel_format=pixel_format)
                whole = SimCameras._encode(spec, render_frame(spec, counter), Image.FORMAT_RAW, 0.0, 0.0,
                                           pixel_format)
                assert (data, cols, rows) == whole, (spec.name, counter, pixel_format)
    # a depth scene is still: one cached rest per key, not one per phase
    assert len(cams._state["frontleft_depth"].rest) == 1


def test_default_quality_and_resized_requests(cams):
    data, *_ = cams.encoded("frontleft_fisheye_image", 9, Image.FORMAT_JPEG, 0.0, 0.0, touch=False)
    spec = cams.by_name["frontleft_fisheye_image"]
    assert data == jpeg_splice.encode(render_frame(spec, 9)[..., ::-1], 75)
    small, cols, rows = cams.encoded("hand_color_image", 9, Image.FORMAT_JPEG, 75.0, 0.5, touch=False)
    assert (cols, rows) == (320, 240)
    assert decode_frame_counter(cv2.imdecode(np.frombuffer(small, np.uint8), cv2.IMREAD_UNCHANGED)) == 9


def test_scene_ring_only_the_code_band_is_new():
    for spec in catalogue(arm=True):
        a, b = render_frame(spec, 5), render_frame(spec, 5 + SCENE_RING_FRAMES)
        assert scene_phase(spec, 5) == scene_phase(spec, 5 + SCENE_RING_FRAMES)
        band = code_band(a.shape)
        outside = np.ones(a.shape[:2], bool)
        outside[band] = False
        assert np.array_equal(a[outside], b[outside])
        assert decode_frame_counter(a) == 5 and decode_frame_counter(b) == 5 + SCENE_RING_FRAMES
        strip = jpeg_splice.strip_rows(band_rows(spec))
        assert band_rows(spec) <= strip < spec.rows
        assert np.array_equal(render_frame(spec, 5, top_rows=strip), a[:strip])
        if spec.kind != "depth":   # the scene pans between consecutive frames
            c = render_frame(spec, 6)
            assert np.count_nonzero(a[outside] != c[outside]) > 1000


def test_code_band_painted_in_one_go_is_the_cell_by_cell_band():
    """render_frame builds the band with np.repeat: the same pixels as painting each cell."""
    for spec in catalogue(arm=True, colour_body=True) + catalogue(arm=True):
        for counter in (0, 5, 2**31 + 77, 2**32 - 1):
            img = render_frame(spec, counter)
            ref = img.copy()
            lo, hi = (1000, 3000) if spec.kind == "depth" else (25, 230)
            for col, row, bit in _bits_cells(counter, spec.source_id):
                ref[_cell(ref.shape, col, row)] = hi if bit else lo
            assert np.array_equal(img, ref), (spec.name, counter)


def test_rows_below_cache_is_bounded(cams):
    from spot_bow_ros.sim.cameras import REST_CACHE_MAX
    spec = cams.by_name["back_fisheye_image"]
    for quality in range(20, 40):
        for counter in range(0, SCENE_RING_FRAMES, 4):
            data, *_ = cams.encoded(spec.name, 10_000 + counter, Image.FORMAT_JPEG, float(quality), 0.0, touch=False)
            assert len(cams._state[spec.name].rest) <= REST_CACHE_MAX
    assert data == jpeg_splice.encode(render_frame(spec, 10_000 + counter)[..., ::-1], quality)


def _sof_sampling(jpeg: bytes) -> list[int]:
    """Per-component sampling factors (0xHV) of a baseline JPEG's SOF0 segment."""
    i = jpeg.index(b"\xff\xc0")
    components = jpeg[i + 9]
    return [jpeg[i + 10 + 3 * k + 1] for k in range(components)]


def test_opencv_without_the_sampling_factor_flag_still_splices(monkeypatch):
    """OpenCV 4.6 (Debian 12 / Ubuntu 24.04 python3-opencv, the ROS route) has no
    IMWRITE_JPEG_SAMPLING_FACTOR: encode() must still work there, and libjpeg's default is the
    4:2:0 (luma 2x2) the splice's 16-row MCUs rely on; the spliced JPEG is still the full encode."""
    robot = SimRobot(RobotClock(), arm=True)
    fresh = SimCameras(robot, robot.clock, arm=True, prepare_ahead=False, colour_body=True)
    try:
        spec = [c for c in fresh.cameras if c.kind == "rgb"][0]
        pixels = render_frame(spec, 7)[..., ::-1]
        with_flag = jpeg_splice.encode(pixels, 75)
        monkeypatch.delattr(cv2, "IMWRITE_JPEG_SAMPLING_FACTOR")
        without = jpeg_splice.encode(pixels, 75)
        assert _sof_sampling(without) == _sof_sampling(with_flag) == [0x22, 0x11, 0x11]
        assert without == with_flag
        data, _, _ = fresh.encoded(spec.name, 7, Image.FORMAT_JPEG, 75.0, 0.0, touch=False, pixel_format=0)
        assert data == without
        assert decode_frame_counter(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)) == 7
    finally:
        fresh.stop()
        robot.stop()
