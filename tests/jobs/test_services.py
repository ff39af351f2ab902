"""Jobs and their stages: the template copy, validation, status dates and stage editing."""

from datetime import date

import pytest
from django.utils import timezone

from rapport.common.errors import Conflict, PermissionDenied, ValidationFailed
from rapport.jobs.models import Job, Stage, StageCategory, StageTemplate
from rapport.jobs.services import (
    client_create,
    job_create,
    job_update,
    stage_add,
    stage_delete,
    stage_rename,
    stages_reorder,
)
from rapport.pipeline.models import StageTransition
from rapport.pipeline.services import application_create
from rapport.timeline.models import AuditEntry
from tests.factories import UserFactory, make_candidate, make_job


def stage_names(job: Job) -> list[str]:
    return list(job.stages.order_by("position", "id").values_list("name", flat=True))


def test_a_new_job_gets_its_own_copy_of_the_default_stages(recruiter):
    job = job_create(actor=recruiter, data={"title": "  Platform Engineer  "})

    assert job.title == "Platform Engineer"
    assert [(s.name, s.category) for s in job.stages.order_by("position")] == [
        ("Sourced", StageCategory.SOURCED),
        ("Applied", StageCategory.APPLIED),
        ("Screening", StageCategory.SCREENING),
        ("Interview", StageCategory.INTERVIEW),
        ("Offer", StageCategory.OFFER),
        ("Hired", StageCategory.HIRED),
    ]
    assert job.recruiter == recruiter
    assert AuditEntry.objects.filter(object_type="job", object_id=str(job.pk), action="create").exists()


def test_a_new_job_follows_the_organisations_edited_template_and_later_edits_do_not_touch_it(recruiter):
    first = job_create(actor=recruiter, data={"title": "First"})
    StageTemplate.objects.filter(name="Screening").update(name="Phone screen")

    second = job_create(actor=recruiter, data={"title": "Second"})

    assert "Phone screen" in stage_names(second)
    assert "Screening" in stage_names(first)
    assert set(first.stages.values_list("id", flat=True)).isdisjoint(second.stages.values_list("id", flat=True))


def test_an_open_job_is_dated_and_a_draft_is_not(recruiter):
    opened = job_create(actor=recruiter, data={"title": "Open", "status": "open"})
    draft = job_create(actor=recruiter, data={"title": "Draft"})

    assert opened.opened_on == timezone.localdate()
    assert draft.status == "draft" and draft.opened_on is None


def test_create_keeps_every_given_field(recruiter, hiring_manager):
    client = client_create(actor=recruiter, name="Acme", website="https://acme.example")

    job = job_create(
        actor=recruiter,
        data={
            "title": "Data Engineer",
            "department": "Data",
            "location": "Berlin",
            "workplace_type": "hybrid",
            "employment_type": "contract",
            "description": "Pipelines.",
            "hiring_manager_id": hiring_manager.pk,
            "openings": "3",
            "client_id": client.pk,
            "status": "open",
            "opened_on": "2026-01-05",
        },
    )

    job.refresh_from_db()
    assert (job.department, job.location, job.workplace_type, job.employment_type) == (
        "Data",
        "Berlin",
        "hybrid",
        "contract",
    )
    assert (job.hiring_manager, job.openings, job.client, job.opened_on) == (
        hiring_manager,
        3,
        client,
        date(2026, 1, 5),
    )


@pytest.mark.parametrize(
    "data, field",
    [
        ({"title": ""}, "title"),
        ({"title": None}, "title"),
        ({"title": "x" * 151}, "title"),
        ({"title": 7}, "title"),
        ({"status": "archived"}, "status"),
        ({"workplace_type": "moon"}, "workplace_type"),
        ({"employment_type": "forever"}, "employment_type"),
        ({"openings": 0}, "openings"),
        ({"openings": "many"}, "openings"),
        ({"openings": 1001}, "openings"),
        ({"hiring_manager_id": 999_999}, "hiring_manager_id"),
        ({"hiring_manager_id": "abc"}, "hiring_manager_id"),
        ({"client_id": 999_999}, "client_id"),
        ({"client_id": "abc"}, "client_id"),
        ({"opened_on": "2026-02-30"}, "opened_on"),
        ({"closed_on": "someday"}, "closed_on"),
        ({"description": "x" * 20_001}, "description"),
    ],
)
def test_create_with_a_bad_field_names_it_and_writes_nothing(recruiter, data, field):
    with pytest.raises(ValidationFailed) as caught:
        job_create(actor=recruiter, data={"title": "Engineer", **data})

    assert field in caught.value.fields
    assert not Job.objects.exists() and not Stage.objects.exists()


