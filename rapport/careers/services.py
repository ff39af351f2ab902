"""Writes of the career site: an application from the public form, a talent community sign-up, and form statistics.

Visitors are not users, so these services check their input themselves and act with no actor; the timeline shows
the person (not a team member) as the origin of what they did. The team's side is the set-up of each job's
screening questions (`job_question_*`), which acts for a signed-in user and checks their capability.
"""

import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from rapport.accounts.models import User
from rapport.accounts.permissions import Capability, ensure
from rapport.candidates.models import (
    Attachment,
    AttachmentKind,
    Candidate,
    CandidateEmail,
    CandidatePhone,
    PoolMembership,
    TalentPool,
)
from rapport.candidates.services import candidate_clean, candidate_create, candidate_update
from rapport.candidates.uploads import DOCX, PDF, UploadRule, attachment_store, upload_type
from rapport.careers.models import ApplyFormStat, JobQuestion, QuestionKind, ScreeningAnswer
from rapport.common.errors import Duplicate, FieldErrors, ValidationFailed
from rapport.jobs.models import Job, JobStatus
from rapport.messaging.models import MessageTemplate, TemplateCategory
from rapport.pipeline.models import Application
from rapport.pipeline.services import application_create
from rapport.privacy.services import consent_record
from rapport.timeline.services import activity_record, audit_record

logger = logging.getLogger(__name__)

ACKNOWLEDGEMENT_TEMPLATE = "Application received"
TALENT_COMMUNITY_POOL = "Talent community"
INTEREST_TAG_PREFIX = "interest:"
MAX_INTERESTS = 10
MAX_ANSWER = 2_000
MAX_QUESTION = 300
MAX_CHOICE = 200
MAX_CHOICES = 20
MAX_QUESTIONS = 30
RESUME_RULE = UploadRule(
    types={"pdf": PDF, "docx": DOCX},
    field="resume",
    refusal="Upload your résumé as a PDF or a Word (.docx) file.",
)
# Used when the organisation has no "Application received" template of its own.
FALLBACK_SUBJECT = "We received your application for {{ job.title }}"
FALLBACK_BODY = (
    "Hi {{ candidate.first_name }},\n\n"
    "Thank you for applying for {{ job.title }} at {{ company.name }}. We have your application and will read it "
    "carefully. We will write to you as soon as we have news.\n\n"
    "Best wishes,\n{{ company.name }}"
)


def resume_type(upload: UploadedFile) -> str:
    """ "pdf" or "docx", judged by the file's contents (never its name); raises ValidationFailed on "resume"."""
    return upload_type(upload, rule=RESUME_RULE)


def _person_fields(data: dict[str, Any], errors: FieldErrors, *, require_last_name: bool = False) -> dict[str, Any]:
    """Name, email, phone and links checked by the people rules, with errors named as the form names them."""
    email = str(data.get("email") or "").strip()
    phone = str(data.get("phone") or "").strip()
    raw = {
        "first_name": data.get("first_name") or "",
        "last_name": data.get("last_name") or "",
        "emails": [email] if email else [],
        "phones": [phone] if phone else [],
        "links": [link for link in data.get("links") or [] if str(link).strip()],
    }
    if not email:
        errors.add("email", "We need your email address to reply to you.")
    if require_last_name and not str(data.get("last_name") or "").strip():
        errors.add("last_name", "A last name is required.")
    try:
        return candidate_clean(raw)
    except ValidationFailed as exc:
        renamed = {"emails": "email", "phones": "phone"}
        for field, messages in exc.fields.items():
            for message in messages:
                errors.add(renamed.get(field, field), message)
        return {}


def _consent_check(consent: Any, errors: FieldErrors) -> None:
    if consent is not True:
        errors.add("consent", "Please agree to the privacy notice so that we may keep your details.")


def _find_person(email: str) -> Candidate | None:
    row = CandidateEmail.objects.filter(email=email).select_related("candidate").first()
    if row is None or row.candidate.erased_at is not None:
        return None
    return row.candidate


