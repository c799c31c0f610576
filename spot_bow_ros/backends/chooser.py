"""Backend chooser and the `main()` of every node: `run_node(node_name, build, argv)`.

- rclpy when it imports (`backends.rclpy_backend`), else the standalone runtime (`standalone/`,
  Cyclone DDS); forced with the environment variable `SPOT_BOW_ROS_BACKEND=rclpy|standalone` or
  the flag `--backend`.
- ROS arguments as `ros2 run` passes them (`backends.ros_args`).
- Stops cleanly on SIGINT/SIGTERM (`backends.lifecycle`): the node is destroyed (on-shutdown
  callbacks run, leases are returned), the DDS participant closed, and the exit code returned.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from ..ros.distro import ros_distro
from ..ros.params import format_parameters, unknown_parameter_warnings
from .lifecycle import USER_ERRORS, BackendError, setup_logging, shutdown_signals, startup_failure, wait_for
from .ros_args import RosArgs, parse_ros_args

if TYPE_CHECKING:
    from ..standalone.transport import Transport

BACKEND_ENV = "SPOT_BOW_ROS_BACKEND"
BACKENDS = ("rclpy", "standalone")
_log = logging.getLogger("spot_bow_ros")


# -- backend choice -------------------------------------------------------------------------
def rclpy_available() -> bool:
    try:
        import rclpy  # noqa: F401
    except Exception as exc:  # noqa: BLE001 - any failure of a sourced rclpy means: use standalone
        if os.environ.get("AMENT_PREFIX_PATH"):  # a sourced ROS 2 whose rclpy fails: say why, once
            logging.getLogger("spot_bow_ros").warning(
                f"ROS 2 is sourced but rclpy does not import ({type(exc).__name__}: {exc}): "
                "using the standalone runtime")
        return False
    return True


def choose_backend(requested: str | None = None) -> str:
    """`rclpy` or `standalone`: the flag, else `SPOT_BOW_ROS_BACKEND`, else rclpy if it imports."""
    choice = (requested or os.environ.get(BACKEND_ENV, "") or "auto").strip().lower()
    if choice == "auto":
        return "rclpy" if rclpy_available() else "standalone"
    if choice not in BACKENDS:
        raise BackendError(f"unknown backend {choice!r} (expected rclpy, standalone or auto)")
    if choice == "rclpy" and not rclpy_available():
        raise BackendError("backend rclpy requested but rclpy does not import (source your ROS 2 setup)")
    return choice


def default_distro() -> str:
    """ROS 2 distribution whose wire details the standalone runtime speaks: `ROS_DISTRO` when
    set (`humble` is the switch for Humble peers), else the current LTS, Jazzy."""
    return ros_distro()[0]


# -- main -----------------------------------------------------------------------------------
class _Declared(Exception):
    """Raised by `_SpecCollector.declare_parameters`: a bridge's parameter list, then stop."""

    def __init__(self, specs: list[Any]):
        super().__init__("parameters declared")
        self.specs = specs


class _SpecCollector:
    """A stand-in node for `--help`: the bridge's first `declare_parameters` call hands over its
    declarations (the exact list the bridge uses) and ends the build before anything starts."""

    msg = None  # message constructors are looked up, not used, before the declaration

    def __init__(self, name: str):
        self.name = name

    def declare_parameters(self, specs: Iterable[Any]) -> dict[str, Any]:
        raise _Declared(list(specs))

    def get_logger(self) -> logging.Logger:
        return logging.getLogger(f"spot_bow_ros.{self.name}")


