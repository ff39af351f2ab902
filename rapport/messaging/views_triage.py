"""Triage: email from unknown senders (make them a lead in one click, or dismiss) and email that could not be read
(download the raw .eml, or dismiss). Actions are POSTs; the raw download is a read."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.http import require_GET, require_POST

from rapport.common.errors import ApplicationError, BadRequest
from rapport.common.web import safe_next, scoped
from rapport.messaging.models import InboundStatus
from rapport.messaging.selectors_triage import (
    TRIAGE_STATUSES,
    inbound_email_get_for_user,
    triage_counts,
    triage_page,
)
from rapport.messaging.services_inbound import snippet
from rapport.messaging.services_triage import inbound_email_dismiss, inbound_email_make_lead

TABS = [
    (InboundStatus.UNKNOWN_SENDER.value, "Unknown senders"),
    (InboundStatus.MALFORMED.value, "Could not be read"),
]


def _breakable(address: str) -> str:
    """The address with a line-break opportunity before the @, so a long one wraps on a phone instead of overflowing."""
    local, at, domain = address.rpartition("@")
    return format_html("{}<wbr>@{}", local, domain) if at else address


def _sender(inbound: Any) -> str:
    return inbound.from_name or inbound.from_address or "an unknown sender"


@login_required
@require_GET
@scoped
def triage_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status") or InboundStatus.UNKNOWN_SENDER
    if status not in TRIAGE_STATUSES:
        status = InboundStatus.UNKNOWN_SENDER
    cursor = request.GET.get("cursor") or None
    error = ""
    try:
        page = triage_page(user=request.user, status=status, cursor=cursor)
    except BadRequest as exc:
        error = f"{exc.message} Showing the newest emails instead."
        page = triage_page(user=request.user, status=status)
        cursor = None
    next_url = None
    if page.next_cursor:
        params = request.GET.copy()
        params["status"] = status
        params["cursor"] = page.next_cursor
        next_url = reverse("triage:list") + "?" + params.urlencode()
    for inbound in page.items:
        inbound.snippet = snippet(inbound.text)
        inbound.address_html = _breakable(inbound.from_address)
    counts = triage_counts(user=request.user)
    context = {
        "status": status,
        "tabs": [(value, label, counts.get(value, 0)) for value, label in TABS],
        "items": page.items,
        "next_url": next_url,
        "is_first_page": cursor is None,
        "error": error,
        "current_url": request.get_full_path(),
    }
    return render(request, "messaging/triage.html", context)


@login_required
@require_POST
@scoped
def triage_make_lead(request: HttpRequest, inbound_id: int) -> HttpResponse:
    inbound = inbound_email_get_for_user(user=request.user, inbound_id=inbound_id)
    try:
        candidate = inbound_email_make_lead(actor=request.user, inbound=inbound)
    except ApplicationError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, exc.message)
        return redirect(safe_next(request, reverse("triage:list")))
    messages.success(request, f"{candidate.full_name} is now a lead, with their email on the thread.")
    return redirect(reverse("candidates:detail", args=[candidate.pk]) + "#person-messages")


@login_required
@require_POST
@scoped
def triage_dismiss(request: HttpRequest, inbound_id: int) -> HttpResponse:
    inbound = inbound_email_get_for_user(user=request.user, inbound_id=inbound_id)
    try:
        inbound_email_dismiss(actor=request.user, inbound=inbound)
    except ApplicationError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Dismissed the email from {_sender(inbound)}.")
    return redirect(safe_next(request, reverse("triage:list")))


@login_required
@require_GET
@scoped
def triage_raw(request: HttpRequest, inbound_id: int) -> HttpResponse:
    """The email exactly as it arrived, to open in a mail program; always a download, never shown inline."""
    inbound = inbound_email_get_for_user(user=request.user, inbound_id=inbound_id)
    response = HttpResponse(bytes(inbound.raw), content_type="message/rfc822")
    response["Content-Disposition"] = f'attachment; filename="email-{inbound.pk}.eml"'
    return response
