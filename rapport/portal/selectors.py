"""Reads for the candidate portal: always scoped to the signed-in person, and always in candidate-facing words.

A stage's public label comes from its category (never its internal name): recruiters name stages for themselves
("Tech screen w/ Sam"), and those names are not meant for the person. Rejection reasons and notes, scorecards and
internal notes are never read here.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time
from typing import Any

from django.db.models import F, Q, QuerySet

from rapport.candidates.models import Candidate
from rapport.common.errors import NotFound
from rapport.common.ids import parse_id
from rapport.jobs.models import Stage, StageCategory
from rapport.messaging.models import Message, MessageDirection, MessageStatus
from rapport.pipeline.models import Application, ApplicationStatus, StageTransition
from rapport.portal.models import DocumentRequest, DocumentRequestStatus, SharedFeedback
from rapport.timeline.models import Activity

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
# "By when": how many days an application typically spends at each kind of stage before the person hears back,
# counted from the day it entered the stage (docs/architecture.md, "Candidate portal").
TYPICAL_DAYS = {
    StageCategory.SOURCED: 7,
    StageCategory.APPLIED: 7,
    StageCategory.SCREENING: 10,
    StageCategory.INTERVIEW: 14,
    StageCategory.OFFER: 7,
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
    # The day the person can expect news by, and whether that day has passed (we then say so instead).
    expected_by: date | None = None
    overdue: bool = False
    feedback: list[SharedFeedback] = field(default_factory=list)

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


def expected_by(application: Application, *, today: date | None = None) -> tuple[date | None, bool]:
    """The day an active application's person can expect news by, and whether it has passed; closed: (None, False)."""
    days = TYPICAL_DAYS.get(application.stage.category)
    if application.status != ApplicationStatus.ACTIVE or days is None:
        return None, False
    entered = application.stage_entered_at.astimezone(UTC).date()
    due = entered + timedelta(days=days)
    return due, due < (today or datetime.now(UTC).date())


