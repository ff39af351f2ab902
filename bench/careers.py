"""The career site cases: 500 open jobs, the public job list and job page, and an application sent through the form.

The jobs (and the people who apply during the run) are added to the benchmark database for the run and taken out
again afterwards, so other cases always see the same database. The naive version beside ours renders every open
job on one page, as a first career site would.
"""

import uuid
from typing import Any

from bench.timing import Measurement, measure

PAGE_TARGET_MS = 50.0
APPLY_TARGET_MS = 200.0
OPEN_JOBS = 500
TITLE_PREFIX = "Benchmark careers"
DOMAIN = "careers-bench.example.org"  # must pass the form's email check, which refuses .invalid
DEPARTMENTS = ("Engineering", "Design", "Sales", "Support", "Marketing", "Finance", "People", "Operations")
LOCATIONS = ("Berlin", "Paris", "London", "Lisbon", "Warsaw", "Madrid", "Remote, Europe")
WORKPLACES = ("onsite", "hybrid", "remote")
EMPLOYMENT = ("full_time", "full_time", "part_time", "contract", "internship")
DESCRIPTION = (
    "## About the role\n\nYou will join a small team that ships every day. "
    "We care about **clear code**, kind reviews and calm on-call.\n\n"
    "## What you will do\n\n- Build features end to end\n- Talk to customers\n- Improve our tooling\n\n"
    "## What we offer\n\n- Flexible hours\n- Learning budget\n- A team that writes things down\n"
)
# A one-page PDF: what the form accepts as a résumé.
RESUME = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def remove() -> tuple[int, int]:
    """Take this case's applicants (with their files and index entries) and jobs out of the database."""
    from rapport.candidates.models import Attachment, Candidate
    from rapport.jobs.models import Job
    from rapport.search import backends as search_backend

    people = list(Candidate.objects.filter(emails__email__endswith=f"@{DOMAIN}").values_list("pk", flat=True))
    for attachment in Attachment.objects.filter(candidate_id__in=people):
        attachment.file.delete(save=False)
    if people:
        search_backend.remove_documents(people)
    Candidate.objects.filter(pk__in=people).delete()
    jobs, _ = Job.objects.filter(title__startswith=TITLE_PREFIX).delete()
    return len(people), jobs


def seed() -> list[int]:
    """Add the open jobs, each with the organisation's stages; returns their ids."""
    from django.db import transaction
    from django.utils import timezone

    from rapport.jobs.models import Job, Stage
    from rapport.jobs.services import stage_templates_ensure

    remove()
    today = timezone.localdate()
    with transaction.atomic():
        jobs = Job.objects.bulk_create(
            Job(
                title=f"{TITLE_PREFIX} {DEPARTMENTS[i % len(DEPARTMENTS)]} role {i}",
                department=DEPARTMENTS[i % len(DEPARTMENTS)],
                location=LOCATIONS[i % len(LOCATIONS)],
                workplace_type=WORKPLACES[i % len(WORKPLACES)],
                employment_type=EMPLOYMENT[i % len(EMPLOYMENT)],
                description=DESCRIPTION,
                status="open",
                opened_on=today,
            )
            for i in range(OPEN_JOBS)
        )
        templates = stage_templates_ensure()
        Stage.objects.bulk_create(
            Stage(job=job, name=t.name, position=t.position, category=t.category) for job in jobs for t in templates
        )
    return [job.pk for job in jobs]


def _get(client: Any, path: str, sizes: list[int]) -> None:
    response = client.get(path)
    if response.status_code != 200:
        raise RuntimeError(f"HTTP {response.status_code} for {path}")
    sizes.append(len(response.content))


def _naive_list() -> str:
    """A first career page: every open job on one page, straight from the model, with no paging."""
    from django.template.loader import render_to_string

    from rapport.careers.selectors import career_filter_options, career_jobs, job_slug
    from rapport.careers.views import _brand

    jobs = list(career_jobs())
    page = type("AllJobs", (), {"paginator": type("P", (), {"count": len(jobs)}), "has_other_pages": False})()
    return render_to_string(
        "careers/list.html",
        {
            **_brand(),
            "filters": None,
            "page": page,
            "jobs": [(job, f"/careers/jobs/{job.pk}-{job_slug(job)}/") for job in jobs],
            "options": career_filter_options(),
            "source": "careers",
        },
    )


def run_careers(settings: Any) -> list[Measurement]:
    """Seed, measure the public pages, the naive list and the apply request on the same data, then clean up."""
    from django.conf import settings as django_settings
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    from rapport.careers.selectors import job_slug
    from rapport.jobs.models import Job

    measurements: list[Measurement] = []
    visitor = Client()
    limits = (django_settings.RAPPORT_CAREERS_RATE_LIMIT, django_settings.RAPPORT_API_RATE_LIMIT)
    try:
        ids = seed()
        job = Job.objects.get(pk=ids[len(ids) // 2])
        job_path = f"/careers/jobs/{job.pk}-{job_slug(job)}/"
        for name, path in [
            ("career job list", "/careers/"),
            ("career job list, search + filters", "/careers/?q=engineering&workplace_type=remote"),
            ("career job page", job_path),
            ("career apply form", f"{job_path}apply/"),
        ]:
            m = Measurement("careers", name, path)
            sizes: list[int] = []
            measure(m, lambda path=path, sizes=sizes: _get(visitor, path, sizes), runs=settings.runs, warmups=5)
            if sizes:
                m.info["bytes"] = sizes[-1]
            measurements.append(m)

        m = Measurement("careers", "job list, all on one page (naive)", "in-process: the same template, no paging")
        measure(m, _naive_list, runs=settings.runs, warmups=3, budget_seconds=settings.naive_budget)
        measurements.append(m)

        # Every application comes from one address, so the per-address limits would stop the run after five.
        django_settings.RAPPORT_CAREERS_RATE_LIMIT = 0
        django_settings.RAPPORT_API_RATE_LIMIT = 0
        apply_path = f"{job_path}apply/"

        def apply() -> None:
            response = visitor.post(
                apply_path,
                {
                    "first_name": "Bench",
                    "last_name": "Applicant",
                    "email": f"{uuid.uuid4().hex[:12]}@{DOMAIN}",
                    "consent": "on",
                    "resume": SimpleUploadedFile("resume.pdf", RESUME, content_type="application/pdf"),
                },
            )
            if response.status_code != 302:
                raise RuntimeError(f"HTTP {response.status_code}: the application was not accepted")

        m = Measurement("careers", "apply (submit, in-memory upload)", apply_path)
        measure(m, apply, runs=settings.runs, warmups=3)
        measurements.append(m)
    finally:
        django_settings.RAPPORT_CAREERS_RATE_LIMIT, django_settings.RAPPORT_API_RATE_LIMIT = limits
        remove()
    return measurements
