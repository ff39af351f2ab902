"""Template helpers for sequences and triggers: times in the viewer's zone, and the profile's "Upcoming" card."""

from datetime import datetime
from typing import Any

from django import template

register = template.Library()


@register.filter
def when(value: datetime | None) -> str:
    """A moment as the viewer reads it, in the organisation's time zone with its abbreviation: "Thu 3 Dec, 14:00 CET".

    Users have no time zone of their own yet, so the organisation's stands in for the viewer's.
    """
    if value is None:
        return ""
    from django.utils import timezone

    from rapport.automation.services import organisation_zone

    zone = organisation_zone()
    local = value.astimezone(zone)
    today = timezone.now().astimezone(zone).date()
    delta = (local.date() - today).days
    if delta == 0:
        day = "Today"
    elif delta == 1:
        day = "Tomorrow"
    elif local.year == today.year:
        day = f"{local:%a} {local.day} {local:%b}"
    else:
        day = f"{local.day} {local:%b %Y}"
    return f"{day}, {local:%H:%M} {local.tzname()}"


@register.inclusion_tag("automation/_upcoming_card.html", takes_context=True)
def upcoming_card(context: template.Context, candidate: Any) -> dict[str, Any]:
    """The profile's "Upcoming" card: the automated touches scheduled for the person, for those who run automation."""
    from rapport.accounts.permissions import Capability, can
    from rapport.automation.views_upcoming import upcoming_touches

    request = context["request"]
    allowed = can(request.user, Capability.MANAGE_AUTOMATION)
    return {
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "candidate": candidate,
        "allowed": allowed,
        "touches": upcoming_touches(candidate) if allowed else [],
    }
