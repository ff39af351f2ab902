import pytest

from tests.conftest import PASSWORD


def _client_for(client, user):
    client.login(email=user.email, password=PASSWORD)
    return client


@pytest.mark.parametrize(
    "role, status",
    [("admin", 200), ("recruiter", 403), ("hiring_manager", 403), ("interviewer", 403), ("outsider", 403)],
)
def test_only_admins_read_the_audit_log(client, world, role, status):
    response = _client_for(client, world[role]).get("/audit/")

    assert response.status_code == status


def test_the_audit_log_shows_who_changed_which_field_from_what_to_what(client, world):
    from rapport.candidates.services import candidate_update

    candidate_update(actor=world["recruiter"], candidate=world["applicant"], data={"current_title": "Rear Admiral"})

    response = _client_for(client, world["admin"]).get(
        "/audit/", {"object_type": "candidate", "object_id": world["applicant"].pk, "action": "update"}
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert "current_title" in body
    assert "Rear Admiral" in body
    assert world["recruiter"].name in body


def test_a_mangled_cursor_starts_from_the_newest_entry(client, world):
    response = _client_for(client, world["admin"]).get("/audit/", {"cursor": "not-a-cursor"})

    assert response.status_code == 200
    assert "candidate" in response.content.decode()


def test_signed_out_visitors_are_sent_to_sign_in(client, db):
    response = client.get("/audit/")

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
