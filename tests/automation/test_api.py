"""The tasks API: list with owner, due_before and done filters and cursor paging; create (with Idempotency-Key);
change and check off; errors in the API's format; 404 outside the caller's scope."""

from datetime import UTC, datetime, timedelta

import pytest

from rapport.automation.models import Task
from rapport.automation.services import task_create
from rapport.timeline.models import Activity
from tests.api.conftest import error_of

KEY = {"Idempotency-Key": "0d6b7c1e-2f0a-4c55-9d1e-5b1b1c0e7a01"}


def _task(owner, title, due=None, **data):
    task = task_create(actor=owner, data={"title": title, **data})
    if due is not None:
        Task.objects.filter(pk=task.pk).update(due_at=due)
    return task


def test_a_task_is_created_about_a_person_and_returned_in_full(world, api_as):
    grace = world["applicant"]

    response = api_as(world["recruiter"]).post(
        "/tasks",
        {
            "title": "Call Grace",
            "due_at": "2030-01-31T09:00:00Z",
            "candidate_id": str(grace.pk),
            "job_id": str(world["job"].pk),
        },
    )

    assert response.status_code == 201
    body = response.json()
    assert body["title"] == "Call Grace"
    assert body["due_at"].startswith("2030-01-31T09:00:00")
    assert body["all_day"] is False and body["done"] is False and body["overdue"] is False
    assert body["owner_id"] == str(world["recruiter"].pk)
    assert (body["candidate_id"], body["job_id"]) == (str(grace.pk), str(world["job"].pk))
    assert body["source"] == "manual" and body["source_id"] is None
    assert Activity.objects.filter(type="task.created", candidate=grace).count() == 1


def test_a_task_due_on_a_day_reports_all_day(world, api_as):
    response = api_as(world["recruiter"]).post("/tasks", {"title": "Send contract", "due_date": "2030-01-31"})

    assert response.status_code == 201
    assert response.json()["all_day"] is True


