"""The engagement meter on a person's profile, with the explanation a recruiter needs to trust the number."""

from typing import Any

from django import template
from django.conf import settings

from rapport.candidates.engagement import (
    ENGAGEMENT_CLICK_POINTS,
    ENGAGEMENT_OPEN_POINTS,
    ENGAGEMENT_PORTAL_VISIT_POINTS,
    ENGAGEMENT_REPLY_POINTS,
)

register = template.Library()


@register.inclusion_tag("candidates/_engagement_meter.html")
def engagement_meter(candidate: Any) -> dict[str, Any]:
    from rapport.jobs.views import engagement_level  # the kanban's words for the same score

    score = int(candidate.engagement_score or 0)
    days = settings.RAPPORT_ENGAGEMENT_HALF_LIFE_DAYS
    explanation = (
        f"How actively {candidate.first_name or 'this person'} has responded lately, from 0 to 100. "
        f"A reply adds {ENGAGEMENT_REPLY_POINTS:g} points, a link click {ENGAGEMENT_CLICK_POINTS:g}, a portal visit "
        f"{ENGAGEMENT_PORTAL_VISIT_POINTS:g} and an opened email {ENGAGEMENT_OPEN_POINTS:g}; each counts half as "
        f"much after {days} day{'s' if days != 1 else ''}, so someone who went quiet drifts back towards 0."
    )
    return {"score": score, "level": engagement_level(score), "explanation": explanation}
