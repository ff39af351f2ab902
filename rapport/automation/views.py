"""Workspace pages for tasks: "My tasks" (open and done), quick add, check off in one click, edit, and the
person picker; plus the tasks card on a profile, which posts to the same views.

Every write is a POST (CSRF-checked). HTMX swaps the list or the profile card in place and updates the sidebar's
count out of band; without JavaScript each action redirects back.
"""

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from rapport.automation.forms import FIELD_MAP, TaskForm
from rapport.automation.models import Task
from rapport.automation.selectors import (
    my_tasks,
    open_tasks_about,
    task_get_for_user,
    task_owner_choices,
)
from rapport.automation.services import task_create, task_update
from rapport.candidates.selectors import candidate_get_for_user, candidate_picker
from rapport.common.errors import ApplicationError, BadRequest, NotFound
from rapport.common.web import add_service_errors, safe_next, scoped
from rapport.jobs.selectors import jobs_visible_to

PAGE_SIZE = 50
PICKER_RESULTS = 8
TABS = {"open": "Open", "done": "Done"}


def _tab(value: str | None) -> str:
    return value if value in TABS else "open"


def _owner_filter(request: HttpRequest, raw: str | None) -> int | None:
    """The owner the list shows: the user themselves, or for admins and recruiters anyone ("all": everyone)."""
    user = request.user
    if not user.has_full_access or not raw:
        return user.pk
    if raw == "all":
        return 0
    return int(raw) if raw.isdigit() and len(raw) < 19 else user.pk


def _job_choices(request: HttpRequest) -> list[Any]:
    return list(jobs_visible_to(request.user).filter(status__in=["open", "on_hold", "draft"]).order_by("title"))


def _form(request: HttpRequest, data: Any = None, *, initial: dict | None = None, full: bool = False) -> TaskForm:
    owners = list(task_owner_choices(user=request.user))
    return TaskForm(data, initial=initial, owners=owners, jobs=_job_choices(request) if full else None)


def _list_context(request: HttpRequest, *, tab: str, owner: int | None, cursor: str | None = None) -> dict[str, Any]:
    page = my_tasks(user=request.user, done=tab == "done", owner_id=owner, cursor=cursor, limit=PAGE_SIZE)
    owners = list(task_owner_choices(user=request.user)) if request.user.has_full_access else []
    return {
        "tab": tab,
        "tabs": TABS.items(),
        "owner": owner,
        "owner_param": "all" if owner == 0 else ("" if owner == request.user.pk else str(owner)),
        "owners": owners,
        "page": page,
        "is_first_page": not cursor,
        "list_url": reverse("tasks:list"),
    }


@login_required
@require_GET
@vary_on_headers("HX-Request")
def task_list_view(request: HttpRequest) -> HttpResponse:
    tab = _tab(request.GET.get("tab"))
    owner = _owner_filter(request, request.GET.get("owner"))
    try:
        context = _list_context(request, tab=tab, owner=owner, cursor=request.GET.get("cursor") or None)
    except BadRequest:
        return redirect(f"{reverse('tasks:list')}?tab={tab}")
    if request.htmx and request.GET.get("cursor"):
        return render(request, "automation/_task_rows.html", context)
    if request.htmx:
        return render(request, "automation/_task_list.html", context)
    return render(request, "automation/list.html", {**context, "form": _form(request)})


def _card_response(request: HttpRequest, candidate_id: int, **extra: Any) -> HttpResponse:
    candidate = candidate_get_for_user(user=request.user, candidate_id=candidate_id)
    context = {
        "candidate": candidate,
        "tasks": open_tasks_about(user=request.user, candidate_id=candidate.pk),
        "form": extra.pop("form", None) or _form(request, initial={"candidate_id": candidate.pk}),
        "oob_counts": True,
        **extra,
    }
    return render(request, "automation/_candidate_tasks.html", context, status=422 if context.get("errors") else 200)


def _list_response(request: HttpRequest, *, form: TaskForm | None = None, status: int = 200) -> HttpResponse:
    tab = _tab(request.POST.get("tab"))
    owner = _owner_filter(request, request.POST.get("owner"))
    context = {**_list_context(request, tab=tab, owner=owner), "oob_counts": True}
    if form is not None:
        # The quick-add form is outside the list: it comes back out of band, with its field errors or emptied.
        context["oob_form"] = form
    return render(request, "automation/_task_list.html", context, status=status)


