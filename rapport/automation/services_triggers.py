"""Writes of triggers: when → if → then rules over the timeline, their runs, and the shipped defaults.

How a trigger fires:
- `triggers_consume` reads the timeline from a durable cursor ("triggers") in id ranges, matches the events in memory
  against the enabled triggers (loaded once per batch), and bulk-inserts one `TriggerRun` per match and offset. The
  run is unique per (trigger, event, offset), so reading an event twice fires nothing twice.
- Date rules (`candidate.birthday`, `candidate.inactive`) have no event; `triggers_fire_date_rules` finds the people
  due through an index (never a scan of everyone) and inserts their runs the same way.
- `trigger_runs_run_due` claims due runs (`claims.claim_due`) and executes them one by one, each in its own
  transaction. A run that raises is retried after 1, 2, 4 … minutes; after `MAX_ATTEMPTS` it is failed, logged and
  shown in the run log. A run that cannot apply to the person (erased, do not contact, replied already) is skipped
  with the reason. Neither holds up other runs or the cursor.

Every action taken records `trigger.ran` on the person's timeline with the trigger's id and name (the reason).

A trigger body (API and forms): `name`, `description`, `enabled`, `event`, `conditions`, `action`, `template_id`,
`sequence_id`, `delay_minutes`, `config`. Conditions are `{"field", "op", "value"}` with `op` one of eq, ne, in,
contains and `field` a payload key (`stage`, or `payload.stage`) or `candidate.*`, `application.*`, `job.*`,
`message.*` (see `CONDITION_FIELDS`). `config` keys (see `CONFIG_KEYS`):
- `offsets`: minutes added to the anchor time, one run each (a multi-touch rule); `anchor`: `event` (default), a
  payload date such as `payload.starts_at`, or `start_date` (the event's, else the accepted offer's);
- send_message: `details` (add the event's facts: the rejection reason, the meeting's time in the person's own time
  zone, place and preparation, the start date), `unless_replied` (skip if the person wrote back since the event),
  `skip_if_messaged` (skip if the application already got a message), `stage_template` (the entered stage's default
  template; `else_task` {title, days} makes a task when the stage has none), `audience: "interested"` (job alerts);
- create_task: `title` (`{candidate}`, `{job}`, `{stage}` are filled in), `owner` (recruiter, owner, hiring_manager),
  `days` (due in); add_to_pool: `pool` (a name, created when missing) or `pool_id`; add_tag: `tag`;
  inactive rule: `months`.
"""

import logging
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.db.models.functions import ExtractDay, ExtractMonth
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from rapport.accounts.models import User
from rapport.accounts.permissions import Capability, ensure
from rapport.automation import defaults
from rapport.automation.claims import claim_due
from rapport.automation.models import Sequence, TaskSource, Trigger, TriggerRun, TriggerRunStatus
from rapport.candidates.models import Candidate, CandidateTag, PoolMembership, RelationshipStatus, Tag, TalentPool
from rapport.common.errors import Conflict, FieldErrors, NotFound, ValidationFailed
from rapport.common.ids import parse_id
from rapport.messaging.models import MessageTemplate
from rapport.notifications.models import TimelineCursor
from rapport.timeline.horizon import settled_activity_id
from rapport.timeline.models import Activity
from rapport.timeline.services import activity_record, audit_record

logger = logging.getLogger(__name__)

CURSOR_NAME = "triggers"
MAX_ATTEMPTS = 8
RETRY_BASE = timedelta(minutes=1)
RUN_LEASE = timedelta(minutes=5)
MAX_CONDITIONS = 20
MAX_OFFSETS = 12
MAX_DELAY = 366 * 24 * 60
MAX_NAME = 200
MAX_DESCRIPTION = 2000
MAX_DETAIL = 500

# The events a trigger may listen to: the timeline's types (API.md) plus the ones defined in `defaults`.
EVENTS: dict[str, str] = {
    "application.created": "An application is received",
    "application.stage_changed": "An application enters a stage",
    "application.rejected": "An application is rejected",
    "application.withdrawn": "An application is withdrawn",
    "application.hired": "Someone is hired",
    "candidate.created": "A person is added",
    "candidate.updated": "A person's record changes",
    "candidate.unsubscribed": "A person unsubscribes",
    "consent.given": "A person gives consent",
    "note.added": "A note is added",
    "call.logged": "A call is logged",
    "meeting.logged": "A meeting is logged (after an interview)",
    "meeting.scheduled": "An interview or meeting is scheduled",
    "offer.accepted": "An offer is accepted",
    "tag.added": "A tag is added",
    "pool.added": "A person joins a pool",
    "message.sent": "A message is sent",
    "message.opened": "A message is opened",
    "message.clicked": "A link in a message is clicked",
    "message.received": "A person replies",
    "message.bounced": "A message bounces",
    "portal.visited": "A person visits their portal",
    "document.uploaded": "A person uploads a document",
    "survey.answered": "A person answers a survey",
    "sequence.exited": "A person leaves a sequence",
    "job.opened": "A job opens",
    "candidate.birthday": "A person's birthday (daily rule)",
    "candidate.inactive": "A person has been inactive for some months (daily rule)",
}
DATE_RULES = frozenset({"candidate.birthday", "candidate.inactive"})
# Events about no person: a trigger on them needs an audience to write to.
PERSONLESS = frozenset({"job.opened"})
ACTIONS: dict[str, str] = {
    "send_message": "Send a message",
    "create_task": "Create a recruiter task",
    "enrol": "Enrol in a sequence",
    "add_to_pool": "Add to a pool",
    "add_tag": "Add a tag",
    "send_survey": "Send a survey",
}
OPS = ("eq", "ne", "in", "contains")
CONDITION_FIELDS: dict[str, frozenset[str]] = {
    "candidate": frozenset(
        {"id", "relationship_status", "country", "city", "source", "language", "timezone", "owner_id", "tags"}
    ),
    "application": frozenset({"id", "stage", "stage_id", "stage_category", "source", "status", "job_id"}),
    "job": frozenset(
        {"id", "title", "department", "location", "status", "workplace_type", "employment_type", "client_id"}
    ),
    "message": frozenset({"id", "kind", "channel", "direction", "template_id", "template_category"}),
}
CONFIG_KEYS: dict[str, type | tuple[type, ...]] = {
    "offsets": list,
    "anchor": str,
    "details": bool,
    "unless_replied": bool,
    "skip_if_messaged": bool,
    "stage_template": bool,
    "else_task": dict,
    "audience": str,
    "default_template": str,
    "title": str,
    "owner": str,
    "days": int,
    "pool": str,
    "pool_id": (int, str),
    "tag": str,
    "months": int,
    "moment": str,
    "survey_id": (int, str),
}
TASK_OWNERS = ("recruiter", "owner", "hiring_manager")
_PAYLOAD_KEY = re.compile(r"^[a-z_][a-z0-9_]{0,49}$")
EDITABLE = {
    "name",
    "description",
    "enabled",
    "event",
    "conditions",
    "action",
    "template_id",
    "sequence_id",
    "delay_minutes",
    "config",
}


# --- validation -----------------------------------------------------------------------------------------------------


def _valid_field(field: Any) -> bool:
    if not isinstance(field, str):
        return False
    if "." not in field:
        return bool(_PAYLOAD_KEY.match(field))
    namespace, _, name = field.partition(".")
    if namespace == "payload":
        return bool(_PAYLOAD_KEY.match(name))
    return name in CONDITION_FIELDS.get(namespace, ())


