"""The career site on a phone: browse the open jobs, open one, apply with a résumé, and see the thank-you page."""

from pathlib import Path

import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from rapport.candidates.models import Candidate
from rapport.careers.models import JobQuestion
from rapport.pipeline.models import Application
from tests.careers.conftest import TINY_PDF
from tests.factories import make_job

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone_page(browser, live_server, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    cache.clear()
    context = browser.new_context(base_url=live_server.url, viewport=PHONE, is_mobile=True, has_touch=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()
    cache.clear()


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_apply_from_a_phone(phone_page, recruiter, tmp_path):
    make_job(
        actor=recruiter,
        title="Senior Backend Engineer",
        department="Engineering",
        location="Berlin",
        description="Build **APIs** for recruiters.",
    )
    make_job(actor=recruiter, title="Product Designer", department="Design", workplace_type="remote")
    make_job(actor=recruiter, title="Unannounced Role", status="draft")
    resume = tmp_path / "ada-lovelace.pdf"
    resume.write_bytes(TINY_PDF)
    page = phone_page

    # Given the career list, reached from a shared link that names its source
    page.goto("/careers/?utm_source=newsletter")
    expect(page.get_by_role("heading", name="2 open jobs")).to_be_visible()
    expect(page.get_by_text("Unannounced Role")).to_have_count(0)
    assert no_horizontal_scroll(page)

    # When the visitor searches and opens a job
    page.get_by_role("searchbox", name="Search").fill("backend")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name="1 open job")).to_be_visible()
    page.get_by_role("link", name="Senior Backend Engineer").click()
    expect(page.get_by_role("heading", name="Senior Backend Engineer", level=1)).to_be_visible()
    expect(page.locator(".prose strong")).to_have_text("APIs")
    assert no_horizontal_scroll(page)

    # And applies with a résumé, first forgetting the consent box
    page.get_by_role("link", name="Apply for this job").first.click()
    page.get_by_label("First name").fill("Ada")
    page.get_by_label("Last name").fill("Lovelace")
    page.get_by_label("Email").fill("ada@example.org")
    page.get_by_label("Résumé").set_input_files(str(resume))
    page.get_by_role("button", name="Send application").click()
    expect(page.get_by_text("Please agree to the privacy notice")).to_be_visible()
    assert not Candidate.objects.exists()
    page.get_by_label("Résumé").set_input_files(str(resume))
    page.get_by_label("I agree that").check()
    page.get_by_role("button", name="Send application").click()

    # Then they are thanked, and the person and application exist with the link's source
    expect(page.get_by_role("heading", name="Thank you for applying")).to_be_visible()
    assert no_horizontal_scroll(page)
    application = Application.objects.select_related("candidate", "job").get()
    assert application.job.title == "Senior Backend Engineer"
    assert application.source == "newsletter"
    assert application.candidate.full_name == "Ada Lovelace"
    assert application.candidate.attachments.get().original_name == "ada-lovelace.pdf"


AXE = Path(__file__).parent / "vendor" / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


@pytest.fixture
def axe_page(browser, live_server, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    # axe is injected as an inline script, which our Content-Security-Policy rightly blocks on real visits.
    context = browser.new_context(base_url=live_server.url, viewport=PHONE, bypass_csp=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def axe_violations(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_AA)
    return [
        {"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]]} for v in result["violations"]
    ]


def test_career_pages_have_no_accessibility_violations(axe_page, recruiter):
    job = make_job(
        actor=recruiter,
        title="Senior Backend Engineer",
        department="Engineering",
        location="Berlin",
        description="## The role\n\nBuild **APIs**.\n\n- one\n- two",
    )
    JobQuestion.objects.create(job=job, text="Can you work in the EU?", kind="yes_no", required=True)
    JobQuestion.objects.create(job=job, text="Why us?", kind="text", position=1)
    page = axe_page
    apply_url = f"/careers/jobs/{job.pk}-senior-backend-engineer/apply/"

    pages = {
        "list": "/careers/",
        "empty list": "/careers/?q=astronaut",
        "job": f"/careers/jobs/{job.pk}-senior-backend-engineer/",
        "apply": apply_url,
        "join": "/careers/join/",
    }
    for name, url in pages.items():
        page.goto(url)
        assert axe_violations(page) == [], name

    # The apply form with its errors shown is checked too: errors must be announced and tied to their fields.
    page.goto(apply_url)
    page.get_by_role("button", name="Send application").click()
    expect(page.get_by_text("Please check the fields marked below.")).to_be_visible()
    assert axe_violations(page) == [], "apply with errors"
