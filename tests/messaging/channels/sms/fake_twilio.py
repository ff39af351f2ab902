"""A fake Twilio on loopback that speaks the Messages.json protocol and serves media, and helpers to sign webhook
requests."""

import base64
import contextlib
import json
import socket
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

from rapport.messaging.channels.sms.client import compute_signature

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "twilio-test-auth-token"
FROM_NUMBER = "+14155550100"
WHATSAPP_FROM = "+14155550199"
PUBLIC_URL = "https://rapport.example.org"


class FakeTwilio:
    """Accepts messages like Twilio (201 with an "SM…" SID), records each request, and can be told to refuse.

    `fail_with(status, code, message)` makes the next requests answer with that error, one per queued answer;
    `stop()` closes the port, so connecting is refused.

    Media works like Twilio's: `add_media(content, content_type)` gives a MediaUrl on the API, which needs basic
    auth and answers with a redirect to a second path (Twilio's storage) that serves the bytes. `fail_media_with`
    queues error answers for the media URL; `media_requests` records each GET with the Authorization it carried.
    """

    def __init__(self, port: int):
        self.port = port
        self.requests: list[dict] = []
        self.connections = 0
        self.pending_errors: list[tuple[int, dict]] = []
        self.media: dict[str, tuple[bytes, str]] = {}
        self.media_requests: list[dict] = []
        self.pending_media_errors: list[int] = []
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def add_media(self, content: bytes, content_type: str, *, served_as: str | None = None) -> str:
        """Store a picture or file as Twilio would; returns its MediaUrl. `served_as` overrides the served type."""
        media_sid = "ME" + uuid.uuid4().hex
        self.media[media_sid] = (content, content_type if served_as is None else served_as)
        return f"{self.url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/MM{uuid.uuid4().hex}/Media/{media_sid}"

    def fail_media_with(self, status: int, *, times: int = 1) -> None:
        self.pending_media_errors.extend([status] * times)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def fail_with(self, status: int, code: int | None = None, message: str = "", *, times: int = 1) -> None:
        body = {"status": status, "message": message, "more_info": "https://www.twilio.com/docs/errors"}
        if code is not None:
            body["code"] = code
        self.pending_errors.extend([(status, body)] * times)

    @property
    def forms(self) -> list[dict[str, str]]:
        return [r["form"] for r in self.requests]

    def start(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as Twilio's API does

            def setup(self) -> None:
                super().setup()
                with fake._lock:
                    fake.connections += 1
                    fake._sockets.append(self.connection)

            def log_message(self, format: str, *args: object) -> None:
                return None

            def _answer(self, status: int, body: dict) -> None:
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:  # noqa: N802 - http.server's hook name
                fake.media_requests.append({"path": self.path, "auth": self.headers.get("Authorization")})
                expected = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
                api = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/"
                if self.path.startswith(api) and "/Media/" in self.path:
                    if self.headers.get("Authorization") != expected:
                        return self._answer(401, {"code": 20003, "message": "Authenticate", "status": 401})
                    if fake.pending_media_errors:
                        status = fake.pending_media_errors.pop(0)
                        return self._answer(status, {"status": status, "message": "Media error"})
                    media_sid = self.path.rsplit("/", 1)[1]
                    if media_sid not in fake.media:
                        return self._answer(404, {"code": 20404, "message": "The requested resource was not found"})
                    # Twilio sends the client on to where the file is stored: another host, which must not be sent
                    # our credentials ("localhost" is this same server under another name).
                    self.send_response(307)
                    self.send_header("Location", f"http://localhost:{fake.port}/storage/{media_sid}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                if self.path.startswith("/storage/") and self.path.removeprefix("/storage/") in fake.media:
                    content, content_type = fake.media[self.path.removeprefix("/storage/")]
                    self.send_response(200)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(content)))
                    self.end_headers()
                    self.wfile.write(content)
                    return None
                return self._answer(404, {"code": 20404, "message": "The requested resource was not found"})

            def do_POST(self) -> None:  # noqa: N802 - http.server's hook name
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True))
                fake.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), "form": form})
                expected = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
                if self.path != f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json":
                    return self._answer(404, {"code": 20404, "message": "The requested resource was not found"})
                if self.headers.get("Authorization") != expected:
                    return self._answer(401, {"code": 20003, "message": "Authenticate", "status": 401})
                if fake.pending_errors:
                    status, body = fake.pending_errors.pop(0)
                    return self._answer(status, body)
                sid = "SM" + uuid.uuid4().hex
                return self._answer(
                    201, {"sid": sid, "status": "queued", "to": form.get("To"), "body": form.get("Body")}
                )

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def drop_connections(self) -> None:
        """Close every kept-alive connection from this side, as a server does with idle ones."""
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def point_settings_at(settings, server: FakeTwilio) -> None:
    """Rapport's Twilio settings aimed at the fake, and a public base URL for the webhooks' signatures."""
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_FROM_NUMBER = FROM_NUMBER
    settings.TWILIO_WHATSAPP_FROM = WHATSAPP_FROM
    settings.TWILIO_MESSAGING_SERVICE_SID = ""
    settings.TWILIO_BASE_URL = server.url
    settings.BASE_URL = PUBLIC_URL


def make_texter(recruiter):
    """A person with a mobile number (and an email address)."""
    from tests.factories import make_candidate

    return make_candidate(
        actor=recruiter,
        first_name="Grace",
        last_name="Hopper",
        emails=["g.hopper@example.net"],
        phones=["+14155550101"],
    )


def signed_post(client, path: str, data: dict[str, str], *, token: str = AUTH_TOKEN, signature: str | None = None):
    """POST a form to one of our Twilio webhooks the way Twilio does, signed for the public URL of that path."""
    if signature is None:
        signature = compute_signature(auth_token=token, url=PUBLIC_URL + path, params=list(data.items()))
    headers = {"HTTP_X_TWILIO_SIGNATURE": signature} if signature else {}
    return client.post(path, data, **headers)
