from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from rapport.accounts.models import Role, User
from rapport.common.errors import NotFound
from rapport.jobs.models import Job, Stage
from rapport.pipeline.models import Application, ApplicationStatus, RejectionReason


def applications_visible_to(user: User) -> QuerySet[Application]:
    if not (user and user.is_authenticated and user.is_active):
        return Application.objects.none()
    qs = Application.objects.filter(candidate__erased_at__isnull=True)
    if user.has_full_access:
        return qs
    if user.role == Role.HIRING_MANAGER:
        return qs.filter(job__hiring_manager=user)
    if user.role == Role.INTERVIEWER:
        return qs.filter(interviewers=user)
    return Application.objects.none()


def application_get_for_user(*, user: User, application_id: Any) -> Application:
    try:
        pk = int(application_id)
    except (TypeError, ValueError):
        raise NotFound("No such application.")
    application = (
        applications_visible_to(user)
        .select_related("candidate", "job", "stage", "rejection_reason")
        .filter(pk=pk)
        .first()
    )
    if application is None:
        raise NotFound("No such application.")
    return application


@dataclass
class KanbanColumn:
    stage: Stage
    cards: list[Application] = field(default_factory=list)
    total: int = 0


def job_kanban(*, user: User, job: Job, per_stage: int = 100, include_closed: bool = False) -> list[KanbanColumn]:
    """Columns for a job's board: the first `per_stage` cards of each stage (longest-waiting first) and counts.

    A 5,000-application job would otherwise render thousands of cards; each column shows its total and pages.
    """
    from django.db.models import Count

    stages = list(job.stages.order_by("position", "id"))
    visible = applications_visible_to(user).filter(job=job)
    if not include_closed:
        visible = visible.filter(status__in=[ApplicationStatus.ACTIVE, ApplicationStatus.HIRED])
    counts = dict(visible.values_list("stage_id").annotate(n=Count("id")).values_list("stage_id", "n"))
    columns = []
    for stage in stages:
        cards = list(
            visible.filter(stage=stage)
            .select_related("candidate")
            .only(
                "id",
                "stage_id",
                "status",
                "stage_entered_at",
                "job_id",
                "candidate__id",
                "candidate__first_name",
                "candidate__last_name",
                "candidate__current_title",
                "candidate__current_company",
                "candidate__engagement_score",
            )
            .order_by("stage_entered_at", "id")[:per_stage]
        )
        columns.append(KanbanColumn(stage=stage, cards=cards, total=counts.get(stage.pk, 0)))
    return columns


def days_in_stage(application: Application) -> int:
    return max(0, (timezone.now() - application.stage_entered_at).days)


def rejection_reasons_active() -> QuerySet[RejectionReason]:
    return RejectionReason.objects.filter(is_active=True).order_by("position", "name")
