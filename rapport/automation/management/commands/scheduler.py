"""`rapport scheduler`: finds due work each tick and enqueues Celery tasks for it (needs REDIS_URL)."""

import logging
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections

from rapport.automation.management.commands.worker import NO_BROKER

logger = logging.getLogger(__name__)


def _seconds(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise CommandError(f"{value!r} is not a number of seconds.")
    if not 0.05 <= number <= 3600:
        raise CommandError(f"{value} must be from 0.05 to 3600 seconds.")
    return number


def _whole_seconds(value: str) -> float:
    seconds = _seconds(value)
    if seconds < 1 or seconds != int(seconds):
        raise CommandError(f"--stale-after must be a whole number of seconds from 1, not {value}.")
    return seconds


def _batches(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise CommandError(f"--batches must be a whole number, not {value!r}.")
    if not 1 <= number <= 1000:
        raise CommandError(f"--batches must be from 1 to 1000, not {number}.")
    return number


class Command(BaseCommand):
    # It serves no pages: the URL and template checks belong to the web server's start, not to every worker's.
    requires_system_checks: list[str] = []
    help = (
        "Each tick, ask the database whether any outbox messages, sequence steps, trigger runs, imports or timeline "
        "events are due, and enqueue Celery tasks for the kinds that are; also enqueue the periodic work (digests, "
        "reply mailbox, expired sign-ins, date rules). Needs REDIS_URL. Run one, beside any number of `rapport worker`."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--interval", type=_seconds, default=1.0, help="Seconds between ticks (default 1).")
        parser.add_argument(
            "--batches",
            type=_batches,
            default=4,
            help="At most this many tasks per kind of due work per tick (default 4).",
        )
        parser.add_argument(
            "--periodic-every", type=_seconds, default=10.0, help="Seconds between periodic runs (default 10)."
        )
        parser.add_argument(
            "--stale-after",
            type=_whole_seconds,
            default=30.0,
            help="Enqueue a kind again if its last tasks have not started within this many seconds (default 30).",
        )
        parser.add_argument("--once", action="store_true", help="Run a single tick and exit.")

    def handle(
        self,
        *args: Any,
        interval: float,
        batches: int,
        periodic_every: float,
        stale_after: float,
        once: bool,
        **options: Any,
    ) -> None:
        if not settings.REDIS_URL:
            raise CommandError(NO_BROKER)
        from rapport.automation.engine import Scheduler
        from rapport.automation.tasks import enqueue

        scheduler = Scheduler(enqueue=enqueue, batches=batches, stale_after=stale_after, periodic_every=periodic_every)
        if once:
            enqueued = scheduler.tick()
            self.stdout.write(", ".join(f"{kind}: {count}" for kind, count in enqueued.items()) or "nothing due")
            return
        self.stdout.write(f"Rapport scheduler: a tick every {interval:g} s, up to {batches} tasks per kind.")
        try:
            while True:
                started = time.monotonic()
                try:
                    enqueued = scheduler.tick()
                    if enqueued:
                        logger.debug("scheduler enqueued %s", enqueued)
                except Exception:  # noqa: BLE001 - a database or broker outage must not end the loop; retry next tick
                    logger.exception("scheduler tick failed")
                finally:
                    close_old_connections()
                time.sleep(max(interval - (time.monotonic() - started), 0.0))
        except KeyboardInterrupt:
            self.stdout.write("Rapport scheduler stopped.")
