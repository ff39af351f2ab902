"""Twilio's webhooks, called the way Twilio calls them: signed form POSTs to the public URL. Delivery reports move
a sent text forward; texts people send land on their thread; STOP and START change what may be sent."""

import logging

import pytest
from django.test import Client

from rapport.common.errors import ValidationFailed
from rapport.messaging.models import Message, MessageDirection, MessageStatus, Suppression
from rapport.messaging.services import message_send, outbox_deliver_due, suppression_add
from rapport.timeline.models import Activity
from tests.messaging.channels.sms.fake_twilio import FROM_NUMBER, WHATSAPP_FROM, signed_post

STATUS = "/hooks/twilio/status"
INBOUND = "/hooks/twilio/inbound"


@pytest.fixture
def web(db):
    return Client()


@pytest.fixture
def sent(recruiter, texter, twilio):
    """An SMS the outbox handed to Twilio, with the SID Twilio gave it."""
    message = message_send(actor=recruiter, candidate=texter, body="Are you free on Tuesday?", channel="sms")
    outbox_deliver_due()
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    return message


def _report(web, message, status, **extra):
    return signed_post(web, STATUS, {"MessageSid": message.provider_message_id, "MessageStatus": status, **extra})


def _events(message, event):
    return Activity.objects.filter(type=event, payload__message_id=message.pk).count()


def test_a_delivery_report_marks_the_text_delivered_once(web, sent):
    first = _report(web, sent, "delivered")
    again = _report(web, sent, "delivered")

    assert first.status_code == again.status_code == 200
    assert first["Content-Type"].startswith("text/xml") and b"<Response/>" in first.content
    sent.refresh_from_db()
    assert sent.status == MessageStatus.DELIVERED and sent.delivered_at is not None
    assert _events(sent, "message.delivered") == 1


def test_a_late_sent_report_does_not_move_a_delivered_text_back(web, sent):
    _report(web, sent, "delivered")

    for status in ("sent", "queued", "failed"):
        assert _report(web, sent, status, ErrorCode="30003").status_code == 200

    sent.refresh_from_db()
    assert sent.status == MessageStatus.DELIVERED and sent.last_error == ""
    assert _events(sent, "message.failed") == 0


def test_an_undelivered_text_fails_with_the_carriers_reason(web, sent):
    response = _report(web, sent, "undelivered", ErrorCode="30005", ErrorMessage="Unknown destination handset")

    assert response.status_code == 200
    sent.refresh_from_db()
    assert sent.status == MessageStatus.FAILED
    assert "30005" in sent.last_error and "does not exist" in sent.last_error
    failed = Activity.objects.get(type="message.failed", payload__message_id=sent.pk)
    assert "30005" in failed.payload["reason"]


def test_a_whatsapp_read_receipt_counts_as_delivered_and_opened(web, recruiter, texter, twilio):
    # Inside WhatsApp's 24-hour window, so the free-form text may go.
    _inbound(web, "Hi", sender="whatsapp:+14155550101", to=f"whatsapp:{WHATSAPP_FROM}", sid="SM" + "9" * 32)
    message = message_send(actor=recruiter, candidate=texter, body="Hello", channel="whatsapp")
    outbox_deliver_due()
    message.refresh_from_db()

    _report(web, message, "read")
    _report(web, message, "read")

    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED and message.opened_at is not None and message.open_count == 1
    assert _events(message, "message.delivered") == 1 and _events(message, "message.opened") == 1


def test_a_report_for_a_message_we_did_not_send_is_accepted_and_ignored(web, sent):
    response = signed_post(web, STATUS, {"MessageSid": "SM" + "f" * 32, "MessageStatus": "delivered"})

    assert response.status_code == 200
    sent.refresh_from_db()
    assert sent.status == MessageStatus.SENT


@pytest.mark.parametrize("signature", ["", "bm90IGEgc2lnbmF0dXJl", "wrong-token"])
def test_an_unsigned_or_forged_report_is_refused_and_changes_nothing(web, sent, signature, caplog):
    data = {"MessageSid": sent.provider_message_id, "MessageStatus": "delivered"}

    with caplog.at_level(logging.WARNING, logger="rapport.messaging.channels.sms.views"):
        if signature == "wrong-token":
            response = signed_post(web, STATUS, data, token="not-our-token")
        else:
            response = signed_post(web, STATUS, data, signature=signature)

    assert response.status_code == 403
    assert "X-Twilio-Signature" in caplog.text
    sent.refresh_from_db()
    assert sent.status == MessageStatus.SENT and _events(sent, "message.delivered") == 0


def test_a_signature_for_another_url_is_refused(web, sent, settings):
    # Signed for the public URL, but Rapport believes it lives elsewhere: the check must fail, not pass.
    settings.BASE_URL = "https://elsewhere.example.org"

    assert _report(web, sent, "delivered").status_code == 403


def test_the_webhooks_take_only_post(web, twilio):
    assert web.get(STATUS).status_code == 405
    assert web.get(INBOUND).status_code == 405


def test_an_address_that_keeps_sending_forgeries_is_rate_limited(web, sent, settings):
    settings.RAPPORT_API_RATE_LIMIT = 2
    data = {"MessageSid": sent.provider_message_id, "MessageStatus": "delivered"}

    statuses = [signed_post(web, STATUS, data, signature="forged").status_code for _ in range(3)]

    assert statuses == [403, 403, 429]


# --- inbound --------------------------------------------------------------------------------------------------------


def _inbound(web, body, *, sender="+14155550101", to=FROM_NUMBER, sid="SM" + "1" * 32, signature=None, **extra):
    data = {"MessageSid": sid, "From": sender, "To": to, "Body": body, **extra}
    return signed_post(web, INBOUND, data, signature=signature)


