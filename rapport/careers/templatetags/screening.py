"""`{% screening_answers application %}`: an application's screening answers, for those who may see the application."""

from typing import Any

from django import template

from rapport.careers.selectors import screening_answers_for_user

register = template.Library()

_CACHE_KEY = "rapport.careers.screening_answers"


def _answers_for(context: template.Context, user: Any, application: Any) -> list[Any]:
    """One query for all the applications the page lists (`applications` in the context), not one per card."""
    cached = context.render_context.get(_CACHE_KEY)
    if cached is None or application.pk not in cached[0]:
        listed = [getattr(item, "pk", None) for item in context.get("applications") or []]
        ids = {pk for pk in listed if pk is not None} | {application.pk}
        cached = (ids, screening_answers_for_user(user=user, application_ids=sorted(ids)))
        context.render_context[_CACHE_KEY] = cached
    return cached[1].get(application.pk, [])


@register.inclusion_tag("careers/_screening_answers.html", takes_context=True)
def screening_answers(context: template.Context, application: Any) -> dict[str, Any]:
    """Looked up through the scoped selector with the viewer from the request, never from what the page passed."""
    request = context.get("request")
    user = getattr(request, "user", None)
    answers = _answers_for(context, user, application) if user is not None and application is not None else []
    return {
        "application": application,
        "answers": answers,
        "knockouts": sum(1 for answer in answers if answer.knocked_out),
    }
