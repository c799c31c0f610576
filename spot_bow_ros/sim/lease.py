"""Lease service of the simulated Spot: acquire, take, return, retain (keep-alive), list.

Resources as on Spot: `body` is the root and owns `mobility` and (with the arm) `full-arm`,
which owns `arm` and `gripper`. A resource is claimed while it, an ancestor or a descendant is
held by a lease that has been used or retained within `stale_after_s`; a stale lease can be
acquired over, a held one only taken. Lease comparison uses bosdyn's own `test_active_lease`.
"""

from __future__ import annotations

import secrets
import string
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from bosdyn.api import lease_pb2, lease_service_pb2_grpc
from bosdyn.client.lease import Lease, test_active_lease

from .clock import RobotClock
from .headers import fill_response_header

LeaseUseResult = lease_pb2.LeaseUseResult


@dataclass
class _Holder:
    lease: Lease
    owner: lease_pb2.LeaseOwner
    last_used_local_ns: int


class LeaseManager:
    """The robot's lease table (thread-safe)."""

    def __init__(self, arm: bool = True, stale_after_s: float = 5.0):
        # a random 16-letter string, as ListLeases shows on Spot (e.g. "ZBEwqFkjbTznJRxU")
        self.epoch = "".join(secrets.choice(string.ascii_letters) for _ in range(16))
        self.stale_after_s = stale_after_s
        self._parents: dict[str, str | None] = {"body": None, "mobility": "body"}
        if arm:
            self._parents.update({"full-arm": "body", "arm": "full-arm", "gripper": "full-arm"})
        self._lock = threading.Lock()
        self._holders: dict[str, _Holder] = {}
        self._sequence: dict[str, int] = {r: 0 for r in self._parents}
        self._ever_held: set[str] = set()

    # ----- tree ---------------------------------------------------------------------------
    @property
    def resources(self) -> list[str]:
        return list(self._parents)

    def _ancestors(self, r: str) -> list[str]:
        out, p = [], self._parents[r]
        while p is not None:
            out.append(p)
            p = self._parents[p]
        return out

    def _descendants(self, r: str) -> list[str]:
        return [c for c in self._parents if r in self._ancestors(c)]

    def _is_stale(self, h: _Holder, now_ns: int) -> bool:
        return (now_ns - h.last_used_local_ns) > self.stale_after_s * 1e9

    def _new_lease(self, resource: str, client_name: str) -> Lease:
        self._sequence[resource] += 1
        # as on Spot: a sublease of the robot's root lease [n] -> [n, 0] named ["root", client];
        # clients advance the last number, a new acquire/take advances n
        proto = lease_pb2.Lease(resource=resource, epoch=self.epoch, sequence=[self._sequence[resource], 0],
                                client_names=["root", client_name or "unknown"])
        return Lease(proto)

    def _grant(self, resource: str, client_name: str, now_ns: int) -> Lease:
        for r in [resource] + self._descendants(resource) + self._ancestors(resource):
            self._holders.pop(r, None)
        lease = self._new_lease(resource, client_name)
        self._holders[resource] = _Holder(lease, lease_pb2.LeaseOwner(client_name=client_name), now_ns)
        self._ever_held.add(resource)
        return lease

    # ----- operations ---------------------------------------------------------------------
    def acquire(self, resource: str, client_name: str):
        """(AcquireLeaseResponse.Status, Lease | None, LeaseOwner | None)."""
        now = time.time_ns()
        with self._lock:
            if resource not in self._parents:
                return lease_pb2.AcquireLeaseResponse.STATUS_INVALID_RESOURCE, None, None
            for r in [resource] + self._ancestors(resource) + self._descendants(resource):
                h = self._holders.get(r)
                if h is not None and not self._is_stale(h, now):
                    return lease_pb2.AcquireLeaseResponse.STATUS_RESOURCE_ALREADY_CLAIMED, None, h.owner
            return lease_pb2.AcquireLeaseResponse.STATUS_OK, self._grant(resource, client_name, now), \
                lease_pb2.LeaseOwner(client_name=client_name)

    def take(self, resource: str, client_name: str):
        """(TakeLeaseResponse.Status, Lease | None, LeaseOwner | None)."""
        now = time.time_ns()
        with self._lock:
            if resource not in self._parents:
                return lease_pb2.TakeLeaseResponse.STATUS_INVALID_RESOURCE, None, None
            return lease_pb2.TakeLeaseResponse.STATUS_OK, self._grant(resource, client_name, now), \
                lease_pb2.LeaseOwner(client_name=client_name)

    def return_lease(self, lease_proto: lease_pb2.Lease) -> int:
        """ReturnLeaseResponse.Status."""
        with self._lock:
            if lease_proto.resource not in self._parents:
                return lease_pb2.ReturnLeaseResponse.STATUS_INVALID_RESOURCE
            h = self._holders.get(lease_proto.resource)
            if h is None:
                return lease_pb2.ReturnLeaseResponse.STATUS_NOT_ACTIVE_LEASE
            result, _ = test_active_lease(lease_proto, h.lease)
            if result.status != LeaseUseResult.STATUS_OK:
                return lease_pb2.ReturnLeaseResponse.STATUS_NOT_ACTIVE_LEASE
            del self._holders[lease_proto.resource]
            return lease_pb2.ReturnLeaseResponse.STATUS_OK

    def revoke(self, resource: str = "body") -> bool:
        """The robot revokes the active lease of `resource` (as Spot does e.g. after its comms-loss
        behavior): its holder's next use answers STATUS_REVOKED. True if one was active."""
        with self._lock:
            return self._holders.pop(resource, None) is not None

    def use(self, lease_proto: lease_pb2.Lease) -> LeaseUseResult:
        """Check a lease that accompanies a command (or a retain); OK refreshes its stale timer."""
        now = time.time_ns()
        with self._lock:
            if not lease_proto.resource or not lease_proto.sequence:
                r = LeaseUseResult(status=LeaseUseResult.STATUS_INVALID_LEASE)
                r.attempted_lease.CopyFrom(lease_proto)
                return r
            if lease_proto.resource not in self._parents:
                r = LeaseUseResult(status=LeaseUseResult.STATUS_UNMANAGED)
                r.attempted_lease.CopyFrom(lease_proto)
                return r
            h = self._holders.get(lease_proto.resource)
            if h is None:
                r = LeaseUseResult(status=LeaseUseResult.STATUS_REVOKED
                                   if lease_proto.epoch == self.epoch else LeaseUseResult.STATUS_WRONG_EPOCH)
                r.attempted_lease.CopyFrom(lease_proto)
                return r
            result, incoming = test_active_lease(lease_proto, h.lease)
            result.owner.CopyFrom(h.owner)
            if result.status == LeaseUseResult.STATUS_OK:
                h.last_used_local_ns = now
                if incoming is not None:
                    h.lease = Lease(result.latest_known_lease)
            return result

    def holder(self, resource: str = "body") -> lease_pb2.Lease | None:
        """The active lease of `resource` (proto copy) or None."""
        with self._lock:
            h = self._holders.get(resource)
            if h is None:
                return None
            copy = lease_pb2.Lease()
            copy.CopyFrom(h.lease.lease_proto)
            return copy

    def list(self) -> list[lease_pb2.LeaseResource]:
        now = time.time_ns()
        with self._lock:
            out = []
            for r in self._parents:
                entry = lease_pb2.LeaseResource(resource=r)
                h = self._holders.get(r)
                if h is not None:
                    entry.lease.CopyFrom(h.lease.lease_proto)
                    entry.lease_owner.CopyFrom(h.owner)
                    entry.is_stale = self._is_stale(h, now)
                out.append(entry)
            return out

    def resource_tree(self) -> lease_pb2.ResourceTree:
        def build(r: str) -> lease_pb2.ResourceTree:
            node = lease_pb2.ResourceTree(resource=r)
            for c, p in self._parents.items():
                if p == r:
                    node.sub_resources.append(build(c))
            return node
        return build("body")


