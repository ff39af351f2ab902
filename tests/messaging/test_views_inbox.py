"""The inbox page: views, rows, triage actions on one row or many (HTMX and plain POST), the sidebar count, and
who may use it."""

import json
import zoneinfo
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from rapport.messaging.models import Message
from rapport.messaging.services_inbound import message_receive
from rapport.timeline.models import AuditEntry
from tests.factories import UserFactory, make_candidate

HTMX = {"HTTP_HX_REQUEST": "true"}


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _reply(person, text="Happy to talk next week", channel="email"):
    address = "grace@example.org" if channel == "email" else "+4915112345678"
    return message_receive(candidate=person, channel=channel, from_address=address, subject="Re: Hello", text=text)


@pytest.fixture
def colleague(db):
    return UserFactory(email="colleague@rapport.test", name="Casey Colleague")


def test_an_empty_inbox_says_what_lands_here_and_links_to_the_people(recruiter):
    response = _client(recruiter).get("/inbox/")

    body = response.content.decode()
    assert response.status_code == 200
    assert "No replies waiting. When people reply to you, their messages land here." in body
    assert f'href="{reverse("candidates:list")}"' in body


def test_rows_show_person_channel_snippet_and_unread_state(recruiter, person):
    reply = _reply(person, text="Happy to talk\n\nnext week, " + "really " * 40)

    body = _client(recruiter).get("/inbox/").content.decode()

    row = body.split(f'data-message="{reply.pk}"')[1].split("</tr>")[0]
    assert 'class="is-unread"' in row.split(">")[0]
    assert "Grace Hopper" in row and "Email" in row and "Happy to talk next week, really" in row
    assert "…" in row and "data-unread" in row
    assert f'href="/candidates/{person.pk}/#person-messages"' in row


def test_opening_the_thread_marks_the_row_read(recruiter, person):
    reply = _reply(person)
    client = _client(recruiter)

    client.get(f"/messages/to/{person.pk}/thread/", **HTMX)
    body = client.get("/inbox/").content.decode()

    assert f'data-message="{reply.pk}"' in body
    assert "data-unread" not in body.split(f'data-message="{reply.pk}"')[1].split("</tr>")[0]


def test_the_views_filter_the_rows(recruiter, colleague, person):
    theirs = make_candidate(actor=colleague, first_name="Theo", emails=["theo@example.org"])
    mine, other = _reply(person), _reply(theirs)
    client = _client(recruiter)

    def shown(view):
        body = client.get(f"/inbox/?view={view}", **HTMX).content.decode()
        return {m.pk for m in (mine, other) if f'data-message="{m.pk}"' in body}

    assert shown("mine") == {mine.pk}
    assert shown("all") == {mine.pk, other.pk}
    assert shown("unassigned") == {mine.pk, other.pk}
    assert shown("snoozed") == set() and shown("done") == set()
    assert shown("nonsense") == {mine.pk}


def test_mark_done_over_htmx_takes_the_row_out_of_mine_and_updates_the_count(recruiter, person):
    reply = _reply(person)

    response = _client(recruiter).post("/inbox/done/", {"ids": [reply.pk], "view": "mine"}, **HTMX)

    body = response.content.decode()
    assert response.status_code == 200
    assert f'data-message="{reply.pk}"' not in body and "No replies waiting" in body
    assert 'id="inbox-unread" hx-swap-oob="true" hidden' in body
    assert json.loads(response["HX-Trigger"])["rapport:toast"]["message"] == "Marked 1 reply done."
    reply.refresh_from_db()
    assert reply.done_at is not None


def test_bulk_actions_apply_to_every_selected_row(recruiter, person):
    other = make_candidate(actor=recruiter, first_name="Alan", emails=["alan@example.org"])
    first, second = _reply(person), _reply(other)

    _client(recruiter).post("/inbox/snooze/", {"ids": [first.pk, second.pk], "until": "tomorrow"}, **HTMX)

    assert Message.objects.filter(pk__in=[first.pk, second.pk], snoozed_until__gt=timezone.now()).count() == 2
    body = _client(recruiter).get("/inbox/?view=snoozed").content.decode()
    assert f'data-message="{first.pk}"' in body and f'data-message="{second.pk}"' in body


def test_snooze_to_a_chosen_day_and_a_bad_day_is_named(recruiter, person, settings):
    reply = _reply(person)
    client = _client(recruiter)
    day = (timezone.localdate() + timedelta(days=10)).isoformat()

    client.post("/inbox/snooze/", {"ids": [reply.pk], "until": "date", "snooze_date": day}, **HTMX)
    bad = client.post("/inbox/snooze/", {"ids": [reply.pk], "until": "date", "snooze_date": ""}, **HTMX)
    past = client.post("/inbox/snooze/", {"ids": [reply.pk], "until": "date", "snooze_date": "2001-01-01"}, **HTMX)

    reply.refresh_from_db()
    wakes = reply.snoozed_until.astimezone(zoneinfo.ZoneInfo(settings.RAPPORT_DEFAULT_TIMEZONE))
    assert wakes.date().isoformat() == day and wakes.hour == 8
    assert bad.status_code == 422 and "Snooze date: Pick the day it should come back." in bad.content.decode()
    assert past.status_code == 422 and "Snooze: Pick a time in the future." in past.content.decode()


