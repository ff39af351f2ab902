"""The job engine: the Celery app, the scheduler's tick, the tasks, the kick on commit, the commands and /healthz."""

import json
import os
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from rapport.automation import engine
from rapport.automation.models import (
    Enrolment,
    EnrolmentStatus,
    Sequence,
    SequenceStatus,
    Trigger,
    TriggerRun,
    TriggerRunStatus,
)
from rapport.candidates.models import Candidate, CandidateTag
from rapport.common import embedded_worker
from rapport.messaging.models import Message, MessageStatus
from rapport.messaging.services import message_send
from rapport.notifications.models import TimelineCursor
from rapport.portal.models import PortalToken
from rapport.timeline.models import Activity
from tests.factories import make_candidate
from tests.messaging.conftest import SmtpServer, free_port

needs_redis = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"), reason="needs Redis: set REDIS_URL (CI's PostgreSQL run does)"
)
ENGINE_KEYS = [
    *(
        engine.queued_key(kind)
        for kind in ("outbox", "enrolments", "trigger_runs", "twilio_media", "imports", "periodic")
    ),
    *(engine.queued_key(f"timeline:{name}") for name in engine.TIMELINE_CONSUMERS),
    engine.KICK_CACHE_KEY,
    engine.DATE_RULES_CACHE_KEY,
]


@pytest.fixture(autouse=True)
def _fresh_engine_marks():
    """The scheduler's marks live in the shared cache; each test starts with none."""
    cache.delete_many(ENGINE_KEYS)
    yield
    cache.delete_many(ENGINE_KEYS)


@pytest.fixture
def broker():
    """The real Redis broker, with Rapport's queue emptied before and after the test."""
    import redis

    from rapport.config.celery import DEFAULT_QUEUE

    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete(DEFAULT_QUEUE)
    yield client
    client.delete(DEFAULT_QUEUE)


def queued_task_names(client) -> list[str]:
    from rapport.config.celery import DEFAULT_QUEUE

    # Redis pushes on the left and workers pop from the right, so the oldest message is last.
    return [json.loads(raw)["headers"]["task"] for raw in reversed(client.lrange(DEFAULT_QUEUE, 0, -1))]


@pytest.fixture
def smtp(settings):
    server = SmtpServer(free_port())
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    yield server
    server.stop()


