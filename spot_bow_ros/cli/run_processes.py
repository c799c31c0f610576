"""`spot-bow-ros run --processes 2`: the camera bridge in a worker process, so both cores work.

One composed process holds every bridge under one interpreter lock: with every camera feature
on (depth, registered depth, point clouds, the merged cloud) the camera pipeline alone wants more
than one core. With `--processes 2` the `spot_cameras` bridge runs in a worker process (the
same composed executable, `python -m spot_bow_ros.nodes.composed`, with only `spot_cameras`
enabled, standalone route, same DDS domain and namespace), as ROS users split nodes across
processes with `ros2 launch`; the other bridges stay in the `run` process.

- Parameters: the worker gets exactly the `spot_cameras` overrides of the run (params file in
  a private temporary directory); robot credentials travel in the worker's environment
  (`BOSDYN_CLIENT_USERNAME`/`PASSWORD`), never in that file.
- Robot: one login and one time sync. The worker (`cli/run_worker.py`) gets the run process's
  user token and clock skew over its stdin whenever they change (`spot.session_share`): it
  makes no login of its own and converts robot stamps with the run process's estimate, so the
  stamps of both processes are on one clock. Without a connection in the run process (none of
  its bridges uses the robot) the worker logs in itself with the same connection parameters.
- Logs: the worker's lines are re-logged by this process (above the status table).
- Recording and Foxglove: the `run` process subscribes to the worker's topics and hands every
  message to the recorder (same `--exclude-raw-images` filter), Foxglove and the status table
  (what the worker publishes is recorded like the run's own topics). Without `--record` /
  `--foxglove` nothing of the worker is subscribed here (no cost): the status table then shows
  the run process's topics only, and a line if the worker exits.
- Stop: the worker gets SIGINT first (its bridge returns leases, closes its session), then the
  run's own bridges stop.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import yaml

#: bridges that run in the worker process
WORKER_BRIDGES = ("spot_cameras",)
_LINE = re.compile(r"^\[(DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL|FATAL)\] \[[0-9.]+\] \[([^\]]+)\]: (.*)$")
_LEVELS = {"WARN": logging.WARNING, "FATAL": logging.CRITICAL}
_CREDENTIALS = {"username": "BOSDYN_CLIENT_USERNAME", "password": "BOSDYN_CLIENT_PASSWORD"}
log = logging.getLogger("spot_bow_ros.run")


def worker_params(overrides: dict[str, dict[str, Any]], namespace: str,
                  bridges: Iterable[str] = WORKER_BRIDGES) -> tuple[dict[str, Any], dict[str, str]]:
    """(params-file document, environment) of a worker running `bridges`: the composed node
    with only those enabled, each with its overrides minus the credentials (which go to the
    environment)."""
    from ..nodes.composed import BRIDGES, NODE_NAME, node_param_specs

    declared = node_param_specs([b for b in BRIDGES if b.name in bridges])
    prefix = namespace.rstrip("/")
    doc: dict[str, Any] = {f"{prefix}/{NODE_NAME}": {"ros__parameters": {
        f"enable_{b.name}": b.name in bridges for b in BRIDGES}}}
    env: dict[str, str] = {}
    for name in bridges:
        names = {spec.name for spec in declared[name]}
        values = {k: v for k, v in overrides.get(name, {}).items() if k in names}  # not `/**` values of others
        for key, var in _CREDENTIALS.items():
            secret = values.pop(key, "")
            if secret:
                env[var] = str(secret)
        doc[f"{prefix}/{name}"] = {"ros__parameters": values}
    return doc, env


class BridgeWorker:
    """The worker process of `bridges` (see module doc). `forward`: callables that get every
    message the worker publishes, as `(topic, type, cdr, t_ns, qos)` (a recorder, Foxglove)."""

    def __init__(self, transport: Any, overrides: dict[str, dict[str, Any]], namespace: str,
                 forward: list[Callable[..., None]], bridges: Iterable[str] = WORKER_BRIDGES,
                 connection: Any = None):
        self.transport, self.forward, self.bridges = transport, list(forward), tuple(bridges)
        self._dir = tempfile.TemporaryDirectory(prefix="spot_bow_worker_")
        doc, secrets = worker_params(overrides, namespace, self.bridges)
        params = Path(self._dir.name) / "params.yaml"
        params.write_text(yaml.safe_dump(doc))
        os.chmod(params, 0o600)
        cmd = [sys.executable, "-m", "spot_bow_ros.cli.run_worker", "--ros-args", "--params-file", str(params)]
        if namespace.strip("/"):
            cmd += ["-r", f"__ns:={namespace}"]
        env = dict(os.environ, SPOT_BOW_ROS_BACKEND="standalone", **secrets)
        self.proc = subprocess.Popen(cmd, env=env, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True, start_new_session=True)
        from ..spot.session_share import SessionForwarder

        #: the run process's token and clock skew, to the worker's stdin (module doc)
        self.session = SessionForwarder(connection, self.proc.stdin)
        self._subscribed: set[str] = set()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._relay_logs, name="worker-logs", daemon=True)]
        if self.forward:
            self._threads.append(threading.Thread(target=self._follow, name="worker-topics", daemon=True))
        for thread in self._threads:
            thread.start()
        log.info(f"{', '.join(self.bridges)} in worker process {self.proc.pid}")

    def _relay_logs(self) -> None:
        for line in self.proc.stderr:
            match = _LINE.match(line.rstrip("\n"))
            if match:
                level, name, text = match.groups()
                logging.getLogger(f"spot_bow_ros.{name}").log(_LEVELS.get(level, getattr(logging, level)), text)
            elif line.strip():
                log.info(f"worker: {line.rstrip()}")

    def _local_topics(self) -> set[str]:
        return {w.topic for w in getattr(self.transport, "writers", [])}

    def _follow(self) -> None:
        """Subscribe to every topic the worker publishes (new publishers of topics this process
        does not publish) and hand each message to `forward`."""
        while not self._stop.wait(0.5):
            if not self.transport.publications_changed():
                continue
            local = self._local_topics()
            for topic, info in self.transport.discovered_topics().items():
                if topic in self._subscribed or topic in local or topic in ("/rosout", "/parameter_events"):
                    continue
                try:
                    self.transport.subscribe_raw(topic, info.type_name, self._deliver)
                except Exception as exc:  # noqa: BLE001 - an unknown type: not forwarded, say once
                    log.warning(f"not recording {topic} of the worker: {exc}")
                self._subscribed.add(topic)

    def _deliver(self, topic: str, type_name: str, cdr: bytes, t_ns: int, qos: Any) -> None:
        for consumer in self.forward:
            consumer(topic, type_name, cdr, t_ns, qos)

    def status(self) -> str | None:
        """A short text for the status table's robot line when the worker has exited."""
        code = self.proc.poll()
        return None if code is None else f"camera worker exited ({code})"

    def stop(self, timeout_s: float = 20.0) -> None:
        """SIGINT, then wait (SIGKILL after `timeout_s`)."""
        self._stop.set()
        self.session.stop()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                log.warning(f"worker process {self.proc.pid} did not stop within {timeout_s:g} s: killed")
                self.proc.kill()
                self.proc.wait()
        for thread in self._threads:
            thread.join(timeout=2.0)
        try:
            self.proc.stdin.close()
        except OSError:  # a broken pipe: the worker is gone anyway
            pass
        self._dir.cleanup()


