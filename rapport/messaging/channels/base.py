"""What every channel's transport raises, so the outbox decides retry or give up without knowing the channel."""


class DeliveryError(Exception):
    """A message could not be handed over. `transient` errors are retried with backoff; the others are final."""

    transient = False

    def __init__(self, reason: str, *, server_down: bool = False):
        super().__init__(reason)
        self.reason = reason
        # The provider could not be reached at all, so the rest of a batch would fail the same way.
        self.server_down = server_down


class TransientError(DeliveryError):
    transient = True


class PermanentError(DeliveryError):
    transient = False
