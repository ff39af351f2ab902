"""The profile's compose panel: email, SMS or WhatsApp from a template, preview, send now or schedule; and the
person's messages.

Only roles that may message candidates (admins and recruiters) get these fragments; the profile leaves them out
for the others, and the endpoints answer 403. People out of scope are 404, as everywhere.
"""

import json
import zoneinfo
from typing import Any

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from rapport.accounts.models import User
from rapport.accounts.permissions import Capability, can, ensure
from rapport.candidates.models import Candidate
from rapport.candidates.selectors import candidate_get_for_user
from rapport.common.errors import ApplicationError, ValidationFailed
from rapport.common.web import add_service_errors, scoped
from rapport.jobs.selectors import jobs_visible_to
from rapport.messaging.forms import ComposeForm
from rapport.messaging.models import MessageTemplate, TemplateChannel
from rapport.messaging.rendering import pick_variant
from rapport.messaging.selectors import (
    frequency_cap_warning,
    message_render,
    message_templates_visible_to,
    primary_email,
    primary_phone,
    stage_template_suggestion,
)
from rapport.messaging.services import message_send
from rapport.timeline.selectors import candidate_timeline


def _timezone_name(candidate: Candidate) -> str:
    """Schedules are typed in the person's own time ("9:00 their time"), else in UTC."""
    if candidate.timezone:
        try:
            zoneinfo.ZoneInfo(candidate.timezone)
            return candidate.timezone
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
    return "UTC"


def default_channel(candidate: Candidate) -> str:
    """The person's preferred channel when we have the address it needs, else email, else a text channel."""
    has_email, has_phone = bool(primary_email(candidate)), bool(primary_phone(candidate))
    preferred = candidate.preferred_channel
    if preferred == TemplateChannel.EMAIL and has_email:
        return preferred
    if preferred in (TemplateChannel.SMS, TemplateChannel.WHATSAPP) and has_phone:
        return preferred
    return TemplateChannel.SMS if has_phone and not has_email else TemplateChannel.EMAIL


def _form(user: User, candidate: Candidate, data: Any = None, initial: dict | None = None) -> ComposeForm:
    initial = dict(initial or {})
    if data is not None and not data.get("channel"):
        # A post without a channel (a script, an old page) means email, as the API's default does.
        data = data.copy()
        data["channel"] = TemplateChannel.EMAIL
    if data is None and initial.get("channel") not in TemplateChannel.values:
        initial["channel"] = default_channel(candidate)
    channel = (data if data is not None else initial)["channel"]
    # The template picker offers the chosen channel's templates only.
    templates = message_templates_visible_to(user).filter(channel=channel).order_by("name")
    jobs = jobs_visible_to(user).filter(applications__candidate=candidate).distinct().order_by("title")
    form = ComposeForm(data, initial=initial, templates=templates, jobs=jobs, timezone_name=_timezone_name(candidate))
    # Changing the channel or the template redraws the panel: the channel's templates, the template's text.
    for name in ("channel", "template"):
        form.fields[name].widget.attrs.update(
            {
                "hx-post": reverse("messages:prefill", args=[candidate.pk]),
                "hx-trigger": "change",
                "hx-target": "#email-compose",
                "hx-swap": "outerHTML",
                "hx-include": "#compose-form",
            }
        )
    return form


def _is_valid(form: ComposeForm, candidate: Candidate) -> bool:
    with timezone.override(zoneinfo.ZoneInfo(_timezone_name(candidate))):
        return form.is_valid()


def profile_context(user: User, candidate: Candidate) -> dict[str, Any]:
    """What the profile needs for the Email panel and the Messages section; the form itself is fetched on opening
    (`compose_panel`)."""
    return {"can_message": can(user, Capability.SEND_MESSAGES) and candidate.erased_at is None}


def _compose_context(user: User, candidate: Candidate) -> dict[str, Any]:
    suggestion = _stage_suggestion(user, candidate)
    return {
        "candidate": candidate,
        "compose_suggested_stage": suggestion.pop("suggested_stage", ""),
        "compose_form": _form(user, candidate, initial=suggestion),
        "has_email": bool(primary_email(candidate)),
        "has_phone": bool(primary_phone(candidate)),
        "cap_warning": frequency_cap_warning(candidate=candidate),
    }


def _panel(request: HttpRequest, candidate: Candidate, form: ComposeForm, *, status: int = 200) -> HttpResponse:
    context = {
        "candidate": candidate,
        "compose_form": form,
        "compose_open": True,
        "has_email": True,
        "cap_warning": frequency_cap_warning(candidate=candidate),
    }
    return render(request, "messaging/_compose.html", context, status=status)


def _stage_suggestion(user: User, candidate: Candidate) -> dict[str, Any]:
    """The compose panel opens with the template of the person's current stage, when that stage has one."""
    channel = default_channel(candidate)
    suggestion = stage_template_suggestion(user=user, candidate=candidate, channel=channel)
    if suggestion is None:
        return {}
    template, application = suggestion
    chosen = pick_variant(
        default_language=template.language,
        subject=template.subject,
        body=template.body,
        variants=template.variants or [],
        language=candidate.language,
    )
    return {
        "channel": channel,
        "template": template.pk,
        "job": application.job_id,
        "subject": chosen.subject,
        "body": chosen.body,
        "suggested_stage": application.stage.name,
    }


