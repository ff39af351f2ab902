"""Provider webhooks over HTTP: a message sent through a fake provider API, then its events posted as the provider
would, signed (Mailgun) or with basic auth (Postmark)."""

import importlib.util
import json
import logging
import time
import uuid
from email.message import EmailMessage

import pytest
from django.test import Client

from rapport.common.errors import ValidationFailed
from rapport.messaging.models import InboundEmail, InboundStatus, Message, MessageDirection, MessageStatus, Suppression
from rapport.messaging.services import message_send, outbox_deliver_due
from rapport.timeline.models import Activity
from tests.messaging.channels.email.fake_providers import (
    MAILGUN_SIGNING_KEY,
    MAILGUN_URL,
    POSTMARK_URL,
    WEBHOOK_PASSWORD,
    WEBHOOK_USER,
    FakeMailgun,
    FakePostmark,
    basic_auth,
    mailgun_signature,
    serving,
)

MAILGUN_HOOK = "/hooks/email/mailgun/tracking/"
POSTMARK_HOOK = "/hooks/email/postmark/tracking/"
MAILGUN_INBOUND = "/hooks/email/mailgun/inbound/"
AUTH = basic_auth(WEBHOOK_USER, WEBHOOK_PASSWORD)
WEBHOOK_LOGGER = "rapport.messaging.channels.email.webhooks"


@pytest.fixture(autouse=True)
def _webhook_secrets(settings):
    settings.ANYMAIL = {
        "WEBHOOK_SECRET": f"{WEBHOOK_USER}:{WEBHOOK_PASSWORD}",
        "MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_SIGNING_KEY,
    }


@pytest.fixture(autouse=True)
def _own_cache(settings):
    """A cache of this test's own: replay detection must not see another test run clear var/cache meanwhile."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": uuid.uuid4().hex}
    }


@pytest.fixture
def mailgun(settings):
    yield from serving(FakeMailgun(), settings, MAILGUN_URL)


@pytest.fixture
def postmark(settings):
    yield from serving(FakePostmark(), settings, POSTMARK_URL)


def _sent(recruiter, person) -> Message:
    message = message_send(actor=recruiter, candidate=person, subject="A role for you", body="Hi!")
    outbox_deliver_due()
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT and message.provider_message_id
    return message


@pytest.fixture
def via_mailgun(recruiter, person, mailgun) -> Message:
    """A message Mailgun accepted: it has Mailgun's id."""
    return _sent(recruiter, person)


@pytest.fixture
def via_postmark(recruiter, person, postmark) -> Message:
    return _sent(recruiter, person)


def mailgun_event(message: Message, event: str, **extra) -> dict:
    """Mailgun's event-data for one of our messages (its headers carry the id without angle brackets)."""
    return {
        "event": event,
        "id": uuid.uuid4().hex[:22],
        "timestamp": time.time(),
        "recipient": message.to_address,
        "message": {"headers": {"message-id": message.provider_message_id.strip("<>")}},
        "user-variables": {"rapport_message_id": str(message.pk)},
        **extra,
    }


HARD_BOUNCE = {
    "severity": "permanent",
    "reason": "bounce",
    "delivery-status": {"code": 550, "message": "5.1.1 The email account that you tried to reach does not exist"},
}


def post_mailgun(event_data: dict, *, signature: dict | None = None, client: Client | None = None):
    body = {"signature": signature or mailgun_signature(), "event-data": event_data}
    return (client or Client()).post(
        MAILGUN_HOOK, json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=AUTH
    )


def post_postmark(event: dict, *, auth: str | None = AUTH):
    headers = {"HTTP_AUTHORIZATION": auth} if auth else {}
    return Client().post(POSTMARK_HOOK, json.dumps(event), content_type="application/json", **headers)


def _types(person) -> list[str]:
    return list(Activity.objects.filter(candidate=person).order_by("id").values_list("type", flat=True))


# --- Mailgun, signed ------------------------------------------------------------------------------------------------