def _clean_conditions(value: Any, errors: FieldErrors) -> list[dict[str, Any]]:
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        errors.add("conditions", "Give a list of {field, op, value}.")
        return []
    if len(value) > MAX_CONDITIONS:
        errors.add("conditions", f"Use at most {MAX_CONDITIONS} conditions.")
        return []
    cleaned = []
    for i, item in enumerate(value):
        name = f"conditions[{i}]"
        if not isinstance(item, dict) or set(item) - {"field", "op", "value"}:
            errors.add(name, "A condition is {field, op, value}.")
            continue
        field, op, expected = item.get("field"), item.get("op"), item.get("value")
        if not _valid_field(field):
            errors.add(f"{name}.field", f"Unknown field {field!r}: use a payload key or one of {_field_list()}.")
            continue
        if op not in OPS:
            errors.add(f"{name}.op", f"Choose one of: {', '.join(OPS)}.")
            continue
        if op == "in":
            if not isinstance(expected, list) or not expected or len(expected) > 100:
                errors.add(f"{name}.value", "“in” takes a list of 1 to 100 values.")
                continue
            if not all(isinstance(v, str | int | float | bool) for v in expected):
                errors.add(f"{name}.value", "Values are text, numbers or true/false.")
                continue
        elif not isinstance(expected, str | int | float | bool) or expected is None:
            errors.add(f"{name}.value", "Give a text, number or true/false value.")
            continue
        cleaned.append({"field": field, "op": op, "value": expected})
    return cleaned


def _field_list() -> str:
    return ", ".join(f"{ns}.{f}" for ns, fields in CONDITION_FIELDS.items() for f in sorted(fields))


def _clean_config(value: Any, action: str, errors: FieldErrors) -> dict[str, Any]:
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        errors.add("config", "Give an object.")
        return {}
    out: dict[str, Any] = {}
    for key, item in value.items():
        name = f"config.{key}"
        kind = CONFIG_KEYS.get(key)
        if kind is None:
            errors.add(name, f"Unknown setting; use: {', '.join(sorted(CONFIG_KEYS))}.")
            continue
        if isinstance(item, bool) and kind is not bool or not isinstance(item, kind):
            errors.add(name, "This setting has the wrong type.")
            continue
        out[key] = item
    offsets = out.get("offsets")
    if offsets is not None:
        if not offsets or len(offsets) > MAX_OFFSETS:
            errors.add("config.offsets", f"Give 1 to {MAX_OFFSETS} offsets in minutes.")
        elif not all(isinstance(o, int) and not isinstance(o, bool) and abs(o) <= MAX_DELAY for o in offsets):
            errors.add("config.offsets", "Offsets are whole minutes, at most a year either way.")
        elif len(set(offsets)) != len(offsets):
            errors.add("config.offsets", "Each offset once.")
        else:
            out["offsets"] = sorted(offsets)
    anchor = out.get("anchor")
    if anchor is not None and anchor not in ("event", "start_date"):
        namespace, _, key = anchor.partition(".")
        if namespace != "payload" or not _PAYLOAD_KEY.match(key):
            errors.add("config.anchor", "Use event, start_date or a payload date such as payload.starts_at.")
    if out.get("owner") is not None and out["owner"] not in TASK_OWNERS:
        errors.add("config.owner", f"Choose one of: {', '.join(TASK_OWNERS)}.")
    if out.get("audience") is not None and out["audience"] != "interested":
        errors.add("config.audience", "The only audience is “interested” (job alerts).")
    if "days" in out and not 0 <= out["days"] <= 365:
        errors.add("config.days", "Use 0 to 365 days.")
    if "months" in out and not 1 <= out["months"] <= 120:
        errors.add("config.months", "Use 1 to 120 months.")
    else_task = out.get("else_task")
    if else_task is not None:
        title = else_task.get("title")
        if set(else_task) - {"title", "days"} or not isinstance(title, str) or not title.strip():
            errors.add("config.else_task", "Give {title, days}.")
    if action == "send_survey":
        from rapport.surveys.models import Survey, SurveyMoment

        if out.get("survey_id") is not None:
            try:
                if not Survey.objects.filter(pk=parse_id(out["survey_id"])).exists():
                    errors.add("config.survey_id", "No such survey.")
            except (TypeError, ValueError):
                errors.add("config.survey_id", 'Ids are strings of digits, such as "42".')
        elif out.get("moment") not in SurveyMoment.values:
            errors.add("config.moment", f"Give a survey_id, or a moment: {', '.join(SurveyMoment.values)}.")
    if action == "create_task" and not str(out.get("title") or "").strip():
        errors.add("config.title", "Say what the task is.")
    if action == "add_tag":
        tag = str(out.get("tag") or "").strip()
        if not tag or len(tag) > 50:
            errors.add("config.tag", "Give a tag of 1 to 50 characters.")
    if action == "add_to_pool" and not (out.get("pool") or out.get("pool_id")):
        errors.add("config.pool", "Name the pool.")
    if action == "add_to_pool" and out.get("pool_id") is not None:
        try:
            if not TalentPool.objects.filter(pk=parse_id(out["pool_id"])).exists():
                errors.add("config.pool_id", "No such pool.")
        except (TypeError, ValueError):
            errors.add("config.pool_id", 'Ids are strings of digits, such as "42".')
    return out


def _clean(*, actor: User, data: dict[str, Any], trigger: Trigger | None) -> dict[str, Any]:
    """Check a trigger body (whole on create, the fields sent on update); every problem is named by its field."""
    from rapport.messaging.selectors import message_templates_visible_to

    unknown = sorted(set(data) - EDITABLE)
    if unknown:
        raise ValidationFailed.single(unknown[0], f"{unknown[0]} is not a trigger field.")
    partial = trigger is not None
    errors = FieldErrors()
    out: dict[str, Any] = {}
    if "name" in data or not partial:
        name = data.get("name")
        name = " ".join(name.split()) if isinstance(name, str) else ""
        if not name:
            errors.add("name", "Give the trigger a name.")
        elif len(name) > MAX_NAME:
            errors.add("name", f"Use at most {MAX_NAME} characters.")
        out["name"] = name
    if "description" in data:
        description = data["description"] if isinstance(data["description"], str) else None
        if description is None and data["description"] is not None:
            errors.add("description", "The description is text.")
        elif len(description or "") > MAX_DESCRIPTION:
            errors.add("description", f"Use at most {MAX_DESCRIPTION} characters.")
        else:
            out["description"] = (description or "").strip()
    if "enabled" in data:
        if not isinstance(data["enabled"], bool):
            errors.add("enabled", "Use true or false.")
        else:
            out["enabled"] = data["enabled"]
    if "event" in data or not partial:
        if data.get("event") not in EVENTS:
            errors.add("event", "Choose an event from the list.")
        else:
            out["event"] = data["event"]
    if "action" in data or not partial:
        if data.get("action") not in ACTIONS:
            errors.add("action", f"Choose one of: {', '.join(ACTIONS)}.")
        else:
            out["action"] = data["action"]
    action = out.get("action", trigger.action if trigger else "")
    event = out.get("event", trigger.event if trigger else "")
    if "conditions" in data:
        out["conditions"] = _clean_conditions(data["conditions"], errors)
    if "config" in data:
        out["config"] = _clean_config(data["config"], action, errors)
        shipped_name = (trigger.config or {}).get("default_template") if trigger is not None else None
        if shipped_name and "default_template" not in out["config"]:
            # Editors send the settings they show; a shipped trigger keeps knowing its template.
            out["config"]["default_template"] = shipped_name
    elif "action" in data and trigger is not None:
        out["config"] = _clean_config(trigger.config, action, errors)
    if "delay_minutes" in data:
        delay = data["delay_minutes"]
        if isinstance(delay, bool) or not isinstance(delay, int) or not 0 <= delay <= MAX_DELAY:
            errors.add("delay_minutes", "Use whole minutes, from 0 to a year.")
        else:
            out["delay_minutes"] = delay
    if "template_id" in data:
        if data["template_id"] in (None, ""):
            out["template"] = None
        else:
            try:
                template = message_templates_visible_to(actor).filter(pk=parse_id(data["template_id"])).first()
            except (TypeError, ValueError):
                template = None
            if template is None:
                errors.add("template_id", "No such template.")
            else:
                out["template"] = template
    if "sequence_id" in data:
        if data["sequence_id"] in (None, ""):
            out["sequence"] = None
        else:
            try:
                sequence = Sequence.objects.filter(pk=parse_id(data["sequence_id"])).first()
            except (TypeError, ValueError):
                sequence = None
            if sequence is None:
                errors.add("sequence_id", "No such sequence.")
            else:
                out["sequence"] = sequence
    errors.raise_if_any()
    # Rules over the whole trigger, as it will be after the change.
    config = out.get("config", trigger.config if trigger else {})
    template = out.get("template", trigger.template if trigger else None)
    sequence = out.get("sequence", trigger.sequence if trigger else None)
    enabled = out.get("enabled", trigger.enabled if trigger else False)
    shipped = config.get("default_template") in defaults.TEMPLATES
    if action == "send_message" and template is None and not config.get("stage_template") and not shipped:
        errors.add("template_id", "Pick the template to send.")
    if template is not None and template.channel != "email" and config.get("details"):
        errors.add("config.details", "The event's details go by email only; pick an email template.")
    if action == "enrol" and sequence is None and enabled:
        errors.add("sequence_id", "Pick the sequence to enrol people in before switching this on.")
    if event in PERSONLESS and config.get("audience") != "interested":
        errors.add("config.audience", "This event is about no person: set the audience (“interested”).")
    if config.get("audience") and event not in PERSONLESS:
        errors.add("config.audience", "An audience applies only to job events.")
    if event in DATE_RULES and (config.get("offsets") or config.get("anchor")):
        errors.add("config.offsets", "Date rules fire once on the day; use the delay instead.")
    if event == "candidate.inactive" and not config.get("months"):
        errors.add("config.months", "Say after how many months without activity.")
    errors.raise_if_any()
    return out


