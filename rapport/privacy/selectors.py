"""Reads for the privacy centre (scoped to the signed-in person) and for the admins who confirm deletions."""

from typing import Any

from django.db.models import QuerySet

from rapport.accounts.models import User
from rapport.accounts.permissions import Capability, can
from rapport.candidates.models import Candidate
from rapport.common.errors import NotFound
from rapport.common.ids import parse_id
from rapport.privacy.models import Consent, DeletionRequest, DeletionStatus


def consents_for(*, candidate: Candidate) -> QuerySet[Consent]:
    return Consent.objects.filter(candidate=candidate).order_by("-given_at", "-id")


def consent_get_for_candidate(*, candidate: Candidate, consent_id: Any) -> Consent:
    """One of the person's own consents; anyone else's is "not found"."""
    try:
        return consents_for(candidate=candidate).get(pk=parse_id(consent_id))
    except (Consent.DoesNotExist, TypeError, ValueError):
        raise NotFound("No such consent.")


def deletion_request_pending_for(*, candidate: Candidate) -> DeletionRequest | None:
    return DeletionRequest.objects.filter(candidate=candidate, status=DeletionStatus.PENDING).first()


def deletion_requests_visible_to(user: User) -> QuerySet[DeletionRequest]:
    """Only those who may erase people see the requests; for everyone else the list is empty and lookups 404."""
    if not can(user, Capability.ERASE_CANDIDATES):
        return DeletionRequest.objects.none()
    return DeletionRequest.objects.select_related("candidate", "confirmed_by").order_by("-requested_at", "-id")


def deletion_request_get_for_user(*, user: User, request_id: Any) -> DeletionRequest:
    try:
        return deletion_requests_visible_to(user).get(pk=parse_id(request_id))
    except (DeletionRequest.DoesNotExist, TypeError, ValueError):
        raise NotFound("No such deletion request.")
