"""The one place that connects to a Spot (real or simulated).

Every Spot bridge declares `CONNECTION_PARAMS`, builds a `ConnectionConfig.from_params(values)`
and gets a `SpotConnection` (bridges of one process share one: `SpotConnection.shared(config)`).
A connection owns one bosdyn `Robot` at a time, with its token refresher and ONE
`TimeSyncThread`; it is "connected" only after authentication AND the first time sync, so the
robot clock skew is known before anybody converts a stamp.

When the robot goes away (health check or time sync fails) the connection logs one line per
state change (connected / lost / reconnecting / recovered), retries with exponential backoff
(re-reading `sim_info_file` each time: a restarted simulator may have a new port) and, once
back, calls every `on_connected(robot)` callback so bridges re-create their clients.
Bridges should fetch clients through `connection.ensure_client(name)` when they use them
rather than caching them across reconnections.

Make before break: a lost session's channels stay open until a new session is installed and
every `on_connected` callback has moved its clients over; only then is the old one closed. A
keep-alive running on an old client (the software E-Stop's check-ins, the lease keep-alive)
therefore goes on over the old channel while the connection is re-established (or fails with the
robot's own transport error if it is really gone), never with a closed-channel ValueError, and a
stop still reaches the robot. The health check asks the robot twice before declaring it lost (one
slow answer on a loaded machine does not tear the connection down); a robot that restarted between
two checks has a new time-sync clock (`spot.time_resync`): one line, re-sync at once, reconnect
(also in a `run --processes 2` worker, which uses the run process's clock); a step of the robot's
clock (same clock identifier): re-sync at once, one line with the old and new skew
(`spot.connection_clock`, which also holds the skew and the stamp conversions).

Credentials (password, payload secret, tokens) never appear in logs or in `repr(config)`.
The parameters and `ConnectionConfig` live in `spot.connection_config`, the one-line failure
diagnosis in `spot.connection_diagnosis`.
Log calls use preformatted strings (rclpy loggers take one message argument).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import bosdyn.client
from bosdyn.client.auth import InvalidLoginError, InvalidTokenError
from bosdyn.client.exceptions import Error as BosdynError
from bosdyn.client.payload_registration import (
    InvalidPayloadCredentialsError,
    PayloadNotAuthorizedError,
    PayloadRegistrationClient,
)
from bosdyn.client.robot import UnregisteredServiceNameError
from bosdyn.client.robot_id import RobotIdClient
from bosdyn.client.robot_state import RobotStateStreamingClient
from bosdyn.client.time_sync import TimeSyncError

from ..convert import time as tconv
from .connection_clock import ConnectionClock
from .connection_config import ConnectionConfig, ConnectionConfigError
from .connection_diagnosis import LOGIN_LOCKOUT_ATTEMPTS, diagnose_endpoint, error_reason, is_transport_failure
from .connection_errors import (
    NotConnectedError,
    SpotAuthenticationError,
    SpotConnectionError,
    SpotUnreachableError,
    TimeSyncUnavailableError,
)
from .time_resync import held_clock_identifier, shared_clock_current, wait_for_time_sync

# TODO phase 2 (issue 22): ConnectionConfig and ConnectionConfigError are re-exported for
# cli/run.py (busy on another branch), which still imports them from here; everything else imports
# them from `spot.connection_config`.
__all__ = [
    "EXTRA_CLIENTS", "SDK_LOGGER_NAME", "NotConnectedError", "SpotAuthenticationError", "SpotConnection",
    "SpotConnectionError", "SpotUnreachableError", "TimeSyncUnavailableError",
    # re-exported from spot.connection_config for cli/run.py
    "ConnectionConfig", "ConnectionConfigError",
]

#: bosdyn clients registered on every connection in addition to the SDK's standard ones.
EXTRA_CLIENTS: tuple[type, ...] = (RobotStateStreamingClient,)


#: bosdyn clients log every request and response at DEBUG under their Sdk's logger, including
#: passwords, payload secrets and tokens. Our Sdks log under this logger, kept at INFO or above
#: unless somebody set its level explicitly (SDK_LOGGER_NAME = DEBUG shows the dumps again).
SDK_LOGGER_NAME = "spot_bow_ros.bosdyn_sdk"


def _sdk_logger() -> logging.Logger:
    logger = logging.getLogger(SDK_LOGGER_NAME)
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)
    return logger


class _Session:
    """One Sdk + Robot (authenticated, time-synced)."""

    def __init__(self, sdk: Any, robot: Any) -> None:
        self.sdk = sdk
        self.robot = robot
        #: The robot's TimeSyncThread (kept here: `robot.time_sync` restarts a stopped thread).
        self.time_sync: Any = None
        #: robot clock identifier at sync (a worker: the run process's); restarted: a new one since
        #: (time_resync); checked_skew_ns: the clock skew at the last health check (ns)
        self.clock_id, self.restarted, self.resync_lock = "", False, threading.Lock()
        self.checked_skew_ns: int | None = None

    def close(self) -> None:
        try:
            self.sdk.clear_robots()  # stops the robot's time sync and token refresh threads
        except Exception:  # noqa: BLE001 - closing must go on
            pass
        try:
            self.robot.shutdown()  # closes its channels
        except Exception:  # noqa: BLE001
            pass


class SpotConnection(ConnectionClock):
    """A managed connection to one robot; see the module docstring (time: `ConnectionClock`)."""

    _shared: dict[tuple[Any, ...], list[Any]] = {}   # sharing key -> [connection, users]
    _shared_lock = threading.Lock()
    #: In a worker process of `spot-bow-ros run`: the run process's session
    #: (`spot.session_share.SessionShare`): its user token instead of a login of our own, its
    #: clock skew instead of a time sync of our own. None: log in and sync ourselves.
    parent_session: Any = None

    def __init__(self, config: ConnectionConfig, logger: Any = None) -> None:
        self.config = config
        self._log = logger or logging.getLogger(__name__)
        self._lock = threading.RLock()
        self._session: _Session | None = None
        # Clients every bridge may need that bosdyn's standard list lacks (so it does not matter
        # which bridge of a composed process connects first).
        self._client_classes: list[Any] = list(EXTRA_CLIENTS)
        self._connected_cbs: list[Callable[[Any], None]] = []
        self._disconnected_cbs: list[Callable[[], None]] = []
        self._closed = threading.Event()
        self._wake = threading.Event()   # the monitor checks at once (a restart was seen)
        self._connected_event = threading.Event()
        self._monitor: threading.Thread | None = None
        self._last_skew_ns: int | None = None
        self._share_key: tuple[Any, ...] | None = None
        self._connect_lock = threading.Lock()
        self._last_error: BaseException | None = None
        #: lost sessions whose channels stay open until the next session's callbacks ran
        self._retired: list[_Session] = []

    # -- sharing ----------------------------------------------------------------------------
    @classmethod
    def shared(cls, config: ConnectionConfig, logger: Any = None) -> SpotConnection:
        """The process-wide connection for `config` (created on first use, reference counted).

        Each caller calls `shutdown()` once; the last one really shuts it down.
        """
        key = config.sharing_key()
        with cls._shared_lock:
            entry = cls._shared.get(key)
            if entry is None or entry[0]._closed.is_set():
                conn = cls(config, logger)
                conn._share_key = key
                entry = cls._shared[key] = [conn, 0]
            entry[1] += 1
            shared: SpotConnection = entry[0]
            return shared

    @classmethod
    def existing(cls, config: ConnectionConfig) -> SpotConnection | None:
        """The process-wide connection for `config` if there is one (not closed), else None."""
        with cls._shared_lock:
            entry = cls._shared.get(config.sharing_key())
        return entry[0] if entry is not None and not entry[0]._closed.is_set() else None

    # -- state ------------------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        return self._connected_event.is_set()

    @property
    def robot(self) -> Any:
        """The current bosdyn Robot (authenticated, time-synced). Raises NotConnectedError."""
        session = self._session
        if session is None:
            raise NotConnectedError(f"not connected to Spot at {self.config.address}")
        return session.robot

    def wait_until_connected(self, timeout: float | None = None) -> bool:
        return self._connected_event.wait(timeout)

    def on_connected(self, callback: Callable[[Any], None]) -> None:
        """Call `callback(robot)` after every (re)connection; at once if connected now."""
        with self._lock:
            self._connected_cbs.append(callback)
            robot = self._session.robot if self._session and self.connected else None
        if robot is not None:
            self._run_callback(callback, robot)

    def on_disconnected(self, callback: Callable[[], None]) -> None:
        """Call `callback()` when the connection is lost."""
        with self._lock:
            self._disconnected_cbs.append(callback)

    def register_client(self, client_class: Any) -> None:
        """Make a bosdyn client class (e.g. RobotStateStreamingClient) available to ensure_client."""
        with self._lock:
            if client_class not in self._client_classes:
                self._client_classes.append(client_class)
            if self._session is not None:
                self._session.sdk.register_service_client(client_class)
                self._session.robot.service_client_factories_by_type[client_class.service_type] = client_class
                self._session.robot.service_type_by_name.setdefault(client_class.default_service_name,
                                                                    client_class.service_type)

    def ensure_client(self, service_name: str) -> Any:
        """A bosdyn client of the current robot.

        A name the robot object does not know yet (e.g. a payload service registered after we
        connected) is looked up in the robot's directory first. Raises
        `bosdyn.client.robot.UnregisteredServiceNameError` if the directory does not have it.
        """
        robot = self.robot
        try:
            return robot.ensure_client(service_name)
        except UnregisteredServiceNameError:
            robot.sync_with_directory()
            return robot.ensure_client(service_name)

    # -- connecting -------------------------------------------------------------------------
    def connect(self, timeout: float | None = None) -> Any:
        """Connect now (blocking) and keep the connection up afterwards; returns the Robot.

        Retries an unreachable robot until `timeout` (default config.connect_timeout); raises
        SpotAuthenticationError at once on rejected credentials, SpotConnectionError on timeout.
        Safe to call from several bridges/threads: one connection attempt runs at a time, and a
        caller finding the background monitor already (re)connecting waits for it.
        """
        if self.connected:
            return self.robot
        deadline = time.monotonic() + (self.config.connect_timeout if timeout is None else timeout)
        if self._closed.is_set():
            raise SpotConnectionError(f"connection to Spot at {self.config.address} was shut down")
        if self._monitor is not None:
            while not self._connected_event.wait(0.05):
                err = self._last_error
                if isinstance(err, SpotAuthenticationError):
                    raise err
                if time.monotonic() >= deadline or self._closed.is_set():
                    raise SpotConnectionError(f"cannot connect to Spot at {self.config.address}: {err}")
            return self.robot
        delay, last = 0.1, None
        while True:
            with self._connect_lock:
                if self._connected_event.is_set():   # the monitor connected meanwhile
                    return self.robot
                try:
                    config = self.config.reload()
                    session = self._open(config, max(0.5, deadline - time.monotonic()))
                except SpotAuthenticationError:
                    raise
                except (SpotConnectionError, ConnectionConfigError) as err:
                    last = err
                else:
                    installed = self._install(session, config, recovered_after=None)
                    break
            if time.monotonic() + delay >= deadline or self._closed.is_set():
                if isinstance(last, SpotUnreachableError):
                    raise SpotUnreachableError(str(last)) from last
                raise SpotConnectionError(f"cannot connect to Spot at {self.config.address}: {last}") from last
            time.sleep(delay)
            delay = min(delay * 2, self.config.reconnect_max_backoff)
        if not installed:
            raise SpotConnectionError(f"connection to Spot at {self.config.address} was shut down")
        self._notify_connected()
        self._start_monitor()
        return self.robot

    def start(self) -> None:
        """Connect in the background (non-blocking); `on_connected` callbacks say when."""
        self._start_monitor()

    def _start_monitor(self) -> None:
        with self._lock:
            if self._monitor is None and not self._closed.is_set():
                self._monitor = threading.Thread(target=self._monitor_loop, daemon=True,
                                                 name=f"spot-connection-{self.config.hostname}")
                self._monitor.start()

    def _open(self, config: ConnectionConfig, timeout: float) -> _Session:
        """New Sdk + Robot, authenticated and time-synced within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        config.validate()
        try:
            sdk = bosdyn.client.create_standard_sdk(config.client_name,
                                                    cert_resource_glob=config.ca_cert or None)
        except OSError as err:
            raise ConnectionConfigError(f"cannot load robot CA {config.ca_cert}: {err}") from err
        sdk.logger = _sdk_logger()
        for client_class in self._client_classes:
            sdk.register_service_client(client_class)
        robot = sdk.create_robot(config.hostname)
        robot.update_secure_channel_port(config.port)
        session = _Session(sdk, robot)
        share = self.parent_session
        try:
            rpc_timeout = max(0.2, deadline - time.monotonic())
            if share is not None:  # the run process's login (token), no login of our own
                if share.token is None:
                    raise SpotConnectionError("no user token from the run process yet")
                share.attach(robot)
            elif config.uses_payload_credentials:
                registration = robot.ensure_client(PayloadRegistrationClient.default_service_name)
                token = registration.get_payload_auth_token(config.payload_guid, config.payload_secret,
                                                            timeout=rpc_timeout)
                robot.update_user_token(token)
            else:
                robot.authenticate(config.username, config.password, timeout=rpc_timeout)
            if share is not None:  # the run process's clock skew: one estimate for both processes
                session.time_sync = share.clock
            else:
                robot.start_time_sync(config.time_sync_interval)
                session.time_sync = robot.time_sync
            wait_for_time_sync(session.time_sync, config.address, deadline, self._log)
            if share is not None and not shared_clock_current(robot, share.clock, rpc_timeout, self._log):
                raise SpotConnectionError("the run process's clock skew is of the robot before its restart")
            session.clock_id = held_clock_identifier(session.time_sync)
            self._last_skew_ns = session.checked_skew_ns = tconv.duration_to_ns(
                session.time_sync.endpoint.clock_skew)
        except (InvalidLoginError, InvalidTokenError) as err:
            session.close()
            raise SpotAuthenticationError(
                f"Spot at {config.address} rejected the password of user '{config.username}' "
                f"(not retrying: {LOGIN_LOCKOUT_ATTEMPTS} failed logins lock the robot's login for a minute)"
            ) from err
        except InvalidPayloadCredentialsError as err:
            session.close()
            raise SpotAuthenticationError(
                f"Spot at {config.address} rejected the payload secret of payload {config.payload_guid} "
                f"(not retrying: {LOGIN_LOCKOUT_ATTEMPTS} failed logins lock the robot's login for a minute)"
            ) from err
        except PayloadNotAuthorizedError as err:
            session.close()
            raise SpotAuthenticationError(f"payload is not authorized on Spot at {config.address} yet: "
                                          "authorize it in the robot's admin console") from err
        except (BosdynError, TimeSyncError) as err:
            session.close()
            if is_transport_failure(err):
                why = diagnose_endpoint(config, getattr(sdk, "cert", None),
                                        timeout=max(0.5, min(3.0, deadline - time.monotonic())))
                if why is not None:
                    raise SpotUnreachableError(why) from err
            thread_err = getattr(getattr(robot, "_time_sync_thread", None), "thread_exception", None)
            raise SpotConnectionError(error_reason(thread_err or err)) from err
        except BaseException:
            session.close()
            raise
        return session

    def _install(self, session: _Session, config: ConnectionConfig, recovered_after: float | None) -> bool:
        """Make `session` current and log it; False if shut down meanwhile. Callers then run
        `_notify_connected()` outside their locks (callbacks may call back into us)."""
        with self._lock:
            if self._closed.is_set():
                session.close()
                return False
            self.config = config
            self._session = session  # `connected` turns true after the callbacks ran
        skew_s = (self._last_skew_ns or 0) / 1e9
        via = ", the run process's login and time sync" if self.parent_session is not None else ""
        if recovered_after is None:
            self._log.info(f"connected to Spot at {config.address} (robot clock skew {skew_s:+.6f} s{via})")
        else:
            self._log.info(f"recovered connection to Spot at {config.address} after {recovered_after:.1f} s "
                           f"(robot clock skew {skew_s:+.6f} s{via})")
        return True

    def _notify_connected(self) -> None:
        """Run the on_connected callbacks, then mark the connection connected."""
        session, done = self._session, 0
        if session is None:
            return
        while True:
            with self._lock:  # on_connected() appends under this lock while not `connected`
                if self._session is not session:
                    return
                pending = self._connected_cbs[done:]
                done = len(self._connected_cbs)
                if not pending:
                    self._connected_event.set()
            if not pending:
                break
            for callback in pending:
                self._run_callback(callback, session.robot)
        self._close_retired()

    def _close_retired(self) -> None:
        """Close the lost sessions: every client has been moved to the current one (or shut down)."""
        with self._lock:
            retired, self._retired = self._retired, []
        for old in retired:
            old.close()

    def _run_callback(self, callback: Callable[..., None], *args: Any) -> None:
        try:
            callback(*args)
        except Exception as err:  # noqa: BLE001 - one bridge must not break the others
            self._log.error(f"connection callback {getattr(callback, '__qualname__', callback)} failed: "
                            f"{error_reason(err)}")

    # -- monitoring -------------------------------------------------------------------------
    def _check(self, session: _Session) -> str | None:
        """None if the robot answers and time sync runs; else the reason."""
        thread = session.time_sync
        if thread.stopped:
            why = error_reason(thread.thread_exception) if thread.thread_exception else "no reason"
            return f"time sync stopped ({why})"
        client = session.robot.ensure_client(RobotIdClient.default_service_name)
        for attempt in (1, 2):   # one slow answer (a loaded machine) is not a lost robot
            try:
                client.get_id(timeout=max(1.0, self.config.health_check_interval))
                break
            except BosdynError as err:
                if attempt == 2 or self._closed.is_set():
                    return error_reason(err)
        return self._check_clock(session)   # a restart or a step of the robot's clock (ConnectionClock)

    def _monitor_loop(self) -> None:
        lost_at: float | None = None
        delay = 0.1
        reported: str | None = None
        while not self._closed.is_set():
            session = self._session
            if session is not None:
                self._wake.wait(self.config.health_check_interval)
                self._wake.clear()
                if self._closed.is_set():
                    break
                problem = self._check(session)
                if problem is None or self._closed.is_set():
                    continue
                lost_at = time.monotonic()
                self._lose(session, problem)
                self._log.info(f"reconnecting to Spot at {self.config.address} (backoff up to "
                               f"{self.config.reconnect_max_backoff:.1f} s)")
                delay, reported = 0.1, None
                continue
            # Not connected: (re)connect with exponential backoff.
            try:
                with self._connect_lock:
                    if self._session is not None:
                        continue  # connect() got there first
                    config = self.config.reload()
                    new = self._open(config, self.config.connect_timeout)
                    installed = self._install(new, config,
                                              None if lost_at is None else time.monotonic() - lost_at)
                self._last_error = None
                if installed:
                    self._notify_connected()
            except (SpotConnectionError, ConnectionConfigError) as err:
                self._last_error = err
                kind = f"{type(err).__name__}: {err}"
                if isinstance(err, SpotAuthenticationError):
                    # Retrying a wrong password locks the robot's login: say it once and stop.
                    self._log.error(f"cannot connect to Spot: {err}")
                    break
                if isinstance(err, ConnectionConfigError) and kind != reported:
                    self._log.error(f"cannot connect to Spot: {err}; retrying")
                elif lost_at is None and reported is None:
                    self._log.info(f"waiting for Spot at {self.config.address}: {err}")
                else:
                    self._log.debug(f"reconnection attempt failed: {err}")
                reported = kind
                if self._closed.wait(delay):
                    break
                delay = min(delay * 2, self.config.reconnect_max_backoff)
                continue
            lost_at = None

    def _lose(self, session: _Session, reason: str) -> None:
        with self._lock:
            if self._session is not session:
                return
            self._session = None
            self._connected_event.clear()
            callbacks = list(self._disconnected_cbs)
            self._retired.append(session)   # closed once the next session took over (make before break)
        self._log.warning(f"lost connection to Spot at {self.config.address}: {reason}")
        for callback in callbacks:
            self._run_callback(callback)

    # -- shutdown ---------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop monitoring and every SDK thread, close channels. Idempotent.

        For a `shared()` connection, only the last holder's call shuts it down.
        """
        if self._share_key is not None:
            with SpotConnection._shared_lock:
                entry = SpotConnection._shared.get(self._share_key)
                if entry is not None and entry[0] is self:
                    entry[1] -= 1
                    if entry[1] > 0:
                        return
                    del SpotConnection._shared[self._share_key]
        if self._closed.is_set():
            return
        self._closed.set()
        self._wake.set()
        monitor = self._monitor
        if monitor is not None and monitor is not threading.current_thread():
            monitor.join(timeout=self.config.connect_timeout + 2.0)
        with self._lock:
            session, self._session = self._session, None
            was_connected = self._connected_event.is_set()
            self._connected_event.clear()
        if session is not None:
            session.close()
        self._close_retired()
        if was_connected:
            self._log.info(f"disconnected from Spot at {self.config.address}")

    def __enter__(self) -> SpotConnection:
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