def test_delivered_marks_the_message_delivered_with_a_timeline_event(via_mailgun, person):
    response = post_mailgun(mailgun_event(via_mailgun, "delivered"))

    assert response.status_code == 200
    via_mailgun.refresh_from_db()
    assert via_mailgun.status == MessageStatus.DELIVERED
    assert via_mailgun.delivered_at is not None
    delivered = Activity.objects.get(type="message.delivered", candidate=person)
    assert delivered.payload["message_id"] == via_mailgun.pk
    assert delivered.payload["provider"] == "mailgun"


def test_a_replayed_event_changes_nothing_twice(via_mailgun, person):
    signature = mailgun_signature()
    opened = mailgun_event(via_mailgun, "opened")

    first = post_mailgun(opened, signature=signature)
    again = post_mailgun(opened, signature=signature)

    assert first.status_code == again.status_code == 200
    via_mailgun.refresh_from_db()
    assert via_mailgun.open_count == 1
    assert _types(person).count("message.opened") == 1


def test_a_second_delivery_report_records_nothing_more(via_mailgun, person):
    post_mailgun(mailgun_event(via_mailgun, "delivered"))
    post_mailgun(mailgun_event(via_mailgun, "delivered"))

    assert _types(person).count("message.delivered") == 1


def test_a_hard_bounce_bounces_the_message_and_suppresses_the_address(via_mailgun, recruiter, person):
    response = post_mailgun(mailgun_event(via_mailgun, "failed", **HARD_BOUNCE))

    assert response.status_code == 200
    via_mailgun.refresh_from_db()
    assert via_mailgun.status == MessageStatus.BOUNCED
    assert "does not exist" in via_mailgun.last_error
    assert Suppression.objects.get(address="grace@example.org").reason == "hard_bounce"
    bounced = Activity.objects.get(type="message.bounced", candidate=person)
    assert bounced.payload["suppressed"] is True
    assert "5.1.1" in bounced.payload["reason"]
    # The next message to that address is refused where it is written.
    with pytest.raises(ValidationFailed, match="suppression list"):
        message_send(actor=recruiter, candidate=person, subject="Again", body="Hello?")


def test_a_late_delivery_report_does_not_undo_a_bounce(via_mailgun, person):
    post_mailgun(mailgun_event(via_mailgun, "failed", **HARD_BOUNCE))

    post_mailgun(mailgun_event(via_mailgun, "delivered"))

    via_mailgun.refresh_from_db()
    assert via_mailgun.status == MessageStatus.BOUNCED
    assert "message.delivered" not in _types(person)


def test_a_temporary_failure_keeps_the_message_sent_and_the_address_usable(via_mailgun, person):
    post_mailgun(
        mailgun_event(
            via_mailgun,
            "failed",
            severity="temporary",
            reason="generic",
            **{"delivery-status": {"code": 452, "message": "4.2.2 Mailbox full"}},
        )
    )

    via_mailgun.refresh_from_db()
    assert via_mailgun.status == MessageStatus.SENT
    assert not Suppression.objects.exists()
    assert "message.bounced" not in _types(person)


def test_a_complaint_suppresses_and_records_withdrawn_consent(via_mailgun, person):
    post_mailgun(mailgun_event(via_mailgun, "complained"))

    via_mailgun.refresh_from_db()
    assert via_mailgun.status == MessageStatus.SENT
    assert Suppression.objects.get(address="grace@example.org").reason == "complaint"
    withdrawn = Activity.objects.get(type="consent.withdrawn", candidate=person)
    assert withdrawn.payload["reason"] == "complaint"
    assert withdrawn.payload["source"] == "mailgun spam complaint"


def test_a_rejected_message_fails_with_the_providers_reason(via_mailgun, person):
    post_mailgun(
        mailgun_event(via_mailgun, "rejected", reject={"reason": "Sandbox subdomains are for test purposes only"})
    )

    via_mailgun.refresh_from_db()
    assert via_mailgun.status == MessageStatus.FAILED
    failed = Activity.objects.get(type="message.failed", candidate=person)
    assert failed.payload["reason"] == "Sandbox subdomains are for test purposes only"


