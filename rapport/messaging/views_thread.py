"""A person's conversation: the thread on the profile (an HTMX fragment), its full page, the inline reply, and
attachment downloads.

Only roles that read and write messages get these (403 for the others); people out of scope are 404. Opening the
newest page of a thread marks the person's replies read, which is what the inbox's bold rows go by.
"""

import json
from typing import Any

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from rapport.accounts.models import User
from rapport.accounts.permissions import Capability, ensure
from rapport.candidates.models import Candidate, RelationshipStatus
from rapport.candidates.selectors import candidate_get_for_user
from rapport.common.errors import ApplicationError
from rapport.common.web import add_service_errors, scoped
from rapport.messaging.forms_thread import ReplyForm
from rapport.messaging.models import TemplateChannel
from rapport.messaging.selectors_thread import (
    ReplyDefaults,
    attachment_get_for_user,
    candidate_thread,
    thread_reply_defaults,
)
from rapport.messaging.services import message_send
from rapport.messaging.services_inbox import inbox_mark_thread_read
from rapport.timeline.selectors import candidate_timeline


def _candidate(request: HttpRequest, candidate_id: int) -> Candidate:
    candidate = candidate_get_for_user(user=request.user, candidate_id=candidate_id)
    ensure(request.user, Capability.SEND_MESSAGES)
    return candidate


def _reply_form(defaults: ReplyDefaults, data: Any = None) -> ReplyForm:
    return ReplyForm(data, channel=defaults.channel, initial={"channel": defaults.channel, "subject": defaults.subject})


def _context(
    user: User,
    candidate: Candidate,
    *,
    before: str | None = None,
    form: ReplyForm | None = None,
    defaults: ReplyDefaults | None = None,
) -> dict[str, Any]:
    defaults = defaults or thread_reply_defaults(user=user, candidate=candidate)
    return {
        "candidate": candidate,
        "page": candidate_thread(user=user, candidate=candidate, before=before),
        "before": before or "",
        "reply": defaults,
        "reply_form": form or _reply_form(defaults),
        "can_reply": candidate.relationship_status != RelationshipStatus.DO_NOT_CONTACT,
    }


@login_required
@require_GET
@vary_on_headers("HX-Request")
@scoped
def thread_fragment(request: HttpRequest, candidate_id: int) -> HttpResponse:
    """The conversation card for the profile, or (with `before`) the items of the page before, to prepend."""
    candidate = _candidate(request, candidate_id)
    before = request.GET.get("before") or None
    try:
        if before:
            page = candidate_thread(user=request.user, candidate=candidate, before=before)
            context = {"candidate": candidate, "page": page}
            return render(request, "messaging/_thread_items.html", context)
        inbox_mark_thread_read(actor=request.user, candidate=candidate)
        return render(request, "messaging/_thread.html", _context(request.user, candidate))
    except ApplicationError as exc:
        return HttpResponse(exc.message, status=400)


@login_required
@require_GET
@scoped
def thread_page(request: HttpRequest, candidate_id: int) -> HttpResponse:
    """The conversation on a page of its own: what the profile shows, and the no-JavaScript way to page and reply."""
    candidate = _candidate(request, candidate_id)
    before = request.GET.get("before") or None
    try:
        context = _context(request.user, candidate, before=before)
    except ApplicationError as exc:
        return HttpResponse(exc.message, status=400)
    if not before:
        inbox_mark_thread_read(actor=request.user, candidate=candidate)
    return render(request, "messaging/thread_page.html", {**context, "full_page": True})


@login_required
@require_POST
@scoped
def thread_reply(request: HttpRequest, candidate_id: int) -> HttpResponse:
    """Send the inline reply on the thread's channel, answering the newest message there (threading headers)."""
    candidate = _candidate(request, candidate_id)
    posted_channel = request.POST.get("channel")
    channel = posted_channel if posted_channel in TemplateChannel.values else None
    defaults = thread_reply_defaults(user=request.user, candidate=candidate, channel=channel)
    form = _reply_form(defaults, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            message = message_send(
                actor=request.user,
                candidate=candidate,
                subject=data["subject"] if defaults.channel == TemplateChannel.EMAIL else "",
                body=data["body"],
                channel=defaults.channel,
                reply_to_message=defaults.reply_to,
                idempotency_key=request.POST.get("idempotency_key") or None,
            )
        except ApplicationError as exc:
            # The channel is a hidden field: its errors, like the person's, go above the form.
            add_service_errors(form, exc, field_map={"channel": "__all__"})
        else:
            return _replied(request, candidate, message.status)
    if not request.htmx:
        context = _context(request.user, candidate, form=form, defaults=defaults)
        return render(request, "messaging/thread_page.html", {**context, "full_page": True}, status=422)
    context = {"candidate": candidate, "reply": defaults, "reply_form": form, "can_reply": True}
    response = render(request, "messaging/_thread_reply.html", context, status=422)
    response["HX-Retarget"] = "#thread-reply"
    response["HX-Reswap"] = "outerHTML"
    return response


def _replied(request: HttpRequest, candidate: Candidate, status: str) -> HttpResponse:
    text = "Scheduled." if status == "scheduled" else "Reply queued to send."
    if not request.htmx:
        flash.success(request, text)
        return redirect(reverse("messages:conversation", args=[candidate.pk]) + "#thread-reply")
    context = _context(request.user, candidate)
    # The new "wrote an email" event goes on top of the timeline too, as the compose panel's does.
    context["activities"] = candidate_timeline(
        user=request.user, candidate=candidate, types=["message.queued"], limit=1
    )[0]
    response = render(request, "messaging/_thread_replied.html", context)
    response["HX-Trigger"] = json.dumps({"rapport:toast": {"message": text, "level": "success"}})
    return response


@login_required
@require_GET
@scoped
def attachment_download(request: HttpRequest, attachment_id: int) -> FileResponse:
    """A file someone sent us, served only to users who may see that person; always as a download."""
    attachment = attachment_get_for_user(user=request.user, attachment_id=attachment_id)
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404("The file is no longer stored.")
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.filename,
        content_type=attachment.content_type or "application/octet-stream",
    )
    # What a stranger sent must never run as a page of ours, whatever type it claims.
    response["Content-Security-Policy"] = "sandbox"
    response["X-Content-Type-Options"] = "nosniff"
    return response
