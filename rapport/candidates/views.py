"""Recruiter workspace pages for people: the list with search and bulk actions, the profile, create, edit, merge.

Views parse input, look people up through the scoped selectors (out of scope answers 404), call a service and
render. HTMX requests get fragments; the same URLs work as plain forms and links without JavaScript.
"""

import contextlib
import json
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from rapport.accounts.models import User
from rapport.accounts.permissions import Capability, can, ensure
from rapport.candidates.exporting import export_candidates_csv
from rapport.candidates.forms import (
    AttachmentForm,
    BulkIdsForm,
    CandidateForm,
    FilterForm,
    JobChoiceForm,
    MergeForm,
    NoteForm,
    OwnerForm,
    PoolChoiceForm,
    TagForm,
    initial_from_candidate,
    merge_new_data,
    owner_queryset,
    timezone_names,
)
from rapport.candidates.models import Candidate, RelationshipStatus
from rapport.candidates.selectors import (
    FILTER_KEYS,
    attachment_get_for_candidate,
    candidate_detail_for_user,
    candidate_get_for_user,
    candidate_list,
    candidates_visible_to,
    custom_field_definitions,
    pool_choices,
    pool_get_for_user,
    tag_names,
)
from rapport.candidates.services import (
    attachment_add,
    attachment_delete,
    candidate_clean,
    candidate_create,
    candidate_erase,
    candidate_merge,
    candidate_update,
    candidates_set_owner,
    candidates_tag,
    pool_add_members,
    pool_remove_member,
)
from rapport.common.errors import ApplicationError, Duplicate, NotFound
from rapport.common.web import safe_next, scoped
from rapport.jobs.models import JobStatus
from rapport.jobs.selectors import job_get_for_user, jobs_visible_to, stages_for_job
from rapport.messaging.views_compose import profile_context as messaging_profile_context
from rapport.pipeline.selectors import days_in_stage
from rapport.pipeline.services import application_create
from rapport.timeline.selectors import TYPE_GROUPS, candidate_timeline, notes_for_activities
from rapport.timeline.services import note_add

PAGE_SIZE = 50
TIMELINE_PAGE_SIZE = 25
MERGE_PICKER_RESULTS = 8
MENU_LIMIT = 300
SORT_LABELS = {"recent": "Recently added", "updated": "Recently updated", "name": "Name", "engagement": "Engagement"}
FILTER_LABELS = {
    "q": "Search",
    "status": "Relationship",
    "tag": "Tag",
    "pool": "Pool",
    "job": "Job",
    "stage": "Stage",
    "source": "Source",
    "owner": "Owner",
    "country": "Country",
    "city": "City",
    "created_after": "Added after",
    "created_before": "Added before",
    "updated_since": "Updated since",
    "engagement_min": "Engagement at least",
}
LIST_FILTER_KEYS = [k for k in FILTER_LABELS if k in FILTER_KEYS]
TIMELINE_GROUPS = [("", "All"), ("notes", "Notes"), ("applications", "Applications")]
TIMELINE_GROUPS += [("messages", "Messages"), ("changes", "Changes")]


def _toast_trigger(response: HttpResponse, message: str, level: str = "success", **events: Any) -> HttpResponse:
    """Tell the page (via HX-Trigger) to show a toast and fire any other named events."""
    payload: dict[str, Any] = {"rapport:toast": {"message": message, "level": level}}
    payload.update(events)
    response["HX-Trigger"] = json.dumps(payload)
    return response


def _query_without(params: QueryDict, *keys: str) -> str:
    remaining = params.copy()
    for key in (*keys, "cursor"):
        remaining.pop(key, None)
    encoded = remaining.urlencode()
    return f"?{encoded}" if encoded else "?"


# ---------------------------------------------------------------- the list


def _active_filters(request: HttpRequest) -> dict[str, str]:
    form = FilterForm(request.GET)
    form.is_valid()
    data = getattr(form, "cleaned_data", {})
    return {k: str(v).strip() for k, v in data.items() if k in LIST_FILTER_KEYS and v not in (None, "")}


