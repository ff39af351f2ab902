"""API: a person's upcoming automated touches (the profile's "Upcoming" card, for scripts)."""

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema

from rapport.accounts.permissions import Capability, ensure
from rapport.api.schemas import path_id, responses
from rapport.automation.views_upcoming import upcoming_touches
from rapport.candidates.selectors import candidate_get_for_user

router = Router(tags=["Automation"])


class TouchSource(Schema):
    type: Literal["sequence", "trigger"]
    id: str
    name: str


class TouchOut(Schema):
    due_at: datetime | None = Field(
        ..., description="When it should go, in UTC; null when it waits for a send window that cannot be placed yet."
    )
    channel: Literal["email", "sms", "whatsapp"] | str
    template_id: str | None
    template_name: str
    source: TouchSource
    enrolment_id: str | None = Field(..., description="For a sequence's touch: the enrolment to skip or send now.")
    run_id: str | None = Field(..., description="For a trigger's touch: the scheduled run to skip or send now.")


class UpcomingOut(Schema):
    items: list[TouchOut]


def _touch(touch: Any) -> dict[str, Any]:
    return {
        "due_at": touch.due_at,
        "channel": touch.channel,
        "template_id": None if touch.template_id is None else str(touch.template_id),
        "template_name": touch.template_name,
        "source": {"type": touch.source_type, "id": str(touch.source_id), "name": touch.source_name},
        "enrolment_id": None if touch.enrolment_id is None else str(touch.enrolment_id),
        "run_id": None if touch.run_id is None else str(touch.run_id),
    }


@router.get(
    "/candidates/{candidate_id}/upcoming",
    response=responses({200: UpcomingOut}, 403, 404),
    summary="A person's upcoming automated touches",
    description="The messages sequences and triggers will send this person, soonest first: when, on which channel, "
    "with which template, and from which sequence or trigger. A person outside the caller's scope answers 404; "
    "roles that do not manage automation (hiring managers, interviewers) get 403.",
)
def candidate_upcoming(request: HttpRequest, candidate_id: str) -> dict[str, Any]:
    candidate = candidate_get_for_user(user=request.auth, candidate_id=path_id(candidate_id))
    ensure(request.auth, Capability.MANAGE_AUTOMATION)
    return {"items": [_touch(touch) for touch in upcoming_touches(candidate)]}