def parameters_help(builders: Sequence[tuple[str, Callable[[Any], object]]], prog: str) -> str:
    """`--help` text of a node executable: usage and every node's parameters."""
    parts = [f"usage: {prog} [--ros-args [-p NAME:=VALUE]... [--params-file FILE]",
             f"       {' ' * len(prog)} [-r __ns:=/NS] [--log-level LEVEL]] [--backend rclpy|standalone]", ""]
    for name, build in builders:
        try:
            build(_SpecCollector(name))
            specs: list[Any] = []
        except _Declared as declared:
            specs = declared.specs
        except Exception:  # noqa: BLE001 - a bridge that needs more before declaring: list nothing
            specs = []
        parts.append(format_parameters(name, specs) if specs else f"node '{name}': no parameters")
        parts.append("")
    return "\n".join(parts).rstrip() + "\n"


def run_nodes(builders: Sequence[tuple[str, Callable[[Any], object]]], argv: Sequence[str] | None = None,
              *, stop: threading.Event | None = None, transport: Transport | None = None) -> int:
    """Run several nodes in this process (one DDS participant) until SIGINT/SIGTERM.

    `builders` are `(node_name, build)` pairs; ROS args apply to every node (`__node` only to a
    single one). Returns 0 on a clean stop, 2 on bad arguments/parameters, 1 on other failures.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parse_ros_args(argv)
        if "-h" in args.other or "--help" in args.other:
            prog = os.path.basename(sys.argv[0])
            sys.stdout.write(parameters_help(builders, builders[0][0] if prog.endswith(".py") or not prog else prog))
            return 0
        backend = "standalone" if transport is not None else choose_backend(args.backend)
    except (ValueError, BackendError) as exc:
        setup_logging()
        _log.error(str(exc))
        return 2
    setup_logging(args.log_level)
    if backend == "rclpy":
        from .rclpy_backend import run_rclpy_nodes

        return run_rclpy_nodes(builders, args, stop=stop)

    stop = stop or threading.Event()
    with shutdown_signals(stop):
        return _run_standalone(builders, args, stop, transport)


def _run_standalone(builders: Sequence[tuple[str, Callable[[Any], object]]], args: RosArgs,
                    stop: threading.Event, transport: Transport | None) -> int:
    from ..standalone.context import create_standalone_context  # cyclonedds, rosbags: only when it runs

    try:
        context = create_standalone_context(transport=transport)
    except Exception as exc:  # noqa: BLE001 - any start-up failure is one line, exit 1
        _log.error(f"cannot start the standalone runtime: {exc}")
        return 1
    from .log_routing import route_library_logs

    built = []
    unroute: Callable[[], None] = lambda: None
    try:
        for name, build in builders:
            if args.node_name and len(builders) == 1:
                name = args.node_name
            namespace = args.namespace or "/"
            overrides = args.overrides_for(name, namespace)
            node = context.create_node(name, namespace, overrides, args.remaps)
            if len(context.nodes) == 1:  # bosdyn's lines (some on the root logger) under the node
                unroute = route_library_logs(node.get_logger())
            built.append(build(node))
    except USER_ERRORS as exc:
        _log.error(str(exc))
        context.close()
        unroute()
        return 2
    except Exception as exc:  # noqa: BLE001 - a bridge's start-up failure is one line, exit 1
        _log.error(startup_failure(builders, exc))
        context.close()
        unroute()
        return 1
    for warning in unknown_parameter_warnings({n.name: n._params.specs for n in context.nodes},
                                              args.params_files, args.params, args.namespace or ""):
        _log.warning(warning)
    for node in context.nodes:
        node.get_logger().info(f"running (standalone, DDS domain {getattr(context.transport, 'domain_id', '-')})")
    try:
        wait_for(stop)
    finally:
        context.close()
        unroute()
    return 0


def run_node(node_name: str, build: Callable[[Any], object], argv: Sequence[str] | None = None,
             *, stop: threading.Event | None = None, transport: Transport | None = None) -> int:
    """Create node `node_name` on the chosen backend, `build(node)`, spin until SIGINT/SIGTERM,
    destroy it, return an exit code (0 ok, 1 failure, 2 bad arguments or parameters)."""
    return run_nodes([(node_name, build)], argv, stop=stop, transport=transport)