def _audit_value(value: Any) -> Any:
    return value.pk if hasattr(value, "pk") else value


@transaction.atomic
def trigger_create(*, actor: User, data: dict[str, Any]) -> Trigger:
    """Create a trigger from the API/form body; it starts switched off unless `enabled` says otherwise."""
    ensure(actor, Capability.MANAGE_AUTOMATION)
    cleaned = _clean(actor=actor, data=data, trigger=None)
    now = timezone.now()
    trigger = Trigger.objects.create(**cleaned, created_by=actor, created_at=now, updated_at=now)
    audit_record(actor=actor, action="create", object_type="trigger", object_id=trigger.pk)
    return trigger


@transaction.atomic
def trigger_update(*, actor: User, trigger: Trigger, data: dict[str, Any]) -> Trigger:
    """Change the fields sent; `{"enabled": false}` switches the trigger off (its scheduled runs are then skipped
    when they come due, so switching it back on in time lets them go)."""
    ensure(actor, Capability.MANAGE_AUTOMATION)
    cleaned = _clean(actor=actor, data=data, trigger=trigger)
    if cleaned.get("enabled") and trigger.template_id is None and "template" not in cleaned:
        name = (cleaned.get("config") or trigger.config).get("default_template")
        if name and (cleaned.get("action") or trigger.action) == "send_message":
            cleaned["template"] = _default_template(name)
    changes: dict[str, list[Any]] = {}
    for field, value in cleaned.items():
        old = getattr(trigger, field)
        if old != value:
            changes[field] = [_audit_value(old), _audit_value(value)]
            setattr(trigger, field, value)
    if changes:
        trigger.updated_at = timezone.now()
        trigger.save()
        audit_record(actor=actor, action="update", object_type="trigger", object_id=trigger.pk, changes=changes)
    return trigger


# --- the shipped defaults -------------------------------------------------------------------------------------------


def _install(trigger_model: Any, template_model: Any | None) -> int:
    """Create the missing default triggers (and, given `template_model`, their templates); returns how many triggers
    were created. Takes the model classes so the data migration can pass its historical ones."""
    templates: dict[str, Any] = {}
    if template_model is not None:
        for name, (category, subject, body) in defaults.TEMPLATES.items():
            template = template_model.objects.filter(name=name).first()
            if template is None:
                template = template_model.objects.create(
                    name=name, channel="email", category=category, subject=subject, body=body
                )
            templates[name] = template
    existing = set(trigger_model.objects.filter(key__isnull=False).values_list("key", flat=True))
    created = 0
    for spec in defaults.DEFAULT_TRIGGERS:
        template_name = spec["template"]
        config = dict(spec["config"])
        if template_name:
            config["default_template"] = template_name
        if spec["key"] in existing:
            if template_name in templates:
                # Link a template created later (the migration installs triggers without templates).
                trigger_model.objects.filter(key=spec["key"], template__isnull=True, action="send_message").update(
                    template=templates[template_name]
                )
            continue
        trigger_model.objects.create(
            key=spec["key"],
            name=spec["name"],
            description=spec["description"],
            enabled=spec["enabled"],
            event=spec["event"],
            conditions=spec["conditions"],
            action=spec["action"],
            template=templates.get(template_name) if template_name else None,
            config=config,
            delay_minutes=spec["delay_minutes"],
        )
        created += 1
    return created


@transaction.atomic
def triggers_install_defaults() -> int:
    """Install the shipped triggers and the templates they send, each once (by `Trigger.key` and template name);
    returns how many triggers were created. Changes the team made to them are kept."""
    return _install(Trigger, MessageTemplate)


def _default_template(name: str) -> MessageTemplate | None:
    """The shipped template of this name, created when missing (the data migration leaves template lists alone)."""
    spec = defaults.TEMPLATES.get(name)
    template = MessageTemplate.objects.filter(name=name).first()
    if template is not None or spec is None:
        return template
    category, subject, body = spec
    try:
        with transaction.atomic():
            return MessageTemplate.objects.create(
                name=name, channel="email", category=category, subject=subject, body=body
            )
    except IntegrityError:
        return MessageTemplate.objects.filter(name=name).first()


# --- events the triggers define -------------------------------------------------------------------------------------


@transaction.atomic
def meeting_scheduled_record(
    *,
    actor: User | None,
    candidate: Candidate,
    starts_at: datetime,
    title: str = "",
    location: str = "",
    preparation: str = "",
    application: Any = None,
    meeting_id: str = "",
) -> Activity:
    """Record that an interview or meeting was booked (`meeting.scheduled`), which the reminder triggers read.

    Booking the same `meeting_id` again (a new time) replaces the earlier booking: its reminders are skipped.
    """
    if actor is not None:
        from rapport.candidates.selectors import candidates_visible_to

        ensure(actor, Capability.ADD_NOTES)
        if not candidates_visible_to(actor).filter(pk=candidate.pk).exists():
            raise NotFound("No such person.")
    if not isinstance(starts_at, datetime) or timezone.is_naive(starts_at):
        raise ValidationFailed.single("starts_at", "Give the time with its time zone.")
    return activity_record(
        type="meeting.scheduled",
        candidate=candidate,
        application=application,
        job=application.job if application is not None else None,
        actor=actor,
        payload={
            "starts_at": starts_at.isoformat(),
            "title": (title or "")[:200],
            "location": (location or "")[:300],
            "preparation": (preparation or "")[:2000],
            **({"meeting_id": str(meeting_id)[:60]} if meeting_id else {}),
        },
    )


@transaction.atomic
def offer_accepted_record(*, actor: User | None, application: Any, start_date: date) -> Activity:
    """Record that the person accepted the offer (`offer.accepted`), which the pre-joining triggers read."""
    if actor is not None:
        ensure(actor, Capability.MOVE_APPLICATIONS)
    return activity_record(
        type="offer.accepted",
        candidate=application.candidate,
        application=application,
        job=application.job,
        actor=actor,
        payload={"start_date": start_date.isoformat(), "job_id": application.job_id},
    )


