"""Pieces every router shares: ids, the error body, list pages and their query parameters."""

import re
from typing import Annotated, Any

from django.db.models import QuerySet
from ninja import Field, Schema
from pydantic import BeforeValidator, ConfigDict, WithJsonSchema

from rapport.common.errors import BadRequest
from rapport.common.pagination import DEFAULT_LIMIT, MAX_LIMIT, clamp_limit, decode_cursor, encode_cursor

MAX_ID = 2**63 - 1  # the largest value a BIGINT primary key holds, in SQLite and PostgreSQL alike
_DIGITS = re.compile(r"[0-9]{1,19}")


def parse_id(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("Not a valid id.")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        number = int(value.strip())
    else:
        raise ValueError('Not a valid id: ids are strings of digits, such as "42".')
    if not 1 <= number <= MAX_ID:
        raise ValueError("Not a valid id.")
    return number


# Ids are strings in JSON (as in Greenhouse and Lever); a number is accepted too, for convenience.
Id = Annotated[
    int,
    BeforeValidator(parse_id),
    WithJsonSchema({"type": "string", "pattern": "^[0-9]+$", "examples": ["42"]}),
]


def path_id(raw: str) -> int | None:
    """An id from the URL, or None, which the scoped selectors answer with 404."""
    try:
        return parse_id(raw)
    except ValueError:
        return None


def str_id(value: Any) -> str | None:
    return None if value is None else str(value)


class InputSchema(Schema):
    """Request bodies refuse unknown fields, so a misspelt field is an error rather than silently ignored."""

    model_config = ConfigDict(extra="forbid")


class ErrorDetail(Schema):
    code: str = Field(..., examples=["validation_error"])
    message: str = Field(..., examples=["Please check emails: 'x' is not a valid email address."])
    fields: dict[str, list[str]] = Field(default_factory=dict, examples=[{"emails": ["Not a valid email."]}])
    existing_id: str | None = Field(None, description="With `duplicate`: the record that already exists.")


class ErrorOut(Schema):
    error: ErrorDetail


class PageParams(Schema):
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description=f"Items per page, 1 to {MAX_LIMIT}.")
    cursor: str | None = Field(None, description="The `next_cursor` of the previous page; leave out for the first.")


PAGINATION = (
    'Answers `{"items": [...], "next_cursor": "..." | null}`. Pass `limit` (1 to 200, default 50); for the next '
    "page, pass the `next_cursor` you got as `cursor`. A null `next_cursor` means this is the last page."
)


def listing(text: str) -> str:
    """An operation description for a paginated list."""
    return f"{text} {PAGINATION}"


def responses(ok: dict[int, Any], *errors: int) -> dict[int, Any]:
    """An operation's documented responses: its success plus the error statuses it can answer."""
    documented = {**ok}
    for status in sorted({401, 429, *errors}):
        documented[status] = ErrorOut
    return documented


def keyset_page(
    qs: QuerySet, *, limit: int | None, cursor: str | None, newest_first: bool = True
) -> tuple[list[Any], str | None]:
    """One page of a queryset ordered by id, and the cursor of the next page (None on the last page)."""
    limit = clamp_limit(limit)
    position = decode_cursor(cursor)
    if position is not None:
        last_id = position.get("id")
        if not isinstance(last_id, int) or isinstance(last_id, bool) or not 0 <= last_id <= MAX_ID:
            raise BadRequest("The cursor is not valid for this list.", fields={"cursor": ["Not a valid cursor."]})
        qs = qs.filter(id__lt=last_id) if newest_first else qs.filter(id__gt=last_id)
    rows = list(qs.order_by("-id" if newest_first else "id")[: limit + 1])
    items = rows[:limit]
    next_cursor = encode_cursor({"id": items[-1].pk}) if len(rows) > limit else None
    return items, next_cursor
