from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from rapport.accounts.models import ApiToken, hash_token
from rapport.accounts.services import api_token_create, api_token_revoke
from rapport.common.errors import NotFound, ValidationFailed
from rapport.timeline.models import AuditEntry
from tests.api.conftest import ApiClient


def test_a_created_token_is_returned_once_and_stored_hashed(recruiter):
    token, raw = api_token_create(user=recruiter, name="  ATS sync  ")

    assert token.name == "ATS sync"
    assert token.token_hash == hash_token(raw)
    assert not ApiToken.objects.filter(token_hash=raw).exists()
    assert AuditEntry.objects.filter(action="create", object_type="api_token", actor=recruiter).exists()


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_a_token_needs_a_sensible_name(recruiter, name):
    with pytest.raises(ValidationFailed) as caught:
        api_token_create(user=recruiter, name=name)

    assert "name" in caught.value.fields
    assert not ApiToken.objects.exists()


def test_only_the_owner_can_revoke_a_token(recruiter, admin_user):
    token, _ = api_token_create(user=recruiter, name="script")

    with pytest.raises(NotFound):
        api_token_revoke(user=admin_user, token_id=token.pk)
    api_token_revoke(user=recruiter, token_id=str(token.pk))
    with pytest.raises(NotFound):
        api_token_revoke(user=recruiter, token_id=token.pk)
    with pytest.raises(NotFound):
        api_token_revoke(user=recruiter, token_id="abc")

    token.refresh_from_db()
    assert token.revoked_at is not None


def test_create_token_prints_a_working_token_once(recruiter):
    out, err = StringIO(), StringIO()

    call_command("create_token", "Recruiter@Rapport.test", "--name", "Nightly export", stdout=out, stderr=err)

    raw = out.getvalue().strip()
    assert raw.startswith("rpt_")
    assert "only this once" in err.getvalue()
    assert ApiToken.objects.get().name == "Nightly export"
    assert ApiClient(raw).get("/me").json()["email"] == recruiter.email


def test_create_token_refuses_an_unknown_email(db):
    with pytest.raises(CommandError, match="no user"):
        call_command("create_token", "nobody@rapport.test", stdout=StringIO(), stderr=StringIO())
