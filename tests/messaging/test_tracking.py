"""Open pixel and click redirects: a real email through SMTP, its tracked links followed with the test client."""

from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.core import signing

from rapport.candidates.engagement import engagement_score_from_raw
from rapport.candidates.models import Candidate
from rapport.messaging.models import Message
from rapport.messaging.services import message_engagement_record, message_send, outbox_deliver_due
from rapport.messaging.tracking import PIXEL_GIF, click_url, open_url
from rapport.timeline.models import Activity

JOB_LINK = "https://jobs.example.com/roles/42?utm_source=email&ref=grace"
BASE = "https://ats.acme.example"


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.images: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.hrefs.append(attrs["href"])
        if tag == "img" and attrs.get("src"):
            self.images.append(attrs["src"])


def _path(url: str) -> str:
    return urlsplit(url).path


@pytest.fixture
def sent(recruiter, person, smtp_server, settings):
    """One email with a job link, delivered to the SMTP server: (message, received HTML links, text part)."""
    settings.BASE_URL = BASE
    message = message_send(
        actor=recruiter,
        candidate=person,
        subject="A role for you",
        body=f"Hi {{{{ candidate.first_name }}}}, have a look at [the role]({JOB_LINK}).\n\n"
        "[Unsubscribe]({{ unsubscribe_link }})",
    )
    outbox_deliver_due()
    assert len(smtp_server.messages) == 1
    mail = smtp_server.messages[0]
    html_part = mail.get_body(preferencelist=("html",)).get_content()
    text_part = mail.get_body(preferencelist=("plain",)).get_content()
    links = _Links()
    links.feed(html_part)
    message.refresh_from_db()
    return message, links, text_part


def _click_links(links: _Links) -> list[str]:
    return [href for href in links.hrefs if href.startswith(f"{BASE}/t/c/")]


def _pixel(links: _Links) -> str:
    (pixel,) = [src for src in links.images if src.startswith(f"{BASE}/t/o/")]
    return pixel


def test_the_html_links_go_through_a_redirect_to_the_original_url(sent, person, client):
    message, links, _ = sent
    (tracked,) = _click_links(links)

    response = client.get(_path(tracked))

    assert response.status_code == 302
    assert response["Location"] == JOB_LINK
    activity = Activity.objects.get(candidate=person, type="message.clicked")
    assert activity.payload["message_id"] == message.pk and activity.payload["url"] == JOB_LINK
    message.refresh_from_db()
    assert message.click_count == 1 and message.clicked_at is not None
    person.refresh_from_db()
    # A click is worth 3 points today, which the 0-100 curve shows as 26.
    assert person.engagement_score == engagement_score_from_raw(3) == 26


def test_the_pixel_is_a_transparent_gif_and_the_first_open_is_on_the_timeline(sent, person, client):
    message, links, _ = sent
    pixel = _path(_pixel(links))

    responses = [client.get(pixel) for _ in range(3)]

    for response in responses:
        assert response.status_code == 200
        assert response["Content-Type"] == "image/gif"
        assert response.content == PIXEL_GIF and response.content.startswith(b"GIF89a\x01\x00\x01\x00")
        assert "no-cache" in response["Cache-Control"] and "no-store" in response["Cache-Control"]
    assert Activity.objects.filter(candidate=person, type="message.opened").count() == 1
    message.refresh_from_db()
    assert message.open_count == 3 and message.opened_at is not None
    person.refresh_from_db()
    # Only the first open of a message adds to the score: one point, shown as 10.
    assert person.engagement_score == engagement_score_from_raw(1) == 10


def test_the_text_part_and_the_stored_message_keep_the_original_link(sent):
    message, _, text_part = sent

    assert JOB_LINK in text_part and "/t/c/" not in text_part
    assert "/t/" not in message.html and "/t/" not in message.text
    assert JOB_LINK.replace("&", "&amp;") in message.html


def test_unsubscribe_and_preferences_links_are_not_rewritten(sent):
    _, links, _ = sent

    own = [href for href in links.hrefs if href.startswith(f"{BASE}/u/")]
    # The body's unsubscribe link, and the layout's preferences and unsubscribe links in the footer.
    assert len(own) == 3
    assert any(href.endswith("/preferences") for href in own)
    assert len(_click_links(links)) == 1


def test_tampered_tokens_record_nothing(sent, person, client):
    message, links, _ = sent
    tracked, pixel = _path(_click_links(links)[0]), _path(_pixel(links))

    assert client.get(tracked[:-2] + ("AA" if not tracked.endswith("AA") else "BB")).status_code == 404
    forged_target = signing.dumps({"m": message.pk, "u": "https://evil.example/"}, salt="another.purpose")
    assert client.get(f"/t/c/{forged_target}").status_code == 404
    response = client.get(pixel.replace(".gif", "x.gif"))
    assert response.status_code == 200 and response.content == PIXEL_GIF
    response = client.get("/t/o/not-a-token.gif")
    assert response.status_code == 200 and response.content == PIXEL_GIF

    assert not Activity.objects.filter(type__in=["message.opened", "message.clicked"]).exists()
    message.refresh_from_db()
    assert message.open_count == 0 and message.click_count == 0
    person.refresh_from_db()
    assert person.engagement_score == 0


def test_a_click_token_only_leads_to_web_urls(person, client, settings):
    settings.BASE_URL = BASE
    token = signing.dumps({"m": 1, "u": "javascript:alert(1)"}, salt="rapport.messaging.tracking.click")

    assert client.get(f"/t/c/{token}").status_code == 404


def test_the_public_endpoints_need_no_sign_in_and_are_rate_limited(sent, client, settings):
    settings.RAPPORT_API_RATE_LIMIT = 3
    message, links, _ = sent
    tracked = _path(_click_links(links)[0])

    statuses = [client.get(tracked).status_code for _ in range(3)]
    limited = client.get(_path(open_url(message_id=message.pk)))

    assert statuses == [302, 302, 302]
    assert limited.status_code == 429 and limited["Retry-After"]


def test_the_score_is_capped_at_100(sent, person):
    message, _, _ = sent
    Candidate.objects.filter(pk=person.pk).update(engagement_score=99, engagement_raw=200.0, engagement_at=None)

    message_engagement_record(message=message, kind="click", url=JOB_LINK)

    person.refresh_from_db()
    assert person.engagement_score == 100


def test_an_erased_person_records_nothing(sent, person, client):
    message, _, _ = sent
    Candidate.objects.filter(pk=person.pk).update(erased_at=message.created_at)

    assert client.get(_path(open_url(message_id=message.pk))).content == PIXEL_GIF
    response = client.get(_path(click_url(message_id=message.pk, url=JOB_LINK)))

    # The link still leads where it said; nothing is counted about the person.
    assert response.status_code == 302 and response["Location"] == JOB_LINK
    assert not Activity.objects.filter(type__in=["message.opened", "message.clicked"]).exists()
    assert Message.objects.filter(pk=message.pk, open_count=0, click_count=0).exists()


def test_an_erased_message_records_nothing(sent, person):
    message, _, _ = sent
    Message.objects.filter(pk=message.pk).update(to_address="", html="", text="", subject="")
    message.refresh_from_db()

    assert message_engagement_record(message=message, kind="open") is False
    person.refresh_from_db()
    assert person.engagement_score == 0
