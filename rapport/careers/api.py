"""API: a job's screening questions (asked on its apply form) and an application's answers to them."""

from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from pydantic import field_validator

from rapport.api.idempotency import DESCRIPTION as IDEMPOTENCY
from rapport.api.idempotency import idempotent
from rapport.api.schemas import InputSchema, path_id, responses, str_id
from rapport.careers import services
from rapport.careers.models import JobQuestion, ScreeningAnswer
from rapport.careers.selectors import application_screening, job_question_get_for_user, job_questions
from rapport.jobs.models import Job
from rapport.jobs.selectors import job_get_for_user
from rapport.pipeline.selectors import application_get_for_user

router = Router(tags=["Screening questions"])

QuestionKindName = Literal["text", "choice", "yes_no"]

ACCESS = (
    "Everyone who can see the job reads its questions; admins and recruiters (who manage jobs) change them, other "
    "roles get 403, and a job outside the caller's scope is 404."
)
ONE_PAGE = (
    f'A job asks at most {services.MAX_QUESTIONS} questions, so the list is one page: `{{"items": [...], '
    '"next_cursor": null}`.'
)


class JobQuestionOut(Schema):
    id: str
    job_id: str
    text: str
    kind: QuestionKindName = Field(..., description="`text` (free text), `choice` (one of `choices`) or `yes_no`.")
    choices: list[str] = Field(..., description="The options of a `choice` question; empty for other kinds.")
    required: bool = Field(..., description="Whether applicants must answer.")
    knockout_answer: str = Field(
        ...,
        description="The answer that flags an applicant (`yes`/`no`, or one of the choices); empty for none.",
    )
    position: int = Field(..., description="The question's place on the apply form, from 0.")

    @staticmethod
    def resolve_id(obj: JobQuestion) -> str:
        return str(obj.pk)

    @staticmethod
    def resolve_job_id(obj: JobQuestion) -> str:
        return str(obj.job_id)


class JobQuestionPage(Schema):
    items: list[JobQuestionOut]
    next_cursor: str | None


class JobQuestionPatch(InputSchema):
    text: str | None = Field(None, description=f"Up to {services.MAX_QUESTION} characters.")
    kind: QuestionKindName | None = None
    choices: list[str] | None = Field(
        None,
        description=f"For `choice`: 2 to {services.MAX_CHOICES} options of up to {services.MAX_CHOICE} characters; "
        "blanks and repeats (in any case) are dropped. Ignored for other kinds.",
    )
    required: bool | None = None
    knockout_answer: str | None = Field(
        None,
        description="For `yes_no`, `yes` or `no`; for `choice`, one of the choices (in any case); empty or null for "
        "none. A `text` question cannot have one.",
    )

    @field_validator("required")
    @classmethod
    def _required_is_a_boolean(cls, value: bool | None) -> bool:
        # Null cannot mean anything here, and read as false it would quietly change the question.
        if value is None:
            raise ValueError("Send true or false.")
        return value


class JobQuestionCreate(JobQuestionPatch):
    text: str = Field(..., description=f"Up to {services.MAX_QUESTION} characters.")  # type: ignore[assignment]
    kind: QuestionKindName  # type: ignore[assignment]
    required: bool = Field(False, description="Whether applicants must answer.")  # type: ignore[assignment]


class QuestionMoveIn(InputSchema):
    direction: Literal["up", "down"] = Field(..., description="Swap the question with the one before or after it.")


class ScreeningAnswerOut(Schema):
    id: str
    question_id: str | None = Field(..., description="Null when the question has been removed since.")
    question_text: str = Field(..., description="The question as the applicant saw it.")
    answer: str = Field(..., description="What the applicant answered; optional questions left blank have no row.")
    knocked_out: bool = Field(..., description="True when this is the question's knock-out answer.")

    @staticmethod
    def resolve_id(obj: ScreeningAnswer) -> str:
        return str(obj.pk)

    @staticmethod
    def resolve_question_id(obj: ScreeningAnswer) -> str | None:
        return str_id(obj.question_id)


class ScreeningAnswerPage(Schema):
    items: list[ScreeningAnswerOut]
    next_cursor: str | None


def _job(request: HttpRequest, job_id: str) -> Job:
    return job_get_for_user(user=request.auth, job_id=path_id(job_id))


