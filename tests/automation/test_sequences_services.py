"""Sequences end to end at the service level: building (with errors naming the step), enrolment and its skips,
the dispatcher walking people through message, wait, task, tag, pool and branch steps through the real outbox,
send windows in each person's zone, idempotency, pause and resume, exits and segment auto-enrolment from the
timeline, upcoming touches, statistics, and refusing to delete a template in use."""

from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from rapport.automation.models import Enrolment, SequenceStep, StepRun, Task
from rapport.automation.selectors_sequences import enrolment_upcoming, sequence_stats
from rapport.automation.services_sequences import (
    enrolment_exit,
    enrolment_pause,
    enrolment_resume,
    enrolment_send_now,
    enrolment_skip_step,
    enrolments_run_due,
    sequence_create,
    sequence_enrol,
    sequence_update,
    sequences_from_timeline,
)
from rapport.candidates.models import CandidateTag, PoolMembership
from rapport.common.errors import Conflict, PermissionDenied, ValidationFailed
from rapport.messaging.models import Message, MessageKind, Suppression
from rapport.messaging.services import message_template_create, message_template_delete
from rapport.timeline.models import Activity
from tests.factories import TalentPoolFactory, make_candidate


@pytest.fixture
def email_template(recruiter):
    return message_template_create(
        actor=recruiter,
        data={"name": "Hello", "channel": "email", "subject": "Hi {{ candidate.first_name }}", "body": "Hello!"},
    )


@pytest.fixture
def other_template(recruiter):
    return message_template_create(
        actor=recruiter,
        data={"name": "Hello B", "channel": "email", "subject": "Hey {{ candidate.first_name }}", "body": "Hey!"},
    )


@pytest.fixture
def sms_template(recruiter):
    return message_template_create(actor=recruiter, data={"name": "Text", "channel": "sms", "body": "Hi there"})


@pytest.fixture
def grace(recruiter):
    return make_candidate(
        actor=recruiter,
        first_name="Grace",
        last_name="Hopper",
        emails=["grace@example.org"],
        owner_id=recruiter.pk,
        timezone="Europe/Berlin",
    )


@pytest.fixture
def alan(recruiter):
    return make_candidate(actor=recruiter, first_name="Alan", last_name="Turing", emails=["alan@example.org"])


def _sequence(actor, steps, **data):
    return sequence_create(
        actor=actor, data={"name": data.pop("name", "Nurture"), "status": "active", "steps": steps, **data}
    )


def _enrol(actor, sequence, *people):
    return sequence_enrol(actor=actor, sequence=sequence, candidate_ids=[p.pk for p in people])


def _later(minutes=1):
    return timezone.now() + timedelta(minutes=minutes)


# --- building -------------------------------------------------------------------------------------------------------


def test_a_sequence_is_stored_with_its_steps_and_ab_variants(recruiter, email_template, other_template):
    sequence = _sequence(
        recruiter,
        [
            {
                "type": "message",
                "channel": "email",
                "template_id": str(email_template.pk),
                "variants": [
                    {"template_id": str(email_template.pk), "weight": 50},
                    {"template_id": str(other_template.pk), "weight": 50},
                ],
            },
            {"type": "wait", "days": 3, "business_days": True},
            {"type": "task", "title": "Call {{ candidate.first_name }}", "due_in_days": 1},
        ],
        send_window={"start": "09:00", "end": "17:00", "days": ["mon", "tue", "wed", "thu", "fri"]},
    )

    steps = list(sequence.steps.order_by("position"))
    assert [s.type for s in steps] == ["message", "wait", "task"]
    assert [(v.label, v.template_id) for v in steps[0].variants.all()] == [
        ("A", email_template.pk),
        ("B", other_template.pk),
    ]
    assert steps[1].config == {"days": 3, "business_days": True}
    assert sequence.send_window_days == ["mon", "tue", "wed", "thu", "fri"]
    assert sequence.exit_on == ["replied", "applied", "stage_changed", "unsubscribed", "do_not_contact", "hired"]


@pytest.mark.parametrize(
    ("steps", "extra", "field"),
    [
        ([{"type": "message", "channel": "email", "template_id": "999999"}], {}, "steps[0].template_id"),
        (
            [{"type": "wait", "days": 1}, {"type": "message", "channel": "sms", "template_id": "TPL"}],
            {},
            "steps[1].template_id",
        ),
        ([{"type": "wait", "days": 0}], {}, "steps[0].days"),
        ([{"type": "wait", "hours": 2, "business_days": True}], {}, "steps[0].business_days"),
        ([{"type": "wait", "until": {"weekday": "someday", "time": "09:00"}}], {}, "steps[0].until.weekday"),
        (
            [{"type": "wait", "days": 1}, {"type": "branch", "on": "opened", "within_days": 2, "then": 0}],
            {},
            "steps[1].then",
        ),
        ([{"type": "branch", "on": "liked", "within_days": 2, "then": 1}], {}, "steps[0].on"),
        ([{"type": "task", "title": "Call {{ candidate.frist_name }}"}], {}, "steps[0].title"),
        ([{"type": "pool", "pool_id": "999999"}], {}, "steps[0].pool_id"),
        ([{"type": "dance"}], {}, "steps[0].type"),
        ([{"type": "wait", "days": 1}], {"send_window": {"start": "17:00", "end": "09:00"}}, "send_window.end"),
        ([{"type": "wait", "days": 1}], {"exit_on": ["bored"]}, "exit_on"),
        ([{"type": "wait", "days": 1}], {"sender": "999999"}, "sender"),
    ],
)
def test_bad_steps_and_settings_are_refused_naming_the_field(recruiter, email_template, steps, extra, field):
    for step in steps:
        if step.get("template_id") == "TPL":
            step["template_id"] = str(email_template.pk)  # an email template on an SMS step

    with pytest.raises(ValidationFailed) as caught:
        _sequence(recruiter, steps, **extra)

    assert field in caught.value.fields