def _fill_blanks(candidate: Candidate, fields: dict[str, Any]) -> None:
    """Add what the person told us where the record has nothing; never overwrite what the team has."""
    changes: dict[str, Any] = {}
    if not candidate.last_name and fields.get("last_name"):
        changes["last_name"] = fields["last_name"]
    phones = fields.get("phones") or []
    if phones and not candidate.phones.exists() and not CandidatePhone.objects.filter(phone__in=phones).exists():
        changes["phones"] = phones
    new_links = [link for link in fields.get("links") or [] if link not in (candidate.links or [])]
    if new_links:
        changes["links"] = [*(candidate.links or []), *new_links][:20]
    if changes:
        candidate_update(actor=None, candidate=candidate, data=changes)


def _create_person(fields: dict[str, Any], *, source: str, status: str | None = None) -> Candidate:
    data: dict[str, Any] = {
        "first_name": fields["first_name"],
        "last_name": fields.get("last_name", ""),
        "emails": fields["emails"],
        "links": fields.get("links") or [],
        "source": source,
    }
    if status:
        data["relationship_status"] = status
    phones = fields.get("phones") or []
    # A phone that is someone else's record stays out: one number must not join two people.
    if phones and not CandidatePhone.objects.filter(phone__in=phones).exists():
        data["phones"] = phones
    return candidate_create(actor=None, data=data, check_permission=False)


def _person_for(fields: dict[str, Any], *, source: str) -> tuple[Candidate, bool]:
    """The person with this email (their record filled in), or a new one; True when new."""
    existing = _find_person(fields["emails"][0])
    if existing is not None:
        _fill_blanks(existing, fields)
        return existing, False
    try:
        with transaction.atomic():
            return _create_person(fields, source=source), True
    except Duplicate:
        # The same address arrived twice at once: the first request's person is this person.
        existing = _find_person(fields["emails"][0])
        if existing is None:
            raise
        return existing, False


def _bump(*, job_id: int, source: str, field: str) -> None:
    day = timezone.localdate()
    rows = ApplyFormStat.objects.filter(job_id=job_id, source=source, day=day)
    if rows.update(**{field: F(field) + 1}):
        return
    try:
        with transaction.atomic():
            ApplyFormStat.objects.create(job_id=job_id, source=source, day=day, **{field: 1})
    except IntegrityError:
        rows.update(**{field: F(field) + 1})


def apply_form_started(*, job: Job, source: str) -> None:
    """Count one visitor opening a job's apply form (the view counts each visitor once per job)."""
    _bump(job_id=job.pk, source=source, field="started")


def question_field(question: JobQuestion) -> str:
    """The form field of a screening question, which is also the name its errors are reported under."""
    return f"question_{question.pk}"


def _screening_answers(job: Job, answers: dict[str, Any], errors: FieldErrors) -> list[ScreeningAnswer]:
    """Check the answers to the job's questions; unsaved rows, each marked when it is the knock-out answer."""
    rows: list[ScreeningAnswer] = []
    for question in JobQuestion.objects.filter(job=job):
        field = question_field(question)
        answer = str(answers.get(field) or "").strip()
        if not answer:
            if question.required:
                errors.add(field, "Please answer this question.")
            continue
        if question.kind != QuestionKind.TEXT and answer not in question.options:
            errors.add(field, "Choose one of the options.")
            continue
        if len(answer) > MAX_ANSWER:
            errors.add(field, f"Use at most {MAX_ANSWER:,} characters.")
            continue
        knockout = question.knockout_answer.strip().lower()
        rows.append(
            ScreeningAnswer(
                question=question,
                question_text=question.text,
                answer=answer,
                knocked_out=bool(knockout) and answer.lower() == knockout,
            )
        )
    return rows


@dataclass(frozen=True)
class ApplyOutcome:
    candidate: Candidate
    application: Application
    created_person: bool
    already_applied: bool


def _save_resume(*, candidate: Candidate, upload: UploadedFile) -> Attachment:
    attachment = attachment_store(
        candidate=candidate,
        upload=upload,
        rule=RESUME_RULE,
        kind=AttachmentKind.RESUME,
        uploaded_by=None,
        default_stem="resume",
    )
    activity_record(
        type="document.uploaded",
        candidate=candidate,
        payload={"attachment_id": attachment.pk, "name": attachment.original_name, "kind": AttachmentKind.RESUME},
    )
    return attachment


