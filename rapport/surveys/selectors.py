"""Reads for surveys: scoped lookups, the invitation a link names, and the results with their filters.

Surveys and their results are for admins and recruiters (the people who configure candidate communication); for
other roles the list is empty and a survey is "not found", like templates and pools.
"""

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, QuerySet

from rapport.accounts.models import User
from rapport.accounts.permissions import Capability, can
from rapport.api.schemas import parse_id
from rapport.common.errors import NotFound
from rapport.jobs.models import Job
from rapport.surveys.links import survey_token_read
from rapport.surveys.models import QuestionKind, Survey, SurveyAnswer, SurveyInvitation, SurveyResponse

TEXT_ANSWERS_SHOWN = 50


def surveys_visible_to(user: User) -> QuerySet[Survey]:
    if not can(user, Capability.MANAGE_TEMPLATES):
        return Survey.objects.none()
    return Survey.objects.all()


def survey_list(*, user: User) -> QuerySet[Survey]:
    return surveys_visible_to(user).annotate(response_count=Count("responses", distinct=True)).order_by("name", "id")


def survey_get_for_user(*, user: User, survey_id: Any) -> Survey:
    try:
        pk = parse_id(survey_id)
    except (TypeError, ValueError):
        raise NotFound("No such survey.")
    survey = surveys_visible_to(user).filter(pk=pk).first()
    if survey is None:
        raise NotFound("No such survey.")
    return survey


def surveys_to_send() -> QuerySet[Survey]:
    return Survey.objects.filter(is_active=True).order_by("name", "id")


def survey_for_moment(moment: str) -> Survey | None:
    """The active survey meant for a moment ("after_interview"…), for automation triggers to pass to `survey_send`."""
    return Survey.objects.filter(is_active=True, moment=moment).order_by("id").first()


def invitation_for_token(token: str) -> SurveyInvitation:
    """The invitation a signed link names; NotFound when the link is forged, expired or the person erased."""
    invitation_id = survey_token_read(token)
    invitation = (
        SurveyInvitation.objects.select_related("survey", "candidate", "job")
        .filter(pk=invitation_id, candidate__erased_at__isnull=True)
        .first()
        if invitation_id is not None
        else None
    )
    if invitation is None:
        raise NotFound("This survey link is not valid or has expired.")
    return invitation


@dataclass(frozen=True)
class ResultFilters:
    job_id: int | None = None
    stage: str = ""

    @classmethod
    def from_query(cls, query: Any) -> "ResultFilters":
        raw_job = query.get("job") or query.get("job_id") or ""
        try:
            job_id = parse_id(raw_job) if raw_job else None
        except ValueError:
            job_id = None
        return cls(job_id=job_id, stage=str(query.get("stage") or "").strip()[:60])


@dataclass
class QuestionResult:
    id: int
    kind: str
    text: str
    count: int = 0
    average: float | None = None
    nps: int | None = None
    promoters: int = 0
    passives: int = 0
    detractors: int = 0
    distribution: list[tuple[str, int]] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)


@dataclass
class SurveyResults:
    survey: Survey
    filters: ResultFilters
    responses: int
    questions: list[QuestionResult]


def survey_filter_options(*, survey: Survey) -> dict[str, list[Any]]:
    """The jobs and stages that have answers, for the results filters."""
    job_ids = survey.responses.exclude(job=None).values_list("job_id", flat=True).distinct()
    stages = survey.responses.exclude(stage_name="").values_list("stage_name", flat=True).distinct()
    return {
        "jobs": list(Job.objects.filter(pk__in=list(job_ids)).order_by("title", "id")),
        "stages": sorted(set(stages)),
    }


def _responses(survey: Survey, filters: ResultFilters) -> QuerySet[SurveyResponse]:
    qs = survey.responses.all()
    if filters.job_id is not None:
        qs = qs.filter(job_id=filters.job_id)
    if filters.stage:
        qs = qs.filter(stage_name=filters.stage)
    return qs


def survey_results(*, survey: Survey, filters: ResultFilters | None = None) -> SurveyResults:
    """Aggregates per question: CSAT average and distribution, NPS with its three groups, choice counts, texts."""
    filters = filters or ResultFilters()
    responses = _responses(survey, filters)
    answers = SurveyAnswer.objects.filter(response__in=responses)
    score_counts: dict[int, dict[int, int]] = {}
    for row in answers.exclude(score=None).values("question_id", "score").annotate(n=Count("id")):
        score_counts.setdefault(row["question_id"], {})[row["score"]] = row["n"]
    choice_counts: dict[int, dict[str, int]] = {}
    for row in answers.exclude(choice="").values("question_id", "choice").annotate(n=Count("id")):
        choice_counts.setdefault(row["question_id"], {})[row["choice"]] = row["n"]
    results = []
    for question in survey.questions.order_by("position", "id"):
        result = QuestionResult(id=question.pk, kind=question.kind, text=question.text)
        if question.kind in (QuestionKind.CSAT, QuestionKind.NPS):
            counts = score_counts.get(question.pk, {})
            low, high = (1, 5) if question.kind == QuestionKind.CSAT else (0, 10)
            result.distribution = [(str(score), counts.get(score, 0)) for score in range(low, high + 1)]
            result.count = sum(counts.values())
            if result.count:
                result.average = round(sum(s * n for s, n in counts.items()) / result.count, 2)
            if question.kind == QuestionKind.NPS:
                result.promoters = sum(n for s, n in counts.items() if s >= 9)
                result.detractors = sum(n for s, n in counts.items() if s <= 6)
                result.passives = result.count - result.promoters - result.detractors
                if result.count:
                    result.nps = round(100 * (result.promoters - result.detractors) / result.count)
        elif question.kind == QuestionKind.CHOICE:
            counts = choice_counts.get(question.pk, {})
            options = list(question.choices) + sorted(set(counts) - set(question.choices))
            result.distribution = [(option, counts.get(option, 0)) for option in options]
            result.count = sum(counts.values())
        else:
            texts = answers.filter(question=question).exclude(text="").order_by("-response__submitted_at", "-id")
            result.count = texts.count()
            result.texts = list(texts.values_list("text", flat=True)[:TEXT_ANSWERS_SHOWN])
        results.append(result)
    return SurveyResults(survey=survey, filters=filters, responses=responses.count(), questions=results)


def candidate_invitations(*, candidate_id: int) -> QuerySet[SurveyInvitation]:
    return SurveyInvitation.objects.filter(candidate_id=candidate_id).select_related("survey").order_by("-sent_at")