@login_required
@require_POST
@scoped
def task_create_view(request: HttpRequest) -> HttpResponse:
    on_profile = request.POST.get("card") == "candidate"
    raw_profile_id = request.POST.get("candidate_id", "") if on_profile else ""
    profile_id = int(raw_profile_id) if raw_profile_id.isdigit() and len(raw_profile_id) < 19 else None
    if on_profile and profile_id is None:
        raise NotFound("No such person.")
    form = _form(request, request.POST)
    task = None
    if form.is_valid():
        try:
            task = task_create(actor=request.user, data=form.service_data())
        except NotFound as exc:
            if not exc.fields:
                raise
            form.add_error(None, "Choose a person or job from the list; that one is not available to you.")
        except ApplicationError as exc:
            add_service_errors(form, exc, FIELD_MAP)
    toast = f"Added the task “{task.title}”." if task else ""
    if not request.htmx:
        if task is None:
            for errors in form.errors.values():
                messages.error(request, errors[0])
                break
        else:
            messages.success(request, toast)
        fallback = reverse("candidates:detail", args=[profile_id]) if profile_id else reverse("tasks:list")
        return redirect(safe_next(request, fallback))
    if on_profile:
        response = _card_response(request, profile_id, form=None if task else form, errors=task is None)
    else:
        response = _list_response(request, form=_form(request) if task else form, status=200 if task else 422)
    if task:
        response["HX-Trigger"] = json.dumps({"rapport:toast": {"message": toast, "level": "success"}})
    return response


@login_required
@require_POST
@scoped
def task_done_view(request: HttpRequest, task_id: int) -> HttpResponse:
    """Check a task off (done=1) or open it again (done=0) in one click."""
    task = task_get_for_user(user=request.user, task_id=task_id)
    done = request.POST.get("done", "1") != "0"
    task_update(actor=request.user, task=task, data={"done": done})
    toast = f"Done: “{task.title}”." if done else f"Opened “{task.title}” again."
    if not request.htmx:
        messages.success(request, toast)
        return redirect(safe_next(request, reverse("tasks:list")))
    if request.POST.get("card") == "candidate" and task.candidate_id:
        response = _card_response(request, task.candidate_id)
    else:
        response = _list_response(request)
    response["HX-Trigger"] = json.dumps({"rapport:toast": {"message": toast, "level": "success"}})
    return response


@login_required
@require_http_methods(["GET", "POST"])
@scoped
def task_edit_view(request: HttpRequest, task_id: int) -> HttpResponse:
    task = task_get_for_user(user=request.user, task_id=task_id)
    if request.method == "POST":
        form = _form(request, request.POST, full=True)
        if form.is_valid():
            data = form.service_data()
            data.setdefault("candidate_id", None)  # an empty person field unlinks
            try:
                task_update(actor=request.user, task=task, data=data)
            except NotFound as exc:
                if not exc.fields:
                    raise
                form.add_error(None, "Choose a person or job from the list; that one is not available to you.")
            except ApplicationError as exc:
                add_service_errors(form, exc, FIELD_MAP)
            else:
                messages.success(request, f"Saved “{task.title}”.")
                return redirect(safe_next(request, reverse("tasks:list")))
        status = 422
    else:
        form = _form(request, initial=_initial(task), full=True)
        status = 200
    context = {"task": task, "form": form, "next": safe_next(request, "")}
    return render(request, "automation/edit.html", context, status=status)


def _initial(task: Task) -> dict[str, Any]:
    initial: dict[str, Any] = {
        "title": task.title,
        "notes": task.notes,
        "owner": task.owner_id,
        "job": task.job_id,
        "candidate_id": task.candidate_id or "",
    }
    if task.due_at:
        from rapport.automation.services import organisation_zone

        local = task.due_at.astimezone(organisation_zone())
        initial["due_date"] = local.date()
        if not task.due_all_day:
            initial["due_time"] = local.time().replace(second=0, microsecond=0)
    return initial


@login_required
@require_GET
def people_picker_view(request: HttpRequest) -> HttpResponse:
    """People matching the quick-add form's search box, as radio buttons that fill its person field."""
    q = (request.GET.get("person_q") or "").strip()[:200]
    results, error = candidate_picker(user=request.user, query=q, limit=PICKER_RESULTS)
    return render(request, "automation/_people_results.html", {"q": q, "results": results, "error": error})
