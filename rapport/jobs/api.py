"""API: jobs (requisitions) and their pipeline stages."""

from datetime import date, datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from rapport.api.idempotency import DESCRIPTION as IDEMPOTENCY
from rapport.api.idempotency import idempotent
from rapport.api.schemas import Id, InputSchema, PageParams, keyset_page, listing, path_id, responses, str_id
from rapport.jobs import services
from rapport.jobs.models import Job, Stage
from rapport.jobs.selectors import job_get_for_user, job_list, stages_for_job

router = Router(tags=["Jobs"])

JobStatusName = Literal["draft", "open", "on_hold", "closed", "filled"]
WorkplaceTypeName = Literal["onsite", "hybrid", "remote"]
EmploymentTypeName = Literal["full_time", "part_time", "contract", "temporary", "internship"]
StageCategoryName = Literal["sourced", "applied", "screening", "interview", "offer", "hired"]


class JobOut(Schema):
    id: str
    title: str
    department: str
    location: str
    workplace_type: WorkplaceTypeName
    employment_type: EmploymentTypeName
    description: str
    hiring_manager_id: str | None
    recruiter_id: str | None
    openings: int
    client_id: str | None
    status: JobStatusName
    opened_on: date | None
    closed_on: date | None
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_id(obj: Job) -> str:
        return str(obj.pk)

    @staticmethod
    def resolve_hiring_manager_id(obj: Job) -> str | None:
        return str_id(obj.hiring_manager_id)

    @staticmethod
    def resolve_recruiter_id(obj: Job) -> str | None:
        return str_id(obj.recruiter_id)

    @staticmethod
    def resolve_client_id(obj: Job) -> str | None:
        return str_id(obj.client_id)


class JobPage(Schema):
    items: list[JobOut]
    next_cursor: str | None


class JobPatch(InputSchema):
    title: str | None = None
    department: str | None = None
    location: str | None = Field(None, description="Where the work is, such as Berlin or Remote (EU).")
    workplace_type: WorkplaceTypeName | None = None
    employment_type: EmploymentTypeName | None = None
    description: str | None = None
    hiring_manager_id: Id | None = None
    recruiter_id: Id | None = Field(None, description="An admin or a recruiter.")
    openings: int | None = Field(None, description="1 to 1000.")
    client_id: Id | None = Field(None, description="For agencies: the client the job is for.")
    status: JobStatusName | None = Field(None, description="Opening sets `opened_on`; closing sets `closed_on`.")
    opened_on: date | None = None
    closed_on: date | None = None


class JobCreate(JobPatch):
    title: str  # type: ignore[assignment]


class JobParams(PageParams):
    status: JobStatusName | None = None
    q: str | None = Field(None, description="Matches the title, department or location.")


class StageOut(Schema):
    id: str
    name: str
    position: int
    category: StageCategoryName

    @staticmethod
    def resolve_id(obj: Stage) -> str:
        return str(obj.pk)


class StagePage(Schema):
    items: list[StageOut]
    next_cursor: str | None


def _job(request: HttpRequest, job_id: str) -> Job:
    return job_get_for_user(user=request.auth, job_id=path_id(job_id))


@router.get(
    "/jobs",
    response=responses({200: JobPage}, 400, 422),
    summary="List jobs",
    description=listing(
        "Jobs in the caller's scope, newest first: all for admins and recruiters, their own for hiring "
        "managers, the ones they interview for for interviewers."
    ),
)
def list_jobs(request: HttpRequest, params: Query[JobParams]) -> dict[str, Any]:
    items, next_cursor = keyset_page(
        job_list(user=request.auth, status=params.status, q=params.q), limit=params.limit, cursor=params.cursor
    )
    return {"items": items, "next_cursor": next_cursor}


@router.post(
    "/jobs",
    response=responses({201: JobOut}, 400, 403, 422),
    summary="Create a job",
    description="201 with the job. The job gets its own copy of the organisation's stages (Sourced, Applied, "
    "Screening, Interview, Offer, Hired by default); see GET /jobs/{id}/stages. " + IDEMPOTENCY,
)
@idempotent
def create_job(request: HttpRequest, payload: JobCreate) -> Status:
    job = services.job_create(actor=request.auth, data=payload.model_dump(exclude_unset=True))
    return Status(201, job)


@router.get("/jobs/{job_id}", response=responses({200: JobOut}, 404), summary="One job")
def get_job(request: HttpRequest, job_id: str) -> Job:
    return _job(request, job_id)


@router.patch(
    "/jobs/{job_id}",
    response=responses({200: JobOut}, 400, 403, 404, 422),
    summary="Change a job",
    description="Changes only the fields sent; send null to clear an optional field.",
)
def update_job(request: HttpRequest, job_id: str, payload: JobPatch) -> Job:
    job = _job(request, job_id)
    return services.job_update(actor=request.auth, job=job, data=payload.model_dump(exclude_unset=True))


@router.get("/jobs/{job_id}/stages", response=responses({200: StagePage}, 404), summary="A job's stages")
def list_stages(request: HttpRequest, job_id: str) -> dict[str, Any]:
    """The job's pipeline in order, `[{id, name, position, category}]`, in one page."""
    return {"items": stages_for_job(job=_job(request, job_id)), "next_cursor": None}
