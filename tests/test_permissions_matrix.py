"""Every role, and an outsider, against every resource and every verb, at the selector and service level.

Scope: admins and recruiters see everything; a hiring manager sees their own jobs, those jobs' applications and
applicants (not the bystander) and no pools, segments, message templates or messages; an interviewer sees only the people and applications
assigned to them and the jobs of those; the outsider (a hiring manager of nothing) sees nothing.

Verbs run the whole use case the way a view or an API handler does: look the object up through the scoped
`*_get_for_user` selector, then call the service. So an object out of scope answers "not found" (404) before the
verb is even tried, and a visible object with a verb the role lacks answers "denied" (403).
"""

from collections.abc import Callable

import pytest

from rapport.accounts.permissions import Capability, ensure
from rapport.automation.selectors import task_get_for_user
from rapport.automation.selectors_sequences import sequence_get_for_user
from rapport.automation.selectors_triggers import trigger_get_for_user
from rapport.automation.services import task_create, task_update
from rapport.automation.services_sequences import sequence_create, sequence_enrol
from rapport.automation.services_triggers import trigger_create, trigger_update
from rapport.candidates.selectors import (
    candidate_get_for_user,
    pool_get_for_user,
    segment_get_for_user,
)
from rapport.candidates.services import (
    candidate_erase,
    candidate_merge,
    candidate_update,
    pool_create,
    segment_create,
)
from rapport.careers.selectors import application_screening, job_question_get_for_user
from rapport.common.errors import NotFound, PermissionDenied
from rapport.jobs.selectors import job_get_for_user
from rapport.jobs.services import job_create
from rapport.messaging.selectors import message_get_for_user, message_template_get_for_user, message_template_preview
from rapport.messaging.services import (
    message_bulk_send,
    message_send,
    message_template_create,
    message_template_update,
)
from rapport.pipeline.selectors import application_get_for_user
from rapport.pipeline.services import application_move, application_reject
from rapport.timeline.services import note_add

ROLES = ["admin", "recruiter", "hiring_manager", "interviewer", "outsider"]

Y, N = "visible", "not_found"
VISIBILITY = {
    #               admin recruiter hiring_manager interviewer outsider
    "applicant": [Y, Y, Y, Y, N],
    "bystander": [Y, Y, N, N, N],
    "job": [Y, Y, Y, Y, N],
    "application": [Y, Y, Y, Y, N],
    "pool": [Y, Y, N, N, N],
    "segment": [Y, Y, N, N, N],
    "template": [Y, Y, N, N, N],
    "message": [Y, Y, N, N, N],
    # The hiring manager's own task: its owner sees it, and admins and recruiters see every task.
    "task": [Y, Y, Y, N, N],
    # Sequences are a tool of admins and recruiters, like templates.
    "sequence": [Y, Y, N, N, N],
    # Triggers too: other roles neither see nor change them.
    "trigger": [Y, Y, N, N, N],
    # A job's screening questions follow the job; an application's answers follow the application.
    "screening_question": [Y, Y, Y, Y, N],
    "screening_answer": [Y, Y, Y, Y, N],
}

OK, NO, NF = "allowed", "denied", "not_found"
VERBS = {
    #                    admin recruiter hiring_manager interviewer outsider
    "edit_candidate": [OK, OK, NO, NO, NF],
    "merge_candidates": [OK, OK, NO, NO, NF],
    "erase_candidate": [OK, NO, NO, NO, NF],
    "create_job": [OK, OK, NO, NO, NO],
    "move_application": [OK, OK, OK, NO, NF],
    "reject_application": [OK, OK, OK, NO, NF],
    "add_note": [OK, OK, OK, OK, NF],
    "manage_pools": [OK, OK, NO, NO, NO],
    "export": [OK, OK, NO, NO, NO],
    "import": [OK, OK, NO, NO, NO],
    "create_template": [OK, OK, NO, NO, NO],
    "edit_template": [OK, OK, NF, NF, NF],
    "preview_template": [OK, OK, NF, NF, NF],
    "send_message": [OK, OK, NO, NO, NF],
    # A bulk send is refused on the capability first; people out of scope in a selection are skipped, not 404.
    "bulk_send": [OK, OK, NO, NO, NO],
    # Everyone keeps their own to-do list, about people in their scope; only admins and recruiters hand tasks out.
    "add_own_task": [OK, OK, OK, OK, NF],
    "assign_task": [OK, OK, NO, NO, NO],
    "complete_task": [OK, OK, OK, NF, NF],
    "create_sequence": [OK, OK, NO, NO, NO],
    # Enrolling starts from the sequence, which other roles cannot see.
    "enrol": [OK, OK, NF, NF, NF],
    "create_trigger": [OK, OK, NO, NO, NO],
    "edit_trigger": [OK, OK, NF, NF, NF],
    # A job's screening questions: managed with the job, by those who manage jobs; the outsider cannot see the job.
    "add_screening_question": [OK, OK, NO, NO, NF],
    "edit_screening_question": [OK, OK, NO, NO, NF],
    "move_screening_question": [OK, OK, NO, NO, NF],
    "remove_screening_question": [OK, OK, NO, NO, NF],
}


