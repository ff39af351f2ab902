"""SQLite: the search table gains a `facets` column holding each person's country and relationship status as words.

A text search with a country or status filter then ANDs `facets : zzcountryde` (and the status) into the MATCH, so
FTS5 intersects text and filters before any candidate row is read, as GIN does on PostgreSQL (migration 0002). The
column's bm25 weight is 0, so the filter words never change the ranking. FTS5 cannot add a column, so the table is
rebuilt from itself; a trigger on the candidate row rewrites the words whenever the country or status changes,
whatever code path changes them. New documents get them from `index_documents`, which reads the candidate row.
"""

from django.db import migrations

FACETS_SQL = (
    "'zzcountry' || lower(coalesce({row}.country, '')) || ' zzstatus' || "
    "replace(coalesce({row}.relationship_status, ''), '_', '')"
)

FORWARD = [
    "CREATE VIRTUAL TABLE search_candidate_fts_facets USING fts5("
    "name, contact, work, skills, notes, facets, tokenize = 'unicode61 remove_diacritics 2')",
    "INSERT INTO search_candidate_fts_facets(search_candidate_fts_facets, rank) "
    "VALUES('rank', 'bm25(10.0, 5.0, 3.0, 4.0, 1.0, 0.0)')",
    "INSERT INTO search_candidate_fts_facets(rowid, name, contact, work, skills, notes, facets) "
    "SELECT f.rowid, f.name, f.contact, f.work, f.skills, f.notes, " + FACETS_SQL.format(row="c") + " "
    "FROM search_candidate_fts f JOIN candidates_candidate c ON c.id = f.rowid",
    "DROP TABLE search_candidate_fts",
    "ALTER TABLE search_candidate_fts_facets RENAME TO search_candidate_fts",
    "CREATE TRIGGER candidates_candidate_fts_facets AFTER UPDATE OF country, relationship_status "
    "ON candidates_candidate "
    "WHEN OLD.country IS NOT NEW.country OR OLD.relationship_status IS NOT NEW.relationship_status "
    "BEGIN UPDATE search_candidate_fts SET facets = " + FACETS_SQL.format(row="NEW") + " WHERE rowid = NEW.id; END",
]

BACKWARD = [
    "DROP TRIGGER IF EXISTS candidates_candidate_fts_facets",
    "CREATE VIRTUAL TABLE search_candidate_fts_plain USING fts5("
    "name, contact, work, skills, notes, tokenize = 'unicode61 remove_diacritics 2')",
    "INSERT INTO search_candidate_fts_plain(search_candidate_fts_plain, rank) "
    "VALUES('rank', 'bm25(10.0, 5.0, 3.0, 4.0, 1.0)')",
    "INSERT INTO search_candidate_fts_plain(rowid, name, contact, work, skills, notes) "
    "SELECT rowid, name, contact, work, skills, notes FROM search_candidate_fts",
    "DROP TABLE search_candidate_fts",
    "ALTER TABLE search_candidate_fts_plain RENAME TO search_candidate_fts",
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for sql in FORWARD:
            schema_editor.execute(sql)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for sql in BACKWARD:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("search", "0002_postgres_facets"), ("candidates", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
