import time

import pytest
from django.test import override_settings

from tests.api.conftest import ApiClient, error_of


@pytest.fixture(autouse=True)
def _fresh_window():
    # Counters reset each minute; start far enough from the boundary that a test stays inside one window.
    remaining = 60 - time.time() % 60
    if remaining < 5:
        time.sleep(remaining + 0.1)


def _assert_rate_limited(response):
    assert response.status_code == 429
    assert error_of(response)["code"] == "rate_limited"
    assert 1 <= int(response["Retry-After"]) <= 60


@override_settings(RAPPORT_API_RATE_LIMIT=3)
def test_a_token_over_its_limit_gets_429_with_retry_after(api_as, recruiter):
    api = api_as(recruiter)

    statuses = [api.get("/me").status_code for _ in range(3)]
    over = api.get("/me")

    assert statuses == [200, 200, 200]
    _assert_rate_limited(over)


@override_settings(RAPPORT_API_RATE_LIMIT=3)
def test_each_token_has_its_own_allowance(api_as, recruiter):
    busy = api_as(recruiter)
    for _ in range(4):
        busy.get("/me")

    assert api_as(recruiter).get("/me").status_code == 200


@override_settings(RAPPORT_API_RATE_LIMIT=3)
def test_unauthenticated_requests_are_limited_per_address(db):
    guesser = ApiClient("rpt_guess")

    statuses = [guesser.get("/me").status_code for _ in range(3)]
    over = guesser.get("/me")
    from_elsewhere = guesser.client.get("/api/v1/me", REMOTE_ADDR="10.0.0.9", HTTP_AUTHORIZATION="Bearer rpt_guess")

    assert statuses == [401, 401, 401]
    _assert_rate_limited(over)
    assert from_elsewhere.status_code == 401


@override_settings(RAPPORT_API_RATE_LIMIT=3)
def test_a_rate_limited_post_writes_nothing(api_as, recruiter):
    from rapport.candidates.models import Candidate

    api = api_as(recruiter)
    for _ in range(3):
        api.get("/me")

    _assert_rate_limited(api.post("/candidates", {"first_name": "Ada"}))
    assert not Candidate.objects.exists()


@override_settings(RAPPORT_API_RATE_LIMIT=0)
def test_a_limit_of_zero_turns_limiting_off(api_as, recruiter):
    api = api_as(recruiter)

    assert {api.get("/me").status_code for _ in range(20)} == {200}


def test_the_default_limit_is_generous(api_as, recruiter):
    from rapport.api.auth import rate_limit_per_minute

    api = api_as(recruiter)

    assert rate_limit_per_minute() >= 600
    assert {api.get("/me").status_code for _ in range(50)} == {200}
