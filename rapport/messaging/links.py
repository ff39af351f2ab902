"""Signed per-message links: one-click unsubscribe and the preferences page.

A token names the address, the channel and the person, signed with the secret key and a salt of its own (so no
other signed value in Rapport can be replayed as one). It never expires: an unsubscribe link in an old email must
still work, as RFC 8058 and the mailbox providers expect.
"""

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing

SALT = "rapport.messaging.unsubscribe"


@dataclass(frozen=True)
class UnsubscribeToken:
    address: str
    channel: str
    candidate_id: int | None


def unsubscribe_token(*, address: str, channel: str, candidate_id: int | None) -> str:
    return signing.dumps({"a": address.lower(), "c": channel, "p": candidate_id}, salt=SALT, compress=True)


def unsubscribe_token_read(token: str) -> UnsubscribeToken | None:
    """The token's contents, or None when it was not made by us (tampered, truncated, or another key)."""
    try:
        data: Any = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("a"), str) or not isinstance(data.get("c"), str):
        return None
    candidate_id = data.get("p")
    return UnsubscribeToken(data["a"], data["c"], candidate_id if isinstance(candidate_id, int) else None)


def unsubscribe_url(*, address: str, channel: str, candidate_id: int | None) -> str:
    token = unsubscribe_token(address=address, channel=channel, candidate_id=candidate_id)
    return f"{settings.BASE_URL}/u/{token}"


def preferences_url(*, address: str, channel: str, candidate_id: int | None) -> str:
    return unsubscribe_url(address=address, channel=channel, candidate_id=candidate_id) + "/preferences"
