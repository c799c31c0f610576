"""What `SpotConnection` raises (spot.connection re-exports these; import them from either)."""

from __future__ import annotations


class SpotConnectionError(Exception):
    """The robot cannot be reached, refused TLS, or did not answer in time."""

    #: the message is a complete sentence for the user (node executables print it alone)
    user_facing = True


class SpotAuthenticationError(SpotConnectionError):
    """The robot rejected the credentials (or the payload is not authorized yet)."""


class SpotUnreachableError(SpotConnectionError):
    """The robot's host name does not resolve, nothing answers on its port, or its TLS
    certificate is not signed by the configured CA. The message names host, port or certificate."""


class NotConnectedError(SpotConnectionError):
    """There is no connection to the robot right now."""


class TimeSyncUnavailableError(SpotConnectionError):
    """The robot clock skew is not known (time sync never established)."""
