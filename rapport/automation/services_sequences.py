"""Writes of sequences (nurture campaigns): the builder's saves, enrolment, and the dispatcher that walks people
through their steps.

- **Who may.** `Capability.MANAGE_AUTOMATION` (admins and recruiters) creates and changes sequences and enrols
  people. Automation itself (segment auto-enrolment, triggers) passes `actor=None`: the rule was checked when saved.
- **Walking.** Each `Enrolment` holds the position of its next step and when it is due. `enrolments_run_due`
  claims due rows (`claims.claim_due`: SKIP LOCKED on PostgreSQL) and runs each person's steps until one has to
  wait (a wait step, the send window, a branch waiting for engagement). Steps jump forward only, so a walk ends.
- **Never twice.** A message step's outbox row has the idempotency key `seq:<enrolment id>:<position>`, and each
  person's steps run in one transaction that is kept only while the claim still holds: a second worker that took
  the row after a lease ran out finds the message already queued, or the position already moved on.
- **Reasons.** Every step run is a `StepRun`; enrolling and leaving write `sequence.enrolled` / `sequence.exited`,
  and the actions (messages, tasks, tags, pools) write their own events with `{"sequence_id", "sequence", "step"}`
  in the payload, so the timeline says why.
"""

import logging
from collections import defaultdict
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Max, Prefetch
from django.utils import timezone

from rapport.accounts.models import User
from rapport.accounts.permissions import Capability, can, ensure
from rapport.automation.claims import claim_due
from rapport.automation.models import (
    ENROLMENT_OPEN,
    Enrolment,
    EnrolmentStatus,
    Sequence,
    SequenceStatus,
    SequenceStep,
    StepRun,
    StepType,
    StepVariant,
    TaskSource,
)
from rapport.automation.steps import (
    WEEKDAYS,
    StepSpec,
    choose_variant,
    clean_steps,
    next_send_time,
    parse_clock,
    wait_until,
    window_of,
)
from rapport.candidates.models import Candidate, CandidateTag, PoolMembership, RelationshipStatus, Tag, TalentPool
from rapport.common.errors import Conflict, FieldErrors, NotFound, ValidationFailed
from rapport.common.ids import parse_id
from rapport.messaging.respect import person_zone
from rapport.timeline.horizon import settled_activity_id
from rapport.timeline.models import Activity
from rapport.timeline.services import activity_record, audit_record

logger = logging.getLogger(__name__)

EXIT_EVENTS = ["replied", "applied", "stage_changed", "unsubscribed", "do_not_contact", "hired"]
EXIT_REASONS = {
    "replied": "Replied",
    "applied": "Applied to a job",
    "stage_changed": "Changed stage",
    "unsubscribed": "Unsubscribed",
    "do_not_contact": "Marked do not contact",
    "hired": "Hired",
    "erased": "Personal data erased",
    "completed": "Finished the sequence",
    "manual": "Taken out by hand",
    "archived": "The sequence was archived",
}
MAX_NAME = 200
MAX_DESCRIPTION = 2_000
MAX_REASON = 300
MAX_ENROL = 10_000
# Steps one person may run in one claim before yielding the row: enough for message, task, tag in a row, and a
# bound on the work one claim does.
MAX_CHAIN = 10
# A step that raises unexpectedly is retried 1, 2, 4 … minutes later; after this many tries the person is paused.
MAX_ATTEMPTS = 6
EDITABLE = {"name", "description", "status", "sender", "send_window", "exit_on", "segment_id", "steps"}
CURSOR_NAME = "sequences"
PRE_SKIPPED = "Skipped in advance"


def _active(user: User | None) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def _reason(sequence: Sequence, position: int | None = None) -> dict[str, Any]:
    """What the timeline payload of an automated action says about why it happened."""
    payload: dict[str, Any] = {"sequence_id": sequence.pk, "sequence": sequence.name}
    if position is not None:
        payload["step"] = position
    return payload


# --- the builder's saves ----------------------------------------------------------------------------------------


def _clean(data: dict[str, Any], *, actor: User, sequence: Sequence | None) -> dict[str, Any]:
    """Check the fields sent (all of them on create), collecting every problem under its field name."""
    from rapport.candidates.selectors import segment_get_for_user

    unknown = sorted(set(data) - EDITABLE)
    if unknown:
        raise ValidationFailed.single(unknown[0], f"{unknown[0]} is not a sequence field.")
    errors = FieldErrors()
    out: dict[str, Any] = {}
    if "name" in data or sequence is None:
        name = data.get("name")
        name = " ".join(name.split()) if isinstance(name, str) else ""
        if not name:
            errors.add("name", "Give the sequence a name your team will recognise.")
        elif len(name) > MAX_NAME:
            errors.add("name", f"Use at most {MAX_NAME} characters.")
        out["name"] = name
    if "description" in data:
        description = data["description"] if isinstance(data["description"], str) else None
        if description is None and data["description"] is not None:
            errors.add("description", "Must be text.")
        elif len(description or "") > MAX_DESCRIPTION:
            errors.add("description", f"Use at most {MAX_DESCRIPTION:,} characters.")
        out["description"] = (description or "").strip()
    if "status" in data:
        if data["status"] not in SequenceStatus.values:
            errors.add("status", f"Choose one of: {', '.join(SequenceStatus.values)}.")
        else:
            out["status"] = data["status"]
    if "sender" in data:
        sender = data["sender"]
        if sender in (None, "", "owner"):
            out["sender_mode"], out["sender_user"] = "owner", None
        else:
            try:
                user = User.objects.filter(pk=parse_id(sender), is_active=True).first()
            except (TypeError, ValueError):
                user = None
            if user is None or not can(user, Capability.SEND_MESSAGES):
                errors.add("sender", 'Use "owner" or the id of an active admin or recruiter.')
            else:
                out["sender_mode"], out["sender_user"] = "user", user
    if "send_window" in data:
        out.update(_clean_window(data["send_window"], errors))
    if "exit_on" in data or sequence is None:
        exit_on = data.get("exit_on", list(EXIT_EVENTS))
        if not isinstance(exit_on, list) or any(e not in EXIT_EVENTS for e in exit_on):
            errors.add("exit_on", f"Use a list of: {', '.join(EXIT_EVENTS)}.")
        else:
            out["exit_on"] = [e for e in EXIT_EVENTS if e in exit_on]
    if "segment_id" in data:
        if data["segment_id"] in (None, ""):
            out["segment"] = None
        else:
            try:
                out["segment"] = segment_get_for_user(user=actor, segment_id=data["segment_id"])
            except NotFound:
                errors.add("segment_id", "There is no segment with this id.")
    if "steps" in data or sequence is None:
        out["steps"] = clean_steps(data.get("steps", []), errors)
    errors.raise_if_any()
    return out


def _clean_window(value: Any, errors: FieldErrors) -> dict[str, Any]:
    if value is None:
        return {"send_window_start": None, "send_window_end": None, "send_window_days": []}
    if not isinstance(value, dict):
        errors.add("send_window", 'Give {"start": "09:00", "end": "17:00", "days": ["mon", …]} or null.')
        return {}
    start, end = parse_clock(value.get("start")), parse_clock(value.get("end"))
    if start is None:
        errors.add("send_window.start", "Use a time like 09:00.")
    if end is None:
        errors.add("send_window.end", "Use a time like 17:00.")
    if start is not None and end is not None and start >= end:
        errors.add("send_window.end", "The window must end after it starts, on the same day.")
    days = value.get("days") or []
    if not isinstance(days, list) or any(d not in WEEKDAYS for d in days):
        errors.add("send_window.days", f"Use a list of: {', '.join(WEEKDAYS)}.")
        days = []
    return {
        "send_window_start": start,
        "send_window_end": end,
        "send_window_days": [d for d in WEEKDAYS if d in days],
    }