def test_opens_and_clicks_count_like_our_own_tracking(via_mailgun, person):
    score_before = person.engagement_score

    post_mailgun(mailgun_event(via_mailgun, "opened"))
    post_mailgun(mailgun_event(via_mailgun, "opened"))
    post_mailgun(mailgun_event(via_mailgun, "clicked", url="https://jobs.example.com/roles/42"))

    via_mailgun.refresh_from_db()
    assert (via_mailgun.open_count, via_mailgun.click_count) == (2, 1)
    assert _types(person).count("message.opened") == 1
    clicked = Activity.objects.get(type="message.clicked", candidate=person)
    assert clicked.payload["url"] == "https://jobs.example.com/roles/42"
    person.refresh_from_db()
    assert person.engagement_score > score_before


def test_the_message_is_found_by_our_metadata_when_the_provider_id_is_not_stored(via_mailgun):
    Message.objects.filter(pk=via_mailgun.pk).update(provider_message_id="")

    post_mailgun(mailgun_event(via_mailgun, "delivered"))

    via_mailgun.refresh_from_db()
    assert via_mailgun.status == MessageStatus.DELIVERED


def test_an_event_about_a_message_we_do_not_know_is_accepted_and_ignored(via_mailgun):
    event = mailgun_event(via_mailgun, "delivered", **{"user-variables": {}})
    event["message"]["headers"]["message-id"] = "someone-elses@mg.acme.example"

    response = post_mailgun(event)

    assert response.status_code == 200
    via_mailgun.refresh_from_db()
    assert via_mailgun.status == MessageStatus.SENT


def test_a_wrong_signature_is_refused_logged_and_changes_nothing(via_mailgun, person, caplog):
    forged = mailgun_signature(key="not-the-signing-key")

    with caplog.at_level(logging.WARNING, logger=WEBHOOK_LOGGER):
        response = post_mailgun(mailgun_event(via_mailgun, "failed", **HARD_BOUNCE), signature=forged)

    assert response.status_code == 403
    [record] = [r for r in caplog.records if r.name == WEBHOOK_LOGGER]
    assert record.levelno == logging.WARNING
    assert "mailgun" in record.getMessage() and "127.0.0.1" in record.getMessage()
    via_mailgun.refresh_from_db()
    assert via_mailgun.status == MessageStatus.SENT
    assert not Suppression.objects.exists()
    assert "message.bounced" not in _types(person)


def test_an_authentic_request_that_cannot_be_read_is_a_400(via_mailgun):
    response = Client().post(
        MAILGUN_HOOK,
        json.dumps({"signature": mailgun_signature(), "event-data": {"no": "event"}}),
        content_type="application/json",
        HTTP_AUTHORIZATION=AUTH,
    )

    assert response.status_code == 400


def test_refused_requests_are_rate_limited_per_address(via_mailgun, settings):
    settings.RAPPORT_API_RATE_LIMIT = 2
    forged = mailgun_signature(key="guess")
    event = mailgun_event(via_mailgun, "delivered")

    statuses = [post_mailgun(event, signature=forged).status_code for _ in range(3)]

    assert statuses == [403, 403, 429]


def test_authentic_events_are_not_held_back_by_the_limit(via_mailgun, settings):
    settings.RAPPORT_API_RATE_LIMIT = 2

    statuses = [post_mailgun(mailgun_event(via_mailgun, "opened")).status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 200]


def test_mailgun_without_a_signing_or_api_key_is_not_in_service(db, settings, caplog):
    settings.ANYMAIL = {"WEBHOOK_SECRET": f"{WEBHOOK_USER}:{WEBHOOK_PASSWORD}"}

    with caplog.at_level(logging.ERROR, logger=WEBHOOK_LOGGER):
        response = post_mailgun({"event": "delivered"})

    assert response.status_code == 404
    assert any("mailgun email webhook is not set up" in r.getMessage() for r in caplog.records)


def test_only_post_is_accepted_and_unknown_providers_are_404(db):
    assert Client().get(MAILGUN_HOOK).status_code == 405
    assert Client().post("/hooks/email/carrier-pigeon/tracking/").status_code == 404


def test_webhooks_need_no_csrf_token(via_mailgun):
    client = Client(enforce_csrf_checks=True)

    response = post_mailgun(mailgun_event(via_mailgun, "delivered"), client=client)

    assert response.status_code == 200


