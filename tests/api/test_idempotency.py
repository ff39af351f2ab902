from datetime import timedelta

import pytest
from django.utils import timezone

from rapport.accounts.models import IdempotencyRecord
from rapport.api.app import api as ninja_api
from rapport.api.idempotency import MARKER
from rapport.candidates.models import Candidate
from rapport.pipeline.models import Application
from tests.api.conftest import error_of
from tests.factories import make_candidate, make_job

KEY = {"Idempotency-Key": "5b0e1f0c-9d1e-4d7e-8f43-2a9a7f3c1b11"}


def test_a_repeated_key_returns_the_first_result_without_writing_again(api_as, recruiter):
    api = api_as(recruiter)

    first = api.post("/candidates", {"first_name": "Ada", "emails": ["ada@example.org"]}, **KEY)
    second = api.post("/candidates", {"first_name": "Ada", "emails": ["ada@example.org"]}, **KEY)

    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert not first.has_header("Idempotent-Replayed")
    assert Candidate.objects.count() == 1


def test_without_a_key_a_repeat_is_a_new_request(api_as, recruiter):
    api = api_as(recruiter)

    api.post("/candidates", {"first_name": "Ada", "emails": ["ada@example.org"]})
    second = api.post("/candidates", {"first_name": "Ada", "emails": ["ada@example.org"]})

    assert second.status_code == 409


def test_a_retried_application_replays_201_instead_of_a_duplicate(api_as, recruiter):
    api = api_as(recruiter)
    person, job = make_candidate(actor=recruiter), make_job(actor=recruiter)
    body = {"candidate_id": str(person.pk), "job_id": str(job.pk)}

    first = api.post("/applications", body, **KEY)
    second = api.post("/applications", body, **KEY)

    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json()["id"] == first.json()["id"]
    assert Application.objects.count() == 1


def test_keys_belong_to_one_user(api_as, recruiter, admin_user):
    api_as(recruiter).post("/candidates", {"first_name": "Ada"}, **KEY)

    other = api_as(admin_user).post("/candidates", {"first_name": "Alan"}, **KEY)

    assert other.status_code == 201
    assert other.json()["first_name"] == "Alan"
    assert Candidate.objects.count() == 2


def test_a_key_reused_on_another_endpoint_is_a_409_conflict(api_as, recruiter):
    api = api_as(recruiter)
    api.post("/candidates", {"first_name": "Ada"}, **KEY)

    response = api.post("/pools", {"name": "Silver medalists"}, **KEY)

    assert response.status_code == 409
    assert error_of(response)["code"] == "conflict"
    assert "Idempotency-Key" in error_of(response)["fields"]


def test_a_failed_request_is_not_remembered_so_a_corrected_retry_goes_through(api_as, recruiter):
    api = api_as(recruiter)

    failed = api.post("/candidates", {"first_name": "Ada", "emails": ["nope"]}, **KEY)
    corrected = api.post("/candidates", {"first_name": "Ada", "emails": ["ada@example.org"]}, **KEY)

    assert failed.status_code == 422
    assert corrected.status_code == 201
    assert IdempotencyRecord.objects.count() == 1


def test_a_key_older_than_24_hours_starts_afresh(api_as, recruiter):
    api = api_as(recruiter)
    api.post("/candidates", {"first_name": "Ada"}, **KEY)
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=25))

    again = api.post("/candidates", {"first_name": "Ada"}, **KEY)

    assert again.status_code == 201
    assert not again.has_header("Idempotent-Replayed")
    assert Candidate.objects.count() == 2
    assert IdempotencyRecord.objects.count() == 1


@pytest.mark.parametrize("key", ["", "   ", "k" * 256])
def test_an_unusable_key_is_400(api_as, recruiter, key):
    response = api_as(recruiter).post("/candidates", {"first_name": "Ada"}, **{"Idempotency-Key": key})

    assert response.status_code == 400
    assert "Idempotency-Key" in error_of(response)["fields"]
    assert not Candidate.objects.exists()


def test_a_key_without_a_valid_token_is_still_401(db):
    from tests.api.conftest import ApiClient

    response = ApiClient("rpt_wrong").post("/candidates", {"first_name": "Ada"}, **KEY)

    assert response.status_code == 401


def test_every_post_operation_honours_idempotency_keys():
    posts = [
        (path, operation.view_func)
        for bound in ninja_api._get_bound_routers()
        for path, path_view in bound.path_operations.items()
        for operation in path_view.operations
        if "POST" in operation.methods
    ]

    assert len(posts) >= 11
    assert [path for path, view in posts if not getattr(view, MARKER, False)] == []
