"""Backend chooser and the `main()` of every node: `run_node(node_name, build, argv)`.

- rclpy when it imports, else the standalone runtime (Cyclone DDS, `ros.dds`); forced with the
  environment variable `SPOT_BOW_ROS_BACKEND=rclpy|standalone` or the flag `--backend`.
- ROS arguments as `ros2 run` passes them: `--ros-args -p name:=value --params-file F
  -r __ns:=/x -r __node:=n -r from:=to --log-level debug [--]` (values of `-p` are YAML-typed).
- Stops cleanly on SIGINT/SIGTERM: the node is destroyed (on-shutdown callbacks run, leases
  are returned), the DDS participant closed, and the exit code returned.

`StandaloneContext` hosts several standalone nodes on one DDS participant in one process (the
composed bridge, `spot-bow-ros run`) and can record what they publish (`attach_recorder`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Sequence

import yaml

from .names import TopicNameError, UnknownMessageType
from .params import ParameterError, load_params_file, unknown_parameter_warnings

if TYPE_CHECKING:
    from .standalone import StandaloneNode, Transport

BACKEND_ENV = "SPOT_BOW_ROS_BACKEND"
BACKENDS = ("rclpy", "standalone")
_log = logging.getLogger("spot_bow_ros")

#: Errors that mean "the user gave us something wrong": one line, exit code 2.
USER_ERRORS = (ParameterError, TopicNameError, UnknownMessageType, ValueError)


class BackendError(RuntimeError):
    """The requested backend cannot be used (e.g. rclpy forced but not installed)."""


# -- ROS arguments --------------------------------------------------------------------------
@dataclass
class RosArgs:
    """What `--ros-args` asked for, plus the arguments that were not ROS arguments."""

    params: dict[str, Any] = field(default_factory=dict)
    params_files: list[str] = field(default_factory=list)
    namespace: str | None = None
    node_name: str | None = None
    remaps: dict[str, str] = field(default_factory=dict)
    log_level: str | None = None
    backend: str | None = None
    other: list[str] = field(default_factory=list)
    raw: list[str] = field(default_factory=list)   # argv as given (for rclpy.init)

    def overrides_for(self, node_name: str, namespace: str = "") -> dict[str, Any]:
        """Parameter overrides for a node: params files in order, then `-p` values."""
        values: dict[str, Any] = {}
        for path in self.params_files:
            values.update(load_params_file(path, node_name, namespace))
        values.update(self.params)
        return values


def _yaml_value(text: str) -> Any:
    """A `-p name:=value` value typed as rcl does (YAML): `5` int, `5.0` float, `true` bool, `[1, 2]` list."""
    try:
        return yaml.safe_load(text) if text != "" else ""
    except yaml.YAMLError:
        return text


def _split_assignment(text: str, what: str) -> tuple[str, str]:
    if ":=" not in text:
        raise ValueError(f"{what} {text!r} must look like name:=value")
    name, value = text.split(":=", 1)
    if not name:
        raise ValueError(f"{what} {text!r} has an empty name")
    return name, value


def parse_ros_args(argv: Sequence[str]) -> RosArgs:
    """Split `argv` into ROS arguments (inside `--ros-args ... [--]`) and the rest.

    Raises ValueError with a message naming the bad argument.
    """
    out = RosArgs(raw=list(argv))
    args = list(argv)
    i, in_ros = 0, False
    while i < len(args):
        arg = args[i]
        if arg == "--ros-args":
            in_ros = True
        elif in_ros and arg == "--":
            in_ros = False
        elif arg == "--backend" or arg.startswith("--backend="):
            if "=" in arg:
                value = arg.split("=", 1)[1]
            else:
                i += 1
                if i >= len(args):
                    raise ValueError("--backend needs a value (rclpy or standalone)")
                value = args[i]
            out.backend = value
        elif in_ros:
            needs_value = arg in ("-p", "--param", "-r", "--remap", "--params-file", "--log-level",
                                  "-e", "--enclave", "--log-config-file", "--log-file-name")
            if needs_value:
                i += 1
                if i >= len(args):
                    raise ValueError(f"ROS argument {arg} needs a value")
                value = args[i]
                if arg in ("-p", "--param"):
                    name, text = _split_assignment(value, "parameter")
                    out.params[name] = _yaml_value(text)
                elif arg in ("-r", "--remap"):
                    src, dst = _split_assignment(value, "remapping")
                    if ":" in src and not src.startswith(("/", "~")) and src.split(":", 1)[0]:
                        src = src.split(":", 1)[1]  # node-targeted `node:from:=to`
                    if src == "__ns":
                        out.namespace = dst if dst.startswith("/") else "/" + dst
                    elif src in ("__node", "__name"):
                        out.node_name = dst
                    else:
                        out.remaps[src] = dst
                elif arg == "--params-file":
                    out.params_files.append(value)
                elif arg == "--log-level":
                    out.log_level = value.split(":=")[-1]
            elif arg in ("--enable-rosout-logs", "--disable-rosout-logs", "--enable-stdout-logs",
                         "--disable-stdout-logs", "--enable-external-lib-logs", "--disable-external-lib-logs"):
                pass
            else:
                raise ValueError(f"unknown ROS argument {arg!r}")
        else:
            out.other.append(arg)
        i += 1
    return out


# -- backend choice -------------------------------------------------------------------------
def rclpy_available() -> bool:
    try:
        import rclpy  # noqa: F401
    except Exception as exc:
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
    from .dds_config import ros_distro

    return ros_distro()[0]


def setup_logging(level: str | None = None) -> None:
    """Log lines like ROS 2: `[INFO] [1700000000.123] [node]: message`."""
    numeric = getattr(logging, (level or "info").upper(), logging.INFO)
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_RosFormatter())
        root.addHandler(handler)
    root.setLevel(numeric)


#: Control characters (newline, carriage return, escape, ...) as visible escapes.
_CONTROL_ESCAPES = {c: f"\\x{c:02x}" for c in [*range(0x20), 0x7f]} | {
    ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t"}


def escape_log_text(text: str) -> str:
    """`text` on one line with control characters escaped (`\\n`, `\\x1b`, ...): text from outside
    (a rejected JSON key, a robot's error message) cannot forge log lines or drive the terminal."""
    return text.translate(_CONTROL_ESCAPES)


class _RosFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        name = record.name[len("spot_bow_ros."):] if record.name.startswith("spot_bow_ros.") else record.name
        line = f"[{record.levelname}] [{record.created:.3f}] [{name}]: {escape_log_text(record.getMessage())}"
        if record.exc_info:  # tracebacks (--log-level debug) keep their lines
            line += "\n" + self.formatException(record.exc_info)
        return line


# -- standalone context ---------------------------------------------------------------------
class StandaloneContext:
    """Several standalone nodes on one transport (one DDS participant), optionally recorded."""

    def __init__(self, transport: Transport):
        self.transport = transport
        self.nodes: list[StandaloneNode] = []
        self.recorders: list[Any] = []
        self._closed = False

    def create_node(self, name: str, namespace: str = "/", parameter_overrides: dict | None = None,
                    remaps: dict[str, str] | None = None) -> StandaloneNode:
        from .standalone import StandaloneNode  # rosbags (pip): loaded only when the standalone runtime runs

        node = StandaloneNode(name, self.transport, namespace=namespace,
                              parameter_overrides=parameter_overrides or {}, remaps=remaps)
        self.nodes.append(node)
        return node

    def attach_recorder(self, output: str, storage: str = "mcap", topics: Iterable[str] | None = None,
                        exclude_types: Iterable[str] = (), **options: Any) -> Any:
        """Record what this process publishes (all topics, or `topics`, minus topics of
        `exclude_types`) to a rosbag2 at `output`, from the CDR bytes the writers already
        produced. Closed with the context."""
        from .recorder import BagRecorder

        recorder = BagRecorder(output, storage=storage, messages=self.transport.messages, **options)
        wanted = set(topics) if topics else None
        excluded = set(exclude_types)

        def tap(topic: str, type_name: str, cdr: bytes, t_ns: int, qos: Any) -> None:
            if (wanted is None or topic in wanted) and type_name not in excluded:
                recorder.record(topic, type_name, cdr, t_ns, qos)

        recorder.start()
        # A recorder subscribes to what it records: lazy publishers (cameras) must publish.
        self.transport.add_tap(tap, counts_as_subscriber=True)
        recorder._detach = lambda: getattr(self.transport, "remove_tap", lambda t: None)(tap)
        self.recorders.append(recorder)
        return recorder

    def close(self) -> None:
        """Destroy every node (on-shutdown callbacks run), close recorders, then the transport."""
        if self._closed:
            return
        self._closed = True
        for node in reversed(self.nodes):
            try:
                node.destroy()
            except Exception as exc:  # keep shutting down the others
                _log.error(f"destroying node {node.name} failed: {exc}")
        for recorder in self.recorders:
            recorder._detach()
            recorder.close()
        self.transport.close()

    def __enter__(self) -> "StandaloneContext":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def create_standalone_context(domain_id: int | None = None, distro: str | None = None,
                              transport: Transport | None = None) -> StandaloneContext:
    """A context over `transport`, or over a new `DdsTransport` (ROS_DOMAIN_ID, ROS_DISTRO)."""
    if transport is None:
        from .dds import DdsTransport

        transport = DdsTransport(domain_id=domain_id, distro=distro or default_distro())
    return StandaloneContext(transport)


# -- main -----------------------------------------------------------------------------------
@contextlib.contextmanager
def shutdown_signals(stop: threading.Event) -> Iterator[threading.Event]:
    """While inside, SIGINT/SIGTERM set `stop` instead of raising (main thread only), also during
    the shutdown that follows: a second Ctrl-C (or launch's SIGINT then SIGTERM) cannot cut a
    clean shutdown short."""
    previous = {}
    if threading.current_thread() is threading.main_thread():
        def handler(signum: int, frame: Any) -> None:
            if stop.is_set():
                _log.warning("already shutting down")
            stop.set()

        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, handler)
    try:
        yield stop
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def wait_for(stop: threading.Event) -> None:
    """Block until `stop` is set (polling, so signal handlers run promptly in the main thread)."""
    while not stop.wait(0.2):
        pass


