"""Surveys: sending (cool-down, suppression, scope), answering once, anonymity, and the results arithmetic."""

from datetime import timedelta

import pytest
from django.utils import timezone

from rapport.common.errors import NotFound, PermissionDenied, ValidationFailed
from rapport.messaging.models import Message, Suppression
from rapport.pipeline.services import application_create
from rapport.surveys.links import survey_token, survey_token_read
from rapport.surveys.models import Survey, SurveyInvitation, SurveyResponse
from rapport.surveys.selectors import ResultFilters, invitation_for_token, survey_for_moment, survey_results
from rapport.surveys.services import SurveyAlreadyAnswered, survey_answer, survey_send, survey_update
from rapport.timeline.models import Activity
from tests.factories import make_candidate, make_job
from tests.surveys.conftest import answers_for, link_path_from, make_survey


def test_the_two_default_surveys_are_installed(db):
    defaults = {s.name: s for s in Survey.objects.prefetch_related("questions")}
    experience = defaults["Candidate experience"]
    recommendation = defaults["Recommendation after a decision"]
    assert [q.kind for q in experience.questions.all()] == ["csat", "text"]
    assert experience.moment == "after_interview" and experience.cooldown_days == 90
    assert [q.kind for q in recommendation.questions.all()] == ["nps", "text"]
    assert recommendation.moment == "after_decision" and recommendation.anonymous
    assert survey_for_moment("after_decision") == recommendation
    assert survey_for_moment("after_applying") is None


def test_sending_queues_an_email_with_a_signed_link_and_records_the_event(world, survey):
    grace, application = world["applicant"], world["application"]

    invitation = survey_send(survey=survey, candidate=grace, application=application, actor=world["recruiter"])

    assert invitation is not None
    assert invitation.job == world["job"] and invitation.stage_name == application.stage.name
    message = Message.objects.get(pk=invitation.message_id)
    assert message.to_address == "grace@example.org" and message.status == "queued"
    path = link_path_from(message.text)
    token = path.split("/")[-2]
    assert survey_token_read(token) == invitation.pk
    assert invitation_for_token(token) == invitation
    event = Activity.objects.get(type="survey.sent", candidate=grace)
    assert event.payload["survey_id"] == survey.pk and event.payload["automated"] is False
    assert event.application == application and event.actor == world["recruiter"]


def test_a_tampered_or_foreign_token_names_no_invitation(world, survey):
    invitation = survey_send(survey=survey, candidate=world["applicant"])
    token = survey_token(invitation.pk)
    assert survey_token_read(token[:-2] + ("AA" if token[-2:] != "AA" else "BB")) is None
    from django.core import signing

    forged = signing.TimestampSigner(salt="rapport.portal.sign-in").sign_object({"i": invitation.pk})
    assert survey_token_read(forged) is None
    with pytest.raises(NotFound):
        invitation_for_token(forged)


def test_nobody_gets_a_second_survey_within_the_cool_down(world, survey, recruiter):
    grace = world["applicant"]
    other = make_survey(recruiter, name="Another survey")
    first = survey_send(survey=survey, candidate=grace)

    assert survey_send(survey=survey, candidate=grace) is None
    assert survey_send(survey=other, candidate=grace) is None
    assert SurveyInvitation.objects.filter(candidate=grace).count() == 1
    assert Activity.objects.filter(type="survey.sent", candidate=grace).count() == 1

    SurveyInvitation.objects.filter(pk=first.pk).update(sent_at=timezone.now() - timedelta(days=91))
    assert survey_send(survey=other, candidate=grace) is not None


def test_the_cool_down_is_configurable_per_survey(world, recruiter):
    grace = world["applicant"]
    weekly = make_survey(recruiter, name="Weekly", cooldown_days=7)
    first = survey_send(survey=weekly, candidate=grace)
    SurveyInvitation.objects.filter(pk=first.pk).update(sent_at=timezone.now() - timedelta(days=8))

    assert survey_send(survey=weekly, candidate=grace) is not None


