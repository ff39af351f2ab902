"""Background work for messaging, registered with the embedded worker: delivering the outbox, polling for replies.

`outbox_deliver_due` claims its rows atomically, so the worker threads of several gunicorn processes (and, later,
Celery tasks calling the same service) can all run it without sending anything twice.
"""

import threading
import time

from django.conf import settings

from rapport.common.embedded_worker import register
from rapport.messaging.channels.email.imap import imap_poll
from rapport.messaging.channels.sms.tasks import fetch_twilio_media  # noqa: F401 - registers the media fetch
from rapport.messaging.services import DELIVERY_BATCH, outbox_deliver_due


@register
def deliver_outbox() -> int:
    """Send one batch of due messages; returns how many were settled (the worker polls again at once if any)."""
    return outbox_deliver_due(limit=DELIVERY_BATCH)


IMAP_BATCH = 100


class Throttle:
    """Lets a call through at most once per interval; the worker loop comes round every second."""

    def __init__(self) -> None:
        self.last: float | None = None
        self._lock = threading.Lock()

    def due(self, seconds: float) -> bool:
        with self._lock:
            now = time.monotonic()
            if self.last is not None and now - self.last < seconds:
                return False
            self.last = now
            return True

    def reset(self) -> None:
        with self._lock:
            self.last = None


imap_throttle = Throttle()


@register
def poll_reply_mailbox() -> int:
    """File new replies from the IMAP mailbox, once every IMAP_POLL_SECONDS (nothing when IMAP_URL is unset)."""
    if not settings.IMAP or not imap_throttle.due(settings.IMAP_POLL_SECONDS):
        return 0
    filed = imap_poll(limit=IMAP_BATCH)
    if filed >= IMAP_BATCH:
        # A full batch means more are waiting: take the next one on the worker's next round, not a minute later.
        imap_throttle.reset()
    return filed
