"""API v1: a job's screening questions (list, add, read, change, reorder, remove) and an application's answers."""

import pytest

from rapport.accounts.models import IdempotencyRecord
from rapport.accounts.services import api_token_create
from rapport.careers.models import JobQuestion, ScreeningAnswer
from rapport.careers.services import MAX_QUESTIONS, application_submit, job_question_create, question_field
from rapport.timeline.models import AuditEntry
from tests.api.conftest import ApiClient, error_of
from tests.careers.conftest import pdf_upload
from tests.factories import make_job

pytestmark = pytest.mark.django_db

EU = {"text": "Can you work in the EU?", "kind": "yes_no", "required": True, "knockout_answer": "No"}
LEVEL = {"text": "Your level?", "kind": "choice", "choices": ["Junior", "Senior", "Staff"], "knockout_answer": ""}


@pytest.fixture
def api_as():
    def make(user) -> ApiClient:
        _, raw = api_token_create(user=user, name="tests")
        return ApiClient(raw)

    return make


def questions_of(job) -> list[tuple[str, int]]:
    return list(JobQuestion.objects.filter(job=job).order_by("position").values_list("text", "position"))


# --- happy paths ---------------------------------------------------------------------------------------------------


def test_a_recruiter_sets_up_questions_through_the_api(api_as, recruiter, open_job):
    api = api_as(recruiter)

    created = api.post(f"/jobs/{open_job.pk}/questions", EU)
    level = api.post(f"/jobs/{open_job.pk}/questions", {**LEVEL, "choices": [" Junior ", "Senior", "senior", "Staff"]})
    listed = api.get(f"/jobs/{open_job.pk}/questions")

    assert created.status_code == 201, created.content
    body = created.json()
    assert body == {
        "id": body["id"],
        "job_id": str(open_job.pk),
        "text": "Can you work in the EU?",
        "kind": "yes_no",
        "choices": [],
        "required": True,
        "knockout_answer": "no",
        "position": 0,
    }
    assert isinstance(body["id"], str)
    # Trimmed, and a repeat in another case kept once, as in the workspace form.
    assert level.json()["choices"] == ["Junior", "Senior", "Staff"]
    assert level.json()["position"] == 1
    assert listed.status_code == 200
    assert listed.json()["next_cursor"] is None
    assert [q["text"] for q in listed.json()["items"]] == ["Can you work in the EU?", "Your level?"]
    assert AuditEntry.objects.filter(object_type="job_question", action="create").count() == 2


def test_one_question_is_read_patched_and_removed(api_as, recruiter, open_job):
    question = job_question_create(actor=recruiter, job=open_job, data=LEVEL)
    api = api_as(recruiter)
    path = f"/jobs/{open_job.pk}/questions/{question.pk}"

    read = api.get(path)
    patched = api.patch(path, {"knockout_answer": "junior", "required": True})
    cleared = api.patch(path, {"knockout_answer": None})
    removed = api.delete(path)
    gone = api.get(path)

    assert read.status_code == 200 and read.json()["text"] == "Your level?"
    assert patched.status_code == 200, patched.content
    # Only the fields sent change; the knock-out answer takes the choice's own case.
    assert (patched.json()["knockout_answer"], patched.json()["required"]) == ("Junior", True)
    assert (patched.json()["text"], patched.json()["choices"]) == ("Your level?", ["Junior", "Senior", "Staff"])
    assert cleared.json()["knockout_answer"] == ""
    assert removed.status_code == 204 and removed.content == b""
    assert gone.status_code == 404 and error_of(gone)["code"] == "not_found"
    assert not JobQuestion.objects.exists()


def test_questions_are_reordered_with_move(api_as, recruiter, open_job):
    first, second, third = (
        job_question_create(actor=recruiter, job=open_job, data={"text": text, "kind": "text"})
        for text in ("First?", "Second?", "Third?")
    )
    api = api_as(recruiter)

    moved = api.post(f"/jobs/{open_job.pk}/questions/{third.pk}/move", {"direction": "up"})
    at_the_top = api.post(f"/jobs/{open_job.pk}/questions/{first.pk}/move", {"direction": "up"})

    assert moved.status_code == 200, moved.content
    assert [(q["text"], q["position"]) for q in moved.json()["items"]] == [("First?", 0), ("Third?", 1), ("Second?", 2)]
    assert moved.json()["next_cursor"] is None
    assert at_the_top.status_code == 422
    assert "direction" in error_of(at_the_top)["fields"]
    assert questions_of(open_job) == [("First?", 0), ("Third?", 1), ("Second?", 2)]
    assert second.pk in [q.pk for q in JobQuestion.objects.filter(job=open_job)]


