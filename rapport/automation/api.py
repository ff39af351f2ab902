"""API: recruiter tasks (list with filters, create, change or check off)."""

from datetime import date, datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from rapport.api.idempotency import DESCRIPTION as IDEMPOTENCY
from rapport.api.idempotency import idempotent
from rapport.api.schemas import Id, InputSchema, PageParams, keyset_page, listing, path_id, responses, str_id
from rapport.automation.models import Task
from rapport.automation.selectors import parse_due_before, task_get_for_user, task_list
from rapport.automation.services import task_create, task_update

router = Router(tags=["Tasks"])

ACCESS = (
    "Everyone sees their own tasks; admins and recruiters see everyone's. Anyone may create tasks for themselves "
    "about a person or job they can see; only admins and recruiters may give a task to someone else, whose own scope "
    "must include the linked person and job."
)


class TaskOut(Schema):
    id: str
    title: str
    notes: str
    due_at: datetime | None = Field(..., description="When the task becomes overdue.")
    all_day: bool = Field(
        ...,
        description="True when the task was given a day rather than a time: `due_at` is then the end of that day "
        "in the organisation's time zone.",
    )
    done: bool
    overdue: bool
    owner_id: str
    candidate_id: str | None
    job_id: str | None
    source: Literal["manual", "sequence", "trigger"]
    source_id: str | None = Field(..., description="The sequence or trigger that created it.")
    created_by_id: str | None
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    completed_by_id: str | None

    @staticmethod
    def resolve_id(obj: Task) -> str:
        return str(obj.pk)

    @staticmethod
    def resolve_all_day(obj: Task) -> bool:
        return obj.due_all_day

    @staticmethod
    def resolve_done(obj: Task) -> bool:
        return obj.is_done

    @staticmethod
    def resolve_overdue(obj: Task) -> bool:
        return obj.is_overdue

    @staticmethod
    def resolve_owner_id(obj: Task) -> str:
        return str(obj.owner_id)

    @staticmethod
    def resolve_candidate_id(obj: Task) -> str | None:
        return str_id(obj.candidate_id)

    @staticmethod
    def resolve_job_id(obj: Task) -> str | None:
        return str_id(obj.job_id)

    @staticmethod
    def resolve_source_id(obj: Task) -> str | None:
        return obj.source_id or None

    @staticmethod
    def resolve_created_by_id(obj: Task) -> str | None:
        return str_id(obj.created_by_id)

    @staticmethod
    def resolve_completed_by_id(obj: Task) -> str | None:
        return str_id(obj.completed_by_id)


class TaskPage(Schema):
    items: list[TaskOut]
    next_cursor: str | None


class TaskParams(PageParams):
    owner: Id | None = Field(None, description="The owner's user id.")
    due_before: str | None = Field(
        None, description="Only tasks due before this time (`2026-01-31T09:00:00Z`) or date (its midnight)."
    )
    done: bool | None = Field(None, description="`false` for open tasks, `true` for done ones; leave out for both.")


class TaskPatch(InputSchema):
    title: str | None = Field(None, description="Up to 200 characters.")
    notes: str | None = None
    due_at: datetime | None = Field(None, description="A time; null clears the due date.")
    due_date: date | None = Field(None, description="A day instead of a time: due by the end of that day.")
    owner_id: Id | None = Field(None, description="Admins and recruiters may give the task to another team member.")
    candidate_id: Id | None = Field(None, description="The person it is about; null unlinks.")
    job_id: Id | None = Field(None, description="The job it is about; null unlinks.")
    done: bool | None = Field(None, description="`true` checks the task off, `false` opens it again.")


class TaskCreate(InputSchema):
    title: str = Field(..., description="Up to 200 characters.")
    notes: str | None = None
    due_at: datetime | None = Field(None, description="A time.")
    due_date: date | None = Field(None, description="A day instead of a time: due by the end of that day.")
    owner_id: Id | None = Field(None, description="Defaults to the caller.")
    candidate_id: Id | None = None
    job_id: Id | None = None


def _task(request: HttpRequest, task_id: str) -> Task:
    return task_get_for_user(user=request.auth, task_id=path_id(task_id))


def _data(payload: InputSchema) -> dict[str, Any]:
    data = payload.model_dump(exclude_unset=True)
    if "done" in data and data["done"] is None:
        data.pop("done")
    return data


@router.get(
    "/tasks",
    response=responses({200: TaskPage}, 400, 422),
    summary="List tasks",
    description=listing(f"Tasks, newest first, filtered by `owner`, `due_before` and `done`. {ACCESS}"),
)
def list_tasks(request: HttpRequest, params: Query[TaskParams]) -> dict[str, Any]:
    due_before = parse_due_before(params.due_before) if params.due_before else None
    qs = task_list(user=request.auth, owner_id=params.owner, done=params.done, due_before=due_before)
    items, next_cursor = keyset_page(qs, limit=params.limit, cursor=params.cursor)
    return {"items": items, "next_cursor": next_cursor}


@router.post(
    "/tasks",
    response=responses({201: TaskOut}, 400, 403, 404, 422),
    summary="Create a task",
    description="201 with the task. Give `due_at` (a time) or `due_date` (a day), not both. A person or job "
    f"outside the caller's scope answers 404. The person's timeline records `task.created`. {ACCESS} " + IDEMPOTENCY,
)
@idempotent
def create_task(request: HttpRequest, payload: TaskCreate) -> Status:
    task = task_create(actor=request.auth, data=_data(payload))
    return Status(201, task_get_for_user(user=request.auth, task_id=task.pk))


@router.patch(
    "/tasks/{task_id}",
    response=responses({200: TaskOut}, 400, 403, 404, 422),
    summary="Change a task",
    description="Changes only the fields sent. `done: true` checks the task off (the person's timeline records "
    f"`task.completed`), `done: false` opens it again. {ACCESS}",
)
def update_task(request: HttpRequest, task_id: str, payload: TaskPatch) -> Task:
    task = _task(request, task_id)
    task_update(actor=request.auth, task=task, data=_data(payload))
    return task_get_for_user(user=request.auth, task_id=task.pk)
