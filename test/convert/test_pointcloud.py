"""convert/pointcloud.py: depth -> points as depth_image_proc computes them; PointCloud2 layout."""

import numpy as np
import pytest

from spot_bow_ros.convert import pointcloud as pc
from spot_bow_ros.standalone.message_store import RosbagsMessages

MAKE = RosbagsMessages()
# Spot body depth camera size and intrinsics of a real read-out (docs/spot_facts.md, "Image sources")
INTR = pc.Intrinsics(fx=213.5, fy=213.2, cx=208.3, cy=118.9)
W, H = 424, 240


def reference_deprojection(depth_mm, intr):
    """depth_image_proc's convertDepth loop, pixel by pixel in float64 (HxWx3, NaN for invalid)."""
    h, w = depth_mm.shape
    out = np.full((h, w, 3), np.nan)
    constant_x, constant_y = 0.001 / intr.fx, 0.001 / intr.fy
    for v in range(h):
        for u in range(w):
            d = int(depth_mm[v, u])
            if d in (0, 65535):
                continue
            out[v, u] = ((u - intr.cx) * d * constant_x, (v - intr.cy) * d * constant_y, d * 0.001)
    return out


def plane_depth_mm(intr, w, h, normal, distance_m):
    """uint16 mm depth image of the plane {p: n.p = d} seen by a pinhole camera (optical frame)."""
    v, u = np.mgrid[0:h, 0:w].astype(np.float64)
    rays = np.stack([(u - intr.cx) / intr.fx, (v - intr.cy) / intr.fy, np.ones_like(u)], axis=-1)
    z = distance_m / (rays @ np.asarray(normal, float))
    return np.rint(z * 1000.0).astype(np.uint16)


def test_plane_at_known_distance_gives_points_on_that_plane_within_1cm():
    n = np.array([0.0, -0.5, 1.0]) / np.linalg.norm([0.0, -0.5, 1.0])  # tilted plane, 1.7 m away
    depth = plane_depth_mm(INTR, W, H, n, 1.7)
    depth[:10, :] = 0  # no return on the top rows
    pts = pc.cloud_points(depth, pc.Deprojector(INTR, W, H), organized=False)
    assert pts.dtype == np.float32 and pts.shape == (W * (H - 10), 3)
    assert np.abs(pts.astype(np.float64) @ n - 1.7).max() < 0.01
    # the first valid pixel is (u=0, v=10): x < 0 (left of centre), y < 0 (above centre), z > 0
    assert pts[0, 0] < 0 and pts[0, 1] < 0 and pts[0, 2] > 0


def test_fast_path_matches_reference_deprojection_numerically():
    rng = np.random.default_rng(3)
    depth = rng.integers(0, 8000, size=(H, W)).astype(np.uint16)
    depth[rng.random((H, W)) < 0.2] = 0
    depth[0, :5] = 65535
    ref = reference_deprojection(depth, INTR)
    org = pc.Deprojector(INTR, W, H).organized(depth)
    assert org.shape == (H, W, 3)
    assert np.array_equal(np.isnan(org), np.isnan(ref))
    ok = ~np.isnan(ref)
    np.testing.assert_allclose(org[ok], ref[ok], rtol=2e-6, atol=2e-6)
    dense = pc.Deprojector(INTR, W, H).dense(depth)
    np.testing.assert_allclose(dense, ref.reshape(-1, 3)[ok.reshape(-1, 3).all(axis=1)], rtol=2e-6, atol=2e-6)


def test_pixel_formula_and_optical_axes_by_hand():
    depth = np.zeros((H, W), np.uint16)
    depth[100, 300] = 2500  # u=300, v=100, 2.5 m
    pts = pc.cloud_points(depth, pc.Deprojector(INTR, W, H), organized=False)
    assert pts.shape == (1, 3)
    x, y, z = pts[0]
    assert z == pytest.approx(2.5)
    assert x == pytest.approx((300 - INTR.cx) * 2.5 / INTR.fx, rel=1e-6)  # right of centre: +x
    assert y == pytest.approx((100 - INTR.cy) * 2.5 / INTR.fy, rel=1e-6)  # above centre: -y


