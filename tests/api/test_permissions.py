"""Every resource endpoint, for every role and an outsider, against the `world` fixture.

Each cell is the status the caller gets: 2xx when allowed, 404 when the object is outside their scope (so they
cannot even learn it exists), 403 when it is in scope but their role may not do this verb. Anonymous callers get 401.

The world: a job managed by the hiring manager, with one applicant (Grace) the interviewer is assigned to, and a
bystander (Alan) with no application. Added here: a second job the hiring manager manages (nobody is on it), a
talent pool holding Grace, a segment and a message template.
"""

import re

import pytest

from rapport.automation.services import task_create
from rapport.candidates.models import Segment
from rapport.candidates.services import pool_add_members
from rapport.messaging.services import message_template_create
from tests.api.conftest import ApiClient
from tests.api.test_openapi import CONTRACT
from tests.factories import TalentPoolFactory, make_job

ROLES = ("admin", "recruiter", "hiring_manager", "interviewer", "outsider", "anonymous")

# name: (method, path, body, {role: status}); paths name objects of the world in braces.
MATRIX = {
    "me": ("GET", "/me", None, (200, 200, 200, 200, 200, 401)),
    "users": ("GET", "/users", None, (200, 200, 200, 200, 200, 401)),
    "candidates.list": ("GET", "/candidates", None, (200, 200, 200, 200, 200, 401)),
    "candidates.create": (
        "POST",
        "/candidates",
        {"first_name": "Katherine", "emails": ["katherine@example.org"]},
        (201, 201, 403, 403, 403, 401),
    ),
    "candidates.get applicant": ("GET", "/candidates/{applicant}", None, (200, 200, 200, 200, 404, 401)),
    "candidates.get bystander": ("GET", "/candidates/{bystander}", None, (200, 200, 404, 404, 404, 401)),
    "candidates.patch": (
        "PATCH",
        "/candidates/{applicant}",
        {"headline": "Admiral"},
        (200, 200, 403, 403, 404, 401),
    ),
    "candidates.erase": ("DELETE", "/candidates/{applicant}", None, (204, 403, 403, 403, 404, 401)),
    "candidates.timeline": ("GET", "/candidates/{applicant}/timeline", None, (200, 200, 200, 200, 404, 401)),
    "candidates.notes": (
        "POST",
        "/candidates/{applicant}/notes",
        {"body": "Great conversation"},
        (201, 201, 201, 201, 404, 401),
    ),
    "candidates.merge": (
        "POST",
        "/candidates/merge",
        {"survivor_id": "{applicant}", "merged_id": "{bystander}"},
        (200, 200, 404, 404, 404, 401),
    ),
    "jobs.list": ("GET", "/jobs", None, (200, 200, 200, 200, 200, 401)),
    "jobs.create": ("POST", "/jobs", {"title": "Data Engineer"}, (201, 201, 403, 403, 403, 401)),
    "jobs.get": ("GET", "/jobs/{job}", None, (200, 200, 200, 200, 404, 401)),
    "jobs.patch": ("PATCH", "/jobs/{job}", {"department": "Platform"}, (200, 200, 403, 403, 404, 401)),
    "jobs.stages": ("GET", "/jobs/{job}/stages", None, (200, 200, 200, 200, 404, 401)),
    "jobs.applications": ("GET", "/jobs/{job}/applications", None, (200, 200, 200, 200, 404, 401)),
    "applications.create": (
        "POST",
        "/applications",
        {"candidate_id": "{applicant}", "job_id": "{second_job}"},
        (201, 201, 403, 404, 404, 401),
    ),
    "applications.get": ("GET", "/applications/{application}", None, (200, 200, 200, 200, 404, 401)),
    "applications.patch": (
        "PATCH",
        "/applications/{application}",
        {"source": "referral"},
        (200, 200, 403, 403, 404, 401),
    ),
    "applications.move": (
        "POST",
        "/applications/{application}/move",
        {"stage_id": "{interview_stage}"},
        (200, 200, 200, 403, 404, 401),
    ),
    "applications.reject": (
        "POST",
        "/applications/{application}/reject",
        {"note": "Not now", "notify": False},
        (200, 200, 200, 403, 404, 401),
    ),
    "applications.withdraw": ("POST", "/applications/{application}/withdraw", {}, (200, 200, 200, 403, 404, 401)),
    "rejection_reasons": ("GET", "/rejection-reasons", None, (200, 200, 200, 200, 200, 401)),
    "pools.list": ("GET", "/pools", None, (200, 200, 200, 200, 200, 401)),
    "pools.create": ("POST", "/pools", {"name": "Alumni"}, (201, 201, 403, 403, 403, 401)),
    "pools.members.add": (
        "POST",
        "/pools/{pool}/members",
        {"candidate_ids": ["{bystander}"]},
        (200, 200, 404, 404, 404, 401),
    ),
    "pools.members.remove": ("DELETE", "/pools/{pool}/members/{applicant}", None, (204, 204, 404, 404, 404, 401)),
    "segments.list": ("GET", "/segments", None, (200, 200, 200, 200, 200, 401)),
    "segments.create": (
        "POST",
        "/segments",
        {"name": "Nurturing", "filters": {"status": "nurturing"}},
        (201, 201, 403, 403, 403, 401),
    ),
    "segments.members": ("GET", "/segments/{segment}/members", None, (200, 200, 404, 404, 404, 401)),
    "templates.list": ("GET", "/templates", None, (200, 200, 200, 200, 200, 401)),
    "templates.create": (
        "POST",
        "/templates",
        {"name": "Reminder", "channel": "sms", "body": "See you soon"},
        (201, 201, 403, 403, 403, 401),
    ),
    "templates.get": ("GET", "/templates/{template}", None, (200, 200, 404, 404, 404, 401)),
    "templates.patch": ("PATCH", "/templates/{template}", {"category": "nurture"}, (200, 200, 404, 404, 404, 401)),
    "templates.delete": ("DELETE", "/templates/{template}", None, (204, 204, 404, 404, 404, 401)),
    "templates.preview": (
        "POST",
        "/templates/{template}/preview",
        {"candidate_id": "{applicant}"},
        (200, 200, 404, 404, 404, 401),
    ),
    "tasks.list": ("GET", "/tasks", None, (200, 200, 200, 200, 200, 401)),
    # Anyone may add a task for themselves about a person in their scope; the outsider cannot see Grace.
    "tasks.create": (
        "POST",
        "/tasks",
        {"title": "Call Grace", "candidate_id": "{applicant}"},
        (201, 201, 201, 201, 404, 401),
    ),
    # The hiring manager's own task: theirs to change, and admins and recruiters see every task.
    "tasks.patch": ("PATCH", "/tasks/{task}", {"done": True}, (200, 200, 200, 404, 404, 401)),
}

