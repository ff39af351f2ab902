"""Background work for the portal, registered with the embedded worker: clearing sign-in rows that expired."""

from datetime import timedelta

from django.core.cache import cache
from django.utils import timezone

from rapport.common.embedded_worker import register
from rapport.portal.services import portal_tokens_purge

PURGE_EVERY = timedelta(hours=1)
PURGE_CACHE_KEY = "portal:tokens:last-purge"


@register
def purge_portal_tokens() -> int:
    """Delete expired sign-in rows, at most once an hour across all workers."""
    if not cache.add(PURGE_CACHE_KEY, timezone.now().isoformat(), PURGE_EVERY.total_seconds()):
        return 0
    portal_tokens_purge()
    return 0  # nothing waits on it, so the worker need not poll again at once
