"""Message templates in a real browser: write one, watch the live preview follow the typing, save it."""

import pytest
from playwright.sync_api import expect

from rapport.messaging.models import MessageTemplate
from tests.factories import make_candidate, make_job

pytestmark = pytest.mark.browser


def test_create_a_template_with_a_live_preview(signed_in_page, recruiter):
    make_job(actor=recruiter, title="Platform Engineer")
    make_candidate(actor=recruiter, first_name="Grace", last_name="Hopper", emails=["grace@example.org"])
    page = signed_in_page

    page.goto("/templates/")
    expect(page.get_by_text("No message templates yet")).to_be_visible()
    page.get_by_role("link", name="Write a template").click()
    page.get_by_label("Name").fill("Interview invite")
    page.locator("#id_subject").fill("Interview for {{ job.title }}")
    page.get_by_label("Body").fill("Hi {{ candidate.first_name }}, shall we meet?")
    page.get_by_label("Job").select_option(label="Platform Engineer")

    preview = page.locator("#preview")
    expect(preview.locator("[data-preview-subject]")).to_have_text("Interview for Platform Engineer")
    frame = page.frame_locator("#preview iframe")
    expect(frame.locator("body")).to_contain_text("Hi Grace, shall we meet?")

    page.get_by_label("Body").fill("Hi {{ candidate.frist_name }}")
    expect(preview.locator("[data-preview-problems]")).to_contain_text("unknown field candidate.frist_name")

    page.get_by_label("Body").fill("Hi {{ candidate.first_name }}, see you soon.")
    expect(frame.locator("body")).to_contain_text("Hi Grace, see you soon.")
    page.get_by_role("button", name="Create template").click()
    expect(page.locator("[data-toast]").filter(has_text="Created the template")).to_be_visible()
    assert MessageTemplate.objects.get().body == "Hi {{ candidate.first_name }}, see you soon."
