"""Quiet hours at send time: bulk and automated messages wait for the person's morning in their own time zone;
one-to-one messages go at once. Deliveries go to a real SMTP server; `now` is passed to the worker."""

import zoneinfo
from datetime import datetime, timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from rapport.config.settings import _quiet_hours
from rapport.messaging.models import Message, MessageKind, MessageStatus
from rapport.messaging.respect import quiet_until
from rapport.messaging.services import message_send, outbox_deliver_due
from tests.factories import make_candidate


@pytest.fixture(autouse=True)
def _quiet_nights(settings):
    settings.RAPPORT_QUIET_HOURS = (21 * 60, 8 * 60)
    settings.RAPPORT_DEFAULT_TIMEZONE = "UTC"
    settings.RAPPORT_FREQUENCY_CAP = 0


def tomorrow_utc(hour: int, minute: int = 0) -> datetime:
    """A time of day tomorrow in UTC: after every message the test queues, so they are all due."""
    day = timezone.now().astimezone(zoneinfo.ZoneInfo("UTC")) + timedelta(days=1)
    return day.replace(hour=hour, minute=minute, second=0, microsecond=0)


def queue(actor, candidate, kind: str) -> Message:
    """A queued message of `kind`; until bulk sends and sequences write them, the kind is set on a normal send."""
    message = message_send(actor=actor, candidate=candidate, subject="News", body="Hi {{ candidate.first_name }}")
    Message.objects.filter(pk=message.pk).update(kind=kind)
    message.refresh_from_db()
    return message


def person(recruiter, name: str, zone: str = ""):
    return make_candidate(actor=recruiter, first_name=name, emails=[f"{name.lower()}@example.org"], timezone=zone)


def test_bulk_messages_wait_for_each_persons_morning_in_their_own_time_zone(recruiter, smtp_server):
    now = tomorrow_utc(22, 30)
    tokyo = queue(recruiter, person(recruiter, "Kenji", "Asia/Tokyo"), MessageKind.BULK)  # 07:30 the next morning
    no_zone = queue(recruiter, person(recruiter, "Uma"), MessageKind.AUTOMATED)  # 22:30 in the default, UTC
    new_york = queue(recruiter, person(recruiter, "Nora", "America/New_York"), MessageKind.BULK)  # late afternoon

    outbox_deliver_due(now=now)

    assert [m["To"] for m in smtp_server.messages] == ["nora@example.org"]
    tokyo.refresh_from_db()
    no_zone.refresh_from_db()
    new_york.refresh_from_db()
    assert new_york.status == MessageStatus.SENT
    assert tokyo.status == MessageStatus.SCHEDULED and tokyo.next_attempt_at == now + timedelta(minutes=30)
    assert tokyo.deferred_reason == "Quiet hours (21:00–08:00 in Asia/Tokyo): held until 08:00 their time."
    assert no_zone.status == MessageStatus.SCHEDULED and no_zone.next_attempt_at == now + timedelta(hours=9, minutes=30)
    assert tokyo.attempts == 0 and tokyo.sent_at is None

    # Deferred, not dropped: at the person's 08:00 the worker sends it.
    outbox_deliver_due(now=now + timedelta(minutes=29))
    assert len(smtp_server.messages) == 1
    outbox_deliver_due(now=now + timedelta(minutes=30))
    tokyo.refresh_from_db()
    assert tokyo.status == MessageStatus.SENT and tokyo.deferred_reason == ""
    assert [m["To"] for m in smtp_server.messages] == ["nora@example.org", "kenji@example.org"]


