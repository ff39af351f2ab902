"""Reads of jobs: who sees which job, the jobs list with counts, and stage lookups."""

import pytest

from rapport.common.errors import NotFound
from rapport.jobs.selectors import (
    job_get_for_user,
    job_list,
    job_stage_counts,
    jobs_visible_to,
    stage_get_for_job,
    stages_for_job,
)
from rapport.pipeline.services import application_create, application_move, application_reject
from tests.factories import make_candidate, make_job


def test_each_role_sees_its_jobs(world):
    recruiter, job = world["recruiter"], world["job"]
    other = make_job(actor=recruiter, title="Other")

    assert set(jobs_visible_to(world["admin"])) == {job, other}
    assert set(jobs_visible_to(recruiter)) == {job, other}
    assert list(jobs_visible_to(world["hiring_manager"])) == [job]
    assert list(jobs_visible_to(world["interviewer"])) == [job]
    assert list(jobs_visible_to(world["outsider"])) == []


def test_an_interviewer_on_several_applications_of_a_job_sees_it_once(world):
    recruiter, interviewer, job = world["recruiter"], world["interviewer"], world["job"]
    second = application_create(actor=recruiter, candidate=world["bystander"], job=job)
    second.interviewers.add(interviewer)

    assert list(jobs_visible_to(interviewer)) == [job]
    assert [j.pk for j in job_list(user=interviewer)] == [job.pk]


def test_get_for_user_hides_jobs_out_of_scope(world):
    other = make_job(actor=world["recruiter"], title="Other")

    assert job_get_for_user(user=world["hiring_manager"], job_id=str(world["job"].pk)) == world["job"]
    for user, job_id in [(world["hiring_manager"], other.pk), (world["outsider"], world["job"].pk)]:
        with pytest.raises(NotFound):
            job_get_for_user(user=user, job_id=job_id)
    for bad in (None, "abc", ""):
        with pytest.raises(NotFound):
            job_get_for_user(user=world["admin"], job_id=bad)


def test_the_jobs_list_filters_and_counts_active_applications(recruiter):
    open_job = make_job(actor=recruiter, title="Platform Engineer", department="Infrastructure")
    draft = make_job(actor=recruiter, title="Data Analyst", status="draft", location="Berlin")
    people = [make_candidate(actor=recruiter, first_name=f"P{i}") for i in range(3)]
    for person in people:
        application_create(actor=recruiter, candidate=person, job=open_job)
    rejected = open_job.applications.get(candidate=people[0])
    application_reject(actor=recruiter, application=rejected)

    everything = list(job_list(user=recruiter))
    assert [j.title for j in everything] == ["Data Analyst", "Platform Engineer"]
    assert {j.title: j.active_count for j in everything} == {"Data Analyst": 0, "Platform Engineer": 2}
    assert [j.title for j in job_list(user=recruiter, status="draft")] == ["Data Analyst"]
    assert [j.title for j in job_list(user=recruiter, q="infra")] == ["Platform Engineer"]
    assert [j.title for j in job_list(user=recruiter, q="berlin")] == ["Data Analyst"]
    assert draft.pk != open_job.pk


def test_stage_counts_for_many_jobs_in_one_query(recruiter, django_assert_num_queries):
    first, second = make_job(actor=recruiter, title="First"), make_job(actor=recruiter, title="Second")
    people = [make_candidate(actor=recruiter, first_name=f"P{i}") for i in range(3)]
    a = application_create(actor=recruiter, candidate=people[0], job=first)
    application_create(actor=recruiter, candidate=people[1], job=first)
    application_create(actor=recruiter, candidate=people[2], job=second)
    screening = first.stages.get(name="Screening")
    application_move(actor=recruiter, application=a, stage=screening)
    sourced_first = first.stages.get(name="Sourced")
    sourced_second = second.stages.get(name="Sourced")

    with django_assert_num_queries(1):
        counts = job_stage_counts(user=recruiter, job_ids=[first.pk, second.pk])

    assert counts == {first.pk: {sourced_first.pk: 1, screening.pk: 1}, second.pk: {sourced_second.pk: 1}}


def test_stages_come_in_order_and_a_stage_of_another_job_is_not_found(recruiter):
    job, other = make_job(actor=recruiter), make_job(actor=recruiter)

    assert [s.name for s in stages_for_job(job=job)] == [
        "Sourced",
        "Applied",
        "Screening",
        "Interview",
        "Offer",
        "Hired",
    ]
    assert stage_get_for_job(job=job, stage_id=str(job.stages.first().pk)) == job.stages.first()
    for bad in (other.stages.first().pk, "abc", None):
        with pytest.raises(NotFound) as caught:
            stage_get_for_job(job=job, stage_id=bad)
        assert "stage_id" in caught.value.fields


def test_counts_only_cover_the_applications_each_user_may_open(world):
    recruiter, job = world["recruiter"], world["job"]
    for name in ("Unassigned", "Also unassigned"):
        application_create(actor=recruiter, candidate=make_candidate(actor=recruiter, first_name=name), job=job)
    sourced = job.stages.get(name="Sourced")

    for role, expected in [("recruiter", 3), ("hiring_manager", 3), ("interviewer", 1)]:
        user = world[role]
        assert job_stage_counts(user=user, job_ids=[job.pk]) == {job.pk: {sourced.pk: expected}}, role
        assert [j.active_count for j in job_list(user=user)] == [expected], role
    assert job_stage_counts(user=world["outsider"], job_ids=[job.pk]) == {}
