"""The privacy centre: consents and withdrawing them, the data export, and deletion requests confirmed by an admin."""

import json

import pytest
from django.core import mail
from django.test import Client

from rapport.candidates.models import Candidate, CandidateEmail
from rapport.common.errors import Conflict, PermissionDenied
from rapport.messaging.services import message_send, outbox_deliver_due
from rapport.pipeline.models import Application, RejectionReason
from rapport.pipeline.services import application_move, application_reject, rejection_reasons_ensure
from rapport.portal.models import PortalToken
from rapport.privacy.models import DeletionRequest, DeletionStatus
from rapport.privacy.services import (
    candidate_data_export,
    consent_record,
    consent_withdraw,
    deletion_request_confirm,
    deletion_request_create,
    deletion_request_decline,
)
from rapport.timeline.models import Activity
from rapport.timeline.services import note_add


def test_the_privacy_page_lists_each_consent_with_purpose_and_legal_basis(portal_client, person):
    consent_record(candidate=person, purpose="talent_community", source="careers", retention_days=365)

    page = portal_client.get("/portal/privacy/").content.decode()

    assert "Talent_community" in page
    assert "Legal basis: Consent" in page and "kept for 365 days" in page


def test_withdrawing_a_consent_keeps_the_row_and_records_the_event(portal_client, person):
    consent = consent_record(candidate=person, purpose="job_alerts", source="careers")

    response = portal_client.post(f"/portal/privacy/consents/{consent.pk}/withdraw/")

    consent.refresh_from_db()
    assert response.status_code == 302
    assert consent.withdrawn_at is not None
    event = Activity.objects.get(candidate=person, type="consent.withdrawn")
    assert event.payload["purpose"] == "job_alerts"
    assert "Withdrawn" in portal_client.get("/portal/privacy/").content.decode()


def test_withdrawing_twice_is_a_conflict(person):
    consent = consent_record(candidate=person, purpose="job_alerts", source="careers")
    consent_withdraw(candidate=person, consent=consent)

    with pytest.raises(Conflict):
        consent_withdraw(candidate=person, consent=consent)


def test_the_export_holds_profile_contacts_applications_messages_consents_and_events(person, recruiter):
    application = person.applications.get()
    application_move(actor=recruiter, application=application, stage=application.job.stages.get(category="screening"))
    message_send(actor=recruiter, candidate=person, subject="Hello", body="Thanks for applying")
    outbox_deliver_due()
    consent_record(candidate=person, purpose="recruitment", source="careers", notice_version="2026-01")

    data = candidate_data_export(candidate=person)

    assert data["format"] == "rapport.candidate-export/1"
    assert data["profile"]["first_name"] == "Grace" and data["profile"]["last_name"] == "Hopper"
    assert data["emails"] == ["grace@example.org"]
    assert data["applications"][0]["job"] == "Backend Engineer"
    assert data["applications"][0]["status"] == "Under review"
    assert [step["status"] for step in data["applications"][0]["history"]] == ["Application received", "Under review"]
    assert data["messages"][0]["text"].startswith("Thanks for applying")
    assert data["messages"][0]["direction"] == "to_you"
    assert data["consents"][0]["purpose"] == "recruitment" and data["consents"][0]["notice_version"] == "2026-01"
    assert {"candidate.created", "application.created", "consent.given"} <= {e["type"] for e in data["events"]}
    json.dumps(data)  # every value is plain JSON


def test_the_export_leaves_out_internal_notes_and_rejection_reasons(person, recruiter):
    note_add(actor=recruiter, candidate=person, body="Salary expectations too high")
    rejection_reasons_ensure()
    application_reject(
        actor=recruiter,
        application=person.applications.get(),
        reason_id=RejectionReason.objects.first().pk,
        note="Not senior enough",
    )

    text = json.dumps(candidate_data_export(candidate=person))

    assert "Salary expectations" not in text and "Not senior enough" not in text
    assert "note.added" not in text
    assert "Not moving forward" in text


def test_download_my_data_is_a_json_attachment(portal_client, person):
    response = portal_client.get("/portal/privacy/export/")

    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"] == 'attachment; filename="my-data.json"'
    assert json.loads(response.content)["profile"]["first_name"] == "Grace"