def application_submit(
    *,
    job: Job,
    data: dict[str, Any],
    resume: UploadedFile | None,
    consent: Any,
    source: str = "",
    answers: dict[str, Any] | None = None,
) -> ApplyOutcome:
    """A visitor applies to an open job: the person is found by email or created, with their résumé and consent.

    `answers` maps each screening question's field name (`question_<id>`) to the answer. All or nothing: any error
    leaves no person, application or file behind. Applying again to the same job makes no second application and
    says so. The acknowledgement email is queued once the application is committed.
    """
    errors = FieldErrors()
    fields = _person_fields(data, errors, require_last_name=True)
    screening = _screening_answers(job, answers or {}, errors)
    if resume is None:
        errors.add("resume", "Attach your résumé (PDF or Word .docx).")
    else:
        errors.capture(resume_type, resume)
    _consent_check(consent, errors)
    errors.raise_if_any()
    source = source or "careers"

    with transaction.atomic():
        # Lock the job row so a job closed a moment ago does not take new applications.
        still_open = Job.objects.select_for_update().filter(pk=job.pk, status=JobStatus.OPEN)
        if still_open.values_list("pk", flat=True).first() is None:
            raise ValidationFailed.single("job", "This job is no longer open.")
        candidate, created = _person_for(fields, source=source)
        previous = Application.objects.filter(candidate=candidate, job=job).select_related("job").first()
        if previous is not None:
            return ApplyOutcome(candidate=candidate, application=previous, created_person=False, already_applied=True)
        application = application_create(
            actor=None, candidate=candidate, job=job, source=source[:50], check_permission=False
        )
        for row in screening:
            row.application = application
        ScreeningAnswer.objects.bulk_create(screening)
        consent_record(
            candidate=candidate,
            purpose="recruitment",
            source="careers apply",
            notice_version=settings.RAPPORT_PRIVACY_NOTICE_VERSION,
            retention_days=settings.RAPPORT_PRIVACY_RETENTION_DAYS,
        )
        _bump(job_id=job.pk, source=source, field="submitted")
        # Last, so a failure before it leaves no file on disk; the upload is only saved with its row.
        _save_resume(candidate=candidate, upload=resume)
        application_id = application.pk
        # Robust: the application is saved by then, so a failing email must not turn the visitor's answer into an error.
        transaction.on_commit(lambda: application_acknowledge(application_id=application_id), robust=True)
    return ApplyOutcome(candidate=candidate, application=application, created_person=created, already_applied=False)


def _acknowledgement_template() -> MessageTemplate | None:
    return MessageTemplate.objects.filter(
        name__iexact=ACKNOWLEDGEMENT_TEMPLATE, channel="email", category=TemplateCategory.APPLICATION
    ).first()


def application_acknowledge(*, application_id: int) -> None:
    """Queue the "we received your application" email; a person we must not email simply gets none."""
    from rapport.messaging.services_automated import message_send_automated

    application = (
        Application.objects.select_related("candidate", "job", "job__recruiter", "stage")
        .filter(pk=application_id)
        .first()
    )
    if application is None:
        return
    template = _acknowledgement_template()
    try:
        message_send_automated(
            candidate=application.candidate,
            template=template,
            subject="" if template else FALLBACK_SUBJECT,
            body="" if template else FALLBACK_BODY,
            application=application,
            sender=application.job.recruiter,
        )
    except ValidationFailed as exc:
        # Suppressed, do-not-contact, or a template the team broke: the application stands, the email is skipped.
        logger.warning("No acknowledgement for application %s: %s", application_id, exc.message)


@dataclass(frozen=True)
class JoinOutcome:
    candidate: Candidate
    created_person: bool


def _pool() -> TalentPool:
    pool = TalentPool.objects.filter(name__iexact=TALENT_COMMUNITY_POOL).first()
    if pool is not None:
        return pool
    try:
        with transaction.atomic():
            return TalentPool.objects.create(
                name=TALENT_COMMUNITY_POOL, description="People who asked to hear about future jobs (career site)."
            )
    except IntegrityError:
        return TalentPool.objects.get(name__iexact=TALENT_COMMUNITY_POOL)


