"""A whole conversation in a real browser: email a person from a template, the outbox delivers it to a real SMTP
server, the person replies, the reply waits in the inbox, and the recruiter answers inline from the thread."""

import pytest
from playwright.sync_api import expect

from rapport.messaging.models import Message, MessageDirection, MessageStatus
from rapport.messaging.selectors import candidate_for_address, thread_parent
from rapport.messaging.services import message_template_create, outbox_deliver_due
from rapport.messaging.services_inbound import message_receive
from tests.factories import make_candidate
from tests.messaging.conftest import SmtpServer, free_port

pytestmark = pytest.mark.browser


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on loopback that the outbox delivers to."""
    server = SmtpServer(free_port())
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    yield server
    server.stop()


def test_send_get_a_reply_triage_it_and_answer_inline(signed_in_page, recruiter, smtp_server):
    person = make_candidate(actor=recruiter, first_name="Grace", last_name="Hopper", emails=["grace@example.org"])
    message_template_create(
        actor=recruiter,
        data={
            "name": "First outreach",
            "channel": "email",
            "subject": "A role for {{ candidate.first_name }}",
            "body": "Hi {{ candidate.first_name }}, do you have a minute?",
        },
    )
    page = signed_in_page

    # Given an email composed from a template, previewed and sent from the profile
    page.goto(f"/candidates/{person.pk}/")
    page.get_by_role("button", name="Email", exact=True).click()
    panel = page.locator("#email-compose")
    panel.get_by_label("Template").select_option(label="First outreach")
    # Picking a template swaps the panel in; wait for it before previewing, or the swap would wipe the preview.
    expect(panel.get_by_label("Subject")).to_have_value("A role for {{ candidate.first_name }}")
    panel.get_by_role("button", name="Preview").click()
    expect(panel.locator("[data-preview-subject]")).to_have_text("A role for Grace")
    panel.get_by_role("button", name="Send now").click()
    expect(page.locator("[data-toast]").filter(has_text="Queued to send.")).to_be_visible()
    conversation = page.get_by_role("region", name="Conversation")
    expect(conversation.get_by_role("article", name="To Grace, Email")).to_contain_text("A role for Grace")

    # and delivered by the outbox to a real SMTP server
    assert outbox_deliver_due() == 1
    delivered = smtp_server.messages[0]
    assert delivered["To"] == "grace@example.org"

    # When the person replies to it, as an inbound mail would arrive
    in_reply_to = delivered["Message-ID"]
    message_receive(
        candidate=candidate_for_address(channel="email", address="grace@example.org"),
        channel="email",
        from_address="grace@example.org",
        subject="Re: A role for Grace",
        text="Yes, I would love to hear more.",
        message_id="<reply-1@mail.example.org>",
        in_reply_to=in_reply_to,
        parent=thread_parent(in_reply_to=in_reply_to),
    )

    # Then it waits, unread, in the recruiter's inbox (the sidebar counts it too)
    page.goto("/inbox/")
    expect(page.get_by_role("link", name="Inbox")).to_contain_text("1")
    row = page.get_by_role("row").filter(has_text="Grace Hopper")
    expect(row).to_contain_text("Yes, I would love to hear more.")
    expect(row.get_by_text("Unread", exact=True)).to_be_visible()

    # and opening it shows the reply in the person's thread, after the email it answers
    row.get_by_role("link", name="Grace Hopper").click()
    conversation = page.get_by_role("region", name="Conversation")
    reply = conversation.get_by_role("article", name="From Grace, Email")
    expect(reply).to_contain_text("Yes, I would love to hear more.")
    expect(conversation.get_by_role("article", name="To Grace, Email").get_by_text("Sent", exact=True)).to_be_visible()

    # Back in the inbox it is read now; selected, the bulk bar marks it unread again
    page.goto("/inbox/")
    row = page.get_by_role("row").filter(has_text="Grace Hopper")
    expect(row.get_by_text("Unread", exact=True)).to_have_count(0)
    row.get_by_role("checkbox", name="Select the reply from Grace Hopper").check()
    bulk = page.get_by_role("region", name="Bulk actions")
    bulk.get_by_label("More actions for the selected replies").click()
    bulk.get_by_role("button", name="Mark the selected replies unread").click()
    expect(page.locator("[data-toast]").filter(has_text="Marked 1 reply unread.")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="Grace Hopper")
    expect(row.get_by_text("Unread", exact=True)).to_be_visible()

    # and marking it done takes it out of Mine
    row.get_by_role("button", name="Mark the reply from Grace Hopper done").click()
    expect(page.locator("[data-toast]").filter(has_text="Marked 1 reply done.")).to_be_visible()
    expect(page.get_by_text("No replies waiting. When people reply to you, their messages land here.")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="Grace Hopper")).to_have_count(0)

    # Finally the recruiter answers inline from the thread, sending with Ctrl+Enter
    page.goto(f"/candidates/{person.pk}/")
    conversation = page.get_by_role("region", name="Conversation")
    expect(conversation.get_by_label("Subject")).to_have_value("Re: A role for Grace")
    conversation.get_by_label("Reply").fill("Wonderful, how about a call on Tuesday?")
    conversation.get_by_label("Reply").press("Control+Enter")
    expect(page.locator("[data-toast]").filter(has_text="Reply queued to send.")).to_be_visible()
    sent = conversation.get_by_role("article", name="To Grace, Email").filter(has_text="how about a call on Tuesday")
    expect(sent.get_by_text("Queued", exact=True)).to_be_visible()
    answer = Message.objects.get(direction=MessageDirection.OUTBOUND, text__contains="Tuesday")
    assert answer.in_reply_to == "<reply-1@mail.example.org>" and answer.status == MessageStatus.QUEUED
