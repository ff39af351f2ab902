"""Writes of notifications: following people, turning timeline events into notifications, and the daily digest.

Notifications read the timeline rather than being called by other services: `notifications_from_timeline` resumes
from a stored cursor, so messaging, the portal and anything later only write their events, as they already do.

Which events notify: a reply (`message.received`), a click (`message.clicked`, once per message, however many
clicks) and a portal visit (`portal.visited`) notify the person's owner and followers. Opens are opt-in per user
(`notify_opens`), once per message, since the tracking pixel is the least reliable signal: some mail clients load
every image on arrival, and others never do. The actor of an event is never told about their own action, and no one
is told about a person outside their scope.
"""

import logging
from collections import defaultdict
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from rapport.accounts.models import User
from rapport.candidates.models import Candidate
from rapport.candidates.selectors import candidates_visible_to
from rapport.common.errors import ValidationFailed
from rapport.common.ids import parse_id
from rapport.notifications.models import (
    Follow,
    Notification,
    NotificationKind,
    NotificationPreference,
    TimelineCursor,
)
from rapport.timeline.horizon import settled_activity_id
from rapport.timeline.models import Activity

logger = logging.getLogger(__name__)

CURSOR_NAME = "notifications"
NOTIFYING_TYPES = tuple(NotificationKind.values)
MAX_TEXT = 300
DIGEST_HOUR = 8
DIGEST_WINDOW = timedelta(days=1)
# Per person in the digest; the rest is summed up in a line, and the page has them all.
DIGEST_ITEMS_PER_PERSON = 10
MAX_READ_IDS = 500


# --- following ---------------------------------------------------------------------------------------------------


def candidate_follow(*, user: User, candidate: Candidate) -> Follow:
    """Follow a person the caller has looked up through the scoped selector; following twice is one follow."""
    try:
        with transaction.atomic():
            follow, _ = Follow.objects.get_or_create(user=user, candidate=candidate)
    except IntegrityError:
        # A double click raced us to it; the pair is unique, so the other request made it.
        follow = Follow.objects.get(user=user, candidate=candidate)
    return follow


def candidate_unfollow(*, user: User, candidate: Candidate) -> bool:
    deleted, _ = Follow.objects.filter(user=user, candidate=candidate).delete()
    return bool(deleted)


# --- preferences -------------------------------------------------------------------------------------------------


@transaction.atomic
def notification_preference_update(*, user: User, daily_digest: bool, notify_opens: bool) -> NotificationPreference:
    preference, _ = NotificationPreference.objects.select_for_update().get_or_create(user=user)
    preference.daily_digest = bool(daily_digest)
    preference.notify_opens = bool(notify_opens)
    preference.save(update_fields=["daily_digest", "notify_opens"])
    return preference


# --- reading -----------------------------------------------------------------------------------------------------


@transaction.atomic
def notifications_mark_read(*, user: User, ids: list[Any] | None = None) -> int:
    """Mark the user's notifications read: the given ids (others' ids are ignored), or all of them when None."""
    rows = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        if len(ids) > MAX_READ_IDS:
            raise ValidationFailed.single("ids", f"Give at most {MAX_READ_IDS} ids, or none to mark everything.")
        try:
            wanted = [parse_id(i) for i in ids]
        except (TypeError, ValueError):
            raise ValidationFailed.single("ids", 'Ids are strings of digits, such as "42".')
        rows = rows.filter(pk__in=wanted)
    return rows.update(read_at=timezone.now())


# --- the timeline consumer ---------------------------------------------------------------------------------------


def _name(candidate: Candidate) -> str:
    return candidate.full_name or "Someone"


def _quoted(text: Any) -> str:
    text = " ".join(str(text or "").split())
    return f"“{text}”" if text else ""


def notification_text(activity: Activity, candidate: Candidate) -> str:
    """One event as the sentence a notification shows, such as "Grace Hopper replied: “Re: the role”"."""
    payload = activity.payload or {}
    name = _name(candidate)
    subject = _quoted(payload.get("subject"))
    if activity.type == NotificationKind.REPLIED:
        said = subject or _quoted(payload.get("snippet"))
        text = f"{name} replied: {said}" if said else f"{name} replied"
    elif activity.type == NotificationKind.CLICKED:
        text = f"{name} clicked a link in {subject}" if subject else f"{name} clicked a link in your message"
    elif activity.type == NotificationKind.OPENED:
        text = f"{name} opened {subject}" if subject else f"{name} opened your email"
    elif activity.type == NotificationKind.PORTAL_VISITED:
        text = f"{name} visited their candidate portal"
    else:
        text = f"{name}: {activity.type}"
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def _dedupe_key(activity: Activity) -> str:
    message_id = (activity.payload or {}).get("message_id")
    if activity.type in (NotificationKind.CLICKED, NotificationKind.OPENED) and message_id:
        return f"{activity.type}:{message_id}"
    return f"activity:{activity.pk}"


