"""Reads of notifications: strictly the caller's own, and only about people still in their scope."""

from typing import Any

from django.db.models import QuerySet

from rapport.accounts.models import User
from rapport.candidates.models import Candidate
from rapport.candidates.selectors import candidates_visible_to
from rapport.common.errors import NotFound
from rapport.common.ids import parse_id
from rapport.notifications.models import Follow, Notification, NotificationPreference

# The bell shows "99+" beyond this; counting further would only cost time.
UNREAD_COUNT_CAP = 99


def notifications_for_user(*, user: User, unread_only: bool = False) -> QuerySet[Notification]:
    """The user's notifications, newest first; people who left their scope since drop out."""
    if not (user and user.is_authenticated and user.is_active):
        return Notification.objects.none()
    rows = Notification.objects.filter(user=user, candidate__in=candidates_visible_to(user))
    if unread_only:
        rows = rows.filter(read_at__isnull=True)
    return rows.select_related("candidate", "activity").order_by("-id")


def notification_get_for_user(*, user: User, notification_id: Any) -> Notification:
    try:
        pk = parse_id(notification_id)
    except (TypeError, ValueError):
        raise NotFound("No such notification.")
    notification = notifications_for_user(user=user).filter(pk=pk).first()
    if notification is None:
        raise NotFound("No such notification.")
    return notification


def unread_count(*, user: User) -> int:
    """Unread notifications, counted up to UNREAD_COUNT_CAP + 1 so the bell stays cheap for anyone."""
    rows = notifications_for_user(user=user, unread_only=True).order_by()
    return rows.values("id")[: UNREAD_COUNT_CAP + 1].count()


def is_following(*, user: User, candidate: Candidate) -> bool:
    return Follow.objects.filter(user=user, candidate=candidate).exists()


def notification_preference_for(*, user: User) -> NotificationPreference:
    """The user's settings, or the defaults (unsaved) when they never changed them."""
    return NotificationPreference.objects.filter(user=user).first() or NotificationPreference(user=user)
