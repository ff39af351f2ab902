"""The sequences API: create (errors naming the step), read and change, pause and resume, enrolments (post, list,
delete), statistics, the 409 for deleting a template in use, and every role's access to every route."""

import pytest
from django.utils import timezone

from rapport.automation.models import Enrolment, Sequence
from rapport.automation.services_sequences import enrolments_run_due, sequence_create
from rapport.messaging.models import Message
from rapport.messaging.services import message_template_create, outbox_deliver_due
from rapport.timeline.models import Activity
from tests.api.conftest import error_of
from tests.messaging.conftest import SmtpServer, free_port

ROLES = ["admin", "recruiter", "hiring_manager", "interviewer", "outsider"]
MANAGERS = {"admin", "recruiter"}


@pytest.fixture
def template(recruiter):
    return message_template_create(
        actor=recruiter,
        data={"name": "Nurture hello", "channel": "email", "subject": "Hi {{ candidate.first_name }}", "body": "Hi"},
    )


@pytest.fixture
def sequence(recruiter, template):
    return sequence_create(
        actor=recruiter,
        data={
            "name": "Silver medalists nurture",
            "status": "active",
            "steps": [{"type": "message", "channel": "email", "template_id": template.pk}, {"type": "wait", "days": 3}],
        },
    )


def _body(template, **extra):
    return {
        "name": "Silver medalists nurture",
        "status": "active",
        "sender": "owner",
        "send_window": {"start": "09:00", "end": "17:00", "days": ["mon", "tue", "wed", "thu", "fri"]},
        "exit_on": ["replied", "applied", "stage_changed", "unsubscribed", "hired"],
        "steps": [
            {"type": "message", "channel": "email", "template_id": str(template.pk)},
            {"type": "wait", "days": 3, "business_days": True},
            {"type": "task", "title": "Call {{ candidate.first_name }}", "due_in_days": 1},
            {"type": "branch", "on": "no_response", "within_days": 5, "then": 4},
            {"type": "tag", "tag": "nurtured"},
        ],
        **extra,
    }


def test_a_sequence_is_created_and_read_back_in_the_shape_it_was_written(world, api_as, template):
    api = api_as(world["recruiter"])

    created = api.post("/sequences", _body(template))

    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["status"] == "active" and body["sender"] == "owner"
    assert body["send_window"] == {"start": "09:00", "end": "17:00", "days": ["mon", "tue", "wed", "thu", "fri"]}
    assert body["steps"][0] == {"position": 0, "type": "message", "channel": "email", "template_id": str(template.pk)}
    assert body["steps"][1] == {"position": 1, "type": "wait", "days": 3, "business_days": True}
    assert body["steps"][3]["then"] == 4 and body["steps"][3]["else"] == 4
    assert api.get(f"/sequences/{body['id']}").json() == body
    assert [item["id"] for item in api.get("/sequences").json()["items"]] == [body["id"]]


def test_bad_steps_answer_422_naming_the_step_and_write_nothing(world, api_as, template):
    body = _body(template)
    body["steps"][2] = {"type": "task", "title": ""}

    response = api_as(world["recruiter"]).post("/sequences", body)

    assert response.status_code == 422
    assert "steps[2].title" in error_of(response)["fields"]
    assert not Sequence.objects.exists()


def test_unknown_fields_are_refused(world, api_as, template):
    response = api_as(world["recruiter"]).post("/sequences", {**_body(template), "colour": "red"})

    assert response.status_code == 422


def test_patch_pauses_and_resumes_everyone_in_it(world, api_as, sequence):
    api = api_as(world["recruiter"])
    api.post(f"/sequences/{sequence.pk}/enrollments", {"candidate_ids": [str(world["applicant"].pk)]})

    paused = api.patch(f"/sequences/{sequence.pk}", {"status": "paused"})
    assert paused.status_code == 200 and paused.json()["status"] == "paused"
    assert Enrolment.objects.get().status == "paused"

    resumed = api.patch(f"/sequences/{sequence.pk}", {"status": "active"})
    assert resumed.json()["status"] == "active"
    assert Enrolment.objects.get().status == "active"

    draft = api.patch(f"/sequences/{sequence.pk}", {"status": "draft"})
    assert draft.status_code == 409 and error_of(draft)["code"] == "conflict"


def test_patch_replaces_the_steps_and_names_a_bad_one(world, api_as, sequence, template):
    api = api_as(world["recruiter"])
    steps = [{"type": "wait", "hours": 4}, {"type": "message", "channel": "email", "template_id": str(template.pk)}]

    changed = api.patch(f"/sequences/{sequence.pk}", {"steps": steps, "send_window": None})
    refused = api.patch(f"/sequences/{sequence.pk}", {"steps": [{"type": "wait"}]})

    assert changed.status_code == 200
    assert [s["type"] for s in changed.json()["steps"]] == ["wait", "message"]
    assert changed.json()["steps"][0]["hours"] == 4
    assert refused.status_code == 422 and "steps[0]" in error_of(refused)["fields"]
    assert [s["type"] for s in api.get(f"/sequences/{sequence.pk}").json()["steps"]] == ["wait", "message"]