def test_suppressed_do_not_contact_and_addressless_people_get_nothing(world, survey, recruiter):
    grace, alan = world["applicant"], world["bystander"]
    Suppression.objects.create(address="grace@example.org", channel="email", reason="unsubscribed")
    alan.relationship_status = "do_not_contact"
    alan.save(update_fields=["relationship_status"])
    nobody = make_candidate(actor=recruiter, first_name="No", last_name="Email")

    for person in (grace, alan, nobody):
        assert survey_send(survey=survey, candidate=person) is None
    assert not SurveyInvitation.objects.exists() and not Message.objects.exists()


def test_a_switched_off_survey_is_not_sent(world, survey):
    Survey.objects.filter(pk=survey.pk).update(is_active=False)
    survey.refresh_from_db()
    assert survey_send(survey=survey, candidate=world["applicant"]) is None


def test_sending_by_hand_checks_role_and_scope(world, survey):
    with pytest.raises(PermissionDenied):
        survey_send(survey=survey, candidate=world["applicant"], actor=world["hiring_manager"])
    with pytest.raises(PermissionDenied):
        survey_send(survey=survey, candidate=world["applicant"], actor=world["interviewer"])
    with pytest.raises(NotFound):
        survey_send(survey=survey, candidate=world["bystander"], application=world["application"])
    assert not SurveyInvitation.objects.exists()


def test_an_attributed_answer_is_stored_once_with_the_person(world, survey):
    grace = world["applicant"]
    invitation = survey_send(survey=survey, candidate=grace, application=world["application"])

    response = survey_answer(invitation=invitation, answers=answers_for(survey, csat=4, nps=9, text="Kind people"))

    assert response.candidate == grace and response.invitation == invitation
    assert response.job == world["job"] and response.stage_name == world["application"].stage.name
    event = Activity.objects.get(type="survey.answered", candidate=grace)
    assert event.payload["scores"] == {"How was your interview?": 4, "Would you recommend us?": 9}
    with pytest.raises(SurveyAlreadyAnswered):
        survey_answer(invitation=invitation, answers=answers_for(survey))
    assert SurveyResponse.objects.count() == 1


def test_an_anonymous_answer_is_not_linked_to_the_person(world, anonymous_survey):
    grace = world["applicant"]
    invitation = survey_send(survey=anonymous_survey, candidate=grace, application=world["application"])

    response = survey_answer(invitation=invitation, answers=answers_for(anonymous_survey, text="Too slow"))

    assert response.candidate is None and response.invitation is None
    assert response.job == world["job"]  # still counted per job
    event = Activity.objects.get(type="survey.answered", candidate=grace)
    assert event.payload == {"survey_id": anonymous_survey.pk, "survey": "Anonymous pulse", "anonymous": True}
    assert event.application is None and event.job is None
    with pytest.raises(SurveyAlreadyAnswered):
        survey_answer(invitation=invitation, answers=answers_for(anonymous_survey))


def test_answers_are_validated_and_nothing_is_written_on_error(world, survey):
    invitation = survey_send(survey=survey, candidate=world["applicant"])
    csat, nps, choice, text = survey.questions.all()
    bad = answers_for(survey, csat=6, nps=11, choice="Newspaper")
    bad.pop(f"q{text.pk}")

    with pytest.raises(ValidationFailed) as caught:
        survey_answer(invitation=invitation, answers=bad)

    assert set(caught.value.fields) == {f"q{csat.pk}", f"q{nps.pk}", f"q{choice.pk}"}
    missing = answers_for(survey)
    missing.pop(f"q{csat.pk}")
    with pytest.raises(ValidationFailed) as caught:
        survey_answer(invitation=invitation, answers=missing)
    assert caught.value.fields == {f"q{csat.pk}": ["Please answer this question."]}
    invitation.refresh_from_db()
    assert invitation.answered_at is None and not SurveyResponse.objects.exists()