def _write_steps(sequence: Sequence, specs: list[StepSpec]) -> None:
    """Make the stored steps match `specs`, position by position.

    Steps are changed in place rather than replaced, so the runs (and the statistics) of a position survive an
    edit; positions beyond the new end are removed. Positions stay 0, 1, 2 … with no gaps.
    """
    existing = {step.position: step for step in SequenceStep.objects.filter(sequence=sequence)}
    for position, spec in enumerate(specs):
        step = existing.get(position)
        if step is None:
            step = SequenceStep(sequence=sequence, position=position)
        step.type, step.config, step.template = spec.type, spec.config, spec.template
        step.save()
        step.variants.all().delete()
        StepVariant.objects.bulk_create(
            [StepVariant(step=step, label=v.label, template=v.template, weight=v.weight) for v in spec.variants]
        )
    sequence.steps.filter(position__gte=len(specs)).delete()


@transaction.atomic
def sequence_create(*, actor: User, data: dict[str, Any]) -> Sequence:
    """Create a sequence from the API body (name, status, sender, send_window, exit_on, segment_id, steps)."""
    ensure(actor, Capability.MANAGE_AUTOMATION)
    cleaned = _clean(data, actor=actor, sequence=None)
    specs = cleaned.pop("steps")
    if cleaned.get("status") == SequenceStatus.ACTIVE and not specs:
        raise ValidationFailed.single("steps", "Add at least one step before activating the sequence.")
    now = timezone.now()
    sequence = Sequence.objects.create(**cleaned, created_by=actor, created_at=now, updated_at=now)
    _write_steps(sequence, specs)
    audit_record(
        actor=actor,
        action="create",
        object_type="sequence",
        object_id=sequence.pk,
        changes={"name": sequence.name, "status": sequence.status, "steps": len(specs)},
    )
    return sequence


@transaction.atomic
def sequence_update(*, actor: User, sequence: Sequence, data: dict[str, Any]) -> Sequence:
    """Change the fields sent. `status` "paused" pauses everyone in it, "active" resumes them, "archived" takes
    everyone out; a sequence with people in it cannot go back to draft."""
    ensure(actor, Capability.MANAGE_AUTOMATION)
    # Lock the row (two saves at once apply one after the other), then work on the caller's own object.
    Sequence.objects.select_for_update().filter(pk=sequence.pk).values_list("pk").get()
    sequence.refresh_from_db()
    cleaned = _clean(data, actor=actor, sequence=sequence)
    specs = cleaned.pop("steps", None)
    old_status = sequence.status
    new_status = cleaned.get("status", old_status)
    open_rows = Enrolment.objects.filter(sequence=sequence, status__in=ENROLMENT_OPEN)
    if new_status == SequenceStatus.DRAFT and old_status != SequenceStatus.DRAFT and open_rows.exists():
        raise Conflict(
            "People are in this sequence: pause or archive it instead.",
            fields={"status": ["People are in this sequence: pause or archive it instead."]},
        )
    if new_status == SequenceStatus.ACTIVE:
        step_count = len(specs) if specs is not None else SequenceStep.objects.filter(sequence=sequence).count()
        if not step_count:
            raise ValidationFailed.single("steps", "Add at least one step before activating the sequence.")
    changes: dict[str, Any] = {}
    for name, value in cleaned.items():
        old = getattr(sequence, name)
        if old != value:
            changes[name] = [_audit_value(old), _audit_value(value)]
            setattr(sequence, name, value)
    if specs is not None:
        _write_steps(sequence, specs)
        changes["steps"] = len(specs)
    if not changes:
        return sequence
    now = timezone.now()
    sequence.updated_at = now
    sequence.save()
    if new_status != old_status:
        _apply_status(sequence, old=old_status, new=new_status, actor=actor, now=now)
    audit_record(actor=actor, action="update", object_type="sequence", object_id=sequence.pk, changes=changes)
    return sequence


def _audit_value(value: Any) -> Any:
    if hasattr(value, "pk"):
        return value.pk
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _apply_status(sequence: Sequence, *, old: str, new: str, actor: User | None, now: datetime) -> None:
    """What a sequence's status change does to the people in it, in one statement each (no per-person loop)."""
    rows = Enrolment.objects.filter(sequence=sequence)
    if new == SequenceStatus.PAUSED:
        rows.filter(status=EnrolmentStatus.ACTIVE).update(
            status=EnrolmentStatus.PAUSED, paused_with_sequence=True, status_reason="The sequence is paused."
        )
    elif new == SequenceStatus.ACTIVE:
        # Only those the sequence paused: someone paused by hand, or by a failing template, stays paused.
        rows.filter(status=EnrolmentStatus.PAUSED, paused_with_sequence=True).update(
            status=EnrolmentStatus.ACTIVE, paused_with_sequence=False, status_reason="", claimed_until=None
        )
    elif new == SequenceStatus.ARCHIVED:
        leaving = list(rows.filter(status__in=ENROLMENT_OPEN).values_list("id", "candidate_id", "step_position"))
        rows.filter(status__in=ENROLMENT_OPEN).update(
            status=EnrolmentStatus.EXITED,
            status_reason=EXIT_REASONS["archived"],
            exited_at=now,
            due_at=None,
            paused_with_sequence=False,
        )
        Activity.objects.bulk_create(
            [
                Activity(
                    type="sequence.exited",
                    candidate_id=candidate_id,
                    actor=actor if _active(actor) else None,
                    occurred_at=now,
                    payload={**_reason(sequence, position), "reason": "archived", "enrolment_id": pk},
                )
                for pk, candidate_id, position in leaving
            ],
            batch_size=1000,
        )


# --- enrolment --------------------------------------------------------------------------------------------------


@dataclass
class EnrolResult:
    enrolled: list[int] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)


def _channels(sequence: Sequence) -> set[str]:
    return {
        (step.config or {}).get("channel", "email") for step in sequence.steps.all() if step.type == StepType.MESSAGE
    }


def _suppressed(candidate_ids: list[int], channels: set[str]) -> dict[int, str]:
    """People whose primary address on a channel the sequence writes to is suppressed, with the reason; two
    queries for the whole batch."""
    from rapport.candidates.models import CandidateEmail, CandidatePhone
    from rapport.messaging.models import Suppression

    addresses: dict[tuple[str, str], int] = {}
    sources = []
    if "email" in channels:
        sources.append((CandidateEmail, "email", ["email"]))
    text_channels = [c for c in ("sms", "whatsapp") if c in channels]
    if text_channels:
        sources.append((CandidatePhone, "phone", text_channels))
    for model, column, channel_names in sources:
        primary: dict[int, str] = {}
        rows = model.objects.filter(candidate_id__in=candidate_ids).order_by("candidate_id", "position", "id")
        for candidate_id, value in rows.values_list("candidate_id", column):
            primary.setdefault(candidate_id, value)
        for candidate_id, value in primary.items():
            for channel in channel_names:
                addresses[(value.strip().lower(), channel)] = candidate_id
    if not addresses:
        return {}
    found: dict[int, str] = {}
    suppressions = Suppression.objects.filter(address__in={a for a, _ in addresses})
    for suppression in suppressions:
        candidate_id = addresses.get((suppression.address, suppression.channel))
        if candidate_id is not None:
            found.setdefault(
                candidate_id, f"{suppression.address} is on the suppression list ({suppression.get_reason_display()})."
            )
    return found


