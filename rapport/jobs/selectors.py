from typing import Any

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from rapport.accounts.models import Role, User
from rapport.common.errors import NotFound
from rapport.common.ids import parse_id
from rapport.jobs.models import Client, Job, Stage, StageTemplate


def jobs_visible_to(user: User) -> QuerySet[Job]:
    """Admins and recruiters see every job; hiring managers their own; interviewers the jobs they interview for."""
    if not (user and user.is_authenticated and user.is_active):
        return Job.objects.none()
    if user.has_full_access:
        return Job.objects.all()
    if user.role == Role.HIRING_MANAGER:
        return Job.objects.filter(hiring_manager=user)
    if user.role == Role.INTERVIEWER:
        return Job.objects.filter(applications__interviewers=user).distinct()
    return Job.objects.none()


def job_get_for_user(*, user: User, job_id: Any) -> Job:
    try:
        pk = parse_id(job_id)
    except (TypeError, ValueError):
        raise NotFound("No such job.")
    job = jobs_visible_to(user).select_related("hiring_manager", "recruiter", "client").filter(pk=pk).first()
    if job is None:
        raise NotFound("No such job.")
    return job


def job_list(
    *, user: User, status: str | None = None, q: str | None = None, with_active_count: bool = True
) -> QuerySet[Job]:
    """Jobs in scope, newest first. Pages that show per-stage counts (job_stage_counts) skip `active_count`:
    that join-and-count over every application costs tens of milliseconds on a 5,000-application job."""
    qs = jobs_visible_to(user).select_related("hiring_manager", "recruiter", "client")
    if status:
        qs = qs.filter(status=status)
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(department__icontains=q) | Q(location__icontains=q))
    if with_active_count:
        from rapport.pipeline.selectors import applications_visible_to

        # Counted within the user's own scope: an interviewer learns nothing about applicants they cannot open.
        active = (
            applications_visible_to(user)
            .filter(job=OuterRef("pk"), status="active")
            .order_by()
            .values("job")
            .annotate(n=Count("id"))
            .values("n")
        )
        qs = qs.annotate(active_count=Coalesce(Subquery(active), 0))
    return qs.order_by("-id")


def job_stage_counts(*, user: User, job_ids: list[int], include_hired: bool = False) -> dict[int, dict[int, int]]:
    """{job_id: {stage_id: active applications the user may see}} in one grouped query.

    With `include_hired`, hired applications count too, so the numbers match the kanban columns.
    """
    from rapport.pipeline.selectors import applications_visible_to

    counts: dict[int, dict[int, int]] = {}
    statuses = ["active", "hired"] if include_hired else ["active"]
    rows = (
        applications_visible_to(user)
        .filter(job_id__in=job_ids, status__in=statuses)
        .order_by()
        .values_list("job_id", "stage_id")
        .annotate(n=Count("id"))
    )
    for job_id, stage_id, n in rows:
        counts.setdefault(job_id, {})[stage_id] = n
    return counts


def stages_for_job(*, job: Job) -> list[Stage]:
    return list(job.stages.order_by("position", "id"))


def stage_get_for_job(*, job: Job, stage_id: Any) -> Stage:
    try:
        return job.stages.get(pk=parse_id(stage_id))
    except (Stage.DoesNotExist, TypeError, ValueError):
        raise NotFound("No such stage in this job.", fields={"stage_id": ["This stage does not belong to the job."]})


def stages_for_jobs(*, job_ids: list[int]) -> dict[int, list[Stage]]:
    """{job_id: its stages in order} in one query, for lists that show a pipeline per row."""
    by_job: dict[int, list[Stage]] = {job_id: [] for job_id in job_ids}
    for stage in Stage.objects.filter(job_id__in=job_ids).order_by("job_id", "position", "id"):
        by_job[stage.job_id].append(stage)
    return by_job


def clients_list() -> QuerySet[Client]:
    return Client.objects.order_by("name")


def job_status_counts(*, user: User) -> dict[str, int]:
    """{status: jobs} for the filter chips above the jobs list, in one grouped query."""
    rows = jobs_visible_to(user).order_by().values_list("status").annotate(n=Count("id", distinct=True))
    return dict(rows)


def stage_templates_list() -> list[StageTemplate]:
    return list(StageTemplate.objects.order_by("position", "id"))


def stage_template_get(*, template_id: Any) -> StageTemplate:
    try:
        return StageTemplate.objects.get(pk=parse_id(template_id))
    except (StageTemplate.DoesNotExist, TypeError, ValueError):
        raise NotFound("No such stage in the template.")
