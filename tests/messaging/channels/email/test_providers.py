"""Email providers through django-anymail: EMAIL_URL parsing, and sending to a fake provider API on loopback."""

import importlib.util
from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from rapport.config.settings import _email_settings, _webhook_settings
from rapport.messaging.models import Message, MessageStatus
from rapport.messaging.services import message_send, outbox_deliver_due
from rapport.timeline.models import Activity
from tests.messaging.channels.email.fake_providers import (
    MAILGUN_KEY,
    MAILGUN_URL,
    POSTMARK_URL,
    FakeMailgun,
    FakePostmark,
    basic_auth,
    serving,
)

HAS_BOTO3 = importlib.util.find_spec("boto3") is not None

# --- EMAIL_URL ------------------------------------------------------------------------------------------------------


def test_mailgun_url_gives_the_backend_key_sender_domain_and_us_api():
    configured = _email_settings("mailgun://key-abc@mg.example.org")

    assert configured["EMAIL_BACKEND"] == "anymail.backends.mailgun.EmailBackend"
    assert configured["ANYMAIL"] == {
        "MAILGUN_API_KEY": "key-abc",
        "MAILGUN_SENDER_DOMAIN": "mg.example.org",
        "MAILGUN_API_URL": "https://api.mailgun.net/v3/",
        "REQUESTS_TIMEOUT": 10,
    }


def test_mailgun_eu_region_uses_the_eu_api():
    configured = _email_settings("mailgun://key-abc@mg.example.org?region=eu")

    assert configured["ANYMAIL"]["MAILGUN_API_URL"] == "https://api.eu.mailgun.net/v3/"


def test_api_url_overrides_the_provider_api_and_timeout_is_read():
    configured = _email_settings(
        "mailgun://key-abc@mg.example.org?region=eu&api_url=http://127.0.0.1:9999/v3/&timeout=3"
    )

    assert configured["ANYMAIL"]["MAILGUN_API_URL"] == "http://127.0.0.1:9999/v3/"
    assert configured["ANYMAIL"]["REQUESTS_TIMEOUT"] == 3


@pytest.mark.parametrize(
    ("url", "backend", "expected"),
    [
        ("postmark://server-token@", "postmark", {"POSTMARK_SERVER_TOKEN": "server-token"}),
        ("sendgrid://SG.abc.def@", "sendgrid", {"SENDGRID_API_KEY": "SG.abc.def"}),
        ("brevo://xkeysib-123@", "brevo", {"BREVO_API_KEY": "xkeysib-123"}),
        ("mailjet://public:private@", "mailjet", {"MAILJET_API_KEY": "public", "MAILJET_SECRET_KEY": "private"}),
        ("resend://re_123@", "resend", {"RESEND_API_KEY": "re_123"}),
        (
            "postmark://tok%2Fen@?api_url=http://127.0.0.1:9/",
            "postmark",
            {"POSTMARK_SERVER_TOKEN": "tok/en", "POSTMARK_API_URL": "http://127.0.0.1:9/"},
        ),
    ],
)
def test_each_provider_url_maps_to_its_backend_and_keys(url, backend, expected):
    configured = _email_settings(url)

    assert configured["EMAIL_BACKEND"] == f"anymail.backends.{backend}.EmailBackend"
    assert configured["ANYMAIL"] == {**expected, "REQUESTS_TIMEOUT": 10}


@pytest.mark.skipif(HAS_BOTO3, reason="boto3 is installed here")
def test_amazon_ses_without_boto3_says_to_install_it():
    with pytest.raises(ImproperlyConfigured, match="EMAIL_URL amazonses:// needs boto3"):
        _email_settings("amazonses://")