def test_ab_variant_weights_must_be_whole_numbers(recruiter, email_template, other_template):
    step = {
        "type": "message",
        "variants": [{"template_id": email_template.pk, "weight": 0}, {"template_id": other_template.pk}],
    }

    with pytest.raises(ValidationFailed) as caught:
        _sequence(recruiter, [step])

    assert "steps[0].variants[0].weight" in caught.value.fields


def test_only_admins_and_recruiters_build_sequences(hiring_manager):
    with pytest.raises(PermissionDenied):
        sequence_create(actor=hiring_manager, data={"name": "Nope", "steps": []})


def test_changing_the_steps_keeps_the_runs_of_positions_that_remain(recruiter, grace, email_template):
    sequence = _sequence(
        recruiter, [{"type": "message", "template_id": email_template.pk}, {"type": "wait", "days": 2}]
    )
    _enrol(recruiter, sequence, grace)
    enrolments_run_due(now=_later())
    first_step = sequence.steps.get(position=0)

    sequence_update(
        actor=recruiter,
        sequence=sequence,
        data={"steps": [{"type": "message", "template_id": email_template.pk}, {"type": "wait", "days": 5}]},
    )

    assert sequence.steps.get(position=0).pk == first_step.pk
    assert StepRun.objects.filter(step=first_step).count() == 1
    assert sequence.steps.get(position=1).config == {"days": 5}


# --- enrolment ------------------------------------------------------------------------------------------------------


def test_enrolment_skips_with_reasons_and_records_the_enrolment(recruiter, grace, alan, email_template):
    sequence = _sequence(recruiter, [{"type": "message", "template_id": email_template.pk}])
    dnc = make_candidate(
        actor=recruiter, first_name="Dee", emails=["dee@example.org"], relationship_status="do_not_contact"
    )
    suppressed = make_candidate(actor=recruiter, first_name="Sue", emails=["sue@example.org"])
    Suppression.objects.create(address="sue@example.org", channel="email", reason="unsubscribed")
    _enrol(recruiter, sequence, grace)

    result = sequence_enrol(
        actor=recruiter, sequence=sequence, candidate_ids=[grace.pk, alan.pk, dnc.pk, suppressed.pk, 999999]
    )

    assert result.enrolled == [alan.pk]
    reasons = dict(result.skipped)
    assert "already in this sequence" in reasons[grace.pk]
    assert "do not contact" in reasons[dnc.pk]
    assert "suppression list" in reasons[suppressed.pk]
    assert reasons[999999] == "No such person."
    event = Activity.objects.get(type="sequence.enrolled", candidate=alan)
    assert event.payload["sequence"] == "Nurture" and event.payload["sequence_id"] == sequence.pk
    assert event.actor == recruiter


def test_a_draft_sequence_takes_nobody_and_a_paused_one_takes_people_paused(recruiter, grace, email_template):
    draft = sequence_create(actor=recruiter, data={"name": "Draft", "steps": [{"type": "wait", "days": 1}]})
    with pytest.raises(Conflict):
        _enrol(recruiter, draft, grace)

    paused = _sequence(recruiter, [{"type": "message", "template_id": email_template.pk}], name="Paused")
    sequence_update(actor=recruiter, sequence=paused, data={"status": "paused"})
    _enrol(recruiter, paused, grace)

    enrolment = Enrolment.objects.get(sequence=paused)
    assert enrolment.status == "paused" and enrolment.paused_with_sequence
    assert enrolments_run_due(now=_later()) == 0


# --- walking the steps ------------------------------------------------------------------------------------------


