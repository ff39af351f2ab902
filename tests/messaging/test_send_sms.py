"""Writing to one person by SMS or WhatsApp: `message_send`, the API and the profile's compose panel, with the
checks that apply to text (a phone number, 1,600 characters, the channel's own suppressions) and who may send."""

import pytest
from django.test import Client

from rapport.candidates.models import RelationshipStatus
from rapport.candidates.services import candidate_update
from rapport.common.errors import ValidationFailed
from rapport.messaging.models import Message, MessageStatus
from rapport.messaging.services import MAX_TEXT, message_bulk_send, message_send, outbox_deliver_due, suppression_add
from rapport.timeline.models import Activity
from tests.api.conftest import error_of
from tests.factories import make_candidate
from tests.messaging.channels.sms.fake_twilio import FakeTwilio, make_texter, point_settings_at, signed_post
from tests.messaging.conftest import free_port

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def twilio(settings):
    server = FakeTwilio(free_port())
    server.start()
    point_settings_at(settings, server)
    yield server
    server.stop()


@pytest.fixture
def texter(recruiter):
    return make_texter(recruiter)


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- message_send ---------------------------------------------------------------------------------------------------


def test_an_sms_is_plain_text_to_the_first_phone_number(recruiter, texter):
    message = message_send(
        actor=recruiter, candidate=texter, channel="sms", subject="Ignored", body="Hi **{{ candidate.first_name }}**"
    )

    assert message.status == MessageStatus.QUEUED and message.channel == "sms"
    assert message.to_address == "+14155550101"
    assert message.subject == "" and message.html == "" and message.from_header == ""
    assert message.text.strip() == "Hi **Grace**"
    queued = Activity.objects.get(candidate=texter, type="message.queued")
    assert queued.payload["channel"] == "sms" and queued.payload["message_id"] == message.pk


def test_an_sms_template_is_sent_in_the_persons_language(recruiter, make_template):
    person = make_candidate(actor=recruiter, first_name="Marie", phones=["+33612345678"], language="fr")
    template = make_template(
        channel="sms",
        subject="",
        body="Hi {{ candidate.first_name }}",
        language="en",
        variants=[{"language": "fr", "body": "Salut {{ candidate.first_name }}"}],
    )

    message = message_send(actor=recruiter, candidate=person, template=template, channel="sms")

    assert message.text.strip() == "Salut Marie" and message.template == template


def test_an_email_template_cannot_go_by_sms(recruiter, texter, make_template):
    with pytest.raises(ValidationFailed) as caught:
        message_send(actor=recruiter, candidate=texter, template=make_template(), channel="sms")

    assert "template_id" in caught.value.fields
    assert not Message.objects.exists()


def test_a_person_without_a_phone_number_is_refused_by_name(recruiter, person):
    with pytest.raises(ValidationFailed) as caught:
        message_send(actor=recruiter, candidate=person, body="Hi", channel="whatsapp")

    assert caught.value.fields == {"candidate_id": ["Grace Hopper has no phone number. Add one first."]}
    assert not Message.objects.exists()


def test_a_text_longer_than_twilio_takes_is_refused_with_its_length(recruiter, texter):
    body = "{{ candidate.first_name }} " + "x" * (MAX_TEXT - 3)

    with pytest.raises(ValidationFailed) as caught:
        message_send(actor=recruiter, candidate=texter, body=body, channel="sms")

    (problem,) = caught.value.fields["body"]
    assert f"{MAX_TEXT + 3:,} characters" in problem and "1,600" in problem
    assert not Message.objects.exists()
    # Exactly at the limit it goes.
    assert message_send(actor=recruiter, candidate=texter, body="x" * MAX_TEXT, channel="sms").text.strip()


def test_suppressions_apply_per_channel(recruiter, texter):
    suppression_add(address="+14155550101", channel="sms", reason="unsubscribed", candidate=texter)

    with pytest.raises(ValidationFailed) as caught:
        message_send(actor=recruiter, candidate=texter, body="Hi", channel="sms")

    assert "suppression list" in caught.value.fields["candidate_id"][0]
    assert message_send(actor=recruiter, candidate=texter, body="Hi", channel="whatsapp").channel == "whatsapp"


