"""Open and click tracking on our own domain: signed tokens, and the HTML part rewritten at send time.

An open token names the message; a click token names the message and the URL the link pointed to. Both are signed
with the secret key and salts of their own, so a token cannot be forged or replayed as another kind, and the click
redirect can only ever lead to a URL that was in that message (never an open redirect). The stored HTML is left
as composed: the rewriting happens per send, so the profile shows the message as the person's own links read.
"""

import html
import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing

OPEN_SALT = "rapport.messaging.tracking.open"
CLICK_SALT = "rapport.messaging.tracking.click"

# A 1×1 transparent GIF (43 bytes): the smallest image every mail client shows without complaint.
PIXEL_GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)

_HREF = re.compile(r"""(<a\b[^>]*?\bhref\s*=\s*)(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)


@dataclass(frozen=True)
class ClickToken:
    message_id: int
    url: str


def open_token(*, message_id: int) -> str:
    # Not compressed: a compressed token starts with "." and this one sits in front of ".gif".
    return signing.dumps({"m": message_id}, salt=OPEN_SALT)


def open_token_read(token: str) -> int | None:
    """The message id, or None when the token was not made by us."""
    try:
        data: Any = signing.loads(token, salt=OPEN_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("m"), int):
        return None
    return data["m"]


def click_token(*, message_id: int, url: str) -> str:
    return signing.dumps({"m": message_id, "u": url}, salt=CLICK_SALT, compress=True)


def click_token_read(token: str) -> ClickToken | None:
    """The message id and target, or None when the token was not made by us or the target is not http(s)."""
    try:
        data: Any = signing.loads(token, salt=CLICK_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("m"), int) or not isinstance(data.get("u"), str):
        return None
    if not _is_web(data["u"]):
        return None
    return ClickToken(data["m"], data["u"])


def open_url(*, message_id: int) -> str:
    return f"{settings.BASE_URL}/t/o/{open_token(message_id=message_id)}.gif"


def click_url(*, message_id: int, url: str) -> str:
    return f"{settings.BASE_URL}/t/c/{click_token(message_id=message_id, url=url)}"


def _is_web(url: str) -> bool:
    return url.lower().startswith(("http://", "https://"))


def _tracked(url: str) -> bool:
    # Unsubscribe and preferences links go straight to their page: a redirect in front of them would count an
    # unsubscribe as engagement, and mail providers and scanners expect to reach them directly.
    return _is_web(url) and not url.startswith(f"{settings.BASE_URL}/u/")


def tracked_html(*, message_id: int, page: str) -> str:
    """The HTML part as sent: each http(s) link through a click redirect, and an open pixel before </body>."""

    def rewrite(match: re.Match[str]) -> str:
        raw = match.group(2) if match.group(2) is not None else match.group(3)
        url = html.unescape(raw).strip()
        if not _tracked(url):
            return match.group(0)
        return f'{match.group(1)}"{html.escape(click_url(message_id=message_id, url=url))}"'

    page = _HREF.sub(rewrite, page)
    pixel = (
        f'<img src="{html.escape(open_url(message_id=message_id))}" width="1" height="1" alt="" '
        'style="display:block;width:1px;height:1px;border:0;">'
    )
    head, body_end, tail = page.rpartition("</body>")
    return f"{head}{pixel}{body_end}{tail}" if body_end else page + pixel
