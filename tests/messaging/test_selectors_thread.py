"""A person's conversation: every channel in and out plus logged calls and meetings, in order, paged by keyset."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from rapport.common.errors import BadRequest, NotFound
from rapport.messaging.models import Message, MessageDirection, MessageStatus
from rapport.messaging.selectors_thread import candidate_thread, message_chip, thread_reply_defaults
from rapport.messaging.services import message_send
from rapport.messaging.services_inbound import message_receive
from rapport.timeline.models import Activity
from rapport.timeline.services import note_add
from tests.factories import make_candidate

T0 = timezone.now().replace(microsecond=0) - timedelta(days=3)


def _at(minutes: int):
    return T0 + timedelta(minutes=minutes)


def _receive(person, *, channel="email", text="Hi", subject="", minutes=0, parent=None):
    address = "grace@example.org" if channel == "email" else "+4915112345678"
    return message_receive(
        candidate=person,
        channel=channel,
        from_address=address,
        subject=subject,
        text=text,
        parent=parent,
        received_at=_at(minutes),
    )


def _log(person, actor, *, kind="call", body="Talked", minutes=0):
    note = note_add(actor=actor, candidate=person, body=body, kind=kind, extra={"duration_minutes": 15})
    Activity.objects.filter(payload__note_id=note.pk).update(occurred_at=_at(minutes))
    return note


def _describe(page):
    return [
        (item.kind, item.message.channel if item.message else None, item.message.direction if item.message else None)
        for item in page.items
    ]


def test_the_thread_interleaves_every_channel_and_logged_calls_oldest_first(recruiter, person):
    sent = message_send(actor=recruiter, candidate=person, subject="Hello", body="Are you open to a chat?")
    Message.objects.filter(pk=sent.pk).update(created_at=_at(0))
    _receive(person, channel="sms", text="Yes! Call me", minutes=10)
    _log(person, recruiter, kind="call", body="Good call, wants remote", minutes=20)
    _receive(person, channel="whatsapp", text="Thanks for the call", minutes=30)
    _log(person, recruiter, kind="meeting", body="Met for coffee", minutes=40)
    note_add(actor=recruiter, candidate=person, body="A plain note stays on the timeline only")

    page = candidate_thread(user=recruiter, candidate=person)

    assert _describe(page) == [
        ("message", "email", MessageDirection.OUTBOUND),
        ("message", "sms", MessageDirection.INBOUND),
        ("call", None, None),
        ("message", "whatsapp", MessageDirection.INBOUND),
        ("meeting", None, None),
    ]
    assert page.items[2].note.body == "Good call, wants remote"
    assert page.earlier_cursor is None


def test_show_earlier_walks_back_through_every_item_once_even_when_times_tie(recruiter, person):
    # Seven items share each minute, so page boundaries fall between equal timestamps.
    rows = [
        Message(
            candidate=person,
            channel=["email", "sms", "whatsapp"][i % 3],
            direction=MessageDirection.INBOUND if i % 2 else MessageDirection.OUTBOUND,
            status=MessageStatus.RECEIVED if i % 2 else MessageStatus.SENT,
            to_address="x",
            text=f"message {i}",
            message_id=f"<{uuid.uuid4().hex}@test>",
            created_at=_at(i // 7),
        )
        for i in range(130)
    ]
    Message.objects.bulk_create(rows)
    for minute in range(0, 18, 3):
        _log(person, recruiter, minutes=minute)

    seen = []
    before = None
    pages = 0
    while True:
        page = candidate_thread(user=recruiter, candidate=person, before=before, limit=50)
        pages += 1
        assert len(page.items) <= 50
        seen = [item.sort_key for item in page.items] + seen
        before = page.earlier_cursor
        if before is None:
            break

    assert pages == 3
    assert len(seen) == 136 and len(set(seen)) == 136
    assert seen == sorted(seen)


def test_the_newest_page_holds_the_newest_fifty(recruiter, person):
    for minute in range(60):
        _receive(person, text=f"reply {minute}", minutes=minute)

    page = candidate_thread(user=recruiter, candidate=person)

    assert [item.message.text for item in page.items] == [f"reply {m}" for m in range(10, 60)]
    assert page.earlier_cursor is not None


def test_people_out_of_scope_and_roles_that_do_not_message_get_not_found(world):
    applicant = world["applicant"]

    assert candidate_thread(user=world["recruiter"], candidate=applicant).items == []
    for role in ("hiring_manager", "interviewer", "outsider"):
        with pytest.raises(NotFound):
            candidate_thread(user=world[role], candidate=applicant)


def test_a_tampered_cursor_is_a_bad_request(recruiter, person):
    with pytest.raises(BadRequest):
        candidate_thread(user=recruiter, candidate=person, before="bm90LWpzb24")


def test_a_reply_goes_by_the_channel_of_the_last_reply_else_the_preferred_one(recruiter):
    texter = make_candidate(
        actor=recruiter,
        first_name="Kai",
        phones=["+4915112345678"],
        emails=["kai@example.org"],
        preferred_channel="sms",
    )
    caller = make_candidate(actor=recruiter, first_name="Lee", emails=["lee@example.org"], preferred_channel="phone")
    no_number = make_candidate(
        actor=recruiter, first_name="Mo", emails=["mo@example.org"], preferred_channel="whatsapp"
    )

    assert thread_reply_defaults(user=recruiter, candidate=texter).channel == "sms"
    assert thread_reply_defaults(user=recruiter, candidate=caller).channel == "email"
    assert thread_reply_defaults(user=recruiter, candidate=no_number).channel == "email"

    _receive(texter, channel="whatsapp", text="Hi there", minutes=5)
    defaults = thread_reply_defaults(user=recruiter, candidate=texter)
    assert defaults.channel == "whatsapp" and defaults.subject == ""
    assert defaults.reply_to.text == "Hi there"


def test_an_email_reply_answers_the_newest_email_with_re_subject(recruiter, person):
    sent = message_send(actor=recruiter, candidate=person, subject="Platform role", body="Interested?")
    Message.objects.filter(pk=sent.pk).update(created_at=_at(0))
    reply = _receive(person, subject="Re: Platform role", text="Maybe", minutes=5, parent=sent)

    defaults = thread_reply_defaults(user=recruiter, candidate=person)

    assert defaults.channel == "email" and defaults.reply_to == reply
    assert defaults.subject == "Re: Platform role"


def test_the_status_chip_shows_opens_and_clicks_over_sent(recruiter, person):
    message = message_send(actor=recruiter, candidate=person, subject="Hi", body="x")
    assert message_chip(message)[0] == "queued"

    message.status = MessageStatus.SENT
    assert message_chip(message)[:2] == ("sent", "Sent")
    message.opened_at = timezone.now()
    assert message_chip(message)[0] == "opened"
    message.clicked_at = timezone.now()
    assert message_chip(message)[0] == "clicked"
    message.status = MessageStatus.BOUNCED
    assert message_chip(message) == ("bounced", "Bounced", "danger")
