"""Survey tests: a survey of every question kind, and a person with an application at a named stage."""

import re

import pytest
from django.core.cache import cache

from rapport.surveys.models import Survey
from rapport.surveys.services import survey_create
from tests.api.conftest import api_as  # noqa: F401
from tests.messaging.conftest import smtp_server  # noqa: F401

LINK = re.compile(r"https?://\S+?(/surveys/answer/[^/\s]+/)")


@pytest.fixture(autouse=True)
def _fresh_rate_limit_counters():
    # Counters live in the cache, which outlives each test's database transaction.
    cache.clear()
    yield
    cache.clear()


def make_survey(actor, *, name="Interview experience", anonymous=False, **extra) -> Survey:
    return survey_create(
        actor=actor,
        data={
            "name": name,
            "moment": "after_interview",
            "anonymous": anonymous,
            "cooldown_days": 90,
            "questions": [
                {"kind": "csat", "text": "How was your interview?"},
                {"kind": "nps", "text": "Would you recommend us?"},
                {"kind": "choice", "text": "How did you hear of us?", "choices": ["Website", "Friend"]},
                {"kind": "text", "text": "Anything else?", "required": False},
            ],
            **extra,
        },
    )


@pytest.fixture
def survey(recruiter):
    return make_survey(recruiter)


@pytest.fixture
def anonymous_survey(recruiter):
    return make_survey(recruiter, name="Anonymous pulse", anonymous=True)


def answers_for(survey: Survey, *, csat=5, nps=10, choice="Website", text="") -> dict[str, str]:
    values = {}
    for question in survey.questions.all():
        values[f"q{question.pk}"] = {"csat": csat, "nps": nps, "choice": choice, "text": text}[question.kind]
    return {key: str(value) for key, value in values.items()}


def link_path_from(body: str) -> str:
    match = LINK.search(body)
    assert match, body
    return match.group(1)
