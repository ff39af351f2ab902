"""Talent pools (hand-picked people, each with a reason) and segments (saved filters computed when opened)."""

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rapport.accounts.models import User
from rapport.accounts.permissions import Capability, can, ensure
from rapport.candidates.forms_pools import PoolAddMembersForm, PoolForm, SegmentForm
from rapport.candidates.models import RelationshipStatus, Segment
from rapport.candidates.selectors import (
    FILTER_KEYS,
    candidate_get_for_user,
    candidate_list,
    candidate_picker,
    pool_get_for_user,
    pool_member_ids,
    pool_members,
    pools_list,
    segment_get_for_user,
    segments_list,
)
from rapport.candidates.services import pool_add_members, pool_create, pool_remove_member, segment_create
from rapport.common.errors import ApplicationError, Duplicate, NotFound, ValidationFailed
from rapport.common.web import add_service_errors, scoped
from rapport.jobs.selectors import jobs_visible_to

MEMBERS_PER_PAGE = 50
PICKER_RESULTS = 10
SEGMENT_PREVIEW = 50


# --- Pools ------------------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@scoped
def pool_list(request: HttpRequest) -> HttpResponse:
    ensure(request.user, Capability.MANAGE_POOLS)
    form = PoolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            pool = pool_create(
                actor=request.user, name=form.cleaned_data["name"], description=form.cleaned_data["description"]
            )
        except (ValidationFailed, Duplicate) as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Created the pool {pool.name}. Add people to it below.")
            return redirect("pools:detail", pool_id=pool.pk)
    pools = list(pools_list(user=request.user).select_related("owner"))
    return render(request, "pools/list.html", {"pools": pools, "form": form})