def talent_community_join(
    *, data: dict[str, Any], interests: list[str], allowed_interests: list[str], consent: Any
) -> JoinOutcome:
    """Someone asks to hear about future jobs: a lead (or the existing person) joins the talent community pool.

    Interests become tags "interest:<name>", so the team can filter and build segments on them like any tag.
    """
    errors = FieldErrors()
    fields = _person_fields({**data, "phone": "", "links": []}, errors)
    allowed = {name.lower(): name for name in allowed_interests}
    chosen: list[str] = []
    for interest in interests[: MAX_INTERESTS + 1]:
        name = allowed.get(str(interest).strip().lower())
        if name is None:
            errors.add("interests", "Choose interests from the list.")
            break
        if name not in chosen:
            chosen.append(name)
    if len(chosen) > MAX_INTERESTS:
        errors.add("interests", f"Choose at most {MAX_INTERESTS}.")
    _consent_check(consent, errors)
    errors.raise_if_any()

    with transaction.atomic():
        candidate, created = _person_for(fields, source="talent community")
        wanted = [f"{INTEREST_TAG_PREFIX}{name}"[:50] for name in chosen]
        current = list(candidate.candidate_tags.values_list("tag__name", flat=True))
        missing = [tag for tag in wanted if tag.lower() not in {c.lower() for c in current}]
        if missing:
            candidate_update(actor=None, candidate=candidate, data={"tags": [*current, *missing]})
        pool = _pool()
        _, joined = PoolMembership.objects.get_or_create(
            pool=pool, candidate=candidate, defaults={"reason": "Joined from the career site"}
        )
        if joined:
            activity_record(
                type="pool.added",
                candidate=candidate,
                payload={"pool_id": pool.pk, "pool": pool.name, "reason": "Joined from the career site"},
            )
        consent_record(
            candidate=candidate,
            purpose="talent_community",
            source="talent community",
            notice_version=settings.RAPPORT_PRIVACY_NOTICE_VERSION,
            retention_days=settings.RAPPORT_PRIVACY_RETENTION_DAYS,
        )
    return JoinOutcome(candidate=candidate, created_person=created)


# --- screening questions (the team's side) --------------------------------------------------------------------------


def _choice_lines(raw: Any) -> list[str]:
    """Choices given as text (one per line, as the form sends them) or as a list (as the API would)."""
    lines = raw.splitlines() if isinstance(raw, str) else [str(item) for item in raw or []]
    cleaned: list[str] = []
    for line in lines:
        text = " ".join(line.split())
        if text and text.lower() not in {c.lower() for c in cleaned}:
            cleaned.append(text)
    return cleaned


def _question_clean(data: dict[str, Any]) -> dict[str, Any]:
    """The question's fields checked together, so every mistake is named at once; raises ValidationFailed."""
    errors = FieldErrors()
    text = " ".join(str(data.get("text") or "").split())
    if not text:
        errors.add("text", "Write the question.")
    elif len(text) > MAX_QUESTION:
        errors.add("text", f"Use at most {MAX_QUESTION} characters.")
    kind = str(data.get("kind") or "")
    if kind not in QuestionKind.values:
        errors.add("kind", f"Choose one of: {', '.join(QuestionKind.values)}.")
    choices: list[str] = []
    if kind == QuestionKind.CHOICE:
        choices = _choice_lines(data.get("choices"))
        if len(choices) < 2:
            errors.add("choices", "Give at least two choices, one per line.")
        elif len(choices) > MAX_CHOICES:
            errors.add("choices", f"Give at most {MAX_CHOICES} choices.")
        elif any(len(choice) > MAX_CHOICE for choice in choices):
            errors.add("choices", f"Keep each choice to {MAX_CHOICE} characters.")
    knockout = " ".join(str(data.get("knockout_answer") or "").split())
    if knockout:
        # Applicants' answers are compared without regard to case, so the stored value takes the option's own case.
        options = {"yes": "yes", "no": "no"} if kind == QuestionKind.YES_NO else {c.lower(): c for c in choices}
        if kind == QuestionKind.TEXT:
            errors.add("knockout_answer", "A free-text question cannot have a knock-out answer; use yes/no or choice.")
        elif kind in QuestionKind.values and knockout.lower() not in options:
            if kind == QuestionKind.YES_NO:
                errors.add("knockout_answer", "The knock-out answer of a yes/no question is “yes” or “no”.")
            else:
                errors.add("knockout_answer", "The knock-out answer must be one of the choices.")
        else:
            knockout = options.get(knockout.lower(), knockout)
    errors.raise_if_any()
    return {
        "text": text,
        "kind": kind,
        "choices": choices,
        "required": bool(data.get("required")),
        "knockout_answer": knockout,
    }


