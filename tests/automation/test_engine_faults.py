"""A real Celery worker SIGKILLed mid-batch on the real Redis: nothing is lost and nothing is sent twice.

The worker and the scheduler run as `rapport worker` and `rapport scheduler` processes against this test's
database, so it needs PostgreSQL (the subprocesses cannot reach SQLite's in-memory test database) and REDIS_URL;
CI's PostgreSQL run has both.
"""

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from rapport.automation.models import Enrolment, EnrolmentStatus, StepRun
from rapport.candidates.models import Candidate, CandidateEmail
from rapport.messaging.models import Message, MessageStatus
from rapport.messaging.services import message_send
from rapport.timeline.models import Activity
from tests.automation.test_engine import ENGINE_KEYS
from tests.factories import make_candidate
from tests.messaging.conftest import SmtpServer, free_port

pytestmark = [
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis: set REDIS_URL (CI's PostgreSQL run does)"),
    pytest.mark.skipif(
        not (os.environ.get("DATABASE_URL") or "").startswith("postgres"),
        reason="needs PostgreSQL: the worker process must reach the test database",
    ),
    # The rows must be committed for the worker processes to see them. On PostgreSQL, emptying the tables after the
    # test must cascade to the search index table (made by raw SQL), which naming every app turns on.
    pytest.mark.django_db(transaction=True, available_apps=list(settings.INSTALLED_APPS)),
]

MESSAGES = 300
ACCEPTED_BEFORE_THE_KILL = 120
# Five batches of the dispatcher's 500: each batch's steps are written in one transaction, so the kill can land
# between batches while some have committed and others not.
PEOPLE = 2_500


class GatedSmtpServer(SmtpServer):
    """Accepts the first `accept` messages, then holds back its reply to every further one until `open()`.

    A client killed meanwhile never hears "250", so what it was sending was not delivered: aiosmtpd cancels the
    handler of a lost connection, and the held message is never recorded. This makes the kill land at a known point
    in the batch: some messages delivered and settled, others in flight, the rest claimed and not yet tried.
    """

    def __init__(self, port: int, *, accept: int):
        super().__init__(port)
        self.accept = accept
        self.held = 0
        self.dropped = 0
        self._gate: asyncio.Event | None = None

    def _event(self) -> asyncio.Event:
        if self._gate is None:
            self._gate = asyncio.Event()
        return self._gate

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        if len(self.received) >= self.accept and not self._event().is_set():
            self.held += 1
            try:
                await self._event().wait()
            except asyncio.CancelledError:
                self.dropped += 1
                raise
            finally:
                self.held -= 1
        return await super().handle_DATA(server, session, envelope)

    def open(self) -> None:
        async def _open() -> None:
            self._event().set()

        asyncio.run_coroutine_threadsafe(_open(), self.controller.loop).result(timeout=5)


def wait_for(condition: Callable[[], bool], *, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")


def sent() -> int:
    return Message.objects.filter(status=MessageStatus.SENT).count()


def database_url() -> str:
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Processes:
    """`rapport` commands started in their own process groups, so a kill takes a worker's pool children with it."""

    def __init__(self, env: dict[str, str], log_dir) -> None:
        self.env = env
        self.log_dir = log_dir
        self.started: list[subprocess.Popen] = []

    def start(self, name: str, *args: str) -> subprocess.Popen:
        log = open(self.log_dir / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(
            [sys.executable, "-m", "rapport", *args],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        process.log = log
        self.started.append(process)
        return process

    def kill(self, process: subprocess.Popen) -> None:
        # The whole group, even if the main process already ended: its pool processes must not outlive it.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        process.log.close()

    def log(self, name: str) -> str:
        return (self.log_dir / f"{name}.log").read_text()

    def kill_all(self) -> None:
        for process in self.started:
            self.kill(process)


@pytest.fixture
def broker():
    import redis

    from rapport.config.celery import DEFAULT_QUEUE

    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete(DEFAULT_QUEUE, "unacked", "unacked_index")
    cache.delete_many(ENGINE_KEYS)
    yield client
    client.delete(DEFAULT_QUEUE, "unacked", "unacked_index")
    cache.delete_many(ENGINE_KEYS)


def worker_env(smtp: SmtpServer) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp.port}?timeout=30",
        "RAPPORT_LOG_LEVEL": "WARNING",
        "RAPPORT_QUIET_HOURS": "off",
    }
    env.pop("RAPPORT_TEST_DB_NAME", None)
    return env


def test_a_worker_killed_mid_batch_loses_no_message_and_sends_none_twice(recruiter, broker, tmp_path):
    person = make_candidate(actor=recruiter, first_name="Grace", emails=["grace@example.org"])
    first = message_send(actor=recruiter, candidate=person, subject="Message 0", body="Hi {{ candidate.first_name }}")
    # The rest are copies of its row: rendering 300 messages is not what this test is about.
    copies = []
    for n in range(1, MESSAGES):
        copy = Message(**{f.attname: getattr(first, f.attname) for f in Message._meta.concrete_fields})
        copy.pk, copy.subject, copy.message_id = None, f"Message {n}", f"<{uuid.uuid4().hex}@rapport.test>"
        copies.append(copy)
    Message.objects.bulk_create(copies)
    smtp = GatedSmtpServer(free_port(), accept=ACCEPTED_BEFORE_THE_KILL)
    smtp.start()
    processes = Processes(worker_env(smtp), tmp_path)
    try:
        processes.start("scheduler", "scheduler", "--interval", "0.2", "--stale-after", "3")
        first = processes.start("worker-1", "worker", "--concurrency", "2", "--hostname", "first@%h")

        # Mid-batch: the first messages delivered and settled, the next ones in flight at the server.
        wait_for(
            lambda: sent() == ACCEPTED_BEFORE_THE_KILL and smtp.held > 0,
            seconds=45,
            what=f"{ACCEPTED_BEFORE_THE_KILL} messages sent and more in flight",
        )
        processes.kill(first)

        in_flight = Message.objects.filter(status=MessageStatus.SENDING).count()
        assert sent() == ACCEPTED_BEFORE_THE_KILL and in_flight > 0
        wait_for(lambda: smtp.held == 0, seconds=10, what="the server to drop the killed worker's connections")
        assert smtp.dropped > 0 and len(smtp.received) == ACCEPTED_BEFORE_THE_KILL
        smtp.open()
        # The killed worker's claims hold for SENDING_LEASE (10 minutes); let that time pass for them.
        Message.objects.filter(status=MessageStatus.SENDING).update(next_attempt_at=timezone.now())

        processes.start("worker-2", "worker", "--concurrency", "2", "--hostname", "second@%h")
        wait_for(lambda: sent() == MESSAGES, seconds=45, what="every message to be sent")
        time.sleep(0.5)  # a duplicate would arrive now, if any task still held one
    finally:
        processes.kill_all()
        smtp.stop()

    delivered = Counter(message["Message-ID"] for message in smtp.messages)
    expected = set(Message.objects.values_list("message_id", flat=True))
    assert len(expected) == MESSAGES
    assert set(delivered) == expected, "every message delivered"
    assert max(delivered.values()) == 1, "none delivered twice"
    assert len(smtp.received) == MESSAGES
    assert not Message.objects.exclude(status=MessageStatus.SENT).exists()
    sent_events = Counter(
        Activity.objects.filter(type="message.sent", candidate=person).values_list("payload__message_id", flat=True)
    )
    assert len(sent_events) == MESSAGES and set(sent_events.values()) == {1}
    assert "Traceback" not in processes.log("worker-2"), processes.log("worker-2")


def test_a_worker_killed_mid_batch_runs_every_sequence_step_exactly_once(recruiter, broker, tmp_path):
    from rapport.automation.services_sequences import sequence_create, sequence_enrol
    from rapport.messaging.services import message_template_create

    template = message_template_create(
        actor=recruiter,
        data={"name": "Keep in touch", "channel": "email", "category": "nurture", "subject": "Hi", "body": "Hello"},
    )
    sequence = sequence_create(
        actor=recruiter,
        data={
            "name": "Silver medalists",
            "status": "active",
            "steps": [{"type": "message", "channel": "email", "template_id": template.pk}],
        },
    )
    people = Candidate.objects.bulk_create(Candidate(first_name=f"P{n}", owner=recruiter) for n in range(PEOPLE))
    CandidateEmail.objects.bulk_create(CandidateEmail(candidate=p, email=f"p{p.pk}@example.org") for p in people)
    assert (
        len(sequence_enrol(actor=recruiter, sequence=sequence, candidate_ids=[p.pk for p in people]).enrolled) == PEOPLE
    )
    smtp = SmtpServer(free_port())
    smtp.start()
    processes = Processes(worker_env(smtp), tmp_path)

    def steps_queued() -> int:
        return Message.objects.filter(idempotency_key__startswith="seq:").count()

    try:
        processes.start("scheduler", "scheduler", "--interval", "0.2", "--stale-after", "3")
        first = processes.start("worker-1", "worker", "--concurrency", "2", "--hostname", "first@%h")
        # A batch commits all its people's steps at once: the kill lands once the first batch is in.
        wait_for(lambda: steps_queued() >= 1, seconds=45, what="the first batch of sequence steps to run")
        processes.kill(first)

        assert 0 < steps_queued() < PEOPLE, "killed mid-batch"
        # The killed worker's claims hold for their lease (5 minutes); let that time pass for them.
        Enrolment.objects.filter(claimed_until__gt=timezone.now()).update(claimed_until=timezone.now())

        processes.start("worker-2", "worker", "--concurrency", "2", "--hostname", "second@%h")
        wait_for(
            lambda: Enrolment.objects.filter(status=EnrolmentStatus.COMPLETED).count() == PEOPLE,
            seconds=60,
            what="every enrolment to finish its step",
        )
    finally:
        processes.kill_all()
        smtp.stop()

    keys = Counter(Message.objects.filter(idempotency_key__startswith="seq:").values_list("idempotency_key", flat=True))
    expected = {f"seq:{pk}:0" for pk in Enrolment.objects.values_list("pk", flat=True)}
    assert set(keys) == expected, "one message per enrolment step, none lost"
    assert max(keys.values()) == 1
    runs = Counter(StepRun.objects.filter(enrolment__sequence=sequence).values_list("enrolment_id", flat=True))
    assert len(runs) == PEOPLE and set(runs.values()) == {1}, "each step recorded once"
