"""The bulk email page: from the candidate list's selection, a pool or a segment; choose a template, review three
previews and who will be skipped and why, send, and see what was queued."""

import pytest
from django.test import Client

from rapport.candidates.services import pool_add_members, pool_create, segment_create
from rapport.messaging.models import BulkSend, Message
from rapport.messaging.services import outbox_deliver_due
from tests.factories import make_candidate

URL = "/messages/bulk/"


@pytest.fixture(autouse=True)
def _no_holds(settings):
    settings.RAPPORT_QUIET_HOURS = None
    settings.RAPPORT_FREQUENCY_CAP = 0


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def group(recruiter):
    return [
        make_candidate(actor=recruiter, first_name=name, last_name="Doe", emails=[f"{name.lower()}@example.org"])
        for name in ("Ann", "Bob", "Cat", "Dan")
    ] + [make_candidate(actor=recruiter, first_name="Nomail", last_name="Doe")]


def test_review_shows_three_previews_and_the_skips_then_send_queues_and_delivers(
    recruiter, group, make_template, smtp_server
):
    template = make_template(subject="Hi {{ candidate.first_name }}", body="Hello {{ candidate.first_name }}")
    client = _client(recruiter)
    ids = [str(c.pk) for c in group]

    chosen = client.post(URL, {"ids": ids})
    review = client.post(URL, {"ids": ids, "template": template.pk, "step": "review"})

    assert chosen.status_code == 200 and b"Write to 5 selected people" in chosen.content
    body = review.content.decode()
    assert review.status_code == 200
    assert body.count("data-bulk-preview") == 3
    assert "4 will get this email, 1 will be skipped" in body
    assert "<strong>No email address.</strong> (1): <a href=" in body and "Nomail Doe</a>" in body
    assert "Send to 4 people" in body
    assert not Message.objects.exists()

    key = body.split('name="idempotency_key" value="')[1].split('"')[0]
    confirm = {
        "ids": ids,
        "template": template.pk,
        "step": "send",
        "idempotency_key": key,
        "reviewed": f"{template.pk}:",
    }
    sent = client.post(URL, confirm)
    again = client.post(URL, confirm)

    assert sent.status_code == again.status_code == 200
    assert b"Queued 4 messages" in sent.content and b"skipped 1" in sent.content
    assert BulkSend.objects.count() == 1 and Message.objects.count() == 4
    outbox_deliver_due()
    assert sorted(m["Subject"] for m in smtp_server.messages) == ["Hi Ann", "Hi Bob", "Hi Cat", "Hi Dan"]


def test_a_template_that_fails_for_someone_lists_them_as_skipped_with_the_field(recruiter, group, make_template):
    from tests.factories import make_job

    job = make_job(actor=recruiter, title="Data Engineer")
    template = make_template(subject="{{ job.title }}", body="You are at {{ application.stage }}.")

    review = _client(recruiter).post(
        URL, {"ids": [group[0].pk], "template": template.pk, "job": job.pk, "step": "review"}
    )

    body = review.content.decode()
    assert "0 will get this email, 1 will be skipped" in body
    assert "The template could not be filled in: body, line 1" in body
    assert "Send to" not in body


def test_a_pool_and_a_segment_have_an_email_button_and_page(recruiter, group, make_template):
    pool = pool_create(actor=recruiter, name="Backend")
    pool_add_members(actor=recruiter, pool=pool, candidate_ids=[group[0].pk, group[1].pk])
    segment = segment_create(actor=recruiter, name="Does", filters={"q": "Doe"})
    client = _client(recruiter)

    assert f"{URL}?pool={pool.pk}".encode() in client.get(f"/pools/{pool.pk}/").content
    assert f"{URL}?segment={segment.pk}".encode() in client.get(f"/segments/{segment.pk}/").content
    page = client.get(URL, {"pool": pool.pk})
    template = make_template()
    sent = client.post(URL, {"pool": pool.pk, "template": template.pk, "step": "send", "reviewed": f"{template.pk}:"})

    assert page.status_code == 200 and b"Write to the pool Backend" in page.content
    assert b"Queued 2 messages" in sent.content


def test_the_candidate_list_offers_email_to_roles_that_message(world):
    recruiter_list = _client(world["recruiter"]).get("/").content.decode()
    interviewer_list = _client(world["interviewer"]).get("/").content.decode()

    assert f'action="{URL}"' in recruiter_list
    assert f'action="{URL}"' not in interviewer_list


def test_no_template_chosen_is_an_error_next_to_the_field(recruiter, group):
    response = _client(recruiter).post(URL, {"ids": [group[0].pk], "step": "review"})

    assert response.status_code == 422 and b"Pick the template to send." in response.content


def test_nothing_selected_says_so(recruiter):
    response = _client(recruiter).get(URL)

    assert b"Select the people to email" in response.content and b'name="step"' not in response.content


@pytest.mark.parametrize("role", ["hiring_manager", "interviewer", "outsider"])
def test_other_roles_get_403(world, role):
    assert _client(world[role]).post(URL, {"ids": [world["applicant"].pk]}).status_code == 403


def test_a_pool_out_of_scope_is_404(recruiter):
    assert _client(recruiter).get(URL, {"pool": 999_999}).status_code == 404


def test_sending_a_template_other_than_the_reviewed_one_shows_its_review_instead(recruiter, group, make_template):
    reviewed, other = make_template(), make_template()

    response = _client(recruiter).post(
        URL, {"ids": [group[0].pk], "template": other.pk, "step": "send", "reviewed": f"{reviewed.pk}:"}
    )

    assert b"data-bulk-review" in response.content and b"Queued" not in response.content
    assert not Message.objects.exists()


def test_skips_are_grouped_by_reason_largest_first_with_long_lists_cut_short():
    from rapport.messaging.views_bulk import SKIPPED_NAMES_SHOWN, _skip_groups

    skipped = [{"candidate_id": i, "name": f"P{i}", "reason": "No email address."} for i in range(20)]
    skipped.append({"candidate_id": 99, "name": "Dee", "reason": "Marked do not contact."})

    groups = _skip_groups(skipped)

    assert [(g["reason"], g["count"]) for g in groups] == [("No email address.", 20), ("Marked do not contact.", 1)]
    assert len(groups[0]["people"]) == SKIPPED_NAMES_SHOWN
    assert groups[0]["more"] == 20 - SKIPPED_NAMES_SHOWN
    assert groups[1]["more"] == 0


def test_a_text_template_sends_to_each_persons_phone_and_skips_those_without_one(recruiter, make_template):
    people = [
        make_candidate(actor=recruiter, first_name="Eve", last_name="Doe", phones=["+14155550123"]),
        make_candidate(actor=recruiter, first_name="Fay", last_name="Doe", emails=["fay@example.org"]),
    ]
    template = make_template(name="Text hello", channel="sms", subject="", body="Hi {{ candidate.first_name }}!")
    client = _client(recruiter)
    ids = [str(p.pk) for p in people]

    review = client.post(URL, {"ids": ids, "template": template.pk, "step": "review"})
    reviewed = f"{template.pk}:"
    sent = client.post(URL, {"ids": ids, "template": template.pk, "step": "send", "reviewed": reviewed})

    assert "1 will get this text, 1 will be skipped" in review.content.decode()
    assert "No phone number." in review.content.decode()
    message = Message.objects.get()
    assert sent.status_code == 200 and b"Queued 1 message" in sent.content
    assert (message.channel, message.to_address, message.text.strip()) == ("sms", "+14155550123", "Hi Eve!")
