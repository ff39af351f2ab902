"""Moving people through pipelines: every change writes its stage history and its timeline event together."""

from datetime import timedelta

import pytest
from django.utils import timezone

from rapport.candidates.models import Candidate, RelationshipStatus
from rapport.candidates.services import candidate_erase, candidate_update
from rapport.common.errors import Conflict, Duplicate, NotFound, PermissionDenied, ValidationFailed
from rapport.jobs.services import job_update
from rapport.pipeline.models import Application, ApplicationStatus, RejectionReason, StageTransition
from rapport.pipeline.services import (
    application_create,
    application_move,
    application_reject,
    application_reopen,
    application_update,
    application_withdraw,
    rejection_reason_create,
    rejection_reasons_ensure,
)
from rapport.timeline.models import Activity, AuditEntry
from tests.factories import make_candidate, make_job


@pytest.fixture
def job(recruiter, hiring_manager):
    return make_job(actor=recruiter, title="Platform Engineer", hiring_manager_id=hiring_manager.pk)


@pytest.fixture
def person(recruiter):
    return make_candidate(actor=recruiter, first_name="Grace", last_name="Hopper", source="Referral")


def stage(job, name):
    return job.stages.get(name=name)


# --- create ---------------------------------------------------------------------------------------------------------


def test_a_new_application_starts_in_the_first_stage_with_history_and_an_event(recruiter, job, person):
    application = application_create(actor=recruiter, candidate=person, job=job)

    assert application.stage == stage(job, "Sourced")
    assert application.status == ApplicationStatus.ACTIVE
    assert application.source == "Referral"
    transition = StageTransition.objects.get(application=application)
    assert (transition.from_stage, transition.to_stage, transition.actor) == (None, stage(job, "Sourced"), recruiter)
    event = Activity.objects.get(type="application.created")
    assert (event.candidate, event.application, event.job, event.actor) == (person, application, job, recruiter)
    assert event.payload == {
        "job_id": job.pk,
        "job": "Platform Engineer",
        "stage_id": stage(job, "Sourced").pk,
        "stage": "Sourced",
        "source": "Referral",
    }


def test_applying_makes_a_lead_an_applicant_but_keeps_a_hire_hired(recruiter, job, person):
    hired = make_candidate(actor=recruiter, first_name="Hired", relationship_status="hired")

    application_create(actor=recruiter, candidate=person, job=job)
    application_create(actor=recruiter, candidate=hired, job=job)

    assert Candidate.objects.get(pk=person.pk).relationship_status == RelationshipStatus.APPLICANT
    assert Candidate.objects.get(pk=hired.pk).relationship_status == RelationshipStatus.HIRED


def test_an_application_can_start_in_a_chosen_stage_of_the_same_job_only(recruiter, job, person):
    other = make_job(actor=recruiter, title="Other")

    with pytest.raises(ValidationFailed) as caught:
        application_create(actor=recruiter, candidate=person, job=job, stage=stage(other, "Interview"))
    application = application_create(actor=recruiter, candidate=person, job=job, stage=stage(job, "Interview"))

    assert "stage_id" in caught.value.fields
    assert application.stage == stage(job, "Interview")


def test_an_application_created_straight_into_the_hired_stage_is_a_hire(recruiter, job, person):
    application = application_create(actor=recruiter, candidate=person, job=job, stage=stage(job, "Hired"))

    assert application.status == ApplicationStatus.HIRED
    assert application.closed_at is not None
    assert Candidate.objects.get(pk=person.pk).relationship_status == RelationshipStatus.HIRED
    assert Activity.objects.filter(type="application.hired", application=application).count() == 1


def test_a_second_application_to_the_same_job_is_a_duplicate(recruiter, job, person):
    first = application_create(actor=recruiter, candidate=person, job=job)

    with pytest.raises(Duplicate) as caught:
        application_create(actor=recruiter, candidate=person, job=job)

    assert caught.value.existing_id == str(first.pk)
    assert Application.objects.count() == 1


