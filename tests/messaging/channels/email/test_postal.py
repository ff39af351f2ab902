"""Postal: EMAIL_URL, sending through a fake Postal send API on loopback, and its RSA-signed webhooks over HTTP."""

import base64
import email
import json
import logging
import time
import uuid
from email import policy
from email.message import EmailMessage

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from rapport.config.settings import _email_settings, _webhook_settings
from rapport.messaging.models import InboundEmail, InboundStatus, Message, MessageStatus, Suppression
from rapport.messaging.services import message_send, outbox_deliver_due
from rapport.timeline.models import Activity
from tests.messaging.channels.email.fake_providers import (
    WEBHOOK_PASSWORD,
    WEBHOOK_USER,
    FakeProvider,
    basic_auth,
    serving,
)

POSTAL_KEY = "postal-api-key-test"
POSTAL_URL = f"postal://{POSTAL_KEY}@postal.acme.example?api_url={{url}}/&timeout=5"
POSTAL_HOOK = "/hooks/email/postal/tracking/"
POSTAL_INBOUND = "/hooks/email/postal/inbound/"
WEBHOOK_LOGGER = "rapport.messaging.channels.email.webhooks"


class FakePostal(FakeProvider):
    """Postal's legacy send API: X-Server-API-Key, always HTTP 200, `status` says whether it worked.

    /api/v1/send/message builds the MIME itself and gives it a Message-ID of Postal's own, as Postal does;
    /api/v1/send/raw takes the MIME as it is. Each recipient's copy gets a numeric id.
    """

    next_id = 7001

    def accepted(self, request: dict) -> tuple[int, dict]:
        if request["headers"].get("X-Server-API-Key") != POSTAL_KEY:
            return 200, {
                "status": "error",
                "time": 0.01,
                "flags": {},
                "data": {
                    "code": "InvalidServerAPIKey",
                    "message": "The API token provided in X-Server-API-Key was not valid.",
                    "token": request["headers"].get("X-Server-API-Key"),
                },
            }
        params = request["json"]
        if request["path"] == "/api/v1/send/raw":
            message = email.message_from_bytes(base64.b64decode(params["data"]), policy=policy.default)
            message_id, recipients = message["Message-ID"].strip("<>"), params["rcpt_to"]
        elif request["path"] == "/api/v1/send/message":
            message_id, recipients = f"{uuid.uuid4()}@postal.acme.example", params["to"]
        else:
            return 404, {"status": "error", "data": {"code": "NotFound"}}
        messages = {}
        for address in recipients:
            messages[address] = {"id": FakePostal.next_id, "token": uuid.uuid4().hex[:12]}
            self.ids.append(str(FakePostal.next_id))
            FakePostal.next_id += 1
        return 200, {
            "status": "success",
            "time": 0.05,
            "flags": {},
            "data": {"message_id": message_id, "messages": messages},
        }


@pytest.fixture(scope="module")
def postal_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _public_base64(key: rsa.RSAPrivateKey) -> str:
    """The public key as Postal shows it for webhook signatures: base64 of the DER, no PEM lines."""
    return base64.b64encode(key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)).decode()


@pytest.fixture(autouse=True)
def _own_cache(settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": uuid.uuid4().hex}
    }


@pytest.fixture
def webhook_key(settings, monkeypatch, postal_key):
    """POSTAL_WEBHOOK_KEY set, and no basic auth: Postal proves each request by its signature alone."""
    monkeypatch.delenv("RAPPORT_WEBHOOK_SECRET", raising=False)
    monkeypatch.setenv("POSTAL_WEBHOOK_KEY", _public_base64(postal_key))
    settings.ANYMAIL = {**settings.ANYMAIL, **_webhook_settings()}
    settings.ANYMAIL.pop("WEBHOOK_SECRET", None)
    return postal_key


@pytest.fixture
def postal(settings):
    yield from serving(FakePostal(), settings, POSTAL_URL)


@pytest.fixture
def via_postal(recruiter, person, postal) -> Message:
    message = message_send(actor=recruiter, candidate=person, subject="A role for you", body="Hi!")
    outbox_deliver_due()
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    return message


def _types(person) -> list[str]:
    return list(Activity.objects.filter(candidate=person).order_by("id").values_list("type", flat=True))


# --- EMAIL_URL ------------------------------------------------------------------------------------------------------


