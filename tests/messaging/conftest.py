"""Template tests share the API client fixtures and a small helper to create templates through the service."""

import pytest

from tests.api.conftest import _fast_password_hashing, _fresh_rate_limit_counters, anonymous, api_as  # noqa: F401


@pytest.fixture
def make_template(recruiter):
    """make_template(**fields) -> a template created through the real service by the recruiter."""
    from rapport.messaging.services import message_template_create

    def make(**data):
        data.setdefault("name", f"Template {make.count}")
        data.setdefault("channel", "email")
        data.setdefault("category", "outreach")
        data.setdefault("subject", "Hello {{ candidate.first_name }}")
        data.setdefault("body", "Hi {{ candidate.first_name }},\n\nWe would love to talk.")
        make.count += 1
        return message_template_create(actor=recruiter, data=data)

    make.count = 1
    return make
