from typing import Any

from django.db.models import Q, QuerySet

from rapport.accounts.models import User
from rapport.common.pagination import clamp_limit, decode_cursor, encode_cursor
from rapport.timeline.models import Activity, AuditEntry, Note

TYPE_GROUPS = {
    "notes": ["note.added", "call.logged", "meeting.logged"],
    "applications": [
        "application.created",
        "application.stage_changed",
        "application.rejected",
        "application.withdrawn",
        "application.hired",
        "feedback.shared",
    ],
    "messages": [
        "message.queued",
        "message.sent",
        "message.delivered",
        "message.opened",
        "message.clicked",
        "message.received",
        "message.bounced",
        "message.failed",
        "candidate.unsubscribed",
        "consent.given",
        "consent.withdrawn",
    ],
    "changes": [
        "candidate.created",
        "candidate.updated",
        "candidate.merged",
        "tag.added",
        "tag.removed",
        "pool.added",
        "pool.removed",
        "document.uploaded",
        "document.requested",
    ],
}


def candidate_timeline(
    *,
    user: User,
    candidate: Any,
    types: list[str] | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> tuple[list[Activity], str | None]:
    """Newest first, keyset-paginated on (occurred_at, id) so page 100 costs what page 1 costs.

    Events tied to a job the user cannot see (a hiring manager's view of someone's other applications) are left out.
    """
    from rapport.jobs.selectors import jobs_visible_to

    limit = clamp_limit(limit)
    if not (user and user.is_authenticated and user.is_active):
        return [], None
    qs: QuerySet[Activity] = Activity.objects.filter(candidate=candidate)
    if types:
        expanded: list[str] = []
        for t in types:
            expanded.extend(TYPE_GROUPS.get(t, [t]))
        qs = qs.filter(type__in=expanded)
    if not user.has_full_access:
        qs = qs.filter(Q(job__isnull=True) | Q(job__in=jobs_visible_to(user)))
    position = decode_cursor(cursor)
    if position:
        from django.utils.dateparse import parse_datetime

        at = parse_datetime(str(position.get("t")))
        last_id = position.get("i")
        if at is None or not isinstance(last_id, int):
            from rapport.common.errors import BadRequest

            raise BadRequest("The cursor is not valid.", fields={"cursor": ["Not a valid cursor."]})
        qs = qs.filter(Q(occurred_at__lt=at) | Q(occurred_at=at, id__lt=last_id))
    rows = list(qs.select_related("actor", "job").order_by("-occurred_at", "-id")[: limit + 1])
    items = rows[:limit]
    next_cursor = (
        encode_cursor({"t": items[-1].occurred_at.isoformat(), "i": items[-1].pk}) if len(rows) > limit else None
    )
    return items, next_cursor


def notes_for_activities(activities: list[Activity]) -> dict[int, Note]:
    """The notes behind note/call/meeting events, fetched in one query for a timeline page."""
    ids = [a.payload.get("note_id") for a in activities if a.type in TYPE_GROUPS["notes"] and a.payload]
    ids = [i for i in ids if isinstance(i, int)]
    if not ids:
        return {}
    return {n.pk: n for n in Note.objects.filter(pk__in=ids)}


AUDIT_ACTIONS = ["create", "update", "delete", "merge", "erase", "export", "import"]


def audit_entries(
    *,
    user: User,
    object_type: str = "",
    object_id: str = "",
    action: str = "",
    limit: int | None = None,
    cursor: str | None = None,
) -> tuple[list[AuditEntry], str | None]:
    """The audit log, newest first; only admins may read it (others get PermissionDenied)."""
    from rapport.accounts.permissions import Capability, ensure

    ensure(user, Capability.ADMINISTER)
    limit = clamp_limit(limit)
    qs: QuerySet[AuditEntry] = AuditEntry.objects.select_related("actor")
    if object_type:
        qs = qs.filter(object_type=object_type)
    if object_id:
        qs = qs.filter(object_id=str(object_id))
    if action:
        qs = qs.filter(action=action)
    position = decode_cursor(cursor)
    if position:
        last_id = position.get("i")
        if not isinstance(last_id, int):
            from rapport.common.errors import BadRequest

            raise BadRequest("The cursor is not valid.", fields={"cursor": ["Not a valid cursor."]})
        qs = qs.filter(id__lt=last_id)
    rows = list(qs.order_by("-id")[: limit + 1])
    items = rows[:limit]
    return items, (encode_cursor({"i": items[-1].pk}) if len(rows) > limit else None)


def audit_object_types() -> list[str]:
    return list(AuditEntry.objects.order_by().values_list("object_type", flat=True).distinct())
