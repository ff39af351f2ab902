"""Messaging throughput: a bulk send's personalise + enqueue, and outbox delivery to a real local SMTP server.

Both write to the benchmark database and clean up after themselves, so runs can be repeated. The SMTP server is
aiosmtpd in its own process (a sink that accepts and discards), as a real relay would be.
"""

import socket
import statistics
import subprocess
import sys
import time
from typing import Any

from bench.cases import tidy_database
from bench.timing import Measurement, load_average

BULK_TARGET_PER_S = 1_000.0
DELIVERY_TARGET_PER_S = 200.0
BULK_PEOPLE = 10_000
DELIVERY_MESSAGES = 2_000
NAIVE_BULK_PEOPLE = 300
NAIVE_DELIVERY_MESSAGES = 200

# Every person's message differs: the first name and the company are in the subject and the body.
TEMPLATE = {
    "name": "Benchmark outreach",
    "channel": "email",
    "category": "outreach",
    "subject": "{{ candidate.first_name }}, a role you might like",
    "body": (
        "Hi {{ candidate.first_name }},\n\n"
        "I came across your work as {{ candidate.current_title or 'an engineer' }}"
        "{% if candidate.current_company %} at {{ candidate.current_company }}{% endif %} and thought of you.\n\n"
        "We are hiring **engineers** who care about craft:\n\n- a small team\n- remote friendly\n\n"
        "[See the role]({{ company.careers_link }}). Would you be open to a short call?\n\nThanks!"
    ),
}


def _recruiter() -> Any:
    from rapport.accounts.models import User

    return User.objects.get(email="recruiter@rapport.demo")


def _template(user: Any) -> Any:
    from rapport.messaging.models import MessageTemplate
    from rapport.messaging.services import message_template_create

    return MessageTemplate.objects.filter(name=TEMPLATE["name"]).first() or message_template_create(
        actor=user, data=dict(TEMPLATE)
    )


def _people(count: int) -> list[int]:
    from rapport.candidates.models import CandidateEmail

    ids: list[int] = []
    for candidate_id in CandidateEmail.objects.order_by("candidate_id").values_list("candidate_id", flat=True):
        if not ids or ids[-1] != candidate_id:
            ids.append(candidate_id)
        if len(ids) == count:
            break
    return ids


def _forget(bulk_ids: list[int], message_ids: list[int] | None = None) -> None:
    """Remove what a run wrote: its messages, their timeline events and the bulk send itself."""
    from django.db import transaction

    from rapport.messaging.models import BulkSend, Message
    from rapport.timeline.models import Activity

    with transaction.atomic():
        ids = list(Message.objects.filter(bulk_id__in=bulk_ids).values_list("pk", flat=True)) + (message_ids or [])
        for start in range(0, len(ids), 5_000):
            chunk = ids[start : start + 5_000]
            Activity.objects.filter(type__startswith="message.", payload__message_id__in=chunk).delete()
            Message.objects.filter(pk__in=chunk).delete()
        BulkSend.objects.filter(pk__in=bulk_ids).delete()
    # Dead rows left by the deletes (and by each settled message) stay in the outbox's "due" index until a vacuum;
    # in production autovacuum clears them as it goes, so each run starts from a tidy table.
    tidy_database()


def _rate_measurement(name: str, detail: str, rates: list[float], seconds: list[float], **info: Any) -> Measurement:
    m = Measurement("messaging", name, detail, samples_ms=[s * 1000 for s in seconds])
    m.info = {"per_s": [round(r) for r in rates], "median_per_s": round(statistics.median(rates)), **info}
    return m


