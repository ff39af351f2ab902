"""A small client for Twilio's Messages REST API on the standard library, Twilio's webhook signature check, and
the download of pictures and files people send us.

One `TwilioClient` keeps one HTTP(S) connection open, so a worker batch of texts costs one TLS handshake. Twilio's
answers are sorted the way the outbox needs them: 2xx gives the message SID; 429, 5xx, bad credentials and no
connection are transient (retry later); any other 4xx is permanent, with Twilio's own message and error code.
"""

import base64
import contextlib
import hashlib
import hmac
import http.client
import json
import logging
import ssl
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlencode, urljoin, urlsplit

from rapport.messaging.channels.base import PermanentError, TransientError

logger = logging.getLogger(__name__)

API_VERSION = "2010-04-01"
TIMEOUT_SECONDS = 10
MAX_ERROR = 500

# Error codes Twilio gives on a send or in a status callback, in words a recruiter understands.
ERROR_HINTS = {
    "21211": "the number is not a valid phone number",
    "21408": "sending to this country is not enabled on the Twilio account",
    "21610": "the person replied STOP to our number and has unsubscribed",
    "21612": "Twilio cannot send from our number to this one",
    "21614": "the number cannot receive text messages",
    "30003": "the phone is switched off or unreachable",
    "30004": "the person's carrier or phone blocked the message",
    "30005": "the number does not exist",
    "30006": "the number is a landline or cannot receive texts",
    "30007": "the carrier filtered the message as spam",
    "63016": "WhatsApp only allows a free-form message within 24 hours of the person's last message; send an "
    "approved WhatsApp template instead",
}
UNSUBSCRIBED_CODE = "21610"


class TwilioRefused(PermanentError):
    """Twilio turned this one message down for good; `code` is Twilio's error code (e.g. 21211), if it gave one."""

    def __init__(self, reason: str, *, code: str = ""):
        super().__init__(reason)
        self.code = code


def describe_error(code: str, message: str = "") -> str:
    """`Twilio error 21211: the number is not a valid phone number (Twilio's own words)`, short enough to store."""
    code = str(code or "").strip()
    hint = ERROR_HINTS.get(code, "")
    message = " ".join((message or "").split())
    parts = [f"Twilio error {code}" if code else "Twilio refused the message"]
    if hint:
        parts.append(f": {hint}")
    if message and message != hint:
        parts.append(f" ({message})" if hint else f": {message}")
    return "".join(parts)[:MAX_ERROR]


