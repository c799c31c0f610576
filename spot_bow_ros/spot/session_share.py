"""The run process's robot session, shared with its worker process: user token and clock skew.

With `spot-bow-ros run --processes 2` the run process is logged in to the robot and keeps the
time sync. Instead of a second password login and a second time sync, its worker gets over
its stdin, one JSON object per line (`SessionForwarder` writes, `SessionShare` reads):

- `{"share": true}` first when the run process has a robot session to share, else
  `{"share": false}` (the worker then logs in and syncs itself, as before);
- `{"token": "<user token>"}` when the run process's token is new (after its login, and after
  each refresh by bosdyn's token manager);
- `{"skew_ns": <robot clock minus local clock, ns>, "clock_id": "<robot clock identifier>"}`
  when its time-sync estimate changes (both together: a skew belongs to one robot clock).

The worker's `SpotConnection` (its `parent_session`) then sets the token on its bosdyn `Robot`
(`Robot.user_token`, read by the channel credentials on every call: no login RPC, no token
manager of its own: the run process's refreshes arrive here) and uses `SharedClock` where it
would start a `TimeSyncThread` (its Robot gets a `RobotClockView` of it, so RobotCommands
carry the run process's clock identifier): both processes convert robot stamps with the same
estimate, so their stamps are on one clock. When the stream ends (the run process is gone) the clock
stops, which the connection reports as a lost time sync, and `on_end` runs once.

The clock identifier lets the worker see a robot restart as the run process does
(`spot.time_resync.check_clock`: its health check asks the robot about that identifier, and a
new identifier from the run process whose old one the robot forgot is a restart): it says so in
one line and reconnects (lease, E-Stop and clients redone; motion latches as after any loss).
If the worker sees the restart first, the old clock is forgotten (`SharedClock.forget`) and the
worker reconnects once the run process forwards its new clock.

Tokens go through the pipe only: never in a file, an argument or the environment.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import IO, Any

from bosdyn.client.time_sync import NotEstablishedError, RobotTimeConverter, TimedOutError
from google.protobuf.duration_pb2 import Duration


class SharedClock:
    """Stands in for bosdyn's `TimeSyncThread` in a worker: the run process's clock skew.

    Offers what `SpotConnection` reads of a time-sync thread: `stopped`, `thread_exception`,
    `endpoint.clock_skew` (a Duration; NotEstablishedError before the first estimate),
    `endpoint.response` (None: no robot answer of our own) and `wait_for_sync(timeout_sec)`;
    `robot_clock_id` is the robot clock identifier the skew belongs to (None if not told)."""

    response = None

    def __init__(self):
        self._skew_ns: int | None = None
        self.robot_clock_id: str | None = None
        self._forgotten: set[str] = set()
        self._cond = threading.Condition()
        self.thread_exception: BaseException | None = None

    @property
    def endpoint(self) -> SharedClock:
        return self

    @property
    def stopped(self) -> bool:
        return self.thread_exception is not None

    @property
    def clock_skew(self) -> Duration:
        skew = self._skew_ns
        if skew is None:
            raise NotEstablishedError(None, "no clock skew from the run process yet")
        out = Duration()
        out.FromNanoseconds(skew)
        return out

    @property
    def established(self) -> bool:
        """A clock skew from the run process is known (and not forgotten)."""
        return self._skew_ns is not None

    def set_skew_ns(self, skew_ns: int, clock_id: str | None = None) -> None:
        """The run process's estimate (for robot clock `clock_id`); ignored for a forgotten clock."""
        with self._cond:
            if clock_id is not None and clock_id in self._forgotten:
                return
            self._skew_ns = int(skew_ns)
            if clock_id is not None:
                self.robot_clock_id = clock_id
            self._cond.notify_all()

    def forget(self, clock_id: str) -> None:
        """The robot restarted: `clock_id` is void. Not established again until the run process
        forwards a skew for another clock."""
        with self._cond:
            self._forgotten.add(clock_id)
            if self.robot_clock_id == clock_id:
                self._skew_ns = None
            self._cond.notify_all()

    def stop(self, reason: str) -> None:
        with self._cond:
            self.thread_exception = ConnectionError(reason)
            self._cond.notify_all()

    def wait_for_sync(self, timeout_sec: float = 3.0) -> None:
        """Until the first skew arrived; TimedOutError after `timeout_sec` or once stopped (the run
        process is gone: its estimate no longer follows the robot)."""
        with self._cond:
            self._cond.wait_for(lambda: self._skew_ns is not None or self.stopped, timeout_sec)
            if self._skew_ns is None or self.stopped:
                raise TimedOutError(None, "no clock skew from the run process")


