"""API: sequences (nurture campaigns): list, create, read, change, enrolments and statistics."""

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from rapport.accounts.permissions import Capability, ensure
from rapport.api.idempotency import DESCRIPTION as IDEMPOTENCY
from rapport.api.idempotency import idempotent
from rapport.api.schemas import Id, InputSchema, PageParams, keyset_page, listing, path_id, responses, str_id
from rapport.automation.models import Enrolment, Sequence, SequenceStep, StepType
from rapport.automation.selectors_sequences import (
    enrolment_list,
    enrolment_open_for,
    sequence_get_for_user,
    sequence_list,
    sequence_stats,
    steps_prefetch,
)
from rapport.automation.services_sequences import enrolment_exit, sequence_create, sequence_enrol, sequence_update

router = Router(tags=["Sequences"])

ACCESS = (
    "Sequences are managed by admins and recruiters; for other roles the list is empty, a sequence answers 404 and "
    "creating one answers 403."
)
STEPS = (
    "Steps, in order (positions count from 0): "
    '`{"type": "message", "channel": "email"|"sms"|"whatsapp", "template_id", "variants"?: [{"template_id", '
    '"weight"}]}` (2 to 5 A/B variants, labelled A, B, …; each person always gets the same one); '
    '`{"type": "wait", "minutes"|"hours"|"days": n, "business_days"?: true}` or '
    '`{"type": "wait", "until": {"weekday": "mon", "time": "09:00"}}` (in the person\'s time zone); '
    '`{"type": "task", "title", "due_in_days"?}` (for the sender; merge fields allowed in the title); '
    '`{"type": "tag", "tag"}`; `{"type": "pool", "pool_id"}`; '
    '`{"type": "branch", "on": "opened"|"clicked"|"replied"|"no_response", "within_days", "then": position, '
    '"else"?: position}` (on the last message of this sequence; jumps go forward, the position after the last step '
    "ends). Errors name the step, e.g. `steps[2].template_id`."
)


class SendWindow(Schema):
    start: str = Field(..., examples=["09:00"])
    end: str = Field(..., examples=["17:00"])
    days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] = Field(
        default_factory=list, description="Empty means every day."
    )


ExitEvent = Literal["replied", "applied", "stage_changed", "unsubscribed", "do_not_contact", "hired"]


class SequenceOut(Schema):
    id: str
    name: str
    description: str
    status: Literal["draft", "active", "paused", "archived"]
    sender: str = Field(..., description="\"owner\" (the person's owner) or a user's id.")
    send_window: SendWindow | None = Field(..., description="Read in each person's time zone; null: any time.")
    exit_on: list[ExitEvent]
    segment_id: str | None = Field(..., description="People who newly match this segment are enrolled.")
    steps: list[dict[str, Any]] = Field(..., description=STEPS)
    created_by_id: str | None
    created_at: datetime
    updated_at: datetime


class SequencePage(Schema):
    items: list[SequenceOut]
    next_cursor: str | None


class SequenceIn(InputSchema):
    name: str
    description: str | None = None
    status: Literal["draft", "active", "paused", "archived"] | None = None
    sender: str | None = Field(None, description='"owner" or a user\'s id.')
    send_window: dict[str, Any] | None = None
    exit_on: list[str] | None = None
    segment_id: Id | None = None
    steps: list[dict[str, Any]] = Field(default_factory=list, description=STEPS)


class SequencePatch(InputSchema):
    name: str | None = None
    description: str | None = None
    status: Literal["draft", "active", "paused", "archived"] | None = None
    sender: str | None = None
    send_window: dict[str, Any] | None = None
    exit_on: list[str] | None = None
    segment_id: Id | None = None
    steps: list[dict[str, Any]] | None = Field(None, description="Replaces the steps whole. " + STEPS)


class EnrolIn(InputSchema):
    candidate_ids: list[Id] = Field(..., description="Up to 10,000 people.")


class Skip(Schema):
    candidate_id: str
    reason: str


class EnrolOut(Schema):
    enrolled: list[str] = Field(..., description="The ids of the people enrolled.")
    skipped: list[Skip]