def test_the_recruiter_of_a_job_must_be_a_recruiter_or_admin(recruiter, interviewer):
    with pytest.raises(ValidationFailed) as caught:
        job_create(actor=recruiter, data={"title": "Engineer", "recruiter_id": interviewer.pk})

    assert "recruiter_id" in caught.value.fields


def test_an_inactive_hiring_manager_is_refused(recruiter):
    gone = UserFactory(role="hiring_manager", is_active=False)

    with pytest.raises(ValidationFailed) as caught:
        job_create(actor=recruiter, data={"title": "Engineer", "hiring_manager_id": gone.pk})

    assert "hiring_manager_id" in caught.value.fields


@pytest.mark.parametrize("role_user", ["hiring_manager", "interviewer"])
def test_only_recruiters_and_admins_create_jobs(request, role_user):
    with pytest.raises(PermissionDenied):
        job_create(actor=request.getfixturevalue(role_user), data={"title": "Mine"})


def test_opening_a_job_dates_it_and_closing_dates_the_close(recruiter):
    job = job_create(actor=recruiter, data={"title": "Engineer"})

    job_update(actor=recruiter, job=job, data={"status": "open"})
    assert (job.opened_on, job.closed_on) == (timezone.localdate(), None)

    job_update(actor=recruiter, job=job, data={"status": "filled"})
    job.refresh_from_db()
    assert job.closed_on == timezone.localdate()
    audit = AuditEntry.objects.filter(object_id=str(job.pk), action="update").order_by("id").last()
    assert audit.changes == {"status": ["open", "filled"]}


def test_reopening_a_closed_job_clears_its_closing_date_and_keeps_the_first_opening(recruiter):
    job = job_create(actor=recruiter, data={"title": "Engineer", "status": "open", "opened_on": "2025-01-02"})
    job_update(actor=recruiter, job=job, data={"status": "closed"})

    job_update(actor=recruiter, job=job, data={"status": "open"})

    job.refresh_from_db()
    assert job.opened_on == date(2025, 1, 2)
    assert job.closed_on is None


def test_explicit_dates_win_over_the_automatic_ones(recruiter):
    job = job_create(actor=recruiter, data={"title": "Engineer", "status": "open"})

    job_update(actor=recruiter, job=job, data={"status": "closed", "closed_on": "2025-12-31"})

    assert job.closed_on == date(2025, 12, 31)


def test_an_update_without_change_is_not_audited(recruiter):
    job = job_create(actor=recruiter, data={"title": "Engineer"})

    job_update(actor=recruiter, job=job, data={"title": "Engineer "})

    assert not AuditEntry.objects.filter(object_id=str(job.pk), action="update").exists()


def test_an_update_with_a_bad_field_changes_nothing(recruiter):
    job = job_create(actor=recruiter, data={"title": "Engineer"})

    with pytest.raises(ValidationFailed) as caught:
        job_update(actor=recruiter, job=job, data={"department": "Data", "title": ""})

    assert "title" in caught.value.fields
    job.refresh_from_db()
    assert job.department == ""


def test_a_hiring_manager_cannot_edit_their_own_job(recruiter, hiring_manager):
    job = make_job(actor=recruiter, hiring_manager_id=hiring_manager.pk)

    with pytest.raises(PermissionDenied):
        job_update(actor=hiring_manager, job=job, data={"title": "Better title"})


# --- stages ---------------------------------------------------------------------------------------------------------


def test_a_stage_can_be_renamed_and_the_rename_is_audited(recruiter):
    job = make_job(actor=recruiter)
    stage = job.stages.get(name="Screening")

    stage_rename(actor=recruiter, stage=stage, name="  Phone screen ")

    assert stage_names(job)[2] == "Phone screen"
    assert AuditEntry.objects.get(object_type="stage", object_id=str(stage.pk)).changes == {
        "name": ["Screening", "Phone screen"]
    }


