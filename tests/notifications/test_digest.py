"""The daily digest: a real email through a real SMTP server, once a day, only for those who asked."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from rapport.notifications.models import Notification, NotificationPreference
from rapport.notifications.services import (
    candidate_follow,
    notification_digest_send,
    notification_preference_update,
    notifications_from_timeline,
    notifications_mark_read,
)

BASE = "https://ats.acme.example"
BERLIN = ZoneInfo("Europe/Berlin")
# 09:00 in Berlin on a winter morning: after the digest hour.
MORNING = datetime(2026, 12, 3, 9, 0, tzinfo=BERLIN)


@pytest.fixture
def news(world, reply_from, email_to, settings):
    """The recruiter owns Grace and follows Alan; both answered in the last day, and the recruiter wants a digest."""
    from rapport.messaging.services import message_engagement_record

    settings.BASE_URL = BASE
    settings.RAPPORT_DEFAULT_TIMEZONE = "Europe/Berlin"
    recruiter, grace, alan = world["recruiter"], world["applicant"], world["bystander"]
    candidate_follow(user=recruiter, candidate=alan)
    reply_from(grace, subject="Re: Platform Engineer")
    message_engagement_record(message=email_to(grace, subject="Platform Engineer"), kind="click", url="https://x.org")
    reply_from(alan, subject="Re: Coffee?")
    notifications_from_timeline()
    Notification.objects.update(created_at=MORNING - timedelta(hours=3))
    notification_preference_update(user=recruiter, daily_digest=True, notify_opens=False)
    return world


def test_the_digest_summarises_the_day_by_person_with_links(news, smtp_server):
    sent = notification_digest_send(now=MORNING)

    assert sent == 1
    (mail,) = smtp_server.messages
    assert mail["To"] == "recruiter@rapport.test"
    assert mail["Subject"] == "3 updates about 2 people in Rapport"
    body = mail.get_content().replace("\r\n", "\n")
    grace, alan = news["applicant"], news["bystander"]
    assert "Hi Riley Recruiter," in body
    assert f"Grace Hopper\n{BASE}/candidates/{grace.pk}/\n" in body
    assert f"Alan Turing\n{BASE}/candidates/{alan.pk}/\n" in body
    assert "  - 06:00 Grace Hopper replied: “Re: Platform Engineer”" in body
    assert "Grace Hopper clicked a link in “Platform Engineer”" in body
    assert "Alan Turing replied: “Re: Coffee?”" in body
    assert f"{BASE}/notifications/" in body and f"{BASE}/accounts/settings/" in body


def test_it_is_sent_once_a_day(news, smtp_server):
    assert notification_digest_send(now=MORNING) == 1
    assert notification_digest_send(now=MORNING + timedelta(hours=5)) == 0
    assert len(smtp_server.messages) == 1

    # The next morning, whatever is still unread from the last day goes out again.
    Notification.objects.update(created_at=MORNING + timedelta(hours=20))
    assert notification_digest_send(now=MORNING + timedelta(days=1)) == 1
    assert len(smtp_server.messages) == 2


def test_nothing_goes_before_eight_in_the_organisations_time_zone(news, smtp_server):
    early = datetime(2026, 12, 3, 7, 59, tzinfo=BERLIN)
    Notification.objects.update(created_at=early - timedelta(hours=1))

    assert notification_digest_send(now=early) == 0
    # 07:05 UTC is 08:05 in Berlin.
    assert notification_digest_send(now=datetime(2026, 12, 3, 7, 5, tzinfo=ZoneInfo("UTC"))) == 1
    assert len(smtp_server.messages) == 1


def test_users_who_did_not_opt_in_get_nothing(news, smtp_server):
    NotificationPreference.objects.filter(user=news["recruiter"]).update(daily_digest=False)

    assert notification_digest_send(now=MORNING) == 0
    assert smtp_server.messages == []


def test_nothing_to_say_sends_nothing(news, smtp_server):
    notifications_mark_read(user=news["recruiter"])

    assert notification_digest_send(now=MORNING) == 0
    assert smtp_server.messages == []


def test_only_the_last_day_counts(news, smtp_server):
    Notification.objects.update(created_at=MORNING - timedelta(days=2))

    assert notification_digest_send(now=MORNING) == 0
    assert smtp_server.messages == []


def test_a_failed_send_is_tried_again_on_the_next_pass(news, smtp_server):
    smtp_server.refuse["recruiter@rapport.test"] = "450 4.2.0 Try again later"

    assert notification_digest_send(now=MORNING) == 0
    smtp_server.refuse.clear()
    assert notification_digest_send(now=MORNING + timedelta(minutes=5)) == 1
    assert len(smtp_server.messages) == 1
