"""Reads of the public career site: only open jobs, and only the fields a job seeker may see."""

import json
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone
from django.utils.text import slugify

from rapport.accounts.models import User
from rapport.careers.models import ApplyFormStat, JobQuestion, ScreeningAnswer
from rapport.common.errors import NotFound
from rapport.common.html import markdown_to_safe_html
from rapport.common.ids import parse_id
from rapport.jobs.models import EmploymentType, Job, JobStatus, WorkplaceType
from rapport.jobs.selectors import job_get_for_user
from rapport.pipeline.selectors import applications_visible_to

# What a visitor's browser may read of a job; everything else (recruiter, client, openings, notes) stays inside.
PUBLIC_JOB_FIELDS = (
    "id",
    "title",
    "department",
    "location",
    "workplace_type",
    "employment_type",
    "description",
    "opened_on",
    "closed_on",
    "created_at",
    "updated_at",
    "status",
)
MAX_QUERY = 100
DEFAULT_SOURCE = "careers"
_SOURCE = re.compile(r"[a-z0-9][a-z0-9_.\-]{0,39}")

# Google's employmentType values for ours.
GOOGLE_EMPLOYMENT_TYPES = {
    EmploymentType.FULL_TIME: "FULL_TIME",
    EmploymentType.PART_TIME: "PART_TIME",
    EmploymentType.CONTRACT: "CONTRACTOR",
    EmploymentType.TEMPORARY: "TEMPORARY",
    EmploymentType.INTERNSHIP: "INTERN",
}


def job_slug(job: Job) -> str:
    return slugify(job.title)[:80] or "job"


def clean_source(value: str | None) -> str | None:
    """A `utm_source`/`ref` value we are willing to store, lower-cased, or None for anything else."""
    text = (value or "").strip().lower()
    return text if _SOURCE.fullmatch(text) else None


@dataclass(frozen=True)
class CareerFilters:
    q: str = ""
    department: str = ""
    location: str = ""
    workplace_type: str = ""
    employment_type: str = ""

    @classmethod
    def from_query(cls, params: Any) -> "CareerFilters":
        """Filters from a query string; unknown choices are ignored, so a mangled link still shows jobs."""

        def text(name: str) -> str:
            return " ".join(str(params.get(name) or "").split())[:MAX_QUERY]

        workplace = text("workplace_type")
        employment = text("employment_type")
        return cls(
            q=text("q"),
            department=text("department"),
            location=text("location"),
            workplace_type=workplace if workplace in WorkplaceType.values else "",
            employment_type=employment if employment in EmploymentType.values else "",
        )

    @property
    def active(self) -> bool:
        return any((self.q, self.department, self.location, self.workplace_type, self.employment_type))


def career_jobs(*, filters: CareerFilters | None = None) -> QuerySet[Job]:
    """Open jobs matching the visitor's search and filters, newest first.

    Open jobs number in the hundreds, not millions, so a substring match over them is fast and finds word parts
    ("engineer" in "Engineering") that full-text search would miss.
    """
    filters = filters or CareerFilters()
    jobs = Job.objects.filter(status=JobStatus.OPEN).only(*PUBLIC_JOB_FIELDS)
    for word in filters.q.split()[:8]:
        jobs = jobs.filter(Q(title__icontains=word) | Q(description__icontains=word))
    if filters.department:
        jobs = jobs.filter(department__iexact=filters.department)
    if filters.location:
        jobs = jobs.filter(location__iexact=filters.location)
    if filters.workplace_type:
        jobs = jobs.filter(workplace_type=filters.workplace_type)
    if filters.employment_type:
        jobs = jobs.filter(employment_type=filters.employment_type)
    return jobs.order_by("-opened_on", "-id")


def career_filter_options() -> dict[str, list[str]]:
    """The departments and locations that open jobs have, for the filter menus."""
    rows = Job.objects.filter(status=JobStatus.OPEN).values_list("department", "location")
    departments: dict[str, str] = {}
    locations: dict[str, str] = {}
    for department, location in rows:
        if department:
            departments.setdefault(department.lower(), department)
        if location:
            locations.setdefault(location.lower(), location)
    return {
        "departments": sorted(departments.values(), key=str.lower),
        "locations": sorted(locations.values(), key=str.lower),
    }


def career_job_get(*, job_id: Any) -> Job:
    """An open job by id; drafts, held, closed and filled jobs are NotFound, as if they did not exist."""
    try:
        pk = int(job_id)
    except (TypeError, ValueError):
        raise NotFound("No such job.") from None
    job = Job.objects.filter(pk=pk, status=JobStatus.OPEN).only(*PUBLIC_JOB_FIELDS, "recruiter_id").first()
    if job is None:
        raise NotFound("No such job.")
    return job


def job_questions(*, job: Job) -> QuerySet[JobQuestion]:
    """The screening questions a job's apply form asks, in order."""
    return JobQuestion.objects.filter(job=job).order_by("position", "id")


