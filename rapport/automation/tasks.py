"""Background work for automation, and the Celery tasks of every app.

Without a broker, `run_automation` is registered with the embedded worker beside the other apps' handlers. With
`REDIS_URL`, `rapport scheduler` enqueues the tasks below and `rapport worker` runs them. Each task is thin: it calls
a service that claims its own due rows, so a task that is lost or delivered twice loses or repeats nothing.
"""

import logging

from django.conf import settings
from django.core.cache import cache

from rapport.automation import engine
from rapport.common.embedded_worker import register
from rapport.config.celery import app

logger = logging.getLogger(__name__)


@register
def run_automation() -> int:
    """The embedded worker's dispatcher pass over sequences and triggers (see `engine.run_due_work`)."""
    return engine.run_due_work()


# --- Celery tasks ---------------------------------------------------------------------------------------------------


@app.task(name="rapport.dispatch")
def dispatch(limit: int = engine.DEFAULT_LIMIT) -> int:
    """A whole dispatcher pass, enqueued by `engine.kick()` when a service has just written due work."""
    return engine.run_due_work(limit=limit)


@app.task(name="rapport.outbox.deliver")
def deliver_outbox() -> int:
    from rapport.messaging.tasks import deliver_outbox as deliver

    engine.task_started("outbox")
    return deliver()


@app.task(name="rapport.enrolments.run_due")
def run_enrolments(limit: int = engine.DEFAULT_LIMIT) -> int:
    engine.task_started("enrolments")
    return engine.enrolments_run_due(limit=limit)


@app.task(name="rapport.trigger_runs.run_due")
def run_trigger_runs(limit: int = engine.DEFAULT_LIMIT) -> int:
    engine.task_started("trigger_runs")
    return engine.trigger_runs_run_due(limit=limit)


@app.task(name="rapport.twilio.media.fetch")
def fetch_twilio_media() -> int:
    from rapport.messaging.channels.sms.media import FETCH_BATCH, twilio_media_fetch_due

    engine.task_started("twilio_media")
    return twilio_media_fetch_due(limit=FETCH_BATCH)


@app.task(name="rapport.timeline.consume")
def consume_timeline(consumer: str) -> int:
    engine.task_started(f"timeline:{consumer}")
    return engine.timeline_consumer(consumer)()


@app.task(name="rapport.imports.run")
def run_imports() -> int:
    from rapport.candidates.tasks import process_import_jobs

    engine.task_started("imports")
    return process_import_jobs()


IMAP_BATCH = 100
IMAP_CACHE_KEY = "messaging:imap:last-poll"


def _poll_reply_mailbox() -> int:
    """The IMAP poll at most every IMAP_POLL_SECONDS across all worker processes (the embedded worker's throttle is
    per process, and a Celery worker has several)."""
    from rapport.messaging.channels.email.imap import imap_poll

    if not settings.IMAP or not cache.add(IMAP_CACHE_KEY, 1, settings.IMAP_POLL_SECONDS):
        return 0
    filed = imap_poll(limit=IMAP_BATCH)
    if filed >= IMAP_BATCH:
        cache.delete(IMAP_CACHE_KEY)  # more are waiting: the next periodic run takes them
    return filed


@app.task(name="rapport.periodic")
def periodic() -> int:
    """The clock-driven work: digests, the reply mailbox, expired sign-ins, engagement decay and date rules.

    Each job throttles itself through the cache, so the scheduler can call this often and several workers may run it.
    """
    from rapport.candidates.tasks import decay_engagement_daily
    from rapport.notifications.tasks import send_daily_digests
    from rapport.portal.tasks import purge_portal_tokens

    engine.task_started("periodic")
    done = 0
    jobs = (
        send_daily_digests,
        _poll_reply_mailbox,
        purge_portal_tokens,
        decay_engagement_daily,
        engine.triggers_fire_date_rules_throttled,
    )
    for job in jobs:
        try:
            done += job() or 0
        except Exception:  # noqa: BLE001 - one failing job must not stop the others
            logger.exception("periodic job %s failed", job.__name__)
    return done


# The scheduler's kinds of work, and how each is put on the broker.
_TASK_BY_KIND = {
    "outbox": (deliver_outbox, ()),
    "enrolments": (run_enrolments, ()),
    "trigger_runs": (run_trigger_runs, ()),
    "twilio_media": (fetch_twilio_media, ()),
    "imports": (run_imports, ()),
    "periodic": (periodic, ()),
    **{f"timeline:{name}": (consume_timeline, (name,)) for name in engine.TIMELINE_CONSUMERS},
}


def enqueue(kind: str, count: int) -> None:
    """Put `count` tasks of this kind on the broker (the scheduler's `enqueue`)."""
    task, args = _TASK_BY_KIND[kind]
    for _ in range(count):
        task.apply_async(args=args)
