"""Search with country and status filters stays exact however the person's country or status changes.

On PostgreSQL the filters are also facet words inside the search document (kept in step by triggers); these tests
change the candidate row in every way the code does (service, pipeline, bulk update) and check nobody is lost.
"""

import pytest
from django.db import connection

from rapport.candidates.models import Candidate
from rapport.candidates.selectors import candidate_list
from rapport.candidates.services import candidate_update
from rapport.pipeline.services import application_create
from tests.factories import make_candidate, make_job


def found(user, q: str, **filters) -> set[str]:
    return {c.first_name for c in candidate_list(user=user, filters={"q": q, **filters}).items}


@pytest.fixture
def engineers(recruiter):
    return {
        name: make_candidate(
            actor=recruiter,
            first_name=name,
            skills=["Kubernetes"],
            location={"country": country},
            relationship_status=status,
        )
        for name, country, status in [
            ("Berta", "DE", "nurturing"),
            ("Dieter", "DE", "lead"),
            ("Fleur", "FR", "nurturing"),
        ]
    }


def test_country_and_status_filters_narrow_a_text_search(recruiter, engineers):
    assert found(recruiter, "kubernetes", country="DE", status="nurturing") == {"Berta"}
    assert found(recruiter, "kubernetes", country="DE") == {"Berta", "Dieter"}
    assert found(recruiter, "kubernetes", status="nurturing") == {"Berta", "Fleur"}
    assert found(recruiter, "kubernetes", status="do_not_contact") == set()


def test_a_status_changed_by_the_pipeline_is_searchable_at_once(recruiter, engineers):
    application_create(actor=recruiter, candidate=engineers["Dieter"], job=make_job(actor=recruiter))

    assert found(recruiter, "kubernetes", country="DE", status="applicant") == {"Dieter"}
    assert found(recruiter, "kubernetes", country="DE", status="lead") == set()


def test_a_country_changed_by_an_edit_is_searchable_at_once(recruiter, engineers):
    candidate_update(actor=recruiter, candidate=engineers["Fleur"], data={"location": {"country": "DE"}})

    assert found(recruiter, "kubernetes", country="DE", status="nurturing") == {"Berta", "Fleur"}
    assert found(recruiter, "kubernetes", country="FR") == set()


def test_a_bulk_update_that_skips_the_services_still_leaves_nobody_out(recruiter, engineers):
    Candidate.objects.filter(first_name__in=["Berta", "Fleur"]).update(relationship_status="do_not_contact")

    assert found(recruiter, "kubernetes", status="do_not_contact") == {"Berta", "Fleur"}
    assert found(recruiter, "kubernetes", status="nurturing") == set()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="facet words exist in the PostgreSQL document only")
def test_the_document_carries_the_current_facets_and_nothing_stale(recruiter, engineers):
    berta = engineers["Berta"]
    Candidate.objects.filter(pk=berta.pk).update(relationship_status="do_not_contact", country="AT")

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT array_to_string(tsvector_to_array(document), ' ') FROM search_candidate_document "
            "WHERE candidate_id = %s",
            [berta.pk],
        )
        words = set(cursor.fetchone()[0].split())

    assert {w for w in words if w.startswith("zz")} == {"zzcountryat", "zzstatusdonotcontact"}
    assert "kubernetes" in words


def _document_words(candidate_id: int) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT array_to_string(tsvector_to_array(document), ' ') FROM search_candidate_document "
            "WHERE candidate_id = %s",
            [candidate_id],
        )
        return set(cursor.fetchone()[0].split())


@pytest.mark.skipif(connection.vendor != "postgresql", reason="facet words exist in the PostgreSQL document only")
def test_a_new_person_is_indexed_with_the_facets_of_their_row(recruiter):
    person = make_candidate(
        actor=recruiter, first_name="Ines", location={"country": "PT"}, relationship_status="engaged"
    )

    assert {w for w in _document_words(person.pk) if w.startswith("zz")} == {"zzcountrypt", "zzstatusengaged"}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="facet words exist in the PostgreSQL document only")
def test_a_document_written_without_facets_gets_them_from_the_database(recruiter, engineers):
    """Our index statement brings the facet words along; any other insert must still not leave a person out."""
    berta = engineers["Berta"]
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM search_candidate_document WHERE candidate_id = %s", [berta.pk])
        cursor.execute(
            "INSERT INTO search_candidate_document(candidate_id, document) "
            "VALUES (%s, setweight(to_tsvector('simple', 'Berta Kubernetes'), 'A'))",
            [berta.pk],
        )

    assert {w for w in _document_words(berta.pk) if w.startswith("zz")} == {"zzcountryde", "zzstatusnurturing"}
    assert found(recruiter, "kubernetes", country="DE", status="nurturing") == {"Berta"}


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the facets column exists in the SQLite index only")
def test_the_sqlite_facets_column_follows_the_candidate_row(recruiter, engineers):
    berta = engineers["Berta"]
    Candidate.objects.filter(pk=berta.pk).update(relationship_status="do_not_contact", country="AT")

    with connection.cursor() as cursor:
        cursor.execute("SELECT facets, skills FROM search_candidate_fts WHERE rowid = %s", [berta.pk])
        facets, skills = cursor.fetchone()

    assert facets == "zzcountryat zzstatusdonotcontact"
    assert "kubernetes" in skills


def test_the_filter_words_do_not_change_the_ranking(recruiter, engineers):
    """The facet words are matched but never scored, so a filter keeps the order the plain search gives."""
    make_candidate(
        actor=recruiter,
        first_name="Kubernetes",
        last_name="Fan",
        skills=["Kubernetes"],
        location={"country": "DE"},
        relationship_status="nurturing",
    )

    filtered = candidate_list(user=recruiter, filters={"q": "kubernetes", "country": "DE", "status": "nurturing"})
    everyone = candidate_list(user=recruiter, filters={"q": "kubernetes"})

    in_scope = [c.first_name for c in everyone.items if c.country == "DE" and c.relationship_status == "nurturing"]
    assert [c.first_name for c in filtered.items] == in_scope == ["Kubernetes", "Berta"]
