"""The conversation on the profile and on its own page: items, paging, the inline reply (HTMX and plain POST),
errors that name the field, reading marks replies read, and attachment downloads only for people in scope."""

import json
import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from rapport.messaging.models import Message, MessageDirection, MessageStatus
from rapport.messaging.services import message_send
from rapport.messaging.services_inbound import IncomingAttachment, message_receive
from rapport.timeline.services import note_add

HTMX = {"HTTP_HX_REQUEST": "true"}


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _reply(person, *, text="Yes, gladly", subject="Re: Hello", parent=None, attachments=()):
    return message_receive(
        candidate=person,
        channel="email",
        from_address="grace@example.org",
        subject=subject,
        text=text,
        parent=parent,
        attachments=attachments,
    )


@pytest.fixture
def conversation(recruiter, person):
    sent = message_send(actor=recruiter, candidate=person, subject="Hello", body="Are you open to a chat?")
    Message.objects.filter(pk=sent.pk).update(created_at=timezone.now() - timedelta(hours=1))
    reply = _reply(person, parent=sent)
    return sent, reply


def test_the_profile_loads_the_conversation_in_place_of_the_messages_list(recruiter, person):
    body = _client(recruiter).get(f"/candidates/{person.pk}/").content.decode()

    assert 'id="person-messages"' in body and 'aria-labelledby="conversation-title"' in body
    assert f'hx-get="/messages/to/{person.pk}/thread/" hx-trigger="load"' in body
    assert f'href="/messages/to/{person.pk}/conversation/"' in body


def test_the_thread_shows_both_sides_with_status_and_reading_it_marks_replies_read(recruiter, person, conversation):
    sent, reply = conversation
    note_add(actor=recruiter, candidate=person, body="Called, no answer", kind="call")

    response = _client(recruiter).get(f"/messages/to/{person.pk}/thread/", **HTMX)

    body = response.content.decode()
    assert response.status_code == 200
    assert body.index(f'id="message-{sent.pk}"') < body.index(f'id="message-{reply.pk}"') < body.index("logged a call")
    assert 'data-message-status="queued"' in body and 'data-message-status="received"' in body
    assert "Riley Recruiter" in body and "grace@example.org" in body
    assert 'name="subject"' in body and 'value="Re: Hello"' in body
    reply.refresh_from_db()
    assert reply.read_at is not None


def test_a_failed_message_shows_its_reason(recruiter, person):
    message = message_send(actor=recruiter, candidate=person, subject="Hi", body="x")
    Message.objects.filter(pk=message.pk).update(status=MessageStatus.BOUNCED, last_error="550 No such user")

    body = _client(recruiter).get(f"/messages/to/{person.pk}/thread/", **HTMX).content.decode()

    assert 'data-message-status="bounced"' in body and "550 No such user" in body


def test_show_earlier_returns_the_page_before_and_the_full_page_pages_without_javascript(recruiter, person):
    Message.objects.bulk_create(
        Message(
            candidate=person,
            direction=MessageDirection.INBOUND,
            status=MessageStatus.RECEIVED,
            to_address="x",
            text=f"reply number {i}",
            message_id=f"<{uuid.uuid4().hex}@test>",
            created_at=timezone.now() - timedelta(minutes=200 - i),
        )
        for i in range(120)
    )
    client = _client(recruiter)

    first = client.get(f"/messages/to/{person.pk}/thread/", **HTMX).content.decode()
    assert "reply number 119" in first and "reply number 69" not in first
    cursor = first.split("?before=")[1].split('"')[0]

    earlier = client.get(f"/messages/to/{person.pk}/thread/?before={cursor}", **HTMX).content.decode()
    assert "reply number 69" in earlier and "reply number 20" in earlier and "reply number 70" not in earlier
    assert "Show earlier" in earlier and "<section" not in earlier

    page = client.get(f"/messages/to/{person.pk}/conversation/?before={cursor}")
    assert page.status_code == 200 and b"reply number 69" in page.content
    assert b"Back to the newest messages" in page.content