def _filter_chips(request: HttpRequest, filters: dict[str, str], lookups: dict[str, dict[str, str]]) -> list[dict]:
    chips = []
    for key, value in filters.items():
        if key == "q":
            continue
        label = lookups.get(key, {}).get(value, value)
        remove = (key, "stage") if key == "job" else (key,)
        chips.append(
            {
                "key": key,
                "label": FILTER_LABELS[key],
                "value": label,
                "remove_url": reverse("candidates:list") + _query_without(request.GET, *remove),
            }
        )
    return chips


def _job_choices(user: User) -> Any:
    """Jobs people can still be added to, for menus; closed and filled jobs take no one new."""
    return (
        jobs_visible_to(user)
        .exclude(status__in=[JobStatus.CLOSED, JobStatus.FILLED])
        .only("id", "title", "status")
        .order_by("title")[:MENU_LIMIT]
    )


def _list_options(user: User, filters: dict[str, str]) -> dict[str, Any]:
    """Choices for the filter bar, bulk dialogs and chip labels."""
    pools = list(pool_choices(user=user))
    jobs = list(_job_choices(user))
    stages: list = []
    if filters.get("job"):
        try:
            stages = stages_for_job(job=job_get_for_user(user=user, job_id=filters["job"]))
        except NotFound:
            stages = []
    owners = list(owner_queryset())
    lookups = {
        "status": dict(RelationshipStatus.choices),
        "pool": {str(p.pk): p.name for p in pools},
        "job": {str(j.pk): j.title for j in jobs},
        "stage": {str(s.pk): s.name for s in stages},
        "owner": {str(o.pk): o.name or o.email for o in owners},
    }
    if filters.get("job") and filters["job"] not in lookups["job"]:
        # A closed job is not offered in the menus but can still be the active filter.
        with contextlib.suppress(NotFound):
            lookups["job"][filters["job"]] = job_get_for_user(user=user, job_id=filters["job"]).title
    return {"pools": pools, "jobs": jobs, "stages": stages, "owners": owners, "lookups": lookups}


@login_required
@require_GET
@vary_on_headers("HX-Request", "HX-Target")
def candidate_list_view(request: HttpRequest) -> HttpResponse:
    user = request.user
    filters = _active_filters(request)
    sort = request.GET.get("sort") or "recent"
    if sort not in SORT_LABELS:
        sort = "recent"
    cursor = request.GET.get("cursor") or None
    error = None
    page = None
    try:
        page = candidate_list(user=user, filters=filters, limit=PAGE_SIZE, cursor=cursor, sort=sort)
    except ApplicationError as exc:
        field = next(iter(exc.fields), None)
        label = FILTER_LABELS.get(field or "", (field or "").replace("_", " ").capitalize())
        message = exc.fields[field][0] if field else exc.message
        error = f"{label}: {message}" if field else message

    options = _list_options(user, filters)
    next_url = None
    if page and page.next_cursor:
        params = request.GET.copy()
        params["cursor"] = page.next_cursor
        next_url = reverse("candidates:list") + "?" + params.urlencode()
    segment_query = urlencode({k: v for k, v in filters.items()})
    context = {
        "page": page,
        "candidates": page.items if page else [],
        "filters": filters,
        "filter_count": len([k for k in filters if k != "q"]),
        "chips": _filter_chips(request, filters, options["lookups"]),
        "error": error,
        "sort": sort,
        "sort_labels": SORT_LABELS,
        "ranked": bool(page and page.ranked),
        "next_url": next_url,
        "is_first_page": not cursor,
        "status_choices": RelationshipStatus.choices,
        "tag_options": tag_names(),
        "segment_url": reverse("segments:create") + (f"?{segment_query}" if segment_query else ""),
        "clear_url": reverse("candidates:list"),
        "current_url": request.get_full_path(),
        "has_any_filter": bool(filters),
        "can_edit": can(user, Capability.EDIT_CANDIDATES),
        "can_pools": can(user, Capability.MANAGE_POOLS),
        "can_jobs": can(user, Capability.MANAGE_JOBS),
        "can_export": can(user, Capability.EXPORT),
        "can_import": can(user, Capability.IMPORT),
        "can_message": can(user, Capability.SEND_MESSAGES),
        **options,
    }
    context["can_bulk"] = any(context[k] for k in ("can_edit", "can_pools", "can_jobs", "can_export", "can_message"))
    target = request.headers.get("HX-Target", "")
    if request.htmx and target == "load-more-row":
        return render(request, "candidates/_rows.html", context)
    if request.htmx and target == "candidate-results":
        return render(request, "candidates/_results.html", context)
    return render(request, "candidates/list.html", context)


