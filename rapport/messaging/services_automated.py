"""Messages the system sends on its own (an application acknowledgement), with no signed-in sender to check.

They go through the same rendering, suppression checks and outbox as a recruiter's message; only the permission
and scope checks of `message_send` are left out, because no user asked for them.
"""

import uuid
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from rapport.accounts.models import User
from rapport.candidates.models import Candidate
from rapport.common import embedded_worker
from rapport.common.errors import ValidationFailed
from rapport.jobs.models import Job
from rapport.messaging.models import Message, MessageDirection, MessageKind, MessageStatus, MessageTemplate
from rapport.messaging.selectors import message_render, primary_email
from rapport.messaging.services import MAX_SUBJECT, _blocked_reason, _sender_name
from rapport.timeline.services import activity_record


@transaction.atomic
def message_send_automated(
    *,
    candidate: Candidate,
    template: MessageTemplate | None = None,
    subject: str = "",
    body: str = "",
    job: Job | None = None,
    application: object = None,
    sender: User | None = None,
) -> Message:
    """Queue an email to one person from `template` (or the given subject and body), signed by `sender` or the organisation.

    It is a transactional one-to-one message: quiet hours and the frequency cap do not hold it back, but the
    suppression list, do-not-contact and erasure do.
    """
    from rapport.messaging.channels.email.transport import from_header, message_domain

    if template is None and not body.strip():
        raise ValidationFailed.single("body", "Give a template or a body.")
    if template is not None and template.channel != "email":
        raise ValidationFailed.single("template_id", f"This is a {template.get_channel_display()} template.")
    if application is not None:
        job = job or application.job
    address = primary_email(candidate)
    if not address:
        raise ValidationFailed.single("candidate_id", f"{candidate.full_name} has no email address.")
    blocked = _blocked_reason(candidate=candidate, address=address, channel="email")
    if blocked:
        raise ValidationFailed.single("candidate_id", blocked)
    rendered = message_render(
        sender=sender,
        candidate=candidate,
        address=address,
        template=template,
        subject=None if template is not None else subject,
        body=None if template is not None else body,
        job=job,
        application=application,
    )
    now = timezone.now()
    message = Message.objects.create(
        candidate=candidate,
        application=application,
        job=job,
        template=template,
        channel="email",
        kind=MessageKind.ONE_TO_ONE,
        direction=MessageDirection.OUTBOUND,
        to_address=address,
        from_header=from_header(name=_sender_name(sender) if sender is not None else settings.RAPPORT_ORG_NAME),
        reply_to=(sender.email_reply_to or sender.email) if sender is not None else "",
        subject=rendered.subject[:MAX_SUBJECT],
        html=rendered.html,
        text=rendered.text,
        status=MessageStatus.QUEUED,
        next_attempt_at=now,
        message_id=f"<{uuid.uuid4().hex}@{message_domain()}>",
        sent_by=sender,
        created_at=now,
    )
    activity_record(
        type="message.queued",
        candidate=candidate,
        application=application,
        job=job,
        actor=None,
        occurred_at=now,
        payload={
            "message_id": message.pk,
            "channel": "email",
            "subject": message.subject,
            "status": message.status,
            "scheduled_for": None,
            "template_id": template.pk if template is not None else None,
            "automated": True,
        },
    )
    transaction.on_commit(embedded_worker.nudge)
    return message


