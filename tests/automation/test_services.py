"""Creating and changing tasks: validation that names the field, who may give tasks to whom, the scope of what a
task may be about, the timeline and the audit log, and tasks made by automation without a request."""

from datetime import UTC, datetime

import pytest

from rapport.automation.models import Task, TaskSource
from rapport.automation.services import task_create, task_update
from rapport.common.errors import NotFound, PermissionDenied, ValidationFailed
from rapport.timeline.models import Activity, AuditEntry


def _fields(exc_info) -> dict:
    return exc_info.value.fields


def test_a_recruiter_adds_a_task_about_a_person_and_the_timeline_records_it(world):
    recruiter, grace = world["recruiter"], world["applicant"]

    task = task_create(
        actor=recruiter,
        data={"title": "  Call   Grace about the offer ", "due_at": "2030-01-31T09:00:00Z", "candidate_id": grace.pk},
    )

    assert task.title == "Call Grace about the offer"
    assert task.owner == recruiter and task.created_by == recruiter
    assert task.due_at == datetime(2030, 1, 31, 9, tzinfo=UTC) and not task.due_all_day
    assert task.source == TaskSource.MANUAL and task.completed_at is None
    event = Activity.objects.get(type="task.created")
    assert event.candidate == grace and event.actor == recruiter
    assert event.payload["task_id"] == task.pk and event.payload["title"] == "Call Grace about the offer"
    assert AuditEntry.objects.filter(action="create", object_type="task", object_id=str(task.pk)).exists()


def test_a_task_given_a_day_is_due_at_the_end_of_that_day_in_the_organisations_time_zone(world, settings):
    settings.RAPPORT_DEFAULT_TIMEZONE = "Europe/Berlin"

    task = task_create(actor=world["recruiter"], data={"title": "Send the contract", "due_date": "2030-06-15"})

    assert task.due_all_day
    # 23:59:59.999999 in Berlin (UTC+2 in summer) is 21:59:59.999999 UTC.
    assert task.due_at == datetime(2030, 6, 15, 21, 59, 59, 999999, tzinfo=UTC)


