"""Notification tests: the real SMTP server of the messaging tests, API clients, and helpers that make real events."""

import pytest

from tests.api.conftest import _fresh_rate_limit_counters, anonymous, api_as  # noqa: F401
from tests.messaging.conftest import smtp_server  # noqa: F401


@pytest.fixture
def reply_from():
    """reply_from(person, text=..., subject=...) -> the person replies by email, through the real inbound service."""
    from rapport.messaging.services_inbound import message_receive

    def reply(person, text="Yes, I would love to talk.", subject="Re: A role for you", **extra):
        return message_receive(
            candidate=person,
            channel="email",
            from_address=person.emails.first().email,
            subject=subject,
            text=text,
            **extra,
        )

    return reply


@pytest.fixture
def email_to(recruiter):
    """email_to(person, subject=...) -> an email the recruiter sent the person (in the outbox; tracking works)."""
    from rapport.messaging.services import message_send

    def send(person, subject="A role for you"):
        return message_send(actor=recruiter, candidate=person, subject=subject, body="Have a look at the role.")

    return send