def test_a_message_step_queues_an_automated_message_once_then_the_wait_begins(recruiter, grace, email_template):
    sequence = _sequence(
        recruiter, [{"type": "message", "template_id": email_template.pk}, {"type": "wait", "days": 2}]
    )
    _enrol(recruiter, sequence, grace)
    now = _later()

    executed = enrolments_run_due(now=now)

    assert executed == 2
    message = Message.objects.get(candidate=grace)
    enrolment = Enrolment.objects.get(candidate=grace)
    assert message.kind == MessageKind.AUTOMATED and message.status == "queued"
    assert message.idempotency_key == f"seq:{enrolment.pk}:0"
    assert message.subject == "Hi Grace" and message.sent_by == recruiter
    assert enrolment.step_position == 2 and enrolment.due_at > now + timedelta(days=1)
    assert enrolment.claimed_until is None and enrolment.claim_token == ""
    queued = Activity.objects.get(type="message.queued", candidate=grace)
    assert queued.payload["sequence_id"] == sequence.pk and queued.payload["step"] == 0
    assert list(StepRun.objects.filter(enrolment=enrolment).values_list("outcome", flat=True)) == ["done", "done"]
    # Nothing more is due now.
    assert enrolments_run_due(now=now) == 0


def test_running_a_step_again_never_sends_twice(recruiter, grace, email_template):
    sequence = _sequence(
        recruiter, [{"type": "message", "template_id": email_template.pk}, {"type": "wait", "days": 2}]
    )
    _enrol(recruiter, sequence, grace)
    enrolments_run_due(now=_later())
    # A worker that died after queuing the message but before its lease ran out, replayed: same position, due.
    Enrolment.objects.filter(candidate=grace).update(step_position=0, due_at=timezone.now())

    enrolments_run_due(now=_later(2))

    assert Message.objects.filter(candidate=grace).count() == 1


def test_the_last_step_completes_the_enrolment(recruiter, grace, email_template):
    sequence = _sequence(recruiter, [{"type": "message", "template_id": email_template.pk}])
    _enrol(recruiter, sequence, grace)

    enrolments_run_due(now=_later())

    enrolment = Enrolment.objects.get(candidate=grace)
    assert enrolment.status == "completed" and enrolment.due_at is None
    assert Activity.objects.get(type="sequence.exited", candidate=grace).payload["reason"] == "completed"


def test_the_sender_can_be_a_chosen_user(recruiter, admin_user, alan, email_template):
    sequence = _sequence(recruiter, [{"type": "message", "template_id": email_template.pk}], sender=str(admin_user.pk))
    _enrol(recruiter, sequence, alan)

    enrolments_run_due(now=_later())

    assert Message.objects.get(candidate=alan).sent_by == admin_user


def test_sms_steps_go_to_the_persons_phone(recruiter, sms_template):
    person = make_candidate(actor=recruiter, first_name="Kay", phones=["+4915112345678"])
    sequence = _sequence(recruiter, [{"type": "message", "channel": "sms", "template_id": sms_template.pk}])
    _enrol(recruiter, sequence, person)

    enrolments_run_due(now=_later())

    message = Message.objects.get(candidate=person)
    assert (message.channel, message.to_address, message.text.strip()) == ("sms", "+4915112345678", "Hi there")


def test_a_person_without_the_channels_address_has_the_step_skipped_with_the_reason(recruiter, sms_template, alan):
    sequence = _sequence(recruiter, [{"type": "message", "channel": "sms", "template_id": sms_template.pk}])
    _enrol(recruiter, sequence, alan)

    enrolments_run_due(now=_later())

    run = StepRun.objects.get(enrolment__candidate=alan)
    assert run.outcome == "skipped" and "no phone number" in run.detail
    assert not Message.objects.filter(candidate=alan).exists()


def test_a_template_that_fails_for_one_person_pauses_only_that_person(recruiter, grace, alan):
    # Saved fine (job.title is a known field), but nobody enrolled here has a job in the message: it cannot render.
    template = message_template_create(
        actor=recruiter,
        data={"name": "Needs a job", "channel": "email", "subject": "About {{ job.title }}", "body": "Hello"},
    )
    fine = message_template_create(
        actor=recruiter, data={"name": "Fine", "channel": "email", "subject": "Hi", "body": "Hello"}
    )
    failing = _sequence(recruiter, [{"type": "message", "template_id": template.pk}], name="Failing")
    working = _sequence(recruiter, [{"type": "message", "template_id": fine.pk}], name="Working")
    _enrol(recruiter, failing, grace)
    _enrol(recruiter, working, alan)

    enrolments_run_due(now=_later())

    paused = Enrolment.objects.get(sequence=failing)
    assert paused.status == "paused"
    assert "Needs a job" in paused.status_reason and "job" in paused.status_reason
    assert StepRun.objects.get(enrolment=paused).outcome == "failed"
    assert Message.objects.filter(candidate=alan).count() == 1
    assert not Message.objects.filter(candidate=grace).exists()


def test_task_tag_and_pool_steps_act_and_say_why_on_the_timeline(recruiter, grace):
    pool = TalentPoolFactory(name="Silver medalists")
    sequence = _sequence(
        recruiter,
        [
            {"type": "task", "title": "Call {{ candidate.first_name }}", "due_in_days": 2},
            {"type": "tag", "tag": "nurtured"},
            {"type": "pool", "pool_id": str(pool.pk)},
        ],
    )
    _enrol(recruiter, sequence, grace)

    assert enrolments_run_due(now=_later()) == 3

    task = Task.objects.get(candidate=grace)
    assert (task.title, task.source, task.source_id, task.owner) == (
        "Call Grace",
        "sequence",
        str(sequence.pk),
        recruiter,
    )
    assert CandidateTag.objects.filter(candidate=grace, tag__name="nurtured").exists()
    assert PoolMembership.objects.filter(candidate=grace, pool=pool).exists()
    tagged = Activity.objects.get(type="tag.added", candidate=grace, payload__sequence_id=sequence.pk)
    assert tagged.payload["step"] == 1
    assert Activity.objects.get(type="pool.added", candidate=grace).payload["sequence"] == "Nurture"
    assert Activity.objects.get(type="task.created", candidate=grace).payload["source"] == "sequence"


