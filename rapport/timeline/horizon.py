"""How far the timeline can be read without skipping an event that is still being written.

Consumers (notifications, triggers, sequences) keep a cursor: the last activity id they handled. On PostgreSQL ids
are handed out when a row is inserted but become visible when its transaction commits, so a transaction that took
id 100 may commit after another one that took id 101. A consumer that read 101 and moved its cursor there would
never see 100. SQLite has one writer at a time, so there ids become visible in order and the newest id is safe.

On PostgreSQL the safe horizon comes from two readings of the server's own clock:
- every call notes the sequence's last handed-out id and the time (a watermark), kept in the cache;
- the oldest transaction still open on the database (pg_stat_activity) started at some time X.
Every id handed out before X belongs to a transaction that has finished (committed or rolled back), so the newest
watermark taken before X is safe. With no transaction open, everything handed out so far is safe.
"""

from typing import Any

from django.core.cache import cache
from django.db import connection
from django.db.models import Max

WATERMARKS_KEY = "timeline:watermarks"
# Watermarks older than the longest transaction worth waiting for are of no use; a transaction open longer than
# this holds every consumer back until it ends (which is the point: its events must not be skipped).
KEEP_SECONDS = 3600
KEEP_COUNT = 120


def settled_activity_id() -> int | None:
    """The highest activity id such that no id at or below it can still appear; None when none is known yet."""
    from rapport.timeline.models import Activity

    if connection.vendor != "postgresql":
        return Activity.objects.aggregate(newest=Max("id"))["newest"] or 0
    with connection.cursor() as db:
        db.execute(
            "SELECT pg_get_serial_sequence(%s, 'id')",
            [Activity._meta.db_table],
        )
        sequence = db.fetchone()[0]
        # Read the sequence first and the open transactions second: a transaction that opens in between hands out
        # ids above this reading, so it cannot make the reading unsafe.
        db.execute(f"SELECT last_value, is_called, EXTRACT(EPOCH FROM clock_timestamp()) FROM {sequence}")  # noqa: S608
        last_value, is_called, now = db.fetchone()
        handed_out = int(last_value) if is_called else int(last_value) - 1
        # pg_stat_activity is read once per transaction unless cleared, and the caller may be inside one.
        db.execute("SELECT pg_stat_clear_snapshot()")
        db.execute(
            "SELECT EXTRACT(EPOCH FROM MIN(xact_start)) FROM pg_stat_activity "
            "WHERE pid <> pg_backend_pid() AND datname = current_database() AND xact_start IS NOT NULL"
        )
        oldest_open = db.fetchone()[0]
    return _horizon(float(now), handed_out, None if oldest_open is None else float(oldest_open))


def _horizon(now: float, handed_out: int, oldest_open: float | None) -> int | None:
    marks: list[Any] = [m for m in (cache.get(WATERMARKS_KEY) or []) if now - m[0] <= KEEP_SECONDS]
    marks.append((now, handed_out))
    cache.set(WATERMARKS_KEY, marks[-KEEP_COUNT:], KEEP_SECONDS)
    if oldest_open is None:
        return handed_out
    safe = [mark_id for taken_at, mark_id in marks if taken_at < oldest_open]
    return max(safe) if safe else None
