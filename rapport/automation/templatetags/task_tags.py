"""Template helpers for tasks: the sidebar's counts and the tasks card on a person's profile."""

from typing import Any

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def task_counts(context: template.Context) -> dict[str, int]:
    """The signed-in user's open and overdue tasks, for the sidebar."""
    from rapport.automation.selectors import task_counts as counts

    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"open": 0, "overdue": 0}
    return counts(user=user)


@register.inclusion_tag("automation/_candidate_tasks.html", takes_context=True)
def candidate_tasks_card(context: template.Context, candidate: Any) -> dict[str, Any]:
    """The profile's "Tasks" card: open tasks about the person the user may see, and a form to add one."""
    from rapport.automation.forms import TaskForm
    from rapport.automation.selectors import open_tasks_about

    request = context["request"]
    return {
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "candidate": candidate,
        "tasks": open_tasks_about(user=request.user, candidate_id=candidate.pk),
        "form": TaskForm(initial={"candidate_id": candidate.pk}),
    }


@register.filter
def due_label(task: Any) -> str:
    """When a task is due, as a recruiter reads it: "Today", "Tomorrow 14:30", "Mon 3 Feb", "12 Mar 2027"."""
    from django.utils import timezone

    from rapport.automation.services import organisation_zone

    if task.due_at is None:
        return ""
    zone = organisation_zone()
    local = task.due_at.astimezone(zone)
    today = timezone.now().astimezone(zone).date()
    delta = (local.date() - today).days
    if delta == 0:
        day = "Today"
    elif delta == 1:
        day = "Tomorrow"
    elif delta == -1:
        day = "Yesterday"
    elif local.year == today.year:
        day = f"{local:%a} {local.day} {local:%b}"
    else:
        day = f"{local.day} {local:%b %Y}"
    return day if task.due_all_day else f"{day} {local:%H:%M}"


@register.filter
def capped(count: int) -> str:
    """A sidebar count: "99+" past the cap the selector counts to."""
    from rapport.automation.selectors import COUNT_CAP

    return f"{COUNT_CAP}+" if count > COUNT_CAP else str(count)
