"""Pictures and files people send by MMS or WhatsApp: the webhook stores the message at once and says what is coming;
the background fetch downloads each item from a fake Twilio (basic auth, a redirect to its storage) and stores it on
the message, or leaves a line saying why it was not kept. Retried on Twilio's passing trouble, never stored twice."""

import base64
import json
import os
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from rapport.messaging.channels.sms.media import MAX_ATTEMPTS, twilio_media_fetch_due
from rapport.messaging.models import InboundMedia, MediaStatus, Message, MessageAttachment, MessageDirection
from tests.messaging.channels.sms.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, WHATSAPP_FROM, signed_post

INBOUND = "/hooks/twilio/inbound"
JPEG = b"\xff\xd8\xff\xe0" + b"picture-bytes" * 50
PDF = b"%PDF-1.7\n" + b"cv-bytes" * 80
BASIC = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def web(db):
    return Client()


def _inbound(web, body, media, *, sid="MM" + "1" * 32, whatsapp=False):
    data = {
        "MessageSid": sid,
        "From": "whatsapp:+14155550101" if whatsapp else "+14155550101",
        "To": f"whatsapp:{WHATSAPP_FROM}" if whatsapp else FROM_NUMBER,
        "Body": body,
        "NumMedia": str(len(media)),
    }
    for n, (url, content_type) in enumerate(media):
        data[f"MediaUrl{n}"] = url
        data[f"MediaContentType{n}"] = content_type
    response = signed_post(web, INBOUND, data)
    assert response.status_code == 200
    return Message.objects.get(direction=MessageDirection.INBOUND, provider_message_id=sid)


def _later(minutes: float) -> timezone.datetime:
    return timezone.now() + timedelta(minutes=minutes)


def test_two_pictures_are_announced_at_once_then_fetched_and_stored_with_their_bytes(web, texter, twilio):
    photo = twilio.add_media(JPEG, "image/jpeg")
    cv = twilio.add_media(PDF, "application/pdf")

    message = _inbound(web, "Here is my CV and a photo", [(photo, "image/jpeg"), (cv, "application/pdf")])

    # The webhook answered without downloading anything; the thread says what is on its way.
    assert not twilio.media_requests and not message.attachments.exists()
    assert message.text == "Here is my CV and a photo\n\n📎 1 picture and 1 PDF, downloading…"
    assert list(message.media.values_list("status", flat=True)) == [MediaStatus.PENDING] * 2

    assert twilio_media_fetch_due() == 2

    stored = list(message.attachments.order_by("id"))
    assert [(a.filename, a.content_type, a.size) for a in stored] == [
        ("picture-1.jpg", "image/jpeg", len(JPEG)),
        ("pdf-2.pdf", "application/pdf", len(PDF)),
    ]
    assert [a.file.read() for a in stored] == [JPEG, PDF]
    message.refresh_from_db()
    assert message.text == "Here is my CV and a photo"
    assert set(message.media.values_list("status", flat=True)) == {MediaStatus.STORED}
    assert {m.attachment_id for m in message.media.all()} == {a.pk for a in stored}


