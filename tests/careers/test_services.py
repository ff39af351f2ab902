import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from rapport.candidates.models import Attachment, Candidate, PoolMembership
from rapport.careers.models import ApplyFormStat
from rapport.careers.selectors import apply_completion_rates
from rapport.careers.services import (
    TALENT_COMMUNITY_POOL,
    application_submit,
    apply_form_started,
    resume_type,
    talent_community_join,
)
from rapport.common.errors import ValidationFailed
from rapport.messaging.models import Message
from rapport.pipeline.models import Application
from rapport.pipeline.services import application_create
from rapport.privacy.models import Consent
from rapport.timeline.models import Activity
from tests.careers.conftest import TINY_PDF, docx_upload, pdf_upload
from tests.factories import make_candidate

pytestmark = pytest.mark.django_db


def apply_data(**overrides):
    data = {"first_name": "Ada", "last_name": "Lovelace", "email": "Ada@Example.org", "phone": "", "links": []}
    data.update(overrides)
    return data


def submit(job, *, resume=None, consent=True, source="", answers=None, **overrides):
    return application_submit(
        job=job,
        data=apply_data(**overrides),
        resume=resume or pdf_upload(),
        consent=consent,
        source=source,
        answers=answers,
    )


class TestResumeSniffing:
    def test_a_real_pdf_is_a_pdf_whatever_its_name(self):
        assert resume_type(SimpleUploadedFile("resume.txt", TINY_PDF)) == "pdf"

    def test_a_real_docx_is_a_docx(self):
        assert resume_type(docx_upload()) == "docx"

    def test_a_zip_without_a_word_document_is_refused(self):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("hello.txt", "not a résumé")
        with pytest.raises(ValidationFailed) as caught:
            resume_type(SimpleUploadedFile("cv.docx", buffer.getvalue()))
        assert "resume" in caught.value.fields

    def test_a_renamed_executable_is_refused(self):
        with pytest.raises(ValidationFailed) as caught:
            resume_type(SimpleUploadedFile("cv.pdf", b"MZ\x90\x00" + b"\x00" * 100))
        assert "PDF or a Word" in caught.value.fields["resume"][0]

    def test_a_truncated_zip_is_refused_not_crashed(self):
        with pytest.raises(ValidationFailed):
            resume_type(SimpleUploadedFile("cv.docx", b"PK\x03\x04garbage"))

    def test_an_empty_file_is_refused(self):
        with pytest.raises(ValidationFailed) as caught:
            resume_type(SimpleUploadedFile("cv.pdf", b""))
        assert "empty" in caught.value.fields["resume"][0]

    def test_a_file_over_the_limit_is_refused(self, settings):
        settings.RAPPORT_MAX_UPLOAD_MB = 1
        big = SimpleUploadedFile("cv.pdf", b"%PDF-" + b"0" * (1024 * 1024))
        with pytest.raises(ValidationFailed) as caught:
            resume_type(big)
        assert "limit is 1 MB" in caught.value.fields["resume"][0]