class RobotClockView:
    """The shared clock as one worker Robot's time-sync "thread" (`Robot._time_sync_thread`), so
    bosdyn clients that take the robot's time sync (RobotCommandClient: `clock_identifier` of
    every request, `end_time_secs` conversions) use the run process's clock instead of starting a
    TimeSyncThread of their own. `start()`/`stop()` do nothing: the run process keeps the time
    sync, and closing one Robot must not stop the clock the next one uses."""

    time_sync_interval_sec = 0.0

    def __init__(self, clock: SharedClock):
        self._clock = clock

    @property
    def endpoint(self) -> RobotClockView:
        return self

    @property
    def stopped(self) -> bool:
        return self._clock.stopped

    @property
    def thread_exception(self) -> BaseException | None:
        return self._clock.thread_exception

    @property
    def has_established_time_sync(self) -> bool:
        return self._clock.robot_clock_id is not None and self._clock.established

    @property
    def clock_identifier(self) -> str:
        """The run process's robot clock identifier ("" before the first)."""
        return self._clock.robot_clock_id or ""

    @property
    def clock_skew(self) -> Duration:
        return self._clock.clock_skew

    def start(self) -> None:
        """Nothing to start: the run process syncs."""

    def stop(self) -> None:
        """Nothing to stop: the clock outlives this Robot."""

    def wait_for_sync(self, timeout_sec: float = 3.0) -> None:
        self._clock.wait_for_sync(timeout_sec)

    def get_robot_clock_skew(self, timesync_timeout_sec: float = 0) -> Duration:
        return self._clock.clock_skew

    def get_robot_time_converter(self, timesync_timeout_sec: float = 0) -> RobotTimeConverter:
        return RobotTimeConverter(self._clock.clock_skew.ToNanoseconds())

    def robot_timestamp_from_local_secs(self, local_time_secs: float, timesync_timeout_sec: float = 0):
        """google.protobuf.Timestamp on the robot clock (None for no time, as bosdyn's)."""
        if not local_time_secs:
            return None
        return self.get_robot_time_converter().robot_timestamp_from_local_secs(local_time_secs)


class SessionShare:
    """The worker's side: what the run process shares, read from a line stream (see module doc)."""

    def __init__(self):
        self.clock = SharedClock()
        self.token: str | None = None
        self.shared: bool | None = None       # None until the first line
        self._robots: list[Any] = []    # the Robot the token goes to
        self._lock = threading.Lock()
        self._first = threading.Event()

    def attach(self, robot: Any) -> None:
        """Give `robot` (a bosdyn Robot of this process) the current token and every later one,
        and the shared clock as its time sync (`RobotClockView`: no TimeSyncThread of its own)."""
        with self._lock:
            self._robots = [robot]   # a connection has one Robot at a time: the newest
            robot.user_token = self.token
            robot._time_sync_thread = RobotClockView(self.clock)

    def apply(self, message: dict) -> None:
        """One line of the stream (already parsed)."""
        if "share" in message:
            self.shared = bool(message["share"])
            self._first.set()
        if message.get("token"):
            with self._lock:
                self.token = str(message["token"])
                for robot in self._robots:
                    robot.user_token = self.token
        if "skew_ns" in message:
            clock_id = message.get("clock_id")
            self.clock.set_skew_ns(int(message["skew_ns"]), str(clock_id) if clock_id else None)

    def wait_first(self, timeout_s: float) -> bool:
        """True once the run process said whether it shares (False: nothing came in time)."""
        return self._first.wait(timeout_s)

    def follow(self, stream: IO[str], on_end: Callable[[], None] | None = None) -> threading.Thread:
        """Read `stream` in a daemon thread until it ends; then stop the clock and call `on_end`."""

        def read() -> None:
            for line in stream:
                try:
                    message = json.loads(line)
                except ValueError:
                    continue
                if isinstance(message, dict):
                    self.apply(message)
            self.clock.stop("the run process's session ended")
            self._first.set()
            if on_end is not None:
                on_end()

        thread = threading.Thread(target=read, name="run-session-share", daemon=True)
        thread.start()
        return thread


class SessionForwarder:
    """The run process's side: writes its connection's token and clock skew to a worker's stdin
    whenever they change (checked every `interval_s`), as JSON lines (module doc).
    `connection` None: says `{"share": false}` once and nothing more."""

    def __init__(self, connection: Any, stream: IO[str], interval_s: float = 0.2):
        self.connection, self.stream, self.interval_s = connection, stream, interval_s
        self._stop = threading.Event()
        self._sent: dict[str, Any] = {}
        self.lines = 0
        self._write({"share": connection is not None})
        self._thread = None
        if connection is not None:
            self._thread = threading.Thread(target=self._loop, name="run-session-forward", daemon=True)
            self._thread.start()

    def _write(self, message: dict) -> bool:
        try:
            self.stream.write(json.dumps(message) + "\n")
            self.stream.flush()
        except (BrokenPipeError, OSError, ValueError):  # the worker is gone (or closed)
            self._stop.set()
            return False
        self.lines += 1
        return True

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.send_changes()
            self._stop.wait(self.interval_s)

    def send_changes(self) -> None:
        """Send what changed since the last call (nothing while the connection is down)."""
        conn = self.connection
        if not conn.connected:
            return
        try:
            now = {"token": conn.robot.user_token}
            estimate = conn.clock_estimate()
        except Exception:  # noqa: BLE001 - reconnecting right now: next time
            return
        if estimate is not None:
            now["clock_id"], now["skew_ns"] = estimate
        changed = {k: v for k, v in now.items() if v is not None and self._sent.get(k) != v}
        if "skew_ns" in changed or "clock_id" in changed:   # a skew goes with its clock
            changed.update(skew_ns=now["skew_ns"], clock_id=now["clock_id"])
        if changed and self._write(changed):
            self._sent.update(changed)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)

