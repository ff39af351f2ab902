"""Postal (self-hosted mail server) through anymail's Postal backend, sending our own MIME message.

Anymail's backend posts fields to Postal's /api/v1/send/message, and Postal then writes a Message-ID of its own over
ours, so a reply's In-Reply-To would name a message we never stored and miss its thread. This backend keeps
anymail's backend (the API key header, the HTTP session, the error answers) and posts the message we built, byte
for byte, to /api/v1/send/raw, which Postal sends as it is apart from its DKIM signature. Postal names each
recipient's copy with a number; it is returned as text so the outbox stores it and Postal's webhooks, which carry
that number, find the message again.
"""

import base64
from typing import Any

from anymail.backends.postal import EmailBackend as AnymailPostalBackend
from anymail.backends.postal import PostalPayload
from anymail.exceptions import AnymailConfigurationError
from anymail.message import AnymailRecipientStatus
from anymail.utils import EmailAddress

# Postal's answers that hold for every message until an administrator acts: kept for later, not failed.
_NOT_SET_UP = {
    "AccessDenied": "Postal refused the API key",
    "InvalidServerAPIKey": "Postal refused the API key",
    "ServerSuspended": "the Postal mail server is suspended",
    "UnauthenticatedFromAddress": "Postal is not set up to send from RAPPORT_EMAIL_FROM's domain",
}


class RawPayload(PostalPayload):
    """The message as MIME with its envelope; the fields anymail would send are in the MIME already."""

    def init_payload(self) -> None:
        super().init_payload()
        self.mail_from = ""
        self.rcpt_to: list[str] = []

    def get_api_endpoint(self) -> str:
        return "api/v1/send/raw"

    def set_from_email(self, email: EmailAddress) -> None:
        self.mail_from = self.mail_from or email.addr_spec

    def set_envelope_sender(self, email: EmailAddress) -> None:
        self.mail_from = email.addr_spec

    def _add_recipients(self, emails: list[EmailAddress]) -> None:
        self.rcpt_to.extend(email.addr_spec for email in emails)

    set_to = set_cc = set_bcc = _add_recipients

    # In the MIME message already, where Postal's field-by-field limits (one Reply-To, no inline images) do not apply.
    def set_reply_to(self, emails: list[EmailAddress]) -> None:
        pass

    def set_attachments(self, attachments: list[Any]) -> None:
        pass

    def set_metadata(self, metadata: dict[str, Any]) -> None:
        # Postal carries no metadata to its webhooks; they name the message by Postal's own id, which is stored.
        pass

    def serialize_data(self) -> str:
        raw = self.message.message().as_bytes(linesep="\r\n")
        return self.serialize_json(
            {"mail_from": self.mail_from, "rcpt_to": self.rcpt_to, "data": base64.b64encode(raw).decode("ascii")}
        )


class EmailBackend(AnymailPostalBackend):
    """EMAIL_URL postal://API_KEY@postal.example.org."""

    def build_message_payload(self, message: Any, defaults: dict[str, Any]) -> RawPayload:
        return RawPayload(message, defaults, self)

    def parse_recipient_status(self, response: Any, payload: Any, message: Any) -> dict[str, AnymailRecipientStatus]:
        parsed = self.deserialize_json_response(response, payload, message)
        parsed = parsed if isinstance(parsed, dict) else {}
        data = parsed.get("data") if isinstance(parsed.get("data"), dict) else {}
        code = data.get("code")
        if parsed.get("status") == "error" and code in _NOT_SET_UP:
            # Postal answers every error with HTTP 200, and this one echoes the API key, so only the code is kept.
            raise AnymailConfigurationError(f"{_NOT_SET_UP[code]} ({code})")
        return {
            address: AnymailRecipientStatus(
                message_id=None if status.message_id is None else str(status.message_id), status=status.status
            )
            for address, status in super().parse_recipient_status(response, payload, message).items()
        }