def _first_due(sequence: Sequence, steps: list[SequenceStep], position: int, at: datetime, candidate: Any) -> datetime:
    """When the step at `position` should run if it may start at `at`: a message waits for the send window."""
    if position < len(steps) and steps[position].type == StepType.MESSAGE:
        return next_send_time(at, window_of(sequence), person_zone(getattr(candidate, "timezone", "")))
    return at


@transaction.atomic
def sequence_enrol(
    *,
    actor: User | None,
    sequence: Sequence,
    candidate_ids: list[int],
    source: str = "manual",
    source_id: str = "",
) -> EnrolResult:
    """Put people into a sequence. Skipped, each with a reason: unknown or not visible to the actor, erased,
    do not contact, suppressed on a channel the sequence writes to, or already in it. A paused sequence takes
    people in paused, to start when it resumes. Records `sequence.enrolled` for each person enrolled."""
    from rapport.candidates.selectors import candidates_visible_to

    if actor is not None:
        ensure(actor, Capability.MANAGE_AUTOMATION)
    sequence.status = Sequence.objects.filter(pk=sequence.pk).values_list("status", flat=True).get()
    if sequence.status in (SequenceStatus.DRAFT, SequenceStatus.ARCHIVED):
        what = "a draft" if sequence.status == SequenceStatus.DRAFT else "archived"
        raise Conflict(f"This sequence is {what}: activate it before enrolling people.")
    if not isinstance(candidate_ids, list | tuple):
        raise ValidationFailed.single("candidate_ids", "Give people as a list of ids.")
    try:
        ids = list(dict.fromkeys(parse_id(c) for c in candidate_ids))
    except (TypeError, ValueError):
        raise ValidationFailed.single("candidate_ids", 'Ids are strings of digits, such as "42".')
    if not ids:
        raise ValidationFailed.single("candidate_ids", "Choose at least one person.")
    if len(ids) > MAX_ENROL:
        raise ValidationFailed.single("candidate_ids", f"Enrol at most {MAX_ENROL:,} people at a time.")
    source = (source or "manual")[:10]
    result = EnrolResult()
    scope = candidates_visible_to(actor) if actor is not None else Candidate.objects.filter(erased_at__isnull=True)
    people = scope.filter(pk__in=ids).in_bulk()
    already = set(
        Enrolment.objects.filter(sequence=sequence, candidate_id__in=ids, status__in=ENROLMENT_OPEN).values_list(
            "candidate_id", flat=True
        )
    )
    suppressed = _suppressed([i for i in ids if i in people], _channels(sequence))
    steps = list(sequence.steps.all())
    now = timezone.now()
    rows: list[Enrolment] = []
    for cid in ids:
        person = people.get(cid)
        if person is None:
            result.skipped.append((cid, "No such person."))
        elif person.relationship_status == RelationshipStatus.DO_NOT_CONTACT:
            result.skipped.append((cid, f"{person.full_name} is marked do not contact."))
        elif cid in already:
            result.skipped.append((cid, f"{person.full_name} is already in this sequence."))
        elif cid in suppressed:
            result.skipped.append((cid, suppressed[cid]))
        else:
            paused = sequence.status == SequenceStatus.PAUSED
            rows.append(
                Enrolment(
                    sequence=sequence,
                    candidate=person,
                    status=EnrolmentStatus.PAUSED if paused else EnrolmentStatus.ACTIVE,
                    paused_with_sequence=paused,
                    status_reason="The sequence is paused." if paused else "",
                    step_position=0,
                    due_at=_first_due(sequence, steps, 0, now, person),
                    source=source,
                    source_id=str(source_id or "")[:40],
                    enrolled_by=actor if _active(actor) else None,
                    enrolled_at=now,
                )
            )
    created = _insert_enrolments(rows, result)
    Activity.objects.bulk_create(
        [
            Activity(
                type="sequence.enrolled",
                candidate_id=row.candidate_id,
                actor=actor if _active(actor) else None,
                occurred_at=now,
                payload={**_reason(sequence), "enrolment_id": row.pk, "source": source},
            )
            for row in created
        ],
        batch_size=1000,
    )
    result.enrolled = [row.candidate_id for row in created]
    if created:
        audit_record(
            actor=actor,
            action="enrol",
            object_type="sequence",
            object_id=sequence.pk,
            changes={"enrolled": len(created), "skipped": len(result.skipped), "source": source},
        )
        from rapport.automation.engine import kick

        kick()  # the first steps are due now: run them at once, on a worker of this process or through Celery
    return result


def _insert_enrolments(rows: list[Enrolment], result: EnrolResult) -> list[Enrolment]:
    """Insert in bulk; if someone enrolled one of them meanwhile (the open-once constraint), fall back to one
    row at a time so only that person is skipped."""
    if not rows:
        return []
    try:
        with transaction.atomic():
            return Enrolment.objects.bulk_create(rows, batch_size=1000)
    except IntegrityError:
        pass
    created = []
    for row in rows:
        row.pk = None
        try:
            with transaction.atomic():
                row.save(force_insert=True)
            created.append(row)
        except IntegrityError:
            result.skipped.append((row.candidate_id, "Already in this sequence."))
    return created


def _exit(enrolment: Enrolment, *, reason: str, actor: User | None, now: datetime, detail: str = "") -> None:
    """Take one person out (in memory and on the timeline); the caller saves the row."""
    enrolment.status = EnrolmentStatus.COMPLETED if reason == "completed" else EnrolmentStatus.EXITED
    enrolment.status_reason = (detail or EXIT_REASONS.get(reason, reason))[:MAX_REASON]
    enrolment.exited_at = now
    enrolment.due_at = None
    enrolment.paused_with_sequence = False
    payload = {
        **_reason(enrolment.sequence, enrolment.step_position),
        "enrolment_id": enrolment.pk,
        "reason": reason,
        "detail": enrolment.status_reason,
    }
    buffer = _BUFFER.get()
    if buffer is not None:
        buffer.events.append(
            {
                "type": "sequence.exited",
                "candidate_id": enrolment.candidate_id,
                "actor_id": actor.pk if actor is not None else None,
                "occurred_at": now,
                "payload": payload,
            }
        )
        return
    activity_record(
        type="sequence.exited", candidate=enrolment.candidate, actor=actor, occurred_at=now, payload=payload
    )


def _ensure_open(enrolment: Enrolment) -> None:
    if enrolment.status not in ENROLMENT_OPEN:
        raise Conflict("This person is no longer in the sequence.")


def _locked(enrolment: Enrolment) -> Enrolment:
    return Enrolment.objects.select_for_update().select_related("sequence", "candidate").get(pk=enrolment.pk)


@transaction.atomic
def enrolment_exit(*, actor: User | None, enrolment: Enrolment, reason: str = "manual") -> Enrolment:
    """Take a person out of a sequence (by hand: reason "manual"); records `sequence.exited` with the reason."""
    if actor is not None:
        ensure(actor, Capability.MANAGE_AUTOMATION)
    enrolment = _locked(enrolment)
    _ensure_open(enrolment)
    _exit(enrolment, reason=reason, actor=actor, now=timezone.now())
    enrolment.claimed_until, enrolment.claim_token = None, ""
    enrolment.save()
    return enrolment


@transaction.atomic
def enrolment_pause(*, actor: User | None, enrolment: Enrolment, reason: str = "") -> Enrolment:
    if actor is not None:
        ensure(actor, Capability.MANAGE_AUTOMATION)
    enrolment = _locked(enrolment)
    _ensure_open(enrolment)
    who = (actor.name or actor.email) if _active(actor) else "automation"
    enrolment.status = EnrolmentStatus.PAUSED
    enrolment.paused_with_sequence = False
    enrolment.status_reason = ((reason or "").strip() or f"Paused by {who}.")[:MAX_REASON]
    enrolment.save()
    return enrolment


