"""Triage of the reply mailbox: email from unknown senders becomes a lead in one click or is dismissed, unreadable
email can be downloaded raw, and only the roles that write to candidates see any of it."""

from email.message import EmailMessage

import pytest
from django.test import Client

from rapport.candidates.models import Candidate, RelationshipStatus
from rapport.messaging.channels.email.inbound import inbound_email_accept
from rapport.messaging.models import InboundEmail, InboundStatus, Message, MessageDirection
from rapport.messaging.selectors_triage import TRIAGE_PAGE_SIZE, triage_page
from rapport.messaging.services_triage import lead_name
from rapport.timeline.models import Activity
from tests.factories import make_candidate

_ids = iter(range(1, 100_000))


def _client(user, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def receive(
    *, sender: str = "Lin Stranger <lin@unknown.example>", subject: str = "Your job ad", text: str = "Is it still open?"
):
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "replies@rapport.test"
    message["Subject"] = subject
    message["Message-ID"] = f"<m{next(_ids)}@unknown.example>"
    message.set_content(text)
    message.add_attachment(b"%PDF-1.4 cv", maintype="application", subtype="pdf", filename="cv.pdf")
    return inbound_email_accept(raw=bytes(message), source="test", external_id=f"t{next(_ids)}")


def unreadable():
    return inbound_email_accept(raw=b"\x00garbage", source="test", external_id=f"t{next(_ids)}")


def test_the_list_shows_unknown_senders_newest_first_and_unreadable_mail_apart(recruiter, person):
    older = receive(sender="Old Sender <old@unknown.example>", subject="First")
    newer = receive(sender="New Sender <new@unknown.example>", subject="Second", text="Hello\n\nthere")
    receive(sender="grace@example.org", subject="From someone we know")
    broken = unreadable()

    body = _client(recruiter).get("/triage/").content.decode()

    assert body.index("New Sender") < body.index("Old Sender")
    assert "Hello there" in body and "From someone we know" not in body
    assert f'data-inbound="{newer.pk}"' in body and f'data-inbound="{older.pk}"' in body
    assert f'data-inbound="{broken.pk}"' not in body
    assert 'data-triage-tab="malformed"' in body

    flagged = _client(recruiter).get("/triage/?status=malformed").content.decode()

    assert f'data-inbound="{broken.pk}"' in flagged and f'data-inbound="{newer.pk}"' not in flagged
    assert "no sender" in flagged and f"/triage/{broken.pk}/raw/" in flagged


def test_the_list_is_paginated_and_the_next_page_continues_where_the_first_ended(recruiter):
    emails = [receive(subject=f"Mail {n}") for n in range(TRIAGE_PAGE_SIZE + 1)]
    client = _client(recruiter)

    first = client.get("/triage/")

    assert first.context["next_url"] and len(first.context["items"]) == TRIAGE_PAGE_SIZE
    second = client.get(first.context["next_url"])
    assert [i.pk for i in second.context["items"]] == [emails[0].pk]
    assert second.context["next_url"] is None


def test_a_bad_cursor_shows_the_first_page_instead_of_failing(recruiter):
    receive()

    response = _client(recruiter).get("/triage/?cursor=nonsense")

    assert response.status_code == 200 and len(response.context["items"]) == 1
    assert "cursor" in response.context["error"]


def test_keyset_pages_do_not_skip_or_repeat_rows_received_at_the_same_moment(recruiter):
    emails = [receive(subject=f"Mail {n}") for n in range(5)]
    InboundEmail.objects.update(received_at=emails[0].received_at)

    seen, cursor = [], None
    while True:
        page = triage_page(user=recruiter, status=InboundStatus.UNKNOWN_SENDER, cursor=cursor, limit=2)
        seen += [i.pk for i in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break

    assert sorted(seen) == sorted(e.pk for e in emails) and len(seen) == len(set(seen))


def test_an_empty_triage_says_what_it_is_for(recruiter):
    body = _client(recruiter).get("/triage/").content.decode()

    assert "Nothing to triage" in body and "make them a lead" in body


def test_make_a_lead_creates_the_person_with_the_email_on_their_thread(recruiter, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    inbound = receive(sender="Lin Stranger <Lin@Unknown.example>")

    response = _client(recruiter).post(f"/triage/{inbound.pk}/lead/")

    person = Candidate.objects.get(emails__email="lin@unknown.example")
    assert response.status_code == 302 and response.url.startswith(f"/candidates/{person.pk}/")
    assert (person.first_name, person.last_name, person.source) == ("Lin", "Stranger", "Email")
    assert person.relationship_status == RelationshipStatus.LEAD
    reply = Message.objects.get(candidate=person, direction=MessageDirection.INBOUND)
    assert reply.subject == "Your job ad" and reply.text == "Is it still open?"
    assert reply.attachments.get().filename == "cv.pdf"
    assert Activity.objects.filter(candidate=person, type="candidate.created").exists()
    assert Activity.objects.get(candidate=person, type="message.received").payload["message_id"] == reply.pk
    inbound.refresh_from_db()
    assert inbound.status == InboundStatus.MATCHED and inbound.message == reply
    assert inbound.triaged_by == recruiter and inbound.triaged_at is not None


def test_make_a_lead_attaches_to_the_person_who_has_the_address_by_now(recruiter):
    inbound = receive(sender="lin@unknown.example")
    existing = make_candidate(actor=recruiter, first_name="Lin", emails=["lin@unknown.example"])

    response = _client(recruiter).post(f"/triage/{inbound.pk}/lead/")

    assert response.status_code == 302 and response.url.startswith(f"/candidates/{existing.pk}/")
    assert Candidate.objects.count() == 1
    assert Message.objects.get(direction=MessageDirection.INBOUND).candidate == existing


def test_make_a_lead_twice_creates_one_person(recruiter):
    inbound = receive()
    client = _client(recruiter)
    client.post(f"/triage/{inbound.pk}/lead/")

    again = client.post(f"/triage/{inbound.pk}/lead/", follow=True)

    assert Candidate.objects.count() == 1 and Message.objects.count() == 1
    assert "already sorted" in again.content.decode()


def test_unreadable_mail_cannot_become_a_lead_but_can_be_downloaded_raw(recruiter):
    broken = unreadable()
    client = _client(recruiter)

    response = client.post(f"/triage/{broken.pk}/lead/", follow=True)
    download = client.get(f"/triage/{broken.pk}/raw/")

    assert not Candidate.objects.exists() and "already sorted" in response.content.decode()
    assert download.status_code == 200 and download.content == b"\x00garbage"
    assert download["Content-Type"] == "message/rfc822"
    assert download["Content-Disposition"] == f'attachment; filename="email-{broken.pk}.eml"'


@pytest.mark.parametrize("make", [receive, unreadable])
def test_dismiss_takes_the_email_out_of_triage_and_keeps_it(recruiter, make):
    inbound = make()
    tab = f"/triage/?status={inbound.status}"

    response = _client(recruiter).post(f"/triage/{inbound.pk}/dismiss/", {"next": "/triage/?status=malformed"})

    assert response.status_code == 302 and response.url == "/triage/?status=malformed"
    inbound.refresh_from_db()
    assert inbound.status == InboundStatus.DISMISSED and inbound.triaged_by == recruiter
    assert bytes(inbound.raw) and not Candidate.objects.exists()
    assert f'data-inbound="{inbound.pk}"' not in _client(recruiter).get(tab).content.decode()


def test_dismiss_does_not_undo_a_lead(recruiter):
    inbound = receive()
    client = _client(recruiter)
    client.post(f"/triage/{inbound.pk}/lead/")

    response = client.post(f"/triage/{inbound.pk}/dismiss/", follow=True)

    inbound.refresh_from_db()
    assert inbound.status == InboundStatus.MATCHED and "already on a person" in response.content.decode()


@pytest.mark.parametrize(
    ("role", "allowed"),
    [("admin", True), ("recruiter", True), ("hiring_manager", False), ("interviewer", False), ("outsider", False)],
)
def test_only_roles_that_write_to_candidates_see_triage(all_users, role, allowed):
    inbound = receive()
    broken = unreadable()
    client = _client(all_users[role])

    pages = [client.get("/triage/"), client.get(f"/triage/{broken.pk}/raw/")]
    dismissed = client.post(f"/triage/{broken.pk}/dismiss/")
    lead = client.post(f"/triage/{inbound.pk}/lead/")

    if allowed:
        assert [r.status_code for r in pages] == [200, 200]
        assert dismissed.status_code == 302 and lead.status_code == 302
        assert Candidate.objects.filter(emails__email="lin@unknown.example").exists()
    else:
        assert [r.status_code for r in [*pages, dismissed, lead]] == [404, 404, 404, 404]
        assert not Candidate.objects.exists()
        assert set(InboundEmail.objects.values_list("status", flat=True)) == {"unknown_sender", "malformed"}


def test_signed_out_visitors_are_sent_to_sign_in(db):
    inbound = receive()

    for response in [Client().get("/triage/"), Client().post(f"/triage/{inbound.pk}/lead/")]:
        assert response.status_code == 302 and "/accounts/login" in response.url


def test_actions_are_post_only_and_need_the_csrf_token(recruiter):
    inbound = receive()

    assert _client(recruiter).get(f"/triage/{inbound.pk}/lead/").status_code == 405
    assert _client(recruiter).get(f"/triage/{inbound.pk}/dismiss/").status_code == 405
    strict = _client(recruiter, enforce_csrf_checks=True)
    assert strict.post(f"/triage/{inbound.pk}/lead/").status_code == 403
    assert strict.post(f"/triage/{inbound.pk}/dismiss/").status_code == 403

    inbound.refresh_from_db()
    assert inbound.status == InboundStatus.UNKNOWN_SENDER and not Candidate.objects.exists()


def test_ids_that_do_not_exist_are_404(recruiter):
    client = _client(recruiter)

    assert client.get("/triage/999999/raw/").status_code == 404
    assert client.post("/triage/999999/lead/").status_code == 404


@pytest.mark.parametrize(
    ("name", "address", "expected"),
    [
        ("Grace Hopper", "g@x.example", ("Grace", "Hopper")),
        ("Hopper, Grace", "g@x.example", ("Grace", "Hopper")),
        ("Grace Brewster Hopper", "g@x.example", ("Grace", "Brewster Hopper")),
        ("", "grace.hopper@x.example", ("Grace", "Hopper")),
        ("grace@x.example", "grace_b-hopper+jobs@x.example", ("Grace", "B Hopper")),
        ("", "gh1906@x.example", ("Gh1906", "")),
    ],
)
def test_a_lead_is_named_from_the_from_name_or_else_the_address(name, address, expected):
    assert lead_name(name=name, address=address) == expected