def test_a_bad_cursor_answers_400_not_500(recruiter, person):
    response = _client(recruiter).get(f"/messages/to/{person.pk}/thread/?before=%%%", **HTMX)

    assert response.status_code == 400


def test_reply_over_htmx_answers_the_latest_message_and_refreshes_the_thread(recruiter, person, conversation):
    _, reply = conversation

    response = _client(recruiter).post(
        f"/messages/to/{person.pk}/reply/",
        {"channel": "email", "subject": "Re: Hello", "body": "Great, how about Tuesday?", "idempotency_key": "r1"},
        **HTMX,
    )

    assert response.status_code == 200
    sent = Message.objects.get(direction=MessageDirection.OUTBOUND, text__contains="Tuesday")
    assert sent.in_reply_to == reply.message_id and reply.message_id in sent.references
    assert sent.subject == "Re: Hello" and sent.channel == "email" and sent.status == MessageStatus.QUEUED
    body = response.content.decode()
    assert f'id="message-{sent.pk}"' in body and 'id="thread-reply"' in body
    assert 'hx-swap-oob="afterbegin:#timeline-list"' in body
    assert json.loads(response["HX-Trigger"])["rapport:toast"]["message"] == "Reply queued to send."


def test_reply_without_javascript_redirects_to_the_conversation(recruiter, person, conversation):
    response = _client(recruiter).post(
        f"/messages/to/{person.pk}/reply/", {"channel": "email", "subject": "Re: Hello", "body": "Plain POST"}
    )

    assert response.status_code == 302
    assert response["Location"] == f"/messages/to/{person.pk}/conversation/#thread-reply"
    assert Message.objects.filter(text__contains="Plain POST").exists()


def test_an_empty_reply_is_refused_next_to_the_field_both_ways(recruiter, person, conversation):
    client = _client(recruiter)

    htmx = client.post(f"/messages/to/{person.pk}/reply/", {"channel": "email", "body": "   "}, **HTMX)
    plain = client.post(f"/messages/to/{person.pk}/reply/", {"channel": "email", "body": ""})

    assert htmx.status_code == 422 and htmx["HX-Retarget"] == "#thread-reply"
    assert 'id="reply_body_error"' in htmx.content.decode() and "Write your reply." in htmx.content.decode()
    assert plain.status_code == 422 and b'id="reply_body_error"' in plain.content
    assert b"Write your reply." in plain.content
    assert Message.objects.filter(direction=MessageDirection.OUTBOUND).count() == 1


def test_a_service_refusal_names_the_subject_field(recruiter, person):
    response = _client(recruiter).post(
        f"/messages/to/{person.pk}/reply/", {"channel": "email", "subject": "", "body": "No subject here"}, **HTMX
    )

    assert response.status_code == 422
    assert 'id="reply_subject_error"' in response.content.decode()
    assert "An email needs a subject." in response.content.decode()


def test_no_reply_box_for_someone_marked_do_not_contact(recruiter, person):
    person.relationship_status = "do_not_contact"
    person.save(update_fields=["relationship_status"])

    body = _client(recruiter).get(f"/messages/to/{person.pk}/thread/", **HTMX).content.decode()

    assert 'id="thread-reply"' not in body and "do not contact" in body


@pytest.mark.parametrize("role, status", [("hiring_manager", 403), ("interviewer", 403), ("outsider", 404)])
def test_roles_that_do_not_message_and_people_out_of_scope_are_refused(world, role, status):
    client = _client(world[role])
    applicant = world["applicant"]

    assert client.get(f"/messages/to/{applicant.pk}/thread/", **HTMX).status_code == status
    assert client.get(f"/messages/to/{applicant.pk}/conversation/").status_code == status
    assert client.post(f"/messages/to/{applicant.pk}/reply/", {"body": "x"}).status_code == status
    assert not Message.objects.exists()


