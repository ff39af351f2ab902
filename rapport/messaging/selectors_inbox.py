"""Reads for the recruiter inbox: the replies waiting for someone, per view (mine, unassigned, all, snoozed, done).

A reply is "mine" when it is assigned to me, or, while nobody is assigned, when I own the person, wrote the
message it answers, or wrote to the person about the same application. Open means not done and not snoozed (a
snooze whose time has passed counts as open again, so nothing has to wake it up).
"""

import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from rapport.accounts.models import Role, User
from rapport.accounts.permissions import Capability, can
from rapport.common.errors import BadRequest, NotFound, ValidationFailed
from rapport.common.ids import parse_id
from rapport.common.pagination import clamp_limit, decode_cursor, encode_cursor
from rapport.messaging.models import Message, MessageDirection

INBOX_VIEWS = {
    "mine": "Mine",
    "unassigned": "Unassigned",
    "all": "All",
    "snoozed": "Snoozed",
    "done": "Done",
}
DEFAULT_VIEW = "mine"
MAX_ACTION_IDS = 200
SNOOZE_HOUR = 8
_NOBODY = 0  # no user has id 0


def inbox_scope(user: User) -> QuerySet[Message]:
    """Inbound messages of the people the user sees, for the roles that read and write messages; others see none.

    The same scope as `messages_visible_to`. For the roles that see everyone it is a join on the person rather than
    an IN over the whole visible-people set, so the database can walk the open-inbox index newest first.
    """
    from rapport.candidates.selectors import candidates_visible_to

    inbound = Message.objects.filter(direction=MessageDirection.INBOUND)
    if not can(user, Capability.SEND_MESSAGES):
        return inbound.none()
    if user.has_full_access:
        return inbound.filter(candidate__erased_at__isnull=True)
    return inbound.filter(candidate__in=candidates_visible_to(user))


def _open(now: datetime) -> Q:
    return Q(done_at__isnull=True) & (Q(snoozed_until__isnull=True) | Q(snoozed_until__lte=now))


def _mine(user: User) -> Q:
    wrote_the_parent = Exists(Message.objects.filter(message_id=OuterRef("in_reply_to"), sent_by=user))
    # Looked up by application (a handful of messages each), never by sender (all of a recruiter's messages):
    # the sender is compared through an expression so that its index is not chosen.
    wrote_about_the_application = Exists(
        Message.objects.annotate(sender=Coalesce("sent_by_id", Value(_NOBODY))).filter(
            application_id=OuterRef("application_id"), direction=MessageDirection.OUTBOUND, sender=user.pk
        )
    )
    # An explicit assignment to someone else takes a reply out of everyone else's "mine".
    return Q(assignee=user.pk) | (
        Q(assignee=_NOBODY)
        & (
            Q(candidate__owner=user)
            | wrote_the_parent
            | (Q(application_id__isnull=False) & wrote_about_the_application)
        )
    )


def inbox_queryset(*, user: User, view: str = DEFAULT_VIEW, now: datetime | None = None) -> QuerySet[Message]:
    """The replies in one inbox view, newest first; an unknown view is the default one."""
    now = now or timezone.now()
    # Assignment is compared through an expression on purpose: most messages (every outbound one) have no
    # assignee, and an index on assigned_to would lead the database to read them all instead of walking the
    # open-inbox index newest first and stopping at a page.
    qs = inbox_scope(user).annotate(assignee=Coalesce("assigned_to_id", Value(_NOBODY)))
    if view == "done":
        qs = qs.filter(done_at__isnull=False)
    elif view == "snoozed":
        qs = qs.filter(done_at__isnull=True, snoozed_until__gt=now)
    else:
        qs = qs.filter(_open(now))
        if view == "unassigned":
            qs = qs.filter(assignee=_NOBODY)
        elif view != "all":
            qs = qs.filter(_mine(user))
    return qs.order_by("-created_at", "-id")


@dataclass
class InboxPage:
    items: list[Message]
    next_cursor: str | None
    view: str


