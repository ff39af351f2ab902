"""API: surveys and their results (read only; surveys are configured in the workspace)."""

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from rapport.api.schemas import Id, PageParams, keyset_page, listing, path_id, responses
from rapport.surveys.models import Survey
from rapport.surveys.selectors import ResultFilters, survey_get_for_user, survey_list, survey_results

router = Router(tags=["Surveys"])

ACCESS = "Admins and recruiters see every survey; other roles get an empty list and 404 for a survey."


class QuestionOut(Schema):
    id: str
    kind: str = Field(..., description="`csat` (1–5), `nps` (0–10), `text` or `choice`.")
    text: str
    required: bool
    choices: list[str]


class SurveyOut(Schema):
    id: str
    name: str
    moment: str = Field(..., description="`after_applying`, `after_interview` or `after_decision`.")
    anonymous: bool
    cooldown_days: int
    is_active: bool
    questions: list[QuestionOut]
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_id(obj: Survey) -> str:
        return str(obj.pk)

    @staticmethod
    def resolve_questions(obj: Survey) -> list[dict[str, Any]]:
        return [
            {"id": str(q.pk), "kind": q.kind, "text": q.text, "required": q.required, "choices": list(q.choices)}
            for q in obj.questions.all()
        ]


class SurveyPage(Schema):
    items: list[SurveyOut]
    next_cursor: str | None


class Bucket(Schema):
    value: str
    count: int


class QuestionResultOut(Schema):
    question_id: str
    kind: str
    text: str
    count: int = Field(..., description="How many answered this question.")
    average: float | None = Field(None, description="CSAT and NPS: the mean score.")
    nps: int | None = Field(None, description="NPS only: % promoters (9–10) minus % detractors (0–6).")
    promoters: int | None = None
    passives: int | None = None
    detractors: int | None = None
    distribution: list[Bucket] = Field(..., description="Count per score or option; empty for text.")
    texts: list[str] = Field(..., description="Text only: the latest 50 answers.")


class ResultsOut(Schema):
    survey_id: str
    responses: int
    job_id: str | None
    stage: str | None
    questions: list[QuestionResultOut]


class ResultParams(Schema):
    job_id: Id | None = Field(None, description="Only answers about this job.")
    stage: str | None = Field(None, description="Only answers sent at this stage (its name).")


@router.get(
    "/surveys",
    response=responses({200: SurveyPage}, 400),
    summary="List surveys",
    description=listing(f"Surveys with their questions, newest first. {ACCESS}"),
)
def list_surveys(request: HttpRequest, params: Query[PageParams]) -> dict[str, Any]:
    qs = survey_list(user=request.auth).prefetch_related("questions")
    items, next_cursor = keyset_page(qs, limit=params.limit, cursor=params.cursor)
    return {"items": items, "next_cursor": next_cursor}


@router.get(
    "/surveys/{survey_id}/results",
    response=responses({200: ResultsOut}, 404, 422),
    summary="Survey results",
    description="Aggregated answers per question, optionally for one job and/or stage: CSAT average and "
    "distribution, NPS with promoters, passives and detractors, choice counts and the latest free-text answers. "
    f"Anonymous surveys give the same aggregates; no answer names a person. {ACCESS}",
)
def get_results(request: HttpRequest, survey_id: str, params: Query[ResultParams]) -> dict[str, Any]:
    survey = survey_get_for_user(user=request.auth, survey_id=path_id(survey_id))
    filters = ResultFilters(job_id=params.job_id, stage=(params.stage or "").strip()[:60])
    results = survey_results(survey=survey, filters=filters)
    questions = []
    for q in results.questions:
        scored = q.kind in ("csat", "nps")
        questions.append(
            {
                "question_id": str(q.id),
                "kind": q.kind,
                "text": q.text,
                "count": q.count,
                "average": q.average if scored else None,
                "nps": q.nps,
                "promoters": q.promoters if q.kind == "nps" else None,
                "passives": q.passives if q.kind == "nps" else None,
                "detractors": q.detractors if q.kind == "nps" else None,
                "distribution": [{"value": label, "count": count} for label, count in q.distribution],
                "texts": q.texts,
            }
        )
    return {
        "survey_id": str(survey.pk),
        "responses": results.responses,
        "job_id": str(filters.job_id) if filters.job_id else None,
        "stage": filters.stage or None,
        "questions": questions,
    }
