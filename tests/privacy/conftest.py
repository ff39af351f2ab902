"""Privacy tests use the portal's people and signed-in client."""

from tests.portal.conftest import _fresh_rate_limit_counters, job, other_person, person, portal_client  # noqa: F401
