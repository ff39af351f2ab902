"""Reads for the candidate portal: always scoped to the signed-in person, and always in candidate-facing words.

A stage's public label comes from its category (never its internal name): recruiters name stages for themselves
("Tech screen w/ Sam"), and those names are not meant for the person. Rejection reasons and notes, scorecards and
internal notes are never read here.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet

from rapport.candidates.models import Candidate
from rapport.common.errors import NotFound
from rapport.common.ids import parse_id
from rapport.jobs.models import Stage, StageCategory
from rapport.messaging.models import Message, MessageDirection, MessageStatus
from rapport.pipeline.models import Application, ApplicationStatus, StageTransition

PUBLIC_LABELS = {
    StageCategory.SOURCED: "Application received",
    StageCategory.APPLIED: "Application received",
    StageCategory.SCREENING: "Under review",
    StageCategory.INTERVIEW: "Interviewing",
    StageCategory.OFFER: "Offer",
    StageCategory.HIRED: "Hired",
}
STATUS_LABELS = {
    ApplicationStatus.REJECTED: "Not moving forward",
    ApplicationStatus.WITHDRAWN: "Withdrawn",
    ApplicationStatus.HIRED: "Hired",
}
# The steps every application can go through, in order, for the progress line on each card.
PUBLIC_STEPS = ["Application received", "Under review", "Interviewing", "Offer", "Hired"]
NEXT_STEPS = {
    "Application received": "We have your application. The team reviews new applications within about a week.",
    "Under review": "The team is reviewing your profile. If it is a match, we will invite you to an interview.",
    "Interviewing": "You are in the interview stage. We will send the details of each interview by email.",
    "Offer": "We would like to make you an offer. Your recruiter will be in touch about the details.",
    "Hired": "Welcome aboard! Your recruiter will guide you through the next steps.",
    "Not moving forward": "We will not be moving forward with this application. Thank you for your interest.",
    "Withdrawn": "You withdrew this application. You are welcome to apply again to other roles.",
}
# What the person sees in their thread: what reached them, and what they sent. Drafts, queued, failed and
# suppressed messages never reached them, so they are not theirs to see.
VISIBLE_OUTBOUND = [MessageStatus.SENT, MessageStatus.DELIVERED]


def public_label(*, category: str, status: str = ApplicationStatus.ACTIVE, override: str = "") -> str:
    """A closed application's outcome, else the stage's own public label, else the wording for its category."""
    if status in STATUS_LABELS:
        return STATUS_LABELS[status]
    return override or PUBLIC_LABELS.get(category, "Under review")


def stage_public_label(stage: Stage, status: str = ApplicationStatus.ACTIVE) -> str:
    return public_label(category=stage.category, status=status, override=stage.public_label)


@dataclass
class PublicStep:
    label: str
    at: datetime


@dataclass
class PortalApplication:
    application: Application
    label: str
    next_step: str
    history: list[PublicStep] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)

    @property
    def can_withdraw(self) -> bool:
        return self.application.status == ApplicationStatus.ACTIVE


def portal_applications(*, candidate: Candidate) -> QuerySet[Application]:
    return Application.objects.filter(candidate=candidate).select_related("job", "stage").order_by("-created_at", "-id")


def portal_application_get(*, candidate: Candidate, application_id: Any) -> Application:
    """One of the person's own applications; anyone else's is "not found", never "forbidden"."""
    try:
        return portal_applications(candidate=candidate).get(pk=parse_id(application_id))
    except (Application.DoesNotExist, TypeError, ValueError):
        raise NotFound("No such application.")


def _history(application: Application, transitions: list[StageTransition]) -> list[PublicStep]:
    """The stage history in public words; moves between stages with the same public label show once."""
    steps: list[PublicStep] = []
    for transition in transitions:
        if transition.to_stage is None:
            continue
        label = stage_public_label(transition.to_stage)
        if not steps or steps[-1].label != label:
            steps.append(PublicStep(label=label, at=transition.at))
    if not steps:
        steps.append(PublicStep(label=stage_public_label(application.stage), at=application.created_at))
    if application.status in STATUS_LABELS and steps[-1].label != STATUS_LABELS[application.status]:
        steps.append(
            PublicStep(label=STATUS_LABELS[application.status], at=application.closed_at or application.updated_at)
        )
    return steps


def portal_application_views(*, candidate: Candidate) -> list[PortalApplication]:
    applications = list(portal_applications(candidate=candidate))
    transitions: dict[int, list[StageTransition]] = {a.pk: [] for a in applications}
    for transition in (
        StageTransition.objects.filter(application__in=applications).select_related("to_stage").order_by("at", "id")
    ):
        transitions[transition.application_id].append(transition)
    views = []
    for application in applications:
        label = stage_public_label(application.stage, application.status)
        # The progress line follows the category, whatever a stage's own label says.
        current = public_label(category=application.stage.category)
        reached = PUBLIC_STEPS.index(current) if current in PUBLIC_STEPS else 0
        steps = [
            {"label": step, "done": i < reached, "current": i == reached and application.status == "active"}
            for i, step in enumerate(PUBLIC_STEPS)
        ]
        views.append(
            PortalApplication(
                application=application,
                label=label,
                next_step=NEXT_STEPS.get(
                    public_label(category=application.stage.category, status=application.status), ""
                ),
                history=_history(application, transitions[application.pk]),
                steps=steps,
            )
        )
    return views


def portal_messages(*, candidate: Candidate) -> QuerySet[Message]:
    """The person's conversation with the team, oldest first: what reached them and what they sent."""
    return (
        Message.objects.filter(candidate=candidate)
        .filter(
            Q(direction=MessageDirection.INBOUND) | Q(direction=MessageDirection.OUTBOUND, status__in=VISIBLE_OUTBOUND)
        )
        .select_related("job")
        .order_by("created_at", "id")
    )


_UNSUBSCRIBE_FOOTER = "\nUnsubscribe: "


def portal_message_text(message: Message) -> str:
    """A message's text as the portal shows it: the email's unsubscribe footer goes (Preferences does that job)."""
    text = message.text or ""
    footer_at = text.rfind(_UNSUBSCRIBE_FOOTER)
    if message.direction == MessageDirection.OUTBOUND and footer_at != -1 and "\n" not in text[footer_at + 1 :].strip():
        text = text[:footer_at]
    return text.rstrip()
