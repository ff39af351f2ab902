"""Importing a small CSV in a real browser: upload, confirm the mapping, watch it finish, find the person."""

import pytest
from playwright.sync_api import expect

from rapport.candidates.models import Candidate, ImportJob, ImportStatus

pytestmark = pytest.mark.browser

CSV = (
    "First name;Last name;E-mail;Company;Tags\n"
    "Katherine;Johnson;kj@example.org;NASA;trajectories\n"
    "Dorothy;Vaughan;not-an-email;NASA;\n"
    "Mary;Jackson;mj@example.org;NASA;\n"
)


@pytest.fixture
def people_csv(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    path = tmp_path / "hidden-figures.csv"
    path.write_text(CSV, encoding="utf-8")
    return path


def test_import_a_small_csv_and_find_the_person(signed_in_page, people_csv):
    page = signed_in_page

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Import", exact=True).click()
    page.get_by_label("CSV file").set_input_files(str(people_csv))
    page.get_by_role("button", name="Upload and map columns").click()

    # The mapping step: columns preselected from their headers, and the bad row flagged in the preview.
    expect(page.get_by_role("heading", name="Map columns")).to_be_visible()
    expect(page.get_by_label("E-mail")).to_have_value("emails")
    expect(page.get_by_label("Company")).to_have_value("current_company")
    expect(page.locator("[data-row-invalid]")).to_have_count(1)
    expect(page.locator("[data-row-invalid]")).to_contain_text("not a valid email address")
    # Changing a column refreshes the preview (HTMX): without the email column, nothing is flagged.
    page.get_by_label("E-mail").select_option("")
    expect(page.locator("[data-row-invalid]")).to_have_count(0)
    page.get_by_label("E-mail").select_option("emails")
    expect(page.locator("[data-row-invalid]")).to_have_count(1)

    page.get_by_role("button", name="Import 3 rows").click()

    # Progress (if the file is not done at once) gives way to the report.
    expect(page.get_by_role("heading", name="Import report")).to_be_visible(timeout=20_000)
    expect(page.locator('[data-count="created"]')).to_have_text("2")
    expect(page.locator('[data-count="errors"]')).to_have_text("1")
    expect(page.locator("[data-import-errors]")).to_contain_text("not a valid email address")
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.DONE
    assert Candidate.objects.filter(last_name="Johnson", current_company="NASA").exists()

    search = page.get_by_label("Search candidates")
    search.fill("Johnson")
    search.press("Enter")
    expect(page.get_by_role("link", name="Katherine Johnson").first).to_be_visible()
