"""The candidate portal on a phone: ask for a link, take it from the mail a real SMTP server received, sign in, see
the status in plain words, message the team, and download my data."""

import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from rapport.messaging.models import Message, MessageDirection
from rapport.messaging.services import message_send, outbox_deliver_due
from rapport.pipeline.services import application_create, application_move
from tests.factories import make_candidate, make_job
from tests.messaging.conftest import SmtpServer, free_port
from tests.portal.conftest import LINK

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on loopback that the sign-in mail and the outbox deliver to."""
    server = SmtpServer(free_port())
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    yield server
    server.stop()


@pytest.fixture
def phone(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport=PHONE, accept_downloads=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def _no_horizontal_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_sign_in_by_emailed_link_see_status_send_a_message_and_download_my_data(phone, recruiter, smtp_server):
    from django.core.cache import cache

    cache.clear()
    person = make_candidate(actor=recruiter, first_name="Grace", last_name="Hopper", emails=["grace@example.org"])
    job = make_job(actor=recruiter, title="Backend Engineer")
    application = application_create(actor=recruiter, candidate=person, job=job)
    application_move(actor=recruiter, application=application, stage=job.stages.get(category="screening"))
    message_send(actor=recruiter, candidate=person, subject="Thanks", body="We are looking at your profile.")
    outbox_deliver_due()
    page = phone

    # Given the sign-in page on a phone, when Grace asks for a link
    page.goto("/portal/")
    _no_horizontal_scroll(page)
    page.get_by_label("Email").fill("grace@example.org")
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()

    # then the link arrives at the real SMTP server, and following it and pressing "Sign in" signs her in
    sign_in_mail = [m for m in smtp_server.messages if "sign-in link" in m["Subject"]]
    assert len(sign_in_mail) == 1
    body = sign_in_mail[0].get_body(preferencelist=("plain",)).get_content()
    link = LINK.search(body).group(0)
    page.goto(urlsplit(link).path)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Hello Grace")).to_be_visible()

    # and she sees her application's status in plain words, never the internal stage name
    card = page.locator("[data-application]")
    expect(card.locator("[data-status]")).to_have_text("Under review")
    expect(card).to_contain_text("What happens next")
    _no_horizontal_scroll(page)

    # When she writes to the team, the message joins the thread under the team's message
    page.get_by_role("link", name="Messages").click()
    expect(page.get_by_text("We are looking at your profile.")).to_be_visible()
    page.get_by_label("Your message").fill("Thank you! When will I hear back?")
    page.get_by_role("button", name="Send message").click()
    expect(page.get_by_text("Thank you! When will I hear back?")).to_be_visible()
    _no_horizontal_scroll(page)
    assert Message.objects.filter(direction=MessageDirection.INBOUND, candidate=person).count() == 1

    # and "Download my data" gives her a JSON file of what is held about her
    page.get_by_role("link", name="Privacy").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download my data").click()
    data = json.loads(Path(download.value.path()).read_text())
    assert data["profile"]["first_name"] == "Grace"
    assert data["applications"][0]["status"] == "Under review"
    assert [m["text"] for m in data["messages"]][-1] == "Thank you! When will I hear back?"


AXE = Path(__file__).parent / "vendor" / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


@pytest.fixture
def axe_phone(browser, live_server):
    if not AXE.exists():
        pytest.skip("axe-core is not vendored in tests/browser/vendor/")
    # axe is injected as an inline script, which our Content-Security-Policy rightly blocks on real visits.
    context = browser.new_context(base_url=live_server.url, viewport=PHONE, bypass_csp=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def _axe_violations(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_AA)
    return [
        {"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]]} for v in result["violations"]
    ]


def test_portal_pages_have_no_accessibility_violations(axe_phone, recruiter, smtp_server):
    from django.core.cache import cache

    from rapport.privacy.services import consent_record

    cache.clear()
    person = make_candidate(
        actor=recruiter, first_name="Grace", emails=["grace@example.org"], phones=["+4915112345678"]
    )
    application_create(actor=recruiter, candidate=person, job=make_job(actor=recruiter, title="Backend Engineer"))
    consent_record(candidate=person, purpose="talent_community", source="careers", retention_days=365)
    page = axe_phone

    page.goto("/portal/")
    assert _axe_violations(page) == [], "sign in"
    page.get_by_role("button", name="Email me a sign-in link").click()
    assert _axe_violations(page) == [], "sign in with an error"
    page.get_by_label("Email").fill("grace@example.org")
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    assert _axe_violations(page) == [], "check your email"
    body = smtp_server.messages[-1].get_body(preferencelist=("plain",)).get_content()
    page.goto(urlsplit(LINK.search(body).group(0)).path)
    assert _axe_violations(page) == [], "sign-in button"
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Hello Grace")).to_be_visible()

    for name, url in {
        "home": "/portal/home/",
        "messages": "/portal/messages/",
        "privacy": "/portal/privacy/",
        "preferences": "/portal/preferences/",
    }.items():
        page.goto(url)
        assert _axe_violations(page) == [], name
        _no_horizontal_scroll(page)
