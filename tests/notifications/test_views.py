"""The bell, the notifications page, marking read, the follow button and the settings card, for every role."""

import pytest
from django.test import Client

from rapport.notifications.models import Follow, Notification, NotificationPreference
from rapport.notifications.services import candidate_follow, notifications_from_timeline

HTMX = {"HTTP_HX_REQUEST": "true"}


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def two_replies(world, reply_from):
    """Grace (owned by the recruiter) replied, then Alan; the recruiter has two unread notifications."""
    reply_from(world["applicant"], subject="Re: Platform Engineer")
    reply_from(world["bystander"], subject="Re: Coffee?")
    notifications_from_timeline()
    return world


def test_the_bell_shows_the_unread_count(two_replies):
    html = client_for(two_replies["recruiter"]).get("/").content.decode()

    assert 'href="/notifications/"' in html
    assert 'aria-label="Notifications, 2 unread"' in html
    assert '<span class="topbar__bell-count" aria-hidden="true">2</span>' in html


def test_the_bell_has_no_count_for_someone_with_nothing_unread(two_replies):
    html = client_for(two_replies["admin"]).get("/").content.decode()

    assert 'aria-label="Notifications"' in html and "topbar__bell-count" not in html


def test_the_list_is_newest_first_with_unread_highlighted_and_links_to_the_person(two_replies):
    response = client_for(two_replies["recruiter"]).get("/notifications/")

    html = response.content.decode()
    assert response.status_code == 200
    assert html.index("Alan Turing replied") < html.index("Grace Hopper replied")
    assert html.count("notification--unread") == 2
    first = Notification.objects.get(candidate=two_replies["applicant"])
    assert f'href="/notifications/{first.pk}/"' in html
    assert "Mark all as read" in html


def test_opening_a_notification_marks_it_read_and_goes_to_the_profile(two_replies):
    client = client_for(two_replies["recruiter"])
    notification = Notification.objects.get(candidate=two_replies["applicant"])

    response = client.get(f"/notifications/{notification.pk}/")

    assert response.status_code == 302
    assert response["Location"] == f"/candidates/{two_replies['applicant'].pk}/"
    notification.refresh_from_db()
    assert notification.read_at is not None
    assert 'aria-label="Notifications, 1 unread"' in client.get("/").content.decode()


def test_notifications_are_strictly_per_user(two_replies):
    notification = Notification.objects.get(candidate=two_replies["applicant"])

    for role in ("admin", "hiring_manager", "interviewer", "outsider"):
        client = client_for(two_replies[role])
        assert client.get(f"/notifications/{notification.pk}/").status_code == 404
        assert "Grace Hopper replied" not in client.get("/notifications/").content.decode()
    notification.refresh_from_db()
    assert notification.read_at is None


def test_mark_all_as_read(two_replies):
    client = client_for(two_replies["recruiter"])

    response = client.post("/notifications/read/")

    assert response.status_code == 302 and response["Location"] == "/notifications/"
    assert not Notification.objects.filter(read_at__isnull=True).exists()
    html = client.get("/notifications/?unread=1").content.decode()
    assert "You are all caught up" in html and "Mark all as read" not in html


def test_mark_all_as_read_needs_post_and_csrf(two_replies):
    client = Client(enforce_csrf_checks=True)
    client.force_login(two_replies["recruiter"])

    assert client.get("/notifications/read/").status_code == 405
    assert client.post("/notifications/read/").status_code == 403
    assert Notification.objects.filter(read_at__isnull=True).count() == 2


def test_the_empty_page_says_what_to_do(world):
    html = client_for(world["interviewer"]).get("/notifications/").content.decode()

    assert "No notifications yet" in html and "Follow people from their profile" in html


def test_the_page_needs_sign_in(db):
    response = Client().get("/notifications/")

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


# ---------------------------------------------------------------- following


@pytest.mark.parametrize("role", ["admin", "recruiter", "hiring_manager", "interviewer"])
def test_everyone_who_can_see_a_person_can_follow_and_unfollow_them(world, role):
    client, user, applicant = client_for(world[role]), world[role], world["applicant"]
    url = f"/notifications/follow/{applicant.pk}/"

    profile = client.get(f"/candidates/{applicant.pk}/").content.decode()
    assert f'action="{url}"' in profile and 'aria-pressed="false"' in profile

    response = client.post(url, {"follow": "1"})
    assert response.status_code == 302 and response["Location"] == f"/candidates/{applicant.pk}/"
    assert Follow.objects.filter(user=user, candidate=applicant).exists()
    assert 'aria-pressed="true"' in client.get(f"/candidates/{applicant.pk}/").content.decode()

    client.post(url, {"follow": "0"})
    assert not Follow.objects.filter(user=user, candidate=applicant).exists()


