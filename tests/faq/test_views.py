"""FAQ pages: the widget on the career site and in the portal (with and without HTMX), the pass-on forms with
their honeypot and rate limits, and the management page for every role."""

import pytest
from django.test import Client

from rapport.candidates.models import Candidate
from rapport.faq.models import FaqEntry, UnansweredQuestion
from rapport.faq.services import faq_entry_create
from rapport.faq.views import ASKS_PER_WINDOW, PASS_ONS_PER_WINDOW
from rapport.messaging.models import Message
from rapport.pipeline.services import application_create
from tests.conftest import PASSWORD
from tests.factories import make_candidate, make_job
from tests.portal.conftest import sign_in

ROLES = ("admin", "recruiter", "hiring_manager", "interviewer", "outsider")
FULL = {"admin", "recruiter"}
HTMX = {"HTTP_HX_REQUEST": "true"}


def signed_in(user) -> Client:
    client = Client()
    assert client.login(email=user.email, password=PASSWORD)
    return client


def test_the_career_site_shows_the_widget(db, recruiter):
    job = make_job(actor=recruiter, title="Backend Engineer")
    for url in ("/careers/", f"/careers/jobs/{job.pk}-backend-engineer/"):
        html = Client().get(url).content.decode()
        assert 'id="faq-widget"' in html and 'action="/faq/ask/"' in html, url
    assert f'name="faq-job" value="{job.pk}"' in html


