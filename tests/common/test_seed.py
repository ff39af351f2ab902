"""`rapport seed`: exact sizes, unique contact points, searchable people and the shapes the services write."""

from collections import Counter
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client

from rapport.accounts.models import Role, User
from rapport.candidates.models import Candidate, CandidateEmail, CandidatePhone, CandidateTag, PoolMembership
from rapport.candidates.normalise import normalise_email, normalise_phone
from rapport.candidates.selectors import candidate_list, candidates_visible_to
from rapport.candidates.services import candidate_reindex, pool_add_members
from rapport.common.seeding import DEMO_PASSWORD, DEMO_USERS, SeedOptions, seed
from rapport.jobs.models import Job, StageCategory
from rapport.jobs.selectors import jobs_visible_to
from rapport.pipeline.models import Application, StageTransition
from rapport.pipeline.services import application_create, application_move, application_reject
from rapport.search import backends as search_backend
from rapport.search.query import Term, normalise_words
from rapport.timeline.models import Activity, Note
from rapport.timeline.services import note_add
from tests.factories import TalentPoolFactory, make_candidate, make_job


@pytest.fixture
def seeded(db):
    return seed(
        SeedOptions(
            candidates=300,
            jobs=20,
            applications=520,
            events=2_600,
            big_job_applications=60,
            heavy_candidate_events=250,
            seed=11,
        )
    )


def test_the_seed_creates_exactly_the_sizes_asked_for(seeded):
    assert Candidate.objects.count() == seeded.candidates == 300
    assert Job.objects.count() == seeded.jobs == 20
    assert Application.objects.count() == seeded.applications == 520
    assert Activity.objects.count() == seeded.events == 2_600
    assert Application.objects.filter(job_id=seeded.big_job_id).count() == 60
    assert Activity.objects.filter(candidate_id=seeded.heavy_candidate_id).count() == 250
    # The big job is the biggest, as the kanban benchmark needs.
    biggest = Counter(Application.objects.values_list("job_id", flat=True)).most_common(1)[0]
    assert biggest == (seeded.big_job_id, 60)


def test_people_are_varied(seeded):
    people = Candidate.objects.all()
    assert len({c.country for c in people}) >= 10
    assert len({c.last_name for c in people}) >= 100
    assert len({c.source for c in people}) >= 6
    assert len({c.relationship_status for c in people}) >= 5
    assert len({c.owner_id for c in people}) >= 4
    assert all(3 <= len(c.skills) <= 12 for c in people)
    assert all(c.timezone and c.city and c.language for c in people)
    assert Note.objects.exists() and CandidateTag.objects.exists() and PoolMembership.objects.exists()
    statuses = set(Application.objects.values_list("status", flat=True))
    assert {"active", "rejected"} <= statuses


def test_contact_points_are_unique_and_already_normalised(seeded):
    emails = list(CandidateEmail.objects.values_list("email", flat=True))
    phones = list(CandidatePhone.objects.values_list("phone", flat=True))
    assert len(emails) == len(set(emails)) and len(phones) == len(set(phones))
    assert all(normalise_email(e) == e for e in emails)
    assert all(normalise_phone(p) == p for p in phones)
    assert not Candidate.objects.filter(emails__isnull=True).exists()


def test_every_person_is_found_by_search(seeded, recruiter):
    for candidate in Candidate.objects.prefetch_related("emails"):
        email = candidate.emails.all()[0].email
        # Through the full-text index (the email's words as a phrase) and through the UI/API code path.
        page = search_backend.search(Term(words=tuple(normalise_words(email))), scope=None, limit=50)
        assert candidate.pk in page.ids
        assert [c.pk for c in candidate_list(user=recruiter, filters={"q": email}).items] == [candidate.pk]


def _index_entry(candidate_id: int):
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name, contact, work, skills, notes FROM search_candidate_fts WHERE rowid = %s", [candidate_id]
            )
            # Word order inside a column depends on row order in the database, not on the text: compare the words.
            return [sorted(column.split()) for column in cursor.fetchone()]
        cursor.execute(
            "SELECT lexeme, weights FROM search_candidate_document, unnest(document) "
            "WHERE candidate_id = %s ORDER BY lexeme",
            [candidate_id],
        )
        return [(lexeme, sorted(set(weights))) for lexeme, weights in cursor.fetchall()]