CASES = [
    pytest.param(name, role, MATRIX[name][3][i], id=f"{name}-{role}") for name in MATRIX for i, role in enumerate(ROLES)
]


@pytest.fixture
def places(world):
    """The ids the matrix's paths and bodies refer to."""
    recruiter = world["recruiter"]
    second_job = make_job(actor=recruiter, title="SRE", hiring_manager_id=world["hiring_manager"].pk)
    pool = TalentPoolFactory(name="Silver medalists")
    pool_add_members(actor=recruiter, pool=pool, candidate_ids=[world["applicant"].pk])
    segment = Segment.objects.create(name="Engaged", filters={"status": "engaged"}, owner=recruiter)
    template = message_template_create(actor=recruiter, data={"name": "Hi", "channel": "sms", "body": "Hi there"})
    task = task_create(
        actor=world["hiring_manager"], data={"title": "Decide on Grace", "candidate_id": world["applicant"].pk}
    )
    return {
        "applicant": world["applicant"].pk,
        "bystander": world["bystander"].pk,
        "job": world["job"].pk,
        "second_job": second_job.pk,
        "application": world["application"].pk,
        "interview_stage": world["job"].stages.get(name="Interview").pk,
        "pool": pool.pk,
        "segment": segment.pk,
        "template": template.pk,
        "task": task.pk,
    }


def _fill(value, places):
    if isinstance(value, str):
        return value.format(**places)
    if isinstance(value, list):
        return [_fill(v, places) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, places) for k, v in value.items()}
    return value


@pytest.mark.parametrize(("endpoint", "role", "expected"), CASES)
def test_permission_matrix(world, places, api_as, endpoint, role, expected):
    method, path, body, _ = MATRIX[endpoint]
    api = ApiClient() if role == "anonymous" else api_as(world[role])

    response = api.request(method, _fill(path, places), _fill(body, places))

    assert response.status_code == expected, response.content
    if expected >= 400:
        code = {401: "unauthenticated", 403: "forbidden", 404: "not_found"}[expected]
        assert response.json()["error"]["code"] == code


def _shape(path: str) -> str:
    """The two tables name path parameters differently; compare where the parameters are."""
    return re.sub(r"\{[^}]+\}", "{}", path)


def test_the_matrix_covers_every_endpoint_of_the_contract():
    covered = {(method.lower(), _shape(path)) for method, path, _, _ in MATRIX.values()}

    assert {(method, _shape(path)) for method, path in CONTRACT} <= covered


@pytest.mark.parametrize(
    ("role", "visible"),
    [
        ("admin", {"applicant", "bystander"}),
        ("recruiter", {"applicant", "bystander"}),
        ("hiring_manager", {"applicant"}),
        ("interviewer", {"applicant"}),
        ("outsider", set()),
    ],
)
def test_lists_show_only_what_is_in_scope(world, places, api_as, role, visible):
    api = api_as(world[role])

    people = {item["id"] for item in api.get("/candidates").json()["items"]}
    jobs = {item["id"] for item in api.get("/jobs").json()["items"]}
    searched = {item["id"] for item in api.get("/candidates", {"q": "turing"}).json()["items"]}

    assert people == {str(places[name]) for name in visible}
    expected_jobs = {
        "admin": {places["job"], places["second_job"]},
        "recruiter": {places["job"], places["second_job"]},
        "hiring_manager": {places["job"], places["second_job"]},
        "interviewer": {places["job"]},
        "outsider": set(),
    }[role]
    assert jobs == {str(j) for j in expected_jobs}
    assert searched == ({str(places["bystander"])} if "bystander" in visible else set())
