"""Writes for what an email provider reports about a message we sent: delivered, bounced, complained, opened …

The provider's webhook (messaging/channels/email/webhooks.py) turns each event into a `ProviderEvent` and calls
`message_provider_event_record`, which finds our message and applies the event. Status only ever moves forward
(sent → delivered → bounced; sent → failed), so a late or replayed event cannot undo a later one, and an exact
replay of an event the provider already told us about is dropped before it can count an open or click twice.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from rapport.messaging.models import (
    Message,
    MessageDirection,
    MessageStatus,
    Suppression,
    SuppressionReason,
    TemplateChannel,
)
from rapport.messaging.services import ENGAGEMENT_CLICK, ENGAGEMENT_OPEN, message_engagement_record, suppression_add
from rapport.timeline.services import activity_record

logger = logging.getLogger(__name__)

DELIVERED = "delivered"
BOUNCED = "bounced"  # a hard bounce: the address will never take mail
DEFERRED = "deferred"  # a soft bounce or delay: the provider keeps trying
COMPLAINED = "complained"
UNSUBSCRIBED = "unsubscribed"
REJECTED = "rejected"  # the provider refused to send it at all
FAILED = "failed"
OPENED = "opened"
CLICKED = "clicked"
KINDS = {DELIVERED, BOUNCED, DEFERRED, COMPLAINED, UNSUBSCRIBED, REJECTED, FAILED, OPENED, CLICKED}

# How long an event id is remembered to drop exact replays. Providers retry a failed webhook for hours up to three
# days; replays later than this still change no status twice, and could only count an open or a click again.
REPLAY_WINDOW = timedelta(days=7)
MAX_REASON = 500


@dataclass(frozen=True)
class ProviderEvent:
    """One provider event, normalised: what happened to which message, in the provider's words."""

    provider: str  # "mailgun", "postmark", …
    kind: str  # one of KINDS; anything else is ignored
    event_id: str  # the provider's id for the event, or a fingerprint of it when it has none
    provider_message_id: str = ""
    rapport_message_id: str = ""  # the metadata our transport sent with the message
    recipient: str = ""
    reason: str = ""
    reject_reason: str = ""  # the provider's normalised cause of a rejection: bounced, invalid, spam, unsubscribed …
    url: str = ""
    occurred_at: datetime | None = None


def _message_for(event: ProviderEvent) -> Message | None:
    """Our outbound email the event is about: by the provider's id, else our id from the metadata, else Message-ID."""
    messages = Message.objects.select_related("candidate", "application", "job").filter(
        direction=MessageDirection.OUTBOUND, channel=TemplateChannel.EMAIL
    )
    if event.provider_message_id:
        found = messages.filter(provider_message_id=event.provider_message_id).first()
        if found is not None:
            return found
    if event.rapport_message_id.isdigit():
        found = messages.filter(pk=int(event.rapport_message_id)).first()
        if found is not None:
            return found
    if event.provider_message_id.startswith("<"):
        # Providers that keep the Message-ID we set (sending through their SMTP relay, say) report it as theirs.
        return messages.filter(message_id=event.provider_message_id).first()
    return None


def _payload(message: Message, event: ProviderEvent, **extra: Any) -> dict[str, Any]:
    return {
        "message_id": message.pk,
        "channel": message.channel,
        "subject": message.subject,
        "status": message.status,
        "provider": event.provider,
        **extra,
    }


def _advance(message: Message, *, from_statuses: list[str], **changes: Any) -> bool:
    """Move the message forward if it is still in one of `from_statuses`; a conditional update, so never twice."""
    if not Message.objects.filter(pk=message.pk, status__in=from_statuses).update(**changes):
        return False
    message.refresh_from_db(fields=list(changes))
    return True


def _record(message: Message, event: ProviderEvent, type: str, **extra: Any) -> None:
    activity_record(
        type=type,
        candidate=message.candidate,
        application=message.application,
        job=message.job,
        occurred_at=event.occurred_at or timezone.now(),
        payload=_payload(message, event, **extra),
    )


def _suppress(message: Message, event: ProviderEvent, reason: str, *, source: str, on_timeline: bool) -> bool:
    """Put the message's address on the suppression list; returns whether it was not there already."""
    address = message.to_address.strip().lower()
    if Suppression.objects.filter(address=address, channel=TemplateChannel.EMAIL).exists():
        return False
    suppression_add(
        address=address,
        channel=TemplateChannel.EMAIL,
        reason=reason,
        # With the person, suppression_add records consent.withdrawn / candidate.unsubscribed on their timeline.
        candidate=message.candidate if on_timeline else None,
        source=f"{event.provider} {source}",
    )
    return True