def forward_targets(status_tap: Callable[..., None], recorders: Iterable[Any], exclude_types: Iterable[str],
                    fox_tap: Callable[..., None] | None) -> list[Callable[..., None]]:
    """What the worker's messages are handed to in the run process: nothing unless something
    records or shows them (recorders, with their excluded types; Foxglove), then also the status table."""
    recorders, excluded = list(recorders), frozenset(exclude_types)
    if not recorders and fox_tap is None:
        return []

    def record(topic: str, type_name: str, *rest: Any) -> None:
        if type_name not in excluded:
            for recorder in recorders:
                recorder.record(topic, type_name, *rest)

    return [status_tap, record] + ([fox_tap] if fox_tap is not None else [])


def run_connection(overrides: dict[str, dict[str, Any]]) -> Any:
    """This process's robot connection that the worker's bridges would share (same connection
    parameters; `SpotConnection.shared`), or None."""
    from ..spot.connection import SpotConnection
    from ..spot.connection_config import ConnectionConfig, ConnectionConfigError

    try:
        config = ConnectionConfig.from_params(overrides.get(WORKER_BRIDGES[0], {}))
    except (ConnectionConfigError, OSError, ValueError):
        return None
    return SpotConnection.existing(config)


def start_worker(processes: int, transport: Any, overrides: dict[str, dict[str, Any]], namespace: str,
                 forward: list[Callable[..., None]]) -> BridgeWorker | None:
    """With `processes` 2 and the camera bridge enabled: its worker, and `spot_cameras` disabled
    in `overrides` (this process); else None."""
    from ..nodes.composed import NODE_NAME, enabled_bridges

    if processes < 2 or not any(b.name in WORKER_BRIDGES for b in enabled_bridges(overrides[NODE_NAME])):
        return None
    worker = BridgeWorker(transport, overrides, namespace, forward, connection=run_connection(overrides))
    overrides[NODE_NAME] = {**overrides[NODE_NAME], **{f"enable_{name}": False for name in WORKER_BRIDGES}}
    return worker
