"""Background work for messaging, registered with the embedded worker: delivering the outbox.

`outbox_deliver_due` claims its rows atomically, so the worker threads of several gunicorn processes (and, later,
Celery tasks calling the same service) can all run it without sending anything twice.
"""

from rapport.common.embedded_worker import register
from rapport.messaging.services import DELIVERY_BATCH, outbox_deliver_due


@register
def deliver_outbox() -> int:
    """Send one batch of due messages; returns how many were settled (the worker polls again at once if any)."""
    return outbox_deliver_due(limit=DELIVERY_BATCH)
