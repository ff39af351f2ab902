"""Kanban actions on one application: move, reject, withdraw, reopen, for every role and with bad input."""

import pytest
from django.urls import reverse

from rapport.pipeline.models import Application, ApplicationStatus, RejectionReason, StageTransition
from rapport.pipeline.services import rejection_reasons_ensure
from rapport.timeline.models import Activity
from tests.factories import make_job

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture
def reasons(db):
    rejection_reasons_ensure()
    return list(RejectionReason.objects.filter(is_active=True))


def _stage(world, name):
    return world["job"].stages.get(name=name)


def _move(client, application, stage_id, **extra):
    return client.post(reverse("pipeline:move", args=[application.pk]), {"stage_id": stage_id}, **extra)


# --- Move ---------------------------------------------------------------------------------------------------------


def test_a_move_from_the_board_answers_with_the_new_counts(client, world):
    application = world["application"]
    screening = _stage(world, "Screening")
    client.force_login(world["recruiter"])

    response = _move(client, application, screening.pk, **JSON)

    body = response.json()
    application.refresh_from_db()
    assert response.status_code == 200
    assert application.stage == screening
    assert body["application"] == {
        "id": str(application.pk),
        "stage_id": str(screening.pk),
        "status": "active",
        "status_display": "Active",
        "days_in_stage": 0,
        "engagement": "low",
    }
    assert body["counts"] == {str(screening.pk): 1}
    assert body["message"] == "Moved Grace Hopper to Screening."
    assert StageTransition.objects.filter(application=application, to_stage=screening).exists()
    assert Activity.objects.filter(type="application.stage_changed", application=application).exists()


def test_a_move_from_a_plain_form_returns_to_the_board(client, world):
    client.force_login(world["recruiter"])

    response = _move(client, world["application"], _stage(world, "Interview").pk)

    assert response.status_code == 302
    assert response["Location"] == reverse("jobs:detail", args=[world["job"].pk])
    world["application"].refresh_from_db()
    assert world["application"].stage.name == "Interview"


def test_moving_to_hired_marks_the_application_hired(client, world):
    client.force_login(world["recruiter"])

    body = _move(client, world["application"], _stage(world, "Hired").pk, **JSON).json()

    assert body["application"]["status"] == "hired"
    assert body["counts"] == {str(_stage(world, "Hired").pk): 1}


@pytest.mark.parametrize("stage_id", ["", "abc", "999999"])
def test_a_move_to_no_real_stage_is_refused_and_changes_nothing(client, world, stage_id):
    client.force_login(world["recruiter"])
    before = world["application"].stage_id

    response = _move(client, world["application"], stage_id, **JSON)

    assert response.status_code == 422
    assert response.json()["error"]["fields"] == {"stage_id": ["Choose one of this job's stages."]}
    world["application"].refresh_from_db()
    assert world["application"].stage_id == before


def test_a_move_to_a_stage_of_another_job_is_refused(client, world):
    other = make_job(actor=world["recruiter"], title="Other job")
    client.force_login(world["recruiter"])

    response = _move(client, world["application"], other.stages.first().pk, **JSON)

    assert response.status_code == 422
    world["application"].refresh_from_db()
    assert world["application"].job == world["job"]
    assert world["application"].stage.job == world["job"]


def test_moving_a_rejected_application_is_a_conflict(client, world, reasons):
    client.force_login(world["recruiter"])
    client.post(reverse("pipeline:reject", args=[world["application"].pk]), {"reason": reasons[0].pk}, **JSON)

    response = _move(client, world["application"], _stage(world, "Offer").pk, **JSON)
    plain = _move(client, world["application"], _stage(world, "Offer").pk)

    assert response.status_code == 409
    assert "rejected" in response.json()["error"]["message"]
    assert plain.status_code == 302
    world["application"].refresh_from_db()
    assert world["application"].stage.name == "Sourced"


def test_a_move_must_be_a_post(client, world):
    client.force_login(world["recruiter"])

    assert client.get(reverse("pipeline:move", args=[world["application"].pk])).status_code == 405


def test_an_unknown_application_is_a_404(client, world):
    client.force_login(world["recruiter"])

    assert client.post(reverse("pipeline:move", args=[999999]), {"stage_id": 1}, **JSON).status_code == 404
    assert client.post(reverse("pipeline:move", args=[999999]), {"stage_id": 1}).status_code == 404


