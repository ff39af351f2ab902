"""The inbox API: GET /inbox per view, and PATCH /messages/{id} for a reply's inbox state, all or nothing."""

from datetime import timedelta

import pytest
from django.utils import timezone

from rapport.messaging.models import Message
from rapport.messaging.services import message_send
from rapport.messaging.services_inbound import message_receive
from rapport.timeline.models import AuditEntry
from tests.api.conftest import error_of
from tests.factories import UserFactory


def _reply(person, text="Tuesday works"):
    return message_receive(candidate=person, channel="email", from_address="grace@example.org", text=text)


def test_the_inbox_lists_open_replies_per_view(api_as, recruiter, person):
    reply = _reply(person)
    api = api_as(recruiter)

    mine = api.get("/inbox").json()
    done = api.get("/inbox", {"view": "done"}).json()

    assert [item["id"] for item in mine["items"]] == [str(reply.pk)] and mine["next_cursor"] is None
    item = mine["items"][0]
    assert item["direction"] == "inbound" and item["status"] == "received" and item["snippet"] == "Tuesday works"
    assert item["candidate_name"] == "Grace Hopper" and item["read_at"] is None and item["assigned_to_id"] is None
    assert done["items"] == []
    assert api.get("/inbox", {"view": "nonsense"}).status_code == 422


def test_the_inbox_pages_with_a_cursor(api_as, recruiter, person):
    for i in range(3):
        _reply(person, text=f"reply {i}")
    api = api_as(recruiter)

    first = api.get("/inbox", {"limit": 2}).json()
    second = api.get("/inbox", {"limit": 2, "cursor": first["next_cursor"]}).json()

    assert len(first["items"]) == 2 and len(second["items"]) == 1 and second["next_cursor"] is None
    assert api.get("/inbox", {"cursor": "garbage"}).status_code == 400


def test_patch_changes_the_inbox_state_and_audits_the_assignment(api_as, recruiter, person):
    colleague = UserFactory(email="colleague@rapport.test", name="Casey Colleague")
    reply = _reply(person)
    api = api_as(recruiter)
    until = (timezone.now() + timedelta(days=2)).replace(microsecond=0)

    assigned = api.patch(f"/messages/{reply.pk}", {"assigned_to_id": str(colleague.pk), "read": True})
    snoozed = api.patch(f"/messages/{reply.pk}", {"snoozed_until": until.isoformat()})
    woken = api.patch(f"/messages/{reply.pk}", {"snoozed_until": None, "done": True})

    assert assigned.status_code == 200
    assert assigned.json()["assigned_to_id"] == str(colleague.pk) and assigned.json()["read_at"]
    assert snoozed.json()["snoozed_until"].startswith(until.strftime("%Y-%m-%dT%H:%M"))
    assert woken.json()["snoozed_until"] is None and woken.json()["done_at"]
    assert AuditEntry.objects.filter(object_type="message", object_id=str(reply.pk)).count() == 1


def test_a_bad_patch_changes_nothing_and_names_the_field(api_as, recruiter, hiring_manager, person):
    reply = _reply(person)
    api = api_as(recruiter)

    past = api.patch(
        f"/messages/{reply.pk}",
        {"assigned_to_id": str(recruiter.pk), "done": True, "snoozed_until": "2001-01-01T08:00:00+00:00"},
    )
    nobody = api.patch(f"/messages/{reply.pk}", {"done": True, "assigned_to_id": str(hiring_manager.pk)})
    unknown = api.patch(f"/messages/{reply.pk}", {"archived": True})

    assert past.status_code == 422 and "snoozed_until" in error_of(past)["fields"]
    assert nobody.status_code == 422 and "assigned_to_id" in error_of(nobody)["fields"]
    assert unknown.status_code == 422
    reply.refresh_from_db()
    assert reply.done_at is None and reply.assigned_to is None and reply.snoozed_until is None
    assert not AuditEntry.objects.filter(object_type="message").exists()


def test_outbound_messages_have_no_inbox_state(api_as, recruiter, person):
    sent = message_send(actor=recruiter, candidate=person, subject="Hi", body="x")

    response = api_as(recruiter).patch(f"/messages/{sent.pk}", {"done": True})

    assert response.status_code == 422 and "message_id" in error_of(response)["fields"]
    assert Message.objects.get(pk=sent.pk).done_at is None


@pytest.mark.parametrize("role", ["hiring_manager", "interviewer", "outsider"])
def test_other_roles_see_an_empty_inbox_and_cannot_change_a_reply(api_as, world, role):
    reply = _reply(world["applicant"])
    api = api_as(world[role])

    assert api.get("/inbox", {"view": "all"}).json()["items"] == []
    response = api.patch(f"/messages/{reply.pk}", {"done": True})
    assert response.status_code == 404 and error_of(response)["code"] == "not_found"
    reply.refresh_from_db()
    assert reply.done_at is None


def test_unknown_and_malformed_ids_are_404(api_as, recruiter):
    api = api_as(recruiter)

    assert api.patch("/messages/999999", {"done": True}).status_code == 404
    assert api.patch("/messages/abc", {"done": True}).status_code == 404