def test_asking_without_javascript_answers_on_a_full_page(entries):
    response = Client().post("/faq/ask/", {"faq-question": "How long is the interview process?"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" in html and "data-faq-answer" in html
    assert "<strong>three weeks</strong>" in html  # the Markdown answer, rendered


def test_asking_with_htmx_swaps_only_the_widget(entries):
    response = Client().post("/faq/ask/", {"faq-question": "Can I work remotely?"}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert html.strip().startswith('<section class="faq-widget') and "Most roles are hybrid" in html


def test_an_unknown_question_offers_to_pass_it_on(entries):
    response = Client().post("/faq/ask/", {"faq-question": "Is there parking for bicycles?"}, **HTMX)
    html = response.content.decode()
    assert "don&#x27;t know" in html or "don't know" in html
    assert 'action="/faq/ask/pass-on/"' in html and 'value="Is there parking for bicycles?"' in html
    assert UnansweredQuestion.objects.get().count == 1


def test_answers_are_sanitised(recruiter):
    faq_entry_create(
        actor=recruiter,
        data={"question": "Where is the office?", "answer": "In Berlin <script>alert(1)</script>", "published": True},
    )
    html = Client().post("/faq/ask/", {"faq-question": "Where is the office?"}).content.decode()
    assert "In Berlin" in html and "<script>alert(1)" not in html


def test_passing_on_from_the_career_site_creates_a_lead_and_a_message(entries):
    response = Client().post(
        "/faq/ask/pass-on/",
        {"faqp-question": "Do you pay for relocation?", "faqp-email": "ada@example.org", "faqp-first_name": "Ada"},
    )
    assert response.status_code == 200 and "data-faq-passed-on" in response.content.decode()
    lead = Candidate.objects.get()
    message = Message.objects.get(candidate=lead)
    assert message.direction == "inbound" and message.text.startswith("Do you pay for relocation?")


def test_the_career_pass_on_shows_errors_next_to_the_field(entries):
    response = Client().post("/faq/ask/pass-on/", {"faqp-question": "Relocation?", "faqp-email": "nope"})
    html = response.content.decode()
    assert response.status_code == 422
    assert 'id="id_faqp-email_error"' in html and "not a valid email" in html
    assert not Candidate.objects.exists()


def test_the_honeypot_catches_bots_quietly(entries):
    response = Client().post(
        "/faq/ask/pass-on/",
        {"faqp-question": "Buy now", "faqp-email": "bot@example.org", "faqp-website": "http://spam.example"},
    )
    assert response.status_code == 200 and "data-faq-passed-on" in response.content.decode()
    assert not Candidate.objects.exists() and not Message.objects.exists()


def test_asking_and_passing_on_are_rate_limited(entries):
    client = Client()
    for _ in range(ASKS_PER_WINDOW):
        assert client.post("/faq/ask/", {"faq-question": "remote?"}).status_code == 200
    assert client.post("/faq/ask/", {"faq-question": "remote?"}).status_code == 429
    for number in range(PASS_ONS_PER_WINDOW):
        data = {"faqp-question": "Q?", "faqp-email": f"p{number}@example.org"}
        assert client.post("/faq/ask/pass-on/", data).status_code == 200
    limited = client.post("/faq/ask/pass-on/", {"faqp-question": "Q?", "faqp-email": "late@example.org"})
    assert limited.status_code == 429 and limited["Retry-After"]
    assert Candidate.objects.count() == PASS_ONS_PER_WINDOW


# --- portal ---------------------------------------------------------------------------------------------------------


@pytest.fixture
def portal_person(recruiter):
    job = make_job(actor=recruiter, title="Backend Engineer", department="Engineering")
    grace = make_candidate(actor=recruiter, first_name="Grace", last_name="Hopper", emails=["grace@example.org"])
    application_create(actor=recruiter, candidate=grace, job=job)
    return grace, job


def test_the_portal_widget_needs_a_sign_in(db):
    response = Client().post("/faq/portal/ask/", {"faq-question": "remote?"})
    assert response.status_code == 302 and response.url == "/portal/"


def test_the_portal_answers_with_entries_for_the_persons_department(recruiter, portal_person, entries):
    grace, job = portal_person
    faq_entry_create(
        actor=recruiter,
        data={
            "question": "Is there an on-call rotation?",
            "answer": "One week in six.",
            "published": True,
            "department": "Engineering",
        },
    )
    client = sign_in(Client(), "grace@example.org")
    assert 'action="/faq/portal/ask/"' in client.get("/portal/home/").content.decode()

    html = client.post("/faq/portal/ask/", {"faq-question": "on-call rotation?"}).content.decode()

    assert "One week in six." in html


def test_passing_on_from_the_portal_lands_in_the_persons_thread(portal_person, entries):
    grace, _ = portal_person
    client = sign_in(Client(), "grace@example.org")
    unknown = client.post("/faq/portal/ask/", {"faq-question": "Can I bring my dog?"}).content.decode()
    assert 'action="/faq/portal/ask/pass-on/"' in unknown
    assert 'name="faqp-email"' not in unknown  # the portal knows who is asking

    response = client.post("/faq/portal/ask/pass-on/", {"faqp-question": "Can I bring my dog?"})

    assert response.status_code == 302 and response.url == "/portal/messages/"
    message = Message.objects.get(candidate=grace, direction="inbound")
    assert message.text.startswith("Can I bring my dog?")
    assert "Can I bring my dog?" in client.get("/portal/messages/").content.decode()


# --- management -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_the_management_pages_by_role(world, entries, role):
    client = signed_in(world[role])
    expected = 200 if role in FULL else 403
    entry = entries["remote"]
    for url in ("/faq/", "/faq/new/", f"/faq/{entry.pk}/edit/"):
        assert client.get(url).status_code == expected, url
    assert client.post(f"/faq/{entry.pk}/delete/").status_code == (302 if role in FULL else 403)
    assert FaqEntry.objects.filter(pk=entry.pk).exists() is (role not in FULL)


def test_the_management_page_lists_unanswered_questions_and_adds_one_in_a_click(world, entries):
    Client().post("/faq/ask/", {"faq-question": "Do you pay for relocation?"})
    Client().post("/faq/ask/", {"faq-question": "do you pay for relocation"})
    client = signed_in(world["recruiter"])
    item = UnansweredQuestion.objects.get()

    html = client.get("/faq/").content.decode()
    assert "do you pay for relocation" in html and "2 times" in html

    response = client.post(f"/faq/unanswered/{item.pk}/add/")
    entry = FaqEntry.objects.get(question="do you pay for relocation")
    assert response.status_code == 302 and response.url == f"/faq/{entry.pk}/edit/"
    assert "Nothing unanswered" in client.get("/faq/").content.decode()

    saved = client.post(
        f"/faq/{entry.pk}/edit/",
        {"question": entry.question, "answer": "Yes, up to 5,000 euros.", "published": "on"},
    )
    assert saved.status_code == 302
    assert "5,000 euros" in Client().post("/faq/ask/", {"faq-question": "relocation pay?"}).content.decode()


def test_publishing_without_an_answer_shows_the_error_next_to_the_field(world):
    response = signed_in(world["recruiter"]).post("/faq/new/", {"question": "Why?", "answer": "", "published": "on"})
    assert response.status_code == 422
    assert 'id="id_answer_error"' in response.content.decode()


def test_an_unanswered_question_outside_the_role_is_refused(world, entries):
    Client().post("/faq/ask/", {"faq-question": "Parking?"})
    item = UnansweredQuestion.objects.get()
    assert signed_in(world["hiring_manager"]).post(f"/faq/unanswered/{item.pk}/add/").status_code == 403
    assert signed_in(world["recruiter"]).post("/faq/unanswered/999999/add/").status_code == 404
    assert not FaqEntry.objects.filter(question="Parking?").exists()
