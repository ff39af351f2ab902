import pytest

from rapport.candidates.models import RelationshipStatus
from rapport.pipeline.models import Application, RejectionReason, StageTransition
from rapport.pipeline.services import rejection_reasons_ensure
from rapport.timeline.models import Activity
from tests.api.conftest import error_of
from tests.factories import make_candidate, make_job


@pytest.fixture
def job(recruiter):
    return make_job(actor=recruiter, title="Platform Engineer")


@pytest.fixture
def person(recruiter):
    return make_candidate(actor=recruiter, first_name="Grace", source="meetup", emails=["grace@example.org"])


def _apply(api, person, job, **extra):
    return api.post("/applications", {"candidate_id": str(person.pk), "job_id": str(job.pk), **extra})


def test_putting_a_person_on_a_job_answers_201_in_the_first_stage(api_as, recruiter, job, person):
    response = _apply(api_as(recruiter), person, job)

    assert response.status_code == 201
    body = response.json()
    first_stage = job.stages.order_by("position").first()
    assert body["candidate_id"] == str(person.pk)
    assert body["job_id"] == str(job.pk)
    assert body["stage_id"] == str(first_stage.pk)
    assert body["status"] == "active"
    assert body["source"] == "meetup"
    assert body["interviewer_ids"] == []
    person.refresh_from_db()
    assert person.relationship_status == RelationshipStatus.APPLICANT


def test_a_second_application_to_the_same_job_is_a_409_duplicate(api_as, recruiter, job, person):
    api = api_as(recruiter)
    first = _apply(api, person, job).json()

    again = _apply(api, person, job)

    assert again.status_code == 409
    error = error_of(again)
    assert error["code"] == "duplicate"
    assert error["existing_id"] == first["id"]
    assert Application.objects.count() == 1


def test_an_application_can_start_in_a_chosen_stage(api_as, recruiter, job, person):
    stage = job.stages.order_by("position")[2]

    response = _apply(api_as(recruiter), person, job, stage_id=str(stage.pk), source="referral")

    assert response.status_code == 201
    assert response.json()["stage_id"] == str(stage.pk)
    assert response.json()["source"] == "referral"


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"job_id": "1"}, 422, "candidate_id"),
        ({"candidate_id": "x", "job_id": "1"}, 422, "candidate_id"),
        ({"candidate_id": "424242", "job_id": "{job}"}, 404, "candidate_id"),
        ({"candidate_id": "{person}", "job_id": "424242"}, 404, "job_id"),
        ({"candidate_id": "{person}", "job_id": "{job}", "source": "x" * 51}, 422, "source"),
        ({"candidate_id": "{person}", "job_id": "{job}", "stage_id": "424242"}, 404, "stage_id"),
    ],
)
def test_bad_applications_name_the_field(api_as, recruiter, job, person, body, status, field):
    body = {k: v.format(job=job.pk, person=person.pk) for k, v in body.items()}

    response = api_as(recruiter).post("/applications", body)

    assert response.status_code == status
    assert field in error_of(response)["fields"]
    assert not Application.objects.exists()


def test_a_closed_job_takes_no_applications(api_as, recruiter, person):
    job = make_job(actor=recruiter, status="closed")

    response = _apply(api_as(recruiter), person, job)

    assert response.status_code == 422
    assert "job_id" in error_of(response)["fields"]


def test_one_application_is_read_and_patched(api_as, recruiter, interviewer, job, person):
    api = api_as(recruiter)
    application_id = _apply(api, person, job).json()["id"]

    read = api.get(f"/applications/{application_id}")
    patched = api.patch(
        f"/applications/{application_id}", {"source": "referral", "interviewer_ids": [str(interviewer.pk)]}
    )

    assert read.status_code == 200 and read.json()["id"] == application_id
    assert patched.status_code == 200
    assert patched.json()["source"] == "referral"
    assert patched.json()["interviewer_ids"] == [str(interviewer.pk)]
    # Assigned, the interviewer now sees the person.
    assert api_as(interviewer).get(f"/candidates/{person.pk}").status_code == 200


def test_patch_refuses_stage_and_status_which_have_their_own_actions(api_as, recruiter, job, person):
    api = api_as(recruiter)
    application_id = _apply(api, person, job).json()["id"]

    response = api.patch(f"/applications/{application_id}", {"status": "hired"})
    unknown_user = api.patch(f"/applications/{application_id}", {"interviewer_ids": ["424242"]})

    assert response.status_code == 422 and "status" in error_of(response)["fields"]
    assert unknown_user.status_code == 422 and "interviewer_ids" in error_of(unknown_user)["fields"]


