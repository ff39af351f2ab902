"""WhatsApp templates carry the approved WhatsApp template they may be sent as: a Content SID and the merge field of
each numbered variable, checked on save like any template text, through the API and in the template editor."""

import pytest
from django.test import Client

from rapport.common.errors import ValidationFailed
from rapport.messaging.channels.whatsapp.services import message_template_save
from rapport.messaging.forms import TemplateForm
from rapport.messaging.models import MessageTemplate
from rapport.timeline.models import AuditEntry
from tests.api.conftest import error_of

SID = "HX" + "0123456789abcdef" * 2
CHECK_IN = {
    "name": "Check-in",
    "channel": "whatsapp",
    "category": "outreach",
    "body": "Hi {{ candidate.first_name }}, still interested in {{ job.title }}?",
    "whatsapp_content_sid": SID,
    "whatsapp_variables": {"1": "candidate.first_name", "2": "job.title"},
}


def test_the_api_creates_reads_and_changes_a_whatsapp_templates_approved_template(api_as, recruiter):
    api = api_as(recruiter)

    created = api.post("/templates", CHECK_IN)
    template_id = created.json()["id"]
    changed = api.patch(f"/templates/{template_id}", {"whatsapp_variables": {"1": "{{ candidate.full_name }}"}})
    fetched = api.get(f"/templates/{template_id}")

    assert created.status_code == 201, created.json()
    assert created.json()["whatsapp_content_sid"] == SID
    assert created.json()["whatsapp_variables"] == {"1": "candidate.first_name", "2": "job.title"}
    assert changed.status_code == 200
    assert fetched.json()["whatsapp_variables"] == {"1": "candidate.full_name"}
    assert fetched.json()["whatsapp_content_sid"] == SID
    audited = AuditEntry.objects.filter(object_type="message_template", changes__has_key="whatsapp_variables")
    assert audited.count() == 2


def test_other_templates_show_empty_whatsapp_fields(api_as, recruiter):
    body = (
        api_as(recruiter)
        .post("/templates", {**CHECK_IN, "channel": "sms", "whatsapp_content_sid": None, "whatsapp_variables": None})
        .json()
    )

    assert body["whatsapp_content_sid"] == "" and body["whatsapp_variables"] == {}


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"whatsapp_content_sid": "HX123"}, "whatsapp_content_sid", "HX followed by 32 hexadecimal characters"),
        ({"whatsapp_content_sid": "MG" + "a" * 32}, "whatsapp_content_sid", "HX followed by 32"),
        (
            {"whatsapp_variables": {"1": "candidate.first_name", "2": "job.titel"}},
            "whatsapp_variables.2",
            "Unknown field job.titel (did you mean job.title?).",
        ),
        ({"whatsapp_variables": {"1": "candidate.frist_name"}}, "whatsapp_variables.1", "candidate.frist_name"),
        ({"whatsapp_variables": {"1": "candidate.custom.shoe"}}, "whatsapp_variables.1", "candidate.custom.shoe"),
        ({"whatsapp_variables": {"1": "candidate"}}, "whatsapp_variables.1", "candidate is a group of fields"),
        ({"whatsapp_variables": {"1": "candidate.first_name | upper"}}, "whatsapp_variables.1", "one merge field"),
        ({"whatsapp_variables": {"1": "job.title", "3": "job.title"}}, "whatsapp_variables", "without gaps"),
        ({"whatsapp_variables": {"first": "job.title"}}, "whatsapp_variables", "without gaps"),
        ({"whatsapp_content_sid": ""}, "whatsapp_content_sid", "Give the Content SID"),
    ],
)
def test_a_bad_content_sid_or_variable_is_422_naming_the_field(api_as, recruiter, change, field, message):
    response = api_as(recruiter).post("/templates", {**CHECK_IN, **change})

    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "validation_error"
    assert field in error["fields"] and message in " ".join(error["fields"][field])
    assert not MessageTemplate.objects.exists()


def test_problems_with_the_text_and_the_approved_template_are_reported_together(api_as, recruiter):
    response = api_as(recruiter).post(
        "/templates",
        {**CHECK_IN, "body": "Hi {{ candidate.nmae }}", "whatsapp_variables": {"1": "job.tilte"}},
    )

    assert response.status_code == 422
    assert set(error_of(response)["fields"]) == {"body", "whatsapp_variables.1"}
    assert not MessageTemplate.objects.exists()


