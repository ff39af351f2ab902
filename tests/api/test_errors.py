import pytest

from rapport.candidates.models import Candidate
from tests.api.conftest import PREFIX, error_of
from tests.factories import make_candidate


def test_malformed_json_is_400_bad_request(api_as, recruiter):
    response = api_as(recruiter).post_raw("/candidates", b'{"first_name": "Ada",')

    assert response.status_code == 400
    assert error_of(response)["code"] == "bad_request"
    assert not Candidate.objects.exists()


@pytest.mark.parametrize("raw", [b"[1, 2]", b'"Ada"', b"null", b"42"])
def test_a_body_that_is_not_an_object_is_422_on_body(api_as, recruiter, raw):
    response = api_as(recruiter).post_raw("/candidates", raw)

    assert response.status_code == 422
    assert "body" in error_of(response)["fields"]


def test_a_missing_body_is_422_on_body(api_as, recruiter):
    response = api_as(recruiter).post_raw("/candidates", b"")

    assert response.status_code == 422
    assert error_of(response)["fields"] == {"body": ["Send a JSON object in the request body."]}


@pytest.mark.parametrize("method", ["get", "post", "delete"])
@pytest.mark.parametrize("path", ["/nothing-here", "/candidates/1/nothing", "/me/", "/v2/candidates"])
def test_unknown_routes_inside_the_api_are_404_in_the_error_format(api_as, recruiter, method, path):
    api = api_as(recruiter)

    response = api.post(path, {}) if method == "post" else getattr(api, method)(path)

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_a_method_an_endpoint_does_not_have_is_405_in_the_error_format(api_as, recruiter):
    response = api_as(recruiter).delete("/jobs")

    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"
    assert "GET" in response["Allow"]


def test_errors_from_services_keep_their_status_and_fields(api_as, recruiter):
    existing = make_candidate(actor=recruiter, emails=["ada@example.org"])

    response = api_as(recruiter).post("/candidates", {"first_name": "Ada", "emails": ["ada@example.org"]})

    error = error_of(response)
    assert response.status_code == 409
    assert error["fields"] == {"emails": ["ada@example.org already belongs to another person."]}
    assert error["existing_id"] == str(existing.pk)


@pytest.mark.parametrize(
    "body",
    [
        {"first_name": "Ada\x00Lovelace"},
        {"first_name": "Ada", "custom_fields": {"\x00": 1}},
        {"first_name": "Ada", "emails": ["ada\x00@example.org"]},
        {"first_name": "Ada", "owner_id": 10**30},
        {"first_name": "Ada", "tags": ["x" * 10_000]},
        {"first_name": "Ada", "skills": [{"nested": ["object"]}]},
        {"first_name": "Ada", "birthday": 10**12},
        {"first_name": "Ada", "location": "Berlin"},
        {"first_name": "Ada", "language": "a-very-long-language-tag"},
    ],
)
def test_hostile_input_never_answers_500(api_as, recruiter, body):
    response = api_as(recruiter).post("/candidates", body)

    assert response.status_code < 500, response.content
    if response.status_code >= 400:
        error_of(response)


@pytest.mark.parametrize(
    "path",
    [
        "/candidates?q=%00",
        "/candidates?q=" + "(" * 500,
        "/candidates?q=" + "-" * 400 + "a",
        "/candidates?q=" + "NOT%20" * 120 + "a",
        "/candidates?tag=%00",
        "/candidates?pool=1e400",
        "/candidates?updated_since=9999999999-01-01",
        "/candidates?cursor=eyJvIjogLTF9",
        "/candidates?q=ada&cursor=eyJvIjoiMSJ9",
        "/jobs?cursor=eyJpZCI6IDFlMzAwfQ",
        "/jobs?cursor=eyJpZCI6MTAwMDAwMDAwMDAwMDAwMDAwMDAwMDB9",
        "/jobs?q=%00",
        "/candidates/1/timeline?cursor=eyJ0IjoxfQ",
    ],
)
def test_hostile_query_strings_never_answer_500(api_as, recruiter, path):
    make_candidate(actor=recruiter, first_name="Ada")

    response = api_as(recruiter).client.get(PREFIX + path, HTTP_AUTHORIZATION=f"Bearer {api_as(recruiter).token}")

    assert response.status_code < 500, response.content
    if response.status_code >= 400:
        error_of(response)


def test_hostile_path_ids_are_404(api_as, recruiter):
    api = api_as(recruiter)

    for path in ("/candidates/%00", "/candidates/1e3", "/jobs/-5", "/applications/99999999999999999999"):
        assert api.get(path).status_code == 404, path
