"""The recruiter inbox: replies from people, per view, with triage actions on one row or many.

Every action is a POST (CSRF-checked) that names the replies by id; any id outside the user's scope makes the
whole request 404, and roles that do not read messages get 403. HTMX re-renders the list in place; without
JavaScript the action redirects back to the same view.
"""

import json
from typing import Any

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from rapport.accounts.models import User
from rapport.accounts.permissions import Capability, ensure
from rapport.common.errors import ApplicationError, BadRequest, NotFound, ValidationFailed
from rapport.common.ids import parse_id
from rapport.common.web import scoped
from rapport.messaging.selectors_inbox import (
    DEFAULT_VIEW,
    INBOX_VIEWS,
    inbox_assignees,
    inbox_list,
    inbox_messages_for_user,
    inbox_queryset,
    snooze_presets,
    snooze_until,
)
from rapport.messaging.services_inbox import (
    inbox_assign,
    inbox_mark_done,
    inbox_mark_read,
    inbox_mark_unread,
    inbox_snooze,
)

FIELD_LABELS = {"snooze_date": "Snooze date", "snoozed_until": "Snooze", "until": "Snooze", "assigned_to": "Assign to"}


def _view_name(value: str | None) -> str:
    return value if value in INBOX_VIEWS else DEFAULT_VIEW


def _triage_url() -> str | None:
    """The unknown-senders page, when that part of Rapport is installed."""
    try:
        return reverse("triage:list")
    except NoReverseMatch:
        return None


ACTIONS = ("done", "reopen", "unread", "read", "snooze", "unsnooze", "assign")


def _assignee_options() -> SafeString:
    """The assignee menu once per page; every row's select reuses it."""
    people = [(u.pk, u.name or u.email) for u in inbox_assignees()]
    options = format_html_join("", '<option value="{}">{}</option>', people)
    return format_html(
        '<option value="" disabled selected>Choose…</option><option value="none">Nobody</option>{}', options
    )


def _list_context(request: HttpRequest, view: str, cursor: str | None = None) -> dict[str, Any]:
    page = inbox_list(user=request.user, view=view, cursor=cursor)
    presets = snooze_presets()
    return {
        "view": view,
        "views": INBOX_VIEWS.items(),
        "page": page,
        "total": inbox_queryset(user=request.user, view=view).count(),
        "urls": {action: reverse("inbox:action", args=[action]) for action in ACTIONS},
        "snooze_labels": {
            "tomorrow": f"tomorrow, {presets['tomorrow']:%H:%M}",
            "monday": f"{presets['monday']:%a} {presets['monday'].day} {presets['monday']:%b, %H:%M}",
        },
        "assignee_options": _assignee_options(),
        "is_first_page": not cursor,
    }


@login_required
@require_GET
@vary_on_headers("HX-Request")
@scoped
def inbox(request: HttpRequest) -> HttpResponse:
    ensure(request.user, Capability.SEND_MESSAGES)
    view = _view_name(request.GET.get("view"))
    try:
        context = _list_context(request, view, request.GET.get("cursor") or None)
    except BadRequest:
        return redirect(f"{reverse('inbox:list')}?view={view}")
    if request.htmx and request.GET.get("cursor"):
        return render(request, "messaging/_inbox_rows.html", context)
    if request.htmx:
        return render(request, "messaging/_inbox_list.html", context)
    return render(request, "messaging/inbox.html", {**context, "triage_url": _triage_url()})


def _assignee(value: str) -> User | None:
    if value in ("", "none"):
        return None
    try:
        return inbox_assignees().get(pk=parse_id(value))
    except (User.DoesNotExist, TypeError, ValueError):
        raise ValidationFailed.single("assigned_to", "Choose an active admin or recruiter.")


def _apply(request: HttpRequest, action: str) -> str:
    """Run one action on the posted replies; returns the sentence for the toast."""
    user = request.user
    selected = inbox_messages_for_user(user=user, ids=request.POST.getlist("ids"))
    count = len(selected)
    what = "1 reply" if count == 1 else f"{count} replies"
    if action == "done":
        inbox_mark_done(actor=user, messages=selected)
        return f"Marked {what} done."
    if action == "reopen":
        inbox_mark_done(actor=user, messages=selected, done=False)
        return f"Moved {what} back to the inbox."
    if action == "unread":
        inbox_mark_unread(actor=user, messages=selected)
        return f"Marked {what} unread."
    if action == "read":
        inbox_mark_read(actor=user, messages=selected)
        return f"Marked {what} read."
    if action == "snooze":
        until = snooze_until(choice=request.POST.get("until", ""), on_date=request.POST.get("snooze_date", ""))
        inbox_snooze(actor=user, messages=selected, until=until)
        return f"Snoozed {what} until {until:%a %d %b, %H:%M}."
    if action == "unsnooze":
        inbox_snooze(actor=user, messages=selected, until=None)
        return f"Moved {what} back to the inbox."
    if action == "assign":
        if not request.POST.get("assignee"):
            raise ValidationFailed.single("assigned_to", "Choose who should handle it.")
        assignee = _assignee(request.POST.get("assignee", ""))
        inbox_assign(actor=user, messages=selected, assignee=assignee)
        return f"Assigned {what} to {assignee.name or assignee.email}." if assignee else f"Unassigned {what}."
    raise NotFound("No such action.")


def _error_text(exc: ApplicationError) -> str:
    for field, messages in exc.fields.items():
        return f"{FIELD_LABELS.get(field, field.replace('_', ' ').capitalize())}: {messages[0]}"
    return exc.message


@login_required
@require_POST
@scoped
def inbox_action(request: HttpRequest, action: str) -> HttpResponse:
    ensure(request.user, Capability.SEND_MESSAGES)
    view = _view_name(request.POST.get("view"))
    back = f"{reverse('inbox:list')}?view={view}"
    try:
        text = _apply(request, action)
    except (ValidationFailed, BadRequest) as exc:
        if not request.htmx:
            flash.error(request, _error_text(exc))
            return redirect(back)
        context = {**_list_context(request, view), "action_error": _error_text(exc), "oob_unread": True}
        return render(request, "messaging/_inbox_list.html", context, status=422)
    if not request.htmx:
        flash.success(request, text)
        return redirect(back)
    # The sidebar's unread count is swapped out of band, so it agrees with the list.
    response = render(request, "messaging/_inbox_list.html", {**_list_context(request, view), "oob_unread": True})
    response["HX-Trigger"] = json.dumps({"rapport:toast": {"message": text, "level": "success"}})
    return response
