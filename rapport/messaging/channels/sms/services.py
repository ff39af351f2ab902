"""Writes behind Twilio's webhooks: delivery reports move a sent text forward, and texts people send us land on
their thread (with STOP and START honoured), for SMS and WhatsApp alike."""

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from rapport.messaging.channels.sms.client import UNSUBSCRIBED_CODE, describe_error
from rapport.messaging.channels.sms.media import (
    IncomingMedia,
    media_initial,
    media_note,
    media_pending_add,
    with_note,
)
from rapport.messaging.models import Message, MessageDirection, MessageStatus, SuppressionReason, TemplateChannel
from rapport.timeline.services import activity_record

logger = logging.getLogger(__name__)

WHATSAPP_PREFIX = "whatsapp:"
DELIVERED = {"delivered", "read"}
UNDELIVERED = {"undelivered", "failed"}
# The carriers' and Twilio's opt-out and opt-in keywords: the whole message is the word, in any case.
STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"}
START_WORDS = {"START", "UNSTOP"}


@dataclass(frozen=True)
class Address:
    channel: str
    number: str


def parse_address(value: str) -> Address:
    """`whatsapp:+14155550100` is WhatsApp, a bare `+14155550100` is SMS."""
    value = value.strip()
    if value.lower().startswith(WHATSAPP_PREFIX):
        return Address(TemplateChannel.WHATSAPP, value[len(WHATSAPP_PREFIX) :].strip())
    return Address(TemplateChannel.SMS, value)


def masked(number: str) -> str:
    """Enough of a number to tell two apart in a log line, without writing a person's number to it."""
    return f"…{number[-4:]}" if len(number) > 4 else "…"


def _record(message: Message, event: str, **extra: object) -> None:
    activity_record(
        type=event,
        candidate=message.candidate,
        application=message.application,
        job=message.job,
        payload={"message_id": message.pk, "channel": message.channel, "subject": message.subject, **extra},
    )


@transaction.atomic
def twilio_status_record(*, sid: str, status: str, error_code: str = "", error_message: str = "") -> Message | None:
    """Apply one of Twilio's delivery reports to the message it names; None when we sent no message with that SID.

    Reports only move a sent message forward (sent → delivered, or sent → failed), so a repeated or late report
    ("sent" after "delivered") changes nothing and records nothing. A WhatsApp "read" also counts as an open.
    """
    from rapport.messaging.services import ENGAGEMENT_OPEN, message_engagement_record, suppression_add

    message = (
        Message.objects.select_related("candidate", "application", "job")
        .filter(provider_message_id=sid, direction=MessageDirection.OUTBOUND)
        .first()
        if sid
        else None
    )
    if message is None:
        return None
    rows = Message.objects.filter(pk=message.pk, status=MessageStatus.SENT)
    status = status.strip().lower()
    if status in DELIVERED:
        if rows.update(status=MessageStatus.DELIVERED, delivered_at=timezone.now()):
            message.refresh_from_db()
            _record(message, "message.delivered", status=message.status)
        if status == "read" and message.opened_at is None:
            message_engagement_record(message=message, kind=ENGAGEMENT_OPEN)
    elif status in UNDELIVERED:
        reason = describe_error(error_code, error_message)
        if rows.update(status=MessageStatus.FAILED, last_error=reason):
            message.refresh_from_db()
            _record(message, "message.failed", status=message.status, reason=reason)
        if str(error_code).strip() == UNSUBSCRIBED_CODE:
            suppression_add(
                address=message.to_address,
                channel=message.channel,
                reason=SuppressionReason.UNSUBSCRIBED,
                candidate=message.candidate,
                source=f"Twilio error {UNSUBSCRIBED_CODE}",
            )
    return message


@transaction.atomic
def twilio_message_receive(
    *, sid: str, from_address: str, to_address: str, body: str, media: Sequence[IncomingMedia] = ()
) -> Message | None:
    """Store a text someone sent our number on their thread, and honour STOP / START for their number.

    Returns None when the number belongs to no one we know: there is no thread to put it on, so it is only
    logged (an opt-out from that number is still recorded, so a person added later with it stays suppressed).
    Pictures and files are fetched after this returns (see `media.py`); until then the text says they are coming.
    """
    from rapport.messaging.selectors import candidate_for_address
    from rapport.messaging.services import suppression_add, suppression_remove_unsubscribe
    from rapport.messaging.services_inbound import message_receive

    sender = parse_address(from_address)
    ours = parse_address(to_address)
    candidate = candidate_for_address(channel=sender.channel, address=sender.number)
    keyword = body.strip().upper()
    label = TemplateChannel(sender.channel).label
    if keyword in STOP_WORDS and sender.number:
        suppression_add(
            address=sender.number,
            channel=sender.channel,
            reason=SuppressionReason.UNSUBSCRIBED,
            candidate=candidate,
            source=f"{label} reply {keyword}",
        )
    elif keyword in START_WORDS and sender.number:
        suppression_remove_unsubscribe(
            address=sender.number, channel=sender.channel, candidate=candidate, source=f"{label} reply {keyword}"
        )
    if candidate is None:
        logger.info("%s from an unknown number (%s) was not stored: no person has it", label, masked(sender.number))
        return None
    parent = (
        Message.objects.filter(candidate=candidate, channel=sender.channel, direction=MessageDirection.OUTBOUND)
        .order_by("-created_at", "-id")
        .first()
    )
    states = media_initial(media)
    message = message_receive(
        candidate=candidate,
        channel=sender.channel,
        from_address=sender.number,
        to_address=ours.number,
        text=with_note(body, media_note(states)),
        message_id=f"<twilio-{sid}@inbound.rapport>" if sid else None,
        parent=parent,
        provider_message_id=sid,
    )
    media_pending_add(message=message, media=media, states=states)
    return message
