"""The REST API v1: one NinjaAPI instance; each app contributes a router from its own `api.py`."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.urls import URLPattern, URLResolver, re_path
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI

from rapport.api.auth import BearerTokenAuth, SessionCookieAuth
from rapport.api.errors import error_response, install_exception_handlers

DESCRIPTION = """
Rapport's REST API: people, jobs, pipelines, talent pools and segments, message templates and messages.

**Authentication.** Send `Authorization: Bearer <token>`. A token is personal: create one in Settings or with
`rapport create_token <email>`, which prints it once (only a hash is stored). A token acts with its user's role and
scope. In the browser, the signed-in session works too; writes then need the `X-CSRFToken` header.

**Format.** JSON with snake_case names; timestamps are ISO-8601 in UTC (`2026-01-31T09:00:00Z`); every `id` is a
string.

**Lists** answer `{"items": [...], "next_cursor": "<opaque>" | null}`. Pass `limit` (1 to 200, default 50) and,
for the next page, `cursor=<next_cursor>`. A null `next_cursor` means the last page. Filters are query parameters.

**Errors** always look like
`{"error": {"code": "...", "message": "a sentence", "fields": {"<field>": ["message", ...]}}}`:
400 `bad_request` (malformed JSON, bad cursor), 401 `unauthenticated`, 403 `forbidden` (in your scope, but your role
may not do this), 404 `not_found` (missing, or outside your scope), 409 `conflict` / `duplicate` (with
`existing_id`), 422 `validation_error` (with `fields`, named like `emails` or `location.country`), 429
`rate_limited` (with a `Retry-After` header; the limit is per token, 600 requests a minute unless the installation
sets `RAPPORT_API_RATE_LIMIT`).

**Writes** are atomic: when a request fails, nothing is written. Every `POST` accepts an `Idempotency-Key` header:
the same key from the same user within 24 hours returns the first successful result instead of writing again.
Request bodies refuse unknown fields (422), so a misspelt field never passes silently. `PATCH` changes only the
fields sent; lists in it replace the old list whole.
""".strip()


def _json_method_not_allowed(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if isinstance(response, HttpResponseNotAllowed):
            allowed = response["Allow"]
            response = error_response(
                405, "method_not_allowed", f"{request.method} is not allowed here; use {allowed}."
            )
            response["Allow"] = allowed
        return response

    return wrapper


@csrf_exempt
def _api_root(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """Where to start: the machine-readable document and the interactive docs."""
    return JsonResponse({"openapi": f"{request.path}openapi.json", "docs": f"{request.path}docs"})


@csrf_exempt
def _unknown_route(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return error_response(404, "not_found", f"There is no API endpoint at {request.path}. See /api/v1/docs.")


class RapportAPI(NinjaAPI):
    """A NinjaAPI whose own answers (unknown route, wrong method) use the error format too."""

    def _get_urls(self) -> list[URLResolver | URLPattern]:
        urls = super()._get_urls()
        for pattern in urls:
            if isinstance(pattern, URLPattern):
                if pattern.name == "api-root":
                    pattern.callback = _api_root
                else:
                    pattern.callback = _json_method_not_allowed(pattern.callback)
        # Last, so it only catches what no endpoint matched.
        urls.append(re_path(r"^.*$", _unknown_route, name="unknown-route"))
        return urls


api = RapportAPI(
    title="Rapport API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
    auth=[BearerTokenAuth(), SessionCookieAuth()],
)
install_exception_handlers(api)


def _mount_routers() -> None:
    from rapport.accounts.api import router as accounts_router
    from rapport.candidates.api import router as candidates_router
    from rapport.jobs.api import router as jobs_router
    from rapport.messaging.api import messages_router
    from rapport.messaging.api import router as messaging_router
    from rapport.pipeline.api import router as pipeline_router

    for router in (accounts_router, candidates_router, jobs_router, pipeline_router, messaging_router, messages_router):
        api.add_router("", router)
    from rapport.notifications.api import router as notifications_router

    api.add_router("", notifications_router)
    from rapport.automation.api import router as tasks_router

    api.add_router("", tasks_router)
    from rapport.automation.api_sequences import router as sequences_router

    api.add_router("", sequences_router)
    from rapport.automation.api_triggers import router as triggers_router

    api.add_router("", triggers_router)
    from rapport.automation.api_upcoming import router as upcoming_router

    api.add_router("", upcoming_router)
    from rapport.surveys.api import router as surveys_router

    api.add_router("", surveys_router)
    from rapport.careers.api import router as questions_router

    api.add_router("", questions_router)


_mount_routers()