def test_do_not_contact_applies_to_text_too(recruiter, texter):
    candidate_update(actor=recruiter, candidate=texter, data={"relationship_status": RelationshipStatus.DO_NOT_CONTACT})

    with pytest.raises(ValidationFailed) as caught:
        message_send(actor=recruiter, candidate=texter, body="Hi", channel="sms")

    assert "do not contact" in caught.value.fields["candidate_id"][0]


def test_a_bulk_sms_goes_to_people_with_a_phone_and_skips_the_others(recruiter, texter, person, make_template):
    template = make_template(channel="sms", subject="", body="Hi {{ candidate.first_name }}, a quick question")
    with_phone = make_candidate(actor=recruiter, first_name="Alan", phones=["+14155550102"])

    bulk = message_bulk_send(
        actor=recruiter, template=template, candidate_ids=[with_phone.pk, person.pk], channel="sms"
    )

    assert bulk.queued == 1
    assert bulk.skipped == [{"candidate_id": person.pk, "name": "Grace Hopper", "reason": "No phone number."}]
    message = Message.objects.get()
    assert (message.to_address, message.channel, message.kind) == ("+14155550102", "sms", "bulk")
    assert message.text.strip() == "Hi Alan, a quick question" and message.html == ""


# --- API ------------------------------------------------------------------------------------------------------------


def test_the_api_sends_an_sms_that_the_worker_hands_to_twilio(api_as, recruiter, texter, twilio):
    api = api_as(recruiter)

    response = api.post("/messages", {"candidate_id": str(texter.pk), "channel": "sms", "body": "Hello!"})

    assert response.status_code == 202 and response.json()["status"] == "queued"
    outbox_deliver_due()
    detail = api.get(f"/messages/{response.json()['id']}").json()
    assert detail["channel"] == "sms" and detail["status"] == "sent" and detail["subject"] == ""
    assert detail["body_text"].strip() == "Hello!" and detail["to_address"] == "+14155550101"
    assert twilio.forms[0]["Body"] == "Hello!"


def test_api_errors_for_text_use_the_error_format(api_as, recruiter, person, texter):
    api = api_as(recruiter)

    no_phone = api.post("/messages", {"candidate_id": str(person.pk), "channel": "sms", "body": "Hi"})
    too_long = api.post("/messages", {"candidate_id": str(texter.pk), "channel": "sms", "body": "x" * 1601})

    assert no_phone.status_code == 422
    assert error_of(no_phone)["fields"]["candidate_id"] == ["Grace Hopper has no phone number. Add one first."]
    assert too_long.status_code == 422 and "body" in error_of(too_long)["fields"]
    assert not Message.objects.exists()


def test_the_bulk_api_takes_the_sms_channel(api_as, recruiter, texter, make_template):
    template = make_template(channel="sms", subject="", body="Hi")

    response = api_as(recruiter).post(
        "/messages/bulk", {"template_id": template.pk, "candidate_ids": [texter.pk], "channel": "sms"}
    )

    assert response.status_code == 202 and response.json()["queued"] == 1
    assert Message.objects.get().to_address == "+14155550101"


@pytest.fixture
def applicant_with_phone(world):
    candidate_update(actor=world["recruiter"], candidate=world["applicant"], data={"phones": ["+14155550103"]})
    return world["applicant"]


@pytest.mark.parametrize(("role", "status"), [("recruiter", 202), ("interviewer", 403), ("outsider", 404)])
def test_only_roles_that_message_may_send_an_sms_through_the_api(api_as, world, applicant_with_phone, role, status):
    response = api_as(world[role]).post(
        "/messages", {"candidate_id": str(applicant_with_phone.pk), "channel": "sms", "body": "Hi"}
    )

    assert response.status_code == status
    assert Message.objects.count() == (1 if status == 202 else 0)


@pytest.mark.parametrize(("role", "status"), [("recruiter", 200), ("interviewer", 403), ("outsider", 404)])
def test_only_roles_that_message_may_send_an_sms_from_the_profile(world, applicant_with_phone, role, status):
    response = _client(world[role]).post(
        f"/messages/to/{applicant_with_phone.pk}/send/",
        {"channel": "sms", "body": "Hi", "action": "send"},
        **HTMX,
    )

    assert response.status_code == status
    assert Message.objects.filter(channel="sms").count() == (1 if status == 200 else 0)