def test_a_message_due_outside_the_send_window_waits_for_its_opening_in_the_persons_zone(
    recruiter, grace, email_template
):
    sequence = _sequence(
        recruiter,
        [{"type": "message", "template_id": email_template.pk}],
        send_window={"start": "09:00", "end": "17:00", "days": ["mon", "tue", "wed", "thu", "fri"]},
    )
    _enrol(recruiter, sequence, grace)
    friday_night = datetime(2026, 1, 9, 20, 0, tzinfo=UTC)  # 21:00 in Berlin
    Enrolment.objects.filter(candidate=grace).update(due_at=friday_night)

    assert enrolments_run_due(now=friday_night) == 0

    enrolment = Enrolment.objects.get(candidate=grace)
    assert enrolment.due_at == datetime(2026, 1, 12, 8, 0, tzinfo=UTC)  # Monday 09:00 in Berlin
    assert not Message.objects.exists()
    assert enrolments_run_due(now=datetime(2026, 1, 12, 8, 0, tzinfo=UTC)) == 1
    assert Message.objects.filter(candidate=grace).count() == 1


def test_a_wait_across_the_dst_change_ends_at_the_same_local_time(recruiter, grace, email_template):
    sequence = _sequence(
        recruiter, [{"type": "wait", "days": 1}, {"type": "message", "template_id": email_template.pk}]
    )
    _enrol(recruiter, sequence, grace)
    saturday = datetime(2024, 3, 30, 9, 0, tzinfo=UTC)  # 10:00 CET
    Enrolment.objects.filter(candidate=grace).update(due_at=saturday)

    enrolments_run_due(now=saturday)

    # Sunday 10:00 CEST, 23 hours later.
    assert Enrolment.objects.get(candidate=grace).due_at == datetime(2024, 3, 31, 8, 0, tzinfo=UTC)


def test_ab_variants_are_sticky_per_person(recruiter, email_template, other_template):
    people = [make_candidate(actor=recruiter, first_name=f"P{i}", emails=[f"p{i}@example.org"]) for i in range(12)]
    step = {
        "type": "message",
        "variants": [{"template_id": email_template.pk}, {"template_id": other_template.pk}],
    }
    sequence = _sequence(recruiter, [step])
    _enrol(recruiter, sequence, *people)

    enrolments_run_due(now=_later())

    runs = {r.enrolment.candidate_id: r for r in StepRun.objects.select_related("enrolment", "message")}
    assert {r.variant for r in runs.values()} == {"A", "B"}
    for run in runs.values():
        expected = email_template if run.variant == "A" else other_template
        assert run.message.template_id == expected.pk
    # A second sequence step would pick the same way for the same person: the choice is a pure function.
    from rapport.automation.steps import choose_variant

    message_step = SequenceStep.objects.get(sequence=sequence)
    variants = list(message_step.variants.all())
    assert all(choose_variant(cid, message_step.pk, variants).label == r.variant for cid, r in runs.items())


def test_a_branch_jumps_when_the_person_opens_the_message(recruiter, grace, alan, email_template, other_template):
    from rapport.messaging.services import message_engagement_record

    sequences_from_timeline()  # the consumer starts at the present
    sequence = _sequence(
        recruiter,
        [
            {"type": "message", "template_id": email_template.pk},
            {"type": "branch", "on": "opened", "within_days": 3, "then": 3, "else": 2},
            {"type": "tag", "tag": "did-not-open"},
            {"type": "message", "template_id": other_template.pk},
        ],
    )
    _enrol(recruiter, sequence, grace, alan)
    enrolments_run_due(now=_later())
    # Both wait at the branch for up to three days.
    assert set(Enrolment.objects.values_list("step_position", flat=True)) == {1}

    message_engagement_record(message=Message.objects.get(candidate=grace), kind="open")
    sequences_from_timeline()
    enrolments_run_due(now=_later(2))

    assert Message.objects.get(candidate=grace, template=other_template)
    assert not CandidateTag.objects.filter(candidate=grace, tag__name="did-not-open").exists()
    assert Enrolment.objects.get(candidate=alan).step_position == 1

    enrolments_run_due(now=timezone.now() + timedelta(days=3, minutes=5))

    assert CandidateTag.objects.filter(candidate=alan, tag__name="did-not-open").exists()
    branch_run = StepRun.objects.get(enrolment__candidate=alan, step__position=1)
    assert "opened: no" in branch_run.detail.lower()


# --- pause, resume, exit ----------------------------------------------------------------------------------------


