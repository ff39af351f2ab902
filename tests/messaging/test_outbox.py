"""The outbox: a message is rendered and queued by `message_send`, and delivered by `outbox_deliver_due` to a real
SMTP server, with the send-time checks, retries with backoff and exactly-once delivery."""

from datetime import timedelta

import pytest
from django.utils import timezone

from rapport.candidates.models import RelationshipStatus
from rapport.common import embedded_worker
from rapport.common.errors import Conflict, PermissionDenied, ValidationFailed
from rapport.messaging.models import Message, MessageStatus, Suppression
from rapport.messaging.services import (
    MAX_ATTEMPTS,
    SENDING_LEASE,
    message_send,
    outbox_deliver_due,
    retry_delay,
    suppression_add,
)
from rapport.timeline.models import Activity
from tests.factories import make_candidate, make_job


def _later(seconds: int = 1):
    return timezone.now() + timedelta(seconds=seconds)


def test_sending_renders_for_the_person_queues_and_records_it(recruiter, person, make_template):
    template = make_template(subject="A role for {{ candidate.first_name }}", body="Hi {{ candidate.first_name }}!")

    message = message_send(actor=recruiter, candidate=person, template=template)

    assert message.status == MessageStatus.QUEUED
    assert message.to_address == "grace@example.org"
    assert message.subject == "A role for Grace"
    assert "Hi Grace!" in message.text and "Hi Grace!" in message.html
    assert "{{" not in message.text + message.html + message.subject
    assert message.template == template and message.sent_by == recruiter
    assert message.next_attempt_at <= timezone.now()
    activity = Activity.objects.get(candidate=person, type="message.queued")
    assert activity.payload["message_id"] == message.pk and activity.actor == recruiter


def test_the_worker_delivers_a_queued_message_once(recruiter, person, smtp_server):
    message = message_send(actor=recruiter, candidate=person, subject="Hello", body="Hi {{ candidate.first_name }}")

    assert outbox_deliver_due() == 1
    assert outbox_deliver_due() == 0

    message.refresh_from_db()
    assert message.status == MessageStatus.SENT and message.sent_at is not None and message.attempts == 1
    assert len(smtp_server.messages) == 1
    assert smtp_server.messages[0]["To"] == "grace@example.org"
    assert Activity.objects.filter(candidate=person, type="message.sent").count() == 1


def test_the_embedded_worker_runs_the_outbox(recruiter, person, smtp_server):
    message_send(actor=recruiter, candidate=person, subject="Hello", body="Hi")

    embedded_worker.run_once()

    assert len(smtp_server.messages) == 1


def test_the_same_idempotency_key_returns_the_same_message(recruiter, admin_user, person):
    first = message_send(actor=recruiter, candidate=person, subject="Hi", body="Hello", idempotency_key="k-1")
    again = message_send(actor=recruiter, candidate=person, subject="Other", body="Other", idempotency_key="k-1")

    assert again.pk == first.pk
    assert Message.objects.count() == 1
    with pytest.raises(Conflict):
        message_send(actor=admin_user, candidate=person, subject="Hi", body="Hello", idempotency_key="k-1")


def test_a_template_that_does_not_render_is_refused_naming_the_field(recruiter, person, make_template):
    needs_job = make_template(subject="About {{ job.title }}", body="Hi")

    with pytest.raises(ValidationFailed) as caught:
        message_send(actor=recruiter, candidate=person, template=needs_job)
    assert "subject" in caught.value.fields
    with pytest.raises(ValidationFailed) as caught:
        message_send(actor=recruiter, candidate=person, subject="Hi", body="Line 1\n{{ candidate.frist_name }}")
    assert caught.value.fields["body"] == [
        "line 2: unknown field candidate.frist_name (did you mean candidate.first_name?)"
    ]
    assert not Message.objects.exists()


def test_a_job_fills_job_fields(recruiter, person, make_template):
    job = make_job(actor=recruiter, title="Compiler Engineer")
    template = make_template(subject="About {{ job.title }}", body="Hi {{ candidate.first_name }}")

    message = message_send(actor=recruiter, candidate=person, template=template, job=job)

    assert message.subject == "About Compiler Engineer" and message.job == job


def test_the_person_language_picks_the_template_variant(recruiter, make_template):
    person = make_candidate(actor=recruiter, first_name="Marie", emails=["marie@example.fr"], language="fr")
    template = make_template(
        subject="Hello",
        body="Hi {{ candidate.first_name }}",
        language="en",
        variants=[{"language": "fr", "subject": "Bonjour", "body": "Salut {{ candidate.first_name }}"}],
    )

    message = message_send(actor=recruiter, candidate=person, template=template)

    assert message.subject == "Bonjour" and "Salut Marie" in message.text