@transaction.atomic
def enrolment_resume(*, actor: User | None, enrolment: Enrolment) -> Enrolment:
    """Resume one person: they carry on from the step they stopped at (a failed template is tried again)."""
    if actor is not None:
        ensure(actor, Capability.MANAGE_AUTOMATION)
    enrolment = _locked(enrolment)
    _ensure_open(enrolment)
    if enrolment.sequence.status == SequenceStatus.PAUSED:
        raise Conflict("The whole sequence is paused: resume the sequence first.")
    now = timezone.now()
    enrolment.status = EnrolmentStatus.ACTIVE
    enrolment.paused_with_sequence = False
    enrolment.status_reason = ""
    enrolment.attempts = 0
    enrolment.claimed_until, enrolment.claim_token = None, ""
    if enrolment.due_at is None or enrolment.due_at < now:
        enrolment.due_at = now
    enrolment.save()
    return enrolment


def _next_message_step(enrolment: Enrolment, steps: list[SequenceStep]) -> SequenceStep | None:
    """The next message step on the person's path (passing over those skipped in advance), following waits and
    plain steps but not guessing a branch: the touch the profile shows."""
    skipped = set(
        StepRun.objects.filter(enrolment=enrolment, outcome="skipped", detail__startswith=PRE_SKIPPED).values_list(
            "step_id", flat=True
        )
    )
    for step in steps[enrolment.step_position :]:
        if step.type == StepType.MESSAGE and step.pk not in skipped:
            return step
        if step.type == StepType.BRANCH:
            return None
    return None


@transaction.atomic
def enrolment_skip_step(*, actor: User, enrolment: Enrolment) -> StepRun:
    """Skip the person's next message (the "upcoming touch"): it is marked skipped now, and passed over when the
    person reaches it; the waits around it still hold."""
    ensure(actor, Capability.MANAGE_AUTOMATION)
    enrolment = _locked(enrolment)
    _ensure_open(enrolment)
    steps = list(enrolment.sequence.steps.all())
    step = _next_message_step(enrolment, steps)
    if step is None:
        raise Conflict("This person has no upcoming message in this sequence.")
    who = actor.name or actor.email
    run = StepRun.objects.create(
        enrolment=enrolment, step=step, outcome="skipped", detail=f"{PRE_SKIPPED} by {who}."[:MAX_REASON]
    )
    audit_record(
        actor=actor,
        action="skip_step",
        object_type="enrolment",
        object_id=enrolment.pk,
        changes={"step": step.position},
    )
    return run


@transaction.atomic
def enrolment_send_now(*, actor: User, enrolment: Enrolment) -> Enrolment:
    """Send the person's next message now: waits before it are cut short and the send window is ignored for it
    (quiet hours and the frequency cap still apply in the outbox). Then the sequence carries on as usual."""
    ensure(actor, Capability.MANAGE_AUTOMATION)
    enrolment = _locked(enrolment)
    _ensure_open(enrolment)
    if enrolment.status != EnrolmentStatus.ACTIVE:
        raise Conflict("This person is paused in the sequence: resume them first.")
    now = timezone.now()
    if enrolment.claimed_until is not None and enrolment.claimed_until > now:
        raise Conflict("This person's next step is running right now; try again in a moment.")
    context = _Context.load([enrolment])
    enrolment = context.enrolments[0]
    steps = context.steps.get(enrolment.sequence_id, [])
    if _next_message_step(enrolment, steps) is None:
        raise Conflict("This person has no upcoming message in this sequence.")
    _walk(enrolment, context, now=now, force=True)
    enrolment.claimed_until, enrolment.claim_token = None, ""
    enrolment.save()
    audit_record(actor=actor, action="send_now", object_type="enrolment", object_id=enrolment.pk)
    return enrolment


# --- the dispatcher ---------------------------------------------------------------------------------------------


@dataclass
class _Context:
    """What a batch of claimed enrolments needs, read once: the people, their sequences' steps (once per
    sequence), and the message steps someone skipped in advance."""

    enrolments: list[Enrolment]
    steps: dict[int, list[SequenceStep]]
    pre_skipped: set[tuple[int, int]]
    # Each person's primary email and phone (and the custom field definitions), and the suppressions of those
    # addresses: what rendering and the send checks would otherwise read person by person.
    contacts: dict[int, Any] = field(default_factory=dict)
    suppressions: dict[tuple[str, str], Any] = field(default_factory=dict)
    # The outbox keys of the batch's message steps that are queued already (a step replayed after a crash): every
    # other step skips the per-message lookup, and the key's unique constraint still stops a race.
    queued_keys: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, claimed: list[Enrolment]) -> "_Context":
        ids = [e.pk for e in claimed]
        enrolments = list(
            Enrolment.objects.filter(pk__in=ids)
            .select_related("sequence", "sequence__sender_user", "sequence__created_by", "candidate__owner")
            .order_by("due_at", "id")
        )
        tokens = {e.pk: e.claim_token for e in claimed}
        for enrolment in enrolments:
            # The claim's token, as the caller holds it (send-now has none).
            enrolment.claim_token = tokens.get(enrolment.pk, enrolment.claim_token)
        steps: dict[int, list[SequenceStep]] = defaultdict(list)
        rows = (
            SequenceStep.objects.filter(sequence_id__in={e.sequence_id for e in enrolments})
            .select_related("template")
            .prefetch_related(Prefetch("variants", queryset=StepVariant.objects.select_related("template")))
            .order_by("sequence_id", "position")
        )
        for step in rows:
            steps[step.sequence_id].append(step)
        pre_skipped = set(
            StepRun.objects.filter(
                enrolment_id__in=ids,
                outcome="skipped",
                detail__startswith=PRE_SKIPPED,
                step__position__gte=F("enrolment__step_position"),
            ).values_list("enrolment_id", "step_id")
        )
        contacts, suppressions = _contacts({e.candidate_id for e in enrolments})
        keys = [
            _outbox_key(e, step.position)
            for e in enrolments
            for step in steps.get(e.sequence_id, [])
            if step.type == StepType.MESSAGE and step.position >= e.step_position
        ]
        from rapport.messaging.models import Message

        queued_keys: set[str] = set()
        for start in range(0, len(keys), 900):
            queued_keys.update(
                Message.objects.filter(idempotency_key__in=keys[start : start + 900]).values_list(
                    "idempotency_key", flat=True
                )
            )
        return cls(
            enrolments=enrolments,
            steps=dict(steps),
            pre_skipped=pre_skipped,
            contacts=contacts,
            suppressions=suppressions,
            queued_keys=queued_keys,
        )


def _outbox_key(enrolment: Enrolment, position: int) -> str:
    return f"seq:{enrolment.pk}:{position}"


def _contacts(candidate_ids: set[int]) -> tuple[dict[int, Any], dict[tuple[str, str], Any]]:
    """The batch's primary addresses and their suppressions, in four queries whatever the batch size."""
    from rapport.candidates.models import CandidateEmail, CandidatePhone
    from rapport.candidates.selectors import custom_field_definitions
    from rapport.messaging.models import Suppression
    from rapport.messaging.selectors import Contact

    if not candidate_ids:
        return {}, {}
    firsts: list[dict[int, str]] = []
    for model, column in ((CandidateEmail, "email"), (CandidatePhone, "phone")):
        first: dict[int, str] = {}
        rows = model.objects.filter(candidate_id__in=candidate_ids).order_by("candidate_id", "position", "id")
        for candidate_id, value in rows.values_list("candidate_id", column):
            first.setdefault(candidate_id, value)
        firsts.append(first)
    emails, phones = firsts
    definitions = list(custom_field_definitions())
    contacts = {
        pk: Contact(email=emails.get(pk, ""), phone=phones.get(pk, ""), definitions=definitions) for pk in candidate_ids
    }
    addresses = {a.strip().lower() for a in [*emails.values(), *phones.values()]}
    suppressions = {(s.address, s.channel): s for s in Suppression.objects.filter(address__in=addresses)}
    return contacts, suppressions


