from django.core.files.storage import default_storage

from rapport.messaging.models import Message, MessageDirection, MessageStatus
from rapport.messaging.selectors import candidate_for_address, thread_parent
from rapport.messaging.services import message_send
from rapport.messaging.services_inbound import IncomingAttachment, message_receive
from rapport.timeline.models import Activity
from tests.factories import make_candidate


def test_a_reply_lands_on_the_thread_it_answers_with_its_attachment(db, recruiter, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    person = make_candidate(first_name="ada", emails=["ada@example.com"])
    sent = message_send(actor=recruiter, candidate=person, subject="Hello", body="Are you open to a chat?")

    parent = thread_parent(in_reply_to=sent.message_id)
    reply = message_receive(
        candidate=candidate_for_address(channel="email", address="ADA@example.com "),
        channel="email",
        from_address="ada@example.com",
        subject="Re: Hello",
        text="Yes, <b>gladly</b>",
        html="<p>Yes, <script>x()</script>gladly</p>",
        message_id="<r1@mail.example>",
        parent=parent,
        attachments=[IncomingAttachment("cv.pdf", b"%PDF-1.4", "application/pdf")],
    )

    assert reply.direction == MessageDirection.INBOUND and reply.status == MessageStatus.RECEIVED
    assert reply.candidate == person and reply.in_reply_to == sent.message_id
    assert "<script>" not in reply.html
    attachment = reply.attachments.get()
    assert attachment.size == 8 and default_storage.open(attachment.file.name).read() == b"%PDF-1.4"
    event = Activity.objects.get(type="message.received", candidate=person)
    assert event.payload["in_reply_to_id"] == sent.pk and event.payload["snippet"] == "Yes, <b>gladly</b>"
    person.refresh_from_db()
    assert person.engagement_score > 0


def test_the_same_message_received_twice_is_stored_once(db):
    person = make_candidate(first_name="bo", emails=["bo@example.com"])
    first = message_receive(candidate=person, channel="email", from_address="bo@example.com", message_id="<x@y>")
    again = message_receive(candidate=person, channel="email", from_address="bo@example.com", message_id="<x@y>")

    assert first.pk == again.pk
    assert Message.objects.filter(direction=MessageDirection.INBOUND).count() == 1
    assert Activity.objects.filter(type="message.received").count() == 1


def test_headers_naming_someone_elses_message_do_not_thread_the_reply(db, recruiter):
    person = make_candidate(first_name="cy", emails=["cy@example.com"])
    other = make_candidate(first_name="di", emails=["di@example.com"])
    sent = message_send(actor=recruiter, candidate=other, subject="Hi", body="Hi")

    reply = message_receive(
        candidate=person,
        channel="email",
        from_address="cy@example.com",
        parent=thread_parent(references=sent.message_id),
    )

    assert reply.in_reply_to == "" and reply.job is None


def test_thread_parent_prefers_in_reply_to_then_the_newest_reference(db, recruiter):
    person = make_candidate(first_name="ed", emails=["ed@example.com"])
    first = message_send(actor=recruiter, candidate=person, subject="One", body="1")
    second = message_send(actor=recruiter, candidate=person, subject="Two", body="2")

    assert thread_parent(references=f"{first.message_id} {second.message_id}") == second
    assert thread_parent(in_reply_to=first.message_id, references=second.message_id) == first
    assert thread_parent(in_reply_to="<unknown@x>") is None
