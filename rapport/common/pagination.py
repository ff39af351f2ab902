"""Opaque cursors for keyset (and, for ranked search, offset) pagination."""

import base64
import json
from typing import Any

from rapport.common.errors import BadRequest

MAX_LIMIT = 200
DEFAULT_LIMIT = 50


def encode_cursor(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(data, dict):
            raise ValueError
        return data
    except (ValueError, TypeError, UnicodeDecodeError):
        raise BadRequest(
            "The cursor is not valid: use the next_cursor of a previous page.",
            fields={"cursor": ["Not a valid cursor."]},
        )


def clamp_limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    if limit < 1 or limit > MAX_LIMIT:
        raise BadRequest(f"limit must be between 1 and {MAX_LIMIT}.", fields={"limit": [f"Use 1 to {MAX_LIMIT}."]})
    return limit
