"""GET /api/v1/notifications and POST /api/v1/notifications/read: the caller's own, in the API's list and error shapes."""

import pytest

from rapport.notifications.models import Notification
from rapport.notifications.services import candidate_follow, notifications_from_timeline
from tests.api.conftest import error_of


@pytest.fixture
def replies(world, reply_from):
    """Three replies: two from Grace (owned by the recruiter, followed by the admin), one from Alan."""
    candidate_follow(user=world["admin"], candidate=world["applicant"])
    reply_from(world["applicant"], subject="Re: First")
    reply_from(world["bystander"], subject="Re: Coffee?")
    reply_from(world["applicant"], subject="Re: Second")
    notifications_from_timeline()
    return world


def test_the_list_is_the_callers_own_newest_first(replies, api_as):
    response = api_as(replies["recruiter"]).get("/notifications")

    assert response.status_code == 200
    body = response.json()
    assert [n["text"] for n in body["items"]] == [
        "Grace Hopper replied: “Re: Second”",
        "Alan Turing replied: “Re: Coffee?”",
        "Grace Hopper replied: “Re: First”",
    ]
    first = body["items"][0]
    assert first["kind"] == "message.received" and first["candidate_id"] == str(replies["applicant"].pk)
    assert first["read_at"] is None and isinstance(first["id"], str) and first["occurred_at"]
    assert body["next_cursor"] is None
    admin_items = api_as(replies["admin"]).get("/notifications").json()["items"]
    assert len(admin_items) == 2
    assert api_as(replies["outsider"]).get("/notifications").json()["items"] == []


def test_pages_and_the_unread_filter(replies, api_as):
    api = api_as(replies["recruiter"])
    newest = Notification.objects.filter(user=replies["recruiter"]).order_by("-id").first()
    api.post("/notifications/read", {"ids": [str(newest.pk)]})

    page = api.get("/notifications", {"limit": 1, "unread": "true"}).json()
    rest = api.get("/notifications", {"limit": 1, "unread": "true", "cursor": page["next_cursor"]}).json()

    assert [n["text"] for n in page["items"] + rest["items"]] == [
        "Alan Turing replied: “Re: Coffee?”",
        "Grace Hopper replied: “Re: First”",
    ]
    assert rest["next_cursor"] is None


def test_marking_given_ids_read_touches_only_the_callers_own(replies, api_as):
    mine = Notification.objects.filter(user=replies["recruiter"]).order_by("id").first()
    theirs = Notification.objects.get(user=replies["admin"], activity=mine.activity)

    response = api_as(replies["recruiter"]).post("/notifications/read", {"ids": [str(mine.pk), str(theirs.pk)]})

    assert response.status_code == 200 and response.json() == {"marked": 1}
    mine.refresh_from_db(), theirs.refresh_from_db()
    assert mine.read_at is not None and theirs.read_at is None


def test_marking_without_ids_marks_everything_once(replies, api_as):
    api = api_as(replies["recruiter"])

    assert api.post("/notifications/read").json() == {"marked": 3}
    assert api.post("/notifications/read", {}).json() == {"marked": 0}
    assert Notification.objects.filter(user=replies["admin"], read_at__isnull=True).count() == 2


@pytest.mark.parametrize("body", [{"ids": ["abc"]}, {"ids": "1"}, {"ids": [1], "extra": True}])
def test_bad_bodies_answer_422_in_the_error_format(replies, api_as, body):
    response = api_as(replies["recruiter"]).post("/notifications/read", body)

    assert response.status_code == 422
    assert error_of(response)["code"] == "validation_error"
    assert not Notification.objects.filter(read_at__isnull=False).exists()


def test_a_bad_cursor_is_400(replies, api_as):
    response = api_as(replies["recruiter"]).get("/notifications", {"cursor": "not-a-cursor"})

    assert response.status_code == 400 and error_of(response)["code"] == "bad_request"


def test_anonymous_callers_are_401(anonymous, db):
    assert anonymous.get("/notifications").status_code == 401
    response = anonymous.post("/notifications/read")
    assert response.status_code == 401 and error_of(response)["code"] == "unauthenticated"


def test_an_empty_body_marks_everything_and_an_idempotency_key_replays(replies, api_as):
    api = api_as(replies["recruiter"])

    first = api.post_raw("/notifications/read", "", **{"Idempotency-Key": "read-all-1"})
    again = api.post_raw("/notifications/read", "", **{"Idempotency-Key": "read-all-1"})

    assert first.status_code == 200 and first.json() == {"marked": 3}
    assert again.json() == {"marked": 3} and again["Idempotent-Replayed"] == "true"
