"""Email from the profile in a real browser: pick a template, preview it, send it, see it in Messages."""

import pytest
from playwright.sync_api import expect

from rapport.messaging.models import Message
from rapport.messaging.services import message_template_create
from tests.factories import make_candidate

pytestmark = pytest.mark.browser


def test_compose_from_a_template_preview_and_send(signed_in_page, recruiter):
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

    page.goto(f"/candidates/{person.pk}/")
    page.get_by_role("button", name="Email", exact=True).click()
    panel = page.locator("#email-compose")
    # The form is fetched as the panel opens, and its first field takes the focus.
    expect(panel.get_by_label("Send by")).to_be_focused()
    panel.get_by_label("Template").select_option(label="First outreach")
    expect(panel.get_by_label("Subject")).to_have_value("A role for {{ candidate.first_name }}")

    panel.get_by_role("button", name="Preview").click()
    expect(panel.locator("[data-preview-subject]")).to_have_text("A role for Grace")
    expect(panel.frame_locator("iframe").locator("body")).to_contain_text("Hi Grace, do you have a minute?")

    panel.get_by_role("button", name="Send now").click()
    expect(page.locator("[data-toast]").filter(has_text="Queued to send.")).to_be_visible()
    messages = page.locator("#person-messages")
    expect(messages).to_contain_text("A role for Grace")
    expect(messages.locator("[data-message-status]")).to_have_text("Queued")
    expect(page.locator("#timeline-list")).to_contain_text("wrote an email to Grace: A role for Grace")
    assert Message.objects.get().subject == "A role for Grace"
