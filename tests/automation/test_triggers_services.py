"""Triggers: validation, matching the timeline, scheduling runs (delays, offsets, anchors) and executing them."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from rapport.automation.models import Task, Trigger, TriggerRun, TriggerRunStatus
from rapport.automation.selectors_triggers import trigger_run_get_for_user, trigger_runs_upcoming
from rapport.automation.services_triggers import (
    MAX_ATTEMPTS,
    condition_holds,
    meeting_scheduled_record,
    offer_accepted_record,
    trigger_create,
    trigger_run_send_now,
    trigger_run_skip,
    trigger_runs_run_due,
    trigger_update,
    triggers_consume,
)
from rapport.candidates.models import Candidate, PoolMembership
from rapport.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from rapport.messaging.models import Message, MessageTemplate
from rapport.messaging.services import message_template_create
from rapport.pipeline.services import application_move, application_reject
from rapport.timeline.models import Activity
from tests.factories import make_candidate


@pytest.fixture
def quiet_defaults(db):
    """Switch the shipped defaults off, so each test sees only the triggers it makes."""
    Trigger.objects.filter(key__isnull=False).update(enabled=False)


@pytest.fixture
def template(recruiter):
    return message_template_create(
        actor=recruiter,
        data={
            "name": "Hello again",
            "channel": "email",
            "category": "nurture",
            "subject": "Hello {{ candidate.first_name }}",
            "body": "Hi {{ candidate.first_name }},\n\nGood news.\n\nSee you soon.",
        },
    )


def _caught_up() -> None:
    """Move the consumer past everything recorded so far (the fixtures' own events)."""
    while triggers_consume():
        pass


def _later(**delta) -> datetime:
    return timezone.now() + timedelta(**delta)


# --- validation -----------------------------------------------------------------------------------------------------


def test_a_trigger_body_is_checked_field_by_field(recruiter, template, quiet_defaults):
    with pytest.raises(ValidationFailed) as bad:
        trigger_create(
            actor=recruiter,
            data={
                "name": "Broken",
                "event": "application.rejected",
                "action": "send_message",
                "template_id": template.pk,
                "conditions": [
                    {"field": "stage", "op": "eq", "value": "Offer"},
                    {"field": "candidate.shoe_size", "op": "eq", "value": 42},
                    {"field": "job.id", "op": "between", "value": 1},
                    {"field": "job.id", "op": "in", "value": "1,2"},
                ],
                "config": {"offsets": [60, 60], "colour": "red"},
            },
        )
    fields = bad.value.fields
    assert set(fields) == {
        "conditions[1].field",
        "conditions[2].op",
        "conditions[3].value",
        "config.offsets",
        "config.colour",
    }

    with pytest.raises(ValidationFailed) as no_template:
        trigger_create(actor=recruiter, data={"name": "x", "event": "application.hired", "action": "send_message"})
    assert "template_id" in no_template.value.fields
    with pytest.raises(ValidationFailed) as unknown_event:
        trigger_create(actor=recruiter, data={"name": "x", "event": "nope.never", "action": "add_tag"})
    assert {"event"} <= set(unknown_event.value.fields)
    with pytest.raises(ValidationFailed) as no_sequence:
        trigger_create(
            actor=recruiter, data={"name": "x", "event": "application.hired", "action": "enrol", "enabled": True}
        )
    assert "sequence_id" in no_sequence.value.fields
    assert not Trigger.objects.filter(name__in=["Broken", "x"]).exists()


def test_only_admins_and_recruiters_create_and_change_triggers(world, template, quiet_defaults):
    data = {"name": "Tag hires", "event": "application.hired", "action": "add_tag", "config": {"tag": "alumni"}}
    for role in ("hiring_manager", "interviewer", "outsider"):
        with pytest.raises(PermissionDenied):
            trigger_create(actor=world[role], data=data)
    trigger = trigger_create(actor=world["admin"], data=data)
    assert trigger.enabled is False

    changed = trigger_update(actor=world["recruiter"], trigger=trigger, data={"enabled": True, "delay_minutes": 30})
    assert changed.enabled and changed.delay_minutes == 30
    with pytest.raises(PermissionDenied):
        trigger_update(actor=world["hiring_manager"], trigger=trigger, data={"enabled": False})


@pytest.mark.parametrize(
    "actual, op, expected, holds",
    [
        ("Offer", "eq", "offer", True),
        ("Offer", "ne", "Offer", False),
        (42, "eq", "42", True),
        ("applicant", "in", ["lead", "applicant"], True),
        (["interest:Engineering", "python"], "contains", "Python", True),
        ("Senior engineer", "contains", "engineer", True),
        (None, "eq", "x", False),
        (False, "eq", False, True),
        (None, "ne", True, True),
    ],
)
def test_conditions(actual, op, expected, holds):
    assert condition_holds(actual, op, expected) is holds


# --- matching and executing ---------------------------------------------------------------------------------------


def test_a_rejection_schedules_the_default_email_with_its_reason_then_pool(world, quiet_defaults):
    Trigger.objects.filter(key__in=["rejected_message", "rejected_pool"]).update(enabled=True)
    from rapport.pipeline.models import RejectionReason

    reason = RejectionReason.objects.create(name="Position filled by someone else")
    application = world["application"]
    application_move(
        actor=world["recruiter"], application=application, stage=application.job.stages.get(name="Screening")
    )
    _caught_up()
    application.refresh_from_db()
    application_reject(actor=world["recruiter"], application=application, reason_id=reason.pk)

    assert triggers_consume() > 0
    runs = list(TriggerRun.objects.filter(candidate=world["applicant"]).order_by("trigger__key"))
    assert [r.trigger.key for r in runs] == ["rejected_message", "rejected_pool"]
    assert all(r.status == "scheduled" for r in runs)
    rejected_at = Activity.objects.get(type="application.rejected").occurred_at
    assert all(r.due_at == rejected_at + timedelta(days=1) for r in runs)

    assert trigger_runs_run_due(now=_later(hours=1)) == 0  # not due yet
    assert trigger_runs_run_due(now=_later(days=1, minutes=1)) == 2

    message = Message.objects.get(candidate=world["applicant"])
    assert "Position filled by someone else" in message.text
    assert (
        message.text.index("not to go further")
        < message.text.index("Position filled")
        < message.text.index("This is about this role")
    )
    assert "{{" not in message.text
    assert PoolMembership.objects.filter(candidate=world["applicant"], pool__name="Past applicants").exists()
    # The template the migration left out was created on first use and linked to the trigger.
    assert Trigger.objects.get(key="rejected_message").template.name == "Automation: rejection"
    ran = Activity.objects.filter(candidate=world["applicant"], type="trigger.ran")
    assert {a.payload["trigger"] for a in ran} == {
        "Rejected: the reason and some encouragement",
        "Rejected: keep in the talent pool",
    }
    assert {r.status for r in TriggerRun.objects.filter(candidate=world["applicant"])} == {"done"}


def test_reading_the_same_events_again_fires_nothing_twice(world, recruiter, quiet_defaults):
    trigger_create(
        actor=recruiter,
        data={
            "name": "Tag hires",
            "event": "application.stage_changed",
            "action": "add_tag",
            "enabled": True,
            "conditions": [{"field": "to_stage", "op": "eq", "value": "screening"}],
            "config": {"tag": "screened"},
        },
    )
    _caught_up()
    application = world["application"]
    job = application.job
    application_move(actor=recruiter, application=application, stage=job.stages.get(name="Interview"))
    application_move(actor=recruiter, application=application, stage=job.stages.get(name="Screening"))
    triggers_consume()
    from rapport.notifications.models import TimelineCursor

    TimelineCursor.objects.filter(name="triggers").update(last_id=0)
    _caught_up()

    runs = TriggerRun.objects.filter(trigger__name="Tag hires")
    assert runs.count() == 1  # only the move to Screening matched, and only once
    trigger_runs_run_due()
    assert world["applicant"].candidate_tags.filter(tag__name="screened").exists()
    tag_event = Activity.objects.get(candidate=world["applicant"], type="tag.added", payload__tag="screened")
    assert tag_event.payload["trigger"] == "Tag hires"


def test_interview_reminders_come_24_h_and_2_h_before_in_the_persons_time_zone(world, quiet_defaults):
    Trigger.objects.filter(key="interview_reminders").update(enabled=True)
    applicant = world["applicant"]
    Candidate.objects.filter(pk=applicant.pk).update(timezone="America/New_York")
    applicant.refresh_from_db()
    _caught_up()
    starts_at = (timezone.now() + timedelta(days=3)).replace(microsecond=0)
    meeting_scheduled_record(
        actor=world["recruiter"],
        candidate=applicant,
        application=world["application"],
        starts_at=starts_at,
        title="Technical interview",
        location="Room 4, 1 Main Street",
        preparation="Bring your portfolio.",
    )
    soon = (timezone.now() + timedelta(hours=3)).replace(microsecond=0)
    meeting_scheduled_record(actor=world["recruiter"], candidate=applicant, starts_at=soon, title="Quick call")
    triggers_consume()

    runs = list(TriggerRun.objects.filter(candidate=applicant).order_by("due_at"))
    # The second meeting is only 3 h away: its 24 h reminder is left out.
    assert [(r.due_at, r.offset) for r in runs] == [
        (soon - timedelta(hours=2), -120),
        (starts_at - timedelta(hours=24), -1440),
        (starts_at - timedelta(hours=2), -120),
    ]
    assert trigger_runs_run_due(now=soon - timedelta(minutes=119)) == 1
    assert trigger_runs_run_due(now=starts_at - timedelta(hours=23)) == 1
    texts = [m.text for m in Message.objects.filter(candidate=applicant).order_by("id")]
    local = starts_at.astimezone(ZoneInfo("America/New_York"))
    assert f"{local:%H:%M} (America/New_York)" in texts[1]
    assert "Room 4, 1 Main Street" in texts[1] and "Bring your portfolio." in texts[1]
    assert "photo ID" in texts[1]

    # A reminder that comes due only after its meeting began is skipped, not sent late.
    last = runs[2]
    assert trigger_runs_run_due(now=starts_at + timedelta(minutes=5)) == 1
    last.refresh_from_db()
    assert last.status == "skipped" and "Too late" in last.detail


def test_an_outreach_follow_up_is_skipped_when_the_person_replied(world, recruiter, quiet_defaults):
    Trigger.objects.filter(key="outreach_follow_up").update(enabled=True)
    outreach = message_template_create(
        actor=recruiter,
        data={"name": "Outreach", "channel": "email", "category": "outreach", "subject": "A role", "body": "Hi"},
    )
    from rapport.messaging.services import message_send
    from rapport.messaging.services_inbound import message_receive

    bystander = world["bystander"]
    replied = message_send(actor=recruiter, candidate=world["applicant"], template=outreach)
    silent = message_send(actor=recruiter, candidate=bystander, template=outreach)
    _caught_up()
    now = timezone.now()
    for message in (replied, silent):
        Activity.objects.create(
            type="message.sent", candidate=message.candidate, occurred_at=now, payload={"message_id": message.pk}
        )
    manual = message_send(actor=recruiter, candidate=bystander, subject="Hi", body="Not outreach")
    Activity.objects.create(
        type="message.sent", candidate=bystander, occurred_at=now, payload={"message_id": manual.pk}
    )
    triggers_consume()
    assert TriggerRun.objects.filter(trigger__key="outreach_follow_up").count() == 2
    message_receive(
        candidate=world["applicant"],
        channel="email",
        from_address="grace@example.org",
        subject="Re: A role",
        text="Yes!",
    )

    trigger_runs_run_due(now=_later(days=4, minutes=1))

    runs = {r.candidate_id: r for r in TriggerRun.objects.filter(trigger__key="outreach_follow_up")}
    assert runs[world["applicant"].pk].status == "skipped" and "replied" in runs[world["applicant"].pk].detail
    assert runs[bystander.pk].status == "done"
    follow_up = Message.objects.get(candidate=bystander, subject="Following up")
    assert follow_up.kind == "automated" and follow_up.idempotency_key == f"trig:{runs[bystander.pk].pk}"


def test_hired_check_ins_follow_the_accepted_offers_start_date(world, quiet_defaults):
    Trigger.objects.filter(key__in=["hired_checkins", "hired_manager_checkins", "offer_accepted_prejoining"]).update(
        enabled=True
    )
    application = world["application"]
    _caught_up()
    start = timezone.localdate() + timedelta(days=20)
    offer_accepted_record(actor=world["recruiter"], application=application, start_date=start)
    application_move(actor=world["recruiter"], application=application, stage=application.job.stages.get(name="Hired"))
    triggers_consume()

    from django.conf import settings

    # The person has no time zone: the organisation's is used; a start date means 09:00 there.
    zone = ZoneInfo(settings.RAPPORT_DEFAULT_TIMEZONE)
    start_at = datetime.combine(start, datetime.min.time().replace(hour=9), tzinfo=zone)
    checkins = TriggerRun.objects.filter(trigger__key="hired_checkins").order_by("due_at")
    assert [r.due_at for r in checkins] == [start_at + timedelta(days=d) for d in (30, 60, 90)]
    assert TriggerRun.objects.filter(trigger__key="hired_manager_checkins").count() == 3
    prejoining = TriggerRun.objects.filter(trigger__key="offer_accepted_prejoining").order_by("due_at")
    assert [r.due_at for r in prejoining] == [start_at - timedelta(days=14), start_at - timedelta(days=3)]

    assert trigger_runs_run_due(now=start_at - timedelta(days=3) + timedelta(minutes=1)) == 2
    trigger_runs_run_due(now=start_at + timedelta(days=30, minutes=1))
    task = Task.objects.get(source="trigger", candidate=world["applicant"])
    assert task.owner == world["hiring_manager"] and "Grace Hopper" in task.title
    assert Message.objects.filter(candidate=world["applicant"], subject__startswith="How are your first").count() == 1
    assert Message.objects.filter(candidate=world["applicant"], subject__contains="first day").count() == 2


def test_the_acknowledgement_is_off_and_skips_applications_already_acknowledged(world, recruiter):
    ack = Trigger.objects.get(key="application_received_ack")
    assert ack.enabled is False
    Trigger.objects.filter(key__isnull=False).update(enabled=False)
    trigger_update(actor=recruiter, trigger=ack, data={"enabled": True})
    ack.refresh_from_db()
    assert ack.template.name == "Automation: application received"  # created when switched on
    _caught_up()
    from rapport.messaging.services_automated import message_send_automated
    from rapport.pipeline.services import application_create

    careers = make_candidate(actor=recruiter, first_name="Ada", emails=["ada@example.org"])
    by_hand = make_candidate(actor=recruiter, first_name="Alan", last_name="Kay", emails=["kay@example.org"])
    from_site = application_create(actor=None, candidate=careers, job=world["job"], check_permission=False)
    message_send_automated(candidate=careers, subject="Thanks", body="We got it", application=from_site)
    application_create(actor=recruiter, candidate=by_hand, job=world["job"])
    triggers_consume()

    trigger_runs_run_due()

    runs = {r.candidate_id: r for r in TriggerRun.objects.filter(trigger=ack)}
    assert runs[careers.pk].status == "skipped" and "already got a message" in runs[careers.pk].detail
    assert runs[by_hand.pk].status == "done"
    assert Message.objects.filter(candidate=careers).count() == 1


def test_a_failing_run_is_retried_with_backoff_then_failed_without_blocking_others(
    world, recruiter, quiet_defaults, caplog
):
    broken = trigger_create(
        actor=recruiter,
        data={
            "name": "Broken task",
            "event": "note.added",
            "action": "create_task",
            "enabled": True,
            "config": {"title": "Call {candidate}"},
        },
    )
    # A value the form would refuse, as if written straight into the database: each run raises.
    Trigger.objects.filter(pk=broken.pk).update(config={"title": "Call {candidate}", "days": "soon"})
    fine = trigger_create(
        actor=recruiter,
        data={
            "name": "Tag noted",
            "event": "note.added",
            "action": "add_tag",
            "enabled": True,
            "config": {"tag": "noted"},
        },
    )
    _caught_up()
    from rapport.timeline.services import note_add

    note_add(actor=recruiter, candidate=world["applicant"], body="Met at the meetup")
    triggers_consume()

    now = timezone.now()
    assert trigger_runs_run_due(now=now) == 2
    assert TriggerRun.objects.get(trigger=fine).status == "done"
    run = TriggerRun.objects.get(trigger=broken)
    assert run.status == "scheduled" and run.attempts == 1 and run.due_at == now + timedelta(minutes=1)
    delays = []
    for _attempt in range(2, MAX_ATTEMPTS + 1):
        previous = run.due_at
        trigger_runs_run_due(now=previous)
        run.refresh_from_db()
        if run.status == "scheduled":
            delays.append(run.due_at - previous)
    assert delays == [timedelta(minutes=2**n) for n in range(1, MAX_ATTEMPTS - 1)]
    assert run.status == "failed" and run.attempts == MAX_ATTEMPTS and "Failed after 8 attempts" in run.detail
    assert any("failed after 8 attempts" in r.getMessage() for r in caplog.records)
    assert not Task.objects.filter(source="trigger").exists()


def test_runs_of_a_trigger_switched_off_are_skipped(world, recruiter, quiet_defaults):
    trigger = trigger_create(
        actor=recruiter,
        data={"name": "Tag", "event": "note.added", "action": "add_tag", "enabled": True, "config": {"tag": "x"}},
    )
    _caught_up()
    from rapport.timeline.services import note_add

    note_add(actor=recruiter, candidate=world["applicant"], body="Hi")
    triggers_consume()
    trigger_update(actor=recruiter, trigger=trigger, data={"enabled": False})

    trigger_runs_run_due()

    run = TriggerRun.objects.get(trigger=trigger)
    assert run.status == "skipped" and "switched off" in run.detail


def test_upcoming_touches_can_be_skipped_or_sent_now(world, recruiter, template, quiet_defaults):
    trigger = trigger_create(
        actor=recruiter,
        data={
            "name": "Nudge after a call",
            "event": "call.logged",
            "action": "send_message",
            "template_id": template.pk,
            "enabled": True,
            "delay_minutes": 60 * 24 * 2,
        },
    )
    _caught_up()
    from rapport.timeline.services import note_add

    note_add(actor=recruiter, candidate=world["applicant"], body="Called", kind="call")
    note_add(actor=recruiter, candidate=world["applicant"], body="Called again", kind="call")
    triggers_consume()

    touches = trigger_runs_upcoming(candidate=world["applicant"])
    assert [t.source_name for t in touches] == ["Nudge after a call"] * 2
    assert touches[0].template_id == template.pk and touches[0].source_type == "trigger"
    first = trigger_run_get_for_user(user=recruiter, run_id=touches[0].run_id)
    second = trigger_run_get_for_user(user=recruiter, run_id=touches[1].run_id)
    with pytest.raises(NotFound):
        trigger_run_get_for_user(user=world["hiring_manager"], run_id=first.pk)

    trigger_run_skip(actor=recruiter, run=first)
    trigger_run_send_now(actor=recruiter, run=second)
    with pytest.raises(Conflict):
        trigger_run_skip(actor=recruiter, run=first)
    trigger_runs_run_due()

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == "skipped" and recruiter.name in first.detail
    assert second.status == "done" and second.message.subject == "Hello Grace"
    assert trigger_runs_upcoming(candidate=world["applicant"]) == []
    assert TriggerRun.objects.filter(trigger=trigger).count() == 2


def test_a_person_who_cannot_be_emailed_is_skipped_with_the_reason(world, recruiter, template, quiet_defaults):
    trigger_create(
        actor=recruiter,
        data={
            "name": "Hello",
            "event": "note.added",
            "action": "send_message",
            "template_id": template.pk,
            "enabled": True,
        },
    )
    _caught_up()
    from rapport.candidates.services import candidate_update
    from rapport.timeline.services import note_add

    note_add(actor=recruiter, candidate=world["applicant"], body="Hi")
    candidate_update(actor=recruiter, candidate=world["applicant"], data={"relationship_status": "do_not_contact"})
    triggers_consume()

    trigger_runs_run_due()

    run = TriggerRun.objects.get(trigger__name="Hello")
    assert run.status == TriggerRunStatus.SKIPPED and "do not contact" in run.detail
    assert not Message.objects.filter(candidate=world["applicant"]).exists()


def test_meeting_and_offer_events_are_checked(world):
    with pytest.raises(ValidationFailed):
        meeting_scheduled_record(actor=world["recruiter"], candidate=world["applicant"], starts_at=datetime(2030, 1, 1))
    with pytest.raises(NotFound):
        meeting_scheduled_record(
            actor=world["outsider"], candidate=world["applicant"], starts_at=timezone.now() + timedelta(days=1)
        )
    with pytest.raises(PermissionDenied):
        offer_accepted_record(actor=world["interviewer"], application=world["application"], start_date=date(2030, 1, 1))
    assert not MessageTemplate.objects.filter(name__startswith="Automation:").exists()


def test_entering_a_stage_sends_its_default_template_or_gives_the_recruiter_a_task(world, recruiter, quiet_defaults):
    Trigger.objects.filter(key="stage_entered_template").update(enabled=True)
    from rapport.jobs.services import stage_default_template_set

    job = world["job"]
    invite = message_template_create(
        actor=recruiter,
        data={"name": "Invite", "channel": "email", "category": "interview", "subject": "Let's talk", "body": "Hi"},
    )
    stage_default_template_set(actor=recruiter, stage=job.stages.get(name="Interview"), template=invite)
    application = world["application"]
    _caught_up()
    application_move(actor=recruiter, application=application, stage=job.stages.get(name="Interview"))
    application_move(actor=recruiter, application=application, stage=job.stages.get(name="Offer"))
    triggers_consume()

    assert trigger_runs_run_due() == 2

    assert Message.objects.get(candidate=world["applicant"]).subject == "Let's talk"
    task = Task.objects.get(source="trigger", candidate=world["applicant"])
    assert task.title == "Follow up: Grace Hopper entered Offer" and task.owner == recruiter
    assert task.source_id == str(Trigger.objects.get(key="stage_entered_template").pk)


def test_a_shipped_trigger_keeps_its_template_when_its_settings_are_edited(recruiter, quiet_defaults):
    trigger = Trigger.objects.get(key="rejected_message")

    trigger_update(actor=recruiter, trigger=trigger, data={"config": {"details": False}, "enabled": True})

    trigger.refresh_from_db()
    assert trigger.config == {"details": False, "default_template": "Automation: rejection"}
    assert trigger.template.name == "Automation: rejection"


def test_a_rebooked_meeting_sends_only_the_new_bookings_reminders(world, quiet_defaults):
    Trigger.objects.filter(key="interview_reminders").update(enabled=True)
    _caught_up()
    first = (timezone.now() + timedelta(days=2)).replace(microsecond=0)
    moved = first + timedelta(days=1)
    for starts_at in (first, moved):
        meeting_scheduled_record(
            actor=world["recruiter"], candidate=world["applicant"], starts_at=starts_at, meeting_id="int-7"
        )
    triggers_consume()

    trigger_runs_run_due(now=moved - timedelta(hours=3))

    by_time = {r.due_at: r for r in TriggerRun.objects.filter(trigger__key="interview_reminders")}
    assert {r.status for due, r in by_time.items() if due < first} == {"skipped"}
    assert by_time[moved - timedelta(hours=24)].status == "done"
    assert Message.objects.filter(candidate=world["applicant"]).count() == 1


# --- surveys --------------------------------------------------------------------------------------------------------


def test_a_logged_meeting_sends_the_after_interview_survey_once_per_cool_down(recruiter, quiet_defaults):
    from rapport.surveys.models import SurveyInvitation
    from rapport.timeline.services import note_add

    person = make_candidate(actor=recruiter, first_name="Grace", emails=["grace@example.org"])
    trigger_create(
        actor=recruiter,
        data={
            "name": "Interview survey",
            "event": "meeting.logged",
            "action": "send_survey",
            "enabled": True,
            "config": {"moment": "after_interview"},
        },
    )
    _caught_up()

    note_add(actor=recruiter, candidate=person, body="First interview", kind="meeting")
    note_add(actor=recruiter, candidate=person, body="Second interview", kind="meeting")
    triggers_consume()
    trigger_runs_run_due()

    invitation = SurveyInvitation.objects.get(candidate=person)
    assert invitation.survey.moment == "after_interview"
    runs = TriggerRun.objects.filter(trigger__name="Interview survey").order_by("id")
    assert [r.status for r in runs] == [TriggerRunStatus.DONE, TriggerRunStatus.SKIPPED]
    assert "had a survey lately" in runs[1].detail
    assert Message.objects.filter(candidate=person, subject__isnull=False).count() == 1


def test_a_survey_trigger_names_its_survey_or_moment(recruiter, quiet_defaults):
    with pytest.raises(ValidationFailed) as bad:
        trigger_create(
            actor=recruiter,
            data={"name": "Survey", "event": "meeting.logged", "action": "send_survey", "config": {"moment": "soon"}},
        )

    assert "config.moment" in bad.value.fields
