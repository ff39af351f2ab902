"""Background work for Twilio without a broker: fetching the pictures and files people sent, after the webhook answered.

Importing this module registers the embedded worker's handler; `rapport.messaging.tasks` imports it. With
`REDIS_URL` the same service runs as the Celery task `rapport.twilio.media.fetch` (rapport/automation/tasks.py),
which the scheduler enqueues whenever media is due, retries included, like every other kind of due row.
"""

from rapport.common.embedded_worker import register
from rapport.messaging.channels.sms.media import FETCH_BATCH, twilio_media_fetch_due


@register
def fetch_twilio_media() -> int:
    """One batch of due media; the embedded worker polls again at once while a batch comes back full."""
    return twilio_media_fetch_due(limit=FETCH_BATCH)
