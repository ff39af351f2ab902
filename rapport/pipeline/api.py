"""API: applications (a person on a job) and how they move through its stages; rejection reasons."""

from datetime import datetime
from typing import Any, Literal

from django.db.models import Prefetch
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from rapport.accounts.models import User
from rapport.api.idempotency import DESCRIPTION as IDEMPOTENCY
from rapport.api.idempotency import idempotent
from rapport.api.schemas import Id, InputSchema, PageParams, keyset_page, listing, path_id, responses, str_id
from rapport.candidates.selectors import candidate_get_for_user
from rapport.common.errors import NotFound
from rapport.jobs.selectors import job_get_for_user, stage_get_for_job
from rapport.pipeline import services
from rapport.pipeline.models import Application, RejectionReason
from rapport.pipeline.selectors import application_get_for_user, applications_visible_to, rejection_reasons_active

router = Router(tags=["Applications"])

ApplicationStatusName = Literal["active", "rejected", "withdrawn", "hired"]


class ApplicationOut(Schema):
    id: str
    candidate_id: str
    job_id: str
    stage_id: str
    source: str
    status: ApplicationStatusName
    rejection_reason_id: str | None
    rejection_note: str
    interviewer_ids: list[str]
    stage_entered_at: datetime
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None

    @staticmethod
    def resolve_id(obj: Application) -> str:
        return str(obj.pk)

    @staticmethod
    def resolve_candidate_id(obj: Application) -> str:
        return str(obj.candidate_id)

    @staticmethod
    def resolve_job_id(obj: Application) -> str:
        return str(obj.job_id)

    @staticmethod
    def resolve_stage_id(obj: Application) -> str:
        return str(obj.stage_id)

    @staticmethod
    def resolve_rejection_reason_id(obj: Application) -> str | None:
        return str_id(obj.rejection_reason_id)

    @staticmethod
    def resolve_interviewer_ids(obj: Application) -> list[str]:
        return sorted((str(u.pk) for u in obj.interviewers.all()), key=int)


class ApplicationPage(Schema):
    items: list[ApplicationOut]
    next_cursor: str | None


class ApplicationCreate(InputSchema):
    candidate_id: Id
    job_id: Id
    source: str | None = Field(None, description="Where they came from; defaults to the person's source.")
    stage_id: Id | None = Field(None, description="Start in this stage of the job instead of the first one.")


class ApplicationPatch(InputSchema):
    source: str | None = None
    interviewer_ids: list[Id] | None = Field(
        None, description="Replaces the assigned interviewers; interviewers see only the people assigned to them."
    )


class MoveIn(InputSchema):
    stage_id: Id = Field(..., description="A stage of the application's job; a stage in the Hired category hires.")


class RejectIn(InputSchema):
    reason_id: Id | None = Field(None, description="One of GET /rejection-reasons.")
    note: str = Field("", description="Internal note, up to 5,000 characters.")
    notify: bool = Field(
        False,
        description="Email the person a rejection template in the same transaction (needs a role that can send "
        "messages); if the email cannot be written, nothing is rejected.",
    )
    template_id: Id | None = Field(
        None, description="A rejection email template (GET /templates?category=rejection); default: the first by name."
    )


class WithdrawIn(InputSchema):
    note: str = ""


class JobApplicationParams(PageParams):
    stage: Id | None = Field(None, description="Only applications in this stage of the job.")
    status: ApplicationStatusName | None = None


class RejectionReasonOut(Schema):
    id: str
    name: str
    position: int

    @staticmethod
    def resolve_id(obj: RejectionReason) -> str:
        return str(obj.pk)


class RejectionReasonPage(Schema):
    items: list[RejectionReasonOut]
    next_cursor: str | None


def _with_interviewers(qs: Any) -> Any:
    return qs.prefetch_related(Prefetch("interviewers", queryset=User.objects.only("id")))


def _application(request: HttpRequest, application_id: Any) -> Application:
    return application_get_for_user(user=request.auth, application_id=path_id(str(application_id)))


def _fresh(request: HttpRequest, application: Application) -> Application:
    return _with_interviewers(applications_visible_to(request.auth)).get(pk=application.pk)


def _reference(lookup: Any, field: str, label: str) -> Any:
    """A body's reference to another record: missing or out of scope answers 404, naming the field."""
    try:
        return lookup()
    except NotFound:
        raise NotFound(f"No {label} with this id.", fields={field: [f"No such {label}."]})