def test_the_index_holds_what_the_service_would_have_indexed(seeded):
    ids = list(Candidate.objects.order_by("?").values_list("id", flat=True)[:40])
    ids += list(Note.objects.values_list("candidate_id", flat=True).distinct()[:20])
    for candidate_id in ids:
        seeded_entry = _index_entry(candidate_id)
        candidate_reindex(candidate_ids=[candidate_id])
        assert _index_entry(candidate_id) == seeded_entry, candidate_id


def test_stage_history_matches_the_current_stage(seeded):
    transitions: dict[int, list[StageTransition]] = {}
    for t in StageTransition.objects.order_by("at", "id"):
        transitions.setdefault(t.application_id, []).append(t)
    events = Counter(
        (a, t) for a, t in Activity.objects.filter(application__isnull=False).values_list("application_id", "type")
    )
    for application in Application.objects.select_related("stage", "candidate"):
        history = transitions[application.pk]
        assert history[0].from_stage_id is None
        assert all(
            later.from_stage_id == earlier.to_stage_id for earlier, later in zip(history, history[1:], strict=False)
        )
        assert history[-1].to_stage_id == application.stage_id
        assert history[-1].at == application.stage_entered_at
        assert application.created_at == history[0].at >= application.candidate.created_at
        assert events[(application.pk, "application.created")] == 1
        assert events[(application.pk, "application.stage_changed")] == len(history) - 1
        assert events[(application.pk, "application.rejected")] == (application.status == "rejected")
        assert events[(application.pk, "application.withdrawn")] == (application.status == "withdrawn")
        hired = application.stage.category == StageCategory.HIRED
        assert (application.status == "hired") == hired == (events[(application.pk, "application.hired")] == 1)
        if application.status == "rejected":
            assert application.rejection_reason_id and application.closed_at >= application.stage_entered_at


def test_nobody_is_left_in_the_pipeline_of_a_closed_job(seeded):
    ended = Job.objects.filter(status__in=["closed", "filled"])
    assert ended.filter(applications__isnull=False).exists()

    stuck = Application.objects.filter(job__in=ended, status="active")

    assert list(stuck.values_list("job__title", "stage__name")) == []


def test_timeline_payloads_have_the_shapes_the_services_write(seeded, recruiter):
    job = make_job(actor=recruiter, title="Shape check")
    person = make_candidate(actor=recruiter, first_name="Shape", last_name="Check", tags=["shape-check"])
    application = application_create(actor=recruiter, candidate=person, job=job)
    application_move(actor=recruiter, application=application, stage=job.stages.order_by("position")[2])
    application_reject(actor=recruiter, application=application, reason_id=None)
    note_add(actor=recruiter, candidate=person, body="A note")
    pool_add_members(actor=recruiter, pool=TalentPoolFactory(), candidate_ids=[person.pk])
    by_service = {a.type: set(a.payload) for a in Activity.objects.filter(candidate=person)}
    for kind, keys in by_service.items():
        generated = Activity.objects.filter(type=kind).exclude(candidate=person).first()
        assert generated is not None, kind
        assert set(generated.payload) == keys, kind


def test_the_seed_leaves_no_dangling_references(seeded):
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL enforces foreign keys itself")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA foreign_key_check")
        assert cursor.fetchall() == []


def test_demo_sign_ins_work_and_every_role_has_something_to_see(db):
    out = StringIO()
    call_command("seed", "--demo", "--candidates", "400", "--jobs", "6", stdout=out)

    for email, _name, _role in DEMO_USERS:
        assert email in out.getvalue()
        assert Client().login(email=email, password=DEMO_PASSWORD), email
    assert "http://127.0.0.1:8000" in out.getvalue() and DEMO_PASSWORD in out.getvalue()
    manager = User.objects.get(email="manager@rapport.demo")
    interviewer = User.objects.get(email="interviewer@rapport.demo")
    assert manager.role == Role.HIRING_MANAGER and jobs_visible_to(manager).count() >= 3
    assert candidates_visible_to(manager).exists()
    assert candidates_visible_to(interviewer).exists()
    # The rest of the team owns data but cannot sign in.
    team = User.objects.exclude(email__in=[e for e, _, _ in DEMO_USERS]).filter(email__endswith="@rapport.demo")
    assert team.exists() and not any(u.has_usable_password() for u in team)


