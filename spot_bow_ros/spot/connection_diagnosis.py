"""Why a connection to a Spot failed, in one line: bosdyn's errors condensed, the time sync status,
and a socket/TLS probe that tells an unresolvable host, a closed port and an untrusted
certificate apart (bosdyn reports all of them as "the robot may be offline").
"""

from __future__ import annotations

import grpc
from bosdyn.api import time_sync_pb2
from bosdyn.client.exceptions import ProxyConnectionError, UnableToConnectToRobotError
from bosdyn.client.time_sync import TimeSyncError

from .connection_config import ConnectionConfig


def error_reason(err: BaseException) -> str:
    """A one-line description of an error (bosdyn errors carry long multi-line texts)."""
    text = str(err).strip().splitlines()
    first = text[0] if text else ""
    name = type(err).__name__
    if "CERTIFICATE_VERIFY_FAILED" in str(err):
        first = "TLS certificate not trusted (wrong ca_cert?)"
    if first.startswith(name):
        first = first[len(name):].lstrip(": ")
    return f"{name}: {first[:200]}" if first else name


def time_sync_status(thread) -> str:
    """The robot's last TimeSyncState status name (e.g. STATUS_MORE_SAMPLES_NEEDED)."""
    try:
        response = thread.endpoint.response
    except Exception:  # noqa: BLE001 - only for a message
        response = None
    if response is None:
        return "no answer yet"
    return time_sync_pb2.TimeSyncState.Status.Name(response.state.status)


class TimeSyncNotEstablished(TimeSyncError):
    """Time sync did not reach STATUS_OK in time (one line: the robot's last status)."""

    def __init__(self, status: str, waited_s: float):
        super().__init__(f"time sync with the robot not established within {waited_s:.1f} s "
                         f"(robot: {status}); the robot may still be booting")


#: Failed logins a robot tolerates before it locks its login (for about a minute).
LOGIN_LOCKOUT_ATTEMPTS = 6


def is_transport_failure(err: BaseException) -> bool:
    """True when the robot was not reached at all: bosdyn's connection errors, or any bosdyn error
    whose gRPC status is UNAVAILABLE. bosdyn names an UNAVAILABLE error TooManyRequestsError (or
    ServiceUnavailableError) when its details merely contain "429" ("502"), e.g. a port such as
    42909 in "failed to connect to 127.0.0.1:42909", so the class alone cannot be trusted."""
    if isinstance(err, (UnableToConnectToRobotError, ProxyConnectionError)):
        return True
    code = getattr(getattr(err, "error", None), "code", None)
    try:
        return callable(code) and code() is grpc.StatusCode.UNAVAILABLE
    except Exception:  # noqa: BLE001 - a foreign error object: not a transport failure we know
        return False


def diagnose_endpoint(config: ConnectionConfig, ca_pem: bytes | None, timeout: float = 3.0) -> str | None:
    """Why the robot at `config.address` cannot be reached, in one line, or None if it answers TLS.

    bosdyn reports every failure below as "the robot may be offline"; this tells them apart
    with plain sockets: the host name does not resolve, nothing listens on the port (or it
    times out), or the robot's certificate is not signed by `ca_pem` (the configured CA).
    """
    import socket
    import ssl

    host, port = config.hostname, int(config.port)
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as err:
        return f"cannot resolve robot host '{host}' (port {port}): {err.strerror or err}"
    try:
        sock = socket.create_connection(addresses[0][4][:2], timeout=timeout)
    except TimeoutError:
        return f"robot at {host}:{port} does not answer (no reply within {timeout:g} s; wrong address or port?)"
    except OSError as err:
        return f"robot at {host}:{port} does not answer: {(err.strerror or str(err)).lower()}"
    if ca_pem is None:
        sock.close()
        return None
    ca_name = f"CA certificate {config.ca_cert}" if config.ca_cert else \
        "bundled Boston Dynamics robot CA (ca_cert not set)"
    try:
        context = ssl.create_default_context(cadata=ca_pem.decode("ascii", "replace"))
    except ssl.SSLError:
        sock.close()
        return f"the {ca_name} is not a PEM certificate"
    context.check_hostname = False  # the robot's names are *.spot.robot, not the address we dial
    try:
        with context.wrap_socket(sock, server_hostname="api.spot.robot"):
            return None
    except ssl.SSLCertVerificationError:
        return (f"robot at {host}:{port} presented a TLS certificate that the {ca_name} "
                "does not trust (wrong ca_cert?)")
    except (ssl.SSLError, OSError) as err:
        return f"TLS handshake with the robot at {host}:{port} failed: {err}"
    finally:
        sock.close()
