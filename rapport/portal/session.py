"""The portal's own sign-in state, kept in the Django session beside (never instead of) a staff sign-in.

The portal never calls `django.contrib.auth.login`: a signed-in person is a candidate id under portal keys, so a
portal session grants nothing in the workspace, and a staff session grants nothing in the portal.
"""

import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from rapport.candidates.models import Candidate

CANDIDATE_KEY = "portal_candidate_id"
EXPIRES_KEY = "portal_expires_at"
# An absolute lifetime: a shared computer left signed in stops showing someone's data after a working day.
SESSION_SECONDS = 8 * 3600


def portal_session_start(request: HttpRequest, candidate: Candidate) -> None:
    # A new session key on sign-in, so a session id planted before it (fixation) is worth nothing after it.
    request.session.cycle_key()
    request.session[CANDIDATE_KEY] = candidate.pk
    request.session[EXPIRES_KEY] = time.time() + SESSION_SECONDS


def portal_session_end(request: HttpRequest) -> None:
    request.session.pop(CANDIDATE_KEY, None)
    request.session.pop(EXPIRES_KEY, None)


def portal_candidate(request: HttpRequest) -> Candidate | None:
    """The signed-in person, or None when nobody is, the session has run out, or the person was erased."""
    candidate_id = request.session.get(CANDIDATE_KEY)
    expires_at = request.session.get(EXPIRES_KEY)
    if not isinstance(candidate_id, int) or not isinstance(expires_at, (int, float)):
        return None
    if expires_at <= time.time():
        portal_session_end(request)
        return None
    candidate = Candidate.objects.filter(pk=candidate_id, erased_at__isnull=True).first()
    if candidate is None:
        portal_session_end(request)
    return candidate


def portal_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Pass the signed-in person to the view as `candidate`; anyone else goes to the sign-in page."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        candidate = portal_candidate(request)
        if candidate is None:
            return redirect("portal:sign_in")
        return view(request, candidate, *args, **kwargs)

    return wrapper
