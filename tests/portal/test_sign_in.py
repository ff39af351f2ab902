"""Magic-link sign-in: the same answer for known and unknown addresses, single use, expiry, rate limits, the real
SMTP round trip, the signed `{{ portal_link }}` merge field, sign-out and session expiry."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from rapport.candidates.models import Candidate
from rapport.candidates.services import candidate_erase, candidate_update
from rapport.messaging.selectors import merge_context
from rapport.portal.models import PortalToken
from rapport.portal.services import LINK_REQUESTS_PER_EMAIL, LINK_REQUESTS_PER_IP, hash_portal_token
from rapport.portal.session import EXPIRES_KEY
from rapport.timeline.models import Activity
from tests.messaging.conftest import SmtpServer, smtp_server  # noqa: F401
from tests.portal.conftest import LINK, link_token_from, sign_in

CSRF_META = re.compile(r'<meta name="csrf-token" content="[^"]*">')


def _answer(response) -> str:
    return CSRF_META.sub("", response.content.decode())


def test_known_and_unknown_addresses_get_the_same_answer_and_only_a_known_one_gets_mail(person):
    client = Client()

    known = client.post("/portal/", {"email": "grace@example.org"})
    unknown = client.post("/portal/", {"email": "nobody@example.org"})

    assert known.status_code == unknown.status_code == 200
    assert _answer(known).replace("grace@example.org", "X") == _answer(unknown).replace("nobody@example.org", "X")
    assert [m.to for m in mail.outbox] == [["grace@example.org"]]
    assert "sign-in link" in mail.outbox[0].subject
    assert PortalToken.objects.filter(candidate=person).count() == 1


def test_the_address_is_matched_whatever_its_case_and_spacing(person):
    Client().post("/portal/", {"email": "  Grace@Example.ORG "})

    assert [m.to for m in mail.outbox] == [["grace@example.org"]]


def test_an_empty_or_malformed_address_is_named_on_the_field(person):
    for value in ["", "not-an-email"]:
        response = Client().post("/portal/", {"email": value})

        assert response.status_code == 422
        assert "Enter the email address you applied with." in response.content.decode()
    assert mail.outbox == []


def test_only_the_hash_of_the_token_is_stored(person):
    Client().post("/portal/", {"email": "grace@example.org"})
    token = link_token_from(mail.outbox[0])

    stored = PortalToken.objects.get(candidate=person)
    assert stored.token_hash == hash_portal_token(token)
    assert token not in stored.token_hash
    assert stored.expires_at - stored.created_at == timedelta(minutes=30)


def test_opening_the_link_shows_a_button_and_uses_nothing_so_mail_scanners_cannot_burn_it(person):
    client = Client()
    client.post("/portal/", {"email": "grace@example.org"})
    token = link_token_from(mail.outbox[0])

    page = client.get(f"/portal/link/{token}/")
    page_again = client.get(f"/portal/link/{token}/")

    assert page.status_code == page_again.status_code == 200
    assert "Sign in" in page.content.decode()
    assert PortalToken.objects.get(candidate=person).used_at is None
    assert client.get("/portal/home/").status_code == 302


def test_the_link_signs_in_once_records_the_visit_and_raises_engagement(person):
    client = Client()
    client.post("/portal/", {"email": "grace@example.org"})
    token = link_token_from(mail.outbox[0])
    score_before = Candidate.objects.get(pk=person.pk).engagement_score

    first = client.post(f"/portal/link/{token}/")
    home = client.get("/portal/home/")
    second = Client().post(f"/portal/link/{token}/")

    assert first.status_code == 302 and first.url == "/portal/home/"
    assert home.status_code == 200 and "Hello Grace" in home.content.decode()
    assert second.status_code == 400
    assert "expired or was already used" in second.content.decode()
    assert Activity.objects.filter(candidate=person, type="portal.visited").count() == 1
    assert Candidate.objects.get(pk=person.pk).engagement_score > score_before


def test_an_expired_link_is_refused(person):
    client = Client()
    client.post("/portal/", {"email": "grace@example.org"})
    token = link_token_from(mail.outbox[0])
    PortalToken.objects.filter(candidate=person).update(expires_at=timezone.now() - timedelta(seconds=1))

    response = client.post(f"/portal/link/{token}/")

    assert response.status_code == 400
    assert client.get("/portal/home/").status_code == 302


@pytest.mark.parametrize("token", ["x", "a" * 43, "s-" + "a" * 40, "a" * 1000])
def test_made_up_links_are_refused_without_an_error_page(person, token):
    response = Client().post(f"/portal/link/{token}/")

    assert response.status_code == 400
    assert "expired or was already used" in response.content.decode()


def test_an_erased_person_gets_no_link_and_their_old_link_stops_working(person, admin_user):
    client = Client()
    client.post("/portal/", {"email": "grace@example.org"})
    token = link_token_from(mail.outbox[0])

    candidate_erase(actor=admin_user, candidate=person)
    again = client.post("/portal/", {"email": "grace@example.org"})

    assert again.status_code == 200 and len(mail.outbox) == 1
    assert client.post(f"/portal/link/{token}/").status_code == 400


def test_requests_for_one_address_are_rate_limited_whether_or_not_it_is_known(person):
    client = Client()
    for email in ["grace@example.org", "nobody@example.org"]:
        for _ in range(LINK_REQUESTS_PER_EMAIL):
            assert client.post("/portal/", {"email": email}, REMOTE_ADDR="10.0.0.1").status_code == 200

        refused = client.post("/portal/", {"email": email}, REMOTE_ADDR="10.0.0.2")

        assert refused.status_code == 429
        assert "wait 15 minutes" in refused.content.decode()
    assert len(mail.outbox) == LINK_REQUESTS_PER_EMAIL


def test_requests_from_one_client_address_are_rate_limited(person):
    client = Client()
    for n in range(LINK_REQUESTS_PER_IP):
        assert client.post("/portal/", {"email": f"someone{n}@example.org"}, REMOTE_ADDR="10.0.0.9").status_code == 200

    refused = client.post("/portal/", {"email": "grace@example.org"}, REMOTE_ADDR="10.0.0.9")
    elsewhere = client.post("/portal/", {"email": "grace@example.org"}, REMOTE_ADDR="10.0.0.10")

    assert refused.status_code == 429
    assert elsewhere.status_code == 200
    assert len(mail.outbox) == 1


def test_the_link_arrives_through_a_real_smtp_server_and_signs_in(person, smtp_server):  # noqa: F811
    client = Client()

    client.post("/portal/", {"email": "grace@example.org"})

    assert len(smtp_server.messages) == 1
    received = smtp_server.messages[0]
    assert received["To"] == "grace@example.org"
    token = link_token_from(received)
    assert client.post(f"/portal/link/{token}/").status_code == 302
    assert "Backend Engineer" in client.get("/portal/home/").content.decode()


def test_sign_in_mail_is_sent_even_to_an_unsubscribed_address(person):
    from rapport.messaging.models import SuppressionReason
    from rapport.messaging.services import suppression_add

    suppression_add(address="grace@example.org", channel="email", reason=SuppressionReason.UNSUBSCRIBED)

    Client().post("/portal/", {"email": "grace@example.org"})

    assert len(mail.outbox) == 1


def test_the_portal_link_merge_field_signs_in_once_and_rendering_it_writes_nothing(person):
    link = merge_context(candidate=person)["portal_link"]

    assert PortalToken.objects.count() == 0
    token = LINK.search(link + " ").group(1)
    client = Client()
    assert client.post(f"/portal/link/{token}/").status_code == 302
    assert client.get("/portal/home/").status_code == 200
    assert Client().post(f"/portal/link/{token}/").status_code == 400


def test_a_signed_link_is_revoked_when_the_primary_email_changes_and_a_tampered_one_is_refused(person):
    token = LINK.search(merge_context(candidate=person)["portal_link"] + " ").group(1)

    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert Client().post(f"/portal/link/{tampered}/").status_code == 400

    candidate_update(actor=None, candidate=person, data={"emails": ["grace.new@example.org"]})
    assert Client().post(f"/portal/link/{token}/").status_code == 400


def test_a_signed_link_expires_after_fourteen_days(person, monkeypatch):
    import time

    token = LINK.search(merge_context(candidate=person)["portal_link"] + " ").group(1)
    later = time.time() + 15 * 24 * 3600
    monkeypatch.setattr(time, "time", lambda: later)

    assert Client().post(f"/portal/link/{token}/").status_code == 400


def test_sign_out_ends_the_portal_session(person):
    client = sign_in(Client(), "grace@example.org")

    response = client.post("/portal/sign-out/")

    assert response.status_code == 302 and response.url == "/portal/"
    assert client.get("/portal/home/").status_code == 302


def test_a_portal_session_runs_out(person):
    client = sign_in(Client(), "grace@example.org")
    session = client.session
    session[EXPIRES_KEY] = timezone.now().timestamp() - 1
    session.save()

    response = client.get("/portal/home/")

    assert response.status_code == 302 and response.url == "/portal/"


def test_a_signed_in_person_visiting_the_sign_in_page_goes_home(person):
    client = sign_in(Client(), "grace@example.org")

    assert client.get("/portal/").url == "/portal/home/"


def test_a_mail_server_that_refuses_gives_the_same_answer_and_no_error_page(person, smtp_server):  # noqa: F811
    smtp_server.refuse["grace@example.org"] = "550 5.1.1 No such user"

    response = Client().post("/portal/", {"email": "grace@example.org"})

    assert response.status_code == 200
    assert "Check your email" in response.content.decode()
    assert smtp_server.messages == []


def test_purging_keeps_every_row_a_link_could_still_need(person):
    from datetime import timedelta

    from django.utils import timezone

    from rapport.portal.services import portal_tokens_purge

    token = LINK.search(merge_context(candidate=person)["portal_link"] + " ").group(1)
    assert Client().post(f"/portal/link/{token}/").status_code == 302
    now = timezone.now()
    old = PortalToken.objects.create(
        candidate=person, token_hash="a" * 64, created_at=now - timedelta(days=16), expires_at=now - timedelta(days=16)
    )

    purged = portal_tokens_purge(now=now + timedelta(days=13))

    assert purged == 1 and not PortalToken.objects.filter(pk=old.pk).exists()
    # The used message link's row is still there, so the link (valid for 14 days) stays single-use.
    assert Client().post(f"/portal/link/{token}/").status_code == 400
    assert portal_tokens_purge(now=now + timedelta(days=16)) == 1
