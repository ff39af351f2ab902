"""The public career site: job list, job page, the one-page apply form and the talent community sign-up.

Nothing here needs a sign-in, so every page shows only open jobs and only their public fields, and every form is
guarded by CSRF, a honeypot field and a per-address limit.
"""

import time
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from rapport.api.auth import throttle_address
from rapport.api.errors import RateLimited
from rapport.careers.forms import ApplyForm, JoinForm
from rapport.careers.selectors import (
    DEFAULT_SOURCE,
    CareerFilters,
    career_filter_options,
    career_job_get,
    career_jobs,
    clean_source,
    job_description_html,
    job_posting_data,
    job_questions,
    job_slug,
    json_for_script,
)
from rapport.careers.services import application_submit, apply_form_started, talent_community_join
from rapport.common.errors import NotFound, ValidationFailed
from rapport.jobs.models import EmploymentType, Job, WorkplaceType

PAGE_SIZE = 25
RATE_WINDOW_SECONDS = 600
_SOURCE_SALT = "rapport.careers.source"
_STARTED_SESSION_KEY = "careers_apply_started"


def _brand() -> dict[str, Any]:
    return {
        "brand_colour": settings.RAPPORT_BRAND_COLOUR,
        "logo_url": settings.RAPPORT_LOGO_URL,
        "company_website": settings.RAPPORT_COMPANY_WEBSITE,
        "privacy_notice_url": settings.RAPPORT_PRIVACY_NOTICE_URL,
        "privacy_notice": settings.RAPPORT_PRIVACY_NOTICE,
        "retention_days": settings.RAPPORT_PRIVACY_RETENTION_DAYS,
    }


def _page(request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200) -> HttpResponse:
    return render(request, template, {**_brand(), **context}, status=status)


def _job(job_id: int) -> Job:
    try:
        return career_job_get(job_id=job_id)
    except NotFound:
        raise Http404("No such job.") from None


def _job_url(job: Job, name: str = "careers:job") -> str:
    return reverse(name, kwargs={"job_id": job.pk, "slug": job_slug(job)})


def _canonical(request: HttpRequest, job: Job, slug: str, name: str) -> HttpResponse | None:
    """A link with an old or mistyped slug moves to the job's own address, keeping its tracking parameters."""
    if slug == job_slug(job):
        return None
    query = request.META.get("QUERY_STRING", "")
    return redirect(f"{_job_url(job, name)}{'?' + query if query else ''}", permanent=True)


# --- sources and limits ---------------------------------------------------------------------------------------------


def _source_from_link(request: HttpRequest) -> str:
    return clean_source(request.GET.get("utm_source")) or clean_source(request.GET.get("ref")) or DEFAULT_SOURCE


def _source_query(source: str) -> str:
    return "" if source == DEFAULT_SOURCE else f"?utm_source={source}"


def _signed_source(source: str) -> str:
    return signing.Signer(salt=_SOURCE_SALT).sign(source)


def _source_from_form(value: str | None) -> str:
    """The source carried through the form, trusted only with our signature, so the statistics stay honest."""
    try:
        return clean_source(signing.Signer(salt=_SOURCE_SALT).unsign(value or "")) or DEFAULT_SOURCE
    except signing.BadSignature:
        return DEFAULT_SOURCE


