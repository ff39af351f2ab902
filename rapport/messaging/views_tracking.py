"""Public endpoints behind tracked emails: the open pixel and the click redirect, on our own domain.

No login: the signed token in the URL is the only credential, and all it can do is count an open or a click of
one message. Both are rate-limited by client address like the unsubscribe pages.
"""

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_GET

from rapport.api.auth import throttle_address
from rapport.api.errors import RateLimited
from rapport.messaging.selectors import message_for_tracking
from rapport.messaging.services import ENGAGEMENT_CLICK, ENGAGEMENT_OPEN, message_engagement_record
from rapport.messaging.tracking import PIXEL_GIF, click_token_read, open_token_read


def _rate_limited(request: HttpRequest) -> HttpResponse | None:
    try:
        throttle_address(request, "tracking")
    except RateLimited as exc:
        response = HttpResponse("Too many requests. Try again in a minute.", status=429, content_type="text/plain")
        response["Retry-After"] = str(exc.retry_after)
        return response
    return None


@require_GET
def open_pixel(request: HttpRequest, token: str) -> HttpResponse:
    limited = _rate_limited(request)
    if limited is not None:
        return limited
    message_id = open_token_read(token)
    message = message_for_tracking(message_id=message_id) if message_id is not None else None
    if message is not None:
        message_engagement_record(message=message, kind=ENGAGEMENT_OPEN)
    # The image is answered whatever the token: a broken image in someone's inbox helps nobody.
    response = HttpResponse(PIXEL_GIF, content_type="image/gif")
    # Every open must reach us, not a cache between us and the mail client.
    add_never_cache_headers(response)
    return response


@require_GET
def click(request: HttpRequest, token: str) -> HttpResponse:
    limited = _rate_limited(request)
    if limited is not None:
        return limited
    data = click_token_read(token)
    if data is None:
        raise Http404("This link is not valid.")
    message = message_for_tracking(message_id=data.message_id)
    if message is not None:
        message_engagement_record(message=message, kind=ENGAGEMENT_CLICK, url=data.url)
    # The target comes from the signature we made at send time, so it is a link that was in this message; it
    # still leads there when the message is gone, since the person's link should keep working.
    response = HttpResponseRedirect(data.url)
    add_never_cache_headers(response)
    return response
