"""Email in: a received email lands on the right person's thread (by reply-address token, headers or sender), waits
for triage when no one matches, and is kept raw and flagged when it cannot be read."""

from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parseaddr

import pytest
from django.core.files.storage import default_storage

from rapport.messaging.channels.email.inbound import (
    inbound_email_accept,
    reply_address_for,
    reply_token_make,
    reply_token_read,
    strip_quoted,
)
from rapport.messaging.channels.email.transport import build_email
from rapport.messaging.models import InboundEmail, InboundStatus, Message, MessageDirection
from rapport.messaging.services import message_send
from rapport.timeline.models import Activity

_count = iter(range(1, 10_000))


def mail(
    *,
    sender: str = "Grace Hopper <grace@example.org>",
    to: str = "replies@rapport.test",
    subject: str = "Re: Hello",
    text: str | None = "Yes, gladly.",
    html: str | None = None,
    headers: dict[str, str] | None = None,
    attachments: list[tuple[str, bytes, str]] = (),
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = f"<reply-{next(_count)}@mail.example.org>"
    for name, value in (headers or {}).items():
        del message[name]
        message[name] = value
    if text is not None:
        message.set_content(text)
    if html is not None:
        if text is None:
            message.set_content(html, subtype="html")
        else:
            message.add_alternative(html, subtype="html")
    for filename, content, content_type in attachments:
        maintype, subtype = content_type.split("/")
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return bytes(message)


def accept(raw: bytes) -> InboundEmail:
    return inbound_email_accept(raw=raw, source="test", external_id=f"id-{next(_count)}")


@pytest.fixture
def sent(recruiter, person):
    return message_send(actor=recruiter, candidate=person, subject="Hello", body="Are you open to a chat?")


def test_a_reply_is_threaded_by_in_reply_to_even_from_another_address(sent, person):
    inbound = accept(mail(sender="G. Hopper <grace@navy.example>", headers={"In-Reply-To": sent.message_id}))

    assert inbound.status == InboundStatus.MATCHED
    reply = inbound.message
    assert reply.candidate == person and reply.direction == MessageDirection.INBOUND
    assert reply.in_reply_to == sent.message_id
    # The thread's person, but what was written is kept as written.
    assert reply.from_address == "grace@navy.example" and inbound.from_name == "G. Hopper"
    event = Activity.objects.get(type="message.received", candidate=person)
    assert event.payload["in_reply_to_id"] == sent.pk


def test_a_reply_is_threaded_by_references_when_in_reply_to_is_missing(sent, person):
    inbound = accept(mail(sender="nobody@elsewhere.example", headers={"References": f"<old@x> {sent.message_id}"}))

    assert inbound.status == InboundStatus.MATCHED
    assert inbound.message.candidate == person
    assert Activity.objects.get(type="message.received").payload["in_reply_to_id"] == sent.pk


def test_outgoing_email_asks_for_replies_at_a_tokened_address_that_threads_the_reply(settings, sent, person):
    settings.RAPPORT_REPLY_ADDRESS = "replies@rapport.test"
    outgoing = message_from_bytes(build_email(sent).message().as_bytes(), policy=policy.default)
    name, reply_to = parseaddr(str(outgoing["Reply-To"]))
    assert reply_to.startswith("replies+") and reply_to.endswith("@rapport.test")
    assert name.startswith("Riley Recruiter")

    # The person's client dropped every threading header and they wrote from an address we do not know.
    inbound = accept(mail(sender="someone@unknown.example", to=reply_to.upper(), subject="no subject"))

    assert inbound.status == InboundStatus.MATCHED
    assert inbound.message.candidate == person and inbound.message.in_reply_to == sent.message_id


def test_without_a_reply_mailbox_replies_go_to_the_sender(settings, sent, recruiter):
    settings.RAPPORT_REPLY_ADDRESS = ""

    outgoing = build_email(sent).message()

    assert parseaddr(str(outgoing["Reply-To"]))[1] == recruiter.email


def test_a_token_that_was_tampered_with_matches_nothing(settings, sent):
    settings.RAPPORT_REPLY_ADDRESS = "replies@rapport.test"
    token = reply_token_make(sent.pk)
    forged = token[:-1] + ("a" if token[-1] != "a" else "b")

    inbound = accept(mail(sender="someone@unknown.example", to=f"replies+{forged}@rapport.test"))

    assert reply_token_read(token) == sent.pk and reply_token_read(forged) is None
    assert reply_token_read("not-a-token") is None and reply_token_read("") is None
    assert inbound.status == InboundStatus.UNKNOWN_SENDER
    assert reply_address_for(sent.pk) == f"replies+{token}@rapport.test"


def test_a_new_email_from_a_known_address_lands_on_their_thread(person):
    inbound = accept(mail(sender="GRACE@example.org", subject="A question"))

    assert inbound.status == InboundStatus.MATCHED
    assert inbound.message.candidate == person and inbound.message.in_reply_to == ""
    person.refresh_from_db()
    assert person.engagement_score > 0


def test_an_unknown_sender_waits_for_triage_with_the_raw_mail_kept(db):
    raw = mail(sender="Lin Stranger <lin@unknown.example>", subject="Your job ad", text="Is it still open?")

    inbound = accept(raw)

    assert inbound.status == InboundStatus.UNKNOWN_SENDER and inbound.message is None
    assert (inbound.from_address, inbound.from_name) == ("lin@unknown.example", "Lin Stranger")
    assert inbound.subject == "Your job ad" and inbound.text == "Is it still open?"
    assert bytes(InboundEmail.objects.get(pk=inbound.pk).raw) == raw
    assert not Message.objects.exists()


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b"\x00garbage", "no sender"),
        (b"To: replies@rapport.test\r\nSubject: who am I\r\n\r\nNo sender here.\r\n", "no sender"),
        (b"From: not an address\r\nSubject: x\r\n\r\nbody\r\n", "could not be read"),
    ],
)
def test_mail_that_cannot_be_read_is_stored_raw_and_flagged(db, raw, error):
    inbound = accept(raw)

    stored = InboundEmail.objects.get(pk=inbound.pk)
    assert stored.status == InboundStatus.MALFORMED and error in stored.error
    assert bytes(stored.raw) == raw
    assert not Message.objects.exists()