def test_anonymous_moves_are_sent_to_sign_in(client, world):
    response = _move(client, world["application"], _stage(world, "Offer").pk)

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    world["application"].refresh_from_db()
    assert world["application"].stage.name == "Sourced"


ROLES = [("admin", 200), ("recruiter", 200), ("hiring_manager", 200), ("interviewer", 403), ("outsider", 404)]


@pytest.mark.parametrize(("role", "status"), ROLES)
def test_who_may_move_an_application(client, world, role, status):
    client.force_login(world[role])

    response = _move(client, world["application"], _stage(world, "Screening").pk, **JSON)
    page = _move(client, world["application"], _stage(world, "Screening").pk)

    assert response.status_code == status
    if status != 200:
        assert response.json()["error"]["code"] == {403: "forbidden", 404: "not_found"}[status]
        assert page.status_code == status
    world["application"].refresh_from_db()
    assert (world["application"].stage.name == "Screening") == (status == 200)


# --- Reject -------------------------------------------------------------------------------------------------------


def test_rejecting_with_a_reason_a_note_and_notify(client, world, reasons):
    from rapport.messaging.models import Message
    from rapport.messaging.services import message_template_create

    application = world["application"]
    rejection = message_template_create(
        actor=world["recruiter"],
        data={"name": "Kind no", "category": "rejection", "subject": "About {{ job.title }}", "body": "Thank you."},
    )
    client.force_login(world["recruiter"])

    response = client.post(
        reverse("pipeline:reject", args=[application.pk]),
        {
            "reason": reasons[1].pk,
            "note": "Strong, but not senior enough yet.",
            "notify": "on",
            "template": rejection.pk,
        },
        **JSON,
    )

    application.refresh_from_db()
    assert response.status_code == 200
    assert response.json()["counts"] == {}
    assert response.json()["message"] == "Rejected Grace Hopper."
    assert application.status == ApplicationStatus.REJECTED
    assert application.rejection_reason == reasons[1]
    assert application.rejection_note == "Strong, but not senior enough yet."
    event = Activity.objects.get(type="application.rejected", application=application)
    assert event.payload["notify"] is True
    assert event.payload["reason"] == reasons[1].name
    assert Message.objects.get(candidate=application.candidate).subject == "About Platform Engineer"


def test_notify_that_cannot_be_written_rejects_nothing_and_names_the_field(client, world, reasons):
    application = world["application"]
    client.force_login(world["recruiter"])

    response = client.post(
        reverse("pipeline:reject", args=[application.pk]), {"reason": reasons[1].pk, "notify": "on"}, **JSON
    )

    application.refresh_from_db()
    assert response.status_code == 422
    assert "template" in response.json()["error"]["fields"]
    assert application.status == ApplicationStatus.ACTIVE


def test_the_counts_after_a_reject_include_closed_cards_when_the_board_shows_them(client, world, reasons):
    client.force_login(world["recruiter"])

    body = client.post(
        reverse("pipeline:reject", args=[world["application"].pk]), {"reason": reasons[0].pk, "closed": "1"}, **JSON
    ).json()

    assert body["counts"] == {str(_stage(world, "Sourced").pk): 1}
    assert body["application"]["status"] == "rejected"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({}, "reason", "Choose why this application is rejected."),
        ({"reason": "abc"}, "reason", "Choose one of the organisation's rejection reasons."),
        ({"reason": "999999"}, "reason", "Choose one of the organisation's rejection reasons."),
        ({"reason": "REASON", "note": "x" * 5001}, "note", "Keep the note under 5,000 characters."),
    ],
)
def test_bad_rejections_name_the_field_and_write_nothing(client, world, reasons, data, field, message):
    data = {k: (reasons[0].pk if v == "REASON" else v) for k, v in data.items()}
    client.force_login(world["recruiter"])

    response = client.post(reverse("pipeline:reject", args=[world["application"].pk]), data, **JSON)

    assert response.status_code == 422
    assert response.json()["error"]["fields"][field] == [message]
    world["application"].refresh_from_db()
    assert world["application"].status == ApplicationStatus.ACTIVE
    assert not Activity.objects.filter(type="application.rejected").exists()


def test_a_retired_reason_cannot_be_used(client, world, reasons):
    RejectionReason.objects.filter(pk=reasons[0].pk).update(is_active=False)
    client.force_login(world["recruiter"])

    response = client.post(
        reverse("pipeline:reject", args=[world["application"].pk]), {"reason": reasons[0].pk}, **JSON
    )

    assert response.status_code == 422
    world["application"].refresh_from_db()
    assert world["application"].status == ApplicationStatus.ACTIVE


