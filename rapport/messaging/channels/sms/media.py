"""Pictures and files people send us by MMS or WhatsApp: stored on their message, fetched after the webhook answered.

Twilio wants its webhook answered within seconds, so `twilio_message_receive` stores the message at once with one
`InboundMedia` row per MediaUrl (due now), and the text says what is on its way ("1 picture, downloading…").
`twilio_media_fetch_due` (the embedded worker's handler, or a Celery task with Redis) claims due rows with a lease,
downloads each from Twilio and stores it as an attachment of the message, as email attachments are. A transient
failure (no connection, 5xx, a 404 right after the webhook) is tried again later with backoff; a refusal (a type
we do not keep, too big, still failing after MAX_ATTEMPTS) leaves a line on the message saying why. Nothing that
arrives is silently lost, and running the handler twice stores nothing twice.
"""

import logging
import mimetypes
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from rapport.automation.claims import claim_due
from rapport.messaging.channels.base import TransientError
from rapport.messaging.channels.sms.client import Media, MediaRefused, fetch_media
from rapport.messaging.models import InboundMedia, MediaStatus, Message, MessageAttachment

logger = logging.getLogger(__name__)

# Downloads run one after another on the worker's thread; a small batch lets the other work in between.
FETCH_BATCH = 10
# 30 s, 2 min, 8 min, 32 min: a fifth failure (about 45 minutes after the webhook) gives up with the reason.
MAX_ATTEMPTS = 5
RETRY_BASE = timedelta(seconds=30)
RETRY_CAP = timedelta(hours=1)
# Longer than a download may take (each network step has a 30 s timeout), so a live worker keeps its rows.
LEASE = timedelta(minutes=5)

# What we keep: what people text a recruiter (photos, CVs as PDF, voice notes, videos, contact cards, notes).
ALLOWED_TYPES = {"application/pdf", "text/vcard", "text/x-vcard", "text/directory", "text/plain"}
ALLOWED_FAMILIES = ("image/", "audio/", "video/")
# An image type that can carry script; no one needs to send it to a recruiter.
REFUSED_TYPES = {"image/svg+xml"}
KEPT = "Rapport keeps pictures, PDFs, audio, video, contact cards and plain text"

# What to call each kind of media in the thread: (one, many).
_KINDS = (
    ("image/", ("picture", "pictures")),
    ("video/", ("video", "videos")),
    ("audio/", ("audio clip", "audio clips")),
    ("application/pdf", ("PDF", "PDFs")),
    ("text/vcard", ("contact card", "contact cards")),
    ("text/x-vcard", ("contact card", "contact cards")),
    ("text/directory", ("contact card", "contact cards")),
    ("text/plain", ("text file", "text files")),
)
_EXTENSIONS = {"text/vcard": ".vcf", "text/x-vcard": ".vcf", "text/directory": ".vcf", "image/jpeg": ".jpg"}


@dataclass(frozen=True)
class IncomingMedia:
    """One MediaUrlN of Twilio's inbound webhook with its MediaContentTypeN."""

    url: str
    content_type: str = ""


def plain_type(content_type: str) -> str:
    return content_type.split(";")[0].strip().lower()


def type_allowed(content_type: str) -> bool:
    kind = plain_type(content_type)
    return kind not in REFUSED_TYPES and (kind in ALLOWED_TYPES or kind.startswith(ALLOWED_FAMILIES))


def _kind(content_type: str) -> tuple[str, str]:
    kind = plain_type(content_type)
    for prefix, names in _KINDS:
        if kind.startswith(prefix):
            return names
    return ("file", "files")


def _counted(counts: Counter[tuple[str, str]]) -> str:
    parts = [f"{n} {names[0] if n == 1 else names[1]}" for names, n in counts.items()]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def media_note(media: Iterable[tuple[str, str, str]]) -> str:
    """The lines the message's text ends with: what is still downloading, and each item not kept with its reason.

    `media` is (status, content type, error) per item, in order; stored items need no line (they are attachments).
    """
    pending: Counter[tuple[str, str]] = Counter()
    refused: list[str] = []
    for status, content_type, error in media:
        if status == MediaStatus.PENDING:
            pending[_kind(content_type)] += 1
        elif status == MediaStatus.REFUSED:
            one = _kind(content_type)[0]
            article = "An" if one[0] in "aeiou" else "A"
            refused.append(f"📎 {article} {one} was not kept: {error}.")
    lines = [f"📎 {_counted(pending)}, downloading…"] if pending else []
    return "\n".join(lines + refused)


def with_note(body: str, note: str) -> str:
    body = body.strip()
    return f"{body}\n\n{note}" if body and note else body or note


def _refusal_for_type(content_type: str) -> str:
    return f"{plain_type(content_type) or 'a file of no stated type'} is not a type Rapport keeps ({KEPT})"


def media_initial(media: Sequence[IncomingMedia]) -> list[tuple[str, str, str]]:
    """Each announced item as (status, content type, error): pending, or refused at once for a type we refuse."""
    return [
        (MediaStatus.PENDING, item.content_type, "")
        if type_allowed(item.content_type) or not item.content_type
        else (MediaStatus.REFUSED, item.content_type, _refusal_for_type(item.content_type))
        for item in media
    ]


