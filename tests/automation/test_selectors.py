"""Which tasks each role sees, the "My tasks" order (overdue first, then by due date, undated last) and its
paging, and the sidebar's counts, all at explicit times."""

from datetime import UTC, datetime, timedelta

import pytest

from rapport.automation.models import Task
from rapport.automation.selectors import (
    my_tasks,
    open_tasks_about,
    parse_due_before,
    task_counts,
    task_get_for_user,
    task_list,
    tasks_visible_to,
)
from rapport.automation.services import task_create
from rapport.common.errors import BadRequest, NotFound, ValidationFailed

NOW = datetime(2030, 3, 10, 12, 0, tzinfo=UTC)


def _task(owner, title, due=None, **data):
    task = task_create(actor=owner, data={"title": title, **data})
    if due is not None:
        Task.objects.filter(pk=task.pk).update(due_at=due)
        task.refresh_from_db()
    return task


@pytest.fixture
def tasks(world):
    """One task per role, each owned by that role's user."""
    return {
        role: _task(world[role], f"Task of {role}")
        for role in ("admin", "recruiter", "hiring_manager", "interviewer", "outsider")
    }


@pytest.mark.parametrize(
    ("role", "sees"),
    [
        ("admin", {"admin", "recruiter", "hiring_manager", "interviewer", "outsider"}),
        ("recruiter", {"admin", "recruiter", "hiring_manager", "interviewer", "outsider"}),
        ("hiring_manager", {"hiring_manager"}),
        ("interviewer", {"interviewer"}),
        ("outsider", {"outsider"}),
    ],
)
def test_each_role_sees_its_own_tasks_and_admins_and_recruiters_everyones(world, tasks, role, sees):
    visible = set(tasks_visible_to(world[role]).values_list("pk", flat=True))

    assert visible == {tasks[name].pk for name in sees}


def test_a_task_outside_the_scope_is_not_found(world, tasks):
    with pytest.raises(NotFound):
        task_get_for_user(user=world["hiring_manager"], task_id=tasks["recruiter"].pk)
    with pytest.raises(NotFound):
        task_get_for_user(user=world["outsider"], task_id="not-a-number")

    assert task_get_for_user(user=world["recruiter"], task_id=str(tasks["outsider"].pk)) == tasks["outsider"]


def test_a_deactivated_admin_sees_no_task(world, tasks):
    admin = world["admin"]
    admin.is_active = False
    admin.save()

    assert not tasks_visible_to(admin).exists()


def test_open_tasks_come_overdue_first_then_by_due_date_with_undated_ones_last(world):
    recruiter = world["recruiter"]
    later = _task(recruiter, "Next week", NOW + timedelta(days=7))
    undated = _task(recruiter, "Someday")
    overdue = _task(recruiter, "Yesterday", NOW - timedelta(days=1))
    soon = _task(recruiter, "Tomorrow", NOW + timedelta(days=1))
    very_overdue = _task(recruiter, "Last month", NOW - timedelta(days=30))
    done = _task(recruiter, "Finished", NOW - timedelta(days=2))
    Task.objects.filter(pk=done.pk).update(completed_at=NOW)

    page = my_tasks(user=recruiter)

    assert [t.title for t in page.items] == [very_overdue.title, overdue.title, soon.title, later.title, undated.title]
    assert page.next_cursor is None


def test_the_open_list_pages_through_dated_and_undated_tasks_without_gaps_or_repeats(world):
    recruiter = world["recruiter"]
    same_time = NOW + timedelta(hours=1)
    expected = [
        _task(recruiter, "a", NOW),
        _task(recruiter, "b", same_time),
        _task(recruiter, "c", same_time),
        _task(recruiter, "d"),
        _task(recruiter, "e"),
    ]

    seen, cursor = [], None
    for _ in range(5):
        page = my_tasks(user=recruiter, cursor=cursor, limit=2)
        seen += page.items
        cursor = page.next_cursor
        if cursor is None:
            break

    assert [t.pk for t in seen] == [t.pk for t in expected]


