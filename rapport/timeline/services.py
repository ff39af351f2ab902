from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from rapport.accounts.models import User
from rapport.accounts.permissions import Capability, ensure
from rapport.common.errors import ValidationFailed
from rapport.common.html import markdown_to_safe_html
from rapport.timeline.models import Activity, AuditEntry, Note, NoteKind

MAX_NOTE_LENGTH = 20_000


def activity_record(
    *,
    type: str,
    candidate: Any = None,
    application: Any = None,
    job: Any = None,
    actor: User | None = None,
    payload: dict[str, Any] | None = None,
    occurred_at: datetime | None = None,
) -> Activity:
    """Append one event to the log; callers run this inside the transaction of the change it records."""
    return Activity.objects.create(
        type=type,
        candidate=candidate,
        application=application,
        job=job,
        actor=actor if actor is not None and actor.is_authenticated else None,
        payload=payload or {},
        occurred_at=occurred_at or timezone.now(),
    )


def audit_record(
    *, actor: User | None, action: str, object_type: str, object_id: Any = "", changes: dict | None = None
) -> AuditEntry:
    return AuditEntry.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        object_type=object_type,
        object_id=str(object_id or ""),
        changes=changes or {},
    )


_NOTE_ACTIVITY = {
    NoteKind.NOTE: "note.added",
    NoteKind.CALL: "call.logged",
    NoteKind.MEETING: "meeting.logged",
}


@transaction.atomic
def note_add(
    *,
    actor: User,
    candidate: Any,
    body: str,
    kind: str = NoteKind.NOTE,
    extra: dict[str, Any] | None = None,
) -> Note:
    """Add a note, or log a call or meeting; `extra` carries call/meeting details (duration, outcome)."""
    ensure(actor, Capability.ADD_NOTES)
    body = (body or "").strip()
    if not body:
        raise ValidationFailed.single("body", "Write something before saving.")
    if len(body) > MAX_NOTE_LENGTH:
        raise ValidationFailed.single("body", f"Keep it under {MAX_NOTE_LENGTH:,} characters.")
    if kind not in NoteKind.values:
        raise ValidationFailed.single("kind", "Choose note, call or meeting.")
    now = timezone.now()
    note = Note.objects.create(
        candidate=candidate,
        author=actor,
        kind=kind,
        body=body,
        body_html=markdown_to_safe_html(body),
        created_at=now,
    )
    activity_record(
        type=_NOTE_ACTIVITY[NoteKind(kind)],
        candidate=candidate,
        actor=actor,
        occurred_at=now,
        payload={"note_id": note.pk, "body": body[:500], **(extra or {})},
    )
    from rapport.candidates.services import candidate_reindex, candidate_touch

    candidate_touch(candidate=candidate, at=now)
    candidate_reindex(candidate_ids=[candidate.pk])
    return note
