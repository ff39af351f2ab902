"""Reads for triage: email that reached the reply mailbox and matched no one, or could not be read."""

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils.dateparse import parse_datetime

from rapport.accounts.models import User
from rapport.accounts.permissions import Capability, can
from rapport.common.errors import BadRequest, NotFound
from rapport.common.ids import parse_id
from rapport.common.pagination import decode_cursor, encode_cursor
from rapport.messaging.models import InboundEmail, InboundStatus

# What waits for someone to look at it; matched and dismissed mail has been dealt with.
TRIAGE_STATUSES = [InboundStatus.UNKNOWN_SENDER, InboundStatus.MALFORMED]
TRIAGE_PAGE_SIZE = 50


def inbound_emails_visible_to(user: User) -> QuerySet[InboundEmail]:
    """Mail to the reply mailbox, for the roles that write to candidates; other roles see none (so lookups 404).

    It is not scoped by person: an unknown sender belongs to no one yet, so whoever handles replies sees it all.
    """
    if not can(user, Capability.SEND_MESSAGES):
        return InboundEmail.objects.none()
    return InboundEmail.objects.all()


def inbound_email_get_for_user(*, user: User, inbound_id: Any) -> InboundEmail:
    try:
        pk = parse_id(inbound_id)
    except (TypeError, ValueError):
        raise NotFound("No such email.")
    inbound = inbound_emails_visible_to(user).filter(pk=pk).first()
    if inbound is None:
        raise NotFound("No such email.")
    return inbound


@dataclass
class TriagePage:
    items: list[InboundEmail]
    next_cursor: str | None


def triage_page(*, user: User, status: str, cursor: str | None = None, limit: int = TRIAGE_PAGE_SIZE) -> TriagePage:
    """One status's waiting mail, newest first, keyset-paginated on (received_at, id) over its index."""
    if not can(user, Capability.SEND_MESSAGES):
        raise NotFound("No such page.")
    # The raw bytes can be megabytes each and the list never shows them.
    qs = inbound_emails_visible_to(user).filter(status=status).defer("raw")
    position = decode_cursor(cursor)
    if position:
        at = parse_datetime(str(position.get("t")))
        last_id = position.get("i")
        if at is None or not isinstance(last_id, int):
            raise BadRequest("The cursor is not valid.", fields={"cursor": ["Not a valid cursor."]})
        qs = qs.filter(Q(received_at__lt=at) | Q(received_at=at, id__lt=last_id))
    rows = list(qs.order_by("-received_at", "-id")[: limit + 1])
    items = rows[:limit]
    next_cursor = (
        encode_cursor({"t": items[-1].received_at.isoformat(), "i": items[-1].pk}) if len(rows) > limit else None
    )
    return TriagePage(items=items, next_cursor=next_cursor)


def triage_counts(*, user: User) -> dict[str, int]:
    """How many emails wait in each triage status, for the tabs (and a sidebar badge)."""
    counts = {status.value: 0 for status in TRIAGE_STATUSES}
    rows = (
        inbound_emails_visible_to(user)
        .filter(status__in=TRIAGE_STATUSES)
        .values("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    counts.update(dict(rows))
    return counts
