"""Reads of applications: scoped lookups and the kanban board."""

from datetime import timedelta

import pytest
from django.utils import timezone

from rapport.candidates.services import candidate_erase
from rapport.common.errors import NotFound
from rapport.pipeline.models import Application
from rapport.pipeline.selectors import (
    application_get_for_user,
    applications_visible_to,
    days_in_stage,
    job_kanban,
)
from rapport.pipeline.services import application_create, application_move, application_reject
from tests.factories import make_candidate, make_job


def fill(recruiter, job, n: int, *, start: int = 0) -> list[Application]:
    return [
        application_create(actor=recruiter, candidate=make_candidate(actor=recruiter, first_name=f"P{i}"), job=job)
        for i in range(start, start + n)
    ]


def test_each_role_sees_its_applications(world):
    application = world["application"]
    other = application_create(
        actor=world["recruiter"], candidate=world["bystander"], job=make_job(actor=world["recruiter"], title="Other")
    )

    assert set(applications_visible_to(world["admin"])) == {application, other}
    assert set(applications_visible_to(world["recruiter"])) == {application, other}
    assert list(applications_visible_to(world["hiring_manager"])) == [application]
    assert list(applications_visible_to(world["interviewer"])) == [application]
    assert list(applications_visible_to(world["outsider"])) == []


def test_get_for_user_hides_what_is_out_of_scope(world):
    application = world["application"]

    assert application_get_for_user(user=world["interviewer"], application_id=str(application.pk)) == application
    for user, application_id in [(world["outsider"], application.pk), (world["admin"], "x"), (world["admin"], None)]:
        with pytest.raises(NotFound):
            application_get_for_user(user=user, application_id=application_id)


def test_the_applications_of_an_erased_person_are_hidden(world):
    candidate_erase(actor=world["admin"], candidate=world["applicant"])

    assert not applications_visible_to(world["admin"]).exists()
    assert Application.objects.filter(pk=world["application"].pk).exists()


def test_the_board_has_every_stage_with_its_total_and_at_most_per_stage_cards(recruiter):
    job = make_job(actor=recruiter)
    applications = fill(recruiter, job, 7)
    for application in applications[:2]:
        application_move(actor=recruiter, application=application, stage=job.stages.get(name="Interview"))

    columns = job_kanban(user=recruiter, job=job, per_stage=3)

    assert [c.stage.name for c in columns] == ["Sourced", "Applied", "Screening", "Interview", "Offer", "Hired"]
    assert {c.stage.name: c.total for c in columns} == {
        "Sourced": 5,
        "Applied": 0,
        "Screening": 0,
        "Interview": 2,
        "Offer": 0,
        "Hired": 0,
    }
    assert [len(c.cards) for c in columns] == [3, 0, 0, 2, 0, 0]


def test_cards_are_longest_waiting_first_with_ties_broken_by_id(recruiter):
    job = make_job(actor=recruiter)
    applications = fill(recruiter, job, 4)
    now = timezone.now()
    entered = {
        applications[0].pk: now - timedelta(days=1),
        applications[1].pk: now - timedelta(days=9),
        applications[2].pk: now - timedelta(days=9),
        applications[3].pk: now - timedelta(days=20),
    }
    for pk, at in entered.items():
        Application.objects.filter(pk=pk).update(stage_entered_at=at)

    sourced = job_kanban(user=recruiter, job=job)[0]

    assert [c.pk for c in sourced.cards] == [
        applications[3].pk,
        applications[1].pk,
        applications[2].pk,
        applications[0].pk,
    ]
    assert days_in_stage(sourced.cards[0]) == 20


def test_closed_applications_leave_the_board_unless_asked_for_and_hires_stay(recruiter):
    job = make_job(actor=recruiter)
    kept, rejected, hired = fill(recruiter, job, 3)
    application_reject(actor=recruiter, application=rejected)
    application_move(actor=recruiter, application=hired, stage=job.stages.get(name="Hired"))

    board = {c.stage.name: [a.pk for a in c.cards] for c in job_kanban(user=recruiter, job=job)}
    everything = {c.stage.name: c.total for c in job_kanban(user=recruiter, job=job, include_closed=True)}

    assert board["Sourced"] == [kept.pk]
    assert board["Hired"] == [hired.pk]
    assert everything["Sourced"] == 2


def test_the_board_costs_the_same_queries_for_few_or_many_applications(recruiter, django_assert_max_num_queries):
    job = make_job(actor=recruiter)
    fill(recruiter, job, 2)
    stages = job.stages.count()

    with django_assert_max_num_queries(stages + 2) as few:
        small = job_kanban(user=recruiter, job=job, per_stage=5)
        [(c.candidate.first_name, c.candidate.current_title) for column in small for c in column.cards]
    fill(recruiter, job, 12, start=2)
    with django_assert_max_num_queries(stages + 2) as many:
        large = job_kanban(user=recruiter, job=job, per_stage=5)
        [(c.candidate.first_name, c.candidate.current_title) for column in large for c in column.cards]

    assert len(few.captured_queries) == len(many.captured_queries)
    assert large[0].total == 14 and len(large[0].cards) == 5


def test_each_role_sees_its_own_slice_of_a_board(world):
    recruiter, job = world["recruiter"], world["job"]
    application_create(actor=recruiter, candidate=world["bystander"], job=job)

    def sourced(user):
        return {c.candidate.first_name for c in job_kanban(user=user, job=job)[0].cards}

    assert sourced(recruiter) == {"Grace", "Alan"}
    assert sourced(world["hiring_manager"]) == {"Grace", "Alan"}
    assert sourced(world["interviewer"]) == {"Grace"}
    assert job_kanban(user=world["interviewer"], job=job)[0].total == 1
    assert sourced(world["outsider"]) == set()