# --- matching -------------------------------------------------------------------------------------------------------


def _norm(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value).strip().lower()


def condition_holds(actual: Any, op: str, expected: Any) -> bool:
    """One condition against the value found (None when the field is missing). Text compares case-insensitively."""
    if op == "eq":
        return _norm(actual) == _norm(expected)
    if op == "ne":
        return _norm(actual) != _norm(expected)
    if op == "in":
        return _norm(actual) in {_norm(v) for v in expected}
    if op == "contains":
        if isinstance(actual, list | tuple | set):
            return _norm(expected) in {_norm(v) for v in actual}
        return _norm(expected) in _norm(actual)
    return False


def _namespaces(triggers: Iterable[Trigger]) -> set[str]:
    used = set()
    for trigger in triggers:
        for condition in trigger.conditions or []:
            namespace, dot, _ = condition["field"].partition(".")
            if dot and namespace != "payload":
                used.add(namespace)
    return used


@dataclass
class _Event:
    id: int
    type: str
    candidate_id: int | None
    application_id: int | None
    job_id: int | None
    occurred_at: datetime
    payload: dict[str, Any]


class _Facts:
    """The candidate, application, job and message fields of a batch of events, each loaded once and only when a
    trigger's conditions name them."""

    def __init__(self, events: list[_Event], namespaces: set[str]):
        self.candidates: dict[int, dict[str, Any]] = {}
        self.applications: dict[int, dict[str, Any]] = {}
        self.jobs: dict[int, dict[str, Any]] = {}
        self.messages: dict[int, dict[str, Any]] = {}
        if "candidate" in namespaces:
            self.candidates = _candidate_facts({e.candidate_id for e in events if e.candidate_id})
        if "application" in namespaces:
            from rapport.pipeline.models import Application

            ids = {e.application_id for e in events if e.application_id}
            for row in Application.objects.filter(pk__in=ids).values(
                "id", "stage__name", "stage_id", "stage__category", "source", "status", "job_id"
            ):
                self.applications[row["id"]] = {
                    "id": row["id"],
                    "stage": row["stage__name"],
                    "stage_id": row["stage_id"],
                    "stage_category": row["stage__category"],
                    "source": row["source"],
                    "status": row["status"],
                    "job_id": row["job_id"],
                }
        if "job" in namespaces:
            from rapport.jobs.models import Job

            ids = {e.job_id for e in events if e.job_id}
            fields = [f for f in CONDITION_FIELDS["job"]]
            for row in Job.objects.filter(pk__in=ids).values(*fields):
                self.jobs[row["id"]] = row
        if "message" in namespaces:
            from rapport.messaging.models import Message

            ids = {_int(e.payload.get("message_id")) for e in events} - {None}
            for row in Message.objects.filter(pk__in=ids).values(
                "id", "kind", "channel", "direction", "template_id", "template__category"
            ):
                row["template_category"] = row.pop("template__category")
                self.messages[row["id"]] = row

    def value(self, event: _Event, field: str) -> Any:
        namespace, dot, name = field.partition(".")
        if not dot:
            return event.payload.get(field)
        if namespace == "payload":
            return event.payload.get(name)
        if namespace == "candidate":
            return self.candidates.get(event.candidate_id or 0, {}).get(name)
        if namespace == "application":
            return self.applications.get(event.application_id or 0, {}).get(name)
        if namespace == "job":
            return self.jobs.get(event.job_id or 0, {}).get(name)
        if namespace == "message":
            return self.messages.get(_int(event.payload.get("message_id")) or 0, {}).get(name)
        return None


def _candidate_facts(ids: set[int]) -> dict[int, dict[str, Any]]:
    facts: dict[int, dict[str, Any]] = {}
    names = [f for f in CONDITION_FIELDS["candidate"] if f != "tags"]
    for row in Candidate.objects.filter(pk__in=ids).values(*names):
        row["tags"] = []
        facts[row["id"]] = row
    for candidate_id, tag in CandidateTag.objects.filter(candidate_id__in=ids).values_list("candidate_id", "tag__name"):
        facts[candidate_id]["tags"].append(tag)
    return facts


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _matches(trigger: Trigger, event: _Event, facts: _Facts) -> bool:
    return all(condition_holds(facts.value(event, c["field"]), c["op"], c["value"]) for c in trigger.conditions or [])


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name) if name else ZoneInfo(settings.RAPPORT_DEFAULT_TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.RAPPORT_DEFAULT_TIMEZONE)


def _moment(value: Any, zone: ZoneInfo) -> datetime | None:
    """A payload time: an ISO datetime (a naive one read in the person's zone), or a date meaning 09:00 there."""
    if not isinstance(value, str) or not value:
        return None
    try:
        if len(value.strip()) == 10:  # a bare date (parse_datetime would read it as midnight)
            day = parse_date(value.strip())
            return datetime.combine(day, time(9), tzinfo=zone) if day else None
        parsed = parse_datetime(value)
    except ValueError:
        return None
    if parsed is None:
        return None
    return parsed.replace(tzinfo=zone) if timezone.is_naive(parsed) else parsed


def _start_dates(events: list[_Event]) -> dict[tuple[int, int | None], str]:
    """The latest accepted offer's start date per (person, application) and per person, for `start_date` anchors."""
    people = {e.candidate_id for e in events if e.candidate_id}
    found: dict[tuple[int, int | None], str] = {}
    rows = Activity.objects.filter(type="offer.accepted", candidate_id__in=people).order_by("id")
    for candidate_id, application_id, payload in rows.values_list("candidate_id", "application_id", "payload"):
        start = (payload or {}).get("start_date")
        if start:
            found[(candidate_id, application_id)] = start
            found[(candidate_id, None)] = start
    return found


def _run_times(
    trigger: Trigger,
    event: _Event,
    *,
    zones: dict[int, ZoneInfo],
    starts: dict[tuple[int, int | None], str],
) -> list[tuple[int, datetime]]:
    """(offset, due_at) for each run an event makes: anchor + delay + offset. Anchored touches whose time comes
    before the event itself (a reminder 24 h before a meeting booked 3 h ahead) are left out."""
    config = trigger.config or {}
    anchor_name = config.get("anchor") or "event"
    offsets = config.get("offsets") or [0]
    delay = timedelta(minutes=trigger.delay_minutes)
    anchor = event.occurred_at
    if anchor_name != "event":
        zone = zones.get(event.candidate_id or 0) or _zone(None)
        if anchor_name == "start_date":
            raw = (
                event.payload.get("start_date")
                or starts.get((event.candidate_id or 0, event.application_id))
                or starts.get((event.candidate_id or 0, None))
            )
        else:
            raw = event.payload.get(anchor_name.partition(".")[2])
        moment = _moment(raw, zone)
        if moment is None and anchor_name != "start_date":
            return []  # the payload lacks the time this rule is about
        anchor = moment or anchor
    times = []
    for offset in offsets:
        due = anchor + delay + timedelta(minutes=offset)
        if anchor_name != "event" and due < event.occurred_at:
            continue
        times.append((offset, due))
    return times


def _interested(jobs: dict[int, dict[str, Any]], job_id: int | None) -> list[int]:
    """Talent community members who chose this job's department as an interest and did not withdraw consent."""
    from rapport.careers.services import INTEREST_TAG_PREFIX
    from rapport.privacy.models import Consent

    job = jobs.get(job_id or 0)
    if not job or not job.get("department"):
        return []
    tag_name = f"{INTEREST_TAG_PREFIX}{job['department']}"[:50]
    tag = Tag.objects.filter(name__iexact=tag_name).first()
    if tag is None:
        return []
    consented = Consent.objects.filter(purpose=defaults.JOB_ALERT_CONSENT, withdrawn_at__isnull=True).values(
        "candidate_id"
    )
    return list(
        CandidateTag.objects.filter(tag=tag, candidate_id__in=consented)
        .filter(candidate__erased_at__isnull=True)
        .exclude(candidate__relationship_status=RelationshipStatus.DO_NOT_CONTACT)
        .values_list("candidate_id", flat=True)
    )


