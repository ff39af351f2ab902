"""Reads of recruiter tasks: a user's own, and for admins and recruiters everyone's (out of scope answers 404)."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from rapport.accounts.models import User
from rapport.automation.models import Task
from rapport.common.errors import BadRequest, NotFound, ValidationFailed
from rapport.common.ids import parse_id
from rapport.common.pagination import clamp_limit, decode_cursor, encode_cursor

# The sidebar shows "99+" beyond this; counting further would only cost time.
COUNT_CAP = 99


def tasks_visible_to(user: User) -> QuerySet[Task]:
    """A user's own tasks; admins and recruiters see everyone's, since they hand tasks out and cover for others."""
    if not (user and user.is_authenticated and user.is_active):
        return Task.objects.none()
    if user.has_full_access:
        return Task.objects.all()
    return Task.objects.filter(owner=user)


def task_get_for_user(*, user: User, task_id: Any) -> Task:
    try:
        pk = parse_id(task_id)
    except (TypeError, ValueError):
        raise NotFound("No such task.")
    task = tasks_visible_to(user).select_related("owner", "candidate", "job").filter(pk=pk).first()
    if task is None:
        raise NotFound("No such task.")
    return task


def task_list(
    *,
    user: User,
    owner_id: int | None = None,
    done: bool | None = None,
    due_before: datetime | None = None,
    candidate_id: int | None = None,
) -> QuerySet[Task]:
    """Tasks in the user's scope, filtered; ordering is left to the caller."""
    qs = tasks_visible_to(user)
    if owner_id is not None:
        qs = qs.filter(owner_id=owner_id)
    if done is True:
        qs = qs.filter(completed_at__isnull=False)
    elif done is False:
        qs = qs.filter(completed_at__isnull=True)
    if due_before is not None:
        qs = qs.filter(due_at__lt=due_before)
    if candidate_id is not None:
        qs = qs.filter(candidate_id=candidate_id)
    return qs.select_related("owner", "candidate", "job")


def parse_due_before(value: str) -> datetime:
    """A `due_before` filter as an aware time: a bare date means its midnight in the site's time zone."""
    text = (value or "").strip()
    try:
        parsed = parse_datetime(text)
        day = None if parsed else parse_date(text)
    except ValueError:  # well-formed but impossible, like 2026-02-30
        parsed = day = None
    if parsed is None and day is not None:
        parsed = datetime.combine(day, datetime.min.time())
    if parsed is None:
        raise ValidationFailed.single("due_before", "Use a date like 2026-01-31 or a time like 2026-01-31T09:00:00Z.")
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


@dataclass
class TaskPage:
    items: list[Task]
    next_cursor: str | None


def _bad_cursor() -> BadRequest:
    return BadRequest("The cursor is not valid for this list.", fields={"cursor": ["Not a valid cursor."]})


def _cursor_position(cursor: str | None) -> tuple[datetime | None, int] | None:
    position = decode_cursor(cursor)
    if position is None:
        return None
    last_id, at = position.get("id"), position.get("at")
    if not isinstance(last_id, int) or isinstance(last_id, bool) or last_id < 0:
        raise _bad_cursor()
    if at is None:
        return None, last_id
    parsed = parse_datetime(at) if isinstance(at, str) else None
    if parsed is None:
        raise _bad_cursor()
    return parsed, last_id


def my_tasks(
    *,
    user: User,
    done: bool = False,
    owner_id: int | None = None,
    cursor: str | None = None,
    limit: int | None = 50,
) -> TaskPage:
    """One page of the "My tasks" list: open tasks by due date (so overdue ones come first, undated ones last),
    or done tasks most recently finished first. Without `owner_id`, the user's own; admins and recruiters may name
    anyone (`owner_id=0` meaning everyone)."""
    limit = clamp_limit(limit)
    if owner_id is None:
        owner_id = user.pk
    qs = task_list(user=user, owner_id=owner_id or None, done=done)
    position = _cursor_position(cursor)
    column = "completed_at" if done else "due_at"
    if done:
        if position is not None:
            at, last_id = position
            if at is None:
                raise _bad_cursor()
            qs = qs.filter(Q(completed_at__lt=at) | Q(completed_at=at, id__lt=last_id))
        qs = qs.order_by("-completed_at", "-id")
    else:
        if position is not None:
            at, last_id = position
            if at is None:
                qs = qs.filter(due_at__isnull=True, id__gt=last_id)
            else:
                qs = qs.filter(Q(due_at__gt=at) | Q(due_at=at, id__gt=last_id) | Q(due_at__isnull=True))
        qs = qs.order_by(F("due_at").asc(nulls_last=True), "id")
    rows = list(qs[: limit + 1])
    items = rows[:limit]
    next_cursor = None
    if len(rows) > limit:
        last = items[-1]
        at = getattr(last, column)
        next_cursor = encode_cursor({"at": at.isoformat() if at else None, "id": last.pk})
    return TaskPage(items=items, next_cursor=next_cursor)


def open_tasks_about(*, user: User, candidate_id: int, limit: int = 20) -> list[Task]:
    """The open tasks about a person that the user may see, soonest due first, for the profile's card."""
    qs = task_list(user=user, candidate_id=candidate_id, done=False)
    return list(qs.order_by(F("due_at").asc(nulls_last=True), "id")[:limit])


def task_counts(*, user: User, now: datetime | None = None) -> dict[str, int]:
    """The user's own open and overdue tasks for the sidebar, each counted up to COUNT_CAP + 1."""
    if not (user and user.is_authenticated and user.is_active):
        return {"open": 0, "overdue": 0}
    now = now or timezone.now()
    open_tasks = Task.objects.filter(owner=user, completed_at__isnull=True).order_by()
    return {
        "open": open_tasks.values("id")[: COUNT_CAP + 1].count(),
        "overdue": open_tasks.filter(due_at__lt=now).values("id")[: COUNT_CAP + 1].count(),
    }


def overdue_count(*, user: User, now: datetime | None = None) -> int:
    return task_counts(user=user, now=now)["overdue"]


def task_owner_choices(*, user: User) -> QuerySet[User]:
    """Whom the user may give a task to: anyone active for admins and recruiters, else only themselves."""
    if not (user and user.is_authenticated and user.is_active):
        return User.objects.none()
    if user.has_full_access:
        return User.objects.filter(is_active=True).order_by("name", "email")
    return User.objects.filter(pk=user.pk)
