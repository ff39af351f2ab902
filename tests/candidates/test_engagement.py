"""Engagement weighted by recency: the decay math, the events that add to it, the daily pass, sort and filter."""

import math
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from rapport.candidates.engagement import (
    ENGAGEMENT_OPEN_POINTS,
    ENGAGEMENT_REPLY_POINTS,
    candidate_engagement_add,
    candidate_engagement_decay_all,
    engagement_decayed,
    engagement_raw_from_score,
    engagement_score_from_raw,
)
from rapport.candidates.models import Candidate
from rapport.candidates.selectors import candidate_list
from rapport.candidates.services import candidate_merge
from rapport.candidates.tasks import ENGAGEMENT_DECAY_CACHE_KEY, decay_engagement_daily
from rapport.common.errors import ValidationFailed
from rapport.messaging.services import message_engagement_record, message_send
from rapport.messaging.services_inbound import message_receive
from tests.api.conftest import ApiClient
from tests.factories import make_candidate


def _reload(candidate: Candidate) -> Candidate:
    candidate.refresh_from_db()
    return candidate


@pytest.fixture
def api_as():
    from rapport.accounts.services import api_token_create

    def make(user) -> ApiClient:
        _, raw = api_token_create(user=user, name="tests")
        return ApiClient(raw)

    return make


@pytest.fixture
def _fresh_cache():
    cache.delete(ENGAGEMENT_DECAY_CACHE_KEY)
    yield
    cache.delete(ENGAGEMENT_DECAY_CACHE_KEY)


# ---------------------------------------------------------------- the math


def test_an_open_thirty_days_ago_weighs_half_a_fresh_one(db, settings):
    settings.RAPPORT_ENGAGEMENT_HALF_LIFE_DAYS = 30
    now = timezone.now()
    fresh = make_candidate(first_name="Fresh")
    old = make_candidate(first_name="Old")

    candidate_engagement_add(candidate_id=fresh.pk, points=ENGAGEMENT_OPEN_POINTS)
    candidate_engagement_add(candidate_id=old.pk, points=ENGAGEMENT_OPEN_POINTS, at=now - timedelta(days=30))

    fresh, old = _reload(fresh), _reload(old)
    assert fresh.engagement_raw == pytest.approx(1.0, rel=1e-4)
    assert old.engagement_raw == pytest.approx(0.5, rel=1e-4)
    assert fresh.engagement_score == engagement_score_from_raw(1.0) == 10
    assert old.engagement_score == engagement_score_from_raw(0.5) == 5


def test_the_half_life_comes_from_the_setting(db, settings):
    settings.RAPPORT_ENGAGEMENT_HALF_LIFE_DAYS = 7
    now = timezone.now()

    assert engagement_decayed(8.0, since=now - timedelta(days=14), now=now) == pytest.approx(2.0)
    assert engagement_decayed(8.0, since=now, now=now) == pytest.approx(8.0)


def test_the_score_saturates_at_100_and_its_inverse_round_trips_every_score():
    assert engagement_score_from_raw(0) == 0
    assert engagement_score_from_raw(ENGAGEMENT_REPLY_POINTS) == 39
    assert engagement_score_from_raw(10_000) == 100
    assert [engagement_score_from_raw(engagement_raw_from_score(s)) for s in range(101)] == list(range(101))
    assert engagement_score_from_raw(20) == round(100 * (1 - math.exp(-2)))


def test_events_add_up_and_the_older_value_decays_first(db, settings):
    settings.RAPPORT_ENGAGEMENT_HALF_LIFE_DAYS = 30
    person = make_candidate()
    Candidate.objects.filter(pk=person.pk).update(
        engagement_raw=4.0, engagement_at=timezone.now() - timedelta(days=60), engagement_score=33
    )

    candidate_engagement_add(candidate_id=person.pk, points=ENGAGEMENT_REPLY_POINTS)

    person = _reload(person)
    # 4 points two half-lives ago are worth 1 now; with the reply, 6.
    assert person.engagement_raw == pytest.approx(6.0, rel=1e-4)
    assert person.engagement_score == engagement_score_from_raw(6.0) == 45
    assert abs((timezone.now() - person.engagement_at).total_seconds()) < 60


def test_a_score_from_before_decay_is_taken_as_it_was(db):
    person = make_candidate()
    Candidate.objects.filter(pk=person.pk).update(engagement_score=50, engagement_raw=0.0, engagement_at=None)

    candidate_engagement_add(candidate_id=person.pk, points=0)

    assert _reload(person).engagement_score == 50


