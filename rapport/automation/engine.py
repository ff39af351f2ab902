"""The job engine: one dispatcher pass over every kind of due work, and the scheduler that spreads it over Celery.

Due work lives in the database (outbox messages, enrolment steps, trigger runs, import jobs, and the timeline that
the consumers read with durable cursors). Workers only ever call services that claim their own rows, so:

- without a broker, the embedded worker calls `run_due_work` (and the other registered handlers) in a loop;
- with `REDIS_URL`, `rapport scheduler` asks a few indexed "is anything due?" questions each tick and enqueues
  Celery tasks only for the kinds that have due work; `rapport worker` runs them. A lost or repeated task loses or
  repeats nothing, because the task carries no work of its own: it claims whatever is due when it runs.

The scheduler marks each kind it enqueued for in the cache (a counter that each task counts down when it starts),
so a backlog that outlasts a tick does not pile up tasks in the broker; the mark expires, so a task the broker lost
is enqueued again after `stale_after` seconds.
"""

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from rapport.automation.claims import unclaimed
from rapport.automation.models import Enrolment, EnrolmentStatus, TriggerRun, TriggerRunStatus
from rapport.candidates.importing import import_jobs_pending
from rapport.messaging.channels.sms.media import FETCH_BATCH as MEDIA_BATCH
from rapport.messaging.channels.sms.media import twilio_media_due
from rapport.messaging.models import DUE_STATUSES, Message, MessageDirection
from rapport.messaging.services import DELIVERY_BATCH
from rapport.notifications.models import TimelineCursor
from rapport.timeline.models import Activity

logger = logging.getLogger(__name__)

DEFAULT_LIMIT = 500
# Date rules (birthdays, inactivity) look at today's due people; once a minute is plenty and costs a few queries.
DATE_RULES_EVERY = timedelta(minutes=1)
DATE_RULES_CACHE_KEY = "automation:date-rules:last-run"
# The timeline consumers, by the name of their cursor (`notifications.TimelineCursor.name`).
TIMELINE_CONSUMERS = ("notifications", "triggers", "sequences")
# Timeline events one consumer pass reads at most.
TRIGGERS_CONSUME_BATCH = 5000
SEQUENCES_CONSUME_BATCH = 2000
# Queue depths are counted up to this many rows, so /healthz stays cheap however large a backlog grows.
DEPTH_CAP = 100_000
# A kick with Redis enqueues one dispatcher task per this many seconds at most, however many commits ask for one.
KICK_CACHE_KEY = "automation:engine:kick"
KICK_EVERY_SECONDS = 1


class EngineNotReady(RuntimeError):
    """A piece of the automation the dispatcher calls is missing from this installation."""


# --- the dispatcher pass --------------------------------------------------------------------------------------------


