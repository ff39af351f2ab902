import pytest

from tests.conftest import PASSWORD


@pytest.mark.parametrize("url", ["/?tag=%00", "/?q=a%00b", "/jobs/?q=%00"])
def test_a_nul_character_in_the_query_is_refused_with_a_clear_message(client, recruiter, url):
    client.login(email=recruiter.email, password=PASSWORD)

    response = client.get(url)

    assert response.status_code == 400
    assert "NUL character" in response.content.decode()


def test_a_nul_character_in_a_form_is_refused_and_nothing_is_written(client, recruiter):
    from rapport.candidates.models import Candidate

    client.login(email=recruiter.email, password=PASSWORD)

    response = client.post("/candidates/new/", {"first_name": "Ada\x00", "last_name": "Lovelace"})

    assert response.status_code == 400
    assert not Candidate.objects.exists()


def test_the_api_answers_a_nul_character_in_its_error_format(client, recruiter):
    client.login(email=recruiter.email, password=PASSWORD)

    response = client.get("/api/v1/candidates", {"tag": "\x00"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"


def test_every_page_carries_a_strict_content_security_policy(client, db):
    response = client.get("/accounts/login/")

    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