class EnrolmentOut(Schema):
    id: str
    candidate_id: str
    candidate_name: str
    status: Literal["active", "paused", "completed", "exited"]
    status_reason: str = Field(..., description="Why the person is paused, or why they left.")
    step_position: int = Field(..., description="The next step to run.")
    due_at: datetime | None
    source: str = Field(..., description="manual, segment or trigger.")
    source_id: str | None
    enrolled_by_id: str | None
    enrolled_at: datetime
    exited_at: datetime | None

    @staticmethod
    def resolve_id(obj: Enrolment) -> str:
        return str(obj.pk)

    @staticmethod
    def resolve_candidate_id(obj: Enrolment) -> str:
        return str(obj.candidate_id)

    @staticmethod
    def resolve_candidate_name(obj: Enrolment) -> str:
        return obj.candidate.full_name

    @staticmethod
    def resolve_source_id(obj: Enrolment) -> str | None:
        return obj.source_id or None

    @staticmethod
    def resolve_enrolled_by_id(obj: Enrolment) -> str | None:
        return str_id(obj.enrolled_by_id)


class EnrolmentPage(Schema):
    items: list[EnrolmentOut]
    next_cursor: str | None


class EnrolmentParams(PageParams):
    status: Literal["active", "paused", "completed", "exited"] | None = None


def step_body(step: SequenceStep) -> dict[str, Any]:
    """A step in the shape it is written in, so a sequence read can be changed and sent back."""
    config = dict(step.config or {})
    body: dict[str, Any] = {"position": step.position, "type": step.type}
    if step.type == StepType.MESSAGE:
        body["channel"] = config.get("channel", "email")
        body["template_id"] = str_id(step.template_id)
        variants = list(step.variants.all())
        if variants:
            body["variants"] = [
                {"label": v.label, "template_id": str(v.template_id), "weight": v.weight} for v in variants
            ]
    elif step.type == StepType.POOL:
        body["pool_id"] = str_id(config.get("pool_id"))
    else:
        body.update(config)
    return body


def sequence_body(sequence: Sequence) -> dict[str, Any]:
    window = None
    if sequence.send_window_start is not None and sequence.send_window_end is not None:
        window = {
            "start": sequence.send_window_start.strftime("%H:%M"),
            "end": sequence.send_window_end.strftime("%H:%M"),
            "days": list(sequence.send_window_days or []),
        }
    return {
        "id": str(sequence.pk),
        "name": sequence.name,
        "description": sequence.description,
        "status": sequence.status,
        "sender": str(sequence.sender_user_id)
        if sequence.sender_mode == "user" and sequence.sender_user_id
        else "owner",
        "send_window": window,
        "exit_on": list(sequence.exit_on or []),
        "segment_id": str_id(sequence.segment_id),
        "steps": [step_body(step) for step in sequence.steps.all()],
        "created_by_id": str_id(sequence.created_by_id),
        "created_at": sequence.created_at,
        "updated_at": sequence.updated_at,
    }


def _sequence(request: HttpRequest, sequence_id: str) -> Sequence:
    return sequence_get_for_user(user=request.auth, sequence_id=path_id(sequence_id))


def _data(payload: InputSchema) -> dict[str, Any]:
    data = payload.model_dump(exclude_unset=True)
    if data.get("segment_id") is not None:
        data["segment_id"] = str(data["segment_id"])
    return data


@router.get(
    "/sequences",
    response=responses({200: SequencePage}, 400),
    summary="List sequences",
    description=listing(f"Sequences, newest first, with their steps. {ACCESS}"),
)
def list_sequences(request: HttpRequest, params: Query[PageParams]) -> dict[str, Any]:
    qs = sequence_list(user=request.auth).prefetch_related(steps_prefetch())
    items, next_cursor = keyset_page(qs, limit=params.limit, cursor=params.cursor)
    return {"items": [sequence_body(s) for s in items], "next_cursor": next_cursor}


@router.post(
    "/sequences",
    response=responses({201: SequenceOut}, 400, 403, 422),
    summary="Create a sequence",
    description=f"201 with the sequence. `status` defaults to draft; an active sequence needs a step. `sender` is "
    '"owner" (each person\'s owner signs) or the id of an admin or recruiter. `send_window` is read in each '
    "person's time zone; a message due outside it waits for its next opening. `exit_on` defaults to every exit "
    f"event. {ACCESS} " + IDEMPOTENCY,
)
@idempotent
def create_sequence(request: HttpRequest, payload: SequenceIn) -> Status:
    sequence = sequence_create(actor=request.auth, data=_data(payload))
    return Status(201, sequence_body(sequence_get_for_user(user=request.auth, sequence_id=sequence.pk)))


