"""FAQ pages: the knowledge base in the workspace, and the "Ask a question" widget on the career site and portal.

The widget is a plain form (it works without JavaScript: the answer comes back on a full page); with HTMX it
swaps only itself. Asking and passing a question on are rate-limited per address; the career site's pass-on
form has a honeypot like the other career forms.
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
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rapport.accounts.permissions import Capability, can
from rapport.candidates.models import Candidate
from rapport.careers.selectors import career_job_get
from rapport.common.errors import ApplicationError, NotFound
from rapport.common.html import markdown_to_safe_html
from rapport.common.web import add_service_errors, scoped
from rapport.faq.forms import AskForm, EntryForm, PassOnForm
from rapport.faq.selectors import (
    FaqAnswer,
    faq_entries_visible_to,
    faq_entry_get_for_user,
    unanswered_get_for_user,
    unanswered_open,
)
from rapport.faq.services import (
    faq_ask,
    faq_entry_create,
    faq_entry_delete,
    faq_entry_update,
    faq_pass_on_career_site,
    faq_pass_on_portal,
    unanswered_convert,
    unanswered_dismiss,
)
from rapport.jobs.models import Job
from rapport.jobs.selectors import jobs_visible_to
from rapport.pipeline.models import Application
from rapport.portal.session import portal_required

WINDOW_SECONDS = 600
ASKS_PER_WINDOW = 30
PASS_ONS_PER_WINDOW = 5
UNANSWERED_SHOWN = 100


def _require_manage(request: HttpRequest) -> None:
    if not can(request.user, Capability.MANAGE_TEMPLATES):
        raise DjangoPermissionDenied("Your role does not allow this.")


def _job_choices(request: HttpRequest) -> list[Job]:
    return list(jobs_visible_to(request.user).filter(status__in=["open", "on_hold", "draft"]).order_by("title"))


# --- workspace ------------------------------------------------------------------------------------------------------


@login_required
@require_GET
def faq_list_view(request: HttpRequest) -> HttpResponse:
    _require_manage(request)
    context = {
        "entries": list(faq_entries_visible_to(request.user).order_by("-published", "question", "id")),
        "unanswered": list(unanswered_open(user=request.user)[:UNANSWERED_SHOWN]),
    }
    return render(request, "faq/list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def faq_create_view(request: HttpRequest) -> HttpResponse:
    _require_manage(request)
    form = EntryForm(request.POST or None, jobs=_job_choices(request))
    if request.method == "POST" and form.is_valid():
        try:
            faq_entry_create(actor=request.user, data=form.service_data())
        except ApplicationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "FAQ entry saved.")
            return redirect("faq:list")
    return render(request, "faq/form.html", {"form": form, "entry": None}, status=422 if form.errors else 200)


@login_required
@scoped
@require_http_methods(["GET", "POST"])
def faq_edit_view(request: HttpRequest, entry_id: int) -> HttpResponse:
    _require_manage(request)
    entry = faq_entry_get_for_user(user=request.user, entry_id=entry_id)
    jobs = _job_choices(request)
    if entry.job is not None and entry.job not in jobs:
        jobs.append(entry.job)
    form = EntryForm(request.POST, jobs=jobs) if request.method == "POST" else EntryForm.for_entry(entry, jobs=jobs)
    if request.method == "POST" and form.is_valid():
        try:
            faq_entry_update(actor=request.user, entry=entry, data=form.service_data())
        except ApplicationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "FAQ entry saved.")
            return redirect("faq:list")
    context = {"form": form, "entry": entry, "preview": markdown_to_safe_html(entry.answer)}
    return render(request, "faq/form.html", context, status=422 if form.errors else 200)


@login_required
@scoped
@require_POST
def faq_delete_view(request: HttpRequest, entry_id: int) -> HttpResponse:
    _require_manage(request)
    entry = faq_entry_get_for_user(user=request.user, entry_id=entry_id)
    faq_entry_delete(actor=request.user, entry=entry)
    messages.success(request, "FAQ entry deleted.")
    return redirect("faq:list")


@login_required
@scoped
@require_POST
def unanswered_convert_view(request: HttpRequest, question_id: int) -> HttpResponse:
    _require_manage(request)
    item = unanswered_get_for_user(user=request.user, question_id=question_id)
    entry = unanswered_convert(actor=request.user, item=item)
    messages.success(request, "Draft entry created: write the answer and publish it.")
    return redirect("faq:edit", entry_id=entry.pk)


@login_required
@scoped
@require_POST
def unanswered_dismiss_view(request: HttpRequest, question_id: int) -> HttpResponse:
    _require_manage(request)
    item = unanswered_get_for_user(user=request.user, question_id=question_id)
    unanswered_dismiss(actor=request.user, item=item)
    messages.success(request, "Question dismissed.")
    return redirect("faq:list")


# --- the widget -----------------------------------------------------------------------------------------------------


def _over_limit(request: HttpRequest, scope: str, limit: int, who: str | None = None) -> bool:
    """Count one hit for this address (or person) in this window; True when it is over the limit."""
    window = int(time.time() // WINDOW_SECONDS)
    key = f"rapport:faq-rate:{scope}:{who or request.META.get('REMOTE_ADDR') or 'unknown'}:{window}"
    if cache.add(key, 1, timeout=WINDOW_SECONDS + 1):
        return False
    try:
        return cache.incr(key) > limit
    except ValueError:  # the window expired between add() and incr()
        cache.set(key, 1, timeout=WINDOW_SECONDS + 1)
        return False


def _brand() -> dict[str, Any]:
    return {
        "brand_colour": settings.RAPPORT_BRAND_COLOUR,
        "logo_url": settings.RAPPORT_LOGO_URL,
        "company_website": settings.RAPPORT_COMPANY_WEBSITE,
        "privacy_notice_url": settings.RAPPORT_PRIVACY_NOTICE_URL,
    }


def _answer_context(answer: FaqAnswer | None) -> dict[str, Any]:
    if answer is None or not answer.confident:
        return {"answer": answer}
    return {
        "answer": answer,
        "best_html": markdown_to_safe_html(answer.best.entry.answer),
        "related": [(s.entry, markdown_to_safe_html(s.entry.answer)) for s in answer.related],
    }


def _widget(request: HttpRequest, mode: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    """The widget alone for HTMX (always 200, so it swaps), else a full page around it."""
    context = {**_brand(), "mode": mode, **context}
    if request.htmx:
        return render(request, "faq/_widget.html", context)
    template = "faq/careers_page.html" if mode == "careers" else "faq/portal_page.html"
    return render(request, template, context, status=status)


def _career_scope(job_id: Any) -> tuple[Job | None, set[int], set[str]]:
    if not job_id:
        return None, set(), set()
    try:
        job = career_job_get(job_id=job_id)
    except NotFound:
        return None, set(), set()
    return job, {job.pk}, {job.department} if job.department else set()


def _limited(request: HttpRequest, mode: str, context: dict[str, Any]) -> HttpResponse:
    response = _widget(request, mode, {**context, "limited": True}, status=429)
    response["Retry-After"] = str(WINDOW_SECONDS - int(time.time()) % WINDOW_SECONDS)
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def careers_ask_view(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _widget(request, "careers", {"ask_form": AskForm(prefix="faq")})
    form = AskForm(request.POST, prefix="faq")
    job, job_ids, departments = _career_scope(request.POST.get("faq-job"))
    context: dict[str, Any] = {"ask_form": form, "job": job}
    if _over_limit(request, "ask", ASKS_PER_WINDOW):
        return _limited(request, "careers", context)
    if not form.is_valid():
        return _widget(request, "careers", context, status=422)
    try:
        answer = faq_ask(question=form.cleaned_data["question"], job_ids=job_ids, departments=departments)
    except ApplicationError as exc:
        add_service_errors(form, exc)
        return _widget(request, "careers", context, status=422)
    context.update(_answer_context(answer))
    if not answer.confident:
        context["pass_form"] = PassOnForm(
            prefix="faqp", initial={"question": form.cleaned_data["question"], "job": job.pk if job else None}
        )
    return _widget(request, "careers", context)


@never_cache
@require_POST
def careers_pass_on_view(request: HttpRequest) -> HttpResponse:
    form = PassOnForm(request.POST, prefix="faqp")
    job, _, _ = _career_scope(request.POST.get("faqp-job"))
    context: dict[str, Any] = {"ask_form": AskForm(prefix="faq"), "pass_form": form, "job": job}
    if _over_limit(request, "pass-on", PASS_ONS_PER_WINDOW):
        return _limited(request, "careers", context)
    if form.is_bot:
        return _widget(request, "careers", {**context, "passed_on": True})
    if not form.is_valid():
        return _widget(request, "careers", {**context, "answer": FaqAnswer("", None, [])}, status=422)
    try:
        faq_pass_on_career_site(
            email=form.cleaned_data["email"],
            first_name=form.cleaned_data.get("first_name", ""),
            question=form.cleaned_data["question"],
        )
    except ApplicationError as exc:
        add_service_errors(form, exc)
        return _widget(request, "careers", {**context, "answer": FaqAnswer("", None, [])}, status=422)
    return _widget(request, "careers", {**context, "passed_on": True})


def _portal_scope(candidate: Candidate) -> tuple[set[int], set[str]]:
    rows = Application.objects.filter(candidate=candidate).values_list("job_id", "job__department")
    return {job_id for job_id, _ in rows}, {department for _, department in rows if department}


@never_cache
@require_http_methods(["GET", "POST"])
@portal_required
def portal_ask_view(request: HttpRequest, candidate: Candidate) -> HttpResponse:
    base = {"portal_person": candidate, "nav": "faq"}
    if request.method == "GET":
        return _widget(request, "portal", {**base, "ask_form": AskForm(prefix="faq")})
    form = AskForm(request.POST, prefix="faq")
    context: dict[str, Any] = {**base, "ask_form": form}
    if _over_limit(request, "ask", ASKS_PER_WINDOW, who=f"c{candidate.pk}"):
        return _limited(request, "portal", context)
    if not form.is_valid():
        return _widget(request, "portal", context, status=422)
    job_ids, departments = _portal_scope(candidate)
    try:
        answer = faq_ask(question=form.cleaned_data["question"], job_ids=job_ids, departments=departments)
    except ApplicationError as exc:
        add_service_errors(form, exc)
        return _widget(request, "portal", context, status=422)
    context.update(_answer_context(answer))
    if not answer.confident:
        context["pass_form"] = PassOnForm(prefix="faqp", initial={"question": form.cleaned_data["question"]})
    return _widget(request, "portal", context)


@never_cache
@require_POST
@portal_required
def portal_pass_on_view(request: HttpRequest, candidate: Candidate) -> HttpResponse:
    question = request.POST.get("faqp-question", "")
    context: dict[str, Any] = {"portal_person": candidate, "nav": "faq", "ask_form": AskForm(prefix="faq")}
    if _over_limit(request, "pass-on", PASS_ONS_PER_WINDOW, who=f"c{candidate.pk}"):
        return _limited(request, "portal", context)
    try:
        faq_pass_on_portal(candidate=candidate, question=question)
    except ApplicationError as exc:
        form = AskForm({"faq-question": question}, prefix="faq")
        form.is_valid()
        add_service_errors(form, exc, {"question": "question"})
        return _widget(request, "portal", {**context, "ask_form": form}, status=422)
    if not request.htmx:
        messages.success(request, "Your question is with the team. The answer will appear in your messages.")
        return redirect("portal:messages")
    return _widget(request, "portal", {**context, "passed_on": True})