class _LeaseLost(Exception):
    """Another worker took the row over after our lease ran out, or the person was paused or taken out while
    their step ran; our changes are rolled back."""


def _sender(sequence: Sequence, candidate: Candidate) -> User | None:
    """Who signs the messages and owns the tasks: the chosen user, or the person's owner, else the sequence's
    author; None (the organisation) when none of them can still sign in."""
    for user in (
        sequence.sender_user if sequence.sender_mode == "user" else candidate.owner,
        sequence.created_by,
    ):
        if user is not None and user.is_active:
            return user
    return None


@dataclass
class _Writes:
    """What one person's walk writes in the fast lane, held back so the whole batch is written at once."""

    messages: list[dict[str, Any]] = field(default_factory=list)  # outbox rows
    queued: list[dict[str, Any]] = field(default_factory=list)  # their `message.queued` payloads, in step
    runs: list[dict[str, Any]] = field(default_factory=list)  # step runs; "message" is an index into `messages`
    events: list[dict[str, Any]] = field(default_factory=list)  # other timeline events (`sequence.exited`)


# Set while a fast-lane walk runs: `_record`, `_exit` and `_message` then add to it instead of writing.
_BUFFER: ContextVar[_Writes | None] = ContextVar("sequence_writes", default=None)


def _record(enrolment: Enrolment, step: SequenceStep, now: datetime, **fields: Any) -> StepRun | None:
    buffer = _BUFFER.get()
    if buffer is None:
        return StepRun.objects.create(enrolment=enrolment, step=step, at=now, **fields)
    message_index = fields.pop("message_index", None)
    buffer.runs.append(
        {"enrolment_id": enrolment.pk, "step_id": step.pk, "at": now, "message": message_index, **fields}
    )
    return None


def _walk(enrolment: Enrolment, context: _Context, *, now: datetime, force: bool = False) -> int:
    """Run the person's steps from their position until one must wait; returns how many steps ran.

    `force` (send now) cuts waits short and ignores the send window until the next message has been queued.
    Changes the enrolment in memory; the caller saves it.
    """
    sequence = enrolment.sequence
    candidate = enrolment.candidate
    steps = context.steps.get(sequence.pk, [])
    zone = person_zone(candidate.timezone)
    window = window_of(sequence)
    executed = 0
    for _ in range(MAX_CHAIN):
        if enrolment.status != EnrolmentStatus.ACTIVE:
            break
        if candidate.erased_at is not None:
            _exit(enrolment, reason="erased", actor=None, now=now)
            break
        if candidate.relationship_status == RelationshipStatus.DO_NOT_CONTACT:
            _exit(enrolment, reason="do_not_contact", actor=None, now=now)
            break
        position = enrolment.step_position
        if position >= len(steps):
            _exit(enrolment, reason="completed", actor=None, now=now)
            break
        step = steps[position]
        enrolment.due_at = now
        if step.type == StepType.MESSAGE:
            if (enrolment.pk, step.pk) in context.pre_skipped:
                enrolment.step_position += 1
                continue
            if not force:
                opens = next_send_time(now, window, zone)
                if opens > now:
                    enrolment.due_at = opens
                    break
            if not _message(enrolment, step, now=now, context=context):
                break  # paused: the template failed for this person
            force = False
        elif step.type == StepType.WAIT:
            until = now if force else wait_until(now, step.config, zone)
            detail = "Cut short to send now." if force else f"Until {until.isoformat()}."
            _record(enrolment, step, now, detail=detail)
            enrolment.step_position += 1
            enrolment.due_at = (
                until if force else _first_due(sequence, steps, enrolment.step_position, until, candidate)
            )
        elif step.type == StepType.BRANCH:
            if not _branch(enrolment, step, now=now):
                break
        elif step.type == StepType.TASK:
            if not _task(enrolment, step, now=now, zone=zone):
                break
        elif step.type == StepType.TAG:
            _tag(enrolment, step, now=now)
        elif step.type == StepType.POOL:
            _pool(enrolment, step, now=now)
        else:
            _record(enrolment, step, now, outcome="skipped", detail=f"Unknown step type {step.type!r}.")
            enrolment.step_position += 1
        executed += 1
        if enrolment.due_at is not None and enrolment.due_at > now:
            break
    return executed


def _pause_for(enrolment: Enrolment, step: SequenceStep, now: datetime, reason: str) -> None:
    enrolment.status = EnrolmentStatus.PAUSED
    enrolment.paused_with_sequence = False
    enrolment.status_reason = reason[:MAX_REASON]
    _record(enrolment, step, now, outcome="failed", detail=reason[:MAX_REASON])


def _message(enrolment: Enrolment, step: SequenceStep, *, now: datetime, context: "_Context") -> bool:
    """Queue the step's message (the person's A/B variant, if any); False when the person had to be paused."""
    from rapport.messaging.rendering import TemplateInvalid
    from rapport.messaging.services_automated import message_queue_automated

    candidate = enrolment.candidate
    variants = list(step.variants.all())
    variant = choose_variant(candidate.pk, step.pk, variants) if variants else None
    template = variant.template if variant is not None else step.template
    position = step.position
    if template is None:
        _pause_for(enrolment, step, now, f"Step {position + 1} has no template to send.")
        return False
    buffer = _BUFFER.get()
    if buffer is not None:
        return _message_buffered(enrolment, step, template, variant, now=now, context=context, buffer=buffer)
    try:
        message = message_queue_automated(
            candidate=candidate,
            template=template,
            channel=(step.config or {}).get("channel", template.channel),
            idempotency_key=_outbox_key(enrolment, position),
            sender=_sender(enrolment.sequence, candidate),
            reason=_reason(enrolment.sequence, position),
            contact=context.contacts.get(candidate.pk),
            suppressions=context.suppressions,
            known_new=_outbox_key(enrolment, position) not in context.queued_keys,
        )
    except TemplateInvalid as exc:
        _pause_for(
            enrolment,
            step,
            now,
            f"Step {position + 1}: the template “{template.name}” could not be filled in for this person: "
            f"{exc.message}",
        )
        return False
    except ValidationFailed as exc:
        # This person cannot get this channel (no address, suppressed): the step is passed over, the rest go on.
        _record(enrolment, step, now, outcome="skipped", detail=exc.message[:MAX_REASON])
    else:
        _record(enrolment, step, now, message=message, variant=variant.label if variant is not None else "")
    enrolment.step_position += 1
    return True


def _message_buffered(
    enrolment: Enrolment,
    step: SequenceStep,
    template: Any,
    variant: StepVariant | None,
    *,
    now: datetime,
    context: "_Context",
    buffer: _Writes,
) -> bool:
    """`_message` in the fast lane: the same checks and rendering, the row kept for the batch's single write."""
    from rapport.messaging.rendering import TemplateInvalid
    from rapport.messaging.services_automated import automated_message_row

    candidate = enrolment.candidate
    position = step.position
    try:
        row, payload = automated_message_row(
            candidate=candidate,
            template=template,
            channel=(step.config or {}).get("channel", template.channel),
            idempotency_key=_outbox_key(enrolment, position),
            sender=_sender(enrolment.sequence, candidate),
            reason=_reason(enrolment.sequence, position),
            contact=context.contacts.get(candidate.pk),
            suppressions=context.suppressions,
            now=now,
        )
    except TemplateInvalid as exc:
        _pause_for(
            enrolment,
            step,
            now,
            f"Step {position + 1}: the template “{template.name}” could not be filled in for this person: "
            f"{exc.message}",
        )
        return False
    except ValidationFailed as exc:
        _record(enrolment, step, now, outcome="skipped", detail=exc.message[:MAX_REASON])
    else:
        buffer.messages.append(row)
        buffer.queued.append(payload)
        _record(
            enrolment,
            step,
            now,
            message_index=len(buffer.messages) - 1,
            variant=variant.label if variant is not None else "",
        )
    enrolment.step_position += 1
    return True