def test_point_cloud_msg_unorganized_drops_invalid_and_roundtrips_through_cdr():
    depth = plane_depth_mm(INTR, W, H, [0, 0, 1], 2.0)
    depth[50:60, :] = 0
    pts = pc.cloud_points(depth, pc.Deprojector(INTR, W, H), organized=False)
    msg = pc.point_cloud_msg(MAKE, pts, (12, 34), "frontleft")
    assert (msg.height, msg.width, msg.point_step, msg.row_step) == (1, W * (H - 10), 12, 12 * W * (H - 10))
    assert [(f.name, f.offset, f.datatype, f.count) for f in msg.fields] == [
        ("x", 0, 7, 1), ("y", 4, 7, 1), ("z", 8, 7, 1)]
    assert msg.is_dense and not msg.is_bigendian
    back = MAKE.deserialize(MAKE.serialize(msg), "sensor_msgs/msg/PointCloud2")
    assert back.header.frame_id == "frontleft" and (back.header.stamp.sec, back.header.stamp.nanosec) == (12, 34)
    got = pc.points_from_cloud(back)
    assert np.array_equal(got, pts)
    assert np.allclose(got[:, 2], 2.0, atol=0.001)


def test_organized_cloud_keeps_nan_for_invalid_like_depth_image_proc():
    depth = plane_depth_mm(INTR, W, H, [0, 0, 1], 1.0)
    depth[0, 0] = 0
    msg = pc.point_cloud_msg(MAKE, pc.cloud_points(depth, pc.Deprojector(INTR, W, H), organized=True),
                             (1, 0), "back")
    assert (msg.height, msg.width, msg.row_step, msg.is_dense) == (H, W, 12 * W, False)
    got = pc.points_from_cloud(msg)
    assert np.isnan(got[0]).all() and np.isfinite(got[1:]).all()


def test_rgb_field_packs_colour_like_pcl():
    depth = np.full((2, 3), 1000, np.uint16)
    rgb = np.zeros((2, 3, 3), np.uint8)
    rgb[0, 1] = (255, 128, 1)
    deproj = pc.Deprojector(pc.Intrinsics(1.0, 1.0, 1.0, 0.5), 3, 2)
    pts = pc.cloud_points(depth, deproj, organized=False, rgb=rgb)
    msg = pc.point_cloud_msg(MAKE, pts, (0, 0), "hand")
    assert [f.name for f in msg.fields] == ["x", "y", "z", "rgb"] and msg.point_step == 16
    packed = np.frombuffer(msg.data, np.uint8).reshape(6, 16)[1, 12:16].view("<u4")[0]
    assert packed == 0xFF8001


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="focal length"):
        pc.Intrinsics.from_k([0.0] * 9)
    deproj = pc.Deprojector(INTR, W, H)
    with pytest.raises(ValueError, match="424x240"):
        deproj.organized(np.zeros((10, 10), np.uint16))
    with pytest.raises(ValueError, match="uint16"):
        deproj.organized(np.zeros((H, W), np.float32))


def test_transform_points_and_voxel_downsample():
    pts = np.array([[1.0, 0.0, 0.0], [0.0, 2.0, 0.0], [np.nan, np.nan, np.nan]], np.float32)
    tf = np.eye(4)
    tf[:3, :3] = [[0, -1, 0], [1, 0, 0], [0, 0, 1]]  # 90 deg about z
    tf[:3, 3] = [10, 0, 0]
    out = pc.transform_points(pts, tf)
    np.testing.assert_allclose(out[:2], [[10, 1, 0], [8, 0, 0]], atol=1e-6)
    assert np.isnan(out[2]).all()
    cloud = np.array([[0.01, 0.01, 0.01], [0.03, 0.03, 0.03], [0.51, 0.0, 0.0], [np.nan, 0, 0]], np.float32)
    down = pc.voxel_downsample(cloud, 0.1)
    assert len(down) == 2
    np.testing.assert_allclose(sorted(map(tuple, down)), [(0.02, 0.02, 0.02), (0.51, 0.0, 0.0)], atol=1e-6)
    assert len(pc.voxel_downsample(cloud, 0.0)) == 3


