"""What a signed-in person sees and does: status in public words, withdrawing, the two-way messages (which reach the
recruiter's thread and inbox), and preferences."""

import re

import pytest
from django.core import mail
from django.test import Client

from rapport.candidates.models import Candidate
from rapport.messaging.models import Message, MessageStatus, Suppression
from rapport.messaging.selectors_inbox import inbox_list
from rapport.messaging.selectors_thread import candidate_thread
from rapport.messaging.services import message_send, outbox_deliver_due
from rapport.pipeline.models import ApplicationStatus, RejectionReason
from rapport.pipeline.services import application_move, application_reject, rejection_reasons_ensure
from rapport.portal.services import PORTAL_MESSAGE_MAX_CHARS, PORTAL_MESSAGES_PER_HOUR
from rapport.timeline.models import Activity
from rapport.timeline.services import note_add


def _application(person):
    return person.applications.get()


def _stage(application, category):
    return application.job.stages.get(category=category)


def test_home_shows_each_application_in_public_words_with_what_happens_next(portal_client, person, recruiter):
    application = _application(person)
    application_move(actor=recruiter, application=application, stage=_stage(application, "screening"))
    application_move(actor=recruiter, application=application, stage=_stage(application, "interview"))

    page = portal_client.get("/portal/home/").content.decode()

    assert "Backend Engineer" in page
    assert '<span class="portal-status" data-status>Interviewing</span>' in page
    assert "What happens next" in page and "interview stage" in page
    assert "Under review" in page and "Application received" in page
    assert "Upcoming interviews" in page


def test_internal_stage_names_notes_and_rejection_reasons_never_reach_the_portal(portal_client, person, recruiter):
    application = _application(person)
    stage = _stage(application, "screening")
    stage.name = "Call with Sam (weak on SQL?)"
    stage.save()
    application_move(actor=recruiter, application=application, stage=stage)
    note_add(actor=recruiter, candidate=person, body="Salary expectations too high, keep warm")
    rejection_reasons_ensure()
    reason = RejectionReason.objects.first()
    application_reject(actor=recruiter, application=application, reason_id=reason.pk, note="Not senior enough")

    page = portal_client.get("/portal/home/").content.decode()

    assert "Not moving forward" in page
    for secret in ["weak on SQL", "Salary expectations", "Not senior enough", reason.name]:
        assert secret not in page


def test_a_person_withdraws_their_own_application(portal_client, person):
    application = _application(person)

    response = portal_client.post(f"/portal/applications/{application.pk}/withdraw/")

    application.refresh_from_db()
    assert response.status_code == 302
    assert application.status == ApplicationStatus.WITHDRAWN
    event = Activity.objects.get(candidate=person, type="application.withdrawn")
    assert event.actor is None
    page = portal_client.get("/portal/home/").content.decode()
    assert '<span class="portal-status" data-status>Withdrawn</span>' in page
    assert "Withdraw this application" not in page


def test_withdrawing_twice_says_so_instead_of_failing(portal_client, person):
    application = _application(person)
    portal_client.post(f"/portal/applications/{application.pk}/withdraw/")

    response = portal_client.post(f"/portal/applications/{application.pk}/withdraw/", follow=True)

    assert response.status_code == 200
    assert "already withdrawn" in response.content.decode()


def test_a_person_with_no_applications_is_told_what_the_page_is_for(recruiter):
    from django.test import Client

    from tests.factories import make_candidate
    from tests.portal.conftest import sign_in

    make_candidate(actor=recruiter, first_name="Lin", emails=["lin@example.org"])
    client = sign_in(Client(), "lin@example.org")

    assert "No applications yet" in client.get("/portal/home/").content.decode()


def test_messages_show_what_reached_the_person_and_what_they_wrote_oldest_first(portal_client, person, recruiter):
    message_send(actor=recruiter, candidate=person, subject="Next steps", body="Are you free on Tuesday?")
    outbox_deliver_due()
    message_send(actor=recruiter, candidate=person, subject="Draft", body="Still queued", send_at=None)
    Message.objects.filter(subject="Draft").update(status=MessageStatus.QUEUED)

    portal_client.post("/portal/messages/", {"text": "Tuesday works for me."})
    page = portal_client.get("/portal/messages/").content.decode()

    assert "Are you free on Tuesday?" in page
    assert "Unsubscribe:" not in page  # the email's footer; Preferences does that job here
    assert "Still queued" not in page
    assert page.index("Are you free on Tuesday?") < page.index("Tuesday works for me.")


