"""Email out: an outbox row becomes a MIME message sent through Django's backend (configured by EMAIL_URL).

One `EmailTransport` holds one backend connection for a whole batch, so a run of the worker opens one SMTP
session rather than one per message. SMTP answers are sorted into transient (connection trouble, 4xx: retry
later) and permanent (5xx: the server will never take it) so the outbox can retry or give up.
"""

import contextlib
import smtplib
from email.utils import formataddr, parseaddr
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend

from rapport.messaging.channels.base import PermanentError, TransientError
from rapport.messaging.links import unsubscribe_url
from rapport.messaging.models import Message
from rapport.messaging.tracking import tracked_html

MAX_ERROR = 500


def message_domain() -> str:
    """Our own domain, for Message-ID: replies then reference an id no other sender can have made."""
    return urlsplit(settings.BASE_URL).hostname or "localhost"


def from_header(*, name: str) -> str:
    """The From line: the sender's name in front of the organisation's one sending address."""
    _, address = parseaddr(settings.RAPPORT_EMAIL_FROM)
    return formataddr((" ".join(name.split()), address or settings.RAPPORT_EMAIL_FROM))


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
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.text,
        from_email=message.from_header or settings.RAPPORT_EMAIL_FROM,
        to=[message.to_address],
        reply_to=[message.reply_to] if message.reply_to else None,
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


class EmailTransport:
    """Send outbox rows over one backend connection: `with EmailTransport() as t: t.send(message)`."""

    def __init__(self, connection: BaseEmailBackend | None = None):
        self.connection = connection or get_connection(fail_silently=False)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        # A connection that already broke has nothing left to close.
        with contextlib.suppress(OSError, smtplib.SMTPException):
            self.connection.close()

    def send(self, message: Message) -> str | None:
        """Hand one message to the server; raises TransientError or PermanentError when it is not accepted."""
        try:
            email = build_email(message, connection=self.connection)
            # Opened here rather than by send_messages, which would close a session it opened after each call.
            self.connection.open()
            sent = self.connection.send_messages([email])
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
        return None
