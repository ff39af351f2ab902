"""Writes of messaging: templates (checked and audited on save), sending through the outbox, and suppression.

Sending is two steps. `message_send` renders the message for the person, checks it can go, and stores it in the
outbox (queued, or scheduled for later). `outbox_deliver_due` (run by the embedded worker now, by a Celery task
later) claims what is due, checks again at send time, and hands it to the channel's transport.
"""

import json
import logging
import uuid
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from rapport.accounts.models import User
from rapport.accounts.permissions import Capability, ensure
from rapport.candidates.engagement import (
    ENGAGEMENT_CLICK_POINTS,
    ENGAGEMENT_OPEN_POINTS,
    candidate_engagement_add,
)
from rapport.candidates.models import Candidate, RelationshipStatus
from rapport.common import embedded_worker
from rapport.common.errors import Conflict, FieldErrors, NotFound, ValidationFailed
from rapport.common.fast_insert import insert_records
from rapport.common.ids import parse_id
from rapport.jobs.models import Job, Stage, StageTemplate
from rapport.messaging.channels.base import DeliveryError
from rapport.messaging.models import (
    DUE_STATUSES,
    RESPECTFUL_KINDS,
    BulkSend,
    Message,
    MessageDirection,
    MessageKind,
    MessageStatus,
    MessageTemplate,
    Suppression,
    SuppressionReason,
    TemplateCategory,
    TemplateChannel,
)
from rapport.messaging.rendering import LANGUAGE_CODE, normalise_language, validate_parts
from rapport.messaging.respect import hold_for, person_zone
from rapport.messaging.selectors import (
    custom_field_keys,
    message_render,
    primary_email,
    primary_phone,
    recent_capped_sends,
    suppression_for,
)
from rapport.timeline.models import Activity
from rapport.timeline.services import activity_record, audit_record

logger = logging.getLogger(__name__)

MAX_NAME = 120
MAX_SUBJECT = 300
MAX_BODY = 20_000
# Twilio's limit on one SMS or WhatsApp body; longer texts are split into parts by the carrier up to this length.
MAX_TEXT = 1_600
MAX_VARIANTS = 20
_AUDITED = ("name", "channel", "category", "language", "subject")


def _text(data: dict[str, Any], name: str, max_len: int, errors: FieldErrors, *, field: str | None = None) -> str:
    value = data.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        errors.add(field or name, "Must be text.")
        return ""
    value = value.strip()
    if len(value) > max_len:
        errors.add(field or name, f"Use at most {max_len:,} characters.")
    return value


def _language(value: Any, field: str, errors: FieldErrors) -> str:
    code = normalise_language(value if isinstance(value, str) else "")
    if code and not LANGUAGE_CODE.match(code):
        errors.add(field, "Use a language code such as en, fr or pt-br.")
    return code


