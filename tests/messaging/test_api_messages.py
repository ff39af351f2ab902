"""The messages API: send (202, idempotent), list by person and status, and one message with its events."""

import pytest

from rapport.messaging.models import Message
from rapport.messaging.services import outbox_deliver_due
from tests.api.conftest import error_of


def test_send_answers_202_and_the_message_goes_out(api_as, recruiter, person, smtp_server):
    api = api_as(recruiter)

    response = api.post(
        "/messages", {"candidate_id": str(person.pk), "channel": "email", "subject": "Hi", "body": "Hello"}
    )

    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "queued" and Message.objects.get().pk == int(body["id"])
    outbox_deliver_due()
    detail = api.get(f"/messages/{body['id']}").json()
    assert detail["status"] == "sent" and detail["sent_at"]
    assert detail["candidate_id"] == str(person.pk) and detail["direction"] == "outbound"
    assert "Hello" in detail["body_text"]
    assert [event["type"] for event in detail["events"]] == ["message.queued", "message.sent"]


def test_send_from_a_template_with_a_schedule(api_as, recruiter, person, make_template):
    from datetime import timedelta

    from django.utils import timezone

    template = make_template(subject="Hi {{ candidate.first_name }}", body="Hello")
    api = api_as(recruiter)
    send_at = (timezone.now() + timedelta(days=1)).replace(microsecond=0)

    response = api.post(
        "/messages", {"candidate_id": person.pk, "template_id": str(template.pk), "send_at": send_at.isoformat()}
    )
    too_far = api.post(
        "/messages",
        {"candidate_id": person.pk, "template_id": str(template.pk), "send_at": "2099-01-01T09:00:00+00:00"},
    )

    assert response.status_code == 202 and response.json()["status"] == "scheduled"
    detail = api.get(f"/messages/{response.json()['id']}").json()
    assert detail["subject"] == "Hi Grace" and detail["template_id"] == str(template.pk)
    assert detail["scheduled_for"].startswith(send_at.strftime("%Y-%m-%dT%H:%M"))
    assert too_far.status_code == 422 and "send_at" in error_of(too_far)["fields"]


def test_a_repeated_idempotency_key_returns_the_first_message(api_as, recruiter, person):
    api = api_as(recruiter)
    payload = {"candidate_id": str(person.pk), "subject": "Hi", "body": "Hello"}

    first = api.post("/messages", payload, **{"Idempotency-Key": "send-1"})
    again = api.post("/messages", payload, **{"Idempotency-Key": "send-1"})

    assert first.status_code == again.status_code == 202
    assert first.json() == again.json()
    assert Message.objects.count() == 1


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"subject": "Hi", "body": "{{ candidate.frist_name }}"}, "body"),
        ({"subject": "", "body": "Hello"}, "subject"),
        ({}, "body"),
        ({"channel": "sms", "body": "Hello"}, "candidate_id"),
        ({"channel": "fax", "body": "Hello"}, "channel"),
        ({"subject": "Hi", "body": "x", "send_at": "2020-01-01T09:00:00Z"}, "send_at"),
    ],
)
def test_bad_input_is_422_naming_the_field(api_as, recruiter, person, payload, field):
    response = api_as(recruiter).post("/messages", {"candidate_id": str(person.pk), **payload})

    assert response.status_code == 422
    assert field in error_of(response)["fields"]
    assert not Message.objects.exists()


def test_list_by_person_and_status_with_pagination(api_as, recruiter, person):
    from tests.factories import make_candidate

    other = make_candidate(actor=recruiter, first_name="Alan", emails=["alan@example.org"])
    api = api_as(recruiter)
    for n in range(3):
        api.post("/messages", {"candidate_id": str(person.pk), "subject": f"Hi {n}", "body": "x"})
    api.post("/messages", {"candidate_id": str(other.pk), "subject": "Other", "body": "x"})

    page = api.get("/messages", {"candidate_id": person.pk, "limit": 2}).json()
    rest = api.get("/messages", {"candidate_id": person.pk, "limit": 2, "cursor": page["next_cursor"]}).json()

    assert [m["subject"] for m in page["items"] + rest["items"]] == ["Hi 2", "Hi 1", "Hi 0"]
    assert rest["next_cursor"] is None
    assert len(api.get("/messages", {"candidate": other.pk}).json()["items"]) == 1
    assert api.get("/messages", {"status": "sent"}).json()["items"] == []


ROLES = ["admin", "recruiter", "hiring_manager", "interviewer", "outsider"]
SEND = {"admin": 202, "recruiter": 202, "hiring_manager": 403, "interviewer": 403, "outsider": 404}
READ = {"admin": 200, "recruiter": 200, "hiring_manager": 404, "interviewer": 404, "outsider": 404}


@pytest.mark.parametrize("role", ROLES)
def test_every_role_against_the_messages_api(world, api_as, role):
    from rapport.messaging.services import message_send

    existing = message_send(actor=world["recruiter"], candidate=world["applicant"], subject="Hi", body="x")
    api = api_as(world[role])

    sent = api.post("/messages", {"candidate_id": str(world["applicant"].pk), "subject": "Hi", "body": "x"})
    one = api.get(f"/messages/{existing.pk}")
    listed = api.get("/messages", {"candidate_id": world["applicant"].pk}).json()["items"]

    assert sent.status_code == SEND[role]
    assert one.status_code == READ[role]
    # What each role can read: admins and recruiters every message of the person, the others none.
    assert len(listed) == {"admin": 2, "recruiter": 2}.get(role, 0)


def test_unauthenticated_is_401(anonymous, person):
    response = anonymous.post("/messages", {"candidate_id": str(person.pk), "subject": "Hi", "body": "x"})

    assert response.status_code == 401 and error_of(response)["code"] == "unauthenticated"
