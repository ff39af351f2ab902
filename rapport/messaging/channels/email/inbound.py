"""Email in: raw RFC 5322 bytes from the reply mailbox (IMAP) or a provider's inbound webhook become a reply on the
right person's thread, or wait for triage.

Every receiver calls `inbound_email_accept` with the bytes and the id its source gives them, and nothing else:
matching (reply-address token, then the In-Reply-To/References headers, then the sender's address), storing the
raw mail, and the outcome (matched, unknown sender, could not be read, automatic reply) all happen here, so the
same mail arriving twice, or by two routes, is filed once.
"""

import base64
import hashlib
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from html.parser import HTMLParser

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.utils.crypto import constant_time_compare, salted_hmac

from rapport.candidates.models import Candidate
from rapport.messaging.models import InboundEmail, InboundStatus, Message, MessageDirection
from rapport.messaging.selectors import candidate_for_address, thread_parent
from rapport.messaging.services_inbound import IncomingAttachment, message_receive

logger = logging.getLogger(__name__)

AUTOMATIC_REPLY = "Automatic reply"
MAX_SOURCE = 20
MAX_EXTERNAL_ID = 255
MAX_MESSAGE_ID = 255
MAX_ERROR = 500

# --- reply-address tokens -------------------------------------------------------------------------------------------

_TOKEN_SALT = "rapport.messaging.reply-address"
_SIGNATURE_CHARS = 10  # 50 bits of base32: guessing one costs far more tries than a mailbox would ever accept
_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def _base36(number: int) -> str:
    digits = ""
    while True:
        number, rest = divmod(number, 36)
        digits = _BASE36[rest] + digits
        if number == 0:
            return digits


def _signature(value: str) -> str:
    digest = salted_hmac(_TOKEN_SALT, value, algorithm="sha256").digest()
    return base64.b32encode(digest).decode().lower()[:_SIGNATURE_CHARS]


def reply_token_make(message_pk: int) -> str:
    """A short signed token naming one outgoing message, for the local part of its reply address.

    Lower-case letters and digits only: some mail servers change the case of the local part, and a token must
    survive that (Django's signing uses case-sensitive base64, so the HMAC is encoded here in base32).
    """
    value = _base36(message_pk)
    return f"{value}-{_signature(value)}"


def reply_token_read(token: str) -> int | None:
    """The outgoing message's pk a token names, or None when it is not one of ours (or was tampered with)."""
    value, _, signature = token.strip().lower().rpartition("-")
    if not value or len(value) > 13 or not set(value) <= set(_BASE36):
        return None
    if not constant_time_compare(signature, _signature(value)):
        return None
    return int(value, 36)


def reply_address_for(message_pk: int) -> str:
    """`replies+<token>@domain` for RAPPORT_REPLY_ADDRESS `replies@domain`; only call it when that is set."""
    local, _, domain = settings.RAPPORT_REPLY_ADDRESS.rpartition("@")
    return f"{local}+{reply_token_make(message_pk)}@{domain}"


def _token_in(addresses: list[str]) -> int | None:
    """The message a reply was addressed to, from the first of our reply addresses among the recipients."""
    if not settings.RAPPORT_REPLY_ADDRESS:
        return None
    local, _, domain = settings.RAPPORT_REPLY_ADDRESS.lower().rpartition("@")
    for address in addresses:
        their_local, _, their_domain = address.lower().rpartition("@")
        if their_domain != domain or not their_local.startswith(f"{local}+"):
            continue
        pk = reply_token_read(their_local[len(local) + 1 :])
        if pk is not None:
            return pk
    return None


# --- parsing --------------------------------------------------------------------------------------------------------


class MalformedEmail(Exception):
    """The bytes are not an email Rapport can file (no sender, unreadable headers)."""


@dataclass
class ParsedEmail:
    from_address: str
    from_name: str
    subject: str
    message_id: str
    in_reply_to: str
    references: str
    text: str
    html: str
    recipients: list[str] = field(default_factory=list)
    attachments: list[IncomingAttachment] = field(default_factory=list)
    # Why this is an automatic message (out of office, delivery report), or "" for one a person wrote.
    automatic: str = ""


def _clean(value: object) -> str:
    """Text safe to store: undecodable header bytes become U+FFFD, and NULs (PostgreSQL refuses them) go."""
    text = str(value or "")
    try:
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text.replace("\x00", "")


def _header(message: EmailMessage, name: str) -> str:
    return " ".join(_clean(message.get(name, "")).split())


def _addresses(message: EmailMessage, *names: str) -> list[Address]:
    found: list[Address] = []
    for name in names:
        for header in message.get_all(name) or []:
            found.extend(getattr(header, "addresses", ()))
    return found


