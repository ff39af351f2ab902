"""Writes of recruiter tasks: create and change, by hand (views, API) or by automation (no request needed).

Who may do what:
- Every active user may create tasks for themselves, about a person and/or a job they can see: hiring managers
  and interviewers get to-dos too ("send feedback on Grace").
- Only admins and recruiters may give a task to someone else, and the new owner must be able to see the linked
  person and job, so nobody is handed a task about someone they cannot open.
- A task is changed by whoever can see it (its owner; admins and recruiters see every task). Only admins and
  recruiters may hand it to another owner.

Automation calls `task_create` with `actor=None` and a `source`: no permission check applies (the rule that
configured it was checked when it was saved), and the owner's own scope still decides what the task may link to.
"""

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from rapport.accounts.models import User
from rapport.automation.models import Task, TaskSource
from rapport.candidates.selectors import candidates_visible_to
from rapport.common.errors import NotFound, PermissionDenied, ValidationFailed
from rapport.common.ids import parse_id
from rapport.jobs.selectors import jobs_visible_to
from rapport.timeline.services import activity_record, audit_record

MAX_TITLE = 200
MAX_NOTES = 10_000
MAX_SOURCE_ID = 40
EDITABLE = {"title", "notes", "due_at", "due_date", "owner_id", "candidate_id", "job_id", "done"}


def _active(user: User | None) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def organisation_zone() -> ZoneInfo:
    return ZoneInfo(settings.RAPPORT_DEFAULT_TIMEZONE)


def end_of_day(day: date) -> datetime:
    """The last moment of a day in the organisation's time zone: when a task due "that day" becomes overdue."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=organisation_zone()) - timedelta(microseconds=1)


def _parse_due_at(value: Any) -> datetime:
    if isinstance(value, datetime):
        parsed: datetime | None = value
    else:
        try:
            parsed = parse_datetime(str(value).strip())
        except ValueError:  # well-formed but impossible, like 2026-02-30T09:00
            parsed = None
    if parsed is None:
        raise ValidationFailed.single("due_at", "Use a timestamp like 2026-01-31T09:00:00Z.")
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=organisation_zone())
    return parsed


def _parse_due_date(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        parsed = parse_date(str(value).strip())
    except ValueError:
        parsed = None
    if parsed is None:
        raise ValidationFailed.single("due_date", "Use a date like 2026-01-31.")
    return parsed


def _clean(data: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    """Check the fields sent, collecting every problem under its field name; returns model-ready values."""
    unknown = sorted(set(data) - EDITABLE)
    if unknown:
        raise ValidationFailed.single(unknown[0], f"{unknown[0]} is not a task field.")
    fields: dict[str, list[str]] = {}
    out: dict[str, Any] = {}

    def problem(name: str, message: str) -> None:
        fields.setdefault(name, []).append(message)

    if "title" in data or not partial:
        title = data.get("title")
        if title is not None and not isinstance(title, str):
            problem("title", "The title must be text.")
        else:
            title = " ".join((title or "").split())
            if not title:
                problem("title", "Say what needs doing.")
            elif len(title) > MAX_TITLE:
                problem("title", f"Keep the title under {MAX_TITLE} characters.")
            else:
                out["title"] = title
    if "notes" in data:
        notes = data["notes"]
        if notes is not None and not isinstance(notes, str):
            problem("notes", "Notes must be text.")
        elif len(notes or "") > MAX_NOTES:
            problem("notes", f"Keep the notes under {MAX_NOTES:,} characters.")
        else:
            out["notes"] = (notes or "").strip()
    if data.get("due_at") not in (None, "") and data.get("due_date") not in (None, ""):
        problem("due_date", "Give a due date or a due time, not both.")
    elif "due_at" in data or "due_date" in data:
        try:
            if data.get("due_at") not in (None, ""):
                out["due_at"], out["due_all_day"] = _parse_due_at(data["due_at"]), False
            elif data.get("due_date") not in (None, ""):
                out["due_at"], out["due_all_day"] = end_of_day(_parse_due_date(data["due_date"])), True
            else:
                out["due_at"], out["due_all_day"] = None, False
        except ValidationFailed as exc:
            for name, messages in exc.fields.items():
                fields.setdefault(name, []).extend(messages)
    if "owner_id" in data:
        if data["owner_id"] in (None, ""):
            if partial:
                problem("owner_id", "A task needs an owner.")
            # On create, an empty owner means the default: the actor.
        else:
            try:
                owner = User.objects.filter(pk=parse_id(data["owner_id"]), is_active=True).first()
            except (TypeError, ValueError):
                owner = None
            if owner is None:
                problem("owner_id", "There is no active team member with this id.")
            else:
                out["owner"] = owner
    for name in ("candidate_id", "job_id"):
        if name in data:
            if data[name] in (None, ""):
                out[name] = None
            else:
                try:
                    out[name] = parse_id(data[name])
                except (TypeError, ValueError):
                    problem(name, 'Ids are strings of digits, such as "42".')
    if "done" in data:
        if not isinstance(data["done"], bool):
            problem("done", "Use true or false.")
        else:
            out["done"] = data["done"]
    if fields:
        name, messages = next(iter(fields.items()))
        raise ValidationFailed(f"Please check {name.replace('_', ' ')}: {messages[0]}", fields=fields)
    return out


def _link(*, actor: User | None, owner: User, cleaned: dict[str, Any], task: Task | None) -> dict[str, Any]:
    """Resolve the linked person and job. The actor must see what they link (else 404, as for any lookup), and the
    owner must see what their task is about (else a validation error on owner_id), checked whenever the owner or
    the link changes, so a task whose person later left its owner's scope can still be checked off."""
    resolved: dict[str, Any] = {}
    owner_changed = task is None or owner.pk != task.owner_id
    for name, visible_to, what in (
        ("candidate_id", candidates_visible_to, "person"),
        ("job_id", jobs_visible_to, "job"),
    ):
        field = name.removesuffix("_id")
        if name in cleaned and cleaned[name] is not None:
            scope = visible_to(actor if actor is not None else owner)
            obj = scope.filter(pk=cleaned[name]).first()
            if obj is None:
                raise NotFound(f"No such {what}.", fields={name: [f"No such {what}."]})
            changed = True
        elif name in cleaned:
            obj, changed = None, False
        else:
            obj, changed = (getattr(task, field) if task is not None else None), False
        if obj is not None and (changed or owner_changed) and not visible_to(owner).filter(pk=obj.pk).exists():
            who = owner.name or owner.email
            raise ValidationFailed.single("owner_id", f"{who} cannot see this {what}, so cannot own a task about it.")
        resolved[field] = obj
    return resolved


