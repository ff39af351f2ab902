"""Writes for what people send us: a reply or a text becomes an inbound message on their thread.

Every channel's receiver (IMAP polling, an email provider's inbound webhook, Twilio's inbound webhook) parses what
arrived and calls `message_receive`, so threading, the timeline event and engagement are the same for all of them.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from rapport.candidates.engagement import ENGAGEMENT_REPLY_POINTS, candidate_engagement_add
from rapport.candidates.models import Candidate
from rapport.common.html import sanitize_html
from rapport.messaging.models import Message, MessageAttachment, MessageDirection, MessageStatus
from rapport.timeline.services import activity_record

REPLY_POINTS = ENGAGEMENT_REPLY_POINTS
ENGAGEMENT_MAX = 100
SNIPPET = 140
MAX_SUBJECT = 300


@dataclass(frozen=True)
class IncomingAttachment:
    filename: str
    content: bytes
    content_type: str = ""


def snippet(text: str) -> str:
    """The first words of a message, for timelines, notifications and the inbox list."""
    flat = " ".join(text.split())
    return flat if len(flat) <= SNIPPET else flat[: SNIPPET - 1].rstrip() + "…"


def _bump_engagement(candidate_id: int, points: float, at: datetime | None = None) -> None:
    candidate_engagement_add(candidate_id=candidate_id, points=points, at=at)


@transaction.atomic
def message_receive(
    *,
    candidate: Candidate,
    channel: str,
    from_address: str,
    to_address: str = "",
    subject: str = "",
    text: str = "",
    html: str = "",
    message_id: str | None = None,
    in_reply_to: str = "",
    references: str = "",
    parent: Message | None = None,
    provider_message_id: str = "",
    received_at: datetime | None = None,
    attachments: list[IncomingAttachment] | tuple[IncomingAttachment, ...] = (),
) -> Message:
    """Store one message a person sent us on their thread; the same `message_id` twice stores it once.

    `parent` is the message it answers when the receiver matched one (by reply-address token or headers); the
    reply then carries that message's job and application, so it shows up where the conversation started.
    """
    received_at = received_at or timezone.now()
    message_id = message_id or f"<{uuid.uuid4().hex}@inbound.rapport>"
    existing = Message.objects.filter(message_id=message_id).first()
    if existing is not None:
        return existing
    if parent is not None and parent.candidate_id != candidate.pk:
        # Headers pointing at someone else's message do not make this a reply to it.
        parent = None
    fields: dict[str, Any] = {
        "candidate": candidate,
        "application": parent.application if parent is not None else None,
        "job": parent.job if parent is not None else None,
        "channel": channel,
        "direction": MessageDirection.INBOUND,
        "status": MessageStatus.RECEIVED,
        "from_address": from_address[:254],
        "to_address": to_address[:254],
        "subject": " ".join(subject.split())[:MAX_SUBJECT],
        "text": text,
        "html": sanitize_html(html) if html else "",
        "message_id": message_id[:255],
        "in_reply_to": (in_reply_to or (parent.message_id if parent is not None else ""))[:255],
        "references": references,
        "provider_message_id": provider_message_id[:255],
        "created_at": received_at,
        "sent_at": received_at,
        "next_attempt_at": None,
    }
    try:
        with transaction.atomic():
            message = Message.objects.create(**fields)
    except IntegrityError:
        # The same message arrived twice at once (two pollers, a webhook retried): the first one stored it.
        existing = Message.objects.filter(message_id=message_id).first()
        if existing is None:
            raise
        return existing
    for attachment in attachments:
        stored = MessageAttachment(
            message=message,
            filename=attachment.filename[:255] or "attachment",
            content_type=attachment.content_type[:120],
            size=len(attachment.content),
        )
        stored.file.save(attachment.filename or "attachment", ContentFile(attachment.content), save=False)
        stored.save()
    _bump_engagement(candidate.pk, REPLY_POINTS, received_at)
    activity_record(
        type="message.received",
        candidate=candidate,
        application=message.application,
        job=message.job,
        occurred_at=received_at,
        payload={
            "message_id": message.pk,
            "channel": channel,
            "subject": message.subject,
            "from": message.from_address,
            "snippet": snippet(text),
            "in_reply_to_id": parent.pk if parent is not None else None,
            "attachments": len(attachments),
        },
    )
    return message
