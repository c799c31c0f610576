"""`spot-bow-ros service list|call` and `spot-bow-ros topic pub`: like `ros2 service` / `ros2 topic pub`
without ROS 2 (DDS with rmw_cyclonedds_cpp conventions, `ROS_DOMAIN_ID`).

    spot-bow-ros service list [-t]
    spot-bow-ros service call /power_on [std_srvs/srv/Trigger] ["{}"] [--timeout S]
    spot-bow-ros service call /enable_motion std_srvs/srv/SetBool "{data: true}"
    spot-bow-ros topic pub /cmd_vel geometry_msgs/msg/Twist "{linear: {x: 0.2}}" [--once | --rate HZ] [--times N]

Arguments are YAML mappings of the request / message fields (nested messages as mappings).
Exit codes: 0 reply received / published, 1 service not available or no reply, 2 usage errors.
"""

from __future__ import annotations

import argparse
import difflib
import threading
import time
from typing import Any

import yaml

from ..convert.yaml_errors import yaml_error_line

from .names import expand_topic_name
from .topic_cli import (CliError, add_list_verb, dds_transport, format_message,  # CliError: exit code 2
                        list_discovered, run_guarded)


class CallFailed(Exception):
    """The service did not answer: printed as one line, exit code 1."""


def add_parser(subparsers: Any) -> None:
    """Register `service` on the `spot-bow-ros` subparsers."""
    service = subparsers.add_parser("service", help="list and call ROS 2 services (standalone ros2 service)")
    verbs = service.add_subparsers(dest="service_verb", metavar="{list,call}")
    verbs.required = True
    add_list_verb(verbs, "services served on the DDS domain", "service")
    p = verbs.add_parser("call", help="call a service and print its reply")
    p.add_argument("name", help="service name, e.g. /power_on")
    p.add_argument("type", nargs="?", help="service type, e.g. std_srvs/srv/Trigger (default: discovered)")
    p.add_argument("values", nargs="?", default="{}", help="request fields as YAML (default '{}')")
    p.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for the service and reply")
    service.set_defaults(func=run)


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
    """Run the parsed `service ...` command. Returns the exit code."""
    def body(args: argparse.Namespace, _stop: threading.Event) -> int:
        if args.service_verb == "list":
            return list_discovered(args, lambda transport: transport.discovered_services())
        return _call(args)

    return run_guarded(args, body, failures=(CallFailed,))


def parse_fields(text: str) -> dict[str, Any]:
    """The YAML mapping of message fields given on the command line."""
    try:
        value = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as exc:
        raise CliError(f"values are not valid YAML: {yaml_error_line(exc)}") from None
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise CliError(f"values must be a YAML mapping of fields, e.g. '{{data: true}}', got {text!r}")
    return value


def build(make: Any, type_name: str, fields: dict[str, Any]) -> Any:
    try:
        return make(type_name, **fields)
    except (TypeError, ValueError) as exc:
        raise CliError(f"cannot build {type_name}: {exc}") from None


def _call(args: argparse.Namespace) -> int:
    from .dds_services import DdsServiceClient, ServiceCallError
    from .srv_types import known_service_type, request_type

    name = expand_topic_name(args.name, "/")
    fields = parse_fields(args.values)
    given = known_service_type(args.type) if args.type else None
    transport = dds_transport()
    try:
        srv_type = known_service_type(served_type(transport, name, args.timeout, given))
        if given is not None and given != srv_type:
            raise CliError(f"service {name} is {srv_type}, not {given}: call it as "
                           f"`spot-bow-ros service call {name} {srv_type}` (see `spot-bow-ros service list -t`)")
        request = build(transport.messages.make, request_type(srv_type), fields)
        client = DdsServiceClient(transport, name, srv_type)
        print(f"requester: making request: {format_short(request)}", flush=True)
        try:
            response = client.call(request, args.timeout)
        except ServiceCallError as exc:
            raise CallFailed(str(exc)) from None
        finally:
            client.close()
        print("\nresponse:")
        print(format_message(response))
    finally:
        transport.close()
    return 0


def served_type(transport: Any, name: str, timeout_s: float, expected: str | None = None) -> str:
    """The type of service `name` as discovered on DDS within `timeout_s`; CallFailed (with a
    "did you mean" among the services seen) when nobody serves it."""
    deadline = time.monotonic() + timeout_s
    while True:
        services = transport.discovered_services()
        if name in services:
            return services[name]
        if time.monotonic() >= deadline:
            close = difflib.get_close_matches(name, sorted(services), n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]}?" if close else ""
            shown = f"{name} ({expected})" if expected else name
            raise CallFailed(f"service {shown} is not available on DDS domain {transport.domain_id}{hint}")
        time.sleep(0.05)


def run_topic_pub(args: argparse.Namespace, stop: threading.Event) -> int:
    """`topic pub`: publish at `--rate`, once, or `--times` messages."""
    from .qos import DEFAULT
    from .standalone import StandaloneNode

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


def format_short(msg: Any) -> str:
    """One line of a message's fields (`pkg/srv/Type_Request()` when it has none)."""
    if [f for f in vars(msg) if not f.startswith("__")] == ["structure_needs_at_least_one_member"]:
        return f"{msg.__msgtype__}()"
    return " ".join(format_message(msg).split())
