"""The candidate portal: magic-link sign-in, applications, messages, the privacy centre and preferences.

Every page behind sign-in takes the person from the portal session (`portal_required`) and reads only through
selectors scoped to that person, so another person's id in a URL is "not found". Every change is a CSRF-checked
POST. Pages are never cached: they show personal data, possibly on a shared computer.
"""

import json
from typing import Any

from django.contrib import messages as flash
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rapport.candidates.models import Candidate
from rapport.careers.selectors import career_filter_options
from rapport.common.errors import ApplicationError, NotFound
from rapport.common.web import add_service_errors
from rapport.pipeline.services import application_withdraw
from rapport.portal.forms import LANGUAGE_CHOICES, DocumentUploadForm, FullPreferencesForm, MessageForm, SignInForm
from rapport.portal.selectors import (
    portal_application_get,
    portal_application_views,
    portal_birthday_greetings,
    portal_document_request_get,
    portal_document_requests,
    portal_max_per_week,
    portal_message_text,
    portal_messages,
    portal_open_document_count,
    portal_quiet_hours,
    portal_upcoming_interviews,
)
from rapport.portal.services import (
    RateLimitExceeded,
    SignInLinkInvalid,
    portal_channel_states,
    portal_message_send,
    portal_preferences_update,
    portal_visit_record,
    sign_in_link_consume,
    sign_in_link_request,
)
from rapport.portal.services_documents import document_upload
from rapport.portal.session import portal_candidate, portal_required, portal_session_end, portal_session_start
from rapport.privacy.selectors import consent_get_for_candidate, consents_for, deletion_request_pending_for
from rapport.privacy.services import (
    candidate_data_export,
    consent_withdraw,
    deletion_request_create,
)


def _client_address(request: HttpRequest) -> str:
    # REMOTE_ADDR only, as in the API's rate limit: X-Forwarded-For is whatever the client wants it to be.
    return request.META.get("REMOTE_ADDR") or "unknown"