def test_the_reply_needs_the_csrf_token(recruiter, person):
    client = Client(enforce_csrf_checks=True)
    client.force_login(recruiter)

    response = client.post(f"/messages/to/{person.pk}/reply/", {"channel": "email", "subject": "s", "body": "x"})

    assert response.status_code == 403 and not Message.objects.exists()


def test_attachments_download_only_for_people_in_scope(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    reply = message_receive(
        candidate=world["applicant"],
        channel="email",
        from_address="grace@example.org",
        subject="My CV",
        text="Attached",
        attachments=[IncomingAttachment("cv.html", b"<script>alert(1)</script>", "text/html")],
    )
    attachment = reply.attachments.get()

    ok = _client(world["recruiter"]).get(f"/messages/attachments/{attachment.pk}/")
    thread = _client(world["recruiter"]).get(f"/messages/to/{world['applicant'].pk}/thread/", **HTMX)

    assert ok.status_code == 200 and b"".join(ok.streaming_content) == b"<script>alert(1)</script>"
    assert ok["Content-Disposition"].startswith("attachment;") and "cv.html" in ok["Content-Disposition"]
    assert ok["Content-Security-Policy"] == "sandbox" and ok["X-Content-Type-Options"] == "nosniff"
    assert f'href="/messages/attachments/{attachment.pk}/"' in thread.content.decode()
    for role in ("hiring_manager", "interviewer", "outsider"):
        assert _client(world[role]).get(f"/messages/attachments/{attachment.pk}/").status_code == 404
    assert _client(world["recruiter"]).get("/messages/attachments/999999/").status_code == 404
    # Stored files are never reachable by a public media URL.
    assert _client(world["recruiter"]).get(f"/media/{attachment.file.name}").status_code == 404


def test_quoted_history_and_our_signature_fold_away(recruiter, person):
    message_send(actor=recruiter, candidate=person, subject="Hello", body="Are you open to a chat?")
    _reply(person, text="Yes, Tuesday works.\n\nOn Mon, 1 Dec 2026, Riley wrote:\n> Are you open to a chat?")

    body = _client(recruiter).get(f"/messages/to/{person.pk}/thread/", **HTMX).content.decode()

    written, quoted = body.split("Yes, Tuesday works.")[1].split("Quoted text", 1)
    assert "Riley wrote:" not in written and "&gt; Are you open to a chat?" in quoted
    assert "Signature and footer" in body


def test_a_text_reply_goes_back_by_the_channel_the_person_wrote_on_without_a_subject(recruiter):
    from tests.factories import make_candidate

    person = make_candidate(actor=recruiter, first_name="Kai", emails=["kai@example.org"], phones=["+4915112345678"])
    text = message_receive(candidate=person, channel="sms", from_address="+4915112345678", text="Call me?")
    client = _client(recruiter)

    thread = client.get(f"/messages/to/{person.pk}/thread/", **HTMX).content.decode()
    response = client.post(
        f"/messages/to/{person.pk}/reply/", {"channel": "sms", "subject": "ignored", "body": "Calling at 3"}, **HTMX
    )

    assert 'data-reply-channel="sms"' in thread and 'type="hidden" name="subject"' in thread
    assert response.status_code == 200
    sent = Message.objects.get(direction=MessageDirection.OUTBOUND)
    assert sent.channel == "sms" and sent.subject == "" and sent.in_reply_to == text.message_id


def test_html_only_messages_are_sanitised_again_when_shown(recruiter, person):
    Message.objects.create(
        candidate=person,
        direction=MessageDirection.INBOUND,
        status=MessageStatus.RECEIVED,
        to_address="team@example.org",
        html='<p>Hello <b>there</b><script>alert(1)</script><img src=x onerror="alert(2)"></p>',
        message_id="<legacy@example.org>",
    )

    body = _client(recruiter).get(f"/messages/to/{person.pk}/thread/", **HTMX).content.decode()

    assert "Hello <b>there</b>" in body
    assert "<script>alert(1)" not in body and "onerror" not in body