# --- Postmark, basic auth -------------------------------------------------------------------------------------------


def postmark_event(message: Message, record_type: str, **extra) -> dict:
    return {
        "RecordType": record_type,
        "MessageStream": "outbound",
        "MessageID": message.provider_message_id,
        "Recipient": message.to_address,
        "Metadata": {"rapport_message_id": str(message.pk)},
        **extra,
    }


def test_postmark_delivery_with_basic_auth(via_postmark, person):
    response = post_postmark(postmark_event(via_postmark, "Delivery", DeliveredAt="2026-12-03T09:01:02Z"))

    assert response.status_code == 200
    via_postmark.refresh_from_db()
    assert via_postmark.status == MessageStatus.DELIVERED
    assert via_postmark.delivered_at.isoformat() == "2026-12-03T09:01:02+00:00"


def test_postmark_hard_bounce_suppresses_but_a_soft_bounce_does_not(via_postmark, recruiter, person):
    soft = postmark_event(
        via_postmark, "Bounce", ID=1001, Type="SoftBounce", Email=via_postmark.to_address, Details="452 mailbox full"
    )
    post_postmark(soft)
    assert not Suppression.objects.exists()

    hard = postmark_event(
        via_postmark,
        "Bounce",
        ID=1002,
        Type="HardBounce",
        Email=via_postmark.to_address,
        Details="smtp;550 5.1.1 The email account that you tried to reach does not exist",
    )
    post_postmark(hard)

    via_postmark.refresh_from_db()
    assert via_postmark.status == MessageStatus.BOUNCED
    assert Suppression.objects.get(address="grace@example.org").reason == "hard_bounce"


def test_postmark_with_wrong_basic_auth_is_refused_and_logged(via_postmark, caplog):
    with caplog.at_level(logging.WARNING, logger=WEBHOOK_LOGGER):
        response = post_postmark(postmark_event(via_postmark, "Delivery"), auth=basic_auth("hooks", "guess"))

    assert response.status_code == 403
    assert any("postmark" in r.getMessage() for r in caplog.records if r.name == WEBHOOK_LOGGER)
    via_postmark.refresh_from_db()
    assert via_postmark.status == MessageStatus.SENT


def test_postmark_webhooks_are_closed_without_a_webhook_secret(via_postmark, settings):
    settings.ANYMAIL = {key: value for key, value in settings.ANYMAIL.items() if key != "WEBHOOK_SECRET"}

    response = post_postmark(postmark_event(via_postmark, "Delivery"), auth=None)

    assert response.status_code == 403
    via_postmark.refresh_from_db()
    assert via_postmark.status == MessageStatus.SENT


# --- inbound --------------------------------------------------------------------------------------------------------


def _reply_to(message: Message, *, text: str = "Yes, I would love to talk.") -> bytes:
    reply = EmailMessage()
    reply["From"] = "Grace Hopper <grace@example.org>"
    reply["To"] = "talent@acme.example"
    reply["Subject"] = f"Re: {message.subject}"
    reply["Message-ID"] = f"<{uuid.uuid4().hex}@mail.example.org>"
    reply["In-Reply-To"] = message.message_id
    reply.set_content(text)
    return bytes(reply)


def post_mailgun_inbound(raw: bytes, *, signature: dict | None = None):
    fields = {"recipient": "talent@acme.example", "sender": "grace@example.org", **(signature or mailgun_signature())}
    fields["body-mime"] = raw.decode()
    return Client().post(MAILGUN_INBOUND, fields, HTTP_AUTHORIZATION=AUTH)


def test_a_reply_through_mailgun_inbound_lands_on_the_thread(via_mailgun, person):
    response = post_mailgun_inbound(_reply_to(via_mailgun))

    assert response.status_code == 200
    inbound = InboundEmail.objects.get(source="mailgun")
    assert inbound.status == InboundStatus.MATCHED
    reply = inbound.message
    assert reply.direction == MessageDirection.INBOUND
    assert reply.candidate == person
    assert reply.in_reply_to == via_mailgun.message_id
    assert "Yes, I would love to talk." in reply.text
    assert "message.received" in _types(person)


