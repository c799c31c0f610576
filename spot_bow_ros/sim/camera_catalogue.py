"""The simulated Spot's image-source catalogue: a real Spot's sources (docs/spot_facts.md, "Image sources").

Body (every robot), for cam in frontleft, frontright, left, right, back:
- `<cam>_fisheye_image`: 640x480 visual, GREYSCALE_U8 (or RGB_U8 on a robot with colour body
  cameras, `colour_body=True`; such a robot also serves GREYSCALE_U8 on request), frame
  `<cam>_fisheye`, JPEG by default, RAW possible.
- `<cam>_depth`: 424x240 DEPTH_U16, RAW only, `depth_scale` 999 (units per metre), frame = the
  housing `<cam>`.
- `<cam>_depth_in_visual_frame`: 640x480 DEPTH_U16 with the fisheye's intrinsics and frame
  `<cam>_fisheye`. Its ListImageSources entry reports no depth_scale (0), as on a real robot;
  the pixel values are millimetres (1000 units per metre), and the GetImage response's
  `source` is the same entry (0), so clients must fall back to 1000 (the bridge does).
Arm robots add `hand_color_image` (RGB 640x480, fx=fy=552.03, c=(320, 240), the only source
that accepts `resize_ratio`), `hand_image` (grey 640x480, hand colour intrinsics),
`hand_depth` (224x171 DEPTH_U16, fx=fy=210.78, c=(112.87, 87.74), depth_scale 1000),
`hand_depth_in_hand_color_frame` (640x480, hand colour intrinsics, depth_scale 0 = mm) and
`hand_color_in_hand_depth_frame` (RGB 224x171, hand depth intrinsics). All pinhole models.

`source_id` is the number the simulator paints into each frame (see camera_scene.py).
Depth sources see a fronto-parallel plane at a known distance: `depth_plane_distance_m(name)`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bosdyn.api import image_pb2

from ..convert.spot_catalogue import BODY_CAMERAS
from .frames import SENSOR_FRAMES
from .geometry import Pose, quat_rotate

Image = image_pb2.Image
#: depth_scale of the body depth cameras (`<cam>_depth`), units per metre, as a real robot reports
BODY_DEPTH_SCALE = 999.0
DEPTH_SCALE = BODY_DEPTH_SCALE  # older name
HAND_DEPTH_SCALE = 1000.0
#: units per metre of sources that report no depth_scale (`*_in_visual_frame`, `*_in_hand_color_frame`)
REGISTERED_DEPTH_UNITS = 1000.0

#: camera -> (fx, fy, cx, cy) of the fisheye and of the depth sensor (real-ish, in the ranges of §2)
_BODY_INTRINSICS = {
    "frontleft": ((329.5, 329.5, 318.2, 238.9), (215.3, 215.3, 210.1, 118.4)),
    "frontright": ((331.0, 331.0, 322.4, 242.1), (216.8, 216.8, 213.2, 120.6)),
    "left": ((327.3, 327.3, 316.6, 235.7), (212.4, 212.4, 205.7, 116.3)),
    "right": ((328.8, 328.8, 320.9, 240.3), (213.9, 213.9, 208.8, 117.9)),
    "back": ((330.4, 330.4, 319.1, 237.2), (214.6, 214.6, 211.5, 119.2)),
}
HAND_COLOR_INTRINSICS = (552.03, 552.03, 320.0, 240.0)
HAND_DEPTH_INTRINSICS = (210.78, 210.78, 112.87, 87.74)
#: distance (m) of the fronto-parallel plane each depth SENSOR sees, along its optical axis
PLANE_DISTANCE_M = {"frontleft": 1.5, "frontright": 1.75, "left": 2.0, "right": 2.25, "back": 2.5,
                    "hand_depth_sensor": 0.6}

_PIXEL = {"grey": Image.PIXEL_FORMAT_GREYSCALE_U8, "rgb": Image.PIXEL_FORMAT_RGB_U8,
          "depth": Image.PIXEL_FORMAT_DEPTH_U16}


@dataclass(frozen=True)
class CameraSpec:
    """One image source: name, sensor frame, size, kind ("grey", "rgb", "depth"), pinhole (px).

    `depth_scale`: what the source reports (0 = absent); `units_per_metre`: what its depth
    pixels really are. `depth_sensor`: the frame of the depth sensor whose plane a depth source
    shows. `extra_pixel_formats`: other pixel formats served on request. `resizable`: accepts
    `resize_ratio` in (0, 1).
    """

    name: str
    frame: str
    cols: int
    rows: int
    kind: str
    fx: float
    fy: float
    cx: float
    cy: float
    source_id: int
    arm_only: bool = False
    depth_scale: float = 0.0
    units_per_metre: float = 0.0
    depth_sensor: str = ""
    extra_pixel_formats: tuple[int, ...] = field(default=())
    resizable: bool = False

    @property
    def pixel_format(self) -> int:
        """The native pixel format."""
        return _PIXEL[self.kind]

    @property
    def pixel_formats(self) -> list[int]:
        return [self.pixel_format, *self.extra_pixel_formats]

    @property
    def image_formats(self) -> list[int]:
        return [Image.FORMAT_RAW] if self.kind == "depth" else [Image.FORMAT_JPEG, Image.FORMAT_RAW]

    @property
    def default_format(self) -> int:
        """What the robot sends when `image_format` is unset: JPEG for visual, RAW for depth."""
        return self.image_formats[0]


def _visual(name, frame, size, kind, k, sid, **kw) -> CameraSpec:
    return CameraSpec(name, frame, size[0], size[1], kind, *k, source_id=sid, **kw)


def catalogue(arm: bool = True, colour_body: bool = False) -> list[CameraSpec]:
    """The image sources of a robot with/without arm and with grey/colour body cameras."""
    out = []
    body_kind = "rgb" if colour_body else "grey"
    extra = (Image.PIXEL_FORMAT_GREYSCALE_U8,) if colour_body else ()
    for i, cam in enumerate(BODY_CAMERAS):
        fish, depth = _BODY_INTRINSICS[cam]
        out.append(_visual(f"{cam}_fisheye_image", f"{cam}_fisheye", (640, 480), body_kind, fish, 1 + i,
                           extra_pixel_formats=extra))
        out.append(_visual(f"{cam}_depth", cam, (424, 240), "depth", depth, 11 + i,
                           depth_scale=BODY_DEPTH_SCALE, units_per_metre=BODY_DEPTH_SCALE, depth_sensor=cam))
        out.append(_visual(f"{cam}_depth_in_visual_frame", f"{cam}_fisheye", (640, 480), "depth", fish, 31 + i,
                           units_per_metre=REGISTERED_DEPTH_UNITS, depth_sensor=cam))
    if arm:
        colour, depth = HAND_COLOR_INTRINSICS, HAND_DEPTH_INTRINSICS
        hc, hd = "hand_color_image_sensor", "hand_depth_sensor"
        out += [
            _visual("hand_color_image", hc, (640, 480), "rgb", colour, 21, arm_only=True, resizable=True),
            _visual("hand_depth", hd, (224, 171), "depth", depth, 22, arm_only=True,
                    depth_scale=HAND_DEPTH_SCALE, units_per_metre=HAND_DEPTH_SCALE, depth_sensor=hd),
            _visual("hand_image", hc, (640, 480), "grey", colour, 23, arm_only=True),
            _visual("hand_depth_in_hand_color_frame", hc, (640, 480), "depth", colour, 24, arm_only=True,
                    units_per_metre=REGISTERED_DEPTH_UNITS, depth_sensor=hd),
            _visual("hand_color_in_hand_depth_frame", hd, (224, 171), "rgb", depth, 25, arm_only=True),
        ]
    return sorted(out, key=lambda s: s.name)


#: every source of an arm robot with greyscale body cameras
ALL_CAMERAS = catalogue(arm=True)
_BY_NAME = {s.name: s for s in catalogue(arm=True, colour_body=False)}


def _sensor_tform_frame(sensor: str, frame: str) -> Pose:
    """Fixed pose of camera `frame` in camera `sensor` (both under the same rigid parent)."""
    if sensor == frame:
        return Pose()
    a, b = _to_root(sensor), _to_root(frame)
    if a[0] != b[0]:
        raise ValueError(f"{sensor} and {frame} are not on the same rigid part")
    return a[1].inverse() * b[1]


def _to_root(name: str) -> tuple[str, Pose]:
    pose = Pose()
    while name in SENSOR_FRAMES:
        parent, parent_tform = SENSOR_FRAMES[name]
        pose = parent_tform * pose
        name = parent
    return name, pose


def depth_plane_distance_m(source: str) -> float:
    """Distance (m) along the optical axis of `source`'s sensor frame to the plane its depth
    pixels show (every pixel outside the code band and the no-return patch, see camera_scene).

    The plane is fronto-parallel to the depth sensor at `PLANE_DISTANCE_M[sensor]`; a source
    registered into another frame (`*_depth_in_visual_frame`, `hand_depth_in_hand_color_frame`)
    sees the same plane, which is fronto-parallel there too (the frames' optical axes coincide),
    at the distance seen from that frame's origin.
    """
    spec = _BY_NAME[source]
    if spec.kind != "depth":
        raise ValueError(f"{source} is not a depth source")
    d = PLANE_DISTANCE_M[spec.depth_sensor]
    if spec.frame == spec.depth_sensor:
        return d
    sensor_tform_frame = _sensor_tform_frame(spec.depth_sensor, spec.frame)
    z_axis = quat_rotate(sensor_tform_frame.rotation, (0.0, 0.0, 1.0))
    if z_axis[2] < 0.9999:
        raise ValueError(f"{source}: optical axes of {spec.depth_sensor} and {spec.frame} differ")
    return d - sensor_tform_frame.position[2]
