"""API test helpers: a JSON client that acts as a user through a real bearer token."""

from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from rapport.accounts.models import User
from rapport.accounts.services import api_token_create

PREFIX = "/api/v1"


class ApiClient:
    """Django's test client, speaking JSON to /api/v1 with `Authorization: Bearer <token>`."""

    def __init__(self, token: str | None = None, client: Client | None = None):
        self.token = token
        self.client = client or Client()

    def _headers(self, headers: dict[str, str]) -> dict[str, str]:
        extra = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()}
        if self.token is not None:
            extra.setdefault("HTTP_AUTHORIZATION", f"Bearer {self.token}")
        return extra

    def get(self, path: str, params: dict[str, Any] | None = None, **headers: str) -> Any:
        return self.client.get(PREFIX + path, params or {}, **self._headers(headers))

    def post(self, path: str, body: Any = None, **headers: str) -> Any:
        data = {} if body is None else body
        return self.client.post(PREFIX + path, data, content_type="application/json", **self._headers(headers))

    def post_raw(self, path: str, raw: bytes | str, **headers: str) -> Any:
        return self.client.post(PREFIX + path, raw, content_type="application/json", **self._headers(headers))

    def patch(self, path: str, body: Any, **headers: str) -> Any:
        return self.client.patch(PREFIX + path, body, content_type="application/json", **self._headers(headers))

    def delete(self, path: str, **headers: str) -> Any:
        return self.client.delete(PREFIX + path, **self._headers(headers))

    def request(self, method: str, path: str, body: Any = None) -> Any:
        if method == "GET":
            return self.get(path)
        if method == "POST":
            return self.post(path, body)
        if method == "PATCH":
            return self.patch(path, body or {})
        if method == "DELETE":
            return self.delete(path)
        raise AssertionError(method)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Argon2 is deliberately slow (about half a second a user on a busy machine); these tests sign in with tokens.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_rate_limit_counters():
    # Counters live in the cache, which outlives each test's database transaction.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api_as():
    """api_as(user) -> ApiClient signed in with a new personal token of that user."""

    def make(user: User) -> ApiClient:
        _, raw = api_token_create(user=user, name="tests")
        return ApiClient(raw)

    return make


@pytest.fixture
def anonymous() -> ApiClient:
    return ApiClient()


def error_of(response: Any) -> dict[str, Any]:
    """The `error` object of an error response, after checking the shape every error shares."""
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["fields"], dict)
    return error
