"""Public pages behind the links in every email: one-click unsubscribe (RFC 8058) and the preferences page.

The signed token in the URL is the only credential: it names one address on one channel, so it can change
nothing else. Both pages are rate-limited by client address like the API's unauthenticated requests.
"""

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from rapport.api.auth import throttle_address
from rapport.api.errors import RateLimited
from rapport.candidates.models import Candidate
from rapport.messaging.links import UnsubscribeToken, unsubscribe_token_read
from rapport.messaging.models import SuppressionReason
from rapport.messaging.selectors import suppression_for
from rapport.messaging.services import suppression_add, suppression_remove_unsubscribe

ONE_CLICK_BODY = "List-Unsubscribe=One-Click"


def _token(token: str) -> UnsubscribeToken:
    data = unsubscribe_token_read(token)
    if data is None:
        raise Http404("This link is not valid.")
    return data


def _person(data: UnsubscribeToken) -> Candidate | None:
    if data.candidate_id is None:
        return None
    return Candidate.objects.filter(pk=data.candidate_id, erased_at__isnull=True).first()


def _masked(address: str) -> str:
    """Enough of the address to recognise it, not enough to harvest it from a forwarded link."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}{'•' * max(len(local) - 1, 1)}@{domain}" if domain else address


def _page(request: HttpRequest, data: UnsubscribeToken, token: str, *, done: str = "", status: int = 200):
    suppression = suppression_for(address=data.address, channel=data.channel)
    context = {
        "token": token,
        "address": _masked(data.address),
        "channel": data.channel,
        "suppression": suppression,
        "can_resubscribe": suppression is not None and suppression.reason == SuppressionReason.UNSUBSCRIBED,
        "done": done,
        "org_name": settings.RAPPORT_ORG_NAME,
    }
    return render(request, "messaging/unsubscribe.html", context, status=status)


def _rate_limited(request: HttpRequest) -> HttpResponse | None:
    try:
        throttle_address(request, "unsubscribe")
    except RateLimited as exc:
        response = HttpResponse("Too many requests. Try again in a minute.", status=429, content_type="text/plain")
        response["Retry-After"] = str(exc.retry_after)
        return response
    return None


# Mail providers POST here with no cookie and no CSRF token (RFC 8058 one-click); the signed token is the proof.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    limited = _rate_limited(request)
    if limited is not None:
        return limited
    data = _token(token)
    if request.method == "GET":
        # A GET changes nothing: link scanners and previews follow links, and must not unsubscribe anyone.
        return _page(request, data, token)
    one_click = request.POST.get("List-Unsubscribe") == "One-Click"
    suppression_add(
        address=data.address,
        channel=data.channel,
        reason=SuppressionReason.UNSUBSCRIBED,
        candidate=_person(data),
        source="one-click" if one_click else "unsubscribe page",
    )
    if one_click:
        return HttpResponse("Unsubscribed.", content_type="text/plain")
    return _page(request, data, token, done="unsubscribed")


@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest, token: str) -> HttpResponse:
    limited = _rate_limited(request)
    if limited is not None:
        return limited
    data = _token(token)
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "unsubscribe":
            suppression_add(
                address=data.address,
                channel=data.channel,
                reason=SuppressionReason.UNSUBSCRIBED,
                candidate=_person(data),
                source="preferences page",
            )
            return _page(request, data, token, done="unsubscribed")
        if action == "resubscribe":
            suppression_remove_unsubscribe(address=data.address, channel=data.channel, candidate=_person(data))
            return _page(request, data, token, done="resubscribed")
        return _page(request, data, token, status=400)
    return _page(request, data, token)
