"""The event log, the audit log and notes."""

from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import AnonymousUser

from rapport.candidates.models import Candidate
from rapport.candidates.selectors import candidate_list
from rapport.common.errors import PermissionDenied, ValidationFailed
from rapport.timeline.models import Activity, AuditEntry, Note
from rapport.timeline.services import MAX_NOTE_LENGTH, activity_record, audit_record, note_add
from tests.factories import make_candidate


def test_an_activity_keeps_its_type_actor_time_and_payload(recruiter):
    person = make_candidate(actor=recruiter)
    at = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)

    event = activity_record(
        type="call.logged", candidate=person, actor=recruiter, payload={"minutes": 5}, occurred_at=at
    )

    event.refresh_from_db()
    assert (event.type, event.candidate, event.actor, event.occurred_at, event.payload) == (
        "call.logged",
        person,
        recruiter,
        at,
        {"minutes": 5},
    )


def test_an_anonymous_or_missing_actor_is_stored_as_none(recruiter):
    person = make_candidate(actor=recruiter)

    by_anonymous = activity_record(type="candidate.updated", candidate=person, actor=AnonymousUser())
    by_system = audit_record(actor=None, action="export", object_type="candidate")

    assert by_anonymous.actor is None and by_anonymous.payload == {}
    assert by_system.actor is None and by_system.object_id == ""


def test_activity_ids_grow_so_consumers_can_resume_after_the_last_one(recruiter):
    person = make_candidate(actor=recruiter)
    first = activity_record(type="note.added", candidate=person)
    second = activity_record(type="note.added", candidate=person, occurred_at=datetime(2000, 1, 1, tzinfo=UTC))

    assert second.pk > first.pk


def test_a_note_is_stored_as_markdown_and_sanitised_html_with_an_event(recruiter):
    person = make_candidate(actor=recruiter, first_name="Grace")
    before = Candidate.objects.get(pk=person.pk).updated_at

    note = note_add(
        actor=recruiter,
        candidate=person,
        body="  **Great** call. <script>alert(1)</script> [me](javascript:alert(2))  ",
    )

    assert note.body.startswith("**Great** call.")
    assert "<strong>Great</strong>" in note.body_html
    assert "<script" not in note.body_html and "javascript:" not in note.body_html
    event = Activity.objects.get(type="note.added")
    assert (event.candidate, event.actor, event.occurred_at) == (person, recruiter, note.created_at)
    assert event.payload["note_id"] == note.pk
    assert Candidate.objects.get(pk=person.pk).updated_at > before
    assert [c.pk for c in candidate_list(user=recruiter, filters={"q": "great call"}).items] == [person.pk]


@pytest.mark.parametrize("kind, event_type", [("call", "call.logged"), ("meeting", "meeting.logged")])
def test_calls_and_meetings_are_logged_with_their_details(recruiter, kind, event_type):
    person = make_candidate(actor=recruiter)

    note_add(actor=recruiter, candidate=person, body="Talked", kind=kind, extra={"duration_minutes": 30})

    event = Activity.objects.get(type=event_type)
    assert event.payload["duration_minutes"] == 30
    assert Note.objects.get().kind == kind


@pytest.mark.parametrize(
    "body, kind, field",
    [
        ("", "note", "body"),
        ("   ", "note", "body"),
        ("x" * (MAX_NOTE_LENGTH + 1), "note", "body"),
        ("Hi", "fax", "kind"),
    ],
)
def test_a_bad_note_names_the_field_and_writes_nothing(recruiter, body, kind, field):
    person = make_candidate(actor=recruiter)
    events = Activity.objects.count()

    with pytest.raises(ValidationFailed) as caught:
        note_add(actor=recruiter, candidate=person, body=body, kind=kind)

    assert field in caught.value.fields
    assert not Note.objects.exists()
    assert Activity.objects.count() == events


def test_every_role_may_add_notes(world):
    for role in ("admin", "recruiter", "hiring_manager", "interviewer"):
        note_add(actor=world[role], candidate=world["applicant"], body=f"From {role}")

    assert Note.objects.count() == 4


def test_a_signed_out_user_may_not_add_notes(world):
    with pytest.raises(PermissionDenied):
        note_add(actor=AnonymousUser(), candidate=world["applicant"], body="Hello")


def test_an_audit_entry_keeps_who_what_and_the_change(recruiter):
    entry = audit_record(
        actor=recruiter, action="update", object_type="candidate", object_id=42, changes={"city": ["A", "B"]}
    )

    entry.refresh_from_db()
    assert (entry.actor, entry.action, entry.object_type, entry.object_id, entry.changes) == (
        recruiter,
        "update",
        "candidate",
        "42",
        {"city": ["A", "B"]},
    )
    assert entry.at is not None
    assert AuditEntry.objects.count() == 1
