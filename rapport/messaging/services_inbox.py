"""Writes for the inbox: read state, done, snooze and assignment of the replies people send us.

Read, done and snooze are personal triage state and are not logged; who a reply is assigned to is a decision the
team relies on, so each change of assignee is an audit entry.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from rapport.accounts.models import User
from rapport.accounts.permissions import Capability, ensure
from rapport.candidates.models import Candidate
from rapport.common.errors import NotFound, ValidationFailed
from rapport.messaging.models import Message, MessageDirection
from rapport.messaging.selectors_inbox import inbox_assignees, inbox_scope

MAX_SNOOZE = timedelta(days=366)


def _checked(actor: User, messages: Sequence[Message]) -> list[int]:
    """The ids of `messages`, after checking the actor may triage them: replies, all in the actor's scope."""
    ensure(actor, Capability.SEND_MESSAGES)
    ids = [m.pk for m in messages]
    if not ids:
        raise ValidationFailed.single("ids", "Select at least one message.")
    if any(m.direction != MessageDirection.INBOUND for m in messages):
        raise ValidationFailed.single("ids", "Only replies from people are in the inbox.")
    if inbox_scope(actor).filter(pk__in=ids).count() != len(set(ids)):
        raise NotFound("No such message.")
    return ids


@transaction.atomic
def inbox_mark_thread_read(*, actor: User, candidate: Candidate, now: datetime | None = None) -> int:
    """Reading a person's conversation marks their unread replies read; returns how many changed."""
    ensure(actor, Capability.SEND_MESSAGES)
    return Message.objects.filter(candidate=candidate, direction=MessageDirection.INBOUND, read_at__isnull=True).update(
        read_at=now or timezone.now()
    )


@transaction.atomic
def inbox_mark_read(*, actor: User, messages: Sequence[Message], read: bool = True) -> int:
    """Mark replies read (or unread again); already read ones keep the time they were first read."""
    ids = _checked(actor, messages)
    rows = Message.objects.filter(pk__in=ids)
    if read:
        return rows.filter(read_at__isnull=True).update(read_at=timezone.now())
    return rows.exclude(read_at__isnull=True).update(read_at=None)


def inbox_mark_unread(*, actor: User, messages: Sequence[Message]) -> int:
    return inbox_mark_read(actor=actor, messages=messages, read=False)


@transaction.atomic
def inbox_mark_done(*, actor: User, messages: Sequence[Message], done: bool = True) -> int:
    """Mark replies done (they leave the open views), or back to open; done also ends a snooze."""
    ids = _checked(actor, messages)
    rows = Message.objects.filter(pk__in=ids)
    if done:
        return rows.filter(done_at__isnull=True).update(done_at=timezone.now(), snoozed_until=None)
    return rows.exclude(done_at__isnull=True).update(done_at=None)


@transaction.atomic
def inbox_snooze(
    *, actor: User, messages: Sequence[Message], until: datetime | None, now: datetime | None = None
) -> int:
    """Hide replies until `until` (None wakes them now); they come back unread, so they stand out again."""
    ids = _checked(actor, messages)
    now = now or timezone.now()
    rows = Message.objects.filter(pk__in=ids)
    if until is None:
        return rows.exclude(snoozed_until__isnull=True).update(snoozed_until=None)
    if timezone.is_naive(until):
        raise ValidationFailed.single("snoozed_until", "Give the time with its time zone.")
    if until <= now:
        raise ValidationFailed.single("snoozed_until", "Pick a time in the future.")
    if until > now + MAX_SNOOZE:
        raise ValidationFailed.single("snoozed_until", "Snooze for at most a year.")
    return rows.update(snoozed_until=until, done_at=None, read_at=None)


@transaction.atomic
def inbox_assign(*, actor: User, messages: Sequence[Message], assignee: User | None) -> int:
    """Give replies to a teammate (None: to nobody); each change of assignee is written to the audit log."""
    from rapport.timeline.services import audit_record

    ids = _checked(actor, messages)
    if assignee is not None and not inbox_assignees().filter(pk=assignee.pk).exists():
        raise ValidationFailed.single("assigned_to", "Choose an active admin or recruiter.")
    new_id = assignee.pk if assignee is not None else None
    changed = 0
    for message in Message.objects.filter(pk__in=ids).select_for_update().order_by("id"):
        if message.assigned_to_id == new_id:
            continue
        audit_record(
            actor=actor,
            action="update",
            object_type="message",
            object_id=message.pk,
            changes={"assigned_to_id": [message.assigned_to_id, new_id]},
        )
        message.assigned_to_id = new_id
        message.save(update_fields=["assigned_to"])
        changed += 1
    return changed