class TestApply:
    def test_a_new_person_gets_an_application_resume_consent_and_applicant_status(self, open_job):
        outcome = submit(open_job, phone="+49 30 1234567", links=["https://github.com/ada"])

        person = outcome.candidate
        assert outcome.created_person and not outcome.already_applied
        assert list(person.emails.values_list("email", flat=True)) == ["ada@example.org"]
        assert person.phones.count() == 1
        assert person.links == ["https://github.com/ada"]
        assert person.relationship_status == "applicant"
        assert outcome.application.job == open_job
        assert outcome.application.source == "careers"
        resume = Attachment.objects.get(candidate=person)
        assert resume.kind == "resume" and resume.content_type == "application/pdf"
        assert resume.file.read() == TINY_PDF
        consent = Consent.objects.get(candidate=person)
        assert consent.purpose == "recruitment" and consent.retention_days == 730 and consent.withdrawn_at is None
        types = set(Activity.objects.filter(candidate=person).values_list("type", flat=True))
        assert {"candidate.created", "application.created", "consent.given", "document.uploaded"} <= types

    def test_the_source_from_the_link_is_recorded(self, open_job):
        outcome = submit(open_job, source="linkedin")

        assert outcome.application.source == "linkedin"
        assert outcome.candidate.source == "linkedin"

    def test_an_existing_person_found_by_email_keeps_one_record_and_gains_only_blank_details(
        self, open_job, remote_job, recruiter
    ):
        known = make_candidate(actor=recruiter, first_name="Augusta", last_name="", emails=["ada@example.org"])
        application_create(actor=recruiter, candidate=known, job=remote_job)

        outcome = submit(open_job, first_name="Ada", last_name="Lovelace", phone="+49 30 1234567")

        known.refresh_from_db()
        assert outcome.candidate.pk == known.pk and not outcome.created_person
        assert Candidate.objects.count() == 1
        assert known.first_name == "Augusta"  # what the team has is kept
        assert known.last_name == "Lovelace"  # what was blank is filled
        assert known.phones.count() == 1
        assert set(Application.objects.filter(candidate=known).values_list("job_id", flat=True)) == {
            open_job.pk,
            remote_job.pk,
        }

    def test_applying_twice_to_the_same_job_keeps_one_application_and_no_second_file(self, open_job):
        first = submit(open_job)

        again = submit(open_job)

        assert again.already_applied and again.application.pk == first.application.pk
        assert Application.objects.filter(job=open_job).count() == 1
        assert Attachment.objects.count() == 1
        assert Consent.objects.count() == 1

    def test_a_bad_resume_leaves_no_person_application_or_file_behind(self, open_job, settings, tmp_path):
        with pytest.raises(ValidationFailed) as caught:
            submit(open_job, resume=SimpleUploadedFile("cv.pdf", b"not really a pdf"))

        assert "resume" in caught.value.fields
        assert not Candidate.objects.exists() and not Application.objects.exists()
        assert not Attachment.objects.exists()
        media = tmp_path / "media"
        assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))

    def test_every_problem_is_named_by_its_field_at_once(self, open_job):
        with pytest.raises(ValidationFailed) as caught:
            application_submit(
                job=open_job,
                data=apply_data(first_name="", last_name="", email="not-an-email"),
                resume=None,
                consent=False,
                source="",
            )

        assert set(caught.value.fields) >= {"first_name", "last_name", "email", "resume", "consent"}

    def test_a_job_closed_meanwhile_takes_no_application(self, open_job):
        open_job.status = "closed"
        open_job.save()

        with pytest.raises(ValidationFailed):
            submit(open_job)
        assert not Candidate.objects.exists()

    def test_a_phone_that_is_someone_elses_stays_with_them(self, open_job, recruiter):
        make_candidate(actor=recruiter, first_name="Other", emails=["other@example.org"], phones=["+49 30 1234567"])

        outcome = submit(open_job, phone="+49 30 1234567")

        assert outcome.candidate.phones.count() == 0
        assert Candidate.objects.count() == 2

    def test_the_acknowledgement_is_queued_after_commit(self, open_job, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            outcome = submit(open_job)

        message = Message.objects.get(candidate=outcome.candidate)
        assert message.to_address == "ada@example.org"
        assert message.kind == "one_to_one"
        assert "Senior Backend Engineer" in message.subject
        assert message.application_id == outcome.application.pk

    def test_the_organisations_application_received_template_is_used(
        self, open_job, make_template, django_capture_on_commit_callbacks
    ):
        template = make_template(
            name="Application received",
            category="application",
            subject="Thanks {{ candidate.first_name }}, we have it",
            body="We will read your application for {{ job.title }} soon.",
        )

        with django_capture_on_commit_callbacks(execute=True):
            outcome = submit(open_job)

        message = Message.objects.get(candidate=outcome.candidate)
        assert message.template == template
        assert message.subject == "Thanks Ada, we have it"
        assert message.sent_by == open_job.recruiter

    def test_a_suppressed_address_gets_no_acknowledgement_but_keeps_the_application(
        self, open_job, django_capture_on_commit_callbacks
    ):
        from rapport.messaging.services import suppression_add

        suppression_add(address="ada@example.org", channel="email", reason="unsubscribed")

        with django_capture_on_commit_callbacks(execute=True):
            outcome = submit(open_job)

        assert Application.objects.filter(pk=outcome.application.pk).exists()
        assert not Message.objects.filter(candidate=outcome.candidate).exists()


class TestCompletionStats:
    def test_rates_per_job_and_source(self, open_job, remote_job):
        for _ in range(4):
            apply_form_started(job=open_job, source="linkedin")
        apply_form_started(job=open_job, source="careers")
        submit(open_job, source="linkedin", email="a@example.org")
        submit(open_job, source="linkedin", email="b@example.org")
        apply_form_started(job=remote_job, source="careers")

        rates = {(r.job_id, r.source): r for r in apply_completion_rates()}

        assert rates[(open_job.pk, "linkedin")].started == 4
        assert rates[(open_job.pk, "linkedin")].submitted == 2
        assert rates[(open_job.pk, "linkedin")].rate == 0.5
        assert rates[(open_job.pk, "careers")].rate == 0.0
        assert rates[(remote_job.pk, "careers")].submitted == 0
        assert ApplyFormStat.objects.filter(job=open_job, source="linkedin").count() == 1


class TestTalentCommunity:
    def test_a_new_lead_joins_the_pool_with_interest_tags_and_consent(self, open_job):
        outcome = talent_community_join(
            data={"first_name": "Grace", "last_name": "Hopper", "email": "grace@example.org"},
            interests=["engineering"],
            allowed_interests=["Engineering", "Design"],
            consent=True,
        )

        person = outcome.candidate
        assert person.relationship_status == "lead"
        assert PoolMembership.objects.filter(candidate=person, pool__name=TALENT_COMMUNITY_POOL).exists()
        assert list(person.candidate_tags.values_list("tag__name", flat=True)) == ["interest:Engineering"]
        assert Consent.objects.get(candidate=person).purpose == "talent_community"

    def test_joining_again_adds_interests_without_a_second_person_or_membership(self, recruiter):
        known = make_candidate(actor=recruiter, first_name="Grace", emails=["grace@example.org"], tags=["vip"])
        for interests in (["Design"], ["Engineering"]):
            talent_community_join(
                data={"first_name": "Grace", "last_name": "", "email": "GRACE@example.org"},
                interests=interests,
                allowed_interests=["Engineering", "Design"],
                consent=True,
            )

        assert Candidate.objects.count() == 1
        assert PoolMembership.objects.filter(candidate=known).count() == 1
        assert set(known.candidate_tags.values_list("tag__name", flat=True)) == {
            "vip",
            "interest:Design",
            "interest:Engineering",
        }

    def test_an_interest_not_on_the_list_and_no_consent_are_refused(self):
        with pytest.raises(ValidationFailed) as caught:
            talent_community_join(
                data={"first_name": "Grace", "last_name": "", "email": "grace@example.org"},
                interests=["Hacking"],
                allowed_interests=["Engineering"],
                consent=False,
            )

        assert set(caught.value.fields) == {"interests", "consent"}
        assert not Candidate.objects.exists()


class TestScreeningQuestions:
    @pytest.fixture
    def questions(self, open_job):
        from rapport.careers.models import JobQuestion

        return {
            "eu": JobQuestion.objects.create(
                job=open_job, text="Can you work in the EU?", kind="yes_no", required=True, knockout_answer="no"
            ),
            "level": JobQuestion.objects.create(
                job=open_job, text="Your level?", kind="choice", choices=["Junior", "Senior"], position=1
            ),
            "why": JobQuestion.objects.create(job=open_job, text="Why us?", kind="text", position=2),
        }

    def test_answers_are_kept_with_the_knock_out_marked(self, open_job, questions):
        from rapport.careers.selectors import application_screening
        from rapport.careers.services import question_field

        outcome = submit(
            open_job,
            answers={question_field(questions["eu"]): "no", question_field(questions["level"]): "Senior"},
        )

        answers = application_screening(application_id=outcome.application.pk)
        assert [(a.question_text, a.answer, a.knocked_out) for a in answers] == [
            ("Can you work in the EU?", "no", True),
            ("Your level?", "Senior", False),
        ]

    def test_a_missing_required_answer_and_an_unknown_option_are_named(self, open_job, questions):
        from rapport.careers.services import question_field

        with pytest.raises(ValidationFailed) as caught:
            submit(open_job, answers={question_field(questions["level"]): "Wizard"})

        assert set(caught.value.fields) == {question_field(questions["eu"]), question_field(questions["level"])}
        assert not Candidate.objects.exists()