def _answered(survey, candidate, application=None, **answers):
    invitation = survey_send(survey=survey, candidate=candidate, application=application)
    assert invitation is not None
    return survey_answer(invitation=invitation, answers=answers_for(survey, **answers))


def test_results_compute_csat_nps_choices_and_texts_with_job_and_stage_filters(recruiter, survey):
    backend = make_job(actor=recruiter, title="Backend")
    design = make_job(actor=recruiter, title="Design")
    people = [
        make_candidate(actor=recruiter, first_name=f"P{i}", last_name="X", emails=[f"p{i}@example.org"])
        for i in range(5)
    ]
    # Backend: scores 5/10, 4/9, 2/3 ; Design: 3/7, no application: 1/0
    _answered(survey, people[0], application_create(actor=recruiter, candidate=people[0], job=backend), csat=5, nps=10)
    _answered(
        survey,
        people[1],
        application_create(actor=recruiter, candidate=people[1], job=backend),
        csat=4,
        nps=9,
        choice="Friend",
        text="Great",
    )
    _answered(survey, people[2], application_create(actor=recruiter, candidate=people[2], job=backend), csat=2, nps=3)
    _answered(survey, people[3], application_create(actor=recruiter, candidate=people[3], job=design), csat=3, nps=7)
    _answered(survey, people[4], csat=1, nps=0)

    everything = survey_results(survey=survey)
    csat, nps, choice, text = everything.questions
    assert everything.responses == 5
    assert csat.average == 3.0 and csat.distribution == [("1", 1), ("2", 1), ("3", 1), ("4", 1), ("5", 1)]
    # 2 promoters (10, 9), 1 passive (7), 2 detractors (3, 0): (2 - 2) / 5 = 0
    assert (nps.promoters, nps.passives, nps.detractors, nps.nps) == (2, 1, 2, 0)
    assert choice.distribution == [("Website", 4), ("Friend", 1)]
    assert text.texts == ["Great"]

    only_backend = survey_results(survey=survey, filters=ResultFilters(job_id=backend.pk))
    csat, nps, _, _ = only_backend.questions
    assert only_backend.responses == 3
    assert csat.average == pytest.approx(3.67, abs=0.01)
    # 2 promoters, 0 passives, 1 detractor: (2 - 1) / 3 = 33
    assert nps.nps == 33

    stage = backend.stages.order_by("position").first().name
    assert survey_results(survey=survey, filters=ResultFilters(stage=stage)).responses == 4
    assert survey_results(survey=survey, filters=ResultFilters(job_id=design.pk, stage=stage)).responses == 1
    assert survey_results(survey=survey, filters=ResultFilters(stage="No such stage")).responses == 0


def test_questions_are_fixed_once_a_survey_has_answers(world, survey, recruiter):
    data = {
        "name": "Renamed",
        "moment": "after_decision",
        "cooldown_days": 30,
        "questions": [{"kind": "csat", "text": "A new question"}],
    }
    _answered(survey, world["applicant"])

    with pytest.raises(ValidationFailed) as caught:
        survey_update(actor=recruiter, survey=survey, data=data)
    assert "questions" in caught.value.fields

    same_questions = [
        {"kind": q.kind, "text": q.text, "required": q.required, "choices": q.choices} for q in survey.questions.all()
    ]
    survey_update(actor=recruiter, survey=survey, data={**data, "questions": same_questions})
    survey.refresh_from_db()
    assert survey.name == "Renamed" and survey.cooldown_days == 30


def test_configuring_surveys_is_for_admins_and_recruiters(world):
    for role in ("hiring_manager", "interviewer", "outsider"):
        with pytest.raises(PermissionDenied):
            make_survey(world[role])
    with pytest.raises(ValidationFailed) as caught:
        make_survey(world["admin"], name="", questions=[{"kind": "choice", "text": "Pick", "choices": ["one"]}])
    assert set(caught.value.fields) == {"name", "questions"}