class _Declared(Exception):
    """Raised by `_SpecCollector.declare_parameters`: a bridge's parameter list, then stop."""

    def __init__(self, specs: list):
        super().__init__("parameters declared")
        self.specs = specs


class _SpecCollector:
    """A stand-in node for `--help`: the bridge's first `declare_parameters` call hands over its
    declarations (the exact list the bridge uses) and ends the build before anything starts."""

    msg = None  # message constructors are looked up, not used, before the declaration

    def __init__(self, name: str):
        self.name = name

    def declare_parameters(self, specs: Iterable[Any]) -> dict:
        raise _Declared(list(specs))

    def get_logger(self) -> logging.Logger:
        return logging.getLogger(f"spot_bow_ros.{self.name}")


def parameters_help(builders: Sequence[tuple[str, Callable[[Any], object]]], prog: str) -> str:
    """`--help` text of a node executable: usage and every node's parameters."""
    from .params import format_parameters

    parts = [f"usage: {prog} [--ros-args [-p NAME:=VALUE]... [--params-file FILE]",
             f"       {' ' * len(prog)} [-r __ns:=/NS] [--log-level LEVEL]] [--backend rclpy|standalone]", ""]
    for name, build in builders:
        try:
            build(_SpecCollector(name))
            specs: list = []
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


def startup_failure(builders: Sequence[tuple[str, Any]], exc: BaseException) -> str:
    """The one line of a node that failed to start (both backends): a user-facing error's own
    sentence (e.g. the robot refused the password), else which nodes failed and why."""
    if getattr(exc, "user_facing", False):
        return str(exc)
    return f"starting {', '.join(n for n, _ in builders)} failed: {type(exc).__name__}: {exc}"


def _run_standalone(builders: Sequence[tuple[str, Callable[[Any], object]]], args: RosArgs,
                    stop: threading.Event, transport: Transport | None) -> int:
    try:
        context = create_standalone_context(transport=transport)
    except Exception as exc:
        _log.error(f"cannot start the standalone runtime: {exc}")
        return 1
    from .log_routing import route_library_logs

    built = []
    unroute: Callable[[], None] = lambda: None  # noqa: E731
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
    except Exception as exc:
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
