"""The simulated Spot's image catalogue against docs/spot_facts.md, "Image sources": sources, sizes, formats, depth
scales, intrinsics, frames and transforms, textured JPEGs, depth planes, refusals (servicer
called directly; the real bosdyn ImageClient at the end)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from bosdyn.api import image_pb2
from bosdyn.client.frame_helpers import get_a_tform_b
from sim_client import sdk_robot

from spot_bow_ros.sim.camera_catalogue import PLANE_DISTANCE_M
from spot_bow_ros.sim.cameras import (
    SimCameras,
    code_band,
    decode_frame_counter,
    decode_source_id,
    depth_plane_distance_m,
    depth_plane_mask,
    image_to_array,
)
from spot_bow_ros.sim.clock import RobotClock
from spot_bow_ros.sim.frames import BODY_TFORM_HOUSING_XYZ_RPY
from spot_bow_ros.sim.geometry import quat_from_rpy
from spot_bow_ros.sim.robot import SimRobot

Image = image_pb2.Image
ImageResponse = image_pb2.ImageResponse
BODY = ("frontleft", "frontright", "left", "right", "back")
HAND = ("hand_color_image", "hand_image", "hand_depth", "hand_depth_in_hand_color_frame",
        "hand_color_in_hand_depth_frame")
GREY, RGB, DEPTH = Image.PIXEL_FORMAT_GREYSCALE_U8, Image.PIXEL_FORMAT_RGB_U8, Image.PIXEL_FORMAT_DEPTH_U16
HAND_COLOR_K = (552.03, 552.03, 320.0, 240.0)
HAND_DEPTH_K = (210.78, 210.78, 112.87, 87.74)


@pytest.fixture(scope="module")
def robot():
    clock = RobotClock.starting_now(50.0)
    robot = SimRobot(clock, arm=True)
    yield robot
    robot.stop()


@pytest.fixture(scope="module")
def cams(robot):
    cams = SimCameras(robot, robot.clock, arm=True, prepare_ahead=False)
    yield cams
    cams.stop()


def get(cams, *requests):
    return cams.servicer.GetImage(image_pb2.GetImageRequest(image_requests=list(requests)), None).image_responses


def req(name, **kw):
    return image_pb2.ImageRequest(image_source_name=name, **kw)


def sources(cams):
    resp = cams.servicer.ListImageSources(image_pb2.ListImageSourcesRequest(), None)
    return {s.name: s for s in resp.image_sources}, resp


def test_catalogue_names_sizes_formats_and_depth_scales(cams, robot):
    by_name, _ = sources(cams)
    body = {f"{c}_{k}" for c in BODY for k in ("fisheye_image", "depth", "depth_in_visual_frame")}
    assert set(by_name) == body | set(HAND) and len(by_name) == 20
    expect = {}
    for c in BODY:
        expect[f"{c}_fisheye_image"] = (640, 480, [GREY], [Image.FORMAT_JPEG, Image.FORMAT_RAW], 0.0)
        expect[f"{c}_depth"] = (424, 240, [DEPTH], [Image.FORMAT_RAW], 999.0)
        expect[f"{c}_depth_in_visual_frame"] = (640, 480, [DEPTH], [Image.FORMAT_RAW], 0.0)
    expect.update({
        "hand_color_image": (640, 480, [RGB], [Image.FORMAT_JPEG, Image.FORMAT_RAW], 0.0),
        "hand_image": (640, 480, [GREY], [Image.FORMAT_JPEG, Image.FORMAT_RAW], 0.0),
        "hand_depth": (224, 171, [DEPTH], [Image.FORMAT_RAW], 1000.0),
        "hand_depth_in_hand_color_frame": (640, 480, [DEPTH], [Image.FORMAT_RAW], 0.0),
        "hand_color_in_hand_depth_frame": (224, 171, [RGB], [Image.FORMAT_JPEG, Image.FORMAT_RAW], 0.0),
    })
    for name, (cols, rows, pix, fmts, scale) in expect.items():
        s = by_name[name]
        assert (s.cols, s.rows, list(s.pixel_formats), list(s.image_formats), s.depth_scale) == \
            (cols, rows, pix, fmts, scale), name
        assert s.WhichOneof("camera_models") == "pinhole", name
        kind = ImageSource.IMAGE_TYPE_DEPTH if pix == [DEPTH] else ImageSource.IMAGE_TYPE_VISUAL
        assert s.image_type == kind, name
    # real-ish intrinsics (§2 ranges) and the registered sources share the visual intrinsics
    for c in BODY:
        f = by_name[f"{c}_fisheye_image"].pinhole.intrinsics
        d = by_name[f"{c}_depth"].pinhole.intrinsics
        r = by_name[f"{c}_depth_in_visual_frame"].pinhole.intrinsics
        assert 327 <= f.focal_length.x <= 331 and 316 <= f.principal_point.x <= 323
        assert 235 <= f.principal_point.y <= 243
        assert 212 <= d.focal_length.x <= 217 and 205 <= d.principal_point.x <= 214
        assert 116 <= d.principal_point.y <= 121
        assert r == f
    k = lambda name: (lambda i: (i.focal_length.x, i.focal_length.y, i.principal_point.x, i.principal_point.y))(
        by_name[name].pinhole.intrinsics)
    assert k("hand_color_image") == k("hand_image") == k("hand_depth_in_hand_color_frame") == HAND_COLOR_K
    assert k("hand_depth") == k("hand_color_in_hand_depth_frame") == HAND_DEPTH_K
    no_arm = SimCameras(robot, robot.clock, arm=False, prepare_ahead=False)
    assert {s.name for s in no_arm.servicer.ListImageSources(image_pb2.ListImageSourcesRequest(),
                                                              None).image_sources} == body


ImageSource = image_pb2.ImageSource


def test_images_have_the_catalogue_sizes_defaults_and_frames(cams):
    by_name, _ = sources(cams)
    names = sorted(by_name)
    resps = get(cams, *[req(n) for n in names])   # everything unset: the robot's defaults
    for name, r in zip(names, resps):
        assert r.status == ImageResponse.STATUS_OK, name
        img, src = r.shot.image, by_name[name]
        assert (img.cols, img.rows) == (src.cols, src.rows), name
        depth = src.image_type == ImageSource.IMAGE_TYPE_DEPTH
        assert img.format == (Image.FORMAT_RAW if depth else Image.FORMAT_JPEG), name
        assert img.pixel_format == src.pixel_formats[0]
        assert r.source == src                          # the response carries the catalogue entry
        pixels = image_to_array(img)
        assert pixels.shape[:2] == (src.rows, src.cols)
        assert decode_source_id(pixels) == cams.by_name[name].source_id
        assert decode_frame_counter(pixels) == cams.frame_at(r.shot.acquisition_time.ToNanoseconds())[0]
        cam = name.split("_")[0]
        frame = {"fisheye_image": f"{cam}_fisheye", "depth": cam, "depth_in_visual_frame": f"{cam}_fisheye"}.get(
            name[len(cam) + 1:]) if cam in BODY else None
        if frame is not None:
            assert r.shot.frame_name_image_sensor == frame, name
    # unset quality = 75
    a, b = get(cams, req("left_fisheye_image"), req("left_fisheye_image", quality_percent=75))
    if a.shot.acquisition_time == b.shot.acquisition_time:
        assert a.shot.image.data == b.shot.image.data


def test_textured_jpegs_are_tens_of_kilobytes(cams):
    names = [f"{c}_fisheye_image" for c in BODY] + ["hand_color_image", "hand_image"]
    for _ in range(3):
        for name, r in zip(names, get(cams, *[req(n, quality_percent=75) for n in names])):
            size = len(r.shot.image.data)
            assert 20_000 < size < 150_000, f"{name}: {size} bytes"
    # the code band is small: the top-left 1/2 x 1/8 of the image
    rows, cols = code_band((480, 640))
    assert (rows.stop, cols.stop) == (60, 320)


def test_depth_planes_at_known_distances(cams):
    for cam in BODY:
        for name, scale in ((f"{cam}_depth", 999.0), (f"{cam}_depth_in_visual_frame", 1000.0)):
            r, = get(cams, req(name))
            d = image_to_array(r.shot.image)
            spec = cams.by_name[name]
            mask = depth_plane_mask(spec)
            dist = depth_plane_distance_m(name)
            assert dist == PLANE_DISTANCE_M[cam]   # fisheye = housing + x offset: same plane distance
            assert np.all(d[mask] == round(dist * scale)), name
            assert np.all(d[spec.rows * 7 // 8:, spec.cols * 7 // 8:] == 0)   # no return: invalid
            assert np.all(d[spec.rows * 7 // 8:, :spec.cols // 8] == 65535)   # out of range: invalid
            assert mask.sum() > 0.8 * mask.size
    # hand: the registered plane is the hand_depth plane seen from the colour sensor
    hd, hc = get(cams, req("hand_depth"), req("hand_depth_in_hand_color_frame"))
    tree = sources(cams)[1].transforms_snapshot     # ListImageSources: every sensor frame
    depth_tform_colour = get_a_tform_b(tree, "hand_depth_sensor", "hand_color_image_sensor")
    assert depth_tform_colour is not None
    z_axis = depth_tform_colour.rotation.transform_point(0, 0, 1)
    assert z_axis[2] == pytest.approx(1.0, abs=1e-4)               # optical axes parallel
    expect = PLANE_DISTANCE_M["hand_depth_sensor"] - depth_tform_colour.z
    assert depth_plane_distance_m("hand_depth_in_hand_color_frame") == pytest.approx(expect, abs=1e-9)
    for r, name in ((hd, "hand_depth"), (hc, "hand_depth_in_hand_color_frame")):
        d = image_to_array(r.shot.image)
        assert np.all(d[depth_plane_mask(cams.by_name[name])] == round(depth_plane_distance_m(name) * 1000))


def test_frames_and_transforms_follow_the_real_robot(cams, robot):
    names = ["frontleft_fisheye_image", "back_depth", "right_depth_in_visual_frame", "hand_color_image",
             "hand_depth"]
    resps = get(cams, *[req(n) for n in names])
    for name, r in zip(names, resps):
        tree = r.shot.transforms_snapshot
        edges = tree.child_to_parent_edge_map
        for frame in ("body", "odom", "vision", "head"):
            assert frame in edges, (name, frame)
        sensor = r.shot.frame_name_image_sensor
        if name.startswith("hand"):
            assert edges[sensor].parent_frame_name == "arm0.link_wr1"
            assert edges["arm0.link_wr1"].parent_frame_name == "body"
            wr1_hand = get_a_tform_b(tree, "arm0.link_wr1", "hand")
            assert (wr1_hand.x, wr1_hand.y, wr1_hand.z) == pytest.approx((0.19557, 0, 0), abs=1e-9)
            continue
        cam = name.split("_")[0]
        assert edges[cam].parent_frame_name == "head"
        xyz, rpy = BODY_TFORM_HOUSING_XYZ_RPY[cam]
        body_housing = get_a_tform_b(tree, "body", cam)
        assert (body_housing.x, body_housing.y, body_housing.z) == pytest.approx(xyz, abs=1e-9)
        q = quat_from_rpy(*(math.radians(a) for a in rpy))
        rot = body_housing.rotation
        assert abs(rot.x * q[0] + rot.y * q[1] + rot.z * q[2] + rot.w * q[3]) == pytest.approx(1.0, abs=1e-9)
        if sensor.endswith("_fisheye"):
            assert edges[sensor].parent_frame_name == cam
            h_f = get_a_tform_b(tree, cam, sensor)
            assert (h_f.x, h_f.y, h_f.z) == pytest.approx((0.077, 0, 0), abs=1e-9)
        odom_body = get_a_tform_b(tree, "odom", "body")
        truth = robot.truth_at(r.shot.acquisition_time.ToNanoseconds())
        assert (odom_body.x, odom_body.y, odom_body.z) == pytest.approx(truth.odom_tform_body.position, abs=1e-9)


def test_front_housings_look_forward_and_cross(cams):
    """Optical z of frontleft points forward-right, frontright forward-left, back backwards."""
    tree = sources(cams)[1].transforms_snapshot
    for cam, sign in (("frontleft", -1), ("frontright", 1)):
        z = get_a_tform_b(tree, "body", cam).rotation.transform_point(0, 0, 1)
        assert z[0] > 0.6 and np.sign(z[1]) == sign and z[2] < 0
    z = get_a_tform_b(tree, "body", "back").rotation.transform_point(0, 0, 1)
    assert z[0] < -0.9


def test_refusals_resize_pixel_and_image_format(cams):
    body = [f"{c}_{k}" for c in BODY for k in ("fisheye_image", "depth", "depth_in_visual_frame")]
    for name, r in zip(body, get(cams, *[req(n, resize_ratio=0.5) for n in body])):
        assert r.status == ImageResponse.STATUS_UNSUPPORTED_RESIZE_RATIO_REQUESTED, name
    for name, r in zip(body, get(cams, *[req(n, resize_ratio=1.0) for n in body])):
        assert r.status == ImageResponse.STATUS_OK, name
    half, = get(cams, req("hand_color_image", resize_ratio=0.5))
    assert half.status == ImageResponse.STATUS_OK and (half.shot.image.cols, half.shot.image.rows) == (320, 240)
    rgb, fallback, depth_jpeg = get(
        cams, req("left_fisheye_image", pixel_format=RGB),
        req("left_fisheye_image", pixel_format=RGB, fallback_formats=[GREY]),
        req("left_depth", image_format=Image.FORMAT_JPEG))
    assert rgb.status == ImageResponse.STATUS_UNSUPPORTED_PIXEL_FORMAT_REQUESTED
    assert fallback.status == ImageResponse.STATUS_OK and fallback.shot.image.pixel_format == GREY
    assert depth_jpeg.status == ImageResponse.STATUS_UNSUPPORTED_IMAGE_FORMAT_REQUESTED


def test_colour_body_cameras(robot):
    cams = SimCameras(robot, robot.clock, arm=False, prepare_ahead=False, colour_body=True)
    by_name, _ = sources(cams)
    assert list(by_name["back_fisheye_image"].pixel_formats) == [RGB, GREY]
    rgb, grey, auto = get(cams, req("back_fisheye_image", pixel_format=RGB),
                          req("back_fisheye_image", pixel_format=GREY), req("back_fisheye_image"))
    assert rgb.status == grey.status == auto.status == ImageResponse.STATUS_OK
    assert rgb.shot.image.pixel_format == auto.shot.image.pixel_format == RGB
    assert image_to_array(rgb.shot.image).shape == (480, 640, 3)
    assert grey.shot.image.pixel_format == GREY and image_to_array(grey.shot.image).shape == (480, 640)
    assert decode_source_id(image_to_array(grey.shot.image)) == cams.by_name["back_fisheye_image"].source_id


def test_real_image_client_fails_the_whole_call_for_one_bad_source():
    """As bosdyn's client does with a real robot: one refused source raises for all."""
    from bosdyn.client.image import (
        ImageClient,
        UnknownImageSourceError,
        UnsupportedPixelFormatRequestedError,
        build_image_request,
    )

    from spot_bow_ros.sim import SimulatedSpot
    with SimulatedSpot(arm=False) as spot:
        with sdk_robot(spot, "sim-catalogue-test") as robot:
            client = robot.ensure_client(ImageClient.default_service_name)
            assert len(client.list_image_sources()) == 15
            good = [build_image_request("back_fisheye_image"), build_image_request("back_depth")]
            assert len(client.get_image(good)) == 2
            with pytest.raises(UnsupportedPixelFormatRequestedError):
                client.get_image(good + [build_image_request("left_fisheye_image", pixel_format=RGB)])
            with pytest.raises(UnknownImageSourceError):
                client.get_image(good + [build_image_request("hand_color_image")])   # no arm