def test_people_we_cannot_write_to_are_refused_before_queueing(recruiter):
    nobody = make_candidate(actor=recruiter, first_name="No", last_name="Address")
    blocked = make_candidate(
        actor=recruiter, first_name="Do", emails=["dnc@example.org"], relationship_status="do_not_contact"
    )
    gone = make_candidate(actor=recruiter, first_name="Gone", emails=["gone@example.org"])
    suppression_add(address="gone@example.org", channel="email", reason="hard_bounce")

    for candidate, words in ((nobody, "no email address"), (blocked, "do not contact"), (gone, "suppression")):
        with pytest.raises(ValidationFailed) as caught:
            message_send(actor=recruiter, candidate=candidate, subject="Hi", body="Hello")
        assert words in caught.value.message
    assert not Message.objects.exists()


def test_roles_that_do_not_message_are_refused(hiring_manager, interviewer, recruiter, person):
    for user in (hiring_manager, interviewer):
        with pytest.raises(PermissionDenied):
            message_send(actor=user, candidate=person, subject="Hi", body="Hello")


def test_a_past_or_far_send_time_is_refused(recruiter, person):
    with pytest.raises(ValidationFailed) as caught:
        message_send(actor=recruiter, candidate=person, subject="Hi", body="x", send_at=_later(-3600))
    assert "send_at" in caught.value.fields
    with pytest.raises(ValidationFailed):
        message_send(actor=recruiter, candidate=person, subject="Hi", body="x", send_at=_later(400 * 86400))


def test_a_scheduled_message_waits_for_its_time(recruiter, person, smtp_server):
    send_at = _later(3600)
    message = message_send(actor=recruiter, candidate=person, subject="Later", body="x", send_at=send_at)
    assert message.status == MessageStatus.SCHEDULED and message.scheduled_for == send_at

    assert outbox_deliver_due() == 0
    assert outbox_deliver_due(now=send_at + timedelta(seconds=1)) == 1

    message.refresh_from_db()
    assert message.status == MessageStatus.SENT and len(smtp_server.messages) == 1


def test_do_not_contact_set_after_queueing_suppresses_at_send_time(recruiter, person, smtp_server):
    message = message_send(actor=recruiter, candidate=person, subject="Hi", body="Hello")
    person.relationship_status = RelationshipStatus.DO_NOT_CONTACT
    person.save()

    outbox_deliver_due()

    message.refresh_from_db()
    assert message.status == MessageStatus.SUPPRESSED and "do not contact" in message.last_error
    assert smtp_server.messages == []
    failed = Activity.objects.get(candidate=person, type="message.failed")
    assert failed.payload["status"] == "suppressed"


def test_smtp_down_keeps_the_message_queued_and_it_goes_once_the_server_is_back(recruiter, person, smtp_server):
    message = message_send(actor=recruiter, candidate=person, subject="Hi", body="Hello")
    smtp_server.stop()
    before = timezone.now()

    assert outbox_deliver_due() == 1

    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED
    assert message.attempts == 1
    assert message.next_attempt_at >= before + retry_delay(1)
    assert message.last_error
    assert not Activity.objects.filter(type__in=["message.sent", "message.failed"]).exists()
    # Not due again until the backoff has passed.
    assert outbox_deliver_due() == 0

    smtp_server.start()
    due = message.next_attempt_at + timedelta(seconds=1)
    outbox_deliver_due(now=due)
    outbox_deliver_due(now=due)

    message.refresh_from_db()
    assert message.status == MessageStatus.SENT and message.attempts == 2
    assert len(smtp_server.messages) == 1
    assert Activity.objects.filter(candidate=person, type="message.sent").count() == 1


def test_a_closed_port_is_a_transient_failure_for_the_whole_batch(recruiter, settings, person):
    from tests.messaging.conftest import free_port

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    for n in range(3):
        message_send(actor=recruiter, candidate=person, subject=f"Hi {n}", body="Hello")

    outbox_deliver_due()

    assert set(Message.objects.values_list("status", "attempts")) == {(MessageStatus.QUEUED, 1)}


def test_a_permanent_refusal_fails_with_the_server_reason(recruiter, person, smtp_server):
    smtp_server.refuse["grace@example.org"] = "550 5.1.1 No such user here"
    message = message_send(actor=recruiter, candidate=person, subject="Hi", body="Hello")

    outbox_deliver_due()

    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert "550" in message.last_error and "No such user" in message.last_error
    failed = Activity.objects.get(candidate=person, type="message.failed")
    assert failed.payload["status"] == "failed" and "550" in failed.payload["reason"]


