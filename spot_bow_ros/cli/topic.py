"""`spot-bow-ros topic list|echo|hz|pub` and `spot-bow-ros record`: ROS 2 tools without ROS 2.

They join the DDS domain (`ROS_DOMAIN_ID`) like any ROS 2 process, so they see topics of ROS 2
nodes (rmw_cyclonedds_cpp, or Fast DDS with matching settings) and of standalone bridges alike.

    spot-bow-ros topic list [-t]
    spot-bow-ros topic echo /camera/image_raw [--once] [-n N] [--full-arrays]
    spot-bow-ros topic hz /camera/image_raw [--window 100]
    spot-bow-ros topic pub /cmd_vel geometry_msgs/msg/Twist "{linear: {x: 0.2}}" [--once | --rate HZ] [--times N]
    spot-bow-ros record [-o DIR] [-s mcap|sqlite3] [--duration S] (-a | TOPIC...)
"""

from __future__ import annotations

import argparse
import datetime
import difflib
import logging
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from ..ros.names import UnknownMessageType, expand_topic_name  # rosbags-free (lazy)
from .arg_types import byte_size, format_bytes, non_negative_seconds
from .disk_space import DEFAULT_MIN_FREE_BYTES, RUN_ALL_TOPICS_BYTES_PER_S, DiskSpaceGuard, LowDiskSpace
from .wire_cli import (  # CliError: exit code 2
    CliError,
    add_list_verb,
    build,
    dds_transport,
    format_message,
    format_short,
    list_discovered,
    parse_fields,
    run_guarded,
)

_log = logging.getLogger("spot_bow_ros.topic")


def add_parser(subparsers: Any) -> None:
    """Register `topic` and `record` on an argparse subparsers object."""
    topic = subparsers.add_parser("topic", help="list, echo and measure ROS 2 topics (standalone ros2 topic)")
    verbs = topic.add_subparsers(dest="topic_verb", metavar="{list,echo,hz,pub}")
    verbs.required = True
    add_list_verb(verbs, "topics with publishers on the DDS domain", "topic")
    p = verbs.add_parser("echo", help="print the messages of a topic")
    p.add_argument("topic", help="topic name, e.g. /joint_states")
    p.add_argument("type", nargs="?", help="message type (default: discovered)")
    p.add_argument("--once", action="store_true", help="print one message and exit")
    p.add_argument("-n", "--count", type=int, default=0, help="exit after N messages")
    p.add_argument("--full-arrays", action="store_true", help="print arrays in full")
    p.add_argument("--timeout", type=float, default=0.0, help="give up after S seconds (0: never)")
    p = verbs.add_parser("hz", help="print the rate of a topic")
    p.add_argument("topic", help="topic name, e.g. /joint_states")
    p.add_argument("--window", "-w", type=int, default=100, help="messages in the rate window")
    p.add_argument("--timeout", type=float, default=0.0, help="exit after S seconds (0: never)")
    add_topic_pub(verbs)
    topic.set_defaults(func=run)

    rec = subparsers.add_parser("record", help="record topics to a rosbag2 (standalone ros2 bag record)")
    rec.add_argument("topics", nargs="*", help="topics to record")
    rec.add_argument("-a", "--all", action="store_true", help="record every topic (also ones that appear later)")
    rec.add_argument("-o", "--output", help="bag directory (default rosbag2_YYYY_MM_DD-HH_MM_SS)")
    rec.add_argument("-s", "--storage", choices=("mcap", "sqlite3"), default="mcap", help="storage (default mcap)")
    rec.add_argument("--duration", "-d", type=non_negative_seconds, default=0.0, metavar="S",
                     help="stop after S seconds (default 0: until Ctrl-C)")
    rec.add_argument("--min-free-space", type=byte_size, default=DEFAULT_MIN_FREE_BYTES, metavar="SIZE",
                     help="stop (bag complete) when free disk space under the bag falls below SIZE "
                          f"(e.g. 500M, 2G; default {format_bytes(DEFAULT_MIN_FREE_BYTES)})")
    rec.set_defaults(func=run)