def test_pausing_the_sequence_pauses_everyone_and_resuming_keeps_those_paused_by_hand(
    recruiter, grace, alan, email_template
):
    sequence = _sequence(recruiter, [{"type": "message", "template_id": email_template.pk}])
    _enrol(recruiter, sequence, grace, alan)
    enrolment_pause(actor=recruiter, enrolment=Enrolment.objects.get(candidate=alan), reason="On holiday")

    sequence_update(actor=recruiter, sequence=sequence, data={"status": "paused"})
    assert enrolments_run_due(now=_later()) == 0
    sequence_update(actor=recruiter, sequence=sequence, data={"status": "active"})

    assert Enrolment.objects.get(candidate=grace).status == "active"
    held = Enrolment.objects.get(candidate=alan)
    assert (held.status, held.status_reason) == ("paused", "On holiday")
    enrolments_run_due(now=_later())
    assert list(Message.objects.values_list("candidate_id", flat=True)) == [grace.pk]

    enrolment_resume(actor=recruiter, enrolment=held)
    enrolments_run_due(now=_later(2))
    assert Message.objects.filter(candidate=alan).count() == 1


def test_a_sequence_with_people_in_it_cannot_go_back_to_draft_and_archiving_takes_everyone_out(
    recruiter, grace, email_template
):
    sequence = _sequence(recruiter, [{"type": "message", "template_id": email_template.pk}])
    _enrol(recruiter, sequence, grace)

    with pytest.raises(Conflict):
        sequence_update(actor=recruiter, sequence=sequence, data={"status": "draft"})
    sequence_update(actor=recruiter, sequence=sequence, data={"status": "archived"})

    enrolment = Enrolment.objects.get(candidate=grace)
    assert enrolment.status == "exited"
    assert Activity.objects.get(type="sequence.exited", candidate=grace).payload["reason"] == "archived"


def test_taking_someone_out_by_hand_records_it(recruiter, grace, email_template):
    sequence = _sequence(recruiter, [{"type": "message", "template_id": email_template.pk}])
    _enrol(recruiter, sequence, grace)

    enrolment_exit(actor=recruiter, enrolment=Enrolment.objects.get(candidate=grace), reason="manual")

    assert Enrolment.objects.get(candidate=grace).status == "exited"
    event = Activity.objects.get(type="sequence.exited", candidate=grace)
    assert event.payload["reason"] == "manual" and event.actor == recruiter
    # Out of it, the person may be enrolled again.
    assert _enrol(recruiter, sequence, grace).enrolled == [grace.pk]


def test_a_reply_takes_the_person_out_and_counts_as_a_reply_to_the_step(recruiter, grace, alan, email_template):
    from rapport.messaging.services_inbound import message_receive

    sequences_from_timeline()
    exits = _sequence(recruiter, [{"type": "message", "template_id": email_template.pk}, {"type": "wait", "days": 3}])
    stays = _sequence(
        recruiter,
        [{"type": "message", "template_id": email_template.pk}, {"type": "wait", "days": 3}],
        name="Keeps going",
        exit_on=["applied"],
    )
    _enrol(recruiter, exits, grace)
    _enrol(recruiter, stays, grace)
    enrolments_run_due()

    message_receive(candidate=grace, channel="email", from_address="grace@example.org", subject="Re: Hi", text="Yes!")
    assert sequences_from_timeline() > 0

    left = Enrolment.objects.get(sequence=exits)
    assert left.status == "exited" and left.status_reason == "Replied"
    assert Enrolment.objects.get(sequence=stays).status == "active"
    assert StepRun.objects.filter(replied_at__isnull=False).count() == 2  # the reply counts for both steps' stats
    assert Activity.objects.get(type="sequence.exited", candidate=grace).payload["reason"] == "replied"


@pytest.mark.parametrize("how", ["applied", "stage_changed", "hired", "unsubscribed", "do_not_contact", "erased"])
def test_each_exit_event_takes_people_out(world, email_template, how):
    from rapport.candidates.services import candidate_erase, candidate_update
    from rapport.jobs.models import StageCategory
    from rapport.messaging.services import suppression_add
    from rapport.pipeline.services import application_create, application_move

    recruiter, application = world["recruiter"], world["application"]
    person = world["applicant"] if how in ("stage_changed", "hired") else world["bystander"]
    sequences_from_timeline()
    sequence = _sequence(
        recruiter, [{"type": "wait", "days": 3}, {"type": "message", "template_id": email_template.pk}]
    )
    _enrol(recruiter, sequence, person)

    if how == "applied":
        application_create(actor=recruiter, candidate=person, job=world["job"])
    elif how == "stage_changed":
        application_move(actor=recruiter, application=application, stage=world["job"].stages.get(name="Screening"))
    elif how == "hired":
        hired = world["job"].stages.filter(category=StageCategory.HIRED).first()
        application_move(actor=recruiter, application=application, stage=hired)
    elif how == "unsubscribed":
        suppression_add(address="alan@example.org", channel="email", reason="unsubscribed", candidate=person)
    elif how == "do_not_contact":
        candidate_update(actor=recruiter, candidate=person, data={"relationship_status": "do_not_contact"})
    else:
        candidate_erase(actor=world["admin"], candidate=person)
    sequences_from_timeline()

    enrolment = Enrolment.objects.get(candidate=person)
    assert enrolment.status == "exited"
    if how != "erased":  # erasure takes people out itself and writes nothing new about them
        assert Activity.objects.filter(type="sequence.exited", candidate=person, payload__reason=how).exists()


