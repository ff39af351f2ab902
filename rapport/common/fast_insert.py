"""Plain multi-row INSERTs (COPY on PostgreSQL) for the hot paths that write thousands of rows at once.

The ORM's per-object work (model instances, per-value preparation in bulk_create) is most of the time of a CSV
import or a bulk send, so those tables are written with the values prepared by the fields themselves, and only
the columns that need it (JSON, dates) are prepared at all.
"""

from collections.abc import Callable, Sequence
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
        adapt = connection.ops.adapt_json_value
        return lambda value: None if value is None else adapt(value, field.encoder)
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
    with connection.cursor() as cursor, connection.wrap_database_errors:
        raw = cursor.cursor
        if returning_ids:
            pk = model._meta.pk.column
            raw.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [model._meta.db_table, pk, len(rows)],
            )
            ids = [row[0] for row in raw.fetchall()]
            rows = [(pk_value, *row) for pk_value, row in zip(ids, rows, strict=True)]
            names = f"{connection.ops.quote_name(pk)}, {names}"
        with raw.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    return ids


def insert_records(model: type, records: list[dict[str, Any]], *, returning_ids: bool = False) -> list[int]:
    """Insert rows given as {attribute name: value}; every other column gets its field's default."""
    if not records:
        return []
    defaults = {f.attname: f.get_default() for f in model._meta.concrete_fields if not f.primary_key}
    columns = list(defaults)
    rows = [tuple(record.get(column, defaults[column]) for column in columns) for record in records]
    return insert_rows(model, columns, rows, returning_ids=returning_ids)