class _HtmlText(HTMLParser):
    """The readable text of an HTML email: block elements start new lines, scripts and styles are skipped."""

    _BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table", "hr"}
    _SKIPPED = {"script", "style", "head", "title"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIPPED:
            self.skipping += 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIPPED:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)

    def text(self) -> str:
        lines = [" ".join(line.split()) for line in "".join(self.parts).splitlines()]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def html_to_text(html: str) -> str:
    parser = _HtmlText()
    parser.feed(html)
    parser.close()
    return parser.text()


_ATTRIBUTION = re.compile(r"^\s*On\s.+\swrote:\s*$", re.IGNORECASE | re.DOTALL)


def strip_quoted(text: str) -> str:
    """The reply without the earlier message it quotes, when the quote is clearly marked and comes last.

    Only an "On … wrote:" line (mail clients wrap it over two lines at times) followed by nothing but ">" lines
    is cut; replies written between quoted lines are kept whole, since cutting there would lose what they said.
    """
    lines = text.splitlines()
    for index, line in enumerate(lines):
        rest = [later for later in lines[index + 1 :] if later.strip()]
        if not rest or not all(later.lstrip().startswith(">") for later in rest):
            continue
        if _ATTRIBUTION.match(line):
            start = index
        elif index > 0 and _ATTRIBUTION.match(f"{lines[index - 1]} {line}"):
            start = index - 1
        else:
            continue
        return "\n".join(lines[:start]).rstrip()
    return text


def _automatic(message: EmailMessage) -> str:
    """Why a message was sent by a machine rather than a person (RFC 3834 and the common non-standard headers)."""
    auto_submitted = _header(message, "Auto-Submitted").lower()
    precedence = _header(message, "Precedence").lower()
    if (
        (auto_submitted and auto_submitted != "no")
        or message.get("X-Autoreply") is not None
        or message.get("X-Autorespond") is not None
        or precedence in ("bulk", "auto_reply", "junk")
    ):
        return AUTOMATIC_REPLY
    if message.get_content_type() == "multipart/report":
        return "Delivery report"
    return ""


def _attachments(message: EmailMessage, bodies: set[int]) -> list[IncomingAttachment]:
    found: list[IncomingAttachment] = []
    for part in message.walk():
        if part.is_multipart() or id(part) in bodies:
            continue
        filename = _clean(part.get_filename() or "")
        if not filename and part.get_content_disposition() != "attachment":
            continue
        content = part.get_payload(decode=True) or b""
        found.append(
            IncomingAttachment(filename=filename or "attachment", content=content, content_type=part.get_content_type())
        )
    return found


def _text_of(part: EmailMessage) -> str:
    try:
        return _clean(part.get_content())
    except LookupError:
        # An unknown charset: most such mail is UTF-8 or close to it, which beats refusing the whole message.
        return _clean((part.get_payload(decode=True) or b"").decode("utf-8", "replace"))


def parse_email(raw: bytes) -> ParsedEmail:
    """Read the parts of an email Rapport files; raises MalformedEmail when there is no sender to file it under."""
    message = BytesParser(policy=policy.default).parsebytes(raw)
    senders = _addresses(message, "From")
    if not senders:
        raise MalformedEmail("The email has no sender (no From line).")
    sender = senders[0]
    address = _clean(sender.addr_spec).strip()
    if "@" not in address or " " in address:
        raise MalformedEmail(f"The sender's address could not be read: {address[:100]!r}.")
    plain = message.get_body(preferencelist=("plain",))
    rich = message.get_body(preferencelist=("html",))
    html = _text_of(rich) if rich is not None else ""
    text = _text_of(plain) if plain is not None else html_to_text(html)
    bodies = {id(part) for part in (plain, rich) if part is not None}
    return ParsedEmail(
        from_address=address,
        from_name=_clean(sender.display_name).strip(),
        subject=_header(message, "Subject"),
        message_id=_header(message, "Message-ID"),
        in_reply_to=_header(message, "In-Reply-To"),
        references=_header(message, "References"),
        text=strip_quoted(text.replace("\r\n", "\n")).strip(),
        html=html,
        recipients=[
            _clean(a.addr_spec) for a in _addresses(message, "To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To")
        ],
        attachments=_attachments(message, bodies),
        automatic=_automatic(message),
    )


# --- filing ---------------------------------------------------------------------------------------------------------


def email_receive(
    *,
    parsed: ParsedEmail,
    candidate: Candidate,
    parent: Message | None = None,
    received_at: datetime | None = None,
) -> Message:
    """Put a parsed email on a person's thread (triage uses it too, once someone is made a lead)."""
    return message_receive(
        candidate=candidate,
        channel="email",
        from_address=parsed.from_address,
        to_address=parsed.recipients[0] if parsed.recipients else "",
        subject=parsed.subject,
        text=parsed.text,
        html=parsed.html,
        # An id too long to store whole could not be looked up again; a fresh one of ours is stored instead.
        message_id=parsed.message_id if 0 < len(parsed.message_id) <= MAX_MESSAGE_ID else None,
        in_reply_to=parsed.in_reply_to,
        references=parsed.references,
        parent=parent,
        received_at=received_at,
        attachments=parsed.attachments,
    )


