"""The embedded worker: with no broker configured, background work runs on a thread beside the web server.

Work is stored in the database (import jobs and the message outbox; sequence steps later), so the worker only has
to poll for rows that are due. Each handler claims its rows atomically, so running two workers is safe.
"""

import logging
import threading
import time
from collections.abc import Callable

from django.db import connections

logger = logging.getLogger(__name__)

# Each handler processes whatever is due and returns how many units of work it did.
_HANDLERS: list[Callable[[], int]] = []
# Set by `nudge` when new work is committed, so the worker starts on it at once instead of at its next poll.
_wake = threading.Event()


def register(handler: Callable[[], int]) -> Callable[[], int]:
    _HANDLERS.append(handler)
    return handler


def _load_handlers() -> None:
    # Importing the task modules registers their handlers.
    import rapport.automation.tasks  # noqa: F401
    import rapport.candidates.tasks  # noqa: F401
    import rapport.messaging.tasks  # noqa: F401
    import rapport.notifications.tasks  # noqa: F401
    import rapport.portal.tasks  # noqa: F401


def run_once() -> int:
    _load_handlers()
    done = 0
    for handler in list(_HANDLERS):
        try:
            done += handler()
        except Exception:  # noqa: BLE001 - one failing handler must not stop the others
            logger.exception("embedded worker handler %s failed", getattr(handler, "__name__", handler))
        finally:
            _close_old_connections()
    return done


def _close_old_connections() -> None:
    """Drop broken or expired connections between handlers, but never one inside a transaction: a caller's
    atomic block (a test's, for one) must keep its connection, and Django would close it for not autocommitting."""
    for conn in connections.all(initialized_only=True):
        if not conn.in_atomic_block:
            conn.close_if_unusable_or_obsolete()


def nudge() -> None:
    """Tell a waiting worker in this process that there is new work (call it from `transaction.on_commit`)."""
    _wake.set()


def run_forever(poll_seconds: float = 1.0, stop: threading.Event | None = None) -> None:
    stop = stop or threading.Event()
    while not stop.is_set():
        if run_once() == 0 and not stop.is_set():
            _wake.wait(poll_seconds)
            _wake.clear()


_started = False


def start_in_background() -> threading.Thread | None:
    global _started
    if _started:
        return None
    _started = True
    thread = threading.Thread(target=run_forever, name="rapport-embedded-worker", daemon=True)
    thread.start()
    logger.info("embedded worker started")
    time.sleep(0)
    return thread