def _candidate(request: HttpRequest, candidate_id: int) -> Candidate:
    candidate = candidate_get_for_user(user=request.user, candidate_id=candidate_id)
    ensure(request.user, Capability.SEND_MESSAGES)
    return candidate


@login_required
@require_GET
@scoped
def compose_panel(request: HttpRequest, candidate_id: int) -> HttpResponse:
    """The panel's form, with the template of the person's current stage, when the profile's panel first opens."""
    candidate = _candidate(request, candidate_id)
    return render(request, "messaging/_compose_body.html", _compose_context(request.user, candidate))


@login_required
@require_POST
@scoped
def compose_prefill(request: HttpRequest, candidate_id: int) -> HttpResponse:
    """Picking a template fills the subject and message with its text in the person's language, to edit freely."""
    candidate = _candidate(request, candidate_id)
    form = _form(request.user, candidate, request.POST)
    _is_valid(form, candidate)
    template: MessageTemplate | None = form.cleaned_data.get("template") if hasattr(form, "cleaned_data") else None
    data = request.POST.copy()
    if request.headers.get("HX-Trigger-Name") == "channel":
        # Another channel: its own templates are offered, and the text written so far is kept.
        template = None
        data["template"] = ""
    if template is not None:
        chosen = pick_variant(
            default_language=template.language,
            subject=template.subject,
            body=template.body,
            variants=template.variants or [],
            language=candidate.language,
        )
        data["subject"], data["body"] = chosen.subject, chosen.body
    return _panel(request, candidate, _form(request.user, candidate, initial=_initial(data)))


def _initial(data: Any) -> dict[str, Any]:
    return {name: data.get(name, "") for name in ("channel", "template", "job", "subject", "body", "send_at")}


@login_required
@require_POST
@scoped
def compose_preview(request: HttpRequest, candidate_id: int) -> HttpResponse:
    """The message exactly as this person would get it, or the problems that stop it, with their lines."""
    candidate = _candidate(request, candidate_id)
    form = _form(request.user, candidate, request.POST)
    context: dict[str, Any] = {"problems": {}, "preview": None, "message": ""}
    if not _is_valid(form, candidate):
        context["problems"] = {name: list(errors) for name, errors in form.errors.items()}
        return render(request, "messaging/_preview.html", context)
    data = form.cleaned_data
    text_only = form.is_text
    address = primary_phone(candidate) if text_only else primary_email(candidate)
    if not data["body"].strip() and data["template"] is None:
        context["message"] = "Write the message, or pick a template, to see it here."
        return render(request, "messaging/_preview.html", context)
    try:
        context["preview"] = message_render(
            sender=request.user,
            candidate=candidate,
            address=address or ("+10000000000" if text_only else "preview@example.invalid"),
            template=data["template"],
            subject="" if text_only else data["subject"],
            body=data["body"],
            job=data["job"],
            channel=data["channel"],
        )
    except ValidationFailed as exc:
        context["problems"] = exc.fields or {"": [exc.message]}
    return render(request, "messaging/_preview.html", context)


@login_required
@require_POST
@scoped
def compose_send(request: HttpRequest, candidate_id: int) -> HttpResponse:
    candidate = _candidate(request, candidate_id)
    form = _form(request.user, candidate, request.POST)
    schedule = request.POST.get("action") == "schedule"
    if _is_valid(form, candidate):
        data = form.cleaned_data
        if schedule and data["send_at"] is None:
            form.add_error("send_at", "Pick when to send it.")
        else:
            try:
                message = message_send(
                    actor=request.user,
                    candidate=candidate,
                    template=data["template"],
                    subject=data["subject"],
                    body=data["body"],
                    job=data["job"],
                    send_at=data["send_at"] if schedule else None,
                    idempotency_key=request.POST.get("idempotency_key") or None,
                    channel=data["channel"],
                )
            except ApplicationError as exc:
                # "No phone number" and "suppressed" name the person; they belong above the form, not on a field.
                add_service_errors(form, exc, field_map={"template_id": "template", "job_id": "job"})
            else:
                return _sent(request, candidate, message.status)
    if not request.htmx:
        # Without JavaScript the panel cannot be swapped in place: say what is wrong on the profile instead.
        first = next(iter(form.errors.values()))[0] if form.errors else "The message could not be sent."
        flash.error(request, first)
        return redirect("candidates:detail", candidate.pk)
    return _panel(request, candidate, form, status=422)


def _sent(request: HttpRequest, candidate: Candidate, status: str) -> HttpResponse:
    text = "Scheduled." if status == "scheduled" else "Queued to send."
    if not request.htmx:
        flash.success(request, text)
        return redirect("candidates:detail", candidate.pk)
    context = {
        "candidate": candidate,
        "compose_form": _form(request.user, candidate),
        "oob_messages": True,
        # The new "wrote an email" event goes on top of the timeline, as a new note does.
        "activities": candidate_timeline(user=request.user, candidate=candidate, types=["message.queued"], limit=1)[0],
    }
    response = render(request, "messaging/_compose_sent.html", context)
    response["HX-Trigger"] = json.dumps({"rapport:toast": {"message": text, "level": "success"}})
    return response
