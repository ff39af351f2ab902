"""Fake email providers on loopback that speak the send APIs anymail uses (Mailgun, Postmark), and webhook signing."""

import base64
import email
import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import Iterator
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

from rapport.config.settings import _email_settings
from tests.messaging.conftest import free_port

MAILGUN_KEY = "key-mailgun-test"
MAILGUN_DOMAIN = "mg.acme.example"
MAILGUN_SIGNING_KEY = "mailgun-signing-key-test"
POSTMARK_TOKEN = "postmark-server-token-test"
WEBHOOK_USER, WEBHOOK_PASSWORD = "hooks", "hook-password-test"


def basic_auth(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _form(content_type: str, body: bytes) -> dict[str, list[str]]:
    """The fields of a form post, urlencoded or multipart, as lists (Mailgun repeats some)."""
    fields: dict[str, list[str]] = {}
    if content_type.startswith("multipart/"):
        message = email.message_from_bytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body, policy=policy.default
        )
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            fields.setdefault(name, []).append(part.get_content() if part.get_content_maintype() == "text" else "")
    else:
        for name, value in parse_qsl(body.decode(), keep_blank_values=True):
            fields.setdefault(name, []).append(value)
    return fields


class FakeProvider:
    """Answers sends like the provider's API, records each request, and can be told to refuse the next ones.

    `answer_next(status, body)` queues an answer for the next request; `stop()` closes the port, so connecting is
    refused.
    """

    kind = ""

    def __init__(self) -> None:
        self.port = free_port()
        self.requests: list[dict] = []
        self.pending: list[tuple[int, dict]] = []
        self.ids: list[str] = []
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def answer_next(self, status: int, body: dict, *, times: int = 1) -> None:
        self.pending.extend([(status, body)] * times)

    def accepted(self, request: dict) -> tuple[int, dict]:
        raise NotImplementedError

    def start(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                return None

            def do_POST(self) -> None:  # noqa: N802 - http.server's hook name
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                content_type = self.headers.get("Content-Type", "")
                request = {"path": self.path, "headers": dict(self.headers), "body": body}
                if content_type.startswith("application/json"):
                    request["json"] = json.loads(body)
                else:
                    request["form"] = _form(content_type, body)
                fake.requests.append(request)
                status, answer = fake.pending.pop(0) if fake.pending else fake.accepted(request)
                payload = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


class FakeMailgun(FakeProvider):
    """POST /v3/<domain>/messages with basic auth api:<key> → 200 {"id": "<…@domain>", "message": "Queued…"}."""

    def accepted(self, request: dict) -> tuple[int, dict]:
        if request["headers"].get("Authorization") != basic_auth("api", MAILGUN_KEY):
            return 401, {"message": "Invalid private key"}
        if request["path"] != f"/v3/{MAILGUN_DOMAIN}/messages":
            return 404, {"message": "Domain not found"}
        message_id = f"<{uuid.uuid4().hex}@{MAILGUN_DOMAIN}>"
        self.ids.append(message_id)
        return 200, {"id": message_id, "message": "Queued. Thank you."}


class FakePostmark(FakeProvider):
    """POST /email with X-Postmark-Server-Token → 200 {"MessageID": uuid, "ErrorCode": 0, …}."""

    def accepted(self, request: dict) -> tuple[int, dict]:
        if request["headers"].get("X-Postmark-Server-Token") != POSTMARK_TOKEN:
            return 401, {"ErrorCode": 10, "Message": "Request does not contain a valid Server token."}
        message_id = str(uuid.uuid4())
        self.ids.append(message_id)
        return 200, {
            "To": request["json"]["To"],
            "SubmittedAt": "2026-12-03T09:00:00.0000000Z",
            "MessageID": message_id,
            "ErrorCode": 0,
            "Message": "OK",
        }


def mailgun_signature(*, key: str = MAILGUN_SIGNING_KEY, token: str | None = None) -> dict[str, str]:
    """Mailgun's webhook signature block: HMAC-SHA256 of timestamp + token under the signing key."""
    timestamp = str(int(time.time()))
    token = token or uuid.uuid4().hex
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    return {"timestamp": timestamp, "token": token, "signature": signature}


def serving(fake: FakeProvider, settings, email_url: str) -> Iterator[FakeProvider]:
    """Start `fake`, point the anymail backend at it the way EMAIL_URL `email_url` (with {url}) would, and stop it."""
    fake.start()
    configured = _email_settings(email_url.format(url=fake.url))
    settings.EMAIL_BACKEND = configured["EMAIL_BACKEND"]
    settings.ANYMAIL = {**settings.ANYMAIL, **configured["ANYMAIL"]}
    yield fake
    fake.stop()


MAILGUN_URL = f"mailgun://{MAILGUN_KEY}@{MAILGUN_DOMAIN}?api_url={{url}}/v3/&timeout=5"
POSTMARK_URL = f"postmark://{POSTMARK_TOKEN}@?api_url={{url}}/&timeout=5"