def test_an_applications_answers_show_which_one_knocks_out(api_as, recruiter, open_job):
    eu = job_question_create(actor=recruiter, job=open_job, data=EU)
    level = job_question_create(actor=recruiter, job=open_job, data=LEVEL)
    outcome = application_submit(
        job=open_job,
        data={"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.org"},
        resume=pdf_upload(),
        consent=True,
        answers={question_field(eu): "no", question_field(level): "Senior"},
    )
    api = api_as(recruiter)

    answers = api.get(f"/applications/{outcome.application.pk}/answers")
    # A removed question's answer stays, with the wording the applicant saw.
    api.delete(f"/jobs/{open_job.pk}/questions/{eu.pk}")
    after_removal = api.get(f"/applications/{outcome.application.pk}/answers")

    assert answers.status_code == 200, answers.content
    items = answers.json()["items"]
    assert [(a["question_id"], a["question_text"], a["answer"], a["knocked_out"]) for a in items] == [
        (str(eu.pk), "Can you work in the EU?", "no", True),
        (str(level.pk), "Your level?", "Senior", False),
    ]
    assert answers.json()["next_cursor"] is None
    assert [a["question_id"] for a in after_removal.json()["items"]] == [None, str(level.pk)]
    assert after_removal.json()["items"][0]["knocked_out"] is True


def test_a_repeated_idempotency_key_adds_the_question_once(api_as, recruiter, open_job):
    api = api_as(recruiter)
    key = {"Idempotency-Key": "f1d2c3b4-question-1"}

    first = api.post(f"/jobs/{open_job.pk}/questions", EU, **key)
    second = api.post(f"/jobs/{open_job.pk}/questions", EU, **key)

    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert JobQuestion.objects.filter(job=open_job).count() == 1
    assert IdempotencyRecord.objects.filter(user=recruiter, key=key["Idempotency-Key"]).exists()


# --- bad input -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"text": "Your level?", "kind": "choice"}, "choices"),
        ({"text": "Your level?", "kind": "choice", "choices": ["Only one"]}, "choices"),
        ({"text": "Your level?", "kind": "essay"}, "kind"),
        ({"text": "Your level?"}, "kind"),
        ({"kind": "yes_no"}, "text"),
        ({"text": "   ", "kind": "yes_no"}, "text"),
        ({"text": "x" * 301, "kind": "yes_no"}, "text"),
        ({"text": "EU?", "kind": "yes_no", "knockout_answer": "maybe"}, "knockout_answer"),
        ({**LEVEL, "knockout_answer": "Principal"}, "knockout_answer"),
        ({"text": "Why us?", "kind": "text", "knockout_answer": "money"}, "knockout_answer"),
        ({"text": "EU?", "kind": "yes_no", "required": None}, "required"),
        ({"text": "EU?", "kind": "yes_no", "required": "perhaps"}, "required"),
        ({"text": "EU?", "kind": "yes_no", "colour": "red"}, "colour"),
        ({"text": "Level?", "kind": "choice", "choices": "Junior\nSenior"}, "choices"),
    ],
)
def test_bad_questions_are_422_naming_the_field_and_write_nothing(api_as, recruiter, open_job, body, field):
    response = api_as(recruiter).post(f"/jobs/{open_job.pk}/questions", body)

    assert response.status_code == 422, response.content
    error = error_of(response)
    assert error["code"] == "validation_error"
    assert field in error["fields"], error
    assert not JobQuestion.objects.exists()
    assert not AuditEntry.objects.filter(object_type="job_question").exists()


def test_a_patch_that_leaves_the_question_inconsistent_is_422_and_changes_nothing(api_as, recruiter, open_job):
    question = job_question_create(actor=recruiter, job=open_job, data=EU)
    api = api_as(recruiter)
    path = f"/jobs/{open_job.pk}/questions/{question.pk}"

    to_text = api.patch(path, {"kind": "text"})
    to_choice = api.patch(path, {"kind": "choice", "knockout_answer": ""})
    no_text = api.patch(path, {"text": None})
    bad_move = api.post(f"{path}/move", {"direction": "sideways"})

    assert to_text.status_code == 422 and list(error_of(to_text)["fields"]) == ["knockout_answer"]
    assert to_choice.status_code == 422 and "choices" in error_of(to_choice)["fields"]
    assert no_text.status_code == 422 and "text" in error_of(no_text)["fields"]
    assert bad_move.status_code == 422 and "direction" in error_of(bad_move)["fields"]
    question.refresh_from_db()
    assert (question.text, question.kind, question.knockout_answer) == ("Can you work in the EU?", "yes_no", "no")


def test_a_job_asks_at_most_thirty_questions(api_as, recruiter, open_job):
    for number in range(MAX_QUESTIONS):
        job_question_create(actor=recruiter, job=open_job, data={"text": f"Question {number}?", "kind": "text"})

    response = api_as(recruiter).post(f"/jobs/{open_job.pk}/questions", {"text": "One more?", "kind": "text"})

    assert response.status_code == 422
    assert "text" in error_of(response)["fields"]
    assert JobQuestion.objects.filter(job=open_job).count() == MAX_QUESTIONS