def _ensure_may_assign(actor: User | None, owner: User) -> None:
    if actor is None or owner.pk == actor.pk:
        return
    if not actor.has_full_access:
        raise PermissionDenied("Only admins and recruiters can give tasks to someone else.")


def _payload(task: Task) -> dict[str, Any]:
    return {
        "task_id": task.pk,
        "title": task.title,
        "due_at": task.due_at.isoformat() if task.due_at else None,
        "owner_id": task.owner_id,
        "source": task.source,
    }


@transaction.atomic
def task_create(
    *,
    actor: User | None,
    data: dict[str, Any],
    source: str = TaskSource.MANUAL,
    source_id: str = "",
    owner: User | None = None,
) -> Task:
    """Create a task. By hand, `actor` is the user and the owner defaults to them; automation passes `actor=None`,
    a `source` and the `owner` (such as the person's owner or the sequence's sender)."""
    if actor is not None and not _active(actor):
        raise PermissionDenied()
    if source not in TaskSource.values:
        raise ValidationFailed.single("source", f"Choose one of: {', '.join(TaskSource.values)}.")
    if source == TaskSource.MANUAL and actor is None:
        raise ValidationFailed.single("source", "A task without a user is made by a sequence or a trigger.")
    source_id = str(source_id or "")
    if len(source_id) > MAX_SOURCE_ID:
        raise ValidationFailed.single("source_id", f"Use at most {MAX_SOURCE_ID} characters.")
    cleaned = _clean(data, partial=False)
    if cleaned.pop("done", False):
        raise ValidationFailed.single("done", "A new task is open; check it off once it is done.")
    owner = cleaned.pop("owner", None) or owner or actor
    if owner is None or not owner.is_active:
        raise ValidationFailed.single("owner_id", "A task needs an active owner.")
    _ensure_may_assign(actor, owner)
    links = _link(actor=actor, owner=owner, cleaned=cleaned, task=None)
    now = timezone.now()
    task = Task.objects.create(
        title=cleaned["title"],
        notes=cleaned.get("notes", ""),
        due_at=cleaned.get("due_at"),
        due_all_day=cleaned.get("due_all_day", False),
        owner=owner,
        candidate=links["candidate"],
        job=links["job"],
        source=source,
        source_id=source_id,
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    if task.candidate is not None:
        activity_record(
            type="task.created",
            candidate=task.candidate,
            job=task.job,
            actor=actor,
            occurred_at=now,
            payload=_payload(task),
        )
    audit_record(actor=actor, action="create", object_type="task", object_id=task.pk)
    return task


def _audit_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "pk"):
        return value.pk
    return value


@transaction.atomic
def task_update(*, actor: User, task: Task, data: dict[str, Any]) -> Task:
    """Change a task the actor found through `task_get_for_user`; `done` checks it off or opens it again."""
    if not _active(actor):
        raise PermissionDenied()
    cleaned = _clean(data, partial=True)
    done = cleaned.pop("done", None)
    owner = cleaned.pop("owner", None) or task.owner
    if owner.pk != task.owner_id:
        _ensure_may_assign(actor, owner)
    links = _link(actor=actor, owner=owner, cleaned=cleaned, task=task)
    cleaned.pop("candidate_id", None)
    cleaned.pop("job_id", None)
    changes: dict[str, list[Any]] = {}
    for field, value in {**cleaned, **links, "owner": owner}.items():
        old = getattr(task, field)
        if old != value:
            changes[field] = [_audit_value(old), _audit_value(value)]
            setattr(task, field, value)
    now = timezone.now()
    completed = False
    if done is True and task.completed_at is None:
        task.completed_at, task.completed_by = now, actor
        changes["completed_at"] = [None, now.isoformat()]
        completed = True
    elif done is False and task.completed_at is not None:
        changes["completed_at"] = [task.completed_at.isoformat(), None]
        task.completed_at, task.completed_by = None, None
    if not changes:
        return task
    task.updated_at = now
    task.save()
    if completed and task.candidate is not None:
        activity_record(
            type="task.completed",
            candidate=task.candidate,
            job=task.job,
            actor=actor,
            occurred_at=now,
            payload=_payload(task),
        )
    audit_record(actor=actor, action="update", object_type="task", object_id=task.pk, changes=changes)
    return task
