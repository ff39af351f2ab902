"""Documents in the candidate portal, end to end: a recruiter asks for a document on the profile page, the email
with the portal link reaches a real SMTP server, the person signs in with it on a phone, uploads the file and sees
it received; the recruiter then sees it on the profile. axe-core checks the portal pages this feature changed."""

import datetime
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from rapport.candidates.models import Attachment
from rapport.messaging.services import outbox_deliver_due
from rapport.pipeline.services import application_create
from rapport.portal.models import DocumentRequest
from rapport.portal.services_documents import document_request_create, feedback_share
from rapport.timeline.services import activity_record

# The phone, axe and SMTP fixtures of the portal's own browser tests, shared rather than copied.
from tests.browser.test_portal import (  # noqa: F401
    _axe_violations,
    _no_horizontal_scroll,
    axe_phone,
    phone,
    smtp_server,
)
from tests.careers.conftest import TINY_PDF
from tests.factories import make_candidate, make_job
from tests.portal.conftest import LINK

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def grace(recruiter):
    from django.core.cache import cache

    cache.clear()
    person = make_candidate(actor=recruiter, first_name="Grace", last_name="Hopper", emails=["grace@example.org"])
    application_create(actor=recruiter, candidate=person, job=make_job(actor=recruiter, title="Backend Engineer"))
    return person


def _portal_link(server, subject_part: str) -> str:
    mails = [m for m in server.messages if subject_part in m["Subject"]]
    assert mails, [m["Subject"] for m in server.messages]
    body = mails[-1].get_body(preferencelist=("plain",)).get_content()
    return urlsplit(LINK.search(body).group(0)).path


def test_request_a_document_sign_in_from_the_email_upload_it_and_see_it_received(
    signed_in_page,
    phone,  # noqa: F811
    grace,
    smtp_server,  # noqa: F811
    tmp_path,
):
    # Given a recruiter on Grace's profile, when they ask for her work permit
    staff = signed_in_page
    staff.goto(f"/candidates/{grace.pk}/")
    card = staff.locator("[data-portal-card]")
    staff.get_by_role("button", name="Request document").click()  # the profile action opens the card's form
    expect(card.get_by_label("Document", exact=True)).to_be_focused()
    card.get_by_label("Document", exact=True).fill("Work permit")
    card.get_by_label("Instructions").fill("A scan of both sides.")
    card.get_by_role("button", name="Request and email").click()
    expect(card.get_by_text("emailed a link")).to_be_visible()
    expect(card.locator("[data-document-status]")).to_have_text("Requested")

    # then the email with her portal link reaches the real SMTP server
    outbox_deliver_due()
    link = _portal_link(smtp_server, "Please send us a document")

    # and on her phone the link signs her in, and the home page points her to the documents
    page = phone
    page.goto(link)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Hello Grace")).to_be_visible()
    page.get_by_role("link", name="Upload it").click()
    request = page.locator("[data-document-request]")
    expect(request).to_contain_text("A scan of both sides.")
    expect(request.locator("[data-document-status]")).to_have_text("Requested")
    _no_horizontal_scroll(page)

    # When she uploads a file that is not what it says, she is told next to the field
    fake = tmp_path / "permit.pdf"
    fake.write_bytes(b"MZ this is a program")
    request.get_by_label("Choose a file").set_input_files(str(fake))
    request.get_by_role("button", name="Upload Work permit").click()
    expect(page.locator("[data-document-request] .field__error")).to_contain_text("Upload a PDF")

    # and when she uploads the real PDF, the request shows as received
    real = tmp_path / "permit-scan.pdf"
    real.write_bytes(TINY_PDF)
    page.locator("[data-document-request]").get_by_label("Choose a file").set_input_files(str(real))
    page.get_by_role("button", name="Upload Work permit").click()
    expect(page.get_by_text("We have your Work permit")).to_be_visible()
    expect(page.locator("[data-document-request] [data-document-status]")).to_have_text("Received")
    assert Attachment.objects.get(candidate=grace).original_name == "permit-scan.pdf"

    # and the recruiter sees it received on the profile, with the file
    staff.reload()
    expect(staff.locator("[data-portal-card] [data-document-status]")).to_have_text("Received")
    expect(staff.locator("[data-portal-card]").get_by_role("link", name="permit-scan.pdf")).to_be_visible()


def test_changed_portal_pages_have_no_accessibility_violations(axe_phone, recruiter, grace, smtp_server):  # noqa: F811
    application = grace.applications.get()
    document_request_create(actor=recruiter, candidate=grace, name="Diploma", instructions="Any scan is fine.")
    document_request_create(
        actor=recruiter,
        candidate=grace,
        name="Passport",
        due_on=datetime.date.today() + datetime.timedelta(days=5),
        application=application,
    )
    feedback_share(actor=recruiter, application=application, text="Your portfolio impressed the team.", share=True)
    activity_record(
        type="meeting.scheduled",
        candidate=grace,
        application=application,
        job=application.job,
        payload={
            "starts_at": (datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=2)).isoformat(),
            "title": "Technical interview",
            "location": "Video call",
            "preparation": "Bring a project you are proud of.",
        },
    )
    outbox_deliver_due()
    page = axe_phone

    page.goto(_portal_link(smtp_server, "Please send us a document"))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Hello Grace")).to_be_visible()
    expect(page.locator("[data-shared-feedback]")).to_contain_text("Your portfolio impressed the team.")
    expect(page.locator("[data-interview]")).to_contain_text("Technical interview")
    expect(page.locator("[data-expected-by]")).to_contain_text("You can expect news by")
    assert _axe_violations(page) == [], "home"
    _no_horizontal_scroll(page)

    page.goto("/portal/documents/")
    assert _axe_violations(page) == [], "documents"
    _no_horizontal_scroll(page)
    page.get_by_role("button", name="Upload Diploma").click()  # no file chosen: the error state
    expect(page.locator(".field__error").first).to_be_visible()
    assert _axe_violations(page) == [], "documents with an error"

    page.goto("/portal/preferences/")
    assert _axe_violations(page) == [], "preferences"
    _no_horizontal_scroll(page)
    page.get_by_label("Quiet hours start").fill("22:00")
    page.get_by_role("button", name="Save preferences").click()
    expect(page.locator("#id_quiet_hours_end_error")).to_be_visible()
    assert _axe_violations(page) == [], "preferences with an error"
    assert DocumentRequest.objects.filter(candidate=grace).count() == 2
