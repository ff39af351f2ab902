"""Workspace pages for notifications: the list, marking read, following a person, and the user's settings."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from rapport.candidates.selectors import candidate_get_for_user
from rapport.common.web import safe_next, scoped
from rapport.notifications.selectors import (
    is_following,
    notification_get_for_user,
    notifications_for_user,
    unread_count,
)
from rapport.notifications.services import (
    candidate_follow,
    candidate_unfollow,
    notification_preference_update,
    notifications_mark_read,
)

PAGE_SIZE = 50


@login_required
@require_GET
def notification_list_view(request: HttpRequest) -> HttpResponse:
    unread_only = request.GET.get("unread") == "1"
    rows = notifications_for_user(user=request.user, unread_only=unread_only)
    before = request.GET.get("before", "")
    if before.isdigit():
        rows = rows.filter(pk__lt=int(before))
    page = list(rows[: PAGE_SIZE + 1])
    items = page[:PAGE_SIZE]
    older_url = None
    if len(page) > PAGE_SIZE:
        older_url = reverse("notifications:list") + f"?before={items[-1].pk}" + ("&unread=1" if unread_only else "")
    context = {
        "notifications": items,
        "unread_only": unread_only,
        "unread": unread_count(user=request.user),
        "older_url": older_url,
        "is_first_page": not before,
    }
    return render(request, "notifications/list.html", context)


@login_required
@require_GET
@scoped
def notification_open_view(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Follow a notification to the person's profile, marking it read on the way."""
    notification = notification_get_for_user(user=request.user, notification_id=notification_id)
    notifications_mark_read(user=request.user, ids=[notification.pk])
    return redirect("candidates:detail", notification.candidate_id)


@login_required
@require_POST
def mark_all_read_view(request: HttpRequest) -> HttpResponse:
    marked = notifications_mark_read(user=request.user)
    if marked:
        messages.success(request, f"Marked {marked} notification{'s' if marked != 1 else ''} as read.")
    return redirect(safe_next(request, reverse("notifications:list")))


@login_required
@require_POST
@scoped
def follow_toggle_view(request: HttpRequest, candidate_id: int) -> HttpResponse:
    """Follow or stop following a person the user may see; the button's `follow` field says which."""
    candidate = candidate_get_for_user(user=request.user, candidate_id=candidate_id)
    if request.POST.get("follow") == "0":
        candidate_unfollow(user=request.user, candidate=candidate)
        message = f"You no longer follow {candidate.full_name}."
    else:
        candidate_follow(user=request.user, candidate=candidate)
        message = f"You follow {candidate.full_name}: you will be told when they reply, click or visit."
    if request.htmx:
        following = is_following(user=request.user, candidate=candidate)
        return render(
            request,
            "notifications/_follow_button.html",
            {"candidate": candidate, "following": following, "announce": message},
        )
    messages.success(request, message)
    return redirect(safe_next(request, reverse("candidates:detail", args=[candidate.pk])))


class PreferenceForm(forms.Form):
    daily_digest = forms.BooleanField(required=False)
    notify_opens = forms.BooleanField(required=False)


@login_required
@require_POST
def preferences_view(request: HttpRequest) -> HttpResponse:
    form = PreferenceForm(request.POST)
    form.is_valid()  # two checkboxes: anything unticked or unreadable is simply off
    notification_preference_update(
        user=request.user,
        daily_digest=form.cleaned_data.get("daily_digest", False),
        notify_opens=form.cleaned_data.get("notify_opens", False),
    )
    messages.success(request, "Your notification settings are saved.")
    return redirect(reverse("accounts:settings") + "#notification-settings")
