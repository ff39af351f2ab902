"""Sequences and triggers in a real browser: build a two-step sequence in the builder (a step added with a button,
no script needed), activate it, enrol a person found with the picker, see them on the enrolments page and the
touch on their profile's "Upcoming" card; switch a trigger off and on again from the list."""

import os

import pytest
from playwright.sync_api import expect

from rapport.automation.models import Enrolment, Sequence, SequenceStatus, Trigger
from rapport.automation.services_triggers import trigger_create
from rapport.messaging.services import message_template_create
from tests.factories import make_candidate

pytestmark = pytest.mark.browser

SHOTS = os.environ.get("RAPPORT_SCREENSHOTS", "")


def _template(actor, name):
    return message_template_create(
        actor=actor,
        data={"name": name, "channel": "email", "subject": "Hello", "body": "Hi {{ candidate.first_name }}"},
    )


def test_build_a_sequence_enrol_a_person_and_see_the_upcoming_touch(signed_in_page, recruiter):
    grace = make_candidate(actor=recruiter, first_name="Grace", last_name="Hopper", emails=["grace@example.org"])
    _template(recruiter, "First outreach")
    _template(recruiter, "Gentle follow-up")
    page = signed_in_page

    page.keyboard.press("g")
    page.keyboard.press("q")
    page.wait_for_url("**/sequences/")
    expect(page.get_by_text("No sequences yet")).to_be_visible()
    page.get_by_role("link", name="Build a sequence").click()

    page.get_by_label("Name", exact=True).fill("Berlin nurture")
    page.get_by_label("Template", exact=True).select_option(label="First outreach (Email)")
    page.get_by_role("button", name="Wait").click()  # adds a step: the form comes back with what was typed
    expect(page.locator(".sequence-step")).to_have_count(2)
    expect(page.get_by_label("Name", exact=True)).to_have_value("Berlin nurture")
    page.locator("#steps-1-amount").fill("2")
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/sequence-builder.png", full_page=True)
    page.get_by_role("button", name="Create sequence").click()

    expect(page.locator("[data-toast]").filter(has_text="Created the sequence")).to_be_visible()
    sequence = Sequence.objects.get()
    assert [(s.type, s.config) for s in sequence.steps.order_by("position")] == [
        ("message", {"channel": "email"}),
        ("wait", {"days": 2}),
    ]
    page.get_by_role("button", name="Activate").click()
    expect(page.locator("h1 .badge")).to_have_text("Active")
    assert Sequence.objects.get().status == SequenceStatus.ACTIVE

    page.get_by_role("link", name="Enrolments").click()
    page.get_by_label("Find a person", exact=True).fill("Hopper")
    page.get_by_role("radio", name="Grace Hopper").check()
    page.get_by_role("button", name="Enrol", exact=True).click()
    expect(page.locator("[data-toast]").filter(has_text="Enrolled 1 person")).to_be_visible()
    row = page.locator("tr[data-enrolment]")
    expect(row).to_contain_text("Grace Hopper")
    expect(row).to_contain_text("Active")
    expect(row).to_contain_text("Step 1: Send a message · First outreach")
    assert Enrolment.objects.get().candidate == grace
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/sequence-enrolments.png", full_page=True)

    row.get_by_role("link", name="Grace Hopper").click()
    card = page.locator("#side-upcoming")
    expect(card).to_contain_text("First outreach")
    expect(card).to_contain_text("Berlin nurture")
    if SHOTS:
        card.screenshot(path=f"{SHOTS}/upcoming-card.png")
        page.goto(f"/sequences/{sequence.pk}/stats/")
        page.screenshot(path=f"{SHOTS}/sequence-stats.png", full_page=True)

    page.goto(f"/sequences/{sequence.pk}/enrolments/")
    page.get_by_role("button", name="Take Grace Hopper out").click()
    page.locator("#confirm-dialog [data-confirm-ok]").click()
    expect(page.locator("tr[data-enrolment]")).to_contain_text("Exited")
    expect(page.locator("tr[data-enrolment]")).to_contain_text("Taken out by hand")


def test_switch_a_trigger_off_and_on(signed_in_page, recruiter):
    template = _template(recruiter, "Kind rejection")
    trigger = trigger_create(
        actor=recruiter,
        data={
            "name": "AAA rejected: a kind message",
            "event": "application.rejected",
            "action": "send_message",
            "template_id": str(template.pk),
            "enabled": True,
        },
    )
    page = signed_in_page

    page.keyboard.press("g")
    page.keyboard.press("r")
    page.wait_for_url("**/triggers/")
    switch = page.get_by_role("switch", name="AAA rejected: a kind message: on")
    expect(switch).to_have_attribute("aria-checked", "true")
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/triggers.png", full_page=True)
        page.goto(f"/triggers/{trigger.pk}/")
        page.screenshot(path=f"{SHOTS}/trigger-form.png", full_page=True)
        page.goto("/triggers/")
        switch = page.get_by_role("switch", name="AAA rejected: a kind message: on")

    switch.click()
    off = page.get_by_role("switch", name="AAA rejected: a kind message: off")
    expect(off).to_have_attribute("aria-checked", "false")
    expect(page.locator("[data-toast]").filter(has_text="is off")).to_be_visible()
    assert Trigger.objects.get(pk=trigger.pk).enabled is False

    page.reload()
    page.get_by_role("switch", name="AAA rejected: a kind message: off").click()
    expect(page.get_by_role("switch", name="AAA rejected: a kind message: on")).to_have_attribute(
        "aria-checked", "true"
    )
    assert Trigger.objects.get(pk=trigger.pk).enabled is True


def test_the_pages_fit_a_phone(signed_in_page, recruiter):
    page = signed_in_page
    page.set_viewport_size({"width": 375, "height": 740})

    for url, button in (("/sequences/new/", "Create sequence"), ("/triggers/new/", "Create trigger")):
        page.goto(url)
        assert page.evaluate("document.documentElement.scrollWidth") <= 375, url
        expect(page.get_by_role("button", name=button)).to_be_visible()
    page.goto("/triggers/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