def application_screening(*, application_id: int) -> list[ScreeningAnswer]:
    """An application's screening answers, knock-out ones marked, for the team's view of the application."""
    return list(ScreeningAnswer.objects.filter(application_id=application_id).order_by("id"))


def job_question_get_for_user(*, user: User, job_id: Any, question_id: Any) -> JobQuestion:
    """One screening question of a job the user can see; another job's question, or a job out of scope, is NotFound."""
    job = job_get_for_user(user=user, job_id=job_id)
    try:
        pk = parse_id(question_id)
    except (TypeError, ValueError):
        raise NotFound("No such question.") from None
    question = JobQuestion.objects.filter(job=job, pk=pk).first()
    if question is None:
        raise NotFound("No such question.")
    question.job = job
    return question


def screening_answers_for_user(*, user: User, application_ids: list[int]) -> dict[int, list[ScreeningAnswer]]:
    """The screening answers of those applications the user may see, by application id, in the order asked.

    Scoped here rather than trusted from the caller, so a page that lists applications cannot leak answers of
    one its viewer is not on.
    """
    visible = applications_visible_to(user).filter(pk__in=application_ids).values("pk")
    answers: dict[int, list[ScreeningAnswer]] = {}
    rows = ScreeningAnswer.objects.filter(application_id__in=visible).order_by("application_id", "id")
    for row in rows:
        answers.setdefault(row.application_id, []).append(row)
    return answers


def job_description_html(job: Job) -> str:
    return markdown_to_safe_html(job.description)


def job_posting_data(job: Job, *, url: str, description_html: str | None = None) -> dict[str, Any]:
    """schema.org JobPosting with the properties Google for Jobs requires, and the recommended ones we know."""
    organisation: dict[str, Any] = {"@type": "Organization", "name": settings.RAPPORT_ORG_NAME}
    if settings.RAPPORT_COMPANY_WEBSITE:
        organisation["sameAs"] = settings.RAPPORT_COMPANY_WEBSITE
    if settings.RAPPORT_LOGO_URL:
        organisation["logo"] = settings.RAPPORT_LOGO_URL
    posted = job.opened_on or timezone.localdate(job.created_at)
    data: dict[str, Any] = {
        "@context": "https://schema.org/",
        "@type": "JobPosting",
        "title": job.title,
        "description": description_html if description_html is not None else job_description_html(job),
        "datePosted": posted.isoformat(),
        "hiringOrganization": organisation,
        "identifier": {"@type": "PropertyValue", "name": settings.RAPPORT_ORG_NAME, "value": str(job.pk)},
        "employmentType": GOOGLE_EMPLOYMENT_TYPES.get(job.employment_type, "OTHER"),
        "url": url,
        "directApply": True,
    }
    if job.workplace_type == WorkplaceType.REMOTE:
        data["jobLocationType"] = "TELECOMMUTE"
        # Where a remote applicant may live; Google needs it for remote-only jobs, and our location says it.
        if job.location:
            data["applicantLocationRequirements"] = {"@type": "Country", "name": job.location}
    else:
        data["jobLocation"] = {
            "@type": "Place",
            "address": {"@type": "PostalAddress", "addressLocality": job.location or settings.RAPPORT_ORG_NAME},
        }
    if job.closed_on and job.closed_on >= timezone.localdate():
        data["validThrough"] = f"{job.closed_on.isoformat()}T23:59:59"
    if job.department:
        data["occupationalCategory"] = job.department
    return data


_SCRIPT_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


def json_for_script(data: Any) -> str:
    """JSON that is safe between <script> tags: no "</script>" or "<!--" can close or confuse the element."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).translate(_SCRIPT_ESCAPES)


@dataclass(frozen=True)
class CompletionRate:
    job_id: int
    job_title: str
    source: str
    started: int
    submitted: int

    @property
    def rate(self) -> float | None:
        """Submitted per started, or None before anyone opened the form."""
        return self.submitted / self.started if self.started else None


def apply_completion_rates(*, since: date | None = None, job_id: int | None = None) -> list[CompletionRate]:
    """How many opened the apply form and how many sent it, per job and source, since a day (all time by default)."""
    rows = ApplyFormStat.objects.all()
    if since is not None:
        rows = rows.filter(day__gte=since)
    if job_id is not None:
        rows = rows.filter(job_id=job_id)
    grouped = (
        rows.values("job_id", "job__title", "source")
        .annotate(started=Sum("started"), submitted=Sum("submitted"))
        .order_by("job__title", "job_id", "source")
    )
    return [
        CompletionRate(
            job_id=row["job_id"],
            job_title=row["job__title"],
            source=row["source"],
            started=row["started"] or 0,
            submitted=row["submitted"] or 0,
        )
        for row in grouped
    ]
