"""The candidate pages in a real browser: search, open a profile, add a note, keyboard shortcuts, phone widths."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from rapport.candidates.models import Candidate
from rapport.timeline.models import Note
from tests.factories import make_candidate, make_job

pytestmark = pytest.mark.browser


@pytest.fixture
def people(recruiter):
    job = make_job(actor=recruiter, title="Platform Engineer")
    from rapport.pipeline.services import application_create

    grace = make_candidate(
        actor=recruiter,
        first_name="Grace",
        last_name="Hopper",
        emails=["grace@example.org"],
        current_title="Compiler Engineer",
        skills=["cobol", "compilers"],
        location={"city": "Arlington", "country": "US"},
        timezone="America/New_York",
    )
    application_create(actor=recruiter, candidate=grace, job=job)
    alan = make_candidate(actor=recruiter, first_name="Alan", last_name="Turing", emails=["alan@example.org"])
    return {"grace": grace, "alan": alan, "job": job}


def _no_reload_marker(page):
    page.evaluate("window.__sameDocument = true")


def _same_document(page) -> bool:
    return page.evaluate("window.__sameDocument === true")


def test_search_open_profile_and_add_a_note_without_reload(signed_in_page, people):
    page = signed_in_page
    page.goto("/")
    rows = page.locator("[data-row]")
    expect(rows).to_have_count(2)

    # Searching refreshes the table in place and keeps the URL shareable.
    _no_reload_marker(page)
    page.get_by_label("Search", exact=True).fill("hopper")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Grace Hopper")
    expect(page).to_have_url(re.compile(r"q=hopper"))
    assert _same_document(page)

    page.get_by_role("link", name="Grace Hopper").click()
    expect(page.get_by_role("heading", name="Grace Hopper")).to_be_visible()
    expect(page.locator("#side-applications")).to_contain_text("Platform Engineer")

    _no_reload_marker(page)
    page.get_by_label("Note").fill("Prefers **remote** work; follow up in March.")
    page.get_by_role("button", name="Save").click()
    first_item = page.locator("#timeline-list .timeline__item").first
    expect(first_item).to_contain_text("added a note")
    expect(first_item.locator("strong", has_text="remote")).to_be_visible()
    expect(page.locator("[data-toast]").filter(has_text="Note added.")).to_be_visible()
    expect(page.get_by_label("Note")).to_have_value("")
    assert _same_document(page)
    assert Note.objects.filter(candidate=people["grace"], body__contains="remote").exists()


def test_add_to_a_job_from_the_profile_dialog(signed_in_page, people, recruiter):
    make_job(actor=recruiter, title="Data Engineer")
    grace = people["grace"]
    page = signed_in_page
    page.goto(f"/candidates/{grace.pk}/")

    # The Email panel's form has a job menu too; with both on the page, each label still names its own menu.
    page.locator(".profile-actions").get_by_role("button", name="Email").click()
    expect(page.locator("#email-compose").get_by_label("About the job")).to_be_visible()
    open_dialog = page.locator(".profile-actions").get_by_role("button", name="Add to job")
    open_dialog.click()
    dialog = page.locator("#add-to-job")
    # The menu is fetched as the dialog opens, and offers only the jobs Grace is not on.
    menu = dialog.get_by_label("Job")
    expect(menu).to_be_focused()
    expect(menu.locator("option", has_text="Platform Engineer")).to_have_count(0)
    menu.select_option(label="Data Engineer")
    dialog.get_by_role("button", name="Add to job").click()

    expect(page.locator("[data-toast]").filter(has_text="Added to Data Engineer.")).to_be_visible()
    expect(dialog).not_to_be_visible()
    expect(page.locator("#side-applications")).to_contain_text("Data Engineer")
    open_dialog.click()
    expect(dialog).to_contain_text("There is no open job Grace is not already on.")


def test_a_panel_that_cannot_be_fetched_says_so_and_retries_when_opened_again(signed_in_page, people):
    grace = people["grace"]
    page = signed_in_page
    page.goto(f"/candidates/{grace.pk}/")
    # Panels that load on their own (the message thread) must have arrived before the person disappears.
    page.wait_for_load_state("networkidle")
    grace.erased_at = timezone.now()  # out of everyone's sight from now on: the fragment answers 404
    grace.save(update_fields=["erased_at"])

    page.locator(".profile-actions").get_by_role("button", name="Add to pool").click()

    dialog = page.locator("#add-to-pool")
    expect(dialog.locator(".alert--danger")).to_have_text(
        "This part could not be loaded. Close it and open it again to retry."
    )
    expect(page.locator("[data-toast]").filter(has_text="no longer exists").first).to_be_visible()
    page.keyboard.press("Escape")
    Candidate.objects.filter(pk=grace.pk).update(erased_at=None)
    page.locator(".profile-actions").get_by_role("button", name="Add to pool").click()
    expect(dialog.get_by_text("No pools to add to.")).to_be_visible()


def test_log_a_call_from_the_quick_action(signed_in_page, people):
    page = signed_in_page
    page.goto(f"/candidates/{people['grace'].pk}/")
    page.get_by_role("button", name="Log call").click()
    expect(page.get_by_role("tab", name="Call")).to_have_attribute("aria-selected", "true")
    page.get_by_label("Note").fill("Talked about the team.")
    page.get_by_label("Minutes").fill("20")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#timeline-list .timeline__item").first).to_contain_text("logged a call with Grace (20 min)")


def test_slash_focuses_search_and_question_mark_lists_shortcuts(signed_in_page, people):
    page = signed_in_page
    page.goto(f"/candidates/{people['grace'].pk}/")
    page.locator("body").click(position={"x": 5, "y": 300})
    page.keyboard.press("/")
    expect(page.locator("#global-search")).to_be_focused()
    page.keyboard.press("Escape")
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
    page.keyboard.press("Escape")

    page.goto("/")
    page.keyboard.press("/")
    expect(page.locator("#list-q")).to_be_focused()


def test_keyboard_moves_through_the_list_and_opens_a_person(signed_in_page, people):
    page = signed_in_page
    page.goto("/?sort=name")
    page.keyboard.press("j")
    page.keyboard.press("j")
    expect(page.locator("[data-row].is-cursor")).to_contain_text("Alan Turing")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/candidates/{people['alan'].pk}/$"))
    # The URL changes when the profile starts loading; its shortcuts listen once its script has run.
    page.wait_for_load_state()
    page.keyboard.press("e")
    expect(page).to_have_url(re.compile(rf"/candidates/{people['alan'].pk}/edit/$"))


def test_bulk_tag_from_the_selection_bar(signed_in_page, people):
    page = signed_in_page
    page.goto("/")
    bar = page.locator("[data-bulk-bar]")
    expect(bar).to_be_hidden()
    page.get_by_label("Select all on this page").check()
    expect(bar).to_be_visible()
    expect(bar).to_contain_text("2 selected")
    bar.get_by_role("button", name="Tag").click()
    page.get_by_label("Tag", exact=True).last.fill("shortlist")
    page.get_by_role("button", name="Add tag").click()
    expect(page.locator("[data-toast]").filter(has_text="Tagged 2 people")).to_be_visible()
    expect(page.locator("#candidate-results .chip", has_text="shortlist")).to_have_count(2)
    assert Candidate.objects.filter(candidate_tags__tag__name="shortlist").count() == 2


def test_inline_validation_shows_the_error_when_leaving_a_field(signed_in_page, people):
    page = signed_in_page
    page.goto(f"/candidates/{people['alan'].pk}/edit/")
    page.get_by_label("Time zone").fill("Mars/Olympus")
    page.get_by_label("Skills").focus()
    expect(page.locator("#field-timezone .field__error")).to_contain_text("is not a time zone")
    assert Candidate.objects.get(pk=people["alan"].pk).timezone == ""


def test_destructive_action_asks_first(signed_in_page, people, recruiter):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from rapport.candidates.services import attachment_add

    attachment_add(
        actor=recruiter,
        candidate=people["grace"],
        upload=SimpleUploadedFile("cv.pdf", b"%PDF-1.4 test"),
        kind="resume",
    )
    page = signed_in_page
    page.goto(f"/candidates/{people['grace'].pk}/")
    page.get_by_role("button", name="Delete cv.pdf").click()
    dialog = page.get_by_role("dialog", name="Delete this file?")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Cancel").click()
    expect(page.locator("#side-attachments")).to_contain_text("cv.pdf")
    page.get_by_role("button", name="Delete cv.pdf").click()
    page.get_by_role("dialog", name="Delete this file?").get_by_role("button", name="Delete file").click()
    expect(page.locator("#side-attachments")).not_to_contain_text("cv.pdf")


@pytest.mark.parametrize("width", [360, 390])
def test_phone_width_has_no_horizontal_scroll(signed_in_page, people, width):
    page = signed_in_page
    page.set_viewport_size({"width": width, "height": 844})
    for path in ["/", f"/candidates/{people['grace'].pk}/", "/candidates/new/"]:
        page.goto(path)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, (path, overflow)
    # The navigation is behind the menu button on a phone.
    page.goto("/")
    expect(page.get_by_role("link", name="Jobs")).not_to_be_in_viewport()
    page.get_by_role("button", name="Open navigation").click()
    expect(page.get_by_role("link", name="Jobs")).to_be_in_viewport()