def _last_message_run(enrolment: Enrolment) -> StepRun | None:
    return (
        StepRun.objects.filter(enrolment=enrolment, message__isnull=False)
        .select_related("message")
        .order_by("-at", "-id")
        .first()
    )


def _replied_since(enrolment: Enrolment, run: StepRun) -> bool:
    from rapport.messaging.models import Message, MessageDirection

    if run.replied_at is not None:
        return True
    return Message.objects.filter(
        candidate_id=enrolment.candidate_id, direction=MessageDirection.INBOUND, created_at__gte=run.at
    ).exists()


def _branch(enrolment: Enrolment, step: SequenceStep, *, now: datetime) -> bool:
    """Jump on the person's response to their last message from this sequence; False while still waiting.

    opened / clicked / replied jump to `then` as soon as it happens (the timeline consumer wakes the person up),
    else to `else` once `within_days` have passed. no_response jumps to `then` after `within_days` without a reply.
    """
    config = step.config or {}
    on, within = config.get("on"), timedelta(days=config.get("within_days") or 0)
    run = _last_message_run(enrolment)
    deadline = (run.at if run is not None else now) + within
    if run is None:
        happened = False
    elif on == "opened":
        happened = run.message.opened_at is not None or run.message.clicked_at is not None
    elif on == "clicked":
        happened = run.message.clicked_at is not None
    else:
        happened = _replied_since(enrolment, run)
    if on == "no_response":
        if happened:
            target, answer = config["else"], "replied"
        elif now >= deadline:
            target, answer = config["then"], f"no reply within {within.days} days"
        else:
            enrolment.due_at = deadline
            return False
    elif happened:
        target, answer = config["then"], f"{on}: yes"
    elif now >= deadline:
        target, answer = config["else"], f"{on}: no"
    else:
        enrolment.due_at = deadline
        return False
    _record(enrolment, step, now, detail=f"{answer.capitalize()}, so step {target + 1}.")
    enrolment.step_position = target
    return True


def _task(enrolment: Enrolment, step: SequenceStep, *, now: datetime, zone: Any) -> bool:
    from rapport.automation.services import task_create
    from rapport.messaging.rendering import TemplateInvalid, render_text
    from rapport.messaging.selectors import merge_context

    candidate = enrolment.candidate
    config = step.config or {}
    owner = _sender(enrolment.sequence, candidate)
    try:
        context = merge_context(candidate=candidate, sender=owner)
        title = " ".join(render_text(config.get("title", ""), context, field="title").split())[:200]
    except TemplateInvalid as exc:
        _pause_for(
            enrolment, step, now, f"Step {step.position + 1}: the task title could not be filled in: {exc.message}"
        )
        return False
    if owner is None:
        _record(enrolment, step, now, outcome="skipped", detail="No one to own the task.")
    else:
        due_day = now.astimezone(zone).date() + timedelta(days=config.get("due_in_days", 1))
        try:
            task = task_create(
                actor=None,
                data={"title": title or "Follow up", "candidate_id": candidate.pk, "due_date": due_day},
                source=TaskSource.SEQUENCE,
                source_id=str(enrolment.sequence_id),
                owner=owner,
            )
        except (ValidationFailed, NotFound) as exc:
            _record(enrolment, step, now, outcome="skipped", detail=exc.message[:MAX_REASON])
        else:
            _record(enrolment, step, now, detail=f"Task {task.pk} for {owner.name or owner.email}.")
    enrolment.step_position += 1
    return True


def _tag(enrolment: Enrolment, step: SequenceStep, *, now: datetime) -> None:
    from rapport.candidates.services import candidate_reindex

    name = (step.config or {}).get("tag", "")
    tag = Tag.objects.filter(name__iexact=name).first() or Tag.objects.create(name=name)
    _, created = CandidateTag.objects.get_or_create(
        candidate_id=enrolment.candidate_id, tag=tag, defaults={"added_at": now}
    )
    if created:
        activity_record(
            type="tag.added",
            candidate=enrolment.candidate,
            occurred_at=now,
            payload={"tag": tag.name, **_reason(enrolment.sequence, step.position)},
        )
        candidate_reindex(candidate_ids=[enrolment.candidate_id])
    _record(enrolment, step, now, detail=f"Tagged {tag.name}." if created else f"Already tagged {tag.name}.")
    enrolment.step_position += 1


def _pool(enrolment: Enrolment, step: SequenceStep, *, now: datetime) -> None:
    pool = TalentPool.objects.filter(pk=(step.config or {}).get("pool_id")).first()
    if pool is None:
        _record(enrolment, step, now, outcome="skipped", detail="The talent pool no longer exists.")
    else:
        why = f"Sequence {enrolment.sequence.name}"[:300]
        _, created = PoolMembership.objects.get_or_create(
            pool=pool, candidate_id=enrolment.candidate_id, defaults={"reason": why, "added_at": now}
        )
        if created:
            activity_record(
                type="pool.added",
                candidate=enrolment.candidate,
                occurred_at=now,
                payload={
                    "pool_id": pool.pk,
                    "pool": pool.name,
                    "reason": why,
                    **_reason(enrolment.sequence, step.position),
                },
            )
        _record(enrolment, step, now, detail=f"Added to {pool.name}." if created else f"Already in {pool.name}.")
    enrolment.step_position += 1


_SAVED = [
    "status",
    "step_position",
    "due_at",
    "status_reason",
    "exited_at",
    "paused_with_sequence",
]


def _settle(enrolment: Enrolment, **extra: Any) -> None:
    """Save the walk and release the claim, only while our claim still holds."""
    values = {name: getattr(enrolment, name) for name in _SAVED}
    values.update(extra)
    # Still active as when claimed: a pause or an exit that landed meanwhile wins, and this walk is rolled back.
    held = Enrolment.objects.filter(pk=enrolment.pk, claim_token=enrolment.claim_token, status=EnrolmentStatus.ACTIVE)
    updated = held.update(**values, claimed_until=None, claim_token="")
    if not updated:
        raise _LeaseLost()


def enrolments_run_due(*, limit: int = 500, now: datetime | None = None) -> int:
    """Claim up to `limit` due enrolments and run each one's steps; returns how many steps ran.

    The work is bounded by the claim: one query claims, one reads the people with their sequences, one reads the
    steps of every sequence in the batch (with variants and templates). Each person's steps then run in their own
    transaction, so one failure never holds up the others; an unexpected error is retried with backoff and, after
    MAX_ATTEMPTS, pauses the person with the error as the reason.
    """
    now = now or timezone.now()
    due = Enrolment.objects.filter(status=EnrolmentStatus.ACTIVE, due_at__lte=now)
    claimed = claim_due(due, limit=limit, now=now)
    if not claimed:
        return 0
    context = _Context.load(claimed)
    fast = [e for e in context.enrolments if _fast_lane(e, context)]
    executed = _run_fast_lane(fast, context, now=now) if fast else 0
    chosen = {e.pk for e in fast}
    for enrolment in context.enrolments:
        if enrolment.pk in chosen:
            continue
        try:
            with transaction.atomic():
                ran = _walk(enrolment, context, now=now)
                _settle(enrolment, attempts=0)
            executed += ran
        except _LeaseLost:
            logger.info("enrolment %s: lease lost, left to the worker that holds it", enrolment.pk)
        except Exception as exc:
            logger.exception("enrolment %s: step %s failed", enrolment.pk, enrolment.step_position)
            _retry_later(enrolment, now=now, error=exc)
    return executed


