"""Survey pages: the workspace list, editor, results and "Send survey"; and the public answer page.

Workspace pages are for admins and recruiters (403 for other roles); the answer page needs no sign-in because its
link is signed for one invitation. It is rate-limited per address and never cached.
"""

import time
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from rapport.accounts.permissions import Capability, can
from rapport.api.auth import throttle_address
from rapport.api.errors import RateLimited
from rapport.candidates.selectors import candidate_get_for_user
from rapport.common.errors import ApplicationError, NotFound
from rapport.common.web import add_service_errors, scoped
from rapport.pipeline.selectors import applications_visible_to
from rapport.surveys.charts import bar_chart
from rapport.surveys.forms import SendForm, SurveyForm, answer_fields
from rapport.surveys.models import QuestionKind
from rapport.surveys.selectors import (
    ResultFilters,
    invitation_for_token,
    survey_filter_options,
    survey_get_for_user,
    survey_list,
    survey_results,
    surveys_to_send,
)
from rapport.surveys.services import (
    SurveyAlreadyAnswered,
    survey_answer,
    survey_create,
    survey_recently_sent,
    survey_send,
    survey_update,
)

ANSWERS_PER_WINDOW = 20
WINDOW_SECONDS = 600


def _require_manage(request: HttpRequest) -> None:
    if not can(request.user, Capability.MANAGE_TEMPLATES):
        raise DjangoPermissionDenied("Your role does not allow this.")


@login_required
@require_GET
def survey_list_view(request: HttpRequest) -> HttpResponse:
    _require_manage(request)
    return render(request, "surveys/list.html", {"surveys": list(survey_list(user=request.user))})


@login_required
@require_http_methods(["GET", "POST"])
def survey_create_view(request: HttpRequest) -> HttpResponse:
    _require_manage(request)
    form = SurveyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.service_data()
        if data is not None:
            try:
                survey = survey_create(actor=request.user, data=data)
            except ApplicationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"Survey “{survey.name}” created.")
                return redirect("surveys:results", survey_id=survey.pk)
    status = 422 if form.errors else 200
    return render(request, "surveys/form.html", {"form": form, "survey": None}, status=status)


@login_required
@scoped
@require_http_methods(["GET", "POST"])
def survey_edit_view(request: HttpRequest, survey_id: int) -> HttpResponse:
    _require_manage(request)
    survey = survey_get_for_user(user=request.user, survey_id=survey_id)
    form = SurveyForm(request.POST) if request.method == "POST" else SurveyForm.for_survey(survey)
    if request.method == "POST" and form.is_valid():
        data = form.service_data()
        if data is not None:
            try:
                survey_update(actor=request.user, survey=survey, data=data)
            except ApplicationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "Survey saved.")
                return redirect("surveys:results", survey_id=survey.pk)
    status = 422 if form.errors else 200
    return render(request, "surveys/form.html", {"form": form, "survey": survey}, status=status)


@login_required
@scoped
@require_GET
def survey_results_view(request: HttpRequest, survey_id: int) -> HttpResponse:
    _require_manage(request)
    survey = survey_get_for_user(user=request.user, survey_id=survey_id)
    results = survey_results(survey=survey, filters=ResultFilters.from_query(request.GET))
    charts = {
        q.id: bar_chart(chart_id=f"chart-{q.id}", title=f"Answers to “{q.text}”", bars=q.distribution)
        for q in results.questions
        if q.kind != QuestionKind.TEXT
    }
    questions = [(q, charts.get(q.id)) for q in results.questions]
    context = {
        "survey": survey,
        "results": results,
        "questions": questions,
        "options": survey_filter_options(survey=survey),
    }
    return render(request, "surveys/results.html", context)