@pytest.mark.parametrize("name", ["", "   ", "x" * 61])
def test_a_stage_name_must_have_1_to_60_characters(recruiter, name):
    job = make_job(actor=recruiter)

    with pytest.raises(ValidationFailed) as caught:
        stage_rename(actor=recruiter, stage=job.stages.first(), name=name)

    assert "name" in caught.value.fields
    assert stage_names(job)[0] == "Sourced"


def test_stages_can_be_reordered(recruiter):
    job = make_job(actor=recruiter)
    ids = list(job.stages.order_by("position").values_list("id", flat=True))
    new_order = [ids[1], ids[0], *ids[2:]]

    stages_reorder(actor=recruiter, job=job, stage_ids=new_order)

    assert stage_names(job)[:2] == ["Applied", "Sourced"]


@pytest.mark.parametrize(
    "mutate",
    [
        lambda ids: ids[:-1],
        lambda ids: [*ids, ids[0]],
        lambda ids: [*ids[:-1], 999_999],
        lambda ids: ["a"],
        lambda ids: [*ids[:-1], "x"],
    ],
)
def test_a_reorder_must_list_every_stage_of_the_job_once(recruiter, mutate):
    job = make_job(actor=recruiter)
    ids = list(job.stages.order_by("position").values_list("id", flat=True))

    with pytest.raises(ValidationFailed) as caught:
        stages_reorder(actor=recruiter, job=job, stage_ids=mutate(ids))

    assert "stage_ids" in caught.value.fields
    assert stage_names(job)[0] == "Sourced"


def test_a_reorder_cannot_take_a_stage_of_another_job(recruiter):
    job, other = make_job(actor=recruiter), make_job(actor=recruiter)
    ids = list(job.stages.values_list("id", flat=True))

    with pytest.raises(ValidationFailed):
        stages_reorder(actor=recruiter, job=job, stage_ids=[*ids[:-1], other.stages.first().pk])


def test_a_stage_is_added_at_the_end(recruiter):
    job = make_job(actor=recruiter)

    stage = stage_add(actor=recruiter, job=job, name="Reference check", category="offer")

    assert stage_names(job)[-1] == "Reference check"
    assert stage.category == StageCategory.OFFER


def test_a_stage_needs_a_known_category(recruiter):
    job = make_job(actor=recruiter)

    with pytest.raises(ValidationFailed) as caught:
        stage_add(actor=recruiter, job=job, name="Party", category="celebration")

    assert "category" in caught.value.fields


def test_an_empty_stage_can_be_deleted_but_not_one_with_people(recruiter):
    job = make_job(actor=recruiter)
    person = make_candidate(actor=recruiter)
    application_create(actor=recruiter, candidate=person, job=job)
    empty = job.stages.get(name="Offer")
    busy = job.stages.get(name="Sourced")

    stage_delete(actor=recruiter, stage=empty)
    with pytest.raises(Conflict):
        stage_delete(actor=recruiter, stage=busy)

    assert "Offer" not in stage_names(job)
    assert "Sourced" in stage_names(job)
    assert StageTransition.objects.filter(to_stage=busy).exists()


def test_stage_editing_is_for_recruiters_and_admins(recruiter, hiring_manager):
    job = make_job(actor=recruiter, hiring_manager_id=hiring_manager.pk)

    with pytest.raises(PermissionDenied):
        stage_rename(actor=hiring_manager, stage=job.stages.first(), name="Mine")
    with pytest.raises(PermissionDenied):
        stage_add(actor=hiring_manager, job=job, name="Mine", category="interview")


def test_client_names_are_unique_and_websites_are_web_addresses(recruiter):
    client_create(actor=recruiter, name="Acme")

    with pytest.raises(ValidationFailed) as duplicate:
        client_create(actor=recruiter, name="ACME")
    with pytest.raises(ValidationFailed) as website:
        client_create(actor=recruiter, name="Initech", website="javascript:alert(1)")

    assert "name" in duplicate.value.fields
    assert "website" in website.value.fields