# A run to insert: (trigger id, activity id, fired_for, offset, candidate id, due_at).
RunRow = tuple[int, int | None, str, int, int | None, datetime]
RUN_COLUMNS = ("trigger_id", "activity_id", "fired_for", "offset", "candidate_id", "due_at")


def _insert_runs(rows: list[RunRow], now: datetime) -> None:
    """Insert runs in chunks, leaving any that exist already as they are (`ON CONFLICT DO NOTHING`, in SQLite and
    PostgreSQL alike). Plain SQL rather than `bulk_create`, whose per-field preparation took most of the consumer's
    time: this keeps it well above 2,000 events a second."""
    if not rows:
        return
    quote = connection.ops.quote_name
    columns = [*RUN_COLUMNS, "status", "claim_token", "attempts", "detail", "created_at"]
    adapt = connection.ops.adapt_datetimefield_value
    created = adapt(now)
    params = [(*row[:5], adapt(row[5]), TriggerRunStatus.SCHEDULED.value, "", 0, "", created) for row in rows]
    # Many rows per statement: one round trip per chunk, within the database's limit on parameters.
    chunk = max(1, min(1000, (connection.features.max_query_params or 65535) // len(columns)))
    one = f"({', '.join(['%s'] * len(columns))})"
    head = f"INSERT INTO {quote(TriggerRun._meta.db_table)} ({', '.join(quote(c) for c in columns)}) VALUES "
    with connection.cursor() as cursor:
        for start in range(0, len(params), chunk):
            part = params[start : start + chunk]
            cursor.execute(
                head + ", ".join([one] * len(part)) + " ON CONFLICT DO NOTHING", [v for p in part for v in p]
            )


def _runs_for(events: list[_Event], by_event: dict[str, list[Trigger]], now: datetime) -> list[RunRow]:
    triggers = [t for ts in by_event.values() for t in ts]
    namespaces = _namespaces(triggers)
    if any(t.event in PERSONLESS for t in triggers):
        namespaces.add("job")
    facts = _Facts(events, namespaces)
    anchored = any((t.config or {}).get("anchor", "event") != "event" for t in triggers)
    zones: dict[int, ZoneInfo] = {}
    starts: dict[tuple[int, int | None], str] = {}
    if anchored:
        ids = {
            e.candidate_id for e in events if e.candidate_id and any(t.config.get("anchor") for t in by_event[e.type])
        }
        for pk, name in Candidate.objects.filter(pk__in=ids).values_list("pk", "timezone"):
            zones[pk] = _zone(name)
        if any((t.config or {}).get("anchor") == "start_date" for t in triggers):
            starts = _start_dates([e for e in events if e.candidate_id in ids])
    runs = []
    for event in events:
        for trigger in by_event[event.type]:
            if not _matches(trigger, event, facts):
                continue
            if (trigger.config or {}).get("audience") == "interested":
                due = event.occurred_at + timedelta(minutes=trigger.delay_minutes)
                for candidate_id in _interested(facts.jobs, event.job_id):
                    runs.append((trigger.pk, event.id, f"a{event.id}:c{candidate_id}", 0, candidate_id, due))
                continue
            if event.candidate_id is None:
                continue
            for offset, due in _run_times(trigger, event, zones=zones, starts=starts):
                runs.append((trigger.pk, event.id, f"a{event.id}", offset, event.candidate_id, due))
    return runs


def _cursor_ensure(name: str) -> None:
    try:
        with transaction.atomic():
            TimelineCursor.objects.get_or_create(name=name)
    except IntegrityError:
        pass  # another worker created it first


def _kick() -> None:
    """Runs that may be due now: a dispatcher pass once this commits (the embedded worker, or a Celery task)."""
    from rapport.automation.engine import kick

    kick()


def triggers_consume(*, limit: int = 5000) -> int:
    """Read up to `limit` new timeline events of the types some enabled trigger listens to, and schedule the runs
    of the triggers they match; returns how many events were read (0 when caught up), so a worker loops while
    there is a backlog.

    One query per batch reads the events (other types are passed over in the same scan), and the triggers are
    loaded once per batch. The cursor row is locked for the whole batch, so two workers never read the same range;
    runs are unique per (trigger, event, offset), so even a replayed range fires nothing twice.
    """
    _cursor_ensure(CURSOR_NAME)
    last_id = TimelineCursor.objects.filter(name=CURSOR_NAME).values_list("last_id", flat=True).first() or 0
    if not Activity.objects.filter(pk__gt=last_id).exists():
        return 0
    now = timezone.now()
    with transaction.atomic():
        cursor = TimelineCursor.objects.select_for_update().get(name=CURSOR_NAME)
        # Not simply the newest id: on PostgreSQL a lower id may still be committing (see timeline.horizon).
        newest = settled_activity_id()
        if newest is None or newest <= cursor.last_id:
            return 0
        by_event: dict[str, list[Trigger]] = defaultdict(list)
        for trigger in Trigger.objects.filter(enabled=True).exclude(event__in=DATE_RULES):
            by_event[trigger.event].append(trigger)
        events: list[_Event] = []
        if by_event:
            rows = (
                Activity.objects.filter(pk__gt=cursor.last_id, pk__lte=newest, type__in=list(by_event))
                .order_by("pk")
                .values_list("id", "type", "candidate_id", "application_id", "job_id", "occurred_at", "payload")[:limit]
            )
            events = [_Event(*row) for row in rows]
            for event in events:
                event.payload = event.payload or {}
            _insert_runs(_runs_for(events, by_event, now) if events else [], now)
        # A full batch may leave events behind it; otherwise everything up to the horizon has been seen.
        cursor.last_id = events[-1].id if len(events) == limit else newest
        cursor.updated_at = now
        cursor.save(update_fields=["last_id", "updated_at"])
    if events:
        _kick()
    return len(events)


# --- date rules -----------------------------------------------------------------------------------------------------


def _date_rule_runs(
    trigger: Trigger, people: list[tuple[int, datetime]], fired_for: dict[int, str], now: datetime
) -> int:
    if not people:
        return 0
    if trigger.conditions:
        facts = _candidate_facts({pk for pk, _ in people})
        kept = []
        for pk, due in people:
            event = _Event(0, trigger.event, pk, None, None, now, {})
            holder = _Facts([], set())
            holder.candidates = facts
            if _matches(trigger, event, holder):
                kept.append((pk, due))
        people = kept
    delay = timedelta(minutes=trigger.delay_minutes)
    runs: list[RunRow] = [(trigger.pk, None, fired_for[pk], 0, pk, due + delay) for pk, due in people]
    keys = [row[2] for row in runs]
    before = TriggerRun.objects.filter(trigger=trigger, fired_for__in=keys).count()
    _insert_runs(runs, now)
    return TriggerRun.objects.filter(trigger=trigger, fired_for__in=keys).count() - before


def _birthday_runs(trigger: Trigger, now: datetime) -> int:
    """People whose birthday it is today in their own time zone, who opted in; greeted at 09:00 their time.

    The lookup is by (month, day) through the expression index `candidate_birthday_md`, for the three calendar
    days around today (time zones span them), so it reads only the people with a birthday then. Someone born on
    29 February is greeted on the 28th in other years.
    """
    from rapport.privacy.models import Consent

    today = now.astimezone(_zone(None)).date()
    days = [today + timedelta(days=d) for d in (-1, 0, 1)]
    wanted: set[tuple[int, int]] = {(d.month, d.day) for d in days}
    for d in days:
        if d.month == 2 and d.day == 28 and not _leap(d.year):
            wanted.add((2, 29))
    match = Q()
    for month, day in wanted:
        match |= Q(bmonth=month, bday=day)
    opted_in = Consent.objects.filter(purpose=defaults.BIRTHDAY_CONSENT, withdrawn_at__isnull=True).values(
        "candidate_id"
    )
    rows = (
        Candidate.objects.filter(birthday__isnull=False)
        .annotate(bmonth=ExtractMonth("birthday"), bday=ExtractDay("birthday"))
        .filter(match)
        .filter(erased_at__isnull=True, pk__in=opted_in)
        .exclude(relationship_status=RelationshipStatus.DO_NOT_CONTACT)
        .values_list("pk", "birthday", "timezone")
    )
    people, fired_for = [], {}
    for pk, birthday, zone_name in rows:
        zone = _zone(zone_name)
        local_today = now.astimezone(zone).date()
        month, day = birthday.month, birthday.day
        if (month, day) == (2, 29) and not _leap(local_today.year):
            day = 28
        if (local_today.month, local_today.day) != (month, day):
            continue
        greet_at = datetime.combine(local_today, time(9), tzinfo=zone)
        people.append((pk, max(greet_at, now)))  # after 09:00 their time: greet at once
        fired_for[pk] = f"c{pk}:{local_today.year}"
    return _date_rule_runs(trigger, people, fired_for, now)


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _inactive_runs(trigger: Trigger, now: datetime) -> int:
    """People whose record last changed more than `months` ago, found as a range on the indexed `updated_at`: only
    those who crossed the line since the last check (kept in a cursor per trigger). On its first check a rule looks
    back one day, so switching it on does not write to everyone who has ever gone quiet at once."""
    months = int((trigger.config or {}).get("months") or 12)
    threshold = now - timedelta(days=round(months * 30.44))
    name = f"triggers:inactive:{trigger.pk}"
    _cursor_ensure(name)
    with transaction.atomic():
        cursor = TimelineCursor.objects.select_for_update().get(name=name)
        start = datetime.fromtimestamp(cursor.last_id, tz=UTC) if cursor.last_id else threshold - timedelta(days=1)
        if start >= threshold:
            return 0
        rows = (
            Candidate.objects.filter(updated_at__gt=start, updated_at__lte=threshold, erased_at__isnull=True)
            .exclude(relationship_status=RelationshipStatus.DO_NOT_CONTACT)
            .values_list("pk", "updated_at")
        )
        people, fired_for = [], {}
        for pk, updated_at in rows:
            people.append((pk, now))
            fired_for[pk] = f"c{pk}:i{updated_at:%Y%m%d%H%M%S}"
        created = _date_rule_runs(trigger, people, fired_for, now)
        cursor.last_id = int(threshold.timestamp())
        cursor.updated_at = now
        cursor.save(update_fields=["last_id", "updated_at"])
    return created


def triggers_fire_date_rules(*, now: datetime | None = None) -> int:
    """Schedule the runs of the enabled date rules (birthdays, inactivity) due now; returns how many were new.

    Safe to call as often as wanted: each person fires once per birthday and once per spell of inactivity.
    """
    now = now or timezone.now()
    created = 0
    for trigger in Trigger.objects.filter(enabled=True, event__in=DATE_RULES).order_by("pk"):
        if trigger.event == "candidate.birthday":
            created += _birthday_runs(trigger, now)
        else:
            created += _inactive_runs(trigger, now)
    if created:
        _kick()
    return created


# --- executing runs -------------------------------------------------------------------------------------------------


class _Skip(Exception):
    """The run does not apply to this person (any more); its reason goes in the run log."""


@dataclass
class _Done:
    detail: str
    message: Any = None
    extra: dict[str, Any] | None = None
    # Filled in by `_act`, for the `trigger.ran` event.
    candidate: Any = None
    application: Any = None
    job: Any = None


def retry_delay(attempts: int) -> timedelta:
    """1, 2, 4 … minutes after the first, second, third failed attempt."""
    return RETRY_BASE * 2 ** max(attempts - 1, 0)


def _fill(text: str, *, candidate: Candidate, job: Any, stage: str) -> str:
    values = {"candidate": candidate.full_name, "job": job.title if job else "", "stage": stage}
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return " ".join(text.split())[:200]


def _safe(text: Any) -> str:
    """Event text (a reason, preparation notes) placed in a template body: no template syntax may survive."""
    text = str(text or "")
    for opener in ("{{", "{%", "{#"):
        text = text.replace(opener, opener[0] + " " + opener[1])
    return text.strip()


def _format_moment(moment: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return f"{local:%A %-d %B %Y, %H:%M} ({zone.key})"


def _details(activity: Activity | None, candidate: Candidate) -> str:
    """The event's facts for the person, in Markdown: what a template cannot know."""
    if activity is None:
        return ""
    payload = activity.payload or {}
    zone = _zone(candidate.timezone)
    lines = []
    if activity.type == "application.rejected" and payload.get("reason"):
        lines.append(f"**The reason:** {_safe(payload['reason'])}")
    if activity.type == "meeting.scheduled":
        starts = _moment(payload.get("starts_at"), zone)
        if payload.get("title"):
            lines.append(f"**What:** {_safe(payload['title'])}")
        if starts is not None:
            lines.append(f"**When:** {_format_moment(starts, zone)}")
        if payload.get("location"):
            lines.append(f"**Where:** {_safe(payload['location'])}")
        if payload.get("preparation"):
            lines.append(f"**How to prepare:** {_safe(payload['preparation'])}")
    start = payload.get("start_date")
    if start:
        try:
            day = parse_date(str(start))
        except ValueError:
            day = None
        if day is not None:
            lines.append(f"**Your start date:** {day:%A %-d %B %Y}")
    return "\n\n".join(lines)


def _with_details(body: str, details: str) -> str:
    """The details go after the template's second paragraph (the greeting and the news), else at the end."""
    paragraphs = re.split(r"\n\s*\n", body.strip())
    at = min(2, len(paragraphs))
    return "\n\n".join([*paragraphs[:at], details, *paragraphs[at:]])


def _variant(template: MessageTemplate, language: str) -> tuple[str, str]:
    """The template's subject and body in the person's language (`fr-CA` falls back to `fr`), else the default."""
    language = (language or "").lower()
    variants = {str(v.get("language", "")).lower(): v for v in template.variants or []}
    for code in (language, language.split("-")[0]):
        if code and code in variants and code != (template.language or "").lower():
            return variants[code].get("subject", template.subject), variants[code]["body"]
    return template.subject, template.body


def _sender(candidate: Candidate, job: Any) -> User | None:
    for user in (getattr(job, "recruiter", None), candidate.owner):
        if user is not None and user.is_active:
            return user
    return None


def _task_owner(kind: str, candidate: Candidate, job: Any) -> User | None:
    order = {
        "recruiter": [getattr(job, "recruiter", None), candidate.owner],
        "owner": [candidate.owner, getattr(job, "recruiter", None)],
        "hiring_manager": [getattr(job, "hiring_manager", None), getattr(job, "recruiter", None), candidate.owner],
    }[kind]
    for user in order:
        if user is not None and user.is_active:
            return user
    return None


def _create_task(
    trigger: Trigger, *, title: str, days: int, owner_kind: str, candidate: Candidate, job: Any, stage: str
) -> _Done:
    from rapport.automation.services import organisation_zone, task_create

    owner = _task_owner(owner_kind, candidate, job)
    if owner is None:
        raise _Skip(
            f"No one to give the task to: the job has no {owner_kind.replace('_', ' ')} and the person no owner."
        )
    day = timezone.now().astimezone(organisation_zone()).date() + timedelta(days=days)
    try:
        task = task_create(
            actor=None,
            data={
                "title": _fill(title, candidate=candidate, job=job, stage=stage),
                "due_date": day,
                "candidate_id": candidate.pk,
                "job_id": job.pk if job is not None else None,
            },
            source=TaskSource.TRIGGER,
            source_id=str(trigger.pk),
            owner=owner,
        )
    except ValidationFailed as exc:
        raise _Skip(exc.message)
    return _Done(f"Task “{task.title}” for {owner.name or owner.email}.", extra={"task_id": task.pk})


def _send(
    trigger: Trigger, run: TriggerRun, *, candidate: Candidate, activity: Any, application: Any, job: Any
) -> _Done:
    from rapport.messaging.models import MessageDirection
    from rapport.messaging.services_automated import message_queue_automated, message_send_automated

    config = trigger.config or {}
    since = activity.occurred_at if activity is not None else run.created_at
    if config.get("unless_replied"):
        replied = (
            Activity.objects.filter(candidate_id=candidate.pk, type="message.received", occurred_at__gte=since)
            .order_by("occurred_at")
            .values_list("occurred_at", flat=True)
            .first()
        )
        if replied is not None:
            raise _Skip(f"They replied on {replied:%Y-%m-%d %H:%M} UTC, so no follow-up.")
    if config.get("skip_if_messaged") and application is not None:
        from rapport.messaging.models import Message

        if Message.objects.filter(application_id=application.pk, direction=MessageDirection.OUTBOUND).exists():
            raise _Skip("This application already got a message (such as the career site's acknowledgement).")
    template = trigger.template
    stage_name = ""
    if config.get("stage_template"):
        from rapport.jobs.models import Stage

        stage = (
            Stage.objects.select_related("default_template")
            .filter(pk=(activity.payload or {}).get("to_stage_id"))
            .first()
        )
        stage_name = stage.name if stage else ""
        template = stage.default_template if stage is not None else None
        if template is None:
            else_task = config.get("else_task")
            if else_task:
                return _create_task(
                    trigger,
                    title=else_task["title"],
                    days=int(else_task.get("days") or 0),
                    owner_kind="recruiter",
                    candidate=candidate,
                    job=job,
                    stage=stage_name,
                )
            raise _Skip("The stage has no default template.")
    if template is None and config.get("default_template"):
        template = _default_template(config["default_template"])
        if template is not None and trigger.template_id is None and not config.get("stage_template"):
            Trigger.objects.filter(pk=trigger.pk, template__isnull=True).update(template=template)
    if template is None:
        raise _Skip("The trigger has no template.")
    sender = _sender(candidate, job)
    details = _details(activity, candidate) if config.get("details") else ""
    if details and template.channel == "email":
        # A transactional message with the event's facts appended (one to one: quiet hours do not hold it back).
        subject, body = _variant(template, candidate.language)
        message = message_send_automated(
            candidate=candidate,
            subject=subject,
            body=_with_details(body, details),
            job=job,
            application=application,
            sender=sender,
        )
    else:
        message = message_queue_automated(
            candidate=candidate,
            template=template,
            channel=template.channel,
            idempotency_key=f"trig:{run.pk}",
            sender=sender,
            job=job,
            reason={"trigger_id": trigger.pk, "trigger": trigger.name, "run_id": run.pk},
        )
    return _Done(f"Sent “{message.subject or template.name}”.", message=message, extra={"message_id": message.pk})


def _enrol(trigger: Trigger, candidate: Candidate) -> _Done:
    from rapport.automation.services_sequences import sequence_enrol

    if trigger.sequence is None:
        raise _Skip("The trigger has no sequence.")
    result = sequence_enrol(
        actor=None, sequence=trigger.sequence, candidate_ids=[candidate.pk], source="trigger", source_id=str(trigger.pk)
    )
    if candidate.pk not in result.enrolled:
        reasons = [reason for pk, reason in result.skipped if pk == candidate.pk]
        raise _Skip(reasons[0] if reasons else "Not enrolled.")
    return _Done(f"Enrolled in “{trigger.sequence.name}”.", extra={"sequence_id": trigger.sequence_id})


def _add_to_pool(trigger: Trigger, candidate: Candidate) -> _Done:
    config = trigger.config or {}
    if config.get("pool_id"):
        pool = TalentPool.objects.filter(pk=_int(config["pool_id"])).first()
        if pool is None:
            raise _Skip("The pool no longer exists.")
    else:
        name = str(config.get("pool") or "").strip()[:120]
        pool = TalentPool.objects.filter(name__iexact=name).first()
        if pool is None:
            try:
                with transaction.atomic():
                    pool = TalentPool.objects.create(name=name, description="Filled by the automation triggers.")
            except IntegrityError:
                pool = TalentPool.objects.get(name__iexact=name)
    reason = f"Trigger: {trigger.name}"[:300]
    _, joined = PoolMembership.objects.get_or_create(pool=pool, candidate=candidate, defaults={"reason": reason})
    if not joined:
        raise _Skip(f"Already in “{pool.name}”.")
    activity_record(
        type="pool.added",
        candidate=candidate,
        payload={"pool_id": pool.pk, "pool": pool.name, "reason": reason, "trigger_id": trigger.pk},
    )
    return _Done(f"Added to “{pool.name}”.", extra={"pool_id": pool.pk})


def _add_tag(trigger: Trigger, candidate: Candidate) -> _Done:
    from rapport.candidates.services import candidate_reindex

    name = str((trigger.config or {}).get("tag") or "").strip()[:50]
    tag = Tag.objects.filter(name__iexact=name).first() or Tag.objects.create(name=name)
    _, added = CandidateTag.objects.get_or_create(candidate=candidate, tag=tag)
    if not added:
        raise _Skip(f"Already tagged “{tag.name}”.")
    activity_record(
        type="tag.added",
        candidate=candidate,
        payload={"tag": tag.name, "trigger_id": trigger.pk, "trigger": trigger.name},
    )
    candidate_reindex(candidate_ids=[candidate.pk])
    return _Done(f"Tagged “{tag.name}”.")


def _act(run: TriggerRun, trigger: Trigger, now: datetime) -> _Done:
    from rapport.pipeline.models import Application

    if not trigger.enabled:
        raise _Skip("The trigger was switched off before this ran.")
    candidate = Candidate.objects.select_related("owner").filter(pk=run.candidate_id).first()
    if candidate is None or candidate.erased_at is not None:
        raise _Skip("This person's data was erased.")
    anchored = (trigger.config or {}).get("anchor", "event") != "event"
    if anchored and run.offset < 0 and now >= run.due_at - timedelta(minutes=run.offset):
        raise _Skip("Too late: the moment it was to come before has passed.")
    activity = Activity.objects.filter(pk=run.activity_id).first() if run.activity_id else None
    if activity is not None and activity.type == "meeting.scheduled" and (activity.payload or {}).get("meeting_id"):
        rebooked = Activity.objects.filter(
            candidate_id=activity.candidate_id,
            type="meeting.scheduled",
            pk__gt=activity.pk,
            payload__meeting_id=activity.payload["meeting_id"],
        )
        if rebooked.exists():
            raise _Skip("The meeting was booked again for another time; that booking sends its own reminders.")
    application = None
    job = None
    if activity is not None and activity.application_id:
        application = (
            Application.objects.select_related("job__recruiter", "job__hiring_manager", "stage")
            .filter(pk=activity.application_id)
            .first()
        )
    if application is not None:
        job = application.job
    elif activity is not None and activity.job_id:
        from rapport.jobs.models import Job

        job = Job.objects.select_related("recruiter", "hiring_manager").filter(pk=activity.job_id).first()
    done = _action(trigger, run, candidate=candidate, activity=activity, application=application, job=job)
    done.candidate, done.application, done.job = candidate, application, job
    return done


def _action(
    trigger: Trigger, run: TriggerRun, *, candidate: Candidate, activity: Any, application: Any, job: Any
) -> _Done:
    if trigger.action == "send_message":
        return _send(trigger, run, candidate=candidate, activity=activity, application=application, job=job)
    if trigger.action == "create_task":
        config = trigger.config or {}
        stage = application.stage.name if application is not None else ""
        return _create_task(
            trigger,
            title=config.get("title") or trigger.name,
            days=int(config.get("days") or 0),
            owner_kind=config.get("owner") or "recruiter",
            candidate=candidate,
            job=job,
            stage=stage,
        )
    if trigger.action == "enrol":
        return _enrol(trigger, candidate)
    if trigger.action == "add_to_pool":
        return _add_to_pool(trigger, candidate)
    if trigger.action == "add_tag":
        return _add_tag(trigger, candidate)
    if trigger.action == "send_survey":
        return _send_survey(trigger, candidate=candidate, application=application)
    raise _Skip(f"Unknown action {trigger.action!r}.")


def _send_survey(trigger: Trigger, *, candidate: Candidate, application: Any) -> _Done:
    """The chosen survey, or the active one for the trigger's moment; the survey's own cool-down and the person's
    opt-outs decide whether it goes (a skip says so in the run log)."""
    from rapport.surveys.models import Survey
    from rapport.surveys.selectors import survey_for_moment
    from rapport.surveys.services import survey_send

    config = trigger.config or {}
    if config.get("survey_id") is not None:
        survey = Survey.objects.filter(pk=parse_id(config["survey_id"]), is_active=True).first()
    else:
        survey = survey_for_moment(str(config.get("moment") or ""))
    if survey is None:
        raise _Skip("No active survey for this moment; switch one on under Surveys.")
    invitation = survey_send(survey=survey, candidate=candidate, application=application, reason=trigger.name)
    if invitation is None:
        raise _Skip(f"Not sent: {candidate.full_name} had a survey lately or cannot be emailed.")
    return _Done(f"Sent the survey “{survey.name}”.", extra={"survey_id": survey.pk, "invitation_id": invitation.pk})


def _execute(run: TriggerRun, trigger: Trigger, now: datetime) -> str:
    """Run one claimed run in its own transaction; returns its new status. Exceptions other than a skip propagate
    (the caller schedules a retry) and leave nothing half-done."""
    with transaction.atomic():
        locked = (
            TriggerRun.objects.select_for_update()
            .filter(pk=run.pk, claim_token=run.claim_token, status=TriggerRunStatus.SCHEDULED)
            .first()
        )
        if locked is None:
            return ""  # the lease ran out and another worker has it, or someone skipped it meanwhile
        try:
            with transaction.atomic():
                done = _act(locked, trigger, now)
        except _Skip as skip:
            status, detail, done = TriggerRunStatus.SKIPPED, str(skip), None
        except ValidationFailed as exc:
            if "candidate_id" not in exc.fields:
                raise
            # The person cannot be written to (suppressed, do not contact, no address): nothing to retry.
            status, detail, done = TriggerRunStatus.SKIPPED, exc.message, None
        else:
            status, detail = TriggerRunStatus.DONE, done.detail
        locked.status = status
        locked.detail = detail[:MAX_DETAIL]
        locked.finished_at = timezone.now()
        locked.claimed_until = None
        locked.message = done.message if done is not None else None
        locked.save(update_fields=["status", "detail", "finished_at", "claimed_until", "message"])
        if done is not None:
            activity_record(
                type="trigger.ran",
                candidate=done.candidate,
                application=done.application,
                job=done.job,
                payload={
                    "trigger_id": trigger.pk,
                    "trigger": trigger.name,
                    "action": trigger.action,
                    "run_id": locked.pk,
                    "detail": detail[:MAX_DETAIL],
                    **(done.extra or {}),
                },
            )
    return status


def _retry_or_fail(run: TriggerRun, exc: Exception, now: datetime) -> str:
    attempts = run.attempts + 1
    reason = (getattr(exc, "message", None) or str(exc) or type(exc).__name__)[:300]
    rows = TriggerRun.objects.filter(pk=run.pk, claim_token=run.claim_token, status=TriggerRunStatus.SCHEDULED)
    if attempts >= MAX_ATTEMPTS:
        rows.update(
            status=TriggerRunStatus.FAILED,
            attempts=attempts,
            detail=f"Failed after {attempts} attempts: {reason}"[:MAX_DETAIL],
            finished_at=now,
            claimed_until=None,
        )
        logger.error("Trigger %s run %s failed after %s attempts: %s", run.trigger_id, run.pk, attempts, reason)
        return TriggerRunStatus.FAILED
    retry_at = now + retry_delay(attempts)
    rows.update(
        attempts=attempts,
        due_at=retry_at,
        claimed_until=None,
        detail=f"Attempt {attempts} failed: {reason}; retrying at {retry_at:%H:%M} UTC."[:MAX_DETAIL],
    )
    logger.warning("Trigger %s run %s attempt %s failed: %s", run.trigger_id, run.pk, attempts, reason)
    return "retry"


def trigger_runs_run_due(*, limit: int = 500, now: datetime | None = None) -> int:
    """Claim up to `limit` due runs and execute each; returns how many were handled (done, skipped, retried or
    failed). One run's failure is retried later on its own and never stops the batch."""
    now = now or timezone.now()
    runs = claim_due(
        TriggerRun.objects.filter(status=TriggerRunStatus.SCHEDULED, due_at__lte=now),
        limit=limit,
        now=now,
        lease=RUN_LEASE,
    )
    if not runs:
        return 0
    triggers = {
        t.pk: t
        for t in Trigger.objects.select_related("template", "sequence").filter(pk__in={r.trigger_id for r in runs})
    }
    handled = 0
    for run in runs:
        try:
            status = _execute(run, triggers[run.trigger_id], now)
        except Exception as exc:  # noqa: BLE001 - any failure of one run is retried, never allowed to stop the others
            status = _retry_or_fail(run, exc, now)
        if status:
            handled += 1
    return handled


# --- by hand: skip or send now ---------------------------------------------------------------------------------------


def _scheduled(run: TriggerRun) -> TriggerRun:
    locked = TriggerRun.objects.select_for_update().filter(pk=run.pk).first()
    if locked is None or locked.status != TriggerRunStatus.SCHEDULED:
        raise Conflict("This touch is no longer scheduled.")
    return locked


@transaction.atomic
def trigger_run_skip(*, actor: User, run: TriggerRun) -> TriggerRun:
    """Skip a scheduled run (the profile's "Upcoming" card); the run log says who skipped it."""
    ensure(actor, Capability.MANAGE_AUTOMATION)
    locked = _scheduled(run)
    locked.status = TriggerRunStatus.SKIPPED
    locked.detail = f"Skipped by {actor.name or actor.email}."
    locked.finished_at = timezone.now()
    locked.claimed_until = None
    locked.save(update_fields=["status", "detail", "finished_at", "claimed_until"])
    audit_record(
        actor=actor,
        action="update",
        object_type="trigger_run",
        object_id=locked.pk,
        changes={"status": ["scheduled", "skipped"]},
    )
    return locked


@transaction.atomic
def trigger_run_send_now(*, actor: User, run: TriggerRun) -> TriggerRun:
    """Make a scheduled run due now; the worker runs it on its next pass (woken at once)."""
    ensure(actor, Capability.MANAGE_AUTOMATION)
    locked = _scheduled(run)
    now = timezone.now()
    changes = {"due_at": [locked.due_at.isoformat(), now.isoformat()]}
    locked.due_at = now
    locked.save(update_fields=["due_at"])
    audit_record(actor=actor, action="update", object_type="trigger_run", object_id=locked.pk, changes=changes)
    _kick()
    return locked
