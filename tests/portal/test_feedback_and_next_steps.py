"""Shared feedback (only what a recruiter ticked for the person), "what happens next, and by when", upcoming
interviews from `meeting.scheduled`, and the quiet hours and job-alert interests on the preferences page."""

import datetime
import re

import pytest
from django.test import Client
from django.utils import timezone

from rapport.candidates.models import Candidate
from rapport.common.errors import PermissionDenied, ValidationFailed
from rapport.jobs.models import Job
from rapport.pipeline.models import Application, RejectionReason
from rapport.pipeline.services import application_create, application_move, application_reject, rejection_reasons_ensure
from rapport.portal.models import PortalPreferences, SharedFeedback
from rapport.portal.selectors import TYPICAL_DAYS, expected_by, quiet_hours_by_candidate
from rapport.portal.services_documents import feedback_share
from rapport.timeline.models import Activity
from rapport.timeline.services import activity_record, note_add
from tests.factories import make_job
from tests.portal.conftest import sign_in

PORTAL_PAGES = ["/portal/home/", "/portal/documents/", "/portal/messages/", "/portal/privacy/", "/portal/preferences/"]


def _staff(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- shared feedback ---------------------------------------------------------------------------------------------


def test_feedback_shared_by_the_recruiter_shows_on_that_application_only(portal_client, recruiter, person):
    first = person.applications.get()
    second = application_create(actor=recruiter, candidate=person, job=make_job(actor=recruiter, title="Data Engineer"))

    response = _staff(recruiter).post(
        f"/portal/staff/candidates/{person.pk}/feedback/",
        {"application_id": str(first.pk), "text": "Your system design answer was excellent.", "share": "on"},
    )

    assert response.status_code == 302
    feedback = SharedFeedback.objects.get()
    assert feedback.application == first and feedback.shared_by == recruiter
    event = Activity.objects.get(type="feedback.shared")
    assert event.application_id == first.pk and event.actor == recruiter
    page = portal_client.get("/portal/home/").content.decode()
    card = page[page.index(f'data-application="{first.pk}"') :]
    assert "Feedback from the team" in card and "system design answer was excellent" in card
    other_card = page[page.index(f'data-application="{second.pk}"') : page.index(f'data-application="{first.pk}"')]
    assert "Feedback from the team" not in other_card


def test_without_the_share_tick_nothing_is_shared(recruiter, person):
    response = _staff(recruiter).post(
        f"/portal/staff/candidates/{person.pk}/feedback/",
        {"application_id": str(person.applications.get().pk), "text": "Weak on SQL"},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 422
    body = response.content.decode()
    assert 'id="feedback_share_error"' in body and "Share with candidate" in body
    assert not SharedFeedback.objects.exists()


def test_empty_feedback_is_named_on_the_field(recruiter, person):
    with pytest.raises(ValidationFailed) as caught:
        feedback_share(actor=recruiter, application=person.applications.get(), text="  ", share=True)

    assert "text" in caught.value.fields


def test_only_those_who_may_message_people_share_feedback(interviewer, person):
    with pytest.raises(PermissionDenied):
        feedback_share(actor=interviewer, application=person.applications.get(), text="Good", share=True)


def test_feedback_cannot_be_shared_on_someone_elses_application(recruiter, person, other_person):
    theirs = other_person.applications.get()

    response = _staff(recruiter).post(
        f"/portal/staff/candidates/{person.pk}/feedback/",
        {"application_id": str(theirs.pk), "text": "Meant for Alan", "share": "on"},
    )

    assert response.status_code == 422  # not one of this person's applications: not a choice on the form
    assert not SharedFeedback.objects.exists()


def test_staff_out_of_scope_cannot_share(outsider, person):
    response = _staff(outsider).post(
        f"/portal/staff/candidates/{person.pk}/feedback/",
        {"application_id": str(person.applications.get().pk), "text": "Hi", "share": "on"},
    )

    assert response.status_code == 404
    assert not SharedFeedback.objects.exists()


def test_person_a_never_sees_feedback_shared_with_person_b(portal_client, recruiter, other_person):
    feedback_share(
        actor=recruiter, application=other_person.applications.get(), text="Alan: great whiteboard work", share=True
    )

    for url in PORTAL_PAGES:
        assert "great whiteboard work" not in portal_client.get(url).content.decode(), url


def test_internal_notes_and_rejection_reasons_never_appear_on_any_portal_page(portal_client, recruiter, person):
    application = person.applications.get()
    note_add(actor=recruiter, candidate=person, body="INTERNAL-NOTE: salary too high")
    rejection_reasons_ensure()
    reason = RejectionReason.objects.first()
    reason.name = "INTERNAL-REASON culture"
    reason.save()
    feedback_share(actor=recruiter, application=application, text="Thank you for your time.", share=True)
    application_reject(actor=recruiter, application=application, reason_id=reason.pk, note="INTERNAL-REJECT-NOTE")

    for url in PORTAL_PAGES:
        body = portal_client.get(url).content.decode()
        for secret in ["INTERNAL-NOTE", "salary too high", "INTERNAL-REASON", "INTERNAL-REJECT-NOTE"]:
            assert secret not in body, (url, secret)
    assert "Thank you for your time." in portal_client.get("/portal/home/").content.decode()


# --- what happens next, and by when ------------------------------------------------------------------------------


def test_each_active_application_says_by_when_from_the_stage_entry_day(portal_client, recruiter, person):
    application = person.applications.get()
    application_move(actor=recruiter, application=application, stage=application.job.stages.get(category="screening"))
    application.refresh_from_db()
    due = application.stage_entered_at.astimezone(datetime.UTC).date() + datetime.timedelta(
        days=TYPICAL_DAYS["screening"]
    )

    page = portal_client.get("/portal/home/").content.decode()

    assert f'<time datetime="{due.isoformat()}">' in page
    assert "You can expect news by" in page


def test_an_overdue_date_is_never_shown_as_a_promise(portal_client, person):
    application = person.applications.get()
    Application.objects.filter(pk=application.pk).update(stage_entered_at=timezone.now() - datetime.timedelta(days=60))

    page = portal_client.get("/portal/home/").content.decode()

    assert "taking longer than usual" in page and "You can expect news by" not in page


def test_closed_applications_have_no_date(recruiter, person):
    application = person.applications.get()
    rejection_reasons_ensure()
    application_reject(actor=recruiter, application=application, reason_id=RejectionReason.objects.first().pk)
    application.refresh_from_db()

    assert expected_by(application) == (None, False)


# --- interviews --------------------------------------------------------------------------------------------------


def test_upcoming_interviews_come_from_meeting_scheduled_in_the_persons_time_zone(portal_client, recruiter, person):
    Candidate.objects.filter(pk=person.pk).update(timezone="Asia/Tokyo")
    application = person.applications.get()
    starts = (timezone.now() + datetime.timedelta(days=3)).replace(hour=1, minute=0, second=0, microsecond=0)
    activity_record(
        type="meeting.scheduled",
        candidate=person,
        application=application,
        job=application.job,
        payload={
            "starts_at": starts.isoformat(),
            "title": "Technical interview",
            "location": "Video call",
            "preparation": "Bring a project you are proud of.",
        },
    )
    activity_record(
        type="meeting.scheduled",
        candidate=person,
        payload={"starts_at": (timezone.now() - datetime.timedelta(days=1)).isoformat(), "title": "Past chat"},
    )
    activity_record(type="meeting.scheduled", candidate=person, payload={"starts_at": "not a date", "title": "Broken"})

    page = portal_client.get("/portal/home/").content.decode()

    assert "Technical interview" in page and "Bring a project you are proud of." in page and "Video call" in page
    assert "10:00 (Asia/Tokyo time)" in page  # 01:00 UTC
    assert "Past chat" not in page and "Broken" not in page
    assert "No interviews scheduled yet" not in page


def test_with_no_interviews_the_section_says_so(portal_client, recruiter, other_person):
    activity_record(
        type="meeting.scheduled",
        candidate=other_person,
        payload={"starts_at": (timezone.now() + datetime.timedelta(days=1)).isoformat(), "title": "Alan interview"},
    )

    page = portal_client.get("/portal/home/").content.decode()

    assert "No interviews scheduled yet" in page and "Alan interview" not in page


# --- quiet hours and job-alert interests -------------------------------------------------------------------------


@pytest.fixture
def open_jobs(recruiter):
    make_job(actor=recruiter, title="Designer", department="Design", location="Berlin")
    make_job(actor=recruiter, title="Analyst", department="Data", location="Lisbon")
    return Job.objects.all()


def _preferences(**extra):
    data = {"preferred_channel": "email", "email": "on"}
    data.update(extra)
    return data


def test_quiet_hours_time_zone_and_interests_are_saved_and_shown_again(portal_client, person, open_jobs):
    response = portal_client.post(
        "/portal/preferences/",
        _preferences(
            timezone="Europe/Berlin",
            quiet_hours_start="22:00",
            quiet_hours_end="07:30",
            departments=["Design"],
            locations=["Lisbon"],
            keywords="Python, part-time",
        ),
    )

    assert response.status_code == 302
    person = Candidate.objects.get(pk=person.pk)
    assert person.timezone == "Europe/Berlin"  # the field the outbox reads for quiet hours
    row = PortalPreferences.objects.get(candidate=person)
    assert (row.quiet_hours_start, row.quiet_hours_end) == (datetime.time(22, 0), datetime.time(7, 30))
    assert quiet_hours_by_candidate(candidate_ids=[person.pk]) == {person.pk: (22 * 60, 7 * 60 + 30)}
    tags = set(person.candidate_tags.values_list("tag__name", flat=True))
    assert {"interest:Design", "interest:Lisbon", "interest:Python", "interest:part-time"} <= tags
    page = portal_client.get("/portal/preferences/").content.decode()
    assert 'value="22:00"' in page and 'value="07:30"' in page
    assert 'value="Python, part-time"' in page
    assert re.search(r'name="departments" value="Design"[^>]*checked', page)
    assert re.search(r'name="locations" value="Lisbon"[^>]*checked', page)
    assert not re.search(r'name="departments" value="Data"[^>]*checked', page)


def test_clearing_interests_keeps_the_persons_other_tags(portal_client, person, open_jobs, recruiter):
    from rapport.candidates.services import candidate_update

    candidate_update(actor=recruiter, candidate=person, data={"tags": ["vip", "interest:Design"]})

    portal_client.post("/portal/preferences/", _preferences())

    assert list(person.candidate_tags.values_list("tag__name", flat=True)) == ["vip"]


@pytest.mark.parametrize(
    ("extra", "field", "message"),
    [
        ({"quiet_hours_start": "22:00"}, "quiet_hours_end", "Give the time your quiet hours end"),
        ({"quiet_hours_end": "07:00"}, "quiet_hours_start", "Give the time your quiet hours start"),
        ({"quiet_hours_start": "22:00", "quiet_hours_end": "22:00"}, "quiet_hours_end", "must differ"),
        ({"quiet_hours_start": "25:99", "quiet_hours_end": "07:00"}, "quiet_hours_start", "like 21:00"),
        ({"timezone": "Mars/Olympus"}, "timezone", "not"),
        ({"departments": ["Astronomy"]}, "departments", "Choose from the list."),
        ({"locations": ["Atlantis"]}, "locations", "Choose from the list."),
        ({"keywords": ",".join(f"k{n}" for n in range(11))}, "keywords", "at most 10"),
        ({"keywords": "<script>"}, "keywords", "Use letters"),
    ],
)
def test_bad_preferences_are_named_on_the_field_and_nothing_is_saved(
    portal_client, person, open_jobs, extra, field, message
):
    response = portal_client.post("/portal/preferences/", _preferences(language="fr", **extra))

    assert response.status_code == 422
    error = re.search(rf'id="id_{field}_error" role="alert">([^<]*)<', response.content.decode())
    assert error and message in error.group(1)
    person = Candidate.objects.get(pk=person.pk)
    assert person.language == "" and not PortalPreferences.objects.exists()


def test_person_a_preferences_never_touch_person_b(portal_client, person, other_person, open_jobs):
    portal_client.post(
        "/portal/preferences/", _preferences(timezone="Asia/Tokyo", quiet_hours_start="20:00", quiet_hours_end="06:00")
    )

    other = Candidate.objects.get(pk=other_person.pk)
    assert other.timezone == "" and not PortalPreferences.objects.filter(candidate=other).exists()
    alan = sign_in(Client(), "alan@example.org")
    page = alan.get("/portal/preferences/").content.decode()
    assert 'value="20:00"' not in page and 'Asia/Tokyo" selected' not in page


def test_the_timeline_tells_shared_feedback_in_words(recruiter, person):
    feedback_share(actor=recruiter, application=person.applications.get(), text="Great portfolio.", share=True)

    profile = _staff(recruiter).get(f"/candidates/{person.pk}/").content.decode()

    assert "shared feedback with Grace on <strong>Backend Engineer</strong>: “Great portfolio.”" in profile