def _render(request: HttpRequest, template: str, context: dict, *, candidate: Candidate | None = None, status=200):
    context.setdefault("portal_person", candidate)
    return render(request, f"portal/{template}", context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    if request.method == "GET" and portal_candidate(request) is not None:
        return redirect("portal:home")
    form = SignInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            sign_in_link_request(email=form.cleaned_data["email"], client_address=_client_address(request))
        except RateLimitExceeded as exc:
            form.add_error(None, exc.message)
            return _render(request, "sign_in.html", {"form": form}, status=429)
        except ApplicationError as exc:
            add_service_errors(form, exc)
            return _render(request, "sign_in.html", {"form": form}, status=422)
        # The same answer whether or not the address is known, so nobody can find out who applied.
        return _render(request, "check_email.html", {"email": form.cleaned_data["email"].strip()})
    return _render(request, "sign_in.html", {"form": form}, status=422 if form.errors else 200)


@never_cache
@require_http_methods(["GET", "POST"])
def sign_in_link(request: HttpRequest, token: str) -> HttpResponse:
    """GET only shows a button: mail scanners fetch links, and must not use up the person's sign-in."""
    if request.method == "GET":
        return _render(request, "sign_in_link.html", {"token": token})
    try:
        candidate = sign_in_link_consume(raw=token)
    except SignInLinkInvalid as exc:
        return _render(request, "sign_in.html", {"form": SignInForm(), "link_error": exc.message}, status=400)
    portal_session_start(request, candidate)
    portal_visit_record(candidate=candidate)
    return redirect("portal:home")


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    portal_session_end(request)
    flash.success(request, "You are signed out.")
    return redirect("portal:sign_in")


@never_cache
@require_GET
@portal_required
def home(request: HttpRequest, candidate: Candidate) -> HttpResponse:
    context = {
        "applications": portal_application_views(candidate=candidate),
        "interviews": portal_upcoming_interviews(candidate=candidate),
        "open_documents": portal_open_document_count(candidate=candidate),
        "nav": "home",
    }
    return _render(request, "home.html", context, candidate=candidate)


@require_POST
@portal_required
def withdraw(request: HttpRequest, candidate: Candidate, application_id: int) -> HttpResponse:
    try:
        application = portal_application_get(candidate=candidate, application_id=application_id)
        application_withdraw(actor=None, application=application, note="Withdrawn by the candidate in the portal")
    except NotFound:
        raise Http404("No such application.")
    except ApplicationError as exc:
        flash.error(request, exc.message)
        return redirect("portal:home")
    flash.success(request, f"Your application for {application.job.title} is withdrawn.")
    return redirect("portal:home")


@never_cache
@require_http_methods(["GET", "POST"])
@portal_required
def conversation(request: HttpRequest, candidate: Candidate) -> HttpResponse:
    form = MessageForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                portal_message_send(candidate=candidate, text=form.cleaned_data["text"])
            except RateLimitExceeded as exc:
                form.add_error("text", exc.message)
                status = 429
            except ApplicationError as exc:
                add_service_errors(form, exc)
                status = 422
            else:
                flash.success(request, "Message sent. The team will reply here and by email.")
                return redirect("portal:messages")
        else:
            status = 422
    thread = [(message, portal_message_text(message)) for message in portal_messages(candidate=candidate)]
    context = {"form": form, "thread": thread, "nav": "messages"}
    return _render(request, "messages.html", context, candidate=candidate, status=status)


@never_cache
@require_GET
@portal_required
def privacy(request: HttpRequest, candidate: Candidate) -> HttpResponse:
    context = {
        "consents": list(consents_for(candidate=candidate)),
        "deletion_request": deletion_request_pending_for(candidate=candidate),
        "nav": "privacy",
    }
    return _render(request, "privacy.html", context, candidate=candidate)


@require_POST
@portal_required
def consent_withdraw_view(request: HttpRequest, candidate: Candidate, consent_id: int) -> HttpResponse:
    try:
        consent = consent_get_for_candidate(candidate=candidate, consent_id=consent_id)
        consent_withdraw(candidate=candidate, consent=consent)
    except NotFound:
        raise Http404("No such consent.")
    except ApplicationError as exc:
        flash.error(request, exc.message)
        return redirect("portal:privacy")
    flash.success(request, "Your consent is withdrawn.")
    return redirect("portal:privacy")


@never_cache
@require_GET
@portal_required
def export(request: HttpRequest, candidate: Candidate) -> HttpResponse:
    data = candidate_data_export(candidate=candidate)
    response = HttpResponse(
        json.dumps(data, indent=2, ensure_ascii=False, default=str), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="my-data.json"'
    return response


@require_POST
@portal_required
def deletion_request(request: HttpRequest, candidate: Candidate) -> HttpResponse:
    deletion_request_create(candidate=candidate)
    flash.success(request, "We have your request. An administrator will erase your data and confirm by email.")
    return redirect("portal:privacy")


def _interest_initial(candidate: Candidate, options: dict[str, list[str]]) -> dict[str, Any]:
    """The person's interest tags split back into the form's three fields; anything not a listed team or location
    is a keyword."""
    from rapport.careers.services import INTEREST_TAG_PREFIX

    departments = {name.lower() for name in options["departments"]}
    locations = {name.lower() for name in options["locations"]}
    initial: dict[str, Any] = {"departments": [], "locations": [], "keywords": []}
    for tag in candidate.candidate_tags.values_list("tag__name", flat=True).order_by("tag__name"):
        if not tag.lower().startswith(INTEREST_TAG_PREFIX):
            continue
        name = tag[len(INTEREST_TAG_PREFIX) :]
        field = (
            "departments" if name.lower() in departments else "locations" if name.lower() in locations else "keywords"
        )
        initial[field].append(name)
    initial["keywords"] = ", ".join(initial["keywords"])
    return initial


@never_cache
@require_http_methods(["GET", "POST"])
@portal_required
def preferences(request: HttpRequest, candidate: Candidate) -> HttpResponse:
    states = portal_channel_states(candidate=candidate)
    options = career_filter_options()
    quiet = portal_quiet_hours(candidate=candidate)
    initial: dict[str, Any] = {
        "preferred_channel": candidate.preferred_channel,
        "language": candidate.language,
        "timezone": candidate.timezone,
        "quiet_hours_start": quiet[0],
        "quiet_hours_end": quiet[1],
        "birthday_greetings": portal_birthday_greetings(candidate=candidate),
        "max_per_week": portal_max_per_week(candidate=candidate),
    }
    initial.update({channel: bool(state) for channel, state in states.items()})
    initial.update(_interest_initial(candidate, options))
    form = FullPreferencesForm(request.POST or None, initial=initial)
    # A person's current interests stay choosable even when no open job has that team or place right now.
    form.set_interest_choices(
        departments=list(dict.fromkeys([*options["departments"], *initial["departments"]])),
        locations=list(dict.fromkeys([*options["locations"], *initial["locations"]])),
    )
    if candidate.language and candidate.language not in dict(LANGUAGE_CHOICES):
        form.fields["language"].choices = [*LANGUAGE_CHOICES, (candidate.language, candidate.language)]
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                portal_preferences_update(
                    candidate=candidate,
                    preferred_channel=data["preferred_channel"],
                    language=data["language"],
                    channels={channel: data[channel] for channel, state in states.items() if state is not None},
                    timezone_name=data["timezone"],
                    quiet_hours=(data["quiet_hours_start"], data["quiet_hours_end"]),
                    interests={
                        "departments": data["departments"],
                        "locations": data["locations"],
                        "keywords": data["keywords"],
                    },
                    birthday_greetings=data["birthday_greetings"],
                    max_per_week=data["max_per_week"],
                )
            except ApplicationError as exc:
                add_service_errors(form, exc)
                status = 422
            else:
                flash.success(request, "Your preferences are saved.")
                return redirect("portal:preferences")
        else:
            status = 422
    context = {"form": form, "states": states, "nav": "preferences"}
    return _render(request, "preferences.html", context, candidate=candidate, status=status)


@never_cache
@require_GET
@portal_required
def documents(request: HttpRequest, candidate: Candidate) -> HttpResponse:
    return _render_documents(request, candidate)


def _render_documents(
    request: HttpRequest, candidate: Candidate, *, failed: int | None = None, form=None, status: int = 200
) -> HttpResponse:
    rows = []
    for item in portal_document_requests(candidate=candidate):
        if item.pk == failed and form is not None:
            rows.append((item, form))
        else:
            rows.append((item, DocumentUploadForm(auto_id=f"doc{item.pk}_%s")))
    context = {"rows": rows, "nav": "documents"}
    return _render(request, "documents.html", context, candidate=candidate, status=status)


@require_POST
@portal_required
def document_upload_view(request: HttpRequest, candidate: Candidate, request_id: int) -> HttpResponse:
    try:
        document_request = portal_document_request_get(candidate=candidate, request_id=request_id)
    except NotFound:
        raise Http404("No such document request.")
    form = DocumentUploadForm(request.POST, request.FILES, auto_id=f"doc{document_request.pk}_%s")
    if not form.is_valid():
        return _render_documents(request, candidate, failed=document_request.pk, form=form, status=422)
    try:
        document_upload(candidate=candidate, document_request=document_request, upload=form.cleaned_data["file"])
    except ApplicationError as exc:
        # Every refusal here is about the file (its type, size, or too many uploads), so it shows next to it.
        if exc.fields:
            add_service_errors(form, exc)
        else:
            form.add_error("file", exc.message)
        return _render_documents(request, candidate, failed=document_request.pk, form=form, status=exc.status)
    flash.success(request, f"Thank you. We have your {document_request.name}.")
    return redirect("portal:documents")
