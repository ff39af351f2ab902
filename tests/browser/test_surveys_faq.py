"""Surveys and the FAQ assistant in a real browser: answer a survey from its link on a phone and see the result on
the results page; ask the career site's FAQ (answered, then passed on); axe-core on the survey and FAQ pages."""

from pathlib import Path

import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from rapport.candidates.models import Candidate
from rapport.faq.services import faq_entry_create
from rapport.messaging.models import Message
from rapport.pipeline.services import application_create
from rapport.surveys.links import survey_token
from rapport.surveys.models import SurveyResponse
from rapport.surveys.services import survey_create, survey_send
from tests.factories import make_candidate, make_job

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


@pytest.fixture
def phone(browser, live_server):
    cache.clear()
    # bypass_csp only lets the tests inject axe-core as an inline script; the pages themselves need no exception.
    context = browser.new_context(
        base_url=live_server.url, viewport=PHONE, is_mobile=True, has_touch=True, bypass_csp=True
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()
    cache.clear()


def axe_violations(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_AA)
    return [
        {"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]]} for v in result["violations"]
    ]


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.fixture
def sent_survey(recruiter):
    job = make_job(actor=recruiter, title="Backend Engineer", department="Engineering")
    grace = make_candidate(actor=recruiter, first_name="Grace", last_name="Hopper", emails=["grace@example.org"])
    application = application_create(actor=recruiter, candidate=grace, job=job)
    survey = survey_create(
        actor=recruiter,
        data={
            "name": "Interview experience",
            "moment": "after_interview",
            "questions": [
                {"kind": "csat", "text": "How was your interview?"},
                {"kind": "nps", "text": "How likely are you to recommend us?"},
                {"kind": "choice", "text": "How did you hear of us?", "choices": ["Website", "A friend"]},
                {"kind": "text", "text": "What could we do better?", "required": False},
            ],
        },
    )
    invitation = survey_send(survey=survey, candidate=grace, application=application)
    return survey, f"/surveys/answer/{survey_token(invitation.pk)}/"


def test_answer_a_survey_on_a_phone_and_see_it_in_the_results(phone, signed_in_page, sent_survey):
    survey, link = sent_survey
    page = phone

    # Given the link from the invitation, opened on a phone
    page.goto(link)
    expect(page.get_by_role("heading", name="Interview experience", level=1)).to_be_visible()
    assert no_horizontal_scroll(page)

    # When the person forgets a question, they are told which one
    page.get_by_role("group", name="How was your interview?").get_by_role("radio", name="4", exact=True).check()
    page.get_by_role("button", name="Send answers").click()
    expect(page.get_by_text("Please answer the questions marked below.")).to_be_visible()
    nps = page.get_by_role("group", name="How likely are you to recommend us?")
    expect(nps.get_by_role("alert")).to_have_text("Please answer this question.")

    # And then answers everything
    nps.get_by_role("radio", name="9", exact=True).check()
    page.get_by_role("group", name="How did you hear of us?").get_by_label("A friend").check()
    page.get_by_label("What could we do better?").fill("Send the agenda earlier.")
    page.get_by_role("button", name="Send answers").click()

    # Then they are thanked, and the link takes no second answer
    expect(page.get_by_role("heading", name="Thank you for your answers")).to_be_visible()
    page.goto(link)
    expect(page.get_by_role("heading", name="You already answered this survey")).to_be_visible()
    assert SurveyResponse.objects.count() == 1

    # And the recruiter sees the answer on the results page, charts included
    results = signed_in_page
    results.goto("/surveys/")
    results.get_by_role("link", name="Interview experience", exact=True).click()
    expect(results.get_by_text("1 answer", exact=True)).to_be_visible()
    expect(results.locator("[data-csat-average]")).to_have_text("4.00")
    expect(results.locator("[data-nps]")).to_have_text("100")
    expect(results.get_by_role("img", name="Answers to “How was your interview?”")).to_be_visible()
    expect(results.get_by_text("Send the agenda earlier.")).to_be_visible()
    results.get_by_role("combobox", name="Job").select_option(label="Backend Engineer")
    results.get_by_role("button", name="Filter").click()
    expect(results.get_by_text("1 answer", exact=True)).to_be_visible()


def test_ask_the_faq_on_the_career_site(phone, recruiter):
    faq_entry_create(
        actor=recruiter,
        data={
            "question": "How long does the interview process take?",
            "answer": "Usually **three weeks**.",
            "published": True,
        },
    )
    make_job(actor=recruiter, title="Backend Engineer")
    page = phone

    page.goto("/careers/")
    widget = page.locator("#faq-widget")
    widget.get_by_label("Your question").fill("How long is the interview process?")
    widget.get_by_role("button", name="Ask").click()
    expect(page.locator("#faq-widget [data-faq-answer] strong")).to_have_text("three weeks")
    assert page.url.endswith("/careers/")  # HTMX swapped the widget in place

    widget = page.locator("#faq-widget")
    widget.get_by_label("Your question").fill("Can I bring my dog to the office?")
    widget.get_by_role("button", name="Ask").click()
    expect(page.get_by_text("Sorry, I don't know the answer to that yet.")).to_be_visible()
    page.get_by_label("Your email").fill("ada@example.org")
    page.get_by_role("button", name="Send my question to a recruiter").click()
    expect(page.locator("[data-faq-passed-on]")).to_be_visible()
    assert no_horizontal_scroll(page)
    lead = Candidate.objects.get()
    assert Message.objects.get(candidate=lead).text.startswith("Can I bring my dog to the office?")


def test_survey_and_faq_pages_have_no_accessibility_violations(phone, recruiter, sent_survey):
    _, link = sent_survey
    faq_entry_create(
        actor=recruiter,
        data={"question": "Can I work remotely?", "answer": "Most roles are hybrid.", "published": True},
    )
    page = phone

    page.goto(link)
    assert axe_violations(page) == [], "survey"
    page.get_by_role("button", name="Send answers").click()
    expect(page.get_by_text("Please answer the questions marked below.")).to_be_visible()
    assert axe_violations(page) == [], "survey with errors"

    page.goto("/careers/")
    assert axe_violations(page) == [], "career list with the FAQ widget"
    page.get_by_label("Your question").fill("Can I work remotely?")
    page.get_by_role("button", name="Ask").click()
    expect(page.locator("[data-faq-answer]")).to_be_visible()
    assert axe_violations(page) == [], "FAQ answer"
    page.get_by_label("Your question").fill("Is there parking for bicycles?")
    page.get_by_role("button", name="Ask").click()
    expect(page.get_by_label("Your email")).to_be_visible()
    assert axe_violations(page) == [], "FAQ pass-on form"