@pytest.fixture
def scene(world):
    """The base world plus a pool, a segment and a message template, created by the recruiter."""
    recruiter = world["recruiter"]
    pool = pool_create(actor=recruiter, name="Pioneers")
    segment = segment_create(actor=recruiter, name="Navy", filters={"q": "hopper"})
    template = message_template_create(
        actor=recruiter, data={"name": "Hello", "channel": "sms", "body": "Hi {{ candidate.first_name }}"}
    )
    message = message_send(actor=recruiter, candidate=world["applicant"], subject="Hello", body="Hi")
    task = task_create(
        actor=world["hiring_manager"], data={"title": "Decide on Grace", "candidate_id": world["applicant"].pk}
    )
    sequence = sequence_create(
        actor=recruiter,
        data={
            "name": "Nurture",
            "status": "active",
            "steps": [{"type": "message", "channel": "sms", "template_id": template.pk}],
        },
    )
    from rapport.careers.models import ScreeningAnswer
    from rapport.careers.services import job_question_create

    question = job_question_create(
        actor=recruiter, job=world["job"], data={"text": "Can you work in the EU?", "kind": "yes_no"}
    )
    screening_answer = ScreeningAnswer.objects.create(
        application=world["application"], question=question, question_text=question.text, answer="yes"
    )
    return {
        **world,
        "screening_question": question,
        "screening_answer": screening_answer,
        "pool": pool,
        "segment": segment,
        "template": template,
        "message": message,
        "task": task,
        "sequence": sequence,
        "trigger": trigger_create(
            actor=recruiter,
            data={"name": "Tag hires", "event": "application.hired", "action": "add_tag", "config": {"tag": "hired"}},
        ),
    }


LOOKUPS: dict[str, Callable] = {
    "applicant": lambda user, s: candidate_get_for_user(user=user, candidate_id=s["applicant"].pk),
    "bystander": lambda user, s: candidate_get_for_user(user=user, candidate_id=s["bystander"].pk),
    "job": lambda user, s: job_get_for_user(user=user, job_id=s["job"].pk),
    "application": lambda user, s: application_get_for_user(user=user, application_id=s["application"].pk),
    "pool": lambda user, s: pool_get_for_user(user=user, pool_id=s["pool"].pk),
    "segment": lambda user, s: segment_get_for_user(user=user, segment_id=s["segment"].pk),
    "template": lambda user, s: message_template_get_for_user(user=user, template_id=s["template"].pk),
    "message": lambda user, s: message_get_for_user(user=user, message_id=s["message"].pk),
    "task": lambda user, s: task_get_for_user(user=user, task_id=s["task"].pk),
    "sequence": lambda user, s: sequence_get_for_user(user=user, sequence_id=s["sequence"].pk),
    "trigger": lambda user, s: trigger_get_for_user(user=user, trigger_id=s["trigger"].pk),
    "screening_question": lambda user, s: job_question_get_for_user(
        user=user, job_id=s["job"].pk, question_id=s["screening_question"].pk
    ),
    "screening_answer": lambda user, s: _screening_answer(user, s),
}


def _screening_answer(user, s):
    # As GET /applications/{id}/answers reads them: through the application the user can see.
    application = application_get_for_user(user=user, application_id=s["application"].pk)
    return next(a for a in application_screening(application_id=application.pk) if a.pk == s["screening_answer"].pk)


def _edit(user, s):
    candidate = candidate_get_for_user(user=user, candidate_id=s["applicant"].pk)
    candidate_update(actor=user, candidate=candidate, data={"headline": "Compiler pioneer"})


