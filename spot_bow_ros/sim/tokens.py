"""User tokens of the simulated robot: signed, expiring, and valid across a simulator restart.

A token is `base64url(json claims) "." base64url(HMAC-SHA256)`; the key lives with the TLS
material, so a simulator restarted with the same state directory accepts tokens it issued
before, as a rebooted Spot accepts its JWTs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenAuthority:
    """Issues and checks user tokens. `lifetime_s`: validity of a token in seconds."""

    def __init__(self, key: bytes, lifetime_s: float = 12 * 3600.0):
        self._key = key
        self.lifetime_s = lifetime_s

    def issue(self, subject: str) -> str:
        """A new token for `subject` (a username or `payload:<guid>`)."""
        claims = {"sub": subject, "exp": time.time() + self.lifetime_s, "jti": secrets.token_hex(8)}
        body = _b64(json.dumps(claims, separators=(",", ":")).encode())
        sig = _b64(hmac.new(self._key, body.encode(), hashlib.sha256).digest())
        return f"{body}.{sig}"

    def subject(self, token: str) -> str | None:
        """The subject of a valid, unexpired token; None otherwise."""
        try:
            body, sig = token.split(".")
            want = _b64(hmac.new(self._key, body.encode(), hashlib.sha256).digest())
            if not hmac.compare_digest(want, sig):
                return None
            claims = json.loads(_unb64(body))
            if float(claims["exp"]) < time.time():
                return None
            return str(claims["sub"])
        except (ValueError, KeyError, TypeError):
            return None

    def subject_from_metadata(self, metadata) -> str | None:
        """The subject of the `authorization: Bearer <token>` entry of gRPC metadata, if valid."""
        for key, value in metadata or ():
            if key == "authorization" and isinstance(value, str) and value.startswith("Bearer "):
                return self.subject(value[len("Bearer "):])
        return None
