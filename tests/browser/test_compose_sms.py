"""Texting from the profile in a real browser: switching the compose panel to SMS swaps the templates offered and
drops the subject, and the text is queued for the person's phone."""

import pytest
from playwright.sync_api import expect

from rapport.messaging.models import Message
from rapport.messaging.services import message_template_create
from tests.factories import make_candidate

pytestmark = pytest.mark.browser


def test_switch_to_sms_pick_a_text_template_preview_and_send(signed_in_page, recruiter):
    person = make_candidate(
        actor=recruiter, first_name="Grace", last_name="Hopper", emails=["grace@example.org"], phones=["+14155550101"]
    )
    for data in (
        {"name": "Email hello", "channel": "email", "subject": "Hello", "body": "Hi"},
        {"name": "Text reminder", "channel": "sms", "body": "Hi {{ candidate.first_name }}, see you at 10."},
    ):
        message_template_create(actor=recruiter, data=data)
    page = signed_in_page

    page.goto(f"/candidates/{person.pk}/")
    page.get_by_role("button", name="Email", exact=True).click()
    panel = page.locator("#email-compose")
    expect(panel.get_by_label("Subject")).to_be_visible()
    panel.get_by_label("Send by").select_option("sms")

    expect(panel.get_by_label("Subject")).to_have_count(0)
    template = panel.get_by_label("Template")
    expect(template.locator("option", has_text="Email hello")).to_have_count(0)
    template.select_option(label="Text reminder")
    expect(panel.get_by_label("Message")).to_have_value("Hi {{ candidate.first_name }}, see you at 10.")

    panel.get_by_role("button", name="Preview").click()
    expect(panel.locator("[data-preview-text]")).to_contain_text("Hi Grace, see you at 10.")

    panel.get_by_role("button", name="Send now").click()
    expect(page.locator("[data-toast]").filter(has_text="Queued to send.")).to_be_visible()
    message = Message.objects.get()
    assert (message.channel, message.to_address, message.subject) == ("sms", "+14155550101", "")