def _clean_variants(value: Any, *, channel: str, default_language: str, errors: FieldErrors) -> list[dict[str, str]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        errors.add("variants", "Give variants as a list of {language, subject, body}.")
        return []
    if len(value) > MAX_VARIANTS:
        errors.add("variants", f"Use at most {MAX_VARIANTS} language variants.")
        return []
    cleaned: list[dict[str, str]] = []
    seen: set[str] = set()
    for index, raw in enumerate(value):
        language = _language(raw.get("language"), f"variants.{index}.language", errors)
        where = f"variants.{language or index}"
        if not language:
            errors.add(f"{where}.language", "Each variant needs a language code, such as fr.")
        elif language in seen:
            errors.add(f"{where}.language", f"There is already a variant in {language}.")
        elif language == default_language:
            errors.add(f"{where}.language", "This is the template's own language; edit the default text instead.")
        seen.add(language)
        subject = _text(raw, "subject", MAX_SUBJECT, errors, field=f"{where}.subject")
        body = _text(raw, "body", MAX_BODY, errors, field=f"{where}.body")
        if channel == TemplateChannel.EMAIL and not subject:
            errors.add(f"{where}.subject", "An email variant needs a subject.")
        if not body:
            errors.add(f"{where}.body", "Write the message in this language.")
        cleaned.append(
            {"language": language, "subject": subject if channel == TemplateChannel.EMAIL else "", "body": body}
        )
    return cleaned


def _clean(data: dict[str, Any], *, template: MessageTemplate | None) -> dict[str, Any]:
    """The template's fields after applying `data` (a whole template, or a partial change to `template`)."""
    errors = FieldErrors()
    current: dict[str, Any] = {
        "name": template.name if template else "",
        "channel": template.channel if template else TemplateChannel.EMAIL,
        "category": template.category if template else TemplateCategory.GENERAL,
        "subject": template.subject if template else "",
        "body": template.body if template else "",
        "language": template.language if template else "",
        "variants": template.variants if template else [],
    }
    out = dict(current)
    if "name" in data:
        out["name"] = _text(data, "name", MAX_NAME, errors)
    for name, choices in (("channel", TemplateChannel), ("category", TemplateCategory)):
        if name in data and data[name] is not None:
            if data[name] not in choices.values:
                errors.add(name, f"Choose one of: {', '.join(choices.values)}.")
            else:
                out[name] = data[name]
    if "subject" in data:
        out["subject"] = " ".join(_text(data, "subject", MAX_SUBJECT, errors).split())
    if "body" in data:
        out["body"] = _text(data, "body", MAX_BODY, errors)
    if "language" in data:
        out["language"] = _language(data["language"], "language", errors)
    if not out["name"]:
        errors.add("name", "Give the template a name your team will recognise.")
    elif (
        MessageTemplate.objects.filter(name__iexact=out["name"]).exclude(pk=template.pk if template else None).exists()
    ):
        errors.add("name", "A template with this name already exists.")
    if out["channel"] != TemplateChannel.EMAIL:
        # SMS and WhatsApp have no subject line; a stale one from a former email template is dropped.
        out["subject"] = ""
    elif not out["subject"]:
        errors.add("subject", "An email needs a subject.")
    if not out["body"]:
        errors.add("body", "Write the message.")
    variants = data["variants"] if "variants" in data else current["variants"]
    out["variants"] = _clean_variants(variants, channel=out["channel"], default_language=out["language"], errors=errors)
    errors.raise_if_any()
    parts = {"subject": out["subject"], "body": out["body"]}
    for variant in out["variants"]:
        parts[f"variants.{variant['language']}.subject"] = variant["subject"]
        parts[f"variants.{variant['language']}.body"] = variant["body"]
    validate_parts(parts, custom_keys=custom_field_keys())
    return out


def _lookup(model: type[Stage] | type[StageTemplate], value: Any, field: str, label: str) -> Any:
    try:
        return model.objects.get(pk=parse_id(value))
    except (model.DoesNotExist, TypeError, ValueError):
        raise ValidationFailed.single(field, f"There is no {label} with this id.")


def _set_stage_defaults(*, template: MessageTemplate, data: dict[str, Any]) -> dict[str, Any]:
    """Apply `stage_id` / `stage_template_id`: make this the stage's default template, or (None) no stage's."""
    changes: dict[str, Any] = {}
    for field, model, label in (
        ("stage_id", Stage, "stage"),
        ("stage_template_id", StageTemplate, "stage in the organisation pipeline"),
    ):
        if field not in data:
            continue
        value = data[field]
        if value in (None, ""):
            model.objects.filter(default_template=template).update(default_template=None)
            changes[field] = None
            continue
        stage = _lookup(model, value, field, label)
        if model is StageTemplate:
            # The organisation pipeline offers one stage per template, so choosing another moves it there.
            StageTemplate.objects.filter(default_template=template).exclude(pk=stage.pk).update(default_template=None)
        if stage.default_template_id != template.pk:
            stage.default_template = template
            stage.save(update_fields=["default_template"])
        changes[field] = stage.pk
    return changes


@transaction.atomic
def message_template_create(*, actor: User, data: dict[str, Any]) -> MessageTemplate:
    """Create a template after checking its syntax and that every merge field it names exists."""
    ensure(actor, Capability.MANAGE_TEMPLATES)
    cleaned = _clean(data, template=None)
    now = timezone.now()
    template = MessageTemplate.objects.create(**cleaned, created_by=actor, created_at=now, updated_at=now)
    stages = _set_stage_defaults(template=template, data=data)
    audit_record(
        actor=actor,
        action="create",
        object_type="message_template",
        object_id=template.pk,
        changes={"name": template.name, "channel": template.channel, "category": template.category, **stages},
    )
    return template


@transaction.atomic
def message_template_update(*, actor: User, template: MessageTemplate, data: dict[str, Any]) -> MessageTemplate:
    """Change the fields in `data`; the whole result is checked again, so a template is never saved broken."""
    ensure(actor, Capability.MANAGE_TEMPLATES)
    cleaned = _clean(data, template=template)
    changes: dict[str, Any] = {}
    for field, value in cleaned.items():
        old = getattr(template, field)
        if old != value:
            # Bodies can be long; the audit says that they changed, the template itself holds the text.
            changes[field] = [old, value] if field in _AUDITED else "changed"
            setattr(template, field, value)
    if changes:
        template.updated_at = timezone.now()
        template.save()
    changes.update(_set_stage_defaults(template=template, data=data))
    if changes:
        audit_record(
            actor=actor, action="update", object_type="message_template", object_id=template.pk, changes=changes
        )
    return template


@transaction.atomic
def message_template_delete(*, actor: User, template: MessageTemplate) -> None:
    """Delete a template; stages that suggested it simply stop suggesting one. A template that a sequence step,
    an A/B variant or a trigger sends is refused (Conflict, naming them): the database would refuse it anyway."""
    from django.db.models import ProtectedError

    ensure(actor, Capability.MANAGE_TEMPLATES)
    _ensure_template_unused(template)
    audit_record(
        actor=actor,
        action="delete",
        object_type="message_template",
        object_id=template.pk,
        changes={"name": template.name, "channel": template.channel, "category": template.category},
    )
    try:
        template.delete()
    except ProtectedError:
        # Something started using it between the check and the delete.
        _ensure_template_unused(template)
        raise Conflict("This template is in use by automation.")


def _ensure_template_unused(template: MessageTemplate) -> None:
    """Refuse, naming them, when sequences or triggers send this template."""
    from rapport.automation.models import Sequence, Trigger

    sequences = list(
        Sequence.objects.filter(Q(steps__template=template) | Q(steps__variants__template=template))
        .distinct()
        .order_by("name")
        .values_list("name", flat=True)[:5]
    )
    triggers = list(Trigger.objects.filter(template=template).order_by("name").values_list("name", flat=True)[:5])
    users = [f"sequence “{name}”" for name in sequences] + [f"trigger “{name}”" for name in triggers]
    if users:
        message = f"This template is used by {', '.join(users)}. Change them to another template first."
        raise Conflict(message, fields={"template_id": [message]})


# --- sending --------------------------------------------------------------------------------------------------------

MAX_SCHEDULE_AHEAD = timedelta(days=366)
# A send time a moment in the past (a slow form, clock skew) means "now", not an error.
SCHEDULE_GRACE = timedelta(minutes=1)
# Retries: 1, 2, 4 … minutes apart, at most 6 hours, 8 tries in all (about 8½ hours), then the message fails.
MAX_ATTEMPTS = 8
RETRY_BASE = timedelta(minutes=1)
RETRY_CAP = timedelta(hours=6)
# How long a claimed message may stay "sending" before another worker may take it up (the first one crashed).
SENDING_LEASE = timedelta(minutes=10)
DELIVERY_BATCH = 200  # per claim: each batch opens its connections once, so bigger batches reuse them longer


def retry_delay(attempts: int) -> timedelta:
    return min(RETRY_BASE * 2 ** max(attempts - 1, 0), RETRY_CAP)


def _sender_name(user: User) -> str:
    from django.conf import settings

    if user.email_from_name:
        return user.email_from_name
    name = user.name or user.email
    return f"{name} at {settings.RAPPORT_ORG_NAME}"


def _blocked_reason(
    *,
    candidate: Candidate,
    address: str,
    channel: str,
    suppressions: dict[tuple[str, str], Suppression] | None = None,
) -> str | None:
    """Why this person must not get a message now, or None: checked when composing and again at send time.

    `suppressions`, when given, holds every suppression of a batch's addresses, read in one query beforehand.
    """
    if candidate.erased_at is not None:
        return "This person's data was erased."
    if candidate.relationship_status == RelationshipStatus.DO_NOT_CONTACT:
        return f"{candidate.full_name} is marked do not contact."
    if suppressions is None:
        suppression = suppression_for(address=address, channel=channel)
    else:
        suppression = suppressions.get((address.strip().lower(), channel))
    if suppression is not None:
        return f"{address} is on the suppression list ({suppression.get_reason_display().lower()})."
    return None


def _send_time(send_at: datetime | None, now: datetime) -> datetime | None:
    """The scheduled time, or None for "now"; refuses the past and the far future."""
    if send_at is None:
        return None
    if timezone.is_naive(send_at):
        raise ValidationFailed.single("send_at", "Give the time with its time zone.")
    if send_at < now - SCHEDULE_GRACE:
        raise ValidationFailed.single("send_at", "This time has passed; pick a time in the future, or send now.")
    if send_at > now + MAX_SCHEDULE_AHEAD:
        raise ValidationFailed.single("send_at", "Schedule at most a year ahead.")
    return send_at if send_at > now else None


def _existing_for_key(model: type[Message] | type[BulkSend], *, actor: User, key: str) -> Any:
    """What this sender already made with this idempotency key; another sender's key is a conflict."""
    existing = model.objects.filter(idempotency_key=key).first()
    if existing is not None and existing.sent_by_id != actor.pk:
        raise Conflict("This idempotency key was already used.", fields={"idempotency_key": ["Already used."]})
    return existing


@transaction.atomic
def message_send(
    *,
    actor: User,
    candidate: Candidate,
    template: MessageTemplate | None = None,
    subject: str | None = None,
    body: str | None = None,
    job: Job | None = None,
    application: Any = None,
    send_at: datetime | None = None,
    idempotency_key: str | None = None,
    channel: str = TemplateChannel.EMAIL,
    reply_to_message: Message | None = None,
) -> Message:
    """Render a message for one person and put it in the outbox, to go now or at `send_at`.

    `subject`/`body` (a template text, perhaps edited from `template`) win over the template's own text; with only
    a template, the person's language picks its variant. Rendering errors are refused with the field and line, so a
    literal `{{ … }}` never goes out. The same `idempotency_key` from the same sender returns the first message.
    """
    from rapport.candidates.selectors import candidates_visible_to
    from rapport.jobs.selectors import jobs_visible_to
    from rapport.messaging.channels.email.transport import from_header, message_domain

    ensure(actor, Capability.SEND_MESSAGES)
    if not candidates_visible_to(actor).filter(pk=candidate.pk).exists():
        raise NotFound("No such person.")
    key = (idempotency_key or "").strip() or None
    if key is not None:
        if len(key) > 255:
            raise ValidationFailed.single("idempotency_key", "Use at most 255 characters.")
        existing = _existing_for_key(Message, actor=actor, key=key)
        if existing is not None:
            return existing
    if channel not in TemplateChannel.values:
        raise ValidationFailed.single("channel", f"Choose one of: {', '.join(TemplateChannel.values)}.")
    # SMS and WhatsApp are plain text to the person's phone: no subject, no HTML, at most MAX_TEXT characters.
    text_only = channel != TemplateChannel.EMAIL
    if template is not None and template.channel != channel:
        raise ValidationFailed.single("template_id", f"This is a {template.get_channel_display()} template.")
    if job is not None and not jobs_visible_to(actor).filter(pk=job.pk).exists():
        raise NotFound("No such job.")
    if application is not None:
        if application.candidate_id != candidate.pk:
            raise ValidationFailed.single("application_id", "This application belongs to someone else.")
        job = job or application.job
    elif job is not None:
        application = job.applications.filter(candidate=candidate).select_related("stage", "job").first()
    if reply_to_message is not None and reply_to_message.candidate_id != candidate.pk:
        raise ValidationFailed.single("reply_to_id", "That message was to someone else.")

    address = primary_phone(candidate) if text_only else primary_email(candidate)
    if not address:
        what = "phone number" if text_only else "email address"
        raise ValidationFailed.single("candidate_id", f"{candidate.full_name} has no {what}. Add one first.")
    blocked = _blocked_reason(candidate=candidate, address=address, channel=channel)
    if blocked:
        raise ValidationFailed.single("candidate_id", blocked)

    use_own_text = body is not None and body.strip() != ""
    if use_own_text:
        subject = "" if text_only else " ".join((subject or "").split())
    elif template is None:
        raise ValidationFailed.single("body", "Write the message, or pick a template.")
    if reply_to_message is not None and not subject and not text_only:
        subject = reply_to_message.subject
        if not subject.lower().startswith("re:"):
            subject = f"Re: {subject}"
    if use_own_text:
        errors: dict[str, list[str]] = {}
        if not subject and not text_only:
            errors["subject"] = ["An email needs a subject."]
        elif len(subject) > MAX_SUBJECT:
            errors["subject"] = [f"Use at most {MAX_SUBJECT:,} characters."]
        if len(body) > MAX_BODY:
            errors["body"] = [f"Use at most {MAX_BODY:,} characters."]
        if errors:
            field, messages = next(iter(errors.items()))
            raise ValidationFailed(f"Please check {field}: {messages[0]}", fields=errors)
    rendered = message_render(
        sender=actor,
        candidate=candidate,
        address=address,
        template=None if use_own_text else template,
        subject=subject,
        body=body,
        job=job,
        application=application,
        channel=channel,
    )
    if len(rendered.subject) > MAX_SUBJECT:
        raise ValidationFailed.single(
            "subject", f"With the fields filled in, the subject is longer than {MAX_SUBJECT}."
        )
    if text_only and len(rendered.text.strip()) > MAX_TEXT:
        raise ValidationFailed.single(
            "body",
            f"With the fields filled in, the message is {len(rendered.text.strip()):,} characters; "
            f"{TemplateChannel(channel).label} allows at most {MAX_TEXT:,}. Shorten it.",
        )

    now = timezone.now()
    scheduled_for = _send_time(send_at, now)
    references = ""
    if reply_to_message is not None:
        references = " ".join(filter(None, [reply_to_message.references, reply_to_message.message_id]))
    fields = {
        "candidate": candidate,
        "application": application,
        "job": job,
        "template": template,
        "channel": channel,
        "direction": MessageDirection.OUTBOUND,
        "to_address": address,
        "from_header": "" if text_only else from_header(name=_sender_name(actor)),
        "reply_to": "" if text_only else actor.email_reply_to or actor.email,
        "subject": rendered.subject,
        "html": rendered.html,
        "text": rendered.text,
        "status": MessageStatus.SCHEDULED if scheduled_for else MessageStatus.QUEUED,
        "scheduled_for": scheduled_for,
        "next_attempt_at": scheduled_for or now,
        "message_id": f"<{uuid.uuid4().hex}@{message_domain()}>",
        "in_reply_to": reply_to_message.message_id if reply_to_message is not None else "",
        "references": references,
        "sent_by": actor,
        "idempotency_key": key,
        "created_at": now,
    }
    try:
        with transaction.atomic():
            message = Message.objects.create(**fields)
    except IntegrityError:
        # The same key arrived twice at once: the first one's message is the answer to both.
        existing = _existing_for_key(Message, actor=actor, key=key) if key else None
        if existing is None:
            raise
        return existing
    activity_record(
        type="message.queued",
        candidate=candidate,
        application=application,
        job=job,
        actor=actor,
        occurred_at=now,
        payload={
            "message_id": message.pk,
            "channel": channel,
            "subject": message.subject,
            "status": message.status,
            "scheduled_for": scheduled_for.isoformat() if scheduled_for else None,
            "template_id": template.pk if template is not None else None,
        },
    )
    # Wake the worker once the row is visible to it, instead of waiting for its next poll.
    transaction.on_commit(embedded_worker.nudge)
    return message


# --- delivery -------------------------------------------------------------------------------------------------------


def _claim_due(*, limit: int, now: datetime) -> list[Message]:
    """Take up to `limit` due outbox rows for this run, atomically: two workers never claim the same row.

    The conditional UPDATE re-checks "still due" row by row, so a row another run claimed a moment earlier (now
    "sending" with a lease in the future) is skipped; each claim gets its own token to find its rows again.
    """
    due = Q(status__in=DUE_STATUSES, next_attempt_at__lte=now, direction=MessageDirection.OUTBOUND)
    ids = list(Message.objects.filter(due).order_by("next_attempt_at", "id").values_list("pk", flat=True)[:limit])
    if not ids:
        return []
    token = uuid.uuid4().hex
    Message.objects.filter(due, pk__in=ids).update(
        status=MessageStatus.SENDING, claim_token=token, next_attempt_at=now + SENDING_LEASE
    )
    return list(
        Message.objects.filter(pk__in=ids, claim_token=token, status=MessageStatus.SENDING)
        .select_related("candidate", "sent_by", "job", "application")
        .order_by("id")
    )


def _activity_payload(message: Message, **extra: Any) -> dict[str, Any]:
    return {"message_id": message.pk, "channel": message.channel, "subject": message.subject, **extra}


def _settle(message: Message, *, activity: str | None, tried: bool, **changes: Any) -> bool:
    """Record the outcome of one claimed message, unless its lease ran out and another run took it over."""
    payload = None
    if activity:
        # What the row will hold once settled: the claim held it, so nothing else changed it meanwhile.
        after = {"status": message.status, "last_error": message.last_error, **changes}
        payload = _activity_payload(message, status=after["status"], reason=after["last_error"] or None)
    if connection.vendor == "postgresql":
        settled = _settle_in_one_statement(message, activity=activity, payload=payload, tried=tried, changes=changes)
    else:
        settled = _settle_in_a_transaction(message, activity=activity, payload=payload, tried=tried, changes=changes)
    if settled:
        # No need to read the row back (and lose the relations loaded with it).
        message.attempts += 1 if tried else 0
        message.claim_token = ""
        for name, value in changes.items():
            setattr(message, name, value)
    return settled


@transaction.atomic
def _settle_in_a_transaction(
    message: Message, *, activity: str | None, payload: dict | None, tried: bool, changes: dict[str, Any]
) -> bool:
    attempts = F("attempts") + 1 if tried else F("attempts")
    updated = Message.objects.filter(pk=message.pk, claim_token=message.claim_token, status=MessageStatus.SENDING)
    if not updated.update(attempts=attempts, claim_token="", **changes):
        return False
    if activity:
        activity_record(
            type=activity,
            candidate=message.candidate,
            application=message.application,
            job=message.job,
            actor=message.sent_by,
            payload=payload,
        )
    return True


def _settle_in_one_statement(
    message: Message, *, activity: str | None, payload: dict | None, tried: bool, changes: dict[str, Any]
) -> bool:
    """PostgreSQL: the update and its timeline event in one statement, so one round trip and one commit.

    Settling is the one step of delivery that cannot overlap with sending (it runs on the worker's own thread),
    and on PostgreSQL its four round trips (begin, update, insert, commit) were most of a message's time.
    """
    quote = connection.ops.quote_name
    columns = [f"{quote(Message._meta.get_field(name).column)} = %s" for name in changes]
    update = (
        f"UPDATE {quote(Message._meta.db_table)} SET attempts = attempts + %s, claim_token = '', {', '.join(columns)} "
        f"WHERE id = %s AND claim_token = %s AND status = %s"
    )
    params: list[Any] = [1 if tried else 0, *(_plain(value) for value in changes.values())]
    params += [message.pk, message.claim_token, MessageStatus.SENDING.value]
    with connection.cursor() as cursor:
        if not activity:
            cursor.execute(update, params)
            return cursor.rowcount == 1
        cursor.execute(
            f"WITH settled AS ({update} RETURNING id) "
            f"INSERT INTO {quote(Activity._meta.db_table)} "
            "(type, occurred_at, payload, actor_id, application_id, candidate_id, job_id) "
            "SELECT %s, %s, %s::jsonb, %s, %s, %s, %s FROM settled",
            [
                *params,
                activity,
                timezone.now(),
                json.dumps(payload or {}, cls=DjangoJSONEncoder),
                message.sent_by_id,
                message.application_id,
                message.candidate_id,
                message.job_id,
            ],
        )
        return cursor.rowcount == 1


def _plain(value: Any) -> Any:
    # Choices are str enums; the driver is given their plain value.
    return value.value if isinstance(value, Enum) else value


def outbox_deliver_due(*, limit: int = DELIVERY_BATCH, now: datetime | None = None) -> int:
    """Send what is due in the outbox; returns how many messages it settled. Safe to run twice, or in parallel.

    At send time it checks again that the person may be written to (do not contact, suppression list), and holds
    bulk and automated messages back in the person's quiet hours or over the frequency cap (deferred, with the
    reason, to when they may go; `now` is the clock these checks read, so tests can pass one). Transient
    failures (no connection, SMTP 4xx) go back to the queue with exponential backoff, up to MAX_ATTEMPTS; permanent
    ones (SMTP 5xx) fail at once with the server's reason. A plain function, so a Celery task can call it too.
    """
    from rapport.messaging.channels import Transports
    from rapport.portal.selectors import frequency_caps_by_candidate, quiet_hours_by_candidate

    now = now or timezone.now()
    claimed = _claim_due(limit=limit, now=now)
    if not claimed:
        return 0
    settled = 0
    # The frequency cap's counts for the whole batch in one query, kept current as the batch goes.
    respectful_ids = {m.candidate_id for m in claimed if m.kind in RESPECTFUL_KINDS}
    recent = recent_capped_sends(candidate_ids=respectful_ids, now=now)
    # People's own quiet hours, set in the portal, replace the installation's for them.
    personal_hours = quiet_hours_by_candidate(candidate_ids=list(respectful_ids)) if respectful_ids else {}
    personal_caps = frequency_caps_by_candidate(candidate_ids=list(respectful_ids)) if respectful_ids else {}
    suppressions = {
        (s.address, s.channel): s
        for s in Suppression.objects.filter(address__in={m.to_address.strip().lower() for m in claimed})
    }
    ready: list[Message] = []
    for message in claimed:
        blocked = _blocked_reason(
            candidate=message.candidate,
            address=message.to_address,
            channel=message.channel,
            suppressions=suppressions,
        )
        if blocked:
            settled += _settle(
                message,
                activity="message.failed",
                tried=False,
                status=MessageStatus.SUPPRESSED,
                last_error=blocked,
                next_attempt_at=None,
            )
            continue
        if message.kind in RESPECTFUL_KINDS:
            hold = hold_for(
                now=now,
                zone=person_zone(message.candidate.timezone),
                recent_sends=recent[message.candidate_id],
                hours=personal_hours.get(message.candidate_id),
                personal_cap=personal_caps.get(message.candidate_id),
            )
            if hold is not None:
                # Deferred, not dropped: it comes due again when the person's night or the cap's window ends.
                settled += _settle(
                    message,
                    activity=None,
                    tried=False,
                    status=MessageStatus.SCHEDULED,
                    deferred_reason=hold.reason,
                    next_attempt_at=hold.until,
                )
                continue
            # Counted as sent already, so a second message to the same person in this batch meets the cap.
            recent[message.candidate_id].append(now)
        ready.append(message)
    with Transports(sessions=settings.RAPPORT_DELIVERY_CONNECTIONS) as transports:
        for finished in transports.send_all(ready):
            sent: list[tuple[Message, str]] = []
            for message, outcome in finished:
                if isinstance(outcome, DeliveryError):
                    settled += _settle_failure(message, outcome, now=timezone.now())
                else:
                    sent.append((message, outcome or ""))
            settled += _settle_sent(sent)
    return settled


def _settle_sent(sent: list[tuple[Message, str]]) -> int:
    """Record a group of messages the server accepted: one transaction, one commit, one insert of their events.

    Recording runs on the worker's own thread; at one commit per message it was the pace of delivery, with the
    sending threads' results queueing behind it. A group is what finished while the previous one was recorded.
    """
    if not sent:
        return 0
    sent_at = timezone.now()
    by_claim: dict[str, list[tuple[Message, str]]] = {}
    for message, provider_id in sent:
        by_claim.setdefault(message.claim_token, []).append((message, provider_id))
    quote = connection.ops.quote_name
    table = quote(Message._meta.db_table)
    recorded: list[tuple[Message, str]] = []
    with transaction.atomic(), connection.cursor() as cursor:
        for token, group in by_claim.items():
            ids = [message.pk for message, _ in group]
            placeholders = ", ".join(["%s"] * len(ids))
            # Only rows this run still holds: a lease that ran out may have passed a message to another run.
            cursor.execute(
                f"UPDATE {table} SET attempts = attempts + 1, claim_token = '', status = %s, sent_at = %s, "
                "last_error = '', deferred_reason = '', next_attempt_at = NULL "
                f"WHERE id IN ({placeholders}) AND claim_token = %s AND status = %s RETURNING id",
                [MessageStatus.SENT.value, sent_at, *ids, token, MessageStatus.SENDING.value],
            )
            still_ours = {row[0] for row in cursor.fetchall()}
            recorded += [(message, provider_id) for message, provider_id in group if message.pk in still_ours]
        with_provider_ids = [(provider_id, message.pk) for message, provider_id in recorded if provider_id]
        if with_provider_ids:
            cursor.executemany(f"UPDATE {table} SET provider_message_id = %s WHERE id = %s", with_provider_ids)
        insert_records(
            Activity,
            [
                {
                    "type": "message.sent",
                    "candidate_id": message.candidate_id,
                    "application_id": message.application_id,
                    "job_id": message.job_id,
                    "actor_id": message.sent_by_id,
                    "occurred_at": sent_at,
                    "payload": _activity_payload(message, status=MessageStatus.SENT.value, reason=None),
                }
                for message, _ in recorded
            ],
        )
    for message, provider_id in recorded:
        message.attempts += 1
        message.claim_token = ""
        message.status, message.sent_at, message.provider_message_id = MessageStatus.SENT, sent_at, provider_id
        message.last_error = message.deferred_reason = ""
        message.next_attempt_at = None
    return len(recorded)


def _settle_failure(message: Message, exc: DeliveryError, *, now: datetime) -> bool:
    attempts = message.attempts + 1
    if exc.transient and attempts < MAX_ATTEMPTS:
        logger.info("message %s: transient failure (try %s): %s", message.pk, attempts, exc.reason)
        return _settle(
            message,
            activity=None,
            tried=True,
            status=MessageStatus.QUEUED,
            last_error=exc.reason,
            next_attempt_at=now + retry_delay(attempts),
        )
    reason = exc.reason if not exc.transient else f"Gave up after {attempts} tries: {exc.reason}"
    logger.warning("message %s failed: %s", message.pk, reason)
    return _settle(
        message,
        activity="message.failed",
        tried=True,
        status=MessageStatus.FAILED,
        last_error=reason,
        next_attempt_at=None,
    )


# --- suppression ----------------------------------------------------------------------------------------------------


@transaction.atomic
def suppression_add(
    *,
    address: str,
    channel: str,
    reason: str,
    candidate: Candidate | None = None,
    actor: User | None = None,
    source: str = "",
) -> Suppression:
    """Stop all messages to an address on a channel. Doing it again changes nothing and records nothing."""
    if reason not in SuppressionReason.values:
        raise ValidationFailed.single("reason", f"Choose one of: {', '.join(SuppressionReason.values)}.")
    address = address.strip().lower()
    suppression, created = Suppression.objects.get_or_create(
        address=address, channel=channel, defaults={"reason": reason}
    )
    if created and candidate is not None and candidate.erased_at is None:
        activity_record(
            type="candidate.unsubscribed" if reason == SuppressionReason.UNSUBSCRIBED else "consent.withdrawn",
            candidate=candidate,
            actor=actor,
            payload={"channel": channel, "address": address, "reason": reason, "source": source},
        )
    return suppression


@transaction.atomic
def suppression_remove_unsubscribe(
    *, address: str, channel: str, candidate: Candidate | None = None, source: str = "preferences page"
) -> bool:
    """The person asks to hear from us again. Only their own unsubscribe is undone; bounces and complaints stay."""
    address = address.strip().lower()
    deleted, _ = Suppression.objects.filter(
        address=address, channel=channel, reason=SuppressionReason.UNSUBSCRIBED
    ).delete()
    if deleted and candidate is not None and candidate.erased_at is None:
        activity_record(
            type="consent.given",
            candidate=candidate,
            payload={"channel": channel, "address": address, "source": source},
        )
    return bool(deleted)


# --- engagement -----------------------------------------------------------------------------------------------------

ENGAGEMENT_OPEN = "open"
ENGAGEMENT_CLICK = "click"
# Points a message's first open and first click add to the person's engagement score (0-100). Only the first of
# each counts, so a mail client reloading images or a link clicked ten times does not outweigh another email read.
ENGAGEMENT_POINTS = {ENGAGEMENT_OPEN: ENGAGEMENT_OPEN_POINTS, ENGAGEMENT_CLICK: ENGAGEMENT_CLICK_POINTS}
ENGAGEMENT_MAX = 100


@transaction.atomic
def message_engagement_record(*, message: Message, kind: str, url: str | None = None) -> bool:
    """Record an open (pixel) or a click (redirect) of a sent email; returns whether anything was recorded.

    The first open of a message writes `message.opened`; later ones only count. Every click writes
    `message.clicked` with its URL, since which link was followed matters. Nothing is recorded for an erased
    person or message, nor for a message we did not send.
    """
    if kind not in ENGAGEMENT_POINTS:
        raise ValidationFailed.single("kind", f"Choose one of: {', '.join(ENGAGEMENT_POINTS)}.")
    candidate = message.candidate
    if candidate.erased_at is not None or not message.to_address or message.direction != MessageDirection.OUTBOUND:
        return False
    now = timezone.now()
    rows = Message.objects.filter(pk=message.pk)
    # Conditional updates, so two requests at once (a client loading the pixel twice) cannot both be "first".
    if kind == ENGAGEMENT_OPEN:
        first = bool(rows.filter(opened_at__isnull=True).update(opened_at=now, open_count=F("open_count") + 1))
        if not first:
            rows.update(open_count=F("open_count") + 1)
    else:
        first = bool(rows.filter(clicked_at__isnull=True).update(clicked_at=now, click_count=F("click_count") + 1))
        if not first:
            rows.update(click_count=F("click_count") + 1)
    message.refresh_from_db(fields=["opened_at", "open_count", "clicked_at", "click_count"])
    if first:
        candidate_engagement_add(candidate_id=candidate.pk, points=ENGAGEMENT_POINTS[kind], at=now)
    if kind == ENGAGEMENT_OPEN and not first:
        return True
    activity_record(
        type="message.opened" if kind == ENGAGEMENT_OPEN else "message.clicked",
        candidate=candidate,
        application=message.application,
        job=message.job,
        occurred_at=now,
        payload=_activity_payload(message, **({"url": url} if kind == ENGAGEMENT_CLICK else {})),
    )
    return True


# --- bulk -----------------------------------------------------------------------------------------------------------


@transaction.atomic
def message_bulk_send(
    *,
    actor: User,
    template: MessageTemplate,
    candidate_ids: list[Any] | None = None,
    pool: Any = None,
    segment: Any = None,
    job: Job | None = None,
    idempotency_key: str | None = None,
    channel: str = TemplateChannel.EMAIL,
) -> BulkSend:
    """Personalise a template for each person of a selection, pool or segment and queue one bulk message each.

    People who cannot be written to are skipped with the reason (out of scope, no address, do not contact,
    suppressed, or a template that cannot be filled in for them, naming the field): one person's failure never
    stops the others, and no literal `{{ … }}` is ever queued. The worker then applies quiet hours and the
    frequency cap. The same `idempotency_key` from the same sender returns the first send's outcome.
    """
    from rapport.jobs.selectors import jobs_visible_to
    from rapport.messaging.channels.email.transport import from_header, message_domain
    from rapport.messaging.rendering import TemplateInvalid
    from rapport.messaging.selectors import bulk_plan, bulk_render, message_templates_visible_to, render_skip_reason

    ensure(actor, Capability.SEND_MESSAGES)
    key = (idempotency_key or "").strip() or None
    if key is not None:
        if len(key) > 255:
            raise ValidationFailed.single("idempotency_key", "Use at most 255 characters.")
        existing = _existing_for_key(BulkSend, actor=actor, key=key)
        if existing is not None:
            return existing
    if channel not in TemplateChannel.values:
        raise ValidationFailed.single("channel", f"Choose one of: {', '.join(TemplateChannel.values)}.")
    if template is None or not message_templates_visible_to(actor).filter(pk=template.pk).exists():
        raise ValidationFailed.single("template_id", "Pick a template.")
    if template.channel != channel:
        raise ValidationFailed.single("template_id", f"This is a {template.get_channel_display()} template.")
    if job is not None and not jobs_visible_to(actor).filter(pk=job.pk).exists():
        raise NotFound("No such job.")

    plan = bulk_plan(user=actor, candidate_ids=candidate_ids, pool=pool, segment=segment, job=job, channel=channel)
    now = timezone.now()
    try:
        with transaction.atomic():
            bulk = BulkSend.objects.create(
                template=template, job=job, audience=plan.audience, sent_by=actor, idempotency_key=key, created_at=now
            )
    except IntegrityError:
        # The same key arrived twice at once: the first send is the answer to both.
        existing = _existing_for_key(BulkSend, actor=actor, key=key) if key else None
        if existing is None:
            raise
        return existing
    skipped = [skip.as_dict() for skip in plan.skipped]
    sender = {
        "from_header": from_header(name=_sender_name(actor)),
        "reply_to": actor.email_reply_to or actor.email,
    }
    if channel != TemplateChannel.EMAIL:
        sender = {"from_header": "", "reply_to": ""}
    domain = message_domain()
    rows: list[dict[str, Any]] = []
    for recipient in plan.recipients:
        try:
            rendered = bulk_render(sender=actor, template=template, recipient=recipient, job=job)
        except TemplateInvalid as exc:
            rendered, reason = None, render_skip_reason(exc)
        else:
            reason = (
                "" if len(rendered.subject) <= MAX_SUBJECT else "With the fields filled in, the subject is too long."
            )
            if channel != TemplateChannel.EMAIL and len(rendered.text.strip()) > MAX_TEXT:
                reason = f"With the fields filled in, the message is longer than {MAX_TEXT:,} characters."
        if rendered is None or reason:
            skipped.append(
                {"candidate_id": recipient.candidate.pk, "name": recipient.candidate.full_name, "reason": reason}
            )
            continue
        rows.append(
            {
                "candidate_id": recipient.candidate.pk,
                "application_id": recipient.application.pk if recipient.application is not None else None,
                "job_id": job.pk if job is not None else None,
                "template_id": template.pk,
                "channel": channel,
                "kind": MessageKind.BULK.value,
                "bulk_id": bulk.pk,
                "direction": MessageDirection.OUTBOUND.value,
                "to_address": recipient.address,
                "subject": rendered.subject,
                "html": rendered.html,
                "text": rendered.text,
                "status": MessageStatus.QUEUED.value,
                "next_attempt_at": now,
                "message_id": f"<{uuid.uuid4().hex}@{domain}>",
                "sent_by_id": actor.pk,
                "created_at": now,
                **sender,
            }
        )
    # Thousands of rows: written without a model instance each (see rapport.common.fast_insert).
    ids = insert_records(Message, rows, returning_ids=True)
    insert_records(
        Activity,
        [
            {
                "type": "message.queued",
                "candidate_id": row["candidate_id"],
                "application_id": row["application_id"],
                "job_id": row["job_id"],
                "actor_id": actor.pk,
                "occurred_at": now,
                "payload": {
                    "message_id": pk,
                    "channel": channel,
                    "subject": row["subject"],
                    "status": MessageStatus.QUEUED.value,
                    "template_id": template.pk,
                    "bulk_id": bulk.pk,
                },
            }
            for pk, row in zip(ids, rows, strict=True)
        ],
    )
    bulk.queued = len(rows)
    bulk.skipped = skipped
    bulk.save(update_fields=["queued", "skipped"])
    audit_record(
        actor=actor,
        action="bulk_send",
        object_type="bulk_send",
        object_id=bulk.pk,
        changes={"template": template.name, "audience": plan.audience, "queued": len(rows), "skipped": len(skipped)},
    )
    transaction.on_commit(embedded_worker.nudge)
    return bulk
