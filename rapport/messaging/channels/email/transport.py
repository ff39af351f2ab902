"""Email out: an outbox row becomes a MIME message sent through Django's backend (configured by EMAIL_URL).

One `EmailTransport` holds one backend connection for a whole batch, so a run of the worker opens one SMTP
session rather than one per message. SMTP answers are sorted into transient (connection trouble, 4xx: retry
later) and permanent (5xx: the server will never take it) so the outbox can retry or give up. An email provider
reached through django-anymail is sorted the same way from its HTTP answer, and its message id is returned so
that its webhooks find the message again.
"""

import contextlib
import json
import smtplib
import uuid
from email.message import Message as MimeMessage
from email.utils import formataddr, parseaddr
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit

import requests
from anymail.backends.base import AnymailBaseBackend
from anymail.exceptions import AnymailAPIError, AnymailConfigurationError, AnymailRecipientsRefused
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend

from rapport.messaging.channels.base import DeliveryError, PermanentError, TransientError
from rapport.messaging.channels.email.inbound import reply_address_for
from rapport.messaging.links import unsubscribe_url
from rapport.messaging.models import Message
from rapport.messaging.tracking import tracked_html

MAX_ERROR = 500
# The key under which a provider send carries our message's id (anymail metadata), echoed back in its webhooks.
METADATA_MESSAGE_ID = "rapport_message_id"


def message_domain() -> str:
    """Our own domain, for Message-ID: replies then reference an id no other sender can have made."""
    return urlsplit(settings.BASE_URL).hostname or "localhost"


def from_header(*, name: str) -> str:
    """The From line: the sender's name in front of the organisation's one sending address."""
    _, address = parseaddr(settings.RAPPORT_EMAIL_FROM)
    return formataddr((" ".join(name.split()), address or settings.RAPPORT_EMAIL_FROM))


class _OutboxEmail(EmailMultiAlternatives):
    """An email whose MIME boundary is chosen up front.

    Left unset, the standard library picks a random boundary while writing the message and compiles a new regular
    expression to prove the text does not contain it: a tenth of the cost of building each email. A random
    128-bit token cannot occur in text we wrote, so the proof is not needed.
    """

    def message(self) -> MimeMessage:
        mime = super().message()
        if mime.is_multipart():
            mime.set_boundary(f"==rapport-{uuid.uuid4().hex}==")
        return mime


def build_email(message: Message, *, connection: BaseEmailBackend | None = None) -> EmailMultiAlternatives:
    """The MIME message for an outbox row: text with an HTML alternative and the threading and unsubscribe headers."""
    unsubscribe = unsubscribe_url(address=message.to_address, channel="email", candidate_id=message.candidate_id)
    headers = {
        "Message-ID": message.message_id,
        # RFC 8058: mailbox providers show an unsubscribe button and POST "List-Unsubscribe=One-Click" to the URL.
        "List-Unsubscribe": f"<{unsubscribe}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    if message.in_reply_to:
        headers["In-Reply-To"] = message.in_reply_to
        headers["References"] = message.references or message.in_reply_to
    reply_to = [message.reply_to] if message.reply_to else None
    if settings.RAPPORT_REPLY_ADDRESS and message.pk:
        # With a reply mailbox, answers come back to Rapport (and onto the thread, by the token in the address)
        # rather than to the sender's own mailbox, where no one else on the team would see them.
        sender_name, _ = parseaddr(message.from_header)
        reply_to = [formataddr((sender_name, reply_address_for(message.pk)))]
    email = _OutboxEmail(
        subject=message.subject,
        body=message.text,
        from_email=message.from_header or settings.RAPPORT_EMAIL_FROM,
        to=[message.to_address],
        reply_to=reply_to,
        headers=headers,
        connection=connection,
    )
    if message.html:
        # Tracking goes into the HTML part only, as it is sent: the text part and the stored message keep the
        # links as written, so a reader who prefers plain text is never redirected through us.
        email.attach_alternative(tracked_html(message_id=message.pk, page=message.html), "text/html")
    return email


def _reason(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(exc.recipients.values()))
        return f"{code} {text.decode(errors='replace') if isinstance(text, bytes) else text}"[:MAX_ERROR]
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        return f"{exc.smtp_code} {text}"[:MAX_ERROR]
    return f"{type(exc).__name__}: {exc}"[:MAX_ERROR]


def _is_permanent(exc: BaseException) -> bool:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPAuthenticationError | smtplib.SMTPConnectError):
        # Wrong credentials or a server turning connections away are not this message's fault; keep it for later.
        return False
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code >= 500
    return False


def _server_down(exc: BaseException) -> bool:
    """No session at all (refused, timed out, dropped, bad credentials), as opposed to one message being refused."""
    if isinstance(exc, smtplib.SMTPConnectError | smtplib.SMTPServerDisconnected | smtplib.SMTPAuthenticationError):
        return True
    return isinstance(exc, OSError) and not isinstance(exc, smtplib.SMTPException)