def test_a_repeated_idempotency_key_returns_the_first_task_without_a_second(world, api_as):
    api = api_as(world["recruiter"])

    first = api.post("/tasks", {"title": "Call Grace"}, **KEY)
    second = api.post("/tasks", {"title": "Call Grace"}, **KEY)

    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json() == first.json() and second["Idempotent-Replayed"] == "true"
    assert Task.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "Call", "due_date": "2030-01-31", "due_at": "2030-01-31T09:00:00Z"}, "due_date"),
        ({"title": "Call", "owner_id": "999999"}, "owner_id"),
        ({"title": "Call", "colour": "red"}, "colour"),
        ({"title": "Call", "due_at": "tomorrow"}, "due_at"),
        ({}, "title"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(world, api_as, body, field):
    response = api_as(world["recruiter"]).post("/tasks", body)

    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "validation_error"
    assert any(field in name for name in error["fields"]), error
    assert not Task.objects.exists()


def test_a_person_outside_the_callers_scope_is_a_404(world, api_as):
    response = api_as(world["interviewer"]).post(
        "/tasks", {"title": "Call Alan", "candidate_id": str(world["bystander"].pk)}
    )

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_a_hiring_manager_cannot_give_a_task_to_someone_else(world, api_as):
    response = api_as(world["hiring_manager"]).post(
        "/tasks", {"title": "Your turn", "owner_id": str(world["recruiter"].pk)}
    )

    assert response.status_code == 403
    assert error_of(response)["code"] == "forbidden"


def test_patch_checks_a_task_off_and_back_on(world, api_as):
    recruiter = world["recruiter"]
    task = _task(recruiter, "Call Grace", candidate_id=world["applicant"].pk)
    api = api_as(recruiter)

    done = api.patch(f"/tasks/{task.pk}", {"done": True})
    reopened = api.patch(f"/tasks/{task.pk}", {"done": False, "title": "Call Grace again"})

    assert done.status_code == 200
    assert done.json()["done"] is True and done.json()["completed_by_id"] == str(recruiter.pk)
    assert reopened.json()["done"] is False and reopened.json()["completed_at"] is None
    assert reopened.json()["title"] == "Call Grace again"
    assert Activity.objects.filter(type="task.completed").count() == 1


def test_patch_refuses_bad_fields_naming_them(world, api_as):
    task = _task(world["recruiter"], "Call Grace")
    api = api_as(world["recruiter"])

    blank = api.patch(f"/tasks/{task.pk}", {"title": ""})
    unknown = api.patch(f"/tasks/{task.pk}", {"status": "done"})

    assert blank.status_code == unknown.status_code == 422
    assert "title" in error_of(blank)["fields"]
    assert any("status" in name for name in error_of(unknown)["fields"])


@pytest.mark.parametrize("role", ["hiring_manager", "interviewer", "outsider"])
def test_someone_elses_task_is_a_404_for_limited_roles(world, api_as, role):
    task = _task(world["recruiter"], "Recruiter's")

    response = api_as(world[role]).patch(f"/tasks/{task.pk}", {"done": True})

    assert response.status_code == 404
    assert Task.objects.get().completed_at is None


def test_an_unknown_task_id_is_a_404(world, api_as):
    api = api_as(world["recruiter"])

    assert api.patch("/tasks/123456", {"done": True}).status_code == 404
    assert api.patch("/tasks/abc", {"done": True}).status_code == 404


def test_the_list_filters_by_owner_due_before_and_done(world, api_as):
    recruiter = world["recruiter"]
    now = datetime(2030, 3, 10, 12, tzinfo=UTC)
    early = _task(recruiter, "Early", now - timedelta(days=1))
    _task(recruiter, "Late", now + timedelta(days=1))
    finished = _task(recruiter, "Finished", now - timedelta(days=2))
    Task.objects.filter(pk=finished.pk).update(completed_at=now)
    _task(world["admin"], "Admin's", now - timedelta(days=1))
    api = api_as(recruiter)

    def titles(**params):
        response = api.get("/tasks", params)
        assert response.status_code == 200
        return {item["title"] for item in response.json()["items"]}

    assert titles() == {"Early", "Late", "Finished", "Admin's"}
    assert titles(owner=str(recruiter.pk), done="false", due_before="2030-03-10T12:00:00Z") == {early.title}
    assert titles(owner=str(recruiter.pk), done="true") == {"Finished"}
    assert titles(due_before="2030-03-10") == {"Early", "Finished", "Admin's"}


def test_limited_roles_list_only_their_own_tasks(world, api_as):
    _task(world["recruiter"], "Recruiter's")
    _task(world["interviewer"], "Interviewer's")

    items = api_as(world["interviewer"]).get("/tasks", {"owner": str(world["recruiter"].pk)}).json()["items"]
    own = api_as(world["interviewer"]).get("/tasks").json()["items"]

    assert items == []
    assert [item["title"] for item in own] == ["Interviewer's"]


def test_the_list_pages_with_a_cursor(world, api_as):
    for n in range(5):
        _task(world["recruiter"], f"Task {n}")
    api = api_as(world["recruiter"])

    first = api.get("/tasks", {"limit": 2}).json()
    second = api.get("/tasks", {"limit": 2, "cursor": first["next_cursor"]}).json()
    third = api.get("/tasks", {"limit": 2, "cursor": second["next_cursor"]}).json()

    titles = [item["title"] for page in (first, second, third) for item in page["items"]]
    assert titles == ["Task 4", "Task 3", "Task 2", "Task 1", "Task 0"]
    assert third["next_cursor"] is None


@pytest.mark.parametrize(
    ("params", "status", "field"),
    [
        ({"due_before": "soon"}, 422, "due_before"),
        ({"cursor": "not-a-cursor"}, 400, "cursor"),
        ({"limit": "0"}, 422, "limit"),
        ({"done": "maybe"}, 422, "done"),
    ],
)
def test_bad_list_parameters_are_errors_not_crashes(world, api_as, params, status, field):
    response = api_as(world["recruiter"]).get("/tasks", params)

    assert response.status_code == status
    assert any(field in name for name in error_of(response)["fields"])


def test_the_api_needs_a_token(anonymous):
    assert anonymous.get("/tasks").status_code == 401
    assert anonymous.post("/tasks", {"title": "Call"}).status_code == 401
