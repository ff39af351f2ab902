"""The API's one error shape, `{"error": {"code", "message", "fields"}}`, for every way a request can fail."""

import logging
from typing import Any

import pydantic
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import DataError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from ninja import NinjaAPI
from ninja.errors import HttpError
from ninja.errors import ValidationError as NinjaValidationError

from rapport.common.errors import ApplicationError

logger = logging.getLogger(__name__)

# Codes for the statuses ninja itself raises (bad JSON, failed auth, ...), so they read like our own errors.
_STATUS_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "validation_error",
    429: "rate_limited",
}
# The body parameter of every handler is called `payload`; clients know fields, not our parameter names.
BODY_PARAMETER = "payload"


class Unauthenticated(ApplicationError):
    code = "unauthenticated"
    status = 401


class RateLimited(ApplicationError):
    code = "rate_limited"
    status = 429

    def __init__(self, retry_after: int):
        super().__init__(f"Too many requests. Try again in {retry_after} seconds.")
        self.retry_after = retry_after


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    fields: dict[str, list[str]] | None = None,
    extra: dict[str, Any] | None = None,
) -> JsonResponse:
    body: dict[str, Any] = {"code": code, "message": message, "fields": fields or {}}
    body.update(extra or {})
    return JsonResponse({"error": body}, status=status)


def application_error_response(exc: ApplicationError) -> JsonResponse:
    body = exc.as_dict()
    body["error"].setdefault("fields", {})
    response = JsonResponse(body, status=exc.status)
    if isinstance(exc, Unauthenticated):
        response["WWW-Authenticate"] = 'Bearer realm="rapport"'
    if isinstance(exc, RateLimited):
        response["Retry-After"] = str(exc.retry_after)
    return response


def _field_name(loc: tuple[Any, ...] | list[Any]) -> str:
    """("body", "payload", "location", "country") -> "location.country"; list indexes are dropped."""
    source, *rest = loc
    if source == "body" and rest and rest[0] == BODY_PARAMETER:
        rest = rest[1:]
    parts = [str(part) for part in rest if not isinstance(part, int)]
    return ".".join(parts) or ("body" if source == "body" else str(source))


def _field_message(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    if kind == "missing":
        return "This field is required."
    if kind == "extra_forbidden":
        return "Unknown field. See /api/v1/docs for the fields this endpoint accepts."
    if kind in ("model_type", "model_attributes_type", "dict_type") and len(error.get("loc", ())) <= 2:
        return "Send a JSON object."
    if kind == "value_error" and "error" in error.get("ctx", {}):
        return str(error["ctx"]["error"])
    return str(error.get("msg", "This value is not valid."))


def validation_error_response(exc: NinjaValidationError) -> JsonResponse:
    fields: dict[str, list[str]] = {}
    for error in exc.errors:
        name = _field_name(error.get("loc", ("body",)))
        message = _field_message(error)
        if name == "body" and error.get("type") == "missing":
            message = "Send a JSON object in the request body."
        if message not in fields.get(name, []):
            fields.setdefault(name, []).append(message)
    first_field, first_messages = next(iter(fields.items()), ("body", ["The request is not valid."]))
    return error_response(422, "validation_error", f"Please check {first_field}: {first_messages[0]}", fields=fields)


def install_exception_handlers(api: NinjaAPI) -> None:
    """Route every exception to the error format; nothing a client sends may produce a 500."""

    def on_application_error(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
        return application_error_response(exc)

    def on_validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        return validation_error_response(exc)

    def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        code = _STATUS_CODES.get(exc.status_code, "error")
        message = str(exc)
        if exc.status_code == 400 and "parse request body" in message:
            message = "The request body is not valid JSON."
        elif exc.status_code == 401:
            message = "Sign in, or send Authorization: Bearer <token>."
        response = error_response(exc.status_code, code, message)
        if exc.status_code == 401:
            response["WWW-Authenticate"] = 'Bearer realm="rapport"'
        return response

    def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return error_response(404, "not_found", "Not found.")

    def on_too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        return error_response(413, "too_large", "The request body is too large.")

    def on_suspicious(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
        return error_response(400, "bad_request", "The request could not be read.")

    def on_unreadable_value(request: HttpRequest, exc: Exception) -> HttpResponse:
        # A value the database cannot hold (a NUL character, a number too large) is the client's input, not a
        # crash of ours; it is logged so that a real bug hiding behind it is still visible.
        logger.warning("API request refused as unreadable: %r", exc, exc_info=exc)
        return error_response(
            400, "bad_request", "The request contains a value that cannot be read or stored (for example a NUL)."
        )

    def on_server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
        logger.exception("API request failed", exc_info=exc)
        return error_response(500, "server_error", "Something went wrong on our side; it has been logged.")

    api.add_exception_handler(ApplicationError, on_application_error)
    api.add_exception_handler(NinjaValidationError, on_validation_error)
    api.add_exception_handler(HttpError, on_http_error)
    api.add_exception_handler(Http404, on_not_found)
    api.add_exception_handler(RequestDataTooBig, on_too_big)
    api.add_exception_handler(SuspiciousOperation, on_suspicious)
    for exc_class in (ValueError, TypeError, OverflowError, UnicodeError, DataError):
        api.add_exception_handler(exc_class, on_unreadable_value)
    # A pydantic error outside parameter parsing means our own response did not fit its schema: a bug, not input.
    api.add_exception_handler(pydantic.ValidationError, on_server_error)
    api.add_exception_handler(Exception, on_server_error)
