"""`rapport worker`: a Celery worker for Rapport's background work (needs REDIS_URL)."""

import os
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

NO_BROKER = (
    "REDIS_URL is not set, so there is no broker to take work from: background work runs in the embedded worker "
    "that `rapport serve` (and `make run`) starts beside the web server. Set REDIS_URL=redis://host:6379/0 to run "
    "`rapport worker` and `rapport scheduler` instead."
)


def _concurrency(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise CommandError(f"--concurrency must be a whole number, not {value!r}.")
    if not 1 <= number <= 256:
        raise CommandError(f"--concurrency must be from 1 to 256, not {number}.")
    return number


class Command(BaseCommand):
    # It serves no pages: the URL and template checks belong to the web server's start, not to every worker's.
    requires_system_checks: list[str] = []
    help = (
        "Run a Celery worker that executes Rapport's background work (outbox delivery, sequence steps, trigger "
        "runs, imports, digests). Needs REDIS_URL; start `rapport scheduler` once beside any number of workers."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        from rapport.config.celery import DEFAULT_QUEUE

        parser.add_argument(
            "--concurrency",
            type=_concurrency,
            default=None,
            help="Worker processes or threads (default: the number of CPUs).",
        )
        parser.add_argument(
            "--queues",
            default=DEFAULT_QUEUE,
            help=f"Comma-separated queues to take tasks from (default {DEFAULT_QUEUE}).",
        )
        parser.add_argument(
            "--pool", choices=["prefork", "threads", "solo"], default="prefork", help="Celery's execution pool."
        )
        parser.add_argument("--loglevel", default="INFO", help="Log level (default INFO).")
        parser.add_argument("--hostname", default=None, help="Worker node name (default rapport@<host>).")

    def handle(
        self,
        *args: Any,
        concurrency: int | None,
        queues: str,
        pool: str,
        loglevel: str,
        hostname: str | None,
        **options: Any,
    ) -> None:
        if not settings.REDIS_URL:
            raise CommandError(NO_BROKER)
        from rapport.config.celery import app

        concurrency = concurrency or os.cpu_count() or 1
        names = [name.strip() for name in queues.split(",") if name.strip()]
        if not names:
            raise CommandError("--queues needs at least one queue name.")
        argv = [
            "worker",
            f"--concurrency={concurrency}",
            f"--queues={','.join(names)}",
            f"--pool={pool}",
            f"--loglevel={loglevel}",
            "--without-gossip",
            "--without-mingle",
        ]
        if hostname:
            argv.append(f"--hostname={hostname}")
        # Celery would run Django's system checks again at start-up (URLs, templates, admin): see
        # `requires_system_checks` above.
        os.environ.setdefault("CELERY_SKIP_CHECKS", "1")
        app.worker_main(argv=argv)
