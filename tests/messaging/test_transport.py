"""Email out over real SMTP: what the server receives, parsed with the standard library's email package."""

import re

import pytest
from django.core.exceptions import ImproperlyConfigured

from rapport.config.settings import _email_settings
from rapport.messaging.channels.base import PermanentError, TransientError
from rapport.messaging.channels.email.transport import EmailTransport
from rapport.messaging.links import unsubscribe_token_read
from rapport.messaging.models import Message
from rapport.messaging.services import message_send, outbox_deliver_due


@pytest.fixture
def sender(recruiter):
    recruiter.email_from_name = "Riley at Acme"
    recruiter.email_reply_to = "riley.replies@acme.example"
    recruiter.save()
    return recruiter


def _received_one(smtp_server):
    assert len(smtp_server.messages) == 1
    return smtp_server.messages[0]


def test_headers_carry_the_sender_threading_id_and_one_click_unsubscribe(sender, person, smtp_server, settings):
    settings.BASE_URL = "https://ats.acme.example"
    settings.RAPPORT_EMAIL_FROM = "talent@acme.example"
    message = message_send(actor=sender, candidate=person, subject="Hello {{ candidate.first_name }}", body="Hi")

    outbox_deliver_due()

    mail = _received_one(smtp_server)
    assert mail["From"].addresses[0].display_name == "Riley at Acme"
    assert mail["From"].addresses[0].addr_spec == "talent@acme.example"
    assert mail["Reply-To"] == "riley.replies@acme.example"
    assert mail["To"] == "grace@example.org"
    assert mail["Subject"] == "Hello Grace"
    assert mail["Message-ID"] == message.message_id
    assert mail["Message-ID"].endswith("@ats.acme.example>")
    unsubscribe = str(mail["List-Unsubscribe"]).strip()  # long headers may be folded onto a new line
    assert unsubscribe.startswith("<https://ats.acme.example/u/") and unsubscribe.endswith(">")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail["In-Reply-To"] is None


def test_the_body_is_multipart_alternative_with_personalised_text_and_html(sender, person, smtp_server):
    message_send(
        actor=sender,
        candidate=person,
        subject="A role",
        body="Hi **{{ candidate.first_name }}**, how is {{ candidate.current_company }}?\n\n"
        "[Stop these emails]({{ unsubscribe_link }})",
    )

    outbox_deliver_due()

    mail = _received_one(smtp_server)
    assert mail.get_content_type() == "multipart/alternative"
    parts = {part.get_content_type(): part.get_content() for part in mail.iter_parts()}
    assert set(parts) == {"text/plain", "text/html"}
    assert "Hi **Grace**, how is Navy?" in parts["text/plain"]
    assert "<strong>Grace</strong>" in parts["text/html"]
    # The person's own signed link, in both parts and naming the same person as the header's. The tokens carry
    # the signing second, so compare what they say rather than their text.
    link = str(mail["List-Unsubscribe"]).strip().strip("<>")
    header_token = unsubscribe_token_read(link.rsplit("/u/", 1)[1])
    for part in (parts["text/plain"], parts["text/html"]):
        tokens = re.findall(r"/u/([A-Za-z0-9_:\-]+)", part)
        assert tokens and all(unsubscribe_token_read(token) == header_token for token in tokens)
    assert header_token.address == "grace@example.org" and header_token.candidate_id == person.pk
    assert "{{" not in parts["text/plain"] + parts["text/html"]


def test_the_default_from_name_and_reply_to_come_from_the_user(recruiter, person, smtp_server, settings):
    settings.RAPPORT_ORG_NAME = "Acme"
    message_send(actor=recruiter, candidate=person, subject="Hi", body="Hello")

    outbox_deliver_due()

    mail = _received_one(smtp_server)
    assert mail["From"].addresses[0].display_name == "Riley Recruiter at Acme"
    assert mail["Reply-To"] == recruiter.email


