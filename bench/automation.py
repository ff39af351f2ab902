"""The automation cases, at 1,000,000 enrolments: the scheduler's idle tick, dispatching 100,000 due steps up to the
outbox, and the trigger consumer's rate, each beside the naive way a timer-driven tool does it.

The data is added for the run and taken out again afterwards, so the other cases always see the same database:
enough nurture sequences to hold 1M enrolments of the benchmark's people (50 sequences of 20,000 people on the
`small` database, one sequence on `full`), every enrolment waiting on a step weeks away.
"""

import math
import time
from datetime import timedelta
from typing import Any

from bench.timing import Measurement, load_average, measure

ENROLMENTS = 1_000_000
TICK_SIZES = (10_000, 100_000, 1_000_000)
DUE_STEPS = 100_000
SINGLE_PROCESS_STEPS = 20_000
DISPATCH_PROCESSES = 2  # the machine's cores, as `rapport worker --concurrency 2` would use them
DISPATCH_BATCH = 500  # the engine's batch (automation.engine.DEFAULT_LIMIT)
DISPATCH_TARGET_S = 120.0
CONSUMER_EVENTS = 50_000
CONSUMER_TARGET_PER_S = 2_000.0
NAIVE_CONSUMER_EVENTS = 2_000
NAME_PREFIX = "bench-automation"
TEMPLATE = {
    "name": f"{NAME_PREFIX} nurture",
    "channel": "email",
    "category": "nurture",
    "subject": "Still thinking of you, {{ candidate.first_name }}",
    "body": "Hi {{ candidate.first_name }},\n\nA few roles opened that fit what you told us. Shall we talk?",
}


def _recruiter() -> Any:
    from rapport.accounts.models import User

    return User.objects.get(email="recruiter@rapport.demo")


def remove() -> None:
    """Take out everything this module adds: its sequences (with their enrolments and runs), messages, events."""
    from django.db import connection

    from rapport.automation.models import Sequence, StepRun, Trigger
    from rapport.messaging.models import Message, MessageTemplate
    from rapport.timeline.models import Activity

    sequence_ids = list(Sequence.objects.filter(name__startswith=NAME_PREFIX).values_list("pk", flat=True))
    Message.objects.filter(idempotency_key__startswith="seq:", template__name=TEMPLATE["name"]).delete()
    Activity.objects.filter(payload__bench=NAME_PREFIX).delete()
    if sequence_ids:
        StepRun.objects.filter(enrolment__sequence_id__in=sequence_ids).delete()
        with connection.cursor() as cursor:
            # A million rows: one statement, not the ORM's collector.
            placeholders = ",".join(["%s"] * len(sequence_ids))
            cursor.execute(
                f"DELETE FROM automation_enrolment WHERE sequence_id IN ({placeholders})",  # noqa: S608
                sequence_ids,
            )
        Sequence.objects.filter(pk__in=sequence_ids).delete()
    Trigger.objects.filter(name__startswith=NAME_PREFIX).delete()
    MessageTemplate.objects.filter(name=TEMPLATE["name"]).delete()


def _setup(people: list[int]) -> tuple[list[int], Any]:
    """Sequences (one email step, then a long wait) and the template they send; returns the sequence ids."""
    from rapport.automation.services_sequences import sequence_create
    from rapport.messaging.services import message_template_create

    user = _recruiter()
    template = message_template_create(actor=user, data=dict(TEMPLATE))
    count = math.ceil(ENROLMENTS / len(people))
    ids = []
    for i in range(count):
        sequence = sequence_create(
            actor=user,
            data={
                "name": f"{NAME_PREFIX} {i + 1}",
                "status": "active",
                "sender": "owner",
                "steps": [
                    {"type": "message", "channel": "email", "template_id": template.pk},
                    {"type": "wait", "days": 30},
                    {"type": "message", "channel": "email", "template_id": template.pk},
                ],
            },
        )
        ids.append(sequence.pk)
    return ids, template


