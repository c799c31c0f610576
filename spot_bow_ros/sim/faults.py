"""FaultService of the simulated robot and the store of active service faults.

Payload services (e.g. bosdyn's `CameraBaseImageServicer`) raise and clear faults through it;
robot state can report `FaultStore.active()` as `service_fault_state.faults`.
"""

from __future__ import annotations

import threading

from bosdyn.api import fault_service_pb2_grpc
from bosdyn.api import service_fault_pb2 as sf

from .clock import RobotClock
from .headers import fill_response_header


def _key(fault_id: sf.ServiceFaultId) -> tuple[str, str, str]:
    return (fault_id.fault_name, fault_id.service_name, fault_id.payload_guid)


class FaultStore:
    """Active service faults keyed by (fault_name, service_name, payload_guid) (thread-safe)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._faults: dict[tuple[str, str, str], sf.ServiceFault] = {}

    def trigger(self, fault: sf.ServiceFault) -> bool:
        """Activate `fault`; False if a fault with that id is already active."""
        with self._lock:
            key = _key(fault.fault_id)
            if key in self._faults:
                return False
            stored = sf.ServiceFault()
            stored.CopyFrom(fault)
            self._faults[key] = stored
            return True

    def clear(self, fault_id: sf.ServiceFaultId, all_service: bool = False,
              all_payload: bool = False) -> int:
        """Clear one fault, or all of its service / payload; returns how many were cleared."""
        with self._lock:
            if all_service or all_payload:
                doomed = [k for k in self._faults
                          if (all_service and k[1] == fault_id.service_name)
                          or (all_payload and fault_id.payload_guid and k[2] == fault_id.payload_guid)]
            else:
                doomed = [k for k in [_key(fault_id)] if k in self._faults]
            for key in doomed:
                del self._faults[key]
            return len(doomed)

    def active(self) -> list[sf.ServiceFault]:
        with self._lock:
            return list(self._faults.values())


class FaultServicer(fault_service_pb2_grpc.FaultServiceServicer):

    def __init__(self, store: FaultStore, clock: RobotClock):
        self._store = store
        self._clock = clock

    def TriggerServiceFault(self, request, context):
        received = self._clock.robot_ns()
        response = sf.TriggerServiceFaultResponse()
        fault = sf.ServiceFault()
        fault.CopyFrom(request.fault)
        if not fault.HasField("onset_timestamp"):
            fault.onset_timestamp.seconds, fault.onset_timestamp.nanos = divmod(received, 10**9)
        response.status = (sf.TriggerServiceFaultResponse.STATUS_OK if self._store.trigger(fault)
                           else sf.TriggerServiceFaultResponse.STATUS_FAULT_ALREADY_ACTIVE)
        fill_response_header(response, request, self._clock, received)
        return response

    def ClearServiceFault(self, request, context):
        received = self._clock.robot_ns()
        response = sf.ClearServiceFaultResponse()
        cleared = self._store.clear(request.fault_id, request.clear_all_service_faults,
                                    request.clear_all_payload_faults)
        response.status = (sf.ClearServiceFaultResponse.STATUS_OK if cleared
                           else sf.ClearServiceFaultResponse.STATUS_FAULT_NOT_ACTIVE)
        fill_response_header(response, request, self._clock, received)
        return response
