"""Rejecting with "email the candidate": the rejection and its email are written together, or not at all."""

import pytest

from rapport.common.errors import ValidationFailed
from rapport.messaging.models import Message
from rapport.messaging.services import message_template_create
from rapport.pipeline.models import ApplicationStatus
from rapport.pipeline.services import application_create, application_reject
from rapport.timeline.models import Activity
from tests.factories import make_candidate, make_job


@pytest.fixture
def job(recruiter, hiring_manager):
    return make_job(actor=recruiter, title="Platform Engineer", hiring_manager_id=hiring_manager.pk)


@pytest.fixture
def application(recruiter, job):
    person = make_candidate(actor=recruiter, first_name="Grace", emails=["grace@example.org"])
    return application_create(actor=recruiter, candidate=person, job=job)


@pytest.fixture
def rejection_template(recruiter):
    return message_template_create(
        actor=recruiter,
        data={
            "name": "Kind rejection",
            "channel": "email",
            "category": "rejection",
            "subject": "Your application for {{ job.title }}",
            "body": "Dear {{ candidate.first_name }},\n\nThank you for your time.",
        },
    )


def test_notify_queues_the_rejection_email_for_the_person_and_job(recruiter, application, rejection_template):
    application_reject(actor=recruiter, application=application, notify=True, template_id=rejection_template.pk)

    application.refresh_from_db()
    message = Message.objects.get(candidate=application.candidate)
    assert application.status == ApplicationStatus.REJECTED
    assert (message.to_address, message.subject) == ("grace@example.org", "Your application for Platform Engineer")
    assert "Dear Grace" in message.text
    assert message.template_id == rejection_template.pk
    assert Activity.objects.filter(candidate=application.candidate, type="message.queued").exists()


def test_without_a_choice_the_first_rejection_template_is_used(recruiter, application, rejection_template):
    application_reject(actor=recruiter, application=application, notify=True)

    assert Message.objects.get(candidate=application.candidate).template_id == rejection_template.pk


def test_a_person_without_an_email_is_not_rejected_when_notify_is_asked(recruiter, job, rejection_template):
    silent = application_create(actor=recruiter, candidate=make_candidate(actor=recruiter, first_name="Ada"), job=job)

    with pytest.raises(ValidationFailed) as error:
        application_reject(actor=recruiter, application=silent, notify=True)

    silent.refresh_from_db()
    assert "no email address" in error.value.message
    assert silent.status == ApplicationStatus.ACTIVE
    assert not Activity.objects.filter(application=silent, type="application.rejected").exists()
    assert not Message.objects.exists()


def test_a_role_that_cannot_email_may_reject_but_not_notify(hiring_manager, application, rejection_template):
    with pytest.raises(ValidationFailed) as error:
        application_reject(actor=hiring_manager, application=application, notify=True)
    assert "notify" in error.value.fields
    application.refresh_from_db()
    assert application.status == ApplicationStatus.ACTIVE

    application_reject(actor=hiring_manager, application=application)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.REJECTED
    assert not Message.objects.exists()


def test_notify_with_no_rejection_template_names_the_field(recruiter, application, make_outreach_template):
    with pytest.raises(ValidationFailed) as error:
        application_reject(actor=recruiter, application=application, notify=True)
    assert "template_id" in error.value.fields

    with pytest.raises(ValidationFailed) as error:
        application_reject(actor=recruiter, application=application, notify=True, template_id=make_outreach_template.pk)
    assert "template_id" in error.value.fields
    application.refresh_from_db()
    assert application.status == ApplicationStatus.ACTIVE


@pytest.fixture
def make_outreach_template(recruiter):
    return message_template_create(
        actor=recruiter,
        data={"name": "Outreach", "channel": "email", "category": "outreach", "subject": "Hi", "body": "Hello"},
    )
