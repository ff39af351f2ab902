"""The trigger pages: the list with an on/off switch per trigger (HTMX and plain POST), the when → if → then
editor (delays and offsets in the user's unit, conditions as rows, errors next to the row or input they concern,
settings of shipped defaults kept), the run log, and who may use each page."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from rapport.automation.models import Trigger, TriggerRun, TriggerRunStatus
from rapport.automation.services_triggers import trigger_create
from rapport.messaging.services import message_template_create
from tests.factories import TalentPoolFactory

HTMX = {"HTTP_HX_REQUEST": "true"}


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _template(actor, name="Rejection"):
    return message_template_create(
        actor=actor, data={"name": name, "channel": "email", "subject": "Hi", "body": "Hi {{ candidate.first_name }}"}
    )


def _trigger(actor, template, **data):
    body = {
        "name": "Rejected: a kind message",
        "event": "application.rejected",
        "action": "send_message",
        "template_id": str(template.pk),
        "enabled": True,
        "delay_minutes": 24 * 60,
    }
    body.update(data)
    return trigger_create(actor=actor, data=body)


def _form(**extra):
    data = {
        "name": "Interview reminders",
        "description": "",
        "enabled": "on",
        "event": "meeting.scheduled",
        "action": "send_message",
        "template": "",
        "sequence": "",
        "delay_amount": "0",
        "delay_unit": "hours",
        "offsets": "",
        "offsets_unit": "hours",
        "condition_count": "3",
    }
    data.update(extra)
    return data


def test_an_empty_list_says_what_to_do_next(recruiter):
    Trigger.objects.all().delete()  # the shipped defaults

    body = _client(recruiter).get("/triggers/").content.decode()

    assert "No triggers yet" in body and 'href="/triggers/new/"' in body


def test_the_list_shows_when_then_and_the_switch(recruiter):
    trigger = _trigger(recruiter, _template(recruiter))

    body = _client(recruiter).get("/triggers/").content.decode()

    row = body[body.index(f'data-trigger="{trigger.pk}"') :]
    assert "An application is rejected" in row and "Send a message" in row
    assert 'role="switch" aria-checked="true"' in row
    assert f'href="/triggers/{trigger.pk}/runs/"' in row


@pytest.mark.parametrize("role", ["admin", "recruiter"])
def test_admins_and_recruiters_use_every_page(all_users, role):
    user = all_users[role]
    trigger = _trigger(user, _template(user))
    client = _client(user)

    for url in ("/triggers/", "/triggers/new/", f"/triggers/{trigger.pk}/", f"/triggers/{trigger.pk}/runs/"):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("role", ["hiring_manager", "interviewer", "outsider"])
def test_other_roles_get_403_for_the_pages_and_404_for_a_trigger(all_users, role):
    trigger = _trigger(all_users["recruiter"], _template(all_users["recruiter"]))
    before = Trigger.objects.count()
    client = _client(all_users[role])

    assert client.get("/triggers/").status_code == 403
    assert client.get("/triggers/new/").status_code == 403
    assert client.post("/triggers/new/", _form()).status_code == 403
    assert client.get(f"/triggers/{trigger.pk}/").status_code == 404
    assert client.get(f"/triggers/{trigger.pk}/runs/").status_code == 404
    assert client.post(f"/triggers/{trigger.pk}/toggle/", {"enabled": "0"}).status_code == 404
    assert client.post(f"/triggers/{trigger.pk}/", _form(name="Taken over")).status_code == 404
    trigger.refresh_from_db()
    assert trigger.enabled is True and trigger.name == "Rejected: a kind message"
    assert Trigger.objects.count() == before


def test_create_a_trigger_with_a_condition_offsets_and_a_delay(recruiter):
    template = _template(recruiter, "Reminder")

    response = _client(recruiter).post(
        "/triggers/new/",
        _form(
            template=str(template.pk),
            offsets="-24, -2",
            offsets_unit="hours",
            **{"cond-0-field": "candidate.country", "cond-0-op": "in", "cond-0-value": "DE, FR"},
        ),
    )

    trigger = Trigger.objects.get(name="Interview reminders")
    assert response.status_code == 302 and response["Location"] == f"/triggers/{trigger.pk}/"
    assert (trigger.event, trigger.action, trigger.template, trigger.enabled) == (
        "meeting.scheduled",
        "send_message",
        template,
        True,
    )
    assert trigger.conditions == [{"field": "candidate.country", "op": "in", "value": ["DE", "FR"]}]
    assert trigger.config == {"offsets": [-24 * 60, -2 * 60]}
    assert trigger.delay_minutes == 0


def test_the_editor_shows_delays_in_days_and_keeps_settings_it_does_not_show(recruiter):
    template = _template(recruiter)
    trigger = _trigger(recruiter, template, config={"details": True})
    client = _client(recruiter)

    form = client.get(f"/triggers/{trigger.pk}/").content.decode()
    assert 'name="delay_amount" value="1"' in form
    assert '<option value="days" selected>' in form
    assert "{&quot;details&quot;: true}" in form

    client.post(
        f"/triggers/{trigger.pk}/",
        _form(
            name="Rejected: two days later",
            event="application.rejected",
            template=str(template.pk),
            delay_amount="2",
            delay_unit="days",
        ),
    )

    trigger.refresh_from_db()
    assert trigger.name == "Rejected: two days later"
    assert trigger.delay_minutes == 2 * 24 * 60
    assert trigger.config == {"details": True}


def test_a_bad_condition_is_shown_next_to_its_row(recruiter):
    template = _template(recruiter)

    response = _client(recruiter).post(
        "/triggers/new/",
        _form(
            template=str(template.pk),
            **{"cond-1-field": "candidate.favourite colour", "cond-1-op": "eq", "cond-1-value": "blue"},
        ),
    )

    body = response.content.decode()
    assert response.status_code == 422
    row = body[
        body.index('aria-label="Condition 2"') : body.index("</fieldset>", body.index('aria-label="Condition 2"'))
    ]
    assert "Unknown field" in row and 'value="candidate.favourite colour"' in row
    assert not Trigger.objects.filter(name="Interview reminders").exists()


def test_a_missing_template_and_a_bad_offset_are_shown_next_to_their_inputs(recruiter):
    client = _client(recruiter)

    missing = client.post("/triggers/new/", _form()).content.decode()
    bad_offset = client.post("/triggers/new/", _form(offsets="-24, soon")).content.decode()

    assert 'id="id_template_error"' in missing and "Pick the template to send." in missing
    assert 'id="id_offsets_error"' in bad_offset and "“soon” is not a whole number" in bad_offset
    assert not Trigger.objects.filter(name="Interview reminders").exists()


def test_task_tag_and_pool_actions_take_their_own_inputs(recruiter):
    pool = TalentPoolFactory(name="Past applicants")
    client = _client(recruiter)

    client.post("/triggers/new/", _form(name="Task", action="create_task", task_title="Call them"))
    client.post("/triggers/new/", _form(name="Pool", action="add_to_pool", pool=str(pool.pk)))
    refused = client.post("/triggers/new/", _form(name="Tag", action="add_tag"))

    assert Trigger.objects.get(name="Task").config == {"title": "Call them"}
    assert Trigger.objects.get(name="Pool").config == {"pool_id": str(pool.pk)}
    assert refused.status_code == 422 and 'id="id_tag_error"' in refused.content.decode()


def test_a_survey_action_takes_its_moment_and_names_a_missing_one(recruiter):
    client = _client(recruiter)

    client.post("/triggers/new/", _form(name="Survey", action="send_survey", survey_moment="after_decision"))
    refused = client.post("/triggers/new/", _form(name="No moment", action="send_survey"))

    assert Trigger.objects.get(name="Survey").config == {"moment": "after_decision"}
    assert refused.status_code == 422 and 'id="id_survey_moment_error"' in refused.content.decode()
    assert not Trigger.objects.filter(name="No moment").exists()


def test_switch_off_and_on_with_htmx_returns_the_switch(recruiter):
    trigger = _trigger(recruiter, _template(recruiter))
    client = _client(recruiter)

    off = client.post(f"/triggers/{trigger.pk}/toggle/", {"enabled": "0"}, **HTMX)
    trigger.refresh_from_db()
    assert trigger.enabled is False
    assert 'aria-checked="false"' in off.content.decode() and "is off" in off["HX-Trigger"]

    on = client.post(f"/triggers/{trigger.pk}/toggle/", {"enabled": "1"}, **HTMX)
    trigger.refresh_from_db()
    assert trigger.enabled is True and 'aria-checked="true"' in on.content.decode()


def test_switch_without_javascript_goes_back_to_the_list(recruiter):
    trigger = _trigger(recruiter, _template(recruiter))

    response = _client(recruiter).post(f"/triggers/{trigger.pk}/toggle/", {"enabled": "0"})

    assert response.status_code == 302 and response["Location"] == "/triggers/"
    trigger.refresh_from_db()
    assert trigger.enabled is False


def test_the_run_log_shows_status_person_time_detail_and_attempts(world):
    recruiter = world["recruiter"]
    trigger = _trigger(recruiter, _template(recruiter))
    now = timezone.now()
    TriggerRun.objects.create(
        trigger=trigger,
        fired_for="a1",
        candidate=world["applicant"],
        status=TriggerRunStatus.FAILED,
        due_at=now - timedelta(hours=1),
        finished_at=now,
        attempts=8,
        detail="The mail server refused the message.",
    )
    TriggerRun.objects.create(
        trigger=trigger, fired_for="a2", candidate=world["bystander"], due_at=now + timedelta(days=1)
    )

    body = _client(recruiter).get(f"/triggers/{trigger.pk}/runs/").content.decode()

    assert body.index("Alan Turing") < body.index("Grace Hopper")  # newest first
    failed = body[body.index("Grace Hopper") - 400 :]
    assert "badge--danger" in failed and "Failed" in failed
    assert "The mail server refused the message." in failed and '<td class="col-num hide-sm">8</td>' in failed
    assert "Scheduled" in body and "due Tomorrow" in body


def test_an_empty_run_log_says_what_to_check(recruiter):
    trigger = _trigger(recruiter, _template(recruiter))

    body = _client(recruiter).get(f"/triggers/{trigger.pk}/runs/").content.decode()

    assert "No runs yet" in body and "switched on" in body