def test_another_jobs_question_or_a_mangled_id_is_404(api_as, recruiter, open_job):
    other_job = make_job(actor=recruiter, title="Designer")
    question = job_question_create(actor=recruiter, job=other_job, data=EU)
    api = api_as(recruiter)

    wrong_job = api.get(f"/jobs/{open_job.pk}/questions/{question.pk}")
    wrong_job_patch = api.patch(f"/jobs/{open_job.pk}/questions/{question.pk}", {"text": "Hijacked?"})
    mangled = api.get(f"/jobs/{open_job.pk}/questions/abc")
    no_job = api.get("/jobs/999999/questions")
    no_application = api.get("/applications/999999/answers")

    for response in (wrong_job, wrong_job_patch, mangled, no_job, no_application):
        assert response.status_code == 404, response.content
        assert error_of(response)["code"] == "not_found"
    question.refresh_from_db()
    assert question.text == "Can you work in the EU?"


# --- every role and an outsider ------------------------------------------------------------------------------------

ROLES = ("admin", "recruiter", "hiring_manager", "interviewer", "outsider", "anonymous")

# name: (method, path, body, statuses in ROLES order). Reads follow the job's (or application's) scope; writes need
# MANAGE_JOBS, like the workspace pages. The world's job is the hiring manager's, and the interviewer is assigned
# to its one application; the outsider sees neither.
MATRIX = {
    "questions.list": ("GET", "/jobs/{job}/questions", None, (200, 200, 200, 200, 404, 401)),
    "questions.create": ("POST", "/jobs/{job}/questions", EU, (201, 201, 403, 403, 404, 401)),
    "questions.get": ("GET", "/jobs/{job}/questions/{question}", None, (200, 200, 200, 200, 404, 401)),
    "questions.patch": (
        "PATCH",
        "/jobs/{job}/questions/{question}",
        {"required": False},
        (200, 200, 403, 403, 404, 401),
    ),
    "questions.delete": ("DELETE", "/jobs/{job}/questions/{question}", None, (204, 204, 403, 403, 404, 401)),
    "questions.move": (
        "POST",
        "/jobs/{job}/questions/{question}/move",
        {"direction": "down"},
        (200, 200, 403, 403, 404, 401),
    ),
    "applications.answers": ("GET", "/applications/{application}/answers", None, (200, 200, 200, 200, 404, 401)),
}


@pytest.fixture
def places(world):
    question = job_question_create(actor=world["recruiter"], job=world["job"], data=EU)
    job_question_create(actor=world["recruiter"], job=world["job"], data=LEVEL)
    ScreeningAnswer.objects.create(
        application=world["application"], question=question, question_text=question.text, answer="no", knocked_out=True
    )
    return {"job": world["job"].pk, "question": question.pk, "application": world["application"].pk}


@pytest.mark.parametrize(
    ("endpoint", "role", "expected"),
    [
        pytest.param(name, role, row[3][i], id=f"{name}-{role}")
        for name, row in MATRIX.items()
        for i, role in enumerate(ROLES)
    ],
)
def test_permission_matrix(world, places, api_as, endpoint, role, expected):
    method, path, body, _ = MATRIX[endpoint]
    api = ApiClient() if role == "anonymous" else api_as(world[role])
    before = list(JobQuestion.objects.order_by("id").values())

    response = api.request(method, path.format(**places), body)

    assert response.status_code == expected, response.content
    if expected >= 400:
        code = {401: "unauthenticated", 403: "forbidden", 404: "not_found"}[expected]
        assert error_of(response)["code"] == code
        assert list(JobQuestion.objects.order_by("id").values()) == before
    if endpoint == "applications.answers" and expected == 200:
        assert [a["answer"] for a in response.json()["items"]] == ["no"]


def test_the_openapi_document_describes_the_new_endpoints(client):
    schema = client.get("/api/v1/openapi.json").json()
    paths = {path.removeprefix("/api/v1"): ops for path, ops in schema["paths"].items()}

    assert set(paths["/jobs/{job_id}/questions"]) == {"get", "post"}
    assert set(paths["/jobs/{job_id}/questions/{question_id}"]) == {"get", "patch", "delete"}
    assert set(paths["/jobs/{job_id}/questions/{question_id}/move"]) == {"post"}
    assert set(paths["/applications/{application_id}/answers"]) == {"get"}
    assert "Idempotency-Key" in paths["/jobs/{job_id}/questions"]["post"]["description"]
    assert "422" in paths["/jobs/{job_id}/questions"]["post"]["responses"]
    question = schema["components"]["schemas"]["JobQuestionOut"]["properties"]
    assert question["id"]["type"] == "string"
    assert question["kind"]["enum"] == ["text", "choice", "yes_no"]
