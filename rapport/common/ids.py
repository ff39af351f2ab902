"""Ids arrive as text from URLs, forms and JSON; anything that cannot be a row id is refused before the database."""

from typing import Any

MAX_ID = 2**63 - 1


def parse_id(value: Any) -> int:
    """Return a positive 64-bit id, or raise ValueError (SQLite would otherwise raise OverflowError on huge ones)."""
    if isinstance(value, bool):
        raise ValueError("not an id")
    number = int(value)
    if not 1 <= number <= MAX_ID:
        raise ValueError("id out of range")
    return number
