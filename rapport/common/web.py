"""Small helpers that let workspace views stay thin: turn service errors into pages, JSON or form errors."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.http import url_has_allowed_host_and_scheme

from rapport.common.errors import ApplicationError, NotFound, PermissionDenied


def wants_json(request: HttpRequest) -> bool:
    """Scripts (kanban drag-and-drop) ask for JSON; forms and HTMX get HTML."""
    return "application/json" in request.headers.get("Accept", "")


def error_json(exc: ApplicationError) -> JsonResponse:
    return JsonResponse(exc.as_dict(), status=exc.status)


def scoped(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Out-of-scope lookups answer 404 and forbidden verbs the 403 page (or the JSON error for scripts)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            if wants_json(request):
                return error_json(exc)
            raise Http404(exc.message)
        except PermissionDenied as exc:
            if wants_json(request):
                return error_json(exc)
            raise DjangoPermissionDenied(exc.message)

    return wrapper


def add_service_errors(form: forms.BaseForm, exc: ApplicationError, field_map: dict[str, str] | None = None) -> None:
    """Show a service's field errors next to the matching form fields; the rest go above the form."""
    field_map = field_map or {}
    placed = False
    for name, messages in exc.fields.items():
        target = field_map.get(name, name)
        if target not in form.fields:
            target = None
        for message in messages:
            form.add_error(target, message)
            placed = True
    if not placed:
        form.add_error(None, exc.message)


def safe_next(request: HttpRequest, fallback: str) -> str:
    """A same-site `next` URL from the request, or the fallback; never an open redirect."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return fallback