def _recipients(activities: list[Activity]) -> dict[int, set[int]]:
    """For each activity id, the users to tell: the owner and the followers, less the actor and anyone whose scope
    does not include the person (a hiring manager whose job the person left, say)."""
    candidate_ids = {a.candidate_id for a in activities}
    audience: dict[int, set[int]] = defaultdict(set)
    for candidate_id, owner_id in Candidate.objects.filter(pk__in=candidate_ids).values_list("pk", "owner_id"):
        if owner_id is not None:
            audience[candidate_id].add(owner_id)
    for candidate_id, user_id in Follow.objects.filter(candidate_id__in=candidate_ids).values_list(
        "candidate_id", "user_id"
    ):
        audience[candidate_id].add(user_id)
    user_ids = set().union(*audience.values()) if audience else set()
    users = {u.pk: u for u in User.objects.filter(pk__in=user_ids, is_active=True)}
    opens_wanted = set(
        NotificationPreference.objects.filter(user_id__in=users, notify_opens=True).values_list("user_id", flat=True)
    )
    visible: dict[int, set[int]] = {}
    for user in users.values():
        people = [c for c, members in audience.items() if user.pk in members]
        visible[user.pk] = set(candidates_visible_to(user).filter(pk__in=people).values_list("pk", flat=True))
    result: dict[int, set[int]] = {}
    for activity in activities:
        wanted = set()
        for user_id in audience.get(activity.candidate_id, set()):
            if user_id not in users or user_id == activity.actor_id:
                continue
            if activity.candidate_id not in visible[user_id]:
                continue
            if activity.type == NotificationKind.OPENED and user_id not in opens_wanted:
                continue
            wanted.add(user_id)
        result[activity.pk] = wanted
    return result


def notifications_from_timeline(*, limit: int = 500) -> int:
    """Read the engagement events logged since the last run and notify who should know; returns how many
    notifications were created.

    The cursor row is locked for the whole run (on SQLite the write transaction serialises runs anyway), so two
    workers never handle the same events; the unique (user, dedupe_key) makes a repeated event a no-op besides.
    """
    _cursor_ensure()
    # Most polls find nothing new: answer them without a write transaction (which on SQLite locks the database).
    last_id = TimelineCursor.objects.filter(name=CURSOR_NAME).values_list("last_id", flat=True).first() or 0
    if not Activity.objects.filter(pk__gt=last_id).exists():
        return 0
    with transaction.atomic():
        cursor = TimelineCursor.objects.select_for_update().get(name=CURSOR_NAME)
        # The newest settled id before reading: with fewer than `limit` matching events, everything up to it is
        # done. Not simply the newest id: on PostgreSQL a lower id may still be committing (see timeline.horizon).
        newest = settled_activity_id()
        if newest is None or newest <= cursor.last_id:
            return 0
        activities = list(
            Activity.objects.filter(
                pk__gt=cursor.last_id, pk__lte=newest, type__in=NOTIFYING_TYPES, candidate__isnull=False
            )
            .select_related("candidate")
            .order_by("pk")[:limit]
        )
        reached = activities[-1].pk if len(activities) == limit else newest
        rows = []
        recipients = _recipients(activities) if activities else {}
        for activity in activities:
            if activity.candidate.erased_at is not None:
                continue
            text = notification_text(activity, activity.candidate)
            key = _dedupe_key(activity)
            for user_id in recipients.get(activity.pk, ()):
                rows.append(
                    Notification(
                        user_id=user_id,
                        candidate_id=activity.candidate_id,
                        activity=activity,
                        kind=activity.type,
                        text=text,
                        dedupe_key=key,
                    )
                )
        created = 0
        if rows:
            # ignore_conflicts reports no ids, so count what is new by the keys that were not there before.
            before = _existing_keys(rows)
            Notification.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
            created = len({(r.user_id, r.dedupe_key) for r in rows} - before)
        cursor.last_id = reached
        cursor.updated_at = timezone.now()
        cursor.save(update_fields=["last_id", "updated_at"])
    return created


