"""Moving people through pipelines; each change writes its stage history and timeline event together."""

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from rapport.accounts.models import User
from rapport.accounts.permissions import Capability, can, ensure
from rapport.candidates.models import Candidate, RelationshipStatus
from rapport.common.errors import Conflict, Duplicate, NotFound, ValidationFailed
from rapport.jobs.models import Job, JobStatus, Stage, StageCategory
from rapport.pipeline.models import Application, ApplicationStatus, RejectionReason, StageTransition
from rapport.timeline.services import activity_record, audit_record

# A person in an active pipeline is an applicant, unless the relationship has gone further already.
_STATUS_AFTER_APPLYING_KEEPS = {
    RelationshipStatus.HIRED,
    RelationshipStatus.ALUMNI,
    RelationshipStatus.DO_NOT_CONTACT,
}


def _ensure_job_in_scope(actor: User, job: Job) -> None:
    from rapport.jobs.selectors import jobs_visible_to

    if not jobs_visible_to(actor).filter(pk=job.pk).exists():
        raise NotFound("No such job.")


@transaction.atomic
def application_create(
    *,
    actor: User | None,
    candidate: Candidate,
    job: Job,
    source: str = "",
    stage: Stage | None = None,
    check_permission: bool = True,
) -> Application:
    """Put a person on a job, in its first stage unless told otherwise; a second application is a duplicate."""
    if check_permission and actor is not None:
        ensure(actor, Capability.MANAGE_JOBS)
    if job.status in (JobStatus.CLOSED, JobStatus.FILLED):
        raise ValidationFailed.single(
            "job_id", f"{job.title} is {job.get_status_display().lower()}; reopen it to add people."
        )
    if candidate.erased_at:
        raise ValidationFailed.single("candidate_id", "This person's data was erased.")
    if len(source or "") > 50:
        raise ValidationFailed.single("source", "Use at most 50 characters.")
    existing = Application.objects.filter(candidate=candidate, job=job).values_list("id", flat=True).first()
    if existing:
        raise Duplicate(f"{candidate.full_name} is already on {job.title}.", existing_id=existing)
    if stage is None:
        stage = job.stages.order_by("position", "id").first()
        if stage is None:
            raise ValidationFailed.single("job_id", "This job has no stages yet; add one first.")
    elif stage.job_id != job.pk:
        raise ValidationFailed.single("stage_id", "This stage does not belong to the job.")
    now = timezone.now()
    # Straight into a Hired stage (recording a past hire) is a hire, as a move there would be.
    hired = stage.category == StageCategory.HIRED
    try:
        with transaction.atomic():
            application = Application.objects.create(
                candidate=candidate,
                job=job,
                stage=stage,
                source=source or candidate.source,
                status=ApplicationStatus.HIRED if hired else ApplicationStatus.ACTIVE,
                closed_at=now if hired else None,
                stage_entered_at=now,
                created_at=now,
                updated_at=now,
            )
    except IntegrityError:
        existing = Application.objects.filter(candidate=candidate, job=job).values_list("id", flat=True).first()
        raise Duplicate(f"{candidate.full_name} is already on {job.title}.", existing_id=existing or "")
    StageTransition.objects.create(application=application, from_stage=None, to_stage=stage, actor=actor, at=now)
    activity_record(
        type="application.created",
        candidate=candidate,
        application=application,
        job=job,
        actor=actor,
        occurred_at=now,
        payload={
            "job_id": job.pk,
            "job": job.title,
            "stage_id": stage.pk,
            "stage": stage.name,
            "source": application.source,
        },
    )
    if hired:
        activity_record(
            type="application.hired",
            candidate=candidate,
            application=application,
            job=job,
            actor=actor,
            occurred_at=now,
            payload={"job_id": job.pk},
        )
        Candidate.objects.filter(pk=candidate.pk).update(relationship_status=RelationshipStatus.HIRED, updated_at=now)
        candidate.relationship_status = RelationshipStatus.HIRED
    elif (
        candidate.relationship_status not in _STATUS_AFTER_APPLYING_KEEPS
        and candidate.relationship_status != RelationshipStatus.APPLICANT
    ):
        Candidate.objects.filter(pk=candidate.pk).update(
            relationship_status=RelationshipStatus.APPLICANT, updated_at=now
        )
        candidate.relationship_status = RelationshipStatus.APPLICANT
    else:
        Candidate.objects.filter(pk=candidate.pk).update(updated_at=now)
    return application


