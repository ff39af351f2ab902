"""Standard Webhooks signatures (https://www.standardwebhooks.com/), as Resend signs its webhooks through Svix.

The sender signs "<id>.<timestamp>.<body>" with HMAC-SHA256 under the base64 key after "whsec_" and sends the id,
the timestamp (Unix seconds) and "v1,<base64 signature>" (several, space-separated, while a secret is rotated) in
the svix-id, svix-timestamp and svix-signature headers (webhook-id, … in the standard's own naming). A timestamp
more than five minutes from now is refused, so a captured request cannot be replayed later.
"""

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Mapping, Sequence

TOLERANCE_SECONDS = 5 * 60
PREFIX = "whsec_"


class InvalidSignature(Exception):
    """The request does not carry a valid, current signature under any of the secrets."""


def secret_key(secret: str) -> bytes:
    """The HMAC key of a `whsec_…` secret; ValueError for anything else."""
    if not secret.startswith(PREFIX):
        raise ValueError(f"a signing secret starts with {PREFIX}")
    try:
        key = base64.b64decode(secret[len(PREFIX) :], validate=True)
    except binascii.Error:
        raise ValueError("a signing secret is base64 after whsec_")
    if not key:
        raise ValueError("the signing secret is empty")
    return key


def sign(*, secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The "v1,<base64>" signature of one request."""
    content = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(secret_key(secret), content, hashlib.sha256).digest()).decode()


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(f"svix-{name}") or headers.get(f"webhook-{name}")
    if not value:
        raise InvalidSignature(f"the svix-{name} header is missing")
    return value


def verify(*, secrets: Sequence[str], headers: Mapping[str, str], body: bytes, now: float | None = None) -> None:
    """Raise InvalidSignature unless one of the request's v1 signatures is valid under one of `secrets`."""
    msg_id = _header(headers, "id")
    raw_timestamp = _header(headers, "timestamp")
    signatures = _header(headers, "signature")
    try:
        timestamp = int(raw_timestamp)
    except ValueError:
        raise InvalidSignature("the timestamp is not a number")
    if abs((time.time() if now is None else now) - timestamp) > TOLERANCE_SECONDS:
        raise InvalidSignature("the timestamp is more than five minutes from now")
    offered = [
        value.encode() for version, _, value in (s.partition(",") for s in signatures.split()) if version == "v1"
    ]
    for secret in secrets:
        expected = sign(secret=secret, msg_id=msg_id, timestamp=timestamp, body=body).partition(",")[2].encode()
        # compare_digest on every candidate: how many were tried says nothing about the secret.
        if any(hmac.compare_digest(expected, candidate) for candidate in offered):
            return
    raise InvalidSignature("no signature matches")