def _enrol(sequence_ids: list[int], people: list[int], *, upto: int, done: int, due_at: Any) -> int:
    """Insert enrolments waiting on the last step, an email, until `upto` exist (the enrolment rules are not the
    subject here, so the rows go in directly)."""
    from django.db import connection, transaction

    from rapport.automation.models import Enrolment
    from rapport.common.fast_insert import insert_rows

    columns = (
        "sequence_id",
        "candidate_id",
        "status",
        "step_position",
        "due_at",
        "attempts",
        "source",
        "source_id",
        "enrolled_at",
        "status_reason",
        "paused_with_sequence",
        "claim_token",
    )
    now = due_at - timedelta(days=30)
    while done < upto:
        sequence_id = sequence_ids[done // len(people)]
        start = done % len(people)
        take = min(len(people) - start, upto - done, 50_000)
        rows = [
            (sequence_id, person, "active", 2, due_at, 0, "manual", "", now, "", False, "")
            for person in people[start : start + take]
        ]
        with transaction.atomic():
            insert_rows(Enrolment, columns, rows)
        done += take
    if connection.vendor == "postgresql":
        # As autovacuum would after a load this size; without it the planner still thinks the table is empty.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE automation_enrolment")
    return done


def _people() -> list[int]:
    from rapport.candidates.models import Candidate

    return list(
        Candidate.objects.exclude(relationship_status="do_not_contact")
        .filter(erased_at__isnull=True)
        .filter(emails__isnull=False)
        .order_by("pk")
        .values_list("pk", flat=True)
        .distinct()[:ENROLMENTS]
    )


def _idle_tick(settings: Any, size: int) -> tuple[Measurement, Measurement | None]:
    from django.utils import timezone

    from rapport.automation.engine import Scheduler
    from rapport.automation.models import Enrolment, EnrolmentStatus

    scheduler = Scheduler(enqueue=lambda kind, count: None, periodic_every=1e9)
    scheduler.tick()  # the first tick also schedules the periodic work; measure the steady state
    ours = measure(
        Measurement("automation", f"scheduler idle tick, {size:,} enrolments", "nothing due"),
        scheduler.tick,
        runs=settings.runs,
        warmups=settings.warmups,
    )

    def naive() -> int:
        # A timer that looks at every enrolment to see whether it is due (Mautic-style campaign triggering).
        now = timezone.now()
        return sum(
            1
            for due_at in Enrolment.objects.filter(status=EnrolmentStatus.ACTIVE)
            .values_list("due_at", flat=True)
            .iterator(chunk_size=10_000)
            if due_at is not None and due_at <= now
        )

    naive_m = measure(
        Measurement("automation", f"naive: scan every enrolment, {size:,}", "nothing due"),
        naive,
        runs=max(1, min(5, settings.runs)),
        warmups=0,
        budget_seconds=settings.naive_budget,
    )
    return ours, naive_m


def _drain(_: int) -> int:
    """One worker process: run the dispatcher until nothing is due (as a Celery worker's tasks would)."""
    from django.db import connections

    from rapport.automation.services_sequences import enrolments_run_due

    connections.close_all()  # a forked child must not share the parent's connection
    steps = 0
    while done := enrolments_run_due(limit=DISPATCH_BATCH):
        steps += done
    connections.close_all()
    return steps


def _dispatch(sequence_ids: list[int], *, due: int, processes: int, skip: int = 0) -> Measurement:
    """Make `due` enrolments due now and let `processes` worker processes run the dispatcher until none is left;
    every one ends in the outbox. Several processes share the work through the claims (SKIP LOCKED on PostgreSQL),
    as `rapport worker --concurrency N` does."""
    import multiprocessing

    from django.db import connections
    from django.utils import timezone

    from rapport.automation.models import Enrolment
    from rapport.messaging.models import Message

    now = timezone.now()
    ids = list(
        Enrolment.objects.filter(sequence_id__in=sequence_ids)
        .order_by("pk")
        .values_list("pk", flat=True)[skip : skip + due]
    )
    for start in range(0, len(ids), 50_000):
        Enrolment.objects.filter(pk__in=ids[start : start + 50_000]).update(due_at=now - timedelta(minutes=1))
    before = Message.objects.filter(template__name=TEMPLATE["name"]).count()
    connections.close_all()
    load_before = load_average()
    started = time.perf_counter()
    if processes == 1:
        steps = _drain(0)
    else:
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            steps = sum(pool.map(_drain, range(processes)))
    elapsed = time.perf_counter() - started
    queued = Message.objects.filter(template__name=TEMPLATE["name"]).count() - before
    name = f"dispatch {len(ids) // 1000}k due steps, {processes} worker process{'es' if processes > 1 else ''}"
    m = Measurement("automation", name, f"{len(ids):,} due of {ENROLMENTS:,}", [elapsed * 1000])
    m.info = {"steps": steps, "queued": queued, "seconds": round(elapsed, 1), "per_s": round(steps / elapsed)}
    m.load_before, m.load_after = load_before, load_average()
    return m


def _consumer(people: list[int]) -> list[Measurement]:
    """CONSUMER_EVENTS stage changes on the timeline, read by the trigger consumer against enabled triggers."""
    from django.db import transaction
    from django.utils import timezone

    from rapport.automation.models import Trigger, TriggerRun
    from rapport.automation.services_triggers import triggers_consume
    from rapport.common.fast_insert import insert_rows
    from rapport.notifications.models import TimelineCursor
    from rapport.timeline.models import Activity

    user = _recruiter()
    # One matching rule whose condition holds for a fifth of the events, and one that never matches.
    Trigger.objects.create(
        name=f"{NAME_PREFIX} offer stage",
        enabled=True,
        event="application.stage_changed",
        conditions=[{"field": "to_stage", "op": "eq", "value": "Offer"}],
        action="create_task",
        config={"title": "Prepare the offer"},
        created_by=user,
    )
    Trigger.objects.create(
        name=f"{NAME_PREFIX} never", enabled=True, event="candidate.birthday", action="create_task", config={}
    )
    newest = Activity.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    TimelineCursor.objects.update_or_create(name="triggers", defaults={"last_id": newest})
    now = timezone.now()
    stages = ["Screening", "Interview", "Offer", "Applied", "Hired"]
    rows = [
        (
            "application.stage_changed",
            people[i % len(people)],
            now,
            {"bench": NAME_PREFIX, "from_stage": "Applied", "to_stage": stages[i % len(stages)]},
        )
        for i in range(CONSUMER_EVENTS)
    ]
    with transaction.atomic():
        insert_rows(Activity, ("type", "candidate_id", "occurred_at", "payload"), rows)
    load_before = load_average()
    started = time.perf_counter()
    events = 0
    while True:
        read = triggers_consume(limit=5000)
        if not read:
            break
        events += read
    elapsed = time.perf_counter() - started
    runs = TriggerRun.objects.filter(trigger__name__startswith=NAME_PREFIX).count()
    ours = Measurement("automation", "trigger consumer", f"{CONSUMER_EVENTS:,} events, 2 rules", [elapsed * 1000])
    ours.info = {"events": events, "runs_created": runs, "per_s": round(CONSUMER_EVENTS / elapsed)}
    ours.load_before, ours.load_after = load_before, load_average()

    # Naive: per event, ask the database for the matching rules and create each run on its own.
    TriggerRun.objects.filter(trigger__name__startswith=NAME_PREFIX).delete()
    sample = list(Activity.objects.filter(payload__bench=NAME_PREFIX).order_by("pk")[:NAIVE_CONSUMER_EVENTS])
    started = time.perf_counter()
    for activity in sample:
        for trigger in Trigger.objects.filter(enabled=True, event=activity.type):
            wanted = {c["value"] for c in trigger.conditions if c.get("field") == "to_stage"}
            if wanted and activity.payload.get("to_stage") not in wanted:
                continue
            TriggerRun.objects.get_or_create(
                trigger=trigger,
                fired_for=f"a{activity.pk}",
                offset=0,
                defaults={"activity": activity, "candidate_id": activity.candidate_id, "due_at": now},
            )
    elapsed = time.perf_counter() - started
    naive = Measurement("automation", "naive: trigger consumer, per event", f"{len(sample):,} events", [elapsed * 1000])
    naive.info = {"per_s": round(len(sample) / elapsed)}
    TriggerRun.objects.filter(trigger__name__startswith=NAME_PREFIX).delete()
    return [ours, naive]


def run_automation(settings: Any) -> list[Measurement]:
    remove()
    people = _people()
    if not people:
        return [Measurement("automation", "automation", status="not measured", note="no people to enrol")]
    from django.utils import timezone

    measurements: list[Measurement] = []
    sequence_ids, _ = _setup(people)
    try:
        waiting_until = timezone.now() + timedelta(days=30)
        done = 0
        for size in TICK_SIZES:
            started = time.perf_counter()
            done = _enrol(sequence_ids, people, upto=size, done=done, due_at=waiting_until)
            print(f"  automation: {done:,} enrolments waiting ({time.perf_counter() - started:.0f} s)", flush=True)
            ours, naive = _idle_tick(settings, size)
            measurements.append(ours)
            if naive is not None:
                measurements.append(naive)
            print(f"  automation {ours.name}: p50 {ours.p50:.2f} ms, p95 {ours.p95:.2f} ms", flush=True)
        for m in (
            _dispatch(sequence_ids, due=SINGLE_PROCESS_STEPS, processes=1),
            _dispatch(sequence_ids, due=DUE_STEPS, processes=DISPATCH_PROCESSES, skip=SINGLE_PROCESS_STEPS),
        ):
            measurements.append(m)
            print(f"  automation {m.name}: {m.info}", flush=True)
        measurements.extend(_consumer(people))
        print(f"  automation trigger consumer: {measurements[-2].info}, naive {measurements[-1].info}", flush=True)
    finally:
        remove()
    return measurements
