"""What the portal, surveys and automation hold about a person follows a merge, goes with an erasure, and is in the
person's own download."""

from datetime import time

from django.utils import timezone

from rapport.automation.models import Enrolment, EnrolmentStatus, Sequence, Task
from rapport.candidates.services import candidate_erase, candidate_merge
from rapport.pipeline.services import application_create
from rapport.portal.models import DocumentRequest, PortalPreferences, SharedFeedback
from rapport.privacy.services import candidate_data_export
from rapport.surveys.models import Survey, SurveyAnswer, SurveyInvitation, SurveyQuestion, SurveyResponse
from tests.factories import make_candidate, make_job


def _answered_survey(person):
    survey = Survey.objects.create(name="Your interview", anonymous=False)
    csat = SurveyQuestion.objects.create(survey=survey, position=0, kind="csat", text="How was it?")
    words = SurveyQuestion.objects.create(survey=survey, position=1, kind="text", text="Anything else?")
    invitation = SurveyInvitation.objects.create(survey=survey, candidate=person, answered_at=timezone.now())
    response = SurveyResponse.objects.create(survey=survey, invitation=invitation, candidate=person)
    SurveyAnswer.objects.create(response=response, question=csat, score=4)
    SurveyAnswer.objects.create(response=response, question=words, text="The panel ran late, please tell Ada.")
    return survey, invitation, response


def test_a_merge_moves_tasks_sequences_documents_and_surveys_onto_the_survivor(recruiter):
    survivor = make_candidate(actor=recruiter, first_name="Grace", emails=["grace@example.org"])
    merged = make_candidate(actor=recruiter, first_name="G.", emails=["g.hopper@example.org"])
    nurture = Sequence.objects.create(name="Nurture", status="active")
    alumni = Sequence.objects.create(name="Alumni", status="active")
    Enrolment.objects.create(sequence=nurture, candidate=survivor)
    both = Enrolment.objects.create(sequence=nurture, candidate=merged)
    only_merged = Enrolment.objects.create(sequence=alumni, candidate=merged)
    task = Task.objects.create(title="Call back", owner=recruiter, candidate=merged)
    document = DocumentRequest.objects.create(candidate=merged, name="Passport")
    PortalPreferences.objects.create(candidate=merged, quiet_hours_start=time(21), quiet_hours_end=time(7))
    _, invitation, response = _answered_survey(merged)

    candidate_merge(actor=recruiter, survivor=survivor, merged=merged)

    task.refresh_from_db()
    document.refresh_from_db()
    invitation.refresh_from_db()
    response.refresh_from_db()
    assert task.candidate_id == survivor.pk and document.candidate_id == survivor.pk
    assert invitation.candidate_id == survivor.pk and response.candidate_id == survivor.pk
    assert PortalPreferences.objects.get().candidate_id == survivor.pk
    both.refresh_from_db()
    only_merged.refresh_from_db()
    assert both.candidate_id == survivor.pk and both.status == EnrolmentStatus.EXITED
    assert only_merged.candidate_id == survivor.pk and only_merged.status == EnrolmentStatus.ACTIVE
    assert Enrolment.objects.filter(candidate=survivor, sequence=nurture, status="active").count() == 1


def test_a_merge_keeps_feedback_shared_on_an_application_folded_into_the_survivors(recruiter):
    job = make_job(actor=recruiter)
    survivor = make_candidate(actor=recruiter, first_name="Grace", emails=["grace@example.org"])
    merged = make_candidate(actor=recruiter, first_name="G.", emails=["g.hopper@example.org"])
    application_create(actor=recruiter, candidate=survivor, job=job)
    folded = application_create(actor=recruiter, candidate=merged, job=job)
    SharedFeedback.objects.create(application=folded, text="Strong systems design.")

    candidate_merge(actor=recruiter, survivor=survivor, merged=merged)

    assert SharedFeedback.objects.get().application.candidate_id == survivor.pk


def test_erasing_a_person_removes_their_words_and_keeps_the_scores(admin_user, recruiter):
    job = make_job(actor=recruiter)
    person = make_candidate(actor=recruiter, first_name="Grace", emails=["grace@example.org"])
    application = application_create(actor=recruiter, candidate=person, job=job)
    SharedFeedback.objects.create(application=application, text="Strong systems design.")
    DocumentRequest.objects.create(candidate=person, name="Passport", instructions="Both pages")
    PortalPreferences.objects.create(candidate=person, quiet_hours_start=time(21), quiet_hours_end=time(7))
    enrolment = Enrolment.objects.create(sequence=Sequence.objects.create(name="Nurture"), candidate=person)
    survey, _, response = _answered_survey(person)

    candidate_erase(actor=admin_user, candidate=person)

    assert not DocumentRequest.objects.exists()
    assert not SharedFeedback.objects.exists()
    assert not PortalPreferences.objects.exists()
    enrolment.refresh_from_db()
    assert enrolment.status == EnrolmentStatus.EXITED and enrolment.due_at is None
    response.refresh_from_db()
    assert response.candidate_id is None and response.invitation_id is None
    answers = SurveyAnswer.objects.filter(response__survey=survey).order_by("question__position")
    assert list(answers.values_list("score", "text")) == [(4, ""), (None, "")]


def test_the_download_holds_document_requests_feedback_quiet_hours_and_survey_answers(recruiter):
    job = make_job(actor=recruiter, title="Platform Engineer")
    person = make_candidate(actor=recruiter, first_name="Grace", emails=["grace@example.org"])
    application = application_create(actor=recruiter, candidate=person, job=job)
    SharedFeedback.objects.create(application=application, text="Strong systems design.")
    DocumentRequest.objects.create(candidate=person, name="Passport", instructions="Both pages")
    PortalPreferences.objects.create(candidate=person, quiet_hours_start=time(21), quiet_hours_end=time(7))
    _answered_survey(person)

    data = candidate_data_export(candidate=person)

    assert [(r["document"], r["instructions"], r["status"]) for r in data["document_requests"]] == [
        ("Passport", "Both pages", "Requested")
    ]
    assert data["shared_feedback"][0]["job"] == "Platform Engineer"
    assert data["shared_feedback"][0]["feedback"] == "Strong systems design."
    assert data["preferences"]["quiet_hours"] == {"start": "21:00:00", "end": "07:00:00"}
    assert data["surveys"][0]["survey"] == "Your interview"
    assert {a["question"]: (a["score"], a["text"]) for a in data["surveys"][0]["answers"]} == {
        "How was it?": (4, ""),
        "Anything else?": (None, "The panel ran late, please tell Ada."),
    }