def _question(request: HttpRequest, job_id: str, question_id: str) -> JobQuestion:
    return job_question_get_for_user(user=request.auth, job_id=path_id(job_id), question_id=path_id(question_id))


@router.get(
    "/jobs/{job_id}/questions",
    response=responses({200: JobQuestionPage}, 404),
    summary="A job's screening questions",
    tags=["Jobs", "Screening questions"],
    description=f"The questions the job's apply form asks, in order. {ONE_PAGE} {ACCESS}",
)
def list_questions(request: HttpRequest, job_id: str) -> dict[str, Any]:
    return {"items": list(job_questions(job=_job(request, job_id))), "next_cursor": None}


@router.post(
    "/jobs/{job_id}/questions",
    response=responses({201: JobQuestionOut}, 400, 403, 404, 422),
    summary="Add a screening question",
    description="201 with the question, added at the end of the apply form. Mistakes answer 422 naming each "
    f"field, e.g. a `choice` question without `choices`. {ACCESS} " + IDEMPOTENCY,
)
@idempotent
def create_question(request: HttpRequest, job_id: str, payload: JobQuestionCreate) -> Status:
    job = _job(request, job_id)
    question = services.job_question_create(actor=request.auth, job=job, data=payload.model_dump(exclude_unset=True))
    return Status(201, question)


@router.get(
    "/jobs/{job_id}/questions/{question_id}",
    response=responses({200: JobQuestionOut}, 404),
    summary="One screening question",
    description=ACCESS,
)
def get_question(request: HttpRequest, job_id: str, question_id: str) -> JobQuestion:
    return _question(request, job_id, question_id)


@router.patch(
    "/jobs/{job_id}/questions/{question_id}",
    response=responses({200: JobQuestionOut}, 400, 403, 404, 422),
    summary="Change a screening question",
    description="Changes only the fields sent; the question as a whole must still be valid (changing `kind` to "
    "`text` needs `knockout_answer` cleared too). Answers already given keep the wording the applicant saw. " + ACCESS,
)
def update_question(request: HttpRequest, job_id: str, question_id: str, payload: JobQuestionPatch) -> JobQuestion:
    question = _question(request, job_id, question_id)
    return services.job_question_update(
        actor=request.auth, question=question, data=payload.model_dump(exclude_unset=True)
    )


@router.delete(
    "/jobs/{job_id}/questions/{question_id}",
    response=responses({204: None}, 403, 404),
    summary="Remove a screening question",
    description="204. The apply form stops asking it; answers already given stay on their applications, with "
    f"`question_id` null. {ACCESS}",
)
def delete_question(request: HttpRequest, job_id: str, question_id: str) -> Status:
    services.job_question_delete(actor=request.auth, question=_question(request, job_id, question_id))
    return Status(204, None)


@router.post(
    "/jobs/{job_id}/questions/{question_id}/move",
    response=responses({200: JobQuestionPage}, 400, 403, 404, 422),
    summary="Reorder a screening question",
    description="Swaps the question with the one before (`up`) or after (`down`) it and answers the job's "
    "questions in their new order, positions renumbered from 0. Moving the first question up, or the last down, "
    f"answers 422 on `direction`. {ACCESS} " + IDEMPOTENCY,
)
@idempotent
def move_question(request: HttpRequest, job_id: str, question_id: str, payload: QuestionMoveIn) -> dict[str, Any]:
    question = _question(request, job_id, question_id)
    questions = services.job_question_move(actor=request.auth, question=question, direction=payload.direction)
    return {"items": questions, "next_cursor": None}


@router.get(
    "/applications/{application_id}/answers",
    response=responses({200: ScreeningAnswerPage}, 404),
    summary="An application's screening answers",
    tags=["Applications", "Screening questions"],
    description="The answers given on the apply form, in the order asked, each with the question's wording as the "
    "applicant saw it and `knocked_out` when it is the question's knock-out answer. At most one answer per "
    'question, so the list is one page (`"next_cursor": null`). Whoever can see the application can read them; '
    "outside the caller's scope it is 404.",
)
def list_answers(request: HttpRequest, application_id: str) -> dict[str, Any]:
    application = application_get_for_user(user=request.auth, application_id=path_id(application_id))
    return {"items": application_screening(application_id=application.pk), "next_cursor": None}
