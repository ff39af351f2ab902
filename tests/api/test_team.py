from tests.api.conftest import error_of
from tests.factories import UserFactory


def test_me_is_the_tokens_user(api_as, hiring_manager):
    response = api_as(hiring_manager).get("/me")

    assert response.status_code == 200
    assert response.json() == {
        "id": str(hiring_manager.pk),
        "email": "manager@rapport.test",
        "name": "Harper Manager",
        "role": "hiring_manager",
    }


def test_users_lists_the_active_team_in_pages(api_as, all_users):
    UserFactory(email="gone@rapport.test", is_active=False)
    api = api_as(all_users["interviewer"])

    first = api.get("/users", {"limit": 3}).json()
    second = api.get("/users", {"limit": 3, "cursor": first["next_cursor"]}).json()
    managers = api.get("/users", {"role": "hiring_manager"}).json()["items"]

    emails = [u["email"] for u in first["items"] + second["items"]]
    assert sorted(emails) == sorted(u.email for u in all_users.values())
    assert second["next_cursor"] is None
    assert {u["email"] for u in managers} == {"manager@rapport.test", "outsider@rapport.test"}
    assert set(first["items"][0]) == {"id", "email", "name", "role"}


def test_an_unknown_role_filter_is_422(api_as, recruiter):
    response = api_as(recruiter).get("/users", {"role": "janitor"})

    assert response.status_code == 422
    assert "role" in error_of(response)["fields"]
