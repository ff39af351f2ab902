"""Plain multi-row INSERTs (COPY on PostgreSQL) for the hot paths that write thousands of rows at once.

The ORM's per-object work (model instances, per-value preparation in bulk_create) is most of the time of a CSV
import or a bulk send, so those tables are written with the values prepared by the fields themselves, and only
the columns that need it (JSON, dates) are prepared at all.
"""

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection


def _max_params() -> int:
    connection.ensure_connection()
    if connection.vendor == "sqlite":
        import sqlite3

        return min(30_000, connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))
    return 30_000


def _converter(field: Any) -> Callable[[Any], Any] | None:
    """How a column's Python value becomes a query parameter, as the field itself would prepare it."""
    kind = field.get_internal_type()
    if kind == "JSONField":
        # JSON text, which both engines take for a JSON column (COPY parses it as jsonb on PostgreSQL). Rows often
        # share one payload object (every "tag.added" of a tag in an import), so each object is encoded once: keyed
        # by identity, which is safe because the rows keep every object alive while this converter is in use.
        encoded: dict[int, str] = {}

        def convert_json(value: Any) -> Any:
            if value is None:
                return None
            key = id(value)
            if key not in encoded:
                encoded[key] = json.dumps(value, cls=field.encoder)
            return encoded[key]

        return convert_json
    if kind in ("DateField", "DateTimeField"):
        # Every row of a batch carries the same timestamp: prepare each distinct value once.
        seen: dict[Any, Any] = {}

        def convert(value: Any) -> Any:
            if value not in seen:
                seen[value] = field.get_db_prep_save(value, connection)
            return seen[value]

        return convert
    return None


def _converted(row: tuple, converters: list[tuple[int, Callable[[Any], Any]]]) -> list:
    values = list(row)
    for index, convert in converters:
        values[index] = convert(values[index])
    return values


def insert_rows(model: type, columns: Sequence[str], rows: list[tuple], *, returning_ids: bool = False) -> list[int]:
    """Insert `rows` (tuples in the order of `columns`, attribute names); with `returning_ids`, their new ids."""
    if not rows:
        return []
    fields = [model._meta.get_field(column) for column in columns]
    converters = [(i, c) for i, c in enumerate(_converter(f) for f in fields) if c is not None]
    if converters:
        rows = [_converted(row, converters) for row in rows]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    names = ", ".join(quote(f.column) for f in fields)
    if connection.vendor == "postgresql":
        return _copy_into(model, table, names, rows, returning_ids=returning_ids)
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    with connection.cursor() as cursor:
        if not returning_ids:
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES {one}", rows)
            return []
        ids: list[int] = []
        per_statement = max(1, _max_params() // len(fields))
        returning = f"RETURNING {quote(model._meta.pk.column)}"
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            cursor.execute(
                f"INSERT INTO {table} ({names}) VALUES {', '.join([one] * len(chunk))} {returning}",
                [value for row in chunk for value in row],
            )
            # Both engines return the ids of a multi-row INSERT in row order (Django's bulk_create relies on it).
            ids.extend(row[0] for row in cursor.fetchall())
    return ids


def _copy_into(model: type, table: str, names: str, rows: list, *, returning_ids: bool) -> list[int]:
    """PostgreSQL's COPY: rows stream to the server, which inserts them while we prepare the next ones.

    An INSERT of thousands of placeholders is parsed by the driver on every batch and waits for the server
    once per statement; COPY does neither. Ids are drawn from the table's own sequence first, so the rows
    can carry them and no RETURNING is needed.
    """
    ids: list[int] = []
    if returning_ids:
        ids = reserve_ids(model, len(rows))
        rows = [(pk_value, *row) for pk_value, row in zip(ids, rows, strict=True)]
        names = f"{connection.ops.quote_name(model._meta.pk.column)}, {names}"
    with connection.cursor() as cursor, connection.wrap_database_errors:
        run_copy(cursor.cursor, CopyStatement(f"COPY {table} ({names}) FROM STDIN", rows))
    return ids


def reserve_ids(model: type, count: int) -> list[int]:
    """PostgreSQL: `count` new ids from the table's own sequence, for rows inserted later with COPY."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [model._meta.db_table, model._meta.pk.column, count],
        )
        return [row[0] for row in cursor.fetchall()]


@dataclass(frozen=True)
class CopyStatement:
    """A COPY with its rows ready to send (values already prepared), to run later with `run_copy`."""

    sql: str
    rows: list


def copy_statement(
    model: type, columns: Sequence[str], rows: list[tuple], *, ids: list[int] | None = None
) -> CopyStatement:
    """PostgreSQL: what `insert_rows` would send, prepared now and sent by `run_copy`; `ids` from `reserve_ids`."""
    fields = [model._meta.get_field(column) for column in columns]
    converters = [(i, c) for i, c in enumerate(_converter(f) for f in fields) if c is not None]
    if converters:
        rows = [_converted(row, converters) for row in rows]
    quote = connection.ops.quote_name
    names = ", ".join(quote(f.column) for f in fields)
    if ids is not None:
        rows = [(pk_value, *row) for pk_value, row in zip(ids, rows, strict=True)]
        names = f"{quote(model._meta.pk.column)}, {names}"
    return CopyStatement(f"COPY {quote(model._meta.db_table)} ({names}) FROM STDIN", rows)


def run_copy(raw_cursor: Any, statement: CopyStatement) -> None:
    """Send a prepared COPY on a psycopg cursor (which may belong to another thread's connection)."""
    if not statement.rows:
        return
    with raw_cursor.copy(statement.sql) as copy:
        for row in statement.rows:
            copy.write_row(row)


def insert_records(model: type, records: list[dict[str, Any]], *, returning_ids: bool = False) -> list[int]:
    """Insert rows given as {attribute name: value}; every other column gets its field's default."""
    if not records:
        return []
    defaults = {f.attname: f.get_default() for f in model._meta.concrete_fields if not f.primary_key}
    columns = list(defaults)
    rows = [tuple(record.get(column, defaults[column]) for column in columns) for record in records]
    return insert_rows(model, columns, rows, returning_ids=returning_ids)


def bound_cursor() -> Any:
    """PostgreSQL: a cursor that sends parameters beside the query instead of quoting them into it.

    Django's cursors bind on the client, which quotes every element of a list or array parameter in Python; for
    a batch's thousand emails or documents that costs more than the query. Use inside `with`, on PostgreSQL only.
    """
    import psycopg

    connection.ensure_connection()
    return psycopg.Cursor(connection.connection)