def portal_application_views(*, candidate: Candidate) -> list[PortalApplication]:
    applications = list(portal_applications(candidate=candidate))
    transitions: dict[int, list[StageTransition]] = {a.pk: [] for a in applications}
    for transition in (
        StageTransition.objects.filter(application__in=applications).select_related("to_stage").order_by("at", "id")
    ):
        transitions[transition.application_id].append(transition)
    feedback: dict[int, list[SharedFeedback]] = {a.pk: [] for a in applications}
    for item in SharedFeedback.objects.filter(application__in=applications).order_by("-shared_at", "-id"):
        feedback[item.application_id].append(item)
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
        due, overdue = expected_by(application)
        views.append(
            PortalApplication(
                application=application,
                label=label,
                next_step=NEXT_STEPS.get(
                    public_label(category=application.stage.category, status=application.status), ""
                ),
                history=_history(application, transitions[application.pk]),
                steps=steps,
                expected_by=due,
                overdue=overdue,
                feedback=feedback[application.pk],
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


# --- documents -----------------------------------------------------------------------------------------------------


def portal_document_requests(*, candidate: Candidate) -> QuerySet[DocumentRequest]:
    """The person's document requests: open ones first (soonest due first), then those received, newest first."""
    return (
        DocumentRequest.objects.filter(candidate=candidate)
        .select_related("application__job", "attachment")
        .order_by("-status", F("due_on").asc(nulls_last=True), "-requested_at", "-id")
    )


def portal_document_request_get(*, candidate: Candidate, request_id: Any) -> DocumentRequest:
    """One of the person's own requests; anyone else's is "not found", never "forbidden"."""
    try:
        return portal_document_requests(candidate=candidate).get(pk=parse_id(request_id))
    except (DocumentRequest.DoesNotExist, TypeError, ValueError):
        raise NotFound("No such document request.")


def portal_open_document_count(*, candidate: Candidate) -> int:
    return DocumentRequest.objects.filter(candidate=candidate, status=DocumentRequestStatus.REQUESTED).count()


def document_requests_for_candidate(*, candidate: Candidate) -> list[DocumentRequest]:
    """For the team's profile card: every request made of a person already looked up through a scoped selector."""
    return list(
        DocumentRequest.objects.filter(candidate=candidate)
        .select_related("application__job", "attachment", "requested_by")
        .order_by("-requested_at", "-id")[:50]
    )


def shared_feedback_for_candidate(*, candidate: Candidate, applications: list[Application]) -> list[SharedFeedback]:
    """For the team's profile card: what was shared with the person on the applications the user may see."""
    return list(
        SharedFeedback.objects.filter(application__candidate=candidate, application__in=applications)
        .select_related("application__job", "shared_by")
        .order_by("-shared_at", "-id")[:50]
    )


def frequency_caps_by_candidate(*, candidate_ids: list[int]) -> dict[int, int]:
    """The weekly most people asked for in the portal, for the outbox in one query per batch; absent when unset."""
    from rapport.portal.models import PortalPreferences

    rows = PortalPreferences.objects.filter(candidate_id__in=candidate_ids, max_per_week__isnull=False)
    return dict(rows.values_list("candidate_id", "max_per_week"))


def portal_max_per_week(*, candidate: Candidate) -> int | None:
    from rapport.portal.models import PortalPreferences

    return PortalPreferences.objects.filter(candidate=candidate).values_list("max_per_week", flat=True).first()


def portal_quiet_hours(*, candidate: Candidate) -> tuple[dt_time | None, dt_time | None]:
    """The person's own quiet hours (start, end) in their time zone, or (None, None) when they set none."""
    from rapport.portal.models import PortalPreferences

    row = PortalPreferences.objects.filter(candidate=candidate).first()
    if row is None or row.quiet_hours_start is None or row.quiet_hours_end is None:
        return None, None
    return row.quiet_hours_start, row.quiet_hours_end


# --- interviews ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UpcomingInterview:
    starts_at: datetime
    when: str  # in the person's time zone, which template filters would otherwise replace with the server's
    title: str
    location: str
    preparation: str
    job_title: str


def portal_upcoming_interviews(*, candidate: Candidate, now: datetime | None = None) -> list[UpcomingInterview]:
    """Interviews still to come, from `meeting.scheduled` events (`starts_at`, `title`, `location`,
    `preparation`), soonest first, in the person's own time zone.

    The events come from the scheduling side; a payload missing its time or with one that does not parse is left
    out rather than shown wrong.
    """
    from rapport.messaging.respect import person_zone

    now = now or datetime.now(UTC)
    zone = person_zone(candidate.timezone)
    upcoming: list[UpcomingInterview] = []
    for activity in (
        Activity.objects.filter(candidate=candidate, type="meeting.scheduled")
        .select_related("job")
        .order_by("-id")[:50]
    ):
        payload = activity.payload if isinstance(activity.payload, dict) else {}
        try:
            starts_at = datetime.fromisoformat(str(payload.get("starts_at") or ""))
        except ValueError:
            continue
        if starts_at.tzinfo is None:
            starts_at = starts_at.replace(tzinfo=UTC)
        if starts_at < now:
            continue
        local = starts_at.astimezone(zone)
        upcoming.append(
            UpcomingInterview(
                starts_at=local,
                when=f"{local:%A} {local.day} {local:%B %Y}, {local:%H:%M} ({zone.key} time)",
                title=str(payload.get("title") or "Interview"),
                location=str(payload.get("location") or ""),
                preparation=str(payload.get("preparation") or ""),
                job_title=activity.job.title if activity.job else "",
            )
        )
    return sorted(upcoming, key=lambda item: item.starts_at)


def quiet_hours_by_candidate(*, candidate_ids: list[int]) -> dict[int, tuple[int, int]]:
    """People's own quiet hours as (start, end) minutes after midnight in their time zone, the shape of
    `settings.RAPPORT_QUIET_HOURS`, for the outbox to read in one query per batch; people with none are absent."""
    from rapport.portal.models import PortalPreferences

    rows = PortalPreferences.objects.filter(
        candidate_id__in=candidate_ids, quiet_hours_start__isnull=False, quiet_hours_end__isnull=False
    ).values_list("candidate_id", "quiet_hours_start", "quiet_hours_end")
    return {
        candidate_id: (start.hour * 60 + start.minute, end.hour * 60 + end.minute) for candidate_id, start, end in rows
    }


def portal_birthday_greetings(*, candidate: Candidate) -> bool:
    """Whether the person asked for a birthday greeting and has not taken it back."""
    from rapport.automation.defaults import BIRTHDAY_CONSENT
    from rapport.privacy.models import Consent

    return Consent.objects.filter(candidate=candidate, purpose=BIRTHDAY_CONSENT, withdrawn_at__isnull=True).exists()
