"""Reads of people: scoped lookups, list filters, sort orders and keyset pagination."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rapport.candidates.models import Candidate
from rapport.candidates.selectors import (
    candidate_by_contact,
    candidate_detail_for_user,
    candidate_get_for_user,
    candidate_list,
    candidates_visible_to,
    clean_candidate_filters,
)
from rapport.candidates.services import (
    candidate_erase,
    candidate_update,
    pool_add_members,
    pool_create,
    segment_create,
)
from rapport.common.errors import BadRequest, NotFound, ValidationFailed
from rapport.pipeline.services import application_create, application_move
from tests.factories import CandidateFactory, make_candidate, make_job


def names(page) -> list[str]:
    return [c.first_name for c in page.items]


def listed(user, **filters) -> set[str]:
    return {c.first_name for c in candidate_list(user=user, filters=filters).items}


def walk(user, *, sort: str, limit: int, filters: dict | None = None) -> list[list[int]]:
    pages, cursor = [], None
    while True:
        page = candidate_list(user=user, filters=filters or {}, sort=sort, limit=limit, cursor=cursor)
        pages.append([c.pk for c in page.items])
        cursor = page.next_cursor
        if cursor is None:
            return pages


# --- scoped lookups -------------------------------------------------------------------------------------------------


def test_get_for_user_finds_a_visible_person_and_hides_others(world):
    applicant, bystander = world["applicant"], world["bystander"]

    assert candidate_get_for_user(user=world["recruiter"], candidate_id=str(bystander.pk)) == bystander
    assert candidate_get_for_user(user=world["hiring_manager"], candidate_id=applicant.pk) == applicant
    with pytest.raises(NotFound):
        candidate_get_for_user(user=world["hiring_manager"], candidate_id=bystander.pk)


@pytest.mark.parametrize("candidate_id", [None, "", "abc", "1.5", 10**12, -1])
def test_get_for_user_with_a_bad_id_is_not_found(recruiter, candidate_id):
    with pytest.raises(NotFound):
        candidate_get_for_user(user=recruiter, candidate_id=candidate_id)


def test_an_inactive_user_sees_no_one(world):
    recruiter = world["recruiter"]
    recruiter.is_active = False
    recruiter.save()

    assert not candidates_visible_to(recruiter).exists()


def test_detail_loads_the_profile_in_a_fixed_number_of_queries_and_hides_other_jobs(
    world, django_assert_max_num_queries
):
    recruiter, manager, applicant = world["recruiter"], world["hiring_manager"], world["applicant"]
    other_job = make_job(actor=recruiter, title="Secret Project")
    application_create(actor=recruiter, candidate=applicant, job=other_job)
    candidate_update(actor=recruiter, candidate=applicant, data={"tags": ["navy"], "phones": ["+49301234567"]})

    with django_assert_max_num_queries(10):
        seen_by_recruiter = candidate_detail_for_user(user=recruiter, candidate_id=applicant.pk)
        titles = sorted(a.job.title for a in seen_by_recruiter.applications.all())
        tags = [t.tag.name for t in seen_by_recruiter.candidate_tags.all()]
        emails = [e.email for e in seen_by_recruiter.emails.all()]
    seen_by_manager = candidate_detail_for_user(user=manager, candidate_id=applicant.pk)

    assert titles == ["Platform Engineer", "Secret Project"]
    assert tags == ["navy"] and emails == ["grace@example.org"]
    assert [a.job.title for a in seen_by_manager.applications.all()] == ["Platform Engineer"]


def test_candidate_by_contact(recruiter):
    grace = make_candidate(actor=recruiter, emails=["grace@example.org"], phones=["+49301234567"])

    assert candidate_by_contact(email="grace@example.org") == grace
    assert candidate_by_contact(phone="+49301234567") == grace
    assert candidate_by_contact(email="nobody@example.org", phone="+49301234567") == grace
    assert candidate_by_contact(email="nobody@example.org") is None


# --- filters --------------------------------------------------------------------------------------------------------


@pytest.fixture
def crowd(recruiter, admin_user):
    job = make_job(actor=recruiter, title="Platform Engineer")
    other_job = make_job(actor=recruiter, title="Data Engineer")
    grace = make_candidate(
        actor=recruiter,
        first_name="Grace",
        source="Referral",
        location={"city": "Berlin", "country": "DE"},
        tags=["Python"],
    )
    alan = make_candidate(
        actor=recruiter, first_name="Alan", source="LinkedIn", location={"city": "Manchester", "country": "GB"}
    )
    ada = make_candidate(
        actor=recruiter,
        first_name="Ada",
        source="referral",
        owner_id=admin_user.pk,
        location={"city": "berlin", "country": "DE"},
        relationship_status="nurturing",
    )
    application_create(actor=recruiter, candidate=grace, job=job)
    moved = application_create(actor=recruiter, candidate=alan, job=job)
    application_move(actor=recruiter, application=moved, stage=job.stages.get(name="Screening"))
    application_create(actor=recruiter, candidate=ada, job=other_job)
    candidate_update(actor=recruiter, candidate=ada, data={"relationship_status": "nurturing"})
    pool = pool_create(actor=recruiter, name="Pioneers")
    pool_add_members(actor=recruiter, pool=pool, candidate_ids=[ada.pk, alan.pk])
    return {"job": job, "other_job": other_job, "grace": grace, "alan": alan, "ada": ada, "pool": pool}


def test_filter_by_tag_ignores_case(recruiter, crowd):
    assert listed(recruiter, tag="python") == {"Grace"}
    assert listed(recruiter, tag="rust") == set()


def test_filter_by_pool(recruiter, crowd):
    assert listed(recruiter, pool=crowd["pool"].pk) == {"Ada", "Alan"}
    assert listed(recruiter, pool=str(crowd["pool"].pk)) == {"Ada", "Alan"}


def test_filter_by_job_and_stage(recruiter, crowd):
    job = crowd["job"]
    screening = job.stages.get(name="Screening")

    assert listed(recruiter, job=job.pk) == {"Grace", "Alan"}
    assert listed(recruiter, stage=screening.pk) == {"Alan"}
    assert listed(recruiter, job=job.pk, stage=screening.pk) == {"Alan"}
    assert listed(recruiter, job=crowd["other_job"].pk, stage=screening.pk) == set()


def test_a_hiring_manager_cannot_use_a_job_filter_to_see_past_their_scope(recruiter, hiring_manager, crowd):
    from rapport.jobs.services import job_update

    job_update(actor=recruiter, job=crowd["job"], data={"hiring_manager_id": hiring_manager.pk})

    assert listed(hiring_manager, job=crowd["job"].pk) == {"Grace", "Alan"}
    assert listed(hiring_manager, job=crowd["other_job"].pk) == set()
    assert listed(hiring_manager, source="referral") == {"Grace"}
    assert listed(hiring_manager) == {"Grace", "Alan"}


def test_filter_by_status_source_owner_country_and_city(recruiter, admin_user, crowd):
    assert listed(recruiter, status="applicant") == {"Grace", "Alan"}
    assert listed(recruiter, status="nurturing") == {"Ada"}
    assert listed(recruiter, source="REFERRAL") == {"Grace", "Ada"}
    assert listed(recruiter, owner=admin_user.pk) == {"Ada"}
    assert listed(recruiter, owner=recruiter.pk) == {"Grace", "Alan"}
    assert listed(recruiter, country="de") == {"Grace", "Ada"}
    assert listed(recruiter, city="BERLIN") == {"Grace", "Ada"}
    assert listed(recruiter, country="DE", source="referral", status="applicant") == {"Grace"}


def test_filter_by_created_and_updated_ranges(recruiter, crowd):
    Candidate.objects.filter(pk=crowd["grace"].pk).update(
        created_at=datetime(2025, 1, 10, 12, tzinfo=UTC), updated_at=datetime(2025, 1, 10, 12, tzinfo=UTC)
    )
    Candidate.objects.filter(pk=crowd["alan"].pk).update(
        created_at=datetime(2025, 3, 1, 0, tzinfo=UTC), updated_at=datetime(2025, 6, 1, tzinfo=UTC)
    )

    assert listed(recruiter, created_before="2025-02-01") == {"Grace"}
    assert listed(recruiter, created_after="2025-01-11", created_before="2025-03-02") == {"Alan"}
    assert listed(recruiter, created_after="2025-03-01T00:00:00Z", created_before="2025-03-01T00:00:01Z") == {"Alan"}
    assert listed(recruiter, created_before="2025-03-01") == {"Grace"}
    assert listed(recruiter, updated_since="2025-05-01") == {"Alan", "Ada"}
    assert listed(recruiter, updated_since=datetime(2025, 5, 1, tzinfo=UTC)) == {"Alan", "Ada"}


def test_a_segment_filter_applies_its_saved_filters_with_the_others(recruiter, crowd):
    berliners = segment_create(actor=recruiter, name="Berliners", filters={"city": "berlin"})

    assert listed(recruiter, segment=berliners.pk) == {"Grace", "Ada"}
    assert listed(recruiter, segment=berliners.pk, source="referral", tag="python") == {"Grace"}
    with pytest.raises(NotFound):
        candidate_list(user=recruiter, filters={"segment": 999_999})


def test_a_hiring_manager_cannot_use_a_segment(recruiter, hiring_manager, crowd):
    berliners = segment_create(actor=recruiter, name="Berliners", filters={"city": "berlin"})

    with pytest.raises(NotFound):
        candidate_list(user=hiring_manager, filters={"segment": berliners.pk})


@pytest.mark.parametrize(
    "filters, field",
    [
        ({"colour": "blue"}, "colour"),
        ({"status": "friend"}, "status"),
        ({"pool": "first"}, "pool"),
        ({"job": "1; DROP TABLE"}, "job"),
        ({"stage": 1.5j}, "stage"),
        ({"owner": "me"}, "owner"),
        ({"segment": "x"}, "segment"),
        ({"created_after": "31/01/2026"}, "created_after"),
        ({"created_before": "2026-02-30"}, "created_before"),
        ({"updated_since": "soon"}, "updated_since"),
        ({"q": "(python"}, "q"),
        ({"tag": ["python", "go"]}, "tag"),
        ({"city": {"name": "Berlin"}}, "city"),
    ],
)
def test_a_bad_filter_is_refused_naming_it(recruiter, filters, field):
    with pytest.raises(ValidationFailed) as caught:
        candidate_list(user=recruiter, filters=filters)

    assert field in caught.value.fields


def test_empty_filters_are_dropped():
    assert clean_candidate_filters({"tag": "", "pool": None, "city": "Berlin", "job": []}) == {"city": "Berlin"}


def test_erased_people_are_left_out_of_lists(admin_user, recruiter, crowd):
    candidate_erase(actor=admin_user, candidate=crowd["ada"])

    assert listed(recruiter) == {"Grace", "Alan"}
    assert listed(recruiter, pool=crowd["pool"].pk) == {"Alan"}


# --- sorting and pagination -----------------------------------------------------------------------------------------


@pytest.fixture
def many(recruiter):
    """Fourteen people whose sort keys collide: three surnames, shared timestamps and shared scores."""
    moment = datetime(2025, 5, 1, 9, tzinfo=UTC)
    people = []
    for i in range(14):
        people.append(
            CandidateFactory(
                first_name=["Ann", "Bob"][i % 2],
                last_name=["Smith", "Jones", "Brown"][i % 3],
                engagement_score=[10, 50][i % 2],
                updated_at=moment + timedelta(minutes=i // 5),
                created_at=moment,
            )
        )
    return people


def _expected(people, key, reverse=False):
    return [p.pk for p in sorted(people, key=key, reverse=reverse)]


@pytest.mark.parametrize("limit", [1, 3, 5, 14, 20])
@pytest.mark.parametrize(
    "sort, key, reverse",
    [
        ("recent", lambda p: p.pk, True),
        ("updated", lambda p: (p.updated_at, p.pk), True),
        ("name", lambda p: (p.last_name, p.first_name, p.pk), False),
        ("engagement", lambda p: (p.engagement_score, p.pk), True),
    ],
)
def test_every_sort_pages_without_gaps_or_repeats(recruiter, many, sort, key, reverse, limit):
    pages = walk(recruiter, sort=sort, limit=limit)
    flat = [pk for page in pages for pk in page]

    assert flat == _expected(many, key, reverse)
    assert all(len(page) == limit for page in pages[:-1])
    assert len(pages) == max(1, -(-len(many) // limit))


def test_paging_with_filters_keeps_the_filter(recruiter, many):
    pages = walk(recruiter, sort="name", limit=2, filters={"status": "lead"})

    assert sum(len(p) for p in pages) == 14

    smiths = [pk for page in walk(recruiter, sort="updated", limit=2, filters={"q": ""}) for pk in page]
    assert len(smiths) == 14


def test_the_list_reports_a_total_and_caps_it(recruiter, many, monkeypatch):
    from rapport.search import backends as search_backend

    full = candidate_list(user=recruiter, filters={}, limit=5)
    monkeypatch.setattr(search_backend, "COUNT_LIMIT", 10)
    capped = candidate_list(user=recruiter, filters={}, limit=5)

    assert (full.total, full.total_is_capped) == (14, False)
    assert (capped.total, capped.total_is_capped) == (10, True)


def test_an_unknown_sort_is_refused_naming_it(recruiter):
    with pytest.raises(ValidationFailed) as caught:
        candidate_list(user=recruiter, filters={}, sort="salary")

    assert "sort" in caught.value.fields


@pytest.mark.parametrize("limit", [0, -1, 201])
def test_a_limit_out_of_range_is_refused_naming_it(recruiter, limit):
    with pytest.raises(BadRequest) as caught:
        candidate_list(user=recruiter, filters={}, limit=limit)

    assert "limit" in caught.value.fields


def test_a_cursor_from_another_sort_or_garbage_is_refused_naming_it(recruiter, many):
    by_name = candidate_list(user=recruiter, filters={}, sort="name", limit=2)

    for cursor in (by_name.next_cursor, "not-a-cursor", "bnVsbA"):
        with pytest.raises(BadRequest) as caught:
            candidate_list(user=recruiter, filters={}, sort="updated", cursor=cursor)
        assert "cursor" in caught.value.fields


def test_the_list_uses_a_fixed_number_of_queries(recruiter, many):
    for person in many[:5]:
        candidate_update(actor=recruiter, candidate=person, data={"tags": ["x"], "emails": [f"p{person.pk}@x.org"]})

    with CaptureQueriesContext(connection) as small:
        items = candidate_list(user=recruiter, filters={}, limit=3).items
        [(c.owner, list(c.emails.all()), list(c.candidate_tags.all())) for c in items]
    with CaptureQueriesContext(connection) as large:
        items = candidate_list(user=recruiter, filters={}, limit=14).items
        [(c.owner, list(c.emails.all()), list(c.candidate_tags.all())) for c in items]

    assert len(small) == len(large)
