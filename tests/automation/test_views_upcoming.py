"""The profile's "Upcoming" card (a sequence's next message and a trigger's scheduled run: what, when, from which
sequence or trigger), its Skip and Send now buttons over HTMX and without JavaScript, `GET
/api/v1/candidates/{id}/upcoming`, and who may see and use each, role by role."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from rapport.automation.models import Enrolment, StepRun, Trigger, TriggerRun, TriggerRunStatus
from rapport.automation.services_sequences import sequence_create, sequence_enrol
from rapport.automation.services_triggers import trigger_create
from rapport.messaging.services import message_template_create
from tests.api.conftest import error_of

HTMX = {"HTTP_HX_REQUEST": "true"}


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _template(actor, name):
    return message_template_create(
        actor=actor, data={"name": name, "channel": "email", "subject": "Hi", "body": "Hi {{ candidate.first_name }}"}
    )


@pytest.fixture
def touches(world):
    """Grace is in an active sequence (a message in two days) and has a trigger's reminder scheduled tomorrow."""
    recruiter = world["recruiter"]
    grace = world["applicant"]
    follow_up = _template(recruiter, "Friendly follow-up")
    sequence = sequence_create(
        actor=recruiter,
        data={
            "name": "Silver medalists",
            "status": "active",
            "steps": [
                {"type": "wait", "days": 2},
                {"type": "message", "channel": "email", "template_id": str(follow_up.pk)},
            ],
        },
    )
    sequence_enrol(actor=recruiter, sequence=sequence, candidate_ids=[grace.pk])
    reminder = _template(recruiter, "Interview reminder")
    trigger = trigger_create(
        actor=recruiter,
        data={
            "name": "Reminders before interviews",
            "event": "meeting.scheduled",
            "action": "send_message",
            "template_id": str(reminder.pk),
            "enabled": True,
        },
    )
    run = TriggerRun.objects.create(
        trigger=trigger, fired_for="a1", candidate=grace, due_at=timezone.now() + timedelta(days=1)
    )
    return {
        **world,
        "sequence": sequence,
        "enrolment": Enrolment.objects.get(sequence=sequence),
        "trigger": trigger,
        "run": run,
    }


def test_the_card_lists_both_touches_soonest_first_with_their_source(touches):
    body = _client(touches["recruiter"]).get(f"/candidates/{touches['applicant'].pk}/").content.decode()

    card = body[body.index('id="side-upcoming"') : body.index("</section>", body.index('id="side-upcoming"'))]
    assert card.index("Interview reminder") < card.index("Friendly follow-up")
    assert f'href="/triggers/{touches["trigger"].pk}/runs/">Reminders before interviews</a>' in card
    assert f'href="/sequences/{touches["sequence"].pk}/enrolments/">Silver medalists</a>' in card
    assert "Tomorrow," in card  # the run's time, in the viewer's zone
    assert card.count(">Skip</button>") == 2 and card.count(">Send now</button>") == 2


def test_an_empty_card_says_what_to_do(world):
    body = _client(world["recruiter"]).get(f"/candidates/{world['applicant'].pk}/").content.decode()

    assert 'id="side-upcoming"' in body and "No automated messages are scheduled for Grace" in body


@pytest.mark.parametrize("role", ["hiring_manager", "interviewer"])
def test_the_card_is_not_shown_to_roles_that_do_not_run_automation(touches, role):
    response = _client(touches[role]).get(f"/candidates/{touches['applicant'].pk}/")

    assert response.status_code == 200
    assert 'id="side-upcoming"' not in response.content.decode()


def test_skip_a_trigger_touch_over_htmx_swaps_the_card(touches):
    run = touches["run"]

    response = _client(touches["recruiter"]).post(f"/triggers/touches/{run.pk}/skip/", **HTMX)

    run.refresh_from_db()
    assert run.status == TriggerRunStatus.SKIPPED and run.detail == "Skipped by Riley Recruiter."
    body = response.content.decode()
    assert 'id="side-upcoming"' in body and "<html" not in body
    assert "Interview reminder" not in body and "Friendly follow-up" in body
    assert "Skipped the touch." in response["HX-Trigger"]


def test_send_a_trigger_touch_now_without_javascript(touches):
    run = touches["run"]
    before = timezone.now()

    response = _client(touches["recruiter"]).post(f"/triggers/touches/{run.pk}/send-now/")

    assert response.status_code == 302 and response["Location"] == f"/candidates/{touches['applicant'].pk}/"
    run.refresh_from_db()
    assert run.due_at <= timezone.now() and run.due_at >= before


