"""TimeSyncService of the simulated robot: NTP-style estimates against the robot clock.

For each client round trip (client_tx, server_rx, server_tx, client_rx), with server times on
the robot clock and client times on the client clock:
  round_trip_time = (client_rx - client_tx) - (server_tx - server_rx)
  clock_skew      = ((server_rx - client_tx) + (server_tx - client_rx)) / 2   (robot - local)
The best estimate is the sample with the smallest round trip among the most recent ones (recent
only, so a drifting robot clock is followed).

The server assigns the clock identifier on a client's first request, and a new one to a request
carrying an identifier it did not assign (a client of the robot before a restart: `SimulatedSpot`
restarted on the same port, as a real robot does after a reboot); a clock counts as synced
(`is_synced`, what RobotCommand checks, STATUS_NO_TIMESYNC otherwise) once it reported STATUS_OK.
`ready_after_s` keeps every clock at STATUS_MORE_SAMPLES_NEEDED for that long after the service
starts, as a robot that has just booted does.

`clock_stepped()` (the robot's clock jumped, `SimulatedSpot.step_clock`): the samples taken
before the step measure the old clock, so they are dropped, and so is a later sample whose
server times the service handed out before the step (a client's previous round trip); clocks
keep their identifiers and stay synced (commands are still accepted) while the estimate is
rebuilt (STATUS_MORE_SAMPLES_NEEDED until MIN_SAMPLES new round trips). (Inferred: a real robot's
estimator must likewise stop using measurements of a clock it stepped.)
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import deque

from bosdyn.api import time_sync_pb2, time_sync_service_pb2_grpc

from .clock import RobotClock
from .headers import fill_response_header

#: Round trips needed before the service reports STATUS_OK.
MIN_SAMPLES = 5
#: Samples considered for the best estimate.
WINDOW = 10


def _ns(ts) -> int:
    return ts.seconds * 1_000_000_000 + ts.nanos


def _set_duration(duration, ns: int) -> None:
    duration.seconds, duration.nanos = divmod(int(ns), 1_000_000_000)


class TimeSyncServicer(time_sync_service_pb2_grpc.TimeSyncServiceServicer):

    def __init__(self, clock: RobotClock, ready_after_s: float = 0.0):
        self._clock = clock
        self._lock = threading.Lock()
        self._samples: dict[str, deque] = {}
        self._synced: set[str] = set()
        #: robot-clock receive times handed out since the last clock step (a sample must use one)
        self._issued: deque[int] = deque(maxlen=4096)
        self._ready_at = time.monotonic() + max(0.0, float(ready_after_s))

    def is_synced(self, identifier: str) -> bool:
        """True if `identifier` is a clock this service assigned and has reported STATUS_OK."""
        with self._lock:
            return bool(identifier) and identifier in self._synced

    def clock_stepped(self) -> None:
        """The robot clock jumped: forget every sample and every receive time issued before."""
        with self._lock:
            for samples in self._samples.values():
                samples.clear()
            self._issued.clear()

    def TimeSyncUpdate(self, request, context):
        received = self._clock.robot_ns()
        response = time_sync_pb2.TimeSyncUpdateResponse()
        rt = request.previous_round_trip
        with self._lock:
            known = request.clock_identifier in self._samples
            identifier = request.clock_identifier if known else uuid.uuid4().hex
            samples = self._samples.setdefault(identifier, deque(maxlen=WINDOW))
            current = _ns(rt.server_rx) in self._issued
            self._issued.append(received)
            if known and request.HasField("previous_round_trip") and _ns(rt.client_tx) and current:
                rtt = (_ns(rt.client_rx) - _ns(rt.client_tx)) - (_ns(rt.server_tx) - _ns(rt.server_rx))
                skew = ((_ns(rt.server_rx) - _ns(rt.client_tx)) + (_ns(rt.server_tx) - _ns(rt.client_rx))) // 2
                samples.append((max(rtt, 0), skew))
                _set_duration(response.previous_estimate.round_trip_time, max(rtt, 0))
                _set_duration(response.previous_estimate.clock_skew, skew)
            best = min(samples, key=lambda s: s[0]) if samples else None
            count = len(samples)
        response.clock_identifier = identifier
        state = response.state
        if best is not None and count >= MIN_SAMPLES and time.monotonic() >= self._ready_at:
            with self._lock:
                self._synced.add(identifier)
            state.status = time_sync_pb2.TimeSyncState.STATUS_OK
            _set_duration(state.best_estimate.round_trip_time, best[0])
            _set_duration(state.best_estimate.clock_skew, best[1])
        else:
            state.status = time_sync_pb2.TimeSyncState.STATUS_MORE_SAMPLES_NEEDED
        state.measurement_time.seconds, state.measurement_time.nanos = divmod(received, 10**9)
        fill_response_header(response, request, self._clock, received)
        return response
