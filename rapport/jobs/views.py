"""Recruiter workspace pages for jobs: the list, create/edit, the job page with its kanban, and its stages."""

from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rapport.accounts.permissions import Capability, can, ensure
from rapport.candidates.selectors import candidate_get_for_user, candidate_picker
from rapport.common.errors import ApplicationError, Conflict, Duplicate, NotFound, ValidationFailed
from rapport.common.pagination import decode_cursor, encode_cursor
from rapport.common.templatetags.rapport_tags import icon
from rapport.common.web import add_service_errors, scoped
from rapport.jobs.forms import JOB_FIELD_MAP, JobForm, RejectForm, StageForm, StageRenameForm, WithdrawForm
from rapport.jobs.models import Job, JobStatus, StageCategory
from rapport.jobs.selectors import (
    job_get_for_user,
    job_stage_counts,
    job_status_counts,
    stage_get_for_job,
    stages_for_job,
    stages_for_jobs,
)
from rapport.jobs.selectors import job_list as jobs_for_user
from rapport.jobs.services import (
    client_create,
    job_create,
    job_update,
    stage_add,
    stage_default_template_set,
    stage_delete,
    stage_public_label_set,
    stage_rename,
    stages_reorder,
)
from rapport.messaging.selectors import message_template_get_for_user, message_templates_visible_to
from rapport.pipeline.models import Application, ApplicationStatus
from rapport.pipeline.selectors import (
    candidate_ids_on_job,
    days_in_stage,
    job_kanban,
    kanban_column_page,
    kanban_counts,
    rejection_reasons_active,
    rejection_templates_for,
)
from rapport.pipeline.services import application_create
from rapport.portal.selectors import public_label

JOBS_PER_PAGE = 50
# Enough to fill a screen with room to scroll; a 5,000-application job pages each column with "Show more".
CARDS_PER_COLUMN = 20
PICKER_RESULTS = 10


def engagement_level(score: int) -> str:
    if score >= 60:
        return "high"
    if score >= 30:
        return "medium"
    return "low"


STALE_AFTER_DAYS = 14
_STATUS_LABELS = dict(ApplicationStatus.choices)


def prepare_cards(cards: list[Application]) -> list[Application]:
    """Attach what a card shows, computed once here: template logic per card is what makes a big board slow."""
    for card in cards:
        person = card.candidate
        card.name = person.full_name
        card.subtitle = " · ".join(part for part in (person.current_title, person.current_company) if part)
        card.days = days_in_stage(card)
        card.days_title = f"{card.days} day{'' if card.days == 1 else 's'} in this stage"
        card.score = person.engagement_score or 0
        card.engagement = engagement_level(card.score)
        closed = card.status != ApplicationStatus.ACTIVE
        card.status_label = _STATUS_LABELS[card.status] if closed else ""
        card.stale = card.days >= STALE_AFTER_DAYS and not closed
        card.css = f" is-locked is-{card.status}" if closed else ""
        card.aria = f"{card.name}, {card.days_title}" + (f", {card.status_label.lower()}" if closed else "")
    return cards


def card_icons() -> dict[str, str]:
    return {"clock": icon("clock", "icon icon--sm"), "more": icon("more")}


def more_cursor(cards: list[Application]) -> str:
    last = cards[-1]
    return encode_cursor({"t": last.stage_entered_at.isoformat(), "i": last.pk})


def _parse_after(raw: str | None) -> tuple[datetime, int] | None:
    data = decode_cursor(raw)
    if not data:
        return None
    entered = parse_datetime(str(data.get("t", "")))
    try:
        last_id = int(data.get("i"))
    except (TypeError, ValueError):
        last_id = None
    if entered is None or last_id is None:
        raise ValidationFailed.single("after", "Not a valid position in this column.")
    return entered, last_id


def _include_closed(request: HttpRequest) -> bool:
    return (request.GET.get("closed") or request.POST.get("closed")) == "1"


# ---------------------------------------------------------------------------------------------------------------
# List, create, edit


