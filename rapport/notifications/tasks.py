"""Background work for notifications, registered with the embedded worker: the timeline consumer and the digest."""

from datetime import timedelta

from django.core.cache import cache
from django.utils import timezone

from rapport.common.embedded_worker import register
from rapport.notifications.services import notification_digest_send, notifications_from_timeline

# The digest goes out from 08:00; looking every few minutes is soon enough and costs one query per look.
DIGEST_CHECK_EVERY = timedelta(minutes=5)
DIGEST_CACHE_KEY = "notifications:digest:last-check"


@register
def notify_from_timeline() -> int:
    """Turn new engagement events into notifications; returns how many were made (the worker polls again if any)."""
    return notifications_from_timeline()


@register
def send_daily_digests() -> int:
    """Send the day's digests when due, looking at most every DIGEST_CHECK_EVERY across all workers."""
    if not cache.add(DIGEST_CACHE_KEY, timezone.now().isoformat(), DIGEST_CHECK_EVERY.total_seconds()):
        return 0
    notification_digest_send()
    return 0  # nothing else waits on it, so the worker need not poll again at once