@transaction.atomic
def application_move(*, actor: User, application: Application, stage: Stage) -> Application:
    ensure(actor, Capability.MOVE_APPLICATIONS)
    _ensure_job_in_scope(actor, application.job)
    if stage.job_id != application.job_id:
        raise ValidationFailed.single("stage_id", "This stage belongs to another job.")
    if application.status != ApplicationStatus.ACTIVE:
        raise Conflict(f"This application is {application.get_status_display().lower()}; reopen it before moving it.")
    if stage.pk == application.stage_id:
        return application
    now = timezone.now()
    previous = application.stage
    application.stage = stage
    application.stage_entered_at = now
    application.updated_at = now
    payload = {
        "from_stage_id": previous.pk,
        "from_stage": previous.name,
        "to_stage_id": stage.pk,
        "to_stage": stage.name,
        "job_id": application.job_id,
        "days_in_previous_stage": (now - (_entered(application, previous) or now)).days,
    }
    if stage.category == StageCategory.HIRED:
        application.status = ApplicationStatus.HIRED
        application.closed_at = now
    application.save()
    StageTransition.objects.create(application=application, from_stage=previous, to_stage=stage, actor=actor, at=now)
    activity_record(
        type="application.stage_changed",
        candidate=application.candidate,
        application=application,
        job=application.job,
        actor=actor,
        occurred_at=now,
        payload=payload,
    )
    if stage.category == StageCategory.HIRED:
        activity_record(
            type="application.hired",
            candidate=application.candidate,
            application=application,
            job=application.job,
            actor=actor,
            occurred_at=now,
            payload={"job_id": application.job_id},
        )
        Candidate.objects.filter(pk=application.candidate_id).update(
            relationship_status=RelationshipStatus.HIRED, updated_at=now
        )
    else:
        Candidate.objects.filter(pk=application.candidate_id).update(updated_at=now)
    return application


def _entered(application: Application, stage: Stage) -> Any:
    last = application.transitions.filter(to_stage=stage).order_by("-at").values_list("at", flat=True).first()
    return last


@transaction.atomic
def application_reject(
    *,
    actor: User,
    application: Application,
    reason_id: Any = None,
    note: str = "",
    notify: bool = False,
    template_id: Any = None,
) -> Application:
    """Close the application; with `notify`, email the person a rejection template in the same transaction.

    Notifying is all or nothing: if the email cannot be written (no address, do not contact, a template that does
    not render for this person), nothing is rejected either, and the error names the field.
    """
    ensure(actor, Capability.MOVE_APPLICATIONS)
    _ensure_job_in_scope(actor, application.job)
    if application.status != ApplicationStatus.ACTIVE:
        raise Conflict(f"This application is already {application.get_status_display().lower()}.")
    reason = None
    if reason_id not in (None, ""):
        try:
            reason = RejectionReason.objects.get(pk=int(reason_id), is_active=True)
        except (RejectionReason.DoesNotExist, TypeError, ValueError):
            raise ValidationFailed.single("reason_id", "Choose one of the organisation's rejection reasons.")
    if len(note or "") > 5000:
        raise ValidationFailed.single("note", "Keep the note under 5,000 characters.")
    email_template = _rejection_email(actor=actor, template_id=template_id) if notify else None
    now = timezone.now()
    application.status = ApplicationStatus.REJECTED
    application.rejection_reason = reason
    application.rejection_note = (note or "").strip()
    application.closed_at = application.updated_at = now
    application.save()
    activity_record(
        type="application.rejected",
        candidate=application.candidate,
        application=application,
        job=application.job,
        actor=actor,
        occurred_at=now,
        payload={
            "job_id": application.job_id,
            "stage": application.stage.name,
            "reason_id": reason.pk if reason else None,
            "reason": reason.name if reason else "",
            "note": application.rejection_note[:500],
            "notify": bool(notify),
        },
    )
    if email_template is not None:
        from rapport.messaging.services import message_send

        message_send(
            actor=actor,
            candidate=application.candidate,
            template=email_template,
            job=application.job,
            application=application,
        )
    return application


def _rejection_email(*, actor: User, template_id: Any) -> Any:
    """The rejection template to email, checked before anything is written."""
    from rapport.messaging.models import MessageTemplate, TemplateCategory, TemplateChannel

    if not can(actor, Capability.SEND_MESSAGES):
        raise ValidationFailed.single("notify", "Your role cannot email candidates; reject without notifying.")
    rejections = MessageTemplate.objects.filter(channel=TemplateChannel.EMAIL, category=TemplateCategory.REJECTION)
    if template_id in (None, ""):
        template = rejections.order_by("name").first()
        if template is None:
            raise ValidationFailed.single(
                "template_id", "There is no rejection email template yet: write one under Templates, or untick Notify."
            )
    else:
        try:
            template = rejections.get(pk=int(template_id))
        except (MessageTemplate.DoesNotExist, TypeError, ValueError):
            raise ValidationFailed.single("template_id", "Choose one of the rejection email templates.")
    return template