def _bulk_response(request: HttpRequest, *, ok: str | None = None, error: str | None = None) -> HttpResponse:
    fallback = reverse("candidates:list")
    if request.htmx:
        if error:
            return render(request, "candidates/_bulk_error.html", {"error": error}, status=422)
        response = HttpResponse(status=204)
        return _toast_trigger(response, ok or "Done.", **{"rapport:close-dialogs": True, "candidates:refresh": True})
    if error:
        messages.error(request, error)
    else:
        messages.success(request, ok or "Done.")
    return redirect(safe_next(request, fallback))


def _selected_ids(request: HttpRequest) -> list[int]:
    form = BulkIdsForm(request.POST)
    if not form.is_valid():
        raise ApplicationError(form.errors["ids"][0])
    ids = form.cleaned_data["ids"]
    visible = set(candidates_visible_to(request.user).filter(pk__in=ids).values_list("id", flat=True))
    if len(visible) != len(set(ids)):
        raise NotFound("Some of the selected people no longer exist. Reload the page and try again.")
    return ids


def _people(n: int) -> str:
    return f"{n:,} {'person' if n == 1 else 'people'}"


@login_required
@require_POST
def bulk_action(request: HttpRequest, action: str) -> HttpResponse:
    user = request.user
    try:
        ids = _selected_ids(request)
        if action == "tag":
            form = TagForm(request.POST)
            if not form.is_valid():
                return _bulk_response(request, error=form.errors["tag"][0])
            added = candidates_tag(actor=user, candidate_ids=ids, tag_name=form.cleaned_data["tag"])
            tag = form.cleaned_data["tag"].strip()
            ok = f"Tagged {_people(added)} with “{tag}”." if added else f"Everyone selected already has “{tag}”."
        elif action == "pool":
            form = PoolChoiceForm(request.POST, pools=pool_choices(user=user))
            if not form.is_valid():
                return _bulk_response(request, error=next(iter(form.errors.values()))[0])
            pool = pool_get_for_user(user=user, pool_id=form.cleaned_data["pool"])
            added = pool_add_members(actor=user, pool=pool, candidate_ids=ids, reason=form.cleaned_data["reason"])
            ok = f"Added {_people(added)} to {pool.name}." if added else f"Everyone selected is already in {pool.name}."
        elif action == "job":
            ensure(user, Capability.MANAGE_JOBS)
            form = JobChoiceForm(request.POST, jobs=_job_choices(user))
            if not form.is_valid():
                return _bulk_response(request, error=form.errors["job"][0])
            job = job_get_for_user(user=user, job_id=form.cleaned_data["job"])
            ok = _bulk_add_to_job(user, job, ids)
        elif action == "owner":
            form = OwnerForm(request.POST)
            if not form.is_valid():
                return _bulk_response(request, error=form.errors["owner"][0])
            owner = form.cleaned_data["owner"]
            changed = candidates_set_owner(actor=user, candidate_ids=ids, owner_id=owner.pk if owner else None)
            ok = f"{_people(changed)} now owned by {owner.name if owner else 'no one'}."
        else:
            raise Http404("No such bulk action.")
    except ApplicationError as exc:
        return _bulk_response(request, error=exc.message)
    return _bulk_response(request, ok=ok)


def _bulk_add_to_job(user: User, job: Any, ids: list[int]) -> str:
    """One application per person; people already on the job are skipped rather than failing the batch."""
    added, skipped = 0, 0
    for candidate in candidates_visible_to(user).filter(pk__in=ids):
        try:
            application_create(actor=user, candidate=candidate, job=job)
            added += 1
        except Duplicate:
            skipped += 1
    message = f"Added {_people(added)} to {job.title}."
    if skipped:
        message += f" {_people(skipped)} {'was' if skipped == 1 else 'were'} already on it."
    return message


