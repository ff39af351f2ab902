"""POST /api/v1/messages/bulk: 202 with what was queued and who was skipped and why; the error format; idempotency."""

import pytest

from rapport.candidates.services import pool_add_members, pool_create
from rapport.messaging.models import Message, MessageKind
from tests.api.conftest import error_of
from tests.factories import make_candidate


@pytest.fixture(autouse=True)
def _no_holds(settings):
    settings.RAPPORT_QUIET_HOURS = None
    settings.RAPPORT_FREQUENCY_CAP = 0


def test_bulk_to_a_selection_answers_202_with_skips(api_as, recruiter, person, make_template):
    nomail = make_candidate(actor=recruiter, first_name="No", last_name="Mail")
    template = make_template()

    response = api_as(recruiter).post(
        "/messages/bulk",
        {"candidate_ids": [str(person.pk), nomail.pk, "424242"], "template_id": str(template.pk), "channel": "email"},
    )

    assert response.status_code == 202
    body = response.json()
    assert body["queued"] == 1
    assert body["skipped"] == [
        {"candidate_id": "424242", "reason": "Not found, or not among the people you can see."},
        {"candidate_id": str(nomail.pk), "reason": "No email address."},
    ]
    message = Message.objects.get()
    assert message.kind == MessageKind.BULK and message.subject == "Hello Grace"
    detail = api_as(recruiter).get(f"/messages/{message.pk}").json()
    assert detail["kind"] == "bulk" and detail["deferred_reason"] == ""


def test_bulk_to_a_pool(api_as, recruiter, person, make_template):
    pool = pool_create(actor=recruiter, name="Backend")
    pool_add_members(actor=recruiter, pool=pool, candidate_ids=[person.pk])

    response = api_as(recruiter).post("/messages/bulk", {"pool_id": str(pool.pk), "template_id": make_template().pk})

    assert response.status_code == 202 and response.json()["queued"] == 1


def test_the_same_idempotency_key_returns_the_first_answer(api_as, recruiter, person, make_template):
    api = api_as(recruiter)
    payload = {"candidate_ids": [person.pk], "template_id": make_template().pk}

    first = api.post("/messages/bulk", payload, **{"Idempotency-Key": "bulk-1"})
    again = api.post("/messages/bulk", payload, **{"Idempotency-Key": "bulk-1"})

    assert first.status_code == again.status_code == 202 and first.json() == again.json()
    assert Message.objects.count() == 1


def test_errors_use_the_error_format(api_as, recruiter, person, make_template):
    api = api_as(recruiter)
    template = make_template()

    none = api.post("/messages/bulk", {"template_id": template.pk})
    both = api.post("/messages/bulk", {"template_id": template.pk, "candidate_ids": [person.pk], "pool_id": "1"})
    no_template = api.post("/messages/bulk", {"template_id": "999999", "candidate_ids": [person.pk]})
    no_pool = api.post("/messages/bulk", {"template_id": template.pk, "pool_id": "999999"})
    sms = api.post("/messages/bulk", {"template_id": template.pk, "candidate_ids": [person.pk], "channel": "sms"})

    assert none.status_code == 422 and "candidate_ids" in error_of(none)["fields"]
    assert both.status_code in (404, 422) and error_of(both)
    assert no_template.status_code == 404 and error_of(no_template)["code"] == "not_found"
    assert no_pool.status_code == 404 and error_of(no_pool)["code"] == "not_found"
    assert sms.status_code == 422 and "template_id" in error_of(sms)["fields"]
    assert not Message.objects.exists()


@pytest.mark.parametrize(("role", "status"), [("hiring_manager", 403), ("interviewer", 403), ("outsider", 403)])
def test_other_roles_may_not_bulk_send(api_as, world, role, status, make_template):
    response = api_as(world[role]).post(
        "/messages/bulk", {"candidate_ids": [world["applicant"].pk], "template_id": make_template().pk}
    )

    assert response.status_code == status and error_of(response)["code"] == "forbidden"
    assert not Message.objects.exists()
