"""Portal tests: two people with an application each, and signing in through the real emailed link."""

import re

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client

from rapport.pipeline.services import application_create
from tests.factories import make_candidate, make_job

LINK = re.compile(r"https?://\S+/portal/link/(\S+)/")


@pytest.fixture(autouse=True)
def _fresh_rate_limit_counters(settings):
    # Counters live in the cache, which outlives each test's database transaction. Without Redis the default cache
    # is a directory that every test run on this machine shares (and clears), so each test gets its own instead.
    if "filebased" in settings.CACHES["default"]["BACKEND"]:
        settings.CACHES = {
            "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "portal-tests"}
        }
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def job(recruiter):
    return make_job(actor=recruiter, title="Backend Engineer")


@pytest.fixture
def person(recruiter, job):
    candidate = make_candidate(actor=recruiter, first_name="Grace", last_name="Hopper", emails=["grace@example.org"])
    application_create(actor=recruiter, candidate=candidate, job=job)
    return candidate


@pytest.fixture
def other_person(recruiter, job):
    candidate = make_candidate(actor=recruiter, first_name="Alan", last_name="Turing", emails=["alan@example.org"])
    application_create(actor=recruiter, candidate=candidate, job=job)
    return candidate


def link_token_from(message) -> str:
    """The raw token of the sign-in link in an email (a Django EmailMessage or a parsed email.message)."""
    body = message.body if hasattr(message, "body") else message.get_body(preferencelist=("plain",)).get_content()
    match = LINK.search(body)
    assert match, body
    return match.group(1)


def sign_in(client: Client, email: str) -> Client:
    """Sign in as a person the way they do: ask for the link, take it from the email, press "Sign in"."""
    sent_before = len(mail.outbox)
    response = client.post("/portal/", {"email": email})
    assert response.status_code == 200
    assert len(mail.outbox) == sent_before + 1
    token = link_token_from(mail.outbox[-1])
    response = client.post(f"/portal/link/{token}/")
    assert response.status_code == 302 and response.url == "/portal/home/"
    return client


@pytest.fixture
def portal_client(person) -> Client:
    return sign_in(Client(), "grace@example.org")