def _limit_key(request: HttpRequest, scope: str) -> str:
    window = int(time.time() // RATE_WINDOW_SECONDS)
    return f"rapport:careers-rate:{scope}:{request.META.get('REMOTE_ADDR') or 'unknown'}:{window}"


def _limited(request: HttpRequest, scope: str) -> HttpResponse | None:
    """The friendly 429 page when this address has sent its share of forms in this window, else None.

    Only accepted submissions (and bots caught by the honeypot) count, so a person fixing a mistyped field is
    not locked out; the API's per-minute limit still caps every attempt.
    """
    retry_after = None
    try:
        throttle_address(request, f"careers-{scope}")
    except RateLimited as exc:
        retry_after = exc.retry_after
    limit = settings.RAPPORT_CAREERS_RATE_LIMIT
    if retry_after is None and limit > 0 and (cache.get(_limit_key(request, scope)) or 0) >= limit:
        retry_after = RATE_WINDOW_SECONDS - int(time.time()) % RATE_WINDOW_SECONDS
    if retry_after is None:
        return None
    response = _page(request, "careers/rate_limited.html", {"minutes": max(1, round(retry_after / 60))}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def _count(request: HttpRequest, scope: str) -> None:
    if settings.RAPPORT_CAREERS_RATE_LIMIT <= 0:
        return
    key = _limit_key(request, scope)
    if not cache.add(key, 1, timeout=RATE_WINDOW_SECONDS + 1):
        try:
            cache.incr(key)
        except ValueError:  # the window expired between add() and incr()
            cache.set(key, 1, timeout=RATE_WINDOW_SECONDS + 1)


# Service field names that the form shows under another name.
_FORM_FIELD = {"links": "link_1"}


def _add_errors(form: Any, exc: ValidationFailed) -> None:
    for field, messages in exc.fields.items():
        field = _FORM_FIELD.get(field, field)
        name = field if field in form.fields else None
        for message in messages:
            form.add_error(name, message)
    if not exc.fields:
        form.add_error(None, exc.message)


# --- pages ----------------------------------------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD"])
def job_list(request: HttpRequest) -> HttpResponse:
    filters = CareerFilters.from_query(request.GET)
    paginator = Paginator(career_jobs(filters=filters), PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    source = _source_from_link(request)
    query = request.GET.copy()
    query.pop("page", None)
    return _page(
        request,
        "careers/list.html",
        {
            "filters": filters,
            "page": page,
            "jobs": [(job, _job_url(job) + _source_query(source)) for job in page.object_list],
            "options": career_filter_options(),
            "workplace_types": WorkplaceType.choices,
            "employment_types": EmploymentType.choices,
            "intro": settings.RAPPORT_CAREERS_INTRO,
            "page_query": query.urlencode(),
            "source": source,
            "join_url": reverse("careers:join") + _source_query(source),
        },
    )


@require_http_methods(["GET", "HEAD"])
def job_detail(request: HttpRequest, job_id: int, slug: str) -> HttpResponse:
    job = _job(job_id)
    moved = _canonical(request, job, slug, "careers:job")
    if moved is not None:
        return moved
    description = job_description_html(job)
    url = request.build_absolute_uri(_job_url(job))
    source = _source_from_link(request)
    return _page(
        request,
        "careers/job.html",
        {
            "job": job,
            "description": description,
            "json_ld": json_for_script(job_posting_data(job, url=url, description_html=description)),
            "apply_url": _job_url(job, "careers:apply") + _source_query(source),
            "canonical_url": url,
        },
    )


@require_http_methods(["GET", "POST"])
def apply(request: HttpRequest, job_id: int, slug: str) -> HttpResponse:
    job = _job(job_id)
    moved = _canonical(request, job, slug, "careers:apply")
    if moved is not None:
        return moved
    context = {"job": job, "job_url": _job_url(job)}
    questions = list(job_questions(job=job))
    if request.method == "GET":
        source = _source_from_link(request)
        started = request.session.get(_STARTED_SESSION_KEY, [])
        if job.pk not in started:
            apply_form_started(job=job, source=source)
            request.session[_STARTED_SESSION_KEY] = [*started[-49:], job.pk]
        form = ApplyForm(initial={"source": _signed_source(source)})
        form.add_questions(questions)
        return _page(request, "careers/apply.html", {**context, "form": form})

    limited = _limited(request, "apply")
    if limited is not None:
        return limited
    form = ApplyForm(request.POST, request.FILES)
    form.add_questions(questions)
    if form.is_bot:
        _count(request, "apply")
        return _page(request, "careers/thanks.html", context)
    if form.is_valid():
        try:
            outcome = application_submit(
                job=job,
                data=form.person_data(),
                resume=form.cleaned_data.get("resume"),
                consent=form.cleaned_data.get("consent"),
                source=_source_from_form(form.cleaned_data.get("source")),
                answers=form.answers(),
            )
        except ValidationFailed as exc:
            _add_errors(form, exc)
        else:
            _count(request, "apply")
            if outcome.already_applied:
                return _page(request, "careers/already_applied.html", context)
            return redirect(_job_url(job, "careers:thanks"))
    return _page(request, "careers/apply.html", {**context, "form": form}, status=422)


@require_http_methods(["GET", "HEAD"])
def thanks(request: HttpRequest, job_id: int, slug: str) -> HttpResponse:
    job = _job(job_id)
    return _page(request, "careers/thanks.html", {"job": job, "job_url": _job_url(job)})


@require_http_methods(["GET", "POST"])
def join(request: HttpRequest) -> HttpResponse:
    interests = career_filter_options()["departments"]
    if request.method == "GET":
        form = JoinForm(interest_choices=interests)
        return _page(request, "careers/join.html", {"form": form})

    limited = _limited(request, "join")
    if limited is not None:
        return limited
    form = JoinForm(request.POST, interest_choices=interests)
    if form.is_bot:
        _count(request, "join")
        return _page(request, "careers/joined.html", {})
    if form.is_valid():
        try:
            talent_community_join(
                data={
                    "first_name": form.cleaned_data.get("first_name", ""),
                    "last_name": form.cleaned_data.get("last_name", ""),
                    "email": form.cleaned_data.get("email", ""),
                },
                interests=form.cleaned_data.get("interests") or [],
                allowed_interests=interests,
                consent=form.cleaned_data.get("consent"),
            )
        except ValidationFailed as exc:
            _add_errors(form, exc)
        else:
            _count(request, "join")
            return redirect("careers:joined")
    return _page(request, "careers/join.html", {"form": form}, status=422)


@require_http_methods(["GET", "HEAD"])
def joined(request: HttpRequest) -> HttpResponse:
    return _page(request, "careers/joined.html", {})
