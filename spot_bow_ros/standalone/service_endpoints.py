"""ROS 2 services over Cyclone DDS without ROS, following rmw_cyclonedds_cpp (see `srv_types`).

`DdsServiceServer`: the request reader `rq/<name>Request` and the reply writer `rr/<name>Reply`
of one service, both with the service QoS (rmw's `rmw_qos_profile_services_default`: reliable,
volatile, keep-last 10; parameter services: keep-last 1000) and USER_DATA `serviceid=<csid>;`
(+ `typehash=` on Iron and later). Both are listed with their node on `ros_discovery_info`, so
`ros2 service list` and `ros2 param` find them. Requests are taken on the transport's receive
thread and handed to `handler(request, respond)`; `respond(response)` may be called later from
any thread. Before replying the server waits (up to `REPLY_MATCH_TIMEOUT_S`) until the
client's reply reader (same `clientid=`) is matched, as `rmw_send_response` does, so the first
call of a fresh client is not lost.

`DdsServiceClient`: the other side (used by `spot-bow-ros service call` and `ros2 param`-like
tools): waits for the service, sends a request with its own guid/sequence number and takes the
reply carrying them.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from cyclonedds._clayer import ddspy_take, ddspy_write
from cyclonedds.core import DDSException, InstanceState, Policy, SampleState, ViewState
from cyclonedds.pub import DataWriter
from cyclonedds.sub import DataReader

from ..ros.qos import QoS
from .cdr_encoder import pad_cdr
from .dds_domain import DdsError, delete_entity
from .dds_endpoints import ReceiveEndpoint
from .dds_idl import service_idl_struct
from .dds_qos import dds_qos
from .service_types import (
    PARAMETERS_QOS,
    REPLY_PREFIX,
    REQUEST_PREFIX,
    SERVICES_QOS,
    csid_string,
    pack_sample,
    request_type,
    response_type,
    unpack_sample,
    user_data_value,
)

#: How long a reply waits for the calling client's reply reader to be matched.
REPLY_MATCH_TIMEOUT_S = 1.0

_ANY = SampleState.Any | ViewState.Any | InstanceState.Any
_log = logging.getLogger("spot_bow_ros.dds")
_csid_counter = itertools.count(1)

Respond = Callable[[Any], None]


def _csid(transport: Any) -> bytes:
    """A client/service id as rmw_cyclonedds_cpp builds it: the participant's GUID prefix
    (12 bytes) and a big-endian per-process counter."""
    return bytes(transport.gid[:12]) + next(_csid_counter).to_bytes(4, "big")


def _topics(transport: Any, name: str, srv_type: str) -> tuple[Any, Any]:
    store = transport.messages.typestore
    req, rep = request_type(srv_type), response_type(srv_type)
    return (transport._topic(name, req, f"{REQUEST_PREFIX}{name}Request", service_idl_struct(store, req)),
            transport._topic(name, rep, f"{REPLY_PREFIX}{name}Reply", service_idl_struct(store, rep)))


def _encode(transport: Any, msg: Any, type_name: str, guid: int, seq: int) -> bytes:
    body = pad_cdr(transport.messages.typestore.serialize_cdr(msg, type_name))
    return pack_sample(guid, seq, body)


def _endpoint_user_data(endpoint: Any) -> bytes | None:
    qos = getattr(endpoint, "qos", None)
    for policy in qos or ():
        if isinstance(policy, Policy.Userdata):
            return policy.data
    return None


class _ReplyWriter:
    """The reply writer as the transport lists it (graph: gid and node)."""

    def __init__(self, server: DdsServiceServer, dw: DataWriter[Any]):
        self.server, self._dw, self.node = server, dw, server.node
        self.gid = dw.guid.bytes
        self.topic = server.name

    def close(self) -> None:
        self.server.close()


class DdsServiceServer(ReceiveEndpoint):
    """One service of a node on the DDS domain (see the module docstring)."""

    def __init__(self, transport: Any, node: Any, name: str, srv_type: str,
                 handler: Callable[[Any, Respond], None], qos: QoS = SERVICES_QOS):
        self.transport, self.node, self.name, self.srv_type = transport, node, name, srv_type
        self.handler = handler
        self.req_type, self.resp_type = request_type(srv_type), response_type(srv_type)
        self.csid = _csid(transport)
        prefix = f"serviceid={csid_string(self.csid)};"
        req_topic, rep_topic = _topics(transport, name, srv_type)
        self._init_reader(DataReader(transport._subscriber, req_topic,
                                     dds_qos(qos, transport._user_data(self.req_type, prefix))))
        self._dw = DataWriter(transport._publisher, rep_topic,
                              dds_qos(qos, transport._user_data(self.resp_type, prefix)))
        self.writer = _ReplyWriter(self, self._dw)
        transport.add_endpoint(reader=self, writer=self.writer)

    # -- receive thread -----------------------------------------------------------------------
    def drain(self) -> None:
        while not self._closed:
            ret = ddspy_take(self._ref, _ANY, 16)
            if isinstance(ret, int) or not ret:
                return
            for data, info in ret:
                if info.valid_data:
                    self._on_sample(data, info.publication_handle)

    def _on_sample(self, data: bytes, writer_handle: int) -> None:
        self.received += 1
        try:
            guid, seq, body = unpack_sample(data)
            request = self.transport.messages.typestore.deserialize_cdr(body, self.req_type)
        except Exception as exc:  # noqa: BLE001 - one line per service, keep serving
            self._error_once(f"dropping a request to {self.name} ({self.srv_type}): {type(exc).__name__}: {exc}")
            return
        self.handler(request, lambda response: self._reply(guid, seq, writer_handle, response))

    # -- replies ------------------------------------------------------------------------------
    def _reply(self, guid: int, seq: int, writer_handle: int, response: Any) -> None:
        if self._closed:
            return
        self._wait_for_client_reader(writer_handle)
        ret = ddspy_write(self._dw._ref, _encode(self.transport, response, self.resp_type, guid, seq))
        if ret < 0:
            _log.error(f"replying on {self.name} failed: DDS error {ret}")

    def _wait_for_client_reader(self, writer_handle: int) -> None:
        """Wait until the reply reader of the client whose request writer is `writer_handle` is
        matched (same `clientid=`), like rmw_send_response; clients without an id are trusted."""
        try:
            writer = self._dr.get_matched_publication_data(writer_handle)
        except DDSException:
            return  # the client is gone: the reply goes nowhere anyway
        clientid = user_data_value(_endpoint_user_data(writer), "clientid") if writer is not None else None
        if clientid is None:
            return
        deadline = time.monotonic() + REPLY_MATCH_TIMEOUT_S
        while not self._closed:
            try:
                for handle in self._dw.get_matched_subscriptions():
                    reader = self._dw.get_matched_subscription_data(handle)
                    if reader is not None and user_data_value(_endpoint_user_data(reader), "clientid") == clientid:
                        return
            except DDSException:
                return
            if time.monotonic() >= deadline:
                _log.warning(f"{self.name}: the client's reply reader is not matched after "
                             f"{REPLY_MATCH_TIMEOUT_S:g} s; replying anyway")
                return
            time.sleep(0.01)

    def close(self) -> None:
        if self._close_reader():
            self.transport._forget_writer(self.writer)
            delete_entity(self._dw)


class ServiceCallError(RuntimeError):
    """A service call did not get a reply (not available, timeout). The message says which."""


class DdsServiceClient:
    """Calls one service on the DDS domain (see the module docstring)."""

    def __init__(self, transport: Any, name: str, srv_type: str, qos: QoS = SERVICES_QOS):
        self.transport, self.name, self.srv_type = transport, name, srv_type
        self.req_type, self.resp_type = request_type(srv_type), response_type(srv_type)
        prefix = f"clientid={csid_string(_csid(transport))};"
        req_topic, rep_topic = _topics(transport, name, srv_type)
        self._dw = DataWriter(transport._publisher, req_topic,
                              dds_qos(qos, transport._user_data(self.req_type, prefix)))
        self._dr = DataReader(transport._subscriber, rep_topic,
                              dds_qos(qos, transport._user_data(self.resp_type, prefix)))
        self.guid = int(self._dw.get_instance_handle()) & 0xFFFFFFFFFFFFFFFF  # signed in Python
        self._seq = itertools.count(1)
        self._lock = threading.Lock()

    def service_is_ready(self) -> bool:
        """A server's request reader and reply writer are both matched."""
        return bool(self._dw.get_matched_subscriptions()) and bool(self._dr.get_matched_publications())

    def wait_for_service(self, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while not self.service_is_ready():
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)
        return True

    def call(self, request: Any, timeout_s: float = 5.0) -> Any:
        """Send `request` and return the reply (a response message); ServiceCallError on timeout."""
        if not self.wait_for_service(timeout_s):
            raise ServiceCallError(f"service {self.name} ({self.srv_type}) is not available")
        with self._lock:
            seq = next(self._seq)
            ret = ddspy_write(self._dw._ref, _encode(self.transport, request, self.req_type, self.guid, seq))
            if ret < 0:
                raise DdsError(f"sending a request to {self.name} failed: DDS error {ret}")
            deadline = time.monotonic() + timeout_s
            while time.monotonic() < deadline:
                taken = ddspy_take(self._dr._ref, _ANY, 16)
                for data, info in (taken if not isinstance(taken, int) else ()):
                    if not info.valid_data:
                        continue
                    guid, got_seq, body = unpack_sample(data)
                    if guid == self.guid and got_seq == seq:
                        return self.transport.messages.typestore.deserialize_cdr(body, self.resp_type)
                time.sleep(0.005)
        raise ServiceCallError(f"service {self.name} did not reply within {timeout_s:g} s")

    def close(self) -> None:
        delete_entity(self._dr)
        delete_entity(self._dw)


__all__ = ["DdsServiceServer", "DdsServiceClient", "ServiceCallError", "SERVICES_QOS", "PARAMETERS_QOS"]
