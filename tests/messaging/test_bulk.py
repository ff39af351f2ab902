"""Bulk sends: one personalised outbox row per person of a selection, pool or segment; everyone who cannot be written
to is skipped with the reason; the worker delivers them to a real SMTP server."""

import pytest

from rapport.candidates.models import RelationshipStatus
from rapport.candidates.services import pool_add_members, pool_create, segment_create
from rapport.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from rapport.messaging.models import BulkSend, Message, MessageKind, MessageStatus
from rapport.messaging.selectors import bulk_plan, bulk_preview
from rapport.messaging.services import message_bulk_send, outbox_deliver_due, suppression_add
from rapport.pipeline.services import application_create
from rapport.timeline.models import Activity, AuditEntry
from tests.factories import make_candidate, make_job


@pytest.fixture(autouse=True)
def _daytime_everywhere(settings):
    settings.RAPPORT_QUIET_HOURS = None
    settings.RAPPORT_FREQUENCY_CAP = 0


@pytest.fixture
def people(recruiter):
    def make(name, **data):
        data.setdefault("emails", [f"{name.lower()}@example.org"])
        return make_candidate(actor=recruiter, first_name=name, last_name="Doe", **data)

    return {
        "ann": make("Ann"),
        "bob": make("Bob", language="fr"),
        "nomail": make("Nomail", emails=[]),
        "dnc": make("Dee", relationship_status=RelationshipStatus.DO_NOT_CONTACT),
        "gone": make("Gus"),
    }


def _reasons(bulk: BulkSend) -> dict[int, str]:
    return {skip["candidate_id"]: skip["reason"] for skip in bulk.skipped}


def test_each_person_gets_their_own_message_and_the_others_are_skipped_with_why(
    recruiter, people, make_template, smtp_server
):
    template = make_template(
        subject="For {{ candidate.first_name }}",
        body="Hi {{ candidate.first_name }}!",
        variants=[{"language": "fr", "subject": "Pour {{ candidate.first_name }}", "body": "Bonjour !"}],
    )
    suppression_add(address="gus@example.org", channel="email", reason="unsubscribed")
    ids = [p.pk for p in people.values()] + [999_999]

    bulk = message_bulk_send(actor=recruiter, template=template, candidate_ids=ids)

    assert bulk.queued == 2
    reasons = _reasons(bulk)
    assert reasons == {
        people["nomail"].pk: "No email address.",
        people["dnc"].pk: "Marked do not contact.",
        people["gone"].pk: "gus@example.org is on the suppression list (unsubscribed).",
        999_999: "Not found, or not among the people you can see.",
    }
    messages = Message.objects.filter(bulk=bulk).order_by("to_address")
    assert [(m.to_address, m.subject, m.kind) for m in messages] == [
        ("ann@example.org", "For Ann", MessageKind.BULK),
        ("bob@example.org", "Pour Bob", MessageKind.BULK),
    ]
    assert Activity.objects.filter(type="message.queued", payload__bulk_id=bulk.pk).count() == 2
    assert AuditEntry.objects.filter(object_type="bulk_send", object_id=str(bulk.pk)).exists()

    assert outbox_deliver_due() == 2
    received = {m["To"]: m for m in smtp_server.messages}
    assert set(received) == {"ann@example.org", "bob@example.org"}
    assert "Hi Ann!" in received["ann@example.org"].get_body(("plain",)).get_content()
    assert received["ann@example.org"]["List-Unsubscribe"]
    # Each person's unsubscribe link is their own.
    assert received["ann@example.org"]["List-Unsubscribe"] != received["bob@example.org"]["List-Unsubscribe"]


def test_a_template_that_fails_for_one_person_skips_only_them_naming_the_field(recruiter, make_template):
    job = make_job(actor=recruiter, title="Data Engineer")
    applied = make_candidate(actor=recruiter, first_name="Ann", emails=["ann@example.org"])
    not_applied = make_candidate(actor=recruiter, first_name="Bob", emails=["bob@example.org"])
    application_create(actor=recruiter, candidate=applied, job=job)
    template = make_template(subject="{{ job.title }}", body="You are at {{ application.stage }}.")

    bulk = message_bulk_send(actor=recruiter, template=template, candidate_ids=[applied.pk, not_applied.pk], job=job)

    assert bulk.queued == 1
    reason = _reasons(bulk)[not_applied.pk]
    assert reason.startswith("The template could not be filled in: body, line 1")
    assert "application" in reason
    message = Message.objects.get(bulk=bulk)
    assert message.candidate == applied and "{{" not in message.text + message.html + message.subject
    assert message.subject == "Data Engineer"


