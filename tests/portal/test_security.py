"""Every portal URL: only the signed-in person's own data (an IDOR test per URL), CSRF on every form, and portal
and staff sessions kept apart."""

import json

import pytest
from django.test import Client

from rapport.messaging.models import Message
from rapport.messaging.selectors import merge_context
from rapport.pipeline.models import ApplicationStatus
from rapport.portal.services import portal_message_send
from rapport.privacy.models import Consent, DeletionRequest
from rapport.privacy.services import consent_record
from tests.portal.conftest import sign_in

# Every page behind sign-in that shows data (GET) and every action (POST), with {app}/{consent} filled in later.
PAGES = ["/portal/home/", "/portal/messages/", "/portal/privacy/", "/portal/privacy/export/", "/portal/preferences/"]
ACTIONS = [
    "/portal/applications/{app}/withdraw/",
    "/portal/privacy/consents/{consent}/withdraw/",
    "/portal/privacy/delete/",
    "/portal/messages/",
    "/portal/preferences/",
    "/portal/sign-out/",
]


@pytest.fixture
def victim(other_person):
    """Alan, with something on every portal page: a message, a consent and a phone-free profile."""
    portal_message_send(candidate=other_person, text="Alan's private question about salary")
    consent_record(candidate=other_person, purpose="talent_community", source="careers")
    return other_person


@pytest.mark.parametrize("url", PAGES)
def test_person_a_never_sees_person_b_on_any_page(portal_client, victim, url):
    response = portal_client.get(url)

    assert response.status_code == 200
    body = response.content.decode()
    for secret in ["Alan", "Turing", "alan@example.org", "salary", "talent_community", "Talent_community"]:
        assert secret not in body


def test_the_export_holds_only_the_signed_in_persons_data(portal_client, victim, person):
    data = json.loads(portal_client.get("/portal/privacy/export/").content)

    assert data["emails"] == ["grace@example.org"]
    assert data["messages"] == [] and data["consents"] == []
    assert "Alan" not in json.dumps(data)


def test_person_a_cannot_withdraw_person_bs_application(portal_client, victim):
    theirs = victim.applications.get()

    response = portal_client.post(f"/portal/applications/{theirs.pk}/withdraw/")

    theirs.refresh_from_db()
    assert response.status_code == 404
    assert theirs.status == ApplicationStatus.ACTIVE


def test_person_a_cannot_withdraw_person_bs_consent(portal_client, victim):
    theirs = Consent.objects.get(candidate=victim)

    response = portal_client.post(f"/portal/privacy/consents/{theirs.pk}/withdraw/")

    theirs.refresh_from_db()
    assert response.status_code == 404
    assert theirs.withdrawn_at is None


@pytest.mark.parametrize("bad_id", ["0", "99999999999999999999999"])
def test_unknown_ids_are_404(portal_client, bad_id):
    assert portal_client.post(f"/portal/applications/{bad_id}/withdraw/").status_code == 404
    assert portal_client.post(f"/portal/privacy/consents/{bad_id}/withdraw/").status_code == 404


def test_messages_deletion_requests_and_preferences_act_only_for_the_signed_in_person(portal_client, victim, person):
    portal_client.post("/portal/messages/", {"text": "Grace writing"})
    portal_client.post("/portal/privacy/delete/")
    portal_client.post("/portal/preferences/", {"preferred_channel": "sms"})

    assert Message.objects.get(text="Grace writing").candidate_id == person.pk
    assert list(DeletionRequest.objects.values_list("candidate_id", flat=True)) == [person.pk]
    victim.refresh_from_db()
    assert victim.preferred_channel == "email"


@pytest.mark.parametrize("url", PAGES)
def test_signed_out_visitors_are_sent_to_sign_in(db, url):
    response = Client().get(url)

    assert response.status_code == 302 and response.url == "/portal/"


def test_signed_out_visitors_cannot_act(person):
    application = person.applications.get()
    client = Client()

    for url in ACTIONS[:-1]:
        response = client.post(url.format(app=application.pk, consent=1), {"text": "x", "preferred_channel": "sms"})
        assert response.status_code == 302 and response.url == "/portal/"
    assert not Message.objects.exists() and not DeletionRequest.objects.exists()


def test_a_staff_sign_in_grants_no_portal_access(recruiter, person):
    client = Client()
    client.force_login(recruiter)

    for url in PAGES:
        assert client.get(url).url == "/portal/"


def test_a_portal_sign_in_grants_no_workspace_access(portal_client, person):
    for url in ["/", f"/candidates/{person.pk}/", "/inbox/", "/portal/admin/deletion-requests/"]:
        response = portal_client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response.url
    assert portal_client.get("/api/v1/candidates").status_code == 401


def test_signing_in_to_the_portal_changes_the_session_key(person):
    client = Client()
    client.get("/portal/")
    client.session.save()
    before = client.cookies["sessionid"].value if "sessionid" in client.cookies else None

    sign_in(client, "grace@example.org")

    assert client.cookies["sessionid"].value != before


def test_every_portal_form_needs_the_csrf_token(portal_client, person):
    application = person.applications.get()
    consent = consent_record(candidate=person, purpose="job_alerts", source="careers")
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = portal_client.cookies

    assert strict.get("/portal/home/").status_code == 200  # the same signed-in session
    for url in ACTIONS:
        response = strict.post(url.format(app=application.pk, consent=consent.pk), {"text": "x"})
        assert response.status_code == 403, url
    assert Client(enforce_csrf_checks=True).post("/portal/", {"email": "grace@example.org"}).status_code == 403
    signed_link = merge_context(candidate=person)["portal_link"].split("/portal/link/")[1]
    assert Client(enforce_csrf_checks=True).post(f"/portal/link/{signed_link}").status_code == 403
    application.refresh_from_db()
    consent.refresh_from_db()
    assert application.status == ApplicationStatus.ACTIVE and consent.withdrawn_at is None


def test_every_portal_page_is_never_cached(portal_client):
    for url in PAGES:
        assert "no-store" in portal_client.get(url)["Cache-Control"]