@login_required
@require_POST
def export_csv(request: HttpRequest) -> HttpResponse:
    try:
        ids = _selected_ids(request)
        lines = export_candidates_csv(actor=request.user, candidates=Candidate.objects.filter(pk__in=ids))
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect(safe_next(request, reverse("candidates:list")))
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="candidates-{stamp}.csv"'
    return response


# ---------------------------------------------------------------- create and edit


def _definitions() -> list:
    return list(custom_field_definitions())


def _form_context(form: CandidateForm, **extra: Any) -> dict[str, Any]:
    return {"form": form, "timezones": timezone_names(), "tag_options": tag_names(), **extra}


@login_required
@require_http_methods(["GET", "POST"])
@scoped
def candidate_create_view(request: HttpRequest) -> HttpResponse:
    ensure(request.user, Capability.EDIT_CANDIDATES)
    definitions = _definitions()
    initial = {"owner": request.user.pk} if request.user.has_full_access else {}
    form = CandidateForm(request.POST if request.method == "POST" else None, initial=initial, definitions=definitions)
    duplicate = None
    if request.method == "POST":
        if form.is_valid():
            data = form.to_service_data()
            if "owner" not in request.POST:
                # Not asked (e.g. a script posting the form): the service makes the creator the owner.
                data.pop("owner_id")
            merge_into = request.POST.get("merge_into")
            try:
                if merge_into:
                    existing = candidate_detail_for_user(user=request.user, candidate_id=merge_into)
                    candidate_update(actor=request.user, candidate=existing, data=merge_new_data(existing, data))
                    messages.success(request, f"Added the new details to {existing.full_name}.")
                    return redirect("candidates:detail", existing.pk)
                candidate = candidate_create(actor=request.user, data=data)
            except Duplicate as exc:
                duplicate = _duplicate_context(request.user, exc)
                form.add_service_error(exc)
            except ApplicationError as exc:
                form.add_service_error(exc)
            else:
                messages.success(request, f"{candidate.full_name} is added.")
                return redirect("candidates:detail", candidate.pk)
        status = 422
    else:
        status = 200
    return render(
        request,
        "candidates/form.html",
        _form_context(form, duplicate=duplicate, mode="create", validate_url=reverse("candidates:validate_new")),
        status=status,
    )


def _duplicate_context(user: User, exc: Duplicate) -> dict[str, Any] | None:
    """The person an email or phone already belongs to, if the user may see them."""
    try:
        existing = candidate_get_for_user(user=user, candidate_id=exc.existing_id)
    except NotFound:
        return {"message": exc.message, "existing": None}
    what = "email" if "emails" in exc.fields else "phone number" if "phones" in exc.fields else "contact"
    return {"message": exc.message, "existing": existing, "what": what}


@login_required
@require_http_methods(["GET", "POST"])
@scoped
def candidate_edit_view(request: HttpRequest, candidate_id: int) -> HttpResponse:
    candidate = candidate_detail_for_user(user=request.user, candidate_id=candidate_id)
    ensure(request.user, Capability.EDIT_CANDIDATES)
    definitions = _definitions()
    if request.method == "POST":
        form = CandidateForm(request.POST, definitions=definitions)
        duplicate = None
        if form.is_valid():
            try:
                candidate_update(actor=request.user, candidate=candidate, data=form.to_service_data())
            except Duplicate as exc:
                duplicate = _duplicate_context(request.user, exc)
                form.add_service_error(exc)
            except ApplicationError as exc:
                form.add_service_error(exc)
            else:
                messages.success(request, "Changes saved.")
                return redirect("candidates:detail", candidate.pk)
        context = _form_context(
            form,
            candidate=candidate,
            duplicate=duplicate,
            mode="edit",
            validate_url=reverse("candidates:validate", args=[candidate.pk]),
        )
        return render(request, "candidates/form.html", context, status=422)
    form = CandidateForm(initial=initial_from_candidate(candidate, definitions), definitions=definitions)
    context = _form_context(
        form, candidate=candidate, mode="edit", validate_url=reverse("candidates:validate", args=[candidate.pk])
    )
    return render(request, "candidates/form.html", context)