def test_an_exit_event_not_in_exit_on_leaves_people_in(world, email_template):
    from rapport.pipeline.services import application_move

    sequences_from_timeline()
    sequence = _sequence(
        world["recruiter"],
        [{"type": "wait", "days": 3}, {"type": "message", "template_id": email_template.pk}],
        exit_on=["replied"],
    )
    _enrol(world["recruiter"], sequence, world["applicant"])

    application_move(
        actor=world["recruiter"], application=world["application"], stage=world["job"].stages.get(name="Screening")
    )
    sequences_from_timeline()

    assert Enrolment.objects.get(candidate=world["applicant"]).status == "active"


def test_people_who_newly_match_the_segment_are_enrolled_once(recruiter, grace, alan, email_template):
    from rapport.candidates.services import candidates_tag, segment_create

    segment = segment_create(actor=recruiter, name="Silver medalists", filters={"tag": "silver"})
    sequence = _sequence(
        recruiter,
        [{"type": "wait", "days": 1}, {"type": "message", "template_id": email_template.pk}],
        segment_id=str(segment.pk),
    )
    sequences_from_timeline()

    candidates_tag(actor=recruiter, candidate_ids=[grace.pk], tag_name="silver")
    candidates_tag(actor=recruiter, candidate_ids=[alan.pk], tag_name="gold")
    sequences_from_timeline()

    enrolment = Enrolment.objects.get(sequence=sequence)
    assert (enrolment.candidate_id, enrolment.source, enrolment.source_id) == (grace.pk, "segment", str(segment.pk))
    assert Activity.objects.get(type="sequence.enrolled", candidate=grace).payload["source"] == "segment"

    # Taken out, then named by a new event: not enrolled again just for still matching.
    enrolment_exit(actor=recruiter, enrolment=enrolment, reason="manual")
    candidates_tag(actor=recruiter, candidate_ids=[grace.pk], tag_name="another")
    sequences_from_timeline()
    assert Enrolment.objects.filter(sequence=sequence).count() == 1


# --- the upcoming touches card ----------------------------------------------------------------------------------


def test_upcoming_touches_say_what_when_and_which_sequence(recruiter, grace, email_template):
    sequence = _sequence(
        recruiter, [{"type": "wait", "days": 2}, {"type": "message", "template_id": email_template.pk}]
    )
    _enrol(recruiter, sequence, grace)
    enrolments_run_due(now=_later())
    due = Enrolment.objects.get(candidate=grace).due_at

    (touch,) = enrolment_upcoming(candidate=grace)

    assert (touch.channel, touch.template_id, touch.template_name) == ("email", email_template.pk, "Hello")
    assert (touch.source_type, touch.source_id, touch.source_name) == ("sequence", sequence.pk, "Nurture")
    assert touch.due_at == due and touch.enrolment_id == Enrolment.objects.get(candidate=grace).pk


def test_a_skipped_touch_is_not_sent_and_send_now_sends_at_once(recruiter, grace, alan, email_template):
    sequence = _sequence(
        recruiter, [{"type": "wait", "days": 2}, {"type": "message", "template_id": email_template.pk}]
    )
    _enrol(recruiter, sequence, grace, alan)
    enrolments_run_due(now=_later())

    enrolment_skip_step(actor=recruiter, enrolment=Enrolment.objects.get(candidate=grace))
    enrolment_send_now(actor=recruiter, enrolment=Enrolment.objects.get(candidate=alan))

    assert enrolment_upcoming(candidate=grace) == []
    assert Message.objects.filter(candidate=alan).count() == 1
    enrolments_run_due(now=timezone.now() + timedelta(days=3))
    assert not Message.objects.filter(candidate=grace).exists()
    assert Enrolment.objects.get(candidate=grace).status == "completed"


# --- statistics -------------------------------------------------------------------------------------------------


def test_stats_count_per_variant_and_name_a_winner_only_when_significant(recruiter, email_template, other_template):
    step = {"type": "message", "variants": [{"template_id": email_template.pk}, {"template_id": other_template.pk}]}
    sequence = _sequence(recruiter, [step])
    message_step = sequence.steps.get()
    person = make_candidate(actor=recruiter, first_name="Stat", emails=["stat@example.org"])
    enrolment = Enrolment.objects.create(sequence=sequence, candidate=person, status="completed")
    now = timezone.now()

    def runs(label, sent, opened):
        for i in range(sent):
            message = Message.objects.create(
                candidate=person,
                to_address="stat@example.org",
                message_id=f"<{label}{i}@test>",
                opened_at=now if i < opened else None,
            )
            StepRun.objects.create(enrolment=enrolment, step=message_step, variant=label, message=message)

    runs("A", 10, 8)
    runs("B", 6, 1)

    stats = sequence_stats(sequence=sequence)

    (entry,) = stats["steps"]
    assert (entry["sent"], entry["opened"]) == (16, 9)
    a, b = entry["variants"]
    assert (a["label"], a["sent"], a["opened"], a["opened_rate"]) == ("A", 10, 8, 0.8)
    assert a["opened_interval"][0] < 0.8 < a["opened_interval"][1]
    assert entry["winner"]["opened"]["label"] == "A" and entry["winner"]["opened"]["test"] == "fisher"
    assert entry["winner"]["replied"]["label"] is None
    assert stats["enrolments"]["completed"] == 1


