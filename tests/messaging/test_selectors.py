"""Template reads: who sees templates, the merge context built for a person, and previews within scope."""

import pytest

from rapport.candidates.services import candidate_erase, custom_field_create
from rapport.common.errors import NotFound, ValidationFailed
from rapport.messaging.rendering import Record, field_value
from rapport.messaging.selectors import (
    merge_context,
    message_template_get_for_user,
    message_template_list,
    message_template_preview,
)
from tests.factories import make_candidate


def test_admins_and_recruiters_see_templates_and_other_roles_none(all_users, make_template):
    template = make_template()

    for role in ("admin", "recruiter"):
        assert message_template_get_for_user(user=all_users[role], template_id=template.pk) == template
    for role in ("hiring_manager", "interviewer", "outsider"):
        assert not message_template_list(user=all_users[role]).exists()
        with pytest.raises(NotFound):
            message_template_get_for_user(user=all_users[role], template_id=template.pk)


def test_the_list_filters_by_channel_category_and_name(recruiter, make_template):
    email = make_template(name="Interview invite", category="interview")
    sms = make_template(name="Interview reminder", channel="sms", category="interview", subject="")
    make_template(name="Rejection", category="rejection")

    assert list(message_template_list(user=recruiter, channel="sms")) == [sms]
    assert set(message_template_list(user=recruiter, category="interview")) == {email, sms}
    assert list(message_template_list(user=recruiter, q="invite")) == [email]
    assert message_template_list(user=recruiter, channel="bogus").count() == 3


def test_the_merge_context_holds_plain_values_only(world, admin_user):
    custom_field_create(actor=admin_user, label="Notice period", field_type="text", key="notice_period")
    custom_field_create(actor=admin_user, label="Relocate", field_type="boolean", key="relocate")
    grace = world["applicant"]
    grace.custom_fields = {"relocate": True}
    grace.save()

    context = merge_context(candidate=grace, application=world["application"], sender=world["recruiter"])

    candidate = context["candidate"]
    assert isinstance(candidate, Record)
    assert field_value(candidate, "full_name") == "Grace Hopper"
    assert field_value(candidate, "email") == "grace@example.org"
    assert field_value(candidate["custom"], "notice_period") == ""
    assert field_value(candidate["custom"], "relocate") is True
    assert field_value(context["job"], "title") == "Platform Engineer"
    assert field_value(context["application"], "stage") == "Sourced"
    assert field_value(context["recruiter"], "name") == "Riley Recruiter"
    assert context["unsubscribe_link"].startswith("http")
    flat = [v for group in context.values() if isinstance(group, Record) for v in group]
    assert not any(hasattr(v, "_meta") for v in flat)


def test_a_preview_renders_for_a_person_and_job_in_scope(world, make_template):
    template = make_template(
        subject="{{ job.title }} at {{ company.name }}",
        body="Hi {{ candidate.first_name }}, you are in {{ application.stage }}.",
    )

    rendered = message_template_preview(
        user=world["recruiter"], template=template, candidate_id=world["applicant"].pk, job_id=world["job"].pk
    )

    assert rendered.subject.startswith("Platform Engineer at ")
    assert "you are in Sourced." in rendered.text
    assert "Grace" in rendered.html


def test_a_preview_without_a_job_explains_what_is_missing(world, make_template):
    template = make_template(body="{{ job.title }}")

    with pytest.raises(ValidationFailed) as caught:
        message_template_preview(user=world["recruiter"], template=template, candidate_id=world["applicant"].pk)

    assert "none was chosen" in caught.value.fields["body"][0]


def test_a_preview_against_someone_out_of_scope_is_not_found(world, make_template):
    template = make_template()
    candidate_erase(actor=world["admin"], candidate=world["bystander"])

    with pytest.raises(NotFound):
        message_template_preview(user=world["recruiter"], template=template, candidate_id=world["bystander"].pk)
    with pytest.raises(NotFound):
        # A hiring manager cannot preview against someone outside their jobs.
        message_template_preview(user=world["hiring_manager"], template=template, candidate_id=world["bystander"].pk)


def test_a_preview_with_someone_elses_application_is_refused(world, make_template):
    other = make_candidate(actor=world["recruiter"], first_name="Other")

    with pytest.raises(ValidationFailed) as caught:
        message_template_preview(
            user=world["recruiter"],
            template=make_template(),
            candidate_id=other.pk,
            application_id=world["application"].pk,
        )

    assert "application_id" in caught.value.fields