@pytest.mark.parametrize("status", ["closed", "filled"])
def test_a_closed_job_takes_no_one(recruiter, job, person, status):
    job_update(actor=recruiter, job=job, data={"status": status})

    with pytest.raises(ValidationFailed) as caught:
        application_create(actor=recruiter, candidate=person, job=job)

    assert "job_id" in caught.value.fields
    assert not Application.objects.exists()


def test_an_erased_person_cannot_apply(admin_user, recruiter, job, person):
    candidate_erase(actor=admin_user, candidate=person)

    with pytest.raises(ValidationFailed) as caught:
        application_create(actor=recruiter, candidate=person, job=job)

    assert "candidate_id" in caught.value.fields


def test_a_source_longer_than_50_characters_is_refused(recruiter, job, person):
    with pytest.raises(ValidationFailed) as caught:
        application_create(actor=recruiter, candidate=person, job=job, source="x" * 51)

    assert "source" in caught.value.fields


def test_a_hiring_manager_cannot_add_people_to_jobs(hiring_manager, job, person):
    with pytest.raises(PermissionDenied):
        application_create(actor=hiring_manager, candidate=person, job=job)


# --- move -----------------------------------------------------------------------------------------------------------


def test_a_move_writes_history_with_from_to_actor_and_time_and_an_event(recruiter, job, person):
    application = application_create(actor=recruiter, candidate=person, job=job)
    before = timezone.now()

    application_move(actor=recruiter, application=application, stage=stage(job, "Screening"))

    application.refresh_from_db()
    assert application.stage == stage(job, "Screening")
    assert application.stage_entered_at >= before
    transition = StageTransition.objects.filter(application=application).order_by("at", "id").last()
    assert (transition.from_stage, transition.to_stage, transition.actor) == (
        stage(job, "Sourced"),
        stage(job, "Screening"),
        recruiter,
    )
    assert transition.at == application.stage_entered_at
    event = Activity.objects.get(type="application.stage_changed")
    assert (event.candidate, event.application, event.job, event.actor) == (person, application, job, recruiter)
    assert event.occurred_at == transition.at
    assert event.payload == {
        "from_stage_id": stage(job, "Sourced").pk,
        "from_stage": "Sourced",
        "to_stage_id": stage(job, "Screening").pk,
        "to_stage": "Screening",
        "job_id": job.pk,
        "days_in_previous_stage": 0,
    }


def test_the_days_in_the_previous_stage_come_from_the_history(recruiter, job, person):
    application = application_create(actor=recruiter, candidate=person, job=job)
    ten_days_ago = timezone.now() - timedelta(days=10, hours=1)
    StageTransition.objects.filter(application=application).update(at=ten_days_ago)
    Application.objects.filter(pk=application.pk).update(stage_entered_at=ten_days_ago)
    application.refresh_from_db()

    application_move(actor=recruiter, application=application, stage=stage(job, "Applied"))

    assert Activity.objects.get(type="application.stage_changed").payload["days_in_previous_stage"] == 10


def test_moving_to_the_stage_it_is_in_changes_nothing(recruiter, job, person):
    application = application_create(actor=recruiter, candidate=person, job=job)

    application_move(actor=recruiter, application=application, stage=stage(job, "Sourced"))

    assert StageTransition.objects.count() == 1
    assert not Activity.objects.filter(type="application.stage_changed").exists()


def test_moving_to_a_stage_of_another_job_is_refused(recruiter, job, person):
    application = application_create(actor=recruiter, candidate=person, job=job)
    other = make_job(actor=recruiter, title="Other")

    with pytest.raises(ValidationFailed) as caught:
        application_move(actor=recruiter, application=application, stage=stage(other, "Interview"))

    assert "stage_id" in caught.value.fields
    application.refresh_from_db()
    assert application.stage == stage(job, "Sourced")


def test_a_rejected_application_cannot_move_until_reopened(recruiter, job, person):
    application = application_create(actor=recruiter, candidate=person, job=job)
    application_reject(actor=recruiter, application=application)

    with pytest.raises(Conflict):
        application_move(actor=recruiter, application=application, stage=stage(job, "Interview"))
    application_reopen(actor=recruiter, application=application)
    application_move(actor=recruiter, application=application, stage=stage(job, "Interview"))

    assert Application.objects.get(pk=application.pk).stage == stage(job, "Interview")