@pytest.mark.parametrize("role", ["hiring_manager", "interviewer", "outsider"])
def test_no_one_can_follow_a_person_out_of_their_scope(world, role):
    response = client_for(world[role]).post(f"/notifications/follow/{world['bystander'].pk}/", {"follow": "1"})

    assert response.status_code == 404
    assert not Follow.objects.exists()


def test_the_outsider_cannot_follow_anyone(world):
    for person in (world["applicant"], world["bystander"]):
        response = client_for(world["outsider"]).post(f"/notifications/follow/{person.pk}/", {"follow": "1"})
        assert response.status_code == 404
    assert client_for(world["outsider"]).post("/notifications/follow/999999/").status_code == 404
    assert not Follow.objects.exists()


def test_following_over_htmx_swaps_the_button(world):
    client, applicant = client_for(world["recruiter"]), world["applicant"]

    response = client.post(f"/notifications/follow/{applicant.pk}/", {"follow": "1"}, **HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="follow-toggle"' in html and 'aria-pressed="true"' in html and "Following" in html
    assert 'name="follow" value="0"' in html
    # Following twice is still one follow.
    client.post(f"/notifications/follow/{applicant.pk}/", {"follow": "1"}, **HTMX)
    assert Follow.objects.filter(candidate=applicant).count() == 1


def test_following_needs_post_and_csrf(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world["recruiter"])
    url = f"/notifications/follow/{world['applicant'].pk}/"

    assert client.get(url).status_code == 405
    assert client.post(url, {"follow": "1"}).status_code == 403
    assert not Follow.objects.exists()


def test_a_follower_then_hears_about_the_person(world, reply_from):
    client_for(world["hiring_manager"]).post(f"/notifications/follow/{world['applicant'].pk}/", {"follow": "1"})

    reply_from(world["applicant"])
    notifications_from_timeline()

    html = client_for(world["hiring_manager"]).get("/notifications/").content.decode()
    assert "Grace Hopper replied" in html


# ---------------------------------------------------------------- settings


def test_settings_turn_the_digest_and_opens_on_and_off(world):
    client = client_for(world["interviewer"])

    page = client.get("/accounts/settings/").content.decode()
    assert "Email me a daily digest" in page and 'name="daily_digest"' in page

    response = client.post("/notifications/settings/", {"daily_digest": "on"})
    assert response.status_code == 302 and response["Location"] == "/accounts/settings/#notification-settings"
    preference = NotificationPreference.objects.get(user=world["interviewer"])
    assert preference.daily_digest is True and preference.notify_opens is False

    client.post("/notifications/settings/", {"notify_opens": "on"})
    preference.refresh_from_db()
    assert preference.daily_digest is False and preference.notify_opens is True
    assert 'name="notify_opens" value="on" checked' in client.get("/accounts/settings/").content.decode()


def test_follows_are_per_user(world):
    candidate_follow(user=world["admin"], candidate=world["applicant"])

    html = client_for(world["recruiter"]).get(f"/candidates/{world['applicant'].pk}/").content.decode()

    assert 'aria-pressed="false"' in html


def test_a_person_who_leaves_the_users_scope_leaves_their_notifications(world, reply_from):
    from rapport.jobs.services import job_update

    manager = world["hiring_manager"]
    candidate_follow(user=manager, candidate=world["applicant"])
    reply_from(world["applicant"])
    notifications_from_timeline()
    client = client_for(manager)
    assert 'aria-label="Notifications, 1 unread"' in client.get("/notifications/").content.decode()

    # When the job gets another hiring manager, Grace is no longer theirs to see
    job_update(actor=world["recruiter"], job=world["job"], data={"hiring_manager_id": world["admin"].pk})

    html = client.get("/notifications/").content.decode()
    assert "Grace Hopper" not in html and "No notifications yet" in html
    assert 'aria-label="Notifications"' in html
    notification = Notification.objects.get(user=manager)
    assert client.get(f"/notifications/{notification.pk}/").status_code == 404