def _members_context(request: HttpRequest, pool: Any) -> dict[str, Any]:
    paginator = Paginator(pool_members(user=request.user, pool=pool), MEMBERS_PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    return {"pool": pool, "page": page, "members": list(page.object_list)}


@login_required
@require_GET
@scoped
def pool_detail(request: HttpRequest, pool_id: int) -> HttpResponse:
    pool = pool_get_for_user(user=request.user, pool_id=pool_id)
    context = _members_context(request, pool)
    context["add_form"] = PoolAddMembersForm()
    context["can_message"] = can(request.user, Capability.SEND_MESSAGES)
    return render(request, "pools/detail.html", context)


@login_required
@require_GET
@scoped
def pool_search(request: HttpRequest, pool_id: int) -> HttpResponse:
    pool = pool_get_for_user(user=request.user, pool_id=pool_id)
    q = (request.GET.get("q") or "").strip()[:200]
    results, error = candidate_picker(user=request.user, query=q, limit=PICKER_RESULTS)
    in_pool = pool_member_ids(pool=pool, candidate_ids=[c.pk for c in results])
    context = {"pool": pool, "q": q, "results": results, "in_pool": in_pool, "error": error}
    template = "pools/_search_results.html" if request.htmx else "pools/search.html"
    return render(request, template, context)


@login_required
@require_POST
@scoped
def pool_add(request: HttpRequest, pool_id: int) -> HttpResponse:
    pool = pool_get_for_user(user=request.user, pool_id=pool_id)
    form = PoolAddMembersForm(request.POST)
    added = None
    if form.is_valid():
        try:
            added = pool_add_members(
                actor=request.user,
                pool=pool,
                candidate_ids=form.cleaned_data["candidate_ids"],
                reason=form.cleaned_data["reason"],
            )
        except (ValidationFailed, NotFound) as exc:
            add_service_errors(form, exc)
    if added is None:
        if request.htmx:
            response = render(request, "pools/_add_errors.html", {"form": form})
            response["HX-Retarget"] = "#pool-add-errors"
            response["HX-Reswap"] = "innerHTML"
            return response
        context = _members_context(request, pool)
        context["add_form"] = form
        return render(request, "pools/detail.html", context)
    message = f"Added {added} {'person' if added == 1 else 'people'} to {pool.name}."
    if added == 0:
        message = "Everyone you picked is already in this pool."
    if request.htmx:
        context = _members_context(request, pool)
        context["flash"] = message
        response = render(request, "pools/_members.html", context)
        response["HX-Trigger"] = json.dumps(
            {"rapport:toast": {"message": message, "level": "success"}, "rapport:close-dialogs": True}
        )
        return response
    messages.success(request, message)
    return redirect("pools:detail", pool_id=pool.pk)


@login_required
@require_POST
@scoped
def pool_remove(request: HttpRequest, pool_id: int, candidate_id: int) -> HttpResponse:
    pool = pool_get_for_user(user=request.user, pool_id=pool_id)
    candidate = candidate_get_for_user(user=request.user, candidate_id=candidate_id)
    try:
        pool_remove_member(actor=request.user, pool=pool, candidate=candidate)
    except NotFound:
        messages.error(request, f"{candidate.full_name} is not in {pool.name} any more.")
    else:
        messages.success(request, f"Took {candidate.full_name} out of {pool.name}.")
    return redirect("pools:detail", pool_id=pool.pk)


# --- Segments ---------------------------------------------------------------------------------------------------


def _segment_form(request: HttpRequest, data: Any = None, initial: dict | None = None) -> SegmentForm:
    return SegmentForm(
        data,
        initial=initial,
        pools=pools_list(user=request.user),
        jobs=jobs_visible_to(request.user),
        owners=User.objects.filter(is_active=True).order_by("name"),
    )


def describe_filters(filters: dict[str, Any], *, user: User) -> list[tuple[str, str]]:
    """Readable (label, value) pairs for a segment's filters, naming pools, jobs, stages and owners."""
    from rapport.jobs.models import Stage

    labels = {
        "q": "Search",
        "tag": "Tag",
        "pool": "Pool",
        "job": "Job",
        "stage": "Stage",
        "status": "Relationship status",
        "source": "Source",
        "owner": "Owner",
        "country": "Country",
        "city": "City",
        "created_after": "Added on or after",
        "created_before": "Added before",
        "updated_since": "Updated since",
    }
    names: dict[str, str] = {}
    if "pool" in filters:
        pool = pools_list(user=user).filter(pk=filters["pool"]).first()
        names["pool"] = pool.name if pool else f"#{filters['pool']}"
    if "job" in filters:
        job = jobs_visible_to(user).filter(pk=filters["job"]).first()
        names["job"] = job.title if job else f"#{filters['job']}"
    if "stage" in filters:
        stage = Stage.objects.filter(pk=filters["stage"], job__in=jobs_visible_to(user)).select_related("job").first()
        names["stage"] = f"{stage.job.title} · {stage.name}" if stage else f"#{filters['stage']}"
    if "owner" in filters:
        owner = User.objects.filter(pk=filters["owner"]).first()
        names["owner"] = (owner.name or owner.email) if owner else f"#{filters['owner']}"
    if "status" in filters and filters["status"] in RelationshipStatus.values:
        names["status"] = RelationshipStatus(filters["status"]).label
    return [(labels.get(key, key), names.get(key, str(value))) for key, value in filters.items()]


@login_required
@require_GET
@scoped
def segment_list(request: HttpRequest) -> HttpResponse:
    ensure(request.user, Capability.MANAGE_POOLS)
    segments = list(segments_list(user=request.user).select_related("owner"))
    rows = [{"segment": s, "filters": describe_filters(s.filters, user=request.user)} for s in segments]
    return render(request, "segments/list.html", {"rows": rows})


@login_required
@require_http_methods(["GET", "POST"])
@scoped
def segment_create_view(request: HttpRequest) -> HttpResponse:
    ensure(request.user, Capability.MANAGE_POOLS)
    if request.method == "POST":
        form = _segment_form(request, request.POST)
        if form.is_valid():
            try:
                segment = segment_create(
                    actor=request.user,
                    name=form.cleaned_data["name"],
                    filters=form.filters(),
                    description=form.cleaned_data["description"],
                    is_persona=form.cleaned_data["is_persona"],
                )
            except ApplicationError as exc:
                if exc.status in (403, 404):
                    raise
                add_service_errors(form, exc)
            else:
                messages.success(request, f"Saved the segment {segment.name}.")
                return redirect("segments:detail", segment_id=segment.pk)
    else:
        # The candidate list links here with its current filters, so "Save as segment" keeps what is on screen.
        initial = {key: request.GET.get(key) for key in SegmentForm.FILTER_FIELDS if request.GET.get(key)}
        form = _segment_form(request, initial=initial)
    return render(request, "segments/form.html", {"form": form})


@login_required
@require_GET
@scoped
def segment_detail(request: HttpRequest, segment_id: int) -> HttpResponse:
    segment: Segment = segment_get_for_user(user=request.user, segment_id=segment_id)
    error = ""
    page = None
    try:
        page = candidate_list(user=request.user, filters={"segment": segment.pk}, limit=SEGMENT_PREVIEW)
    except ApplicationError as exc:
        if exc.status in (403, 404):
            raise
        error = f"This segment's filters no longer work: {exc.message}"
    context = {
        "segment": segment,
        "filters": describe_filters(segment.filters, user=request.user),
        "page": page,
        "error": error,
        # The candidate list is the workspace home; it expands the segment into its filters.
        "open_url": "/?" + urlencode({"segment": segment.pk}),
        "can_message": can(request.user, Capability.SEND_MESSAGES),
        "edit_filters_url": f"{reverse('segments:create')}?"
        + urlencode({k: v for k, v in segment.filters.items() if k in FILTER_KEYS}),
    }
    return render(request, "segments/detail.html", context)