def test_skip_a_sequence_touch(touches):
    enrolment = touches["enrolment"]

    response = _client(touches["recruiter"]).post(f"/sequences/touches/{enrolment.pk}/skip/", **HTMX)

    assert response.status_code == 200
    assert StepRun.objects.filter(enrolment=enrolment, outcome="skipped").count() == 1
    assert "Friendly follow-up" not in response.content.decode()


def test_send_a_sequence_touch_now_runs_the_message_step(touches):
    enrolment = touches["enrolment"]

    _client(touches["recruiter"]).post(f"/sequences/touches/{enrolment.pk}/send-now/", **HTMX)

    enrolment.refresh_from_db()
    assert enrolment.step_position == 2
    assert StepRun.objects.filter(enrolment=enrolment, step__position=1, message__isnull=False).exists()


def test_a_touch_that_is_no_longer_scheduled_says_so_in_the_card(touches):
    run = touches["run"]
    TriggerRun.objects.filter(pk=run.pk).update(status=TriggerRunStatus.DONE)

    response = _client(touches["recruiter"]).post(f"/triggers/touches/{run.pk}/skip/", **HTMX)

    assert response.status_code == 200
    assert "This touch is no longer scheduled." in response.content.decode()


@pytest.mark.parametrize("role", ["hiring_manager", "interviewer", "outsider"])
def test_other_roles_cannot_skip_or_send(touches, role):
    client = _client(touches[role])
    run, enrolment = touches["run"], touches["enrolment"]

    for url in (
        f"/triggers/touches/{run.pk}/skip/",
        f"/triggers/touches/{run.pk}/send-now/",
        f"/sequences/touches/{enrolment.pk}/skip/",
        f"/sequences/touches/{enrolment.pk}/send-now/",
    ):
        assert client.post(url).status_code == 403, url
    run.refresh_from_db()
    assert run.status == TriggerRunStatus.SCHEDULED
    assert not StepRun.objects.filter(enrolment=enrolment).exists()


def test_an_unknown_touch_is_404(recruiter):
    client = _client(recruiter)

    assert client.post("/triggers/touches/999999/skip/").status_code == 404
    assert client.post("/sequences/touches/999999/skip/").status_code == 404
    assert client.post("/sequences/touches/1/explode/").status_code == 404


# --- API ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "recruiter"])
def test_the_api_lists_the_upcoming_touches(touches, api_as, role):
    response = api_as(touches[role]).get(f"/candidates/{touches['applicant'].pk}/upcoming")

    assert response.status_code == 200
    items = response.json()["items"]
    assert [item["source"] for item in items] == [
        {"type": "trigger", "id": str(touches["trigger"].pk), "name": "Reminders before interviews"},
        {"type": "sequence", "id": str(touches["sequence"].pk), "name": "Silver medalists"},
    ]
    assert items[0]["channel"] == "email" and items[0]["template_name"] == "Interview reminder"
    assert items[0]["run_id"] == str(touches["run"].pk) and items[0]["enrolment_id"] is None
    assert items[1]["enrolment_id"] == str(touches["enrolment"].pk)
    assert items[0]["due_at"].endswith("Z") or "+00:00" in items[0]["due_at"]


@pytest.mark.parametrize("role", ["hiring_manager", "interviewer"])
def test_the_api_refuses_roles_that_see_the_person_but_do_not_run_automation(touches, api_as, role):
    response = api_as(touches[role]).get(f"/candidates/{touches['applicant'].pk}/upcoming")

    assert response.status_code == 403 and error_of(response)["code"] == "forbidden"


def test_the_api_answers_404_outside_the_callers_scope(touches, api_as):
    outsider = api_as(touches["outsider"])

    assert error_of(outsider.get(f"/candidates/{touches['applicant'].pk}/upcoming"))["code"] == "not_found"
    assert api_as(touches["recruiter"]).get("/candidates/abc/upcoming").status_code == 404


def test_the_api_needs_a_token(touches, anonymous):
    assert anonymous.get(f"/candidates/{touches['applicant'].pk}/upcoming").status_code == 401


def test_the_api_lists_nothing_once_the_trigger_is_off(touches, api_as):
    Trigger.objects.filter(pk=touches["trigger"].pk).update(enabled=False)

    items = api_as(touches["recruiter"]).get(f"/candidates/{touches['applicant'].pk}/upcoming").json()["items"]

    assert [item["source"]["type"] for item in items] == ["sequence"]
