from datetime import timedelta

import pytest
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client
from django.utils import timezone

from rapport.accounts.models import ApiToken
from rapport.accounts.services import api_token_create, api_token_revoke
from rapport.candidates.models import Candidate
from tests.api.conftest import ApiClient, error_of


def _assert_unauthenticated(response):
    assert response.status_code == 401, response.content
    assert error_of(response)["code"] == "unauthenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Token rpt_x", "Bearer rpt_not-a-real-token"],
)
def test_a_missing_or_bad_token_is_401(db, header):
    headers = {} if header is None else {"Authorization": header}

    _assert_unauthenticated(ApiClient().get("/me", **headers))


def test_writes_without_a_token_are_401_not_a_csrf_error(db):
    response = ApiClient(client=Client(enforce_csrf_checks=True)).post("/candidates", {"first_name": "Ada"})

    _assert_unauthenticated(response)


def test_a_revoked_token_stops_working_at_once(recruiter):
    token, raw = api_token_create(user=recruiter, name="script")
    api = ApiClient(raw)
    assert api.get("/me").status_code == 200

    api_token_revoke(user=recruiter, token_id=token.pk)

    _assert_unauthenticated(api.get("/me"))


def test_a_deactivated_users_token_is_401(recruiter):
    _, raw = api_token_create(user=recruiter, name="script")
    recruiter.is_active = False
    recruiter.save()

    _assert_unauthenticated(ApiClient(raw).get("/me"))


def test_the_token_is_stored_only_as_a_hash(recruiter):
    token, raw = api_token_create(user=recruiter, name="script")

    assert raw.startswith("rpt_")
    assert raw not in token.token_hash
    assert token.prefix == raw[:12]
    assert ApiClient(raw).get("/me").json()["id"] == str(recruiter.pk)


def test_last_used_is_written_at_most_once_a_minute(recruiter):
    token, raw = api_token_create(user=recruiter, name="script")
    api = ApiClient(raw)

    api.get("/me")
    token.refresh_from_db()
    first_use = token.last_used_at
    api.get("/me")
    token.refresh_from_db()
    within_the_minute = token.last_used_at
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now() - timedelta(minutes=2))
    api.get("/me")
    token.refresh_from_db()

    assert first_use is not None
    assert within_the_minute == first_use
    assert timezone.now() - token.last_used_at < timedelta(seconds=30)


def test_the_browser_session_can_read(recruiter):
    client = Client(enforce_csrf_checks=True)
    client.force_login(recruiter)

    response = ApiClient(client=client).get("/me")

    assert response.status_code == 200
    assert response.json()["email"] == recruiter.email


def test_session_writes_need_the_csrf_token(recruiter):
    client = Client(enforce_csrf_checks=True)
    client.force_login(recruiter)
    api = ApiClient(client=client)

    without = api.post("/candidates", {"first_name": "Ada"})
    secret = _get_new_csrf_string()
    client.cookies["csrftoken"] = secret
    with_token = api.post("/candidates", {"first_name": "Ada"}, **{"X-CSRFToken": secret})

    assert without.status_code == 403
    assert error_of(without)["code"] == "forbidden"
    assert "CSRF" in error_of(without)["message"]
    assert with_token.status_code == 201
    assert Candidate.objects.count() == 1


def test_a_token_acts_with_its_users_role(api_as, interviewer):
    response = api_as(interviewer).post("/candidates", {"first_name": "Ada"})

    assert response.status_code == 403
    assert error_of(response)["code"] == "forbidden"