def test_a_portal_message_reaches_the_recruiters_thread_and_inbox(portal_client, person, recruiter):
    message_send(actor=recruiter, candidate=person, subject="Next steps", body="Are you free on Tuesday?")
    outbox_deliver_due()

    response = portal_client.post("/portal/messages/", {"text": "Tuesday works <b>for me</b>."})

    assert response.status_code == 302
    stored = Message.objects.get(direction="inbound")
    assert stored.text == "Tuesday works <b>for me</b>." and stored.html == ""
    assert stored.to_address == "portal" and stored.subject == "Message from the portal"
    assert stored.in_reply_to == Message.objects.get(direction="outbound").message_id
    assert [m.pk for m in inbox_list(user=recruiter, view="mine").items] == [stored.pk]
    thread = candidate_thread(user=recruiter, candidate=person)
    assert stored.pk in [item.pk for item in thread.items if item.kind == "message"]
    assert Activity.objects.filter(candidate=person, type="message.received").exists()
    # Shown to the person as text, never as markup.
    assert "Tuesday works &lt;b&gt;for me&lt;/b&gt;." in portal_client.get("/portal/messages/").content.decode()


def test_an_empty_or_too_long_message_is_named_on_the_field(portal_client):
    empty = portal_client.post("/portal/messages/", {"text": "   "})
    too_long = portal_client.post("/portal/messages/", {"text": "x" * (PORTAL_MESSAGE_MAX_CHARS + 1)})

    assert empty.status_code == too_long.status_code == 422
    assert "Write a message first." in empty.content.decode()
    assert f"under {PORTAL_MESSAGE_MAX_CHARS} characters" in too_long.content.decode()
    assert not Message.objects.exists()


def test_portal_messages_are_rate_limited(portal_client):
    for n in range(PORTAL_MESSAGES_PER_HOUR):
        assert portal_client.post("/portal/messages/", {"text": f"Message {n}"}).status_code == 302

    refused = portal_client.post("/portal/messages/", {"text": "One more"})

    assert refused.status_code == 429
    assert "wait a little" in refused.content.decode()
    assert Message.objects.count() == PORTAL_MESSAGES_PER_HOUR


def test_preferences_save_channel_language_and_opt_outs(portal_client, person):
    page = portal_client.get("/portal/preferences/").content.decode()
    assert "Text messages" not in page  # no phone number on file: nothing to switch off

    response = portal_client.post("/portal/preferences/", {"preferred_channel": "sms", "language": "fr"})

    assert response.status_code == 302
    person = Candidate.objects.get(pk=person.pk)
    assert (person.preferred_channel, person.language) == ("sms", "fr")
    assert Suppression.objects.filter(address="grace@example.org", channel="email", reason="unsubscribed").exists()
    assert Activity.objects.filter(candidate=person, type="candidate.unsubscribed").exists()

    portal_client.post("/portal/preferences/", {"preferred_channel": "email", "language": "", "email": "on"})

    assert not Suppression.objects.filter(address="grace@example.org").exists()


def test_a_birthday_greeting_is_a_consent_the_person_gives_and_takes_back(portal_client, person):
    from rapport.automation.defaults import BIRTHDAY_CONSENT
    from rapport.privacy.models import Consent

    portal_client.post(
        "/portal/preferences/", {"preferred_channel": "email", "email": "on", "birthday_greetings": "on"}
    )

    given = Consent.objects.get(candidate=person, purpose=BIRTHDAY_CONSENT)
    assert given.withdrawn_at is None and given.source == "portal preferences"
    page = portal_client.get("/portal/preferences/").content.decode()
    box = re.search(r'<input[^>]*name="birthday_greetings"[^>]*>', page).group(0)
    assert " checked" in box

    # Saving again with it ticked keeps the one consent; unticking withdraws it, and the history stays.
    portal_client.post(
        "/portal/preferences/", {"preferred_channel": "email", "email": "on", "birthday_greetings": "on"}
    )
    assert Consent.objects.filter(candidate=person, purpose=BIRTHDAY_CONSENT).count() == 1
    portal_client.post("/portal/preferences/", {"preferred_channel": "email", "email": "on"})

    given.refresh_from_db()
    assert given.withdrawn_at is not None
    assert Activity.objects.filter(candidate=person, type="consent.withdrawn").exists()