def _merge(user, s):
    # Merge picks the pair among the people the user sees; the applicant into a fresh duplicate of her.
    survivor = candidate_get_for_user(user=user, candidate_id=s["applicant"].pk)
    from tests.factories import make_candidate

    duplicate = make_candidate(actor=s["recruiter"], first_name="Grace", last_name="Hopper")
    merged = candidate_get_for_user(user=s["admin"], candidate_id=duplicate.pk)
    candidate_merge(actor=user, survivor=survivor, merged=merged)


def _erase(user, s):
    candidate = candidate_get_for_user(user=user, candidate_id=s["applicant"].pk)
    candidate_erase(actor=user, candidate=candidate)


def _create_job(user, s):
    job_create(actor=user, data={"title": "New role"})


def _move(user, s):
    application = application_get_for_user(user=user, application_id=s["application"].pk)
    application_move(actor=user, application=application, stage=application.job.stages.get(name="Screening"))


def _reject(user, s):
    application = application_get_for_user(user=user, application_id=s["application"].pk)
    application_reject(actor=user, application=application, note="Not this time")


def _note(user, s):
    candidate = candidate_get_for_user(user=user, candidate_id=s["applicant"].pk)
    note_add(actor=user, candidate=candidate, body="Spoke today")


def _pools(user, s):
    pool_create(actor=user, name=f"Pool of {user.pk}")


def _create_template(user, s):
    message_template_create(actor=user, data={"name": f"Template of {user.pk}", "channel": "sms", "body": "Hi"})


def _edit_template(user, s):
    template = message_template_get_for_user(user=user, template_id=s["template"].pk)
    message_template_update(actor=user, template=template, data={"body": "Hello {{ candidate.first_name }}"})


def _preview_template(user, s):
    template = message_template_get_for_user(user=user, template_id=s["template"].pk)
    message_template_preview(user=user, template=template, candidate_id=s["applicant"].pk)


def _send_message(user, s):
    candidate = candidate_get_for_user(user=user, candidate_id=s["applicant"].pk)
    message_send(actor=user, candidate=candidate, subject="Hi {{ candidate.first_name }}", body="Hello")


def _bulk_send(user, s):
    ensure(user, Capability.SEND_MESSAGES)
    # The scene's template is an SMS one; bulk sends are email only for now.
    template = message_template_create(
        actor=user, data={"name": "Bulk hello", "channel": "email", "subject": "Hi", "body": "Hello"}
    )
    bulk = message_bulk_send(
        actor=user, template=template, candidate_ids=[s["applicant"].pk, s["bystander"].pk], idempotency_key=None
    )
    assert bulk.queued == 2


def _add_own_task(user, s):
    task_create(actor=user, data={"title": "Call Grace", "candidate_id": s["applicant"].pk})


def _assign_task(user, s):
    from tests.factories import UserFactory

    colleague = UserFactory(email=f"colleague-of-{user.pk}@rapport.test")
    task_create(actor=user, data={"title": "Send feedback", "owner_id": colleague.pk})


def _complete_task(user, s):
    task = task_get_for_user(user=user, task_id=s["task"].pk)
    task_update(actor=user, task=task, data={"done": True})


def _create_sequence(user, s):
    sequence_create(actor=user, data={"name": f"Sequence of {user.pk}", "steps": [{"type": "wait", "days": 1}]})


def _enrol(user, s):
    sequence = sequence_get_for_user(user=user, sequence_id=s["sequence"].pk)
    result = sequence_enrol(actor=user, sequence=sequence, candidate_ids=[s["applicant"].pk])
    assert result.enrolled == [s["applicant"].pk]


def _create_trigger(user, s):
    trigger_create(
        actor=user,
        data={"name": f"Trigger of {user.pk}", "event": "note.added", "action": "add_tag", "config": {"tag": "x"}},
    )


def _edit_trigger(user, s):
    trigger = trigger_get_for_user(user=user, trigger_id=s["trigger"].pk)
    trigger_update(actor=user, trigger=trigger, data={"enabled": True})


def _add_screening_question(user, s):
    from rapport.careers.services import job_question_create

    job = job_get_for_user(user=user, job_id=s["job"].pk)
    job_question_create(actor=user, job=job, data={"text": "Can you work in Berlin?", "kind": "yes_no"})


def _edit_screening_question(user, s):
    from rapport.careers.services import job_question_update

    question = job_question_get_for_user(user=user, job_id=s["job"].pk, question_id=s["screening_question"].pk)
    job_question_update(actor=user, question=question, data={"required": True})