def _provider_detail(response: requests.Response | None) -> str:
    """The provider's own words from an error answer: its JSON message field when it has one, else the body."""
    if response is None:
        return ""
    try:
        body = response.json()
    except ValueError:
        return " ".join(response.text.split())[:300]
    if isinstance(body, dict):
        for key in ("message", "Message", "error", "errors", "ErrorMessage"):
            if body.get(key):
                return " ".join(str(body[key]).split())[:300]
    return " ".join(json.dumps(body).split())[:300]


def _provider_error(exc: AnymailAPIError, *, provider: str) -> DeliveryError:
    """An email provider's refusal as the outbox sees it: retry (no answer, 429, 5xx, bad key) or give up (4xx)."""
    provider = exc.esp_name or provider
    status = exc.status_code
    if status is None:
        # No HTTP answer at all: refused, timed out or dropped, so the rest of the batch would fail the same way.
        cause = exc.__cause__ or exc
        down = isinstance(exc, requests.ConnectionError | requests.Timeout) or isinstance(cause, OSError)
        return TransientError(f"{provider} could not be reached: {type(cause).__name__}"[:MAX_ERROR], server_down=down)
    reason = f"{provider} answered {status}: {_provider_detail(exc.response)}".rstrip(": ")[:MAX_ERROR]
    if status == 429 or status >= 500:
        # Too busy or broken on their side; a rate limit applies to every message of the batch alike.
        return TransientError(reason, server_down=status == 429)
    if status in (401, 403):
        # A wrong or revoked API key is not this message's fault (as with SMTP credentials); keep it for later.
        return TransientError(reason, server_down=True)
    return PermanentError(reason)


def _refused_reason(exc: AnymailRecipientsRefused, email: EmailMultiAlternatives | None, *, provider: str) -> str:
    provider = exc.esp_name or provider
    status = getattr(email, "anymail_status", None)
    statuses = sorted({s.status for s in status.recipients.values() if s.status}) if status is not None else []
    detail = _provider_detail(exc.response)
    reason = f"{provider} refused the recipient ({', '.join(statuses) or 'rejected'})"
    return f"{reason}: {detail}"[:MAX_ERROR] if detail else reason[:MAX_ERROR]


def _provider_message_id(email: EmailMultiAlternatives) -> str | None:
    status = getattr(email, "anymail_status", None)
    message_id = status.message_id if status is not None else None
    # One recipient, so one id; a set would mean the provider split the message, and no single id names it.
    return message_id if isinstance(message_id, str) and message_id else None


class EmailTransport:
    """Send outbox rows over one backend connection: `with EmailTransport() as t: t.send(message)`."""

    def __init__(self, connection: BaseEmailBackend | None = None):
        self.connection = connection or get_connection(fail_silently=False)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    @property
    def _provider_name(self) -> str:
        return getattr(self.connection, "esp_name", "") or "The email provider"

    def close(self) -> None:
        # A connection that already broke has nothing left to close.
        with contextlib.suppress(OSError, smtplib.SMTPException):
            self.connection.close()

    def send(self, message: Message) -> str | None:
        """Hand one message to the server; raises TransientError or PermanentError when it is not accepted."""
        provider = isinstance(self.connection, AnymailBaseBackend)
        email = None
        try:
            email = build_email(message, connection=self.connection)
            if provider:
                # Echoed back in the provider's webhooks, so they find the message even before its id is stored.
                email.metadata = {METADATA_MESSAGE_ID: str(message.pk)}
            # Opened here rather than by send_messages, which would close a session it opened after each call.
            self.connection.open()
            sent = self.connection.send_messages([email])
        except AnymailRecipientsRefused as exc:
            raise PermanentError(_refused_reason(exc, email, provider=self._provider_name))
        except AnymailAPIError as exc:
            # Before the OSError case: anymail's HTTP errors are also requests' (and so OSError) exceptions.
            self.close()
            raise _provider_error(exc, provider=self._provider_name)
        except AnymailConfigurationError as exc:
            # A missing key or package: every message would fail alike until an administrator fixes it.
            raise TransientError(f"The email provider is not set up: {exc}"[:MAX_ERROR], server_down=True)
        except (smtplib.SMTPException, OSError) as exc:
            # The session may be unusable now; the next message opens a fresh one.
            self.close()
            if _is_permanent(exc):
                raise PermanentError(_reason(exc))
            raise TransientError(_reason(exc), server_down=_server_down(exc))
        except (ValueError, TypeError) as exc:
            raise PermanentError(f"The message could not be built: {exc}"[:MAX_ERROR])
        if not sent:
            raise PermanentError("The mail server accepted no recipient for this message.")
        return _provider_message_id(email) if provider else None
