import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from rapport.candidates.models import Candidate, PoolMembership
from rapport.careers.models import ApplyFormStat
from rapport.careers.selectors import job_slug
from rapport.messaging.services import outbox_deliver_due
from rapport.pipeline.models import Application
from rapport.privacy.models import Consent
from tests.careers.conftest import docx_upload, pdf_upload
from tests.factories import make_job

pytestmark = pytest.mark.django_db

GOOGLE_REQUIRED = {"title", "description", "datePosted", "hiringOrganization", "identifier", "employmentType"}


def job_url(job, name="careers:job"):
    return reverse(name, kwargs={"job_id": job.pk, "slug": job_slug(job)})


def json_ld(response) -> dict:
    match = re.search(rb'<script type="application/ld\+json" id="job-posting">(.*?)</script>', response.content, re.S)
    assert match, "the job page carries a JobPosting"
    return json.loads(match.group(1))


def form_fields(response) -> dict:
    """The hidden inputs of the page's form (the CSRF token and the signed source), as a browser would send them."""
    html = response.content.decode()
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))


def apply_post(client, job, *, source_query="", resume=None, **overrides):
    page = client.get(job_url(job, "careers:apply") + source_query)
    data = {
        **form_fields(page),
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@example.org",
        "phone": "",
        "link_1": "",
        "link_2": "",
        "consent": "on",
        "website": "",
        "resume": resume or pdf_upload(),
    }
    data.update(overrides)
    return client.post(job_url(job, "careers:apply"), data)


@pytest.fixture
def client():
    return Client(enforce_csrf_checks=True)


class TestJobList:
    def test_lists_open_jobs_only_without_sign_in(self, client, open_job, remote_job, draft_job, closed_job):
        response = client.get("/careers/")

        html = response.content.decode()
        assert response.status_code == 200
        assert "Senior Backend Engineer" in html and "Product Designer" in html
        assert "Secret Future Role" not in html and "Old Closed Role" not in html
        assert "2 open jobs" in html

    def test_search_and_filters_narrow_the_list(self, client, open_job, remote_job):
        by_text = client.get("/careers/", {"q": "apis"}).content.decode()
        by_workplace = client.get("/careers/", {"workplace_type": "remote"}).content.decode()
        by_department = client.get("/careers/", {"department": "engineering"}).content.decode()
        by_type = client.get("/careers/", {"employment_type": "contract", "location": "Germany"}).content.decode()

        assert "Senior Backend Engineer" in by_text and "Product Designer" not in by_text
        assert "Product Designer" in by_workplace and "Senior Backend Engineer" not in by_workplace
        assert "Senior Backend Engineer" in by_department and "Product Designer" not in by_department
        assert "Product Designer" in by_type and "Senior Backend Engineer" not in by_type

    def test_a_remote_location_is_not_followed_by_remote_again(self, client, recruiter):
        make_job(actor=recruiter, title="Support Lead", location="Remote, EU", workplace_type="remote")

        html = client.get("/careers/").content.decode()

        assert "<span>Remote, EU</span>" in html and "<span>Remote</span>" not in html

    def test_no_match_shows_what_to_do_next(self, client, open_job):
        response = client.get("/careers/", {"q": "astronaut", "workplace_type": "nonsense", "page": "x"})

        html = response.content.decode()
        assert response.status_code == 200
        assert "No open jobs match your search" in html and reverse("careers:join") in html

    def test_the_intro_and_brand_come_from_settings(self, client, settings, open_job):
        settings.RAPPORT_CAREERS_INTRO = "We build <calm> software."
        settings.RAPPORT_BRAND_COLOUR = "#123456"

        html = client.get("/careers/").content.decode()

        assert "We build &lt;calm&gt; software." in html
        assert "--accent: #123456" in html

    def test_the_tracking_source_is_kept_on_job_links(self, client, open_job):
        html = client.get("/careers/", {"utm_source": "LinkedIn"}).content.decode()

        assert f'{job_url(open_job)}?utm_source=linkedin"' in html