def test_postal_url_gives_our_backend_the_key_and_the_servers_api():
    configured = _email_settings("postal://key%2Fabc@postal.example.org")

    assert configured["EMAIL_BACKEND"] == "rapport.messaging.channels.email.postal.EmailBackend"
    assert configured["ANYMAIL"] == {
        "POSTAL_API_KEY": "key/abc",
        "POSTAL_API_URL": "https://postal.example.org/",
        "REQUESTS_TIMEOUT": 10,
    }


def test_postal_url_keeps_a_port_and_api_url_overrides_it():
    assert _email_settings("postal://key@postal.example.org:8443")["ANYMAIL"]["POSTAL_API_URL"] == (
        "https://postal.example.org:8443/"
    )
    assert _email_settings("postal://key@postal.example.org?api_url=http://10.0.0.5:5000/")["ANYMAIL"][
        "POSTAL_API_URL"
    ] == ("http://10.0.0.5:5000/")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postal://key@", "EMAIL_URL needs the Postal server after the @"),
        (
            "postal://@postal.example.org",
            r"EMAIL_URL needs the postal API key before the @, as in postal://API_KEY@postal",
        ),
        ("postal://key@postal.example.org:99999", "EMAIL_URL has a port that is not a number"),
        ("postal://key@postal.example.org?region=eu", "EMAIL_URL has unknown options for postal: region"),
    ],
)
def test_bad_postal_urls_stop_start_up(url, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        _email_settings(url)


# --- sending --------------------------------------------------------------------------------------------------------


def test_postal_send_posts_our_own_mime_with_its_envelope(recruiter, person, postal, settings):
    message = message_send(actor=recruiter, candidate=person, subject="Hello {{ candidate.first_name }}", body="Hi!")

    outbox_deliver_due()

    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    [request] = postal.requests
    assert request["path"] == "/api/v1/send/raw"
    assert request["headers"]["X-Server-API-Key"] == POSTAL_KEY
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["json"]["rcpt_to"] == ["grace@example.org"]
    assert request["json"]["mail_from"] == settings.RAPPORT_EMAIL_FROM
    mime = email.message_from_bytes(base64.b64decode(request["json"]["data"]), policy=policy.default)
    # Our Message-ID reaches the recipient, so the reply's In-Reply-To finds the thread (send/message would replace it).
    assert mime["Message-ID"] == message.message_id
    assert mime["Subject"] == "Hello Grace"
    assert mime["To"] == "grace@example.org"
    assert settings.RAPPORT_EMAIL_FROM in mime["From"]
    assert mime["List-Unsubscribe"].strip().startswith("<http")
    assert "Hi!" in mime.get_body(("plain",)).get_content()
    assert "Bcc" not in mime
    # Postal's numeric id for the copy, as text: its webhooks name the message by it.
    assert message.provider_message_id == postal.ids[0]
    assert message.provider_message_id.isdigit()


def test_a_wrong_postal_api_key_keeps_the_message_for_later_without_repeating_the_key(
    recruiter, person, postal, settings
):
    settings.ANYMAIL = {**settings.ANYMAIL, "POSTAL_API_KEY": "postal-key-wrong"}
    message = message_send(actor=recruiter, candidate=person, subject="Hello", body="Hi!")

    outbox_deliver_due()

    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED
    assert "Postal refused the API key (InvalidServerAPIKey)" in message.last_error
    assert "postal-key-wrong" not in message.last_error


def test_a_postal_refusal_of_the_message_fails_it(recruiter, person, postal):
    message = message_send(actor=recruiter, candidate=person, subject="Hello", body="Hi!")
    postal.answer_next(200, {"status": "parameter-error", "data": {"message": "`rcpt_to` parameter is required"}})

    outbox_deliver_due()

    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert message.last_error.startswith("Postal answered 200")
    assert "rcpt_to" in message.last_error


# --- webhooks -------------------------------------------------------------------------------------------------------


def _message_block(message: Message) -> dict:
    return {
        "id": int(message.provider_message_id),
        "token": "abcdef123",
        "direction": "outgoing",
        "message_id": f"{uuid.uuid4()}@postal.acme.example",
        "to": message.to_address,
        "from": "noreply@acme.example",
        "subject": message.subject,
        "timestamp": time.time(),
        "spam_status": "NotSpam",
        "tag": None,
    }


def postal_webhook(event: str, payload: dict) -> bytes:
    """A webhook body as Postal posts it: the event, its time and uuid, and the event's payload."""
    return json.dumps(
        {"event": event, "timestamp": time.time(), "uuid": str(uuid.uuid4()), "payload": payload}
    ).encode()


def status_event(message: Message, status: str, **extra) -> bytes:
    event = {"Sent": "MessageSent", "SoftFail": "MessageDelayed", "HardFail": "MessageDeliveryFailed"}[status]
    return postal_webhook(
        event, {"status": status, "details": "", "output": "", "time": 0.2, "message": _message_block(message), **extra}
    )


def signature(body: bytes, key: rsa.RSAPrivateKey) -> str:
    """Postal's X-Postal-Signature: RSA PKCS#1 v1.5 with SHA-1 over the body, in base64."""
    return base64.b64encode(key.sign(body, padding.PKCS1v15(), hashes.SHA1())).decode()  # noqa: S303 - Postal's choice


def post_postal(body: bytes, key: rsa.RSAPrivateKey | None, *, hook: str = POSTAL_HOOK, **headers):
    if key is not None:
        headers["HTTP_X_POSTAL_SIGNATURE"] = signature(body, key)
    return Client().post(hook, body, content_type="application/json", **headers)


def test_a_signed_postal_delivery_is_recorded(via_postal, person, webhook_key):
    response = post_postal(status_event(via_postal, "Sent", output="250 2.0.0 OK"), webhook_key)

    assert response.status_code == 200
    via_postal.refresh_from_db()
    assert via_postal.status == MessageStatus.DELIVERED
    delivered = Activity.objects.get(type="message.delivered", candidate=person)
    assert delivered.payload["provider"] == "postal"
    assert delivered.payload["message_id"] == via_postal.pk


def test_a_postal_delivery_failure_is_a_hard_bounce_that_suppresses(via_postal, person, webhook_key):
    body = status_event(
        via_postal,
        "HardFail",
        details="Permanent SMTP delivery error when sending to mx.example.org",
        output="550 5.1.1 The email account that you tried to reach does not exist",
    )

    response = post_postal(body, webhook_key)

    assert response.status_code == 200
    via_postal.refresh_from_db()
    assert via_postal.status == MessageStatus.BOUNCED
    assert "5.1.1" in via_postal.last_error
    assert Suppression.objects.get(address="grace@example.org").reason == "hard_bounce"
    assert Activity.objects.get(type="message.bounced", candidate=person).payload["suppressed"] is True


def test_a_postal_bounce_message_bounces_the_message(via_postal, webhook_key):
    bounce = {**_message_block(via_postal), "id": 99, "direction": "incoming", "subject": "Delivery Error"}
    body = postal_webhook("MessageBounced", {"original_message": _message_block(via_postal), "bounce": bounce})

    response = post_postal(body, webhook_key)

    assert response.status_code == 200
    via_postal.refresh_from_db()
    assert via_postal.status == MessageStatus.BOUNCED
    assert Suppression.objects.filter(address="grace@example.org").exists()


def test_a_postal_delay_keeps_the_message_sent_and_the_address_usable(via_postal, person, webhook_key):
    response = post_postal(status_event(via_postal, "SoftFail", output="451 4.7.1 Try again later"), webhook_key)

    assert response.status_code == 200
    via_postal.refresh_from_db()
    assert via_postal.status == MessageStatus.SENT
    assert not Suppression.objects.exists()
    assert "message.bounced" not in _types(person)


def test_postal_opens_and_clicks_count(via_postal, person, webhook_key):
    loaded = {"ip_address": "192.0.2.1", "user_agent": "Mozilla/5.0", "message": _message_block(via_postal)}
    clicked = {"url": "https://jobs.example.com/roles/42", "token": "VJzsFA0S", **loaded}

    statuses = [
        post_postal(postal_webhook("MessageLoaded", loaded), webhook_key).status_code,
        post_postal(postal_webhook("MessageLinkClicked", clicked), webhook_key).status_code,
    ]

    assert statuses == [200, 200]
    via_postal.refresh_from_db()
    assert (via_postal.open_count, via_postal.click_count) == (1, 1)
    assert Activity.objects.get(type="message.clicked", candidate=person).payload["url"] == (
        "https://jobs.example.com/roles/42"
    )


def test_the_same_postal_webhook_twice_counts_once(via_postal, webhook_key):
    body = postal_webhook("MessageLoaded", {"ip_address": "192.0.2.1", "message": _message_block(via_postal)})

    post_postal(body, webhook_key)
    post_postal(body, webhook_key)

    via_postal.refresh_from_db()
    assert via_postal.open_count == 1


def test_a_tampered_postal_body_is_refused_and_logged(via_postal, person, webhook_key, caplog):
    signed = status_event(via_postal, "Sent")
    tampered = signed.replace(b'"Sent"', b'"HardFail"')

    with caplog.at_level(logging.WARNING, logger=WEBHOOK_LOGGER):
        response = post_postal(tampered, None, HTTP_X_POSTAL_SIGNATURE=signature(signed, webhook_key))

    assert response.status_code == 403
    [line] = [r.getMessage() for r in caplog.records if r.name == WEBHOOK_LOGGER]
    assert "postal" in line and "127.0.0.1" in line and "incorrect signature" in line
    via_postal.refresh_from_db()
    assert via_postal.status == MessageStatus.SENT
    assert not Suppression.objects.exists()


def test_a_postal_request_signed_with_another_key_is_refused(via_postal, webhook_key, caplog):
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    with caplog.at_level(logging.WARNING, logger=WEBHOOK_LOGGER):
        response = post_postal(status_event(via_postal, "Sent"), forger)

    assert response.status_code == 403
    assert any("postal" in r.getMessage() for r in caplog.records if r.name == WEBHOOK_LOGGER)
    via_postal.refresh_from_db()
    assert via_postal.status == MessageStatus.SENT


def test_a_postal_request_without_a_signature_is_refused(via_postal, webhook_key, caplog):
    with caplog.at_level(logging.WARNING, logger=WEBHOOK_LOGGER):
        response = post_postal(status_event(via_postal, "Sent"), None)

    assert response.status_code == 403
    assert any("X-Postal-Signature header missing" in r.getMessage() for r in caplog.records)
    via_postal.refresh_from_db()
    assert via_postal.status == MessageStatus.SENT


def test_with_basic_auth_set_postal_must_send_it_too(via_postal, webhook_key, settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": f"{WEBHOOK_USER}:{WEBHOOK_PASSWORD}"}
    body = status_event(via_postal, "Sent")

    without = post_postal(body, webhook_key)
    with_auth = post_postal(body, webhook_key, HTTP_AUTHORIZATION=basic_auth(WEBHOOK_USER, WEBHOOK_PASSWORD))

    assert (without.status_code, with_auth.status_code) == (403, 200)


def test_postal_without_its_webhook_key_is_not_in_service(via_postal, settings, caplog):
    # Basic auth alone is not enough: Postal always signs, so its key is what proves a request.
    settings.ANYMAIL = {"WEBHOOK_SECRET": f"{WEBHOOK_USER}:{WEBHOOK_PASSWORD}"}

    with caplog.at_level(logging.ERROR, logger=WEBHOOK_LOGGER):
        response = post_postal(
            status_event(via_postal, "Sent"), None, HTTP_AUTHORIZATION=basic_auth(WEBHOOK_USER, WEBHOOK_PASSWORD)
        )

    assert response.status_code == 404
    assert any("postal email webhook is not set up" in r.getMessage() for r in caplog.records)
    via_postal.refresh_from_db()
    assert via_postal.status == MessageStatus.SENT


def test_a_reply_through_postal_inbound_lands_on_the_thread(via_postal, person, webhook_key):
    reply = EmailMessage()
    reply["From"] = "Grace Hopper <grace@example.org>"
    reply["To"] = "talent@acme.example"
    reply["Subject"] = f"Re: {via_postal.subject}"
    reply["Message-ID"] = f"<{uuid.uuid4().hex}@mail.example.org>"
    reply["In-Reply-To"] = via_postal.message_id
    reply.set_content("Thursday suits me.")
    # Postal's HTTP endpoint in its "raw message" format.
    body = json.dumps(
        {
            "id": 31337,
            "rcpt_to": "talent@acme.example",
            "mail_from": "grace@example.org",
            "message": base64.b64encode(bytes(reply)).decode(),
            "base64": True,
            "size": len(bytes(reply)),
        }
    ).encode()

    response = post_postal(body, webhook_key, hook=POSTAL_INBOUND)

    assert response.status_code == 200
    inbound = InboundEmail.objects.get(source="postal")
    assert inbound.external_id == "31337"
    assert inbound.status == InboundStatus.MATCHED
    assert inbound.message.candidate == person
    assert "Thursday suits me." in inbound.message.text
    assert "message.received" in _types(person)


def test_a_forged_postal_inbound_post_files_nothing(via_postal, webhook_key):
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    body = json.dumps({"id": 1, "rcpt_to": "talent@acme.example", "message": "From: x@example.org\r\n\r\nHi"}).encode()

    response = post_postal(body, forger, hook=POSTAL_INBOUND)

    assert response.status_code == 403
    assert not InboundEmail.objects.exists()
