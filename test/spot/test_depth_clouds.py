"""spot/depth_clouds.py: body transforms from an image's snapshot, merging, colour pairing."""

import cv2
import numpy as np
from bosdyn.api import geometry_pb2

from spot_bow_ros.spot.cameras import SpotImage, depth_request, registered_depth_request, visual_request
from spot_bow_ros.spot.depth_clouds import CloudMerger, RegisteredPairs, body_tform, depth_array, packed_colour


def image(req, stamp=1, frame="frontleft", pixels=None, encoding="16UC1", snapshot=None, w=4, h=2):
    return SpotImage(request=req, stamp_ns=stamp, robot_stamp_ns=stamp, frame_id=frame, width=w, height=h,
                     encoding=encoding, pixels=pixels, snapshot=snapshot)


def test_body_tform_reads_the_snapshot_chain():
    tree = geometry_pb2.FrameTreeSnapshot()
    tree.child_to_parent_edge_map["body"].parent_frame_name = ""
    head = tree.child_to_parent_edge_map["head"]
    head.parent_frame_name = "body"
    head.parent_tform_child.position.x = 0.35
    head.parent_tform_child.rotation.w = 1.0
    cam = tree.child_to_parent_edge_map["frontleft"]
    cam.parent_frame_name = "head"
    cam.parent_tform_child.position.y = 0.1
    cam.parent_tform_child.rotation.z, cam.parent_tform_child.rotation.w = np.sqrt(0.5), np.sqrt(0.5)  # yaw 90
    m = body_tform(image(depth_request("frontleft"), snapshot=tree))
    np.testing.assert_allclose(m[:3, 3], [0.35, 0.1, 0.0], atol=1e-9)
    np.testing.assert_allclose(m[:3, :3] @ [1, 0, 0], [0, 1, 0], atol=1e-9)
    assert body_tform(image(depth_request("frontleft"))) is None


def test_merger_waits_for_every_expected_camera_and_downsamples():
    merger = CloudMerger(voxel_size=0.1)
    merger.expect(["frontleft", "back"])
    a = np.array([[0.0, 0.0, 0.0], [0.01, 0.01, 0.01]], np.float32)
    b = np.array([[1.0, 1.0, 1.0]], np.float32)
    assert merger.add("frontleft", a, 10) is None
    merged, stamp = merger.add("back", b, 12)
    assert stamp == 12 and len(merged) == 2  # the two close points share a voxel
    # a camera that delivers twice before the others flushes what is there (a dead camera never blocks)
    assert merger.add("frontleft", merger.downsample(a), 20) is None
    merged, stamp = merger.add("frontleft", b, 30)
    assert stamp == 20 and len(merged) == 1  # one camera's share was downsampled by its worker


def test_registered_pairs_match_by_acquisition_time():
    pairs = RegisteredPairs(tolerance_ns=0)
    d1 = image(registered_depth_request("left"), stamp=5)
    v2 = image(visual_request("left"), stamp=6, encoding="mono8")
    assert pairs.offer(d1, "visual") is None
    assert pairs.offer(v2, "depth_registered") is None   # other stamp: no pair
    d2 = image(registered_depth_request("left"), stamp=6)
    assert pairs.offer(d2, "visual") is v2


def _old_rgb_pixels(pixels, encoding, width, height):
    """The colour path before packed_colour: RGB copy (cvtColor), nearest resize, then pack_rgb."""
    if pixels.ndim == 2:
        rgb = cv2.cvtColor(pixels, cv2.COLOR_GRAY2RGB)
    elif encoding in ("rgb8", "rgba8"):
        rgb = np.ascontiguousarray(pixels[..., :3])
    else:
        rgb = cv2.cvtColor(np.ascontiguousarray(pixels[..., :3]), cv2.COLOR_BGR2RGB)
    if rgb.shape[:2] != (height, width):
        rgb = cv2.resize(rgb, (width, height), interpolation=cv2.INTER_NEAREST)
    r, g, b = (rgb[..., i].astype(np.uint32) for i in range(3))
    return ((r << 16) | (g << 8) | b).view(np.float32)     # PCL's packed rgb, by its definition


def test_depth_array_and_packed_colour():
    raw = np.arange(8, dtype="<u2").tobytes()
    arr = depth_array(image(depth_request("back"), pixels=raw))
    assert arr.shape == (2, 4) and arr[1, 3] == 7
    grey = np.array([[10, 20], [30, 40]], np.uint8)
    packed = packed_colour(image(visual_request("back"), pixels=grey, encoding="mono8", w=2, h=2), 4, 4)
    assert packed.shape == (4, 4) and packed.dtype == np.float32
    assert packed.view(np.uint32)[3, 3] == 0x282828    # 40 in R, G and B, 0 on top
    bgr = np.zeros((2, 2, 3), np.uint8)
    bgr[..., 0] = 200  # blue
    packed = packed_colour(image(visual_request("hand"), pixels=bgr, encoding="bgr8", w=2, h=2), 2, 2)
    assert packed.view(np.uint32)[0, 0] == 200            # 0x000000BB


def test_packed_colour_equals_the_previous_rgb_copy_then_pack_bit_for_bit():
    rng = np.random.default_rng(7)
    cases = [("mono8", rng.integers(0, 256, (48, 64), np.uint8)), ("bgr8", rng.integers(0, 256, (48, 64, 3), np.uint8)),
             ("rgb8", rng.integers(0, 256, (48, 64, 3), np.uint8)), ("bgra8", rng.integers(0, 256, (48, 64, 4), np.uint8))]
    for encoding, pixels in cases:
        for width, height in ((64, 48), (32, 24), (100, 70)):   # same size, smaller, larger (nearest)
            got = packed_colour(image(visual_request("hand"), pixels=pixels, encoding=encoding, w=64, h=48),
                                width, height)
            want = _old_rgb_pixels(pixels, encoding, width, height)
            assert got.tobytes() == want.tobytes(), (encoding, width, height)


def test_registered_pairs_tolerate_a_small_offset():
    pairs = RegisteredPairs(tolerance_ns=20_000_000)
    v = image(visual_request("right"), stamp=1_000_000_000, encoding="mono8")
    assert pairs.offer(v, "depth_registered") is None
    assert pairs.offer(image(registered_depth_request("right"), stamp=1_050_000_000), "visual") is None  # 50 ms
    v2 = image(visual_request("right"), stamp=1_060_000_000, encoding="mono8")
    assert pairs.offer(v2, "depth_registered").robot_stamp_ns == 1_050_000_000  # 10 ms