def test_done_tasks_list_the_most_recently_finished_first_and_page(world):
    recruiter = world["recruiter"]
    finished = []
    for hours in (3, 1, 2):
        task = _task(recruiter, f"Done {hours}h ago")
        Task.objects.filter(pk=task.pk).update(completed_at=NOW - timedelta(hours=hours))
        finished.append(task)

    first = my_tasks(user=recruiter, done=True, limit=2)
    second = my_tasks(user=recruiter, done=True, limit=2, cursor=first.next_cursor)

    assert [t.title for t in first.items + second.items] == ["Done 1h ago", "Done 2h ago", "Done 3h ago"]
    assert second.next_cursor is None


def test_a_tampered_cursor_is_a_bad_request(world):
    with pytest.raises(BadRequest):
        my_tasks(user=world["recruiter"], cursor="bm90LWpzb24")
    with pytest.raises(BadRequest):
        my_tasks(user=world["recruiter"], cursor="eyJhdCI6Im5vdCBhIHRpbWUiLCJpZCI6MX0")  # {"at":"not a time","id":1}


def test_admins_and_recruiters_list_someone_elses_or_everyones_tasks_but_others_only_their_own(world, tasks):
    assert [t.owner for t in my_tasks(user=world["recruiter"], owner_id=world["interviewer"].pk).items] == [
        world["interviewer"]
    ]
    assert len(my_tasks(user=world["admin"], owner_id=0).items) == 5
    assert my_tasks(user=world["hiring_manager"], owner_id=world["recruiter"].pk).items == []


def test_the_sidebar_counts_the_users_open_and_overdue_tasks_only(world):
    recruiter = world["recruiter"]
    _task(recruiter, "Overdue", NOW - timedelta(minutes=1))
    _task(recruiter, "Due later", NOW + timedelta(minutes=1))
    _task(recruiter, "Undated")
    done = _task(recruiter, "Done and overdue", NOW - timedelta(days=1))
    Task.objects.filter(pk=done.pk).update(completed_at=NOW)
    _task(world["admin"], "Someone else's", NOW - timedelta(days=1))

    assert task_counts(user=recruiter, now=NOW) == {"open": 3, "overdue": 1}
    assert task_counts(user=recruiter, now=NOW + timedelta(minutes=2)) == {"open": 3, "overdue": 2}
    assert task_counts(user=world["outsider"], now=NOW) == {"open": 0, "overdue": 0}


def test_the_profile_lists_only_open_tasks_about_that_person_the_user_may_see(world):
    grace = world["applicant"]
    mine = _task(world["hiring_manager"], "Decide on Grace", candidate_id=grace.pk)
    theirs = _task(world["recruiter"], "Call Grace", candidate_id=grace.pk)
    _task(world["recruiter"], "Call Alan", candidate_id=world["bystander"].pk)

    assert open_tasks_about(user=world["hiring_manager"], candidate_id=grace.pk) == [mine]
    assert {t.pk for t in open_tasks_about(user=world["recruiter"], candidate_id=grace.pk)} == {mine.pk, theirs.pk}


def test_the_list_filters_by_owner_done_and_due_before(world):
    recruiter = world["recruiter"]
    early = _task(recruiter, "Early", NOW - timedelta(days=1))
    _task(recruiter, "Late", NOW + timedelta(days=1))
    _task(world["admin"], "Admin's", NOW - timedelta(days=1))

    rows = task_list(user=recruiter, owner_id=recruiter.pk, done=False, due_before=NOW)

    assert list(rows) == [early]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2030-03-10", datetime(2030, 3, 10, tzinfo=UTC)),
        ("2030-03-10T09:30:00Z", datetime(2030, 3, 10, 9, 30, tzinfo=UTC)),
        ("2030-03-10T09:30:00+02:00", datetime(2030, 3, 10, 7, 30, tzinfo=UTC)),
    ],
)
def test_due_before_takes_a_date_or_a_time(text, expected):
    assert parse_due_before(text) == expected


@pytest.mark.parametrize("text", ["soon", "2030-02-30", "2030-13-01T00:00:00Z", ""])
def test_a_bad_due_before_names_the_field(text):
    with pytest.raises(ValidationFailed) as exc_info:
        parse_due_before(text)

    assert "due_before" in exc_info.value.fields