def test_strided_deprojection_gives_the_full_images_points_and_stride_fits_the_voxel():
    depth = plane_depth_mm(INTR, W, H, [0, 0, 1], 1.5)
    step = pc.stride_for_voxel(depth, INTR, 0.05)
    # a pixel is 1.5 m / 213.5 = 7 mm wide: 3 pixels still give 2 samples per 5 cm voxel edge
    assert step == 3
    sub = np.ascontiguousarray(depth[::step, ::step])
    sparse = pc.Deprojector(pc.strided(INTR, step), sub.shape[1], sub.shape[0]).dense(sub)
    full = pc.Deprojector(INTR, W, H).organized(depth)[::step, ::step].reshape(-1, 3)
    np.testing.assert_allclose(sparse, full, rtol=1e-6, atol=1e-6)
    assert pc.stride_for_voxel(depth, INTR, 0.0) == 1
    assert pc.stride_for_voxel(np.zeros_like(depth), INTR, 0.05) == 1
    assert pc.stride_for_voxel(depth, INTR, 5.0) == 16  # capped


def test_voxel_groups_equal_numpy_unique():
    from spot_bow_ros.convert.pointcloud import _groups

    keys = np.random.default_rng(3).integers(0, 50, 2000)
    _, first, inverse, counts = np.unique(keys, return_index=True, return_inverse=True, return_counts=True)
    got = _groups(keys)
    assert all(np.array_equal(a, b) for a, b in zip(got, (first, inverse, counts)))


def test_unstable_voxel_groups_differ_only_in_which_member_is_first():
    from spot_bow_ros.convert.pointcloud import _groups

    keys = np.random.default_rng(4).integers(0, 300, 20000)
    first, inverse, counts = _groups(keys)
    any_first, any_inverse, any_counts = _groups(keys, stable=False)
    assert np.array_equal(inverse, any_inverse) and np.array_equal(counts, any_counts)
    assert np.array_equal(keys[any_first], keys[first])       # a member of the same group, same order


def test_voxel_downsample_of_xyz_equals_the_stable_sort_version_bit_for_bit():
    """xyz clouds (spot/points) take the unstable sort; the centroids are the same bytes as
    with the stable sort the function used before (bincount sums in input order either way)."""
    from spot_bow_ros.convert import pointcloud as mod

    rng = np.random.default_rng(5)
    cloud = (rng.random((30000, 3)) * [4.0, 3.0, 1.0] - [2.0, 1.5, 0.2]).astype(np.float32)
    cloud[::97] = np.nan
    got = pc.voxel_downsample(cloud, 0.05)
    original = mod._groups
    try:
        mod._groups = lambda keys, stable=True: original(keys, stable=True)   # the stable sort always
        want = pc.voxel_downsample(cloud, 0.05)
    finally:
        mod._groups = original
    assert got.tobytes() == want.tobytes() and len(got) > 1000
    rgb = np.concatenate([cloud, rng.random((30000, 1)).astype(np.float32)], axis=1)
    first = pc.voxel_downsample(rgb, 0.05)                 # rgb: still the first point's colour
    assert first[:, :3].tobytes() == want.tobytes()


def test_cloud_points_take_packed_colour_as_the_rgb_image_gives_it():
    rng = np.random.default_rng(6)
    depth = rng.integers(300, 4000, (H, W)).astype(np.uint16)
    depth[rng.random((H, W)) < 0.2] = 0
    rgb = rng.integers(0, 256, (H, W, 3), np.uint8)
    dep = pc.Deprojector(INTR, W, H)
    for organized in (True, False):
        want = pc.cloud_points(depth, dep, organized, rgb)
        got = pc.cloud_points(depth, dep, organized, pc.pack_rgb(rgb))
        assert got.tobytes() == want.tobytes()
    grey = rgb[..., 0]
    assert pc.pack_grey(grey).tobytes() == pc.pack_rgb(np.repeat(grey[..., None], 3, axis=2)).tobytes()
    assert pc.pack_bgr(rgb[..., ::-1]).tobytes() == pc.pack_rgb(rgb).tobytes()


def test_pack_rgb_is_pcls_packed_rgb_for_images_and_point_lists():
    rng = np.random.default_rng(8)
    rgba = rng.integers(0, 256, (30, 40, 4), np.uint8)
    for rgb in (rgba[..., :3], np.ascontiguousarray(rgba[..., :3]), rgba[0, :, :3]):   # strided, HxWx3, Nx3
        r, g, b = (rgb[..., i].astype(np.uint32) for i in range(3))
        assert pc.pack_rgb(rgb).view(np.uint32).tolist() == ((r << 16) | (g << 8) | b).tolist()
    assert pc.pack_bgr(rgba).tobytes() == pc.pack_rgb(rgba[..., 2::-1]).tobytes()    # BGRA: alpha ignored
    before = rgba.copy()
    pc.pack_bgr(rgba)
    assert np.array_equal(rgba, before)
