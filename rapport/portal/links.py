"""Stateless signed sign-in links for the `{{ portal_link }}` merge field.

Rendering or previewing a message must write nothing, so the link is a `TimestampSigner` token rather than a stored
row. It carries the person's id and a digest of their primary email: changing that email revokes every link already
sent. It is valid for 14 days, and `sign_in_link_consume` makes it single-use by storing its hash once used.
"""

import hashlib
from functools import cache

from django.conf import settings
from django.core import signing
from django.urls import reverse

from rapport.candidates.models import Candidate

SIGNED_LINK_MAX_AGE_SECONDS = 14 * 24 * 3600
SIGNED_LINK_SALT = "rapport.portal.sign-in"
# Tells a signed token from an emailed random one (token_urlsafe never starts with "s-" followed by a signature
# of this shape, and the signature check rejects any that did).
SIGNED_PREFIX = "s-"


def _email_digest(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:16]


def _primary_email(candidate: Candidate) -> str:
    return candidate.emails.order_by("position", "id").values_list("email", flat=True).first() or ""


@cache
def _link_path_around_token() -> tuple[str, str]:
    """The sign-in link's path split where the token goes: bulk sends and sequences build thousands of links, and
    resolving the URL each time was most of a link's cost. Signed tokens only hold URL-safe characters and ':'."""
    marker = "TOKEN"
    before, after = reverse("portal:sign_in_link", args=[marker]).split(marker)
    return before, after


def portal_signed_link(*, candidate: Candidate, primary_email: str | None = None) -> str:
    """A sign-in URL for one person; `primary_email` saves a query when the caller has it loaded already."""
    if candidate.pk is None:
        return settings.BASE_URL + reverse("portal:sign_in")
    email = _primary_email(candidate) if primary_email is None else primary_email
    value = signing.TimestampSigner(salt=SIGNED_LINK_SALT).sign_object({"c": candidate.pk, "e": _email_digest(email)})
    before, after = _link_path_around_token()
    return f"{settings.BASE_URL}{before}{SIGNED_PREFIX}{value}{after}"


def portal_signed_link_read(raw: str) -> Candidate | None:
    """The person a signed link names, if its signature, age and email digest still hold."""
    if not raw.startswith(SIGNED_PREFIX):
        return None
    try:
        data = signing.TimestampSigner(salt=SIGNED_LINK_SALT).unsign_object(
            raw[len(SIGNED_PREFIX) :], max_age=SIGNED_LINK_MAX_AGE_SECONDS
        )
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("c"), int):
        return None
    candidate = Candidate.objects.filter(pk=data["c"], erased_at__isnull=True).first()
    if candidate is None or data.get("e") != _email_digest(_primary_email(candidate)):
        return None
    return candidate