def inbox_list(
    *,
    user: User,
    view: str = DEFAULT_VIEW,
    cursor: str | None = None,
    limit: int | None = None,
    now: datetime | None = None,
) -> InboxPage:
    """One page of an inbox view, keyset-paginated on (created_at, id)."""
    view = view if view in INBOX_VIEWS else DEFAULT_VIEW
    limit = clamp_limit(limit)
    qs = inbox_queryset(user=user, view=view, now=now)
    position = decode_cursor(cursor)
    if position:
        at = parse_datetime(str(position.get("t")))
        last_id = position.get("i")
        if at is None or not isinstance(last_id, int):
            raise BadRequest("The cursor is not valid.", fields={"cursor": ["Not a valid cursor."]})
        qs = qs.filter(Q(created_at__lt=at) | Q(created_at=at, id__lt=last_id))
    rows = list(qs.select_related("candidate", "job", "assigned_to")[: limit + 1])
    items = rows[:limit]
    next_cursor = (
        encode_cursor({"t": items[-1].created_at.isoformat(), "i": items[-1].pk}) if len(rows) > limit else None
    )
    return InboxPage(items=items, next_cursor=next_cursor, view=view)


def inbox_unread_count(*, user: User, now: datetime | None = None) -> int:
    """Unread open replies in the user's own view: the number beside Inbox in the sidebar."""
    if not can(user, Capability.SEND_MESSAGES):
        return 0
    return inbox_queryset(user=user, view=DEFAULT_VIEW, now=now).filter(read_at__isnull=True).count()


def inbox_messages_for_user(*, user: User, ids: list[Any]) -> list[Message]:
    """The inbound messages named by `ids`, all in the user's scope; any one missing or out of scope is 404."""
    try:
        wanted = {parse_id(value) for value in ids}
    except (TypeError, ValueError):
        raise NotFound("No such message.")
    if not wanted:
        raise ValidationFailed.single("ids", "Select at least one message.")
    if len(wanted) > MAX_ACTION_IDS:
        raise ValidationFailed.single("ids", f"Select at most {MAX_ACTION_IDS} messages at once.")
    found = list(inbox_scope(user).filter(pk__in=wanted).select_related("assigned_to", "candidate"))
    if len(found) != len(wanted):
        raise NotFound("No such message.")
    return found


def inbox_message_get_for_user(*, user: User, message_id: Any) -> Message:
    return inbox_messages_for_user(user=user, ids=[message_id])[0]


def inbox_assignees() -> QuerySet[User]:
    """The people a reply can be assigned to: active users whose role reads and writes messages."""
    return User.objects.filter(is_active=True, role__in=[Role.ADMIN, Role.RECRUITER]).order_by("name", "email")


def _at_hour(day: date, zone: zoneinfo.ZoneInfo) -> datetime:
    return datetime.combine(day, time(SNOOZE_HOUR), tzinfo=zone)


def _team_zone() -> zoneinfo.ZoneInfo:
    # Users have no time zone of their own yet; the team's is the one the daily digest uses too.
    return zoneinfo.ZoneInfo(settings.RAPPORT_DEFAULT_TIMEZONE)


def snooze_presets(*, now: datetime | None = None) -> dict[str, datetime]:
    """The "tomorrow" and "monday" choices: 08:00 in the team's time zone (RAPPORT_DEFAULT_TIMEZONE)."""
    zone = _team_zone()
    today = (now or timezone.now()).astimezone(zone).date()
    days_to_monday = (7 - today.weekday()) % 7 or 7
    return {
        "tomorrow": _at_hour(today + timedelta(days=1), zone),
        "monday": _at_hour(today + timedelta(days=days_to_monday), zone),
    }


def snooze_until(*, choice: str, on_date: str = "", now: datetime | None = None) -> datetime:
    """Turn a snooze choice ("tomorrow", "monday", or "date" with a YYYY-MM-DD) into the time it wakes up."""
    presets = snooze_presets(now=now)
    if choice in presets:
        return presets[choice]
    if choice == "date":
        try:
            day = date.fromisoformat((on_date or "").strip())
        except ValueError:
            raise ValidationFailed.single("snooze_date", "Pick the day it should come back.")
        return _at_hour(day, _team_zone())
    raise ValidationFailed.single("until", "Choose tomorrow, next Monday or a date.")