class TwilioClient:
    """Send messages through one account over one kept-alive connection: `client.send_message(...)`, `close()`."""

    def __init__(self, *, account_sid: str, auth_token: str, base_url: str, timeout: float = TIMEOUT_SECONDS):
        parts = urlsplit(base_url)
        self.account_sid = account_sid
        self._secure = parts.scheme == "https"
        self._host = parts.hostname or ""
        self._port = parts.port
        self._timeout = timeout
        credentials = base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode("ascii")
        self._authorization = f"Basic {credentials}"
        self._connection: http.client.HTTPConnection | None = None
        # Whether the open connection already carried a request (a kept-alive one the server may since have closed).
        self._used = False

    def _connect(self) -> http.client.HTTPConnection:
        if self._connection is None:
            if self._secure:
                self._connection = http.client.HTTPSConnection(
                    self._host, self._port, timeout=self._timeout, context=ssl.create_default_context()
                )
            else:
                self._connection = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
            self._used = False
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(OSError):
                self._connection.close()
        self._connection = None
        self._used = False

    def _post(self, path: str, fields: dict[str, str]) -> tuple[int, bytes]:
        body = urlencode(fields)
        headers = {
            "Authorization": self._authorization,
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
            "User-Agent": "rapport",
        }
        for retry_on_fresh in (True, False):
            connection = self._connect()
            reused = self._used
            try:
                connection.request("POST", path, body=body, headers=headers)
                response = connection.getresponse()
                # Read to the end, so the connection is free for the next request of the batch.
                payload = response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                # A kept-alive connection the server closed while idle: the request never reached it, so it is
                # safe to send once more on a new connection. A fresh connection failing this way is a real error.
                if reused and retry_on_fresh:
                    continue
                raise
            except (OSError, http.client.HTTPException):
                self.close()
                raise
            self._used = True
            if response.will_close:
                self.close()
            return response.status, payload
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def send_message(
        self,
        *,
        to: str,
        body: str = "",
        from_: str = "",
        messaging_service_sid: str = "",
        status_callback: str = "",
        content_sid: str = "",
        content_variables: str = "",
    ) -> str | None:
        """Hand one message to Twilio and return its SID; raises TransientError or TwilioRefused.

        With `content_sid` (an approved WhatsApp template, HX…) Twilio sends that template, filled in with
        `content_variables` (JSON: {"1": "Ada"}), instead of a free-form `body`.
        """
        if content_sid:
            fields = {"To": to, "ContentSid": content_sid}
            if content_variables:
                fields["ContentVariables"] = content_variables
        else:
            fields = {"To": to, "Body": body}
        if messaging_service_sid:
            fields["MessagingServiceSid"] = messaging_service_sid
        else:
            fields["From"] = from_
        if status_callback:
            fields["StatusCallback"] = status_callback
        path = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages.json"
        try:
            status, payload = self._post(path, fields)
        except TimeoutError as exc:
            raise TransientError(f"Twilio did not answer in time: {exc}"[:MAX_ERROR], server_down=True)
        except (OSError, http.client.HTTPException) as exc:
            raise TransientError(
                f"Twilio could not be reached: {type(exc).__name__}: {exc}"[:MAX_ERROR], server_down=True
            )
        answer = _json(payload)
        if 200 <= status < 300:
            sid = answer.get("sid")
            if not isinstance(sid, str) or not sid:
                # Accepted all the same: sending it again would text the person twice.
                logger.warning("Twilio accepted a message but gave no SID (HTTP %s)", status)
                return None
            return sid
        code = str(answer.get("code") or "")
        message = str(answer.get("message") or "")
        if status == 429 or status >= 500:
            # Rate limited or Twilio in trouble: the rest of the batch would meet the same, so it waits too.
            raise TransientError(
                f"Twilio answered HTTP {status}: {describe_error(code, message)}"[:MAX_ERROR],
                server_down=status in (429, 503),
            )
        if status == 401:
            # Wrong credentials are not this message's fault (as with SMTP authentication): keep it for later.
            raise TransientError(
                "Twilio refused our credentials: check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN.", server_down=True
            )
        raise TwilioRefused(describe_error(code, message or f"HTTP {status}"), code=code)