@login_required
@require_POST
@scoped
def candidate_validate(request: HttpRequest, candidate_id: int | None = None) -> HttpResponse:
    """Inline validation: checks the whole form by the services' rules, writes nothing, returns one field."""
    if candidate_id is not None:
        candidate_get_for_user(user=request.user, candidate_id=candidate_id)
    ensure(request.user, Capability.EDIT_CANDIDATES)
    form = CandidateForm(request.POST, definitions=_definitions())
    field_name = request.POST.get("_field", "")
    if field_name not in form.fields:
        return HttpResponse(status=204)
    if form.is_valid():
        try:
            candidate_clean(form.to_service_data(), partial=candidate_id is not None)
        except ApplicationError as exc:
            form.add_service_error(exc)
    return render(request, "candidates/_field.html", {"field": form[field_name]})


# ---------------------------------------------------------------- the profile


def _profile_permissions(user: User) -> dict[str, bool]:
    return {
        "can_edit": can(user, Capability.EDIT_CANDIDATES),
        "can_note": can(user, Capability.ADD_NOTES),
        "can_merge": can(user, Capability.MERGE_CANDIDATES),
        "can_erase": can(user, Capability.ERASE_CANDIDATES),
        "can_pools": can(user, Capability.MANAGE_POOLS),
        "can_jobs": can(user, Capability.MANAGE_JOBS),
    }


def _timeline_context(request: HttpRequest, candidate: Candidate) -> dict[str, Any]:
    group = request.GET.get("group", "")
    if group not in TYPE_GROUPS:
        group = ""
    items, next_cursor = candidate_timeline(
        user=request.user,
        candidate=candidate,
        types=[group] if group else None,
        limit=TIMELINE_PAGE_SIZE,
        cursor=request.GET.get("cursor") or None,
    )
    notes = notes_for_activities(items)
    for item in items:
        item.note = notes.get(item.payload.get("note_id")) if item.payload else None
    next_url = None
    if next_cursor:
        query = urlencode({"group": group, "cursor": next_cursor} if group else {"cursor": next_cursor})
        next_url = reverse("candidates:timeline", args=[candidate.pk]) + "?" + query
    return {
        "candidate": candidate,
        "activities": items,
        "timeline_group": group,
        "timeline_groups": TIMELINE_GROUPS,
        "timeline_next_url": next_url,
    }


def _applications(candidate: Candidate) -> list:
    applications = list(candidate.applications.all())
    for application in applications:
        application.days_in_stage = days_in_stage(application)
    return applications


def _custom_values(candidate: Candidate) -> list[tuple[str, Any]]:
    values = candidate.custom_fields or {}
    return [(d.label, values[d.key]) for d in custom_field_definitions() if values.get(d.key) not in (None, "")]


def _side_context(user: User, candidate: Candidate) -> dict[str, Any]:
    perms = _profile_permissions(user)
    return {
        "candidate": candidate,
        "applications": _applications(candidate),
        "custom_values": _custom_values(candidate),
        "tag_form": TagForm(),
        "attachment_form": AttachmentForm(),
        "tag_options": tag_names(),
        "max_upload_mb": settings.RAPPORT_MAX_UPLOAD_MB,
        **perms,
    }


@login_required
@require_GET
@scoped
def candidate_detail_view(request: HttpRequest, candidate_id: int) -> HttpResponse:
    candidate = candidate_detail_for_user(user=request.user, candidate_id=candidate_id)
    context = {
        **_side_context(request.user, candidate),
        **_timeline_context(request, candidate),
        "note_form": NoteForm(),
        "status_choices": RelationshipStatus.choices,
        **messaging_profile_context(request.user, candidate),
    }
    return render(request, "candidates/detail.html", context)


@login_required
@require_GET
@vary_on_headers("HX-Request")
@scoped
def candidate_timeline_view(request: HttpRequest, candidate_id: int) -> HttpResponse:
    candidate = candidate_get_for_user(user=request.user, candidate_id=candidate_id)
    try:
        context = _timeline_context(request, candidate)
    except ApplicationError as exc:
        return HttpResponse(exc.message, status=400)
    template = "candidates/_timeline_page.html" if request.GET.get("cursor") else "candidates/_timeline.html"
    return render(request, template, context)


