"""Keep a payload gRPC service registered in the robot's directory.

Wraps bosdyn's `DirectoryRegistrationKeepAlive` (the tutorial's helper), which registers the
service (unregistering a stale entry first), then re-registers every `interval_s` so the entry
comes back after the robot restarts or its directory is cleared. Added here:

- a first registration that fails because the robot is unreachable is retried in the
  background (the node still starts; one warning line per failure streak);
- re-registration errors are logged as one line, not a traceback every interval; when the
  robot rejects our token (a robot restarted with new keys, an expired token), the optional
  `reauthenticate` callback is called and the registration retried;
- `stop()` ends the keep-alive and unregisters, logging (not raising) if the robot is gone.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable
from typing import Any

from bosdyn.client.directory_registration import (
    DirectoryRegistrationKeepAlive,
    ServiceAlreadyExistsError,
    ServiceDoesNotExistError,
)
from bosdyn.client.error_callback_result import ErrorCallbackResult
from bosdyn.client.exceptions import PermissionDeniedError, UnauthenticatedError


class _OneLineLogger:
    """Logger for the keep-alive thread: `exception()` becomes one warning line, no traceback."""

    def __init__(self, logger: logging.Logger):
        self._logger = logger

    def exception(self, msg: str, *args: Any, **kw: Any) -> None:
        exc = sys.exc_info()[1]
        detail = f": {type(exc).__name__}: {exc}" if exc is not None else ""
        self._logger.warning((msg % args if args else msg) + detail)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._logger, name)


class LiveClient:
    """A bosdyn client looked up on every call: `getattr(connection.ensure_client(name), attr)`.

    A `SpotConnection` replaces its bosdyn `Robot` (and with it every client and channel) when
    it reconnects, e.g. after a robot restart; long-lived helpers such as the keep-alive thread
    must not keep the old robot's client. Raises whatever `ensure_client` raises while the
    robot is away (the callers log it and retry).
    """

    def __init__(self, connection: Any, service_name: str):
        self._connection = connection
        self._service_name = service_name

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection.ensure_client(self._service_name), name)


class ServiceRegistration:
    """A payload service's directory entry, kept alive until `stop()`.

    `dir_reg_client`: an authenticated bosdyn `DirectoryRegistrationClient`.
    `authority`: the short authority (e.g. `ros-image-service`); the robot proxies
    `<authority>.spot.robot` calls to `host_ip:port`.
    """

    def __init__(self, dir_reg_client: Any, name: str, service_type: str, authority: str,
                 host_ip: str, port: int, interval_s: float = 10.0, rpc_timeout_s: float = 5.0,
                 logger: logging.Logger | None = None,
                 reauthenticate: Callable[[], None] | None = None):
        self.name, self.service_type, self.authority = name, service_type, authority
        self.host_ip, self.port = host_ip, int(port)
        self.interval_s = float(interval_s)
        self.logger = logger or logging.getLogger(__name__)
        self.reauthenticate = reauthenticate
        self._client = dir_reg_client
        self._keep_alive = DirectoryRegistrationKeepAlive(
            dir_reg_client, logger=_OneLineLogger(self.logger), rpc_timeout_seconds=rpc_timeout_s,
            rpc_interval_seconds=self.interval_s, initial_retry_seconds=min(1.0, self.interval_s))
        self._keep_alive.reregistration_error_callback = self._on_reregistration_error
        self._stop = threading.Event()
        self._starter: threading.Thread | None = None
        self.registered = threading.Event()

    def start(self) -> bool:
        """Register now; if the robot cannot be reached, keep trying in the background.

        Returns True if registered at once.
        """
        if self._try_start(first=True):
            return True
        self._starter = threading.Thread(target=self._retry_start, name=f"{self.name}:register",
                                         daemon=True)
        self._starter.start()
        return False

    def _try_start(self, first: bool) -> bool:
        try:
            self._keep_alive.start(self.name, self.service_type, self.authority, self.host_ip, self.port)
        except (UnauthenticatedError, PermissionDeniedError) as exc:
            self._log_failure(first, exc)
            self._reauthenticate()
            return False
        except Exception as exc:  # noqa: BLE001 - RpcError, or no connection to the robot right now
            self._log_failure(first, exc)
            return False
        self.registered.set()
        self.logger.info(f"registered '{self.name}' ({self.service_type}) in the robot directory: "
                         f"authority '{self.authority}' -> {self.host_ip}:{self.port}, "
                         f"re-registering every {self.interval_s:g} s")
        return True

    def _log_failure(self, first: bool, exc: Exception) -> None:
        if first:
            self.logger.warning(f"cannot register '{self.name}' in the robot directory yet "
                                f"({type(exc).__name__}: {exc}); retrying every {self.interval_s:g} s")

    def _retry_start(self) -> None:
        while not self._stop.wait(self.interval_s):
            if self._try_start(first=False):
                return

    def _reauthenticate(self) -> None:
        if self.reauthenticate is None:
            return
        try:
            self.reauthenticate()
            self.logger.info("re-authenticated with the robot")
        except Exception as exc:  # noqa: BLE001 - reported, retried at the next interval
            self.logger.warning(f"re-authentication failed: {type(exc).__name__}: {exc}")

    def _on_reregistration_error(self, exc: Exception) -> ErrorCallbackResult:
        if isinstance(exc, (UnauthenticatedError, PermissionDeniedError)) and self.reauthenticate:
            self._reauthenticate()
            return ErrorCallbackResult.RETRY_WITH_EXPONENTIAL_BACK_OFF
        return ErrorCallbackResult.RETRY_WITH_EXPONENTIAL_BACK_OFF

    def refresh(self) -> None:
        """Register now (e.g. right after a reconnection) instead of at the next interval."""
        if not self.registered.is_set():
            return
        try:
            self._client.register(self.name, self.service_type, self.authority, self.host_ip, self.port,
                                  liveness_timeout_secs=self.interval_s * 2.5, timeout=5.0)
            self.logger.info(f"re-registered '{self.name}' in the robot directory")
        except ServiceAlreadyExistsError:
            pass
        except Exception as exc:  # noqa: BLE001 - the keep-alive retries at its next interval
            self.logger.warning(f"re-registration of '{self.name}' failed ({type(exc).__name__}: {exc}); "
                                f"retrying in {self.interval_s:g} s")

    def is_alive(self) -> bool:
        return self._keep_alive.is_alive()

    def stop(self) -> None:
        """Stop re-registering and remove the entry from the directory."""
        self._stop.set()
        if self._starter is not None:
            self._starter.join(timeout=10.0)
        if not self.registered.is_set():
            return
        try:
            self._keep_alive.shutdown()
        except RuntimeError:  # thread never started
            pass
        try:
            self._keep_alive.unregister()
            self.logger.info(f"unregistered '{self.name}' from the robot directory")
        except ServiceDoesNotExistError:
            self.logger.info(f"'{self.name}' was no longer in the robot directory")
        except Exception as exc:  # noqa: BLE001 - RpcError or no connection: nothing more to do
            self.logger.warning(f"could not unregister '{self.name}' ({type(exc).__name__}: {exc}); "
                                f"the robot drops it when its liveness times out")
