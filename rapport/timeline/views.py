"""The audit log page: who changed which field from what to what, and who exported data (admins only)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from rapport.common.errors import BadRequest
from rapport.common.web import scoped
from rapport.timeline.selectors import AUDIT_ACTIONS, audit_entries, audit_object_types


@login_required
@require_GET
@scoped
def audit_log(request: HttpRequest) -> HttpResponse:
    filters = {
        "object_type": request.GET.get("object_type", "").strip()[:50],
        "object_id": request.GET.get("object_id", "").strip()[:40],
        "action": request.GET.get("action", "").strip()[:20],
    }
    try:
        entries, next_cursor = audit_entries(user=request.user, cursor=request.GET.get("cursor"), limit=100, **filters)
    except BadRequest:
        # A mangled "next page" link starts again from the newest entry rather than failing.
        entries, next_cursor = audit_entries(user=request.user, limit=100, **filters)
    next_query = request.GET.copy()
    if next_cursor:
        next_query["cursor"] = next_cursor
    context = {
        "entries": entries,
        "next_query": next_query.urlencode() if next_cursor else "",
        "filters": filters,
        "actions": AUDIT_ACTIONS,
        "object_types": audit_object_types(),
    }
    return render(request, "timeline/audit_log.html", context)