@router.get(
    "/jobs/{job_id}/applications",
    response=responses({200: ApplicationPage}, 400, 404, 422),
    summary="A job's applications",
    tags=["Jobs", "Applications"],
    description=listing(
        "Newest first, within the caller's scope (an interviewer sees only the people assigned to them)."
    ),
)
def list_job_applications(request: HttpRequest, job_id: str, params: Query[JobApplicationParams]) -> dict[str, Any]:
    job = job_get_for_user(user=request.auth, job_id=path_id(job_id))
    qs = applications_visible_to(request.auth).filter(job=job)
    if params.stage is not None:
        stage = _reference(lambda: stage_get_for_job(job=job, stage_id=params.stage), "stage", "stage in this job")
        qs = qs.filter(stage=stage)
    if params.status:
        qs = qs.filter(status=params.status)
    items, next_cursor = keyset_page(_with_interviewers(qs), limit=params.limit, cursor=params.cursor)
    return {"items": items, "next_cursor": next_cursor}


@router.post(
    "/applications",
    response=responses({201: ApplicationOut}, 400, 403, 404, 409, 422),
    summary="Put a person on a job",
    description="201 with the application, in the job's first stage unless `stage_id` says otherwise. If the "
    "person already applied to that job: 409 `duplicate` with `existing_id`. " + IDEMPOTENCY,
)
@idempotent
def create_application(request: HttpRequest, payload: ApplicationCreate) -> Status:
    user = request.auth
    candidate = _reference(
        lambda: candidate_get_for_user(user=user, candidate_id=payload.candidate_id), "candidate_id", "person"
    )
    job = _reference(lambda: job_get_for_user(user=user, job_id=payload.job_id), "job_id", "job")
    stage = None
    if payload.stage_id is not None:
        stage = _reference(lambda: stage_get_for_job(job=job, stage_id=payload.stage_id), "stage_id", "stage")
    application = services.application_create(
        actor=user, candidate=candidate, job=job, source=payload.source or "", stage=stage
    )
    return Status(201, _fresh(request, application))


@router.get("/applications/{application_id}", response=responses({200: ApplicationOut}, 404), summary="One application")
def get_application(request: HttpRequest, application_id: str) -> Application:
    return _fresh(request, _application(request, application_id))


@router.patch(
    "/applications/{application_id}",
    response=responses({200: ApplicationOut}, 400, 403, 404, 422),
    summary="Change an application",
    description="Changes the source or the assigned interviewers. The stage and status change through the move, "
    "reject and withdraw actions, which record the history.",
)
def update_application(request: HttpRequest, application_id: str, payload: ApplicationPatch) -> Application:
    application = _application(request, application_id)
    data = payload.model_dump(exclude_unset=True)
    services.application_update(actor=request.auth, application=application, data=data)
    return _fresh(request, application)


@router.post(
    "/applications/{application_id}/move",
    response=responses({200: ApplicationOut}, 400, 403, 404, 409, 422),
    summary="Move to another stage",
    description="Records the stage change (with time in the previous stage) on the history and the timeline. "
    "Moving into a Hired stage hires. A rejected or withdrawn application answers 409. " + IDEMPOTENCY,
)
@idempotent
def move_application(request: HttpRequest, application_id: str, payload: MoveIn) -> Application:
    application = _application(request, application_id)
    stage = _reference(
        lambda: stage_get_for_job(job=application.job, stage_id=payload.stage_id), "stage_id", "stage in this job"
    )
    services.application_move(actor=request.auth, application=application, stage=stage)
    return _fresh(request, application)


@router.post(
    "/applications/{application_id}/reject",
    response=responses({200: ApplicationOut}, 400, 403, 404, 409, 422),
    summary="Reject",
    description="Closes the application as rejected, with an optional reason and note. An application that is "
    "already closed answers 409. " + IDEMPOTENCY,
)
@idempotent
def reject_application(request: HttpRequest, application_id: str, payload: RejectIn) -> Application:
    application = _application(request, application_id)
    services.application_reject(
        actor=request.auth,
        application=application,
        reason_id=payload.reason_id,
        note=payload.note,
        notify=payload.notify,
        template_id=payload.template_id,
    )
    return _fresh(request, application)


@router.post(
    "/applications/{application_id}/withdraw",
    response=responses({200: ApplicationOut}, 400, 403, 404, 409, 422),
    summary="The candidate withdrew",
    description="Closes the application as withdrawn; the body is optional. An application that is already "
    "closed answers 409. " + IDEMPOTENCY,
)
@idempotent
def withdraw_application(request: HttpRequest, application_id: str, payload: WithdrawIn | None = None) -> Application:
    application = _application(request, application_id)
    services.application_withdraw(actor=request.auth, application=application, note=payload.note if payload else "")
    return _fresh(request, application)


@router.get(
    "/rejection-reasons",
    response=responses({200: RejectionReasonPage}),
    summary="Rejection reasons",
    tags=["Applications"],
)
def list_rejection_reasons(request: HttpRequest) -> dict[str, Any]:
    """The organisation's active rejection reasons, in their order, in one page."""
    return {"items": list(rejection_reasons_active()), "next_cursor": None}
