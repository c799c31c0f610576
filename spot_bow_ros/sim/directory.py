"""The robot's service directory: the robot's own services and registered payload services.

Payload services register a short authority (e.g. `robot-web-cam`); the robot lists it as
`robot-web-cam.spot.robot` (covered by its `*.spot.robot` certificate) and proxies calls
with that `:authority` to the registered host and port (see `router.py`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from bosdyn.api import directory_pb2, directory_registration_service_pb2_grpc, directory_service_pb2_grpc
from bosdyn.api import directory_registration_pb2 as dreg

from .clock import RobotClock
from .headers import CODE_INVALID_REQUEST, fill_response_header

ROBOT_DOMAIN = "spot.robot"


def expand_authority(authority: str) -> str:
    """`robot-web-cam` -> `robot-web-cam.spot.robot`; full names are kept (lower case, no port)."""
    name = authority.strip().lower().split(":")[0]
    return name if "." in name else f"{name}.{ROBOT_DOMAIN}"


@dataclass(frozen=True)
class Route:
    """Where calls for one authority go: the robot itself (host None) or a payload host:port."""

    host: str | None = None
    port: int | None = None
    user_token_required: bool = True

    @property
    def is_robot(self) -> bool:
        return self.host is None


@dataclass
class _Entry:
    entry: directory_pb2.ServiceEntry
    route: Route


class Directory:
    """Service entries by name (thread-safe). Robot services have no endpoint."""

    def __init__(self, clock: RobotClock):
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}

    def _stamp(self, entry: directory_pb2.ServiceEntry) -> None:
        entry.last_update.seconds, entry.last_update.nanos = divmod(self._clock.robot_ns(), 10**9)

    def add_robot_service(self, name: str, service_type: str, authority: str,
                          user_token_required: bool = True) -> None:
        """List one of the robot's own services."""
        entry = directory_pb2.ServiceEntry(name=name, type=service_type,
                                           authority=expand_authority(authority),
                                           user_token_required=user_token_required)
        self._stamp(entry)
        with self._lock:
            self._entries[name] = _Entry(entry, Route(None, None, user_token_required))

    def _conflict(self, entry: directory_pb2.ServiceEntry, ignore_name: str | None) -> bool:
        return any(e.entry.authority == entry.authority and e.entry.type == entry.type
                   for n, e in self._entries.items() if n != ignore_name)

    def register(self, entry: directory_pb2.ServiceEntry, host: str, port: int) -> bool:
        """Add a payload service; False if its name or (authority, type) is taken."""
        stored = self._prepare(entry)
        with self._lock:
            if stored.name in self._entries or self._conflict(stored, None):
                return False
            self._entries[stored.name] = _Entry(stored, Route(host, port, stored.user_token_required))
            return True

    def update(self, entry: directory_pb2.ServiceEntry, host: str, port: int) -> bool:
        """Replace a payload service's entry; False if no service has that name."""
        stored = self._prepare(entry)
        with self._lock:
            old = self._entries.get(stored.name)
            if old is None or old.route.is_robot:
                return False
            self._entries[stored.name] = _Entry(stored, Route(host, port, stored.user_token_required))
            return True

    def unregister(self, name: str) -> bool:
        with self._lock:
            old = self._entries.get(name)
            if old is None or old.route.is_robot:
                return False
            del self._entries[name]
            return True

    def _prepare(self, entry: directory_pb2.ServiceEntry) -> directory_pb2.ServiceEntry:
        stored = directory_pb2.ServiceEntry()
        stored.CopyFrom(entry)
        stored.authority = expand_authority(entry.authority)
        self._stamp(stored)
        return stored

    def list(self) -> list[directory_pb2.ServiceEntry]:
        with self._lock:
            return [e.entry for e in self._entries.values()]

    def get(self, name: str) -> directory_pb2.ServiceEntry | None:
        with self._lock:
            found = self._entries.get(name)
            return None if found is None else found.entry

    def route(self, authority: str) -> Route | None:
        """Where a call with `:authority` `authority` goes; None if no service has it.

        The robot's own services answer on every robot authority; a payload authority goes to
        the endpoint of its (most recent) registration.
        """
        name = expand_authority(authority)
        with self._lock:
            payload = [e for e in self._entries.values()
                       if e.entry.authority == name and not e.route.is_robot]
            if payload:
                return payload[-1].route
            if any(e.entry.authority == name for e in self._entries.values()):
                return Route()
        return None


class DirectoryServicer(directory_service_pb2_grpc.DirectoryServiceServicer):

    def __init__(self, directory: Directory, clock: RobotClock):
        self._directory = directory
        self._clock = clock

    def GetServiceEntry(self, request, context):
        received = self._clock.robot_ns()
        response = directory_pb2.GetServiceEntryResponse()
        entry = self._directory.get(request.service_name)
        if entry is None:
            response.status = directory_pb2.GetServiceEntryResponse.STATUS_NONEXISTENT_SERVICE
        else:
            response.status = directory_pb2.GetServiceEntryResponse.STATUS_OK
            response.service_entry.CopyFrom(entry)
        fill_response_header(response, request, self._clock, received)
        return response

    def ListServiceEntries(self, request, context):
        received = self._clock.robot_ns()
        response = directory_pb2.ListServiceEntriesResponse()
        response.service_entries.extend(self._directory.list())
        fill_response_header(response, request, self._clock, received)
        return response


def _endpoint_error(request) -> str:
    if not request.service_entry.name:
        return "service_entry.name is empty"
    if not request.service_entry.type:
        return "service_entry.type is empty"
    if not request.service_entry.authority:
        return "service_entry.authority is empty"
    if not request.endpoint.host_ip or not 0 < request.endpoint.port < 65536:
        return "endpoint host_ip/port missing or out of range"
    return ""


class DirectoryRegistrationServicer(directory_registration_service_pb2_grpc.DirectoryRegistrationServiceServicer):

    def __init__(self, directory: Directory, clock: RobotClock):
        self._directory = directory
        self._clock = clock

    def RegisterService(self, request, context):
        received = self._clock.robot_ns()
        response = dreg.RegisterServiceResponse()
        problem = _endpoint_error(request)
        if problem:
            fill_response_header(response, request, self._clock, received, CODE_INVALID_REQUEST, problem)
            return response
        ok = self._directory.register(request.service_entry, request.endpoint.host_ip,
                                      request.endpoint.port)
        response.status = (dreg.RegisterServiceResponse.STATUS_OK if ok
                           else dreg.RegisterServiceResponse.STATUS_ALREADY_EXISTS)
        fill_response_header(response, request, self._clock, received)
        return response

    def UpdateService(self, request, context):
        received = self._clock.robot_ns()
        response = dreg.UpdateServiceResponse()
        problem = _endpoint_error(request)
        if problem:
            fill_response_header(response, request, self._clock, received, CODE_INVALID_REQUEST, problem)
            return response
        ok = self._directory.update(request.service_entry, request.endpoint.host_ip,
                                    request.endpoint.port)
        response.status = (dreg.UpdateServiceResponse.STATUS_OK if ok
                           else dreg.UpdateServiceResponse.STATUS_NONEXISTENT_SERVICE)
        fill_response_header(response, request, self._clock, received)
        return response

    def UnregisterService(self, request, context):
        received = self._clock.robot_ns()
        response = dreg.UnregisterServiceResponse()
        ok = self._directory.unregister(request.service_name)
        response.status = (dreg.UnregisterServiceResponse.STATUS_OK if ok
                           else dreg.UnregisterServiceResponse.STATUS_NONEXISTENT_SERVICE)
        fill_response_header(response, request, self._clock, received)
        return response