def test_requesting_deletion_records_one_waiting_request(portal_client, person):
    portal_client.post("/portal/privacy/delete/")
    portal_client.post("/portal/privacy/delete/")

    assert DeletionRequest.objects.filter(candidate=person, status=DeletionStatus.PENDING).count() == 1
    assert Activity.objects.filter(candidate=person, type="deletion.requested").count() == 1
    assert "An administrator will confirm it" in portal_client.get("/portal/privacy/").content.decode()


def test_an_admin_confirms_and_the_person_is_anonymised_but_the_application_stays(person, admin_user):
    request = deletion_request_create(candidate=person)

    deletion_request_confirm(actor=admin_user, deletion_request=request)

    request.refresh_from_db()
    person = Candidate.objects.get(pk=person.pk)
    assert request.status == DeletionStatus.ERASED and request.confirmed_by == admin_user
    assert person.erased_at is not None and person.first_name == "Erased person" and person.last_name == ""
    assert not CandidateEmail.objects.filter(candidate=person).exists()
    assert Application.objects.filter(candidate=person).count() == 1
    assert Activity.objects.filter(candidate=person, type="candidate.erased").exists()
    with pytest.raises(Conflict):
        deletion_request_confirm(actor=admin_user, deletion_request=request)


def test_a_recruiter_cannot_confirm_a_deletion(person, recruiter):
    request = deletion_request_create(candidate=person)

    with pytest.raises(PermissionDenied):
        deletion_request_confirm(actor=recruiter, deletion_request=request)
    with pytest.raises(PermissionDenied):
        deletion_request_decline(actor=recruiter, deletion_request=request)


def test_the_admin_page_confirms_a_request_and_the_person_is_signed_out_for_good(portal_client, person, admin_user):
    portal_client.post("/portal/privacy/delete/")
    request = DeletionRequest.objects.get()
    admin = Client()
    admin.force_login(admin_user)

    page = admin.get("/portal/admin/deletion-requests/").content.decode()
    response = admin.post(f"/portal/admin/deletion-requests/{request.pk}/confirm/")

    assert "Grace Hopper" in page and "Confirm and erase" in page
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == DeletionStatus.ERASED
    assert portal_client.get("/portal/home/").status_code == 302
    assert not PortalToken.objects.filter(candidate=person, used_at__isnull=True).exists()
    Client().post("/portal/", {"email": "grace@example.org"})
    assert len(mail.outbox) == 1  # only the first sign-in link; none for an erased person


def test_the_admin_page_declines_and_nothing_is_erased(person, admin_user):
    request = deletion_request_create(candidate=person)
    admin = Client()
    admin.force_login(admin_user)

    admin.post(f"/portal/admin/deletion-requests/{request.pk}/decline/")

    request.refresh_from_db()
    assert request.status == DeletionStatus.DECLINED
    assert Candidate.objects.get(pk=person.pk).erased_at is None


def test_an_empty_admin_page_says_what_lands_there_and_settings_link_to_it(admin_user):
    admin = Client()
    admin.force_login(admin_user)

    assert "No deletion requests" in admin.get("/portal/admin/deletion-requests/").content.decode()
    assert 'href="/portal/admin/deletion-requests/"' in admin.get("/accounts/settings/").content.decode()


@pytest.mark.parametrize("role", ["recruiter", "hiring_manager", "interviewer"])
def test_other_roles_cannot_see_or_decide_deletion_requests(person, all_users, role):
    request = deletion_request_create(candidate=person)
    client = Client()
    client.force_login(all_users[role])

    assert client.get("/portal/admin/deletion-requests/").status_code == 403
    assert client.post(f"/portal/admin/deletion-requests/{request.pk}/confirm/").status_code == 404
    request.refresh_from_db()
    assert request.status == DeletionStatus.PENDING


def test_the_team_sees_portal_events_on_the_persons_profile(portal_client, person, recruiter):
    consent = consent_record(candidate=person, purpose="job_alerts", source="careers")
    portal_client.post(f"/portal/privacy/consents/{consent.pk}/withdraw/")
    portal_client.post("/portal/privacy/delete/")
    staff = Client()
    staff.force_login(recruiter)

    response = staff.get(f"/candidates/{person.pk}/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "Grace signed in to the candidate portal" in page
    assert "Grace withdrew their consent to <strong>job alerts</strong>" in page
    assert "Grace asked to have their personal data deleted" in page