def test_attachments_are_stored_with_the_reply(settings, tmp_path, person):
    settings.MEDIA_ROOT = tmp_path
    raw = mail(
        sender="grace@example.org",
        attachments=[("cv.pdf", b"%PDF-1.4 cv", "application/pdf"), ("photo.png", b"\x89PNG..", "image/png")],
    )

    inbound = accept(raw)

    stored = {a.filename: a for a in inbound.message.attachments.all()}
    assert set(stored) == {"cv.pdf", "photo.png"}
    assert stored["cv.pdf"].content_type == "application/pdf" and stored["cv.pdf"].size == len(b"%PDF-1.4 cv")
    assert default_storage.open(stored["cv.pdf"].file.name).read() == b"%PDF-1.4 cv"
    assert inbound.message.text == "Yes, gladly."
    assert Activity.objects.get(type="message.received").payload["attachments"] == 2


def test_the_quoted_earlier_message_is_stripped_from_the_reply_but_kept_raw(person):
    text = (
        "Sounds good, Tuesday works.\n\nGrace\n\n"
        "On Mon, 1 Dec 2026 at 10:00, Riley Recruiter <recruiter@rapport.test>\nwrote:\n"
        "> Are you open to a chat?\n>\n> Riley\n"
    )

    inbound = accept(mail(sender="grace@example.org", text=text))

    assert inbound.message.text == "Sounds good, Tuesday works.\n\nGrace"
    assert b"> Are you open to a chat?" in bytes(InboundEmail.objects.get(pk=inbound.pk).raw)


def test_answers_written_between_quoted_lines_are_kept_whole():
    inline = "On Mon, Riley wrote:\n> When can you start?\nIn March.\n> Salary?\nLet us talk."
    plain_quote = "Fine.\nOn Mon, Riley wrote:\n> Hello\n"
    no_attribution = "Fine.\n> Hello"

    assert strip_quoted(inline) == inline
    assert strip_quoted(plain_quote) == "Fine."
    assert strip_quoted(no_attribution) == no_attribution


def test_an_html_only_reply_gets_its_text_from_the_html(person):
    html = "<html><head><style>p{color:red}</style></head><body><p>Hello <b>there</b></p><p>Line&nbsp;two</p></body>"

    inbound = accept(mail(sender="grace@example.org", text=None, html=html))

    assert inbound.message.text == "Hello there\n\nLine two"
    assert "<p>" in inbound.message.html


