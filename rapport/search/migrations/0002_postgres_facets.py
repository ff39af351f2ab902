"""PostgreSQL: each search document also carries its person's country and relationship status as facet words.

GIN then intersects "kubernetes" with "in DE" and "nurturing" before any row is read, instead of visiting every
text match to check the filters (see docs/benchmarks.md). The words are written by triggers from the candidate row
itself, so no code path (a service, a bulk .update(), a raw import) can leave them stale: a document gets them when
it is written, and a change of country or status rewrites them.
"""

from django.db import migrations

FORWARD = [
    # Weight C is used by nothing else, so it marks the facet words: ts_filter drops them before they are rebuilt.
    """
    CREATE FUNCTION search_candidate_facets(country text, status text) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
      SELECT setweight(to_tsvector('simple',
        'zzcountry' || lower(coalesce(country, '')) || ' zzstatus' || replace(coalesce(status, ''), '_', '')), 'C')
    $$
    """,
    """
    CREATE FUNCTION search_candidate_document_set_facets() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      NEW.document := ts_filter(NEW.document, '{a,b,d}') || coalesce(
        (SELECT search_candidate_facets(c.country, c.relationship_status)
           FROM candidates_candidate c WHERE c.id = NEW.candidate_id),
        ''::tsvector);
      RETURN NEW;
    END
    $$
    """,
    """
    CREATE TRIGGER search_candidate_document_set_facets
    BEFORE INSERT OR UPDATE OF document ON search_candidate_document
    FOR EACH ROW EXECUTE FUNCTION search_candidate_document_set_facets()
    """,
    """
    CREATE FUNCTION candidates_candidate_refresh_facets() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE search_candidate_document SET document = document WHERE candidate_id = NEW.id;
      RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER candidates_candidate_refresh_facets
    AFTER UPDATE OF country, relationship_status ON candidates_candidate
    FOR EACH ROW
    WHEN (OLD.country IS DISTINCT FROM NEW.country OR OLD.relationship_status IS DISTINCT FROM NEW.relationship_status)
    EXECUTE FUNCTION candidates_candidate_refresh_facets()
    """,
    "UPDATE search_candidate_document SET document = document",
]
BACKWARD = [
    "DROP TRIGGER IF EXISTS candidates_candidate_refresh_facets ON candidates_candidate",
    "DROP FUNCTION IF EXISTS candidates_candidate_refresh_facets()",
    "DROP TRIGGER IF EXISTS search_candidate_document_set_facets ON search_candidate_document",
    "DROP FUNCTION IF EXISTS search_candidate_document_set_facets()",
    "UPDATE search_candidate_document SET document = ts_filter(document, '{a,b,d}')",
    "DROP FUNCTION IF EXISTS search_candidate_facets(text, text)",
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
    dependencies = [("search", "0001_candidate_index"), ("candidates", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