def test_moving_to_the_hired_stage_hires_the_application_and_the_person(recruiter, job, person):
    application = application_create(actor=recruiter, candidate=person, job=job)

    application_move(actor=recruiter, application=application, stage=stage(job, "Hired"))

    application.refresh_from_db()
    assert application.status == ApplicationStatus.HIRED
    assert application.closed_at is not None
    assert Candidate.objects.get(pk=person.pk).relationship_status == RelationshipStatus.HIRED
    hired = Activity.objects.get(type="application.hired")
    assert (hired.candidate, hired.application, hired.job, hired.actor) == (person, application, job, recruiter)


def test_a_renamed_stage_of_the_hired_category_still_hires(recruiter, job, person):
    from rapport.jobs.services import stage_rename

    stage_rename(actor=recruiter, stage=stage(job, "Hired"), name="Welcome aboard")
    application = application_create(actor=recruiter, candidate=person, job=job)

    application_move(actor=recruiter, application=application, stage=stage(job, "Welcome aboard"))

    assert Application.objects.get(pk=application.pk).status == ApplicationStatus.HIRED


def test_a_hiring_manager_moves_on_their_own_job_only(recruiter, hiring_manager, outsider, job, person):
    application = application_create(actor=recruiter, candidate=person, job=job)

    application_move(actor=hiring_manager, application=application, stage=stage(job, "Applied"))
    with pytest.raises(NotFound):
        application_move(actor=outsider, application=application, stage=stage(job, "Screening"))

    assert Application.objects.get(pk=application.pk).stage == stage(job, "Applied")


def test_an_interviewer_cannot_move_applications(recruiter, interviewer, job, person):
    application = application_create(actor=recruiter, candidate=person, job=job)
    application.interviewers.add(interviewer)

    with pytest.raises(PermissionDenied):
        application_move(actor=interviewer, application=application, stage=stage(job, "Applied"))


def test_time_in_each_stage_is_computable_from_the_history(recruiter, job, person):
    from rapport.pipeline.selectors import stage_history

    start = timezone.now() - timedelta(days=30)
    application = application_create(actor=recruiter, candidate=person, job=job)
    for name in ("Screening", "Interview", "Screening"):
        application_move(actor=recruiter, application=application, stage=stage(job, name))
    transitions = list(StageTransition.objects.filter(application=application).order_by("at", "id"))
    for transition, days in zip(transitions, (0, 3, 10, 24), strict=True):
        StageTransition.objects.filter(pk=transition.pk).update(at=start + timedelta(days=days))

    stays = stage_history(application=application)

    assert [(s.stage.name, s.duration.days if s.left_at else None) for s in stays] == [
        ("Sourced", 3),
        ("Screening", 7),
        ("Interview", 14),
        ("Screening", None),
    ]
    assert stays[-1].duration >= timedelta(days=6)
    assert stays[0].actor == recruiter


# --- reject, withdraw, reopen ---------------------------------------------------------------------------------------


def test_reject_with_a_reason_and_a_note(recruiter, job, person):
    rejection_reasons_ensure()
    reason = RejectionReason.objects.get(name="Failed assessment")
    application = application_create(actor=recruiter, candidate=person, job=job)

    application_reject(actor=recruiter, application=application, reason_id=str(reason.pk), note="  Try again later ")

    application.refresh_from_db()
    assert application.status == ApplicationStatus.REJECTED
    assert (application.rejection_reason, application.rejection_note) == (reason, "Try again later")
    assert application.closed_at is not None
    event = Activity.objects.get(type="application.rejected")
    assert event.payload == {
        "job_id": job.pk,
        "stage": "Sourced",
        "reason_id": reason.pk,
        "reason": "Failed assessment",
        "note": "Try again later",
        "notify": False,
    }