def test_a_task_about_nobody_writes_no_timeline_event(world):
    task_create(actor=world["recruiter"], data={"title": "Plan the sourcing sprint"})

    assert not Activity.objects.filter(type__startswith="task.").exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": 42}, "title"),
        ({"title": "Call", "due_at": "next tuesday"}, "due_at"),
        ({"title": "Call", "due_at": "2030-02-30T09:00:00Z"}, "due_at"),
        ({"title": "Call", "due_date": "31/01/2030"}, "due_date"),
        ({"title": "Call", "due_date": "2030-01-31", "due_at": "2030-01-31T09:00:00Z"}, "due_date"),
        ({"title": "Call", "owner_id": "999999"}, "owner_id"),
        ({"title": "Call", "owner_id": "not-an-id"}, "owner_id"),
        ({"title": "Call", "candidate_id": "grace"}, "candidate_id"),
        ({"title": "Call", "notes": "n" * 10_001}, "notes"),
        ({"title": "Call", "colour": "red"}, "colour"),
        ({"title": "Call", "done": True}, "done"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(world, data, field):
    with pytest.raises(ValidationFailed) as exc_info:
        task_create(actor=world["recruiter"], data=data)

    assert field in _fields(exc_info)
    assert not Task.objects.exists()


def test_a_task_cannot_be_given_to_a_deactivated_team_member(world):
    interviewer = world["interviewer"]
    interviewer.is_active = False
    interviewer.save()

    with pytest.raises(ValidationFailed) as exc_info:
        task_create(actor=world["recruiter"], data={"title": "Feedback", "owner_id": interviewer.pk})

    assert "owner_id" in _fields(exc_info)


@pytest.mark.parametrize("role", ["admin", "recruiter"])
def test_admins_and_recruiters_give_tasks_to_anyone_who_can_see_the_person(world, role):
    task = task_create(
        actor=world[role],
        data={"title": "Send feedback", "owner_id": world["interviewer"].pk, "candidate_id": world["applicant"].pk},
    )

    assert task.owner == world["interviewer"] and task.created_by == world[role]


def test_a_task_about_someone_the_new_owner_cannot_see_is_refused_on_the_owner(world):
    with pytest.raises(ValidationFailed) as exc_info:
        task_create(
            actor=world["recruiter"],
            data={"title": "Call Alan", "owner_id": world["hiring_manager"].pk, "candidate_id": world["bystander"].pk},
        )

    assert "Harper Manager cannot see this person" in _fields(exc_info)["owner_id"][0]
    assert not Task.objects.exists()


@pytest.mark.parametrize("role", ["hiring_manager", "interviewer"])
def test_hiring_managers_and_interviewers_add_tasks_for_themselves_about_people_in_their_scope(world, role):
    task = task_create(
        actor=world[role],
        data={"title": "Write up the interview", "candidate_id": world["applicant"].pk, "job_id": world["job"].pk},
    )

    assert task.owner == world[role] and task.job == world["job"]


@pytest.mark.parametrize("role", ["hiring_manager", "interviewer", "outsider"])
def test_only_admins_and_recruiters_give_tasks_to_someone_else(world, role):
    with pytest.raises(PermissionDenied):
        task_create(actor=world[role], data={"title": "Your turn", "owner_id": world["recruiter"].pk})

    assert not Task.objects.exists()


@pytest.mark.parametrize(
    ("role", "link"),
    [
        ("hiring_manager", {"candidate_id": "bystander"}),
        ("interviewer", {"candidate_id": "bystander"}),
        ("outsider", {"candidate_id": "applicant"}),
        ("outsider", {"job_id": "job"}),
    ],
)
def test_a_person_or_job_outside_the_actors_scope_is_not_found(world, role, link):
    data = {"title": "Sneaky", **{field: world[name].pk for field, name in link.items()}}

    with pytest.raises(NotFound):
        task_create(actor=world[role], data=data)

    assert not Task.objects.exists()


def test_the_outsider_may_still_keep_their_own_to_do_list(world):
    task = task_create(actor=world["outsider"], data={"title": "Read the hiring guide"})

    assert task.owner == world["outsider"]


def test_an_erased_person_cannot_get_new_tasks(world):
    from rapport.candidates.services import candidate_erase

    candidate_erase(actor=world["admin"], candidate=world["bystander"])

    with pytest.raises(NotFound):
        task_create(actor=world["recruiter"], data={"title": "Call", "candidate_id": world["bystander"].pk})


def test_checking_a_task_off_records_who_and_when_once_and_opening_it_again_clears_it(world):
    recruiter, grace = world["recruiter"], world["applicant"]
    task = task_create(actor=recruiter, data={"title": "Call Grace", "candidate_id": grace.pk})

    task_update(actor=recruiter, task=task, data={"done": True})
    first_done = task.completed_at
    task_update(actor=recruiter, task=task, data={"done": True})

    task.refresh_from_db()
    assert task.completed_at == first_done and task.completed_by == recruiter
    completed = Activity.objects.filter(type="task.completed")
    assert completed.count() == 1
    assert completed.get().candidate == grace and completed.get().payload["task_id"] == task.pk

    task_update(actor=recruiter, task=task, data={"done": False})

    task.refresh_from_db()
    assert task.completed_at is None and task.completed_by is None
    assert AuditEntry.objects.filter(object_type="task", object_id=str(task.pk), action="update").count() == 2


def test_an_update_changes_only_the_fields_sent_and_audits_the_change(world):
    recruiter = world["recruiter"]
    task = task_create(actor=recruiter, data={"title": "Call", "notes": "Ask about notice", "due_date": "2030-01-31"})

    task_update(actor=recruiter, task=task, data={"title": "Call back", "due_at": None})

    task.refresh_from_db()
    assert (task.title, task.notes, task.due_at, task.due_all_day) == ("Call back", "Ask about notice", None, False)
    entry = AuditEntry.objects.get(object_type="task", action="update")
    assert entry.changes["title"] == ["Call", "Call back"]
    assert "notes" not in entry.changes


@pytest.mark.parametrize(
    ("data", "field"), [({"title": ""}, "title"), ({"done": "yes"}, "done"), ({"owner_id": None}, "owner_id")]
)
def test_a_bad_update_names_the_field_and_changes_nothing(world, data, field):
    task = task_create(actor=world["recruiter"], data={"title": "Call"})

    with pytest.raises(ValidationFailed) as exc_info:
        task_update(actor=world["recruiter"], task=task, data=data)

    assert field in _fields(exc_info)
    task.refresh_from_db()
    assert task.title == "Call" and task.completed_at is None


def test_a_hiring_manager_cannot_hand_their_task_to_someone_else(world):
    task = task_create(actor=world["hiring_manager"], data={"title": "Review CVs"})

    with pytest.raises(PermissionDenied):
        task_update(actor=world["hiring_manager"], task=task, data={"owner_id": world["recruiter"].pk})


def test_a_task_whose_person_left_the_owners_scope_can_still_be_checked_off(world):
    hiring_manager = world["hiring_manager"]
    task = task_create(actor=hiring_manager, data={"title": "Decide on Grace", "candidate_id": world["applicant"].pk})
    world["application"].delete()

    task_update(actor=hiring_manager, task=task, data={"done": True})

    task.refresh_from_db()
    assert task.completed_by == hiring_manager


def test_automation_creates_tasks_without_a_request_naming_its_source(world):
    grace = world["applicant"]

    task = task_create(
        actor=None,
        owner=world["recruiter"],
        source=TaskSource.SEQUENCE,
        source_id="17",
        data={"title": "Call Grace", "due_at": "2030-01-31T09:00:00Z", "candidate_id": grace.pk},
    )

    assert (task.owner, task.created_by, task.source, task.source_id) == (world["recruiter"], None, "sequence", "17")
    event = Activity.objects.get(type="task.created")
    assert event.actor is None and event.payload["source"] == "sequence"


def test_automation_cannot_give_a_task_about_someone_outside_the_owners_scope(world):
    with pytest.raises(NotFound):
        task_create(
            actor=None,
            owner=world["hiring_manager"],
            source=TaskSource.TRIGGER,
            data={"title": "Call Alan", "candidate_id": world["bystander"].pk},
        )


def test_a_task_without_a_user_must_come_from_automation(world):
    with pytest.raises(ValidationFailed) as exc_info:
        task_create(actor=None, owner=world["recruiter"], data={"title": "Who made me?"})

    assert "source" in _fields(exc_info)


def test_a_deactivated_user_can_do_nothing(world):
    recruiter = world["recruiter"]
    task = task_create(actor=recruiter, data={"title": "Call"})
    recruiter.is_active = False
    recruiter.save()

    with pytest.raises(PermissionDenied):
        task_create(actor=recruiter, data={"title": "Another"})
    with pytest.raises(PermissionDenied):
        task_update(actor=recruiter, task=task, data={"done": True})
