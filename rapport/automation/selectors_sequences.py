"""Reads of sequences: the builder's list, enrolments, a person's upcoming touches, and per-step statistics.

Sequences are a tool of admins and recruiters (`Capability.MANAGE_AUTOMATION`): other roles get an empty list and
404 for one sequence, as for message templates.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet

from rapport.accounts.models import User
from rapport.accounts.permissions import Capability, can
from rapport.automation import stats as ab
from rapport.automation.models import (
    ENROLMENT_OPEN,
    Enrolment,
    EnrolmentStatus,
    Sequence,
    SequenceStep,
    StepRun,
    StepType,
    StepVariant,
)
from rapport.automation.steps import choose_variant, next_send_time, wait_until, window_of
from rapport.automation.touches import Touch
from rapport.common.errors import BadRequest, NotFound, ValidationFailed
from rapport.common.ids import parse_id
from rapport.common.pagination import clamp_limit, decode_cursor, encode_cursor
from rapport.messaging.respect import person_zone

METRICS = ("opened", "clicked", "replied")


def sequences_visible_to(user: User) -> QuerySet[Sequence]:
    if not can(user, Capability.MANAGE_AUTOMATION):
        return Sequence.objects.none()
    return Sequence.objects.all()


def sequence_get_for_user(*, user: User, sequence_id: Any) -> Sequence:
    try:
        pk = parse_id(sequence_id)
    except (TypeError, ValueError):
        raise NotFound("No such sequence.")
    sequence = (
        sequences_visible_to(user)
        .select_related("sender_user", "segment", "created_by")
        .prefetch_related(steps_prefetch())
        .filter(pk=pk)
        .first()
    )
    if sequence is None:
        raise NotFound("No such sequence.")
    return sequence


def steps_prefetch() -> Prefetch:
    return Prefetch(
        "steps",
        queryset=SequenceStep.objects.select_related("template")
        .prefetch_related(Prefetch("variants", queryset=StepVariant.objects.select_related("template")))
        .order_by("position"),
    )


def sequence_list(*, user: User, status: str | None = None) -> QuerySet[Sequence]:
    """The sequences the user may manage, with their steps; `step_count` is annotated. Ordering is the caller's."""
    qs = sequences_visible_to(user)
    if status:
        qs = qs.filter(status=status)
    return qs.select_related("sender_user", "segment").annotate(step_count=Count("steps", distinct=True))


def enrolment_get_for_user(*, user: User, enrolment_id: Any) -> Enrolment:
    try:
        pk = parse_id(enrolment_id)
    except (TypeError, ValueError):
        raise NotFound("No such enrolment.")
    enrolment = (
        Enrolment.objects.filter(pk=pk, sequence__in=sequences_visible_to(user))
        .select_related("sequence", "candidate")
        .first()
    )
    if enrolment is None or enrolment.candidate.erased_at is not None:
        raise NotFound("No such enrolment.")
    return enrolment


def enrolment_open_for(*, sequence: Sequence, candidate_id: Any) -> Enrolment:
    """The person's open (active or paused) enrolment in the sequence, or NotFound."""
    try:
        pk = parse_id(candidate_id)
    except (TypeError, ValueError):
        raise NotFound("This person is not in the sequence.")
    enrolment = (
        Enrolment.objects.filter(sequence=sequence, candidate_id=pk, status__in=ENROLMENT_OPEN)
        .select_related("sequence", "candidate")
        .first()
    )
    if enrolment is None:
        raise NotFound("This person is not in the sequence.")
    return enrolment


@dataclass
class EnrolmentPage:
    items: list[Enrolment]
    next_cursor: str | None


def enrolment_list(
    *, sequence: Sequence, status: str | None = None, cursor: str | None = None, limit: int | None = 50
) -> EnrolmentPage:
    """One page of a sequence's enrolments, newest first (keyset on id, served by the (sequence, status, -id)
    index), with each person loaded."""
    limit = clamp_limit(limit)
    qs = Enrolment.objects.filter(sequence=sequence, candidate__erased_at__isnull=True)
    if status:
        if status not in EnrolmentStatus.values:
            raise ValidationFailed.single("status", f"Choose one of: {', '.join(EnrolmentStatus.values)}.")
        qs = qs.filter(status=status)
    position = decode_cursor(cursor)
    if position is not None:
        last_id = position.get("id")
        if not isinstance(last_id, int) or isinstance(last_id, bool) or last_id < 0:
            raise BadRequest("The cursor is not valid for this list.", fields={"cursor": ["Not a valid cursor."]})
        qs = qs.filter(id__lt=last_id)
    rows = list(qs.select_related("candidate", "enrolled_by").order_by("-id")[: limit + 1])
    items = rows[:limit]
    next_cursor = encode_cursor({"id": items[-1].pk}) if len(rows) > limit else None
    return EnrolmentPage(items=items, next_cursor=next_cursor)


def enrolment_counts(*, sequence: Sequence) -> dict[str, int]:
    """How many people are in each state: {"active", "paused", "completed", "exited", "total"}."""
    counts = {status: 0 for status in EnrolmentStatus.values}
    for row in Enrolment.objects.filter(sequence=sequence).values("status").annotate(n=Count("id")).order_by():
        counts[row["status"]] = row["n"]
    counts["total"] = sum(counts.values())
    return counts


# --- upcoming touches -----------------------------------------------------------------------------------------------


