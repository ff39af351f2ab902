"""Admin settings for pipelines and people: rejection reasons, custom fields and the organisation stage template."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rapport.accounts.permissions import Capability, ensure
from rapport.candidates.selectors import custom_field_definition_get, custom_field_definitions
from rapport.candidates.services import custom_field_create, custom_fields_reorder
from rapport.common.errors import Conflict, ValidationFailed
from rapport.common.web import add_service_errors, scoped
from rapport.jobs.forms import CustomFieldForm, RejectionReasonForm, StageForm, StageRenameForm
from rapport.jobs.selectors import stage_template_get
from rapport.jobs.services import (
    stage_template_add,
    stage_template_delete,
    stage_template_rename,
    stage_templates_ensure,
    stage_templates_reorder,
)
from rapport.pipeline.selectors import rejection_reason_get, rejection_reasons_all
from rapport.pipeline.services import (
    rejection_reason_activate,
    rejection_reason_create,
    rejection_reason_deactivate,
    rejection_reasons_ensure,
)

SECTIONS = [
    ("jobs:settings_reasons", "Rejection reasons"),
    ("jobs:settings_fields", "Custom fields"),
    ("jobs:settings_stages", "Stage template"),
]


def _render(request: HttpRequest, template: str, section: str, context: dict, status: int = 200) -> HttpResponse:
    return render(request, template, {"sections": SECTIONS, "section": section, **context}, status=status)


def _swap(ids: list[int], moving: int, direction: str | None) -> list[int] | None:
    """The order after moving one id up or down, or None when it cannot move that way."""
    index = ids.index(moving)
    target = {"up": index - 1, "down": index + 1}.get(direction or "")
    if target is None or not 0 <= target < len(ids):
        return None
    ids = list(ids)
    ids[index], ids[target] = ids[target], ids[index]
    return ids


@login_required
@require_GET
@scoped
def settings_index(request: HttpRequest) -> HttpResponse:
    ensure(request.user, Capability.ADMINISTER)
    return redirect("jobs:settings_reasons")


# --- Rejection reasons ------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@scoped
def reasons(request: HttpRequest) -> HttpResponse:
    ensure(request.user, Capability.ADMINISTER)
    form = RejectionReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            reason = rejection_reason_create(actor=request.user, name=form.cleaned_data["name"])
        except ValidationFailed as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Added the reason “{reason.name}”.")
            return redirect("jobs:settings_reasons")
    rejection_reasons_ensure()
    return _render(
        request,
        "settings/reasons.html",
        "jobs:settings_reasons",
        {"form": form, "reasons": list(rejection_reasons_all())},
    )


@login_required
@require_POST
@scoped
def reason_deactivate(request: HttpRequest, reason_id: int) -> HttpResponse:
    ensure(request.user, Capability.ADMINISTER)
    reason = rejection_reason_deactivate(actor=request.user, reason=rejection_reason_get(reason_id=reason_id))
    messages.success(request, f"“{reason.name}” is no longer offered when rejecting. Past rejections keep it.")
    return redirect("jobs:settings_reasons")


@login_required
@require_POST
@scoped
def reason_activate(request: HttpRequest, reason_id: int) -> HttpResponse:
    ensure(request.user, Capability.ADMINISTER)
    reason = rejection_reason_activate(actor=request.user, reason=rejection_reason_get(reason_id=reason_id))
    messages.success(request, f"“{reason.name}” is offered again when rejecting.")
    return redirect("jobs:settings_reasons")


# --- Custom fields ----------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@scoped
def custom_fields(request: HttpRequest) -> HttpResponse:
    ensure(request.user, Capability.ADMINISTER)
    form = CustomFieldForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            definition = custom_field_create(
                actor=request.user,
                label=form.cleaned_data["label"],
                field_type=form.cleaned_data["field_type"],
                key=form.cleaned_data["key"],
                choices=form.choice_list(),
            )
        except ValidationFailed as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Added the custom field “{definition.label}” ({definition.key}).")
            return redirect("jobs:settings_fields")
    return _render(
        request,
        "settings/custom_fields.html",
        "jobs:settings_fields",
        {"form": form, "definitions": list(custom_field_definitions())},
    )


@login_required
@require_POST
@scoped
def custom_field_move(request: HttpRequest, definition_id: int) -> HttpResponse:
    ensure(request.user, Capability.ADMINISTER)
    definition = custom_field_definition_get(definition_id=definition_id)
    order = _swap([d.pk for d in custom_field_definitions()], definition.pk, request.POST.get("direction"))
    if order is None:
        messages.error(request, f"“{definition.label}” cannot move further that way.")
    else:
        custom_fields_reorder(actor=request.user, definition_ids=order)
    return redirect("jobs:settings_fields")


# --- Stage template ---------------------------------------------------------------------------------------------


def _render_template_stages(
    request: HttpRequest,
    *,
    add_form: StageForm | None = None,
    rename_forms: dict[int, StageRenameForm] | None = None,
    error: str = "",
) -> HttpResponse:
    templates = stage_templates_ensure()
    rename_forms = rename_forms or {}
    rows = [
        {
            "stage": template,
            "form": rename_forms.get(template.pk)
            or StageRenameForm(initial={"name": template.name}, prefix=f"t{template.pk}"),
            "first": index == 0,
            "last": index == len(templates) - 1,
        }
        for index, template in enumerate(templates)
    ]
    return _render(
        request,
        "settings/stages.html",
        "jobs:settings_stages",
        {"rows": rows, "add_form": add_form or StageForm(), "error": error},
    )


@login_required
@require_http_methods(["GET", "POST"])
@scoped
def stage_template(request: HttpRequest) -> HttpResponse:
    ensure(request.user, Capability.ADMINISTER)
    if request.method == "GET":
        return _render_template_stages(request)
    form = StageForm(request.POST)
    if form.is_valid():
        try:
            template = stage_template_add(
                actor=request.user, name=form.cleaned_data["name"], category=form.cleaned_data["category"]
            )
        except ValidationFailed as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Added {template.name} to the template. New jobs will have it.")
            return redirect("jobs:settings_stages")
    return _render_template_stages(request, add_form=form)


@login_required
@require_POST
@scoped
def stage_template_rename_view(request: HttpRequest, template_id: int) -> HttpResponse:
    ensure(request.user, Capability.ADMINISTER)
    template = stage_template_get(template_id=template_id)
    form = StageRenameForm(request.POST, prefix=f"t{template.pk}")
    if form.is_valid():
        old = template.name
        try:
            stage_template_rename(actor=request.user, template=template, name=form.cleaned_data["name"])
        except ValidationFailed as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Renamed {old} to {template.name} in the template.")
            return redirect("jobs:settings_stages")
    return _render_template_stages(request, rename_forms={template.pk: form})


@login_required
@require_POST
@scoped
def stage_template_move(request: HttpRequest, template_id: int) -> HttpResponse:
    ensure(request.user, Capability.ADMINISTER)
    template = stage_template_get(template_id=template_id)
    order = _swap([t.pk for t in stage_templates_ensure()], template.pk, request.POST.get("direction"))
    if order is None:
        return _render_template_stages(request, error=f"{template.name} cannot move further that way.")
    stage_templates_reorder(actor=request.user, template_ids=order)
    return redirect("jobs:settings_stages")


@login_required
@require_POST
@scoped
def stage_template_delete_view(request: HttpRequest, template_id: int) -> HttpResponse:
    ensure(request.user, Capability.ADMINISTER)
    template = stage_template_get(template_id=template_id)
    try:
        stage_template_delete(actor=request.user, template=template)
    except Conflict as exc:
        return _render_template_stages(request, error=exc.message)
    messages.success(request, f"Took {template.name} out of the template. Existing jobs keep their stages.")
    return redirect("jobs:settings_stages")
