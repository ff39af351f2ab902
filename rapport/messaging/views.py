"""Workspace pages for message templates: list, create, edit with a live preview, delete."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from rapport.accounts.permissions import Capability, ensure
from rapport.candidates.selectors import candidates_visible_to
from rapport.common.errors import ValidationFailed
from rapport.common.web import add_service_errors, scoped
from rapport.jobs.models import JobStatus
from rapport.jobs.selectors import jobs_visible_to
from rapport.messaging.channels.whatsapp.services import message_template_save
from rapport.messaging.forms import MAX_VARIANT_ROWS, TemplateForm
from rapport.messaging.models import MessageTemplate, TemplateCategory, TemplateChannel
from rapport.messaging.rendering import FIELDS, LINKS, validate_parts
from rapport.messaging.selectors import (
    custom_field_keys,
    message_template_get_for_user,
    message_template_list,
    message_template_preview,
)
from rapport.messaging.services import message_template_delete

PREVIEW_PEOPLE = 50
PREVIEW_JOBS = 50


@login_required
@require_http_methods(["GET"])
@scoped
def template_list(request: HttpRequest) -> HttpResponse:
    ensure(request.user, Capability.MANAGE_TEMPLATES)
    channel = request.GET.get("channel", "")
    category = request.GET.get("category", "")
    channel = channel if channel in TemplateChannel.values else ""
    category = category if category in TemplateCategory.values else ""
    templates = list(message_template_list(user=request.user, channel=channel, category=category).order_by("name"))
    context = {
        "templates": templates,
        "channel": channel,
        "category": category,
        "channels": TemplateChannel.choices,
        "categories": TemplateCategory.choices,
        "is_filtered": bool(channel or category),
    }
    return render(request, "messaging/list.html", context)


def _preview_choices(request: HttpRequest) -> dict[str, Any]:
    """People and jobs to preview with: the most recently updated in the user's scope."""
    people = candidates_visible_to(request.user).order_by("-updated_at", "-id")[:PREVIEW_PEOPLE]
    jobs = (
        jobs_visible_to(request.user)
        .filter(status__in=[JobStatus.OPEN, JobStatus.ON_HOLD, JobStatus.DRAFT])
        .order_by("-id")[:PREVIEW_JOBS]
    )
    return {"preview_people": list(people), "preview_jobs": list(jobs)}


def _form_page(request: HttpRequest, form: TemplateForm, template: MessageTemplate | None) -> HttpResponse:
    context = {
        "form": form,
        "template": template,
        "variant_groups": form.variant_groups(),
        "can_add_variant": form.variant_rows < MAX_VARIANT_ROWS,
        "fields": FIELDS,
        "links": LINKS,
        "custom_keys": custom_field_keys(),
        **_preview_choices(request),
    }
    return render(request, "messaging/form.html", context)


def _save(request: HttpRequest, form: TemplateForm, template: MessageTemplate | None) -> MessageTemplate | None:
    data = form.service_data()
    chosen = form.cleaned_data.get("stage_template")
    initial = form.initial.get("stage_template")
    if template is None or chosen != initial:
        data["stage_template_id"] = chosen.pk if chosen else None
    try:
        return message_template_save(actor=request.user, template=template, data=data)
    except ValidationFailed as exc:
        add_service_errors(form, exc, field_map={"stage_template_id": "stage_template", **form.variant_field_map()})
        return None


def _wants_more_rows(request: HttpRequest) -> bool:
    return request.POST.get("action") == "add_variant"


@login_required
@require_http_methods(["GET", "POST"])
@scoped
def template_create(request: HttpRequest) -> HttpResponse:
    ensure(request.user, Capability.MANAGE_TEMPLATES)
    if request.method == "POST":
        rows = TemplateForm.rows_in(request.POST)
        form = TemplateForm(request.POST, variant_rows=rows)
        if _wants_more_rows(request):
            return _form_page(request, TemplateForm(request.POST, variant_rows=rows + 1), None)
        if form.is_valid():
            template = _save(request, form, None)
            if template is not None:
                messages.success(request, f"Created the template “{template.name}”.")
                return redirect("messaging:edit", template_id=template.pk)
    else:
        initial = {k: request.GET[k] for k in ("channel", "category") if request.GET.get(k)}
        form = TemplateForm(initial=initial)
    return _form_page(request, form, None)


@login_required
@require_http_methods(["GET", "POST"])
@scoped
def template_edit(request: HttpRequest, template_id: int) -> HttpResponse:
    template = message_template_get_for_user(user=request.user, template_id=template_id)
    ensure(request.user, Capability.MANAGE_TEMPLATES)
    initial = TemplateForm.initial_for(template)
    if request.method == "POST":
        rows = TemplateForm.rows_in(request.POST)
        if _wants_more_rows(request):
            return _form_page(request, TemplateForm(request.POST, initial=initial, variant_rows=rows + 1), template)
        form = TemplateForm(request.POST, initial=initial, variant_rows=rows)
        if form.is_valid():
            saved = _save(request, form, template)
            if saved is not None:
                messages.success(request, f"Saved “{saved.name}”.")
                return redirect("messaging:edit", template_id=saved.pk)
    else:
        form = TemplateForm(initial=initial, variant_rows=len(template.variants or []) + 1)
    return _form_page(request, form, template)


@login_required
@require_POST
@scoped
def template_delete(request: HttpRequest, template_id: int) -> HttpResponse:
    template = message_template_get_for_user(user=request.user, template_id=template_id)
    message_template_delete(actor=request.user, template=template)
    messages.success(request, f"Deleted the template “{template.name}”.")
    return redirect("messaging:list")


@login_required
@require_POST
@scoped
def template_preview(request: HttpRequest) -> HttpResponse:
    """The preview panel for the form as typed (saved or not): problems with their lines, or the rendered message."""
    ensure(request.user, Capability.MANAGE_TEMPLATES)
    form = TemplateForm(request.POST, variant_rows=TemplateForm.rows_in(request.POST))
    context: dict[str, Any] = {"problems": {}, "preview": None, "message": ""}
    if not form.is_valid():
        context["message"] = "Fill in the form to see a preview."
        return render(request, "messaging/_preview.html", context)
    data = form.service_data()
    draft = MessageTemplate(
        channel=data["channel"],
        subject=data["subject"] if data["channel"] == TemplateChannel.EMAIL else "",
        body=data["body"],
        language=data["language"],
        variants=data["variants"],
    )
    parts = {"subject": draft.subject, "body": draft.body}
    for variant in draft.variants:
        label = variant.get("language") or "?"
        parts[f"variants.{label}.subject"] = variant.get("subject", "")
        parts[f"variants.{label}.body"] = variant.get("body", "")
    candidate_id = request.POST.get("preview_candidate") or ""
    try:
        validate_parts(parts, custom_keys=custom_field_keys())
        if not candidate_id:
            context["message"] = "Pick a person to preview with."
        elif not draft.body.strip():
            context["message"] = "Write the message to see it here."
        else:
            context["preview"] = message_template_preview(
                user=request.user,
                template=draft,
                candidate_id=candidate_id,
                job_id=request.POST.get("preview_job") or None,
            )
    except ValidationFailed as exc:
        context["problems"] = exc.fields or {"": [exc.message]}
    return render(request, "messaging/_preview.html", context)
