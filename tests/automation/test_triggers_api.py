"""API: /api/v1/triggers (list, create, read, change) and a trigger's run log, for every role."""

import pytest
from django.utils import timezone

from rapport.automation.models import Trigger, TriggerRun
from rapport.automation.services_triggers import trigger_runs_run_due, triggers_consume
from rapport.messaging.services import message_template_create
from rapport.timeline.services import note_add
from tests.api.conftest import error_of

ROLES = ["admin", "recruiter", "hiring_manager", "interviewer", "outsider"]
BODY = {
    "name": "Tag people after a call",
    "event": "call.logged",
    "action": "add_tag",
    "enabled": True,
    "conditions": [{"field": "candidate.relationship_status", "op": "in", "value": ["lead", "applicant"]}],
    "config": {"tag": "called"},
    "delay_minutes": 0,
}


@pytest.fixture
def quiet_defaults(db):
    Trigger.objects.filter(key__isnull=False).update(enabled=False)


def test_a_trigger_is_created_read_listed_changed_and_logs_its_runs(api_as, world, quiet_defaults):
    api = api_as(world["recruiter"])

    created = api.post("/triggers", BODY)
    assert created.status_code == 201, created.json()
    body = created.json()
    trigger_id = body["id"]
    assert body["enabled"] is True and body["event"] == "call.logged" and body["config"] == {"tag": "called"}
    assert body["key"] is None and body["template_id"] is None

    fetched = api.get(f"/triggers/{trigger_id}")
    assert fetched.status_code == 200 and fetched.json()["name"] == BODY["name"]
    listed = api.get("/triggers", {"enabled": "true", "event": "call.logged"}).json()
    assert [t["id"] for t in listed["items"]] == [trigger_id]
    every = api.get("/triggers", {"limit": 200}).json()["items"]
    assert {t["key"] for t in every} >= {"rejected_message", "birthday_greeting", "job_alert"}

    while triggers_consume():
        pass
    note_add(actor=world["recruiter"], candidate=world["applicant"], body="Good call", kind="call")
    note_add(actor=world["recruiter"], candidate=world["applicant"], body="Another call", kind="call")
    triggers_consume()
    trigger_runs_run_due(now=timezone.now())

    runs = api.get(f"/triggers/{trigger_id}/runs", {"limit": 1})
    assert runs.status_code == 200
    first = runs.json()
    assert len(first["items"]) == 1 and first["next_cursor"]
    second = api.get(f"/triggers/{trigger_id}/runs", {"limit": 1, "cursor": first["next_cursor"]}).json()
    statuses = {first["items"][0]["status"], second["items"][0]["status"]}
    assert statuses == {"done", "skipped"}  # the second call finds the tag already there
    assert second["next_cursor"] is None
    assert first["items"][0]["candidate_id"] == str(world["applicant"].pk)
    skipped = api.get(f"/triggers/{trigger_id}/runs", {"status": "skipped"}).json()["items"]
    assert len(skipped) == 1 and "Already tagged" in skipped[0]["detail"]

    changed = api.patch(f"/triggers/{trigger_id}", {"enabled": False, "delay_minutes": 60})
    assert changed.status_code == 200
    assert changed.json()["enabled"] is False and changed.json()["delay_minutes"] == 60
    assert changed.json()["name"] == BODY["name"]


def test_bad_input_names_the_field_and_writes_nothing(api_as, world, quiet_defaults):
    api = api_as(world["recruiter"])
    before = Trigger.objects.count()

    bad_condition = api.post("/triggers", {**BODY, "conditions": [{"field": "candidate.x", "op": "eq", "value": 1}]})
    bad_offsets = api.post("/triggers", {**BODY, "config": {"tag": "x", "offsets": "soon"}})
    unknown = api.post("/triggers", {**BODY, "colour": "red"})
    no_template = api.post("/triggers", {**BODY, "action": "send_message", "config": {}})
    bad_type = api.post("/triggers", {**BODY, "delay_minutes": "later"})
    not_json = api.post_raw("/triggers", "{")

    assert bad_condition.status_code == 422 and "conditions[0].field" in error_of(bad_condition)["fields"]
    assert bad_offsets.status_code == 422 and "config.offsets" in error_of(bad_offsets)["fields"]
    assert unknown.status_code == 422 and error_of(unknown)
    assert no_template.status_code == 422 and "template_id" in error_of(no_template)["fields"]
    assert bad_type.status_code == 422 and error_of(bad_type)
    assert not_json.status_code in (400, 422) and error_of(not_json)
    assert Trigger.objects.count() == before

    trigger = Trigger.objects.get(key="rejected_message")
    bad_patch = api.patch(f"/triggers/{trigger.pk}", {"event": "no.such"})
    assert bad_patch.status_code == 422 and "event" in error_of(bad_patch)["fields"]
    trigger.refresh_from_db()
    assert trigger.event == "application.rejected"
    sms = message_template_create(actor=world["recruiter"], data={"name": "Text", "channel": "sms", "body": "Hi"})
    with_details = api.patch(f"/triggers/{trigger.pk}", {"template_id": str(sms.pk)})
    assert with_details.status_code == 422 and "config.details" in error_of(with_details)["fields"]


@pytest.mark.parametrize("role", ROLES)
def test_permissions_for_every_role(api_as, world, role, quiet_defaults):
    api = api_as(world[role])
    trigger = Trigger.objects.get(key="rejected_message")
    manages = role in ("admin", "recruiter")

    listed = api.get("/triggers")
    fetched = api.get(f"/triggers/{trigger.pk}")
    runs = api.get(f"/triggers/{trigger.pk}/runs")
    changed = api.patch(f"/triggers/{trigger.pk}", {"delay_minutes": 5})
    created = api.post("/triggers", {**BODY, "name": f"By {role}"})

    assert listed.status_code == 200
    assert bool(listed.json()["items"]) is manages
    if manages:
        assert fetched.status_code == runs.status_code == changed.status_code == 200
        assert created.status_code == 201
    else:
        assert fetched.status_code == runs.status_code == changed.status_code == 404
        assert created.status_code == 403 and error_of(created)["code"] == "forbidden"
        trigger.refresh_from_db()
        assert trigger.delay_minutes == 24 * 60
        assert not Trigger.objects.filter(name=f"By {role}").exists()


def test_the_triggers_api_needs_a_signed_in_caller(anonymous, db):
    trigger = Trigger.objects.get(key="rejected_message")

    assert anonymous.get("/triggers").status_code == 401
    assert anonymous.post("/triggers", BODY).status_code == 401
    assert anonymous.patch(f"/triggers/{trigger.pk}", {"enabled": False}).status_code == 401
    assert anonymous.get(f"/triggers/{trigger.pk}/runs").status_code == 401
    assert TriggerRun.objects.count() == 0
