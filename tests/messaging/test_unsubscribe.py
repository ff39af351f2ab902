"""Unsubscribe links: signed per person, one-click (RFC 8058) without CSRF, and effective for the next send."""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from rapport.common.errors import ValidationFailed
from rapport.messaging.links import unsubscribe_token, unsubscribe_url
from rapport.messaging.models import Message, MessageStatus, Suppression
from rapport.messaging.services import message_send, outbox_deliver_due
from rapport.timeline.models import Activity


@pytest.fixture
def client_no_csrf():
    """A client that enforces CSRF like a browser, to show the one-click endpoint needs no token."""
    return Client(enforce_csrf_checks=True)


def _path(url: str) -> str:
    return urlsplit(url).path


def test_the_link_in_the_mail_suppresses_the_next_send(recruiter, person, smtp_server, client_no_csrf):
    message_send(actor=recruiter, candidate=person, subject="Hi", body="Hello")
    later = message_send(
        actor=recruiter,
        candidate=person,
        subject="Later",
        body="Again",
        send_at=timezone.now() + timedelta(minutes=5),
    )
    outbox_deliver_due()
    link = str(smtp_server.messages[0]["List-Unsubscribe"]).strip().strip("<>")

    response = client_no_csrf.post(
        _path(link), "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 200
    assert Suppression.objects.filter(address="grace@example.org", channel="email", reason="unsubscribed").exists()
    activity = Activity.objects.get(candidate=person, type="candidate.unsubscribed")
    assert activity.payload["source"] == "one-click"
    # The message already scheduled is not sent when its time comes...
    outbox_deliver_due(now=later.next_attempt_at + timedelta(seconds=1))
    later.refresh_from_db()
    assert later.status == MessageStatus.SUPPRESSED
    assert len(smtp_server.messages) == 1
    # ...and a new one is refused when composing.
    with pytest.raises(ValidationFailed):
        message_send(actor=recruiter, candidate=person, subject="Hi", body="Hello")


def test_get_shows_a_confirmation_and_changes_nothing(person, client):
    url = unsubscribe_url(address="grace@example.org", channel="email", candidate_id=person.pk)

    response = client.get(_path(url))

    assert response.status_code == 200
    body = response.content.decode()
    assert "Unsubscribe" in body and "g••••@example.org" in body
    assert "grace@example.org" not in body
    assert not Suppression.objects.exists()


def test_the_confirmation_button_unsubscribes_and_the_preferences_page_can_undo_it(person, client):
    url = unsubscribe_url(address="grace@example.org", channel="email", candidate_id=person.pk)

    response = client.post(_path(url))
    assert response.status_code == 200 and b"data-unsubscribed" in response.content
    assert Suppression.objects.count() == 1

    page = client.get(_path(url) + "/preferences")
    assert b"Email me again" in page.content
    response = client.post(_path(url) + "/preferences", {"action": "resubscribe"})
    assert response.status_code == 200 and b"data-resubscribed" in response.content
    assert not Suppression.objects.exists()
    assert Activity.objects.filter(candidate=person, type="consent.given").count() == 1


def test_a_bounce_cannot_be_undone_from_the_preferences_page(person, client):
    from rapport.messaging.services import suppression_add

    suppression_add(address="grace@example.org", channel="email", reason="hard_bounce")
    url = unsubscribe_url(address="grace@example.org", channel="email", candidate_id=person.pk)

    client.post(_path(url) + "/preferences", {"action": "resubscribe"})

    assert Suppression.objects.get().reason == "hard_bounce"


@pytest.mark.parametrize("token", ["nonsense", "eyJhIjoiZ3JhY2VAZXhhbXBsZS5vcmcifQ:1abc:forged"])
def test_a_forged_or_broken_token_is_404(db, client, token):
    assert client.get(f"/u/{token}").status_code == 404
    assert client.post(f"/u/{token}", "List-Unsubscribe=One-Click", content_type="text/plain").status_code == 404
    assert not Suppression.objects.exists()


def test_a_token_signed_for_something_else_is_refused(person, client):
    from django.core import signing

    other = signing.dumps({"a": "grace@example.org", "c": "email", "p": person.pk}, salt="another.purpose")

    assert client.post(f"/u/{other}").status_code == 404
    assert unsubscribe_token(address="grace@example.org", channel="email", candidate_id=person.pk) != other


def test_the_public_pages_are_rate_limited(person, client, settings):
    settings.RAPPORT_API_RATE_LIMIT = 3
    url = _path(unsubscribe_url(address="grace@example.org", channel="email", candidate_id=person.pk))

    statuses = [client.get(url).status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]


def test_the_message_text_carries_the_person_own_links(recruiter, person):
    message = message_send(
        actor=recruiter, candidate=person, subject="Hi", body="[Preferences]({{ preferences_link }})"
    )

    expected = unsubscribe_url(address="grace@example.org", channel="email", candidate_id=person.pk)
    assert expected + "/preferences" in message.text
    assert expected in message.html
    assert Message.objects.get().pk == message.pk
