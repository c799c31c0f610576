"""Where and how to connect to a Spot: the connection parameters every Spot bridge declares
(`CONNECTION_PARAMS`), `ConnectionConfig` built from them (or from a simulator info file), and the
credential files. Credentials never appear in error messages or in `repr(config)`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..ros.params import ParamSpec

ENV_USERNAME = "BOSDYN_CLIENT_USERNAME"
ENV_PASSWORD = "BOSDYN_CLIENT_PASSWORD"
AUTH_METHODS = ("auto", "password", "payload")

CONNECTION_PARAMS: list[ParamSpec] = [
    ParamSpec("hostname", "", "Robot address (IP or DNS name); empty with sim_info_file."),
    ParamSpec("port", 443, "Robot TLS gRPC port (443 on a real Spot).", min=1, max=65535),
    ParamSpec("ca_cert", "", "Robot CA certificate (PEM path); empty = bosdyn's bundled "
              "Boston Dynamics robot CA."),
    ParamSpec("username", "", f"Robot user; empty = environment {ENV_USERNAME}."),
    ParamSpec("password", "", f"Robot password; empty = environment {ENV_PASSWORD} or password_file "
              "(a parameter can be read back with `ros2 param get`: prefer those two)."),
    ParamSpec("password_file", "", f"File whose first line is the robot password (instead of "
              f"{ENV_PASSWORD}); keep it readable by this user only."),
    ParamSpec("payload_credentials_file", "", "File with the payload GUID (line 1) and secret "
              "(line 2), as the Spot SDK examples use; authenticates as that payload."),
    ParamSpec("auth_method", "auto", "password, payload, or auto (payload if a payload "
              "credentials file is set, else username/password).", choices=list(AUTH_METHODS)),
    ParamSpec("sim_info_file", "", "JSON info file of `spot-bow-ros sim --info-file`: gives "
              "hostname, port, ca_cert and credentials (re-read on every reconnection)."),
    ParamSpec("time_sync_interval", 10.0, "Seconds between time-sync updates.", min=0.1, max=3600.0),
    ParamSpec("connect_timeout", 10.0, "Seconds to connect (TLS, auth, first time sync).",
              min=0.5, max=600.0),
    ParamSpec("health_check_interval", 1.0, "Seconds between connection checks.", min=0.1, max=60.0),
    ParamSpec("reconnect_max_backoff", 2.0, "Longest wait between reconnection attempts (s).",
              min=0.1, max=300.0),
    ParamSpec("client_name", "spot_bow_ros", "Client name sent to the robot in request headers."),
]


class ConnectionConfigError(ValueError):
    """The connection parameters are incomplete or wrong; the message says which."""


def read_payload_credentials(path: str | os.PathLike) -> tuple[str, str]:
    """(GUID, secret) from a payload credentials file (GUID line 1, secret line 2).

    Unlike bosdyn's helper, error messages never contain the secret.
    """
    try:
        lines = Path(path).read_text().splitlines()
    except OSError as err:
        raise ConnectionConfigError(f"cannot read payload credentials file {path}: {err.strerror}") from err
    guid = lines[0].strip() if lines else ""
    secret = lines[1].strip() if len(lines) > 1 else ""
    if not guid or not secret:
        raise ConnectionConfigError(
            f"payload credentials file {path} needs the GUID on line 1 and the secret on line 2")
    return guid, secret


def read_password_file(path: str | os.PathLike) -> str:
    """The robot password from the first line of `path` (errors never contain the password)."""
    try:
        lines = Path(path).read_text().splitlines()
    except OSError as err:
        raise ConnectionConfigError(f"cannot read password file {path}: {err.strerror}") from err
    password = lines[0].strip() if lines else ""
    if not password:
        raise ConnectionConfigError(f"password file {path} is empty (the password goes on line 1)")
    return password


def read_sim_info(source: str | os.PathLike | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(source, Mapping):
        return dict(source)
    try:
        info = json.loads(Path(source).read_text())
    except OSError as err:
        raise ConnectionConfigError(f"cannot read sim info file {source}: {err.strerror}") from err
    except ValueError as err:
        raise ConnectionConfigError(f"sim info file {source} is not valid JSON: {err}") from err
    if not isinstance(info, dict):
        raise ConnectionConfigError(f"sim info file {source} does not hold a JSON object")
    return info


@dataclass(frozen=True)
class ConnectionConfig:
    """Where and how to connect. Secrets are excluded from repr()."""

    hostname: str
    port: int = 443
    ca_cert: str = ""
    username: str = ""
    password: str = field(default="", repr=False)
    payload_guid: str = ""
    payload_secret: str = field(default="", repr=False)
    auth_method: str = "auto"
    time_sync_interval: float = 10.0
    connect_timeout: float = 10.0
    health_check_interval: float = 1.0
    reconnect_max_backoff: float = 2.0
    client_name: str = "spot_bow_ros"
    sim_info_file: str = ""

    @property
    def uses_payload_credentials(self) -> bool:
        if self.auth_method == "payload":
            return True
        return self.auth_method == "auto" and bool(self.payload_guid)

    @property
    def address(self) -> str:
        return f"{self.hostname}:{self.port}"

    def validate(self) -> ConnectionConfig:
        """Return self, or raise ConnectionConfigError naming what is missing."""
        if not self.hostname:
            raise ConnectionConfigError("no robot hostname: set the 'hostname' (or 'sim_info_file') parameter")
        if not 0 < int(self.port) < 65536:
            raise ConnectionConfigError(f"port {self.port} is out of range 1..65535")
        if self.auth_method not in AUTH_METHODS:
            raise ConnectionConfigError(f"auth_method '{self.auth_method}' is not one of {AUTH_METHODS}")
        if self.ca_cert and not Path(self.ca_cert).is_file():
            raise ConnectionConfigError(f"robot CA certificate {self.ca_cert} does not exist")
        if self.uses_payload_credentials:
            if not (self.payload_guid and self.payload_secret):
                raise ConnectionConfigError("payload authentication needs a payload GUID and secret "
                                            "('payload_credentials_file')")
        elif not (self.username and self.password):
            raise ConnectionConfigError(
                f"no robot credentials: set 'username'/'password' (or {ENV_USERNAME}/{ENV_PASSWORD}), "
                "'payload_credentials_file' or 'sim_info_file'")
        return self

    @classmethod
    def from_params(cls, values: Mapping[str, Any], env: Mapping[str, str] | None = None) -> ConnectionConfig:
        """Config from declared parameter values (names of CONNECTION_PARAMS; missing = default).

        A `sim_info_file` fills hostname, port, ca_cert and credentials. Otherwise an empty
        username/password falls back to BOSDYN_CLIENT_USERNAME/BOSDYN_CLIENT_PASSWORD.
        """
        env = os.environ if env is None else env
        defaults = {p.name: p.default for p in CONNECTION_PARAMS}
        v = {**defaults, **{k: values[k] for k in defaults if k in values}}
        tuning = dict(auth_method=str(v["auth_method"]),
                      time_sync_interval=float(v["time_sync_interval"]),
                      connect_timeout=float(v["connect_timeout"]),
                      health_check_interval=float(v["health_check_interval"]),
                      reconnect_max_backoff=float(v["reconnect_max_backoff"]),
                      client_name=str(v["client_name"]))
        if v["sim_info_file"]:
            return cls.from_sim_info(str(v["sim_info_file"]), **tuning)
        guid = secret = ""
        if v["payload_credentials_file"]:
            guid, secret = read_payload_credentials(v["payload_credentials_file"])
        password = str(v["password"])
        if not password and v["password_file"]:
            password = read_password_file(str(v["password_file"]))
        return cls(hostname=str(v["hostname"]), port=int(v["port"]), ca_cert=str(v["ca_cert"]),
                   username=str(v["username"]) or env.get(ENV_USERNAME, ""),
                   password=password or env.get(ENV_PASSWORD, ""),
                   payload_guid=guid, payload_secret=secret, **tuning).validate()

    @classmethod
    def from_sim_info(cls, source: str | os.PathLike | Mapping[str, Any], **overrides) -> ConnectionConfig:
        """Config from a simulator info file (path) or its dict (`SimulatedSpot.info`).

        Uses username/password unless `auth_method="payload"` is given.
        """
        info = read_sim_info(source)
        missing = [k for k in ("hostname", "port", "ca_cert") if not info.get(k)]
        if missing:
            raise ConnectionConfigError(f"sim info {source if not isinstance(source, Mapping) else ''} "
                                        f"lacks {', '.join(missing)}")
        fields = dict(hostname=str(info["hostname"]), port=int(info["port"]), ca_cert=str(info["ca_cert"]),
                      username=str(info.get("username", "")), password=str(info.get("password", "")),
                      payload_guid=str(info.get("payload_guid", "")),
                      payload_secret=str(info.get("payload_secret", "")),
                      sim_info_file="" if isinstance(source, Mapping) else str(source))
        fields.update(overrides)
        if fields.get("auth_method", "auto") == "auto":
            fields["auth_method"] = "password"  # the info file has both; payload only if asked
        return cls(**fields).validate()

    def reload(self) -> ConnectionConfig:
        """This config with the sim info file re-read (unchanged without a sim info file)."""
        if not self.sim_info_file or not Path(self.sim_info_file).is_file():
            return self  # no file, or a simulator between runs: keep the last known settings
        keep = {k: getattr(self, k) for k in ("auth_method", "time_sync_interval", "connect_timeout",
                                              "health_check_interval", "reconnect_max_backoff",
                                              "client_name")}
        return ConnectionConfig.from_sim_info(self.sim_info_file, **keep)

    def sharing_key(self) -> tuple:
        """Configs with the same key may share one connection."""
        import hashlib
        secret = hashlib.sha256(f"{self.password}\0{self.payload_secret}".encode()).hexdigest()
        return (self.hostname, self.port, self.ca_cert, self.username, self.payload_guid,
                self.auth_method, self.sim_info_file, self.client_name, secret)
