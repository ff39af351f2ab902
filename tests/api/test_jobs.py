import pytest

from rapport.jobs.models import Job
from rapport.pipeline.services import application_create, application_reject
from tests.api.conftest import error_of
from tests.factories import make_candidate, make_job


def test_creating_a_job_gives_it_the_default_stages(api_as, recruiter, hiring_manager):
    api = api_as(recruiter)

    response = api.post(
        "/jobs",
        {"title": "Data Engineer", "department": "Data", "status": "open", "hiring_manager_id": str(hiring_manager.pk)},
    )

    assert response.status_code == 201
    job = response.json()
    assert job["title"] == "Data Engineer"
    assert job["hiring_manager_id"] == str(hiring_manager.pk)
    assert job["recruiter_id"] == str(recruiter.pk)
    assert job["opened_on"] is not None
    stages = api.get(f"/jobs/{job['id']}/stages").json()
    assert [s["name"] for s in stages["items"]] == ["Sourced", "Applied", "Screening", "Interview", "Offer", "Hired"]
    assert [s["position"] for s in stages["items"]] == [0, 1, 2, 3, 4, 5]
    assert set(stages["items"][0]) == {"id", "name", "position", "category"}
    assert stages["next_cursor"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "title"),
        ({"title": "  "}, "title"),
        ({"title": "X", "status": "maybe"}, "status"),
        ({"title": "X", "openings": 0}, "openings"),
        ({"title": "X", "hiring_manager_id": "424242"}, "hiring_manager_id"),
        ({"title": "X", "opened_on": "someday"}, "opened_on"),
        ({"title": "X", "salary": 100}, "salary"),
    ],
)
def test_invalid_jobs_are_422_naming_the_field(api_as, recruiter, body, field):
    response = api_as(recruiter).post("/jobs", body)

    assert response.status_code == 422
    assert field in error_of(response)["fields"]
    assert not Job.objects.exists()


def test_jobs_are_listed_newest_first_with_filters_and_pages(api_as, recruiter):
    first = make_job(actor=recruiter, title="Backend Engineer", status="open")
    second = make_job(actor=recruiter, title="Designer", status="draft")
    third = make_job(actor=recruiter, title="Frontend Engineer", status="open")
    api = api_as(recruiter)

    page_one = api.get("/jobs", {"limit": 2}).json()
    page_two = api.get("/jobs", {"limit": 2, "cursor": page_one["next_cursor"]}).json()
    open_jobs = api.get("/jobs", {"status": "open"}).json()["items"]
    engineers = api.get("/jobs", {"q": "engineer"}).json()["items"]

    assert [j["id"] for j in page_one["items"]] == [str(third.pk), str(second.pk)]
    assert [j["id"] for j in page_two["items"]] == [str(first.pk)]
    assert page_two["next_cursor"] is None
    assert {j["id"] for j in open_jobs} == {str(first.pk), str(third.pk)}
    assert {j["id"] for j in engineers} == {str(first.pk), str(third.pk)}


def test_one_job_is_read_and_patched(api_as, recruiter):
    job = make_job(actor=recruiter, title="Backend Engineer")
    api = api_as(recruiter)

    read = api.get(f"/jobs/{job.pk}")
    patched = api.patch(f"/jobs/{job.pk}", {"status": "closed", "openings": 3})

    assert read.status_code == 200 and read.json()["title"] == "Backend Engineer"
    assert patched.status_code == 200
    assert patched.json()["status"] == "closed"
    assert patched.json()["openings"] == 3
    assert patched.json()["closed_on"] is not None
    assert patched.json()["title"] == "Backend Engineer"


@pytest.mark.parametrize(
    ("body", "field"),
    [({"title": None}, "title"), ({"workplace_type": "moon"}, "workplace_type"), ({"openings": 5000}, "openings")],
)
def test_patching_a_job_with_bad_values_is_422_and_changes_nothing(api_as, recruiter, body, field):
    job = make_job(actor=recruiter, title="Backend Engineer")

    response = api_as(recruiter).patch(f"/jobs/{job.pk}", body)

    assert response.status_code == 422
    assert field in error_of(response)["fields"]
    job.refresh_from_db()
    assert (job.title, job.workplace_type, job.openings) == ("Backend Engineer", "onsite", 1)


def test_unknown_jobs_are_404(api_as, recruiter):
    api = api_as(recruiter)

    for path in ("/jobs/424242", "/jobs/abc", "/jobs/424242/stages", "/jobs/424242/applications"):
        response = api.get(path)
        assert response.status_code == 404, path
        assert error_of(response)["code"] == "not_found"


def test_a_jobs_applications_filter_by_stage_and_status(api_as, recruiter):
    job = make_job(actor=recruiter)
    stages = list(job.stages.order_by("position"))
    first = application_create(actor=recruiter, candidate=make_candidate(actor=recruiter, first_name="A"), job=job)
    second = application_create(
        actor=recruiter, candidate=make_candidate(actor=recruiter, first_name="B"), job=job, stage=stages[2]
    )
    application_reject(actor=recruiter, application=first)
    api = api_as(recruiter)

    everyone = api.get(f"/jobs/{job.pk}/applications").json()
    in_screening = api.get(f"/jobs/{job.pk}/applications", {"stage": stages[2].pk}).json()["items"]
    rejected = api.get(f"/jobs/{job.pk}/applications", {"status": "rejected"}).json()["items"]
    other_job_stage = api.get(f"/jobs/{job.pk}/applications", {"stage": make_job(actor=recruiter).stages.first().pk})

    assert [a["id"] for a in everyone["items"]] == [str(second.pk), str(first.pk)]
    assert [a["id"] for a in in_screening] == [str(second.pk)]
    assert [a["id"] for a in rejected] == [str(first.pk)]
    assert other_job_stage.status_code == 404
    assert "stage" in error_of(other_job_stage)["fields"]