# --- templates in use -------------------------------------------------------------------------------------------


def test_deleting_a_template_a_sequence_uses_is_refused_naming_the_sequence(recruiter, email_template, other_template):
    _sequence(
        recruiter,
        [
            {
                "type": "message",
                "template_id": email_template.pk,
                "variants": [{"template_id": email_template.pk}, {"template_id": other_template.pk}],
            }
        ],
        name="Silver nurture",
    )

    for template in (email_template, other_template):
        with pytest.raises(Conflict) as caught:
            message_template_delete(actor=recruiter, template=template)
        assert "Silver nurture" in caught.value.message


# --- bounded work -----------------------------------------------------------------------------------------------


def test_a_dispatch_claims_at_most_its_limit_and_reads_steps_once_per_batch(recruiter, email_template):
    first = _sequence(recruiter, [{"type": "tag", "tag": "one"}, {"type": "wait", "days": 1}], name="One")
    second = _sequence(recruiter, [{"type": "tag", "tag": "two"}, {"type": "wait", "days": 1}], name="Two")
    people = [make_candidate(actor=recruiter, first_name=f"Q{i}") for i in range(6)]
    _enrol(recruiter, first, *people[:3])
    _enrol(recruiter, second, *people[3:])

    with CaptureQueriesContext(connection) as queries:
        executed = enrolments_run_due(limit=4, now=_later())

    assert executed == 8  # four people, two steps each
    step_reads = [q for q in queries.captured_queries if 'FROM "automation_sequencestep"' in q["sql"]]
    assert len(step_reads) == 1
    assert Enrolment.objects.filter(step_position=2).count() == 4
    assert enrolments_run_due(limit=4, now=_later()) == 4


def test_a_step_that_keeps_failing_is_retried_with_backoff_then_pauses_the_person(recruiter, grace):
    from rapport.automation import services_sequences

    sequence = _sequence(recruiter, [{"type": "wait", "days": 1}])
    _enrol(recruiter, sequence, grace)
    # A step whose stored config no longer makes sense (edited in the database, say): the wait cannot be computed.
    SequenceStep.objects.filter(sequence=sequence).update(config={"until": {"weekday": "someday", "time": "09:00"}})
    now = _later()

    assert enrolments_run_due(now=now) == 0

    enrolment = Enrolment.objects.get(candidate=grace)
    assert (enrolment.status, enrolment.attempts, enrolment.step_position) == ("active", 1, 0)
    assert enrolment.due_at == now + timedelta(minutes=1) and enrolment.claimed_until is None
    for attempt in range(2, services_sequences.MAX_ATTEMPTS + 1):
        enrolments_run_due(now=now + timedelta(hours=attempt))
    enrolment.refresh_from_db()
    assert enrolment.status == "paused" and "failed 6 times" in enrolment.status_reason
    assert not StepRun.objects.exists()  # each failed try was rolled back whole


def test_a_worker_whose_lease_ran_out_keeps_nothing_it_did(recruiter, grace, email_template):
    from django.db import transaction

    from rapport.automation import services_sequences
    from rapport.automation.claims import claim_due

    sequence = _sequence(
        recruiter, [{"type": "message", "template_id": email_template.pk}, {"type": "wait", "days": 2}]
    )
    _enrol(recruiter, sequence, grace)
    due = Enrolment.objects.filter(status="active", due_at__lte=_later(30))
    slow = claim_due(due, limit=10, now=_later())
    # The slow worker's lease runs out and another one takes the row over.
    taken = claim_due(due, limit=10, now=_later(20))
    assert [e.pk for e in taken] == [e.pk for e in slow]

    context = services_sequences._Context.load(slow)
    with pytest.raises(services_sequences._LeaseLost), transaction.atomic():
        services_sequences._walk(context.enrolments[0], context, now=_later())
        services_sequences._settle(context.enrolments[0], attempts=0)

    assert not Message.objects.exists() and not StepRun.objects.exists()
    assert Enrolment.objects.get().step_position == 0


