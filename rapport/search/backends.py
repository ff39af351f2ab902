"""Candidate full-text search behind one interface: SQLite FTS5 or PostgreSQL tsvector + GIN.

Ranking is where full-text engines spend their time (every match is scored before the top-k sort), so a
broad query with more than RANK_LIMIT hits is ordered by recency instead of relevance; the count is exact up
to `count_limit()` and reported as "N+" beyond it. See docs/architecture.md, "Search".
"""

import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from rapport.common.fast_insert import PreparedInsert, bound_cursor
from rapport.search.query import Node, normalise_text, to_fts5, to_tsquery

RANK_LIMIT = 20_000
COUNT_LIMIT = 10_000
# PostgreSQL visits a heap row to confirm each counted match (FTS5 counts from its index alone), so its exact
# count stops sooner: past 2,000, "2,000+" and the newest first. See docs/architecture.md, "Search".
POSTGRES_COUNT_LIMIT = 2_000


def count_limit() -> int:
    """Where the exact count of a text search stops on this database (and relevance ranking with it)."""
    if connection.vendor == "postgresql":
        return min(COUNT_LIMIT, POSTGRES_COUNT_LIMIT)
    return COUNT_LIMIT


@dataclass(frozen=True)
class CandidateDocument:
    candidate_id: int
    name: str
    contact: str
    work: str
    skills: str
    notes: str


@dataclass(frozen=True)
class SearchPage:
    ids: list[int]
    total: int
    total_is_capped: bool
    ranked: bool


# A person's facet words in the SQLite search table, from their candidate row `c` (search migration 0003).
SQLITE_FACETS = (
    "SELECT 'zzcountry' || lower(coalesce(c.country, '')) || ' zzstatus' || "
    "replace(coalesce(c.relationship_status, ''), '_', '')"
)


def _sqlite_match_sql(node: Node) -> tuple[str, list]:
    return (
        "SELECT rowid AS id, rank AS score FROM search_candidate_fts WHERE search_candidate_fts MATCH %s",
        [to_fts5(node)],
    )


def _postgres_match_sql(node: Node) -> tuple[str, list]:
    return (
        "SELECT candidate_id AS id, document FROM search_candidate_document WHERE document @@ to_tsquery('simple', %s)",
        [to_tsquery(node)],
    )


DocumentText = tuple[str, str, str, str, str]


def document_text(document: CandidateDocument) -> DocumentText:
    """A document's columns as the index stores them (name, contact, work, skills, notes), normalised.

    Pure Python with no database access, so a bulk writer can compute it ahead, on another thread.
    """
    d = document
    return (
        normalise_text(d.name),
        normalise_text(d.contact),
        normalise_text(d.work),
        normalise_text(d.skills),
        normalise_text(d.notes),
    )


# What PostgreSQL's default text-search parser does to a word of ASCII letters and digits, the only words
# `normalise_text` leaves besides non-ASCII ones: a word is one token, except that one starting with digits, then
# "e" and digits, is read as a number in scientific notation up to the last of those digits, and what follows is a
# token of its own ("3e8a1f" is "3e8" and "a1f"). Search queries go through the same parser, so this only matters
# for building the document outside the database.
_ASCII_COLUMN = re.compile(r"[a-z0-9]{1,255}(?: [a-z0-9]{1,255})*")
_SCIENTIFIC_WORD = re.compile(r"(?<![a-z0-9])[0-9]+e[0-9]")
_SCIENTIFIC = re.compile(r"([0-9]+e[0-9]+)(.*)")
_FACET_WORD = re.compile(r"[a-z]+")
_WEIGHTS = ("A", "A", "B", "B", "D")  # name, contact, work, skills, notes: as `new_texts_statement` weighs them
# Beyond these the database's parser and tsvector limits come into play (words of 2,048 bytes are dropped,
# positions stop at 16,383, a word keeps at most 256 of them); such documents are built by the database. Words
# longer than 255 characters are left to it too (`_ASCII_COLUMN`).
_VECTOR_MAX_POSITION = 16_000
_VECTOR_MAX_REPEATS = 250


