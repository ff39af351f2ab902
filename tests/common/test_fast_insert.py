"""Bulk inserts prepared ahead and sent later (the CSV import's path), on both databases."""

from datetime import UTC, date, datetime

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from rapport.candidates.importing import _finish_on_server_while
from rapport.candidates.models import Candidate, CandidateEmail, RelationshipStatus
from rapport.common.fast_insert import copy_text, db_value, insert_rows, prepared_insert, reserve_ids, row_converter
from rapport.search.backends import index_new_texts, remove_documents
from rapport.timeline.models import Activity
from tests.factories import make_candidate

pytestmark = pytest.mark.django_db
_COLUMNS = tuple(f.attname for f in Candidate._meta.concrete_fields if not f.primary_key)


def _send(statement) -> None:
    """Run a prepared insert the way the import does: on a helper thread, with the driver's own cursor."""
    _finish_on_server_while([statement], [], meanwhile=lambda: None)


def test_reserved_ids_are_consecutive_and_never_handed_out_again():
    existing = make_candidate(first_name="Existing")

    with transaction.atomic():
        reserved = reserve_ids(Candidate, 3)

    assert reserved == list(range(reserved[0], reserved[0] + 3))
    assert reserved[0] > existing.pk
    later = make_candidate(first_name="Later")
    assert later.pk > reserved[-1]


def _candidate_row(**values) -> tuple:
    """A whole candidate row (every column, in `_COLUMNS` order): the fields' defaults, then `values`."""
    defaults = {f.attname: f.get_default() for f in Candidate._meta.concrete_fields if not f.primary_key}
    return tuple({**defaults, **values}[column] for column in _COLUMNS)


def test_ids_can_be_reserved_on_a_table_that_never_had_a_row():
    assert not Candidate.objects.exists()
    if connection.vendor == "sqlite":
        # SQLite keeps an AUTOINCREMENT counter only once a row was inserted; earlier tests may have left one.
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM sqlite_sequence WHERE name = %s", [Candidate._meta.db_table])

    with transaction.atomic():
        reserved = reserve_ids(Candidate, 2)
        rows = [_candidate_row(first_name="Ada"), _candidate_row(first_name="Grace")]
        _send(prepared_insert(Candidate, _COLUMNS, rows, ids=reserved))

    assert list(Candidate.objects.order_by("pk").values_list("pk", "first_name")) == [
        (reserved[0], "Ada"),
        (reserved[1], "Grace"),
    ]
    assert make_candidate(first_name="Next").pk > reserved[-1]


def test_prepared_rows_arrive_as_written():
    now = timezone.now()
    awkward = 'Tab\there, new\nline, carriage\rreturn, back\\slash, \\N, "quotes", émigré, 漢字, 🙂'
    values = {
        "first_name": "Zoë",
        "last_name": "O'Brien",
        "headline": awkward,
        "skills": ["C++", "SQL"],
        "custom_fields": {"notice": 30, "note": awkward},
        "birthday": date(1990, 2, 28),
        "relationship_status": RelationshipStatus.ALUMNI,
        "engagement_score": 7,
        "engagement_raw": 1.5,
        "created_at": now,
        "updated_at": now,
    }

    with transaction.atomic():
        [pk] = reserve_ids(Candidate, 1)
        _send(prepared_insert(Candidate, _COLUMNS, [_candidate_row(**values)], ids=[pk]))

    stored = Candidate.objects.get(pk=pk)
    assert {name: getattr(stored, name) for name in values} == values
    assert (stored.engagement_at, stored.links, stored.owner_id) == (None, [], None)


def test_a_payload_shared_by_many_rows_is_stored_for_each():
    person = make_candidate(first_name="Shared")
    payload = {"tag": "python"}
    now = timezone.now()
    rows = [("tag.added", person.pk, None, now, payload), ("tag.added", person.pk, None, now, payload)]

    with transaction.atomic():
        _send(prepared_insert(Activity, ("type", "candidate_id", "actor_id", "occurred_at", "payload"), rows))

    assert list(Activity.objects.filter(type="tag.added").values_list("payload", flat=True)) == [payload, payload]