def _reason(event: ProviderEvent, default: str) -> str:
    return (event.reason or default)[:MAX_REASON]


def _delivered(message: Message, event: ProviderEvent) -> bool:
    if not _advance(
        message,
        from_statuses=[MessageStatus.SENT],
        status=MessageStatus.DELIVERED,
        delivered_at=event.occurred_at or timezone.now(),
    ):
        return False
    _record(message, event, "message.delivered")
    return True


def _bounced(message: Message, event: ProviderEvent) -> bool:
    reason = _reason(event, f"{event.provider} reported a hard bounce.")
    # A bounce can follow a delivery (the receiving server accepted, then returned it), never the other way round.
    moved = _advance(
        message,
        from_statuses=[MessageStatus.SENT, MessageStatus.DELIVERED],
        status=MessageStatus.BOUNCED,
        last_error=reason,
    )
    # The message's own event says why; a consent event as well would claim the person withdrew consent.
    suppressed = _suppress(message, event, SuppressionReason.HARD_BOUNCE, source="hard bounce", on_timeline=False)
    if moved:
        _record(message, event, "message.bounced", reason=reason, suppressed=suppressed)
    return moved or suppressed


# The provider refused to send because of the address: remembered as if we had seen the cause ourselves.
_REJECTION_SUPPRESSES = {
    "bounced": SuppressionReason.HARD_BOUNCE,
    "invalid": SuppressionReason.HARD_BOUNCE,
    "spam": SuppressionReason.COMPLAINT,
    "unsubscribed": SuppressionReason.UNSUBSCRIBED,
}


def _failed(message: Message, event: ProviderEvent) -> bool:
    reason = _reason(event, f"{event.provider} did not send it ({event.reject_reason or event.kind}).")
    moved = _advance(message, from_statuses=[MessageStatus.SENT], status=MessageStatus.FAILED, last_error=reason)
    suppressed = False
    if event.kind == REJECTED and event.reject_reason in _REJECTION_SUPPRESSES:
        suppressed = _suppress(
            message,
            event,
            _REJECTION_SUPPRESSES[event.reject_reason],
            source=f"rejection ({event.reject_reason})",
            on_timeline=event.reject_reason in ("spam", "unsubscribed"),
        )
    if moved:
        _record(message, event, "message.failed", reason=reason, suppressed=suppressed)
    return moved or suppressed


def _complained(message: Message, event: ProviderEvent) -> bool:
    # The message arrived, so its status stays; the person's timeline gets consent.withdrawn (reason complaint).
    return _suppress(message, event, SuppressionReason.COMPLAINT, source="spam complaint", on_timeline=True)


def _unsubscribed(message: Message, event: ProviderEvent) -> bool:
    return _suppress(message, event, SuppressionReason.UNSUBSCRIBED, source="unsubscribe", on_timeline=True)


def _deferred(message: Message, event: ProviderEvent) -> bool:
    # The provider keeps trying and will report a delivery or a bounce; there is nothing to act on until then.
    logger.info("message %s deferred by %s: %s", message.pk, event.provider, event.reason)
    return False


def _opened(message: Message, event: ProviderEvent) -> bool:
    return message_engagement_record(message=message, kind=ENGAGEMENT_OPEN)


def _clicked(message: Message, event: ProviderEvent) -> bool:
    return message_engagement_record(message=message, kind=ENGAGEMENT_CLICK, url=event.url or None)


_APPLY = {
    DELIVERED: _delivered,
    BOUNCED: _bounced,
    DEFERRED: _deferred,
    COMPLAINED: _complained,
    UNSUBSCRIBED: _unsubscribed,
    REJECTED: _failed,
    FAILED: _failed,
    OPENED: _opened,
    CLICKED: _clicked,
}


@transaction.atomic
def message_provider_event_record(*, event: ProviderEvent) -> bool:
    """Apply one provider event to the message it names; returns whether anything changed.

    Events about messages we do not know (another application on the same account, a deleted message) and kinds
    we do not use are ignored. Nothing is recorded for an erased person.
    """
    apply = _APPLY.get(event.kind)
    if apply is None:
        return False
    message = _message_for(event)
    if message is None or message.candidate.erased_at is not None:
        return False
    replay_key = f"rapport:provider-event:{event.provider}:{event.event_id}"
    if event.event_id and not cache.add(replay_key, 1, timeout=int(REPLAY_WINDOW.total_seconds())):
        return False
    try:
        return apply(message, event)
    except Exception:
        # Nothing was recorded, so the provider's retry of this event must be applied, not dropped as a replay.
        cache.delete(replay_key)
        raise
