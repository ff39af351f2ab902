"""A recruiter sets up a job's screening questions, a visitor answers them, and the knock-out shows on the profile."""

import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from rapport.careers.models import JobQuestion, ScreeningAnswer
from tests.careers.conftest import TINY_PDF
from tests.factories import make_job

pytestmark = pytest.mark.browser


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_questions_are_set_up_answered_and_knock_outs_flagged(signed_in_page, recruiter, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    cache.clear()
    job = make_job(actor=recruiter, title="Senior Backend Engineer")
    resume = tmp_path / "ada.pdf"
    resume.write_bytes(TINY_PDF)
    page = signed_in_page

    # Given the job's page, the recruiter opens its screening questions and is told what they are for
    page.goto(f"/jobs/{job.pk}/")
    page.get_by_role("link", name="Screening questions").click()
    expect(page.get_by_role("heading", name="Screening questions")).to_be_visible()
    expect(page.get_by_text("No screening questions yet")).to_be_visible()
    expect(page.get_by_text("nobody is rejected automatically")).to_be_visible()

    # When they add a yes/no question whose "no" knocks an applicant out
    page.get_by_label("Question", exact=True).fill("Can you work in the EU?")
    page.get_by_label("Answer type").select_option(label="Yes / no")
    page.get_by_label("Knock-out answer").fill("no")
    page.get_by_label("Applicants must answer").check()
    page.get_by_role("button", name="Add question").click()
    expect(page.locator("[data-question-text]")).to_have_text(["Can you work in the EU?"])

    # And a choice question with a single choice, which is refused next to the field
    page.get_by_label("Question", exact=True).fill("Your level?")
    page.get_by_label("Answer type").select_option(label="Choice")
    page.get_by_label("Choices").fill("Senior")
    page.get_by_role("button", name="Add question").click()
    expect(page.locator("#field-choices .field__error")).to_have_text("Give at least two choices, one per line.")
    assert JobQuestion.objects.count() == 1

    # Then with its choices fixed it is added, and moved to the top
    page.get_by_label("Choices").fill("Junior\nSenior")
    page.get_by_label("Knock-out answer").fill("Junior")
    page.get_by_role("button", name="Add question").click()
    expect(page.locator("[data-question-text]")).to_have_text(["Can you work in the EU?", "Your level?"])
    page.get_by_role("button", name="Move “Your level?” up").click()
    expect(page.locator("[data-question-text]")).to_have_text(["Your level?", "Can you work in the EU?"])
    page.set_viewport_size({"width": 390, "height": 844})
    assert no_horizontal_scroll(page)
    page.set_viewport_size({"width": 1280, "height": 900})

    # When a visitor applies on the career site and gives the knock-out answer to the EU question
    eu = JobQuestion.objects.get(text="Can you work in the EU?")
    level = JobQuestion.objects.get(text="Your level?")
    page.goto(f"/careers/jobs/{job.pk}-senior-backend-engineer/apply/")
    page.get_by_label("First name").fill("Ada")
    page.get_by_label("Last name").fill("Lovelace")
    page.get_by_label("Email").fill("ada@example.org")
    page.get_by_label("Résumé").set_input_files(str(resume))
    page.locator(f'input[name="question_{level.pk}"][value="Senior"]').check()
    page.locator(f'input[name="question_{eu.pk}"][value="no"]').check()
    page.get_by_label("I agree that").check()
    page.get_by_role("button", name="Send application").click()
    expect(page.get_by_role("heading", name="Thank you for applying")).to_be_visible()
    knocked = ScreeningAnswer.objects.get(question=eu)
    assert knocked.knocked_out

    # Then the recruiter sees the answers on the person's profile, the knock-out flagged
    page.goto(f"/candidates/{knocked.application.candidate_id}/")
    answers = page.locator("[data-screening-answers]")
    expect(answers).to_contain_text("Screening answers (2)")
    expect(answers.locator("[data-knockout]")).to_contain_text("Can you work in the EU?")
    expect(answers.locator("[data-knockout]")).to_contain_text("Knock-out answer")
    expect(answers).to_contain_text("Senior")

    # And removing the question later keeps the answer on the application
    page.goto(f"/jobs/{job.pk}/questions/")
    page.get_by_role("button", name="Remove “Can you work in the EU?”").click()
    page.locator("#confirm-dialog").get_by_role("button", name="Remove question").click()
    expect(page.locator("[data-question-text]")).to_have_text(["Your level?"])
    page.goto(f"/candidates/{knocked.application.candidate_id}/")
    expect(page.locator("[data-knockout]")).to_contain_text("Can you work in the EU?")