def _parser_tokens(word: str) -> tuple[str, ...]:
    scientific = _SCIENTIFIC.fullmatch(word)
    if scientific is None:
        return (word,)
    number, rest = scientific.groups()
    return (number, rest) if rest else (number,)


def document_vector(text: DocumentText, *, country: str, status: str) -> str | None:
    """PostgreSQL: a new person's search entry as tsvector text, exactly what `new_texts_statement` builds in the
    database (to_tsvector('simple', …) per column, weighted, joined, then the facet words), or None where only the
    database can say (non-ASCII words, very long documents).

    Pure Python, so an import builds it while validating, in another process; the database then only reads it
    (the parsing calls were a third of the database's work on an import's search entries).
    """
    # "word:position" plus the column's weight, each word where it stands: the database merges a word written twice
    # into one entry with both positions when it reads the text.
    parts: list[str] = []
    counted: list[str] = []
    position = 0
    for column, weight in zip(text, _WEIGHTS, strict=True):
        if not column:
            continue
        if not _ASCII_COLUMN.fullmatch(column):
            return None
        words = column.split(" ")
        if _SCIENTIFIC_WORD.search(column):
            words = [token for word in words for token in _parser_tokens(word)]
        parts.append(" ".join([f"{word}:{place}{weight}" for place, word in enumerate(words, position + 1)]))
        position += len(words)
        counted += words
    facets = ("zzcountry" + (country or "").lower(), "zzstatus" + (status or "").replace("_", ""))
    if not all(_FACET_WORD.fullmatch(word) for word in facets) or position + 2 > _VECTOR_MAX_POSITION:
        return None
    if position > _VECTOR_MAX_REPEATS and max(Counter(counted).values()) > _VECTOR_MAX_REPEATS:
        return None
    parts.append(f"{facets[0]}:{position + 1}C {facets[1]}:{position + 2}C")
    return " ".join(parts)


def new_vectors_insert(rows: Sequence[tuple[int, str]]) -> PreparedInsert:
    """PostgreSQL: the insert of new people's entries from (candidate id, `document_vector`) rows, to send with
    `run_prepared`. The text holds only letters, digits, spaces, colons and commas, which COPY takes as written."""
    return PreparedInsert(
        "COPY search_candidate_document (candidate_id, document) FROM STDIN",
        copy_data="".join([f"{candidate_id}\t{vector}\n" for candidate_id, vector in rows]),
    )


def index_documents(documents: Iterable[CandidateDocument], *, new: bool = False) -> None:
    """Replace the index entries of these candidates (delete + insert keeps both engines simple).

    `new` says the candidates were created in this transaction, so they have no entries to delete yet.
    """
    docs = list(documents)
    if not docs:
        return
    if not new:
        remove_documents([d.candidate_id for d in docs])
    index_new_texts([(d.candidate_id, *document_text(d)) for d in docs])


def index_new_texts(rows: Sequence[tuple[int, str, str, str, str, str]]) -> None:
    """Index people who have no entry yet, from (candidate id, *document_text) rows."""
    if not rows:
        return
    connection.ensure_connection()
    cursor = bound_cursor() if connection.vendor == "postgresql" else connection.connection.cursor()
    with connection.wrap_database_errors:
        try:
            cursor.execute(*new_texts_statement(rows))
        finally:
            cursor.close()


_DOCUMENT_KEYS = ("id", "name", "contact", "work", "skills", "notes")


