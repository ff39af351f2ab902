"""Full-text search over people, through candidate_list as the UI and the API use it, on SQLite and PostgreSQL."""

import pytest

from rapport.candidates.selectors import candidate_list
from rapport.candidates.services import candidate_update, candidates_tag
from rapport.common.errors import BadRequest, ValidationFailed
from rapport.pipeline.services import application_create
from rapport.search import backends as search_backend
from rapport.search.query import parse
from rapport.timeline.services import note_add
from tests.factories import make_candidate, make_job


def found(user, q: str, **filters) -> set[str]:
    page = candidate_list(user=user, filters={"q": q, **filters})
    return {c.first_name for c in page.items}


@pytest.fixture
def people(recruiter):
    grace = make_candidate(
        actor=recruiter,
        first_name="Grace",
        last_name="Hopper",
        emails=["grace@example.org"],
        phones=["030 1234567"],
        location={"city": "Berlin", "country": "DE"},
        current_title="Rear Admiral",
        current_company="US Navy",
        skills=["COBOL"],
    )
    alan = make_candidate(
        actor=recruiter,
        first_name="Alan",
        last_name="Turing",
        emails=["alan@example.org"],
        phones=["+44 161 496 0000"],
        location={"city": "Manchester", "country": "GB"},
        skills=["Python", "Cryptography"],
    )
    jose = make_candidate(
        actor=recruiter,
        first_name="José",
        last_name="Kowalski",
        phones=["(415) 555-0100"],
        location={"country": "US"},
        skills=["Python", "Django"],
    )
    jan = make_candidate(actor=recruiter, first_name="Jan", last_name="Kowalczyk", skills=["Java"])
    ada = make_candidate(actor=recruiter, first_name="Ada", last_name="Lovelace", skills=["Mathematics"])
    note_add(actor=recruiter, candidate=ada, body="Wrote the first algorithm for the **Analytical Engine**.")
    return {"grace": grace, "alan": alan, "jose": jose, "jan": jan, "ada": ada}


@pytest.mark.parametrize(
    "q, expected",
    [
        ("hopper", {"Grace"}),
        ("HOPPER", {"Grace"}),
        ("alan", {"Alan"}),
        ("cobol", {"Grace"}),
        ("admiral", {"Grace"}),
        ("navy", {"Grace"}),
        ("manchester", {"Alan"}),
        ("python django", {"José"}),
        ("python AND django", {"José"}),
        ("python nobody", set()),
        ("cobol OR java", {"Grace", "Jan"}),
        ("python NOT django", {"Alan"}),
        ("python -django", {"Alan"}),
        ("(cobol OR java OR python) -kowalczyk -turing", {"Grace", "José"}),
        ("python (django OR cryptography)", {"Alan", "José"}),
        ("(python OR cobol) (-django -cobol)", {"Alan"}),
        ("python -(django cryptography)", {"Alan", "José"}),
        ("python -(kowalski OR turing)", set()),
        ('"rear admiral"', {"Grace"}),
        ('"admiral rear"', set()),
        ("kowa*", {"José", "Jan"}),
        ("kowal*", {"José", "Jan"}),
        ("kowals*", {"José"}),
        ("jose", {"José"}),
        ("JOSÉ", {"José"}),
        ("analytical", {"Ada"}),
        ('"analytical engine"', {"Ada"}),
    ],
)
def test_text_search(recruiter, people, q, expected):
    assert found(recruiter, q) == expected


@pytest.mark.parametrize("q", ["grace@example.org", "GRACE@Example.org", "  grace@example.org "])
def test_an_email_is_looked_up_exactly(recruiter, people, q):
    page = candidate_list(user=recruiter, filters={"q": q})

    assert [c.pk for c in page.items] == [people["grace"].pk]
    assert page.total == 1


def test_an_unknown_email_finds_no_one(recruiter, people):
    assert found(recruiter, "nobody@example.org") == set()


@pytest.mark.parametrize(
    "q, who",
    [
        ("+49 30 1234567", "Grace"),
        ("+49301234567", "Grace"),
        ("+49-30-123-4567", "Grace"),
        ("030 1234567", "Grace"),
        ("(030) 123 4567", "Grace"),
        ("0049 30 1234567", "Grace"),
        ("+44 161 496 0000", "Alan"),
        ("0161 496 0000", "Alan"),
        ("(415) 555-0100", "José"),
        ("415.555.0100", "José"),
        ("+1 415 555 0100", "José"),
    ],
)
def test_a_phone_is_found_in_several_formats(recruiter, people, q, who):
    assert found(recruiter, q) == {who}