class Recorder:
    """The scheduler's `enqueue` for tests that look only at its decisions (the real one is tested on Redis)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []

    def __call__(self, kind: str, count: int) -> None:
        self.calls.append((kind, count))


def make_sequence(actor) -> Sequence:
    return Sequence.objects.create(name="Silver medalists", status=SequenceStatus.ACTIVE, created_by=actor)


def waiting_enrolments(sequence: Sequence, count: int, *, due_in: timedelta) -> None:
    """`count` people, each enrolled with a next step `due_in` from now (bare rows: the scheduler only reads them)."""
    people = Candidate.objects.bulk_create(Candidate(first_name=f"P{n}", last_name="Waiting") for n in range(count))
    due = timezone.now() + due_in
    Enrolment.objects.bulk_create(Enrolment(sequence=sequence, candidate=person, due_at=due) for person in people)


def caught_up_consumers() -> None:
    newest = Activity.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    for name in engine.TIMELINE_CONSUMERS:
        TimelineCursor.objects.update_or_create(name=name, defaults={"last_id": newest})


# --- the Celery app -------------------------------------------------------------------------------------------------


def test_the_celery_app_acknowledges_late_reserves_one_task_and_speaks_only_json():
    from rapport.config.celery import app

    assert app.conf.task_acks_late is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.task_serializer == "json" and app.conf.accept_content == ["json"]
    assert app.conf.broker_url == (settings.REDIS_URL or None)
    app.loader.import_default_modules()
    assert {
        "rapport.dispatch",
        "rapport.outbox.deliver",
        "rapport.enrolments.run_due",
        "rapport.trigger_runs.run_due",
        "rapport.timeline.consume",
        "rapport.imports.run",
        "rapport.periodic",
    } <= set(app.tasks)


def test_the_embedded_worker_runs_the_automation_pass_too():
    from rapport.automation.tasks import run_automation

    embedded_worker._load_handlers()

    assert run_automation in embedded_worker._HANDLERS


# --- the dispatcher pass --------------------------------------------------------------------------------------------


def test_one_dispatcher_pass_reads_the_timeline_and_runs_due_triggers_and_sequence_steps(recruiter):
    from rapport.automation.services_sequences import sequence_create, sequence_enrol
    from rapport.automation.services_triggers import trigger_create
    from rapport.messaging.services import message_template_create

    Trigger.objects.filter(key__isnull=False).update(enabled=False)  # only this test's trigger
    template = message_template_create(
        actor=recruiter,
        data={"name": "Nurture", "channel": "email", "category": "nurture", "subject": "Hi", "body": "Hello"},
    )
    sequence = sequence_create(
        actor=recruiter,
        data={
            "name": "Nurture",
            "status": "active",
            "steps": [{"type": "message", "channel": "email", "template_id": template.pk}],
        },
    )
    trigger_create(
        actor=recruiter,
        data={
            "name": "Tag newcomers",
            "event": "candidate.created",
            "action": "add_tag",
            "config": {"tag": "newcomer"},
            "enabled": True,
        },
    )
    person = make_candidate(actor=recruiter, emails=["ada@example.org"])
    sequence_enrol(actor=recruiter, sequence=sequence, candidate_ids=[person.pk])

    assert engine.run_due_work() >= 2
    assert engine.run_due_work() == 0  # caught up: the embedded worker goes back to waiting

    assert Message.objects.filter(candidate=person, idempotency_key__startswith="seq:").count() == 1
    assert TriggerRun.objects.get(candidate=person).status == TriggerRunStatus.DONE
    assert CandidateTag.objects.filter(candidate=person, tag__name="newcomer").count() == 1
    assert TimelineCursor.objects.filter(name__in=["triggers", "sequences"]).count() == 2


def test_a_missing_automation_service_stops_the_pass_naming_it():
    with pytest.raises(engine.EngineNotReady, match="rapport.automation.nowhere.run_it"):
        engine._service("rapport.automation.nowhere", "run_it")
    with pytest.raises(engine.EngineNotReady, match="services_sequences.no_such_function"):
        engine._service("rapport.automation.services_sequences", "no_such_function")


def test_date_rules_run_at_most_once_a_minute_across_processes(db):
    assert engine.date_rules_due() is True
    assert engine.date_rules_due() is False
    cache.delete(engine.DATE_RULES_CACHE_KEY)
    assert engine.date_rules_due() is True


# --- the scheduler's tick -------------------------------------------------------------------------------------------


def test_an_idle_tick_costs_the_same_few_queries_with_10_or_1000_waiting_enrolments(recruiter):
    sequence = make_sequence(recruiter)
    waiting_enrolments(sequence, 10, due_in=timedelta(days=2))
    caught_up_consumers()
    recorder = Recorder()
    scheduler = engine.Scheduler(enqueue=recorder, periodic_every=3600)
    scheduler.tick()  # the first tick enqueues the periodic work; the ones after it are idle
    recorder.calls.clear()

    with CaptureQueriesContext(connection) as with_ten:
        assert scheduler.tick() == {}
    waiting_enrolments(sequence, 990, due_in=timedelta(days=2))
    with CaptureQueriesContext(connection) as with_a_thousand:
        assert scheduler.tick() == {}

    assert Enrolment.objects.count() == 1000
    assert len(with_ten.captured_queries) == len(with_a_thousand.captured_queries) <= 7
    enrolment_reads = [q["sql"] for q in with_a_thousand.captured_queries if "automation_enrolment" in q["sql"]]
    assert len(enrolment_reads) == 1 and "LIMIT 1" in enrolment_reads[0]
    assert recorder.calls == []


def test_a_tick_enqueues_only_the_kinds_with_due_work_and_not_again_until_a_task_starts(recruiter):
    sequence = make_sequence(recruiter)
    waiting_enrolments(sequence, 3, due_in=timedelta(hours=1))
    waiting_enrolments(sequence, 2, due_in=-timedelta(minutes=1))
    person = make_candidate(actor=recruiter, emails=["ada@example.org"])
    message_send(actor=recruiter, candidate=person, subject="Hello", body="Hi")
    caught_up_consumers()
    scheduler = engine.Scheduler(enqueue=Recorder(), periodic_every=3600)

    first = scheduler.tick()
    again = scheduler.tick()
    engine.task_started("outbox")
    after_the_task_started = scheduler.tick()

    assert first == {"outbox": 1, "enrolments": 1, "periodic": 1}
    assert again == {}
    assert after_the_task_started == {"outbox": 1}


def test_a_backlog_is_spread_over_several_tasks_up_to_the_batch_limit(recruiter):
    sequence = make_sequence(recruiter)
    waiting_enrolments(sequence, 3 * engine.DEFAULT_LIMIT - 10, due_in=-timedelta(minutes=5))
    caught_up_consumers()

    assert engine.Scheduler(enqueue=Recorder(), batches=4).tick()["enrolments"] == 3
    cache.delete_many(ENGINE_KEYS)
    assert engine.Scheduler(enqueue=Recorder(), batches=2).tick()["enrolments"] == 2


def test_a_lagging_timeline_consumer_gets_a_task(recruiter):
    caught_up_consumers()
    make_candidate(actor=recruiter)  # records candidate.created
    TimelineCursor.objects.filter(name="notifications").update(last_id=0)
    TimelineCursor.objects.filter(name="sequences").delete()  # never ran

    enqueued = engine.Scheduler(enqueue=Recorder()).tick()

    assert enqueued.get("timeline:notifications") == 1
    assert enqueued.get("timeline:sequences") == 1
    assert enqueued.get("timeline:triggers") == 1


def test_a_lost_task_is_enqueued_again_once_its_mark_is_stale(recruiter):
    person = make_candidate(actor=recruiter, emails=["ada@example.org"])
    message_send(actor=recruiter, candidate=person, subject="Hello", body="Hi")
    recorder = Recorder()
    scheduler = engine.Scheduler(enqueue=recorder, stale_after=1)

    scheduler.tick()
    time.sleep(1.2)  # the task never started: the broker lost it
    scheduler.tick()

    assert [call for call in recorder.calls if call[0] == "outbox"] == [("outbox", 1), ("outbox", 1)]


@needs_redis
def test_the_scheduler_command_puts_named_tasks_on_the_broker(recruiter, broker):
    person = make_candidate(actor=recruiter, emails=["ada@example.org"])
    message_send(actor=recruiter, candidate=person, subject="Hello", body="Hi")
    caught_up_consumers()

    call_command("scheduler", "--once")

    assert sorted(queued_task_names(broker)) == ["rapport.outbox.deliver", "rapport.periodic"]


# --- the tasks, run for real in this process ------------------------------------------------------------------------


def test_the_outbox_task_delivers_due_messages_and_counts_down_its_mark(recruiter, smtp):
    person = make_candidate(actor=recruiter, emails=["ada@example.org"])
    message = message_send(actor=recruiter, candidate=person, subject="Hello", body="Hi")
    engine.Scheduler(enqueue=Recorder()).tick()
    from rapport.automation.tasks import deliver_outbox

    assert deliver_outbox.apply().get() == 1

    message.refresh_from_db()
    assert message.status == MessageStatus.SENT and len(smtp.received) == 1
    assert cache.get(engine.queued_key("outbox")) is None


def test_the_timeline_task_moves_the_notifications_cursor_to_the_newest_event(recruiter):
    from rapport.automation.tasks import consume_timeline

    make_candidate(actor=recruiter)
    newest = Activity.objects.order_by("-pk").values_list("pk", flat=True).first()

    consume_timeline.apply(args=["notifications"]).get()

    assert TimelineCursor.objects.get(name="notifications").last_id == newest
    with pytest.raises(ValueError, match="unknown timeline consumer"):
        consume_timeline.apply(args=["nobody"]).get()


def test_the_periodic_task_runs_the_clock_driven_jobs(recruiter):
    from rapport.automation.tasks import periodic
    from rapport.portal.tasks import PURGE_CACHE_KEY

    person = make_candidate(actor=recruiter)
    long_ago = timezone.now() - timedelta(days=400)
    PortalToken.objects.create(candidate=person, token_hash="a" * 64, created_at=long_ago, expires_at=long_ago)
    cache.delete(PURGE_CACHE_KEY)

    periodic.apply().get()

    assert not PortalToken.objects.exists()
    cache.delete(PURGE_CACHE_KEY)


# --- kick -----------------------------------------------------------------------------------------------------------


def test_kick_without_a_broker_wakes_the_embedded_worker_once_the_transaction_commits(
    db, settings, django_capture_on_commit_callbacks
):
    settings.REDIS_URL = ""
    embedded_worker._wake.clear()

    with django_capture_on_commit_callbacks(execute=True):
        engine.kick()
        assert not embedded_worker._wake.is_set()

    assert embedded_worker._wake.is_set()
    embedded_worker._wake.clear()


@needs_redis
def test_kick_with_redis_enqueues_one_dispatch_task_after_the_commit(db, broker, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        engine.kick()
        engine.kick()  # a second commit in the same second finds the first dispatch
        assert queued_task_names(broker) == []

    assert queued_task_names(broker) == ["rapport.dispatch"]


# --- the commands ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["worker", "scheduler"])
def test_without_redis_the_commands_say_the_embedded_worker_is_in_use(settings, command):
    settings.REDIS_URL = ""

    with pytest.raises(CommandError, match="embedded worker"):
        call_command(command)


def test_without_redis_rapport_worker_exits_non_zero():
    env = {key: value for key, value in os.environ.items() if key != "REDIS_URL"}
    finished = subprocess.run(
        [sys.executable, "-m", "rapport", "worker"], env=env, capture_output=True, text=True, timeout=60
    )

    assert finished.returncode != 0
    assert "REDIS_URL is not set" in finished.stderr and "embedded worker" in finished.stderr


def test_with_redis_serve_leaves_background_work_to_celery(tmp_path):
    port = free_port()
    env = {**os.environ, "REDIS_URL": os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/9"}
    env["RAPPORT_LOG_LEVEL"] = "INFO"
    env["RAPPORT_VAR_DIR"] = str(tmp_path)  # its own static files and secret key
    server = subprocess.Popen(
        [sys.executable, "-m", "rapport", "serve", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = server.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "Booting worker" in line:
                break
        time.sleep(1.5)  # post_worker_init runs right after the boot line
    finally:
        server.terminate()
        rest, _ = server.communicate(timeout=30)
    output = "".join(lines) + rest

    assert "Booting worker" in output
    assert "run `rapport worker` and `rapport scheduler`" in output
    assert "embedded worker started" not in output


# --- /healthz -------------------------------------------------------------------------------------------------------


def test_healthz_reports_queue_depth_the_oldest_due_item_and_each_consumers_lag(client, recruiter):
    now = timezone.now()
    person = make_candidate(actor=recruiter, emails=["ada@example.org"])
    for _ in range(2):
        message_send(actor=recruiter, candidate=person, subject="Hello", body="Hi")
    Message.objects.update(next_attempt_at=now - timedelta(seconds=120))
    sequence = make_sequence(recruiter)
    waiting_enrolments(sequence, 3, due_in=-timedelta(seconds=90))
    waiting_enrolments(sequence, 4, due_in=timedelta(hours=1))
    trigger = Trigger.objects.create(name="Welcome", event="application.created", action="send_message", enabled=True)
    for n, due_in in enumerate([-timedelta(seconds=30), timedelta(days=1)]):
        TriggerRun.objects.create(trigger=trigger, fired_for=f"a{n}", candidate=person, due_at=now + due_in)
    TriggerRun.objects.create(
        trigger=trigger,
        fired_for="done",
        candidate=person,
        due_at=now - timedelta(days=3),
        status=TriggerRunStatus.DONE,
    )
    newest = Activity.objects.order_by("-pk").values_list("pk", flat=True).first()
    TimelineCursor.objects.update_or_create(name="notifications", defaults={"last_id": newest})
    TimelineCursor.objects.update_or_create(name="triggers", defaults={"last_id": newest - 2})
    TimelineCursor.objects.filter(name="sequences").delete()

    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["database"] == connection.vendor
    queue = body["queue"]
    assert queue["outbox"]["due"] == 2 and 120 <= queue["outbox"]["oldest_due_seconds"] < 180
    assert queue["enrolments"]["due"] == 3 and 90 <= queue["enrolments"]["oldest_due_seconds"] < 150
    assert queue["trigger_runs"]["due"] == 1 and 30 <= queue["trigger_runs"]["oldest_due_seconds"] < 90
    assert queue["timeline"]["newest_activity_id"] == newest
    assert queue["timeline"]["lag"] == {"notifications": 0, "triggers": 2, "sequences": newest}


def test_healthz_with_nothing_due_reports_empty_queues(client, db):
    queue = client.get("/healthz").json()["queue"]

    for kind in ("outbox", "enrolments", "trigger_runs"):
        assert queue[kind] == {"due": 0, "capped": False, "oldest_due_seconds": 0}


def test_a_claimed_enrolment_is_not_waiting_until_its_lease_runs_out(client, recruiter):
    sequence = make_sequence(recruiter)
    waiting_enrolments(sequence, 2, due_in=-timedelta(minutes=1))
    Enrolment.objects.filter(pk=Enrolment.objects.order_by("pk").first().pk).update(
        claimed_until=timezone.now() + timedelta(minutes=5), claim_token="x" * 32
    )

    assert client.get("/healthz").json()["queue"]["enrolments"]["due"] == 1
    assert Enrolment.objects.filter(status=EnrolmentStatus.ACTIVE).count() == 2