def new_texts_statement(rows: Sequence[tuple[int, str, str, str, str, str]]) -> tuple[str, Sequence]:
    """The statement and parameters that index new people, for the driver's own cursor (which a caller may run on
    another thread). One statement for all of them: the database builds every entry without a round trip per
    person, and on SQLite the GIL is free while it does."""
    if connection.vendor == "sqlite":
        # The facet words come from the candidate row itself, as on PostgreSQL (search migration 0003).
        return (
            "INSERT INTO search_candidate_fts(rowid, name, contact, work, skills, notes, facets) "
            "SELECT d.value ->> 0, d.value ->> 1, d.value ->> 2, d.value ->> 3, d.value ->> 4, d.value ->> 5, "
            f"({SQLITE_FACETS} FROM candidates_candidate c WHERE c.id = d.value ->> 0) FROM json_each(?) AS d",
            (json.dumps([list(row) for row in rows]),),
        )
    return (
        "INSERT INTO search_candidate_document(candidate_id, document) "
        "SELECT d.id, setweight(to_tsvector('simple', d.name), 'A') || setweight(to_tsvector('simple', d.contact), 'A')"
        " || setweight(to_tsvector('simple', d.work), 'B') || setweight(to_tsvector('simple', d.skills), 'B')"
        " || setweight(to_tsvector('simple', d.notes), 'D')"
        # The facet words, read from the person's row in this statement rather than by the insert trigger, one
        # query per row (search migration 0004). For an id with no person the foreign key refuses the row anyway.
        " || search_candidate_facets(c.country, c.relationship_status) "
        "FROM json_to_recordset(%s::json) AS d(id bigint, name text, contact text, work text, skills text, notes text)"
        " LEFT JOIN candidates_candidate c ON c.id = d.id",
        [json.dumps([dict(zip(_DOCUMENT_KEYS, row, strict=True)) for row in rows])],
    )


def remove_documents(candidate_ids: Sequence[int]) -> None:
    if not candidate_ids:
        return
    table, column = (
        ("search_candidate_fts", "rowid")
        if connection.vendor == "sqlite"
        else ("search_candidate_document", "candidate_id")
    )
    with connection.cursor() as cursor:
        for start in range(0, len(candidate_ids), 500):
            chunk = list(candidate_ids[start : start + 500])
            placeholders = ",".join(["%s"] * len(chunk))
            cursor.execute(f"DELETE FROM {table} WHERE {column} IN ({placeholders})", chunk)


