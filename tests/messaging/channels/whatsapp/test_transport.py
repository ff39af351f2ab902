"""WhatsApp's 24-hour window at send time: inside it the text goes as written; outside it the template's approved
WhatsApp template goes (ContentSid + ContentVariables filled in per person), and without one the message fails at
once with the reason, before Twilio is called. Checked against what a fake Twilio on loopback received."""

import json
from datetime import timedelta

from django.utils import timezone

from rapport.messaging.channels.whatsapp.services import message_template_save
from rapport.messaging.models import Message, MessageStatus
from rapport.messaging.services import message_send, outbox_deliver_due
from rapport.messaging.services_inbound import message_receive
from rapport.timeline.models import Activity
from tests.factories import make_job
from tests.messaging.channels.sms.fake_twilio import WHATSAPP_FROM

SID = "HX" + "fedcba9876543210" * 2
BODY = "Hi {{ candidate.first_name }}, are you still interested in the {{ job.title }} role?"


def _template(recruiter, **data):
    fields = {
        "name": "Check-in",
        "channel": "whatsapp",
        "category": "outreach",
        "body": BODY,
        "whatsapp_content_sid": SID,
        "whatsapp_variables": {"1": "candidate.first_name", "2": "job.title"},
        **data,
    }
    return message_template_save(actor=recruiter, template=None, data=fields)


def _wrote_to_us(person, *, hours_ago: float, channel="whatsapp", number="+14155550101"):
    message = message_receive(candidate=person, channel=channel, from_address=number, text="Hello!")
    Message.objects.filter(pk=message.pk).update(created_at=timezone.now() - timedelta(hours=hours_ago))


def _send(recruiter, person, template, job=None):
    message = message_send(actor=recruiter, candidate=person, template=template, job=job, channel="whatsapp")
    outbox_deliver_due()
    message.refresh_from_db()
    return message


def test_inside_the_window_the_text_is_sent_free_form(recruiter, texter, twilio):
    job = make_job(actor=recruiter, title="Backend engineer")
    _wrote_to_us(texter, hours_ago=23)

    message = _send(recruiter, texter, _template(recruiter), job)

    (form,) = twilio.forms
    assert form["Body"] == "Hi Grace, are you still interested in the Backend engineer role?"
    assert "ContentSid" not in form and "ContentVariables" not in form
    assert form["To"] == "whatsapp:+14155550101" and form["From"] == f"whatsapp:{WHATSAPP_FROM}"
    assert message.status == MessageStatus.SENT


def test_outside_the_window_the_approved_template_is_sent_with_the_persons_values(recruiter, texter, twilio):
    job = make_job(actor=recruiter, title="Backend engineer")
    _wrote_to_us(texter, hours_ago=25)

    message = _send(recruiter, texter, _template(recruiter), job)

    (form,) = twilio.forms
    assert form["ContentSid"] == SID and "Body" not in form
    assert json.loads(form["ContentVariables"]) == {"1": "Grace", "2": "Backend engineer"}
    assert form["To"] == "whatsapp:+14155550101" and form["From"] == f"whatsapp:{WHATSAPP_FROM}"
    assert form["StatusCallback"].endswith("/hooks/twilio/status")
    # The thread shows what was said.
    assert message.status == MessageStatus.SENT and message.provider_message_id.startswith("SM")
    assert message.text.strip() == "Hi Grace, are you still interested in the Backend engineer role?"


def test_a_first_message_to_someone_who_never_wrote_goes_as_the_approved_template(recruiter, texter, twilio):
    template = _template(recruiter, whatsapp_variables={"1": "candidate.full_name"}, body="Hello")

    _send(recruiter, texter, template)

    assert json.loads(twilio.forms[0]["ContentVariables"]) == {"1": "Grace Hopper"}


def test_an_sms_or_a_message_from_another_number_does_not_open_the_window(recruiter, texter, twilio):
    job = make_job(actor=recruiter, title="Backend engineer")
    _wrote_to_us(texter, hours_ago=1, channel="sms")
    _wrote_to_us(texter, hours_ago=1, number="+14155550999")

    _send(recruiter, texter, _template(recruiter), job)

    assert twilio.forms[0]["ContentSid"] == SID


def test_outside_the_window_without_an_approved_template_it_fails_before_calling_twilio(recruiter, texter, twilio):
    template = _template(recruiter, whatsapp_content_sid="", whatsapp_variables={}, body="Hello")

    message = _send(recruiter, texter, template)

    assert not twilio.requests
    assert message.status == MessageStatus.FAILED
    assert "outside WhatsApp's 24-hour window; this template has no approved WhatsApp template" in message.last_error
    failed = Activity.objects.get(candidate=texter, type="message.failed")
    assert "24-hour window" in failed.payload["reason"]


def test_outside_the_window_a_message_without_a_template_fails_with_the_reason(recruiter, texter, twilio):
    message = message_send(actor=recruiter, candidate=texter, body="Quick question", channel="whatsapp")
    outbox_deliver_due()

    message.refresh_from_db()
    assert not twilio.requests and message.status == MessageStatus.FAILED
    assert "outside WhatsApp's 24-hour window" in message.last_error and "approved" in message.last_error


def test_a_variable_that_cannot_be_filled_fails_naming_it_before_calling_twilio(recruiter, texter, twilio):
    # The body needs no job, but the approved template's second variable does.
    template = _template(recruiter, body="Hi {{ candidate.first_name }}")

    message = _send(recruiter, texter, template)

    assert not twilio.requests and message.status == MessageStatus.FAILED
    assert message.last_error.startswith("WhatsApp template variable 2 (job.title)")


def test_a_variable_empty_for_this_person_fails_before_calling_twilio(recruiter, texter, twilio):
    template = _template(recruiter, body="Hi", whatsapp_variables={"1": "candidate.current_company"})

    message = _send(recruiter, texter, template)

    assert not twilio.requests and message.status == MessageStatus.FAILED
    assert "variable 1 (candidate.current_company) is empty" in message.last_error