@login_required
@require_GET
@scoped
def job_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    if status not in JobStatus.values:
        status = ""
    q = (request.GET.get("q") or "").strip()[:100]
    paginator = Paginator(
        jobs_for_user(user=request.user, status=status or None, q=q or None, with_active_count=False), JOBS_PER_PAGE
    )
    page = paginator.get_page(request.GET.get("page"))
    jobs = list(page.object_list)
    ids = [job.pk for job in jobs]
    counts = job_stage_counts(user=request.user, job_ids=ids, include_hired=True)
    stages = stages_for_jobs(job_ids=ids)
    rows = [
        {
            "job": job,
            "stages": [(stage, counts.get(job.pk, {}).get(stage.pk, 0)) for stage in stages[job.pk]],
            "total": sum(counts.get(job.pk, {}).values()),
        }
        for job in jobs
    ]
    status_counts = job_status_counts(user=request.user)
    context = {
        "rows": rows,
        "page": page,
        "q": q,
        "status": status,
        "status_filters": [("", "All", sum(status_counts.values()))]
        + [(value, label, status_counts.get(value, 0)) for value, label in JobStatus.choices],
        "can_manage": can(request.user, Capability.MANAGE_JOBS),
        "is_filtered": bool(q or status),
    }
    template = "jobs/_job_table.html" if request.htmx and request.htmx.target == "job-table" else "jobs/job_list.html"
    return render(request, template, context)


def _save_job(request: HttpRequest, form: JobForm, job: Job | None) -> Job | None:
    """Create or update from a valid form; on a service error the messages go next to the fields."""
    try:
        with transaction.atomic():
            client_id = None
            new_client = (form.cleaned_data.get("new_client") or "").strip()
            if new_client:
                try:
                    client_id = client_create(actor=request.user, name=new_client).pk
                except ValidationFailed as exc:
                    add_service_errors(form, exc, {"name": "new_client", "website": "new_client"})
                    return None
            data = form.service_data(client_id=client_id)
            if job is None:
                return job_create(actor=request.user, data=data)
            return job_update(actor=request.user, job=job, data=data)
    except (ValidationFailed, Conflict) as exc:
        add_service_errors(form, exc, JOB_FIELD_MAP)
        return None


@login_required
@require_http_methods(["GET", "POST"])
@scoped
def job_create_view(request: HttpRequest) -> HttpResponse:
    ensure(request.user, Capability.MANAGE_JOBS)
    if request.method == "POST":
        form = JobForm(request.POST)
        if form.is_valid():
            job = _save_job(request, form, None)
            if job is not None:
                messages.success(request, f"Created {job.title} with the default stages.")
                return redirect("jobs:detail", job_id=job.pk)
    else:
        form = JobForm(initial={"recruiter": request.user.pk if request.user.has_full_access else None})
    return render(request, "jobs/job_form.html", {"form": form, "job": None})


@login_required
@require_http_methods(["GET", "POST"])
@scoped
def job_edit(request: HttpRequest, job_id: int) -> HttpResponse:
    job = job_get_for_user(user=request.user, job_id=job_id)
    ensure(request.user, Capability.MANAGE_JOBS)
    if request.method == "POST":
        form = JobForm(request.POST)
        if form.is_valid():
            saved = _save_job(request, form, job)
            if saved is not None:
                messages.success(request, f"Saved {saved.title}.")
                return redirect("jobs:detail", job_id=saved.pk)
    else:
        form = JobForm(initial=JobForm.initial_for(job))
    return render(request, "jobs/job_form.html", {"form": form, "job": job})


# ---------------------------------------------------------------------------------------------------------------
# The job page and its kanban


def board_context(request: HttpRequest, job: Job) -> dict[str, Any]:
    include_closed = _include_closed(request)
    columns = job_kanban(user=request.user, job=job, per_stage=CARDS_PER_COLUMN, include_closed=include_closed)
    for column in columns:
        prepare_cards(column.cards)
        column.has_more = column.total > len(column.cards)
        column.remaining = max(0, column.total - len(column.cards))
        column.more_after = more_cursor(column.cards) if column.has_more else ""
    return {
        "job": job,
        "columns": columns,
        "stages": [column.stage for column in columns],
        "include_closed": include_closed,
        "can_move": can(request.user, Capability.MOVE_APPLICATIONS),
        "can_manage": can(request.user, Capability.MANAGE_JOBS),
        "total_on_board": sum(column.total for column in columns),
        "icons": card_icons(),
    }


@login_required
@require_GET
@scoped
def job_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    job = job_get_for_user(user=request.user, job_id=job_id)
    context = board_context(request, job)
    if request.htmx and request.htmx.target == "kanban":
        return render(request, "jobs/_board.html", context)
    reasons = list(rejection_reasons_active()) if context["can_move"] else []
    context.update(
        {
            "reasons": reasons,
            "reject_form": RejectForm(
                reasons=reasons, templates=rejection_templates_for(request.user), auto_id="reject_%s"
            ),
            "withdraw_form": WithdrawForm(auto_id="withdraw_%s"),
            "stage_categories": StageCategory.choices,
        }
    )
    return render(request, "jobs/job_detail.html", context)