@transaction.atomic
def application_withdraw(*, actor: User | None, application: Application, note: str = "") -> Application:
    """Close an application the person no longer pursues; `actor` None is the person themselves (the portal)."""
    if actor is not None:
        ensure(actor, Capability.MOVE_APPLICATIONS)
        _ensure_job_in_scope(actor, application.job)
    if application.status != ApplicationStatus.ACTIVE:
        raise Conflict(f"This application is already {application.get_status_display().lower()}.")
    now = timezone.now()
    application.status = ApplicationStatus.WITHDRAWN
    application.closed_at = application.updated_at = now
    application.save()
    activity_record(
        type="application.withdrawn",
        candidate=application.candidate,
        application=application,
        job=application.job,
        actor=actor,
        occurred_at=now,
        payload={"job_id": application.job_id, "stage": application.stage.name, "note": (note or "")[:500]},
    )
    return application


@transaction.atomic
def application_reopen(*, actor: User, application: Application) -> Application:
    ensure(actor, Capability.MOVE_APPLICATIONS)
    _ensure_job_in_scope(actor, application.job)
    if application.status == ApplicationStatus.ACTIVE:
        return application
    previous_status = application.status
    application.status = ApplicationStatus.ACTIVE
    application.rejection_reason = None
    application.rejection_note = ""
    application.closed_at = None
    application.updated_at = timezone.now()
    application.save()
    audit_record(
        actor=actor,
        action="update",
        object_type="application",
        object_id=application.pk,
        changes={"status": [previous_status, ApplicationStatus.ACTIVE.value]},
    )
    return application


@transaction.atomic
def application_update(*, actor: User, application: Application, data: dict[str, Any]) -> Application:
    """Change the source or the assigned interviewers; stage and status have their own verbs."""
    ensure(actor, Capability.MANAGE_JOBS)
    changes: dict[str, Any] = {}
    if "source" in data:
        source = (data["source"] or "").strip()
        if len(source) > 50:
            raise ValidationFailed.single("source", "Use at most 50 characters.")
        if source != application.source:
            changes["source"] = [application.source, source]
            application.source = source
    if "interviewer_ids" in data:
        ids = data["interviewer_ids"] or []
        users = list(User.objects.filter(pk__in=ids, is_active=True))
        if len(users) != len(set(ids)):
            raise ValidationFailed.single("interviewer_ids", "Every interviewer must be an active team member.")
        application.interviewers.set(users)
        changes["interviewer_ids"] = sorted(u.pk for u in users)
    for key in ("stage_id", "status"):
        if key in data:
            raise ValidationFailed.single(
                key, f"Use the move, reject or withdraw actions to change {key.replace('_id', '')}."
            )
    if changes:
        application.updated_at = timezone.now()
        application.save()
        audit_record(actor=actor, action="update", object_type="application", object_id=application.pk, changes=changes)
    return application


@transaction.atomic
def rejection_reason_create(*, actor: User, name: str) -> RejectionReason:
    ensure(actor, Capability.ADMINISTER)
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationFailed.single("name", "A reason has 1 to 100 characters.")
    if RejectionReason.objects.filter(name__iexact=name).exists():
        raise ValidationFailed.single("name", "This reason already exists.")
    last = RejectionReason.objects.order_by("-position").first()
    return RejectionReason.objects.create(name=name, position=(last.position + 1) if last else 0)


DEFAULT_REJECTION_REASONS = [
    "Not enough relevant experience",
    "Skills do not match the role",
    "Salary expectations too high",
    "Location or work permit",
    "Position filled by another candidate",
    "Did not respond",
    "Culture or team fit",
    "Failed assessment",
]


def rejection_reasons_ensure() -> None:
    if not RejectionReason.objects.exists():
        RejectionReason.objects.bulk_create(
            [RejectionReason(name=n, position=i) for i, n in enumerate(DEFAULT_REJECTION_REASONS)]
        )


@transaction.atomic
def rejection_reason_deactivate(*, actor: User, reason: RejectionReason) -> RejectionReason:
    """Hide a reason from new rejections; past rejections keep pointing at it."""
    ensure(actor, Capability.ADMINISTER)
    if reason.is_active:
        reason.is_active = False
        reason.save(update_fields=["is_active"])
        audit_record(
            actor=actor,
            action="update",
            object_type="rejection_reason",
            object_id=reason.pk,
            changes={"is_active": [True, False]},
        )
    return reason


@transaction.atomic
def rejection_reason_activate(*, actor: User, reason: RejectionReason) -> RejectionReason:
    ensure(actor, Capability.ADMINISTER)
    if not reason.is_active:
        reason.is_active = True
        reason.save(update_fields=["is_active"])
        audit_record(
            actor=actor,
            action="update",
            object_type="rejection_reason",
            object_id=reason.pk,
            changes={"is_active": [False, True]},
        )
    return reason
