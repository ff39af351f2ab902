"""SMS and WhatsApp out through the outbox: `message_send` queues, `outbox_deliver_due` hands the text to a fake
Twilio on loopback; retries, refusals, opt-outs and a missing setup end the way the outbox promises."""

from datetime import timedelta

import pytest
from django.utils import timezone

from rapport.messaging.channels.sms.transport import SmsTransport
from rapport.messaging.channels.whatsapp.transport import WhatsAppTransport
from rapport.messaging.models import Message, MessageStatus, Suppression
from rapport.messaging.services import message_send, outbox_deliver_due
from rapport.messaging.services_inbound import message_receive
from rapport.timeline.models import Activity
from tests.factories import make_candidate
from tests.messaging.channels.sms.fake_twilio import ACCOUNT_SID, FROM_NUMBER, PUBLIC_URL, WHATSAPP_FROM


def _text(actor, candidate, body="Hi {{ candidate.first_name }}, are you free for a call?", channel="sms"):
    return message_send(actor=actor, candidate=candidate, body=body, channel=channel)


def test_the_outbox_sends_an_sms_through_twilio_and_keeps_its_sid(recruiter, texter, twilio):
    message = _text(recruiter, texter)

    assert outbox_deliver_due() == 1

    (form,) = twilio.forms
    assert form == {
        "To": "+14155550101",
        "From": FROM_NUMBER,
        "Body": "Hi Grace, are you free for a call?",
        "StatusCallback": f"{PUBLIC_URL}/hooks/twilio/status",
    }
    assert twilio.requests[0]["path"] == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT and message.sent_at is not None
    assert message.provider_message_id.startswith("SM") and len(message.provider_message_id) == 34
    assert Activity.objects.filter(candidate=texter, type="message.sent", payload__channel="sms").count() == 1


def test_whatsapp_goes_from_the_whatsapp_number_with_prefixed_addresses(recruiter, texter, twilio):
    # Free-form WhatsApp text needs the person to have written in the last 24 hours (channels/whatsapp tests).
    message_receive(candidate=texter, channel="whatsapp", from_address="+14155550101", text="Hi")
    message = _text(recruiter, texter, body="Hello on WhatsApp", channel="whatsapp")

    outbox_deliver_due()

    (form,) = twilio.forms
    assert form["To"] == "whatsapp:+14155550101" and form["From"] == f"whatsapp:{WHATSAPP_FROM}"
    assert form["Body"] == "Hello on WhatsApp"
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT and message.provider_message_id.startswith("SM")


def test_a_messaging_service_replaces_the_from_number(recruiter, texter, twilio, settings):
    settings.TWILIO_MESSAGING_SERVICE_SID = "MG" + "b" * 32
    _text(recruiter, texter)

    outbox_deliver_due()

    assert twilio.forms[0]["MessagingServiceSid"] == "MG" + "b" * 32 and "From" not in twilio.forms[0]


@pytest.mark.parametrize(("sessions", "messages"), [(1, 3), (2, 6)])
def test_a_batch_of_texts_reuses_each_connection(recruiter, twilio, settings, sessions, messages):
    settings.RAPPORT_DELIVERY_CONNECTIONS = sessions
    people = [make_candidate(actor=recruiter, first_name=f"P{n}", phones=[f"+1415555011{n}"]) for n in range(messages)]
    for person in people:
        _text(recruiter, person, body="Hello")

    assert outbox_deliver_due() == messages

    assert len(twilio.requests) == messages
    # One connection per sending session for the whole batch, never one per message.
    assert 1 <= twilio.connections <= sessions
    assert Message.objects.filter(status=MessageStatus.SENT).exclude(provider_message_id="").count() == messages


