"""The frequency cap at send time: at most N bulk or automated messages per person per rolling 7 days; more wait
until the window frees up. A recruiter's one-to-one message goes past the cap, and the compose panel warns."""

from datetime import timedelta

import pytest
from django.test import Client

from rapport.messaging.models import Message, MessageKind, MessageStatus
from rapport.messaging.services import outbox_deliver_due
from tests.messaging.test_quiet_hours import person, queue, tomorrow_utc


@pytest.fixture(autouse=True)
def _cap_of_three(settings):
    settings.RAPPORT_FREQUENCY_CAP = 3
    settings.RAPPORT_QUIET_HOURS = (21 * 60, 8 * 60)
    settings.RAPPORT_DEFAULT_TIMEZONE = "UTC"


def sent_before(actor, candidate, *ago: timedelta, now, kind=MessageKind.BULK) -> None:
    """Messages this person already got, `ago` before `now`."""
    for delta in ago:
        message = queue(actor, candidate, kind)
        Message.objects.filter(pk=message.pk).update(
            status=MessageStatus.SENT, sent_at=now - delta, next_attempt_at=None
        )


def test_over_the_cap_a_bulk_message_waits_until_the_oldest_send_leaves_the_window(recruiter, smtp_server):
    now = tomorrow_utc(12)
    capped = person(recruiter, "Cara")
    sent_before(recruiter, capped, timedelta(days=1), timedelta(days=2), timedelta(days=6), now=now)
    below = person(recruiter, "Bea")
    sent_before(recruiter, below, timedelta(days=1), timedelta(days=8), timedelta(days=9), now=now)  # 2 are old
    held = queue(recruiter, capped, MessageKind.BULK)
    goes = queue(recruiter, below, MessageKind.AUTOMATED)

    outbox_deliver_due(now=now)

    assert [m["To"] for m in smtp_server.messages] == ["bea@example.org"]
    goes.refresh_from_db()
    held.refresh_from_db()
    assert goes.status == MessageStatus.SENT
    assert held.status == MessageStatus.SCHEDULED
    assert held.next_attempt_at == now + timedelta(days=1)  # the send 6 days ago turns 7 days old
    assert held.deferred_reason.startswith("Frequency cap (3 bulk or automated messages per 7 days): held until")

    outbox_deliver_due(now=now + timedelta(days=1))
    held.refresh_from_db()
    assert held.status == MessageStatus.SENT
    assert [m["To"] for m in smtp_server.messages] == ["bea@example.org", "cara@example.org"]


def test_one_to_one_messages_go_past_the_cap_and_do_not_count_towards_it(recruiter, smtp_server):
    now = tomorrow_utc(12)
    cara = person(recruiter, "Cara")
    sent_before(recruiter, cara, timedelta(days=1), timedelta(days=2), timedelta(days=3), now=now)
    sent_before(recruiter, cara, timedelta(hours=1), now=now, kind=MessageKind.ONE_TO_ONE)
    personal = queue(recruiter, cara, MessageKind.ONE_TO_ONE)

    outbox_deliver_due(now=now)

    personal.refresh_from_db()
    assert personal.status == MessageStatus.SENT and len(smtp_server.messages) == 1


def test_the_cap_counts_sends_within_the_same_batch(recruiter, smtp_server):
    now = tomorrow_utc(12)
    dana = person(recruiter, "Dana")
    sent_before(recruiter, dana, timedelta(days=2), timedelta(days=3), now=now)
    first = queue(recruiter, dana, MessageKind.BULK)
    second = queue(recruiter, dana, MessageKind.BULK)

    outbox_deliver_due(now=now)

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == MessageStatus.SENT and len(smtp_server.messages) == 1
    assert second.status == MessageStatus.SCHEDULED
    assert second.next_attempt_at == now + timedelta(days=4)  # the send 3 days ago is the oldest of the three


def test_when_the_window_frees_up_at_night_the_message_waits_for_the_morning(recruiter, smtp_server):
    now = tomorrow_utc(12)
    eve = person(recruiter, "Eve")
    # The oldest send leaves the window at 22:00 UTC tonight, inside quiet hours.
    sent_before(recruiter, eve, timedelta(days=1), timedelta(days=2), timedelta(days=7) - timedelta(hours=10), now=now)
    held = queue(recruiter, eve, MessageKind.BULK)

    outbox_deliver_due(now=now)

    held.refresh_from_db()
    assert held.status == MessageStatus.SCHEDULED and held.next_attempt_at == now + timedelta(hours=20)
    assert smtp_server.messages == []


def test_a_cap_of_zero_means_no_cap(recruiter, smtp_server, settings):
    settings.RAPPORT_FREQUENCY_CAP = 0
    now = tomorrow_utc(12)
    fay = person(recruiter, "Fay")
    sent_before(recruiter, fay, *[timedelta(hours=h) for h in range(1, 6)], now=now)
    queue(recruiter, fay, MessageKind.BULK)

    outbox_deliver_due(now=now)

    assert len(smtp_server.messages) == 1


def test_the_compose_panel_warns_when_the_person_is_at_the_cap(recruiter):
    from django.utils import timezone

    now = timezone.now()
    gil = person(recruiter, "Gil")
    sent_before(recruiter, gil, timedelta(days=1), timedelta(days=2), now=now)
    client = Client()
    client.force_login(recruiter)

    panel = f"/messages/to/{gil.pk}/compose/"
    below = client.get(panel).content.decode()
    assert 'id="compose-form"' in below and "bulk or automated messages in the last 7 days" not in below
    sent_before(recruiter, gil, timedelta(hours=3), now=now)
    body = client.get(panel).content.decode()
    assert "Gil got 3 bulk or automated messages in the last 7 days (the cap is 3)" in body


def test_a_person_who_asked_for_at_most_one_a_week_gets_one_even_where_the_installation_allows_more(
    recruiter, smtp_server, settings
):
    from rapport.portal.models import PortalPreferences

    now = tomorrow_utc(12)
    once = person(recruiter, "Olu")
    PortalPreferences.objects.create(candidate=once, max_per_week=1)
    sent_before(recruiter, once, timedelta(days=2), now=now)
    usual = person(recruiter, "Uma")
    sent_before(recruiter, usual, timedelta(days=2), now=now)
    held = queue(recruiter, once, MessageKind.AUTOMATED)
    goes = queue(recruiter, usual, MessageKind.AUTOMATED)

    outbox_deliver_due(now=now)

    held.refresh_from_db()
    goes.refresh_from_db()
    assert goes.status == MessageStatus.SENT
    assert held.status == MessageStatus.SCHEDULED and held.next_attempt_at == now + timedelta(days=5)
    assert held.deferred_reason.startswith("Frequency cap (1 bulk or automated message per 7 days, as they asked)")

    # With the installation's cap off, the person's own still holds.
    settings.RAPPORT_FREQUENCY_CAP = 0
    outbox_deliver_due(now=now + timedelta(days=1))
    held.refresh_from_db()
    assert held.status == MessageStatus.SCHEDULED