def run_bulk(*, runs: int) -> list[Measurement]:
    """message_bulk_send to 10,000 people (as the UI and the API call it), and one message_send per person."""
    from rapport.messaging.services import message_bulk_send, message_send

    user = _recruiter()
    template = _template(user)
    people = _people(BULK_PEOPLE)
    rates, seconds, queued = [], [], 0
    load_before = load_average()
    for _ in range(max(runs, 1)):
        started = time.perf_counter()
        bulk = message_bulk_send(actor=user, template=template, candidate_ids=people)
        elapsed = time.perf_counter() - started
        queued = bulk.queued
        _forget([bulk.pk])
        rates.append(bulk.queued / elapsed)
        seconds.append(elapsed)
    ours = _rate_measurement(
        "bulk send: personalise + enqueue", f"{len(people):,} people", rates, seconds, queued=queued
    )
    ours.load_before, ours.load_after = load_before, load_average()

    from rapport.candidates.models import Candidate
    from rapport.common.errors import ValidationFailed

    sent: list[int] = []
    started = time.perf_counter()
    for person in Candidate.objects.filter(pk__in=people[:NAIVE_BULK_PEOPLE]):
        try:
            sent.append(message_send(actor=user, candidate=person, template=template).pk)
        except ValidationFailed:
            continue  # do not contact: the bulk send skips them too
    elapsed = time.perf_counter() - started
    _forget([], sent)
    naive = _rate_measurement(
        "naive: message_send per person", f"{len(sent):,} people", [len(sent) / elapsed], [elapsed]
    )
    return [ours, naive]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _SinkServer:
    """aiosmtpd in a child process, accepting every message and keeping none."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{self.port}", "-c", "aiosmtpd.handlers.Sink"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("the local SMTP server did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def _use_smtp(port: int) -> None:
    from django.conf import settings

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 10


def run_delivery(*, runs: int) -> list[Measurement]:
    """outbox_deliver_due until 2,000 queued emails are sent (one worker, one SMTP session per batch), and the
    naive way beside it: one new SMTP connection per message."""
    from django.core.mail import get_connection
    from django.utils import timezone

    from rapport.messaging.channels.email.transport import build_email
    from rapport.messaging.models import Message, MessageKind, MessageStatus
    from rapport.messaging.services import DELIVERY_BATCH, message_bulk_send, outbox_deliver_due
    from rapport.timeline.services import activity_record

    user = _recruiter()
    template = _template(user)
    people = _people(DELIVERY_MESSAGES)
    server = _SinkServer()
    rates, seconds = [], []
    try:
        _use_smtp(server.port)
        load_before = load_average()
        for _ in range(max(runs, 1)):
            bulk = message_bulk_send(actor=user, template=template, candidate_ids=people)
            # Sent as one-to-one, so the people's quiet hours and the frequency cap do not hold any back.
            Message.objects.filter(bulk=bulk).update(kind=MessageKind.ONE_TO_ONE)
            started = time.perf_counter()
            while outbox_deliver_due(limit=DELIVERY_BATCH):
                pass
            elapsed = time.perf_counter() - started
            sent = Message.objects.filter(bulk=bulk, status=MessageStatus.SENT).count()
            _forget([bulk.pk])
            rates.append(sent / elapsed)
            seconds.append(elapsed)
        ours = _rate_measurement(
            "SMTP delivery, one worker", f"{len(people):,} emails", rates, seconds, batch=DELIVERY_BATCH
        )
        ours.load_before, ours.load_after = load_before, load_average()

        # The naive way: a new SMTP connection per email, and the same bookkeeping (status, timeline) after it.
        bulk = message_bulk_send(actor=user, template=template, candidate_ids=people[:NAIVE_DELIVERY_MESSAGES])
        messages = list(Message.objects.filter(bulk=bulk).select_related("candidate"))
        started = time.perf_counter()
        for message in messages:
            build_email(message, connection=get_connection(fail_silently=False)).send()
            message.status, message.sent_at = MessageStatus.SENT, timezone.now()
            message.save(update_fields=["status", "sent_at"])
            activity_record(
                type="message.sent", candidate=message.candidate, payload={"message_id": message.pk, "channel": "email"}
            )
        elapsed = time.perf_counter() - started
        _forget([bulk.pk])
        naive = _rate_measurement(
            "naive: a connection per email", f"{len(messages):,} emails", [len(messages) / elapsed], [elapsed]
        )
    finally:
        server.stop()
    return [ours, naive]
