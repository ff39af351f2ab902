"""Signed provider webhooks over HTTP: SendGrid's ECDSA event webhook and Resend's Svix (Standard Webhooks) HMAC.

Keys are made in the test and each request is signed the way the provider signs it; the message the events are about
was sent through a fake provider API first, so the events find a real outbox row.
"""

import base64
import json
import logging
import time
import uuid

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from rapport.config.settings import _webhook_settings
from rapport.messaging.channels.email import standard_webhooks
from rapport.messaging.models import InboundEmail, Message, MessageStatus, Suppression
from rapport.messaging.services import message_send, outbox_deliver_due
from rapport.timeline.models import Activity
from tests.messaging.channels.email.fake_providers import (
    POSTMARK_URL,
    WEBHOOK_PASSWORD,
    WEBHOOK_USER,
    FakePostmark,
    basic_auth,
    serving,
)

SENDGRID_HOOK = "/hooks/email/sendgrid/tracking/"
RESEND_HOOK = "/hooks/email/resend/tracking/"
RESEND_INBOUND = "/hooks/email/resend/inbound/"
AUTH = basic_auth(WEBHOOK_USER, WEBHOOK_PASSWORD)
WEBHOOK_LOGGER = "rapport.messaging.channels.email.webhooks"
RESEND_SECRET = "whsec_" + base64.b64encode(b"resend-signing-secret-for-tests").decode()
OTHER_RESEND_SECRET = "whsec_" + base64.b64encode(b"the-inbound-endpoint-secret").decode()

SIGNING_VARIABLES = (
    "RAPPORT_WEBHOOK_SECRET",
    "MAILGUN_WEBHOOK_SIGNING_KEY",
    "SENDGRID_WEBHOOK_VERIFICATION_KEY",
    "RESEND_WEBHOOK_SECRET",
    "POSTAL_WEBHOOK_KEY",
)


def _der_base64(public_key) -> str:
    return base64.b64encode(public_key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)).decode()


def _pem(public_key) -> str:
    return public_key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()


@pytest.fixture(scope="module")
def sendgrid_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture
def configure(settings, monkeypatch):
    """configure(**environment): ANYMAIL's webhook settings as start-up reads them from those variables."""

    def apply(**variables: str) -> None:
        for name in SIGNING_VARIABLES:
            monkeypatch.delenv(name, raising=False)
            monkeypatch.delenv(f"{name}_FILE", raising=False)
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        settings.ANYMAIL = {**_webhook_settings()}

    return apply