def test_an_unknown_person_is_no_error(db):
    assert candidate_engagement_add(candidate_id=987654, points=5) == 0


# ---------------------------------------------------------------- events that add to it


def test_a_reply_a_click_and_an_open_each_add_their_points(db, recruiter):
    person = make_candidate(actor=recruiter, first_name="Grace", emails=["grace@example.org"])
    message = message_send(actor=recruiter, candidate=person, subject="A role", body="Interested?")

    message_engagement_record(message=message, kind="open")
    message_engagement_record(message=message, kind="click", url="https://example.org/job")
    message_receive(candidate=person, channel="email", from_address="grace@example.org", text="Yes!")

    assert _reload(person).engagement_raw == pytest.approx(1 + 3 + 5, rel=1e-3)
    assert person.engagement_score == engagement_score_from_raw(9) == 59


def test_a_reply_fetched_late_counts_for_when_it_arrived(db, settings):
    settings.RAPPORT_ENGAGEMENT_HALF_LIFE_DAYS = 30
    person = make_candidate(emails=["late@example.org"])

    message_receive(
        candidate=person,
        channel="email",
        from_address="late@example.org",
        text="Sorry for the slow answer",
        received_at=timezone.now() - timedelta(days=30),
    )

    assert _reload(person).engagement_raw == pytest.approx(ENGAGEMENT_REPLY_POINTS / 2, rel=1e-3)


# ---------------------------------------------------------------- the daily pass


def test_ranking_changes_as_time_passes(db, recruiter, settings):
    settings.RAPPORT_ENGAGEMENT_HALF_LIFE_DAYS = 30
    # Given an eager person who replied twice sixty days ago (scored 63 then), and a quiet one
    eager = make_candidate(actor=recruiter, first_name="Eager")
    steady = make_candidate(actor=recruiter, first_name="Steady")
    Candidate.objects.filter(pk=eager.pk).update(
        engagement_raw=10.0, engagement_at=timezone.now() - timedelta(days=60), engagement_score=63
    )

    def ranking() -> list[str]:
        page = candidate_list(user=recruiter, filters={}, sort="engagement")
        return [p.first_name for p in page.items]

    assert ranking() == ["Eager", "Steady"]

    # When the quiet one clicks a link today and the daily pass runs
    candidate_engagement_add(candidate_id=steady.pk, points=3)
    changed = candidate_engagement_decay_all()

    # Then two replies two half-lives ago (worth 2.5 now) rank below one click today (3)
    assert changed == 1
    assert _reload(eager).engagement_score == engagement_score_from_raw(2.5) == 22
    assert _reload(steady).engagement_score == 26
    assert ranking() == ["Steady", "Eager"]


def test_the_pass_leaves_unchanged_scores_alone_and_adopts_old_style_rows(db):
    now = timezone.now()
    quiet = make_candidate(first_name="Quiet")
    legacy = make_candidate(first_name="Legacy")
    Candidate.objects.filter(pk=quiet.pk).update(engagement_raw=10.0, engagement_at=now, engagement_score=63)
    Candidate.objects.filter(pk=legacy.pk).update(engagement_raw=0.0, engagement_at=None, engagement_score=40)

    changed = candidate_engagement_decay_all(now=now + timedelta(minutes=1), batch=1)

    assert changed == 1
    assert _reload(quiet).engagement_score == 63
    legacy = _reload(legacy)
    assert legacy.engagement_score == 40 and legacy.engagement_at is not None
    assert legacy.engagement_raw == pytest.approx(engagement_raw_from_score(40))


def test_the_worker_runs_the_pass_once_a_day(db, _fresh_cache):
    person = make_candidate()
    Candidate.objects.filter(pk=person.pk).update(
        engagement_raw=1.0, engagement_at=timezone.now() - timedelta(days=365), engagement_score=10
    )

    decay_engagement_daily()
    assert _reload(person).engagement_score == 0

    Candidate.objects.filter(pk=person.pk).update(
        engagement_raw=1.0, engagement_at=timezone.now() - timedelta(days=365), engagement_score=10
    )
    decay_engagement_daily()
    assert _reload(person).engagement_score == 10  # not again within 24 hours


# ---------------------------------------------------------------- merge


