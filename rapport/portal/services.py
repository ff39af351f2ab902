"""Writes for the candidate portal: sign-in links, sign-in itself, and the messages a person sends from it.

Two kinds of link sign a person in, and both end in `sign_in_link_consume`:
- the link asked for on the sign-in page: a random token emailed to the address typed, stored hashed in
  `PortalToken`, valid for 30 minutes and once;
- the `{{ portal_link }}` merge field in recruiters' messages: a stateless signed token (see links.py), made
  single-use by storing its hash as a used `PortalToken` when it signs someone in.
"""

import hashlib
import logging
import secrets
import time
import uuid
from datetime import datetime, timedelta
from datetime import time as dt_time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from rapport.candidates.engagement import ENGAGEMENT_PORTAL_VISIT_POINTS, candidate_engagement_add
from rapport.candidates.models import Candidate, CandidateEmail
from rapport.candidates.normalise import validate_timezone
from rapport.common.errors import ApplicationError, FieldErrors, ValidationFailed
from rapport.messaging.models import Message, MessageDirection
from rapport.messaging.services_inbound import message_receive
from rapport.portal.links import SIGNED_LINK_MAX_AGE_SECONDS, SIGNED_PREFIX, portal_signed_link_read
from rapport.portal.models import PortalToken
from rapport.timeline.services import activity_record

logger = logging.getLogger(__name__)

EMAILED_LINK_LIFETIME = timedelta(minutes=30)

# Sign-in link requests: per client address, and per address typed (known or not, so the limit itself reveals
# nothing). Portal messages: per person.
LINK_REQUESTS_PER_IP = 10
LINK_REQUESTS_PER_EMAIL = 3
LINK_REQUEST_WINDOW_SECONDS = 15 * 60
PORTAL_MESSAGES_PER_HOUR = 10
PORTAL_MESSAGE_MAX_CHARS = 5000
PORTAL_MESSAGE_SUBJECT = "Message from the portal"
PORTAL_MESSAGE_TO_ADDRESS = "portal"  # an inbound message's to_address is our side; this one came through the portal


class RateLimitExceeded(ApplicationError):
    code = "rate_limited"
    status = 429

    def __init__(self, message: str = "Too many requests. Please try again later."):
        super().__init__(message)


class SignInLinkInvalid(ApplicationError):
    code = "invalid_link"
    status = 400

    def __init__(self) -> None:
        super().__init__("This sign-in link has expired or was already used. Ask for a new one below.")