def test_a_temporary_refusal_is_retried_with_growing_delays_then_given_up(recruiter, person, smtp_server):
    smtp_server.refuse["grace@example.org"] = "451 4.3.0 Try again later"
    message = message_send(actor=recruiter, candidate=person, subject="Hi", body="Hello")
    delays = []

    for _ in range(MAX_ATTEMPTS):
        message.refresh_from_db()
        attempted_at = message.next_attempt_at + timedelta(seconds=1)
        outbox_deliver_due(now=attempted_at)
        message.refresh_from_db()
        if message.status == MessageStatus.QUEUED:
            delays.append(message.next_attempt_at - timezone.now())

    assert message.status == MessageStatus.FAILED and message.attempts == MAX_ATTEMPTS
    assert "Gave up after" in message.last_error and "451" in message.last_error
    assert delays == sorted(delays) and len(delays) == MAX_ATTEMPTS - 1
    assert smtp_server.messages == []


def test_a_claimed_message_is_not_taken_by_a_second_run_until_its_lease_ends(recruiter, person, smtp_server):
    message = message_send(actor=recruiter, candidate=person, subject="Hi", body="Hello")
    Message.objects.filter(pk=message.pk).update(
        status=MessageStatus.SENDING, claim_token="other-worker", next_attempt_at=timezone.now() + SENDING_LEASE
    )

    assert outbox_deliver_due() == 0
    assert outbox_deliver_due(now=timezone.now() + SENDING_LEASE + timedelta(seconds=1)) == 1

    message.refresh_from_db()
    assert message.status == MessageStatus.SENT and len(smtp_server.messages) == 1


def test_unsubscribe_suppression_is_per_address_and_recorded_once(recruiter, person):
    suppression_add(address="Grace@Example.org", channel="email", reason="unsubscribed", candidate=person)
    suppression_add(address="grace@example.org", channel="email", reason="unsubscribed", candidate=person)

    assert Suppression.objects.get().address == "grace@example.org"
    assert Activity.objects.filter(candidate=person, type="candidate.unsubscribed").count() == 1


def test_merging_people_moves_their_messages_to_the_survivor(recruiter, admin_user, person):
    from rapport.candidates.services import candidate_merge

    duplicate = make_candidate(actor=recruiter, first_name="Grace", emails=["g.hopper@example.org"])
    message = message_send(actor=recruiter, candidate=duplicate, subject="Hi", body="Hello")

    candidate_merge(actor=recruiter, survivor=person, merged=duplicate)

    message.refresh_from_db()
    assert message.candidate == person


def test_erasing_a_person_blanks_their_messages_and_stops_pending_ones(admin_user, recruiter, person, smtp_server):
    from rapport.candidates.services import candidate_erase

    sent = message_send(actor=recruiter, candidate=person, subject="Hi Grace", body="Hello Grace")
    outbox_deliver_due()
    waiting = message_send(actor=recruiter, candidate=person, subject="Later", body="x", send_at=_later(600))

    candidate_erase(actor=admin_user, candidate=person)

    sent.refresh_from_db()
    waiting.refresh_from_db()
    assert sent.status == MessageStatus.SENT and sent.to_address == sent.subject == sent.text == sent.html == ""
    assert waiting.status == MessageStatus.SUPPRESSED
    assert outbox_deliver_due(now=_later(3600)) == 0
    assert len(smtp_server.messages) == 1


def test_every_message_of_a_batch_sent_over_several_connections_is_recorded_once(
    recruiter, person, smtp_server, settings
):
    settings.RAPPORT_DELIVERY_CONNECTIONS = 4
    queued = [message_send(actor=recruiter, candidate=person, subject=f"Hi {n}", body="Hello") for n in range(30)]

    assert outbox_deliver_due() == 30

    assert sorted(m["Subject"] for m in smtp_server.messages) == sorted(f"Hi {n}" for n in range(30))
    rows = Message.objects.filter(pk__in=[m.pk for m in queued])
    assert {(m.status, m.attempts, m.claim_token, m.sent_at is not None) for m in rows} == {
        (MessageStatus.SENT, 1, "", True)
    }
    events = Activity.objects.filter(candidate=person, type="message.sent")
    assert sorted(e.payload["message_id"] for e in events) == sorted(m.pk for m in queued)
    assert {e.payload["status"] for e in events} == {"sent"}


def test_a_send_is_not_recorded_over_a_run_that_took_the_message_over(recruiter, person):
    from rapport.messaging.services import _claim_due, _settle_sent

    first = message_send(actor=recruiter, candidate=person, subject="First", body="Hello")
    second = message_send(actor=recruiter, candidate=person, subject="Second", body="Hello")
    claimed = _claim_due(limit=10, now=timezone.now())
    # This run's lease ran out while it was sending, and another run claimed the second message.
    Message.objects.filter(pk=second.pk).update(claim_token="another-run")

    assert _settle_sent([(message, f"provider-{message.pk}") for message in claimed]) == 1

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == MessageStatus.SENT and first.provider_message_id == f"provider-{first.pk}"
    assert second.status == MessageStatus.SENDING and second.claim_token == "another-run"
    assert [e.payload["message_id"] for e in Activity.objects.filter(type="message.sent")] == [first.pk]