@login_required
@scoped
@require_http_methods(["GET", "POST"])
def survey_send_view(request: HttpRequest) -> HttpResponse:
    """The "Send survey" page, opened from a profile (`?candidate=`) or one of its applications (`&application=`)."""
    if not can(request.user, Capability.SEND_MESSAGES):
        raise DjangoPermissionDenied("Your role does not allow this.")
    candidate = candidate_get_for_user(user=request.user, candidate_id=request.GET.get("candidate"))
    applications = list(
        applications_visible_to(request.user).filter(candidate=candidate).select_related("job", "stage").order_by("-id")
    )
    surveys = list(surveys_to_send())
    initial = {"application": request.GET.get("application", "")}
    form = SendForm(request.POST or None, initial=initial, surveys=surveys, applications=applications)
    profile = reverse("candidates:detail", args=[candidate.pk])
    if request.method == "POST" and form.is_valid():
        survey = next(s for s in surveys if str(s.pk) == form.cleaned_data["survey"])
        application = next((a for a in applications if str(a.pk) == form.cleaned_data["application"]), None)
        try:
            invitation = survey_send(
                survey=survey, candidate=candidate, application=application, actor=request.user, reason="manual"
            )
        except ApplicationError as exc:
            add_service_errors(form, exc)
        else:
            if invitation is None:
                recent = survey_recently_sent(candidate=candidate, days=survey.cooldown_days)
                why = f"they got a survey on {recent.sent_at:%d %b %Y}" if recent else "they cannot be emailed now"
                messages.warning(request, f"No survey sent to {candidate.full_name}: {why}.")
            else:
                messages.success(request, f"“{survey.name}” sent to {candidate.full_name}.")
            return redirect(profile)
    context = {"form": form, "candidate": candidate, "profile_url": profile, "has_surveys": bool(surveys)}
    return render(request, "surveys/send.html", context, status=422 if form.errors else 200)


# --- the public answer page -----------------------------------------------------------------------------------------


def _over_limit(request: HttpRequest) -> int | None:
    """Seconds to wait when this address has posted too many answers in this window, else None (and counts one)."""
    try:
        throttle_address(request, "survey-answer")
    except RateLimited as exc:
        return exc.retry_after
    window = int(time.time() // WINDOW_SECONDS)
    key = f"rapport:survey-rate:{request.META.get('REMOTE_ADDR') or 'unknown'}:{window}"
    if cache.add(key, 1, timeout=WINDOW_SECONDS + 1):
        return None
    try:
        hits = cache.incr(key)
    except ValueError:  # the window expired between add() and incr()
        cache.set(key, 1, timeout=WINDOW_SECONDS + 1)
        return None
    return WINDOW_SECONDS - int(time.time()) % WINDOW_SECONDS if hits > ANSWERS_PER_WINDOW else None


def _answer_page(request: HttpRequest, context: dict[str, Any], status: int = 200) -> HttpResponse:
    brand = {
        "brand_colour": settings.RAPPORT_BRAND_COLOUR,
        "logo_url": settings.RAPPORT_LOGO_URL,
        "company_website": settings.RAPPORT_COMPANY_WEBSITE,
        "privacy_notice_url": settings.RAPPORT_PRIVACY_NOTICE_URL,
    }
    response = render(request, "surveys/answer.html", {**brand, **context}, status=status)
    response["X-Robots-Tag"] = "noindex"
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def answer_view(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = invitation_for_token(token)
    except NotFound as exc:
        return _answer_page(request, {"state": "invalid", "message": exc.message}, status=404)
    survey = invitation.survey
    if invitation.answered_at is not None:
        return _answer_page(request, {"state": "done", "survey": survey})
    values: dict[str, str] = {}
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        retry_after = _over_limit(request)
        if retry_after is not None:
            response = _answer_page(request, {"state": "limited", "survey": survey}, status=429)
            response["Retry-After"] = str(retry_after)
            return response
        values = {key: value for key, value in request.POST.items() if key.startswith("q")}
        try:
            survey_answer(invitation=invitation, answers=values)
        except SurveyAlreadyAnswered:
            return _answer_page(request, {"state": "done", "survey": survey})
        except ApplicationError as exc:
            errors, status = exc.fields, 422
        else:
            return _answer_page(request, {"state": "thanks", "survey": survey})
    fields = [
        {**f, "value": values.get(f["name"], ""), "errors": errors.get(f["name"], [])} for f in answer_fields(survey)
    ]
    context = {"state": "form", "survey": survey, "fields": fields, "has_errors": bool(errors), "token": token}
    return _answer_page(request, context, status=status)