def test_the_timeline_words_sequence_events_with_their_reason(recruiter, grace, email_template):
    from rapport.common.templatetags.rapport_tags import activity_sentence

    sequence = _sequence(recruiter, [{"type": "message", "template_id": email_template.pk}])
    _enrol(recruiter, sequence, grace)
    enrolments_run_due(now=_later())

    def sentence(kind):
        activity = Activity.objects.select_related("actor").get(type=kind, candidate=grace)
        return str(activity_sentence(activity, "Grace"))

    assert (
        sentence("sequence.enrolled")
        == "<strong>Riley Recruiter</strong> enrolled Grace in the sequence <strong>Nurture</strong>"
    )
    assert "The sequence <strong>Nurture</strong> queued an email to Grace (step 1)" in sentence("message.queued")
    assert sentence("sequence.exited") == "Grace left the sequence <strong>Nurture</strong>: Finished the sequence"


def test_a_pause_that_lands_while_a_step_runs_wins(recruiter, grace, email_template):
    from django.db import transaction

    from rapport.automation import services_sequences
    from rapport.automation.claims import claim_due

    sequence = _sequence(recruiter, [{"type": "message", "template_id": email_template.pk}])
    _enrol(recruiter, sequence, grace)
    claimed = claim_due(Enrolment.objects.filter(status="active"), limit=10, now=_later())
    context = services_sequences._Context.load(claimed)

    enrolment_pause(actor=recruiter, enrolment=Enrolment.objects.get(candidate=grace), reason="Wait")
    with pytest.raises(services_sequences._LeaseLost), transaction.atomic():
        services_sequences._walk(context.enrolments[0], context, now=_later())
        services_sequences._settle(context.enrolments[0], attempts=0)

    enrolment = Enrolment.objects.get(candidate=grace)
    assert (enrolment.status, enrolment.status_reason, enrolment.step_position) == ("paused", "Wait", 0)
    assert not Message.objects.exists()


def test_someone_suppressed_after_enrolling_has_the_message_skipped_with_the_reason(
    recruiter, grace, alan, email_template
):
    sequence = _sequence(recruiter, [{"type": "message", "template_id": email_template.pk}])
    _enrol(recruiter, sequence, grace, alan)
    Suppression.objects.create(address="grace@example.org", channel="email", reason="hard_bounce")

    with CaptureQueriesContext(connection) as queries:
        enrolments_run_due(now=_later())

    run = StepRun.objects.get(enrolment__candidate=grace)
    assert run.outcome == "skipped" and "suppression list" in run.detail
    assert list(Message.objects.values_list("candidate_id", flat=True)) == [alan.pk]
    # Addresses and suppressions were read once for the whole batch, not once per person.
    email_reads = [q for q in queries.captured_queries if 'FROM "candidates_candidateemail"' in q["sql"]]
    suppression_reads = [q for q in queries.captured_queries if 'FROM "messaging_suppression"' in q["sql"]]
    assert (len(email_reads), len(suppression_reads)) == (1, 1)


def test_skipping_twice_skips_the_next_two_messages(recruiter, grace, email_template, other_template):
    sequence = _sequence(
        recruiter,
        [
            {"type": "message", "template_id": email_template.pk},
            {"type": "message", "template_id": other_template.pk},
            {"type": "tag", "tag": "reached-the-end"},
        ],
    )
    _enrol(recruiter, sequence, grace)

    first = enrolment_skip_step(actor=recruiter, enrolment=Enrolment.objects.get(candidate=grace))
    second = enrolment_skip_step(actor=recruiter, enrolment=Enrolment.objects.get(candidate=grace))
    with pytest.raises(Conflict):
        enrolment_skip_step(actor=recruiter, enrolment=Enrolment.objects.get(candidate=grace))
    enrolments_run_due(now=_later())

    assert (first.step.position, second.step.position) == (0, 1)
    assert not Message.objects.exists()
    assert CandidateTag.objects.filter(candidate=grace, tag__name="reached-the-end").exists()


# Committed rows, so each thread's connection sees them; emptying the tables afterwards must cascade to the search
# index table (made by raw SQL), which naming every app turns on.
@pytest.mark.django_db(transaction=True, available_apps=list(settings.INSTALLED_APPS))
@pytest.mark.skipif(connection.vendor != "postgresql", reason="parallel claimers need PostgreSQL's row locks")
def test_parallel_dispatchers_never_send_twice(recruiter, email_template):
    import threading

    sequence = _sequence(
        recruiter, [{"type": "message", "template_id": email_template.pk}, {"type": "wait", "days": 1}]
    )
    people = [make_candidate(actor=recruiter, first_name=f"R{i}", emails=[f"r{i}@example.org"]) for i in range(30)]
    _enrol(recruiter, sequence, *people)
    now = _later()
    errors: list[BaseException] = []

    def dispatch():
        try:
            while enrolments_run_due(limit=4, now=now):
                pass
        except BaseException as exc:  # reported to the test below
            errors.append(exc)
        finally:
            connection.close()

    workers = [threading.Thread(target=dispatch) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)

    assert not errors
    assert Message.objects.count() == 30
    assert sorted(Message.objects.values_list("candidate_id", flat=True)) == sorted(p.pk for p in people)
    assert StepRun.objects.filter(message__isnull=False).count() == 30
    assert set(Enrolment.objects.values_list("step_position", flat=True)) == {2}