class LeaseServicer(lease_service_pb2_grpc.LeaseServiceServicer):
    """bosdyn.api.LeaseService over a `LeaseManager`; `on_record(rpc, request, status, accepted)`
    is called for acquire/take/return so the robot's command log sees them."""

    def __init__(self, manager: LeaseManager, clock: RobotClock,
                 on_record: Callable[[str, object, str, bool], None] | None = None):
        self.manager = manager
        self.clock = clock
        self._record = on_record or (lambda *a: None)

    def AcquireLease(self, request, context):
        received = self.clock.robot_ns()
        status, lease, owner = self.manager.acquire(request.resource, request.header.client_name)
        resp = lease_pb2.AcquireLeaseResponse(status=status)
        if lease is not None:
            resp.lease.CopyFrom(lease.lease_proto)
        if owner is not None:
            resp.lease_owner.CopyFrom(owner)
        fill_response_header(resp, request, self.clock, received)
        self._record("AcquireLease", request, lease_pb2.AcquireLeaseResponse.Status.Name(status),
                     status == lease_pb2.AcquireLeaseResponse.STATUS_OK)
        return resp

    def TakeLease(self, request, context):
        received = self.clock.robot_ns()
        status, lease, owner = self.manager.take(request.resource, request.header.client_name)
        resp = lease_pb2.TakeLeaseResponse(status=status)
        if lease is not None:
            resp.lease.CopyFrom(lease.lease_proto)
        if owner is not None:
            resp.lease_owner.CopyFrom(owner)
        fill_response_header(resp, request, self.clock, received)
        self._record("TakeLease", request, lease_pb2.TakeLeaseResponse.Status.Name(status),
                     status == lease_pb2.TakeLeaseResponse.STATUS_OK)
        return resp

    def ReturnLease(self, request, context):
        received = self.clock.robot_ns()
        status = self.manager.return_lease(request.lease)
        resp = lease_pb2.ReturnLeaseResponse(status=status)
        fill_response_header(resp, request, self.clock, received)
        self._record("ReturnLease", request, lease_pb2.ReturnLeaseResponse.Status.Name(status),
                     status == lease_pb2.ReturnLeaseResponse.STATUS_OK)
        return resp

    def RetainLease(self, request, context):
        received = self.clock.robot_ns()
        resp = lease_pb2.RetainLeaseResponse()
        resp.lease_use_result.CopyFrom(self.manager.use(request.lease))
        fill_response_header(resp, request, self.clock, received)
        return resp

    def ListLeases(self, request, context):
        received = self.clock.robot_ns()
        resp = lease_pb2.ListLeasesResponse()
        resp.resources.extend(self.manager.list())
        resp.resource_tree.CopyFrom(self.manager.resource_tree())
        fill_response_header(resp, request, self.clock, received)
        return resp
