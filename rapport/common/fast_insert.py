"""Plain multi-row INSERTs (COPY on PostgreSQL) for the hot paths that write thousands of rows at once.

The ORM's per-object work (model instances, per-value preparation in bulk_create) is most of the time of a CSV
import or a bulk send, so those tables are written with the values prepared by the fields themselves, and only
the columns that need it (JSON, dates) are prepared at all.
"""

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import connection


def _max_params() -> int:
    connection.ensure_connection()
    if connection.vendor == "sqlite":
        import sqlite3

        return min(30_000, connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))
    return 30_000


def _converter(field: Any, *, shared: bool = True) -> Callable[[Any], Any] | None:
    """How a column's Python value becomes a query parameter, as the field itself would prepare it.

    `shared`: for one insert's rows, which often share values, so each distinct one is prepared once; without it
    nothing is remembered between calls (for rows prepared one by one over a long time).
    """
    kind = field.get_internal_type()
    if kind == "JSONField":
        # JSON text, which both engines take for a JSON column (COPY parses it as jsonb on PostgreSQL).
        if not shared:

            def encode(value: Any) -> Any:
                if value is None:
                    return None
                # Most rows leave a list or object column empty; skip the encoder for those.
                if not value and type(value) in (list, dict):
                    return "[]" if type(value) is list else "{}"
                return json.dumps(value, cls=field.encoder)

            return encode
        # Rows often share one payload object (every "tag.added" of a tag in an import), so each object is encoded
        # once: keyed by identity, which is safe because the rows keep every object alive while this is in use.
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
        if not shared:
            return lambda value: None if value is None else field.get_db_prep_save(value, connection)
        # Every row of a batch carries the same timestamp: prepare each distinct value once.
        seen: dict[Any, Any] = {}

        def convert(value: Any) -> Any:
            if value not in seen:
                seen[value] = field.get_db_prep_save(value, connection)
            return seen[value]

        return convert
    return None


class CopyText(str):
    """Values already in COPY's text format, standing for as many columns as they hold (tab-separated)."""

    __slots__ = ()


def row_converter(model: type, columns: Sequence[str], defaults: dict[str, Any]) -> Callable[[dict], tuple]:
    """Database-ready values of `columns` for one row given as a dict, for a caller that prepares rows ahead (one at
    a time, while validating) and splices them into the rows it passes with `converted=True`.

    A column the dict leaves out takes its value from `defaults`, prepared once here: most rows of an import fill a
    few of a person's columns, and preparing the rest for every row was a fifth of validating it. On PostgreSQL the
    values come as one `CopyText` in a one-item tuple, so the work of formatting them is done here too; on SQLite,
    as a tuple of values.
    """
    converters = [_converter(model._meta.get_field(column), shared=False) for column in columns]
    position = {column: index for index, column in enumerate(columns)}

    def ready(index: int, value: Any) -> Any:
        convert = converters[index]
        return value if convert is None else convert(value)

    default_values = [ready(index, defaults[column]) for index, column in enumerate(columns)]
    postgres = connection.vendor == "postgresql"
    default_texts = [_copy_field(value) for value in default_values] if postgres else []

    def convert(row: dict) -> tuple:
        values = (default_texts if postgres else default_values).copy()
        for column, value in row.items():
            index = position.get(column)
            if index is not None:
                prepared = ready(index, value)
                values[index] = _copy_field(prepared) if postgres else prepared
        if postgres:
            return (CopyText("\t".join(values)),)
        return tuple(values)

    return convert


def db_value(model: type, column: str, value: Any) -> Any:
    """One database-ready value, e.g. a batch's timestamp, prepared once for rows passed with `converted=True`."""
    convert = _converter(model._meta.get_field(column), shared=False)
    ready = value if convert is None else convert(value)
    return CopyText(_copy_field(ready)) if connection.vendor == "postgresql" else ready


def _converted(row: tuple, converters: list[tuple[int, Callable[[Any], Any]]]) -> list:
    values = list(row)
    for index, convert in converters:
        values[index] = convert(values[index])
    return values


def insert_rows(
    model: type, columns: Sequence[str], rows: list[tuple], *, returning_ids: bool = False, converted: bool = False
) -> list[int]:
    """Insert `rows` (tuples in the order of `columns`, attribute names); with `returning_ids`, their new ids.

    `converted`: the values are database-ready already (`row_converter`, `db_value`).
    """
    if not rows:
        return []
    fields = [model._meta.get_field(column) for column in columns]
    converters = [(i, c) for i, c in enumerate(_converter(f) for f in fields) if c is not None]
    if converters and not converted:
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
        run_prepared(cursor.cursor, PreparedInsert(f"COPY {table} ({names}) FROM STDIN", copy_data=copy_text(rows)))
    return ids


