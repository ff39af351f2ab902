"""Background work for people (CSV imports, the daily engagement decay); registered with the embedded worker.

An import runs where it is claimed first: by the embedded worker's poll, or by the thread the upload view starts
once the job is committed (so a small file's report is ready almost at once, and processes with no worker thread,
such as `runserver` or a test server, still finish their imports). The claim is one conditional UPDATE, so two
runners never process the same job.
"""

import logging
import threading
from datetime import timedelta

from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from rapport.candidates.engagement import candidate_engagement_decay_all
from rapport.candidates.importing import import_job_run, import_jobs_pending
from rapport.candidates.models import ImportJob
from rapport.common.embedded_worker import register

logger = logging.getLogger(__name__)


@register
def process_import_jobs() -> int:
    """Run the oldest waiting import; returns 1 if it ran one (the worker polls again at once), else 0."""
    for job_id in import_jobs_pending(limit=5):
        job = ImportJob.objects.filter(pk=job_id).first()
        if job is None:
            continue
        before = job.status
        job = import_job_run(job=job)
        if job.status != before:
            return 1
    return 0


ENGAGEMENT_DECAY_EVERY = timedelta(hours=24)
ENGAGEMENT_DECAY_CACHE_KEY = "candidates:engagement-decay:last-run"


@register
def decay_engagement_daily() -> int:
    """Lower the scores of people who went quiet, at most once every 24 hours across all workers.

    The claim is an atomic cache `add` that expires after 24 hours (the cache is shared by every process: Redis, or
    files under var/). The pass is safe to run twice, so a rare double run only costs time.
    """
    if not cache.add(ENGAGEMENT_DECAY_CACHE_KEY, timezone.now().isoformat(), ENGAGEMENT_DECAY_EVERY.total_seconds()):
        return 0
    try:
        changed = candidate_engagement_decay_all()
    except Exception:
        # Let the next poll try again rather than waiting a day.
        cache.delete(ENGAGEMENT_DECAY_CACHE_KEY)
        raise
    logger.info("engagement decay pass changed %s scores", changed)
    return 0  # nothing else waits on it, so the worker need not poll again at once


def import_job_start_thread(job_id: int) -> threading.Thread:
    """Start running a committed job on a thread of this process.

    Call it from `transaction.on_commit`: a thread has its own database connection and cannot see rows its
    caller has not committed. Imports have no broker task yet, so this runs whether or not REDIS_URL is set.
    """
    thread = threading.Thread(target=_run_in_thread, args=(job_id,), name=f"rapport-import-{job_id}", daemon=True)
    thread.start()
    return thread


def _run_in_thread(job_id: int) -> None:
    try:
        job = ImportJob.objects.filter(pk=job_id).first()
        if job is not None:
            import_job_run(job=job)
    except Exception:  # noqa: BLE001 - a thread has no caller to raise to; the worker retries a pending job
        logger.exception("import job %s could not run on its thread", job_id)
    finally:
        connection.close()
