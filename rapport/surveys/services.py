"""Writes for surveys: configuring them, sending an invitation (by hand or by automation) and storing an answer.

`survey_send` is the one sending point: the profile's "Send survey" button and the automation triggers both call
it, so the cool-down, suppression and the timeline event are the same for both.
"""

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from rapport.accounts.models import User
from rapport.accounts.permissions import Capability, ensure
from rapport.candidates.models import Candidate
from rapport.candidates.selectors import candidate_get_for_user
from rapport.common.errors import Conflict, FieldErrors, NotFound, ValidationFailed
from rapport.messaging.selectors import primary_email
from rapport.messaging.services import _blocked_reason
from rapport.messaging.services_automated import message_send_automated
from rapport.pipeline.models import Application
from rapport.surveys.links import survey_link
from rapport.surveys.models import (
    QuestionKind,
    Survey,
    SurveyAnswer,
    SurveyInvitation,
    SurveyMoment,
    SurveyQuestion,
    SurveyResponse,
)
from rapport.timeline.services import activity_record, audit_record

MAX_QUESTIONS = 20
MAX_CHOICES = 12
MAX_TEXT_ANSWER = 2_000
MAX_COOLDOWN_DAYS = 730
SCORE_RANGE = {QuestionKind.CSAT: (1, 5), QuestionKind.NPS: (0, 10)}


class SurveyAlreadyAnswered(Conflict):
    code = "already_answered"

    def __init__(self) -> None:
        super().__init__("This survey was already answered. Thank you!")


# --- configuration --------------------------------------------------------------------------------------------------


def _clean_questions(raw: Any, errors: FieldErrors) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not raw:
        errors.add("questions", "Add at least one question.")
        return []
    if len(raw) > MAX_QUESTIONS:
        errors.add("questions", f"A survey has at most {MAX_QUESTIONS} questions; short surveys get answered.")
        return []
    cleaned = []
    for number, item in enumerate(raw, start=1):
        item = item if isinstance(item, dict) else {}
        kind = str(item.get("kind") or "")
        text = " ".join(str(item.get("text") or "").split())
        choices = [" ".join(str(c).split())[:120] for c in item.get("choices") or [] if str(c).strip()]
        if kind not in QuestionKind.values:
            errors.add("questions", f"Question {number}: the kind must be one of {', '.join(QuestionKind.values)}.")
            continue
        if not text or len(text) > 300:
            errors.add("questions", f"Question {number}: write the question (up to 300 characters).")
            continue
        if kind == QuestionKind.CHOICE and not 2 <= len(set(choices)) <= MAX_CHOICES:
            errors.add("questions", f"Question {number}: a choice question needs 2 to {MAX_CHOICES} different options.")
            continue
        cleaned.append(
            {
                "kind": kind,
                "text": text,
                "required": bool(item.get("required", True)),
                "choices": list(dict.fromkeys(choices)) if kind == QuestionKind.CHOICE else [],
            }
        )
    return cleaned