# Steps whose whole effect is rows the batch can write at once: an outbox message, a step run, an exit event.
_FAST_STEPS = {StepType.MESSAGE, StepType.WAIT}


def _fast_lane(enrolment: Enrolment, context: "_Context") -> bool:
    """Whether this person's walk, up to their next wait, only queues messages and waits (the usual nurture
    step), with nothing queued under its keys already; everything else takes the one-by-one lane."""
    if enrolment.candidate.erased_at is not None:
        return False
    for step in context.steps.get(enrolment.sequence_id, [])[enrolment.step_position :]:
        if step.type not in _FAST_STEPS or (enrolment.pk, step.pk) in context.pre_skipped:
            return False
        if step.type == StepType.MESSAGE and _outbox_key(enrolment, step.position) in context.queued_keys:
            return False
        if step.type == StepType.WAIT:
            break
    return True


def _run_fast_lane(enrolments: list[Enrolment], context: "_Context", *, now: datetime) -> int:
    """Walk each person with their writes held back, then write the batch in one transaction: the enrolments
    (only those whose claim still holds and who are still active), their outbox rows, step runs and events.

    The same rows as the one-by-one lane, in a handful of statements instead of several per person. A person whose
    walk raises is retried later as in the other lane; if the batch's write fails (a key queued meanwhile by
    someone else), nothing of it is kept and the claims are released, so the next pass takes them one by one.
    """
    from rapport.common.fast_insert import insert_records
    from rapport.messaging.models import Message

    walked: list[tuple[Enrolment, _Writes, int]] = []
    for enrolment in enrolments:
        writes = _Writes()
        token = _BUFFER.set(writes)
        try:
            ran = _walk(enrolment, context, now=now)
        except Exception as exc:
            logger.exception("enrolment %s: step %s failed", enrolment.pk, enrolment.step_position)
            _retry_later(enrolment, now=now, error=exc)
            continue
        finally:
            _BUFFER.reset(token)
        walked.append((enrolment, writes, ran))
    if not walked:
        return 0
    try:
        with transaction.atomic():
            tokens = {e.claim_token for e, _, _ in walked}
            held = set(
                Enrolment.objects.filter(
                    pk__in=[e.pk for e, _, _ in walked], claim_token__in=tokens, status=EnrolmentStatus.ACTIVE
                ).values_list("pk", flat=True)
            )
            kept = [(e, w, ran) for e, w, ran in walked if e.pk in held and e.claim_token]
            # People who reached the same point share one UPDATE (a wait of days ends at the same moment for
            # everyone in one time zone); Django's bulk_update builds a CASE per row and column, far slower here.
            groups: dict[tuple[Any, ...], list[int]] = defaultdict(list)
            for enrolment, _, _ in kept:
                groups[tuple(getattr(enrolment, name) for name in _SAVED)].append(enrolment.pk)
            for values, ids in groups.items():
                Enrolment.objects.filter(pk__in=ids).update(
                    **dict(zip(_SAVED, values, strict=True)), attempts=0, claimed_until=None, claim_token=""
                )
            rows = [row for _, w, _ in kept for row in w.messages]
            ids = insert_records(Message, rows, returning_ids=True)
            message_ids = iter(ids)
            events: list[dict[str, Any]] = []
            runs: list[dict[str, Any]] = []
            for _, writes, _ in kept:
                mine = [next(message_ids) for _ in writes.messages]
                for row, payload, message_id in zip(writes.messages, writes.queued, mine, strict=True):
                    events.append(
                        {
                            "type": "message.queued",
                            "candidate_id": row["candidate_id"],
                            "job_id": row["job_id"],
                            "occurred_at": now,
                            "payload": {"message_id": message_id, **payload},
                        }
                    )
                for run in writes.runs:
                    index = run.pop("message")
                    runs.append({**run, "message_id": mine[index] if index is not None else None})
                events.extend(writes.events)
            insert_records(StepRun, runs)
            insert_records(Activity, events)
            if rows:
                from rapport.common import embedded_worker

                transaction.on_commit(embedded_worker.nudge)
    except IntegrityError:
        # Released at once rather than left to their leases: the next pass finds the clashing keys queued and
        # takes these people one by one.
        logger.warning("sequences: a batch's messages clashed with ones queued meanwhile; retrying one by one")
        Enrolment.objects.filter(
            pk__in=[e.pk for e, _, _ in walked], claim_token__in={e.claim_token for e, _, _ in walked}
        ).update(claimed_until=None, claim_token="")
        return 0
    lost = len(walked) - len(kept)
    if lost:
        logger.info("sequences: %s people were paused, taken out or taken over mid-batch; their walk is dropped", lost)
    return sum(ran for _, _, ran in kept)


def _retry_later(enrolment: Enrolment, *, now: datetime, error: Exception) -> None:
    attempts = (Enrolment.objects.filter(pk=enrolment.pk).values_list("attempts", flat=True).first() or 0) + 1
    fields: dict[str, Any] = {"attempts": attempts, "claimed_until": None, "claim_token": ""}
    if attempts >= MAX_ATTEMPTS:
        fields["status"] = EnrolmentStatus.PAUSED
        fields["status_reason"] = f"Step {enrolment.step_position + 1} failed {attempts} times: {error}"[:MAX_REASON]
    else:
        fields["due_at"] = now + timedelta(minutes=2 ** (attempts - 1))
    Enrolment.objects.filter(pk=enrolment.pk, claim_token=enrolment.claim_token).update(**fields)


# --- the timeline consumer --------------------------------------------------------------------------------------

# Event type -> the exit it means (candidate.updated is read for do-not-contact and hired separately).
_EXIT_TYPES = {
    "message.received": "replied",
    "application.created": "applied",
    "application.stage_changed": "stage_changed",
    "candidate.unsubscribed": "unsubscribed",
    "application.hired": "hired",
    "candidate.erased": "erased",
}
_ENGAGEMENT_TYPES = {"message.opened", "message.clicked", "message.received"}
_READ_TYPES = {*_EXIT_TYPES, *_ENGAGEMENT_TYPES, "candidate.updated"}
REPLY_ATTRIBUTION = timedelta(days=30)


def _cursor() -> Any:
    from rapport.notifications.models import TimelineCursor

    cursor = TimelineCursor.objects.filter(name=CURSOR_NAME).first()
    if cursor is not None:
        return cursor
    # A new consumer starts at the present: sequences react to what happens from now on, not to history.
    newest = Activity.objects.aggregate(newest=Max("id"))["newest"] or 0
    try:
        with transaction.atomic():
            return TimelineCursor.objects.create(name=CURSOR_NAME, last_id=newest)
    except IntegrityError:
        return TimelineCursor.objects.get(name=CURSOR_NAME)