@login_required
@require_POST
@scoped
def note_add_view(request: HttpRequest, candidate_id: int) -> HttpResponse:
    candidate = candidate_get_for_user(user=request.user, candidate_id=candidate_id)
    ensure(request.user, Capability.ADD_NOTES)
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            note_add(
                actor=request.user,
                candidate=candidate,
                body=form.cleaned_data["body"],
                kind=form.cleaned_data["kind"],
                extra=form.extra(),
            )
        except ApplicationError as exc:
            form.add_error("body" if "body" in exc.fields else None, exc.message)
    if form.errors:
        if not request.htmx:
            messages.error(request, next(iter(form.errors.values()))[0])
            return redirect("candidates:detail", candidate.pk)
        response = render(request, "candidates/_composer.html", {"candidate": candidate, "note_form": form})
        response["HX-Retarget"] = "#composer"
        response["HX-Reswap"] = "outerHTML"
        response.status_code = 422
        return response
    kind_word = {"call": "Call logged", "meeting": "Meeting logged"}.get(form.cleaned_data["kind"], "Note added")
    if not request.htmx:
        messages.success(request, f"{kind_word}.")
        return redirect("candidates:detail", candidate.pk)
    # The newest events (the note, and nothing else new) go on top; the composer is reset out of band.
    items, _ = candidate_timeline(user=request.user, candidate=candidate, types=["notes"], limit=1)
    notes = notes_for_activities(items)
    for item in items:
        item.note = notes.get(item.payload.get("note_id")) if item.payload else None
    context = {
        "candidate": candidate,
        "activities": items,
        "note_form": NoteForm(initial={"kind": form.cleaned_data["kind"]}),
        "is_new": True,
        "oob_composer": True,
    }
    return _toast_trigger(render(request, "candidates/_note_added.html", context), f"{kind_word}.")


def _side_fragment(request: HttpRequest, candidate_id: int, template: str, **extra: Any) -> HttpResponse:
    candidate = candidate_detail_for_user(user=request.user, candidate_id=candidate_id)
    return render(request, template, {**_side_context(request.user, candidate), **extra})


def _after_side_action(
    request: HttpRequest, candidate_id: int, template: str, ok: str | None = None, error: str | None = None
) -> HttpResponse:
    if not request.htmx:
        if error:
            messages.error(request, error)
        elif ok:
            messages.success(request, ok)
        return redirect("candidates:detail", candidate_id)
    response = _side_fragment(request, candidate_id, template, side_error=error)
    if error:
        return _toast_trigger(response, error, "error")
    if ok:
        return _toast_trigger(response, ok, **{"rapport:close-dialogs": True})
    return response


@login_required
@require_POST
@scoped
def tag_add_view(request: HttpRequest, candidate_id: int) -> HttpResponse:
    candidate = candidate_get_for_user(user=request.user, candidate_id=candidate_id)
    form = TagForm(request.POST)
    if not form.is_valid():
        return _after_side_action(request, candidate.pk, "candidates/_tags.html", error=form.errors["tag"][0])
    try:
        candidates_tag(actor=request.user, candidate_ids=[candidate.pk], tag_name=form.cleaned_data["tag"])
    except ApplicationError as exc:
        return _after_side_action(request, candidate.pk, "candidates/_tags.html", error=exc.message)
    return _after_side_action(request, candidate.pk, "candidates/_tags.html")


@login_required
@require_POST
@scoped
def tag_remove_view(request: HttpRequest, candidate_id: int) -> HttpResponse:
    candidate = candidate_detail_for_user(user=request.user, candidate_id=candidate_id)
    name = (request.POST.get("tag") or "").strip().lower()
    remaining = [ct.tag.name for ct in candidate.candidate_tags.all() if ct.tag.name.lower() != name]
    try:
        candidate_update(actor=request.user, candidate=candidate, data={"tags": remaining})
    except ApplicationError as exc:
        return _after_side_action(request, candidate.pk, "candidates/_tags.html", error=exc.message)
    return _after_side_action(request, candidate.pk, "candidates/_tags.html")