@login_required
@require_GET
@scoped
def job_board(request: HttpRequest, job_id: int) -> HttpResponse:
    """Just the board, for refreshing it after people are added or when closed applications are toggled."""
    job = job_get_for_user(user=request.user, job_id=job_id)
    return render(request, "jobs/_board.html", board_context(request, job))


@login_required
@require_GET
@scoped
def column_more(request: HttpRequest, job_id: int, stage_id: int) -> HttpResponse:
    job = job_get_for_user(user=request.user, job_id=job_id)
    stage = stage_get_for_job(job=job, stage_id=stage_id)
    include_closed = _include_closed(request)
    try:
        after = _parse_after(request.GET.get("after"))
    except ApplicationError as exc:
        return HttpResponse(exc.message, status=400, content_type="text/plain")
    cards, has_more = kanban_column_page(
        user=request.user, job=job, stage=stage, after=after, limit=CARDS_PER_COLUMN, include_closed=include_closed
    )
    prepare_cards(cards)
    context = {
        "job": job,
        "stage": stage,
        "cards": cards,
        "has_more": has_more,
        "more_after": more_cursor(cards) if has_more else "",
        "include_closed": include_closed,
        "can_move": can(request.user, Capability.MOVE_APPLICATIONS),
        "icons": card_icons(),
    }
    return render(request, "jobs/_column_more.html", context)


# ---------------------------------------------------------------------------------------------------------------
# Adding people to a job


@login_required
@require_GET
@scoped
def people_search(request: HttpRequest, job_id: int) -> HttpResponse:
    job = job_get_for_user(user=request.user, job_id=job_id)
    ensure(request.user, Capability.MANAGE_JOBS)
    q = (request.GET.get("q") or "").strip()[:200]
    results, error = candidate_picker(user=request.user, query=q, limit=PICKER_RESULTS)
    on_job = candidate_ids_on_job(job=job, candidate_ids=[c.pk for c in results])
    context = {"job": job, "q": q, "results": results, "on_job": on_job, "error": error}
    template = "jobs/_people_results.html" if request.htmx else "jobs/people.html"
    return render(request, template, context)


@login_required
@require_POST
@scoped
def people_add(request: HttpRequest, job_id: int) -> HttpResponse:
    job = job_get_for_user(user=request.user, job_id=job_id)
    ensure(request.user, Capability.MANAGE_JOBS)
    candidate = None
    error = ""
    existing_id = ""
    try:
        candidate = candidate_get_for_user(user=request.user, candidate_id=request.POST.get("candidate_id"))
        application = application_create(
            actor=request.user, candidate=candidate, job=job, source=(request.POST.get("source") or "").strip()
        )
    except NotFound:
        error = "Choose a person from the search results."
    except Duplicate as exc:
        error = f"{candidate.full_name} is already on this job." if candidate else exc.message
        existing_id = exc.existing_id
    except (ValidationFailed, Conflict) as exc:
        error = exc.message
    if not request.htmx:
        if error:
            messages.error(request, error)
        else:
            messages.success(request, f"Added {candidate.full_name} to {application.stage.name}.")
        return redirect("jobs:detail", job_id=job.pk)
    context = {"job": job, "candidate": candidate, "error": error, "existing_id": existing_id}
    if not error:
        context["stage"] = application.stage
    response = render(request, "jobs/_people_added.html", context)
    if not error:
        # The board listens for this and reloads itself, so the new card appears without a page load.
        response["HX-Trigger"] = "kanban-refresh"
    return response


# ---------------------------------------------------------------------------------------------------------------
# Stage settings for one job


