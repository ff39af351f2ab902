"""The Celery app: background work on Redis when `REDIS_URL` is set (`rapport worker`, `rapport scheduler`).

Tasks carry no data of their own: each one calls a service that claims its due rows from the database, so the
broker may lose or repeat a task without a step being lost or done twice. Hence late acknowledgement (a task whose
worker dies is delivered again), one task reserved per worker process (a killed process strands at most one), and
JSON only (nothing a message could smuggle in gets unpickled).
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rapport.config.settings")

# The queue every Rapport task goes to unless a worker is told otherwise (`rapport worker --queues`).
DEFAULT_QUEUE = "rapport"

app = Celery("rapport")


def _configure(celery: Celery) -> None:
    from django.conf import settings

    broker = settings.REDIS_URL or None
    celery.conf.update(
        broker_url=broker,
        result_backend=broker,
        # Results are never read: each task's effect is in the database. Storing them would only fill Redis.
        task_ignore_result=True,
        result_expires=3600,
        task_acks_late=True,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_default_queue=DEFAULT_QUEUE,
        timezone="UTC",
        enable_utc=True,
        broker_connection_retry_on_startup=True,
        # A task is delivered again if its worker has not acknowledged it within this time; the scheduler re-enqueues
        # lost work long before that, so this only bounds how long a stranded task sits in Redis.
        broker_transport_options={"visibility_timeout": 1800},
        # Django's LOGGING configures the root logger; Celery must not replace it.
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
    )


_configure(app)
app.autodiscover_tasks()
