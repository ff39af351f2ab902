"""Writes for triage: make the unknown sender of an email a lead (with the email on their new thread), or dismiss it."""

import re

from django.db import transaction
from django.utils import timezone

from rapport.accounts.models import User
from rapport.accounts.permissions import Capability, ensure
from rapport.candidates.models import Candidate, RelationshipStatus
from rapport.candidates.services import candidate_create
from rapport.common.errors import Conflict, Duplicate, ValidationFailed
from rapport.messaging.channels.email.inbound import MalformedEmail, email_receive, parse_email
from rapport.messaging.models import InboundEmail, InboundStatus
from rapport.messaging.selectors import candidate_for_address

LEAD_SOURCE = "Email"
MAX_NAME = 100


def _locked(inbound: InboundEmail) -> InboundEmail:
    # Two people clicking at once: the second waits for the first and then sees the row already sorted.
    return InboundEmail.objects.select_for_update().get(pk=inbound.pk)


def lead_name(*, name: str, address: str) -> tuple[str, str]:
    """(first, last) from the From name ("Grace Hopper", "Hopper, Grace"), else from the address ("grace.hopper@")."""
    name = " ".join(name.replace('"', " ").split())
    if "@" in name:
        # Some clients put the address itself where the name goes.
        name = ""
    if "," in name:
        last, _, first = name.partition(",")
        first, last = first.strip(), last.strip()
    else:
        first, _, last = name.partition(" ")
    if not first:
        local = address.partition("@")[0].partition("+")[0]
        pieces = [piece for piece in re.split(r"[._\-]+", local) if piece]
        first = pieces[0].capitalize() if pieces else local or address
        last = " ".join(piece.capitalize() for piece in pieces[1:])
    return first[:MAX_NAME], last.strip()[:MAX_NAME]


@transaction.atomic
def inbound_email_make_lead(*, actor: User, inbound: InboundEmail) -> Candidate:
    """Make the sender of an unknown-sender email a lead and put the email on their new thread.

    When the address belongs to someone by now (added meanwhile, or by another email), the email goes to them.
    """
    ensure(actor, Capability.SEND_MESSAGES)
    inbound = _locked(inbound)
    if inbound.status != InboundStatus.UNKNOWN_SENDER:
        raise Conflict(f"This email was already sorted ({inbound.get_status_display().lower()}).")
    try:
        parsed = parse_email(bytes(inbound.raw))
    except MalformedEmail as exc:
        raise ValidationFailed(str(exc))
    candidate = candidate_for_address(channel="email", address=parsed.from_address)
    if candidate is None:
        first, last = lead_name(name=parsed.from_name, address=parsed.from_address)
        data = {
            "first_name": first,
            "last_name": last,
            "emails": [parsed.from_address],
            "source": LEAD_SOURCE,
            "relationship_status": RelationshipStatus.LEAD,
        }
        try:
            candidate = candidate_create(actor=actor, data=data)
        except Duplicate as exc:
            # The address was taken between our look-up and the insert.
            candidate = Candidate.objects.get(pk=exc.existing_id)
    inbound.message = email_receive(parsed=parsed, candidate=candidate, received_at=inbound.received_at)
    inbound.status = InboundStatus.MATCHED
    inbound.triaged_by = actor
    inbound.triaged_at = timezone.now()
    inbound.save(update_fields=["message", "status", "triaged_by", "triaged_at"])
    return candidate


@transaction.atomic
def inbound_email_dismiss(*, actor: User, inbound: InboundEmail) -> InboundEmail:
    """Take an email out of triage (spam, a newsletter, unreadable); it stays stored, raw, with who dismissed it."""
    ensure(actor, Capability.SEND_MESSAGES)
    inbound = _locked(inbound)
    if inbound.status == InboundStatus.DISMISSED:
        return inbound
    if inbound.status == InboundStatus.MATCHED:
        raise Conflict("This email is already on a person's thread.")
    inbound.status = InboundStatus.DISMISSED
    inbound.triaged_by = actor
    inbound.triaged_at = timezone.now()
    inbound.save(update_fields=["status", "triaged_by", "triaged_at"])
    return inbound