def add_topic_pub(verbs: Any) -> None:
    """Register `pub` on the `topic` verbs."""
    p = verbs.add_parser("pub", help="publish a message (standalone ros2 topic pub)")
    p.add_argument("topic", help="topic name, e.g. /cmd_vel")
    p.add_argument("type", help="message type, e.g. geometry_msgs/msg/Twist")
    p.add_argument("values", nargs="?", default="{}", help="message fields as YAML (default '{}')")
    p.add_argument("-1", "--once", action="store_true", help="publish one message and exit")
    p.add_argument("-r", "--rate", type=float, default=1.0, help="publishing rate in Hz (default 1)")
    p.add_argument("-t", "--times", type=int, default=0, help="exit after N messages (0: Ctrl-C)")
    p.add_argument("-p", "--print", type=int, default=1, metavar="N", dest="print_every",
                   help="print every N-th message published (default 1; 0: none)")
    p.add_argument("--wait-matching-subscriptions", type=int, default=1, metavar="N",
                   help="with --once/--times: wait up to 2 s for N subscribers first (default 1)")


def run(args: argparse.Namespace) -> int:
    """Run the parsed `topic ...` or `record` command. Returns the exit code."""
    return run_guarded(args, _dispatch, failures=(LowDiskSpace,))


def _dispatch(args: argparse.Namespace, stop: threading.Event) -> int:
    verb = getattr(args, "topic_verb", None)
    if verb == "list":
        return list_discovered(args, lambda t: {n: i.type_name for n, i in t.discovered_topics().items()})
    if verb == "echo":
        return _echo(args, stop)
    if verb == "hz":
        return _hz(args, stop)
    if verb == "pub":
        return run_topic_pub(args, stop)
    return _record(args, stop)


# -- helpers --------------------------------------------------------------------------------


def _topic_name(name: str) -> str:
    return expand_topic_name(name, "/")


def _resolve(transport: Any, topic: str, type_name: str | None, wait_s: float, stop: threading.Event) -> str:
    """The topic's type: given (validated) or discovered; CliError when never seen."""
    if type_name:
        return transport.messages.resolve(type_name)
    deadline = time.monotonic() + wait_s if wait_s > 0 else None
    announced = False
    while not stop.is_set():
        info = transport.discovered_topics().get(topic)
        if info is not None:
            return transport.messages.resolve(info.type_name)
        if deadline is not None and time.monotonic() >= deadline:
            raise CliError(f"topic {topic} has no publisher on DDS domain {transport.domain_id}")
        if not announced and (deadline is None or wait_s > 2):
            print(f"waiting for a publisher of {topic} ...", file=sys.stderr)
            announced = True
        time.sleep(0.1)
    raise CliError("interrupted")


# -- verbs ----------------------------------------------------------------------------------
def _echo(args: argparse.Namespace, stop: threading.Event) -> int:
    topic = _topic_name(args.topic)
    limit = 1 if args.once else max(0, args.count)
    if args.type:  # a bad type name fails before joining DDS
        from ..backends.chooser import default_distro
        from ..standalone.message_store import messages_for

        messages_for(default_distro()).resolve(args.type)
    transport = dds_transport()
    try:
        type_name = _resolve(transport, topic, args.type, args.timeout, stop)
        messages = transport.messages
        printed = [0]
        closed = threading.Event()

        def show(_topic: str, _type: str, cdr: bytes, _t: int, _qos: Any) -> None:
            if (limit and printed[0] >= limit) or closed.is_set():
                return
            try:
                print(format_message(messages.deserialize(cdr, type_name), args.full_arrays))
                print("---", flush=True)
            except BrokenPipeError:  # `... | head`: the reader is gone; stop quietly
                closed.set()
                stop.set()
                return
            printed[0] += 1
            if limit and printed[0] >= limit:
                stop.set()

        transport.subscribe_raw(topic, type_name, show)
        if args.timeout > 0:
            stop.wait(args.timeout)
        else:
            _wait(stop)
    finally:
        transport.close()
    if closed.is_set():
        raise BrokenPipeError  # the command's main silences stdout and exits 0
    return 0