@pytest.mark.skipif(not HAS_BOTO3, reason="boto3 is not installed here")
def test_amazon_ses_takes_its_region_and_endpoint_from_the_url():
    configured = _email_settings("amazonses://?region=eu-west-1&api_url=http://127.0.0.1:9/")

    assert configured["EMAIL_BACKEND"] == "anymail.backends.amazon_ses.EmailBackend"
    assert configured["ANYMAIL"]["AMAZON_SES_CLIENT_PARAMS"] == {
        "region_name": "eu-west-1",
        "endpoint_url": "http://127.0.0.1:9/",
    }


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sparkpost://key@", "EMAIL_URL must start with smtp://.*mailgun://.*not 'sparkpost'"),
        ("mailgun://@mg.example.org", "EMAIL_URL needs the mailgun API key"),
        ("postmark://", "EMAIL_URL needs the postmark API key"),
        ("mailjet://public@", "EMAIL_URL needs Mailjet's key and secret"),
        ("mailgun://key@mg.example.org?region=asia", "EMAIL_URL's Mailgun region must be us or eu"),
        ("postmark://token@?region=eu", "EMAIL_URL has unknown options for postmark: region"),
        ("brevo://key@?api_url=ftp://example.org", "EMAIL_URL's api_url must start with https://"),
        ("sendgrid://key@?timeout=soon", "EMAIL_URL's timeout must be a whole number"),
    ],
)
def test_bad_provider_urls_stop_start_up_naming_email_url(url, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        _email_settings(url)


def test_an_error_never_repeats_the_api_key():
    with pytest.raises(ImproperlyConfigured) as raised:
        _email_settings("mailgun://key-very-secret@mg.example.org?region=mars")

    assert "key-very-secret" not in str(raised.value)


def test_smtp_urls_are_unchanged():
    assert _email_settings("smtp+tls://user:pw@mail.example.org")["EMAIL_BACKEND"] == (
        "django.core.mail.backends.smtp.EmailBackend"
    )


# --- webhook secrets ------------------------------------------------------------------------------------------------


def test_webhook_secret_and_mailgun_signing_key_come_from_the_environment(monkeypatch, tmp_path):
    key_file = tmp_path / "signing-key"
    key_file.write_text("from-a-file\n")
    monkeypatch.setenv("RAPPORT_WEBHOOK_SECRET", "hooks:s3cret")
    monkeypatch.setenv("MAILGUN_WEBHOOK_SIGNING_KEY_FILE", str(key_file))

    assert _webhook_settings() == {"WEBHOOK_SECRET": "hooks:s3cret", "MAILGUN_WEBHOOK_SIGNING_KEY": "from-a-file"}


def test_no_webhook_secret_means_none_configured(monkeypatch):
    monkeypatch.delenv("RAPPORT_WEBHOOK_SECRET", raising=False)
    monkeypatch.delenv("MAILGUN_WEBHOOK_SIGNING_KEY", raising=False)

    assert _webhook_settings() == {}


@pytest.mark.parametrize("value", ["no-colon", ":password", "user:"])
def test_a_webhook_secret_that_is_not_user_colon_password_is_refused(monkeypatch, value):
    monkeypatch.setenv("RAPPORT_WEBHOOK_SECRET", value)

    with pytest.raises(ImproperlyConfigured, match="RAPPORT_WEBHOOK_SECRET must be user:password"):
        _webhook_settings()


# --- sending --------------------------------------------------------------------------------------------------------


@pytest.fixture
def mailgun(settings):
    yield from serving(FakeMailgun(), settings, MAILGUN_URL)


@pytest.fixture
def postmark(settings):
    yield from serving(FakePostmark(), settings, POSTMARK_URL)


def _send(recruiter, person) -> Message:
    return message_send(actor=recruiter, candidate=person, subject="Hello {{ candidate.first_name }}", body="Hi!")


def _later() -> timezone.datetime:
    """Past any retry backoff the tests cause."""
    return timezone.now() + timedelta(hours=1)


def test_mailgun_send_stores_the_provider_id_and_sends_our_id_as_metadata(recruiter, person, mailgun):
    message = _send(recruiter, person)

    outbox_deliver_due()

    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.provider_message_id == mailgun.ids[0]
    [request] = mailgun.requests
    assert request["headers"]["Authorization"] == basic_auth("api", MAILGUN_KEY)
    assert request["form"]["to"] == ["grace@example.org"]
    assert request["form"]["subject"] == ["Hello Grace"]
    assert request["form"]["v:rapport_message_id"] == [str(message.pk)]
    assert request["form"]["h:Message-Id"] == [message.message_id]


def test_postmark_send_stores_its_message_id_and_metadata(recruiter, person, postmark):
    message = _send(recruiter, person)

    outbox_deliver_due()

    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.provider_message_id == postmark.ids[0]
    [request] = postmark.requests
    assert request["json"]["Metadata"] == {"rapport_message_id": str(message.pk)}
    assert request["json"]["To"] == "grace@example.org"


def test_a_provider_5xx_is_retried_later_and_then_sent(recruiter, person, mailgun):
    message = _send(recruiter, person)
    mailgun.answer_next(503, {"message": "Service temporarily unavailable"})

    outbox_deliver_due()

    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED
    assert message.attempts == 1
    assert message.last_error == "Mailgun answered 503: Service temporarily unavailable"
    assert message.next_attempt_at > timezone.now()

    outbox_deliver_due(now=_later())

    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.provider_message_id == mailgun.ids[0]
    assert len(mailgun.requests) == 2


def test_a_rate_limited_send_waits_for_a_retry(recruiter, person, mailgun):
    message = _send(recruiter, person)
    mailgun.answer_next(429, {"message": "Too many requests"})

    outbox_deliver_due()

    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED
    assert message.last_error.startswith("Mailgun answered 429")


def test_a_provider_4xx_fails_the_message_with_its_reason(recruiter, person, mailgun):
    message = _send(recruiter, person)
    mailgun.answer_next(400, {"message": "'to' parameter is not a valid address. please check documentation"})

    outbox_deliver_due()

    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert (
        message.last_error == "Mailgun answered 400: 'to' parameter is not a valid address. please check documentation"
    )
    failed = Activity.objects.get(type="message.failed", candidate=person)
    assert failed.payload["reason"] == message.last_error


def test_a_wrong_api_key_keeps_the_message_for_later(recruiter, person, mailgun, settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "MAILGUN_API_KEY": "key-wrong"}
    message = _send(recruiter, person)

    outbox_deliver_due()

    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED
    assert message.last_error == "Mailgun answered 401: Invalid private key"


def test_an_unreachable_provider_is_a_transient_failure_for_the_whole_batch(recruiter, person, mailgun):
    first, second = _send(recruiter, person), _send(recruiter, person)
    mailgun.stop()

    outbox_deliver_due()

    for message in (first, second):
        message.refresh_from_db()
        assert message.status == MessageStatus.QUEUED
        assert message.last_error.startswith("Mailgun could not be reached")
    assert mailgun.requests == []


def test_a_recipient_the_provider_refuses_fails_at_once(recruiter, person, postmark):
    message = _send(recruiter, person)
    postmark.answer_next(
        422,
        {
            "ErrorCode": 406,
            "Message": "You tried to send to recipient(s) that have been marked as inactive.\n"
            "Found inactive addresses: grace@example.org.\n"
            "Inactive recipients are ones that have generated a hard bounce, a spam complaint, or a manual "
            "suppression.",
        },
    )

    outbox_deliver_due()

    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert message.last_error.startswith("Postmark refused the recipient (rejected): You tried to send")