def reserve_ids(model: type, count: int, *, raw_cursor: Any = None) -> list[int]:
    """`count` new ids from the table's own counter, for rows inserted later with their ids (`prepared_insert`).

    `raw_cursor`: PostgreSQL, a driver cursor on another connection (sequences are not transactional, so the ids
    are reserved whichever connection draws them).
    """
    table, pk_column = model._meta.db_table, model._meta.pk.column
    if raw_cursor is not None:
        raw_cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)", [table, pk_column, count]
        )
        return [row[0] for row in raw_cursor.fetchall()]
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            # An AUTOINCREMENT table's counter is its row in sqlite_sequence, which SQLite lets us update: moving it
            # on reserves the ids, and the write lock this takes is held until the transaction ends. The counter
            # row appears with the table's first insert, so an empty table gets one first.
            quoted = connection.ops.quote_name(table)
            cursor.execute(
                # MAX alone in its own SELECT, which SQLite answers from the end of the index; with a WHERE beside
                # it, SQLite would scan the whole table.
                f"INSERT INTO sqlite_sequence(name, seq) SELECT %s, (SELECT COALESCE(MAX({pk_column}), 0) FROM {quoted}) "
                "WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = %s)",
                [table, table],
            )
            cursor.execute("UPDATE sqlite_sequence SET seq = seq + %s WHERE name = %s RETURNING seq", [count, table])
            last = cursor.fetchone()[0]
            return list(range(last - count + 1, last + 1))
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)", [table, pk_column, count]
        )
        return [row[0] for row in cursor.fetchall()]


@dataclass(frozen=True)
class PreparedInsert:
    """An insert with its rows ready to send, to run later with `run_prepared`, on whichever thread holds the
    connection: PostgreSQL sends `copy_data` (COPY's text format); SQLite runs one INSERT … SELECT over
    `parameters`, the rows as a single JSON array."""

    sql: str
    copy_data: str | None = None
    parameters: tuple = ()


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"})


def _copy_field(value: Any) -> str:
    """One value in COPY's text format (NULL is \\N; backslash, tab and line breaks escaped)."""
    kind = type(value)
    if kind is str:
        return value.translate(_COPY_ESCAPES)
    if kind is int or kind is CopyText:
        return value if kind is CopyText else str(value)
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return value.translate(_COPY_ESCAPES)
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, date):  # datetimes too; ISO 8601 with the offset, which the server reads as written
        return value.isoformat()
    raise TypeError(f"No COPY text for {type(value).__name__} values; prepare them first.")


_COPY_SPECIAL = ("\\", "\t", "\n", "\r")
_NONE_TYPE = type(None)


def _copy_column(values: tuple) -> Sequence[str]:
    """One column of a batch in COPY's text format. Most columns hold one kind of value that needs no escaping
    (ids, prepared timestamps, plain text), so they are checked and converted as a whole rather than value by
    value: a 20,000-person import writes about 700,000 values."""
    kinds = set(map(type, values))
    if kinds == {CopyText}:
        return values
    if kinds == {str}:
        joined = "".join(values)
        if not any(special in joined for special in _COPY_SPECIAL):
            return values
        return [value.translate(_COPY_ESCAPES) for value in values]
    if kinds == {int}:
        return list(map(str, values))
    if kinds == {_NONE_TYPE}:
        return ["\\N"] * len(values)
    return list(map(_copy_field, values))


def copy_text(rows: Sequence[Sequence[Any]]) -> str:
    """Rows in COPY's text format, built here rather than by the driver while it sends them: the thread that sends
    a batch then only waits for the server."""
    if not rows:
        return ""
    columns = [_copy_column(column) for column in zip(*rows, strict=True)]
    return "\n".join(map("\t".join, zip(*columns, strict=True))) + "\n"


def prepared_insert(
    model: type,
    columns: Sequence[str],
    rows: list[tuple],
    *,
    ids: list[int] | None = None,
    converted: bool = False,
) -> PreparedInsert:
    """What `insert_rows` would send, prepared now and sent by `run_prepared`; `ids` from `reserve_ids`."""
    fields = [model._meta.get_field(column) for column in columns]
    converters = [(i, c) for i, c in enumerate(_converter(f) for f in fields) if c is not None]
    if converters and not converted:
        rows = [_converted(row, converters) for row in rows]
    quote = connection.ops.quote_name
    names = [quote(f.column) for f in fields]
    if ids is not None:
        rows = [(pk_value, *row) for pk_value, row in zip(ids, rows, strict=True)]
        names.insert(0, quote(model._meta.pk.column))
    table = quote(model._meta.db_table)
    if connection.vendor == "sqlite":
        # One statement for the whole batch: sqlite3 lets go of the GIL while a statement runs, so the insert
        # proceeds beside Python work on another thread, which one executemany step per row would not.
        values = ", ".join(f"value ->> {i}" for i in range(len(names)))
        sql = f"INSERT INTO {table} ({', '.join(names)}) SELECT {values} FROM json_each(?)"
        return PreparedInsert(sql, parameters=(json.dumps(rows),))
    return PreparedInsert(f"COPY {table} ({', '.join(names)}) FROM STDIN", copy_data=copy_text(rows))


def run_prepared(raw_cursor: Any, statement: PreparedInsert) -> None:
    """Send a prepared insert on a driver cursor (which may belong to another thread's connection)."""
    if statement.copy_data is None:
        raw_cursor.execute(statement.sql, statement.parameters)
        return
    if not statement.copy_data:
        return
    with raw_cursor.copy(statement.sql) as copy:
        copy.write(statement.copy_data)


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
