"""Bulk messages (email, SMS or WhatsApp): pick a template for a selection from the candidate list, a pool or a segment, review a preview for
three random people and the list of who will be skipped and why, then send; the result says what was queued.

One page, three steps posted in turn (choose, review, send), so it works without JavaScript. The audience travels
as hidden fields: the selected ids, or the pool or segment id.
"""

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from rapport.accounts.permissions import Capability, ensure
from rapport.candidates.selectors import pool_get_for_user, segment_get_for_user
from rapport.common.errors import ApplicationError, ValidationFailed
from rapport.common.web import scoped
from rapport.jobs.selectors import jobs_visible_to
from rapport.messaging.forms import BulkForm
from rapport.messaging.models import TemplateChannel
from rapport.messaging.selectors import BULK_MAX, bulk_plan, bulk_preview, message_templates_visible_to
from rapport.messaging.services import message_bulk_send

SKIPPED_NAMES_SHOWN = 12
_NOUNS = {TemplateChannel.EMAIL: "email", TemplateChannel.SMS: "text", TemplateChannel.WHATSAPP: "WhatsApp message"}


def _skip_groups(skipped: list[Any]) -> list[dict[str, Any]]:
    """Skips grouped by reason, largest first: one template problem for 300 people is one line, not 300."""
    groups: dict[str, list[Any]] = {}
    for skip in skipped:
        groups.setdefault(skip["reason"] if isinstance(skip, dict) else skip.reason, []).append(skip)
    return [
        {
            "reason": reason,
            "count": len(people),
            "people": people[:SKIPPED_NAMES_SHOWN],
            "more": max(0, len(people) - SKIPPED_NAMES_SHOWN),
        }
        for reason, people in sorted(groups.items(), key=lambda item: -len(item[1]))
    ]


def _audience(request: HttpRequest) -> dict[str, Any]:
    """The people chosen, as the service takes them: the selected ids, a pool or a segment (all scope-checked)."""
    data = request.POST if request.method == "POST" else request.GET
    if data.get("pool"):
        return {"pool": pool_get_for_user(user=request.user, pool_id=data["pool"])}
    if data.get("segment"):
        return {"segment": segment_get_for_user(user=request.user, segment_id=data["segment"])}
    ids = [value for value in data.getlist("ids") if value.strip()]
    if len(ids) > BULK_MAX:
        raise ValidationFailed.single("ids", f"Select at most {BULK_MAX:,} people.")
    return {"candidate_ids": ids}


@login_required
@require_http_methods(["GET", "POST"])
@scoped
def bulk_email(request: HttpRequest) -> HttpResponse:
    ensure(request.user, Capability.SEND_MESSAGES)
    audience = _audience(request)
    # Email, SMS and WhatsApp templates alike: the template's channel is the channel of the send.
    templates = message_templates_visible_to(request.user).order_by("channel", "name")
    jobs = jobs_visible_to(request.user).order_by("title")
    step = request.POST.get("step", "") if request.method == "POST" else ""
    form = BulkForm(request.POST if step else None, templates=templates, jobs=jobs)
    context: dict[str, Any] = {
        "form": form,
        "pool": audience.get("pool"),
        "segment": audience.get("segment"),
        "ids": audience.get("candidate_ids") or [],
        "error": "",
    }
    if not audience.get("candidate_ids") and "pool" not in audience and "segment" not in audience:
        context["nothing_selected"] = True
        return render(request, "messaging/bulk.html", context)
    if step and form.is_valid():
        template, job = form.cleaned_data["template"], form.cleaned_data["job"]
        reviewed = f"{template.pk}:{job.pk if job else ''}"
        if step == "send" and request.POST.get("reviewed") != reviewed:
            # The template or job changed since the review: show the review for the new choice instead of sending
            # something the sender has not seen.
            step = "review"
        context["reviewed"] = reviewed
        context["noun"] = _NOUNS.get(template.channel, "message")
        try:
            if step == "send":
                context["result"] = message_bulk_send(
                    actor=request.user,
                    template=template,
                    job=job,
                    channel=template.channel,
                    idempotency_key=request.POST.get("idempotency_key") or None,
                    **audience,
                )
                context["result_groups"] = _skip_groups(context["result"].skipped)
            else:
                plan = bulk_plan(user=request.user, job=job, channel=template.channel, **audience)
                previews, failing = bulk_preview(user=request.user, template=template, plan=plan, job=job)
                skipped = plan.skipped + failing
                context.update(
                    {
                        "plan": plan,
                        "previews": previews,
                        "skipped": skipped,
                        "skip_groups": _skip_groups(skipped),
                        "will_send": len(plan.recipients) - len(failing),
                    }
                )
        except ApplicationError as exc:
            if exc.status in (403, 404):
                raise
            context["error"] = exc.message
    status = 422 if (step and form.errors) or context["error"] else 200
    return render(request, "messaging/bulk.html", context, status=status)