def hash_portal_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _count(key: str, window_seconds: int) -> int:
    """Count one hit in a fixed window kept in the cache; returns the hits so far in this window."""
    window = int(time.time() // window_seconds)
    full_key = f"rapport:portal-rate:{key}:{window}"
    if cache.add(full_key, 1, timeout=window_seconds + 1):
        return 1
    try:
        return cache.incr(full_key)
    except ValueError:  # the window expired between add() and incr()
        cache.set(full_key, 1, timeout=window_seconds + 1)
        return 1


def sign_in_link_request(*, email: str, client_address: str) -> bool:
    """Email a sign-in link if the address belongs to someone; the caller answers the same either way.

    Returns whether a link was sent, for tests and logs only. The email goes straight through Django's mail
    backend, not the outbox: the person asked for it, so an unsubscribe or quiet hours must not hold it back.
    """
    address = " ".join(email.split()).lower()
    if not address or "@" not in address or len(address) > 254:
        raise ValidationFailed.single("email", "Enter the email address you applied with.")
    over_ip = _count(f"ip:{client_address}", LINK_REQUEST_WINDOW_SECONDS) > LINK_REQUESTS_PER_IP
    over_email = _count(f"email:{hash_portal_token(address)}", LINK_REQUEST_WINDOW_SECONDS) > LINK_REQUESTS_PER_EMAIL
    if over_ip or over_email:
        raise RateLimitExceeded("You asked for several links in a short time. Please wait 15 minutes and try again.")
    known = CandidateEmail.objects.filter(email=address, candidate__erased_at__isnull=True).select_related("candidate")
    contact = known.first()
    if contact is None:
        return False
    raw = secrets.token_urlsafe(32)
    while raw.startswith(SIGNED_PREFIX):  # that prefix marks the signed links of templated messages
        raw = secrets.token_urlsafe(32)
    now = timezone.now()
    PortalToken.objects.create(
        candidate=contact.candidate,
        token_hash=hash_portal_token(raw),
        created_at=now,
        expires_at=now + EMAILED_LINK_LIFETIME,
    )
    link = settings.BASE_URL + reverse("portal:sign_in_link", args=[raw])
    minutes = int(EMAILED_LINK_LIFETIME.total_seconds() // 60)
    body = (
        f"Hello {contact.candidate.first_name},\n\n"
        f"Use this link to sign in to your candidate portal at {settings.RAPPORT_ORG_NAME}:\n\n"
        f"{link}\n\n"
        f"The link works once and for {minutes} minutes. If you did not ask for it, you can ignore this email: "
        "nobody can sign in without the link.\n"
    )
    try:
        EmailMessage(
            subject=f"Your sign-in link for {settings.RAPPORT_ORG_NAME}",
            body=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[address],
        ).send()
    except Exception:
        # Any backend's failure (SMTP refused, provider API down): an error page would tell the visitor that the
        # address is known, so the answer stays the same and the failure goes to the log for the operators.
        logger.exception("The portal sign-in email could not be sent")
        return False
    return True


def _raw_is_plausible(raw: str) -> bool:
    return 20 <= len(raw) <= 400


@transaction.atomic
def sign_in_link_consume(*, raw: str) -> Candidate:
    """Use a sign-in link once; raises SignInLinkInvalid when it is unknown, expired, used or revoked."""
    if not _raw_is_plausible(raw):
        raise SignInLinkInvalid()
    token_hash = hash_portal_token(raw)
    now = timezone.now()
    if raw.startswith(SIGNED_PREFIX):
        candidate = portal_signed_link_read(raw)
        if candidate is None:
            raise SignInLinkInvalid()
        try:
            with transaction.atomic():
                PortalToken.objects.create(
                    candidate=candidate, token_hash=token_hash, created_at=now, expires_at=now, used_at=now
                )
        except IntegrityError:
            raise SignInLinkInvalid()
        return candidate
    # The conditional update is the single-use guarantee: of two clicks at once, only one changes the row.
    used = PortalToken.objects.filter(
        token_hash=token_hash, used_at__isnull=True, expires_at__gt=now, candidate__erased_at__isnull=True
    ).update(used_at=now)
    if not used:
        raise SignInLinkInvalid()
    return PortalToken.objects.select_related("candidate").get(token_hash=token_hash).candidate


@transaction.atomic
def portal_visit_record(*, candidate: Candidate) -> None:
    """Once per sign-in: the timeline event and the engagement points for coming to look."""
    now = timezone.now()
    candidate_engagement_add(candidate_id=candidate.pk, points=ENGAGEMENT_PORTAL_VISIT_POINTS, at=now)
    activity_record(type="portal.visited", candidate=candidate, occurred_at=now, payload={})


def portal_tokens_purge(*, now: datetime | None = None) -> int:
    """Delete sign-in rows no link can use any more; returns how many went.

    A row made when a signed message link was used is what keeps that link single-use, so it stays until the link
    itself has expired: rows are kept for the longest link lifetime plus a day, whatever kind they are.
    """
    keep_after = (now or timezone.now()) - timedelta(seconds=SIGNED_LINK_MAX_AGE_SECONDS) - timedelta(days=1)
    deleted, _ = PortalToken.objects.filter(created_at__lt=keep_after).delete()
    return deleted


def portal_tokens_revoke(*, candidate: Candidate) -> int:
    """Make every unused emailed link of a person useless (after erasure)."""
    return PortalToken.objects.filter(candidate=candidate, used_at__isnull=True).update(used_at=timezone.now())


def portal_message_send(*, candidate: Candidate, text: str) -> Message:
    """A person writes to the team from the portal: stored as an inbound message on their thread.

    It uses the email channel and a fixed subject (no new channel value, so no messaging migration): the recruiter
    sees it in the thread and the inbox like an emailed reply, and answering it emails the person, which the portal
    then shows too. `to_address` "portal" and a message id at portal.rapport tell where it came from.
    """
    cleaned = "\n".join(line.rstrip() for line in (text or "").replace("\r\n", "\n").split("\n")).strip()
    # Plain text only: control characters (other than newlines and tabs) are dropped, and it is never rendered
    # as HTML, so no markup can reach the recruiter's screen.
    cleaned = "".join(ch for ch in cleaned if ch in "\n\t" or ch.isprintable())
    if not cleaned:
        raise ValidationFailed.single("text", "Write a message first.")
    if len(cleaned) > PORTAL_MESSAGE_MAX_CHARS:
        raise ValidationFailed.single("text", f"Keep the message under {PORTAL_MESSAGE_MAX_CHARS} characters.")
    if _count(f"message:{candidate.pk}", 3600) > PORTAL_MESSAGES_PER_HOUR:
        raise RateLimitExceeded("You sent several messages in a short time. Please wait a little and try again.")
    last_outbound = (
        Message.objects.filter(candidate=candidate, direction=MessageDirection.OUTBOUND)
        .order_by("-created_at", "-id")
        .first()
    )
    primary = candidate.emails.order_by("position", "id").values_list("email", flat=True).first() or ""
    return message_receive(
        candidate=candidate,
        channel="email",
        from_address=primary,
        to_address=PORTAL_MESSAGE_TO_ADDRESS,
        subject=PORTAL_MESSAGE_SUBJECT,
        text=cleaned,
        message_id=f"<{uuid.uuid4().hex}@portal.rapport>",
        parent=last_outbound,
    )


# The channels a person can switch off in the portal, and which of their contact points each one covers.
OPT_OUT_CHANNELS = {"email": "emails", "sms": "phones", "whatsapp": "phones"}


def _addresses(candidate: Candidate, channel: str) -> list[str]:
    related = getattr(candidate, OPT_OUT_CHANNELS[channel])
    return list(related.values_list("email" if channel == "email" else "phone", flat=True))


def portal_channel_states(*, candidate: Candidate) -> dict[str, bool | None]:
    """For each channel: True when we may write, False when the person opted out, None when we have no address."""
    from rapport.messaging.models import Suppression

    states: dict[str, bool | None] = {}
    for channel in OPT_OUT_CHANNELS:
        addresses = _addresses(candidate, channel)
        if not addresses:
            states[channel] = None
        else:
            states[channel] = not Suppression.objects.filter(channel=channel, address__in=addresses).exists()
    return states


# Job-alert interests are tags "interest:<name>", the shape the career site's talent community writes, so one
# matcher (and the team's filters and segments) reads both.
MAX_KEYWORDS = 10
MAX_KEYWORD_CHARS = 40


def _interest_tags(
    *, departments: list[str], locations: list[str], keywords: str, options: dict[str, list[str]], errors: FieldErrors
) -> list[str]:
    from rapport.careers.services import INTEREST_TAG_PREFIX

    chosen: list[str] = []
    for field, values in (("departments", departments), ("locations", locations)):
        allowed = {name.lower(): name for name in options.get(field, [])}
        for value in values:
            name = allowed.get(str(value).strip().lower())
            if name is None:
                errors.add(field, "Choose from the list.")
                break
            chosen.append(name)
    words = [" ".join(part.split()) for part in (keywords or "").replace("\n", ",").split(",")]
    words = [word for word in words if word]
    if len(words) > MAX_KEYWORDS:
        errors.add("keywords", f"Give at most {MAX_KEYWORDS} keywords, separated by commas.")
    elif any(len(word) > MAX_KEYWORD_CHARS for word in words):
        errors.add("keywords", f"Keep each keyword under {MAX_KEYWORD_CHARS} characters.")
    elif any(not (ch.isalnum() or ch in " +#.-/&") for word in words for ch in word):
        errors.add("keywords", "Use letters, numbers and spaces (and + # . - / &) in keywords.")
    else:
        chosen.extend(words)
    unique: dict[str, str] = {}
    for name in chosen:
        unique.setdefault(name.lower(), f"{INTEREST_TAG_PREFIX}{name}"[:50])
    return list(unique.values())


def _quiet_hours(
    start: dt_time | None, end: dt_time | None, errors: FieldErrors
) -> tuple[dt_time | None, dt_time | None]:
    if start is None and end is None:
        return None, None
    if start is None:
        errors.add("quiet_hours_start", "Give the time your quiet hours start, or clear both times.")
    if end is None:
        errors.add("quiet_hours_end", "Give the time your quiet hours end, or clear both times.")
    if start is not None and end is not None and start == end:
        errors.add("quiet_hours_end", "The end must differ from the start.")
    return start, end


# The choices the portal offers for "how often may we write?" (None: the installation's own cap).
ALLOWED_PER_WEEK = (1, 3)


def _birthday_consent_set(candidate: Candidate, *, wanted: bool) -> None:
    from rapport.automation.defaults import BIRTHDAY_CONSENT
    from rapport.privacy.models import Consent
    from rapport.privacy.services import consent_record, consent_withdraw

    active = list(Consent.objects.filter(candidate=candidate, purpose=BIRTHDAY_CONSENT, withdrawn_at__isnull=True))
    if wanted and not active:
        consent_record(candidate=candidate, purpose=BIRTHDAY_CONSENT, source="portal preferences")
    elif not wanted:
        for consent in active:
            consent_withdraw(candidate=candidate, consent=consent, source="portal preferences")


@transaction.atomic
def portal_preferences_update(
    *,
    candidate: Candidate,
    preferred_channel: str,
    language: str,
    channels: dict[str, bool],
    timezone_name: str | None = None,
    quiet_hours: tuple[dt_time | None, dt_time | None] | None = None,
    interests: dict[str, Any] | None = None,
    birthday_greetings: bool | None = None,
    max_per_week: int | None | object = ...,
) -> Candidate:
    """Save what the person chose: how to reach them, in which language, the channels they turned off, and (when
    given) their time zone, quiet hours, job-alert interests, how many newsletters and automatic messages a week
    they want at most (`max_per_week`, None for no limit of their own), and whether they want a birthday greeting
    (a consent they give or withdraw, which the birthday trigger reads).

    Turning a channel off is an unsubscribe (the same suppression as the link in every email); turning it back on
    undoes only their own unsubscribe, never a bounce or a complaint. The time zone is the record's own, which the
    outbox reads for quiet hours; the person's own quiet hours are kept in `PortalPreferences`.
    """
    from rapport.candidates.services import candidate_update
    from rapport.careers.selectors import career_filter_options
    from rapport.messaging.models import SuppressionReason
    from rapport.messaging.services import suppression_add, suppression_remove_unsubscribe
    from rapport.portal.models import PortalPreferences

    errors = FieldErrors()
    data: dict[str, Any] = {"preferred_channel": preferred_channel, "language": language}
    if timezone_name is not None:
        data["timezone"] = errors.capture(validate_timezone, timezone_name)
    start, end = _quiet_hours(*(quiet_hours or (None, None)), errors)
    if max_per_week is not ... and max_per_week is not None and max_per_week not in ALLOWED_PER_WEEK:
        errors.add("max_per_week", "Choose one of the options.")
    tags: list[str] | None = None
    if interests is not None:
        from rapport.careers.services import INTEREST_TAG_PREFIX

        current = list(candidate.candidate_tags.values_list("tag__name", flat=True))
        held = [name[len(INTEREST_TAG_PREFIX) :] for name in current if name.lower().startswith(INTEREST_TAG_PREFIX)]
        # What the person already follows stays choosable when no open job has that team or place right now.
        options = career_filter_options()
        options = {key: [*values, *held] for key, values in options.items()}
        wanted = _interest_tags(
            departments=list(interests.get("departments") or []),
            locations=list(interests.get("locations") or []),
            keywords=str(interests.get("keywords") or ""),
            options=options,
            errors=errors,
        )
        kept = [name for name in current if not name.lower().startswith(INTEREST_TAG_PREFIX)]
        tags = [*kept, *wanted]
    errors.raise_if_any()
    if tags is not None:
        data["tags"] = tags
    candidate = candidate_update(actor=None, candidate=candidate, data=data)
    settings_row: dict[str, Any] = {}
    if quiet_hours is not None:
        settings_row.update(quiet_hours_start=start, quiet_hours_end=end)
    if max_per_week is not ...:
        settings_row["max_per_week"] = max_per_week
    if settings_row:
        PortalPreferences.objects.update_or_create(
            candidate=candidate, defaults={**settings_row, "updated_at": timezone.now()}
        )
    if birthday_greetings is not None:
        _birthday_consent_set(candidate, wanted=birthday_greetings)
    for channel, allowed in channels.items():
        if channel not in OPT_OUT_CHANNELS:
            continue
        for address in _addresses(candidate, channel):
            if allowed:
                suppression_remove_unsubscribe(address=address, channel=channel, candidate=candidate, source="portal")
            else:
                suppression_add(
                    address=address,
                    channel=channel,
                    reason=SuppressionReason.UNSUBSCRIBED,
                    candidate=candidate,
                    source="portal",
                )
    return candidate
