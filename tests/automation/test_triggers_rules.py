"""Triggers: the shipped defaults, the date rules (birthdays, inactivity), job alerts, enrolment, and the consumer's
speed."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.db.models.functions import ExtractDay, ExtractMonth
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from rapport.automation import defaults
from rapport.automation.models import Trigger, TriggerRun
from rapport.automation.services_triggers import (
    trigger_create,
    trigger_runs_run_due,
    triggers_consume,
    triggers_fire_date_rules,
    triggers_install_defaults,
)
from rapport.candidates.models import Candidate
from rapport.messaging.models import Message, MessageTemplate
from rapport.messaging.rendering import validate_parts
from rapport.messaging.selectors import message_render
from rapport.privacy.services import consent_record
from rapport.timeline.models import Activity
from tests.factories import CandidateFactory, make_candidate, make_job


@pytest.fixture
def quiet_defaults(db):
    Trigger.objects.filter(key__isnull=False).update(enabled=False)


def _caught_up() -> None:
    while triggers_consume():
        pass


# --- defaults -------------------------------------------------------------------------------------------------------

SCENARIOS = {
    "application.created",
    "application.stage_changed",
    "application.rejected",
    "meeting.scheduled",
    "meeting.logged",
    "offer.accepted",
    "application.hired",
    "message.sent",
    "candidate.birthday",
    "candidate.inactive",
    "job.opened",
}


def test_a_fresh_database_has_every_default_and_installing_again_changes_nothing(db, recruiter):
    shipped = {spec["key"] for spec in defaults.DEFAULT_TRIGGERS}
    assert set(Trigger.objects.filter(key__isnull=False).values_list("key", flat=True)) == shipped
    assert {t.event for t in Trigger.objects.filter(key__isnull=False)} == SCENARIOS
    # The migration leaves the template list alone; installing creates the templates and links them.
    assert not MessageTemplate.objects.filter(name__in=defaults.TEMPLATES).exists()
    Trigger.objects.filter(key="birthday_greeting").update(name="Birthdays (ours)", enabled=False)

    assert triggers_install_defaults() == 0
    assert triggers_install_defaults() == 0

    assert MessageTemplate.objects.filter(name__in=defaults.TEMPLATES).count() == len(defaults.TEMPLATES)
    birthday = Trigger.objects.get(key="birthday_greeting")
    assert birthday.name == "Birthdays (ours)" and birthday.enabled is False  # the team's change is kept
    assert birthday.template.name == "Automation: birthday greeting"
    Trigger.objects.filter(key="job_alert").delete()
    assert triggers_install_defaults() == 1
    assert Trigger.objects.filter(key="job_alert").count() == 1


def test_the_default_templates_use_only_documented_fields_and_render(world):
    triggers_install_defaults()
    for name, (_category, subject, body) in defaults.TEMPLATES.items():
        validate_parts({"subject": subject, "body": body})
        template = MessageTemplate.objects.get(name=name)
        for job in (None, world["job"]):
            rendered = message_render(
                sender=world["recruiter"],
                candidate=world["applicant"],
                address="grace@example.org",
                template=template,
                job=job,
            )
            assert "Grace" in rendered.text and "{{" not in rendered.text


def test_default_triggers_pass_their_own_validation(recruiter):
    from rapport.automation.services_triggers import _clean

    triggers_install_defaults()
    for trigger in Trigger.objects.filter(key__isnull=False):
        data = {
            "name": trigger.name,
            "event": trigger.event,
            "action": trigger.action,
            "conditions": trigger.conditions,
            "config": trigger.config,
            "delay_minutes": trigger.delay_minutes,
            "template_id": trigger.template_id,
        }
        _clean(actor=recruiter, data=data, trigger=None)


# --- date rules -----------------------------------------------------------------------------------------------------


def test_birthdays_greet_only_people_who_opted_in_on_their_own_day_once_a_year(db, recruiter, quiet_defaults):
    Trigger.objects.filter(key="birthday_greeting").update(enabled=True)
    now = datetime(2026, 6, 15, 20, 0, tzinfo=ZoneInfo("UTC"))
    # 20:00 UTC on 15 June is already 16 June in Tokyo, still 15 June in Berlin.
    berlin = make_candidate(
        first_name="Bea", emails=["bea@example.org"], birthday="1990-06-15", timezone="Europe/Berlin"
    )
    tokyo = make_candidate(first_name="Taro", emails=["taro@example.org"], birthday="1985-06-16", timezone="Asia/Tokyo")
    tokyo_wrong_day = make_candidate(
        first_name="Kenji", emails=["kenji@example.org"], birthday="1985-06-15", timezone="Asia/Tokyo"
    )
    not_opted_in = make_candidate(first_name="Nina", emails=["nina@example.org"], birthday="1990-06-15")
    withdrawn = make_candidate(first_name="Wes", emails=["wes@example.org"], birthday="1990-06-15")
    for person in (berlin, tokyo, tokyo_wrong_day, withdrawn):
        consent_record(candidate=person, purpose=defaults.BIRTHDAY_CONSENT, source="portal")
    from rapport.privacy.models import Consent

    Consent.objects.filter(candidate=withdrawn).update(withdrawn_at=now)

    assert triggers_fire_date_rules(now=now) == 2
    assert triggers_fire_date_rules(now=now + timedelta(hours=1)) == 0

    runs = {r.candidate_id: r for r in TriggerRun.objects.filter(trigger__key="birthday_greeting")}
    assert set(runs) == {berlin.pk, tokyo.pk}
    assert runs[berlin.pk].fired_for == f"c{berlin.pk}:2026"
    assert runs[berlin.pk].due_at == now  # past 09:00 their time: greet now
    trigger_runs_run_due(now=now)
    assert Message.objects.get(candidate=berlin).subject == "Happy birthday, Bea!"
    assert not_opted_in.pk not in runs


def test_the_birthday_lookup_reads_the_month_day_index(db):
    query = (
        Candidate.objects.filter(birthday__isnull=False)
        .annotate(bmonth=ExtractMonth("birthday"), bday=ExtractDay("birthday"))
        .filter(bmonth=6, bday=15)
    )
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # An empty table is cheapest to scan; rule the scan out to see that the index matches the query.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN {sql}", params)
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = " ".join(str(row) for row in cursor.fetchall())
    assert "candidate_birthday_md" in plan


def test_inactivity_finds_only_people_who_crossed_the_line_since_the_last_check(db, recruiter, quiet_defaults):
    Trigger.objects.filter(key="inactive_reengagement").update(enabled=True)
    now = timezone.now()
    quiet = make_candidate(first_name="Quinn", emails=["quinn@example.org"], relationship_status="nurturing")
    long_gone = make_candidate(first_name="Lou", emails=["lou@example.org"], relationship_status="nurturing")
    recent = make_candidate(first_name="Rae", emails=["rae@example.org"], relationship_status="nurturing")
    applicant = make_candidate(first_name="Abe", emails=["abe@example.org"], relationship_status="applicant")
    year = timedelta(days=round(12 * 30.44))
    Candidate.objects.filter(pk=quiet.pk).update(updated_at=now - year - timedelta(hours=2))
    Candidate.objects.filter(pk=long_gone.pk).update(updated_at=now - year - timedelta(days=40))
    Candidate.objects.filter(pk=recent.pk).update(updated_at=now - timedelta(days=3))
    Candidate.objects.filter(pk=applicant.pk).update(updated_at=now - year - timedelta(hours=3))

    assert triggers_fire_date_rules(now=now) == 1
    assert triggers_fire_date_rules(now=now + timedelta(minutes=5)) == 0
    Candidate.objects.filter(pk=recent.pk).update(updated_at=now - year + timedelta(hours=1))
    assert triggers_fire_date_rules(now=now + timedelta(hours=2)) == 1

    assert set(TriggerRun.objects.values_list("candidate_id", flat=True)) == {quiet.pk, recent.pk}


# --- job alerts -----------------------------------------------------------------------------------------------------


def test_a_job_opening_alerts_the_talent_community_members_interested_in_it(db, recruiter, quiet_defaults):
    Trigger.objects.filter(key="job_alert").update(enabled=True)
    from rapport.careers.services import talent_community_join

    allowed = ["Engineering", "Sales"]
    engineer = talent_community_join(
        data={"first_name": "Eve", "last_name": "E", "email": "eve@example.org"},
        interests=["Engineering"],
        allowed_interests=allowed,
        consent=True,
    ).candidate
    seller = talent_community_join(
        data={"first_name": "Sam", "last_name": "S", "email": "sam@example.org"},
        interests=["Sales"],
        allowed_interests=allowed,
        consent=True,
    ).candidate
    _caught_up()

    draft = make_job(actor=recruiter, title="Compiler Engineer", department="Engineering", status="draft")
    from rapport.jobs.services import job_update

    job_update(actor=recruiter, job=draft, data={"status": "open"})
    job_update(actor=recruiter, job=draft, data={"status": "on_hold"})
    job_update(actor=recruiter, job=draft, data={"status": "open"})  # reopened: no second alert
    opened = Activity.objects.filter(type="job.opened", job=draft).order_by("id")
    assert [a.payload["reopened"] for a in opened] == [False, True]
    assert all(a.candidate_id is None for a in opened)
    triggers_consume()

    runs = list(TriggerRun.objects.filter(trigger__key="job_alert"))
    assert [r.candidate_id for r in runs] == [engineer.pk]
    trigger_runs_run_due()
    alert = Message.objects.get(candidate=engineer)
    assert alert.subject == "A new role: Compiler Engineer"
    assert not Message.objects.filter(candidate=seller).exists()


# --- enrolment ------------------------------------------------------------------------------------------------------


def test_an_enrol_trigger_enrols_the_person_in_its_sequence(world, recruiter, quiet_defaults):
    from rapport.automation.models import Enrolment
    from rapport.automation.services_sequences import sequence_create

    sequence = sequence_create(
        actor=recruiter,
        data={"name": "Keep warm", "status": "active", "steps": [{"type": "task", "title": "Call", "due_in_days": 1}]},
    )
    trigger_create(
        actor=recruiter,
        data={
            "name": "Nurture the noted",
            "event": "note.added",
            "action": "enrol",
            "sequence_id": sequence.pk,
            "enabled": True,
        },
    )
    _caught_up()
    from rapport.timeline.services import note_add

    note_add(actor=recruiter, candidate=world["applicant"], body="Great, but not now")
    note_add(actor=recruiter, candidate=world["applicant"], body="Still great")
    triggers_consume()
    trigger_runs_run_due()

    enrolment = Enrolment.objects.get(sequence=sequence, candidate=world["applicant"])
    assert enrolment.source == "trigger"
    statuses = sorted(TriggerRun.objects.filter(trigger__name="Nurture the noted").values_list("status", flat=True))
    assert statuses == ["done", "skipped"]  # the second finds them already in it


# --- batching (its speed is measured in bench/automation.py, not here) -----------------------------------------------


def test_the_consumer_reads_a_backlog_in_batches_never_a_query_per_event(db, recruiter, quiet_defaults):
    for event in ("application.rejected", "note.added", "message.opened"):
        trigger_create(
            actor=recruiter,
            data={
                "name": f"On {event}",
                "event": event,
                "action": "add_tag",
                "enabled": True,
                "conditions": [{"field": "candidate.relationship_status", "op": "ne", "value": "do_not_contact"}],
                "config": {"tag": "seen", "offsets": [0, 60]},
            },
        )
    _caught_up()
    people = CandidateFactory.create_batch(200)
    now = timezone.now()
    kinds = ["note.added", "message.opened", "message.sent", "tag.added", "application.rejected"]
    Activity.objects.bulk_create(
        [
            Activity(type=kinds[i % len(kinds)], candidate=people[i % len(people)], occurred_at=now, payload={"n": i})
            for i in range(10_000)
        ],
        batch_size=2000,
    )

    with CaptureQueriesContext(connection) as queries:
        batches = []
        while step := triggers_consume(limit=5000):
            batches.append(step)

    # Only the three listened-to types are read: 6,000 events, a full batch and then the rest.
    assert batches == [5_000, 1_000]
    from rapport.notifications.models import TimelineCursor

    assert TimelineCursor.objects.get(name="triggers").last_id == Activity.objects.order_by("-id").first().pk
    assert TriggerRun.objects.count() == 6_000 * 2  # three of five types match, two offsets each
    # Batched: inserts go in chunks (SQLite allows few parameters per statement), never a query per event.
    assert len(queries) < 500
