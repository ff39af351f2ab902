"""Tasks in a real browser: `g t` opens the list, a task is added with a person picked by search, overdue ones
come first, one click checks a task off, and the page fits a phone."""

import os
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from rapport.automation.models import Task
from rapport.automation.services import task_create
from tests.factories import make_candidate

pytestmark = pytest.mark.browser

# Set to a folder to keep screenshots of the page (desktop and phone) for a look by eye.
SHOTS = os.environ.get("RAPPORT_SCREENSHOTS", "")


def test_add_with_a_person_check_off_and_the_sidebar_count(signed_in_page, recruiter):
    grace = make_candidate(actor=recruiter, first_name="Grace", last_name="Hopper", emails=["grace@example.org"])
    overdue = task_create(actor=recruiter, data={"title": "Chase the references"})
    Task.objects.filter(pk=overdue.pk).update(due_at=timezone.now() - timedelta(hours=2))
    task_create(actor=recruiter, data={"title": "Prepare the offer", "due_date": "2099-01-31"})
    page = signed_in_page

    page.keyboard.press("g")
    page.keyboard.press("t")
    page.wait_for_url("**/tasks/")
    rows = page.locator(".task-row")
    expect(rows.first).to_contain_text("Chase the references")
    expect(rows.first).to_have_class("task-row is-overdue")
    expect(page.locator("#tasks-count")).to_contain_text("1")
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/tasks-desktop.png", full_page=True)

    page.get_by_label("Task", exact=True).fill("Call Grace about the offer")
    page.get_by_label("Person (optional)").fill("Hopper")
    page.get_by_role("radio", name="Grace Hopper").check()
    page.get_by_role("button", name="Add task").click()

    expect(page.locator("#task-results")).to_contain_text("Call Grace about the offer")
    expect(page.get_by_label("Task", exact=True)).to_have_value("")
    assert Task.objects.get(title="Call Grace about the offer").candidate == grace
    expect(page.locator("#tasks-count")).to_have_attribute("title", "1 overdue of 3 open")

    page.get_by_role("button", name="Mark done: Chase the references").click()

    expect(page.locator("#task-results")).not_to_contain_text("Chase the references")
    expect(page.locator("#tasks-count")).to_have_attribute("title", "2 open")
    assert Task.objects.get(pk=overdue.pk).completed_by == recruiter


def test_the_page_fits_a_phone(signed_in_page, recruiter):
    task_create(actor=recruiter, data={"title": "Call back the candidate who asked about relocation"})
    page = signed_in_page
    page.set_viewport_size({"width": 375, "height": 740})

    page.goto("/tasks/")

    expect(page.locator(".task-row")).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/tasks-phone.png", full_page=True)


def test_the_profile_card_adds_and_checks_off_tasks_about_the_person(signed_in_page, recruiter):
    grace = make_candidate(actor=recruiter, first_name="Grace", last_name="Hopper", emails=["grace@example.org"])
    page = signed_in_page

    page.goto(f"/candidates/{grace.pk}/")
    card = page.locator("#side-tasks")
    expect(card).to_contain_text("No open tasks about Grace")
    card.get_by_text("Add task").first.click()
    card.get_by_label("Task", exact=True).fill("Send Grace the offer")
    card.get_by_role("button", name="Add task").click()

    expect(page.locator("#side-tasks")).to_contain_text("Send Grace the offer")
    if SHOTS:
        page.locator("#side-tasks").screenshot(path=f"{SHOTS}/tasks-profile-card.png")
    page.locator("#side-tasks").get_by_role("button", name="Mark done: Send Grace the offer").click()

    expect(page.locator("#side-tasks")).to_contain_text("No open tasks about Grace")
    assert Task.objects.get().completed_at is not None