def test_assign_to_a_teammate_and_an_invalid_assignee_is_named(recruiter, colleague, hiring_manager, person):
    reply = _reply(person)
    client = _client(recruiter)

    ok = client.post("/inbox/assign/", {"ids": [reply.pk], "assignee": colleague.pk}, **HTMX)
    bad = client.post("/inbox/assign/", {"ids": [reply.pk], "assignee": hiring_manager.pk}, **HTMX)

    reply.refresh_from_db()
    assert ok.status_code == 200 and reply.assigned_to == colleague
    assert json.loads(ok["HX-Trigger"])["rapport:toast"]["message"] == "Assigned 1 reply to Casey Colleague."
    assert AuditEntry.objects.filter(object_type="message", object_id=str(reply.pk)).count() == 1
    assert bad.status_code == 422 and "Assign to: Choose an active admin or recruiter." in bad.content.decode()
    body = client.get("/inbox/?view=all").content.decode()
    assert "Casey Colleague" in body.split(f'data-message="{reply.pk}"')[1].split("</tr>")[0]


def test_mark_unread_and_reopen(recruiter, person):
    reply = _reply(person)
    client = _client(recruiter)
    client.get(f"/messages/to/{person.pk}/thread/", **HTMX)

    client.post("/inbox/unread/", {"ids": [reply.pk]}, **HTMX)
    reply.refresh_from_db()
    assert reply.read_at is None

    client.post("/inbox/done/", {"ids": [reply.pk]}, **HTMX)
    done = client.get("/inbox/?view=done").content.decode()
    assert f'data-message="{reply.pk}"' in done and "Reopen" in done
    client.post("/inbox/reopen/", {"ids": [reply.pk], "view": "done"}, **HTMX)
    reply.refresh_from_db()
    assert reply.done_at is None


def test_without_javascript_an_action_redirects_back_with_a_message(recruiter, person):
    reply = _reply(person)
    client = _client(recruiter)

    response = client.post("/inbox/done/", {"ids": [reply.pk], "view": "all"}, follow=True)

    assert response.redirect_chain == [("/inbox/?view=all", 302)]
    assert "Marked 1 reply done." in response.content.decode()


def test_unknown_actions_ids_and_rows_out_of_scope_are_404(recruiter, person):
    reply = _reply(person)
    erased = make_candidate(actor=recruiter, first_name="Gone", emails=["gone@example.org"])
    hidden = _reply(erased)
    erased.erased_at = timezone.now()
    erased.save(update_fields=["erased_at"])
    client = _client(recruiter)

    assert client.post("/inbox/explode/", {"ids": [reply.pk]}).status_code == 404
    assert client.post("/inbox/done/", {"ids": [reply.pk, hidden.pk]}).status_code == 404
    assert client.post("/inbox/done/", {"ids": ["99999999"]}).status_code == 404
    assert client.post("/inbox/done/", {"ids": ["not-a-number"]}).status_code == 404
    assert not Message.objects.filter(done_at__isnull=False).exists()


def test_an_action_without_selection_is_named(recruiter):
    response = _client(recruiter).post("/inbox/done/", {}, **HTMX)

    assert response.status_code == 422 and "Ids: Select at least one message." in response.content.decode()


@pytest.mark.parametrize("role", ["hiring_manager", "interviewer", "outsider"])
def test_roles_without_an_inbox_are_refused(world, role):
    reply = _reply(world["applicant"])
    client = _client(world[role])

    assert client.get("/inbox/").status_code == 403
    assert client.post("/inbox/done/", {"ids": [reply.pk]}).status_code == 403
    page = client.get(f"/candidates/{world['applicant'].pk}/" if role != "outsider" else "/")
    assert 'data-nav="inbox"' not in page.content.decode()
    reply.refresh_from_db()
    assert reply.done_at is None


def test_signed_out_visitors_are_sent_to_sign_in_and_actions_need_csrf(recruiter, person):
    reply = _reply(person)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(recruiter)

    assert Client().get("/inbox/").status_code == 302
    assert strict.post("/inbox/done/", {"ids": [reply.pk]}).status_code == 403
    assert _client(recruiter).get("/inbox/done/").status_code == 405
    reply.refresh_from_db()
    assert reply.done_at is None


def test_the_sidebar_shows_the_inbox_with_the_unread_count(recruiter, person):
    _reply(person)
    _reply(person, text="And one more thing")

    body = _client(recruiter).get("/").content.decode()

    assert 'data-nav="inbox"' in body
    assert 'id="inbox-unread" title="Unread replies">2</span>' in body


def test_unknown_senders_link_only_when_triage_exists(recruiter):
    body = _client(recruiter).get("/inbox/").content.decode()

    try:
        triage = reverse("triage:list")
    except NoReverseMatch:
        assert "Unknown senders" not in body
    else:
        assert f'href="{triage}"' in body and "Unknown senders" in body