def test_how_often_we_may_write_is_saved_and_a_made_up_choice_is_named(portal_client, person):
    from rapport.portal.models import PortalPreferences

    response = portal_client.post(
        "/portal/preferences/", {"preferred_channel": "email", "email": "on", "max_per_week": "1"}
    )

    assert response.status_code == 302
    assert PortalPreferences.objects.get(candidate=person).max_per_week == 1
    refused = portal_client.post(
        "/portal/preferences/", {"preferred_channel": "email", "email": "on", "max_per_week": "50"}
    )
    assert refused.status_code in (200, 422)
    assert 'id="id_max_per_week_error"' in refused.content.decode()
    assert PortalPreferences.objects.get(candidate=person).max_per_week == 1
    portal_client.post("/portal/preferences/", {"preferred_channel": "email", "email": "on", "max_per_week": ""})
    assert PortalPreferences.objects.get(candidate=person).max_per_week is None


def test_opting_back_in_never_undoes_a_bounce(portal_client, person):
    from rapport.messaging.services import suppression_add

    suppression_add(address="grace@example.org", channel="email", reason="hard_bounce")

    portal_client.post("/portal/preferences/", {"preferred_channel": "email", "email": "on"})

    assert Suppression.objects.filter(address="grace@example.org", reason="hard_bounce").exists()


@pytest.mark.parametrize("data", [{"preferred_channel": "pigeon"}, {"preferred_channel": "email", "language": "xx"}])
def test_invalid_preferences_are_named_on_the_field(portal_client, data):
    response = portal_client.post("/portal/preferences/", data)

    assert response.status_code == 422
    assert "field__error" in response.content.decode()


def test_the_sign_in_mail_is_not_in_the_outbox_or_the_thread(person):
    from django.test import Client

    Client().post("/portal/", {"email": "grace@example.org"})

    assert len(mail.outbox) == 1
    assert not Message.objects.exists()


def test_a_stage_with_its_own_public_label_shows_it_and_keeps_the_next_steps(portal_client, person, recruiter):
    application = _application(person)
    stage = _stage(application, "interview")
    staff = Client()
    staff.force_login(recruiter)

    response = staff.post(
        f"/jobs/{application.job_id}/stages/{stage.pk}/public-label/", {"public_label": "  Meeting   the team "}
    )
    application_move(actor=recruiter, application=application, stage=stage)
    page = portal_client.get("/portal/home/").content.decode()

    assert response.status_code == 302
    assert '<span class="portal-status" data-status>Meeting the team</span>' in page
    assert "interview stage" in page  # what happens next still follows the category


def test_a_too_long_public_label_is_refused_with_the_reason(person, recruiter):
    application = _application(person)
    stage = _stage(application, "interview")
    staff = Client()
    staff.force_login(recruiter)

    response = staff.post(f"/jobs/{application.job_id}/stages/{stage.pk}/public-label/", {"public_label": "x" * 61})

    stage.refresh_from_db()
    assert response.status_code == 422
    assert "at most 60 characters" in response.content.decode()
    assert stage.public_label == ""


def test_only_those_who_manage_jobs_set_public_labels(person, hiring_manager):
    application = _application(person)
    stage = _stage(application, "interview")
    staff = Client()
    staff.force_login(hiring_manager)

    response = staff.post(f"/jobs/{application.job_id}/stages/{stage.pk}/public-label/", {"public_label": "Chat"})

    stage.refresh_from_db()
    assert response.status_code in (403, 404)
    assert stage.public_label == ""
