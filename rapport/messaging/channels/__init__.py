"""The channels behind one interface: each `channels/<kind>/transport.py` has a transport class the outbox uses.

A transport is opened once per worker batch (so SMTP reuses one session, Twilio one HTTP connection), sends one
outbox row at a time and returns the provider's id for it (or None), raising `DeliveryError` when it cannot.
"""

import threading
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from importlib import import_module
from types import TracebackType
from typing import Protocol, Self

from rapport.messaging.channels.base import DeliveryError, PermanentError
from rapport.messaging.models import Message

TRANSPORTS = {
    "email": "rapport.messaging.channels.email.transport.EmailTransport",
    "sms": "rapport.messaging.channels.sms.transport.SmsTransport",
    "whatsapp": "rapport.messaging.channels.whatsapp.transport.WhatsAppTransport",
}


class Transport(Protocol):
    def send(self, message: Message) -> str | None: ...

    def close(self) -> None: ...


class _Unavailable:
    """Stands in for a channel whose transport is not installed: every message fails with the reason."""

    def __init__(self, channel: str):
        self.channel = channel

    def send(self, message: Message) -> str | None:
        raise PermanentError(f"Rapport cannot send {self.channel} messages: that channel is not set up.")

    def close(self) -> None:
        return None


def transport_for(channel: str) -> Transport:
    path = TRANSPORTS.get(channel)
    if path is None:
        return _Unavailable(channel)
    module_name, _, class_name = path.rpartition(".")
    try:
        module = import_module(module_name)
    except ModuleNotFoundError:
        return _Unavailable(channel)
    return getattr(module, class_name)()


class Transports:
    """The transports one batch needs, opened the first time a message on their channel comes up.

    `send_all` keeps up to `sessions` connections per channel busy at once (each on its own thread, each reused
    for the whole batch): most of a send is waiting for the server, so overlapping sessions multiply what one
    worker delivers. Threads only talk to the provider; every database write stays on the caller's thread.
    """

    def __init__(self, sessions: int = 1) -> None:
        self.sessions = max(1, sessions)
        self._open: list[Transport] = []
        self._lock = threading.Lock()
        self._local = threading.local()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        for transport in self._open:
            transport.close()
        self._open.clear()

    def _transport(self, channel: str) -> Transport:
        mine = self._local.__dict__.setdefault("transports", {})
        if channel not in mine:
            mine[channel] = transport_for(channel)
            with self._lock:
                self._open.append(mine[channel])
        return mine[channel]

    def send(self, message: Message) -> str | None:
        return self._transport(message.channel).send(message)

    def send_all(self, messages: list[Message]) -> Iterator[list[tuple[Message, str | None | DeliveryError]]]:
        """Send each message; yields, as sends finish, every (message, provider id or DeliveryError) finished so far.

        The caller records each group in one transaction. A group holds only what had already finished when the
        previous group was recorded, so no accepted message waits for a send still in flight: the groups grow
        only when recording is the slower side.

        Once a channel's provider cannot be reached at all, the messages of that channel not yet started get the
        same error without trying, so a dead server costs one timeout rather than one per message.
        """
        down: dict[str, DeliveryError] = {}

        def attempt(message: Message) -> str | None | DeliveryError:
            if message.channel in down:
                return down[message.channel]
            try:
                return self.send(message)
            except DeliveryError as exc:
                if exc.transient and exc.server_down:
                    down[message.channel] = exc
                return exc

        if self.sessions == 1 or len(messages) < 2:
            for message in messages:
                yield [(message, attempt(message))]
            return
        with ThreadPoolExecutor(
            max_workers=min(self.sessions, len(messages)), thread_name_prefix="rapport-send"
        ) as pool:
            pending = {pool.submit(attempt, message): message for message in messages}
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                yield [(pending.pop(future), future.result()) for future in finished]