@pytest.mark.parametrize("reason_id", [999_999, "abc", "inactive"])
def test_reject_with_an_unknown_or_retired_reason_is_refused(recruiter, job, person, reason_id):
    if reason_id == "inactive":
        reason_id = RejectionReason.objects.create(name="Old", is_active=False).pk
    application = application_create(actor=recruiter, candidate=person, job=job)

    with pytest.raises(ValidationFailed) as caught:
        application_reject(actor=recruiter, application=application, reason_id=reason_id)

    assert "reason_id" in caught.value.fields
    assert Application.objects.get(pk=application.pk).status == ApplicationStatus.ACTIVE


def test_reject_with_a_huge_note_is_refused(recruiter, job, person):
    application = application_create(actor=recruiter, candidate=person, job=job)

    with pytest.raises(ValidationFailed) as caught:
        application_reject(actor=recruiter, application=application, note="x" * 5001)

    assert "note" in caught.value.fields


def test_a_closed_application_cannot_be_rejected_or_withdrawn_again(recruiter, job, person):
    application = application_create(actor=recruiter, candidate=person, job=job)
    application_withdraw(actor=recruiter, application=application, note="Took another offer")

    with pytest.raises(Conflict):
        application_reject(actor=recruiter, application=application)
    with pytest.raises(Conflict):
        application_withdraw(actor=recruiter, application=application)

    assert Application.objects.get(pk=application.pk).status == ApplicationStatus.WITHDRAWN
    assert Activity.objects.get(type="application.withdrawn").payload == {
        "job_id": job.pk,
        "stage": "Sourced",
        "note": "Took another offer",
    }


def test_reopen_makes_the_application_active_and_forgets_the_rejection(recruiter, job, person):
    rejection_reasons_ensure()
    reason = RejectionReason.objects.first()
    application = application_create(actor=recruiter, candidate=person, job=job)
    application_reject(actor=recruiter, application=application, reason_id=reason.pk, note="Not now")

    application_reopen(actor=recruiter, application=application)

    application.refresh_from_db()
    assert application.status == ApplicationStatus.ACTIVE
    assert (application.rejection_reason, application.rejection_note, application.closed_at) == (None, "", None)
    audit = AuditEntry.objects.get(object_type="application", object_id=str(application.pk))
    assert audit.changes == {"status": ["rejected", "active"]}


def test_reopening_an_active_application_changes_nothing(recruiter, job, person):
    application = application_create(actor=recruiter, candidate=person, job=job)

    application_reopen(actor=recruiter, application=application)

    assert not AuditEntry.objects.filter(object_type="application").exists()


def test_rejection_reasons_are_created_by_admins_and_unique(admin_user, recruiter):
    rejection_reason_create(actor=admin_user, name="Relocated")

    with pytest.raises(ValidationFailed) as duplicate:
        rejection_reason_create(actor=admin_user, name="relocated")
    with pytest.raises(PermissionDenied):
        rejection_reason_create(actor=recruiter, name="Other")

    assert "name" in duplicate.value.fields


# --- update ---------------------------------------------------------------------------------------------------------


def test_update_assigns_interviewers_and_refuses_stage_or_status(recruiter, interviewer, job, person):
    application = application_create(actor=recruiter, candidate=person, job=job)

    application_update(actor=recruiter, application=application, data={"interviewer_ids": [interviewer.pk]})
    with pytest.raises(ValidationFailed) as stage_change:
        application_update(actor=recruiter, application=application, data={"stage_id": stage(job, "Offer").pk})
    with pytest.raises(ValidationFailed) as unknown:
        application_update(actor=recruiter, application=application, data={"interviewer_ids": [999_999]})

    assert list(application.interviewers.all()) == [interviewer]
    assert "stage_id" in stage_change.value.fields
    assert "interviewer_ids" in unknown.value.fields


def test_a_person_edit_does_not_touch_their_applications(recruiter, job, person):
    application = application_create(actor=recruiter, candidate=person, job=job)

    candidate_update(actor=recruiter, candidate=person, data={"source": "LinkedIn"})

    assert Application.objects.get(pk=application.pk).source == "Referral"
