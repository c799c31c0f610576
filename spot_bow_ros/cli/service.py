"""`spot-bow-ros service list|call`: like `ros2 service` without ROS 2 (DDS with rmw_cyclonedds_cpp
conventions, `ROS_DOMAIN_ID`).

    spot-bow-ros service list [-t]
    spot-bow-ros service call /power_on [std_srvs/srv/Trigger] ["{}"] [--timeout S]
    spot-bow-ros service call /enable_motion std_srvs/srv/SetBool "{data: true}"

Arguments are YAML mappings of the request fields (nested messages as mappings).
Exit codes: 0 reply received, 1 service not available or no reply, 2 usage errors.
"""

from __future__ import annotations

import argparse
import difflib
import threading
import time
from typing import Any

from ..ros.names import expand_topic_name
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


def run(args: argparse.Namespace) -> int:
    """Run the parsed `service ...` command. Returns the exit code."""
    def body(args: argparse.Namespace, _stop: threading.Event) -> int:
        if args.service_verb == "list":
            return list_discovered(args, lambda transport: transport.discovered_services())
        return _call(args)

    return run_guarded(args, body, failures=(CallFailed,))


def _call(args: argparse.Namespace) -> int:
    from ..standalone.service_endpoints import DdsServiceClient, ServiceCallError
    from ..standalone.service_types import known_service_type, request_type

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