def sequences_from_timeline(*, limit: int = 2000) -> int:
    """Read the timeline since the last run (cursor "sequences") and react; returns how many events were read.

    - exits: a reply, an application, a stage change, an unsubscribe, do-not-contact or a hire takes people out
      of the sequences whose `exit_on` names it (erasure always does), if it happened after they were enrolled;
    - a reply marks the person's latest sequence message `replied_at` (reply-rate statistics);
    - an open, click or reply wakes people waiting at a branch step, so it jumps at once;
    - auto-enrolment: the people named by the new events are checked against each active sequence with a segment,
      and those who match it and were never in it are enrolled. Only those people are checked, never everyone.
    """
    from rapport.notifications.models import TimelineCursor

    cursor = _cursor()
    if not Activity.objects.filter(pk__gt=cursor.last_id).exists():
        return 0
    segmented = list(
        Sequence.objects.filter(status=SequenceStatus.ACTIVE, segment__isnull=False).select_related(
            "segment", "created_by"
        )
    )
    with transaction.atomic():
        cursor = TimelineCursor.objects.select_for_update().get(name=CURSOR_NAME)
        # Not simply the newest id: on PostgreSQL a lower id may still be committing (see timeline.horizon).
        newest = settled_activity_id()
        if newest is None or newest <= cursor.last_id:
            return 0
        events = Activity.objects.filter(pk__gt=cursor.last_id, pk__lte=newest, candidate__isnull=False)
        if not segmented:
            events = events.filter(type__in=_READ_TYPES)
        activities = list(
            events.only("id", "type", "candidate_id", "application_id", "occurred_at", "payload").order_by("pk")[:limit]
        )
        reached = activities[-1].pk if len(activities) == limit else newest
        if activities:
            _react(activities, segmented)
        cursor.last_id = reached
        cursor.updated_at = timezone.now()
        cursor.save(update_fields=["last_id", "updated_at"])
    return len(activities)


def _exit_reason(activity: Activity, candidate: Candidate) -> str | None:
    if activity.type in _EXIT_TYPES:
        return _EXIT_TYPES[activity.type]
    if activity.type == "candidate.updated" and "relationship_status" in (activity.payload or {}).get("fields", []):
        if candidate.relationship_status == RelationshipStatus.DO_NOT_CONTACT:
            return "do_not_contact"
        if candidate.relationship_status == RelationshipStatus.HIRED:
            return "hired"
    return None


def _react(activities: list[Activity], segmented: list[Sequence]) -> None:
    now = timezone.now()
    relevant = [a for a in activities if a.type in _READ_TYPES]
    candidate_ids = {a.candidate_id for a in relevant}
    candidates = Candidate.objects.in_bulk(list(candidate_ids)) if candidate_ids else {}
    open_rows: dict[int, list[Enrolment]] = defaultdict(list)
    if candidate_ids:
        for enrolment in Enrolment.objects.filter(
            candidate_id__in=candidate_ids, status__in=ENROLMENT_OPEN
        ).select_related("sequence", "candidate"):
            open_rows[enrolment.candidate_id].append(enrolment)
    # A move into a hired stage writes stage_changed then hired: where both take people out, "hired" is the reason.
    hired = {a.application_id for a in relevant if a.type == "application.hired"}
    woken: set[int] = set()
    for activity in relevant:
        candidate = candidates.get(activity.candidate_id)
        if candidate is None:
            continue
        if activity.type == "message.received":
            _mark_replied(candidate.pk, activity.occurred_at)
        reason = _exit_reason(activity, candidate)
        for enrolment in open_rows.get(candidate.pk, []):
            if enrolment.status not in ENROLMENT_OPEN or activity.occurred_at < enrolment.enrolled_at:
                continue
            exit_on = enrolment.sequence.exit_on or []
            if reason == "stage_changed" and activity.application_id in hired and "hired" in exit_on:
                continue
            if reason is not None and (reason == "erased" or reason in exit_on):
                _exit(enrolment, reason=reason, actor=None, now=now)
                enrolment.claimed_until, enrolment.claim_token = None, ""
                enrolment.save(update_fields=[*_SAVED, "claimed_until", "claim_token"])
            elif activity.type in _ENGAGEMENT_TYPES and enrolment.status == EnrolmentStatus.ACTIVE:
                woken.add(enrolment.pk)
    _wake_branches(woken, now)
    if segmented:
        _auto_enrol(segmented, {a.candidate_id for a in activities})


def _mark_replied(candidate_id: int, at: datetime) -> None:
    """Credit a reply to the latest sequence message of each of the person's enrolments sent in the 30 days
    before it (the reply-rate statistics read `StepRun.replied_at`)."""
    runs = (
        StepRun.objects.filter(
            enrolment__candidate_id=candidate_id,
            message__isnull=False,
            replied_at__isnull=True,
            at__lte=at,
            at__gte=at - REPLY_ATTRIBUTION,
        )
        .order_by("enrolment_id", "-at", "-id")
        .values_list("id", "enrolment_id")
    )
    latest: dict[int, int] = {}
    for run_id, enrolment_id in runs:
        latest.setdefault(enrolment_id, run_id)
    if latest:
        StepRun.objects.filter(pk__in=list(latest.values())).update(replied_at=at)


def _wake_branches(enrolment_ids: set[int], now: datetime) -> None:
    """People waiting at a branch step are due now, so the engagement that just happened is acted on."""
    if not enrolment_ids:
        return
    rows = list(Enrolment.objects.filter(pk__in=enrolment_ids).values_list("id", "sequence_id", "step_position"))
    branches = set(
        SequenceStep.objects.filter(sequence_id__in={s for _, s, _ in rows}, type=StepType.BRANCH).values_list(
            "sequence_id", "position"
        )
    )
    wake = [pk for pk, sequence_id, position in rows if (sequence_id, position) in branches]
    if wake:
        Enrolment.objects.filter(pk__in=wake, status=EnrolmentStatus.ACTIVE, due_at__gt=now).update(due_at=now)


def segment_matches(segment: Any, candidate_ids: set[int], *, user: User | None) -> set[int]:
    """Which of these people the segment matches now: its filters applied to just them, so the cost follows the
    number of people named, not the size of the database."""
    from rapport.candidates.selectors import _apply_filters, clean_candidate_filters
    from rapport.search import backends as search_backend
    from rapport.search.query import parse as parse_query

    if not candidate_ids:
        return set()
    try:
        filters = clean_candidate_filters(dict(segment.filters or {}), allow_segment=False)
    except ValidationFailed:
        logger.warning("segment %s has filters that no longer apply", segment.pk)
        return set()
    base = Candidate.objects.filter(pk__in=list(candidate_ids), erased_at__isnull=True)
    scoped = _apply_filters(base, {k: v for k, v in filters.items() if k != "q"}, user=user)
    text = str(filters.get("q") or "").strip()
    if not text:
        return set(scoped.values_list("pk", flat=True))
    page = search_backend.search(
        parse_query(text),
        scope=scoped,
        limit=len(candidate_ids),
        count=False,
        country=str(filters.get("country") or ""),
        status=str(filters.get("status") or ""),
    )
    return set(page.ids)


def _auto_enrol(sequences: list[Sequence], candidate_ids: set[int]) -> None:
    for sequence in sequences:
        # The job and stage filters are read in the scope of the sequence's author, as when they built it.
        author = sequence.created_by if sequence.created_by is not None and sequence.created_by.is_active else None
        if author is None:
            continue
        matching = segment_matches(sequence.segment, candidate_ids, user=author)
        if not matching:
            continue
        # "Newly match": anyone who was ever in this sequence (and perhaps left it by replying) is not enrolled
        # again just because they still match.
        before = set(
            Enrolment.objects.filter(sequence=sequence, candidate_id__in=matching).values_list(
                "candidate_id", flat=True
            )
        )
        new = sorted(matching - before)
        if not new:
            continue
        try:
            sequence_enrol(
                actor=None, sequence=sequence, candidate_ids=new, source="segment", source_id=str(sequence.segment_id)
            )
        except Conflict:
            # Archived or sent back to draft since it was read: it takes nobody, and the stream goes on.
            continue