def test_a_twilio_server_error_is_retried_later(recruiter, texter, twilio):
    twilio.fail_with(500, None, "Internal Server Error")
    message = _text(recruiter, texter)

    outbox_deliver_due()

    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED and message.attempts == 1
    assert "500" in message.last_error and message.next_attempt_at > timezone.now()
    assert not Activity.objects.filter(candidate=texter, type="message.failed").exists()

    assert outbox_deliver_due(now=message.next_attempt_at + timedelta(seconds=1)) == 1

    message.refresh_from_db()
    assert message.status == MessageStatus.SENT and message.attempts == 2 and message.last_error == ""
    assert len(twilio.requests) == 2


def test_rate_limiting_holds_back_the_rest_of_the_batch(recruiter, twilio, settings):
    settings.RAPPORT_DELIVERY_CONNECTIONS = 1
    people = [make_candidate(actor=recruiter, first_name=f"P{n}", phones=[f"+1415555012{n}"]) for n in range(2)]
    for person in people:
        _text(recruiter, person, body="Hello")
    twilio.fail_with(429, 20429, "Too Many Requests")

    outbox_deliver_due()

    assert len(twilio.requests) == 1
    assert set(Message.objects.values_list("status", flat=True)) == {MessageStatus.QUEUED}


def test_twilio_unreachable_leaves_the_text_queued(recruiter, texter, twilio):
    twilio.stop()
    message = _text(recruiter, texter)

    outbox_deliver_due()

    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED and "could not be reached" in message.last_error


def test_an_invalid_number_fails_with_twilios_reason(recruiter, texter, twilio):
    twilio.fail_with(400, 21211, "The 'To' number +14155550101 is not a valid phone number.")
    message = _text(recruiter, texter)

    outbox_deliver_due()

    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED and message.attempts == 1
    assert "21211" in message.last_error and "not a valid phone number" in message.last_error
    failed = Activity.objects.get(candidate=texter, type="message.failed")
    assert "21211" in failed.payload["reason"]


def test_a_number_that_opted_out_at_twilio_is_suppressed(recruiter, texter, twilio):
    twilio.fail_with(400, 21610, "Attempt to send to unsubscribed recipient")
    message = _text(recruiter, texter)

    outbox_deliver_due()

    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED and "unsubscribed" in message.last_error
    assert Suppression.objects.filter(address="+14155550101", channel="sms", reason="unsubscribed").exists()
    assert Activity.objects.filter(candidate=texter, type="candidate.unsubscribed").count() == 1
    # WhatsApp is another channel: the opt-out was for text messages.
    assert not Suppression.objects.filter(channel="whatsapp").exists()


@pytest.mark.parametrize(
    ("channel", "unset", "named"),
    [
        ("sms", "TWILIO_ACCOUNT_SID", "TWILIO_ACCOUNT_SID"),
        ("sms", "TWILIO_FROM_NUMBER", "TWILIO_FROM_NUMBER"),
        ("whatsapp", "TWILIO_WHATSAPP_FROM", "TWILIO_WHATSAPP_FROM"),
    ],
)
def test_without_twilio_set_up_the_message_fails_saying_what_to_set(
    recruiter, texter, twilio, settings, channel, unset, named
):
    setattr(settings, unset, "")
    message = _text(recruiter, texter, body="Hello", channel=channel)

    outbox_deliver_due()

    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert "is not set up" in message.last_error and named in message.last_error
    assert not twilio.requests


def test_the_transports_say_which_setting_is_missing(settings):
    settings.TWILIO_ACCOUNT_SID = settings.TWILIO_AUTH_TOKEN = ""

    assert SmsTransport().setup_problem().startswith("SMS is not set up: set TWILIO_ACCOUNT_SID")
    assert WhatsAppTransport().setup_problem().startswith("WhatsApp is not set up: set TWILIO_ACCOUNT_SID")


def test_the_status_callback_is_the_status_webhook_route(settings):
    from django.urls import reverse

    from rapport.messaging.channels.sms.transport import status_callback_url

    settings.BASE_URL = "https://ats.example.org"

    assert status_callback_url() == "https://ats.example.org" + reverse("twilio_hooks:status")
