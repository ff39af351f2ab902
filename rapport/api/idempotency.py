"""`Idempotency-Key` on POST: a repeated key from the same user within 24 hours returns the first result.

As Stripe does, only a successful (2xx) result is kept: a request refused for bad input wrote nothing, so it may
be corrected and sent again with the same key. A key belongs to one method and path; using it on another
endpoint answers 409 `conflict`. Every POST also runs in one transaction that is rolled back if it fails.
"""

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja.decorators import decorate_view

from rapport.accounts.models import IdempotencyRecord, User
from rapport.api.auth import authenticate_request
from rapport.api.errors import application_error_response
from rapport.common.errors import ApplicationError, BadRequest, Conflict

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
RETENTION = timedelta(hours=24)
REPLAY_HEADER = "Idempotent-Replayed"
MARKER = "_rapport_idempotent"

DESCRIPTION = (
    "Send an `Idempotency-Key` header (any unique string up to 255 characters, a UUID is ideal) to retry this "
    "request safely: the same key from the same user within 24 hours returns the first successful result, with "
    "the same status and body and an `Idempotent-Replayed: true` header, and does not write again. Failed "
    "requests are not remembered, so a corrected request may reuse its key."
)


def _find(user: User, key: str) -> IdempotencyRecord | None:
    return IdempotencyRecord.objects.filter(user=user, key=key, created_at__gte=timezone.now() - RETENTION).first()


def _replay(request: HttpRequest, record: IdempotencyRecord) -> HttpResponse:
    if record.method != request.method or record.path != request.path[:500]:
        return application_error_response(
            Conflict(
                f"This {HEADER} was already used for {record.method} {record.path}; use a new key for a new request.",
                fields={HEADER: ["Already used for another request."]},
            )
        )
    response = HttpResponse(record.body, status=record.status_code, content_type="application/json")
    response[REPLAY_HEADER] = "true"
    return response


def _key_from(request: HttpRequest) -> str | None:
    raw = request.headers.get(HEADER)
    if raw is None:
        return None
    key = raw.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise BadRequest(
            f"{HEADER} must have 1 to {MAX_KEY_LENGTH} characters.",
            fields={HEADER: [f"Use 1 to {MAX_KEY_LENGTH} characters."]},
        )
    return key


def _run_once(run: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(run)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method != "POST":
            return run(request, *args, **kwargs)
        try:
            # Authenticate before the transaction, so the token's last-used time survives a failed request.
            user = authenticate_request(request)
        except ApplicationError:
            # Let the operation answer, with its 401/403/429 in the error format.
            return run(request, *args, **kwargs)
        try:
            key = _key_from(request)
        except BadRequest as exc:
            return application_error_response(exc)
        if key is not None:
            record = _find(user, key)
            if record is not None:
                return _replay(request, record)

        raced = False
        with transaction.atomic():
            response = run(request, *args, **kwargs)
            if not 200 <= response.status_code < 300:
                # The operation caught its own error; make sure nothing it did before failing is kept.
                transaction.set_rollback(True)
                return response
            if key is not None:
                IdempotencyRecord.objects.filter(user=user, key=key, created_at__lt=timezone.now() - RETENTION).delete()
                try:
                    with transaction.atomic():
                        IdempotencyRecord.objects.create(
                            user=user,
                            key=key,
                            method=request.method,
                            path=request.path[:500],
                            status_code=response.status_code,
                            body=response.content.decode(response.charset or "utf-8"),
                        )
                except IntegrityError:
                    # A concurrent request with the same key finished first: undo ours and answer with its result.
                    transaction.set_rollback(True)
                    raced = True
        if raced:
            record = _find(user, key)  # type: ignore[arg-type]
            if record is not None:
                return _replay(request, record)
            return application_error_response(Conflict("A request with this Idempotency-Key is still running."))
        return response

    return wrapper


def idempotent(view_func: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a POST operation as honouring `Idempotency-Key`; place it under the `@router.post(...)` line."""
    setattr(view_func, MARKER, True)
    return decorate_view(_run_once)(view_func)