@pytest.fixture(autouse=True)
def _own_cache(settings):
    """A cache of this test's own: replay detection must not see another test run clear var/cache meanwhile."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": uuid.uuid4().hex}
    }


@pytest.fixture
def postmark(settings):
    yield from serving(FakePostmark(), settings, POSTMARK_URL)


@pytest.fixture
def sent(recruiter, person, postmark) -> Message:
    """A message a provider accepted (through a fake Postmark): the events below name it by its provider id."""
    message = message_send(actor=recruiter, candidate=person, subject="A role for you", body="Hi!")
    outbox_deliver_due()
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT and message.provider_message_id
    return message


def _types(person) -> list[str]:
    return list(Activity.objects.filter(candidate=person).order_by("id").values_list("type", flat=True))


def _warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == WEBHOOK_LOGGER and r.levelno == logging.WARNING]


# --- SendGrid: ECDSA P-256 over timestamp + body ------------------------------------------------------------------


def sendgrid_events(message: Message, event: str, **extra) -> bytes:
    return json.dumps(
        [
            {
                "event": event,
                "email": message.to_address,
                "timestamp": int(time.time()),
                "sg_event_id": uuid.uuid4().hex,
                "sg_message_id": f"{message.provider_message_id}.filter0001",
                "rapport_message_id": str(message.pk),
                **extra,
            }
        ]
    ).encode()


def sendgrid_headers(body: bytes, key: ec.EllipticCurvePrivateKey, *, timestamp: str | None = None) -> dict:
    timestamp = timestamp or str(int(time.time()))
    signature = key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    return {
        "HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_SIGNATURE": base64.b64encode(signature).decode(),
        "HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_TIMESTAMP": timestamp,
    }


def post_sendgrid(body: bytes, headers: dict, *, auth: str | None = None):
    if auth:
        headers = {**headers, "HTTP_AUTHORIZATION": auth}
    return Client().post(SENDGRID_HOOK, body, content_type="application/json", **headers)


def test_a_signed_sendgrid_delivery_is_recorded_without_basic_auth(sent, person, sendgrid_key, configure):
    configure(SENDGRID_WEBHOOK_VERIFICATION_KEY=_der_base64(sendgrid_key.public_key()))
    body = sendgrid_events(sent, "delivered")

    response = post_sendgrid(body, sendgrid_headers(body, sendgrid_key))

    assert response.status_code == 200
    sent.refresh_from_db()
    assert sent.status == MessageStatus.DELIVERED
    delivered = Activity.objects.get(type="message.delivered", candidate=person)
    assert delivered.payload["provider"] == "sendgrid"


def test_a_signed_sendgrid_bounce_suppresses_the_address(sent, sendgrid_key, configure):
    # The key as PEM, the other form SendGrid's API gives it in.
    configure(SENDGRID_WEBHOOK_VERIFICATION_KEY=_pem(sendgrid_key.public_key()))
    body = sendgrid_events(sent, "bounce", type="bounce", reason="550 5.1.1 The email account does not exist")

    response = post_sendgrid(body, sendgrid_headers(body, sendgrid_key))

    assert response.status_code == 200
    sent.refresh_from_db()
    assert sent.status == MessageStatus.BOUNCED
    assert Suppression.objects.get(address="grace@example.org").reason == "hard_bounce"


def test_a_tampered_sendgrid_body_is_refused_and_logged(sent, person, sendgrid_key, configure, caplog):
    configure(SENDGRID_WEBHOOK_VERIFICATION_KEY=_der_base64(sendgrid_key.public_key()))
    body = sendgrid_events(sent, "delivered")
    headers = sendgrid_headers(body, sendgrid_key)
    tampered = body.replace(b'"delivered"', b'"bounce"')

    with caplog.at_level(logging.WARNING, logger=WEBHOOK_LOGGER):
        response = post_sendgrid(tampered, headers)

    assert response.status_code == 403
    [line] = _warnings(caplog)
    assert "sendgrid" in line and "127.0.0.1" in line and "incorrect signature" in line
    sent.refresh_from_db()
    assert sent.status == MessageStatus.SENT
    assert not Suppression.objects.exists()
    assert "message.bounced" not in _types(person)


def test_a_sendgrid_request_signed_with_another_key_is_refused(sent, sendgrid_key, configure, caplog):
    configure(SENDGRID_WEBHOOK_VERIFICATION_KEY=_der_base64(sendgrid_key.public_key()))
    body = sendgrid_events(sent, "delivered")
    forger = ec.generate_private_key(ec.SECP256R1())

    with caplog.at_level(logging.WARNING, logger=WEBHOOK_LOGGER):
        response = post_sendgrid(body, sendgrid_headers(body, forger))

    assert response.status_code == 403
    assert len(_warnings(caplog)) == 1
    sent.refresh_from_db()
    assert sent.status == MessageStatus.SENT


@pytest.mark.parametrize(
    "missing", ["HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_SIGNATURE", "HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_TIMESTAMP"]
)
def test_a_sendgrid_request_without_its_signature_headers_is_refused(sent, sendgrid_key, configure, caplog, missing):
    configure(SENDGRID_WEBHOOK_VERIFICATION_KEY=_der_base64(sendgrid_key.public_key()))
    body = sendgrid_events(sent, "delivered")
    headers = sendgrid_headers(body, sendgrid_key)
    del headers[missing]

    with caplog.at_level(logging.WARNING, logger=WEBHOOK_LOGGER):
        response = post_sendgrid(body, headers)

    assert response.status_code == 403
    [line] = _warnings(caplog)
    assert "header missing" in line
    sent.refresh_from_db()
    assert sent.status == MessageStatus.SENT


def test_a_changed_sendgrid_timestamp_breaks_the_signature(sent, sendgrid_key, configure):
    configure(SENDGRID_WEBHOOK_VERIFICATION_KEY=_der_base64(sendgrid_key.public_key()))
    body = sendgrid_events(sent, "delivered")
    headers = sendgrid_headers(body, sendgrid_key)
    headers["HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_TIMESTAMP"] = str(int(time.time()) + 1)

    assert post_sendgrid(body, headers).status_code == 403


def test_with_key_and_basic_auth_both_are_required(sent, sendgrid_key, configure):
    configure(
        SENDGRID_WEBHOOK_VERIFICATION_KEY=_der_base64(sendgrid_key.public_key()),
        RAPPORT_WEBHOOK_SECRET=f"{WEBHOOK_USER}:{WEBHOOK_PASSWORD}",
    )
    body = sendgrid_events(sent, "delivered")

    without_auth = post_sendgrid(body, sendgrid_headers(body, sendgrid_key))
    without_signature = post_sendgrid(body, {}, auth=AUTH)
    with_both = post_sendgrid(body, sendgrid_headers(body, sendgrid_key), auth=AUTH)

    assert (without_auth.status_code, without_signature.status_code, with_both.status_code) == (403, 403, 200)
    sent.refresh_from_db()
    assert sent.status == MessageStatus.DELIVERED


def test_sendgrid_with_basic_auth_only_still_works(sent, configure):
    configure(RAPPORT_WEBHOOK_SECRET=f"{WEBHOOK_USER}:{WEBHOOK_PASSWORD}")

    response = post_sendgrid(sendgrid_events(sent, "delivered"), {}, auth=AUTH)

    assert response.status_code == 200
    sent.refresh_from_db()
    assert sent.status == MessageStatus.DELIVERED


@pytest.mark.parametrize("hook", [SENDGRID_HOOK, RESEND_HOOK, RESEND_INBOUND])
def test_a_signing_provider_with_neither_key_nor_basic_auth_is_not_in_service(sent, configure, caplog, hook):
    configure()

    with caplog.at_level(logging.ERROR, logger=WEBHOOK_LOGGER):
        response = Client().post(hook, b"[]", content_type="application/json")

    assert response.status_code == 404
    provider = hook.split("/")[3]
    assert any(
        f"The {provider} email webhook is not set up" in r.getMessage()
        and "nor RAPPORT_WEBHOOK_SECRET" in r.getMessage()
        for r in caplog.records
        if r.name == WEBHOOK_LOGGER
    )
    sent.refresh_from_db()
    assert sent.status == MessageStatus.SENT


def test_sendgrid_inbound_which_is_not_signed_still_needs_basic_auth(db, sendgrid_key, configure):
    configure(SENDGRID_WEBHOOK_VERIFICATION_KEY=_der_base64(sendgrid_key.public_key()))

    response = Client().post("/hooks/email/sendgrid/inbound/", {"email": "From: a@example.org\r\n\r\nHi"})

    assert response.status_code == 403
    assert not InboundEmail.objects.exists()


# --- Resend: Svix / Standard Webhooks HMAC --------------------------------------------------------------------------


def resend_event(message: Message, event_type: str, **data) -> bytes:
    return json.dumps(
        {
            "type": event_type,
            "created_at": "2026-12-03T09:01:02.000Z",
            "data": {
                "email_id": message.provider_message_id,
                "to": [message.to_address],
                "subject": message.subject,
                **data,
            },
        }
    ).encode()


def resend_headers(body: bytes, *, secret: str = RESEND_SECRET, timestamp: int | None = None, msg_id=None) -> dict:
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = standard_webhooks.sign(secret=secret, msg_id=msg_id, timestamp=timestamp, body=body)
    return {"HTTP_SVIX_ID": msg_id, "HTTP_SVIX_TIMESTAMP": str(timestamp), "HTTP_SVIX_SIGNATURE": signature}


def post_resend(body: bytes, headers: dict, *, hook: str = RESEND_HOOK):
    return Client().post(hook, body, content_type="application/json", **headers)


def test_the_standard_webhooks_check_agrees_with_the_published_example():
    # The example request in Svix's documentation and libraries' tests.
    headers = {
        "svix-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "svix-timestamp": "1614265330",
        "svix-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    }
    body = b'{"test": 2432232314}'

    standard_webhooks.verify(
        secrets=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"], headers=headers, body=body, now=1614265330 + 10
    )
    with pytest.raises(standard_webhooks.InvalidSignature, match="no signature matches"):
        standard_webhooks.verify(
            secrets=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
            headers=headers,
            body=b'{"test": 2432232315}',
            now=1614265330,
        )


def test_a_signed_resend_delivery_is_recorded(sent, person, configure):
    configure(RESEND_WEBHOOK_SECRET=RESEND_SECRET)
    body = resend_event(sent, "email.delivered")

    response = post_resend(body, resend_headers(body))

    assert response.status_code == 200
    sent.refresh_from_db()
    assert sent.status == MessageStatus.DELIVERED
    assert sent.delivered_at.isoformat() == "2026-12-03T09:01:02+00:00"
    assert Activity.objects.get(type="message.delivered", candidate=person).payload["provider"] == "resend"


def test_a_signed_resend_complaint_suppresses_and_withdraws_consent(sent, person, configure):
    configure(RESEND_WEBHOOK_SECRET=RESEND_SECRET)
    body = resend_event(sent, "email.complained")

    response = post_resend(body, resend_headers(body))

    assert response.status_code == 200
    assert Suppression.objects.get(address="grace@example.org").reason == "complaint"
    assert Activity.objects.get(type="consent.withdrawn", candidate=person).payload["source"] == "resend spam complaint"


def test_either_of_two_resend_secrets_and_a_rotated_signature_list_are_accepted(sent, configure):
    configure(RESEND_WEBHOOK_SECRET=f"{RESEND_SECRET}, {OTHER_RESEND_SECRET}")
    opened = resend_event(sent, "email.opened")
    headers = resend_headers(opened, secret=OTHER_RESEND_SECRET)
    # While a secret is rotated the sender signs with the old and the new one: any valid v1 signature will do.
    headers["HTTP_SVIX_SIGNATURE"] = f"v1,bm90LWEtc2lnbmF0dXJl {headers['HTTP_SVIX_SIGNATURE']}"

    response = post_resend(opened, headers)

    assert response.status_code == 200
    sent.refresh_from_db()
    assert sent.open_count == 1


def test_a_tampered_resend_body_is_refused_and_logged(sent, person, configure, caplog):
    configure(RESEND_WEBHOOK_SECRET=RESEND_SECRET)
    body = resend_event(sent, "email.delivered")
    headers = resend_headers(body)

    with caplog.at_level(logging.WARNING, logger=WEBHOOK_LOGGER):
        response = post_resend(resend_event(sent, "email.bounced", bounce={"message": "hard bounce message"}), headers)

    assert response.status_code == 403
    [line] = _warnings(caplog)
    assert "resend" in line and "127.0.0.1" in line and "no signature matches" in line
    sent.refresh_from_db()
    assert sent.status == MessageStatus.SENT
    assert not Suppression.objects.exists()
    assert "message.bounced" not in _types(person)


def test_a_resend_request_signed_with_another_secret_is_refused(sent, configure, caplog):
    configure(RESEND_WEBHOOK_SECRET=RESEND_SECRET)
    body = resend_event(sent, "email.delivered")

    with caplog.at_level(logging.WARNING, logger=WEBHOOK_LOGGER):
        response = post_resend(body, resend_headers(body, secret=OTHER_RESEND_SECRET))

    assert response.status_code == 403
    assert len(_warnings(caplog)) == 1
    sent.refresh_from_db()
    assert sent.status == MessageStatus.SENT


@pytest.mark.parametrize("missing", ["HTTP_SVIX_ID", "HTTP_SVIX_TIMESTAMP", "HTTP_SVIX_SIGNATURE"])
def test_a_resend_request_without_a_signature_header_is_refused(sent, configure, caplog, missing):
    configure(RESEND_WEBHOOK_SECRET=RESEND_SECRET)
    body = resend_event(sent, "email.delivered")
    headers = resend_headers(body)
    del headers[missing]

    with caplog.at_level(logging.WARNING, logger=WEBHOOK_LOGGER):
        response = post_resend(body, headers)

    assert response.status_code == 403
    [line] = _warnings(caplog)
    assert "header is missing" in line
    sent.refresh_from_db()
    assert sent.status == MessageStatus.SENT


@pytest.mark.parametrize("offset", [-6 * 60, 6 * 60])
def test_a_resend_request_signed_more_than_five_minutes_away_is_refused(sent, configure, caplog, offset):
    configure(RESEND_WEBHOOK_SECRET=RESEND_SECRET)
    body = resend_event(sent, "email.delivered")
    # A correct signature, but of a request from six minutes ago (a replay) or six minutes ahead.
    headers = resend_headers(body, timestamp=int(time.time()) + offset)

    with caplog.at_level(logging.WARNING, logger=WEBHOOK_LOGGER):
        response = post_resend(body, headers)

    assert response.status_code == 403
    [line] = _warnings(caplog)
    assert "more than five minutes" in line
    sent.refresh_from_db()
    assert sent.status == MessageStatus.SENT


def test_a_resend_request_four_minutes_old_is_accepted(sent, configure):
    configure(RESEND_WEBHOOK_SECRET=RESEND_SECRET)
    body = resend_event(sent, "email.delivered")

    response = post_resend(body, resend_headers(body, timestamp=int(time.time()) - 4 * 60))

    assert response.status_code == 200


def test_resend_with_secret_and_basic_auth_needs_both(sent, configure):
    configure(RESEND_WEBHOOK_SECRET=RESEND_SECRET, RAPPORT_WEBHOOK_SECRET=f"{WEBHOOK_USER}:{WEBHOOK_PASSWORD}")
    body = resend_event(sent, "email.delivered")

    without_auth = post_resend(body, resend_headers(body))
    with_both = post_resend(body, {**resend_headers(body), "HTTP_AUTHORIZATION": AUTH})

    assert (without_auth.status_code, with_both.status_code) == (403, 200)


def test_resend_with_basic_auth_only_still_works(sent, configure):
    configure(RAPPORT_WEBHOOK_SECRET=f"{WEBHOOK_USER}:{WEBHOOK_PASSWORD}")
    body = resend_event(sent, "email.delivered")

    response = post_resend(body, {"HTTP_AUTHORIZATION": AUTH})

    assert response.status_code == 200
    sent.refresh_from_db()
    assert sent.status == MessageStatus.DELIVERED


def test_a_forged_resend_inbound_post_is_refused_before_anything_is_fetched(db, configure, settings):
    configure(RESEND_WEBHOOK_SECRET=RESEND_SECRET)
    # Resend's inbound webhook names the mail; its content would be fetched with the API key, from nowhere here.
    settings.ANYMAIL = {**settings.ANYMAIL, "RESEND_API_KEY": "re_test", "RESEND_API_URL": "http://127.0.0.1:9/"}
    body = json.dumps({"type": "email.received", "data": {"email_id": "in-1"}}).encode()

    response = post_resend(body, resend_headers(body, secret=OTHER_RESEND_SECRET), hook=RESEND_INBOUND)

    assert response.status_code == 403
    assert not InboundEmail.objects.exists()


# --- start-up checks of the keys ------------------------------------------------------------------------------------


def test_keys_are_read_from_the_environment_and_files(monkeypatch, tmp_path, sendgrid_key):
    pem_file = tmp_path / "sendgrid.pem"
    pem_file.write_text(_pem(sendgrid_key.public_key()))
    for name in SIGNING_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SENDGRID_WEBHOOK_VERIFICATION_KEY_FILE", str(pem_file))
    monkeypatch.setenv("RESEND_WEBHOOK_SECRET", f"{RESEND_SECRET},{OTHER_RESEND_SECRET}")

    assert _webhook_settings() == {
        "SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY": _der_base64(sendgrid_key.public_key()),
        "RESEND_WEBHOOK_SECRETS": [RESEND_SECRET, OTHER_RESEND_SECRET],
    }


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SENDGRID_WEBHOOK_VERIFICATION_KEY", "not a key", "SENDGRID_WEBHOOK_VERIFICATION_KEY must be the provider's"),
        ("SENDGRID_WEBHOOK_VERIFICATION_KEY", "rsa", "SENDGRID_WEBHOOK_VERIFICATION_KEY must be an ECDSA public key"),
        ("POSTAL_WEBHOOK_KEY", "ec", "POSTAL_WEBHOOK_KEY must be an RSA public key"),
        ("POSTAL_WEBHOOK_KEY", "TUlJQg==", "POSTAL_WEBHOOK_KEY must be the provider's public key"),
        ("RESEND_WEBHOOK_SECRET", "resend-secret", "RESEND_WEBHOOK_SECRET must be the signing secret"),
        ("RESEND_WEBHOOK_SECRET", "whsec_not base64!", "RESEND_WEBHOOK_SECRET must be the signing secret"),
    ],
)
def test_a_key_that_is_not_one_stops_start_up(monkeypatch, sendgrid_key, name, value, message):
    for variable in SIGNING_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    if value == "rsa":
        value = _der_base64(rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key())
    elif value == "ec":
        value = _der_base64(sendgrid_key.public_key())
    monkeypatch.setenv(name, value)

    with pytest.raises(ImproperlyConfigured, match=message):
        _webhook_settings()
