"""Document requests: the team asks from the profile, the person is emailed a portal link, uploads the file in the
portal (content-checked, size-capped, rate-limited), and the team sees it received. Only ever the person's own."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from rapport.candidates.models import Attachment
from rapport.common.errors import PermissionDenied, ValidationFailed
from rapport.messaging.models import Message
from rapport.portal.models import DocumentRequest, DocumentRequestStatus
from rapport.portal.services_documents import UPLOADS_PER_HOUR, document_request_create, document_upload
from rapport.timeline.models import Activity
from tests.careers.conftest import TINY_PDF, tiny_docx

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _request(recruiter, person, **kwargs):
    kwargs.setdefault("name", "Work permit")
    return document_request_create(actor=recruiter, candidate=person, **kwargs).request


def _upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


# --- the team asks -----------------------------------------------------------------------------------------------


def test_a_request_is_recorded_on_the_timeline_and_emails_a_portal_link(recruiter, person):
    application = person.applications.get()
    due = timezone.localdate() + datetime.timedelta(days=7)

    outcome = document_request_create(
        actor=recruiter,
        candidate=person,
        name="Work permit",
        instructions="A scan of both sides, please.",
        due_on=due.isoformat(),
        application=application,
    )

    request = outcome.request
    assert outcome.emailed
    assert (request.status, request.due_on, request.application_id) == ("requested", due, application.pk)
    event = Activity.objects.get(candidate=person, type="document.requested")
    assert event.payload == {"request_id": request.pk, "name": "Work permit", "due_on": due.isoformat()}
    assert event.actor == recruiter and event.job_id == application.job_id
    email = Message.objects.get(candidate=person, direction="outbound")
    assert email.subject == "Please send us a document: Work permit"
    assert "A scan of both sides, please." in email.text
    assert "/portal/link/s-" in email.text  # the person's own signed sign-in link


def test_template_syntax_in_a_request_is_kept_as_text_never_run(recruiter, person):
    _request(recruiter, person, name="{{ candidate.email }}", instructions="{% for x in y %}")

    email = Message.objects.get(candidate=person, direction="outbound")
    assert "{{ candidate.email }}" in email.subject
    assert "{% for x in y %}" in email.text
    assert "grace@example.org" not in email.subject


def test_a_request_stands_when_the_person_cannot_be_emailed(recruiter, person):
    from rapport.messaging.services import suppression_add

    suppression_add(address="grace@example.org", channel="email", reason="unsubscribed")

    outcome = document_request_create(actor=recruiter, candidate=person, name="Diploma")

    assert not outcome.emailed and outcome.email_problem
    assert DocumentRequest.objects.filter(candidate=person, name="Diploma").exists()
    assert not Message.objects.filter(candidate=person).exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": "  "}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"name": "Diploma", "due_on": "2001-01-01"}, "due_on"),
        ({"name": "Diploma", "due_on": "soon"}, "due_on"),
        ({"name": "Diploma", "instructions": "x" * 2001}, "instructions"),
    ],
)
def test_bad_requests_name_the_field_and_write_nothing(recruiter, person, fields, field):
    with pytest.raises(ValidationFailed) as caught:
        document_request_create(actor=recruiter, candidate=person, **fields)

    assert field in caught.value.fields
    assert not DocumentRequest.objects.exists()
    assert not Activity.objects.filter(type="document.requested").exists()


def test_a_request_cannot_be_tied_to_someone_elses_application(recruiter, person, other_person):
    with pytest.raises(ValidationFailed) as caught:
        _request(recruiter, person, application=other_person.applications.get())

    assert "application_id" in caught.value.fields


def test_only_those_who_may_message_people_ask_for_documents(interviewer, person):
    with pytest.raises(PermissionDenied):
        _request(interviewer, person)


def test_the_profile_page_requests_a_document_and_shows_its_status(recruiter, person):
    staff = Client()
    staff.force_login(recruiter)

    response = staff.post(
        f"/portal/staff/candidates/{person.pk}/document-requests/",
        {"name": "References", "instructions": "Two names", "application_id": str(person.applications.get().pk)},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 200
    assert "emailed a link" in response.content.decode()
    request = DocumentRequest.objects.get(candidate=person)
    assert request.name == "References"
    profile = staff.get(f"/candidates/{person.pk}/").content.decode()
    assert f'data-document-request="{request.pk}"' in profile and "Requested" in profile
    assert "asked" in profile and "References" in profile  # the timeline sentence


def test_the_profile_form_shows_errors_next_to_the_field(recruiter, person):
    staff = Client()
    staff.force_login(recruiter)

    htmx = staff.post(f"/portal/staff/candidates/{person.pk}/document-requests/", {"name": ""}, HTTP_HX_REQUEST="true")
    plain = staff.post(
        f"/portal/staff/candidates/{person.pk}/document-requests/", {"name": "x", "due_on": "2001-01-01"}
    )

    assert htmx.status_code == plain.status_code == 422
    assert 'id="docreq_name_error"' in htmx.content.decode()
    assert 'id="docreq_due_on_error"' in plain.content.decode() and "in the past" in plain.content.decode()
    assert not DocumentRequest.objects.exists()


def test_staff_outside_the_persons_scope_get_404_and_roles_without_the_right_403(outsider, interviewer, person):
    for user, status in ((outsider, 404), (interviewer, 404)):
        staff = Client()
        staff.force_login(user)
        response = staff.post(f"/portal/staff/candidates/{person.pk}/document-requests/", {"name": "Passport"})
        assert response.status_code == status
    assert not DocumentRequest.objects.exists()


def test_a_hiring_manager_in_scope_sees_the_card_but_may_not_ask(recruiter, hiring_manager, person):
    from rapport.jobs.models import Job

    Job.objects.filter(pk=person.applications.get().job_id).update(hiring_manager=hiring_manager)
    staff = Client()
    staff.force_login(hiring_manager)

    profile = staff.get(f"/candidates/{person.pk}/").content.decode()
    response = staff.post(f"/portal/staff/candidates/{person.pk}/document-requests/", {"name": "Passport"})

    assert "data-portal-card" in profile and "Request a document" not in profile
    assert response.status_code == 403
    assert not DocumentRequest.objects.exists()


def test_the_card_fetches_its_forms_when_their_panels_open(recruiter, person):
    staff = Client()
    staff.force_login(recruiter)
    request_form_url = f"/portal/staff/candidates/{person.pk}/document-requests/new/"
    feedback_form_url = f"/portal/staff/candidates/{person.pk}/feedback/new/"

    profile = staff.get(f"/candidates/{person.pk}/").content.decode()
    request_form = staff.get(request_form_url, HTTP_HX_REQUEST="true").content.decode()
    feedback_form = staff.get(feedback_form_url, HTTP_HX_REQUEST="true").content.decode()

    assert f'data-lazy="{request_form_url}"' in profile and f'data-lazy="{feedback_form_url}"' in profile
    assert 'id="docreq_name"' not in profile
    application = person.applications.get()
    assert 'id="docreq_name"' in request_form and f'<option value="{application.pk}"' in request_form
    assert 'name="text"' in feedback_form and f'<option value="{application.pk}"' in feedback_form


@pytest.mark.parametrize("form", ["document-requests/new", "feedback/new"])
def test_every_role_against_the_card_forms(all_users, recruiter, person, form):
    from rapport.jobs.models import Job

    Job.objects.filter(pk=person.applications.get().job_id).update(hiring_manager=all_users["hiring_manager"])
    # The interviewer is not assigned to the person, so for them the person does not exist.
    expected = {"admin": 200, "recruiter": 200, "hiring_manager": 403, "interviewer": 404, "outsider": 404}
    for role, status in expected.items():
        staff = Client()
        staff.force_login(all_users[role])
        response = staff.get(f"/portal/staff/candidates/{person.pk}/{form}/", HTTP_HX_REQUEST="true")
        assert response.status_code == status, role
        assert (f"/portal/staff/candidates/{person.pk}/" in response.content.decode()) == (status == 200), role


# --- the person uploads ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "content_type", "stored"),
    [
        ("permit.pdf", TINY_PDF, "application/pdf", "permit.pdf"),
        ("permit.docx", tiny_docx(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document", None),
        ("scan.png", PNG, "image/png", "scan.png"),
        ("photo.jpeg", JPEG, "image/jpeg", "photo.jpg"),
        ("named-wrong.txt", TINY_PDF, "application/pdf", "named-wrong.pdf"),  # judged by content, renamed to match
    ],
)
def test_uploads_are_stored_as_the_persons_attachment_and_mark_the_request_received(
    portal_client, recruiter, person, name, content, content_type, stored
):
    request = _request(recruiter, person)

    response = portal_client.post(f"/portal/documents/{request.pk}/upload/", {"file": _upload(name, content)})

    assert response.status_code == 302 and response.url == "/portal/documents/"
    request.refresh_from_db()
    attachment = Attachment.objects.get(candidate=person)
    assert request.status == DocumentRequestStatus.RECEIVED and request.attachment == attachment
    assert request.received_at is not None
    assert attachment.content_type == content_type and attachment.uploaded_by is None
    assert attachment.file.read() == content
    if stored:
        assert attachment.original_name == stored
    event = Activity.objects.get(candidate=person, type="document.uploaded")
    assert event.payload["request_id"] == request.pk and event.payload["attachment_id"] == attachment.pk
    page = portal_client.get("/portal/documents/").content.decode()
    assert "We received it on" in page and "Upload Work permit" not in page


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("evil.pdf", b"MZ\x90\x00 not a pdf at all", "Upload a PDF"),
        ("empty.pdf", b"", "empty"),
        ("fake.docx", b"PK\x03\x04 not really a zip", "Upload a PDF"),
    ],
)
def test_files_that_are_not_what_they_claim_are_refused_next_to_the_field(
    portal_client, recruiter, person, name, content, message
):
    request = _request(recruiter, person)

    response = portal_client.post(f"/portal/documents/{request.pk}/upload/", {"file": _upload(name, content)})

    assert response.status_code == 422
    body = response.content.decode()
    assert f'id="doc{request.pk}_file_error"' in body and message in body
    request.refresh_from_db()
    assert request.status == DocumentRequestStatus.REQUESTED
    assert not Attachment.objects.exists()


def test_files_over_the_limit_are_refused(recruiter, person, settings):
    settings.RAPPORT_MAX_UPLOAD_MB = 1
    request = _request(recruiter, person)

    with pytest.raises(ValidationFailed) as caught:
        document_upload(
            candidate=person, document_request=request, upload=_upload("big.pdf", b"%PDF-" + b"0" * 1024 * 1024)
        )

    assert "limit is 1 MB" in caught.value.fields["file"][0]
    assert not Attachment.objects.exists()


def test_a_missing_file_is_named(portal_client, recruiter, person):
    request = _request(recruiter, person)

    response = portal_client.post(f"/portal/documents/{request.pk}/upload/", {})

    assert response.status_code == 422
    assert "Choose a file to upload." in response.content.decode()


def test_a_received_request_takes_no_second_file(portal_client, recruiter, person):
    request = _request(recruiter, person)
    portal_client.post(f"/portal/documents/{request.pk}/upload/", {"file": _upload("a.pdf", TINY_PDF)})

    response = portal_client.post(f"/portal/documents/{request.pk}/upload/", {"file": _upload("b.pdf", TINY_PDF)})

    assert response.status_code == 409
    assert Attachment.objects.count() == 1


def test_uploads_are_rate_limited(recruiter, person):
    requests = [_request(recruiter, person, name=f"Document {n}") for n in range(UPLOADS_PER_HOUR + 1)]
    for request in requests[:UPLOADS_PER_HOUR]:
        document_upload(candidate=person, document_request=request, upload=_upload("a.png", PNG))

    client = Client()
    from tests.portal.conftest import sign_in

    sign_in(client, "grace@example.org")
    response = client.post(f"/portal/documents/{requests[-1].pk}/upload/", {"file": _upload("a.png", PNG)})

    assert response.status_code == 429
    assert "several files" in response.content.decode()
    assert Attachment.objects.count() == UPLOADS_PER_HOUR


def test_the_documents_page_lists_open_requests_first_with_instructions(portal_client, recruiter, person):
    done = _request(recruiter, person, name="Diploma")
    document_upload(candidate=person, document_request=done, upload=_upload("d.pdf", TINY_PDF))
    _request(recruiter, person, name="Passport", instructions="The photo page only")

    page = portal_client.get("/portal/documents/").content.decode()
    home = portal_client.get("/portal/home/").content.decode()

    assert page.index("Passport") < page.index("Diploma")
    assert "The photo page only" in page
    assert "asked you for 1 document" in home


def test_with_no_requests_the_page_says_what_it_is_for(portal_client):
    assert "No documents requested" in portal_client.get("/portal/documents/").content.decode()


# --- only ever the person's own (IDOR) ---------------------------------------------------------------------------


def test_person_a_never_sees_person_bs_requests(portal_client, recruiter, other_person):
    _request(recruiter, other_person, name="Alan's criminal record check", instructions="Secret instructions")

    page = portal_client.get("/portal/documents/").content.decode()
    home = portal_client.get("/portal/home/").content.decode()

    assert "criminal record" not in page and "Secret instructions" not in page
    assert "No documents requested" in page and "data-documents-waiting" not in home


def test_person_a_cannot_upload_to_person_bs_request(portal_client, recruiter, other_person):
    theirs = _request(recruiter, other_person)

    response = portal_client.post(f"/portal/documents/{theirs.pk}/upload/", {"file": _upload("a.pdf", TINY_PDF)})

    theirs.refresh_from_db()
    assert response.status_code == 404
    assert theirs.status == DocumentRequestStatus.REQUESTED
    assert not Attachment.objects.exists()


@pytest.mark.parametrize("bad_id", ["0", "99999999999999999999999"])
def test_unknown_request_ids_are_404(portal_client, bad_id):
    assert portal_client.post(f"/portal/documents/{bad_id}/upload/").status_code == 404


def test_signed_out_visitors_cannot_see_or_upload(recruiter, person):
    request = _request(recruiter, person)
    client = Client()

    assert client.get("/portal/documents/").url == "/portal/"
    response = client.post(f"/portal/documents/{request.pk}/upload/", {"file": _upload("a.pdf", TINY_PDF)})
    assert response.status_code == 302 and response.url == "/portal/"
    assert not Attachment.objects.exists()


def test_the_upload_form_needs_the_csrf_token(portal_client, recruiter, person):
    request = _request(recruiter, person)
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = portal_client.cookies

    response = strict.post(f"/portal/documents/{request.pk}/upload/", {"file": _upload("a.pdf", TINY_PDF)})

    assert response.status_code == 403
    assert not Attachment.objects.exists()


def test_the_documents_page_is_never_cached(portal_client):
    assert "no-store" in portal_client.get("/portal/documents/")["Cache-Control"]


def test_the_timeline_tells_the_request_and_the_portal_upload_in_words(portal_client, recruiter, person):
    request = _request(recruiter, person, due_on=(timezone.localdate() + datetime.timedelta(days=3)).isoformat())
    portal_client.post(f"/portal/documents/{request.pk}/upload/", {"file": _upload("permit.pdf", TINY_PDF)})
    staff = Client()
    staff.force_login(recruiter)

    profile = staff.get(f"/candidates/{person.pk}/").content.decode()

    assert "asked Grace for <strong>Work permit</strong> (due" in profile
    assert "Grace uploaded the requested <strong>Work permit</strong> in the candidate portal: permit.pdf" in profile


def test_an_erased_persons_card_shows_no_requests(admin_user, recruiter, person, rf):
    from rapport.candidates.services import candidate_erase
    from rapport.portal.views_staff import staff_card_context

    _request(recruiter, person, name="Passport")
    candidate_erase(actor=admin_user, candidate=person)
    person.refresh_from_db()
    request = rf.get("/")
    request.user = admin_user

    card = staff_card_context(request=request, candidate=person)

    assert card["document_requests"] == [] and card["shared_feedback"] == [] and not card["can_share"]
