"""The "My tasks" page, quick add, one-click check-off (HTMX and plain POST), editing, the person picker, the
profile's Tasks card, the sidebar count, and who may use each."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from rapport.automation.models import Task
from rapport.automation.services import task_create

HTMX = {"HTTP_HX_REQUEST": "true"}


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _task(owner, title, due=None, **data):
    task = task_create(actor=owner, data={"title": title, **data})
    if due is not None:
        Task.objects.filter(pk=task.pk).update(due_at=due)
        task.refresh_from_db()
    return task


def test_an_empty_list_says_what_to_do_next(recruiter):
    body = _client(recruiter).get("/tasks/").content.decode()

    assert "No open tasks" in body
    assert "Add a task above" in body
    assert 'id="task-quick-add"' in body


def test_the_page_needs_a_sign_in(db):
    response = Client().get("/tasks/")

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_overdue_tasks_come_first_and_are_highlighted(world):
    recruiter = world["recruiter"]
    now = timezone.now()
    _task(recruiter, "Prepare the offer", now + timedelta(days=2))
    _task(recruiter, "Chase the references", now - timedelta(hours=3))

    body = _client(recruiter).get("/tasks/").content.decode()

    assert body.index("Chase the references") < body.index("Prepare the offer")
    overdue_row = body[body.rindex("<li", 0, body.index("Chase the references")) : body.index("Chase the references")]
    assert "is-overdue" in overdue_row
    assert body.count('class="badge badge--danger">Overdue') == 1


def test_quick_add_without_javascript_creates_the_task_and_goes_back(world):
    recruiter = world["recruiter"]

    response = _client(recruiter).post(
        "/tasks/new/",
        {"title": "Call Grace", "due_date": "2030-01-31", "due_time": "14:30", "candidate_id": world["applicant"].pk},
    )

    assert response.status_code == 302 and response["Location"] == "/tasks/"
    task = Task.objects.get()
    assert (task.title, task.candidate, task.owner, task.due_all_day) == (
        "Call Grace",
        world["applicant"],
        recruiter,
        False,
    )


def test_quick_add_over_htmx_returns_the_list_an_empty_form_and_the_new_count(world):
    recruiter = world["recruiter"]

    response = _client(recruiter).post("/tasks/new/", {"title": "Source three designers"}, **HTMX)

    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="task-results"' in body and "Source three designers" in body
    assert 'id="task-quick-add"' in body and 'hx-swap-oob="true"' in body
    assert 'id="tasks-count"' in body
    assert "rapport:toast" in response["HX-Trigger"]


def test_a_blank_title_is_shown_next_to_the_field_and_nothing_is_saved(recruiter):
    response = _client(recruiter).post("/tasks/new/", {"title": "", "due_date": "not a date"}, **HTMX)

    body = response.content.decode()
    assert response.status_code == 422
    assert "Say what needs doing." in body
    assert "Use a date like 2026-01-31." in body
    assert not Task.objects.exists()


def test_a_time_without_a_day_is_refused_on_the_due_field(recruiter):
    response = _client(recruiter).post("/tasks/new/", {"title": "Call", "due_time": "09:00"}, **HTMX)

    assert response.status_code == 422
    assert "Pick a day for this time." in response.content.decode()


def test_a_person_outside_the_users_scope_cannot_be_linked(world):
    response = _client(world["interviewer"]).post(
        "/tasks/new/", {"title": "Call Alan", "candidate_id": world["bystander"].pk}, **HTMX
    )

    assert response.status_code == 422
    assert "not available to you" in response.content.decode()
    assert not Task.objects.exists()


def test_checking_off_takes_one_click_and_moves_the_task_to_done(world):
    recruiter = world["recruiter"]
    task = _task(recruiter, "Phone Grace", candidate_id=world["applicant"].pk)
    client = _client(recruiter)

    response = client.post(f"/tasks/{task.pk}/done/", {"done": "1", "tab": "open"}, **HTMX)

    assert response.status_code == 200
    assert "Phone Grace" not in response.content.decode().split('id="tasks-count"')[0]
    task.refresh_from_db()
    assert task.completed_by == recruiter
    assert "Phone Grace" in client.get("/tasks/?tab=done").content.decode()


def test_checking_off_without_javascript_redirects_back(world):
    recruiter = world["recruiter"]
    task = _task(recruiter, "Call Grace")

    response = _client(recruiter).post(f"/tasks/{task.pk}/done/", {"done": "1", "next": "/tasks/?tab=open"})

    assert response.status_code == 302 and response["Location"] == "/tasks/?tab=open"
    assert Task.objects.get().completed_at is not None


def test_a_done_task_can_be_opened_again(world):
    recruiter = world["recruiter"]
    task = _task(recruiter, "Call Grace")
    Task.objects.filter(pk=task.pk).update(completed_at=timezone.now(), completed_by=recruiter)

    _client(recruiter).post(f"/tasks/{task.pk}/done/", {"done": "0", "tab": "done"}, **HTMX)

    assert Task.objects.get().completed_at is None


def test_check_off_needs_the_csrf_token(world):
    recruiter = world["recruiter"]
    task = _task(recruiter, "Call Grace")
    client = Client(enforce_csrf_checks=True)
    client.force_login(recruiter)

    response = client.post(f"/tasks/{task.pk}/done/", {"done": "1"})

    assert response.status_code == 403
    assert Task.objects.get().completed_at is None


@pytest.mark.parametrize("role", ["hiring_manager", "interviewer", "outsider"])
def test_someone_elses_task_is_not_found_for_limited_roles(world, role):
    task = _task(world["recruiter"], "Recruiter's own")
    client = _client(world[role])

    assert client.post(f"/tasks/{task.pk}/done/", {"done": "1"}).status_code == 404
    assert client.get(f"/tasks/{task.pk}/edit/").status_code == 404
    assert Task.objects.get().completed_at is None


def test_limited_roles_cannot_peek_at_others_tasks_through_the_owner_filter(world):
    _task(world["recruiter"], "Recruiter's secret plan")

    body = _client(world["hiring_manager"]).get(f"/tasks/?owner={world['recruiter'].pk}").content.decode()

    assert "Recruiter's secret plan" not in body
    assert 'id="task-owner"' not in body


def test_recruiters_filter_by_owner_and_see_everyone(world):
    _task(world["interviewer"], "Write interview feedback")
    _task(world["recruiter"], "My own thing")
    client = _client(world["recruiter"])

    theirs = client.get(f"/tasks/?owner={world['interviewer'].pk}").content.decode()
    everyone = client.get("/tasks/?owner=all").content.decode()

    assert "Write interview feedback" in theirs and "My own thing" not in theirs
    assert "Write interview feedback" in everyone and "My own thing" in everyone


def test_a_bad_owner_or_cursor_does_not_break_the_page(recruiter):
    client = _client(recruiter)

    assert client.get("/tasks/?owner=99999999999999999999999").status_code == 200
    assert client.get("/tasks/?cursor=garbage").status_code == 302


def test_editing_changes_the_task_and_shows_errors_next_to_fields(world):
    recruiter = world["recruiter"]
    task = _task(recruiter, "Call Grace", candidate_id=world["applicant"].pk)
    client = _client(recruiter)

    page = client.get(f"/tasks/{task.pk}/edit/").content.decode()
    bad = client.post(f"/tasks/{task.pk}/edit/", {"title": "", "owner": recruiter.pk})
    good = client.post(
        f"/tasks/{task.pk}/edit/",
        {
            "title": "Call Grace back",
            "owner": world["interviewer"].pk,
            "due_date": "2030-02-01",
            "candidate_id": world["applicant"].pk,
            "notes": "About the notice period",
        },
    )

    assert 'value="Call Grace"' in page and "Grace Hopper" in page
    assert bad.status_code == 422 and "Say what needs doing." in bad.content.decode()
    assert good.status_code == 302
    task.refresh_from_db()
    assert (task.title, task.owner, task.notes) == ("Call Grace back", world["interviewer"], "About the notice period")


def test_editing_can_unlink_the_person(world):
    recruiter = world["recruiter"]
    task = _task(recruiter, "Call Grace", candidate_id=world["applicant"].pk)

    _client(recruiter).post(
        f"/tasks/{task.pk}/edit/", {"title": "Call someone", "owner": recruiter.pk, "candidate_id": ""}
    )

    task.refresh_from_db()
    assert task.candidate is None


def test_the_person_picker_offers_only_people_the_user_may_see(world):
    for role, expected in (("recruiter", True), ("hiring_manager", False)):
        body = _client(world[role]).get("/tasks/people/", {"person_q": "Turing"}).content.decode()

        assert ('type="radio" name="candidate_id"' in body and "Alan Turing" in body) is expected


def test_the_sidebar_shows_the_overdue_count_on_every_page(world):
    recruiter = world["recruiter"]
    _task(recruiter, "Overdue", timezone.now() - timedelta(hours=1))
    _task(recruiter, "Later", timezone.now() + timedelta(days=1))

    body = _client(recruiter).get("/jobs/").content.decode()

    count = body[body.index('id="tasks-count"') - 60 : body.index("</span>", body.index('id="tasks-count"')) + 40]
    assert "nav__count--danger" in count and "1 overdue of 2 open" in count
    assert 'href="/tasks/"' in body


def test_the_profile_lists_open_tasks_about_the_person_and_adds_one(world):
    recruiter, grace = world["recruiter"], world["applicant"]
    _task(recruiter, "Send Grace the offer", candidate_id=grace.pk)
    _task(recruiter, "Call Alan", candidate_id=world["bystander"].pk)
    client = _client(recruiter)

    profile = client.get(f"/candidates/{grace.pk}/").content.decode()
    added = client.post(
        "/tasks/new/", {"title": "Book the debrief", "candidate_id": grace.pk, "card": "candidate"}, **HTMX
    )

    assert 'id="side-tasks"' in profile and "Send Grace the offer" in profile and "Call Alan" not in profile
    assert added.status_code == 200
    card = added.content.decode()
    assert 'id="side-tasks"' in card and "Book the debrief" in card and "Send Grace the offer" in card


def test_checking_off_on_the_profile_refreshes_the_card(world):
    recruiter, grace = world["recruiter"], world["applicant"]
    task = _task(recruiter, "Send Grace the offer", candidate_id=grace.pk)

    response = _client(recruiter).post(f"/tasks/{task.pk}/done/", {"done": "1", "card": "candidate"}, **HTMX)

    body = response.content.decode()
    assert 'id="side-tasks"' in body and "Send Grace the offer" not in body
    assert "No open tasks about Grace" in body


def test_the_shortcut_g_t_goes_to_tasks_and_is_listed(recruiter):
    from pathlib import Path

    from django.contrib.staticfiles import finders

    script = Path(finders.find("js/rapport.js")).read_text(encoding="utf-8")
    body = _client(recruiter).get("/tasks/").content.decode()

    assert 't: "/tasks/"' in script
    assert "<kbd>g</kbd> <kbd>t</kbd></dt><dd>Go to your tasks" in body


@pytest.mark.parametrize("htmx", [True, False])
def test_a_profile_card_post_with_a_bad_person_id_is_a_404_not_a_crash(recruiter, htmx):
    headers = HTMX if htmx else {}

    response = _client(recruiter).post(
        "/tasks/new/", {"title": "Call", "candidate_id": "abc", "card": "candidate"}, **headers
    )

    assert response.status_code == 404
    assert not Task.objects.exists()
