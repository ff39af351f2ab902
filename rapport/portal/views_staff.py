"""Workspace side of the portal, on a person's profile: ask them for a document, share feedback on an application,
and see what they sent. The "Candidate portal" card is rendered by `portal_tags.portal_staff_card`."""

from typing import Any

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from rapport.accounts.models import User
from rapport.accounts.permissions import Capability, can, ensure
from rapport.candidates.models import Candidate
from rapport.candidates.selectors import candidate_get_for_user
from rapport.common.errors import ValidationFailed
from rapport.common.web import add_service_errors, scoped
from rapport.pipeline.models import Application
from rapport.pipeline.selectors import application_get_for_user, applications_visible_to
from rapport.portal.forms import DocumentRequestForm, FeedbackForm
from rapport.portal.selectors import document_requests_for_candidate, shared_feedback_for_candidate
from rapport.portal.services_documents import document_request_create, feedback_share


def _applications(user: User, candidate: Candidate) -> list[Application]:
    return list(applications_visible_to(user).filter(candidate=candidate).select_related("job").order_by("-created_at"))


def staff_card_context(
    *,
    request: HttpRequest,
    candidate: Candidate,
    request_form: DocumentRequestForm | None = None,
    feedback_form: FeedbackForm | None = None,
    notice: str = "",
) -> dict[str, Any]:
    """What the profile's "Candidate portal" card shows; `candidate` was looked up through a scoped selector."""
    applications = _applications(request.user, candidate)
    erased = candidate.erased_at is not None
    return {
        "request": request,
        "candidate": candidate,
        "can_share": can(request.user, Capability.SEND_MESSAGES) and not erased,
        # An erased person's requests and feedback are about them, so the anonymised profile shows none.
        "document_requests": [] if erased else document_requests_for_candidate(candidate=candidate),
        "shared_feedback": []
        if erased
        else shared_feedback_for_candidate(candidate=candidate, applications=applications),
        "applications": applications,
        # Unless one is being corrected, the forms are fetched when their panel opens (`*_form_view` below).
        "request_form": request_form,
        "feedback_form": feedback_form,
        "notice": notice,
    }


def _card(request: HttpRequest, context: dict[str, Any], *, status: int) -> HttpResponse:
    # HTMX swaps the card in place; without it, the same card on a page of its own shows the errors.
    template = "portal/_staff_card.html" if request.htmx else "portal/staff_card_page.html"
    return render(request, template, context, status=status)


def _shareable(request: HttpRequest, candidate_id: int) -> Candidate:
    candidate = candidate_get_for_user(user=request.user, candidate_id=candidate_id)
    ensure(request.user, Capability.SEND_MESSAGES)
    return candidate


@login_required
@scoped
@require_GET
def document_request_form_view(request: HttpRequest, candidate_id: int) -> HttpResponse:
    """The card's "Request a document" form, fetched when its panel opens."""
    candidate = _shareable(request, candidate_id)
    applications = _applications(request.user, candidate)
    context = {
        "candidate": candidate,
        "applications": applications,
        "request_form": DocumentRequestForm(applications=applications),
    }
    return render(request, "portal/_document_request_form.html", context)


@login_required
@scoped
@require_GET
def feedback_form_view(request: HttpRequest, candidate_id: int) -> HttpResponse:
    """The card's "Share feedback" form, fetched when its panel opens."""
    candidate = _shareable(request, candidate_id)
    applications = _applications(request.user, candidate)
    context = {"candidate": candidate, "feedback_form": FeedbackForm(applications=applications)}
    return render(request, "portal/_feedback_form.html", context)


@login_required
@scoped
@require_POST
def document_request_create_view(request: HttpRequest, candidate_id: int) -> HttpResponse:
    candidate = candidate_get_for_user(user=request.user, candidate_id=candidate_id)
    applications = _applications(request.user, candidate)
    form = DocumentRequestForm(request.POST, applications=applications)
    notice = ""
    if form.is_valid():
        data = form.cleaned_data
        chosen = {str(a.pk): a for a in applications}.get(data["application_id"] or "")
        try:
            outcome = document_request_create(
                actor=request.user,
                candidate=candidate,
                name=data["name"],
                instructions=data["instructions"],
                due_on=data["due_on"],
                application=chosen,
            )
        except ValidationFailed as exc:
            add_service_errors(form, exc)
        else:
            notice = (
                f"Requested. {candidate.first_name} was emailed a link to upload it."
                if outcome.emailed
                else f"Requested, but no email went ({outcome.email_problem}). "
                f"{candidate.first_name} sees the request when they sign in to the portal."
            )
            if not request.htmx:
                (flash.success if outcome.emailed else flash.warning)(request, notice)
                return redirect("candidates:detail", candidate.pk)
            context = staff_card_context(request=request, candidate=candidate, notice=notice)
            return _card(request, context, status=200)
    context = staff_card_context(request=request, candidate=candidate, request_form=form)
    context["open_form"] = "request"
    return _card(request, context, status=422)


@login_required
@scoped
@require_POST
def feedback_share_view(request: HttpRequest, candidate_id: int) -> HttpResponse:
    candidate = candidate_get_for_user(user=request.user, candidate_id=candidate_id)
    applications = _applications(request.user, candidate)
    form = FeedbackForm(request.POST, applications=applications)
    if form.is_valid():
        data = form.cleaned_data
        # The scoped selector again: a forged id for someone else's application is 404, never shared.
        application = application_get_for_user(user=request.user, application_id=data["application_id"])
        try:
            if application.candidate_id != candidate.pk:
                raise ValidationFailed.single("application_id", "Choose one of this person’s applications.")
            feedback_share(actor=request.user, application=application, text=data["text"], share=data["share"])
        except ValidationFailed as exc:
            add_service_errors(form, exc)
        else:
            notice = f"Shared with {candidate.first_name}; they read it in their portal."
            if not request.htmx:
                flash.success(request, notice)
                return redirect("candidates:detail", candidate.pk)
            return _card(request, staff_card_context(request=request, candidate=candidate, notice=notice), status=200)
    context = staff_card_context(request=request, candidate=candidate, feedback_form=form)
    context["open_form"] = "feedback"
    return _card(request, context, status=422)