def _hz(args: argparse.Namespace, stop: threading.Event) -> int:
    topic = _topic_name(args.topic)
    transport = dds_transport()
    stamps: deque = deque(maxlen=max(2, args.window + 1))
    lock = threading.Lock()
    try:
        type_name = _resolve(transport, topic, None, args.timeout, stop)

        def tick(*_: Any) -> None:
            with lock:
                stamps.append(time.monotonic())

        transport.subscribe_raw(topic, type_name, tick)
        end = time.monotonic() + args.timeout if args.timeout > 0 else None
        while not stop.wait(1.0):
            with lock:
                times = np.array(stamps)
            if len(times) >= 2:
                d = np.diff(times)
                print(f"average rate: {1.0 / d.mean():.3f}\n\tmin: {d.min():.3f}s max: {d.max():.3f}s "
                      f"std dev: {d.std():.5f}s window: {len(times)}", flush=True)
            else:
                print("no new messages", flush=True)
            if end is not None and time.monotonic() >= end:
                break
    finally:
        transport.close()
    return 0


#: `record` takes received samples every 5 ms (not one by one): fewer wake-ups per message
#: (subscriptions keep 100 samples, ~0.3 s of a 333 Hz topic)
RECORD_RECEIVE_BATCH_S = 0.005


def _record(args: argparse.Namespace, stop: threading.Event) -> int:
    from ..standalone.recorder import BagRecorder, bag_output

    if not args.all and not args.topics:
        raise CliError("record needs topics or -a/--all")
    wanted = [_topic_name(t) for t in args.topics]
    output = args.output or datetime.datetime.now().strftime("rosbag2_%Y_%m_%d-%H_%M_%S")
    output_path, note = bag_output(output)
    guard = DiskSpaceGuard(output_path, args.min_free_space)
    guard.check_before_start()  # LowDiskSpace: one line, exit 1
    if note:
        _log.info(f"-o {note}")
    output = str(output_path)
    transport = dds_transport(receive_batch_s=RECORD_RECEIVE_BATCH_S)
    recorder = None
    stopped_by: str | None = None
    try:
        recorder = BagRecorder(output, storage=args.storage, messages=transport.messages).start()
        print(f"recording to {output} ({args.storage}); Ctrl-C to stop", file=sys.stderr)
        if args.all:  # what `spot-bow-ros run`'s topics take; the measured rate follows after 5 s
            _log.info(guard.rate_note(RUN_ALL_TOPICS_BYTES_PER_S, "all topics of the Spot bridges are"))
        else:
            _log.info(f"{format_bytes(guard.free_bytes())} free under {output}; recording stops below "
                      f"--min-free-space {format_bytes(guard.min_free_bytes)} (the measured rate follows in 5 s)")
        watch = _RecordWatch(transport, recorder, wanted, args.all, guard)
        end = time.monotonic() + args.duration if args.duration > 0 else None
        while not stop.is_set():
            try:
                watch.step()
            except LowDiskSpace as exc:
                stopped_by = str(exc)
                break
            if end is not None and time.monotonic() >= end:
                break
            stop.wait(0.25 if end is None else max(0.0, min(0.25, end - time.monotonic())))
    finally:
        transport.close()
        if recorder is not None:
            recorder.close()
            counts = ", ".join(f"{t}: {n}" for t, n in sorted(recorder.counts.items())) or "no messages"
            print(f"recorded {output}: {counts}", file=sys.stderr)
    if stopped_by:
        print(f"error: {stopped_by}", file=sys.stderr)
        return 1
    return 0