def test_a_bad_change_leaves_the_template_as_it_was(api_as, recruiter):
    api = api_as(recruiter)
    template_id = api.post("/templates", CHECK_IN).json()["id"]

    response = api.patch(f"/templates/{template_id}", {"name": "Renamed", "whatsapp_variables": {"1": "job.nope"}})

    assert response.status_code == 422
    template = MessageTemplate.objects.get(pk=template_id)
    assert template.name == "Check-in" and template.whatsapp_variables == CHECK_IN["whatsapp_variables"]


def test_only_whatsapp_templates_have_one_and_leaving_whatsapp_drops_it(api_as, recruiter):
    api = api_as(recruiter)
    on_sms = api.post("/templates", {**CHECK_IN, "channel": "sms"})
    template_id = api.post("/templates", CHECK_IN).json()["id"]

    moved = api.patch(f"/templates/{template_id}", {"channel": "sms"})

    assert on_sms.status_code == 422
    assert "Only a WhatsApp template" in error_of(on_sms)["fields"]["whatsapp_content_sid"][0]
    assert moved.status_code == 200
    assert moved.json()["whatsapp_content_sid"] == "" and moved.json()["whatsapp_variables"] == {}


def test_the_service_keeps_what_a_change_does_not_mention(recruiter):
    template = message_template_save(actor=recruiter, template=None, data=dict(CHECK_IN))

    message_template_save(actor=recruiter, template=template, data={"body": "Hello {{ candidate.first_name }}"})

    template.refresh_from_db()
    assert template.whatsapp_content_sid == SID and template.whatsapp_variables == CHECK_IN["whatsapp_variables"]
    with pytest.raises(ValidationFailed) as caught:
        message_template_save(actor=recruiter, template=template, data={"whatsapp_content_sid": "hx-nope"})
    assert list(caught.value.fields) == ["whatsapp_content_sid"]


# --- the template editor ----------------------------------------------------------------------------------------


def test_the_form_reads_numbered_variables_one_per_line():
    form = TemplateForm(
        {
            "name": "Check-in",
            "channel": "whatsapp",
            "category": "outreach",
            "body": "Hi",
            "whatsapp_content_sid": SID,
            "whatsapp_variables": "1 = candidate.first_name\n\n{{2}}: job.title\n",
            "variant_rows": "1",
        }
    )

    assert form.is_valid(), form.errors
    data = form.service_data()
    assert data["whatsapp_content_sid"] == SID
    assert data["whatsapp_variables"] == {"1": "candidate.first_name", "2": "job.title"}


def test_the_form_refuses_a_line_that_is_not_a_numbered_variable_and_clears_them_for_other_channels():
    bad = TemplateForm(
        {
            "name": "A",
            "channel": "whatsapp",
            "category": "outreach",
            "body": "Hi",
            "whatsapp_variables": "first name = candidate.first_name",
        }
    )
    sms = TemplateForm(
        {
            "name": "B",
            "channel": "sms",
            "category": "outreach",
            "body": "Hi",
            "whatsapp_content_sid": SID,
            "whatsapp_variables": "1 = job.title",
        }
    )

    assert not bad.is_valid() and "such as 1 = candidate.first_name" in bad.errors["whatsapp_variables"][0]
    assert sms.is_valid()
    assert sms.service_data()["whatsapp_content_sid"] == "" and sms.service_data()["whatsapp_variables"] == {}


def test_the_editor_shows_the_approved_template_fields_for_whatsapp_only(recruiter):
    whatsapp = message_template_save(actor=recruiter, template=None, data=dict(CHECK_IN))
    email = message_template_save(
        actor=recruiter, template=None, data={"name": "Mail", "channel": "email", "subject": "Hi", "body": "Hi"}
    )
    client = Client()
    client.force_login(recruiter)

    on_whatsapp = client.get(f"/templates/{whatsapp.pk}/").content.decode()
    on_email = client.get(f"/templates/{email.pk}/").content.decode()

    assert 'class="form-section whatsapp-content whatsapp-content--shown"' in on_whatsapp
    assert f'value="{SID}"' in on_whatsapp and "1 = candidate.first_name\n2 = job.title" in on_whatsapp
    # For email the section is there (so picking WhatsApp shows it at once) but hidden by the editor's style.
    assert 'class="form-section whatsapp-content"' in on_email
    assert ".whatsapp-content:not(.whatsapp-content--shown){display:none}" in on_email
    assert 'option[value="whatsapp"]:checked' in on_email
