"""Who is calling: a personal bearer token, or the browser's session (with a CSRF check on writes).

Each caller is also rate limited here, per token (or per signed-in user, or per IP address when the request
is not authenticated), with a fixed one-minute window kept in Django's cache.
"""

import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from rapport.accounts.models import ApiToken, User, hash_token
from rapport.api.errors import RateLimited, Unauthenticated
from rapport.common.errors import ApplicationError, PermissionDenied

DEFAULT_RATE_LIMIT_PER_MINUTE = 600
RATE_WINDOW_SECONDS = 60
LAST_USED_PRECISION = timedelta(minutes=1)
SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}
_OUTCOME_ATTR = "_rapport_api_caller"


def rate_limit_per_minute() -> int:
    """Requests per caller per minute; 0 turns the limit off."""
    return int(getattr(settings, "RAPPORT_API_RATE_LIMIT", DEFAULT_RATE_LIMIT_PER_MINUTE))


def _client_ip(request: HttpRequest) -> str:
    # REMOTE_ADDR only: X-Forwarded-For is whatever the client wants it to be unless a proxy rewrites it.
    return request.META.get("REMOTE_ADDR") or "unknown"


def _throttle(identity: str) -> None:
    limit = rate_limit_per_minute()
    if limit <= 0:
        return
    now = time.time()
    window = int(now // RATE_WINDOW_SECONDS)
    key = f"rapport:api-rate:{identity}:{window}"
    if cache.add(key, 1, timeout=RATE_WINDOW_SECONDS + 1):
        count = 1
    else:
        try:
            count = cache.incr(key)
        except ValueError:  # the window expired between add() and incr()
            cache.set(key, 1, timeout=RATE_WINDOW_SECONDS + 1)
            count = 1
    if count > limit:
        retry_after = max(1, int((window + 1) * RATE_WINDOW_SECONDS - now) + 1)
        raise RateLimited(retry_after=min(retry_after, RATE_WINDOW_SECONDS))


def throttle_address(request: HttpRequest, scope: str) -> None:
    """Rate-limit an unauthenticated page by client address, with the API's limit; raises RateLimited."""
    _throttle(f"{scope}:{_client_ip(request)}")


def _mark_used(token: ApiToken) -> None:
    """Record use at most once a minute, so a busy script does not turn every read into a write."""
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


def _authenticate(request: HttpRequest) -> User:
    header = request.headers.get("Authorization", "").strip()
    if header:
        scheme, _, raw = header.partition(" ")
        raw = raw.strip()
        if scheme.lower() != "bearer" or not raw:
            _throttle(f"ip:{_client_ip(request)}")
            raise Unauthenticated("Send the token as: Authorization: Bearer <token>.")
        token = (
            ApiToken.objects.select_related("user").filter(token_hash=hash_token(raw), revoked_at__isnull=True).first()
        )
        if token is None or not token.user.is_active:
            _throttle(f"ip:{_client_ip(request)}")
            raise Unauthenticated("This token is not valid: it is mistyped, revoked, or its user is deactivated.")
        _throttle(f"token:{token.pk}")
        _mark_used(token)
        return token.user

    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_active:
        _throttle(f"user:{user.pk}")
        # A session cookie is sent by the browser on its own, so writes must prove they come from our pages.
        if request.method not in SAFE_METHODS and check_csrf(request) is not None:
            raise PermissionDenied(
                "CSRF check failed: send the X-CSRFToken header with the csrftoken cookie's value, "
                "or use a bearer token."
            )
        return user

    _throttle(f"ip:{_client_ip(request)}")
    raise Unauthenticated("Sign in, or send Authorization: Bearer <token>.")


def authenticate_request(request: HttpRequest) -> User:
    """The caller of this request; raises Unauthenticated, PermissionDenied (CSRF) or RateLimited.

    The outcome is kept on the request, so checking twice (idempotency looks before the operation runs) costs
    one lookup and counts once against the rate limit.
    """
    outcome = getattr(request, _OUTCOME_ATTR, None)
    if outcome is None:
        try:
            outcome = _authenticate(request)
        except ApplicationError as exc:
            outcome = exc
        setattr(request, _OUTCOME_ATTR, outcome)
    if isinstance(outcome, ApplicationError):
        raise outcome
    return outcome


class BearerTokenAuth(HttpBearer):
    """`Authorization: Bearer <token>`; also accepts the browser session, which is how /api/v1/docs calls work."""

    # Tells the docs page to send the CSRF token with its requests, for people trying the API while signed in.
    csrf = True

    def __call__(self, request: HttpRequest) -> Any:
        return authenticate_request(request)

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        return authenticate_request(request)


class SessionCookieAuth(APIKeyCookie):
    """Documents the session cookie in OpenAPI; BearerTokenAuth has already decided by the time this is asked."""

    param_name = settings.SESSION_COOKIE_NAME

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        return None