def _match(parsed: ParsedEmail) -> tuple[Candidate | None, Message | None]:
    """Who wrote, and which message they answer: by reply-address token, then headers, then the sender's address.

    A reply found by token or headers belongs to that thread's person even from another of their addresses.
    """
    pk = _token_in(parsed.recipients)
    parent = Message.objects.select_related("candidate", "job").filter(pk=pk).first() if pk is not None else None
    if parent is None:
        parent = thread_parent(in_reply_to=parsed.in_reply_to, references=parsed.references)
    if parent is not None and parent.candidate.erased_at is None:
        return parent.candidate, parent
    return candidate_for_address(channel="email", address=parsed.from_address), None


def _external_id(external_id: str, raw: bytes) -> str:
    # Without an id the content is the identity; an over-long id is hashed rather than cut, so two never collide.
    if not external_id:
        return "sha256:" + hashlib.sha256(raw).hexdigest()
    if len(external_id) > MAX_EXTERNAL_ID:
        return "sha256:" + hashlib.sha256(external_id.encode()).hexdigest()
    return external_id


def _stored(source: str, external_id: str) -> InboundEmail | None:
    return InboundEmail.objects.filter(source=source, external_id=external_id).first()


def _create(**fields: object) -> tuple[InboundEmail, bool]:
    """Store one row; when a concurrent receiver stored the same mail first, its row is returned (created False)."""
    try:
        with transaction.atomic():
            return InboundEmail.objects.create(**fields), True
    except IntegrityError:
        existing = _stored(str(fields["source"]), str(fields["external_id"]))
        if existing is None:
            raise
        return existing, False


def inbound_email_accept(*, raw: bytes, source: str, external_id: str) -> InboundEmail:
    """File one received email; the same (source, external_id) twice returns the stored row and does nothing else.

    Never raises for bad mail and never drops it: mail that cannot be read is stored raw and flagged MALFORMED,
    mail from an unknown sender waits for triage as UNKNOWN_SENDER, automatic replies (out of office, delivery
    reports) are kept as DISMISSED so they neither reach the inbox nor count as the person replying.
    """
    if not source or len(source) > MAX_SOURCE:
        # A receiver's own bug, not bad mail: fail loudly where it is written.
        raise ValueError(f"source must be 1 to {MAX_SOURCE} characters, such as 'imap', not {source!r}")
    raw = bytes(raw)
    external_id = _external_id(external_id.strip(), raw)
    existing = _stored(source, external_id)
    if existing is not None:
        return existing
    keys = {"source": source, "external_id": external_id, "raw": raw}
    try:
        parsed = parse_email(raw)
    except MalformedEmail as exc:
        return _create(**keys, status=InboundStatus.MALFORMED, error=str(exc))[0]
    except Exception as exc:  # noqa: BLE001 - whatever the parser trips on, the mail is kept and flagged
        logger.warning("inbound email %s/%s could not be parsed", source, external_id, exc_info=True)
        error = f"The email could not be read: {type(exc).__name__}: {exc}"[:MAX_ERROR]
        return _create(**keys, status=InboundStatus.MALFORMED, error=error)[0]

    keys |= {
        "from_address": parsed.from_address[:254],
        "from_name": parsed.from_name[:200],
        "subject": parsed.subject[:300],
        "text": parsed.text,
    }
    if parsed.automatic:
        return _create(**keys, status=InboundStatus.DISMISSED, error=parsed.automatic)[0]
    if (
        parsed.message_id
        and Message.objects.filter(message_id=parsed.message_id, direction=MessageDirection.OUTBOUND).exists()
    ):
        # A copy of what we sent (a BCC to the reply mailbox, a mail loop) is not a reply.
        return _create(**keys, status=InboundStatus.DISMISSED, error="A copy of a message Rapport sent")[0]
    candidate, parent = _match(parsed)
    if candidate is None:
        return _create(**keys, status=InboundStatus.UNKNOWN_SENDER)[0]
    try:
        with transaction.atomic():
            inbound, created = _create(**keys, status=InboundStatus.MATCHED)
            if created:
                inbound.message = email_receive(parsed=parsed, candidate=candidate, parent=parent)
                inbound.save(update_fields=["message"])
            return inbound
    except DatabaseError:
        raise
    except Exception as exc:  # noqa: BLE001 - an odd part (an attachment the storage refuses) must not lose the mail
        logger.warning("inbound email %s/%s could not be filed", source, external_id, exc_info=True)
        error = f"Rapport could not file this email: {type(exc).__name__}: {exc}"[:MAX_ERROR]
        return _create(**keys, status=InboundStatus.MALFORMED, error=error)[0]
