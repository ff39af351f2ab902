from typing import Any

from django.db.models import Count, Q, QuerySet

from rapport.accounts.models import Role, User
from rapport.common.errors import NotFound
from rapport.jobs.models import Job, Stage


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
        pk = int(job_id)
    except (TypeError, ValueError):
        raise NotFound("No such job.")
    job = jobs_visible_to(user).select_related("hiring_manager", "recruiter", "client").filter(pk=pk).first()
    if job is None:
        raise NotFound("No such job.")
    return job


def job_list(*, user: User, status: str | None = None, q: str | None = None) -> QuerySet[Job]:
    qs = jobs_visible_to(user).select_related("hiring_manager", "recruiter", "client")
    if status:
        qs = qs.filter(status=status)
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(department__icontains=q) | Q(location__icontains=q))
    return qs.annotate(
        active_count=Count("applications", filter=Q(applications__status="active"), distinct=True)
    ).order_by("-id")


def job_stage_counts(*, job_ids: list[int]) -> dict[int, dict[int, int]]:
    """{job_id: {stage_id: active applications}} in one grouped query."""
    from rapport.pipeline.models import Application

    counts: dict[int, dict[int, int]] = {}
    rows = (
        Application.objects.filter(job_id__in=job_ids, status="active")
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
        return job.stages.get(pk=int(stage_id))
    except (Stage.DoesNotExist, TypeError, ValueError):
        raise NotFound("No such stage in this job.", fields={"stage_id": ["This stage does not belong to the job."]})
