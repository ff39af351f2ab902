"""The channels behind one interface: each `channels/<kind>/transport.py` has a transport class the outbox uses.

A transport is opened once per worker batch (so SMTP reuses one session, Twilio one HTTP connection), sends one
outbox row at a time and returns the provider's id for it (or None), raising `DeliveryError` when it cannot.
"""

from importlib import import_module
from types import TracebackType
from typing import Protocol, Self

from rapport.messaging.channels.base import PermanentError
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
    """The transports one batch needs, each opened the first time a message on its channel comes up."""

    def __init__(self) -> None:
        self._open: dict[str, Transport] = {}

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        for transport in self._open.values():
            transport.close()
        self._open.clear()

    def send(self, message: Message) -> str | None:
        transport = self._open.get(message.channel)
        if transport is None:
            transport = self._open[message.channel] = transport_for(message.channel)
        return transport.send(message)