def test_without_demo_nobody_gets_a_known_password(db):
    call_command("seed", "--candidates", "20", "--jobs", "2", stdout=StringIO())

    assert not Client().login(email="admin@rapport.demo", password=DEMO_PASSWORD)


def test_if_empty_seeds_once_and_always_prints_the_sign_ins(db):
    first, second = StringIO(), StringIO()
    call_command("seed", "--demo", "--if-empty", "--candidates", "50", "--jobs", "3", stdout=first)
    count = Candidate.objects.count()
    call_command("seed", "--demo", "--if-empty", "--candidates", "50", "--jobs", "3", stdout=second)

    assert count == 50 and Candidate.objects.count() == 50 and Job.objects.count() == 3
    assert "recruiter@rapport.demo" in first.getvalue() and "recruiter@rapport.demo" in second.getvalue()
    assert User.objects.filter(email="recruiter@rapport.demo").count() == 1


def test_the_same_seed_gives_the_same_people(db):
    seed(SeedOptions(candidates=30, jobs=3, seed=5))
    first = list(Candidate.objects.order_by("id").values_list("first_name", "last_name", "current_title", "city"))
    Candidate.objects.all().delete()
    seed(SeedOptions(candidates=30, jobs=3, seed=5))
    second = list(Candidate.objects.order_by("id").values_list("first_name", "last_name", "current_title", "city"))

    assert first == second


def test_seeding_again_adds_people_without_clashing(db):
    seed(SeedOptions(candidates=80, jobs=3, seed=3))
    seed(SeedOptions(candidates=80, jobs=3, seed=3))

    assert Candidate.objects.count() == 160
    assert CandidateEmail.objects.values("email").distinct().count() == CandidateEmail.objects.count()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--candidates", "-5"], "must not be negative"),
        (["--candidates", "lots"], "not a whole number"),
        (["--candidates", "5", "--big-job-applications", "10"], "cannot be larger"),
        (["--jobs", "0", "--applications", "10"], "needs at least one job"),
    ],
)
def test_bad_arguments_are_refused_with_a_clear_message(db, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("seed", *args, stdout=StringIO())


@pytest.mark.parametrize("country", ["DE", "FR", "US", "BR"])
def test_a_country_filter_narrows_the_search_without_losing_anyone(seeded, recruiter, country):
    """The country is matched in the index before the exact filter runs; the result must not change."""
    from rapport.candidates.selectors import candidates_visible_to
    from rapport.search.query import parse

    node = parse("engineer OR manager OR sales")
    scope = candidates_visible_to(recruiter).filter(country=country)
    narrowed = search_backend.search(node, scope=scope, limit=1_000, country=country)
    plain = search_backend.search(node, scope=scope, limit=1_000)

    # Same people and count.
    assert sorted(narrowed.ids) == sorted(plain.ids) and narrowed.total == plain.total
    assert set(narrowed.ids) == set(scope.filter(pk__in=plain.ids).values_list("id", flat=True))
    listed = candidate_list(user=recruiter, filters={"q": "engineer OR manager OR sales", "country": country})
    assert [c.pk for c in listed.items] == narrowed.ids[:50]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="facet words live in the PostgreSQL document only")
def test_a_bulk_load_with_triggers_off_still_writes_the_facet_words(db, recruiter):
    """A large seed loads with session_replication_role = replica, where the facet trigger does not fire."""
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
    try:
        seed(SeedOptions(candidates=120, jobs=5, applications=150, events=600, seed=5))
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = DEFAULT")

    person = Candidate.objects.exclude(country="").order_by("id").first()
    listed = candidate_list(
        user=recruiter,
        filters={"q": person.last_name, "country": person.country, "status": person.relationship_status},
    )
    assert person.pk in [c.pk for c in listed.items]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM search_candidate_document d JOIN candidates_candidate c ON c.id = d.candidate_id "
            "WHERE NOT d.document @@ to_tsquery('simple', 'zzcountry' || lower(c.country))"
        )
        assert cursor.fetchone()[0] == 0