def test_the_same_inbound_mail_posted_twice_is_filed_once(via_mailgun, person):
    raw = _reply_to(via_mailgun)

    post_mailgun_inbound(raw)
    post_mailgun_inbound(raw)

    assert InboundEmail.objects.filter(source="mailgun").count() == 1
    assert _types(person).count("message.received") == 1


def test_a_forged_inbound_post_is_refused_and_files_nothing(via_mailgun):
    response = post_mailgun_inbound(_reply_to(via_mailgun), signature=mailgun_signature(key="guess"))

    assert response.status_code == 403
    assert not InboundEmail.objects.exists()


def test_a_reply_through_postmark_inbound_is_filed_under_postmarks_id(via_postmark, person):
    event = {
        "FromFull": {"Email": "grace@example.org", "Name": "Grace Hopper"},
        "ToFull": [{"Email": "talent@acme.example", "Name": ""}],
        "Subject": f"Re: {via_postmark.subject}",
        "MessageID": "22c74902-a0c1-4511-804f-341342852c90",
        "TextBody": "Tuesday works for me.",
        "Headers": [
            {"Name": "Message-ID", "Value": "<reply-1@mail.example.org>"},
            {"Name": "In-Reply-To", "Value": via_postmark.message_id},
        ],
        "Attachments": [],
    }

    response = Client().post(
        "/hooks/email/postmark/inbound/", json.dumps(event), content_type="application/json", HTTP_AUTHORIZATION=AUTH
    )

    assert response.status_code == 200
    inbound = InboundEmail.objects.get(source="postmark")
    assert inbound.external_id == "22c74902-a0c1-4511-804f-341342852c90"
    assert inbound.status == InboundStatus.MATCHED
    assert inbound.message.candidate == person
    assert "Tuesday works for me." in inbound.message.text


# --- other providers ------------------------------------------------------------------------------------------------


def test_sendgrid_batches_are_read_event_by_event(via_postmark, person):
    events = [
        {
            "event": "delivered",
            "email": via_postmark.to_address,
            "timestamp": int(time.time()),
            "sg_event_id": uuid.uuid4().hex,
            "sg_message_id": "sendgrid-internal-id",
            "rapport_message_id": str(via_postmark.pk),
        },
        {
            "event": "open",
            "email": via_postmark.to_address,
            "timestamp": int(time.time()),
            "sg_event_id": uuid.uuid4().hex,
            "rapport_message_id": str(via_postmark.pk),
        },
    ]

    response = Client().post(
        "/hooks/email/sendgrid/tracking/", json.dumps(events), content_type="application/json", HTTP_AUTHORIZATION=AUTH
    )

    assert response.status_code == 200
    via_postmark.refresh_from_db()
    assert via_postmark.status == MessageStatus.DELIVERED
    assert via_postmark.open_count == 1


def test_a_brevo_soft_bounce_does_not_suppress(via_postmark):
    event = {
        "event": "soft_bounce",
        "email": via_postmark.to_address,
        "message-id": via_postmark.provider_message_id,
        "ts_epoch": int(time.time() * 1000),
        "reason": "mailbox full",
    }

    response = Client().post(
        "/hooks/email/brevo/tracking/", json.dumps(event), content_type="application/json", HTTP_AUTHORIZATION=AUTH
    )

    assert response.status_code == 200
    via_postmark.refresh_from_db()
    assert via_postmark.status == MessageStatus.SENT
    assert not Suppression.objects.exists()


@pytest.mark.skipif(importlib.util.find_spec("boto3") is not None, reason="boto3 is installed here")
def test_amazon_ses_webhooks_without_boto3_are_not_in_service(db, caplog):
    with caplog.at_level(logging.ERROR, logger=WEBHOOK_LOGGER):
        response = Client().post(
            "/hooks/email/amazonses/tracking/", "{}", content_type="application/json", HTTP_AUTHORIZATION=AUTH
        )

    assert response.status_code == 404
    assert any("boto3" in r.getMessage() for r in caplog.records if r.name == WEBHOOK_LOGGER)
