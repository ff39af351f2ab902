"""The profile's "Upcoming" card: what automation will send a person, when, and for which sequence or trigger,
with "Skip" and "Send now" on each touch.

The buttons post to these views; over HTMX the card is swapped in place, without JavaScript the page reloads.
"""

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from rapport.accounts.permissions import Capability, ensure
from rapport.automation.models import Enrolment, TriggerRun
from rapport.automation.selectors_sequences import enrolment_get_for_user, enrolment_upcoming
from rapport.automation.selectors_triggers import trigger_run_get_for_user, trigger_runs_upcoming
from rapport.automation.services_sequences import enrolment_send_now, enrolment_skip_step
from rapport.automation.services_triggers import trigger_run_send_now, trigger_run_skip
from rapport.automation.touches import Touch
from rapport.candidates.models import Candidate
from rapport.candidates.selectors import candidate_get_for_user
from rapport.common.errors import ApplicationError, NotFound
from rapport.common.web import safe_next, scoped


def upcoming_touches(candidate: Candidate) -> list[Touch]:
    """Both kinds of touch in one list, soonest first (a touch without a time, waiting on a window, last)."""
    touches = list(enrolment_upcoming(candidate=candidate)) + list(trigger_runs_upcoming(candidate=candidate))

    def key(touch: Touch) -> tuple[int, Any]:
        return (0, touch.due_at) if touch.due_at is not None else (1, 0)

    return sorted(touches, key=key)


def _enrolment_for_user(request: HttpRequest, enrolment_id: int) -> Enrolment:
    """An enrolment whose sequence and person are both in the user's scope; anything else is 404."""
    enrolment = enrolment_get_for_user(user=request.user, enrolment_id=enrolment_id)
    candidate_get_for_user(user=request.user, candidate_id=enrolment.candidate_id)
    return enrolment


def _run_for_user(request: HttpRequest, run_id: int) -> TriggerRun:
    run = trigger_run_get_for_user(user=request.user, run_id=run_id)
    if run.candidate_id is None:
        raise NotFound("No such scheduled touch.")
    return run


def _respond(request: HttpRequest, candidate_id: int, *, toast: str, error: str = "") -> HttpResponse:
    if not request.htmx:
        if error:
            messages.error(request, error)
        else:
            messages.success(request, toast)
        return redirect(safe_next(request, reverse("candidates:detail", args=[candidate_id])))
    candidate = candidate_get_for_user(user=request.user, candidate_id=candidate_id)
    context = {"candidate": candidate, "allowed": True, "touches": upcoming_touches(candidate), "error": error}
    response = render(request, "automation/_upcoming_card.html", context)
    if not error:
        response["HX-Trigger"] = json.dumps({"rapport:toast": {"message": toast, "level": "success"}})
    return response


ACTIONS = {"skip": "Skipped the touch.", "send-now": "Sending it now."}


@login_required
@require_POST
@scoped
def enrolment_touch_view(request: HttpRequest, enrolment_id: int, action: str) -> HttpResponse:
    """Skip a sequence's next step for this person, or run it now."""
    ensure(request.user, Capability.MANAGE_AUTOMATION)
    if action not in ACTIONS:
        raise NotFound("No such action.")
    enrolment = _enrolment_for_user(request, enrolment_id)
    error = ""
    try:
        if action == "skip":
            enrolment_skip_step(actor=request.user, enrolment=enrolment)
        else:
            enrolment_send_now(actor=request.user, enrolment=enrolment)
    except ApplicationError as exc:
        if exc.status in (403, 404) and not exc.fields:
            raise
        error = exc.message
    return _respond(request, enrolment.candidate_id, toast=ACTIONS[action], error=error)


@login_required
@require_POST
@scoped
def trigger_run_touch_view(request: HttpRequest, run_id: int, action: str) -> HttpResponse:
    """Skip a trigger's scheduled touch for this person, or send it now."""
    ensure(request.user, Capability.MANAGE_AUTOMATION)
    if action not in ACTIONS:
        raise NotFound("No such action.")
    run = _run_for_user(request, run_id)
    error = ""
    try:
        if action == "skip":
            trigger_run_skip(actor=request.user, run=run)
        else:
            trigger_run_send_now(actor=request.user, run=run)
    except ApplicationError as exc:
        if exc.status in (403, 404) and not exc.fields:
            raise
        error = exc.message
    return _respond(request, run.candidate_id, toast=ACTIONS[action], error=error)