@router.get(
    "/sequences/{sequence_id}",
    response=responses({200: SequenceOut}, 404),
    summary="Get a sequence",
    description=ACCESS,
)
def get_sequence(request: HttpRequest, sequence_id: str) -> dict[str, Any]:
    return sequence_body(_sequence(request, sequence_id))


@router.patch(
    "/sequences/{sequence_id}",
    response=responses({200: SequenceOut}, 403, 404, 409, 422),
    summary="Change a sequence",
    description='Changes only the fields sent. `{"status": "paused"}` pauses everyone in it, `"active"` resumes '
    'those it paused, `"archived"` takes everyone out; a sequence with people in it cannot go back to draft (409). '
    f"`steps` replaces the steps whole; runs of a position that still exists are kept. {ACCESS}",
)
def update_sequence(request: HttpRequest, sequence_id: str, payload: SequencePatch) -> dict[str, Any]:
    sequence = _sequence(request, sequence_id)
    sequence_update(actor=request.auth, sequence=sequence, data=_data(payload))
    return sequence_body(sequence_get_for_user(user=request.auth, sequence_id=sequence.pk))


@router.post(
    "/sequences/{sequence_id}/enrollments",
    response=responses({200: EnrolOut}, 400, 403, 404, 409, 422),
    summary="Enrol people",
    description="Enrols each person, or skips them with a reason: unknown or outside the caller's scope, marked do "
    "not contact, suppressed on a channel the sequence writes to, or already in it. A draft or archived sequence "
    f"answers 409; a paused one takes people in paused. Each person's timeline records `sequence.enrolled`. {ACCESS} "
    + IDEMPOTENCY,
)
@idempotent
def enrol(request: HttpRequest, sequence_id: str, payload: EnrolIn) -> dict[str, Any]:
    sequence = _sequence(request, sequence_id)
    result = sequence_enrol(actor=request.auth, sequence=sequence, candidate_ids=list(payload.candidate_ids))
    return {
        "enrolled": [str(c) for c in result.enrolled],
        "skipped": [{"candidate_id": str(c), "reason": reason} for c, reason in result.skipped],
    }


@router.get(
    "/sequences/{sequence_id}/enrollments",
    response=responses({200: EnrolmentPage}, 400, 404, 422),
    summary="List a sequence's enrolments",
    description=listing(f"Enrolments, newest first, with each person's state; filter by `status`. {ACCESS}"),
)
def list_enrolments(request: HttpRequest, sequence_id: str, params: Query[EnrolmentParams]) -> dict[str, Any]:
    sequence = _sequence(request, sequence_id)
    page = enrolment_list(sequence=sequence, status=params.status, cursor=params.cursor, limit=params.limit)
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.delete(
    "/sequences/{sequence_id}/enrollments/{candidate_id}",
    response=responses({204: None}, 403, 404),
    summary="Take a person out of a sequence",
    description="204. The person's timeline records `sequence.exited` (reason `manual`). 404 when the person is "
    f"not in the sequence now. {ACCESS}",
)
def exit_enrolment(request: HttpRequest, sequence_id: str, candidate_id: str) -> Status:
    sequence = _sequence(request, sequence_id)
    ensure(request.auth, Capability.MANAGE_AUTOMATION)
    enrolment = enrolment_open_for(sequence=sequence, candidate_id=path_id(candidate_id))
    enrolment_exit(actor=request.auth, enrolment=enrolment, reason="manual")
    return Status(204, None)


@router.get(
    "/sequences/{sequence_id}/stats",
    response=responses({200: dict[str, Any]}, 404),
    summary="A sequence's statistics",
    description="`enrolments` counts people per state. `steps` has, per step, `runs` (people it ran for) and, per "
    "message step and per A/B variant, `sent`, `opened`, `clicked`, `replied`, each rate (`opened_rate`, …) with "
    "its 95 % Wilson score interval (`opened_interval`: [low, high]). `winner` names, per rate, the variant that "
    "is significantly best: two-sided two-proportion z-test, or Fisher's exact test when an expected count is "
    "under 5; p < 0.05, Bonferroni-corrected with more than two variants; otherwise `label` is null. "
    f"{ACCESS}",
)
def stats(request: HttpRequest, sequence_id: str) -> dict[str, Any]:
    return sequence_stats(sequence=_sequence(request, sequence_id))
