from django.db import migrations

SQLITE_FORWARD = [
    # A plain FTS5 table keyed by candidate id; columns are weighted in the persistent rank below.
    "CREATE VIRTUAL TABLE search_candidate_fts USING fts5("
    "name, contact, work, skills, notes, tokenize = 'unicode61 remove_diacritics 2')",
    "INSERT INTO search_candidate_fts(search_candidate_fts, rank) VALUES('rank', 'bm25(10.0, 5.0, 3.0, 4.0, 1.0)')",
]
SQLITE_BACKWARD = ["DROP TABLE IF EXISTS search_candidate_fts"]

POSTGRES_FORWARD = [
    "CREATE TABLE search_candidate_document ("
    " candidate_id bigint PRIMARY KEY REFERENCES candidates_candidate(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,"
    " document tsvector NOT NULL)",
    "CREATE INDEX search_candidate_document_gin ON search_candidate_document USING gin (document)",
]
POSTGRES_BACKWARD = ["DROP TABLE IF EXISTS search_candidate_document"]


def forward(apps, schema_editor):
    statements = SQLITE_FORWARD if schema_editor.connection.vendor == "sqlite" else POSTGRES_FORWARD
    for sql in statements:
        schema_editor.execute(sql)


def backward(apps, schema_editor):
    statements = SQLITE_BACKWARD if schema_editor.connection.vendor == "sqlite" else POSTGRES_BACKWARD
    for sql in statements:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("candidates", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