# --- the compose panel ----------------------------------------------------------------------------------------------


def test_the_panel_offers_the_preferred_channel_when_the_person_has_its_address(recruiter):
    texts = make_candidate(
        actor=recruiter, first_name="Ada", emails=["ada@example.org"], phones=["+14155550104"], preferred_channel="sms"
    )
    no_phone = make_candidate(actor=recruiter, first_name="Bo", emails=["bo@example.org"], preferred_channel="sms")
    client = _client(recruiter)

    texts_page = client.get(f"/messages/to/{texts.pk}/compose/").content.decode()
    email_page = client.get(f"/messages/to/{no_phone.pk}/compose/").content.decode()

    assert '<option value="sms" selected>SMS</option>' in texts_page
    assert 'name="subject" value=""' in texts_page and 'id="id_subject"' not in texts_page
    assert '<option value="email" selected>Email</option>' in email_page and 'id="id_subject"' in email_page


def test_changing_the_channel_offers_that_channels_templates(recruiter, texter, make_template):
    make_template(name="Email hello")
    make_template(name="Text hello", channel="sms", subject="", body="Hi by text")

    response = _client(recruiter).post(
        f"/messages/to/{texter.pk}/prefill/",
        {"channel": "sms", "template": "", "subject": "Hello", "body": "Draft"},
        HTTP_HX_TRIGGER_NAME="channel",
        **HTMX,
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert "Text hello" in body and "Email hello" not in body
    assert "Draft" in body and 'id="id_subject"' not in body


def test_picking_an_sms_template_fills_in_its_text(recruiter, texter, make_template):
    template = make_template(name="Text hello", channel="sms", subject="", body="Hi {{ candidate.first_name }} by text")

    response = _client(recruiter).post(
        f"/messages/to/{texter.pk}/prefill/", {"channel": "sms", "template": template.pk, "body": ""}, **HTMX
    )

    assert "Hi {{ candidate.first_name }} by text" in response.content.decode()


def test_the_sms_preview_is_the_text_with_its_length(recruiter, texter):
    response = _client(recruiter).post(
        f"/messages/to/{texter.pk}/preview/",
        {"channel": "sms", "subject": "{{ nope", "body": "Hi {{ candidate.first_name }}"},
    )

    body = response.content.decode()
    assert "data-preview-text" in body and "Hi Grace" in body and "characters" in body
    assert "data-preview-subject" not in body and "<iframe" not in body


def test_sending_an_sms_from_the_panel_queues_it(recruiter, texter):
    response = _client(recruiter).post(
        f"/messages/to/{texter.pk}/send/",
        {"channel": "sms", "subject": "", "body": "Hi {{ candidate.first_name }}", "action": "send"},
        **HTMX,
    )

    assert response.status_code == 200
    message = Message.objects.get()
    assert (message.channel, message.to_address, message.text.strip()) == ("sms", "+14155550101", "Hi Grace")


def test_the_panel_says_when_the_person_has_no_phone(recruiter, person):
    response = _client(recruiter).post(
        f"/messages/to/{person.pk}/send/", {"channel": "whatsapp", "body": "Hi", "action": "send"}, **HTMX
    )

    assert response.status_code == 422
    assert "Grace Hopper has no phone number. Add one first." in response.content.decode()
    assert not Message.objects.exists()


def test_a_text_the_person_sent_is_listed_by_the_api(api_as, recruiter, texter, twilio):
    signed_post(
        Client(),
        "/hooks/twilio/inbound",
        {"MessageSid": "SM" + "4" * 32, "From": "+14155550101", "To": "+14155550100", "Body": "Sounds good"},
    )

    response = api_as(recruiter).get("/messages", {"candidate_id": str(texter.pk)})

    assert response.status_code == 200
    (item,) = response.json()["items"]
    assert (item["direction"], item["status"], item["channel"]) == ("inbound", "received", "sms")
    assert item["body_text"] == "Sounds good"
