from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone

from rapport.accounts.models import Role, User
from rapport.accounts.permissions import Capability, ensure
from rapport.common.errors import Conflict, ValidationFailed
from rapport.jobs.models import (
    Client,
    EmploymentType,
    Job,
    JobStatus,
    Stage,
    StageCategory,
    StageTemplate,
    WorkplaceType,
)
from rapport.timeline.services import activity_record, audit_record

DEFAULT_STAGES = [
    ("Sourced", StageCategory.SOURCED),
    ("Applied", StageCategory.APPLIED),
    ("Screening", StageCategory.SCREENING),
    ("Interview", StageCategory.INTERVIEW),
    ("Offer", StageCategory.OFFER),
    ("Hired", StageCategory.HIRED),
]
_TEXT = {"title": 150, "department": 100, "location": 150, "description": 20_000}


def stage_templates_ensure() -> list[StageTemplate]:
    """The organisation's template, created with the defaults the first time it is needed."""
    templates = list(StageTemplate.objects.order_by("position"))
    if not templates:
        templates = StageTemplate.objects.bulk_create(
            [StageTemplate(name=n, category=c, position=i) for i, (n, c) in enumerate(DEFAULT_STAGES)]
        )
    return templates


def _clean_job(data: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    fields: dict[str, list[str]] = {}
    out: dict[str, Any] = {}
    for name, max_len in _TEXT.items():
        if name in data:
            value = (data[name] or "").strip() if isinstance(data[name], str | type(None)) else None
            if value is None:
                fields.setdefault(name, []).append("Must be text.")
            elif len(value) > max_len:
                fields.setdefault(name, []).append(f"Use at most {max_len:,} characters.")
            else:
                out[name] = value
    if (not partial or "title" in data) and not out.get("title"):
        fields.setdefault("title", []).append("A job needs a title.")
    for name, choices in (
        ("status", JobStatus),
        ("workplace_type", WorkplaceType),
        ("employment_type", EmploymentType),
    ):
        if name in data and data[name] is not None:
            if data[name] not in choices.values:
                fields.setdefault(name, []).append(f"Choose one of: {', '.join(choices.values)}.")
            else:
                out[name] = data[name]
    if "openings" in data and data["openings"] is not None:
        try:
            openings = int(data["openings"])
            if not 1 <= openings <= 1000:
                raise ValueError
            out["openings"] = openings
        except (TypeError, ValueError):
            fields.setdefault("openings", []).append("Give a number of openings from 1 to 1000.")
    for name, roles in (
        ("hiring_manager_id", None),
        ("recruiter_id", (Role.ADMIN, Role.RECRUITER)),
    ):
        if name in data:
            value = data[name]
            if value in (None, ""):
                out[name] = None
                continue
            user = User.objects.filter(pk=_int_or_none(value), is_active=True).first()
            if user is None:
                fields.setdefault(name, []).append("There is no active team member with this id.")
            elif roles and user.role not in roles:
                fields.setdefault(name, []).append("The recruiter must be an admin or a recruiter.")
            else:
                out[name] = user.pk
    if "client_id" in data:
        value = data["client_id"]
        if value in (None, ""):
            out["client_id"] = None
        elif not Client.objects.filter(pk=_int_or_none(value)).exists():
            fields.setdefault("client_id", []).append("There is no client with this id.")
        else:
            out["client_id"] = int(value)
    for name in ("opened_on", "closed_on"):
        if name in data:
            value = data[name]
            if value in (None, ""):
                out[name] = None
            else:
                try:
                    out[name] = value if isinstance(value, date) else date.fromisoformat(str(value))
                except ValueError:
                    fields.setdefault(name, []).append("Use a date like 2026-01-31.")
    if fields:
        first = next(iter(fields.items()))
        raise ValidationFailed(f"Please check {first[0].replace('_', ' ')}: {first[1][0]}", fields=fields)
    return out


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@transaction.atomic
def job_create(*, actor: User, data: dict[str, Any]) -> Job:
    """Create a job with its own copy of the organisation's stage template."""
    ensure(actor, Capability.MANAGE_JOBS)
    cleaned = _clean_job(data, partial=False)
    cleaned.setdefault("recruiter_id", actor.pk if actor.has_full_access else None)
    if cleaned.get("status") == JobStatus.OPEN and not cleaned.get("opened_on"):
        cleaned["opened_on"] = timezone.localdate()
    job = Job.objects.create(**cleaned)
    Stage.objects.bulk_create(
        [
            Stage(
                job=job,
                name=t.name,
                position=t.position,
                category=t.category,
                default_template_id=t.default_template_id,
            )
            for t in stage_templates_ensure()
        ]
    )
    audit_record(actor=actor, action="create", object_type="job", object_id=job.pk)
    if job.status == JobStatus.OPEN:
        _record_opened(job, actor=actor, reopened=False)
    return job


def _record_opened(job: Job, *, actor: User, reopened: bool) -> None:
    """`job.opened` on the timeline (about no person): job alerts and other automation react to it."""
    activity_record(
        type="job.opened",
        job=job,
        actor=actor,
        payload={
            "job_id": job.pk,
            "title": job.title,
            "department": job.department,
            "location": job.location,
            "reopened": reopened,
        },
    )


@transaction.atomic
def job_update(*, actor: User, job: Job, data: dict[str, Any]) -> Job:
    ensure(actor, Capability.MANAGE_JOBS)
    cleaned = _clean_job(data, partial=True)
    changes = {}
    for field, value in cleaned.items():
        old = getattr(job, field)
        if old != value:
            changes[field] = [
                str(old) if isinstance(old, date) else old,
                str(value) if isinstance(value, date) else value,
            ]
            setattr(job, field, value)
    opened = "status" in changes and job.status == JobStatus.OPEN
    was_opened_before = bool(changes.get("opened_on", [job.opened_on])[0])
    if "status" in changes:
        today = timezone.localdate()
        if job.status == JobStatus.OPEN and not job.opened_on:
            job.opened_on = today
        if job.status in (JobStatus.CLOSED, JobStatus.FILLED) and not job.closed_on:
            job.closed_on = today
        if job.status not in (JobStatus.CLOSED, JobStatus.FILLED) and "closed_on" not in cleaned:
            # A reopened job is no longer closed; it gets a fresh date when it closes again.
            job.closed_on = None
    if changes:
        job.updated_at = timezone.now()
        job.save()
        audit_record(actor=actor, action="update", object_type="job", object_id=job.pk, changes=changes)
    if opened:
        _record_opened(job, actor=actor, reopened=was_opened_before)
    return job


@transaction.atomic
def stage_rename(*, actor: User, stage: Stage, name: str) -> Stage:
    ensure(actor, Capability.MANAGE_JOBS)
    name = (name or "").strip()
    if not name or len(name) > 60:
        raise ValidationFailed.single("name", "A stage name has 1 to 60 characters.")
    old = stage.name
    stage.name = name
    stage.save(update_fields=["name"])
    audit_record(actor=actor, action="update", object_type="stage", object_id=stage.pk, changes={"name": [old, name]})
    return stage


@transaction.atomic
def stage_default_template_set(*, actor: User, stage: Stage, template: Any | None) -> Stage:
    """The message suggested when writing to someone in this stage (None: no suggestion)."""
    ensure(actor, Capability.MANAGE_JOBS)
    old = stage.default_template
    if (old.pk if old else None) == (template.pk if template else None):
        return stage
    stage.default_template = template
    stage.save(update_fields=["default_template"])
    audit_record(
        actor=actor,
        action="update",
        object_type="stage",
        object_id=stage.pk,
        changes={"default_template": [old.name if old else None, template.name if template else None]},
    )
    return stage


@transaction.atomic
def stage_public_label_set(*, actor: User, stage: Stage, label: str) -> Stage:
    """The words candidates see for this stage in the portal; blank goes back to the category's wording."""
    ensure(actor, Capability.MANAGE_JOBS)
    label = " ".join((label or "").split())
    if len(label) > 60:
        raise ValidationFailed.single("public_label", "A public label has at most 60 characters.")
    old = stage.public_label
    if old == label:
        return stage
    stage.public_label = label
    stage.save(update_fields=["public_label"])
    audit_record(
        actor=actor, action="update", object_type="stage", object_id=stage.pk, changes={"public_label": [old, label]}
    )
    return stage


@transaction.atomic
def stages_reorder(*, actor: User, job: Job, stage_ids: list[int]) -> list[Stage]:
    ensure(actor, Capability.MANAGE_JOBS)
    stages = {s.pk: s for s in job.stages.all()}
    try:
        stage_ids = [int(i) for i in stage_ids]
    except (TypeError, ValueError):
        raise ValidationFailed.single("stage_ids", "Give the stages as a list of ids (whole numbers).")
    if sorted(stage_ids) != sorted(stages):
        raise ValidationFailed.single("stage_ids", "List every stage of this job exactly once.")
    for position, stage_id in enumerate(stage_ids):
        stages[stage_id].position = position
    Stage.objects.bulk_update(stages.values(), ["position"])
    audit_record(actor=actor, action="update", object_type="job", object_id=job.pk, changes={"stage_order": stage_ids})
    return [stages[i] for i in stage_ids]


@transaction.atomic
def stage_add(*, actor: User, job: Job, name: str, category: str) -> Stage:
    ensure(actor, Capability.MANAGE_JOBS)
    if category not in StageCategory.values:
        raise ValidationFailed.single("category", f"Choose one of: {', '.join(StageCategory.values)}.")
    name = (name or "").strip()
    if not name or len(name) > 60:
        raise ValidationFailed.single("name", "A stage name has 1 to 60 characters.")
    last = job.stages.order_by("-position").first()
    return Stage.objects.create(job=job, name=name, category=category, position=(last.position + 1) if last else 0)


@transaction.atomic
def stage_delete(*, actor: User, stage: Stage) -> None:
    ensure(actor, Capability.MANAGE_JOBS)
    if stage.applications.exists():
        raise Conflict("Move the applications out of this stage before deleting it.")
    stage.delete()


@transaction.atomic
def client_create(*, actor: User, name: str, website: str = "", notes: str = "") -> Client:
    ensure(actor, Capability.MANAGE_JOBS)
    name = (name or "").strip()
    if not name:
        raise ValidationFailed.single("name", "Give the client a name.")
    if Client.objects.filter(name__iexact=name).exists():
        raise ValidationFailed.single("name", "A client with this name already exists.")
    if website and not website.startswith(("http://", "https://")):
        raise ValidationFailed.single("website", "The website should start with https://.")
    return Client.objects.create(name=name, website=website, notes=notes)


def _clean_stage_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 60:
        raise ValidationFailed.single("name", "A stage name has 1 to 60 characters.")
    return name


@transaction.atomic
def stage_template_rename(*, actor: User, template: StageTemplate, name: str) -> StageTemplate:
    """Rename a stage of the organisation's template; existing jobs keep their own copies."""
    ensure(actor, Capability.ADMINISTER)
    name = _clean_stage_name(name)
    old = template.name
    template.name = name
    template.save(update_fields=["name"])
    audit_record(
        actor=actor, action="update", object_type="stage_template", object_id=template.pk, changes={"name": [old, name]}
    )
    return template


@transaction.atomic
def stage_templates_reorder(*, actor: User, template_ids: list[int]) -> list[StageTemplate]:
    ensure(actor, Capability.ADMINISTER)
    templates = {t.pk: t for t in stage_templates_ensure()}
    if sorted(template_ids) != sorted(templates):
        raise ValidationFailed.single("template_ids", "List every stage of the template exactly once.")
    for position, template_id in enumerate(template_ids):
        templates[template_id].position = position
    StageTemplate.objects.bulk_update(templates.values(), ["position"])
    audit_record(
        actor=actor, action="update", object_type="stage_template", changes={"stage_order": list(template_ids)}
    )
    return [templates[i] for i in template_ids]


@transaction.atomic
def stage_template_add(*, actor: User, name: str, category: str) -> StageTemplate:
    ensure(actor, Capability.ADMINISTER)
    if category not in StageCategory.values:
        raise ValidationFailed.single("category", f"Choose one of: {', '.join(StageCategory.values)}.")
    name = _clean_stage_name(name)
    last = max((t.position for t in stage_templates_ensure()), default=-1)
    template = StageTemplate.objects.create(name=name, category=category, position=last + 1)
    audit_record(actor=actor, action="create", object_type="stage_template", object_id=template.pk)
    return template


@transaction.atomic
def stage_template_delete(*, actor: User, template: StageTemplate) -> None:
    """Take a stage out of the template; jobs already created keep theirs, so this can never strand anyone."""
    ensure(actor, Capability.ADMINISTER)
    if StageTemplate.objects.count() <= 1:
        raise Conflict("The template needs at least one stage.")
    audit_record(
        actor=actor,
        action="delete",
        object_type="stage_template",
        object_id=template.pk,
        changes={"name": template.name},
    )
    template.delete()