def _estimate(enrolment: Enrolment, steps: list[SequenceStep], skipped: set[int]) -> tuple[SequenceStep, datetime]:
    """The next message step on the person's path and when it should go, or (None, None) if a branch comes
    first (its outcome is not known yet)."""
    sequence = enrolment.sequence
    zone = person_zone(enrolment.candidate.timezone)
    window = window_of(sequence)
    at = enrolment.due_at
    for step in steps[enrolment.step_position :]:
        if step.type == StepType.MESSAGE:
            if step.pk in skipped:
                continue
            return step, next_send_time(at, window, zone)
        if step.type == StepType.WAIT:
            at = wait_until(at, step.config or {}, zone)
        elif step.type == StepType.BRANCH:
            break
    return None, None


def enrolment_upcoming(*, candidate: Any) -> list[Touch]:
    """The next message of each sequence the person is active in, soonest first: what, when and on whose behalf.

    Paused enrolments have no time to show, so they are left out; a message behind a branch is not guessed at.
    Three queries whatever the number of sequences.
    """
    enrolments = list(
        Enrolment.objects.filter(candidate=candidate, status=EnrolmentStatus.ACTIVE, due_at__isnull=False)
        .select_related("sequence", "candidate")
        .order_by("due_at", "id")
    )
    if not enrolments:
        return []
    steps: dict[int, list[SequenceStep]] = defaultdict(list)
    for step in (
        SequenceStep.objects.filter(sequence_id__in={e.sequence_id for e in enrolments})
        .select_related("template")
        .prefetch_related(Prefetch("variants", queryset=StepVariant.objects.select_related("template")))
        .order_by("sequence_id", "position")
    ):
        steps[step.sequence_id].append(step)
    skipped: dict[int, set[int]] = defaultdict(set)
    for enrolment_id, step_id in StepRun.objects.filter(
        enrolment__in=enrolments, outcome="skipped", detail__startswith="Skipped in advance"
    ).values_list("enrolment_id", "step_id"):
        skipped[enrolment_id].add(step_id)
    touches: list[Touch] = []
    for enrolment in enrolments:
        step, due = _estimate(enrolment, steps.get(enrolment.sequence_id, []), skipped[enrolment.pk])
        if step is None:
            continue
        variants = list(step.variants.all())
        variant = choose_variant(enrolment.candidate_id, step.pk, variants) if variants else None
        template = variant.template if variant is not None else step.template
        touches.append(
            Touch(
                due_at=due,
                channel=(step.config or {}).get("channel", "email"),
                template_id=template.pk if template is not None else None,
                template_name=template.name if template is not None else "",
                source_type="sequence",
                source_id=enrolment.sequence_id,
                source_name=enrolment.sequence.name,
                enrolment_id=enrolment.pk,
                run_id=None,
            )
        )
    return sorted(touches, key=lambda t: (t.due_at, t.enrolment_id))


# --- statistics -----------------------------------------------------------------------------------------------------


def _metrics(sent: int, counts: dict[str, int]) -> dict[str, Any]:
    out: dict[str, Any] = {"sent": sent, **counts}
    for metric in METRICS:
        low, high = ab.wilson_interval(counts[metric], sent)
        out[f"{metric}_rate"] = round(counts[metric] / sent, 4) if sent else 0.0
        out[f"{metric}_interval"] = [round(low, 4), round(high, 4)]
    return out


def sequence_stats(*, sequence: Sequence) -> dict[str, Any]:
    """Per step: how many people it ran for; per message step and variant: sent, opened, clicked, replied, each
    rate with its 95 % Wilson interval, and per rate a winner only when significant (see `automation.stats`).

    One grouped query over the sequence's step runs (indexed by step and variant), one for the enrolment counts.
    """
    steps = list(
        SequenceStep.objects.filter(sequence=sequence)
        .prefetch_related(Prefetch("variants", queryset=StepVariant.objects.select_related("template")))
        .select_related("template")
        .order_by("position")
    )
    grouped = (
        StepRun.objects.filter(step__sequence=sequence)
        .values("step_id", "variant")
        .annotate(
            runs=Count("id"),
            sent=Count("id", filter=Q(message__isnull=False)),
            opened=Count("id", filter=Q(message__opened_at__isnull=False) | Q(message__clicked_at__isnull=False)),
            clicked=Count("id", filter=Q(message__clicked_at__isnull=False)),
            replied=Count("id", filter=Q(replied_at__isnull=False)),
        )
        .order_by()
    )
    by_step: dict[int, dict[str, dict[str, int]]] = defaultdict(dict)
    for row in grouped:
        by_step[row["step_id"]][row["variant"]] = row
    out_steps = []
    for step in steps:
        rows = by_step.get(step.pk, {})
        runs = sum(r["runs"] for r in rows.values())
        entry: dict[str, Any] = {"position": step.position, "type": step.type, "runs": runs}
        if step.type == StepType.MESSAGE:
            totals = {m: sum(r[m] for r in rows.values()) for m in METRICS}
            entry["channel"] = (step.config or {}).get("channel", "email")
            entry.update(_metrics(sum(r["sent"] for r in rows.values()), totals))
            variants = []
            for variant in step.variants.all():
                row = rows.get(variant.label, {})
                variants.append(
                    {
                        "label": variant.label,
                        "template_id": variant.template_id,
                        "template_name": variant.template.name,
                        "weight": variant.weight,
                        **_metrics(row.get("sent", 0), {m: row.get(m, 0) for m in METRICS}),
                    }
                )
            entry["variants"] = variants
            winners = {}
            for metric in METRICS:
                verdict = ab.winner({v["label"]: (v[metric], v["sent"]) for v in variants})
                winners[metric] = {
                    "label": verdict.winner,
                    "p_value": round(verdict.p_value, 6) if verdict.p_value is not None else None,
                    "test": verdict.test,
                }
            entry["winner"] = winners
        out_steps.append(entry)
    return {"sequence_id": sequence.pk, "enrolments": enrolment_counts(sequence=sequence), "steps": out_steps}
