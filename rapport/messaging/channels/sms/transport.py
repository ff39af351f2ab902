"""SMS out: an outbox row becomes a Twilio message, sent over a connection kept open for the whole batch.

WhatsApp goes the same way (channels/whatsapp/transport.py) with its own sender number and `whatsapp:` addresses.
When Twilio is not set up, every message fails at once with what to set, rather than waiting in the queue forever.
"""

import logging
from types import TracebackType
from typing import Self

from django.conf import settings

from rapport.messaging.channels.base import PermanentError
from rapport.messaging.channels.sms.client import UNSUBSCRIBED_CODE, TwilioClient, TwilioRefused
from rapport.messaging.models import Message, SuppressionReason

logger = logging.getLogger(__name__)

# Mounted at /hooks/twilio/ (twilio_hooks:status); written out because the worker builds it outside any request.
STATUS_PATH = "/hooks/twilio/status"


def status_callback_url() -> str:
    """Where Twilio reports what became of a message: our status webhook at the public base URL."""
    return f"{settings.BASE_URL}{STATUS_PATH}"


class TwilioTransport:
    """Shared by SMS and WhatsApp: which sender to use and how addresses are written differ, nothing else."""

    label = "SMS"
    prefix = ""
    sender_hint = "TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID"

    def __init__(self, client: TwilioClient | None = None):
        self._client = client
        self._setup_problem = self.setup_problem()
        # Messages Twilio refused because the number opted out there; suppressed when the batch closes.
        self._opted_out: list[Message] = []

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def setup_problem(self) -> str:
        """Why this channel cannot send, naming the settings to fill in; empty when it can."""
        if not (settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN):
            return f"{self.label} is not set up: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN, and {self.sender_hint}."
        if not any(self.sender().values()):
            return f"{self.label} is not set up: set {self.sender_hint}."
        return ""

    def sender(self) -> dict[str, str]:
        if settings.TWILIO_MESSAGING_SERVICE_SID:
            # The service picks the number from its pool (and handles opt-outs for it).
            return {"messaging_service_sid": settings.TWILIO_MESSAGING_SERVICE_SID}
        return {"from_": settings.TWILIO_FROM_NUMBER}

    @property
    def client(self) -> TwilioClient:
        if self._client is None:
            self._client = TwilioClient(
                account_sid=settings.TWILIO_ACCOUNT_SID,
                auth_token=settings.TWILIO_AUTH_TOKEN,
                base_url=settings.TWILIO_BASE_URL,
            )
        return self._client

    def close(self) -> None:
        """End the batch: release the connection, then record the opt-outs Twilio reported during it.

        The outbox may call `send` on worker threads that only talk to Twilio; `close` runs on the outbox's own
        thread, where database writes belong.
        """
        if self._client is not None:
            self._client.close()
        opted_out, self._opted_out = self._opted_out, []
        for message in opted_out:
            self._suppress(message)

    def send(self, message: Message) -> str | None:
        """Hand one message to Twilio and return its SID; raises TransientError or PermanentError."""
        if self._setup_problem:
            raise PermanentError(self._setup_problem)
        content = self.content(message)
        sender = {key: (self.prefix + value if key == "from_" else value) for key, value in self.sender().items()}
        try:
            return self.client.send_message(
                to=self.prefix + message.to_address,
                status_callback=status_callback_url(),
                **content,
                **sender,
            )
        except TwilioRefused as exc:
            if exc.code == UNSUBSCRIBED_CODE:
                self._opted_out.append(message)
            raise

    def content(self, message: Message) -> dict[str, str]:
        """What Twilio is to send: the message's text (WhatsApp may send an approved template instead)."""
        if not message.text.strip():
            raise PermanentError(f"The {self.label} message is empty.")
        return {"body": message.text.strip()}

    def _suppress(self, message: Message) -> None:
        """Twilio knows the person opted out (they texted STOP before we saw it): stop every later message too."""
        from rapport.messaging.services import suppression_add

        suppression_add(
            address=message.to_address,
            channel=message.channel,
            reason=SuppressionReason.UNSUBSCRIBED,
            candidate=message.candidate,
            source=f"Twilio error {UNSUBSCRIBED_CODE}",
        )
        logger.info("message %s: %s opted out at Twilio; suppressed", message.pk, message.channel)


class SmsTransport(TwilioTransport):
    """SMS from TWILIO_FROM_NUMBER, or from the Messaging Service's numbers when one is set."""
