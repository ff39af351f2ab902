"""A person's timeline: newest first, filterable, keyset-paginated, and scoped to the reader's jobs."""

from datetime import UTC, datetime, timedelta

import pytest

from rapport.common.errors import BadRequest
from rapport.common.pagination import encode_cursor
from rapport.pipeline.services import application_create, application_move
from rapport.timeline.models import Activity
from rapport.timeline.selectors import TYPE_GROUPS, candidate_timeline
from rapport.timeline.services import activity_record, note_add
from tests.factories import make_candidate, make_job

T0 = datetime(2025, 6, 1, 12, tzinfo=UTC)


def read_all(user, candidate, *, limit: int, types=None) -> tuple[list[int], int]:
    seen, cursor, pages = [], None, 0
    while True:
        items, cursor = candidate_timeline(user=user, candidate=candidate, types=types, limit=limit, cursor=cursor)
        seen.extend(a.pk for a in items)
        pages += 1
        if cursor is None:
            return seen, pages


@pytest.fixture
def person(recruiter):
    person = make_candidate(actor=recruiter)
    Activity.objects.filter(candidate=person).delete()
    return person


def test_newest_first(recruiter, person):
    old = activity_record(type="note.added", candidate=person, occurred_at=T0)
    new = activity_record(type="note.added", candidate=person, occurred_at=T0 + timedelta(days=1))
    middle = activity_record(type="call.logged", candidate=person, occurred_at=T0 + timedelta(hours=1))

    items, cursor = candidate_timeline(user=recruiter, candidate=person)

    assert [a.pk for a in items] == [new.pk, middle.pk, old.pk]
    assert cursor is None


def test_only_this_persons_events(recruiter, person):
    other = make_candidate(actor=recruiter, first_name="Other")
    mine = activity_record(type="note.added", candidate=person, occurred_at=T0)

    items, _ = candidate_timeline(user=recruiter, candidate=person)

    assert [a.pk for a in items] == [mine.pk]
    assert Activity.objects.filter(candidate=other).exists()


def test_filter_by_types_and_by_groups(recruiter, person):
    for i, kind in enumerate(["note.added", "call.logged", "tag.added", "application.created", "message.sent"]):
        activity_record(type=kind, candidate=person, occurred_at=T0 + timedelta(minutes=i))

    def types(*wanted):
        items, _ = candidate_timeline(user=recruiter, candidate=person, types=list(wanted))
        return [a.type for a in items]

    assert types("note.added") == ["note.added"]
    assert types("notes") == ["call.logged", "note.added"]
    assert types("notes", "tag.added") == ["tag.added", "call.logged", "note.added"]
    assert types("changes") == ["tag.added"]
    assert types("applications", "messages") == ["message.sent", "application.created"]
    assert types("no.such.type") == []
    assert types() == ["message.sent", "application.created", "tag.added", "call.logged", "note.added"]


def test_every_grouped_type_is_a_known_noun_verb():
    for group, members in TYPE_GROUPS.items():
        assert members, group
        assert all(t.count(".") == 1 for t in members)


@pytest.mark.parametrize("limit", [1, 2, 3, 4, 7, 50])
def test_pages_have_no_repeats_or_gaps_even_when_many_events_share_a_time(recruiter, person, limit):
    times = [T0, T0, T0, T0 + timedelta(seconds=1), T0 + timedelta(seconds=1), T0 - timedelta(days=1), T0]
    created = [activity_record(type="note.added", candidate=person, occurred_at=t) for t in times]
    expected = [a.pk for a in sorted(created, key=lambda a: (a.occurred_at, a.pk), reverse=True)]

    seen, pages = read_all(recruiter, person, limit=limit)

    assert seen == expected
    assert pages == max(1, -(-len(created) // limit))


def test_pages_keep_the_type_filter(recruiter, person):
    for i in range(5):
        activity_record(type="note.added", candidate=person, occurred_at=T0)
        activity_record(type="tag.added", candidate=person, occurred_at=T0 + timedelta(seconds=i))

    seen, _ = read_all(recruiter, person, limit=2, types=["notes"])

    assert len(seen) == 5
    assert set(Activity.objects.filter(pk__in=seen).values_list("type", flat=True)) == {"note.added"}


@pytest.mark.parametrize(
    "cursor", ["garbage", encode_cursor({"t": "yesterday", "i": 1}), encode_cursor({"t": T0.isoformat(), "i": "1"})]
)
def test_a_bad_cursor_is_refused_naming_it(recruiter, person, cursor):
    with pytest.raises(BadRequest) as caught:
        candidate_timeline(user=recruiter, candidate=person, cursor=cursor)

    assert "cursor" in caught.value.fields


def test_a_hiring_manager_does_not_see_events_of_other_jobs(world):
    recruiter, manager, interviewer, applicant = (
        world["recruiter"],
        world["hiring_manager"],
        world["interviewer"],
        world["applicant"],
    )
    secret = make_job(actor=recruiter, title="Secret Project")
    other_application = application_create(actor=recruiter, candidate=applicant, job=secret)
    application_move(actor=recruiter, application=other_application, stage=secret.stages.get(name="Screening"))
    note_add(actor=recruiter, candidate=applicant, body="General note")

    def job_ids(user):
        items, _ = candidate_timeline(user=user, candidate=applicant)
        return {a.job_id for a in items}

    def types(user):
        items, _ = candidate_timeline(user=user, candidate=applicant)
        return [a.type for a in items]

    assert job_ids(recruiter) == {None, world["job"].pk, secret.pk}
    assert job_ids(manager) == {None, world["job"].pk}
    assert job_ids(interviewer) == {None, world["job"].pk}
    assert "note.added" in types(manager)
    assert types(manager).count("application.created") == 1


def test_a_signed_out_or_deactivated_user_reads_nothing(recruiter, person):
    from django.contrib.auth.models import AnonymousUser

    activity_record(type="note.added", candidate=person, occurred_at=T0)
    recruiter.is_active = False

    assert candidate_timeline(user=AnonymousUser(), candidate=person) == ([], None)
    assert candidate_timeline(user=recruiter, candidate=person) == ([], None)