def automated_message_row(
    *,
    candidate: Candidate,
    template: MessageTemplate,
    channel: str,
    idempotency_key: str,
    sender: User | None = None,
    job: Job | None = None,
    reason: dict | None = None,
    contact: object | None = None,
    suppressions: dict | None = None,
    now: datetime | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Check and render an automated message without writing it: the outbox row's columns and the payload of its
    `message.queued` event (without `message_id`, which the caller adds once the row has one).

    Raises as `message_queue_automated` does. A dispatcher writing a whole batch at once uses this, then
    `fast_insert`s the rows; one message at a time, `message_queue_automated` writes it.
    """
    from rapport.messaging.channels.email.transport import from_header, message_domain
    from rapport.messaging.models import TemplateChannel
    from rapport.messaging.rendering import TemplateInvalid
    from rapport.messaging.selectors import primary_phone
    from rapport.messaging.services import MAX_TEXT

    if channel not in TemplateChannel.values:
        raise ValidationFailed.single("channel", f"Choose one of: {', '.join(TemplateChannel.values)}.")
    if template.channel != channel:
        raise ValidationFailed.single("template_id", f"This is a {template.get_channel_display()} template.")
    text_only = channel != TemplateChannel.EMAIL
    if contact is not None:
        address = contact.phone if text_only else contact.email
    else:
        address = primary_phone(candidate) if text_only else primary_email(candidate)
    if not address:
        what = "phone number" if text_only else "email address"
        raise ValidationFailed.single("candidate_id", f"{candidate.full_name} has no {what}.")
    blocked = _blocked_reason(candidate=candidate, address=address, channel=channel, suppressions=suppressions)
    if blocked:
        raise ValidationFailed.single("candidate_id", blocked)
    rendered = message_render(
        sender=sender,
        candidate=candidate,
        address=address,
        template=template,
        job=job,
        channel=channel,
        contact=contact,
    )
    if len(rendered.subject) > MAX_SUBJECT:
        raise TemplateInvalid.single("subject", f"With the fields filled in, the subject is longer than {MAX_SUBJECT}.")
    if text_only and len(rendered.text.strip()) > MAX_TEXT:
        raise TemplateInvalid.single("body", f"With the fields filled in, the text is longer than {MAX_TEXT:,}.")
    now = now or timezone.now()
    name = _sender_name(sender) if sender is not None else settings.RAPPORT_ORG_NAME
    row = {
        "candidate_id": candidate.pk,
        "application_id": None,
        "job_id": job.pk if job is not None else None,
        "template_id": template.pk,
        "channel": channel,
        "kind": MessageKind.AUTOMATED.value,
        "bulk_id": None,
        "direction": MessageDirection.OUTBOUND.value,
        "to_address": address,
        "from_header": "" if text_only else from_header(name=name),
        "reply_to": "" if text_only or sender is None else (sender.email_reply_to or sender.email),
        "subject": rendered.subject,
        "html": rendered.html,
        "text": rendered.text,
        "status": MessageStatus.QUEUED.value,
        "next_attempt_at": now,
        "message_id": f"<{uuid.uuid4().hex}@{message_domain()}>",
        "sent_by_id": sender.pk if sender is not None else None,
        "idempotency_key": idempotency_key,
        "created_at": now,
    }
    payload = {
        "channel": channel,
        "subject": rendered.subject,
        "status": MessageStatus.QUEUED.value,
        "scheduled_for": None,
        "template_id": template.pk,
        "automated": True,
        **(reason or {}),
    }
    return row, payload


@transaction.atomic
def message_queue_automated(
    *,
    candidate: Candidate,
    template: MessageTemplate,
    channel: str,
    idempotency_key: str,
    sender: User | None = None,
    job: Job | None = None,
    reason: dict | None = None,
    contact: object | None = None,
    suppressions: dict | None = None,
    known_new: bool = False,
) -> Message:
    """Queue an automated message (a sequence step, a trigger) on any channel, once per `idempotency_key`.

    The same key returns the message already queued under it, so running a step twice never sends twice. Unlike
    `message_send_automated`, it is a bulk-like touch: quiet hours and the frequency cap hold it back at send
    time. Raises ValidationFailed when the person cannot be written to on this channel (no address, do not
    contact, suppressed) and TemplateInvalid when the template cannot be filled in for them. `reason` (such as
    `{"sequence_id", "sequence", "step"}`) goes into the timeline event, so the profile says why it was sent.
    A dispatcher working through a batch passes the person's `contact` (a `selectors.Contact`) and the batch's
    `suppressions` (as `_blocked_reason` takes them), read once for everyone, instead of a few queries each, and
    `known_new` when it looked the batch's keys up already (the unique key still catches a race).
    """
    from django.db import IntegrityError

    existing = None if known_new else Message.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing
    row, payload = automated_message_row(
        candidate=candidate,
        template=template,
        channel=channel,
        idempotency_key=idempotency_key,
        sender=sender,
        job=job,
        reason=reason,
        contact=contact,
        suppressions=suppressions,
    )
    try:
        with transaction.atomic():
            message = Message.objects.create(
                **{name: value for name, value in row.items() if name not in ("bulk_id", "application_id")},
            )
    except IntegrityError:
        # Another worker queued it a moment earlier under the same key: theirs is the one.
        existing = Message.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return existing
    activity_record(
        type="message.queued",
        candidate=candidate,
        job=job,
        actor=None,
        occurred_at=row["created_at"],
        payload={"message_id": message.pk, **payload},
    )
    transaction.on_commit(embedded_worker.nudge)
    return message