def test_a_reply_in_a_thread_carries_in_reply_to_and_references(sender, person, smtp_server):
    first = message_send(actor=sender, candidate=person, subject="Coffee?", body="Hi")
    second = message_send(actor=sender, candidate=person, body="Following up", reply_to_message=first)
    third = message_send(actor=sender, candidate=person, body="One more", reply_to_message=second)

    outbox_deliver_due()

    by_id = {mail["Message-ID"]: mail for mail in smtp_server.messages}
    assert by_id[second.message_id]["Subject"] == "Re: Coffee?"
    assert by_id[second.message_id]["In-Reply-To"] == first.message_id
    assert by_id[second.message_id]["References"] == first.message_id
    assert by_id[third.message_id]["In-Reply-To"] == second.message_id
    assert by_id[third.message_id]["References"].split() == [first.message_id, second.message_id]
    assert by_id[third.message_id]["Subject"] == "Re: Coffee?"


def test_a_batch_reuses_one_smtp_connection(sender, person, smtp_server, settings):
    settings.RAPPORT_DELIVERY_CONNECTIONS = 1
    for n in range(5):
        message_send(actor=sender, candidate=person, subject=f"Note {n}", body="Hi")

    assert outbox_deliver_due() == 5

    assert len(smtp_server.messages) == 5
    assert smtp_server.greetings == 1


def test_a_batch_keeps_a_few_connections_busy_and_reuses_each(sender, person, smtp_server, settings):
    settings.RAPPORT_DELIVERY_CONNECTIONS = 3
    for n in range(12):
        message_send(actor=sender, candidate=person, subject=f"Note {n}", body="Hi")

    assert outbox_deliver_due() == 12

    assert sorted(m["Subject"] for m in smtp_server.messages) == sorted(f"Note {n}" for n in range(12))
    assert 1 <= smtp_server.greetings <= 3
    assert Message.objects.filter(status="sent").count() == 12


def test_the_transport_sorts_refusals_into_transient_and_permanent(sender, person, smtp_server):
    message = message_send(actor=sender, candidate=person, subject="Hi", body="Hello")
    smtp_server.refuse["grace@example.org"] = "452 4.2.2 Mailbox full"
    with EmailTransport() as transport, pytest.raises(TransientError):
        transport.send(message)
    smtp_server.refuse["grace@example.org"] = "550 5.1.1 Unknown user"
    with EmailTransport() as transport, pytest.raises(PermanentError) as caught:
        transport.send(Message.objects.get(pk=message.pk))
    assert caught.value.reason.startswith("550")


@pytest.mark.parametrize(
    "url, expected",
    [
        ("console://", {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}),
        (
            "smtp://user%40acme:p%3Ass@mail.acme.example:2525",
            {
                "EMAIL_HOST": "mail.acme.example",
                "EMAIL_PORT": 2525,
                "EMAIL_HOST_USER": "user@acme",
                "EMAIL_HOST_PASSWORD": "p:ss",
                "EMAIL_USE_TLS": False,
                "EMAIL_USE_SSL": False,
            },
        ),
        ("smtps://u:p@mail.acme.example", {"EMAIL_PORT": 465, "EMAIL_USE_SSL": True, "EMAIL_USE_TLS": False}),
        ("smtp+tls://u:p@mail.acme.example?timeout=3", {"EMAIL_PORT": 587, "EMAIL_USE_TLS": True, "EMAIL_TIMEOUT": 3}),
    ],
)
def test_email_url_is_parsed(url, expected):
    parsed = _email_settings(url)

    assert {key: parsed[key] for key in expected} == expected


@pytest.mark.parametrize(
    "url", ["smtp.acme.example", "http://mail.acme.example", "smtp://", "smtp://h:99999", "smtp://h?tls=1"]
)
def test_a_bad_email_url_stops_start_up_naming_the_variable(url):
    with pytest.raises(ImproperlyConfigured, match="EMAIL_URL"):
        _email_settings(url)