def _move_screening_question(user, s):
    from rapport.careers.services import job_question_create, job_question_move

    job_question_create(actor=s["recruiter"], job=s["job"], data={"text": "Notice period?", "kind": "text"})
    question = job_question_get_for_user(user=user, job_id=s["job"].pk, question_id=s["screening_question"].pk)
    job_question_move(actor=user, question=question, direction="down")


def _remove_screening_question(user, s):
    from rapport.careers.services import job_question_delete

    question = job_question_get_for_user(user=user, job_id=s["job"].pk, question_id=s["screening_question"].pk)
    job_question_delete(actor=user, question=question)


ACTIONS: dict[str, Callable] = {
    "add_screening_question": _add_screening_question,
    "edit_screening_question": _edit_screening_question,
    "move_screening_question": _move_screening_question,
    "remove_screening_question": _remove_screening_question,
    "edit_candidate": _edit,
    "merge_candidates": _merge,
    "erase_candidate": _erase,
    "create_job": _create_job,
    "move_application": _move,
    "reject_application": _reject,
    "add_note": _note,
    "manage_pools": _pools,
    "export": lambda user, s: ensure(user, Capability.EXPORT),
    "import": lambda user, s: ensure(user, Capability.IMPORT),
    "create_template": _create_template,
    "edit_template": _edit_template,
    "preview_template": _preview_template,
    "send_message": _send_message,
    "bulk_send": _bulk_send,
    "add_own_task": _add_own_task,
    "assign_task": _assign_task,
    "complete_task": _complete_task,
    "create_sequence": _create_sequence,
    "enrol": _enrol,
    "create_trigger": _create_trigger,
    "edit_trigger": _edit_trigger,
}


def _outcome(action: Callable, user, scene) -> str:
    try:
        action(user, scene)
    except PermissionDenied:
        return NO
    except NotFound:
        return NF
    return OK


@pytest.mark.parametrize(
    "resource, role, expected",
    [(resource, role, row[i]) for resource, row in VISIBILITY.items() for i, role in enumerate(ROLES)],
)
def test_visibility(scene, resource, role, expected):
    user = scene[role]

    try:
        found = LOOKUPS[resource](user, scene)
        outcome = Y
    except NotFound:
        found, outcome = None, N

    assert outcome == expected
    if found is not None:
        assert found.pk == scene[resource].pk


@pytest.mark.parametrize(
    "verb, role, expected",
    [(verb, role, row[i]) for verb, row in VERBS.items() for i, role in enumerate(ROLES)],
)
def test_verbs(scene, verb, role, expected):
    assert _outcome(ACTIONS[verb], scene[role], scene) == expected


def test_the_tables_cover_every_role_resource_and_capability():
    assert all(len(row) == len(ROLES) for row in [*VISIBILITY.values(), *VERBS.values()])
    assert set(VISIBILITY) == set(LOOKUPS)
    assert set(VERBS) == set(ACTIONS)
    covered = {
        Capability.EDIT_CANDIDATES,
        Capability.MERGE_CANDIDATES,
        Capability.ERASE_CANDIDATES,
        Capability.MANAGE_JOBS,
        Capability.MOVE_APPLICATIONS,
        Capability.ADD_NOTES,
        Capability.MANAGE_POOLS,
        Capability.EXPORT,
        Capability.IMPORT,
        Capability.MANAGE_TEMPLATES,
        Capability.SEND_MESSAGES,
        Capability.MANAGE_AUTOMATION,
    }
    assert set(Capability) - covered == {Capability.ADMINISTER}


def test_a_deactivated_admin_sees_and_does_nothing(scene):
    admin = scene["admin"]
    admin.is_active = False
    admin.save()

    for lookup in LOOKUPS.values():
        with pytest.raises(NotFound):
            lookup(admin, scene)
    with pytest.raises(PermissionDenied):
        job_create(actor=admin, data={"title": "Ghost job"})


def test_a_denied_verb_changes_nothing(scene):
    applicant = scene["applicant"]

    _outcome(_edit, scene["hiring_manager"], scene)
    _outcome(_move, scene["interviewer"], scene)

    applicant.refresh_from_db()
    scene["application"].refresh_from_db()
    assert applicant.headline == ""
    assert scene["application"].stage.name == "Sourced"
