"""Template writes: checked on save, audited, permission-checked, and able to set a stage's default template."""

import pytest

from rapport.candidates.services import custom_field_create
from rapport.common.errors import PermissionDenied, ValidationFailed
from rapport.jobs.models import StageTemplate
from rapport.jobs.services import stage_templates_ensure
from rapport.messaging.models import MessageTemplate
from rapport.messaging.services import message_template_create, message_template_delete, message_template_update
from rapport.timeline.models import AuditEntry
from tests.factories import make_job


def test_a_recruiter_creates_an_email_template_and_it_is_audited(recruiter):
    template = message_template_create(
        actor=recruiter,
        data={
            "name": "First outreach",
            "channel": "email",
            "category": "outreach",
            "subject": "  A role for   {{ candidate.first_name }} ",
            "body": "Hi {{ candidate.first_name }}",
            "language": "EN",
        },
    )

    assert template.subject == "A role for {{ candidate.first_name }}"
    assert template.language == "en"
    assert template.created_by == recruiter
    entry = AuditEntry.objects.get(object_type="message_template", object_id=str(template.pk))
    assert entry.action == "create" and entry.actor == recruiter


def test_an_unknown_field_is_refused_naming_the_field_and_line(recruiter):
    with pytest.raises(ValidationFailed) as caught:
        message_template_create(
            actor=recruiter,
            data={"name": "Typo", "channel": "email", "subject": "Hi", "body": "Line 1\n\n{{ candidate.frist_name }}"},
        )

    assert caught.value.message.startswith("body, line 3: unknown field candidate.frist_name")
    assert not MessageTemplate.objects.exists()


def test_custom_fields_of_the_organisation_can_be_used(admin_user, recruiter):
    custom_field_create(actor=admin_user, label="Notice period", field_type="text", key="notice_period")

    template = message_template_create(
        actor=recruiter,
        data={"name": "Notice", "channel": "sms", "body": "Notice: {{ candidate.custom.notice_period }}"},
    )

    assert template.pk


@pytest.mark.parametrize(
    "data, field",
    [
        ({"name": "", "channel": "email", "subject": "Hi", "body": "Hi"}, "name"),
        ({"name": "No subject", "channel": "email", "body": "Hi"}, "subject"),
        ({"name": "No body", "channel": "sms", "body": "  "}, "body"),
        ({"name": "Fax", "channel": "fax", "body": "Hi"}, "channel"),
        ({"name": "Cat", "channel": "sms", "category": "gossip", "body": "Hi"}, "category"),
        ({"name": "Lang", "channel": "sms", "body": "Hi", "language": "english!"}, "language"),
        (
            {"name": "Twice", "channel": "sms", "body": "Hi", "variants": [{"language": "fr", "body": "Salut"}] * 2},
            "variants.fr.language",
        ),
        (
            {
                "name": "Broken variant",
                "channel": "sms",
                "body": "Hi",
                "variants": [{"language": "fr", "body": "{{ x }}"}],
            },
            "variants.fr.body",
        ),
    ],
)
def test_bad_input_names_the_field(recruiter, data, field):
    with pytest.raises(ValidationFailed) as caught:
        message_template_create(actor=recruiter, data=data)

    assert field in caught.value.fields


def test_names_are_unique_regardless_of_case(recruiter, make_template):
    make_template(name="Interview invite")

    with pytest.raises(ValidationFailed) as caught:
        make_template(name="interview INVITE")

    assert "name" in caught.value.fields


def test_sms_templates_drop_the_subject(recruiter):
    template = message_template_create(
        actor=recruiter, data={"name": "Text", "channel": "sms", "subject": "ignored", "body": "Hi"}
    )

    assert template.subject == ""


def test_an_update_is_checked_as_a_whole_and_audited(recruiter, make_template):
    template = make_template(channel="sms", subject="", body="Hi")

    with pytest.raises(ValidationFailed) as caught:
        message_template_update(actor=recruiter, template=template, data={"channel": "email"})
    message_template_update(actor=recruiter, template=template, data={"name": "Renamed", "body": "Hello"})

    assert "subject" in caught.value.fields
    template.refresh_from_db()
    assert (template.name, template.body, template.channel) == ("Renamed", "Hello", "sms")
    entry = AuditEntry.objects.filter(object_type="message_template", action="update").get()
    assert entry.changes["body"] == "changed"
    assert entry.changes["name"][1] == "Renamed"


def test_delete_is_audited_and_stages_stop_suggesting_it(recruiter, make_template):
    job = make_job(actor=recruiter)
    stage = job.stages.get(name="Interview")
    template = make_template(stage_id=stage.pk)
    stage.refresh_from_db()
    assert stage.default_template == template

    message_template_delete(actor=recruiter, template=template)

    stage.refresh_from_db()
    assert stage.default_template is None
    assert AuditEntry.objects.filter(object_type="message_template", action="delete", changes__name=template.name)


def test_an_organisation_stage_default_is_copied_into_new_jobs(admin_user, recruiter, make_template):
    interview = next(t for t in stage_templates_ensure() if t.name == "Interview")
    template = make_template(stage_template_id=interview.pk)

    job = make_job(actor=recruiter)

    assert StageTemplate.objects.get(pk=interview.pk).default_template == template
    assert job.stages.get(name="Interview").default_template == template
    assert job.stages.get(name="Offer").default_template is None


def test_an_unknown_stage_is_a_validation_error(recruiter, make_template):
    with pytest.raises(ValidationFailed) as caught:
        make_template(stage_id=424242)

    assert "stage_id" in caught.value.fields
    assert not MessageTemplate.objects.exists()


@pytest.mark.parametrize("role", ["hiring_manager", "interviewer", "outsider"])
def test_other_roles_may_not_write_templates(all_users, role, make_template):
    template = make_template()
    user = all_users[role]

    with pytest.raises(PermissionDenied):
        message_template_create(actor=user, data={"name": "Mine", "channel": "sms", "body": "Hi"})
    with pytest.raises(PermissionDenied):
        message_template_update(actor=user, template=template, data={"body": "Changed"})
    with pytest.raises(PermissionDenied):
        message_template_delete(actor=user, template=template)