def test_the_same_email_accepted_twice_is_filed_once(sent):
    raw = mail(sender="grace@example.org", headers={"In-Reply-To": sent.message_id})

    first = inbound_email_accept(raw=raw, source="imap", external_id="7:42")
    again = inbound_email_accept(raw=raw, source="imap", external_id="7:42")

    assert first.pk == again.pk
    assert InboundEmail.objects.count() == 1
    assert Message.objects.filter(direction=MessageDirection.INBOUND).count() == 1
    assert Activity.objects.filter(type="message.received").count() == 1


def test_the_same_email_by_two_routes_is_one_reply_on_the_thread(sent):
    raw = mail(sender="grace@example.org", headers={"In-Reply-To": sent.message_id})

    by_imap = inbound_email_accept(raw=raw, source="imap", external_id="7:42")
    by_hook = inbound_email_accept(raw=raw, source="postmark", external_id="abc")

    assert by_imap.pk != by_hook.pk and by_imap.message_id == by_hook.message_id
    assert Message.objects.filter(direction=MessageDirection.INBOUND).count() == 1


@pytest.mark.parametrize(
    "headers",
    [{"Auto-Submitted": "auto-replied"}, {"X-Autoreply": "yes"}, {"Precedence": "bulk"}, {"Precedence": "auto_reply"}],
)
def test_automatic_replies_are_kept_but_do_not_count_as_the_person_replying(sent, person, headers):
    inbound = accept(mail(sender="grace@example.org", subject="Out of office", headers=headers))

    assert inbound.status == InboundStatus.DISMISSED and inbound.error == "Automatic reply"
    assert inbound.message is None and inbound.subject == "Out of office"
    assert not Message.objects.filter(direction=MessageDirection.INBOUND).exists()
    person.refresh_from_db()
    assert person.engagement_score == 0


def test_auto_submitted_no_is_a_person_writing(person):
    inbound = accept(mail(sender="grace@example.org", headers={"Auto-Submitted": "no"}))

    assert inbound.status == InboundStatus.MATCHED


def test_a_copy_of_our_own_message_is_not_a_reply(sent):
    inbound = accept(mail(sender="recruiter@rapport.test", headers={"Message-ID": sent.message_id}))

    assert inbound.status == InboundStatus.DISMISSED
    assert not Message.objects.filter(direction=MessageDirection.INBOUND).exists()


def test_replies_to_an_erased_person_wait_for_triage(recruiter, sent, person):
    from rapport.candidates.services import candidate_erase

    candidate_erase(actor=None, candidate=person)

    inbound = accept(mail(sender="grace@example.org", headers={"In-Reply-To": sent.message_id}))

    assert inbound.status == InboundStatus.UNKNOWN_SENDER


def test_nul_bytes_and_unknown_charsets_do_not_stop_a_reply_being_filed(person):
    raw = (
        b"From: Grace \xc3\xa9 <grace@example.org>\r\n"
        b"To: replies@rapport.test\r\n"
        b"Subject: Re: Hello\x00 there\r\n"
        b"Message-ID: <odd-1@mail.example.org>\r\n"
        b"Content-Type: text/plain; charset=x-unknown-charset\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n"
        b"\r\n"
        b"Caf\xc3\xa9\x00 at ten?\r\n"
    )

    inbound = accept(raw)

    assert inbound.status == InboundStatus.MATCHED
    assert inbound.message.text == "Café at ten?" and inbound.message.subject == "Re: Hello there"
    assert inbound.from_name == "Grace é"


def test_without_an_id_from_the_source_the_content_keeps_it_idempotent(person):
    raw = mail(sender="grace@example.org")

    first = inbound_email_accept(raw=raw, source="hook", external_id="")
    again = inbound_email_accept(raw=raw, source="hook", external_id="  ")
    long_id = inbound_email_accept(raw=raw, source="hook", external_id="x" * 300)

    assert first.pk == again.pk and first.external_id.startswith("sha256:")
    assert len(long_id.external_id) <= 255 and long_id.pk != first.pk
    assert Message.objects.filter(direction=MessageDirection.INBOUND).count() == 1
