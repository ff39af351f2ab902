"""Claiming due rows (enrolment steps, trigger runs) so that any number of workers can share the work.

A claim stamps the rows with a lease (`claimed_until`) and a token. On PostgreSQL the candidates are read with
`FOR UPDATE SKIP LOCKED`, so concurrent claimers take disjoint rows without waiting on each other; on SQLite the
conditional UPDATE runs under the database's single writer lock, which makes one claimer at a time. Either way the
UPDATE re-checks "still due and unclaimed", and the rows are found again by token, so a row is never handed out
twice while its lease holds. A worker killed mid-batch simply lets its leases run out: the rows become due again,
and the step's idempotency key (see the outbox) stops a second send.
"""

import uuid
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Model, Q, QuerySet

DEFAULT_LEASE = timedelta(minutes=5)


def unclaimed(now: datetime) -> Q:
    return Q(claimed_until__isnull=True) | Q(claimed_until__lte=now)


def claim_due(
    queryset: QuerySet[Any],
    *,
    limit: int,
    now: datetime,
    lease: timedelta = DEFAULT_LEASE,
    order_by: tuple[str, ...] = ("due_at", "id"),
) -> list[Model]:
    """Claim up to `limit` rows of `queryset` (already filtered to "due") whose lease is free; return them claimed.

    The model needs `claimed_until` and `claim_token` fields. The caller releases each row (sets `claimed_until`
    to None, or moves its `due_at`) when it is done with it.
    """
    model = queryset.model
    due = queryset.filter(unclaimed(now))
    token = uuid.uuid4().hex
    with transaction.atomic():
        candidates = due.order_by(*order_by)
        if connection.vendor == "postgresql":
            candidates = candidates.select_for_update(skip_locked=True, of=("self",))
        ids = list(candidates.values_list("pk", flat=True)[:limit])
        if not ids:
            return []
        due.filter(pk__in=ids).update(claimed_until=now + lease, claim_token=token)
    return list(model._default_manager.filter(pk__in=ids, claim_token=token).order_by(*order_by))