class TestJobPage:
    def test_shows_sanitised_description_and_apply_link(self, client, open_job):
        response = client.get(job_url(open_job))

        html = response.content.decode()
        assert response.status_code == 200
        assert "<strong>APIs</strong>" in html
        assert "<script>alert(1)</script>" not in html
        assert job_url(open_job, "careers:apply") in html

    def test_job_posting_json_ld_has_what_google_requires(self, client, open_job):
        data = json_ld(client.get(job_url(open_job)))

        assert set(data) >= GOOGLE_REQUIRED
        assert data["@type"] == "JobPosting" and data["title"] == "Senior Backend Engineer"
        assert data["employmentType"] == "FULL_TIME"
        assert data["hiringOrganization"]["name"]
        assert data["jobLocation"]["address"]["addressLocality"] == "Berlin"
        assert data["identifier"]["value"] == str(open_job.pk)
        assert data["datePosted"] == open_job.opened_on.isoformat()
        assert "<script>" not in data["description"]

    def test_a_remote_job_is_telecommute_with_an_applicant_location(self, client, remote_job):
        data = json_ld(client.get(job_url(remote_job)))

        assert data["jobLocationType"] == "TELECOMMUTE"
        assert data["applicantLocationRequirements"]["name"] == "Germany"
        assert data["employmentType"] == "CONTRACTOR"
        assert "jobLocation" not in data

    def test_a_closing_date_becomes_valid_through(self, client, open_job):
        from datetime import timedelta

        from django.utils import timezone

        open_job.closed_on = timezone.localdate() + timedelta(days=10)
        open_job.save()

        data = json_ld(client.get(job_url(open_job)))

        assert data["validThrough"].startswith(open_job.closed_on.isoformat())

    def test_a_title_cannot_close_the_script_element(self, client, recruiter):
        from tests.factories import make_job

        job = make_job(actor=recruiter, title="Engineer </script><script>alert(1)</script>")

        response = client.get(job_url(job))

        assert b"</script><script>alert(1)" not in response.content
        assert json_ld(response)["title"] == "Engineer </script><script>alert(1)</script>"

    def test_internal_fields_do_not_leak(self, client, open_job, recruiter):
        html = client.get(job_url(open_job)).content.decode()

        assert recruiter.email not in html and recruiter.name not in html

    def test_an_old_slug_moves_to_the_job_address_keeping_the_source(self, client, open_job):
        response = client.get(f"/careers/jobs/{open_job.pk}-old-title/?utm_source=x")

        assert response.status_code == 301
        assert response["Location"] == f"{job_url(open_job)}?utm_source=x"

    @pytest.mark.parametrize("name", ["careers:job", "careers:apply", "careers:thanks"])
    def test_draft_and_closed_jobs_do_not_exist_here(self, client, draft_job, closed_job, name):
        for job in (draft_job, closed_job):
            assert client.get(job_url(job, name)).status_code == 404
        assert client.get(f"/careers/jobs/999999-{job_slug(draft_job)}/").status_code == 404

    def test_applying_to_a_draft_job_is_404_even_with_a_valid_form(self, client, open_job, draft_job):
        token = form_fields(client.get(job_url(open_job, "careers:apply")))

        response = client.post(
            job_url(draft_job, "careers:apply"),
            {**token, "first_name": "Ada", "email": "ada@example.org", "consent": "on", "resume": pdf_upload()},
        )

        assert response.status_code == 404
        assert not Candidate.objects.exists()