def test_a_merge_keeps_the_more_engaged_record(db, recruiter):
    survivor = make_candidate(actor=recruiter, first_name="Survivor")
    merged = make_candidate(actor=recruiter, first_name="Merged")
    candidate_engagement_add(candidate_id=survivor.pk, points=1)
    candidate_engagement_add(candidate_id=merged.pk, points=5)

    candidate_merge(actor=recruiter, survivor=_reload(survivor), merged=_reload(merged))

    survivor = _reload(survivor)
    assert survivor.engagement_raw == pytest.approx(5.0, rel=1e-3)
    assert survivor.engagement_score == 39


# ---------------------------------------------------------------- sort and filter, in the list and the API


@pytest.fixture
def three(recruiter):
    people = {}
    for name, points in (("Cold", 0), ("Warm", 3), ("Hot", 15)):
        people[name] = make_candidate(actor=recruiter, first_name=name)
        if points:
            candidate_engagement_add(candidate_id=people[name].pk, points=points)
    return people


def test_the_list_sorts_and_filters_by_engagement(recruiter, three):
    page = candidate_list(user=recruiter, filters={"engagement_min": "20"}, sort="engagement")

    assert [p.first_name for p in page.items] == ["Hot", "Warm"]
    assert page.total == 2


def test_the_filter_combines_with_search(recruiter, three):
    page = candidate_list(user=recruiter, filters={"q": "Warm", "engagement_min": 20})
    assert [p.first_name for p in page.items] == ["Warm"]

    page = candidate_list(user=recruiter, filters={"q": "Warm", "engagement_min": 50})
    assert page.items == []


@pytest.mark.parametrize("bad", ["lots", "-1", "101", "4.5"])
def test_a_bad_minimum_names_the_field(recruiter, bad):
    with pytest.raises(ValidationFailed) as caught:
        candidate_list(user=recruiter, filters={"engagement_min": bad})
    assert "engagement_min" in caught.value.fields


def test_the_page_filters_by_engagement_and_shows_the_chip(recruiter, three):
    client = Client()
    client.force_login(recruiter)

    response = client.get("/", {"engagement_min": "20", "sort": "engagement"})

    html = response.content.decode()
    assert response.status_code == 200
    assert "Hot" in html and "Warm" in html and "Cold" not in html
    assert "Engagement at least" in html
    assert html.index("Hot") < html.index("Warm")


def test_the_page_explains_a_bad_minimum(recruiter):
    client = Client()
    client.force_login(recruiter)

    response = client.get("/", {"engagement_min": "lots"})

    assert response.status_code == 200
    assert "Engagement at least: Use a whole number from 0 to 100." in response.content.decode()


def test_the_api_filters_and_sorts_by_engagement(recruiter, three, api_as):
    api = api_as(recruiter)

    response = api.get("/candidates", {"engagement_min": 20, "sort": "engagement"})

    assert response.status_code == 200
    body = response.json()
    assert [p["first_name"] for p in body["items"]] == ["Hot", "Warm"]
    assert body["items"][0]["engagement_score"] == engagement_score_from_raw(15)


@pytest.mark.parametrize("bad", ["lots", "101", "-3"])
def test_the_api_rejects_a_bad_minimum_in_the_error_format(recruiter, api_as, bad):
    response = api_as(recruiter).get("/candidates", {"engagement_min": bad})

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error" and "engagement_min" in error["fields"]


def test_the_profile_shows_a_labelled_meter_with_an_explanation(recruiter, settings):
    settings.RAPPORT_ENGAGEMENT_HALF_LIFE_DAYS = 21
    person = make_candidate(actor=recruiter, first_name="Grace")
    candidate_engagement_add(candidate_id=person.pk, points=5)
    client = Client()
    client.force_login(recruiter)

    html = client.get(f"/candidates/{person.pk}/").content.decode()

    assert 'role="meter"' in html and 'aria-valuenow="39"' in html
    assert "How actively Grace has responded lately" in html
    assert "counts half as much after 21 days" in html


def test_the_migration_carries_stored_scores_over_unchanged(db):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("rapport.candidates.migrations.0004_engagement_decay")
    people = {score: make_candidate(first_name=f"S{score}") for score in (0, 1, 42, 99, 100)}
    for score, person in people.items():
        Candidate.objects.filter(pk=person.pk).update(engagement_score=score, engagement_raw=0.0, engagement_at=None)

    migration.carry_scores_over(apps, None)

    for score, person in people.items():
        person = _reload(person)
        assert engagement_score_from_raw(person.engagement_raw) == score
        assert (person.engagement_at is None) == (score == 0)
    # And the daily pass then sees nothing to change.
    assert candidate_engagement_decay_all() == 0
