"""Notification pieces that sit on other apps' pages: the bell, the follow button, the settings card."""

from typing import Any

from django import template
from django.conf import settings

from rapport.notifications.selectors import (
    UNREAD_COUNT_CAP,
    is_following,
    notification_preference_for,
    unread_count,
)

register = template.Library()


def _user(context: template.Context) -> Any:
    request = context.get("request")
    return getattr(request, "user", None)


@register.inclusion_tag("notifications/_bell.html", takes_context=True)
def notification_bell(context: template.Context) -> dict[str, Any]:
    user = _user(context)
    if not (user and user.is_authenticated):
        return {"show": False}
    count = unread_count(user=user)
    label = f"{UNREAD_COUNT_CAP}+" if count > UNREAD_COUNT_CAP else str(count)
    return {"show": True, "count": count, "label": label}


@register.inclusion_tag("notifications/_follow_button.html", takes_context=True)
def follow_button(context: template.Context, candidate: Any) -> dict[str, Any]:
    user = _user(context)
    following = bool(user and user.is_authenticated and is_following(user=user, candidate=candidate))
    return {"candidate": candidate, "following": following, "csrf_token": context.get("csrf_token")}


@register.inclusion_tag("notifications/_settings_card.html", takes_context=True)
def notification_settings(context: template.Context) -> dict[str, Any]:
    user = _user(context)
    return {
        "preference": notification_preference_for(user=user),
        "email": user.email,
        "time_zone": settings.RAPPORT_DEFAULT_TIMEZONE,
        "csrf_token": context.get("csrf_token"),
    }