class TestApplyPage:
    def test_the_form_has_labels_consent_wording_and_csrf(self, client, open_job, settings):
        settings.RAPPORT_PRIVACY_NOTICE_URL = "https://example.org/privacy"

        html = client.get(job_url(open_job, "careers:apply")).content.decode()

        assert 'name="csrfmiddlewaretoken"' in html
        for label in ("First name", "Last name", "Email", "Phone", "Résumé"):
            assert f">{label}" in html
        assert "730 days" in html and "https://example.org/privacy" in html

    def test_applying_creates_the_person_and_thanks_them(self, client, open_job):
        response = apply_post(client, open_job, resume=docx_upload())

        assert response.status_code == 302 and response["Location"] == job_url(open_job, "careers:thanks")
        application = Application.objects.get(job=open_job)
        assert application.source == "careers"
        assert application.candidate.attachments.get().content_type.endswith("wordprocessingml.document")
        assert Consent.objects.filter(candidate=application.candidate, purpose="recruitment").exists()
        thanks = client.get(response["Location"])
        assert b"Thank you for applying" in thanks.content

    def test_utm_source_travels_through_the_form_to_the_application(self, client, open_job):
        apply_post(client, open_job, source_query="?utm_source=LinkedIn")

        assert Application.objects.get(job=open_job).source == "linkedin"

    def test_a_forged_source_is_ignored(self, client, open_job):
        apply_post(client, open_job, source="made-up-source")

        assert Application.objects.get(job=open_job).source == "careers"

    def test_without_a_csrf_token_nothing_is_created(self, client, open_job):
        response = client.post(
            job_url(open_job, "careers:apply"),
            {"first_name": "Ada", "email": "ada@example.org", "consent": "on", "resume": pdf_upload()},
        )

        assert response.status_code == 403
        assert not Candidate.objects.exists()

    def test_errors_name_the_field_and_keep_what_was_typed(self, client, open_job):
        response = apply_post(client, open_job, email="nope", consent="", resume=pdf_upload("cv.exe"))

        html = response.content.decode()
        assert response.status_code == 422
        assert 'id="field-email"' in html and 'aria-invalid="true"' in html
        assert "privacy notice" in html
        assert 'value="Ada"' in html
        assert not Candidate.objects.exists()

    def test_a_fake_resume_is_refused_by_its_content(self, client, open_job):
        response = apply_post(client, open_job, resume=SimpleUploadedFile("cv.pdf", b"<html>"))

        assert response.status_code == 422
        assert "PDF or a Word" in response.content.decode()
        assert not Candidate.objects.exists()

    def test_applying_again_is_answered_kindly(self, client, open_job):
        apply_post(client, open_job)

        response = apply_post(client, open_job)

        assert response.status_code == 200
        assert b"You have already applied" in response.content
        assert Application.objects.count() == 1

    def test_a_bot_filling_the_honeypot_is_thanked_and_dropped(self, client, open_job):
        response = apply_post(client, open_job, website="http://spam.example")

        assert response.status_code == 200 and b"Thank you for applying" in response.content
        assert not Candidate.objects.exists()
        assert ApplyFormStat.objects.get(job=open_job).submitted == 0

    def test_the_sixth_application_in_ten_minutes_from_one_address_is_told_to_wait(self, client, open_job):
        for n in range(5):
            assert apply_post(client, open_job, email=f"person{n}@example.org").status_code == 302

        response = apply_post(client, open_job, email="sixth@example.org")

        assert response.status_code == 429
        assert int(response["Retry-After"]) > 0
        assert b"Please wait a moment" in response.content
        assert Candidate.objects.count() == 5

    def test_opening_the_form_counts_once_per_visitor_and_success_counts_as_submitted(self, client, open_job):
        client.get(job_url(open_job, "careers:apply"))
        client.get(job_url(open_job, "careers:apply"))
        Client().get(job_url(open_job, "careers:apply"))

        apply_post(client, open_job)

        stat = ApplyFormStat.objects.get(job=open_job, source="careers")
        assert (stat.started, stat.submitted) == (2, 1)

    def test_the_acknowledgement_reaches_the_mailbox(
        self, client, open_job, smtp_server, settings, django_capture_on_commit_callbacks
    ):
        settings.RAPPORT_EMAIL_FROM = "Jobs <jobs@rapport.test>"

        with django_capture_on_commit_callbacks(execute=True):
            assert apply_post(client, open_job).status_code == 302
        outbox_deliver_due()

        [mail] = smtp_server.messages
        assert mail["To"] == "ada@example.org"
        assert "Senior Backend Engineer" in mail["Subject"]
        assert "Hi Ada" in mail.get_body(("plain",)).get_content()


class TestScreeningQuestionsOnTheForm:
    def test_questions_are_asked_and_answers_saved(self, client, open_job):
        from rapport.careers.models import JobQuestion, ScreeningAnswer

        eu = JobQuestion.objects.create(
            job=open_job, text="Can you work in the EU?", kind="yes_no", required=True, knockout_answer="no"
        )

        missing = apply_post(client, open_job)
        assert missing.status_code == 422
        assert "Can you work in the EU?" in missing.content.decode()
        assert "Please answer this question." in missing.content.decode()

        response = apply_post(client, open_job, **{f"question_{eu.pk}": "yes"})

        assert response.status_code == 302
        answer = ScreeningAnswer.objects.get(application__job=open_job)
        assert (answer.answer, answer.knocked_out) == ("yes", False)


class TestJoin:
    def test_joining_adds_a_lead_to_the_talent_community(self, client, open_job):
        page = client.get("/careers/join/")
        assert b"Engineering" in page.content

        response = client.post(
            "/careers/join/",
            {
                **form_fields(page),
                "first_name": "Grace",
                "last_name": "Hopper",
                "email": "grace@example.org",
                "interests": ["Engineering"],
                "consent": "on",
            },
        )

        assert response.status_code == 302 and response["Location"] == reverse("careers:joined")
        person = Candidate.objects.get()
        assert PoolMembership.objects.filter(candidate=person, pool__name="Talent community").exists()
        assert Consent.objects.filter(candidate=person, purpose="talent_community").exists()

    def test_a_bot_is_thanked_and_dropped(self, client):
        page = client.get("/careers/join/")

        response = client.post(
            "/careers/join/",
            {**form_fields(page), "first_name": "Bot", "email": "bot@example.org", "consent": "on", "website": "x"},
        )

        assert response.status_code == 200 and b"You are in" in response.content
        assert not Candidate.objects.exists()

    def test_missing_consent_is_named(self, client):
        page = client.get("/careers/join/")

        response = client.post(
            "/careers/join/", {**form_fields(page), "first_name": "Grace", "email": "grace@example.org"}
        )

        assert response.status_code == 422
        assert b"Please agree to the privacy notice" in response.content
        assert not Candidate.objects.exists()