def test_credentials_go_to_twilios_api_only_not_to_the_storage_it_redirects_to(web, texter, twilio):
    photo = twilio.add_media(JPEG, "image/jpeg")
    _inbound(web, "", [(photo, "image/jpeg")], whatsapp=True)

    twilio_media_fetch_due()

    api, storage = twilio.media_requests
    assert api["path"].startswith(f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/") and api["auth"] == BASIC
    assert storage["path"].startswith("/storage/ME") and storage["auth"] is None
    assert MessageAttachment.objects.get().file.read() == JPEG


def test_a_type_we_do_not_keep_is_refused_with_the_reason_without_downloading_it(web, texter, twilio):
    archive = twilio.add_media(b"PK\x03\x04", "application/zip")
    photo = twilio.add_media(JPEG, "image/jpeg")

    message = _inbound(web, "Files", [(archive, "application/zip"), (photo, "image/jpeg")])

    assert message.text == (
        "Files\n\n📎 1 picture, downloading…\n"
        "📎 A file was not kept: application/zip is not a type Rapport keeps (Rapport keeps pictures, PDFs, audio, "
        "video, contact cards and plain text)."
    )
    refused = message.media.get(position=0)
    assert refused.status == MediaStatus.REFUSED and "application/zip" in refused.error

    assert twilio_media_fetch_due() == 1

    assert all(f"/Media/{archive.rsplit('/', 1)[1]}" not in r["path"] for r in twilio.media_requests)
    message.refresh_from_db()
    assert message.text.startswith("Files\n\n📎 A file was not kept: application/zip is not a type Rapport keeps")
    assert "downloading" not in message.text
    assert [a.content_type for a in message.attachments.all()] == ["image/jpeg"]


def test_a_file_served_as_another_type_than_announced_is_refused(web, texter, twilio):
    disguised = twilio.add_media(b"MZ\x90\x00", "image/jpeg", served_as="application/x-msdownload")
    message = _inbound(web, "Look", [(disguised, "image/jpeg")])

    twilio_media_fetch_due()

    message.refresh_from_db()
    assert not message.attachments.exists()
    assert message.text == "Look\n\n📎 A picture was not kept: application/x-msdownload is not a type Rapport keeps."
    assert message.media.get().status == MediaStatus.REFUSED


def test_media_announced_without_a_type_is_fetched_and_kept_as_the_type_it_is_served_as(web, texter, twilio):
    card = twilio.add_media(b"BEGIN:VCARD\r\nFN:Grace Hopper\r\nEND:VCARD\r\n", "text/vcard")
    message = _inbound(web, "", [(card, "")])

    assert message.text == "📎 1 file, downloading…"
    twilio_media_fetch_due()

    stored = message.attachments.get()
    assert (stored.filename, stored.content_type) == ("contact-card-1.vcf", "text/vcard")
    message.refresh_from_db()
    assert message.text == ""


def test_wrong_credentials_are_retried_not_refused(web, texter, twilio, settings):
    photo = twilio.add_media(JPEG, "image/jpeg")
    message = _inbound(web, "Photo", [(photo, "image/jpeg")])
    settings.TWILIO_AUTH_TOKEN = "not-the-token"

    twilio_media_fetch_due()

    item = message.media.get()
    assert item.status == MediaStatus.PENDING and "TWILIO_AUTH_TOKEN" in item.error


def test_a_file_over_the_size_limit_is_refused_saying_how_big_it_is(web, texter, twilio, settings):
    settings.TWILIO_MEDIA_MAX_BYTES = 1024 * 1024
    video = twilio.add_media(b"\x00" * (2 * 1024 * 1024 + 1024 * 100), "video/mp4")
    message = _inbound(web, "My intro video", [(video, "video/mp4")])

    assert message.text == "My intro video\n\n📎 1 video, downloading…"
    twilio_media_fetch_due()

    message.refresh_from_db()
    assert message.text == "My intro video\n\n📎 A video was not kept: it is 2.1 MB, over the 1 MB limit."
    assert not MessageAttachment.objects.exists()


def test_a_server_error_is_retried_later_and_then_the_file_is_stored(web, texter, twilio):
    photo = twilio.add_media(JPEG, "image/jpeg")
    message = _inbound(web, "Photo", [(photo, "image/jpeg")])
    twilio.fail_media_with(500)

    assert twilio_media_fetch_due() == 1

    item = message.media.get()
    assert item.status == MediaStatus.PENDING and item.attempts == 1 and "HTTP 500" in item.error
    assert item.due_at > timezone.now() and item.claimed_until is None
    # Not due yet: a run now leaves it alone.
    assert twilio_media_fetch_due() == 0

    assert twilio_media_fetch_due(now=item.due_at + timedelta(seconds=1)) == 1

    item.refresh_from_db()
    assert item.status == MediaStatus.STORED and item.attempts == 2 and item.error == ""
    assert message.attachments.get().file.read() == JPEG
    message.refresh_from_db()
    assert message.text == "Photo"


def test_media_that_stays_missing_is_given_up_after_the_last_try_with_the_reason(web, texter, twilio):
    photo = twilio.add_media(JPEG, "image/jpeg")
    message = _inbound(web, "Photo", [(photo, "image/jpeg")])
    twilio.fail_media_with(404, times=MAX_ATTEMPTS)

    minutes = 0.0
    for _ in range(MAX_ATTEMPTS):
        assert twilio_media_fetch_due(now=_later(minutes)) == 1
        minutes += 120

    item = message.media.get()
    assert item.status == MediaStatus.REFUSED and item.attempts == MAX_ATTEMPTS
    message.refresh_from_db()
    assert message.text == f"Photo\n\n📎 A picture was not kept: Twilio answered HTTP 404 ({MAX_ATTEMPTS} tries)."
    assert twilio_media_fetch_due(now=_later(minutes + 600)) == 0
    assert not message.attachments.exists()


def test_running_the_fetch_twice_or_receiving_the_webhook_twice_stores_each_file_once(web, texter, twilio):
    photo = twilio.add_media(JPEG, "image/jpeg")
    _inbound(web, "Photo", [(photo, "image/jpeg")])
    _inbound(web, "Photo", [(photo, "image/jpeg")])

    assert twilio_media_fetch_due() == 1
    assert twilio_media_fetch_due() == 0
    assert twilio_media_fetch_due(now=_later(60 * 24)) == 0

    assert InboundMedia.objects.count() == 1 and MessageAttachment.objects.count() == 1
    assert len([r for r in twilio.media_requests if "/Media/" in r["path"]]) == 1


def test_a_worker_whose_claim_ran_out_does_not_store_what_another_one_took_over(web, texter, twilio):
    from rapport.automation.claims import claim_due
    from rapport.messaging.channels.sms.media import LEASE, _settle

    photo = twilio.add_media(JPEG, "image/jpeg")
    _inbound(web, "Photo", [(photo, "image/jpeg")])
    now = timezone.now()
    (stale,) = claim_due(InboundMedia.objects.all(), limit=1, now=now, order_by=("due_at", "id"), lease=LEASE)

    # The first worker stalls past its lease; a second one claims the item and stores it.
    assert twilio_media_fetch_due(now=now + LEASE + timedelta(seconds=1)) == 1
    assert _settle(stale, status=MediaStatus.REFUSED, error="too late") is False

    item = InboundMedia.objects.get()
    assert item.status == MediaStatus.STORED and MessageAttachment.objects.count() == 1


def test_a_media_url_not_on_twilios_api_is_refused_without_sending_credentials(web, texter, twilio):
    message = _inbound(web, "Look", [("https://attacker.example.net/steal.jpg", "image/jpeg")])

    twilio_media_fetch_due()

    message.refresh_from_db()
    assert "was not kept: its address is not on Twilio's API" in message.text
    assert not twilio.media_requests


def test_the_thread_shows_what_is_downloading_and_then_the_stored_file(web, recruiter, texter, twilio):
    photo = twilio.add_media(JPEG, "image/jpeg")
    _inbound(web, "Photo attached", [(photo, "image/jpeg")])
    viewer = Client()
    viewer.force_login(recruiter)
    thread = f"/messages/to/{texter.pk}/thread/"

    before = viewer.get(thread, HTTP_HX_REQUEST="true").content.decode()
    twilio_media_fetch_due()
    after = viewer.get(thread, HTTP_HX_REQUEST="true").content.decode()

    assert "1 picture, downloading" in before and "picture-1.jpg" not in before
    assert "picture-1.jpg" in after and "downloading" not in after


# --- with Redis: the Celery task ------------------------------------------------------------------------------------

needs_redis = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"), reason="needs Redis: set REDIS_URL (CI's PostgreSQL run does)"
)


@pytest.fixture
def broker():
    """The real Redis broker, with Rapport's queue and the follow-up marks emptied before and after the test."""
    import redis

    from rapport.config.celery import DEFAULT_QUEUE

    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete(DEFAULT_QUEUE)
    cache.clear()
    yield client
    client.delete(DEFAULT_QUEUE)
    cache.clear()


def _queued(client) -> list[str]:
    from rapport.config.celery import DEFAULT_QUEUE

    return [json.loads(raw)["headers"]["task"] for raw in reversed(client.lrange(DEFAULT_QUEUE, 0, -1))]


@needs_redis
def test_with_redis_the_webhook_enqueues_the_fetch_task_once_committed(
    web, texter, twilio, broker, django_capture_on_commit_callbacks
):
    photo = twilio.add_media(JPEG, "image/jpeg")

    with django_capture_on_commit_callbacks(execute=True):
        _inbound(web, "Photo", [(photo, "image/jpeg")])

    assert _queued(broker) == ["rapport.twilio.media.fetch"]


def test_media_waiting_for_a_retry_is_given_a_task_by_the_scheduler_once_it_is_due(web, texter, twilio):
    """With Redis, the scheduler finds due media like any other due rows, so a retry needs no task of its own."""
    from rapport.automation import engine

    photo = twilio.add_media(JPEG, "image/jpeg")
    _inbound(web, "Photo", [(photo, "image/jpeg")])
    twilio.fail_media_with(500)
    assert twilio_media_fetch_due() == 1
    waiting = InboundMedia.objects.get()
    enqueued: list[tuple[str, int]] = []

    def record(kind: str, count: int) -> None:
        enqueued.append((kind, count))

    engine.Scheduler(enqueue=record).tick(now=waiting.due_at - timedelta(seconds=1))
    before = [kind for kind, _ in enqueued]
    cache.delete(engine.queued_key("twilio_media"))
    engine.Scheduler(enqueue=record).tick(now=waiting.due_at + timedelta(seconds=1))

    assert waiting.status == MediaStatus.PENDING and waiting.attempts == 1
    assert "twilio_media" not in before
    assert ("twilio_media", 1) in enqueued