class _RecordWatch:
    """One step of `record`'s loop: subscribe to new topics, say once which named topics have no
    publisher (with a "did you mean"), say the measured data rate once, watch the disk."""

    #: seconds of discovery before a named topic without publisher is reported
    MISSING_AFTER_S = 3.0
    #: seconds of recording before the measured rate is reported
    RATE_AFTER_S = 5.0

    def __init__(self, transport: Any, recorder: Any, wanted: list[str], record_all: bool,
                 guard: DiskSpaceGuard):
        self.transport, self.recorder, self.wanted, self.all = transport, recorder, wanted, record_all
        self.guard = guard
        self.subscribed: set[str] = set()
        self.skipped: set[str] = set()
        self.started = time.monotonic()
        self.missing_reported = False
        self.rate_reported = False

    def step(self) -> None:
        elapsed = time.monotonic() - self.started
        due_missing = not self.missing_reported and elapsed >= self.MISSING_AFTER_S
        # publications_changed() is cheap (only unread DCPSPublication samples); the full topic
        # list is built only when writers came or went, or for the one missing-topic report
        changed = self.transport.publications_changed()
        discovered = self.transport.discovered_topics() if changed or due_missing else {}
        for name, info in discovered.items():
            if name in self.subscribed or name in self.skipped or not (self.all or name in self.wanted):
                continue
            try:
                self.transport.subscribe_raw(name, info.type_name, self.recorder.record)
            except UnknownMessageType:
                self.skipped.add(name)
                _log.warning(f"not recording {name}: message type {info.type_name} is unknown here")
                continue
            self.subscribed.add(name)
            _log.info(f"subscribed to {name} [{info.type_name}]")
        if due_missing:
            self.missing_reported = True
            for name in self.wanted:
                if name not in discovered:
                    _log.warning(missing_topic_line(name, discovered, self.transport.domain_id))
        if not self.rate_reported and elapsed >= self.RATE_AFTER_S:
            self.rate_reported = True
            size = sum(f.stat().st_size for f in Path(self.recorder.output).rglob("*") if f.is_file())
            _log.info(self.guard.rate_note(max(size / elapsed, 1.0), "measured: this recording is"))
        self.guard.poll()


# -- pub ----------------------------------------------------------------------------------
def run_topic_pub(args: argparse.Namespace, stop: threading.Event) -> int:
    """`topic pub`: publish at `--rate`, once, or `--times` messages."""
    from ..ros.qos import DEFAULT
    from ..standalone.node import StandaloneNode

    topic = expand_topic_name(args.topic, "/")
    fields = parse_fields(args.values)
    if not args.rate > 0:
        raise CliError(f"--rate must be > 0 Hz, got {args.rate:g}")
    transport = dds_transport()
    node = None
    try:
        node = StandaloneNode("spot_bow_ros_topic_pub", transport, serve_parameters=False)
        type_name = transport.messages.resolve(args.type)
        msg = build(node.msg, type_name, fields)
        pub = node.create_publisher(type_name, topic, DEFAULT)
        count = 1 if args.once else max(0, args.times)
        if count and args.wait_matching_subscriptions > 0:
            deadline = time.monotonic() + 2.0
            while pub.get_subscription_count() < args.wait_matching_subscriptions and time.monotonic() < deadline:
                time.sleep(0.02)
        print("publisher: beginning loop", flush=True)
        text = format_short(msg)
        sent = 0
        while not stop.is_set():
            pub.publish(msg)
            sent += 1
            if args.print_every > 0 and (sent - 1) % args.print_every == 0:
                print(f"publishing #{sent}: {text}", flush=True)
            if count and sent >= count:
                time.sleep(0.2)  # let reliable delivery finish before the participant goes
                break
            stop.wait(1.0 / args.rate)
    finally:
        if node is not None:
            node.destroy()
        transport.close()
    return 0


def missing_topic_line(name: str, discovered: Iterable[str], domain_id: int) -> str:
    """'no publisher of /joint_state on DDS domain 0 (yet): did you mean /joint_states?'"""
    close = difflib.get_close_matches(name, sorted(discovered), n=1, cutoff=0.6)
    hint = f": did you mean {close[0]}?" if close else ": it is recorded when one appears"
    return f"no publisher of {name} on DDS domain {domain_id} (yet){hint}"


def _wait(stop: threading.Event) -> None:
    while not stop.wait(0.2):
        pass