def test_a_clash_raises_an_integrity_error_and_writes_nothing():
    taken = make_candidate(first_name="Taken", emails=["taken@example.org"])
    other = make_candidate(first_name="Other")
    rows = [(other.pk, "free@example.org", 0), (other.pk, "taken@example.org", 1)]

    with pytest.raises(IntegrityError), transaction.atomic():
        _send(prepared_insert(CandidateEmail, ("candidate_id", "email", "position"), rows))

    assert list(CandidateEmail.objects.values_list("candidate_id", "email")) == [(taken.pk, "taken@example.org")]


def test_new_search_entries_are_built_in_one_statement_with_the_candidates_facets():
    people = [make_candidate(first_name=name) for name in ("Ada", "Grace")]
    Candidate.objects.filter(pk=people[0].pk).update(country="GB")
    remove_documents([p.pk for p in people])
    texts = [
        (p.pk, f"{p.first_name} Tester", f"{p.first_name.lower()}@example.org", "Engineer", "SQL", "") for p in people
    ]

    index_new_texts(texts)

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT rowid, name, facets FROM search_candidate_fts WHERE rowid IN (%s, %s) ORDER BY rowid",
                [p.pk for p in people],
            )
            stored = cursor.fetchall()
            assert [(pk, name) for pk, name, _ in stored] == [(p.pk, f"{p.first_name} Tester") for p in people]
            assert [facets for _, _, facets in stored] == ["zzcountrygb zzstatuslead", "zzcountry zzstatuslead"]
        else:
            cursor.execute(
                "SELECT candidate_id, document @@ to_tsquery('simple', 'tester & sql') FROM search_candidate_document "
                "WHERE candidate_id IN (%s, %s) ORDER BY candidate_id",
                [p.pk for p in people],
            )
            assert cursor.fetchall() == [(p.pk, True) for p in people]


def test_copy_text_escapes_each_column_whatever_its_types():
    moment = datetime(2026, 12, 4, 18, 30, tzinfo=UTC)
    rows = [
        ("plain", 1, None, moment, True, 1.5, "tab\there"),
        ("back\\slash", 22, 7, moment, False, None, "new\nline\r"),
    ]

    assert copy_text(rows) == (
        "plain\t1\t\\N\t2026-12-04T18:30:00+00:00\tt\t1.5\ttab\\there\n"
        "back\\\\slash\t22\t7\t2026-12-04T18:30:00+00:00\tf\t\\N\tnew\\nline\\r\n"
    )
    assert copy_text([]) == ""


def test_a_row_prepared_ahead_is_written_with_its_values_and_the_defaults_it_leaves_out():
    from rapport.candidates.importing import _CANDIDATE_COLUMNS, _PERSON_COLUMNS

    defaults = {f.attname: f.get_default() for f in Candidate._meta.concrete_fields if f.attname in _PERSON_COLUMNS}
    convert = row_converter(Candidate, _PERSON_COLUMNS, defaults)
    stamp = db_value(Candidate, "created_at", timezone.now())
    given = [
        {"first_name": "tab\there", "last_name": "back\\slash", "skills": ["new\nline", "C#"], "unknown": 1},
        {"first_name": "Plain", "headline": "Héloïse", "birthday": date(1990, 4, 23), "custom_fields": {"a": 1}},
    ]
    rows = [(*convert(fields), None, stamp, stamp) for fields in given]

    ids = insert_rows(Candidate, _CANDIDATE_COLUMNS, rows, returning_ids=True, converted=True)

    first, second = (Candidate.objects.get(pk=pk) for pk in ids)
    assert (first.first_name, first.last_name, first.skills) == ("tab\there", "back\\slash", ["new\nline", "C#"])
    assert (first.headline, first.birthday, first.custom_fields) == ("", None, {})
    assert first.relationship_status == defaults["relationship_status"] == RelationshipStatus.LEAD
    assert (second.first_name, second.headline, second.birthday) == ("Plain", "Héloïse", date(1990, 4, 23))
    assert (second.skills, second.custom_fields) == ([], {"a": 1})