def test_a_date_that_looks_like_a_phone_still_finds_the_note_it_is_in(recruiter, people):
    note_add(actor=recruiter, candidate=people["jan"], body="Final interview on 2026-01-31")

    assert found(recruiter, "2026-01-31") == {"Jan"}


def test_an_unknown_phone_finds_no_one(recruiter, people):
    assert found(recruiter, "+49 89 7654321") == set()


def test_tags_and_new_notes_are_searchable(recruiter, people):
    candidates_tag(actor=recruiter, candidate_ids=[people["alan"].pk], tag_name="Bletchley")
    note_add(actor=recruiter, candidate=people["jan"], body="Met him at the JUG meetup in Kraków")

    assert found(recruiter, "bletchley") == {"Alan"}
    assert found(recruiter, "krakow") == {"Jan"}


def test_an_edit_is_searchable_at_once_and_the_old_value_is_not(recruiter, people):
    candidate_update(actor=recruiter, candidate=people["jan"], data={"last_name": "Nowak"})

    assert found(recruiter, "nowak") == {"Jan"}
    assert found(recruiter, "kowalczyk") == set()


def test_text_and_filters_combine(recruiter, people):
    assert found(recruiter, "python", country="GB") == {"Alan"}
    assert found(recruiter, "python", country="us") == {"José"}
    assert found(recruiter, "python", city="berlin") == set()
    assert found(recruiter, "grace@example.org", country="GB") == set()


def test_a_hiring_manager_never_finds_people_outside_their_scope(recruiter, hiring_manager, outsider, people):
    job = make_job(actor=recruiter, hiring_manager_id=hiring_manager.pk)
    application_create(actor=recruiter, candidate=people["alan"], job=job)

    assert found(hiring_manager, "python") == {"Alan"}
    assert found(hiring_manager, "python OR cobol OR java") == {"Alan"}
    assert found(hiring_manager, "alan@example.org") == {"Alan"}
    assert found(hiring_manager, "grace@example.org") == set()
    assert found(hiring_manager, "030 1234567") == set()
    assert found(hiring_manager, "hopper") == set()
    assert found(hiring_manager, "python", country="US") == set()
    assert found(outsider, "python OR hopper OR turing") == set()
    assert found(outsider, "alan@example.org") == set()


def test_a_deactivated_recruiter_finds_no_one(recruiter, people):
    recruiter.is_active = False
    recruiter.save()

    assert found(recruiter, "python") == set()
    assert found(recruiter, "grace@example.org") == set()


@pytest.mark.parametrize(
    "q",
    [
        "(python",
        "python)",
        "-only",
        "NOT python",
        "python OR -java",
        "(-b -c)",
        "x NOT NOT y",
        "x -(y OR -z)",
        "x" * 501,
    ],
)
def test_bad_syntax_is_refused_naming_q(recruiter, people, q):
    with pytest.raises(ValidationFailed) as caught:
        candidate_list(user=recruiter, filters={"q": q})

    assert list(caught.value.fields) == ["q"]


@pytest.mark.parametrize("q", ["", "   ", "()", "***", '""', "OR", "AND"])
def test_a_query_with_nothing_to_look_for_lists_everyone(recruiter, people, q):
    page = candidate_list(user=recruiter, filters={"q": q})

    assert page.total == 5
    assert not page.ranked


def test_a_name_match_ranks_above_a_notes_match(recruiter, people):
    note_add(actor=recruiter, candidate=people["ada"], body="Read the paper by Turing on computable numbers")

    page = candidate_list(user=recruiter, filters={"q": "turing"})

    assert page.ranked
    assert [c.first_name for c in page.items] == ["Alan", "Ada"]


def test_counts_are_capped_and_flagged(recruiter, people, monkeypatch):
    monkeypatch.setattr(search_backend, "COUNT_LIMIT", 2)

    page = candidate_list(user=recruiter, filters={"q": "kowa* OR hopper OR turing"})

    assert page.total == 2
    assert page.total_is_capped
    assert len(page.items) == 4