def optimise_index() -> None:
    """After a bulk load: merge FTS5 segments / refresh planner statistics."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("INSERT INTO search_candidate_fts(search_candidate_fts) VALUES('optimize')")
        else:
            cursor.execute("ANALYZE search_candidate_document")


def _narrowed(engine_query: str, *, country: str | None, status: str | None) -> str:
    country_word = normalise_text(country or "")
    country_word = country_word if re.fullmatch(r"[a-z]{2}", country_word) else ""
    status_word = re.sub(r"[^a-z]", "", (status or "").lower())
    words = [f"zzcountry{country_word}"] if country_word else []
    words += [f"zzstatus{status_word}"] if status_word else []
    if not words:
        return engine_query
    if connection.vendor == "sqlite":
        # The facets column (weight 0 in bm25), kept in step with the candidate row by search migration 0003.
        return " AND ".join([f"({engine_query})", *(f"{{facets}} : {word}" for word in words)])
    # The facet words the triggers of search migration 0002 keep in step with the candidate row (weight C).
    return " & ".join([f"({engine_query})", *(f"'{word}':C" for word in words)])


def search(
    node: Node,
    *,
    scope: QuerySet | None,
    limit: int,
    offset: int = 0,
    count: bool = True,
    country: str | None = None,
    status: str | None = None,
) -> SearchPage:
    """Return one page of candidate ids matching `node`, restricted to `scope` (None means everyone).

    `country` and `status` say the scope holds only people of that country and relationship status; the engines
    use them to skip text matches elsewhere before checking the scope.
    """
    match_sql, match_params = _sqlite_match_sql(node) if connection.vendor == "sqlite" else _postgres_match_sql(node)
    rank_query = match_params[0]
    if scope is not None:
        # Each text match costs a visit to check it against the scope, and "kubernetes" alone is 63k people at 1M.
        # Requiring the filters' words in the match itself keeps a superset of the scope's matches, so the engine
        # narrows them before any row is read; the scope still decides. Ranking uses the user's query alone.
        match_params = [_narrowed(match_params[0], country=country, status=status)]
    if scope is not None:
        try:
            if connection.vendor == "sqlite":
                # Each text match is probed against the scope by primary key. Written as `m.id IN (scope)`, SQLite
                # pushes the scope's ids into FTS5 as one rowid lookup each: 7 s for "kubernetes" + 2 filters at 1M.
                probe = scope.filter(pk=RawSQL("m.id", ())).values("id")
                scope_sql, scope_params = probe.query.sql_with_params()
            else:
                scope_sql, scope_params = scope.values("id").query.sql_with_params()
        except EmptyResultSet:  # a .none() scope, e.g. a deactivated user's
            return SearchPage(ids=[], total=0, total_is_capped=False, ranked=True)
        condition = f"EXISTS ({scope_sql})" if connection.vendor == "sqlite" else f"m.id IN ({scope_sql})"
        source_sql = f"SELECT m.* FROM ({match_sql}) m WHERE {condition}"
        params = [*match_params, *scope_params]
    else:
        source_sql, params = match_sql, list(match_params)

    if scope is not None:
        # With a scope, visiting each match (the probe, or PostgreSQL's join with the filters) is the cost; it is
        # paid once for the count and the ranking together.
        return _scoped_search(source_sql, params, rank_query, limit=limit, offset=offset, count=count)

    # Without a scope the count computes no score, and the page is ranked by the engine (only when the count
    # says there are few enough matches for relevance to be worth computing).
    cap = count_limit()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM (SELECT 1 FROM ({source_sql}) s LIMIT {cap + 1}) c", params)
        total = cursor.fetchone()[0]
        capped = total > cap
        ranked = total <= RANK_LIMIT and not capped
        if ranked and connection.vendor != "sqlite":
            order, order_params = "ts_rank(s.document, to_tsquery('simple', %s)) DESC, s.id DESC", [match_params[0]]
        else:
            order, order_params = ("s.score, s.id DESC" if ranked else "s.id DESC"), []
        cursor.execute(
            f"SELECT s.id FROM ({source_sql}) s ORDER BY {order} LIMIT %s OFFSET %s",
            [*params, *order_params, limit, offset],
        )
        ids = [row[0] for row in cursor.fetchall()]
    if not count:
        total = len(ids)
    return SearchPage(ids=ids, total=min(total, cap), total_is_capped=capped, ranked=ranked)


def _scoped_search(
    source_sql: str, params: list, engine_query: str, *, limit: int, offset: int, count: bool
) -> SearchPage:
    """Up to `count_limit()` + 1 in-scope matches in one pass, ranked here exactly as the SQL ORDER BY would rank them.

    Counting and then ranking in SQL visited every match twice: 2 × 100 ms on PostgreSQL and 2 × 70 ms on SQLite
    for "kubernetes" + 2 filters at 1M people. SQLite's FTS5 scores each row as it is probed; PostgreSQL scores
    only the matches found, by primary key. A capped result takes the newest matches with a second query.
    """
    sqlite = connection.vendor == "sqlite"
    score = ", s.score" if sqlite else ""
    cap = count_limit()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT s.id{score} FROM ({source_sql}) s LIMIT {cap + 1}", params)
        rows = cursor.fetchall()
        total = len(rows)
        capped = total > cap
        ranked = total <= RANK_LIMIT and not capped
        if capped:
            cursor.execute(
                f"SELECT s.id FROM ({source_sql}) s ORDER BY s.id DESC LIMIT %s OFFSET %s", [*params, limit, offset]
            )
            ids = [row[0] for row in cursor.fetchall()]
        elif not ranked:
            ids = sorted((row[0] for row in rows), reverse=True)[offset : offset + limit]
        elif sqlite:
            rows.sort(key=lambda row: (row[1], -row[0]))  # bm25: lower is better
            ids = [row[0] for row in rows[offset : offset + limit]]
        else:
            cursor.execute(
                "SELECT candidate_id, ts_rank(document, to_tsquery('simple', %s)) "
                "FROM search_candidate_document WHERE candidate_id = ANY(%s)",
                [engine_query, [row[0] for row in rows]],
            )
            scored = cursor.fetchall()
            scored.sort(key=lambda row: (-row[1], -row[0]))
            ids = [row[0] for row in scored[offset : offset + limit]]
    if not count:
        total = len(ids)
    return SearchPage(ids=ids, total=min(total, cap), total_is_capped=capped, ranked=ranked)
