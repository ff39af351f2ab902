"""Reads of triggers and their runs. Triggers are a tool of the people who set up automation (admins and
recruiters, `Capability.MANAGE_AUTOMATION`): other roles see none, so a lookup is 404, as for templates."""

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from rapport.accounts.models import User
from rapport.accounts.permissions import Capability, can
from rapport.automation.models import Trigger, TriggerRun, TriggerRunStatus
from rapport.automation.touches import Touch
from rapport.candidates.models import Candidate
from rapport.common.errors import BadRequest, NotFound
from rapport.common.ids import parse_id
from rapport.common.pagination import clamp_limit, decode_cursor, encode_cursor

UPCOMING_LIMIT = 50


def triggers_visible_to(user: User) -> QuerySet[Trigger]:
    if not can(user, Capability.MANAGE_AUTOMATION):
        return Trigger.objects.none()
    return Trigger.objects.all()


def trigger_get_for_user(*, user: User, trigger_id: Any) -> Trigger:
    try:
        pk = parse_id(trigger_id)
    except (TypeError, ValueError):
        raise NotFound("No such trigger.")
    trigger = triggers_visible_to(user).select_related("template", "sequence").filter(pk=pk).first()
    if trigger is None:
        raise NotFound("No such trigger.")
    return trigger


def trigger_list(*, user: User, enabled: bool | None = None, event: str | None = None) -> QuerySet[Trigger]:
    """The triggers the user may manage, filtered; ordering is left to the caller."""
    qs = triggers_visible_to(user)
    if enabled is not None:
        qs = qs.filter(enabled=enabled)
    if event:
        qs = qs.filter(event=event)
    return qs.select_related("template", "sequence")


def trigger_run_get_for_user(*, user: User, run_id: Any) -> TriggerRun:
    """A run, for skipping or sending it now: the user must manage automation and see the person."""
    from rapport.candidates.selectors import candidates_visible_to

    try:
        pk = parse_id(run_id)
    except (TypeError, ValueError):
        raise NotFound("No such run.")
    if not can(user, Capability.MANAGE_AUTOMATION):
        raise NotFound("No such run.")
    run = TriggerRun.objects.select_related("trigger").filter(pk=pk).first()
    if run is None or (
        run.candidate_id is not None and not candidates_visible_to(user).filter(pk=run.candidate_id).exists()
    ):
        raise NotFound("No such run.")
    return run


@dataclass
class RunPage:
    items: list[TriggerRun]
    next_cursor: str | None


def trigger_run_list(
    *, trigger: Trigger, cursor: str | None = None, limit: int | None = 50, status: str | None = None
) -> RunPage:
    """The trigger's run log, newest first, by keyset on the id (the `trigger_run_trigger` index)."""
    limit = clamp_limit(limit)
    qs = TriggerRun.objects.filter(trigger=trigger).select_related("candidate")
    if status in TriggerRunStatus.values:
        qs = qs.filter(status=status)
    position = decode_cursor(cursor)
    if position is not None:
        last_id = position.get("id")
        if not isinstance(last_id, int) or isinstance(last_id, bool) or last_id < 0:
            raise BadRequest("The cursor is not valid for this list.", fields={"cursor": ["Not a valid cursor."]})
        qs = qs.filter(id__lt=last_id)
    rows = list(qs.order_by("-id")[: limit + 1])
    items = rows[:limit]
    next_cursor = encode_cursor({"id": items[-1].pk}) if len(rows) > limit else None
    return RunPage(items=items, next_cursor=next_cursor)


def trigger_runs_upcoming(*, candidate: Candidate) -> list[Touch]:
    """The messages triggers will send this person: their scheduled runs of enabled send_message triggers, soonest
    first. A stage-template trigger names no template until it runs."""
    runs = (
        TriggerRun.objects.filter(
            candidate=candidate,
            status=TriggerRunStatus.SCHEDULED,
            trigger__enabled=True,
            trigger__action="send_message",
        )
        .select_related("trigger", "trigger__template")
        .order_by("due_at", "id")[:UPCOMING_LIMIT]
    )
    touches = []
    for run in runs:
        template = run.trigger.template
        touches.append(
            Touch(
                due_at=run.due_at,
                channel=template.channel if template is not None else "email",
                template_id=template.pk if template is not None else None,
                template_name=template.name
                if template is not None
                else (run.trigger.config or {}).get("default_template", "The stage's template"),
                source_type="trigger",
                source_id=run.trigger_id,
                source_name=run.trigger.name,
                run_id=run.pk,
            )
        )
    return touches
