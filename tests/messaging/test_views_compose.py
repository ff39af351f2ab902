"""The profile's Email panel: template prefill, preview, send now or schedule, errors next to the fields, and
who sees it."""

import json
import zoneinfo
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from rapport.messaging.models import Message, MessageStatus
from tests.factories import make_candidate

HTMX = {"HTTP_HX_REQUEST": "true"}


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_profile_shows_the_email_panel_and_messages_to_recruiters(recruiter, person):
    response = _client(recruiter).get(f"/candidates/{person.pk}/")

    body = response.content.decode()
    assert 'id="email-compose"' in body and 'id="person-messages"' in body
    assert 'data-open-details="#email-compose"' in body
    panel = body.split('id="email-compose"')[1].split("</details>")[0]
    # The form itself is fetched when the panel opens.
    assert f'data-lazy="/messages/to/{person.pk}/compose/"' in panel and 'id="compose-form"' not in panel
    assert "<script>" not in panel


def test_the_panel_form_is_fetched_on_opening_with_the_persons_address(recruiter, person):
    response = _client(recruiter).get(f"/messages/to/{person.pk}/compose/", **HTMX)

    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="compose-form"' in body and 'name="idempotency_key"' in body
    assert '<option value="email" selected>Email</option>' in body and 'id="id_subject"' in body
    assert "<script>" not in body


@pytest.mark.parametrize("role", ["hiring_manager", "interviewer"])
def test_roles_that_do_not_message_see_no_email_panel(world, role):
    response = _client(world[role]).get(f"/candidates/{world['applicant'].pk}/")

    assert response.status_code == 200
    assert b'id="email-compose"' not in response.content and b'id="person-messages"' not in response.content


