"""The timeline consumer: who is told about a person's replies, clicks, opens and portal visits, exactly once."""

from rapport.candidates.services import candidate_erase
from rapport.messaging.services import message_engagement_record
from rapport.notifications.models import Notification, TimelineCursor
from rapport.notifications.services import (
    CURSOR_NAME,
    candidate_follow,
    candidate_unfollow,
    notification_preference_update,
    notifications_from_timeline,
)
from rapport.timeline.models import Activity
from rapport.timeline.services import activity_record


def told(person) -> set[str]:
    """The emails of the users notified about a person."""
    return set(Notification.objects.filter(candidate=person).values_list("user__email", flat=True))


def test_a_reply_notifies_the_owner_and_the_followers(world, reply_from):
    applicant = world["applicant"]  # owned by the recruiter who added them
    candidate_follow(user=world["admin"], candidate=applicant)
    candidate_follow(user=world["hiring_manager"], candidate=applicant)

    reply_from(applicant, subject="Re: Platform Engineer")
    created = notifications_from_timeline()

    assert created == 3
    assert told(applicant) == {"recruiter@rapport.test", "admin@rapport.test", "manager@rapport.test"}
    notification = Notification.objects.get(user=world["recruiter"])
    assert notification.kind == "message.received"
    assert notification.text == "Grace Hopper replied: “Re: Platform Engineer”"
    assert notification.activity.type == "message.received" and notification.read_at is None


def test_no_one_hears_about_people_they_neither_own_nor_follow(world, reply_from):
    reply_from(world["applicant"])

    notifications_from_timeline()

    assert told(world["applicant"]) == {"recruiter@rapport.test"}
    assert not Notification.objects.filter(user__in=[world["admin"], world["interviewer"]]).exists()


def test_the_actor_of_an_event_is_not_told_about_it(world):
    applicant = world["applicant"]
    candidate_follow(user=world["admin"], candidate=applicant)
    activity_record(
        type="message.received",
        candidate=applicant,
        actor=world["recruiter"],
        payload={"subject": "Logged by hand", "channel": "email"},
    )

    notifications_from_timeline()

    assert told(applicant) == {"admin@rapport.test"}


def test_a_follower_who_cannot_see_the_person_is_not_told(world, reply_from):
    bystander = world["bystander"]  # on no job of the hiring manager, and assigned to no interviewer
    for role in ("hiring_manager", "interviewer", "outsider", "admin"):
        candidate_follow(user=world[role], candidate=bystander)

    reply_from(bystander)
    notifications_from_timeline()

    assert told(bystander) == {"recruiter@rapport.test", "admin@rapport.test"}


def test_an_unfollow_stops_the_notifications(world, reply_from):
    applicant = world["applicant"]
    candidate_follow(user=world["admin"], candidate=applicant)
    candidate_unfollow(user=world["admin"], candidate=applicant)

    reply_from(applicant)
    notifications_from_timeline()

    assert told(applicant) == {"recruiter@rapport.test"}


def test_running_twice_creates_nothing_new(world, reply_from):
    reply_from(world["applicant"])

    first = notifications_from_timeline()
    second = notifications_from_timeline()

    assert (first, second) == (1, 0)
    assert Notification.objects.count() == 1
    cursor = TimelineCursor.objects.get(name=CURSOR_NAME)
    assert cursor.last_id == Activity.objects.order_by("-id").first().pk


def test_reading_the_same_events_again_never_duplicates(world, reply_from):
    # Given a run that created its notifications but died before moving the cursor
    reply_from(world["applicant"])
    notifications_from_timeline()
    TimelineCursor.objects.filter(name=CURSOR_NAME).update(last_id=0)

    assert notifications_from_timeline() == 0
    assert Notification.objects.count() == 1


def test_a_batch_limit_resumes_where_it_stopped(world, reply_from):
    applicant = world["applicant"]
    reply_from(applicant, text="First")
    reply_from(applicant, text="Second")

    assert notifications_from_timeline(limit=1) == 1
    assert notifications_from_timeline(limit=1) == 1
    assert notifications_from_timeline(limit=1) == 0
    assert Notification.objects.filter(user=world["recruiter"]).count() == 2


def test_a_link_clicked_many_times_is_one_notification(world, email_to):
    applicant = world["applicant"]
    first, second = email_to(applicant, subject="The role"), email_to(applicant, subject="Another role")

    for _ in range(3):
        message_engagement_record(message=first, kind="click", url="https://jobs.example.org/1")
    message_engagement_record(message=second, kind="click", url="https://jobs.example.org/2")
    notifications_from_timeline()

    texts = sorted(Notification.objects.filter(user=world["recruiter"]).values_list("text", flat=True))
    assert texts == ["Grace Hopper clicked a link in “Another role”", "Grace Hopper clicked a link in “The role”"]


def test_opens_notify_only_users_who_asked_for_them(world, email_to):
    applicant = world["applicant"]
    candidate_follow(user=world["admin"], candidate=applicant)
    notification_preference_update(user=world["admin"], daily_digest=False, notify_opens=True)
    message = email_to(applicant, subject="The role")

    message_engagement_record(message=message, kind="open")
    message_engagement_record(message=message, kind="open")
    notifications_from_timeline()

    assert told(applicant) == {"admin@rapport.test"}
    assert Notification.objects.get().text == "Grace Hopper opened “The role”"


def test_a_portal_visit_notifies(world):
    activity_record(type="portal.visited", candidate=world["applicant"], payload={})

    notifications_from_timeline()

    assert Notification.objects.get(user=world["recruiter"]).text == "Grace Hopper visited their candidate portal"


def test_other_events_and_erased_people_notify_no_one(world, reply_from):
    applicant = world["applicant"]
    activity_record(type="note.added", candidate=applicant, actor=world["admin"], payload={})
    reply_from(applicant)
    candidate_erase(actor=world["admin"], candidate=applicant)

    assert notifications_from_timeline() == 0
    assert not Notification.objects.exists()


def test_the_embedded_worker_runs_the_consumer(world, reply_from):
    from rapport.common.embedded_worker import run_once

    reply_from(world["applicant"])
    run_once()

    assert told(world["applicant"]) == {"recruiter@rapport.test"}