def _clean(data: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    errors = FieldErrors()
    name = " ".join(str(data.get("name") or "").split())
    if not name:
        errors.add("name", "Give the survey a name.")
    elif len(name) > 120:
        errors.add("name", "Keep the name under 120 characters.")
    moment = data.get("moment") or SurveyMoment.AFTER_INTERVIEW
    if moment not in SurveyMoment.values:
        errors.add("moment", "Choose when the survey is sent.")
    try:
        cooldown = int(data.get("cooldown_days", 90))
    except (TypeError, ValueError):
        cooldown = -1
    if not 0 <= cooldown <= MAX_COOLDOWN_DAYS:
        errors.add("cooldown_days", f"Give a number of days from 0 to {MAX_COOLDOWN_DAYS}.")
    questions = _clean_questions(data.get("questions"), errors)
    errors.raise_if_any()
    fields = {
        "name": name,
        "intro": str(data.get("intro") or "").strip()[:2000],
        "moment": moment,
        "anonymous": bool(data.get("anonymous")),
        "cooldown_days": cooldown,
        "is_active": bool(data.get("is_active", True)),
    }
    return fields, questions


def _write_questions(survey: Survey, questions: list[dict[str, Any]]) -> None:
    SurveyQuestion.objects.bulk_create(
        SurveyQuestion(survey=survey, position=position, **question) for position, question in enumerate(questions)
    )


def _current_questions(survey: Survey) -> list[dict[str, Any]]:
    return [
        {"kind": q.kind, "text": q.text, "required": q.required, "choices": list(q.choices)}
        for q in survey.questions.order_by("position", "id")
    ]


@transaction.atomic
def survey_create(*, actor: User, data: dict[str, Any]) -> Survey:
    ensure(actor, Capability.MANAGE_TEMPLATES)
    fields, questions = _clean(data)
    survey = Survey.objects.create(**fields)
    _write_questions(survey, questions)
    audit_record(actor=actor, action="create", object_type="survey", object_id=survey.pk, changes={"name": survey.name})
    return survey


@transaction.atomic
def survey_update(*, actor: User, survey: Survey, data: dict[str, Any]) -> Survey:
    """Change a survey. Once it has answers its questions are fixed, so earlier results keep their meaning."""
    ensure(actor, Capability.MANAGE_TEMPLATES)
    fields, questions = _clean(data)
    survey = Survey.objects.select_for_update().get(pk=survey.pk)
    questions_changed = questions != _current_questions(survey)
    if questions_changed and survey.responses.exists():
        raise ValidationFailed.single(
            "questions", "This survey has answers, so its questions can no longer change. Create a new survey instead."
        )
    changes = {name: value for name, value in fields.items() if getattr(survey, name) != value}
    for name, value in fields.items():
        setattr(survey, name, value)
    survey.updated_at = timezone.now()
    survey.save()
    if questions_changed:
        survey.questions.all().delete()
        _write_questions(survey, questions)
        changes["questions"] = len(questions)
    audit_record(actor=actor, action="update", object_type="survey", object_id=survey.pk, changes=changes)
    return survey


# --- sending --------------------------------------------------------------------------------------------------------


def survey_recently_sent(*, candidate: Candidate, days: int) -> SurveyInvitation | None:
    """The person's latest invitation within `days`, which holds back another one."""
    if days <= 0:
        return None
    since = timezone.now() - timedelta(days=days)
    return candidate.survey_invitations.filter(sent_at__gte=since).order_by("-sent_at").first()


def _email_text(survey: Survey, link: str) -> tuple[str, str]:
    # Names and intros are written by recruiters; the message body is a template, so braces must not reach it.
    name = survey.name.replace("{", "(").replace("}", ")")
    intro = survey.intro.replace("{", "(").replace("}", ")")
    subject = f"A quick question about your experience: {name}"
    body = (
        "Hello,\n\n"
        + (f"{intro}\n\n" if intro else "")
        + "We would love to hear how it went. The survey takes about a minute"
        + (" and your answers are anonymous" if survey.anonymous else "")
        + ".\n\n"
        + f"[Answer the survey]({link})\n\nThank you!"
    )
    return subject, body


@transaction.atomic
def survey_send(
    *,
    survey: Survey,
    candidate: Candidate,
    application: Application | None = None,
    actor: User | None = None,
    reason: str = "",
) -> SurveyInvitation | None:
    """Email one person a signed link to `survey`; None (and nothing sent) when they must not get one now.

    Nothing is sent when the survey is switched off, the person got any survey within the survey's cool-down
    (90 days by default), or they cannot be emailed (no address, suppressed, do not contact, erased). With an
    `actor` (sent by hand) their role and scope are checked; automation passes none.
    """
    if actor is not None:
        ensure(actor, Capability.SEND_MESSAGES)
        candidate_get_for_user(user=actor, candidate_id=candidate.pk)
    if application is not None and application.candidate_id != candidate.pk:
        raise NotFound("No such application.")
    if not survey.is_active:
        return None
    # Lock the person, so two triggers firing at once cannot both pass the cool-down check.
    candidate = Candidate.objects.select_for_update().get(pk=candidate.pk)
    if survey_recently_sent(candidate=candidate, days=survey.cooldown_days) is not None:
        return None
    address = primary_email(candidate)
    if not address or _blocked_reason(candidate=candidate, address=address, channel="email"):
        return None
    now = timezone.now()
    invitation = SurveyInvitation.objects.create(
        survey=survey,
        candidate=candidate,
        application=application,
        job=application.job if application is not None else None,
        stage_name=application.stage.name if application is not None else "",
        reason=reason[:200],
        sent_by=actor,
        sent_at=now,
    )
    subject, body = _email_text(survey, survey_link(invitation.pk))
    invitation.message = message_send_automated(
        candidate=candidate, subject=subject, body=body, application=application, sender=actor
    )
    invitation.save(update_fields=["message"])
    activity_record(
        type="survey.sent",
        candidate=candidate,
        application=application,
        job=invitation.job,
        actor=actor,
        occurred_at=now,
        payload={
            "survey_id": survey.pk,
            "survey": survey.name,
            "invitation_id": invitation.pk,
            "anonymous": survey.anonymous,
            "reason": invitation.reason,
            "automated": actor is None,
        },
    )
    return invitation


# --- answering ------------------------------------------------------------------------------------------------------


def _clean_answers(survey: Survey, raw: dict[str, Any]) -> list[tuple[SurveyQuestion, dict[str, Any]]]:
    errors = FieldErrors()
    cleaned = []
    for question in survey.questions.order_by("position", "id"):
        field = f"q{question.pk}"
        value = str(raw.get(field) or "").strip()
        if not value:
            if question.required:
                errors.add(field, "Please answer this question.")
            continue
        if question.kind in SCORE_RANGE:
            low, high = SCORE_RANGE[question.kind]
            if not value.isdigit() or not low <= int(value) <= high:
                errors.add(field, f"Choose a score from {low} to {high}.")
                continue
            cleaned.append((question, {"score": int(value)}))
        elif question.kind == QuestionKind.CHOICE:
            if value not in question.choices:
                errors.add(field, "Choose one of the options.")
                continue
            cleaned.append((question, {"choice": value}))
        else:
            text = "".join(ch for ch in value.replace("\r\n", "\n") if ch in "\n\t" or ch.isprintable())
            if len(text) > MAX_TEXT_ANSWER:
                errors.add(field, f"Keep this under {MAX_TEXT_ANSWER} characters.")
                continue
            cleaned.append((question, {"text": text}))
    errors.raise_if_any()
    return cleaned


@transaction.atomic
def survey_answer(*, invitation: SurveyInvitation, answers: dict[str, Any]) -> SurveyResponse:
    """Store the answers to one invitation, once. `answers` maps `q<question id>` to what was entered."""
    survey = invitation.survey
    cleaned = _clean_answers(survey, answers)
    now = timezone.now()
    # The conditional update is the "once": of two submissions racing, only one changes the row.
    if not SurveyInvitation.objects.filter(pk=invitation.pk, answered_at__isnull=True).update(answered_at=now):
        raise SurveyAlreadyAnswered()
    if survey.anonymous:
        day = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
        response = SurveyResponse.objects.create(
            survey=survey, job=invitation.job, stage_name=invitation.stage_name, submitted_at=day
        )
    else:
        response = SurveyResponse.objects.create(
            survey=survey,
            invitation=invitation,
            candidate=invitation.candidate,
            job=invitation.job,
            stage_name=invitation.stage_name,
            submitted_at=now,
        )
    SurveyAnswer.objects.bulk_create(SurveyAnswer(response=response, question=q, **value) for q, value in cleaned)
    payload: dict[str, Any] = {"survey_id": survey.pk, "survey": survey.name, "anonymous": survey.anonymous}
    if not survey.anonymous:
        payload["response_id"] = response.pk
        payload["scores"] = {q.text: value["score"] for q, value in cleaned if "score" in value}
    activity_record(
        type="survey.answered",
        candidate=invitation.candidate,
        # An anonymous answer names no application, so it cannot be tied to a stage of this person's process.
        application=None if survey.anonymous else invitation.application,
        job=None if survey.anonymous else invitation.job,
        occurred_at=day if survey.anonymous else now,
        payload=payload,
    )
    return response
