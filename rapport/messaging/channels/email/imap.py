"""Replies by IMAP: poll the reply mailbox (IMAP_URL) and file each unread email through `inbound_email_accept`.

Each email is accepted first and marked \\Seen after, so a crash in between only means it is accepted again next
time, which the (source, external_id) key makes a no-op. The id is "<UIDVALIDITY>:<UID>": a UID alone is reused
when the server rebuilds the mailbox, and UIDVALIDITY changes exactly then.
"""

import contextlib
import imaplib
import logging
from typing import Any

from django.conf import settings

from rapport.messaging.channels.email.inbound import inbound_email_accept

logger = logging.getLogger(__name__)

SOURCE = "imap"


def _quoted(mailbox: str) -> str:
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _connect(config: dict[str, Any]) -> imaplib.IMAP4:
    client_class = imaplib.IMAP4_SSL if config["ssl"] else imaplib.IMAP4
    client = client_class(config["host"], config["port"], timeout=config["timeout"])
    try:
        client.login(config["user"], config["password"])
    except BaseException:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            client.shutdown()
        raise
    return client


def _check(response: tuple[str, list[Any]], what: str) -> list[Any]:
    status, data = response
    if status != "OK":
        raise imaplib.IMAP4.error(f"{what} failed: {data!r}")
    return data


def _message_bytes(data: list[Any]) -> bytes | None:
    # A FETCH answer is [(b'1 (UID 5 BODY[] {123}', b'<the message>'), b')']; the literal is the message.
    for item in data:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
            return item[1]
    return None


def imap_poll(*, limit: int = 100) -> int:
    """File up to `limit` unread emails from the reply mailbox; returns how many. Never raises for server trouble."""
    config = settings.IMAP
    if not config:
        return 0
    where = f"{config['host']}:{config['port']}"
    try:
        client = _connect(config)
    except (imaplib.IMAP4.error, OSError) as exc:
        logger.warning("IMAP: could not sign in to %s as %s: %s", where, config["user"], exc)
        return 0
    filed = 0
    try:
        _check(client.select(_quoted(config["mailbox"])), f"Opening the mailbox {config['mailbox']}")
        _, validity = client.response("UIDVALIDITY")
        uidvalidity = (validity[0] or b"0").decode() if validity else "0"
        uids = _check(client.uid("SEARCH", None, "UNSEEN"), "Searching for unread email")[0].split()
        for uid in uids[:limit]:
            data = _check(client.uid("FETCH", uid, "(BODY.PEEK[])"), f"Fetching email {uid!r}")
            raw = _message_bytes(data)
            if raw is None:
                # Deleted by another client between SEARCH and FETCH.
                continue
            inbound_email_accept(raw=raw, source=SOURCE, external_id=f"{uidvalidity}:{uid.decode()}")
            _check(client.uid("STORE", uid, "+FLAGS", "(\\Seen)"), f"Marking email {uid!r} read")
            filed += 1
    except (imaplib.IMAP4.error, OSError) as exc:
        logger.warning("IMAP: polling %s stopped after %s emails: %s", where, filed, exc)
    finally:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            client.logout()
    return filed