def _question_audit(question: JobQuestion) -> dict[str, Any]:
    return {
        "job_id": question.job_id,
        "text": question.text,
        "kind": question.kind,
        "choices": question.choices,
        "required": question.required,
        "knockout_answer": question.knockout_answer,
    }


@transaction.atomic
def job_question_create(*, actor: User, job: Job, data: dict[str, Any]) -> JobQuestion:
    """Add a screening question at the end of the job's apply form."""
    ensure(actor, Capability.MANAGE_JOBS)
    fields = _question_clean(data)
    # Lock the job so two people adding at once do not take the same position.
    Job.objects.select_for_update().filter(pk=job.pk).values_list("pk", flat=True).first()
    existing = list(JobQuestion.objects.filter(job=job).values_list("position", flat=True))
    if len(existing) >= MAX_QUESTIONS:
        raise ValidationFailed.single("text", f"A job asks at most {MAX_QUESTIONS} questions; remove one first.")
    question = JobQuestion.objects.create(job=job, position=max(existing, default=-1) + 1, **fields)
    audit_record(
        actor=actor,
        action="create",
        object_type="job_question",
        object_id=question.pk,
        changes=_question_audit(question),
    )
    return question


@transaction.atomic
def job_question_update(*, actor: User, question: JobQuestion, data: dict[str, Any]) -> JobQuestion:
    """Change a question; answers already given keep the wording the applicant saw.

    Fields left out of `data` keep their values (as an API PATCH sends only what changes), and the whole question
    is checked again, since one change can make another field wrong (a knock-out answer on a text question).
    """
    ensure(actor, Capability.MANAGE_JOBS)
    before = _question_audit(question)
    current = {name: before[name] for name in ("text", "kind", "choices", "required", "knockout_answer")}
    fields = _question_clean({**current, **data})
    for name, value in fields.items():
        setattr(question, name, value)
    question.save(update_fields=list(fields))
    after = _question_audit(question)
    changes = {name: [before[name], after[name]] for name in fields if before[name] != after[name]}
    if changes:
        audit_record(actor=actor, action="update", object_type="job_question", object_id=question.pk, changes=changes)
    return question


@transaction.atomic
def job_question_delete(*, actor: User, question: JobQuestion) -> None:
    """Remove a question from the form. Answers stay on their applications with the question's wording."""
    ensure(actor, Capability.MANAGE_JOBS)
    snapshot = _question_audit(question)
    question_id = question.pk
    question.delete()
    audit_record(actor=actor, action="delete", object_type="job_question", object_id=question_id, changes=snapshot)


@transaction.atomic
def job_question_move(*, actor: User, question: JobQuestion, direction: str) -> list[JobQuestion]:
    """Swap a question with its neighbour ("up" or "down"); returns the job's questions in their new order."""
    ensure(actor, Capability.MANAGE_JOBS)
    if direction not in ("up", "down"):
        raise ValidationFailed.single("direction", "Move a question “up” or “down”.")
    Job.objects.select_for_update().filter(pk=question.job_id).values_list("pk", flat=True).first()
    questions = list(JobQuestion.objects.filter(job_id=question.job_id).order_by("position", "id"))
    index = next(i for i, q in enumerate(questions) if q.pk == question.pk)
    target = index - 1 if direction == "up" else index + 1
    if not 0 <= target < len(questions):
        raise ValidationFailed.single("direction", f"This question is already the {'first' if target < 0 else 'last'}.")
    questions[index], questions[target] = questions[target], questions[index]
    # Positions are rewritten 0..n-1, which also mends ties left by questions added in the admin.
    for position, row in enumerate(questions):
        row.position = position
    JobQuestion.objects.bulk_update(questions, ["position"])
    audit_record(
        actor=actor,
        action="update",
        object_type="job",
        object_id=question.job_id,
        changes={"question_order": [q.pk for q in questions]},
    )
    return questions
