"""Kanban actions on one application: move, reject, withdraw, reopen.

The board's script asks for JSON (to update counts in place or revert a drag); plain forms get a redirect back to the
job page, and the reject and withdraw pages also work on their own, without the dialog.
"""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from rapport.accounts.permissions import Capability, ensure
from rapport.common.errors import ApplicationError, NotFound, ValidationFailed
from rapport.common.web import add_service_errors, error_json, safe_next, scoped, wants_json
from rapport.jobs.forms import RejectForm, WithdrawForm
from rapport.jobs.selectors import stage_get_for_job
from rapport.jobs.views import engagement_level, job_url
from rapport.pipeline.models import Application
from rapport.pipeline.selectors import (
    application_get_for_user,
    days_in_stage,
    kanban_counts,
    rejection_reasons_active,
    rejection_templates_for,
)
from rapport.pipeline.services import (
    application_move,
    application_reject,
    application_reopen,
    application_withdraw,
)


def _include_closed(request: HttpRequest) -> bool:
    return (request.POST.get("closed") or request.GET.get("closed")) == "1"


def _done(request: HttpRequest, application: Application, message: str) -> HttpResponse:
    """Success: the new state and column counts for the board's script, or back to the board for a form."""
    include_closed = _include_closed(request)
    if wants_json(request):
        counts = kanban_counts(user=request.user, job=application.job, include_closed=include_closed)
        return JsonResponse(
            {
                "application": {
                    "id": str(application.pk),
                    "stage_id": str(application.stage_id),
                    "status": application.status,
                    "status_display": application.get_status_display(),
                    "days_in_stage": days_in_stage(application),
                    "engagement": engagement_level(application.candidate.engagement_score or 0),
                },
                "counts": {str(stage_id): n for stage_id, n in counts.items()},
                "message": message,
            }
        )
    messages.success(request, message)
    return redirect(safe_next(request, job_url(application.job, include_closed=include_closed)))


def _refused(request: HttpRequest, application: Application, exc: ApplicationError) -> HttpResponse:
    if wants_json(request):
        return error_json(exc)
    messages.error(request, exc.message)
    return redirect(safe_next(request, job_url(application.job, include_closed=_include_closed(request))))


@login_required
@require_POST
@scoped
def move(request: HttpRequest, application_id: int) -> HttpResponse:
    application = application_get_for_user(user=request.user, application_id=application_id)
    try:
        stage = stage_get_for_job(job=application.job, stage_id=request.POST.get("stage_id"))
    except NotFound:
        return _refused(request, application, ValidationFailed.single("stage_id", "Choose one of this job's stages."))
    try:
        application_move(actor=request.user, application=application, stage=stage)
    except ApplicationError as exc:
        if exc.status in (403, 404):
            raise
        return _refused(request, application, exc)
    return _done(request, application, f"Moved {application.candidate.full_name} to {stage.name}.")


def _dialog_page(
    request: HttpRequest, application: Application, template: str, form: Any, status: int = 200
) -> HttpResponse:
    context = {
        "application": application,
        "form": form,
        "back": job_url(application.job, include_closed=_include_closed(request)),
    }
    return render(request, template, context, status=status)


def _invalid(request: HttpRequest, application: Application, template: str, form: Any) -> HttpResponse:
    if wants_json(request):
        fields = {name: [str(e) for e in errors] for name, errors in form.errors.items() if name != "__all__"}
        general = form.non_field_errors()
        message = general[0] if general else next(iter(fields.values()))[0] if fields else "Please check the form."
        return JsonResponse(ValidationFailed(message, fields=fields).as_dict(), status=422)
    return _dialog_page(request, application, template, form)


@login_required
@require_http_methods(["GET", "POST"])
@scoped
def reject(request: HttpRequest, application_id: int) -> HttpResponse:
    application = application_get_for_user(user=request.user, application_id=application_id)
    ensure(request.user, Capability.MOVE_APPLICATIONS)
    reasons = list(rejection_reasons_active())
    emails = rejection_templates_for(request.user)
    template = "pipeline/reject.html"
    if request.method == "GET":
        return _dialog_page(request, application, template, RejectForm(reasons=reasons, templates=emails))
    form = RejectForm(request.POST, reasons=reasons, templates=emails)
    if not form.is_valid():
        return _invalid(request, application, template, form)
    try:
        application_reject(
            actor=request.user,
            application=application,
            reason_id=form.cleaned_data["reason"],
            note=form.cleaned_data["note"],
            notify=form.cleaned_data.get("notify", False),
            template_id=form.cleaned_data.get("template"),
        )
    except ApplicationError as exc:
        if exc.status in (403, 404):
            raise
        if exc.fields:
            add_service_errors(form, exc, {"reason_id": "reason", "template_id": "template"})
            return _invalid(request, application, template, form)
        return _refused(request, application, exc)
    return _done(request, application, f"Rejected {application.candidate.full_name}.")


@login_required
@require_http_methods(["GET", "POST"])
@scoped
def withdraw(request: HttpRequest, application_id: int) -> HttpResponse:
    application = application_get_for_user(user=request.user, application_id=application_id)
    ensure(request.user, Capability.MOVE_APPLICATIONS)
    template = "pipeline/withdraw.html"
    if request.method == "GET":
        return _dialog_page(request, application, template, WithdrawForm())
    form = WithdrawForm(request.POST)
    if not form.is_valid():
        return _invalid(request, application, template, form)
    try:
        application_withdraw(actor=request.user, application=application, note=form.cleaned_data["note"])
    except ApplicationError as exc:
        if exc.status in (403, 404):
            raise
        return _refused(request, application, exc)
    return _done(request, application, f"Marked {application.candidate.full_name} as withdrawn.")


@login_required
@require_POST
@scoped
def reopen(request: HttpRequest, application_id: int) -> HttpResponse:
    application = application_get_for_user(user=request.user, application_id=application_id)
    application_reopen(actor=request.user, application=application)
    return _done(request, application, f"Reopened {application.candidate.full_name}'s application.")
