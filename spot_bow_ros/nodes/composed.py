"""The composed bridge: every enabled bridge in one process, with one robot connection.

`ros2 run spot_bow_ros spot_bow` (and `spot-bow-ros run`) host one ROS node per bridge
(`webcam`, `spot_cameras`, `proprioception`, `motor_command`, `image_service`, `bow_vision`) in one
process.
Each node has its own executor thread (standalone) or callback group in a multi-threaded
executor (rclpy), so a slow bridge never starves another. The Spot bridges share one
`SpotConnection` (one login, one time-sync thread): `SpotConnection.shared` hands every bridge
with the same connection parameters the same connection.

Which bridges run is set by the `enable_<bridge>` parameters of the `spot_bow` node (in the
params file under `spot_bow:` or `/**:`, or `-p enable_webcam:=false`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from ..ros.node_api import NodeHandle
from ..ros.params import ParamSpec, validate_all

NODE_NAME = "spot_bow"


def bridge_module(name: str) -> ModuleType:
    """The module of bridge `name`, imported when that bridge is used (ordinary imports, so tools
    see the edges): the bridges pull in bosdyn, OpenCV, ... which a disabled bridge need not cost."""
    if name == "webcam":
        from . import webcam as module
    elif name == "spot_cameras":
        from . import spot_cameras as module
    elif name == "proprioception":
        from . import proprioception as module
    elif name == "motor_command":
        from . import motor_command as module
    elif name == "image_service":
        from . import image_service as module
    elif name == "bow_vision":
        from . import bow_vision as module
    else:
        raise KeyError(f"no bridge named {name!r}")
    return module


@dataclass(frozen=True)
class BridgeEntry:
    """One bridge of the composed process: its node name (= its module in `nodes/`), its class
    and the module attribute holding its parameters."""

    name: str
    class_name: str
    params_attr: str
    uses_robot: bool
    description: str
    #: speaks BOW on bow/... topics: declares `bow_messages` (nodes.bow_messages.BOW_PARAMS)
    uses_bow: bool = False

    def build(self, node: NodeHandle) -> Any:
        cls = getattr(bridge_module(self.name), self.class_name)
        return cls(node)

    def param_specs(self) -> list[ParamSpec]:
        """The bridge's own parameters (the connection parameters come on top when `uses_robot`)."""
        return list(getattr(bridge_module(self.name), self.params_attr))


BRIDGES: tuple[BridgeEntry, ...] = (
    BridgeEntry("webcam", "WebcamBridge", "PARAMS", False,
                "webcam / video file / test pattern to webcam/image_raw"),
    BridgeEntry("spot_cameras", "SpotCamerasBridge", "PARAMS", True,
                "Spot cameras to spot/camera/<name>/image"),
    BridgeEntry("proprioception", "ProprioceptionBridge", "PROPRIOCEPTION_PARAMS", True,
                "Spot state / BOW ProprioceptionSample to joint_states, imu, odometry, TF", uses_bow=True),
    BridgeEntry("motor_command", "MotorCommandBridge", "MOTOR_PARAMS", True,
                "BOW MotorSample and cmd_vel to Spot robot commands", uses_bow=True),
    BridgeEntry("image_service", "ImageServiceBridge", "PARAMS", True,
                "ROS image topics re-served to Spot as an ImageService"),
    BridgeEntry("bow_vision", "BowVisionBridge", "PARAMS", False,
                "ROS camera images to BOW ImageSamples on bow/vision/out, BOW ImageSamples to ROS images",
                uses_bow=True),
)

COMPOSED_PARAMS: list[ParamSpec] = [
    ParamSpec(f"enable_{b.name}", True, f"Run the {b.name} bridge ({b.description})", read_only=True)
    for b in BRIDGES
]


class ComposedBridges:
    """The `spot_bow` node: declares which bridges run (the bridges live on their own nodes)."""

    def __init__(self, node: NodeHandle):
        self.node = node
        self.enabled = node.declare_parameters(COMPOSED_PARAMS)
        names = [b.name for b in BRIDGES if self.enabled[f"enable_{b.name}"]]
        node.get_logger().info(f"bridges in this process: {', '.join(names) or 'none'}")


def enabled_bridges(overrides: Mapping[str, Any]) -> list[BridgeEntry]:
    """The bridges whose `enable_<name>` parameter is true in `overrides` (validated)."""
    values = {spec.name: spec.validate(overrides.get(spec.name, spec.default)) for spec in COMPOSED_PARAMS}
    return [b for b in BRIDGES if values[f"enable_{b.name}"]]


def composed_builders(overrides: Mapping[str, Any],
                      build_hooks: Mapping[str, Callable[[NodeHandle], Any]] | None = None,
                      ) -> list[tuple[str, Callable[[NodeHandle], Any]]]:
    """`(node_name, build)` pairs for `backends.chooser.run_nodes`: the `spot_bow` node first, then
    each enabled bridge. `build_hooks` replaces a bridge's default builder (e.g. `run` gives the
    webcam its test pattern)."""
    hooks = dict(build_hooks or {})
    builders: list[tuple[str, Callable[[NodeHandle], Any]]] = [(NODE_NAME, ComposedBridges)]
    for bridge in enabled_bridges(overrides):
        builders.append((bridge.name, hooks.get(bridge.name, bridge.build)))
    return builders


def node_param_specs(bridges: Sequence[BridgeEntry]) -> dict[str, list[ParamSpec]]:
    """Parameters each node of a composed process declares: `spot_bow`, then each bridge's own
    (plus the connection parameters of the bridges that use the robot and `bow_messages` of the
    bridges that speak BOW)."""
    from ..spot.connection_config import CONNECTION_PARAMS
    from .bow_messages import BOW_PARAMS

    specs = {NODE_NAME: list(COMPOSED_PARAMS)}
    for bridge in bridges:
        specs[bridge.name] = (bridge.param_specs() + (list(CONNECTION_PARAMS) if bridge.uses_robot else [])
                              + (list(BOW_PARAMS) if bridge.uses_bow else []))
    return specs


def main(argv: Sequence[str] | None = None) -> int:
    import sys

    from ..backends.chooser import run_nodes
    from ..backends.lifecycle import setup_logging
    from ..backends.ros_args import parse_ros_args

    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parse_ros_args(argv)
        namespace = args.namespace or ""
        builders = composed_builders(args.overrides_for(NODE_NAME, namespace))
        # every bridge's parameters are checked before the first bridge starts
        validate_all(node_param_specs(enabled_bridges(args.overrides_for(NODE_NAME, namespace))),
                     {name: args.overrides_for(name, namespace) for name, _ in builders})
    except ValueError as exc:  # ParameterError is a ValueError: bad enable_* value or params file
        setup_logging()
        import logging
        logging.getLogger("spot_bow_ros").error(str(exc))
        return 2
    return run_nodes(builders, argv)


if __name__ == "__main__":
    raise SystemExit(main())
