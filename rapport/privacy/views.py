"""Workspace pages for privacy: the deletion requests people sent from the portal, for admins to confirm."""

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from rapport.accounts.permissions import Capability, ensure
from rapport.common.errors import ApplicationError
from rapport.common.web import scoped
from rapport.privacy.selectors import deletion_request_get_for_user, deletion_requests_visible_to
from rapport.privacy.services import deletion_request_confirm, deletion_request_decline


@login_required
@scoped
@require_GET
def deletion_requests(request: HttpRequest) -> HttpResponse:
    ensure(request.user, Capability.ERASE_CANDIDATES)
    rows = list(deletion_requests_visible_to(request.user)[:200])
    return render(request, "privacy/deletion_requests.html", {"rows": rows})


@login_required
@scoped
@require_POST
def deletion_request_decide(request: HttpRequest, request_id: int, decision: str) -> HttpResponse:
    deletion_request = deletion_request_get_for_user(user=request.user, request_id=request_id)
    try:
        if decision == "confirm":
            deletion_request_confirm(actor=request.user, deletion_request=deletion_request)
            flash.success(request, "The person is erased. Their applications stay, anonymised, in the reports.")
        else:
            deletion_request_decline(actor=request.user, deletion_request=deletion_request)
            flash.success(request, "The request is declined; nothing was erased.")
    except ApplicationError as exc:
        flash.error(request, exc.message)
    return redirect("portal:deletion_requests")