@login_required
@require_POST
@scoped
def pool_add_view(request: HttpRequest, candidate_id: int) -> HttpResponse:
    candidate = candidate_get_for_user(user=request.user, candidate_id=candidate_id)
    form = PoolChoiceForm(request.POST, pools=pool_choices(user=request.user))
    if not form.is_valid():
        error = next(iter(form.errors.values()))[0]
        return _after_side_action(request, candidate.pk, "candidates/_pools.html", error=error)
    try:
        pool = pool_get_for_user(user=request.user, pool_id=form.cleaned_data["pool"])
        pool_add_members(
            actor=request.user, pool=pool, candidate_ids=[candidate.pk], reason=form.cleaned_data["reason"]
        )
    except ApplicationError as exc:
        return _after_side_action(request, candidate.pk, "candidates/_pools.html", error=exc.message)
    return _after_side_action(request, candidate.pk, "candidates/_pools.html", ok=f"Added to {pool.name}.")


@login_required
@require_POST
@scoped
def pool_remove_view(request: HttpRequest, candidate_id: int, pool_id: int) -> HttpResponse:
    candidate = candidate_get_for_user(user=request.user, candidate_id=candidate_id)
    try:
        pool = pool_get_for_user(user=request.user, pool_id=pool_id)
        pool_remove_member(actor=request.user, pool=pool, candidate=candidate)
    except ApplicationError as exc:
        return _after_side_action(request, candidate.pk, "candidates/_pools.html", error=exc.message)
    return _after_side_action(request, candidate.pk, "candidates/_pools.html", ok=f"Removed from {pool.name}.")


@login_required
@require_GET
@scoped
def job_add_form_view(request: HttpRequest, candidate_id: int) -> HttpResponse:
    """The "Add to job" dialog's form: the open jobs the person is not on yet, fetched when the dialog opens."""
    candidate = candidate_get_for_user(user=request.user, candidate_id=candidate_id)
    ensure(request.user, Capability.MANAGE_JOBS)
    # The menu lists only jobs this user sees, so the person's other applications need no scoping here.
    on_jobs = set(candidate.applications.values_list("job_id", flat=True))
    jobs = [j for j in _job_choices(request.user) if j.pk not in on_jobs]
    # Ids of their own: the Email panel's form has a "job" field too, and both may be on the page at once.
    return render(
        request,
        "candidates/_job_add_form.html",
        {"candidate": candidate, "job_form": JobChoiceForm(jobs=jobs, auto_id="add_to_job_%s")},
    )


@login_required
@require_GET
@scoped
def pool_add_form_view(request: HttpRequest, candidate_id: int) -> HttpResponse:
    """The "Add to pool" dialog's form: the pools the person is not in yet, fetched when the dialog opens."""
    candidate = candidate_get_for_user(user=request.user, candidate_id=candidate_id)
    ensure(request.user, Capability.MANAGE_POOLS)
    member_of = set(candidate.pool_memberships.values_list("pool_id", flat=True))
    pools = [p for p in pool_choices(user=request.user) if p.pk not in member_of]
    return render(
        request,
        "candidates/_pool_add_form.html",
        {"candidate": candidate, "pool_form": PoolChoiceForm(pools=pools, auto_id="add_to_pool_%s")},
    )


@login_required
@require_POST
@scoped
def job_add_view(request: HttpRequest, candidate_id: int) -> HttpResponse:
    candidate = candidate_get_for_user(user=request.user, candidate_id=candidate_id)
    form = JobChoiceForm(request.POST, jobs=_job_choices(request.user))
    if not form.is_valid():
        return _after_side_action(request, candidate.pk, "candidates/_applications.html", error=form.errors["job"][0])
    try:
        job = job_get_for_user(user=request.user, job_id=form.cleaned_data["job"])
        application_create(actor=request.user, candidate=candidate, job=job)
    except ApplicationError as exc:
        return _after_side_action(request, candidate.pk, "candidates/_applications.html", error=exc.message)
    return _after_side_action(request, candidate.pk, "candidates/_applications.html", ok=f"Added to {job.title}.")


@login_required
@require_POST
@scoped
def attachment_add_view(request: HttpRequest, candidate_id: int) -> HttpResponse:
    candidate = candidate_get_for_user(user=request.user, candidate_id=candidate_id)
    form = AttachmentForm(request.POST, request.FILES)
    template = "candidates/_attachments.html"
    if not form.is_valid():
        return _after_side_action(request, candidate.pk, template, error=next(iter(form.errors.values()))[0])
    try:
        attachment = attachment_add(
            actor=request.user, candidate=candidate, upload=form.cleaned_data["file"], kind=form.cleaned_data["kind"]
        )
    except ApplicationError as exc:
        return _after_side_action(request, candidate.pk, template, error=exc.message)
    return _after_side_action(request, candidate.pk, template, ok=f"Uploaded {attachment.original_name}.")


