"""The profile's "Candidate portal" card: document requests and their status, and feedback shared with the person."""

from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("portal/_staff_card.html", takes_context=True)
def portal_staff_card(context: template.Context, candidate: Any) -> dict[str, Any]:
    from rapport.portal.views_staff import staff_card_context

    card = staff_card_context(request=context["request"], candidate=candidate)
    card["csrf_token"] = context.get("csrf_token")
    return card
