"""Messaging tests share the API client fixtures, a template helper, and a real SMTP server on loopback."""

import email
import socket
from email import policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from tests.api.conftest import _fast_password_hashing, _fresh_rate_limit_counters, anonymous, api_as  # noqa: F401


@pytest.fixture
def make_template(recruiter):
    """make_template(**fields) -> a template created through the real service by the recruiter."""
    from rapport.messaging.services import message_template_create

    def make(**data):
        data.setdefault("name", f"Template {make.count}")
        data.setdefault("channel", "email")
        data.setdefault("category", "outreach")
        data.setdefault("subject", "Hello {{ candidate.first_name }}")
        data.setdefault("body", "Hi {{ candidate.first_name }},\n\nWe would love to talk.")
        make.count += 1
        return message_template_create(actor=recruiter, data=data)

    make.count = 1
    return make


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpServer:
    """aiosmtpd on 127.0.0.1: keeps every message it accepts, and can refuse recipients with a chosen reply."""

    def __init__(self, port: int):
        self.port = port
        self.received: list[bytes] = []
        self.refuse: dict[str, str] = {}  # recipient -> SMTP reply, e.g. "550 5.1.1 No such user"
        self.controller: Controller | None = None
        self.greetings = 0  # EHLOs seen: one per SMTP session

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # noqa: N802 - aiosmtpd's hook name
        self.greetings += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd's hook name
        if address.lower() in self.refuse:
            return self.refuse[address.lower()]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.received.append(envelope.original_content or envelope.content)
        return "250 Message accepted"

    def start(self) -> None:
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self) -> list[EmailMessage]:
        return [email.message_from_bytes(raw, policy=policy.default) for raw in self.received]


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server, with Django's SMTP backend pointed at it for the test."""
    server = SmtpServer(free_port())
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    yield server
    server.stop()


@pytest.fixture
def person(recruiter):
    from tests.factories import make_candidate

    return make_candidate(
        actor=recruiter, first_name="Grace", last_name="Hopper", emails=["grace@example.org"], current_company="Navy"
    )
