"""Inbox state and views: whose replies are "mine", unassigned, all, snoozed and done; the actions on them; who may."""

import zoneinfo
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from rapport.common.errors import NotFound, PermissionDenied, ValidationFailed
from rapport.messaging.models import Message
from rapport.messaging.selectors_inbox import (
    inbox_list,
    inbox_message_get_for_user,
    inbox_unread_count,
    snooze_presets,
    snooze_until,
)
from rapport.messaging.services import message_send
from rapport.messaging.services_inbound import message_receive
from rapport.messaging.services_inbox import (
    inbox_assign,
    inbox_mark_done,
    inbox_mark_read,
    inbox_mark_thread_read,
    inbox_mark_unread,
    inbox_snooze,
)
from rapport.pipeline.services import application_create
from rapport.timeline.models import AuditEntry
from tests.factories import UserFactory, make_candidate, make_job


def _reply(person, *, text="Sounds good", parent=None, channel="email", at=None):
    return message_receive(
        candidate=person,
        channel=channel,
        from_address=f"{person.first_name.lower()}@example.org",
        subject="Re: Hello",
        text=text,
        parent=parent,
        received_at=at,
    )


def _ids(page):
    return [m.pk for m in page.items]


@pytest.fixture
def colleague(db):
    return UserFactory(email="colleague@rapport.test", name="Casey Colleague")


@pytest.fixture
def replies(recruiter, colleague):
    """One reply per way a reply can be the recruiter's, plus one that belongs to a colleague."""
    owned = make_candidate(actor=recruiter, first_name="Owned", emails=["owned@example.org"])
    stranger = make_candidate(actor=colleague, first_name="Stranger", emails=["stranger@example.org"])
    answered = make_candidate(actor=colleague, first_name="Answered", emails=["answered@example.org"])
    applicant = make_candidate(actor=colleague, first_name="Applicant", emails=["applicant@example.org"])
    job = make_job(actor=recruiter, title="Data Engineer")
    application = application_create(actor=recruiter, candidate=applicant, job=job)
    sent = message_send(actor=recruiter, candidate=answered, subject="Hello", body="Hi")
    message_send(actor=recruiter, candidate=applicant, subject="About the role", body="Hi", job=job)
    about_job = message_receive(
        candidate=applicant, channel="sms", from_address="+4915112345678", text="Interested", received_at=None
    )
    Message.objects.filter(pk=about_job.pk).update(application=application, job=job)
    base = timezone.now() - timedelta(hours=1)
    return {
        "owned": _reply(owned, at=base),
        "answered": _reply(answered, parent=sent, at=base + timedelta(minutes=1)),
        "about_job": Message.objects.get(pk=about_job.pk),
        "stranger": _reply(stranger, at=base + timedelta(minutes=2)),
    }


def test_mine_holds_my_people_replies_to_my_messages_and_my_applications(recruiter, colleague, replies):
    mine = inbox_list(user=recruiter, view="mine")
    theirs = inbox_list(user=colleague, view="mine")

    assert set(_ids(mine)) == {replies[k].pk for k in ("owned", "answered", "about_job")}
    # The colleague owns three of these people, but the recruiter wrote to two of them: both see those.
    assert set(_ids(theirs)) == {replies[k].pk for k in ("answered", "about_job", "stranger")}
    assert _ids(inbox_list(user=recruiter, view="all")) == [
        m.pk for m in sorted(replies.values(), key=lambda m: (m.created_at, m.pk), reverse=True)
    ]


def test_assigning_moves_a_reply_to_the_assignee_and_writes_an_audit_line(recruiter, colleague, replies):
    owned = replies["owned"]

    changed = inbox_assign(actor=recruiter, messages=[owned], assignee=colleague)
    again = inbox_assign(actor=recruiter, messages=[owned], assignee=colleague)

    assert changed == 1 and again == 0
    assert owned.pk not in _ids(inbox_list(user=recruiter, view="mine"))
    assert owned.pk in _ids(inbox_list(user=colleague, view="mine"))
    assert owned.pk not in _ids(inbox_list(user=recruiter, view="unassigned"))
    entry = AuditEntry.objects.get(object_type="message", object_id=str(owned.pk))
    assert entry.actor == recruiter and entry.changes == {"assigned_to_id": [None, colleague.pk]}

    inbox_assign(actor=recruiter, messages=[owned], assignee=None)
    assert owned.pk in _ids(inbox_list(user=recruiter, view="unassigned"))
    assert AuditEntry.objects.filter(object_type="message").count() == 2


def test_only_admins_and_recruiters_can_be_assigned(recruiter, hiring_manager, replies):
    with pytest.raises(ValidationFailed) as exc:
        inbox_assign(actor=recruiter, messages=[replies["owned"]], assignee=hiring_manager)

    assert "assigned_to" in exc.value.fields
    assert not AuditEntry.objects.filter(object_type="message").exists()


def test_done_leaves_the_open_views_and_can_be_undone(recruiter, replies):
    owned = replies["owned"]

    inbox_mark_done(actor=recruiter, messages=[owned])

    assert owned.pk not in _ids(inbox_list(user=recruiter, view="mine"))
    assert owned.pk not in _ids(inbox_list(user=recruiter, view="all"))
    assert _ids(inbox_list(user=recruiter, view="done")) == [owned.pk]
    inbox_mark_done(actor=recruiter, messages=[owned], done=False)
    assert owned.pk in _ids(inbox_list(user=recruiter, view="mine"))


