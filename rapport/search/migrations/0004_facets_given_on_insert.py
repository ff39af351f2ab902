"""PostgreSQL: a new search document that already carries its facet words keeps them; the trigger adds them only
to one that does not.

Every document our code inserts is built by one statement (`backends.new_texts_statement`, and the seeder's bulk
load) that reads the facet words from the candidate row in the same statement. The row trigger of migration 0002
read that row again, one query per document: on a 20,000-row import it was a third of indexing the new people.
Any other insert (weight C words absent) still gets them from the trigger, and every update of a document, such as
the rewrite that follows a change of country or status, still rebuilds them.
"""

from django.db import migrations

FORWARD = [
    "DROP TRIGGER search_candidate_document_set_facets ON search_candidate_document",
    # Weight C marks the facet words (migration 0002): a document with none of them has not been given its facets.
    """
    CREATE TRIGGER search_candidate_document_set_facets
    BEFORE INSERT ON search_candidate_document
    FOR EACH ROW WHEN (length(ts_filter(NEW.document, '{c}')) = 0)
    EXECUTE FUNCTION search_candidate_document_set_facets()
    """,
    """
    CREATE TRIGGER search_candidate_document_refresh_facets
    BEFORE UPDATE OF document ON search_candidate_document
    FOR EACH ROW EXECUTE FUNCTION search_candidate_document_set_facets()
    """,
]
BACKWARD = [
    "DROP TRIGGER search_candidate_document_refresh_facets ON search_candidate_document",
    "DROP TRIGGER search_candidate_document_set_facets ON search_candidate_document",
    """
    CREATE TRIGGER search_candidate_document_set_facets
    BEFORE INSERT OR UPDATE OF document ON search_candidate_document
    FOR EACH ROW EXECUTE FUNCTION search_candidate_document_set_facets()
    """,
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in FORWARD:
            schema_editor.execute(sql)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in BACKWARD:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("search", "0003_sqlite_facets")]
    operations = [migrations.RunPython(forward, backward)]