def test_the_reject_page_works_without_the_dialog(client, world, reasons):
    url = reverse("pipeline:reject", args=[world["application"].pk])
    client.force_login(world["recruiter"])

    page = client.get(url)
    invalid = client.post(url, {"note": "no reason"})
    done = client.post(url, {"reason": reasons[0].pk})

    assert page.status_code == 200
    assert reasons[0].name in page.content.decode()
    assert invalid.status_code == 200
    assert "Choose why this application is rejected." in invalid.content.decode()
    assert done.status_code == 302
    world["application"].refresh_from_db()
    assert world["application"].status == ApplicationStatus.REJECTED


def test_rejecting_twice_is_a_conflict(client, world, reasons):
    url = reverse("pipeline:reject", args=[world["application"].pk])
    client.force_login(world["recruiter"])
    client.post(url, {"reason": reasons[0].pk}, **JSON)

    response = client.post(url, {"reason": reasons[1].pk}, **JSON)

    assert response.status_code == 409
    world["application"].refresh_from_db()
    assert world["application"].rejection_reason == reasons[0]


@pytest.mark.parametrize(("role", "status"), ROLES)
def test_who_may_reject(client, world, reasons, role, status):
    url = reverse("pipeline:reject", args=[world["application"].pk])
    client.force_login(world[role])

    page = client.get(url)
    response = client.post(url, {"reason": reasons[0].pk}, **JSON)

    assert response.status_code == status
    assert page.status_code == status
    world["application"].refresh_from_db()
    assert (world["application"].status == ApplicationStatus.REJECTED) == (status == 200)


# --- Withdraw and reopen ---------------------------------------------------------------------------------------------


def test_withdrawing_closes_the_application(client, world):
    url = reverse("pipeline:withdraw", args=[world["application"].pk])
    client.force_login(world["recruiter"])

    assert client.get(url).status_code == 200
    response = client.post(url, {"note": "Took another offer."}, **JSON)
    again = client.post(url, {}, **JSON)

    assert response.status_code == 200
    assert response.json()["application"]["status"] == "withdrawn"
    assert again.status_code == 409
    event = Activity.objects.get(type="application.withdrawn")
    assert event.payload["note"] == "Took another offer."


def test_a_too_long_withdrawal_note_is_refused(client, world):
    client.force_login(world["recruiter"])

    response = client.post(reverse("pipeline:withdraw", args=[world["application"].pk]), {"note": "x" * 5001}, **JSON)
    page = client.post(reverse("pipeline:withdraw", args=[world["application"].pk]), {"note": "x" * 5001})

    assert response.status_code == 422
    assert response.json()["error"]["fields"]["note"] == ["Keep the note under 5,000 characters."]
    assert "Keep the note under 5,000 characters." in page.content.decode()
    world["application"].refresh_from_db()
    assert world["application"].status == ApplicationStatus.ACTIVE


@pytest.mark.parametrize(("role", "status"), ROLES)
def test_who_may_withdraw(client, world, role, status):
    client.force_login(world[role])

    response = client.post(reverse("pipeline:withdraw", args=[world["application"].pk]), {}, **JSON)

    assert response.status_code == status


def test_reopening_puts_a_closed_application_back_on_the_board(client, world, reasons):
    client.force_login(world["recruiter"])
    client.post(reverse("pipeline:reject", args=[world["application"].pk]), {"reason": reasons[0].pk}, **JSON)

    response = client.post(reverse("pipeline:reopen", args=[world["application"].pk]), {}, **JSON)

    assert response.status_code == 200
    assert response.json()["counts"] == {str(_stage(world, "Sourced").pk): 1}
    assert Application.objects.get(pk=world["application"].pk).status == ApplicationStatus.ACTIVE


@pytest.mark.parametrize(("role", "status"), [("interviewer", 403), ("outsider", 404)])
def test_who_may_not_reopen(client, world, role, status):
    client.force_login(world[role])

    assert client.post(reverse("pipeline:reopen", args=[world["application"].pk]), {}, **JSON).status_code == status


def test_a_next_url_elsewhere_is_ignored(client, world):
    client.force_login(world["recruiter"])

    response = client.post(
        reverse("pipeline:move", args=[world["application"].pk]),
        {"stage_id": _stage(world, "Offer").pk, "next": "https://evil.example/"},
    )

    assert response["Location"] == reverse("jobs:detail", args=[world["job"].pk])