def _json(payload: bytes) -> dict:
    try:
        data = json.loads(payload or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


# --- webhook signatures ---------------------------------------------------------------------------------------------


def compute_signature(*, auth_token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """Twilio's X-Twilio-Signature: base64(HMAC-SHA1(token, URL + each name+value, sorted by name then value))."""
    values: dict[str, set[str]] = {}
    for name, value in params:
        values.setdefault(name, set()).add(value)
    signed = url + "".join(name + value for name in sorted(values) for value in sorted(values[name]))
    digest = hmac.new(auth_token.encode(), signed.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def signature_is_valid(*, auth_token: str, url: str, params: Iterable[tuple[str, str]], signature: str) -> bool:
    """Whether `signature` is the one Twilio makes for this URL and these POST parameters with our auth token."""
    if not auth_token or not signature:
        return False
    expected = compute_signature(auth_token=auth_token, url=url, params=params)
    return hmac.compare_digest(expected.encode(), signature.strip().encode())


# --- media people send us -------------------------------------------------------------------------------------------

MEDIA_TIMEOUT_SECONDS = 30
MAX_REDIRECTS = 5
REDIRECTS = {301, 302, 303, 307, 308}
CHUNK = 64 * 1024
MEGABYTE = 1024 * 1024


class MediaRefused(PermanentError):
    """A picture or file that will not be kept however often it is fetched: too big, a type we refuse, or gone."""


@dataclass(frozen=True)
class Media:
    content: bytes
    content_type: str


def _origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or (443 if scheme == "https" else 80)


def megabytes(size: int) -> str:
    return f"{size / MEGABYTE:.1f}".removesuffix(".0") + " MB"


def fetch_media(
    *,
    url: str,
    account_sid: str,
    auth_token: str,
    base_url: str,
    max_bytes: int,
    accept: Callable[[str], bool],
    timeout: float = MEDIA_TIMEOUT_SECONDS,
) -> Media:
    """Download one MediaUrl of an inbound message; raises TransientError (try later) or MediaRefused.

    Twilio answers a media URL with a redirect to its storage; the redirects are followed, but our credentials go
    only to Twilio's API itself (TWILIO_BASE_URL), never to the host a redirect names. A served type `accept`
    refuses, or a body over `max_bytes`, is refused before (or while) it is read, so nothing large is held.
    """
    api = _origin(base_url)
    if _origin(url) != api:
        raise MediaRefused("its address is not on Twilio's API (TWILIO_BASE_URL), so it was not fetched")
    credentials = base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode("ascii")
    for _ in range(MAX_REDIRECTS + 1):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise MediaRefused("Twilio redirected to an address that is not a web address")
        headers = {"User-Agent": "rapport", "Accept": "*/*"}
        if _origin(url) == api:
            headers["Authorization"] = f"Basic {credentials}"
        if parts.scheme == "https":
            connection: http.client.HTTPConnection = http.client.HTTPSConnection(
                parts.hostname, parts.port, timeout=timeout, context=ssl.create_default_context()
            )
        else:
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
        try:
            connection.request("GET", (parts.path or "/") + (f"?{parts.query}" if parts.query else ""), headers=headers)
            response = connection.getresponse()
            if response.status in REDIRECTS and response.getheader("Location"):
                url = urljoin(url, response.getheader("Location", ""))
                continue
            if response.status == 200:
                return _read_media(response, max_bytes=max_bytes, accept=accept)
            _media_failure(response.status)
        except TimeoutError as exc:
            raise TransientError(f"Twilio did not answer in time: {exc}"[:MAX_ERROR])
        except (OSError, http.client.HTTPException) as exc:
            raise TransientError(f"Twilio could not be reached: {type(exc).__name__}: {exc}"[:MAX_ERROR])
        finally:
            connection.close()
    raise MediaRefused(f"Twilio redirected more than {MAX_REDIRECTS} times")


def _read_media(response: http.client.HTTPResponse, *, max_bytes: int, accept: Callable[[str], bool]) -> Media:
    content_type = (response.getheader("Content-Type") or "").split(";")[0].strip().lower()
    if not accept(content_type):
        raise MediaRefused(f"{content_type or 'a file of no stated type'} is not a type Rapport keeps")
    limit = f"over the {megabytes(max_bytes)} limit"
    length = response.getheader("Content-Length") or ""
    if length.isdigit() and int(length) > max_bytes:
        raise MediaRefused(f"it is {megabytes(int(length))}, {limit}")
    chunks: list[bytes] = []
    size = 0
    while chunk := response.read(CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise MediaRefused(f"it is {limit}")
        chunks.append(chunk)
    return Media(b"".join(chunks), content_type)


def _media_failure(status: int) -> None:
    if status == 401:
        raise TransientError("Twilio refused our credentials: check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN.")
    # A media URL can answer 404 for a moment after the webhook; 408, 429 and 5xx are Twilio's passing trouble.
    if status in (404, 408, 429) or status >= 500:
        raise TransientError(f"Twilio answered HTTP {status}")
    raise MediaRefused(f"Twilio answered HTTP {status}")
