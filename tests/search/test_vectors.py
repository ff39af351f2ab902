"""A new person's PostgreSQL search entry built in Python (`document_vector`) is exactly what the database builds."""

import random

import pytest
from django.core.files.base import ContentFile
from django.db import connection

from rapport.candidates.importing import import_job_create, import_job_run, read_csv, suggest_mapping
from rapport.candidates.models import Candidate
from rapport.candidates.services import build_documents
from rapport.search import backends as search_backend
from rapport.search.backends import document_vector
from rapport.search.query import normalise_text

on_postgres = pytest.mark.skipif(connection.vendor != "postgresql", reason="the tsvector exists on PostgreSQL only")

_BUILT_BY_THE_DATABASE = (
    "SELECT (setweight(to_tsvector('simple', %s), 'A') || setweight(to_tsvector('simple', %s), 'A')"
    " || setweight(to_tsvector('simple', %s), 'B') || setweight(to_tsvector('simple', %s), 'B')"
    " || setweight(to_tsvector('simple', %s), 'D') || search_candidate_facets(%s, %s))::text, %s::tsvector::text"
)


def _tricky_word(chance: random.Random) -> str:
    # Digits, "e" and letters mixed: the words the database's parser splits ("3e8a1f" is "3e8" and "a1f").
    alphabet = chance.choice(["0123456789e", "abcdef0123456789", "abcdefghijklmnopqrstuvwxyz", "0123456789"])
    return "".join(chance.choice(alphabet) for _ in range(chance.randint(1, 10)))


@on_postgres
def test_a_vector_built_in_python_equals_the_one_the_database_builds(db):
    chance = random.Random(20261205)
    columns = [
        (
            "Grace Hopper",
            "grace.hopper@example.org 4930123456 030123456",
            "Rear Admiral US Navy Berlin DE",
            "cobol",
            "",
        ),
        ("Ada", "", "", "", "Met at the meetup; strong on compilers. Call again in 2e5 days, or 12e3x."),
        ("Ken Allen", "person5 48e374 bench example org", "software engineer company 5", "react aws", "bench bench"),
    ]
    for _ in range(3_000):
        columns.append(tuple(" ".join(_tricky_word(chance) for _ in range(chance.randint(0, 7))) for _ in range(5)))
    with connection.cursor() as cursor:
        for raw in columns:
            text = tuple(normalise_text(column) for column in raw)
            country, status = chance.choice(["DE", "gb", ""]), chance.choice(["lead", "do_not_contact", "hired"])
            vector = document_vector(text, country=country, status=status)
            assert vector is not None, text
            cursor.execute(_BUILT_BY_THE_DATABASE, [*text, country, status, vector])
            by_the_database, from_python = cursor.fetchone()
            assert from_python == by_the_database, text


@pytest.mark.parametrize(
    "text",
    [
        ("дмитрий", "", "", "", ""),  # a word the database's parser reads by its own locale rules
        ("ada", "", "", "", "x" * 300),  # a very long word
        ("ada", "", "", "", " ".join(["again"] * 300)),  # more places for one word than a tsvector keeps
        ("ada", "", "", "", " ".join(["word"] * 16_100)),  # positions beyond the tsvector's last
    ],
)
def test_what_python_cannot_build_exactly_is_left_to_the_database(text):
    assert document_vector(text, country="DE", status="lead") is None


def test_odd_facet_values_are_left_to_the_database():
    assert document_vector(("ada", "", "", "", ""), country="D1", status="lead") is None


@on_postgres
def test_imported_people_are_indexed_as_if_each_had_been_indexed_alone(recruiter):
    """The import sends Python-built entries for plain words and lets the database build the rest; either way a
    person's entry is the one `index_documents` writes for them."""
    rows = [
        "First name,Last name,E-mail,Country,Skills,Notes",
        "Grace,Hopper,grace@example.org,DE,COBOL,Prefers 3e8a1f over 12e3",
        "Дмитрий,Müller,dmitri@example.org,AT,Go,Kennt Kubernetes",
        "Ada,Lovelace,ada@example.org,,Maths,",
    ]
    upload = ContentFile(("\n".join(rows) + "\n").encode(), name="people.csv")
    mapping = suggest_mapping(read_csv(upload).headers)
    mapping = {**mapping, "5": "note"}
    job = import_job_run(job=import_job_create(actor=recruiter, upload=upload, mapping=mapping, on_duplicate="skip"))
    assert job.created_count == 3

    ids = list(Candidate.objects.order_by("id").values_list("id", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT candidate_id, document::text FROM search_candidate_document WHERE candidate_id = ANY(%s)", [ids]
        )
        imported = dict(cursor.fetchall())
        search_backend.remove_documents(ids)
        search_backend.index_documents(build_documents(ids), new=True)
        cursor.execute(
            "SELECT candidate_id, document::text FROM search_candidate_document WHERE candidate_id = ANY(%s)", [ids]
        )
        reindexed = dict(cursor.fetchall())
    assert len(imported) == 3
    assert imported == reindexed
