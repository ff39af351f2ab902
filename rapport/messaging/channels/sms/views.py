"""Twilio's webhooks: delivery reports for the texts we sent, and texts people send our number (SMS and WhatsApp).

No session and no CSRF token: Twilio proves a request is its own with X-Twilio-Signature, an HMAC of the URL it
called and the POST parameters under our auth token. The URL is rebuilt from RAPPORT_BASE_URL, which must
therefore be the public address Twilio is configured with. Requests that fail the check are answered 403, logged,
and rate-limited by client address; signed ones are not, since Twilio sends a bulk send's reports from a few
addresses and does not send a report again once it was refused.
"""

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from rapport.api.auth import throttle_address
from rapport.api.errors import RateLimited
from rapport.messaging.channels.sms.client import signature_is_valid
from rapport.messaging.channels.sms.media import IncomingMedia
from rapport.messaging.channels.sms.services import twilio_message_receive, twilio_status_record

logger = logging.getLogger(__name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
MAX_MEDIA = 10


def _called_url(request: HttpRequest) -> str:
    query = request.META.get("QUERY_STRING", "")
    return f"{settings.BASE_URL}{request.path_info}" + (f"?{query}" if query else "")


def _refused(request: HttpRequest) -> HttpResponse | None:
    """None when Twilio signed this request; else the 403 (or 429 for an address that keeps trying)."""
    params = [(name, value) for name in request.POST for value in request.POST.getlist(name)]
    signature = request.headers.get("X-Twilio-Signature", "")
    if signature_is_valid(
        auth_token=settings.TWILIO_AUTH_TOKEN, url=_called_url(request), params=params, signature=signature
    ):
        return None
    logger.warning(
        "Twilio webhook %s refused: %s X-Twilio-Signature from %s (is RAPPORT_BASE_URL the public URL?)",
        request.path_info,
        "a bad" if signature else "no",
        request.META.get("REMOTE_ADDR") or "unknown",
    )
    try:
        throttle_address(request, "twilio-webhook")
    except RateLimited as exc:
        response = HttpResponse("Too many requests. Try again in a minute.", status=429, content_type="text/plain")
        response["Retry-After"] = str(exc.retry_after)
        return response
    return HttpResponse("Forbidden: the X-Twilio-Signature does not match.", status=403, content_type="text/plain")


def _twiml() -> HttpResponse:
    # An empty answer: Rapport sends no automatic reply (Twilio answers STOP and START itself on SMS).
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")


@csrf_exempt
@require_POST
def status(request: HttpRequest) -> HttpResponse:
    """MessageSid + MessageStatus: a sent text was delivered, read, or could not be delivered."""
    refused = _refused(request)
    if refused is not None:
        return refused
    twilio_status_record(
        sid=request.POST.get("MessageSid", "").strip(),
        status=request.POST.get("MessageStatus", ""),
        error_code=request.POST.get("ErrorCode", ""),
        error_message=request.POST.get("ErrorMessage", ""),
    )
    # 200 even for a SID we do not know (another system's message on the same account): Twilio would retry.
    return _twiml()


@csrf_exempt
@require_POST
def inbound(request: HttpRequest) -> HttpResponse:
    """A text someone sent our number: From, To, Body, MessageSid, and MediaUrl0 + MediaContentType0… for media."""
    refused = _refused(request)
    if refused is not None:
        return refused
    try:
        media_count = min(max(int(request.POST.get("NumMedia", "0") or 0), 0), MAX_MEDIA)
    except ValueError:
        media_count = 0
    media = [
        IncomingMedia(url=request.POST[f"MediaUrl{i}"], content_type=request.POST.get(f"MediaContentType{i}", ""))
        for i in range(media_count)
        if request.POST.get(f"MediaUrl{i}")
    ]
    twilio_message_receive(
        sid=request.POST.get("MessageSid", "").strip(),
        from_address=request.POST.get("From", ""),
        to_address=request.POST.get("To", ""),
        body=request.POST.get("Body", ""),
        media=media,
    )
    return _twiml()
