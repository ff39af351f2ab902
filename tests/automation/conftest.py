"""The API tests' token client, shared with the tasks API tests."""

from tests.api.conftest import _fresh_rate_limit_counters, anonymous, api_as  # noqa: F401