def test_a_pool_and_a_segment_are_audiences(recruiter, people, make_template):
    template = make_template()
    pool = pool_create(actor=recruiter, name="Backend")
    pool_add_members(actor=recruiter, pool=pool, candidate_ids=[people["ann"].pk, people["nomail"].pk])
    segment = segment_create(actor=recruiter, name="French speakers", filters={"q": "Bob"})

    by_pool = message_bulk_send(actor=recruiter, template=template, pool=pool)
    by_segment = message_bulk_send(actor=recruiter, template=template, segment=segment)

    assert by_pool.queued == 1 and by_pool.audience == "pool Backend"
    assert _reasons(by_pool) == {people["nomail"].pk: "No email address."}
    assert by_segment.queued == 1 and by_segment.audience == "segment French speakers"
    assert Message.objects.get(bulk=by_segment).candidate == people["bob"]


def test_the_same_idempotency_key_returns_the_first_send(recruiter, admin_user, people, make_template):
    template = make_template()
    first = message_bulk_send(
        actor=recruiter, template=template, candidate_ids=[people["ann"].pk], idempotency_key="b1"
    )
    again = message_bulk_send(
        actor=recruiter, template=template, candidate_ids=[people["bob"].pk], idempotency_key="b1"
    )

    assert again.pk == first.pk and Message.objects.count() == 1
    with pytest.raises(Conflict):
        message_bulk_send(actor=admin_user, template=template, candidate_ids=[people["ann"].pk], idempotency_key="b1")


def test_bad_requests_are_refused(recruiter, people, make_template):
    template = make_template()
    sms = make_template(channel="sms", subject="", body="Hi")
    pool = pool_create(actor=recruiter, name="Backend")
    with pytest.raises(ValidationFailed):
        message_bulk_send(actor=recruiter, template=template)
    with pytest.raises(ValidationFailed):
        message_bulk_send(actor=recruiter, template=template, candidate_ids=[people["ann"].pk], pool=pool)
    with pytest.raises(ValidationFailed):
        message_bulk_send(actor=recruiter, template=template, candidate_ids=[])
    with pytest.raises(ValidationFailed):
        message_bulk_send(actor=recruiter, template=template, candidate_ids=["nope"])
    with pytest.raises(ValidationFailed):
        message_bulk_send(actor=recruiter, template=sms, candidate_ids=[people["ann"].pk])
    assert not Message.objects.exists() and not BulkSend.objects.exists()


@pytest.mark.parametrize("role", ["hiring_manager", "interviewer", "outsider"])
def test_only_roles_that_message_may_bulk_send(world, role, make_template):
    template = make_template()
    with pytest.raises(PermissionDenied):
        message_bulk_send(actor=world[role], template=template, candidate_ids=[world["applicant"].pk])


def test_a_job_that_does_not_exist_or_is_out_of_scope_is_not_found(recruiter, people, make_template):
    from rapport.jobs.models import Job

    with pytest.raises(NotFound):
        message_bulk_send(
            actor=recruiter, template=make_template(), candidate_ids=[people["ann"].pk], job=Job(pk=987_654)
        )


def test_the_preview_renders_three_random_recipients_and_lists_render_failures(recruiter, make_template):
    ids = [
        make_candidate(actor=recruiter, first_name=f"P{index}", emails=[f"p{index}@example.org"]).pk
        for index in range(5)
    ]
    template = make_template(subject="Hi {{ candidate.first_name }}", body="Hello {{ candidate.first_name }}")

    plan = bulk_plan(user=recruiter, candidate_ids=ids)
    previews, failing = bulk_preview(user=recruiter, template=template, plan=plan, job=None)

    assert len(previews) == 3 and failing == []
    for recipient, rendered in previews:
        assert rendered.subject == f"Hi {recipient.candidate.first_name}"
    assert not Message.objects.exists()


def test_bulk_messages_respect_quiet_hours_at_send_time(recruiter, people, make_template, smtp_server, settings):
    from tests.messaging.test_quiet_hours import tomorrow_utc

    settings.RAPPORT_QUIET_HOURS = (21 * 60, 8 * 60)
    settings.RAPPORT_DEFAULT_TIMEZONE = "UTC"
    bulk = message_bulk_send(actor=recruiter, template=make_template(), candidate_ids=[people["ann"].pk])

    outbox_deliver_due(now=tomorrow_utc(23))

    message = Message.objects.get(bulk=bulk)
    assert message.status == MessageStatus.SCHEDULED and smtp_server.messages == []