def test_a_text_from_a_known_number_lands_on_the_persons_thread(web, sent, texter):
    response = _inbound(web, "Yes, Tuesday works!")

    assert response.status_code == 200 and response["Content-Type"].startswith("text/xml")
    reply = Message.objects.get(direction=MessageDirection.INBOUND)
    assert (reply.candidate, reply.channel, reply.status) == (texter, "sms", MessageStatus.RECEIVED)
    assert reply.text == "Yes, Tuesday works!" and reply.from_address == "+14155550101"
    assert reply.to_address == FROM_NUMBER and reply.provider_message_id == "SM" + "1" * 32
    assert reply.message_id == f"<twilio-SM{'1' * 32}@inbound.rapport>"
    assert reply.in_reply_to == sent.message_id
    received = Activity.objects.get(candidate=texter, type="message.received")
    assert received.payload["in_reply_to_id"] == sent.pk and received.payload["channel"] == "sms"


def test_the_same_text_delivered_twice_is_stored_once(web, texter, twilio):
    _inbound(web, "Hello")
    _inbound(web, "Hello")

    assert Message.objects.filter(direction=MessageDirection.INBOUND).count() == 1


def test_a_whatsapp_message_is_stored_on_the_whatsapp_channel_with_its_pictures(web, texter, twilio):
    media = "https://api.twilio.com/2010-04-01/Accounts/AC/Messages/MM1/Media/ME1"

    _inbound(
        web,
        "Here is my portfolio",
        sender="whatsapp:+14155550101",
        to=f"whatsapp:{WHATSAPP_FROM}",
        NumMedia="1",
        MediaUrl0=media,
        MediaContentType0="image/jpeg",
    )

    reply = Message.objects.get(direction=MessageDirection.INBOUND)
    assert reply.channel == "whatsapp" and reply.from_address == "+14155550101" and reply.to_address == WHATSAPP_FROM
    # The picture is fetched after the webhook answered (tests/messaging/channels/sms/test_media.py).
    assert reply.text == "Here is my portfolio\n\n📎 1 picture, downloading…"
    assert list(reply.media.values_list("url", "content_type", "status")) == [(media, "image/jpeg", "pending")]
    assert reply.in_reply_to == ""


def test_a_text_from_an_unknown_number_is_answered_and_logged_only(web, twilio, caplog):
    with caplog.at_level(logging.INFO, logger="rapport.messaging.channels.sms.services"):
        response = _inbound(web, "Who is this?", sender="+14155550177")

    assert response.status_code == 200
    assert not Message.objects.exists()
    assert "unknown number" in caplog.text and "+14155550177" not in caplog.text


def test_a_forged_inbound_text_is_refused(web, texter, twilio):
    response = _inbound(web, "STOP", signature="forged")

    assert response.status_code == 403
    assert not Message.objects.exists() and not Suppression.objects.exists()


@pytest.mark.parametrize("word", ["STOP", "stop", " Unsubscribe ", "QUIT", "cancel", "END", "STOPALL"])
def test_stop_suppresses_the_number_and_records_the_unsubscribe(web, texter, twilio, word):
    _inbound(web, word)

    suppression = Suppression.objects.get(address="+14155550101", channel="sms")
    assert suppression.reason == "unsubscribed"
    unsubscribed = Activity.objects.get(candidate=texter, type="candidate.unsubscribed")
    assert unsubscribed.payload["channel"] == "sms" and word.strip().upper() in unsubscribed.payload["source"]
    # What they wrote is on their thread too.
    assert Message.objects.filter(direction=MessageDirection.INBOUND, candidate=texter).count() == 1


def test_after_stop_the_next_text_is_refused_and_a_queued_one_is_not_sent(web, recruiter, texter, twilio):
    queued = message_send(actor=recruiter, candidate=texter, body="Reminder", channel="sms")

    _inbound(web, "STOP")

    with pytest.raises(ValidationFailed) as caught:
        message_send(actor=recruiter, candidate=texter, body="One more thing", channel="sms")
    assert caught.value.fields["candidate_id"] == ["+14155550101 is on the suppression list (unsubscribed)."]
    outbox_deliver_due()
    queued.refresh_from_db()
    assert queued.status == MessageStatus.SUPPRESSED and not twilio.requests
    # Email is another channel: the person stopped texts, not email.
    assert message_send(actor=recruiter, candidate=texter, subject="Hi", body="Hello").status == MessageStatus.QUEUED


def test_whatsapp_stop_suppresses_whatsapp_only(web, texter, twilio):
    _inbound(web, "STOP", sender="whatsapp:+14155550101", to=f"whatsapp:{WHATSAPP_FROM}")

    assert list(Suppression.objects.values_list("channel", flat=True)) == ["whatsapp"]


def test_start_undoes_the_persons_own_stop(web, texter, twilio):
    _inbound(web, "STOP", sid="SM" + "2" * 32)

    _inbound(web, "start", sid="SM" + "3" * 32)

    assert not Suppression.objects.exists()
    given = Activity.objects.get(candidate=texter, type="consent.given")
    assert given.payload["channel"] == "sms" and "START" in given.payload["source"]


def test_start_does_not_lift_a_suppression_the_team_added(web, texter, twilio):
    suppression_add(address="+14155550101", channel="sms", reason="manual")

    _inbound(web, "UNSTOP")

    assert Suppression.objects.filter(address="+14155550101", reason="manual").exists()


def test_stop_from_an_unknown_number_still_suppresses_it(web, twilio):
    _inbound(web, "STOP", sender="+14155550166")

    assert Suppression.objects.filter(address="+14155550166", channel="sms").exists()
    assert not Activity.objects.filter(type="candidate.unsubscribed").exists()
