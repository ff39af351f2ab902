"""Sign-in (with its rate limit), sign-out and the personal settings page with API tokens."""

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from rapport.accounts.models import ApiToken, hash_token
from tests.conftest import PASSWORD


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()
    yield
    cache.clear()


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_login_page_has_labelled_fields(db):
    body = Client().get(reverse("accounts:login")).content.decode()
    assert '<label class="field__label" for="id_email">Email' in body
    assert '<label class="field__label" for="id_password">Password' in body
    assert ">Sign in</button>" in body


def test_sign_in_with_the_right_password_goes_to_the_workspace(recruiter):
    client = Client()
    response = client.post(reverse("accounts:login"), {"email": recruiter.email, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_sign_in_follows_a_safe_next_and_ignores_an_unsafe_one(recruiter):
    response = Client().post(
        reverse("accounts:login"), {"email": recruiter.email, "password": PASSWORD, "next": "/jobs/"}
    )
    assert response["Location"] == "/jobs/"
    response = Client().post(
        reverse("accounts:login"), {"email": recruiter.email, "password": PASSWORD, "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_email_is_case_insensitive(recruiter):
    response = Client().post(reverse("accounts:login"), {"email": recruiter.email.upper(), "password": PASSWORD})
    assert response.status_code == 302


def test_wrong_password_is_refused_with_a_plain_message(recruiter):
    response = Client().post(reverse("accounts:login"), {"email": recruiter.email, "password": "nope"})
    assert response.status_code == 422
    assert "do not match an active account" in response.content.decode()


def test_empty_form_names_each_field(db):
    response = Client().post(reverse("accounts:login"), {})
    body = response.content.decode()
    assert "Enter your email address." in body and "Enter your password." in body


def test_inactive_user_cannot_sign_in(recruiter):
    recruiter.is_active = False
    recruiter.save()
    response = Client().post(reverse("accounts:login"), {"email": recruiter.email, "password": PASSWORD})
    assert response.status_code == 422


def test_repeated_failures_are_rate_limited_even_with_the_right_password(recruiter):
    client = Client()
    for _ in range(5):
        client.post(reverse("accounts:login"), {"email": recruiter.email, "password": "wrong"})
    response = client.post(reverse("accounts:login"), {"email": recruiter.email, "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many sign-in attempts" in response.content.decode()
    # Another account from the same address is not locked by this one's failures.
    other = Client().post(reverse("accounts:login"), {"email": "someone@rapport.test", "password": "x"})
    assert other.status_code == 422


def test_sign_out_is_post_only(recruiter):
    client = signed_in(recruiter)
    assert client.get(reverse("accounts:logout")).status_code == 405
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_settings_requires_sign_in_and_old_path_redirects(recruiter):
    assert Client().get(reverse("accounts:settings")).status_code == 302
    response = signed_in(recruiter).get("/settings/")
    assert response.status_code == 302 and response["Location"] == reverse("accounts:settings")


@pytest.mark.parametrize("role", ["admin", "recruiter", "hiring_manager", "interviewer", "outsider"])
def test_every_role_has_a_settings_page(all_users, role):
    assert signed_in(all_users[role]).get(reverse("accounts:settings")).status_code == 200


def test_profile_name_is_saved_and_validated(recruiter):
    client = signed_in(recruiter)
    response = client.post(reverse("accounts:settings"), {"name": "Riley R."})
    assert response.status_code == 302
    recruiter.refresh_from_db()
    assert recruiter.name == "Riley R."
    response = client.post(reverse("accounts:settings"), {"name": "   "})
    assert response.status_code == 422
    assert "Enter the name your team knows you by." in response.content.decode()
    recruiter.refresh_from_db()
    assert recruiter.name == "Riley R."


def test_create_token_shows_it_once_and_stores_only_its_hash(recruiter):
    client = signed_in(recruiter)
    response = client.post(reverse("accounts:token_create"), {"name": "Zapier"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    token = ApiToken.objects.get(user=recruiter)
    raw = response.context["new_token"]["raw"]
    assert raw in body and "will not be shown again" in body
    assert token.token_hash == hash_token(raw) and raw not in token.token_hash
    again = client.get(reverse("accounts:settings")).content.decode()
    assert raw not in again and "Zapier" in again


def test_token_without_a_name_is_refused(recruiter):
    response = signed_in(recruiter).post(reverse("accounts:token_create"), {"name": ""})
    assert response.status_code == 422
    assert "Give the token a name" in response.content.decode()
    assert not ApiToken.objects.exists()


def test_revoke_own_token_but_not_someone_elses(recruiter, admin_user):
    from rapport.accounts.services import api_token_create

    mine, _ = api_token_create(user=recruiter, name="mine")
    theirs, _ = api_token_create(user=admin_user, name="theirs")
    client = signed_in(recruiter)
    client.post(reverse("accounts:token_revoke", args=[mine.pk]))
    client.post(reverse("accounts:token_revoke", args=[theirs.pk]))
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.revoked_at is not None
    assert theirs.revoked_at is None


def test_a_user_sets_the_name_and_reply_to_of_their_email(recruiter):
    client = signed_in(recruiter)

    response = client.post(
        reverse("accounts:settings"),
        {"name": "Riley", "email_from_name": "  Riley at\nAcme ", "email_reply_to": "Riley@Acme.example"},
    )
    bad = client.post(reverse("accounts:settings"), {"name": "Riley", "email_reply_to": "not an address"})

    assert response.status_code == 302
    recruiter.refresh_from_db()
    assert recruiter.email_from_name == "Riley at Acme"
    assert recruiter.email_reply_to == "riley@acme.example"
    assert bad.status_code == 422 and "Enter a valid email address." in bad.content.decode()
    page = client.get(reverse("accounts:settings")).content.decode()
    assert 'value="Riley at Acme"' in page and 'value="riley@acme.example"' in page
