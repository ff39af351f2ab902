"""Bulk writes for the seed: executemany on SQLite, COPY on PostgreSQL, and the settings that make them fast.

The seed writes the same rows the services write, only many at a time; nothing here knows about the domain.
"""

import contextlib
import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

from django.db import connection

EPOCH = dt.date(1970, 1, 1)


class Timestamps:
    """Formats whole-second UTC epoch times the way each backend stores them, without building datetimes.

    SQLite keeps Django datetimes as 'YYYY-MM-DD HH:MM:SS' text in UTC; PostgreSQL COPY takes the same with '+00'.
    """

    def __init__(self, vendor: str):
        self.suffix = "" if vendor == "sqlite" else "+00"
        self._days: dict[int, str] = {}
        self._clock = [f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)]

    def day(self, day_number: int) -> str:
        text = self._days.get(day_number)
        if text is None:
            text = self._days[day_number] = (EPOCH + dt.timedelta(days=day_number)).isoformat()
        return text

    def __call__(self, ts: int) -> str:
        day, second = divmod(ts, 86400)
        return f"{self.day(day)} {self._clock[second]}{self.suffix}"

    def date(self, ts: int) -> str:
        return self.day(ts // 86400)


class BulkWriter:
    def __init__(self) -> None:
        connection.ensure_connection()
        self.vendor = connection.vendor

    def insert(self, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
        if not rows:
            return
        names = ", ".join(columns)
        if self.vendor == "sqlite":
            marks = ", ".join("?" * len(columns))
            connection.connection.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
            return
        with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        return row[0] if row else None

    def next_id(self, table: str) -> int:
        """The first id we may hand out ourselves: above every id the table has had, not only the ones it has."""
        highest = self.scalar(f"SELECT MAX(id) FROM {table}") or 0
        if self.vendor == "sqlite":
            # AUTOINCREMENT never reuses the id of a deleted row; neither may we.
            used = self.scalar("SELECT seq FROM sqlite_sequence WHERE name = %s", [table]) or 0
            return max(highest, used) + 1
        fresh = self.scalar(f"SELECT nextval(pg_get_serial_sequence('{table}', 'id'))") or 1
        return max(highest + 1, fresh)

    def reset_sequences(self, tables: Sequence[str]) -> None:
        """Ids we chose ourselves must not be handed out again by PostgreSQL (SQLite's AUTOINCREMENT follows)."""
        if self.vendor != "postgresql":
            return
        for table in tables:
            self.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"GREATEST((SELECT COALESCE(MAX(id), 0) FROM {table}), 1))"
            )

    @contextlib.contextmanager
    def bulk_session(self, *, large: bool) -> Iterator[None]:
        """Loosen durability for the length of a large load: a crash mid-seed means re-running the seed."""
        if connection.in_atomic_block:
            # Inside someone else's transaction (tests, callers that roll back) these settings cannot change.
            yield
            return
        if self.vendor == "sqlite":
            raw = connection.connection
            if large:
                raw.execute("PRAGMA foreign_keys=OFF")
            raw.execute("PRAGMA cache_size=-1000000")
            raw.execute("PRAGMA temp_store=MEMORY")
            raw.execute("PRAGMA synchronous=OFF")
            try:
                yield
            finally:
                raw.execute("PRAGMA synchronous=NORMAL")
                raw.execute("PRAGMA foreign_keys=ON")
                raw.execute("PRAGMA temp_store=DEFAULT")
                raw.execute("PRAGMA cache_size=-2000")
            return
        # Our ids are consistent by construction; skipping the per-row foreign-key triggers saves most of a
        # large COPY. Only a superuser may do this, so it is an optimisation, never a requirement.
        replica = False
        if large:
            try:
                self.execute("SET session_replication_role = replica")
                replica = True
            except Exception:  # noqa: BLE001 - a non-superuser simply keeps the triggers
                replica = False
        self.execute("SET synchronous_commit = off")
        if large:
            self.execute("SET maintenance_work_mem = '512MB'")  # index builds at the end sort in memory
        try:
            yield
        finally:
            if replica:
                self.execute("SET session_replication_role = DEFAULT")
            self.execute("SET synchronous_commit = on")
            self.execute("RESET maintenance_work_mem")

    def _secondary_indexes(self, table: str) -> list[tuple[str, str]]:
        """(name, CREATE statement) of the non-unique indexes of a table; unique ones keep guarding the data."""
        with connection.cursor() as cursor:
            if self.vendor == "sqlite":
                cursor.execute(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s AND sql IS NOT NULL",
                    [table],
                )
            else:
                cursor.execute(
                    "SELECT i.indexname, i.indexdef FROM pg_indexes i "
                    "WHERE i.schemaname = current_schema() AND i.tablename = %s "
                    "AND i.indexname NOT IN (SELECT conname FROM pg_constraint)",
                    [table],
                )
            rows = cursor.fetchall()
        return [(name, sql) for name, sql in rows if not sql.upper().startswith("CREATE UNIQUE")]

    @contextlib.contextmanager
    def indexes_deferred(self, tables: Sequence[str], *, enabled: bool) -> Iterator[None]:
        """Drop secondary indexes during a large load and build them once at the end (a sort, not N inserts).

        The indexes are re-created from their own stored definitions, even when the load fails half-way.
        """
        if not enabled or connection.in_atomic_block:
            yield
            return
        saved: list[tuple[str, str]] = []
        for table in tables:
            for name, sql in self._secondary_indexes(table):
                self.execute(f'DROP INDEX "{name}"')
                saved.append((name, sql))
        try:
            yield
        finally:
            for _name, sql in saved:
                self.execute(sql)