def test_a_snoozed_reply_hides_until_its_time_and_then_comes_back_unread(recruiter, replies):
    owned = replies["owned"]
    inbox_mark_read(actor=recruiter, messages=[owned])
    now = timezone.now()
    until = now + timedelta(days=1)

    inbox_snooze(actor=recruiter, messages=[owned], until=until)

    assert owned.pk not in _ids(inbox_list(user=recruiter, view="mine", now=now))
    assert _ids(inbox_list(user=recruiter, view="snoozed", now=now)) == [owned.pk]
    later = until + timedelta(minutes=1)
    assert owned.pk in _ids(inbox_list(user=recruiter, view="mine", now=later))
    assert owned.pk not in _ids(inbox_list(user=recruiter, view="snoozed", now=later))
    owned.refresh_from_db()
    assert owned.read_at is None and owned.snoozed_until == until


@pytest.mark.parametrize(
    "until, message",
    [
        (lambda now: now - timedelta(minutes=1), "Pick a time in the future."),
        (lambda now: now + timedelta(days=400), "Snooze for at most a year."),
        (lambda now: datetime(2030, 1, 1, 8), "Give the time with its time zone."),
    ],
)
def test_snooze_refuses_times_that_make_no_sense(recruiter, replies, until, message):
    with pytest.raises(ValidationFailed) as exc:
        inbox_snooze(actor=recruiter, messages=[replies["owned"]], until=until(timezone.now()))

    assert exc.value.fields == {"snoozed_until": [message]}


def test_read_and_unread(recruiter, replies):
    owned = replies["owned"]
    assert inbox_unread_count(user=recruiter) == 3

    inbox_mark_thread_read(actor=recruiter, candidate=owned.candidate)
    owned.refresh_from_db()
    first_read = owned.read_at
    inbox_mark_read(actor=recruiter, messages=[owned])

    owned.refresh_from_db()
    assert first_read is not None and owned.read_at == first_read
    assert inbox_unread_count(user=recruiter) == 2
    inbox_mark_unread(actor=recruiter, messages=[owned])
    assert inbox_unread_count(user=recruiter) == 3


def test_actions_refuse_outbound_messages_and_roles_without_an_inbox(recruiter, hiring_manager, person):
    outbound = message_send(actor=recruiter, candidate=person, subject="Hi", body="x")
    reply = _reply(person)

    with pytest.raises(ValidationFailed):
        inbox_mark_done(actor=recruiter, messages=[outbound])
    with pytest.raises(PermissionDenied):
        inbox_mark_done(actor=hiring_manager, messages=[reply])
    with pytest.raises(PermissionDenied):
        inbox_mark_thread_read(actor=hiring_manager, candidate=person)
    reply.refresh_from_db()
    assert reply.done_at is None and reply.read_at is None


def test_replies_of_erased_people_are_out_of_scope(recruiter, replies):
    owned = replies["owned"]
    owned.candidate.erased_at = timezone.now()
    owned.candidate.save(update_fields=["erased_at"])

    assert owned.pk not in _ids(inbox_list(user=recruiter, view="all"))
    with pytest.raises(NotFound):
        inbox_message_get_for_user(user=recruiter, message_id=owned.pk)
    with pytest.raises(NotFound):
        inbox_mark_done(actor=recruiter, messages=[owned])


@pytest.mark.parametrize("role", ["hiring_manager", "interviewer", "outsider"])
def test_other_roles_see_no_inbox(world, role):
    _reply(world["applicant"])

    assert inbox_list(user=world[role], view="all").items == []
    assert inbox_unread_count(user=world[role]) == 0


def test_snooze_presets_are_eight_in_the_morning_in_the_team_time_zone(settings):
    settings.RAPPORT_DEFAULT_TIMEZONE = "Europe/Berlin"
    zone = zoneinfo.ZoneInfo("Europe/Berlin")
    # 00:30 on Thursday in Berlin is still Wednesday in UTC: "tomorrow" is read in the team's zone, so Friday.
    thursday_night = datetime(2026, 12, 3, 0, 30, tzinfo=zone)
    monday_morning = datetime(2026, 12, 7, 7, 0, tzinfo=zone)

    presets = snooze_presets(now=thursday_night)
    from_monday = snooze_presets(now=monday_morning)
    chosen = snooze_until(choice="date", on_date="2026-12-24", now=thursday_night)

    assert presets["tomorrow"] == datetime(2026, 12, 4, 8, 0, tzinfo=zone)
    assert presets["monday"] == datetime(2026, 12, 7, 8, 0, tzinfo=zone)
    assert from_monday["monday"] == datetime(2026, 12, 14, 8, 0, tzinfo=zone)
    assert chosen == datetime(2026, 12, 24, 8, 0, tzinfo=zone)
    with pytest.raises(ValidationFailed) as exc:
        snooze_until(choice="date", on_date="not a date")
    assert "snooze_date" in exc.value.fields
