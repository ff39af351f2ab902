"""Writes of consent: each agreement is a new row with the notice it was given to, and a timeline event."""

from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from rapport.accounts.models import User
from rapport.accounts.permissions import Capability, ensure
from rapport.candidates.models import Candidate
from rapport.common.errors import Conflict, ValidationFailed
from rapport.privacy.models import Consent, DeletionRequest, DeletionStatus, LegalBasis
from rapport.timeline.services import activity_record


@transaction.atomic
def consent_record(
    *,
    candidate: Candidate,
    purpose: str,
    source: str,
    notice_version: str = "",
    retention_days: int | None = None,
    legal_basis: str = LegalBasis.CONSENT,
) -> Consent:
    """Record that a person agreed to `purpose` under the given notice; an earlier agreement is kept as history."""
    purpose = (purpose or "").strip()
    if not purpose or len(purpose) > 60:
        raise ValidationFailed.single("purpose", "Name the purpose in at most 60 characters.")
    if legal_basis not in LegalBasis.values:
        raise ValidationFailed.single("legal_basis", f"Choose one of: {', '.join(LegalBasis.values)}.")
    now = timezone.now()
    consent = Consent.objects.create(
        candidate=candidate,
        purpose=purpose,
        legal_basis=legal_basis,
        notice_version=(notice_version or "")[:40],
        retention_days=retention_days,
        source=(source or "")[:60],
        given_at=now,
    )
    activity_record(
        type="consent.given",
        candidate=candidate,
        occurred_at=now,
        payload={
            "consent_id": consent.pk,
            "purpose": purpose,
            "legal_basis": legal_basis,
            "notice_version": consent.notice_version,
            "retention_days": retention_days,
            "source": consent.source,
        },
    )
    return consent


# --- the privacy centre: withdrawal, export, deletion requests ------------------------------------------------------


@transaction.atomic
def consent_withdraw(*, candidate: Candidate, consent: Consent, source: str = "portal") -> Consent:
    """The person takes back one agreement; the row stays, with the time it was withdrawn, as the history."""
    if consent.candidate_id != candidate.pk:
        raise ValidationFailed.single("consent", "This consent belongs to someone else.")
    if consent.withdrawn_at is not None:
        raise Conflict("This consent was already withdrawn.")
    consent.withdrawn_at = timezone.now()
    consent.save(update_fields=["withdrawn_at"])
    activity_record(
        type="consent.withdrawn",
        candidate=candidate,
        occurred_at=consent.withdrawn_at,
        payload={"consent_id": consent.pk, "purpose": consent.purpose, "source": source},
    )
    return consent