def test_picking_a_template_fills_in_its_text_in_the_person_language(recruiter, make_template):
    person = make_candidate(actor=recruiter, first_name="Marie", emails=["marie@example.fr"], language="fr")
    template = make_template(
        subject="Hello",
        body="Hi {{ candidate.first_name }}",
        language="en",
        variants=[{"language": "fr", "subject": "Bonjour", "body": "Salut {{ candidate.first_name }}"}],
    )

    response = _client(recruiter).post(
        f"/messages/to/{person.pk}/prefill/", {"template": template.pk, "subject": "", "body": ""}, **HTMX
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert 'value="Bonjour"' in body and "Salut {{ candidate.first_name }}" in body


def test_preview_renders_for_the_person_and_shows_problems_with_lines(recruiter, person):
    client = _client(recruiter)

    ok = client.post(f"/messages/to/{person.pk}/preview/", {"subject": "Hi {{ candidate.first_name }}", "body": "x"})
    bad = client.post(f"/messages/to/{person.pk}/preview/", {"subject": "Hi", "body": "\n{{ candidate.nope }}"})

    assert b"data-preview-subject" in ok.content and b"Hi Grace" in ok.content
    assert b"line 2: unknown field candidate.nope" in bad.content
    assert not Message.objects.exists()


def test_send_now_queues_the_message_and_refreshes_the_messages_section(recruiter, person):
    response = _client(recruiter).post(
        f"/messages/to/{person.pk}/send/",
        {"subject": "Coffee, {{ candidate.first_name }}?", "body": "Hi", "action": "send", "idempotency_key": "abc"},
        **HTMX,
    )

    assert response.status_code == 200
    message = Message.objects.get()
    assert message.subject == "Coffee, Grace?" and message.status == MessageStatus.QUEUED
    body = response.content.decode()
    # The conversation card is swapped in out of band and loads the thread, with the new message, at once.
    assert 'id="person-messages" aria-labelledby="conversation-title" hx-swap-oob="true"' in body
    assert f'hx-get="/messages/to/{person.pk}/thread/" hx-trigger="load"' in body
    assert 'hx-swap-oob="afterbegin:#timeline-list"' in body and "wrote an email to Grace" in body
    assert json.loads(response["HX-Trigger"])["rapport:toast"]["message"] == "Queued to send."


def test_the_same_form_submitted_twice_sends_once(recruiter, person):
    client = _client(recruiter)
    data = {"subject": "Hi", "body": "Hello", "action": "send", "idempotency_key": "form-1"}

    client.post(f"/messages/to/{person.pk}/send/", data, **HTMX)
    client.post(f"/messages/to/{person.pk}/send/", data, **HTMX)

    assert Message.objects.count() == 1


def test_schedule_reads_the_time_in_the_person_time_zone(recruiter):
    person = make_candidate(actor=recruiter, first_name="Kiri", emails=["kiri@example.nz"], timezone="Pacific/Auckland")
    local = (timezone.now() + timedelta(days=2)).astimezone(timezone.get_default_timezone())
    typed = local.strftime("%Y-%m-%dT09:00")

    response = _client(recruiter).post(
        f"/messages/to/{person.pk}/send/",
        {"subject": "Hi", "body": "x", "send_at": typed, "action": "schedule"},
        **HTMX,
    )

    assert response.status_code == 200
    message = Message.objects.get()
    assert message.status == MessageStatus.SCHEDULED
    in_auckland = message.scheduled_for.astimezone(zoneinfo.ZoneInfo("Pacific/Auckland"))
    assert (in_auckland.hour, in_auckland.minute) == (9, 0)


def test_errors_are_shown_next_to_the_fields(recruiter, person):
    client = _client(recruiter)

    no_time = client.post(
        f"/messages/to/{person.pk}/send/", {"subject": "Hi", "body": "x", "action": "schedule"}, **HTMX
    )
    bad_field = client.post(
        f"/messages/to/{person.pk}/send/",
        {"subject": "Hi", "body": "{{ candidate.frist_name }}", "action": "send"},
        **HTMX,
    )

    assert no_time.status_code == 422 and b"Pick when to send it." in no_time.content
    assert bad_field.status_code == 422
    body = bad_field.content.decode()
    assert 'id="field-body"' in body
    field = body.split('id="field-body"')[1].split('id="field-send_at"')[0]
    assert "unknown field candidate.frist_name" in field
    assert not Message.objects.exists()


def test_without_htmx_a_send_redirects_to_the_profile(recruiter, person):
    response = _client(recruiter).post(f"/messages/to/{person.pk}/send/", {"subject": "Hi", "body": "x"})

    assert response.status_code == 302 and response["Location"] == f"/candidates/{person.pk}/"
    assert Message.objects.count() == 1


ROLES = ["admin", "recruiter", "hiring_manager", "interviewer", "outsider"]
# The applicant is visible to every role but the outsider; only admins and recruiters may message.
EXPECTED = {"admin": 200, "recruiter": 200, "hiring_manager": 403, "interviewer": 403, "outsider": 404}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", ["send", "preview", "prefill"])
def test_every_role_against_every_compose_endpoint(world, role, endpoint):
    client = _client(world[role])
    pk = world["applicant"].pk
    data = {"subject": "Hi", "body": "Hello", "action": "send"}

    response = client.post(f"/messages/to/{pk}/{endpoint}/", data, **HTMX)

    assert response.status_code == EXPECTED[role]
    assert Message.objects.count() == (1 if endpoint == "send" and EXPECTED[role] == 200 else 0)


@pytest.mark.parametrize("role", ROLES)
def test_every_role_against_the_panel_form(world, role):
    response = _client(world[role]).get(f"/messages/to/{world['applicant'].pk}/compose/", **HTMX)

    assert response.status_code == EXPECTED[role]
    assert (b'id="compose-form"' in response.content) == (EXPECTED[role] == 200)


def test_the_panel_form_does_not_answer_a_post(recruiter, person):
    assert _client(recruiter).post(f"/messages/to/{person.pk}/compose/", **HTMX).status_code == 405


def test_signed_out_visitors_are_sent_to_sign_in(person):
    response = Client().post(f"/messages/to/{person.pk}/send/", {"subject": "Hi", "body": "x"})

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_panel_opens_with_the_template_of_the_persons_current_stage(client, recruiter, person, make_template):
    from rapport.jobs.services import stage_default_template_set
    from rapport.pipeline.services import application_create
    from tests.factories import make_job

    template = make_template(
        name="Interview invite", category="interview", subject="Your interview, {{ candidate.first_name }}"
    )
    job = make_job(actor=recruiter, title="Data Engineer")
    application = application_create(actor=recruiter, candidate=person, job=job)
    stage_default_template_set(actor=recruiter, stage=application.stage, template=template)
    client.force_login(recruiter)

    page = client.get(reverse("messages:compose", args=[person.pk])).content.decode()

    assert f"Suggested for the {application.stage.name} stage." in page
    assert f'<option value="{template.pk}" selected>' in page
    assert "Your interview, {{ candidate.first_name }}" in page


def test_no_suggestion_when_the_stage_has_no_default_template(client, recruiter, person):
    from rapport.pipeline.services import application_create
    from tests.factories import make_job

    application_create(actor=recruiter, candidate=person, job=make_job(actor=recruiter))
    client.force_login(recruiter)

    page = client.get(reverse("messages:compose", args=[person.pk])).content.decode()

    assert 'id="compose-form"' in page and "Suggested for the" not in page