@login_required
@require_GET
@scoped
def attachment_download(request: HttpRequest, candidate_id: int, attachment_id: int) -> HttpResponse:
    candidate = candidate_get_for_user(user=request.user, candidate_id=candidate_id)
    attachment = attachment_get_for_candidate(candidate=candidate, attachment_id=attachment_id)
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404("The file is missing from storage.")
    response = FileResponse(
        handle, as_attachment=True, filename=attachment.original_name, content_type=attachment.content_type
    )
    # Uploaded files are never rendered in our origin: no sniffing, no framing, no scripts.
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@login_required
@require_POST
@scoped
def attachment_delete_view(request: HttpRequest, candidate_id: int, attachment_id: int) -> HttpResponse:
    candidate = candidate_get_for_user(user=request.user, candidate_id=candidate_id)
    attachment = attachment_get_for_candidate(candidate=candidate, attachment_id=attachment_id)
    name = attachment.original_name
    try:
        attachment_delete(actor=request.user, attachment=attachment)
    except ApplicationError as exc:
        return _after_side_action(request, candidate.pk, "candidates/_attachments.html", error=exc.message)
    return _after_side_action(request, candidate.pk, "candidates/_attachments.html", ok=f"Deleted {name}.")


# ---------------------------------------------------------------- merge and erase


@login_required
@require_http_methods(["GET", "POST"])
@scoped
def candidate_merge_view(request: HttpRequest, candidate_id: int) -> HttpResponse:
    candidate = candidate_detail_for_user(user=request.user, candidate_id=candidate_id)
    ensure(request.user, Capability.MERGE_CANDIDATES)
    error = None
    if request.method == "POST":
        form = MergeForm(request.POST)
        if form.is_valid():
            try:
                other = candidate_get_for_user(user=request.user, candidate_id=form.cleaned_data["other"])
                if form.cleaned_data["keep"] == "other":
                    survivor, merged = other, candidate
                else:
                    survivor, merged = candidate, other
                merged_name = merged.full_name
                candidate_merge(actor=request.user, survivor=survivor, merged=merged)
            except ApplicationError as exc:
                error = exc.message
            else:
                messages.success(request, f"Merged {merged_name} into {survivor.full_name}.")
                return redirect("candidates:detail", survivor.pk)
        else:
            error = next(iter(form.errors.values()))[0]

    query = (request.GET.get("q") or "").strip()
    results: list[Candidate] = []
    search_error = None
    if query:
        try:
            page = candidate_list(
                user=request.user, filters={"q": query}, limit=MERGE_PICKER_RESULTS + 1, with_total=False
            )
            results = [c for c in page.items if c.pk != candidate.pk][:MERGE_PICKER_RESULTS]
        except ApplicationError as exc:
            search_error = exc.message
    other = None
    other_id = request.POST.get("other") or request.GET.get("other")
    if other_id:
        try:
            other = candidate_detail_for_user(user=request.user, candidate_id=other_id)
        except NotFound:
            error = error or "That person no longer exists."
        if other is not None and other.pk == candidate.pk:
            other, error = None, "Choose someone else: a person cannot be merged with themselves."
    context = {
        "candidate": candidate,
        "other": other,
        "query": query,
        "results": results,
        "search_error": search_error,
        "error": error,
    }
    if request.htmx and request.headers.get("HX-Target") == "merge-results":
        return render(request, "candidates/_merge_results.html", context)
    return render(request, "candidates/merge.html", context, status=422 if error else 200)


@login_required
@require_POST
@scoped
def candidate_erase_view(request: HttpRequest, candidate_id: int) -> HttpResponse:
    candidate = candidate_get_for_user(user=request.user, candidate_id=candidate_id)
    ensure(request.user, Capability.ERASE_CANDIDATES)
    candidate_erase(actor=request.user, candidate=candidate)
    messages.success(request, "The person’s personal data is erased.")
    return redirect("candidates:list")