def test_postgresql_stops_counting_sooner_and_then_orders_newest_first(recruiter, people, monkeypatch):
    """PostgreSQL confirms each counted match on its heap, so its cap is lower; FTS5 counts from its index."""
    from django.db import connection

    monkeypatch.setattr(search_backend, "POSTGRES_COUNT_LIMIT", 2)

    page = candidate_list(user=recruiter, filters={"q": "kowa* OR hopper OR turing"})

    if connection.vendor == "postgresql":
        assert (page.total, page.total_is_capped, page.ranked) == (2, True, False)
        assert [c.pk for c in page.items] == sorted((c.pk for c in page.items), reverse=True)
    else:
        assert (page.total, page.total_is_capped, page.ranked) == (4, False, True)
    assert len(page.items) == 4


def test_a_count_at_the_cap_is_exact(recruiter, people, monkeypatch):
    monkeypatch.setattr(search_backend, "COUNT_LIMIT", 2)

    page = candidate_list(user=recruiter, filters={"q": "kowa*"})

    assert (page.total, page.total_is_capped) == (2, False)


def test_above_the_rank_limit_results_come_newest_first(recruiter, people, monkeypatch):
    monkeypatch.setattr(search_backend, "RANK_LIMIT", 2)

    broad = candidate_list(user=recruiter, filters={"q": "python OR cobol OR java"})
    narrow = candidate_list(user=recruiter, filters={"q": "kowa*"})

    assert not broad.ranked
    assert [c.first_name for c in broad.items] == ["Jan", "José", "Alan", "Grace"]
    assert broad.total == 4 and not broad.total_is_capped
    assert narrow.ranked


def test_the_scoped_search_path_also_caps_and_orders(recruiter, people, monkeypatch):
    monkeypatch.setattr(search_backend, "RANK_LIMIT", 1)
    monkeypatch.setattr(search_backend, "COUNT_LIMIT", 2)

    page = candidate_list(user=recruiter, filters={"q": "python OR cobol OR java", "status": "lead"})

    assert (page.total, page.total_is_capped, page.ranked) == (2, True, False)
    assert [c.first_name for c in page.items] == ["Jan", "José", "Alan", "Grace"]


@pytest.mark.parametrize("ranked", [True, False])
def test_search_results_page_with_next_cursor_without_gaps_or_repeats(recruiter, people, monkeypatch, ranked):
    if not ranked:
        monkeypatch.setattr(search_backend, "RANK_LIMIT", 1)
    expected = {p.pk for p in people.values()}
    q = "python OR cobol OR java OR mathematics"

    seen, cursor, pages = [], None, 0
    while True:
        page = candidate_list(user=recruiter, filters={"q": q}, limit=2, cursor=cursor)
        seen.extend(c.pk for c in page.items)
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break

    assert pages == 3
    assert len(seen) == len(set(seen)) == 5
    assert set(seen) == expected
    assert page.ranked is ranked


@pytest.mark.parametrize("cursor", ["garbage!", "eyJvIjoiYWJjIn0", "eyJvIjotNX0"])
def test_a_bad_search_cursor_is_a_bad_request_naming_cursor(recruiter, people, cursor):
    with pytest.raises(BadRequest) as caught:
        candidate_list(user=recruiter, filters={"q": "python"}, cursor=cursor)

    assert "cursor" in caught.value.fields


def test_backend_search_without_scope_and_with_a_scope(recruiter, people):
    from rapport.candidates.models import Candidate

    everyone = search_backend.search(parse("python"), scope=None, limit=10)
    only_gb = search_backend.search(parse("python"), scope=Candidate.objects.filter(country="GB"), limit=10)

    assert set(everyone.ids) == {people["alan"].pk, people["jose"].pk}
    assert everyone.total == 2 and everyone.ranked
    assert only_gb.ids == [people["alan"].pk]


def test_removed_documents_are_no_longer_found(recruiter, people):
    search_backend.remove_documents([people["alan"].pk, people["jose"].pk])

    assert search_backend.search(parse("python"), scope=None, limit=10).ids == []


def test_an_empty_scope_finds_no_one(recruiter, people):
    from rapport.candidates.models import Candidate

    page = search_backend.search(parse("python"), scope=Candidate.objects.none(), limit=10)

    assert (page.ids, page.total, page.total_is_capped) == ([], 0, False)