def _render_stages(
    request: HttpRequest,
    job: Job,
    *,
    add_form: StageForm | None = None,
    rename_forms: dict[int, StageRenameForm] | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    stages = stages_for_job(job=job)
    counts = kanban_counts(user=request.user, job=job, include_closed=True)
    rename_forms = rename_forms or {}
    rows = [
        {
            "stage": stage,
            "count": counts.get(stage.pk, 0),
            "form": rename_forms.get(stage.pk) or StageRenameForm(initial={"name": stage.name}, prefix=f"s{stage.pk}"),
            "public_default": public_label(category=stage.category),
            "first": index == 0,
            "last": index == len(stages) - 1,
        }
        for index, stage in enumerate(stages)
    ]
    context = {
        "job": job,
        "rows": rows,
        "add_form": add_form or StageForm(),
        "error": error,
        "message_templates": list(message_templates_visible_to(request.user).only("id", "name", "channel")),
    }
    return render(request, "jobs/stages.html", context, status=status)


def _job_for_stage_settings(request: HttpRequest, job_id: int) -> Job:
    job = job_get_for_user(user=request.user, job_id=job_id)
    ensure(request.user, Capability.MANAGE_JOBS)
    return job


@login_required
@require_GET
@scoped
def job_stages(request: HttpRequest, job_id: int) -> HttpResponse:
    return _render_stages(request, _job_for_stage_settings(request, job_id))


@login_required
@require_POST
@scoped
def job_stage_add(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _job_for_stage_settings(request, job_id)
    form = StageForm(request.POST)
    if form.is_valid():
        try:
            stage = stage_add(
                actor=request.user, job=job, name=form.cleaned_data["name"], category=form.cleaned_data["category"]
            )
        except ValidationFailed as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Added the stage {stage.name}.")
            return redirect("jobs:stages", job_id=job.pk)
    return _render_stages(request, job, add_form=form)


@login_required
@require_POST
@scoped
def job_stage_rename(request: HttpRequest, job_id: int, stage_id: int) -> HttpResponse:
    job = _job_for_stage_settings(request, job_id)
    stage = stage_get_for_job(job=job, stage_id=stage_id)
    form = StageRenameForm(request.POST, prefix=f"s{stage.pk}")
    if form.is_valid():
        try:
            old = stage.name
            stage_rename(actor=request.user, stage=stage, name=form.cleaned_data["name"])
        except ValidationFailed as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Renamed {old} to {stage.name}.")
            return redirect("jobs:stages", job_id=job.pk)
    return _render_stages(request, job, rename_forms={stage.pk: form})


@login_required
@require_POST
@scoped
def job_stage_move(request: HttpRequest, job_id: int, stage_id: int) -> HttpResponse:
    job = _job_for_stage_settings(request, job_id)
    stage = stage_get_for_job(job=job, stage_id=stage_id)
    order = [s.pk for s in stages_for_job(job=job)]
    index = order.index(stage.pk)
    direction = request.POST.get("direction")
    target = {"up": index - 1, "down": index + 1}.get(direction or "")
    if target is None or not 0 <= target < len(order):
        return _render_stages(request, job, error="This stage cannot move further that way.")
    order[index], order[target] = order[target], order[index]
    stages_reorder(actor=request.user, job=job, stage_ids=order)
    messages.success(request, f"Moved {stage.name} {direction}.")
    return redirect("jobs:stages", job_id=job.pk)


@login_required
@require_POST
@scoped
def job_stage_delete(request: HttpRequest, job_id: int, stage_id: int) -> HttpResponse:
    job = _job_for_stage_settings(request, job_id)
    stage = stage_get_for_job(job=job, stage_id=stage_id)
    if len(stages_for_job(job=job)) <= 1:
        return _render_stages(request, job, error="A job needs at least one stage.")
    try:
        stage_delete(actor=request.user, stage=stage)
    except Conflict as exc:
        return _render_stages(request, job, error=f"{stage.name}: {exc.message}")
    messages.success(request, f"Deleted the stage {stage.name}.")
    return redirect("jobs:stages", job_id=job.pk)


@login_required
@require_POST
@scoped
def job_stage_template(request: HttpRequest, job_id: int, stage_id: int) -> HttpResponse:
    job = _job_for_stage_settings(request, job_id)
    stage = stage_get_for_job(job=job, stage_id=stage_id)
    chosen = (request.POST.get("template") or "").strip()
    template = None
    if chosen:
        try:
            template = message_template_get_for_user(user=request.user, template_id=chosen)
        except NotFound:
            return _render_stages(request, job, error=f"{stage.name}: pick a message template from the list.")
    stage_default_template_set(actor=request.user, stage=stage, template=template)
    if template is None:
        messages.success(request, f"{stage.name} has no default message now.")
    else:
        messages.success(request, f"Writing to someone in {stage.name} now suggests “{template.name}”.")
    return redirect("jobs:stages", job_id=job.pk)


@login_required
@require_POST
@scoped
def job_stage_public_label(request: HttpRequest, job_id: int, stage_id: int) -> HttpResponse:
    job = _job_for_stage_settings(request, job_id)
    stage = stage_get_for_job(job=job, stage_id=stage_id)
    try:
        stage_public_label_set(actor=request.user, stage=stage, label=request.POST.get("public_label", ""))
    except ValidationFailed as exc:
        return _render_stages(request, job, error=f"{stage.name}: {exc.fields['public_label'][0]}", status=422)
    shown = stage.public_label or public_label(category=stage.category)
    messages.success(request, f"Candidates now see {stage.name} as “{shown}” in the portal.")
    return redirect("jobs:stages", job_id=job.pk)


def job_url(job: Job, *, include_closed: bool = False) -> str:
    url = reverse("jobs:detail", kwargs={"job_id": job.pk})
    return f"{url}?closed=1" if include_closed else url