def _service(module: str, name: str) -> Callable[..., int]:
    """Import one of the automation services the dispatcher calls, failing with a message that names it."""
    from importlib import import_module

    try:
        return getattr(import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise EngineNotReady(f"the job engine needs {module}.{name}, which cannot be imported: {exc}") from exc


def timeline_consumer(name: str) -> Callable[..., int]:
    """The function that advances the timeline consumer with this cursor name."""
    if name == "notifications":
        return _service("rapport.notifications.services", "notifications_from_timeline")
    if name == "triggers":
        return _service("rapport.automation.services_triggers", "triggers_consume")
    if name == "sequences":
        return _service("rapport.automation.services_sequences", "sequences_from_timeline")
    raise ValueError(f"unknown timeline consumer {name!r}")


def enrolments_run_due(*, limit: int = DEFAULT_LIMIT) -> int:
    return _service("rapport.automation.services_sequences", "enrolments_run_due")(limit=limit)


def trigger_runs_run_due(*, limit: int = DEFAULT_LIMIT) -> int:
    return _service("rapport.automation.services_triggers", "trigger_runs_run_due")(limit=limit)


def date_rules_due() -> bool:
    """True at most once per DATE_RULES_EVERY across every process (an atomic cache `add` that expires)."""
    return cache.add(DATE_RULES_CACHE_KEY, timezone.now().isoformat(), DATE_RULES_EVERY.total_seconds())


def triggers_fire_date_rules_throttled() -> int:
    if not date_rules_due():
        return 0
    try:
        return _service("rapport.automation.services_triggers", "triggers_fire_date_rules")()
    except Exception:
        # Try again on the next pass rather than a minute later.
        cache.delete(DATE_RULES_CACHE_KEY)
        raise


def run_due_work(*, limit: int = DEFAULT_LIMIT) -> int:
    """One dispatcher pass over the automation's due work; returns how many units of work it did.

    The order follows the flow of work: read new timeline events into trigger runs and sequence exits, then run
    what is due. Units are executed trigger runs and sequence steps, plus a consumer's batch when it was full (more
    events are waiting); events read by a consumer that caught up, and the runs the date rules schedule, are not
    counted, since the same pass already ran whatever they made due. So the embedded worker polls again at once
    only while work is left. One failing kind is logged and does not stop the others; a missing service stops the
    pass with `EngineNotReady`, since that is an installation fault rather than a bad row.
    """

    def backlog(consumer: str, batch: int) -> Callable[[], int]:
        def consume() -> int:
            read = timeline_consumer(consumer)(limit=batch)
            return read if read >= batch else 0

        return consume

    def uncounted(step: Callable[[], int]) -> Callable[[], int]:
        return lambda: step() and 0

    steps: list[tuple[str, Callable[[], int]]] = [
        ("triggers_consume", backlog("triggers", TRIGGERS_CONSUME_BATCH)),
        ("sequences_from_timeline", backlog("sequences", SEQUENCES_CONSUME_BATCH)),
        ("triggers_fire_date_rules", uncounted(triggers_fire_date_rules_throttled)),
        ("trigger_runs_run_due", lambda: trigger_runs_run_due(limit=limit)),
        ("enrolments_run_due", lambda: enrolments_run_due(limit=limit)),
    ]
    done = 0
    for name, step in steps:
        try:
            done += step() or 0
        except EngineNotReady:
            raise
        except Exception:  # noqa: BLE001 - one failing kind of work must not hold up the others
            logger.exception("automation: %s failed", name)
    return done


def kick() -> None:
    """Ask for a dispatcher pass as soon as the current transaction commits (at once outside one).

    Without a broker it wakes the embedded worker of this process; with `REDIS_URL` it enqueues the dispatch task.
    Services call it after writing due work, so the work starts at once instead of at the next poll or tick.
    """
    transaction.on_commit(_kick_now)


def _kick_now() -> None:
    if not settings.REDIS_URL:
        from rapport.common import embedded_worker

        embedded_worker.nudge()
        return
    if not cache.add(KICK_CACHE_KEY, 1, KICK_EVERY_SECONDS):
        return  # a dispatch enqueued this second will find this work too
    try:
        from rapport.automation.tasks import dispatch

        dispatch.apply_async()
    except Exception:  # noqa: BLE001 - the write is committed; the scheduler finds the work on its next tick
        logger.exception("automation: could not enqueue the dispatch task; the scheduler will pick the work up")


# --- what is due ----------------------------------------------------------------------------------------------------


def outbox_due(now: datetime) -> QuerySet[Message]:
    """Outbox rows waiting to be sent (a row being sent has its lease end in `next_attempt_at`, so it is not due)."""
    return Message.objects.filter(
        status__in=DUE_STATUSES, next_attempt_at__lte=now, direction=MessageDirection.OUTBOUND
    )


def enrolments_due(now: datetime) -> QuerySet[Enrolment]:
    return Enrolment.objects.filter(status=EnrolmentStatus.ACTIVE, due_at__lte=now).filter(unclaimed(now))


def trigger_runs_due(now: datetime) -> QuerySet[TriggerRun]:
    return TriggerRun.objects.filter(status=TriggerRunStatus.SCHEDULED, due_at__lte=now).filter(unclaimed(now))


@dataclass(frozen=True)
class RowKind:
    """A kind of due work kept as rows: how to find the due ones, by which time column, and the batch a task takes."""

    name: str
    due: Callable[[datetime], QuerySet[Any]]
    due_field: str
    batch: int


ROW_KINDS: tuple[RowKind, ...] = (
    RowKind("outbox", outbox_due, "next_attempt_at", DELIVERY_BATCH),
    RowKind("enrolments", enrolments_due, "due_at", DEFAULT_LIMIT),
    RowKind("trigger_runs", trigger_runs_due, "due_at", DEFAULT_LIMIT),
    RowKind("twilio_media", twilio_media_due, "due_at", MEDIA_BATCH),
)


def timeline_positions() -> tuple[int, dict[str, int]]:
    """The newest activity id and each consumer's cursor (0 for a consumer that has never run): two indexed reads."""
    newest = Activity.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    cursors = dict(TimelineCursor.objects.filter(name__in=TIMELINE_CONSUMERS).values_list("name", "last_id"))
    return newest, {name: cursors.get(name, 0) for name in TIMELINE_CONSUMERS}


def queue_status(*, now: datetime | None = None) -> dict[str, Any]:
    """Queue depth, the oldest due item's age and each timeline consumer's lag, for /healthz.

    Depths are counted through the partial "due" indexes and capped at DEPTH_CAP (`capped` says when the real depth
    is larger), so the cost follows the backlog, never the number of people or enrolments.
    """
    now = now or timezone.now()
    status: dict[str, Any] = {}
    for kind in ROW_KINDS:
        due = kind.due(now)
        depth = due.order_by()[:DEPTH_CAP].count()
        oldest = due.order_by(kind.due_field).values_list(kind.due_field, flat=True).first() if depth else None
        status[kind.name] = {
            "due": depth,
            "capped": depth >= DEPTH_CAP,
            "oldest_due_seconds": round(max((now - oldest).total_seconds(), 0.0), 3) if oldest else 0,
        }
    newest, cursors = timeline_positions()
    status["timeline"] = {
        "newest_activity_id": newest,
        "lag": {name: max(newest - position, 0) for name, position in cursors.items()},
    }
    return status


# --- the scheduler (with REDIS_URL) ---------------------------------------------------------------------------------


def queued_key(kind: str) -> str:
    return f"automation:engine:queued:{kind}"


def task_started(kind: str) -> None:
    """Count down the scheduler's mark for `kind` when one of its tasks starts, so the next tick may enqueue more."""
    key = queued_key(kind)
    try:
        left = cache.decr(key)
    except ValueError:
        return  # the mark expired already
    if left <= 0:
        cache.delete(key)


@dataclass
class Scheduler:
    """Decides each tick which tasks to enqueue; `enqueue(kind, count)` puts them on the broker.

    An idle tick costs a constant number of indexed `LIMIT 1` reads (one per kind of rows, two for the timeline),
    whatever the number of people, enrolments or waiting steps. Only a kind that has due work costs one more read (a
    count capped at `batches` batches) and touches the cache and the broker.
    """

    enqueue: Callable[[str, int], None]
    batches: int = 4
    stale_after: float = 30.0
    periodic_every: float = 10.0
    _last_periodic: float | None = field(default=None, init=False)

    def tick(self, *, now: datetime | None = None, monotonic: float | None = None) -> dict[str, int]:
        """One tick; returns how many tasks it enqueued per kind (empty when nothing was due)."""
        now = now or timezone.now()
        enqueued: dict[str, int] = {}
        for kind in ROW_KINDS:
            due = kind.due(now).order_by()
            if not due.exists():
                continue
            batch = kind.batch
            waiting = due.values_list("pk", flat=True)[: batch * self.batches].count()
            self._enqueue(kind.name, min(self.batches, math.ceil(waiting / batch)), enqueued)
        if import_jobs_pending(limit=1):
            # An import is long and claimed whole; one task at a time takes the oldest.
            self._enqueue("imports", 1, enqueued)
        newest, cursors = timeline_positions()
        for name, position in cursors.items():
            if newest > position:
                # One task per consumer: a consumer holds its cursor while it reads, so a second would only wait.
                self._enqueue(f"timeline:{name}", 1, enqueued)
        clock = time.monotonic() if monotonic is None else monotonic
        if self._last_periodic is None or clock - self._last_periodic >= self.periodic_every:
            self._last_periodic = clock
            self._enqueue("periodic", 1, enqueued)
        return enqueued

    def _enqueue(self, kind: str, count: int, enqueued: dict[str, int]) -> None:
        if count < 1:
            return
        # Only when no task of this kind is still waiting in the broker; the mark expires in case one was lost.
        # Whole seconds: the Redis cache rounds a timeout down, and 0 would keep no mark at all.
        if not cache.add(queued_key(kind), count, max(1, math.ceil(self.stale_after))):
            return
        try:
            self.enqueue(kind, count)
        except Exception:
            cache.delete(queued_key(kind))
            raise
        enqueued[kind] = count