def media_pending_add(
    *, message: Message, media: Sequence[IncomingMedia], states: list[tuple[str, str, str]]
) -> list[InboundMedia]:
    """The rows for a newly stored message's media (none again for a webhook Twilio retried)."""
    if not media or InboundMedia.objects.filter(message=message).exists():
        return []
    now = timezone.now()
    rows = InboundMedia.objects.bulk_create(
        [
            InboundMedia(
                message=message,
                position=position,
                url=item.url[:1000],
                content_type=plain_type(item.content_type)[:120],
                status=status,
                error=error[:300],
                due_at=now if status == MediaStatus.PENDING else None,
                created_at=now,
            )
            for position, (item, (status, _, error)) in enumerate(zip(media, states, strict=True))
        ]
    )
    if any(row.status == MediaStatus.PENDING for row in rows):
        transaction.on_commit(media_kick)
    return rows


def media_kick() -> None:
    """Start fetching now: wake this process's embedded worker, or with Redis enqueue the fetch task."""
    if not settings.REDIS_URL:
        from rapport.common import embedded_worker

        embedded_worker.nudge()
        return
    try:
        from rapport.automation.tasks import fetch_twilio_media

        fetch_twilio_media.apply_async()
    except Exception:  # noqa: BLE001 - the rows are committed; the next fetch task picks them up
        logger.exception("twilio media: could not enqueue the fetch task")


def _retry_delay(attempts: int) -> timedelta:
    return min(RETRY_BASE * 4 ** max(attempts - 1, 0), RETRY_CAP)


def _filename(row: InboundMedia, content_type: str) -> str:
    extension = _EXTENSIONS.get(content_type) or mimetypes.guess_extension(content_type) or ""
    return f"{_kind(content_type)[0].replace(' ', '-').lower()}-{row.position + 1}{extension}"


def twilio_media_fetch_due(*, limit: int = FETCH_BATCH, now: datetime | None = None) -> int:
    """Fetch the media that is due; returns how many items it settled or rescheduled. Safe to run twice at once."""
    now = now or timezone.now()
    rows = claim_due(twilio_media_due(now), limit=limit, now=now, lease=LEASE, order_by=("due_at", "id"))
    for row in rows:
        try:
            media = fetch_media(
                url=row.url,
                account_sid=settings.TWILIO_ACCOUNT_SID,
                auth_token=settings.TWILIO_AUTH_TOKEN,
                base_url=settings.TWILIO_BASE_URL,
                max_bytes=settings.TWILIO_MEDIA_MAX_BYTES,
                accept=type_allowed,
            )
        except MediaRefused as exc:
            _settle(row, status=MediaStatus.REFUSED, error=exc.reason)
        except TransientError as exc:
            if row.attempts + 1 >= MAX_ATTEMPTS:
                _settle(row, status=MediaStatus.REFUSED, error=f"{exc.reason} ({MAX_ATTEMPTS} tries)")
            else:
                _retry(row, error=exc.reason, at=now + _retry_delay(row.attempts + 1))
        else:
            _settle(row, status=MediaStatus.STORED, media=media)
    return len(rows)


def twilio_media_due(now: datetime) -> QuerySet[InboundMedia]:
    """Media waiting to be fetched (through the partial index `inbound_media_due`)."""
    return InboundMedia.objects.filter(status=MediaStatus.PENDING, due_at__lte=now)


def _retry(row: InboundMedia, *, error: str, at: datetime) -> None:
    # Still ours only while the claim holds: a worker whose lease ran out leaves the row to the one that took it.
    InboundMedia.objects.filter(pk=row.pk, status=MediaStatus.PENDING, claim_token=row.claim_token).update(
        attempts=F("attempts") + 1, error=error[:300], due_at=at, claimed_until=None, claim_token=""
    )
    logger.info("message %s: media %s will be fetched again: %s", row.message_id, row.position, error)


@transaction.atomic
def _settle(row: InboundMedia, *, status: str, error: str = "", media: Media | None = None) -> bool:
    """Record what became of one item and rewrite the message's note; False when another worker settled it."""
    settled = InboundMedia.objects.filter(pk=row.pk, status=MediaStatus.PENDING, claim_token=row.claim_token).update(
        status=status,
        attempts=F("attempts") + 1,
        error=error[:300],
        due_at=None,
        claimed_until=None,
        claim_token="",
    )
    if not settled:
        return False
    # Locked, so two items of one message settling at once do not overwrite each other's note.
    message = Message.objects.select_for_update().get(pk=row.message_id)
    if media is not None:
        content_type = media.content_type or row.content_type
        filename = _filename(row, content_type)
        attachment = MessageAttachment(
            message=message, filename=filename, content_type=content_type[:120], size=len(media.content)
        )
        attachment.file.save(filename, ContentFile(media.content), save=False)
        attachment.save()
        InboundMedia.objects.filter(pk=row.pk).update(attachment=attachment, content_type=content_type[:120])
    else:
        logger.warning("message %s: media %s was not kept: %s", message.pk, row.position, error)
    items = list(InboundMedia.objects.filter(message=message).order_by("position"))
    # The note as it read before this item settled: the item was pending, with the type it was announced with.
    before = media_note(
        (MediaStatus.PENDING, row.content_type, "")
        if item.pk == row.pk
        else (item.status, item.content_type, item.error)
        for item in items
    )
    after = media_note((item.status, item.content_type, item.error) for item in items)
    body = message.text[: -len(before)] if before and message.text.endswith(before) else message.text
    text = with_note(body, after)
    if text != message.text:
        Message.objects.filter(pk=message.pk).update(text=text)
    return True