def test_a_persons_own_quiet_hours_from_the_portal_replace_the_installations(recruiter, smtp_server):
    from datetime import time

    from rapport.portal.models import PortalPreferences

    early_bird = person(recruiter, "Ada", "UTC")
    PortalPreferences.objects.create(candidate=early_bird, quiet_hours_start=time(18), quiet_hours_end=time(6))
    night_owl = person(recruiter, "Lin", "UTC")
    PortalPreferences.objects.create(candidate=night_owl, quiet_hours_start=time(2), quiet_hours_end=time(10))
    held = queue(recruiter, early_bird, MessageKind.AUTOMATED)
    sent = queue(recruiter, night_owl, MessageKind.AUTOMATED)

    now = tomorrow_utc(20)  # inside Ada's own hours; inside the installation's 21:00 for neither
    outbox_deliver_due(now=now)

    held.refresh_from_db()
    sent.refresh_from_db()
    assert sent.status == MessageStatus.SENT
    assert held.status == MessageStatus.SCHEDULED and held.next_attempt_at == now + timedelta(hours=10)
    assert held.deferred_reason == "Quiet hours (18:00–06:00 in UTC): held until 06:00 their time."
    # At 22:30 the installation's hours would hold Lin; her own hours (02:00–10:00) let the message go.
    late = queue(recruiter, night_owl, MessageKind.AUTOMATED)
    outbox_deliver_due(now=tomorrow_utc(22, 30))
    late.refresh_from_db()
    assert late.status == MessageStatus.SENT


def test_a_recruiters_one_to_one_message_goes_in_quiet_hours(recruiter, smtp_server):
    message = queue(recruiter, person(recruiter, "Kenji", "Asia/Tokyo"), MessageKind.ONE_TO_ONE)

    outbox_deliver_due(now=tomorrow_utc(15))  # midnight in Tokyo

    message.refresh_from_db()
    assert message.status == MessageStatus.SENT and [m["To"] for m in smtp_server.messages] == ["kenji@example.org"]


def test_a_person_without_a_time_zone_gets_the_default_one(recruiter, smtp_server, settings):
    settings.RAPPORT_DEFAULT_TIMEZONE = "Asia/Tokyo"
    message = queue(recruiter, person(recruiter, "Uma"), MessageKind.BULK)
    now = tomorrow_utc(12)  # 21:00 in Tokyo: quiet starts

    outbox_deliver_due(now=now)

    message.refresh_from_db()
    assert message.status == MessageStatus.SCHEDULED and message.next_attempt_at == now + timedelta(hours=11)
    assert smtp_server.messages == []


def test_quiet_hours_can_be_turned_off(recruiter, smtp_server, settings):
    settings.RAPPORT_QUIET_HOURS = None
    queue(recruiter, person(recruiter, "Uma"), MessageKind.BULK)

    outbox_deliver_due(now=tomorrow_utc(23))

    assert len(smtp_server.messages) == 1


def test_a_daytime_quiet_window_and_the_evening_edge(settings):
    utc = zoneinfo.ZoneInfo("UTC")
    at = tomorrow_utc(20, 59)
    assert quiet_until(at=at, zone=utc) is None
    assert quiet_until(at=at + timedelta(minutes=1), zone=utc) == tomorrow_utc(8) + timedelta(days=1)
    assert quiet_until(at=tomorrow_utc(7, 59), zone=utc) == tomorrow_utc(8)
    assert quiet_until(at=tomorrow_utc(8), zone=utc) is None
    settings.RAPPORT_QUIET_HOURS = (12 * 60, 13 * 60 + 30)
    assert quiet_until(at=tomorrow_utc(12, 10), zone=utc) == tomorrow_utc(13, 30)
    assert quiet_until(at=tomorrow_utc(22), zone=utc) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [("21-8", (1260, 480)), ("21:30-7:45", (1290, 465)), ("9-17", (540, 1020)), ("off", None)],
)
def test_the_quiet_hours_setting_is_read_strictly(value, expected):
    assert _quiet_hours(value) == expected


@pytest.mark.parametrize("value", ["25-8", "21", "8-8", "21:61-8", "night"])
def test_a_bad_quiet_hours_setting_stops_start_up(value):
    with pytest.raises(ImproperlyConfigured):
        _quiet_hours(value)