def _cursor_ensure() -> None:
    try:
        with transaction.atomic():
            TimelineCursor.objects.get_or_create(name=CURSOR_NAME)
    except IntegrityError:
        pass  # another worker created it first


def _existing_keys(rows: list[Notification]) -> set[tuple[int, str]]:
    keys = {r.dedupe_key for r in rows}
    users = {r.user_id for r in rows}
    return set(Notification.objects.filter(user_id__in=users, dedupe_key__in=keys).values_list("user_id", "dedupe_key"))


# --- the daily digest --------------------------------------------------------------------------------------------


def _digest_zone() -> ZoneInfo:
    return ZoneInfo(settings.RAPPORT_DEFAULT_TIMEZONE)


def _digest_day_start(now: datetime) -> datetime:
    """Today's digest time (08:00 in the organisation's time zone) as an aware datetime."""
    local = now.astimezone(_digest_zone())
    return datetime.combine(local.date(), time(DIGEST_HOUR), tzinfo=_digest_zone())


def _absolute(path: str) -> str:
    return f"{settings.BASE_URL}{path}"


def digest_body(*, user: User, notifications: list[Notification]) -> tuple[str, str]:
    """The digest's subject and plain-text body: the notifications grouped by person (the most recent first), each
    with a link to the person."""
    by_person: dict[int, list[Notification]] = defaultdict(list)
    for notification in notifications:
        by_person[notification.candidate_id].append(notification)
    people = len(by_person)
    count = len(notifications)
    subject = (
        f"{count} update{'s' if count != 1 else ''} about {people} {'person' if people == 1 else 'people'} in Rapport"
    )
    zone = _digest_zone()
    lines = [
        f"Hi {user.name or user.email},",
        "",
        "Here is what happened in the last day with the people you own or follow.",
        "",
    ]
    for items in by_person.values():
        candidate = items[0].candidate
        lines.append(_name(candidate))
        lines.append(_absolute(reverse("candidates:detail", args=[candidate.pk])))
        for notification in items[:DIGEST_ITEMS_PER_PERSON]:
            stamp = notification.created_at.astimezone(zone).strftime("%H:%M")
            lines.append(f"  - {stamp} {notification.text}")
        if len(items) > DIGEST_ITEMS_PER_PERSON:
            lines.append(f"  - and {len(items) - DIGEST_ITEMS_PER_PERSON} more")
        lines.append("")
    lines += [
        f"All your notifications: {_absolute(reverse('notifications:list'))}",
        f"To stop this email, turn off the daily digest in your settings: {_absolute(reverse('accounts:settings'))}",
    ]
    return subject, "\n".join(lines) + "\n"


def notification_digest_send(*, now: datetime | None = None) -> int:
    """Email each opted-in user a summary of their unread notifications of the last day; returns how many were sent.

    A user gets at most one digest a day, from 08:00 in RAPPORT_DEFAULT_TIMEZONE (users have no time zone of their
    own yet). Each user's day is claimed with a conditional update before sending, so two workers never both send
    it; a day with nothing unread is claimed and sends nothing.
    """
    now = now or timezone.now()
    day_start = _digest_day_start(now)
    if now < day_start:
        return 0
    due = NotificationPreference.objects.filter(daily_digest=True, user__is_active=True).exclude(
        last_digest_at__gte=day_start
    )
    sent = 0
    for preference in due.select_related("user"):
        previous = preference.last_digest_at
        claimed = NotificationPreference.objects.filter(pk=preference.pk, last_digest_at=previous)
        if previous is None:
            claimed = NotificationPreference.objects.filter(pk=preference.pk, last_digest_at__isnull=True)
        if not claimed.update(last_digest_at=now):
            continue
        user = preference.user
        notifications = list(
            Notification.objects.filter(
                user=user,
                read_at__isnull=True,
                created_at__gt=now - DIGEST_WINDOW,
                created_at__lte=now,
                candidate__in=candidates_visible_to(user),
            )
            .select_related("candidate")
            .order_by("-id")
        )
        if not notifications or not user.email:
            continue
        subject, body = digest_body(user=user, notifications=notifications)
        try:
            EmailMessage(subject=subject, body=body, from_email=settings.RAPPORT_EMAIL_FROM, to=[user.email]).send()
        except Exception:  # noqa: BLE001 - one unreachable server must not stop the others; retried next pass
            logger.exception("daily digest to user %s could not be sent", user.pk)
            NotificationPreference.objects.filter(pk=preference.pk, last_digest_at=now).update(last_digest_at=previous)
            continue
        sent += 1
    return sent
