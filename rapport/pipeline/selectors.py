from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from rapport.accounts.models import Role, User
from rapport.accounts.permissions import Capability, can
from rapport.common.errors import NotFound
from rapport.common.ids import parse_id
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
        pk = parse_id(application_id)
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


def _board_applications(user: User, job: Job, *, include_closed: bool) -> QuerySet[Application]:
    visible = applications_visible_to(user).filter(job=job)
    if not include_closed:
        visible = visible.filter(status__in=[ApplicationStatus.ACTIVE, ApplicationStatus.HIRED])
    return visible


_CARD_FIELDS = (
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


def _cards(visible: QuerySet[Application], stage: Stage) -> QuerySet[Application]:
    # Longest-waiting first: the people most at risk of being forgotten sit at the top of each column.
    return (
        visible.filter(stage=stage).select_related("candidate").only(*_CARD_FIELDS).order_by("stage_entered_at", "id")
    )


def job_kanban(*, user: User, job: Job, per_stage: int = 100, include_closed: bool = False) -> list[KanbanColumn]:
    """Columns for a job's board: the first `per_stage` cards of each stage (longest-waiting first) and counts.

    A 5,000-application job would otherwise render thousands of cards; each column shows its total and pages.
    """
    from django.db.models import F, Window
    from django.db.models.functions import RowNumber

    stages = list(job.stages.order_by("position", "id"))
    counts = kanban_counts(user=user, job=job, include_closed=include_closed)
    # One query for every column: number the cards within each stage, longest-waiting first, and keep the first
    # `per_stage`. Three queries in all, however many stages and applications.
    ranked = (
        _board_applications(user, job, include_closed=include_closed)
        .select_related("candidate")
        .only(*_CARD_FIELDS)
        .annotate(
            rank=Window(
                RowNumber(), partition_by=[F("stage_id")], order_by=[F("stage_entered_at").asc(), F("id").asc()]
            )
        )
        .filter(rank__lte=per_stage)
        .order_by("stage_entered_at", "id")
    )
    by_stage: dict[int, list[Application]] = {stage.pk: [] for stage in stages}
    for card in ranked:
        by_stage.setdefault(card.stage_id, []).append(card)
    return [KanbanColumn(stage=stage, cards=by_stage[stage.pk], total=counts.get(stage.pk, 0)) for stage in stages]


def kanban_counts(*, user: User, job: Job, include_closed: bool = False) -> dict[int, int]:
    """{stage_id: cards on the board} in one grouped query, the same numbers the column headers show."""
    from django.db.models import Count

    visible = _board_applications(user, job, include_closed=include_closed)
    return dict(visible.order_by().values_list("stage_id").annotate(n=Count("id")).values_list("stage_id", "n"))


def kanban_column_page(
    *,
    user: User,
    job: Job,
    stage: Stage,
    after: tuple[datetime, int] | None,
    limit: int,
    include_closed: bool = False,
) -> tuple[list[Application], bool]:
    """The cards of one column after a given card ("Show more"), and whether more remain.

    Keyset on (stage_entered_at, id): a card moved in meanwhile lands at the end and a card moved out leaves no gap,
    so paging never skips or repeats anyone.
    """
    from django.db.models import Q

    cards = _cards(_board_applications(user, job, include_closed=include_closed), stage)
    if after is not None:
        entered, last_id = after
        cards = cards.filter(Q(stage_entered_at__gt=entered) | Q(stage_entered_at=entered, id__gt=last_id))
    rows = list(cards[: limit + 1])
    return rows[:limit], len(rows) > limit


def candidate_ids_on_job(*, job: Job, candidate_ids: list[int]) -> set[int]:
    """Which of these people already have an application on the job, whatever its status."""
    return set(
        Application.objects.filter(job=job, candidate_id__in=candidate_ids).values_list("candidate_id", flat=True)
    )


def days_in_stage(application: Application) -> int:
    return max(0, (timezone.now() - application.stage_entered_at).days)


def rejection_templates_for(user: User) -> list | None:
    """The rejection emails `user` may send when rejecting, or None when their role cannot email candidates."""
    from rapport.messaging.models import MessageTemplate, TemplateCategory, TemplateChannel

    if not can(user, Capability.SEND_MESSAGES):
        return None
    return list(
        MessageTemplate.objects.filter(channel=TemplateChannel.EMAIL, category=TemplateCategory.REJECTION)
        .only("id", "name")
        .order_by("name")
    )


def rejection_reasons_active() -> QuerySet[RejectionReason]:
    return RejectionReason.objects.filter(is_active=True).order_by("position", "name")


def rejection_reasons_all() -> QuerySet[RejectionReason]:
    """Active and retired reasons, for the settings page."""
    return RejectionReason.objects.order_by("-is_active", "position", "name")


def rejection_reason_get(*, reason_id: Any) -> RejectionReason:
    try:
        return RejectionReason.objects.get(pk=parse_id(reason_id))
    except (RejectionReason.DoesNotExist, TypeError, ValueError):
        raise NotFound("No such rejection reason.")


@dataclass
class StageStay:
    """One stay in a stage: when the application entered it, when it left (None while still there), and who moved it."""

    stage: Stage | None
    entered_at: datetime
    left_at: datetime | None
    actor: User | None

    @property
    def duration(self) -> timedelta:
        return (self.left_at or timezone.now()) - self.entered_at


def stage_history(*, application: Application) -> list[StageStay]:
    """Time in each stage, oldest first, from the stage history; the basis for time-in-stage and conversion figures."""
    transitions = list(application.transitions.select_related("to_stage", "actor").order_by("at", "id"))
    return [
        StageStay(
            stage=transition.to_stage,
            entered_at=transition.at,
            left_at=transitions[i + 1].at if i + 1 < len(transitions) else None,
            actor=transition.actor,
        )
        for i, transition in enumerate(transitions)
    ]