# Timeline events about what the person did or was sent. Notes, logged calls and meetings, tags and pools are the
# team's internal record and stay out of the self-service download (see docs/architecture.md, "Portal and privacy").
EXPORTED_EVENT_PREFIXES = ("candidate.", "application.", "message.", "consent.", "portal.", "document.", "survey.")
EXPORT_FORMAT = "rapport.candidate-export/1"


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def candidate_data_export(*, candidate: Candidate) -> dict[str, Any]:
    """Everything the portal shows about a person, plus their profile, as plain JSON-ready values."""
    from rapport.messaging.models import Suppression
    from rapport.portal.selectors import portal_application_views, portal_messages
    from rapport.timeline.models import Activity

    emails = list(candidate.emails.values_list("email", flat=True))
    phones = list(candidate.phones.values_list("phone", flat=True))
    profile_fields = [
        "first_name",
        "last_name",
        "headline",
        "current_title",
        "current_company",
        "city",
        "region",
        "country",
        "timezone",
        "language",
        "skills",
        "links",
        "source",
        "preferred_channel",
        "relationship_status",
        "custom_fields",
        "engagement_score",
    ]
    profile = {name: getattr(candidate, name) for name in profile_fields}
    profile["birthday"] = _iso(candidate.birthday)
    profile["created_at"] = _iso(candidate.created_at)
    profile["updated_at"] = _iso(candidate.updated_at)
    applications = [
        {
            "job": view.application.job.title,
            "applied_at": _iso(view.application.created_at),
            "status": view.label,
            "history": [{"status": step.label, "at": _iso(step.at)} for step in view.history],
        }
        for view in portal_application_views(candidate=candidate)
    ]
    messages = [
        {
            "direction": "from_you" if m.direction == "inbound" else "to_you",
            "channel": m.channel,
            "subject": m.subject,
            "text": m.text,
            "at": _iso(m.sent_at or m.created_at),
        }
        for m in portal_messages(candidate=candidate)
    ]
    consents = [
        {
            "purpose": c.purpose,
            "legal_basis": c.get_legal_basis_display(),
            "notice_version": c.notice_version,
            "retention_days": c.retention_days,
            "source": c.source,
            "given_at": _iso(c.given_at),
            "withdrawn_at": _iso(c.withdrawn_at),
        }
        for c in candidate.consents.order_by("given_at", "id")
    ]
    opt_outs = [
        {"channel": s.channel, "address": s.address, "reason": s.get_reason_display(), "since": _iso(s.created_at)}
        for s in Suppression.objects.filter(address__in=emails + phones).order_by("created_at", "id")
    ]
    files = [
        {"name": a.original_name, "kind": a.get_kind_display(), "size": a.size, "uploaded_at": _iso(a.uploaded_at)}
        for a in candidate.attachments.order_by("uploaded_at", "id")
    ]
    from rapport.portal.models import DocumentRequest, PortalPreferences, SharedFeedback
    from rapport.surveys.models import SurveyResponse

    document_requests = [
        {
            "document": r.name,
            "instructions": r.instructions,
            "due_on": _iso(r.due_on),
            "status": r.get_status_display(),
            "requested_at": _iso(r.requested_at),
            "received_at": _iso(r.received_at),
        }
        for r in DocumentRequest.objects.filter(candidate=candidate).order_by("requested_at", "id")
    ]
    feedback = [
        {"job": f.application.job.title, "feedback": f.text, "shared_at": _iso(f.shared_at)}
        for f in SharedFeedback.objects.filter(application__candidate=candidate)
        .select_related("application__job")
        .order_by("shared_at", "id")
    ]
    quiet = PortalPreferences.objects.filter(candidate=candidate).first()
    preferences = {
        "max_messages_per_week": quiet.max_per_week if quiet is not None else None,
        "quiet_hours": (
            {"start": quiet.quiet_hours_start.isoformat(), "end": quiet.quiet_hours_end.isoformat()}
            if quiet is not None and quiet.quiet_hours_start is not None and quiet.quiet_hours_end is not None
            else None
        ),
    }
    # Only attributed answers are the person's: anonymous ones were never linked to them.
    surveys = [
        {
            "survey": r.survey.name,
            "submitted_at": _iso(r.submitted_at),
            "answers": [
                {"question": a.question.text, "score": a.score, "choice": a.choice, "text": a.text}
                for a in r.answers.all()
            ],
        }
        for r in SurveyResponse.objects.filter(candidate=candidate)
        .select_related("survey")
        .prefetch_related("answers__question")
        .order_by("submitted_at", "id")
    ]
    events = [
        {"type": a.type, "at": _iso(a.occurred_at)}
        for a in Activity.objects.filter(candidate=candidate).order_by("occurred_at", "id")
        if a.type.startswith(EXPORTED_EVENT_PREFIXES)
    ]
    return {
        "format": EXPORT_FORMAT,
        "generated_at": _iso(timezone.now()),
        "organisation": settings.RAPPORT_ORG_NAME,
        "profile": profile,
        "emails": emails,
        "phones": phones,
        "files": files,
        "applications": applications,
        "messages": messages,
        "consents": consents,
        "opt_outs": opt_outs,
        "document_requests": document_requests,
        "shared_feedback": feedback,
        "preferences": preferences,
        "surveys": surveys,
        "events": events,
        "not_included": (
            "The hiring team's internal notes and interview evaluations are not part of this download. "
            "To ask for them, send us a message from the portal."
        ),
    }


@transaction.atomic
def deletion_request_create(*, candidate: Candidate) -> DeletionRequest:
    """The person asks to be erased; asking again while one waits returns the waiting request."""
    pending = DeletionRequest.objects.filter(candidate=candidate, status=DeletionStatus.PENDING).first()
    if pending is not None:
        return pending
    request = DeletionRequest.objects.create(candidate=candidate)
    activity_record(
        type="deletion.requested",
        candidate=candidate,
        occurred_at=request.requested_at,
        payload={"deletion_request_id": request.pk},
    )
    return request


@transaction.atomic
def deletion_request_confirm(*, actor: User, deletion_request: DeletionRequest) -> DeletionRequest:
    """An admin confirms: the person is anonymised by the erase service; applications stay for the aggregates."""
    from rapport.candidates.services import candidate_erase
    from rapport.portal.services import portal_tokens_revoke

    ensure(actor, Capability.ERASE_CANDIDATES)
    locked = DeletionRequest.objects.select_for_update().get(pk=deletion_request.pk)
    if locked.status != DeletionStatus.PENDING:
        raise Conflict(f"This request is already {locked.get_status_display().lower()}.")
    candidate = locked.candidate
    if candidate.erased_at is None:
        candidate_erase(actor=actor, candidate=candidate)
    portal_tokens_revoke(candidate=candidate)
    locked.status = DeletionStatus.ERASED
    locked.confirmed_by = actor
    locked.confirmed_at = timezone.now()
    locked.save(update_fields=["status", "confirmed_by", "confirmed_at"])
    return locked


@transaction.atomic
def deletion_request_decline(*, actor: User, deletion_request: DeletionRequest) -> DeletionRequest:
    """An admin declines (for example a legal hold); the person's data stays and the request is closed."""
    ensure(actor, Capability.ERASE_CANDIDATES)
    locked = DeletionRequest.objects.select_for_update().get(pk=deletion_request.pk)
    if locked.status != DeletionStatus.PENDING:
        raise Conflict(f"This request is already {locked.get_status_display().lower()}.")
    locked.status = DeletionStatus.DECLINED
    locked.confirmed_by = actor
    locked.confirmed_at = timezone.now()
    locked.save(update_fields=["status", "confirmed_by", "confirmed_at"])
    activity_record(
        type="deletion.declined",
        candidate=locked.candidate,
        actor=actor,
        occurred_at=locked.confirmed_at,
        payload={"deletion_request_id": locked.pk},
    )
    return locked