def test_move_records_the_stage_change(api_as, recruiter, job, person):
    api = api_as(recruiter)
    application_id = _apply(api, person, job).json()["id"]
    interview = job.stages.get(name="Interview")

    response = api.post(f"/applications/{application_id}/move", {"stage_id": str(interview.pk)})

    assert response.status_code == 200
    assert response.json()["stage_id"] == str(interview.pk)
    assert StageTransition.objects.filter(application_id=int(application_id), to_stage=interview).exists()
    assert Activity.objects.filter(type="application.stage_changed", application_id=int(application_id)).exists()


def test_moving_into_the_hired_stage_hires(api_as, recruiter, job, person):
    api = api_as(recruiter)
    application_id = _apply(api, person, job).json()["id"]

    response = api.post(f"/applications/{application_id}/move", {"stage_id": str(job.stages.get(name="Hired").pk)})

    assert response.json()["status"] == "hired"
    assert response.json()["closed_at"] is not None


def test_move_to_a_stage_of_another_job_is_refused(api_as, recruiter, job, person):
    api = api_as(recruiter)
    application_id = _apply(api, person, job).json()["id"]
    elsewhere = make_job(actor=recruiter).stages.first()

    response = api.post(f"/applications/{application_id}/move", {"stage_id": str(elsewhere.pk)})
    missing = api.post(f"/applications/{application_id}/move", {})

    assert response.status_code == 404 and "stage_id" in error_of(response)["fields"]
    assert missing.status_code == 422 and "stage_id" in error_of(missing)["fields"]


def test_reject_with_a_reason_then_moving_is_a_409_conflict(api_as, recruiter, job, person):
    from rapport.messaging.models import Message
    from rapport.messaging.services import message_template_create

    rejection_reasons_ensure()
    reason = RejectionReason.objects.first()
    template = message_template_create(
        actor=recruiter, data={"name": "No", "category": "rejection", "subject": "Your application", "body": "Thanks."}
    )
    api = api_as(recruiter)
    application_id = _apply(api, person, job).json()["id"]

    rejected = api.post(
        f"/applications/{application_id}/reject",
        {"reason_id": str(reason.pk), "note": "Too junior", "notify": True, "template_id": str(template.pk)},
    )
    moved = api.post(f"/applications/{application_id}/move", {"stage_id": str(job.stages.last().pk)})
    again = api.post(f"/applications/{application_id}/reject", {})

    assert rejected.status_code == 200
    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["rejection_reason_id"] == str(reason.pk)
    assert rejected.json()["rejection_note"] == "Too junior"
    event = Activity.objects.get(type="application.rejected")
    assert event.payload["notify"] is True
    assert Message.objects.filter(candidate=person, template=template).count() == 1
    assert moved.status_code == 409 and error_of(moved)["code"] == "conflict"
    assert again.status_code == 409


def test_reject_with_an_unknown_reason_is_422(api_as, recruiter, job, person):
    api = api_as(recruiter)
    application_id = _apply(api, person, job).json()["id"]

    response = api.post(f"/applications/{application_id}/reject", {"reason_id": "424242"})

    assert response.status_code == 422
    assert "reason_id" in error_of(response)["fields"]
    assert Application.objects.get().status == "active"


def test_withdraw_needs_no_body(api_as, recruiter, job, person):
    api = api_as(recruiter)
    application_id = _apply(api, person, job).json()["id"]

    response = api.post_raw(f"/applications/{application_id}/withdraw", b"")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "withdrawn"
    assert Activity.objects.filter(type="application.withdrawn").exists()


def test_withdraw_takes_an_optional_note(api_as, recruiter, job, person):
    api = api_as(recruiter)
    application_id = _apply(api, person, job).json()["id"]

    response = api.post(f"/applications/{application_id}/withdraw", {"note": "Took another offer"})

    assert response.status_code == 200
    assert Activity.objects.get(type="application.withdrawn").payload["note"] == "Took another offer"


def test_unknown_applications_are_404(api_as, recruiter):
    api = api_as(recruiter)

    assert api.get("/applications/424242").status_code == 404
    assert api.post("/applications/424242/move", {"stage_id": "1"}).status_code == 404
    assert api.post("/applications/abc/reject", {}).status_code == 404


def test_rejection_reasons_are_listed_in_order(api_as, interviewer):
    rejection_reasons_ensure()
    RejectionReason.objects.filter(name="Did not respond").update(is_active=False)

    body = api_as(interviewer).get("/rejection-reasons").json()

    names = [r["name"] for r in body["items"]]
    assert names[0] == "Not enough relevant experience"
    assert "Did not respond" not in names
    assert body["next_cursor"] is None
    assert set(body["items"][0]) == {"id", "name", "position"}