def test_enrolment_answers_who_was_enrolled_and_who_was_skipped_with_why(world, api_as, sequence):
    from rapport.candidates.services import candidate_update

    api = api_as(world["recruiter"])
    candidate_update(
        actor=world["recruiter"], candidate=world["bystander"], data={"relationship_status": "do_not_contact"}
    )

    response = api.post(
        f"/sequences/{sequence.pk}/enrollments",
        {"candidate_ids": [str(world["applicant"].pk), str(world["bystander"].pk), "999999"]},
    )

    assert response.status_code == 200
    body = response.json()
    assert body["enrolled"] == [str(world["applicant"].pk)]
    skipped = {s["candidate_id"]: s["reason"] for s in body["skipped"]}
    assert "do not contact" in skipped[str(world["bystander"].pk)]
    assert skipped["999999"] == "No such person."
    again = api.post(f"/sequences/{sequence.pk}/enrollments", {"candidate_ids": [str(world["applicant"].pk)]})
    assert again.json()["enrolled"] == [] and "already" in again.json()["skipped"][0]["reason"]


def test_enrolments_are_listed_and_a_person_is_taken_out(world, api_as, sequence):
    api = api_as(world["recruiter"])
    grace = world["applicant"]
    api.post(f"/sequences/{sequence.pk}/enrollments", {"candidate_ids": [str(grace.pk)]})

    listed = api.get(f"/sequences/{sequence.pk}/enrollments").json()
    assert [(e["candidate_id"], e["status"], e["candidate_name"]) for e in listed["items"]] == [
        (str(grace.pk), "active", "Grace Hopper")
    ]

    assert api.delete(f"/sequences/{sequence.pk}/enrollments/{grace.pk}").status_code == 204
    assert api.get(f"/sequences/{sequence.pk}/enrollments", {"status": "exited"}).json()["items"][0]["status"] == (
        "exited"
    )
    assert api.delete(f"/sequences/{sequence.pk}/enrollments/{grace.pk}").status_code == 404
    assert Activity.objects.get(type="sequence.exited", candidate=grace).payload["reason"] == "manual"


def test_stats_report_sends_per_step_and_variant(world, api_as, sequence):
    api = api_as(world["recruiter"])
    api.post(f"/sequences/{sequence.pk}/enrollments", {"candidate_ids": [str(world["applicant"].pk)]})
    enrolments_run_due(now=timezone.now())

    stats = api.get(f"/sequences/{sequence.pk}/stats").json()

    assert stats["enrolments"]["active"] == 1
    message_step = stats["steps"][0]
    assert (message_step["sent"], message_step["opened"], message_step["replied"]) == (1, 0, 0)
    assert message_step["winner"]["opened"]["label"] is None


def test_deleting_a_template_a_sequence_sends_answers_409(world, api_as, sequence, template):
    response = api_as(world["recruiter"]).delete(f"/templates/{template.pk}")

    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "conflict" and "Silver medalists nurture" in error["message"]


@pytest.mark.parametrize("role", ROLES)
def test_every_role_sees_and_does_only_what_it_may(world, api_as, sequence, template, role):
    api = api_as(world[role])
    grace = world["applicant"]
    allowed = role in MANAGERS

    listed = api.get("/sequences")
    one = api.get(f"/sequences/{sequence.pk}")
    created = api.post("/sequences", _body(template, name=f"By {role}"))
    patched = api.patch(f"/sequences/{sequence.pk}", {"name": "Renamed"})
    enrolled = api.post(f"/sequences/{sequence.pk}/enrollments", {"candidate_ids": [str(grace.pk)]})
    enrolments = api.get(f"/sequences/{sequence.pk}/enrollments")
    stats = api.get(f"/sequences/{sequence.pk}/stats")
    removed = api.delete(f"/sequences/{sequence.pk}/enrollments/{grace.pk}")

    assert len(listed.json()["items"]) == (1 if allowed else 0)
    if allowed:
        assert [r.status_code for r in (one, created, patched, enrolled, enrolments, stats, removed)] == [
            200,
            201,
            200,
            200,
            200,
            200,
            204,
        ]
    else:
        assert created.status_code == 403 and error_of(created)["code"] == "forbidden"
        for response in (one, patched, enrolled, enrolments, stats, removed):
            assert response.status_code == 404, response.json()
        sequence.refresh_from_db()
        assert sequence.name == "Silver medalists nurture" and not Enrolment.objects.exists()


def test_unauthenticated_requests_are_refused(anonymous, sequence):
    assert anonymous.get("/sequences").status_code == 401
    assert anonymous.post(f"/sequences/{sequence.pk}/enrollments", {"candidate_ids": ["1"]}).status_code == 401


@pytest.fixture
def smtp_server(settings):
    server = SmtpServer(free_port())
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    yield server
    server.stop()


def test_an_enrolled_person_receives_the_step_by_email_through_the_outbox(
    world, api_as, sequence, smtp_server, settings
):
    settings.RAPPORT_QUIET_HOURS = None
    grace = world["applicant"]
    api_as(world["recruiter"]).post(f"/sequences/{sequence.pk}/enrollments", {"candidate_ids": [str(grace.pk)]})

    enrolments_run_due()
    outbox_deliver_due()

    (mail,) = smtp_server.messages
    assert mail["To"] == "grace@example.org" and mail["Subject"] == "Hi Grace"
    assert Message.objects.get(candidate=grace).status == "sent"
    assert Activity.objects.filter(type="message.sent", candidate=grace).exists()
